// One thread that runs device work off the vCPU threads: it waits on
// eventfds (the ioeventfds KVM signals when the guest rings a doorbell) and
// runs a handler for each wake-up, and runs work posted from other threads.
// Built on Boost.Asio's io_context; the Asio types stay in io_thread.cc.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "vmm/error.h"
#include "vmm/seccomp_policy.h"

namespace vmm {

class IoThread {
 public:
  // `name` shows in top/gdb (truncated to 15 bytes by the kernel); `role`
  // picks the seccomp filter the thread installs as it starts (vmm/sandbox.h).
  IoThread(std::string name, seccomp::Role role);
  ~IoThread();  // stop()
  IoThread(const IoThread&) = delete;
  IoThread& operator=(const IoThread&) = delete;

  // Each time `eventfd` becomes readable, drains its counter and calls
  // `handler` with the counter's value (how many signals the wake-up
  // coalesced). The IoThread keeps its own duplicate of the fd. Call before
  // start().
  Result<void> watch_eventfd(int eventfd, std::function<void(uint64_t count)> handler);
  // Runs `work` on the thread, after what is already queued. Any thread.
  void post(std::function<void()> work);

  void start();
  // Waits for the handler that is running, drops the rest, joins. Idempotent.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vmm
