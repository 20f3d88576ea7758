// run_vcpu against the real /dev/kvm (skipped where there is none): the
// deadline ends a vCPU whose guest keeps exiting even when nobody kicks it,
// as when the event loop's thread is starved on a one-CPU nested host.
#include <gtest/gtest.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <mutex>
#include <thread>

#include "arch/x86_64/x86_vm.h"
#include "vmm/kvm.h"
#include "vmm/vcpu_loop.h"

namespace vmm {
namespace {

bool have_kvm() { return access("/dev/kvm", R_OK | W_OK) == 0; }

// A fresh vCPU fetches its first instruction at 0xfffffff0: there, `out %al,
// $0x99; jmp` back to the out, forever. Port 0x99 has no device: every
// iteration is an exit the loop handles and resumes.
constexpr uint64_t kResetPage = 0xffff0000;
constexpr size_t kResetPageSize = 0x10000;
constexpr uint8_t kOutLoop[] = {0xe6, 0x99, 0xeb, 0xfc};

TEST(KvmVcpuLoop, TheDeadlineEndsAGuestThatKeepsExitingWithoutAnyKick) {
  if (!have_kvm()) GTEST_SKIP() << "no /dev/kvm: KVM integration tests need a host with KVM (run them in the nested harness)";
  auto kvm = Kvm::open();
  ASSERT_TRUE(kvm) << kvm.error().message;
  auto vm = kvm->create_vm();
  ASSERT_TRUE(vm) << vm.error().message;
  ASSERT_TRUE(x86::setup_vm(*vm));
  void* page = mmap(nullptr, kResetPageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(page, MAP_FAILED);
  std::memcpy(static_cast<uint8_t*>(page) + 0xfff0, kOutLoop, sizeof kOutLoop);
  ASSERT_TRUE(vm->set_user_memory_region(0, kResetPage, kResetPageSize, page));
  auto size = kvm->vcpu_mmap_size();
  ASSERT_TRUE(size);
  auto vcpu = vm->create_vcpu(0, *size);
  ASSERT_TRUE(vcpu) << vcpu.error().message;

  devices::Bus pio(devices::BusKind::kPio), mmio(devices::BusKind::kMmio);
  ExitCounters exits;
  std::atomic<bool> stop{false};
  std::atomic<int64_t> first_run_ns{0};
  VcpuContext ctx{pio, mmio, exits, stop, first_run_ns};
  ctx.deadline_ns = steady_now_ns() + std::chrono::nanoseconds(std::chrono::milliseconds(200)).count();

  // Only a guard, so that a loop that ignores its deadline fails the test
  // instead of hanging it: the kick the VMM's event loop would send, late.
  install_kick_handler();
  std::mutex mutex;
  std::condition_variable done_cv;
  bool done = false;
  pthread_t runner = pthread_self();
  std::thread guard([&] {
    std::unique_lock lock(mutex);
    if (done_cv.wait_for(lock, std::chrono::seconds(30), [&] { return done; })) return;
    stop.store(true, std::memory_order_release);
    vcpu->run_state()->immediate_exit = 1;
    pthread_kill(runner, kKickSignal);
  });
  VcpuOutcome outcome = run_vcpu(*vcpu, ctx);
  {
    std::lock_guard lock(mutex);
    done = true;
  }
  done_cv.notify_one();
  guard.join();
  munmap(page, kResetPageSize);

  EXPECT_EQ(outcome.stop, VcpuStop::kDeadline) << outcome.detail;
  EXPECT_GT(exits.io.load(), 1u) << "the guest's out loop never ran";
  EXPECT_GT(pio.stats().unknown_writes, 1u);
  EXPECT_EQ(pio.stats().first_unknown_address, 0x99u);
}

}  // namespace
}  // namespace vmm
