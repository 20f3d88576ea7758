// The SBI calls KVM leaves to user space (KVM_EXIT_RISCV_SBI). KVM itself
// implements the base, timer, IPI, RFENCE, HSM (secondary harts), SRST
// (reset/poweroff, which reaches us as KVM_EXIT_SYSTEM_EVENT) and PMU
// extensions; what it forwards is the legacy v0.1 console and the
// experimental/vendor ranges.
#pragma once

#include <linux/kvm.h>

#include <cstdint>

#include "devices/bus.h"

namespace vmm::riscv64 {

// Answers one forwarded call in run.riscv_sbi.ret (KVM copies ret[0]/ret[1]
// into a0/a1 on the next KVM_RUN). The legacy console putchar goes to the
// 16550A's transmit register at `uart_base` on `mmio`, so `earlycon=sbi`
// output reaches the same console (and --expect) as the UART's; getchar
// reports no input (-1); anything else is SBI_ERR_NOT_SUPPORTED.
void handle_sbi_call(kvm_run& run, devices::Bus& mmio, uint64_t uart_base);

}  // namespace vmm::riscv64
