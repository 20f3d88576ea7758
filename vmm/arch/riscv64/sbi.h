// The SBI calls KVM leaves to user space (KVM_EXIT_RISCV_SBI). KVM itself
// implements the base, timer, IPI, RFENCE, HSM (secondary harts), SRST
// (reset/poweroff, which reaches us as KVM_EXIT_SYSTEM_EVENT) and PMU
// extensions; it forwards the legacy v0.1 console (where the host kernel has
// SBI v0.1 at all), the debug console DBCN (once the VMM enables it) and the
// experimental/vendor ranges.
#pragma once

#include <linux/kvm.h>

#include <cstdint>

#include "devices/bus.h"
#include "loader/guest_memory.h"

namespace vmm::riscv64 {

inline constexpr uint64_t kSbiExtDbcn = 0x4442434e;  // "DBCN"
inline constexpr uint64_t kDbcnWrite = 0, kDbcnRead = 1, kDbcnWriteByte = 2;
// A DBCN write is copied in chunks of this size; longer writes are cut
// (the guest retries with the rest, as the spec allows).
inline constexpr uint64_t kDbcnMaxWrite = 4096;

// Answers one forwarded call in run.riscv_sbi.ret (KVM copies ret[0]/ret[1]
// into a0/a1 on the next KVM_RUN). Console output (legacy putchar, DBCN
// write and write_byte) goes to the 16550A's transmit register at
// `uart_base` on `mmio`, so `earlycon=sbi` output reaches the same console
// (and --expect) as the UART's. Reads report no input (console input goes
// through the UART). Anything else is SBI_ERR_NOT_SUPPORTED. A DBCN buffer
// outside guest RAM is SBI_ERR_INVALID_ADDRESS.
void handle_sbi_call(kvm_run& run, devices::Bus& mmio, uint64_t uart_base, const loader::GuestMemory* memory);

}  // namespace vmm::riscv64
