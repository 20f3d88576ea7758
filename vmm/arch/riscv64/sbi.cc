#include "arch/riscv64/sbi.h"

#include <algorithm>
#include <array>

#include "arch/riscv64/kvm_regs.h"

namespace vmm::riscv64 {

namespace {

constexpr int64_t kSbiErrInvalidAddress = -5;

void put(devices::Bus& mmio, uint64_t uart_base, std::byte ch) { mmio.write(uart_base, std::span(&ch, 1)); }

void set_ret(kvm_run& run, int64_t error, uint64_t value) {
  run.riscv_sbi.ret[0] = static_cast<unsigned long>(error);
  run.riscv_sbi.ret[1] = value;
}

void dbcn(kvm_run& run, devices::Bus& mmio, uint64_t uart_base, const loader::GuestMemory* memory) {
  auto& sbi = run.riscv_sbi;
  switch (sbi.function_id) {
    case kDbcnWrite: {
      // rv64: the address is args[1]; args[2] (its high half on rv32) is 0.
      uint64_t len = std::min<uint64_t>(sbi.args[0], kDbcnMaxWrite);
      std::array<std::byte, kDbcnMaxWrite> buf;
      if (memory == nullptr || sbi.args[2] != 0 ||
          !memory->read(loader::GuestAddress(sbi.args[1]), std::span(buf.data(), len))) {
        set_ret(run, kSbiErrInvalidAddress, 0);
        return;
      }
      for (uint64_t i = 0; i < len; ++i) put(mmio, uart_base, buf[i]);
      set_ret(run, kSbiSuccess, len);
      return;
    }
    case kDbcnRead: set_ret(run, kSbiSuccess, 0); return;
    case kDbcnWriteByte:
      put(mmio, uart_base, std::byte{static_cast<uint8_t>(sbi.args[0])});
      set_ret(run, kSbiSuccess, 0);
      return;
    default: set_ret(run, kSbiErrNotSupported, 0); return;
  }
}

}  // namespace

void handle_sbi_call(kvm_run& run, devices::Bus& mmio, uint64_t uart_base, const loader::GuestMemory* memory) {
  auto& sbi = run.riscv_sbi;
  switch (sbi.extension_id) {
    case kSbiLegacyConsolePutchar:
      put(mmio, uart_base, std::byte{static_cast<uint8_t>(sbi.args[0])});
      sbi.ret[0] = kSbiSuccess;
      break;
    case kSbiLegacyConsoleGetchar:
      sbi.ret[0] = static_cast<unsigned long>(-1);  // nothing to read
      break;
    case kSbiExtDbcn: dbcn(run, mmio, uart_base, memory); break;
    default: set_ret(run, kSbiErrNotSupported, 0); break;
  }
}

}  // namespace vmm::riscv64
