// The riscv64 implementation of the vmm/arch.h hooks: an Image (raw, PE-stub
// or compressed) entered in S-mode with a0 = hart id and a1 = the device
// tree; SBI in KVM (timer, IPI, RFENCE, HSM starts the secondary harts, SRST
// ends the VM as a system event); device lines go through the userspace
// PLIC (a platform device, vmm/src/platform.cc) to each hart's S-mode
// external interrupt (KVM_INTERRUPT). Addresses come from boot/memory_map_riscv64.h.
//
// Why a userspace PLIC and not the in-kernel AIA (APLIC + IMSIC): KVM's AIA
// device needs host kernel 6.5+ AND a host whose harts implement Ssaia with
// guest interrupt files (IMSIC); QEMU 7.2's TCG "virt" machine can emulate
// that (aia=aplic-imsic) but the machines this project is proven on (L1
// `-M virt -cpu rv64,h=true`, and most riscv64 boards shipping today) have
// no IMSIC, so KVM_CREATE_DEVICE(KVM_DEV_TYPE_RISCV_AIA) fails there. A PLIC
// in user space works on every KVM host; the cost is an exit per claim and
// completion, a few per console interrupt, which a serial console never
// notices. This is also what kvmtool does.
#include <linux/kvm.h>
#include <unistd.h>

#include <atomic>

#include "arch/riscv64/isa.h"
#include "arch/riscv64/sbi.h"
#include "arch/riscv64/kvm_regs.h"
#include "boot/fdt_guest.h"
#include "boot/memory_map_riscv64.h"
#include "boot/setup_riscv64.h"
#include "devices/plic.h"
#include "loader/cmdline.h"
#include "loader/initrd.h"
#include "loader/kernel_loader.h"
#include "vmm/arch.h"
#include "vmm/fdt_boot.h"
#include "vmm/xioctl.h"

