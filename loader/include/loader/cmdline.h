// The kernel command line: built and validated before it reaches the guest.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "loader/error.h"
#include "loader/guest_memory.h"

namespace loader {

class Cmdline {
 public:
  // capacity counts the terminating NUL, as the boot protocols do
  // (x86 cmdline_size + 1, aarch64 2048, default 1024).
  explicit Cmdline(uint64_t capacity = 1024);

  // Appends "text" (one or more space-separated params, quotes allowed).
  Result<void> append(std::string_view text);
  // Appends key=value (value quoted if it holds spaces).
  Result<void> insert(std::string_view key, std::string_view value);
  // virtio_mmio.device=<size>@<base>:<irq>[:<id>]
  Result<void> add_virtio_mmio_device(uint64_t size, uint64_t base, uint32_t irq, std::optional<uint32_t> id = {});
  // Arguments for init, after " -- ".
  Result<void> insert_init_args(std::string_view args);

  const std::string& str() const { return text_; }
  uint64_t capacity() const { return capacity_; }

 private:
  std::string text_;
  std::string init_args_;
  uint64_t capacity_;
};

// Writes the command line NUL-terminated at addr (bounds-checked), up to
// max_size bytes including the NUL.
Result<void> load_cmdline(GuestMemory& mem, GuestAddress addr, const Cmdline& cmdline);

}  // namespace loader
