// The GSI routing of the in-kernel PIC and IOAPIC. KVM's default table sends
// GSI 0 (the PIT) to IOAPIC pin 0, but our MP table and MADT say what every PC
// says — the 8259's ExtINT on pin 0, IRQ0 on pin 2 — and Linux programs pin 2
// for its timer (skipping the check that would notice, since kvm-clock guests
// set no_timer_check). With the default table the PIT tick never arrived:
// jiffies stood still whenever the LAPIC timer was not running (it also failed
// its calibration check against jiffies), the printk clock froze, and every
// timed wait — the i8042 probe's 250 ms, busybox ash's wait for the terminal's
// cursor-position reply after Enter — waited forever.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <vector>

namespace vmm::x86 {

// ISA IRQs 0-15 on the master/slave 8259s (not IRQ2, the cascade), GSI 0 on
// IOAPIC pin 2, GSIs 1-23 (not 2) on their own IOAPIC pins.
std::vector<kvm_irq_routing_entry> legacy_gsi_routing();

}  // namespace vmm::x86
