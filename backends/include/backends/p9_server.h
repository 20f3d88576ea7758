// A 9P2000.L server over one host directory, run inside the VMM process
// (virtio-9p's host side; no external daemon).
//
// Containment: the attach root is an O_PATH fd; every fid holds an O_PATH
// fd of its node reached one validated name at a time (p9_share), so "..",
// absolute or relative symlinks and renames between walk and open cannot
// lead outside the directory. ".." is answered from the walk path the fid
// came by, and at the root stays at the root. Files are created as the
// user running minivmm (the guest's uid/gid are ignored; chown is accepted
// and ignored), without setuid/setgid bits; device nodes are refused; a
// read-only share refuses every modifying request with EROFS before it
// touches the host.
//
// Untrusted input: every message is decoded with the bounded p9 Reader; a
// malformed one gets Rlerror (EPROTO for framing, EINVAL for fields) and
// the reply never exceeds msize or the guest's reply buffers. At most
// max_fids fids exist at once (ENFILE beyond), so a guest that never
// clunks cannot grow memory or host fds without bound.
//
// Locks: Tlock answers success and Tgetlock "unlocked" without taking host
// locks (the guest kernel's own locking still works among its processes;
// there is no other party sharing the directory through this server).
// Requests are handled synchronously on the caller's thread.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>

#include "devices/error.h"
#include "devices/virtio/p9_server_interface.h"

namespace backends {

struct P9ServerOptions {
  std::string root;
  bool read_only = false;
  uint32_t max_msize = 512 * 1024;
  uint32_t max_fids = 4096;
};

class P9Server final : public devices::virtio::P9ServerInterface {
 public:
  static devices::Result<std::unique_ptr<P9Server>> open(const P9ServerOptions& options);
  ~P9Server() override;

  uint32_t handle(std::span<const std::span<const std::byte>> request,
                  std::span<const std::span<std::byte>> reply) override;
  void reset() override;

  size_t fid_count() const;

  struct Node;
  struct Fid;

 private:
  P9Server(const P9ServerOptions& options, int root_fd);
  class Session;
  std::unique_ptr<Session> session_;
  mutable std::mutex mutex_;
};

}  // namespace backends
