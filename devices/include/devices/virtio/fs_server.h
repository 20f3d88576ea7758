// The host side of a virtio-fs device (virtio 1.2 §5.11): something that
// answers FUSE requests. The device model only moves chains; parsing the
// untrusted FUSE messages and touching the host filesystem is the server's
// job (backends::FuseServer), so the model stays free of host I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "devices/virtio/virtqueue.h"

namespace devices::virtio {

class FsServer {
 public:
  virtual ~FsServer() = default;
  // Handles one request: `in` are the chain's driver-readable buffers (the
  // request, whose every field is untrusted), `out` the device-writable ones
  // the reply goes into. Returns the bytes written to `out` (0 for requests
  // without a reply: FORGET, BATCH_FORGET, INTERRUPT), or std::nullopt when
  // the request needs a reply and `out` cannot hold even its header: a
  // malformed chain the device reports as a device error. A malformed
  // request otherwise gets an error reply. May be called from the threads of
  // both queues; implementations serialise themselves.
  virtual std::optional<uint32_t> handle(std::span<const Buffer> in, std::span<const Buffer> out) = 0;
};

}  // namespace devices::virtio
