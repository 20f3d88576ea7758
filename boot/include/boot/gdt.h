// Flat segments for the x86 boot paths: the descriptors in the guest's GDT
// and the same segments as plain structs the VMM loads into the vCPU's
// hidden segment registers (they must agree, or the first reload faults).
#pragma once

#include <array>
#include <cstdint>

#include "boot/error.h"
#include "loader/guest_memory.h"

namespace boot {

// A segment register as the VMM sets it. `limit` is byte granular (a 4 GiB
// flat segment with g=1 has limit 0xffffffff), like KVM's kvm_segment.
struct Segment {
  uint64_t base = 0;
  uint32_t limit = 0;
  uint16_t selector = 0;
  uint8_t type = 0;     // 4-bit descriptor type
  uint8_t present = 0;
  uint8_t dpl = 0;
  uint8_t db = 0;       // default operand size 32-bit
  uint8_t s = 0;        // 1 code/data, 0 system
  uint8_t l = 0;        // 64-bit code
  uint8_t g = 0;        // limit in 4 KiB units
  uint8_t avl = 0;
  uint8_t unusable = 0;
};

// Selectors: boot.rst asks for __BOOT_CS 0x10 and __BOOT_DS 0x18.
inline constexpr uint16_t kGdtCode32Selector = 0x08;  // PVH
inline constexpr uint16_t kGdtCode64Selector = 0x10;  // __BOOT_CS
inline constexpr uint16_t kGdtDataSelector = 0x18;    // __BOOT_DS
inline constexpr uint16_t kGdtTssSelector = 0x20;     // 16-byte system descriptor
inline constexpr size_t kGdtEntries = 6;              // null, code32, code64, data, tss (2 slots)

// Descriptor types.
inline constexpr uint8_t kSegTypeCodeExecReadAccessed = 0xb;
inline constexpr uint8_t kSegTypeDataReadWriteAccessed = 0x3;
inline constexpr uint8_t kSegTypeTssBusy = 0xb;

// 8-byte descriptor for a code/data segment (or the low half of a system one).
uint64_t encode_descriptor(const Segment& segment);
// The inverse: base, limit (expanded per g), type, flags; selector left 0.
Segment decode_descriptor(uint64_t descriptor);

Segment code32_segment();
Segment code64_segment();
Segment data_segment();
Segment tss_segment(uint64_t base, uint32_t limit);

// The GDT above, TSS descriptor pointing at tss_addr.
std::array<uint64_t, kGdtEntries> build_gdt(uint64_t tss_addr, uint32_t tss_limit);
// Writes the GDT at gdt_addr, a zero TSS at tss_addr and a zero IDT entry at idt_addr.
Result<void> write_gdt(loader::GuestMemory& mem, uint64_t gdt_addr, uint64_t idt_addr, uint64_t tss_addr,
                       uint32_t tss_size);

}  // namespace boot
