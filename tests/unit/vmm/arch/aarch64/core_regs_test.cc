// The ONE_REG ids of the arm64 core registers, against values worked out by
// hand from <asm/kvm.h>: KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE
// | (byte offset in struct kvm_regs / 4).
#include "arch/aarch64/core_regs.h"

#include <gtest/gtest.h>

#include "arch/aarch64/vgic.h"

namespace vmm::aarch64 {
namespace {

TEST(CoreRegs, IdsAreOffsetsInWords) {
  EXPECT_EQ(xreg_id(0), 0x6030000000100000ull);
  EXPECT_EQ(xreg_id(1), 0x6030000000100002ull);  // x1 at byte 8
  EXPECT_EQ(kSpId, 0x603000000010003eull);       // sp at byte 248
  EXPECT_EQ(kPcId, 0x6030000000100040ull);       // pc at byte 256
  EXPECT_EQ(kPstateId, 0x6030000000100042ull);   // pstate at byte 264
}

TEST(Vgic, SpiIrqLineEncodesTypeAndIntid) {
  // KVM_ARM_IRQ_TYPE_SPI (1) in bits 27:24, INTID 32 + SPI in bits 15:0.
  EXPECT_EQ(spi_irq_line(1), 0x01000021u);
  EXPECT_EQ(spi_irq_line(0), 0x01000020u);
}

}  // namespace
}  // namespace vmm::aarch64
