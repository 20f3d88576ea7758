#include "arch/aarch64/vgic.h"

#include "boot/memory_map_aarch64.h"

namespace vmm::aarch64 {

namespace {

Result<Fd> create_v3(Vm& vm) {
  auto device = vm.create_device(KVM_DEV_TYPE_ARM_VGIC_V3, "KVM_DEV_TYPE_ARM_VGIC_V3");
  if (!device) return device;
  const uint64_t dist = boot::aarch64::kGicDistBase;
  const uint64_t redist = boot::aarch64::kGicRedistBase;
  if (auto r = set_device_attr(*device, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST, &dist,
                               fmt::format("GICv3 distributor at {:#x}", dist));
      !r) {
    return std::unexpected(r.error());
  }
  if (auto r = set_device_attr(*device, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST, &redist,
                               fmt::format("GICv3 redistributors at {:#x}", redist));
      !r) {
    return std::unexpected(r.error());
  }
  return device;
}

Result<Fd> create_v2(Vm& vm) {
  auto device = vm.create_device(KVM_DEV_TYPE_ARM_VGIC_V2, "KVM_DEV_TYPE_ARM_VGIC_V2");
  if (!device) return device;
  const uint64_t dist = boot::aarch64::kGicDistBase;
  const uint64_t cpu = boot::aarch64::kGicV2CpuBase;
  if (auto r = set_device_attr(*device, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V2_ADDR_TYPE_DIST, &dist,
                               fmt::format("GICv2 distributor at {:#x}", dist));
      !r) {
    return std::unexpected(r.error());
  }
  if (auto r = set_device_attr(*device, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V2_ADDR_TYPE_CPU, &cpu,
                               fmt::format("GICv2 CPU interface at {:#x}", cpu));
      !r) {
    return std::unexpected(r.error());
  }
  return device;
}

}  // namespace

Result<Vgic> create_vgic(Vm& vm, uint32_t cpus) {
  Vgic vgic;
  auto v3 = create_v3(vm);
  if (v3) {
    vgic.device = std::move(*v3);
  } else {
    // A host GIC without a GICv3 CPU interface (GICv2 hardware, or GICv3
    // without the system-register interface KVM needs) cannot offer a vGICv3.
    auto v2 = create_v2(vm);
    if (!v2) {
      return fail("no in-kernel interrupt controller: GICv3 failed ({}); GICv2 failed too ({})", v3.error().message,
                  v2.error().message);
    }
    if (cpus > boot::aarch64::kGicV2MaxCpus) {
      return fail("this host's KVM has no GICv3 ({}), and the GICv2 fallback addresses at most {} vCPUs, not {}",
                  v3.error().message, boot::aarch64::kGicV2MaxCpus, cpus);
    }
    vgic.device = std::move(*v2);
    vgic.version = boot::GicVersion::kV2;
    vgic.fallback_reason = fmt::format("host KVM has no GICv3 ({}): falling back to GICv2", v3.error().message);
  }
  const uint32_t nr_irqs = kVgicNrIrqs;
  if (auto r = set_device_attr(vgic.device, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &nr_irqs,
                               fmt::format("vGIC interrupt count {}", nr_irqs));
      !r) {
    return std::unexpected(r.error());
  }
  return vgic;
}

Result<void> init_vgic(Vgic& vgic) {
  return set_device_attr(vgic.device, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT, nullptr,
                         "vGIC KVM_DEV_ARM_VGIC_CTRL_INIT");
}

Result<Fd> create_its(Vm& vm) {
  auto its = vm.create_device(KVM_DEV_TYPE_ARM_VGIC_ITS, "KVM_DEV_TYPE_ARM_VGIC_ITS");
  if (!its) return its;
  const uint64_t base = boot::aarch64::kGicItsBase;
  if (auto r = set_device_attr(*its, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_ITS_ADDR_TYPE, &base,
                               fmt::format("ITS at {:#x}", base));
      !r) {
    return std::unexpected(r.error());
  }
  if (auto r = set_device_attr(*its, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT, nullptr,
                               "ITS KVM_DEV_ARM_VGIC_CTRL_INIT");
      !r) {
    return std::unexpected(r.error());
  }
  return its;
}

std::vector<kvm_irq_routing_entry> spi_routes() {
  std::vector<kvm_irq_routing_entry> table(kVgicNrSpis);
  for (uint32_t spi = 0; spi < kVgicNrSpis; ++spi) {
    table[spi].gsi = spi;
    table[spi].type = KVM_IRQ_ROUTING_IRQCHIP;
    table[spi].u.irqchip.irqchip = 0;
    table[spi].u.irqchip.pin = spi;
  }
  return table;
}

uint32_t spi_irq_line(uint32_t spi) {
  return (static_cast<uint32_t>(KVM_ARM_IRQ_TYPE_SPI) << KVM_ARM_IRQ_TYPE_SHIFT) | ((32 + spi) & 0xffff);
}

}  // namespace vmm::aarch64
