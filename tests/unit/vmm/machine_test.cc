#include "vmm/machine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "support/bzimage_builder.h"
#include "support/image_builder.h"
#include "vmm/exit_codes.h"

namespace vmm {
namespace {

using ::testing::HasSubstr;

class MachineBuild : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("machine_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A kernel the host's architecture boots.
  std::string host_kernel() {
    std::vector<std::byte> bytes;
    switch (host_arch()) {
      case loader::Arch::kX86_64: bytes = test_support::build_bzimage().bytes; break;
      case loader::Arch::kAarch64: bytes = test_support::build_arm64_image(); break;
      case loader::Arch::kRiscv64: bytes = test_support::build_riscv_image(); break;
    }
    auto path = (dir_ / "kernel").string();
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                 static_cast<std::streamsize>(bytes.size()));
    return path;
  }

  Options options(std::string kernel) {
    Options o;
    o.arch = host_arch();
    o.kernel = std::move(kernel);
    o.memory = 128ull << 20;
    o.kvm_device = (dir_ / "no-kvm-here").string();
    return o;
  }

  static PlatformSinks sinks() { return {[](devices::MachineRequest, std::string_view) {}, [](std::byte) {}}; }

  std::filesystem::path dir_;
};

TEST_F(MachineBuild, ABadKernelIsALoadErrorBeforeKvmIsOpened) {
  // The KVM path is bogus too: a load error proves the kernel is read first.
  auto m = Machine::build(options((dir_ / "missing-kernel").string()), sinks());
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().exit_code, kExitLoad);
  EXPECT_THAT(m.error().message, HasSubstr("missing-kernel"));
}

TEST_F(MachineBuild, AGoodKernelWithoutKvmIsAKvmError) {
  auto m = Machine::build(options(host_kernel()), sinks());
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().exit_code, kExitKvm);
  EXPECT_THAT(m.error().message, HasSubstr("no-kvm-here"));
}

TEST_F(MachineBuild, MemoryTheArchitectureRefusesIsAUsageError) {
  Options o = options(host_kernel());
  o.memory = 3ull << 20;  // below every architecture's minimum
  auto m = Machine::build(o, sinks());
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().exit_code, kExitUsage);
}

}  // namespace
}  // namespace vmm
