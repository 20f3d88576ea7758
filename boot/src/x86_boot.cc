#include "boot/x86_boot.h"

#include <algorithm>
#include <limits>

#include "boot/acpi/acpi_tables.h"
#include "boot/e820.h"
#include "boot/gdt.h"
#include "boot/layout_x86.h"
#include "boot/mptable.h"
#include "boot/page_tables.h"
#include "boot/pvh.h"
#include "boot/zero_page.h"

namespace boot {
namespace {

using loader::GuestAddress;

constexpr uint64_t k4GiB = 4ull << 30;

// The header the Linux protocol works from: the bzImage's own, or a fresh one
// for an ELF kernel (which brings none).
Result<SetupHeader> linux_header(const loader::LoadedKernel& kernel) {
  if (kernel.format == loader::KernelFormat::kBzImage) {
    auto hdr = parse_setup_header(kernel.setup_header);
    if (!hdr) return std::unexpected(with_context(hdr.error(), "bzImage"));
    return *hdr;
  }
  if (kernel.format == loader::KernelFormat::kElf) return fresh_setup_header();
  return fail(ErrorCode::kWrongArch, "x86 boot: kernel format {} is not an x86 kernel", to_string(kernel.format));
}

Result<void> check_range(const loader::GuestMemory& mem, std::string_view what, uint64_t addr, uint64_t size) {
  uint64_t end = 0;
  if (__builtin_add_overflow(addr, size, &end))
    return fail(ErrorCode::kOverflow, "x86 boot: {} at {:#x} size {:#x} wraps", what, addr, size);
  if (!mem.contains(GuestAddress(addr), size))
    return fail(ErrorCode::kOutOfBounds,
                "x86 boot: {} [{:#x}, {:#x}) is not inside guest memory (memory too small?)", what, addr, end);
  return {};
}

Result<void> fill_zero(loader::GuestMemory& mem, uint64_t addr, uint64_t size, std::string_view what) {
  if (auto r = mem.fill(GuestAddress(addr), size, std::byte{0}); !r)
    return std::unexpected(with_context(r.error(), what));
  return {};
}

}  // namespace

Result<uint64_t> x86_initrd_end_limit(const loader::LoadedKernel& kernel, X86BootProtocol protocol) {
  if (protocol == X86BootProtocol::kPvh) return k4GiB;
  auto hdr = linux_header(kernel);
  if (!hdr) return std::unexpected(hdr.error());
  return std::min(initrd_end_limit(*hdr), k4GiB);
}

Result<X86BootSetup> setup_x86_boot(loader::GuestMemory& mem, const X86BootConfig& config) {
  const auto& kernel = config.kernel;
  const bool pvh = config.protocol == X86BootProtocol::kPvh;
  if (kernel.arch != loader::Arch::kX86_64)
    return fail(ErrorCode::kWrongArch, "x86 boot: kernel is for {}, not x86_64", to_string(kernel.arch));
  if (config.memory_map.arch != loader::Arch::kX86_64)
    return fail(ErrorCode::kInvalidArgument, "x86 boot: memory map is for {}", to_string(config.memory_map.arch));
  if (config.cpus == 0 || config.cpus > acpi::kMaxCpus || config.cpus > kMptableMaxCpus)
    return fail(ErrorCode::kInvalidArgument, "x86 boot: {} CPUs, must be 1..{} (8-bit APIC ids, one for the IOAPIC)",
                config.cpus, std::min(acpi::kMaxCpus, kMptableMaxCpus));
  for (const auto& r : config.memory_map.ram)
    if (auto ok = check_range(mem, r.name, r.base, r.size); !ok) return std::unexpected(ok.error());

  // Everything below 1 MiB is ours; the kernel and initrd must stay above it.
  if (auto ok = check_range(mem, "low boot area", 0, x86::kHighMemStart); !ok) return std::unexpected(ok.error());
  if (kernel.load_size == 0)
    return fail(ErrorCode::kInvalidArgument, "x86 boot: kernel load_size is 0");
  if (auto ok = check_range(mem, "kernel", kernel.load_address.value(), kernel.load_size); !ok)
    return std::unexpected(ok.error());
  if (kernel.load_address.value() < x86::kHighMemStart)
    return fail(ErrorCode::kOverlap, "x86 boot: kernel at {} overlaps the boot data below 1 MiB", kernel.load_address);

  std::optional<SetupHeader> header;
  uint64_t cmdline_capacity = kDefaultCmdlineSize;
  uint64_t initrd_limit = k4GiB;
  uint64_t entry = kernel.entry.value();
  if (pvh) {
    if (!kernel.pvh_entry)
      return fail(ErrorCode::kUnsupported,
                  "x86 boot: PVH requested but the kernel has no PVH entry (ELF note XEN_ELFNOTE_PHYS32_ENTRY)");
    entry = kernel.pvh_entry->value();
    if (entry >= k4GiB)
      return fail(ErrorCode::kInvalidField, "x86 boot: PVH entry {:#x} is not a 32-bit address", entry);
  } else {
    auto hdr = linux_header(kernel);
    if (!hdr) return std::unexpected(hdr.error());
    header = *hdr;
    cmdline_capacity = header->cmdline_size;
    initrd_limit = initrd_end_limit(*header);
  }

  uint64_t cmdline_len = config.cmdline.size();
  if (config.cmdline.find('\0') != std::string::npos)
    return fail(ErrorCode::kInvalidArgument, "x86 boot: command line holds a NUL at offset {}",
                config.cmdline.find('\0'));
  if (cmdline_len > cmdline_capacity || cmdline_len + 1 > x86::kCmdlineAreaSize)
    return fail(ErrorCode::kTooLarge, "x86 boot: command line is {} bytes, the kernel accepts {} (cmdline_size)",
                cmdline_len, std::min<uint64_t>(cmdline_capacity, x86::kCmdlineAreaSize - 1));

  if (config.initrd && config.initrd->size > 0) {
    const auto& rd = *config.initrd;
    if (auto ok = check_range(mem, "initrd", rd.address.value(), rd.size); !ok) return std::unexpected(ok.error());
    uint64_t end = rd.address.value() + rd.size;
    if (end > initrd_limit)
      return fail(ErrorCode::kOutOfBounds,
                  "x86 boot: initrd [{:#x}, {:#x}) ends above the {} limit {:#x} (initrd_addr_max + 1)",
                  rd.address.value(), end, pvh ? "PVH" : "kernel's", initrd_limit);
    if (rd.address.value() < x86::kHighMemStart)
      return fail(ErrorCode::kOverlap, "x86 boot: initrd at {} overlaps the boot data below 1 MiB", rd.address);
    if (loader::ranges_overlap(rd.address.value(), rd.size, kernel.load_address.value(), kernel.load_size))
      return fail(ErrorCode::kOverlap, "x86 boot: initrd [{:#x}, {:#x}) overlaps the kernel at {} size {:#x}",
                  rd.address.value(), end, kernel.load_address, kernel.load_size);
  }

  auto e820 = build_e820(config.memory_map);
  if (!e820) return std::unexpected(e820.error());
  if (pvh && e820->size() > x86::kPvhMemmapMaxEntries)
    return fail(ErrorCode::kTooLarge, "x86 boot: {} memmap entries exceed PVH's {}", e820->size(),
                x86::kPvhMemmapMaxEntries);

  // All checks done: write. Clear the boot areas first so a reused guest
  // memory holds no stale tables.
  X86BootSetup out;
  std::vector<LayoutItem>& layout = out.layout;
  for (auto [addr, size, what] : {std::tuple{uint64_t{0x400}, uint64_t{0x100}, "BIOS data area"},
                                  std::tuple{x86::kGdtAddr, uint64_t{0x100}, "GDT area"},
                                  std::tuple{x86::kPvhStartInfoAddr, uint64_t{0x1000}, "PVH area"},
                                  std::tuple{x86::kZeroPageAddr, x86::kZeroPageSize, "zero page"},
                                  std::tuple{x86::kCmdlineAddr, x86::kCmdlineAreaSize, "cmdline area"},
                                  std::tuple{x86::kEbdaAddr, uint64_t{0x400}, "EBDA"},
                                  std::tuple{x86::kAcpiAreaAddr, x86::kAcpiAreaSize, "ACPI area"},
                                  std::tuple{x86::kMptableAreaAddr, x86::kMptableAreaSize, "MP table area"}}) {
    if (auto ok = fill_zero(mem, addr, size, what); !ok) return std::unexpected(ok.error());
  }

  // The BIOS data area's EBDA pointer (a real-mode segment), which Linux
  // reads to find and reserve the EBDA and to scan it for the MP table.
  if (auto r = mem.write_obj(GuestAddress(x86::kBdaEbdaPointer), static_cast<uint16_t>(x86::kEbdaAddr >> 4)); !r)
    return std::unexpected(with_context(r.error(), "BDA EBDA pointer"));
  layout.push_back({"EBDA", x86::kEbdaAddr, 0x400});

  if (auto r = write_gdt(mem, x86::kGdtAddr, x86::kIdtAddr, x86::kTssAddr, x86::kTssSize); !r)
    return std::unexpected(r.error());
  layout.push_back({"GDT", x86::kGdtAddr, kGdtEntries * 8});
  layout.push_back({"IDT", x86::kIdtAddr, 8});
  layout.push_back({"TSS", x86::kTssAddr, x86::kTssSize});

  auto acpi_layout = acpi::write_acpi_tables(mem, x86::kAcpiAreaAddr, x86::kAcpiAreaSize, config.cpus, config.platform);
  if (!acpi_layout) return std::unexpected(acpi_layout.error());
  out.rsdp_addr = acpi_layout->rsdp_addr;
  for (const auto& t : acpi_layout->tables)
    layout.push_back({fmt::format("ACPI {}", t.signature), t.address, t.bytes.size()});

  if (config.mptable) {
    auto mp = write_mptable(mem, x86::kMptableAreaAddr, x86::kMptableAreaSize, config.cpus,
                            config.platform.mp_pci_interrupts);
    if (!mp) return std::unexpected(mp.error());
    layout.push_back({"MP table", mp->floating_pointer_addr, mp->size});
  }

  std::vector<std::byte> cmdline_bytes(cmdline_len + 1, std::byte{0});
  std::transform(config.cmdline.begin(), config.cmdline.end(), cmdline_bytes.begin(),
                 [](char c) { return static_cast<std::byte>(c); });
  if (auto r = mem.write(GuestAddress(x86::kCmdlineAddr), cmdline_bytes); !r)
    return std::unexpected(with_context(r.error(), "command line"));
  layout.push_back({"cmdline", x86::kCmdlineAddr, cmdline_len + 1});

  if (pvh) {
    PvhConfig pc;
    pc.start_info_addr = x86::kPvhStartInfoAddr;
    pc.modlist_addr = x86::kPvhModlistAddr;
    pc.memmap_addr = x86::kPvhMemmapAddr;
    pc.memmap_capacity = x86::kPvhMemmapMaxEntries;
    pc.cmdline_addr = x86::kCmdlineAddr;
    pc.initrd = config.initrd;
    pc.e820 = *e820;
    pc.rsdp_addr = out.rsdp_addr;
    auto info = write_pvh_start_info(mem, pc);
    if (!info) return std::unexpected(info.error());
    layout.push_back({"PVH start_info", x86::kPvhStartInfoAddr, sizeof(HvmStartInfo)});
    if (info->nr_modules > 0) layout.push_back({"PVH module list", x86::kPvhModlistAddr, sizeof(HvmModlistEntry)});
    layout.push_back({"PVH memmap", x86::kPvhMemmapAddr, e820->size() * sizeof(HvmMemmapEntry)});
    out.entry = pvh_entry_state(entry, x86::kPvhStartInfoAddr, x86::kGdtAddr, x86::kIdtAddr, x86::kTssAddr);
  } else {
    auto pt = write_identity_page_tables(mem, x86::kPml4Addr, x86::kPdptAddr, x86::kPdAddr, x86::kPdCount);
    if (!pt) return std::unexpected(pt.error());
    layout.push_back({"page tables", x86::kPml4Addr, x86::kPdAddr + x86::kPdCount * 0x1000 - x86::kPml4Addr});

    ZeroPageConfig zc;
    zc.header = *header;
    zc.cmdline_addr = x86::kCmdlineAddr;
    zc.cmdline_length = cmdline_len;
    zc.initrd = config.initrd;
    zc.e820 = *e820;
    zc.acpi_rsdp_addr = out.rsdp_addr;
    auto bp = build_zero_page(zc);
    if (!bp) return std::unexpected(bp.error());
    if (auto r = mem.write_obj(GuestAddress(x86::kZeroPageAddr), *bp); !r)
      return std::unexpected(with_context(r.error(), "zero page"));
    layout.push_back({"zero page", x86::kZeroPageAddr, x86::kZeroPageSize});
    layout.push_back({"boot stack", x86::kBootStackTop & ~uint64_t{0xfff}, 0x1000});
    out.entry = linux64_entry_state(entry, x86::kZeroPageAddr, x86::kPml4Addr, x86::kBootStackTop, x86::kGdtAddr,
                                    x86::kIdtAddr, x86::kTssAddr);
  }

  layout.push_back({"kernel", kernel.load_address.value(), kernel.load_size});
  if (config.initrd && config.initrd->size > 0)
    layout.push_back({"initrd", config.initrd->address.value(), config.initrd->size});
  std::stable_sort(layout.begin(), layout.end(),
                   [](const LayoutItem& a, const LayoutItem& b) { return a.address < b.address; });
  return out;
}

}  // namespace boot
