#include "arch/riscv64/sbi.h"

#include "arch/riscv64/kvm_regs.h"

namespace vmm::riscv64 {

void handle_sbi_call(kvm_run& run, devices::Bus& mmio, uint64_t uart_base) {
  auto& sbi = run.riscv_sbi;
  switch (sbi.extension_id) {
    case kSbiLegacyConsolePutchar: {
      std::byte ch{static_cast<uint8_t>(sbi.args[0])};
      mmio.write(uart_base, std::span(&ch, 1));
      sbi.ret[0] = kSbiSuccess;
      break;
    }
    case kSbiLegacyConsoleGetchar:
      sbi.ret[0] = static_cast<unsigned long>(-1);  // nothing to read: console input goes through the UART
      break;
    default:
      sbi.ret[0] = static_cast<unsigned long>(kSbiErrNotSupported);
      sbi.ret[1] = 0;
      break;
  }
}

}  // namespace vmm::riscv64
