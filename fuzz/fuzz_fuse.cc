// libFuzzer target: raw FUSE requests (test_support::virtio_fuzz::FuseRecord
// sequences), split across guest-like buffers, served by a FuseServer over a
// fresh temporary share. Aborts when a reply breaks the protocol (a length
// past the room it was given, an unreplied request that needed a reply) or
// when anything outside the share changed.
#include <fcntl.h>
#include <linux/fuse.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include "backends/fuse_server.h"
#include "support/virtio_fuzz_input.h"

namespace {

namespace fs = std::filesystem;
namespace vf = test_support::virtio_fuzz;
using devices::virtio::Buffer;

// Makes everything under `p` removable (the fuzzer may chmod 000 a
// directory) and removes it, never following a link.
void force_remove(const fs::path& p) {
  struct stat st;
  if (::lstat(p.c_str(), &st) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    ::chmod(p.c_str(), 0700);
    std::error_code ec;
    std::vector<fs::path> children;
    for (auto it = fs::directory_iterator(p, ec); !ec && it != fs::directory_iterator(); it.increment(ec))
      children.push_back(it->path());
    for (const auto& c : children) force_remove(c);
    ::rmdir(p.c_str());
  } else {
    ::unlink(p.c_str());
  }
}

// Names, types, sizes, link counts, modes, mtimes and xattrs of everything
// under `p`, without following links.
std::string snapshot(const fs::path& p) {
  std::string out;
  struct stat st;
  if (::lstat(p.c_str(), &st) != 0) return "gone";
  out += p.filename().string() + ":" + std::to_string(st.st_mode) + ":" + std::to_string(st.st_size) + ":" +
         std::to_string(st.st_nlink) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec) + ";";
  char names[4096];
  const ssize_t n = ::llistxattr(p.c_str(), names, sizeof names);
  if (n > 0) out.append(names, static_cast<size_t>(n));
  if (S_ISDIR(st.st_mode)) {
    std::vector<fs::path> children;
    std::error_code ec;
    for (auto it = fs::directory_iterator(p, ec); !ec && it != fs::directory_iterator(); it.increment(ec))
      children.push_back(it->path());
    std::sort(children.begin(), children.end());
    for (const auto& c : children) out += snapshot(c);
  }
  return out;
}

struct Sandbox {
  fs::path root;   // holds the share and a sentinel next to it
  fs::path share;
  Sandbox() {
    // tmpfs when there is one: fsync and allocation cost nothing there, so
    // executions stay fast and the host disk is not touched.
    char shm[] = "/dev/shm/minivmm-fuzz-fuse-XXXXXX";
    char tmp[] = "/tmp/minivmm-fuzz-fuse-XXXXXX";
    char* tmpl = ::mkdtemp(shm);
    if (!tmpl) tmpl = ::mkdtemp(tmp);
    if (!tmpl) std::abort();
    root = tmpl;
    share = root / "share";
    fs::create_directory(share);
    std::ofstream(root / "sentinel") << "outside";
    std::ofstream(share / "f") << "hello";
    fs::create_directory(share / "d");
    std::ofstream(share / "d" / "g") << "inner";
    fs::create_symlink("/etc", share / "l");
  }
  ~Sandbox() {
    // The share's parent must look exactly as it was made.
    size_t entries = 0;
    for (auto it = fs::directory_iterator(root); it != fs::directory_iterator(); ++it) ++entries;
    std::ifstream in(root / "sentinel");
    std::string s((std::istreambuf_iterator<char>(in)), {});
    if (entries != 2 || s != "outside") std::abort();
    force_remove(root);
  }
};

// The first bytes of a record's request, for the checks below.
bool refuse_record(std::span<const uint8_t> msg) {
  if (msg.size() < sizeof(fuse_in_header) + sizeof(fuse_fallocate_in)) return false;
  fuse_in_header h;
  std::memcpy(&h, msg.data(), sizeof(h));
  if (h.opcode != FUSE_FALLOCATE) return false;
  // Real allocations of arbitrary sizes would fill the host's disk, not test
  // the server: keep them small.
  fuse_fallocate_in in;
  std::memcpy(&in, msg.data() + sizeof(h), sizeof(in));
  return in.length > (1u << 20) || in.offset > (1ull << 30);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Sandbox box;
  backends::FuseLimits limits;
  limits.max_nodes = 64;
  limits.max_handles = 16;
  limits.max_write = 65536;
  // The first byte picks a read-only share: then no request may change it.
  const bool ro = size > 0 && (data[0] & 1);
  auto server = backends::FuseServer::open(box.share.string(), ro, limits);
  if (!server) std::abort();
  backends::FuseServer& s = **server;
  const std::string before = ro ? snapshot(box.share) : std::string();
  size_t at = size > 0 ? 1 : 0;
  for (size_t n = 0; n < vf::kFuseMaxRecords && at + sizeof(vf::FuseRecord) <= size; ++n) {
    vf::FuseRecord rec;
    std::memcpy(&rec, data + at, sizeof(rec));
    at += sizeof(rec);
    const size_t len = std::min<size_t>(rec.len_lo | (size_t{rec.len_hi} << 8), size - at);
    // Copies, so the server sees buffers with exact bounds (ASan catches overreads).
    std::vector<std::byte> msg(len);
    if (len) std::memcpy(msg.data(), data + at, len);
    at += len;
    if (refuse_record(std::span(reinterpret_cast<const uint8_t*>(msg.data()), len))) continue;
    const size_t split = std::min<size_t>(len, (rec.shape & 0xf) * 5u);
    std::vector<std::byte> in_a(msg.begin(), msg.begin() + split), in_b(msg.begin() + split, msg.end());
    std::vector<Buffer> in;
    if (!in_a.empty()) in.push_back(Buffer{0x1000, static_cast<uint32_t>(in_a.size()), std::span(in_a)});
    if (!in_b.empty()) in.push_back(Buffer{0x100000, static_cast<uint32_t>(in_b.size()), std::span(in_b)});
    const uint32_t room = vf::kFuseOutSizes[rec.shape >> 5];
    std::vector<std::byte> out_a(room / 3), out_b(room - room / 3);
    std::vector<Buffer> out;
    if (!out_a.empty()) out.push_back(Buffer{0x200000, static_cast<uint32_t>(out_a.size()), std::span(out_a)});
    if (!out_b.empty()) out.push_back(Buffer{0x300000, static_cast<uint32_t>(out_b.size()), std::span(out_b)});
    auto written = s.handle(in, out);
    if (!written) {
      if (room >= sizeof(fuse_out_header)) std::abort();
      continue;
    }
    if (*written > room) std::abort();
    if (*written != 0) {
      if (*written < sizeof(fuse_out_header)) std::abort();
      fuse_out_header oh;
      std::vector<std::byte> all(out_a);
      all.insert(all.end(), out_b.begin(), out_b.end());
      std::memcpy(&oh, all.data(), sizeof(oh));
      if (oh.len != *written || oh.error > 0 || (oh.error != 0 && oh.len != sizeof(oh))) std::abort();
    }
  }
  server->reset();
  if (ro && snapshot(box.share) != before) std::abort();
  return 0;
}
