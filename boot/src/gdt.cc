#include "boot/gdt.h"

namespace boot {

uint64_t encode_descriptor(const Segment& s) {
  uint64_t limit = s.g ? (uint64_t{s.limit} >> 12) : s.limit;
  return (limit & 0xffff) | ((s.base & 0xffffff) << 16) | (uint64_t{s.type & 0xfu} << 40) |
         (uint64_t{s.s & 1u} << 44) | (uint64_t{s.dpl & 3u} << 45) | (uint64_t{s.present & 1u} << 47) |
         (((limit >> 16) & 0xf) << 48) | (uint64_t{s.avl & 1u} << 52) | (uint64_t{s.l & 1u} << 53) |
         (uint64_t{s.db & 1u} << 54) | (uint64_t{s.g & 1u} << 55) | (((s.base >> 24) & 0xff) << 56);
}

Segment decode_descriptor(uint64_t d) {
  Segment s;
  s.base = ((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24);
  uint32_t limit = static_cast<uint32_t>((d & 0xffff) | (((d >> 48) & 0xf) << 16));
  s.type = static_cast<uint8_t>((d >> 40) & 0xf);
  s.s = static_cast<uint8_t>((d >> 44) & 1);
  s.dpl = static_cast<uint8_t>((d >> 45) & 3);
  s.present = static_cast<uint8_t>((d >> 47) & 1);
  s.avl = static_cast<uint8_t>((d >> 52) & 1);
  s.l = static_cast<uint8_t>((d >> 53) & 1);
  s.db = static_cast<uint8_t>((d >> 54) & 1);
  s.g = static_cast<uint8_t>((d >> 55) & 1);
  s.limit = s.g ? (limit << 12) | 0xfff : limit;
  return s;
}

namespace {

Segment flat(uint16_t selector, uint8_t type) {
  Segment s;
  s.base = 0;
  s.limit = 0xffffffff;
  s.selector = selector;
  s.type = type;
  s.present = 1;
  s.s = 1;
  s.g = 1;
  return s;
}

}  // namespace

Segment code32_segment() {
  Segment s = flat(kGdtCode32Selector, kSegTypeCodeExecReadAccessed);
  s.db = 1;
  return s;
}

Segment code64_segment() {
  Segment s = flat(kGdtCode64Selector, kSegTypeCodeExecReadAccessed);
  s.l = 1;  // long mode code: D must be 0
  return s;
}

Segment data_segment() {
  Segment s = flat(kGdtDataSelector, kSegTypeDataReadWriteAccessed);
  s.db = 1;
  return s;
}

Segment tss_segment(uint64_t base, uint32_t limit) {
  Segment s;
  s.base = base;
  s.limit = limit;
  s.selector = kGdtTssSelector;
  s.type = kSegTypeTssBusy;  // VM entry wants a busy TSS in TR
  s.present = 1;
  return s;
}

std::array<uint64_t, kGdtEntries> build_gdt(uint64_t tss_addr, uint32_t tss_limit) {
  Segment tss = tss_segment(tss_addr, tss_limit);
  // In long mode a system descriptor is 16 bytes: the second slot holds base[63:32].
  return {0, encode_descriptor(code32_segment()), encode_descriptor(code64_segment()),
          encode_descriptor(data_segment()), encode_descriptor(tss), tss_addr >> 32};
}

Result<void> write_gdt(loader::GuestMemory& mem, uint64_t gdt_addr, uint64_t idt_addr, uint64_t tss_addr,
                       uint32_t tss_size) {
  if (tss_size == 0) return fail(ErrorCode::kInvalidArgument, "GDT: TSS size is 0");
  auto gdt = build_gdt(tss_addr, tss_size - 1);
  if (auto r = mem.write_obj(loader::GuestAddress(gdt_addr), gdt); !r)
    return std::unexpected(with_context(r.error(), "GDT"));
  if (auto r = mem.write_obj(loader::GuestAddress(idt_addr), uint64_t{0}); !r)
    return std::unexpected(with_context(r.error(), "IDT"));
  if (auto r = mem.fill(loader::GuestAddress(tss_addr), tss_size, std::byte{0}); !r)
    return std::unexpected(with_context(r.error(), "TSS"));
  return {};
}

}  // namespace boot
