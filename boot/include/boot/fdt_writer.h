// A thin owner of a flattened device tree under construction, over libfdt's
// sequential-write API (fdt_create .. fdt_finish). It grows its buffer when
// libfdt runs out of room, up to a hard limit, and maps libfdt's negative
// error codes to loader::Error.
//
// Errors are sticky: after the first failure every later call does nothing
// and returns the same error, and finish() reports it. A tree builder can
// therefore emit a whole tree and check once at the end, yet any caller that
// wants to stop early can check each call's Result.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "loader/error.h"

namespace boot {

// arm64 booting.rst and the riscv fixmap both cap a DTB at 2 MiB.
inline constexpr uint64_t kFdtMaxSize = 2ull << 20;

class FdtWriter {
 public:
  explicit FdtWriter(uint64_t max_size = kFdtMaxSize);
  FdtWriter(const FdtWriter&) = delete;
  FdtWriter& operator=(const FdtWriter&) = delete;
  FdtWriter(FdtWriter&&) = default;
  FdtWriter& operator=(FdtWriter&&) = default;

  loader::Result<void> begin_node(std::string_view name);
  loader::Result<void> end_node();

  loader::Result<void> property_empty(std::string_view name);
  loader::Result<void> property_u32(std::string_view name, uint32_t value);
  loader::Result<void> property_u64(std::string_view name, uint64_t value);
  // Each value as one big-endian 32-bit cell.
  loader::Result<void> property_cells(std::string_view name, std::span<const uint32_t> cells);
  loader::Result<void> property_cells(std::string_view name, std::initializer_list<uint32_t> cells);
  // Each value as two cells (#address-cells = #size-cells = 2), e.g. reg.
  loader::Result<void> property_u64s(std::string_view name, std::span<const uint64_t> values);
  loader::Result<void> property_u64s(std::string_view name, std::initializer_list<uint64_t> values);
  loader::Result<void> property_string(std::string_view name, std::string_view value);
  // A "stringlist": each string NUL-terminated, back to back.
  loader::Result<void> property_strings(std::string_view name, std::span<const std::string> values);
  loader::Result<void> property_strings(std::string_view name, std::initializer_list<std::string_view> values);
  loader::Result<void> property_bytes(std::string_view name, std::span<const std::byte> value);

  // Closes the tree and returns the blob (exactly totalsize bytes). Fails when
  // a node is still open or any earlier call failed.
  loader::Result<std::vector<std::byte>> finish();

  // The first error, if any call has failed.
  const std::optional<loader::Error>& error() const { return error_; }

 private:
  loader::Result<void> start();
  loader::Result<void> property_raw(std::string_view name, std::span<const std::byte> value);
  // Runs op (a libfdt call on the buffer), growing the buffer on
  // -FDT_ERR_NOSPACE until it succeeds or the limit is reached.
  template <class Op>
  loader::Result<void> run(std::string_view what, std::string_view name, Op op);
  loader::Result<void> record(loader::Error error);

  std::vector<std::byte> buffer_;
  uint64_t max_size_;
  int depth_ = 0;
  bool started_ = false;
  bool finished_ = false;
  std::optional<loader::Error> error_;
};

}  // namespace boot