namespace vmm::arch {

namespace {

// Each hart's vCPU fd (a dup, so the PLIC may still signal while the VM is
// torn down), indexed by hart = PLIC context. Filled before any vCPU runs.
struct HartLines {
  explicit HartLines(uint32_t n) : fds(n) {
    for (auto& fd : fds) fd.store(-1);
  }
  ~HartLines() {
    for (auto& fd : fds)
      if (fd.load() >= 0) ::close(fd.load());
  }
  std::vector<std::atomic<int>> fds;
};

}  // namespace

struct State {
  boot::Riscv64BootConfig boot;
  boot::Riscv64EntryState entry;
  std::shared_ptr<HartLines> harts;
  std::string notes;
};

void StateDeleter::operator()(State* state) const { delete state; }

std::string_view name() { return "riscv64"; }

std::string_view exec_cmdline() { return {}; }

namespace {

using loader::ErrorCode;

// KVM_INTERRUPT's riscv argument: assert / deassert the S-mode external interrupt.
constexpr uint32_t kInterruptSet = static_cast<uint32_t>(-1);
constexpr uint32_t kInterruptUnset = static_cast<uint32_t>(-2);

}  // namespace

loader::Result<StatePtr> prepare_boot(loader::GuestMemory& mem, const boot::MemoryMap&, const Options& config,
                                      const Platform& platform, std::string& description) {
  // --cpus is within boot::max_cpus(riscv64), the harts the memory map has room for (cli.cc).
  StatePtr state(new State);
  if (auto r = load_fdt_boot(mem, config, platform, state->boot, description); !r) return std::unexpected(r.error());
  // Written with default ISA/timebase now (so a bad command line or CPU
  // count is reported before KVM is touched) and rewritten in vcpus_created
  // with what KVM offers.
  auto setup = boot::setup_riscv64_boot(mem, state->boot);
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
                           Cap{KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE"},
                           Cap{KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"}}) {
    if (auto r = kvm.require(cap, name); !r) return r;
  }
  return {};
}

Result<void> create_vm_devices(const Kvm&, Vm&, State& state, const Options& config) {
  state.harts = std::make_shared<HartLines>(config.cpus);
  state.notes += fmt::format("interrupt controller: userspace PLIC ({} sources, {} contexts); in-kernel AIA not used\n",
                             boot::riscv64::kPlicNumSources, config.cpus);
  return {};
}

devices::IrqLine irq_line(Vm&, State&, Platform& platform, const devices::IrqRequest& request) {
  auto plic = platform.find<devices::Plic>();
  if (!plic) return {};
  return plic->line(request.line);
}

Result<devices::pci::MsiSink> msi_sink(Vm&, State&, Platform&) { return devices::pci::MsiSink{}; }

Result<void> connect_platform(Vm&, State& state, Platform& platform) {
  auto plic = platform.find<devices::Plic>();
  if (!plic) return fail("riscv64: the platform has no PLIC");
  plic->set_output([harts = state.harts](uint32_t context, bool level) {
    if (context >= harts->fds.size()) return;
    int fd = harts->fds[context].load();
    if (fd < 0) return;
    // KVM_INTERRUPT is an async vCPU ioctl on riscv: any thread may
    // raise a hart's external interrupt; KVM kicks the vCPU.
    kvm_interrupt irq{level ? kInterruptSet : kInterruptUnset};
    (void)xioctl(fd, KVM_INTERRUPT, &irq);
  });
  return {};
}

namespace {

// What KVM lets this guest's harts use, for the device tree.
Result<void> probe_hart(Vcpu& vcpu, State& state) {
  auto letters = vcpu.get_one_reg(riscv64::kConfigIsa);
  if (!letters) return std::unexpected(letters.error());
  std::vector<uint32_t> multi;
  for (uint32_t ext = riscv64::kIsaExtFirstMultiLetter; ext < riscv64::isa_ext_count(); ++ext) {
    auto on = vcpu.get_one_reg(riscv64::isa_ext_id(ext));
    if (on && *on == 1) multi.push_back(ext);  // ENOENT/EINVAL: this host (or KVM) lacks it
  }
  riscv64::HartIsa isa = riscv64::describe_isa(*letters, multi);
  state.boot.isa = isa.isa;
  state.boot.isa_extensions = isa.extensions;
  if (auto satp = vcpu.get_one_reg(riscv64::kConfigSatpMode)) {
    state.boot.mmu = riscv64::mmu_type(*satp);
  } else {
    state.boot.mmu = boot::RiscvMmuType::kSv39;
    state.notes += "KVM has no satp_mode register (host kernel before 6.4): telling the guest sv39\n";
  }
  auto freq = vcpu.get_one_reg(riscv64::kTimerFrequency);
  if (!freq) return std::unexpected(freq.error());
  if (*freq == 0 || *freq > UINT32_MAX) return fail("KVM reports a timer frequency of {} Hz", *freq);
  state.boot.timebase_frequency = static_cast<uint32_t>(*freq);
  state.notes += fmt::format("harts: {}, timebase {} Hz\n", isa.isa, *freq);
  return {};
}

}  // namespace

Result<void> setup_vcpu(const Kvm&, Vm&, Vcpu& vcpu, State& state, const Options&) {
  int fd = ::dup(vcpu.fd());
  if (fd < 0) return fail_errno(errno, fmt::format("vCPU {}: dup", vcpu.id()));
  state.harts->fds[vcpu.id()].store(fd);
  // KVM forwards the SBI debug console (earlycon=sbi, the kernel's SBI
  // console) to us only once it is enabled; without it early output is lost.
  if (!vcpu.set_one_reg(riscv64::sbi_ext_id(riscv64::kKvmSbiExtDbcn), 1) && vcpu.id() == 0)
    state.notes += "KVM has no SBI debug console (DBCN, host kernel 6.8+): earlycon=sbi prints nothing\n";
  if (vcpu.id() == 0) return probe_hart(vcpu, state);
  // Secondary harts wait stopped until the guest starts them with SBI HSM
  // hart_start, which KVM handles (it sets their pc, a0 and a1).
  kvm_mp_state stopped{KVM_MP_STATE_STOPPED};
  if (xioctl(vcpu.fd(), KVM_SET_MP_STATE, &stopped) < 0)
    return fail_errno(errno, fmt::format("vCPU {}: KVM_SET_MP_STATE STOPPED", vcpu.id()));
  return {};
}

Result<void> vcpus_created(Vm&, std::vector<Vcpu>& vcpus, loader::GuestMemory& mem, State& state, const Options&) {
  // The device tree must describe the harts KVM really gives the guest.
  auto setup = boot::setup_riscv64_boot(mem, state.boot);
  if (!setup) return fail("riscv64 device tree with the host's ISA: {}", setup.error().message);
  state.entry = setup->entry;
  if (vcpus.empty()) return {};
  Vcpu& boot_hart = vcpus.front();
  for (auto [id, value] : {std::pair{riscv64::kCoreMode, riscv64::kModeSupervisor},
                           std::pair{riscv64::core_a(0), state.entry.a0}, std::pair{riscv64::core_a(1), state.entry.a1},
                           std::pair{riscv64::kCorePc, state.entry.pc}}) {
    if (auto r = boot_hart.set_one_reg(id, value); !r) return r;
  }
  return {};
}

bool handle_exit(Vcpu& vcpu, VcpuContext& ctx) {
  kvm_run& run = *vcpu.run_state();
  if (run.exit_reason != KVM_EXIT_RISCV_SBI) return false;
  // An SBI call KVM does not implement itself (counted as "other").
  ctx.exits.other.fetch_add(1, std::memory_order_relaxed);
  riscv64::handle_sbi_call(run, ctx.mmio, boot::riscv64::kUartBase, ctx.memory);
  return true;
}

std::string notes(const State& state) { return state.notes; }

std::string kernel_source(const State&) { return {}; }

std::string describe_vcpu(const Vcpu& vcpu) {
  auto pc = vcpu.get_one_reg(riscv64::kCorePc);
  auto ra = vcpu.get_one_reg(riscv64::reg_id(riscv64::kRegCore, 1));
  if (!pc) return "";
  return fmt::format(" at pc {:#x}{}", *pc, ra ? fmt::format(" (ra {:#x})", *ra) : "");
}

}  // namespace vmm::arch
