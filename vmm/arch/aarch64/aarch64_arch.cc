// The aarch64 implementation of the vmm/arch.h hooks: an Image (raw, PE-stub
// or compressed) entered at EL1h with x0 = the device tree, PSCI 0.2+ in
// KVM (secondary vCPUs powered off until CPU_ON), the in-kernel vGIC (v3, v2
// as fallback), the architected timer; device lines are SPIs driven through
// KVM_IRQ_LINE; PCI MSI-X goes through the vGIC's ITS where KVM offers one
// (GSI routes with the requester ID as device ID, signalled by irqfds), and
// the guest stays on INTx where it does not. Addresses come from
// boot/memory_map_aarch64.h.
#include <linux/kvm.h>

#include "arch/aarch64/core_regs.h"
#include "arch/aarch64/vgic.h"
#include "boot/fdt_guest.h"
#include "boot/memory_map_aarch64.h"
#include "boot/setup_aarch64.h"
#include "loader/cmdline.h"
#include "loader/initrd.h"
#include "loader/kernel_loader.h"
#include "vmm/arch.h"
#include "vmm/irqfd_lines.h"
#include "vmm/msi_routes.h"
#include "vmm/text.h"
#include "vmm/fdt_boot.h"
#include "vmm/xioctl.h"

namespace vmm::arch {

struct State {
  boot::Aarch64BootConfig boot;
  boot::Aarch64EntryState entry;
  aarch64::Vgic vgic;
  kvm_vcpu_init preferred{};
  std::string notes;
  std::unique_ptr<IrqfdLines> irqfds;  // level SPIs; null without KVM_CAP_IRQFD_RESAMPLE
  Fd its;                              // the vGIC ITS; invalid: none, PCI uses INTx
  std::unique_ptr<MsiRoutes> msi;      // MSI-X routes through the ITS; null without it
};

void StateDeleter::operator()(State* state) const { delete state; }

std::string_view name() { return "aarch64"; }

std::string_view exec_cmdline() { return {}; }

loader::Result<StatePtr> prepare_boot(loader::GuestMemory& mem, const boot::MemoryMap&, const Options& config,
                                      const Platform& platform, std::string& description) {
  StatePtr state(new State);
  if (auto r = load_fdt_boot(mem, config, platform, state->boot, description); !r) return std::unexpected(r.error());
  // Written for GICv3 now (so a bad command line or CPU count is reported
  // before KVM is touched) and rewritten if the host only has GICv2.
  auto setup = boot::setup_aarch64_boot(mem, state->boot);
  if (!setup) return std::unexpected(setup.error());
  state->entry = setup->entry;
  return state;
}

Result<void> check_capabilities(const Kvm& kvm, State&) {
  struct Cap {
    long cap;
    const char* name;
  };
  for (auto [cap, name] : {Cap{KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"}, Cap{KVM_CAP_ONE_REG, "KVM_CAP_ONE_REG"},
                           Cap{KVM_CAP_ARM_PSCI_0_2, "KVM_CAP_ARM_PSCI_0_2"},
                           Cap{KVM_CAP_DEVICE_CTRL, "KVM_CAP_DEVICE_CTRL"},
                           Cap{KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"}}) {
    if (auto r = kvm.require(cap, name); !r) return r;
  }
  return {};
}

namespace {

// Creates the ITS where the host can route MSIs through it; returns why not
// ("" when it did). Needs a vGICv3, irqfds with GSI routing, and KVM taking
// a device ID on MSIs.
std::string try_its(Vm& vm, State& state) {
  if (state.vgic.version != boot::GicVersion::kV3) return "GICv2 has none";
  if (!MsiRoutes::supported(vm)) return "KVM has no KVM_CAP_IRQFD or KVM_CAP_IRQ_ROUTING";
  auto its = aarch64::create_its(vm);
  if (!its) return its.error().message;
  if (vm.check_extension(KVM_CAP_MSI_DEVID) <= 0) return "KVM has no KVM_CAP_MSI_DEVID";
  state.its = std::move(*its);
  return "";
}

}  // namespace

Result<void> create_vm_devices(const Kvm&, Vm& vm, State& state, const Options& config) {
  if (xioctl(vm.fd(), KVM_ARM_PREFERRED_TARGET, &state.preferred) < 0) {
    return fail_errno(errno, "KVM_ARM_PREFERRED_TARGET");
  }
  auto vgic = aarch64::create_vgic(vm, config.cpus);
  if (!vgic) return std::unexpected(vgic.error());
  state.vgic = std::move(*vgic);
  if (state.vgic.version == boot::GicVersion::kV2) {
    write_stderr(fmt::format("vmm: {}\n", state.vgic.fallback_reason));
    state.notes += state.vgic.fallback_reason + "\n";
  }
  if (auto why = try_its(vm, state); !why.empty()) {
    // The device tree (written with an ITS) is rewritten without it in vcpus_created.
    const std::string line = fmt::format("no vGIC ITS ({}): PCI devices use INTx", why);
    write_stderr(fmt::format("vmm: {}\n", line));
    state.notes += line + "\n";
  }
  return {};
}

devices::IrqLine irq_line(Vm& vm, State&, Platform&, const devices::IrqRequest& request) {
  // KVM_IRQ_LINE on an SPI inside the vGIC's range does not fail; a device has nowhere to report it anyway.
  return [&vm, line = aarch64::spi_irq_line(request.line)](bool level) { (void)vm.irq_line(line, level); };
}

Result<devices::pci::MsiSink> msi_sink(Vm& vm, State& state, Platform& platform) {
  if (!state.its.valid()) return devices::pci::MsiSink{};
  MsiRouteOptions options;
  options.base = aarch64::spi_routes();
  options.first_gsi = aarch64::kVgicNrSpis;
  options.devid = true;
  auto routes = MsiRoutes::create(vm, platform, std::move(options));
  if (!routes) return std::unexpected(routes.error());
  state.msi = std::move(*routes);
  return state.msi->sink();
}

Result<void> connect_platform(Vm&, State&, Platform&) { return {}; }

namespace {

Result<void> set_entry_registers(Vcpu& vcpu, const boot::Aarch64EntryState& e) {
  for (auto [id, value] : {std::pair{aarch64::kPstateId, e.pstate}, std::pair{aarch64::xreg_id(0), e.x0},
                           std::pair{aarch64::xreg_id(1), e.x1}, std::pair{aarch64::xreg_id(2), e.x2},
                           std::pair{aarch64::xreg_id(3), e.x3}, std::pair{aarch64::kPcId, e.pc}}) {
    if (auto r = vcpu.set_one_reg(id, value); !r) return r;
  }
  return {};
}

}  // namespace

Result<void> setup_vcpu(const Kvm&, Vm&, Vcpu& vcpu, State& state, const Options&) {
  kvm_vcpu_init init = state.preferred;
  init.features[0] |= 1u << KVM_ARM_VCPU_PSCI_0_2;
  // Secondaries wait powered off for the guest's PSCI CPU_ON, which KVM handles.
  if (vcpu.id() != 0) init.features[0] |= 1u << KVM_ARM_VCPU_POWER_OFF;
  if (xioctl(vcpu.fd(), KVM_ARM_VCPU_INIT, &init) < 0) {
    return fail_errno(errno, fmt::format("vCPU {}: KVM_ARM_VCPU_INIT (target {})", vcpu.id(), init.target));
  }
  if (vcpu.id() != 0) return {};
  return set_entry_registers(vcpu, state.entry);
}

Result<void> vcpus_created(Vm&, std::vector<Vcpu>& vcpus, loader::GuestMemory& mem, State& state,
                           const Options&) {
  const bool its = state.its.valid();
  if (state.vgic.version != state.boot.gic || its != state.boot.its) {
    // The device tree must describe the GIC (and ITS) the guest really gets.
    state.boot.gic = state.vgic.version;
    state.boot.its = its;
    auto setup = boot::setup_aarch64_boot(mem, state.boot);
    if (!setup) return fail("device tree without GICv3 or ITS: {}", setup.error().message);
    state.entry = setup->entry;
    if (!vcpus.empty()) {
      if (auto r = set_entry_registers(vcpus.front(), state.entry); !r) return r;
    }
  }
  if (auto r = aarch64::init_vgic(state.vgic); !r) return r;
  // KVM takes irqfds only once the vGIC is initialised.
  state.notes += activate_irqfd_lines(state.irqfds.get());
  if (state.msi && state.msi->vectors() > 0) {
    // The vGIC's init installed its default routes; ours replace them (keeping those).
    if (auto r = state.msi->activate(); !r) return fail("MSI-X through the ITS: {}", r.error().message);
    state.notes += fmt::format(
        "virtio-pci MSI-X through the vGIC ITS at {:#x}: {} vectors on irqfds (GSI routes with device IDs)\n",
        boot::aarch64::kGicItsBase, state.msi->vectors());
  }
  return {};
}

bool handle_exit(Vcpu&, VcpuContext&) { return false; }

std::string notes(const State& state) { return state.notes; }

std::string kernel_source(const State&) { return {}; }

std::string describe_vcpu(const Vcpu& vcpu) {
  auto pc = vcpu.get_one_reg(aarch64::kPcId);
  auto pstate = vcpu.get_one_reg(aarch64::kPstateId);
  if (!pc || !pstate) return "";
  return fmt::format(" at pc {:#x} (pstate {:#x})", *pc, *pstate);
}

}  // namespace vmm::arch
