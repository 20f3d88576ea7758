// Internal to boot: what the aarch64 and riscv64 device trees state the same
// way — the checks of RAM, command line and initrd, the memory node and
// /chosen. Each arch's dtb_<arch>.cc adds its CPUs, interrupt controllers
// and console around them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "boot/fdt_layout.h"
#include "boot/fdt_writer.h"
#include "loader/error.h"
#include "loader/guest_memory.h"
#include "loader/initrd.h"

namespace boot::detail {

// `what` names the tree in messages, e.g. "aarch64 device tree".
loader::Result<void> check_dt_ram(std::string_view what, const RamRange& ram);
// capacity: the kernel's COMMAND_LINE_SIZE, NUL included.
loader::Result<void> check_dt_cmdline(std::string_view what, std::string_view cmdline, uint64_t capacity);
loader::Result<void> check_dt_initrd(std::string_view what, const RamRange& ram,
                                     const std::optional<loader::InitrdPlacement>& initrd);

void write_memory_node(FdtWriter& w, const RamRange& ram);

struct ChosenNode {
  std::string_view bootargs;
  std::string_view stdout_path;
  std::optional<loader::InitrdPlacement> initrd;
  std::span<const std::byte> rng_seed;  // left out when empty
  std::optional<uint64_t> kaslr_seed;
};
void write_chosen_node(FdtWriter& w, const ChosenNode& chosen);

// Closes the root node opened by the caller and returns the blob.
loader::Result<std::vector<std::byte>> finish_dt(FdtWriter& w, std::string_view what);

// Plans where the tree goes in ram (the start of its top 2 MiB block, see
// fdt_layout.h), builds it and writes it there; returns its guest address.
loader::Result<GuestAddress> place_dt(loader::GuestMemory& mem, loader::Arch arch, const RamRange& ram,
                                      const std::function<loader::Result<std::vector<std::byte>>()>& build);

}  // namespace boot::detail
