// libFuzzer target: the SBI calls KVM forwards to user space
// (vmm/arch/riscv64/sbi.cc, built into this target from its source: it only
// decodes a kvm_run and touches the bus and guest memory, no /dev/kvm, and
// the fuzz preset builds without the vmm library). Any extension, function
// and arguments: nothing may crash, and
//   - only the console calls print, and they print through the UART's
//     transmit register at offset 0, one byte per access;
//   - a DBCN write prints at most kDbcnMaxWrite bytes, exactly the bytes of
//     guest RAM at its address, and reports the count it printed; a buffer
//     outside RAM is SBI_ERR_INVALID_ADDRESS and prints nothing;
//   - every other call answers SBI_ERR_NOT_SUPPORTED (or success for the
//     legacy/DBCN calls) without touching anything.
// Input layout: tests/support/bus_fuzz_input.h.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>
#include <vector>

#include "arch/riscv64/kvm_regs.h"
#include "arch/riscv64/sbi.h"
#include "support/bus_fuzz_input.h"

namespace {

namespace bf = test_support::bus_fuzz;
using namespace vmm::riscv64;

constexpr uint64_t kUart = 0x1000'0000;
constexpr int64_t kSbiErrInvalidAddress = -5;

class Thr final : public devices::Device {
 public:
  void read(uint64_t, std::span<std::byte>) override { std::abort(); }  // the handler never reads the UART
  void write(uint64_t offset, std::span<const std::byte> data) override {
    if (offset != 0 || data.size() != 1) std::abort();
    out.push_back(data[0]);
  }
  std::vector<std::byte> out;
};

uint64_t le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

loader::GuestMemory& ram() {
  static loader::GuestMemory mem = [] {
    std::array specs{loader::RegionSpec{loader::GuestAddress(bf::kSbiRamBase), bf::kSbiRamSize}};
    auto m = loader::GuestMemory::create(specs);
    if (!m) std::abort();
    std::vector<std::byte> pattern(bf::kSbiRamSize);
    for (size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<std::byte>(i * 7 + 3);
    if (!m->write(loader::GuestAddress(bf::kSbiRamBase), pattern)) std::abort();
    return std::move(*m);
  }();
  return mem;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  devices::Bus mmio{devices::BusKind::kMmio};
  auto thr = std::make_shared<Thr>();
  if (!mmio.add(kUart, 8, thr, "uart")) std::abort();
  const loader::GuestMemory& mem = ram();
  for (size_t at = 0; at + bf::kSbiCallSize <= size; at += bf::kSbiCallSize) {
    const uint8_t* call = data + at;
    kvm_run run{};
    run.riscv_sbi.extension_id = le64(call);
    run.riscv_sbi.function_id = le64(call + 8);
    for (size_t i = 0; i < 6; ++i) run.riscv_sbi.args[i] = le64(call + 16 + 8 * i);
    const auto before = thr->out.size();
    // Every call must answer: poison the return registers first.
    run.riscv_sbi.ret[0] = 0x5a5a'5a5a;
    handle_sbi_call(run, mmio, kUart, &mem);
    const auto printed = thr->out.size() - before;
    const auto& sbi = run.riscv_sbi;
    const auto error = static_cast<int64_t>(sbi.ret[0]);
    if (sbi.extension_id == kSbiLegacyConsolePutchar) {
      if (printed != 1 || thr->out.back() != static_cast<std::byte>(sbi.args[0] & 0xff) || error != kSbiSuccess)
        std::abort();
    } else if (sbi.extension_id == kSbiLegacyConsoleGetchar) {
      if (printed != 0 || error != -1) std::abort();
    } else if (sbi.extension_id == kSbiExtDbcn && sbi.function_id == kDbcnWrite) {
      if (error == kSbiErrInvalidAddress) {
        if (printed != 0 || sbi.ret[1] != 0) std::abort();
      } else {
        const uint64_t len = std::min<uint64_t>(sbi.args[0], kDbcnMaxWrite);
        if (error != kSbiSuccess || printed != len || sbi.ret[1] != len) std::abort();
        std::vector<std::byte> want(len);
        if (!mem.read(loader::GuestAddress(sbi.args[1]), want)) std::abort();  // claimed success outside RAM
        if (!std::equal(want.begin(), want.end(), thr->out.begin() + static_cast<std::ptrdiff_t>(before))) std::abort();
      }
    } else if (sbi.extension_id == kSbiExtDbcn && sbi.function_id == kDbcnRead) {
      if (printed != 0 || error != kSbiSuccess || sbi.ret[1] != 0) std::abort();
    } else if (sbi.extension_id == kSbiExtDbcn && sbi.function_id == kDbcnWriteByte) {
      if (printed != 1 || thr->out.back() != static_cast<std::byte>(sbi.args[0] & 0xff) || error != kSbiSuccess)
        std::abort();
    } else {
      if (printed != 0 || error != kSbiErrNotSupported) std::abort();
    }
    if (thr->out.size() > (1u << 20)) thr->out.clear();  // keep long inputs cheap
  }
  return 0;
}
