// Writes a seed corpus for every fuzz target from the same builders the unit
// tests use, so the fuzzers start from valid images instead of spending their
// time budget rediscovering magic numbers. Usage: write_fuzz_seeds OUTDIR
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/bzimage_builder.h"
#include "support/compress.h"
#include "support/elf_builder.h"
#include "support/image_builder.h"

namespace {

namespace fs = std::filesystem;
using loader::Compression;

void write(const fs::path& dir, const std::string& name, const std::vector<std::byte>& bytes) {
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::vector<std::byte> text(const std::string& s) {
  std::vector<std::byte> out(s.size());
  for (size_t i = 0; i < s.size(); ++i) out[i] = static_cast<std::byte>(s[i]);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
    return 2;
  }
  const fs::path root(argv[1]);
  const Compression codecs[] = {Compression::kGzip, Compression::kBzip2, Compression::kXz,
                                Compression::kLzma, Compression::kLzo,  Compression::kLz4Legacy,
                                Compression::kLz4Frame, Compression::kZstd};

  const auto elf = test_support::vmlinux_like().build().bytes;
  write(root / "fuzz_elf", "vmlinux_like", elf);

  std::vector<std::byte> small_payload = test_support::minimal_elf64();
  for (Compression c : codecs) {
    test_support::BzImageSpec spec;
    spec.compression = c;
    auto bz = test_support::build_bzimage(spec).bytes;
    write(root / "fuzz_bzimage", std::string(to_string(c)), bz);
    write(root / "fuzz_kernel_loader", "bzimage-" + std::string(to_string(c)), bz);

    auto stream = test_support::compress(c, elf);
    std::vector<std::byte> seed{static_cast<std::byte>(static_cast<int>(c))};
    seed.insert(seed.end(), stream.begin(), stream.end());
    write(root / "fuzz_decompress", std::string(to_string(c)), seed);
  }

  const auto arm = test_support::build_arm64_image();
  const auto riscv = test_support::build_riscv_image();
  write(root / "fuzz_kernel_loader", "vmlinux_like", elf);
  write(root / "fuzz_kernel_loader", "arm64", arm);
  write(root / "fuzz_kernel_loader", "riscv64", riscv);
  write(root / "fuzz_kernel_loader", "arm64.gz", test_support::compress(Compression::kGzip, arm));
  write(root / "fuzz_kernel_loader", "arm64.zst", test_support::compress(Compression::kZstd, arm));
  write(root / "fuzz_kernel_loader", "arm64-zboot",
        test_support::build_efi_zboot(test_support::compress(Compression::kGzip, arm), "gzip"));

  auto setup = test_support::build_bzimage().bytes;
  std::vector<std::byte> x86_seed(16, std::byte{0});
  x86_seed.insert(x86_seed.end(), setup.begin() + 0x1f1, setup.begin() + 0x280);
  write(root / "fuzz_x86_boot", "setup_header", x86_seed);

  write(root / "fuzz_cmdline", "console", text("console=ttyS0 reboot=t panic=-1"));
  write(root / "fuzz_cmdline", "quoted", text("root=/dev/vda dyndbg=\"file x.c +p\" -- init arg"));
  write(root / "fuzz_cmdline", "virtio", text("virtio_mmio.device=4K@0xd0000000:5 quiet"));
  return 0;
}
