#include "vmm/vcpu_loop.h"

#include <signal.h>

#include <cstring>
#include <span>

#include "vmm/arch.h"

namespace vmm {

static_assert(kKickSignal == SIGUSR1);

namespace {
void kick_handler(int) {}

std::string exit_reason_name(uint32_t reason) {
  switch (reason) {
    case KVM_EXIT_UNKNOWN: return "KVM_EXIT_UNKNOWN";
    case KVM_EXIT_EXCEPTION: return "KVM_EXIT_EXCEPTION";
    case KVM_EXIT_DEBUG: return "KVM_EXIT_DEBUG";
    case KVM_EXIT_NMI: return "KVM_EXIT_NMI";
    case KVM_EXIT_TPR_ACCESS: return "KVM_EXIT_TPR_ACCESS";
    default: return fmt::format("exit reason {}", reason);
  }
}

// KVM_EXIT_SYSTEM_EVENT: PSCI SYSTEM_OFF/SYSTEM_RESET on aarch64, SBI SRST on riscv64.
std::string system_event_name(uint32_t type) {
  switch (type) {
    case KVM_SYSTEM_EVENT_SHUTDOWN: return "guest powered off (system event SHUTDOWN)";
    case KVM_SYSTEM_EVENT_RESET: return "guest reset (system event RESET)";
    case KVM_SYSTEM_EVENT_CRASH: return "guest crashed (system event CRASH)";
    default: return fmt::format("system event {}", type);
  }
}

std::string_view internal_error_name(uint32_t suberror) {
  switch (suberror) {
    case KVM_INTERNAL_ERROR_EMULATION: return "instruction emulation failed";
    case KVM_INTERNAL_ERROR_SIMUL_EX: return "exception while delivering an exception";
    case KVM_INTERNAL_ERROR_DELIVERY_EV: return "event delivery failed";
    default: return "unknown";
  }
}

// The words KVM attaches to an internal error; for an emulation failure they
// include the instruction bytes, which say what KVM could not emulate.
std::string internal_error_data(const kvm_run& run) {
  std::string s;
  uint32_t n = run.internal.ndata;
  if (n > sizeof run.internal.data / sizeof run.internal.data[0]) n = sizeof run.internal.data / sizeof run.internal.data[0];
  for (uint32_t i = 0; i < n; ++i) s += fmt::format(" {:#x}", static_cast<uint64_t>(run.internal.data[i]));
  return s.empty() ? s : ", data:" + s;
}

}  // namespace

int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void install_kick_handler() {
  struct sigaction sa{};
  sa.sa_handler = kick_handler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: KVM_RUN must come back with EINTR
  sigaction(SIGUSR1, &sa, nullptr);
}

VcpuOutcome run_vcpu(Vcpu& vcpu, VcpuContext& ctx) {
  kvm_run* run = vcpu.run_state();
  auto* base = reinterpret_cast<std::byte*>(run);
  for (;;) {
    if (ctx.stop.load(std::memory_order_acquire)) return {VcpuStop::kKicked, "stopped"};
    if (ctx.deadline_ns != 0 && steady_now_ns() >= ctx.deadline_ns)
      return {VcpuStop::kDeadline, fmt::format("vCPU {}: deadline passed", vcpu.id())};
    if (ctx.first_run_ns.load(std::memory_order_relaxed) == 0) {
      int64_t now = steady_now_ns();
      int64_t expected = 0;
      ctx.first_run_ns.compare_exchange_strong(expected, now);
    }
    int err = vcpu.run();
    if (err == EINTR || err == EAGAIN) {
      ctx.exits.intr.fetch_add(1, std::memory_order_relaxed);
      run->immediate_exit = 0;
      continue;  // the stop flag decides
    }
    if (err != 0) return {VcpuStop::kError, fmt::format("vCPU {}: KVM_RUN: {}", vcpu.id(), std::strerror(err))};

    switch (run->exit_reason) {
      case KVM_EXIT_IO: {
        ctx.exits.io.fetch_add(1, std::memory_order_relaxed);
        if (ctx.coalesced) ctx.coalesced->drain(ctx.pio, ctx.mmio);
        // A rep ins/outs hands over `count` items back to back.
        std::byte* data = base + run->io.data_offset;
        for (uint32_t i = 0; i < run->io.count; ++i) {
          std::span<std::byte> item(data + static_cast<size_t>(i) * run->io.size, run->io.size);
          if (run->io.direction == KVM_EXIT_IO_OUT) {
            ctx.pio.write(run->io.port, item);
          } else {
            ctx.pio.read(run->io.port, item);
          }
        }
        break;
      }
      case KVM_EXIT_MMIO: {
        ctx.exits.mmio.fetch_add(1, std::memory_order_relaxed);
        if (ctx.coalesced) ctx.coalesced->drain(ctx.pio, ctx.mmio);
        uint32_t len = run->mmio.len > sizeof run->mmio.data ? sizeof run->mmio.data : run->mmio.len;
        auto data = std::as_writable_bytes(std::span(run->mmio.data, len));
        if (run->mmio.is_write) {
          ctx.mmio.write(run->mmio.phys_addr, data);
        } else {
          ctx.mmio.read(run->mmio.phys_addr, data);
        }
        break;
      }
      case KVM_EXIT_HLT:
        ctx.exits.hlt.fetch_add(1, std::memory_order_relaxed);
        return {VcpuStop::kHalted, fmt::format("vCPU {} halted", vcpu.id())};
      case KVM_EXIT_SHUTDOWN:
        ctx.exits.shutdown.fetch_add(1, std::memory_order_relaxed);
        return {VcpuStop::kCrash, fmt::format("vCPU {}: triple fault (KVM_EXIT_SHUTDOWN){}", vcpu.id(),
                                              arch::describe_vcpu(vcpu))};
      case KVM_EXIT_SYSTEM_EVENT: {
        ctx.exits.system_event.fetch_add(1, std::memory_order_relaxed);
        std::string what = fmt::format("vCPU {}: {}", vcpu.id(), system_event_name(run->system_event.type));
        switch (run->system_event.type) {
          case KVM_SYSTEM_EVENT_SHUTDOWN: return {VcpuStop::kPowerOff, what};
          case KVM_SYSTEM_EVENT_RESET: return {VcpuStop::kReset, what};
          case KVM_SYSTEM_EVENT_CRASH: return {VcpuStop::kCrash, what};
          default: return {VcpuStop::kError, what};
        }
      }
      case KVM_EXIT_IRQ_WINDOW_OPEN:
        ctx.exits.irq_window.fetch_add(1, std::memory_order_relaxed);
        break;
      case KVM_EXIT_INTR:
        ctx.exits.intr.fetch_add(1, std::memory_order_relaxed);
        break;
      case KVM_EXIT_INTERNAL_ERROR:
        ctx.exits.internal_error.fetch_add(1, std::memory_order_relaxed);
        return {VcpuStop::kError, fmt::format("vCPU {}: KVM internal error, suberror {} ({}){}{}", vcpu.id(),
                                              run->internal.suberror, internal_error_name(run->internal.suberror),
                                              arch::describe_vcpu(vcpu), internal_error_data(*run))};
      case KVM_EXIT_FAIL_ENTRY:
        ctx.exits.fail_entry.fetch_add(1, std::memory_order_relaxed);
        return {VcpuStop::kError, fmt::format("vCPU {}: VM entry failed, hardware reason {:#x}{}", vcpu.id(),
                                              static_cast<uint64_t>(run->fail_entry.hardware_entry_failure_reason),
                                              arch::describe_vcpu(vcpu))};
      default:
        if (arch::handle_exit(vcpu, ctx)) break;
        ctx.exits.other.fetch_add(1, std::memory_order_relaxed);
        return {VcpuStop::kError, fmt::format("vCPU {}: unexpected {}{}", vcpu.id(),
                                              exit_reason_name(run->exit_reason), arch::describe_vcpu(vcpu))};
    }
  }
}

}  // namespace vmm
