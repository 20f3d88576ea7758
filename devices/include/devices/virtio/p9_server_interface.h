// What virtio-9p needs from the host side: one 9P2000.L server that turns a
// request (the chain's driver-readable buffers) into a reply (written into
// its device-writable buffers). The server lives in backends/ (it touches
// the host file system); the device model only moves chains.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace devices::virtio {

class P9ServerInterface {
 public:
  virtual ~P9ServerInterface() = default;
  // Handles one request; returns how many reply bytes were written (0 when
  // the reply buffers cannot even hold an Rlerror). Never writes outside
  // `reply`, never reads outside `request`, whatever the guest put there.
  virtual uint32_t handle(std::span<const std::span<const std::byte>> request,
                          std::span<const std::span<std::byte>> reply) = 0;
  // The driver reset the device: every fid is gone.
  virtual void reset() = 0;
};

}  // namespace devices::virtio
