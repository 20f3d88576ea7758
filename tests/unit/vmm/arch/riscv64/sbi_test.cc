// The SBI calls KVM forwards to the VMM, answered as a guest would see them.
#include "arch/riscv64/sbi.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "arch/riscv64/kvm_regs.h"

namespace vmm::riscv64 {
namespace {

constexpr uint64_t kUart = 0x1000'0000;
constexpr uint64_t kRam = 0x8000'0000;

// Records the bytes written at offset 0 (the 16550A's THR).
class Thr : public devices::Device {
 public:
  void read(uint64_t, std::span<std::byte> data) override { std::memset(data.data(), 0, data.size()); }
  void write(uint64_t offset, std::span<const std::byte> data) override {
    if (offset == 0) out += static_cast<char>(data[0]);
  }
  std::string out;
};

class SbiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(mmio.add(kUart, 8, thr, "uart"));
    loader::RegionSpec spec{loader::GuestAddress(kRam), 0x10000};
    auto m = loader::GuestMemory::create(std::span(&spec, 1));
    ASSERT_TRUE(m.has_value());
    mem.emplace(std::move(*m));
  }
  kvm_run call(uint64_t ext, uint64_t fid, std::initializer_list<uint64_t> args) {
    kvm_run run{};
    run.riscv_sbi.extension_id = ext;
    run.riscv_sbi.function_id = fid;
    size_t i = 0;
    for (uint64_t a : args) run.riscv_sbi.args[i++] = a;
    handle_sbi_call(run, mmio, kUart, &*mem);
    return run;
  }
  static int64_t error(const kvm_run& run) { return static_cast<int64_t>(run.riscv_sbi.ret[0]); }

  devices::Bus mmio{devices::BusKind::kMmio};
  std::shared_ptr<Thr> thr = std::make_shared<Thr>();
  std::optional<loader::GuestMemory> mem;
};

TEST_F(SbiTest, LegacyPutcharGoesToTheUart) {
  auto run = call(0x01, 0, {'x'});
  EXPECT_EQ(thr->out, "x");
  EXPECT_EQ(error(run), 0);
}

TEST_F(SbiTest, LegacyGetcharHasNoInput) { EXPECT_EQ(error(call(0x02, 0, {})), -1); }

TEST_F(SbiTest, DbcnWriteCopiesFromGuestMemory) {
  const char text[] = "early";
  ASSERT_TRUE(mem->write(loader::GuestAddress(kRam + 0x100), std::as_bytes(std::span(text, 5))));
  auto run = call(0x4442434e, 0, {5, kRam + 0x100, 0});
  EXPECT_EQ(thr->out, "early");
  EXPECT_EQ(error(run), 0);
  EXPECT_EQ(run.riscv_sbi.ret[1], 5u) << "bytes written";
}

TEST_F(SbiTest, DbcnWriteOutsideRamIsAnInvalidAddress) {
  auto run = call(0x4442434e, 0, {4, kRam + 0x10000 - 2, 0});
  EXPECT_EQ(error(run), -5);
  EXPECT_TRUE(thr->out.empty());
  EXPECT_EQ(error(call(0x4442434e, 0, {1, kRam, 1})), -5) << "a high address half on rv64";
}

TEST_F(SbiTest, DbcnWriteByteAndReadNothing) {
  EXPECT_EQ(error(call(0x4442434e, 2, {'!'})), 0);
  EXPECT_EQ(thr->out, "!");
  auto run = call(0x4442434e, 1, {16, kRam, 0});
  EXPECT_EQ(error(run), 0);
  EXPECT_EQ(run.riscv_sbi.ret[1], 0u);
  EXPECT_EQ(error(call(0x4442434e, 7, {})), -2) << "unknown DBCN function";
}

TEST_F(SbiTest, OtherExtensionsAreNotSupported) {
  EXPECT_EQ(error(call(0x08000000, 0, {})), -2);
  EXPECT_EQ(error(call(0x0a000000, 3, {})), -2);
  EXPECT_TRUE(thr->out.empty());
}

}  // namespace
}  // namespace vmm::riscv64
