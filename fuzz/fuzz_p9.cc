// libFuzzer target: raw 9P2000.L messages (test_support::virtio_fuzz::P9Record
// framing) split across buffers, against the in-process 9P server over a
// fresh temporary share. Aborts on what the server must never do: a reply
// larger than its buffers or whose size field disagrees with what was
// written, or any change next to the share (containment).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include "backends/p9_server.h"
#include "support/virtio_fuzz_input.h"

namespace {

namespace fs = std::filesystem;
namespace vf = test_support::virtio_fuzz;

constexpr const char* kSentinel = "outside-sentinel";

struct Scratch {
  Scratch() {
    char tmpl[] = "/tmp/fuzz_p9.XXXXXX";
    if (!::mkdtemp(tmpl)) std::abort();
    base = tmpl;
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(base, ec);
  }
  fs::path base;
};

Scratch& scratch() {
  static Scratch s;
  return s;
}

// The guest may have chmod-ed directories to 0: give them back to us so the
// share can be removed.
void unlock_dirs(const fs::path& dir) {
  std::error_code ec;
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::add, ec);
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) unlock_dirs(it->path());
  }
}

void fresh_share(const fs::path& share, const fs::path& outside) {
  std::error_code ec;
  if (fs::exists(share, ec)) unlock_dirs(share);
  fs::remove_all(share, ec);
  if (!fs::create_directories(share / "d" / "e", ec)) std::abort();
  std::ofstream(share / "a") << "file a";
  std::ofstream(share / "d" / "b") << "file b";
  fs::create_symlink("/etc", share / "etc", ec);
  fs::create_symlink("../../" + outside.filename().string(), share / "d" / "up", ec);
  if (!fs::exists(outside)) {
    fs::create_directories(outside);
    std::ofstream(outside / "keep") << kSentinel;
  }
}

void check_outside(const fs::path& base, const fs::path& outside) {
  // Only the share and the sentinel directory may exist next to each other,
  // and the sentinel must be untouched.
  size_t entries = 0;
  for (const auto& e : fs::directory_iterator(base)) {
    (void)e;
    ++entries;
  }
  size_t inside = 0;
  for (const auto& e : fs::directory_iterator(outside)) {
    (void)e;
    ++inside;
  }
  std::ifstream in(outside / "keep");
  std::string content((std::istreambuf_iterator<char>(in)), {});
  if (entries != 2 || inside != 1 || content != kSentinel) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const fs::path base = scratch().base;
  const fs::path share = base / "share";
  const fs::path outside = base / "outside";
  fresh_share(share, outside);
  {
    auto server = backends::P9Server::open({.root = share.string(), .max_msize = vf::kP9MaxMsize, .max_fids = 64});
    if (!server) std::abort();
    std::vector<std::byte> reply;
    for (uint32_t n = 0; n < vf::kP9MaxRecords && size >= sizeof(vf::P9Record); ++n) {
      vf::P9Record rec;
      std::memcpy(&rec, data, sizeof rec);
      data += sizeof rec;
      size -= sizeof rec;
      const size_t len = std::min<size_t>(rec.len, size);
      // The request in its own heap copy, so ASan sees any read past it.
      std::vector<std::byte> msg(reinterpret_cast<const std::byte*>(data), reinterpret_cast<const std::byte*>(data) + len);
      data += len;
      size -= len;
      static constexpr size_t kCuts[4] = {0, 3, 7, 40};
      std::vector<std::span<const std::byte>> in;
      size_t at = 0;
      for (int c = 0; c < 3; ++c) {
        const size_t cut = len == 0 ? 0 : std::min(len - at, kCuts[(rec.split >> (2 * c)) & 3] % (len + 1));
        in.emplace_back(msg.data() + at, cut);
        at += cut;
      }
      in.emplace_back(msg.data() + at, len - at);
      const size_t room = size_t{1} << (rec.reply_log2 % 18);
      reply.assign(room, std::byte{0});
      std::vector<std::span<std::byte>> out{std::span(reply).first(room / 2), std::span(reply).subspan(room / 2)};
      const uint32_t written = (*server)->handle(in, out);
      if (written > room) std::abort();
      if (written > 0) {
        if (written < 7) std::abort();  // Rclunk and friends are a bare header
        uint32_t field = 0;
        for (int i = 3; i >= 0; --i) field = field << 8 | static_cast<uint8_t>(reply[i]);
        if (field != written || written > vf::kP9MaxMsize) std::abort();
      }
      if ((*server)->fid_count() > 64) std::abort();
    }
  }
  check_outside(base, outside);
  return 0;
}
