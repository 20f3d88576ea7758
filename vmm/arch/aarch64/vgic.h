// The in-kernel vGIC: GICv3 where the host has it, GICv2 otherwise, at the
// addresses of boot/memory_map_aarch64.h. KVM routes the architected timer
// PPIs and PSCI itself once the vGIC is initialised.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "boot/dtb_aarch64.h"
#include "vmm/kvm.h"

namespace vmm::aarch64 {

// SPIs plus the 32 private interrupts (a multiple of 32): room above the
// UART's SPI for devices to come.
inline constexpr uint32_t kVgicNrIrqs = 128;

struct Vgic {
  Fd device;
  boot::GicVersion version = boot::GicVersion::kV3;
  // Why GICv3 was not used ("" when it was), for the user and the boot report.
  std::string fallback_reason;
};

// Creates the vGIC before the vCPUs exist and sets its address windows and
// interrupt count. Tries GICv3 first; when KVM refuses it, falls back to
// GICv2 (at most kGicV2MaxCpus vCPUs) and says so in fallback_reason. Fails
// naming both attempts when neither works.
Result<Vgic> create_vgic(Vm& vm, uint32_t cpus);

// KVM_DEV_ARM_VGIC_CTRL_INIT, once every vCPU exists and is initialised.
Result<void> init_vgic(Vgic& vgic);

// The vGICv3's ITS at kGicItsBase: created, placed and initialised, after
// the vGICv3 itself (the ITS attaches to it). With one, KVM needs a device ID
// on every MSI (KVM_CAP_MSI_DEVID). Fails naming the step KVM refused (an
// older or GICv2-only host, or a host kernel built without the ITS).
Result<Fd> create_its(Vm& vm);

// SPIs the vGIC has (kVgicNrIrqs less the 32 private interrupts): KVM's
// default GSI routes send GSI n to SPI n for each.
inline constexpr uint32_t kVgicNrSpis = kVgicNrIrqs - 32;

// KVM's default routing table of the vGIC (GSI n -> SPI n): setting a routing
// table replaces it, so MSI routes are added to these.
std::vector<kvm_irq_routing_entry> spi_routes();

// The KVM_IRQ_LINE `irq` value for a shared peripheral interrupt (SPI n,
// GIC INTID 32 + n): type SPI in bits 27:24, the INTID in bits 15:0.
uint32_t spi_irq_line(uint32_t spi);

}  // namespace vmm::aarch64
