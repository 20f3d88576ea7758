// Decompressed bzImage payloads kept on disk, so booting the same bzImage
// through PVH again skips the decompression (xz: 0.6-0.8 s of a 3 s boot in
// the nested L1). It lives in vmm/ because it writes into the user's home;
// boot/ only takes a decompress function (boot::PayloadDecompressor).
//
// Layout: one directory per entry, DIR/<crc32 of the payload, hex>-<its
// length>/ holding `payload` (the compressed bytes, copied exactly) and
// `vmlinux` (what they decompress to). The name only finds an entry: a hit
// needs the stored payload to equal the bzImage's byte for byte. An entry is
// built in a temporary directory and renamed into place whole, and is never
// changed after that, so a reader that opened the entry's directory reads a
// payload and a vmlinux that belong together whatever other processes write
// or evict meanwhile. The least recently used entries (directory mtime,
// touched on a hit) beyond kMaxEntries are removed after each write.
//
// A stat index (DIR/stat-index) lets a bzImage file that has not changed
// since its payload was compared skip the comparison: see kernel_cache.cc.
//
// Nothing here fails a boot: a cache that cannot be made, read or written
// leaves the decompression in memory as without a cache, and outcome() says
// why in one line for --boot-report.
#pragma once

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <expected>
#include <memory>
#include <string>

#include "boot/x86_boot_path.h"
#include "loader/error.h"
#include "loader/image_source.h"

namespace vmm {

// $XDG_CACHE_HOME/minivmm/vmlinux, else $HOME/.cache/minivmm/vmlinux (only
// absolute paths count, as the XDG spec says); why there is none otherwise.
std::expected<std::string, std::string> kernel_cache_dir();

class KernelCache {
 public:
  static constexpr size_t kMaxEntries = 4;

  // `dir` need not exist (it is made 0700 on the first write); its error is
  // the reason the cache is not used. `decompress` defaults to
  // loader::extract_bzimage_vmlinux (tests count calls through it).
  // `now_ns` (the realtime clock in ns by default) decides whether a
  // bzImage's timestamps are old enough to be recorded in the stat index.
  explicit KernelCache(std::expected<std::string, std::string> dir, boot::PayloadDecompressor decompress = {},
                       std::function<int64_t()> now_ns = {});

  // The vmlinux inside `bzimage`: the cached one (a FileImageSource, which
  // load_elf reads straight into guest memory) or a fresh decompression,
  // which is then stored. Errors are the decompression's own.
  loader::Result<std::unique_ptr<loader::ImageSource>> vmlinux(const loader::ImageSource& bzimage);

  // What the last vmlinux() did, for the boot report: "decompressed payload
  // from cache (PATH)" (with "; bzImage unchanged since compared" when the
  // stat index vouched for it), "decompressed, cached as PATH" or "not
  // cached: REASON"; empty before the first call.
  const std::string& outcome() const { return outcome_; }

 private:
  void remember(const struct stat& bzimage, const std::string& entry_name, int vmlinux_fd);

  std::expected<std::string, std::string> dir_;
  boot::PayloadDecompressor decompress_;
  std::function<int64_t()> now_ns_;
  std::string outcome_;
};

}  // namespace vmm
