// The aarch64 device tree: what a Linux arm64 kernel needs to find its RAM,
// CPUs (PSCI), GIC, architected timer, 16550A console, command line and
// initrd. Addresses come from memory_map_aarch64.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "boot/fdt_layout.h"
#include "boot/memory_map_aarch64.h"
#include "boot/platform_description.h"
#include "loader/error.h"
#include "loader/guest_memory.h"
#include "loader/initrd.h"

namespace boot {

enum class GicVersion { kV2, kV3 };
// Both advertise "arm,psci-0.2" too; the kernel asks PSCI_VERSION at run time.
enum class PsciVersion { k0_2, k1_0 };

struct Aarch64DtConfig {
  RamRange ram{GuestAddress(aarch64::kRamBase), 0};
  uint32_t cpus = 1;  // 1..123 (GICv3, redistributor window) or 1..8 (GICv2)
  std::string cmdline;  // at most aarch64::kCmdlineCapacity - 1 bytes
  std::optional<loader::InitrdPlacement> initrd;
  GicVersion gic = GicVersion::kV3;
  // A GICv3 ITS child of the GIC node, named by the PCI host bridge's
  // msi-map, so PCI devices get MSI-X. Ignored with GICv2 (no ITS there).
  bool its = true;
  PsciVersion psci = PsciVersion::k1_0;
  // The devices' own nodes (the console UART, virtio, ...) and stdout-path.
  PlatformDescription platform;
  std::vector<std::byte> rng_seed;        // /chosen/rng-seed when not empty
  std::optional<uint64_t> kaslr_seed;     // /chosen/kaslr-seed
};

// Phandle of the GIC node (the root's interrupt-parent).
inline constexpr uint32_t kAarch64GicPhandle = 1;
// Phandle of the ITS node (the PCI host bridge's msi-map target).
inline constexpr uint32_t kAarch64ItsPhandle = 2;
// The highest SPI a device may use (INTID 1019).
inline constexpr uint32_t kAarch64MaxSpi = 987;

// How devices spell their interrupts in this tree: GIC SPIs, level or edge;
// and where PCI MSIs go (the ITS, when the tree has one).
DtIrqContext aarch64_dt_irq_context(const Aarch64DtConfig& config);

// Whether the tree describes an ITS (asked for, and a GICv3 to hold it).
bool aarch64_has_its(const Aarch64DtConfig& config);

// Largest vCPU count the chosen GIC can describe in this memory map.
uint32_t aarch64_max_cpus(GicVersion gic);

// Node names, for tests.
std::string aarch64_gic_node_name(const Aarch64DtConfig& config);
std::string aarch64_its_node_path(const Aarch64DtConfig& config);  // "/interrupt-controller@8000000/msi-controller@8080000"

loader::Result<std::vector<std::byte>> build_aarch64_dtb(const Aarch64DtConfig& config);

// Builds the tree and writes it at the start of the top 2 MiB block of
// config.ram (see fdt_layout.h); returns its guest address.
loader::Result<GuestAddress> place_aarch64_dtb(loader::GuestMemory& mem, const Aarch64DtConfig& config);

}  // namespace boot
