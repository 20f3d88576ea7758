// A 9P2000.L server over one host directory, run inside the VMM process
// (virtio-9p's host side; no external daemon).
//
// Containment is share_dir's: the attach root is an O_PATH fd; every fid
// holds an O_PATH fd of its node reached one check_name()d component at a
// time with open_beneath(), so "..", absolute or relative symlinks and
// renames between walk and open cannot lead outside the directory. ".." is
// answered from the walk path the fid came by (a node keeps its parent and
// name, which Tremove/Trename need too; that is why fids do not use
// share_dir's inode-keyed NodeTable), and at the root stays at the root. Files are created as the
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
#include <optional>
#include <span>
#include <string>
#include <unordered_map>

#include "devices/error.h"
#include "devices/virtio/fs_server.h"

namespace backends {

struct P9ServerOptions {
  std::string root;
  bool read_only = false;
  uint32_t max_msize = 512 * 1024;
  uint32_t max_fids = 65536;  // as many as virtio-fs nodes: a walk of a large tree holds one per dentry
};

class ShareDir;

// Serves virtio-9p through the same seam as virtio-fs (devices::virtio::FsServer):
// one request per chain, the reply written into the chain's writable buffers.
class P9Server final : public devices::virtio::FsServer {
 public:
  // An Rlerror: the least a reply needs.
  static constexpr uint32_t kMinReply = 11;

  // Errors start with "--share" and name the path.
  static devices::Result<std::unique_ptr<P9Server>> open(const P9ServerOptions& options);
  ~P9Server() override;

  // std::nullopt when `out` cannot hold an Rlerror; otherwise the reply's size.
  std::optional<uint32_t> handle(std::span<const devices::virtio::Buffer> in,
                                 std::span<const devices::virtio::Buffer> out) override;
  // The same over plain spans (tests, fuzzing): returns 0 where the above
  // returns std::nullopt.
  uint32_t handle(std::span<const std::span<const std::byte>> request, std::span<const std::span<std::byte>> reply);
  // Forgets every fid (what Tversion does too).
  void reset();

  size_t fid_count() const;

  struct Node;
  struct Fid;

 private:
  P9Server(const P9ServerOptions& options, std::unique_ptr<ShareDir> share, int root_fd);
  class Session;
  std::unique_ptr<Session> session_;
  mutable std::mutex mutex_;
};

}  // namespace backends
