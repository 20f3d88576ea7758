#include "vmm/io_thread.h"

#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace vmm {
namespace {

// Waits (without sleeping on a clock) until `done` holds, under `m`.
template <class Pred>
void wait_for(std::mutex& m, std::condition_variable& cv, Pred done) {
  std::unique_lock lock(m);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), done));
}

TEST(IoThread, EventfdWakesTheHandlerWithTheCoalescedCount) {
  int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  ASSERT_GE(fd, 0);
  std::mutex m;
  std::condition_variable cv;
  uint64_t total = 0;
  std::vector<std::thread::id> threads;
  IoThread io("test-io", seccomp::Role::kVirtioDevice);
  ASSERT_TRUE(io.watch_eventfd(fd, [&](uint64_t count) {
    std::lock_guard lock(m);
    total += count;
    threads.push_back(std::this_thread::get_id());
    cv.notify_all();
  }));
  // Three signals before the thread runs arrive as one wake-up of count 3.
  uint64_t one = 1;
  for (int i = 0; i < 3; ++i) ASSERT_EQ(::write(fd, &one, sizeof one), 8);
  io.start();
  wait_for(m, cv, [&] { return total == 3; });
  ASSERT_EQ(::write(fd, &one, sizeof one), 8);
  wait_for(m, cv, [&] { return total == 4; });
  io.stop();
  std::lock_guard lock(m);
  EXPECT_GE(threads.size(), 2u);
  for (auto id : threads) EXPECT_NE(id, std::this_thread::get_id());
  ::close(fd);
}

TEST(IoThread, PostedWorkRunsInOrderOnTheThread) {
  std::mutex m;
  std::condition_variable cv;
  std::vector<int> order;
  IoThread io("test-post", seccomp::Role::kVirtioDevice);
  io.start();
  for (int i = 0; i < 100; ++i) {
    io.post([&, i] {
      std::lock_guard lock(m);
      order.push_back(i);
      cv.notify_all();
    });
  }
  wait_for(m, cv, [&] { return order.size() == 100; });
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[i], i);
}

TEST(IoThread, StopIsIdempotentAndWorkAfterStopDoesNotRun) {
  IoThread io("test-stop", seccomp::Role::kVirtioDevice);
  io.start();
  io.stop();
  bool ran = false;
  io.post([&] { ran = true; });
  io.stop();
  EXPECT_FALSE(ran);
}

TEST(IoThread, StopWithoutStartAndAClosedCallerFd) {
  int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  ASSERT_GE(fd, 0);
  IoThread io("test-dup", seccomp::Role::kVirtioDevice);
  ASSERT_TRUE(io.watch_eventfd(fd, [](uint64_t) {}));
  // The thread keeps its own duplicate: closing ours is fine.
  ::close(fd);
  io.stop();
}

TEST(IoThread, WatchingSomethingThatIsNotAnFdFails) {
  IoThread io("test-bad", seccomp::Role::kVirtioDevice);
  auto r = io.watch_eventfd(-1, [](uint64_t) {});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("dup"), std::string::npos);
}

}  // namespace
}  // namespace vmm
