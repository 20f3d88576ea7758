// The kernel command line: built and validated before it reaches the guest.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "loader/error.h"
#include "loader/guest_memory.h"

namespace loader {

// Capacities count the terminating NUL. Linux's COMMAND_LINE_SIZE is 2048 on
// arm64 and x86 (an ELF vmlinux has no header to say otherwise) and 1024 in
// asm-generic (riscv64 and the rest).
inline constexpr uint64_t kCmdlineCapacityDefault = 1024;
inline constexpr uint64_t kCmdlineCapacityAarch64 = 2048;
inline constexpr uint64_t kCmdlineCapacityRiscv64 = 1024;
inline constexpr uint64_t kCmdlineCapacityX86Elf = 2048;
// A bzImage's setup header says how long a command line it takes
// (cmdline_size, protocol >= 2.06), not counting the NUL.
constexpr uint64_t x86_cmdline_capacity(uint32_t cmdline_size) { return uint64_t{cmdline_size} + 1; }

// Rules (each violation is kInvalidArgument, an overfull line kTooLarge; a
// failed call leaves the command line unchanged):
//  - printable ASCII only (0x20..0x7e): no NUL, tab or newline;
//  - double quotes balanced in every piece added;
//  - a key is non-empty and holds no space, '=' or '"';
//  - a value with spaces is quoted by insert(); values never hold '"';
//  - the whole line plus its NUL fits the capacity;
//  - init arguments stay after " -- " at the very end, whatever is added later.
class Cmdline {
 public:
  // capacity counts the terminating NUL, as the boot protocols do
  // (x86 cmdline_size + 1, aarch64 2048, default 1024).
  explicit Cmdline(uint64_t capacity = kCmdlineCapacityDefault);

  // Appends "text" (one or more space-separated params, quotes allowed).
  // Surrounding spaces are dropped. A standalone "--" in text starts init
  // arguments: what follows it is added as by insert_init_args().
  Result<void> append(std::string_view text);
  // Appends key=value (value quoted if it holds spaces).
  Result<void> insert(std::string_view key, std::string_view value);
  // virtio_mmio.device=<size>@<base>:<irq>[:<id>]
  Result<void> add_virtio_mmio_device(uint64_t size, uint64_t base, uint32_t irq, std::optional<uint32_t> id = {});
  // Arguments for init, after " -- " (appended to any given before).
  Result<void> insert_init_args(std::string_view args);

  // The whole line: params, then " -- " and the init arguments if any.
  const std::string& str() const { return text_; }
  uint64_t capacity() const { return capacity_; }

 private:
  Result<void> commit(std::string params, std::string init_args, std::string_view what, uint64_t position);

  std::string params_;     // kernel parameters
  std::string init_args_;  // after " -- "
  std::string text_;       // params_ [+ " -- " + init_args_], what str() returns
  uint64_t capacity_;
};

// Writes the command line and its NUL at addr; the whole of it must lie in one
// guest memory region (kOutOfBounds otherwise, nothing written).
Result<void> load_cmdline(GuestMemory& mem, GuestAddress addr, const Cmdline& cmdline);

}  // namespace loader
