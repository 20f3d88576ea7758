#include "boot/entry_state_x86.h"

#include <gtest/gtest.h>

namespace boot {
namespace {

void expect_flat_data(const Segment& s, const char* what) {
  EXPECT_EQ(s.selector, 0x18) << what;
  EXPECT_EQ(s.base, 0u) << what;
  EXPECT_EQ(s.limit, 0xffffffffu) << what;
  EXPECT_EQ(s.type, 0x3) << what;
  EXPECT_EQ(s.present, 1) << what;
  EXPECT_EQ(s.s, 1) << what;
  EXPECT_EQ(s.g, 1) << what;
}

TEST(EntryState, Linux64) {
  auto st = linux64_entry_state(0x1000200, 0x7000, 0x9000, 0x8ff0, 0x500, 0x540, 0x580);
  EXPECT_EQ(st.sregs.cr0, 0x80000011u);  // PG | ET | PE
  EXPECT_EQ(st.sregs.cr3, 0x9000u);
  EXPECT_EQ(st.sregs.cr4, 0x20u);        // PAE
  EXPECT_EQ(st.sregs.efer, 0x500u);      // LME | LMA
  EXPECT_EQ(st.sregs.cs.selector, 0x10);
  EXPECT_EQ(st.sregs.cs.l, 1);
  EXPECT_EQ(st.sregs.cs.db, 0);
  EXPECT_EQ(st.sregs.cs.type, 0xb);
  for (auto* s : {&st.sregs.ds, &st.sregs.es, &st.sregs.ss, &st.sregs.fs, &st.sregs.gs}) expect_flat_data(*s, "data");
  EXPECT_EQ(st.sregs.tr.selector, 0x20);
  EXPECT_EQ(st.sregs.tr.type, 0xb);
  EXPECT_EQ(st.sregs.tr.base, 0x580u);
  EXPECT_EQ(st.sregs.tr.s, 0);
  EXPECT_EQ(st.sregs.gdt.base, 0x500u);
  EXPECT_EQ(st.sregs.gdt.limit, 6 * 8 - 1);
  EXPECT_EQ(st.sregs.idt.base, 0x540u);
  EXPECT_EQ(st.regs.rip, 0x1000200u);
  EXPECT_EQ(st.regs.rsi, 0x7000u);
  EXPECT_EQ(st.regs.rsp, 0x8ff0u);
  EXPECT_EQ(st.regs.rflags, 0x2u);
  EXPECT_EQ(st.regs.rbx, 0u);
}

TEST(EntryState, Pvh) {
  auto st = pvh_entry_state(0x1000180, 0x6000, 0x500, 0x540, 0x580);
  EXPECT_EQ(st.sregs.cr0 & 0x1, 0x1u);         // PE
  EXPECT_EQ(st.sregs.cr0 & 0x80000000u, 0u);   // paging off
  EXPECT_EQ(st.sregs.cr4, 0u);
  EXPECT_EQ(st.sregs.efer, 0u);
  EXPECT_EQ(st.sregs.cs.selector, 0x08);
  EXPECT_EQ(st.sregs.cs.db, 1);
  EXPECT_EQ(st.sregs.cs.l, 0);
  EXPECT_EQ(st.sregs.cs.base, 0u);
  EXPECT_EQ(st.sregs.cs.limit, 0xffffffffu);
  for (auto* s : {&st.sregs.ds, &st.sregs.es, &st.sregs.ss}) expect_flat_data(*s, "data");
  EXPECT_EQ(st.sregs.tr.type, 0xb);
  EXPECT_EQ(st.sregs.tr.present, 1);
  EXPECT_EQ(st.regs.rip, 0x1000180u);
  EXPECT_EQ(st.regs.rbx, 0x6000u);
  EXPECT_EQ(st.regs.rflags, 0x2u);
}

}  // namespace
}  // namespace boot
