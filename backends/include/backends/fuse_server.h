// A FUSE passthrough server for virtio-fs, inside the VMM process: it
// answers the guest kernel's FUSE requests against a host directory
// (ShareDir), with every containment rule of share_dir.h.
//
// Guest input is untrusted: the header's len must cover the header and fit
// the readable buffers, every argument struct must be complete, names must be
// NUL-terminated single components, nodeids and fhs must be ones this server
// handed out. Anything else fails that request (-EINVAL, -ESTALE for an
// unknown node, -EBADF for an unknown handle, -ENOSYS for an unknown opcode).
// Headers and arguments are copied into bounded local storage; file data is
// not: READ preadv()s straight into the guest's writable buffers and WRITE
// pwritev()s straight from its readable ones.
//
// Policy: the guest's uid/gid are ignored (files belong to the VMM's user;
// SETATTR of uid/gid is accepted and does nothing, so chown in the guest does
// not fail); setxattr/removexattr are limited to the user.* namespace
// (security.capability on a host file would grant host privileges);
// RENAME_WHITEOUT is refused (it makes a device node). Open handles and nodes
// are bounded (-ENFILE past the limits).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "backends/share_dir.h"
#include "devices/error.h"
#include "devices/virtio/fs_server.h"

namespace backends {

struct FuseLimits {
  size_t max_nodes = 65536;
  size_t max_handles = 4096;
  uint32_t max_write = 1u << 20;  // also the largest READ served
};

class FuseServer final : public devices::virtio::FsServer {
 public:
  // Errors start with "--share" (a missing path, not a directory).
  static devices::Result<std::unique_ptr<FuseServer>> open(const std::string& path, bool read_only,
                                                           FuseLimits limits = {});
  ~FuseServer() override;
  FuseServer(const FuseServer&) = delete;
  FuseServer& operator=(const FuseServer&) = delete;

  std::optional<uint32_t> handle(std::span<const devices::virtio::Buffer> in,
                                 std::span<const devices::virtio::Buffer> out) override;

  // For tests: how many nodes and handles the guest holds.
  size_t node_count();
  size_t handle_count();

  struct Request;  // one parsed request (fuse_server.cc)

 private:
  struct Handle {
    int fd = -1;
    bool dir = false;
  };

  FuseServer(std::unique_ptr<ShareDir> share, FuseLimits limits);
  int dispatch(Request& r);
  int add_handle(int fd, bool dir, uint64_t& fh);
  Handle* get_handle(uint64_t fh, bool dir);
  void drop_all();

  // One function per opcode; each returns 0 (reply built in the request) or -errno.
  int do_init(Request& r);
  int do_lookup(Request& r);
  int do_forget(Request& r);
  int do_batch_forget(Request& r);
  int do_getattr(Request& r);
  int do_setattr(Request& r);
  int do_readlink(Request& r);
  int do_symlink(Request& r);
  int do_mknod(Request& r);
  int do_mkdir(Request& r);
  int do_remove(Request& r, bool dir);
  int do_rename(Request& r, bool two);
  int do_link(Request& r);
  int do_open(Request& r, bool dir);
  int do_create(Request& r);
  int do_read(Request& r);
  int do_write(Request& r);
  int do_release(Request& r, bool dir);
  int do_fsync(Request& r, bool dir);
  int do_readdir(Request& r, bool plus);
  int do_statfs(Request& r);
  int do_access(Request& r);
  int do_setxattr(Request& r);
  int do_getxattr(Request& r, bool list);
  int do_removexattr(Request& r);
  int do_fallocate(Request& r);
  int do_lseek(Request& r);
  // Looks `name` up under `parent` and fills a fuse_entry_out reply.
  int reply_entry(Request& r, uint64_t parent, std::string_view name);

  std::mutex mutex_;
  std::unique_ptr<ShareDir> share_;
  FuseLimits limits_;
  NodeTable nodes_;
  std::unordered_map<uint64_t, Handle> handles_;
  uint64_t next_fh_ = 1;
  // Bounded scratch space reused by every request (arguments, small replies,
  // directory listings, xattr values).
  std::vector<std::byte> args_;
  std::vector<std::byte> reply_;
};

}  // namespace backends
