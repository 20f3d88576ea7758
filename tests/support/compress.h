// Compressors for test fixtures: every codec the loader decodes, made at test
// time by the libraries themselves (or by the real command-line tools), so no
// compressed blobs live in git.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "loader/kernel.h"

namespace test_support {

// lzop header flag bits the lzo container builder can set.
inline constexpr uint32_t kLzopAdler32D = 0x1;
inline constexpr uint32_t kLzopAdler32C = 0x2;
inline constexpr uint32_t kLzopCrc32D = 0x100;
inline constexpr uint32_t kLzopCrc32C = 0x200;

// Compresses data with the library for kind (kNone returns data unchanged).
// xz uses CRC32 and the x86 BCJ filter like the kernel's build does.
std::vector<std::byte> compress(loader::Compression kind, std::span<const std::byte> data);

// The lzop container around LZO1X-1 blocks of block_size bytes.
std::vector<std::byte> compress_lzop(std::span<const std::byte> data, uint32_t flags = kLzopAdler32D,
                                     uint32_t block_size = 256 * 1024);
// The lz4 legacy container with blocks of block_size (<= 8 MiB) input bytes.
std::vector<std::byte> compress_lz4_legacy(std::span<const std::byte> data, uint32_t block_size = 8u << 20);

// Runs `command` (a shell command line reading stdin, writing stdout) on data
// and returns its output; throws std::runtime_error when the tool is missing
// or fails, so the calling test fails rather than skips.
std::vector<std::byte> run_filter(const std::string& command, std::span<const std::byte> data);

// Deterministic, partly compressible bytes (text-like runs mixed with noise).
std::vector<std::byte> sample_data(size_t size, uint32_t seed = 1);

// Writes bytes to a fresh temporary file and returns its path.
std::string write_temp_file(std::span<const std::byte> data);

}  // namespace test_support
