#include "loader/kernel.h"

namespace loader {

std::string_view to_string(Arch arch) {
  switch (arch) {
    case Arch::kX86_64: return "x86_64";
    case Arch::kAarch64: return "aarch64";
    case Arch::kRiscv64: return "riscv64";
  }
  return "unknown";
}

std::string_view to_string(KernelFormat format) {
  switch (format) {
    case KernelFormat::kElf: return "ELF vmlinux";
    case KernelFormat::kBzImage: return "bzImage";
    case KernelFormat::kArm64Image: return "arm64 Image";
    case KernelFormat::kRiscvImage: return "riscv64 Image";
  }
  return "unknown";
}

std::string_view to_string(Compression compression) {
  switch (compression) {
    case Compression::kNone: return "none";
    case Compression::kGzip: return "gzip";
    case Compression::kBzip2: return "bzip2";
    case Compression::kXz: return "xz";
    case Compression::kLzma: return "lzma";
    case Compression::kLzo: return "lzo";
    case Compression::kLz4Legacy: return "lz4-legacy";
    case Compression::kLz4Frame: return "lz4";
    case Compression::kZstd: return "zstd";
  }
  return "unknown";
}

std::optional<Arch> parse_arch(std::string_view name) {
  if (name == "x86_64" || name == "amd64") return Arch::kX86_64;
  if (name == "aarch64" || name == "arm64") return Arch::kAarch64;
  if (name == "riscv64") return Arch::kRiscv64;
  return std::nullopt;
}

}  // namespace loader
