#include "vmm/io_thread.h"
#include "vmm/sandbox.h"

#include <pthread.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cerrno>
#include <thread>
#include <vector>

namespace vmm {

namespace asio = boost::asio;

struct IoThread::Impl {
  struct Watch {
    asio::posix::stream_descriptor descriptor;
    std::function<void(uint64_t)> handler;
  };

  std::string name;
  seccomp::Role role = seccomp::Role::kVirtioDevice;
  asio::io_context context{1};  // one thread: Asio may skip its locking
  asio::executor_work_guard<asio::io_context::executor_type> guard = asio::make_work_guard(context);
  std::vector<std::unique_ptr<Watch>> watches;
  std::thread thread;
  bool stopped = false;

  void arm(Watch& watch) {
    watch.descriptor.async_wait(asio::posix::stream_descriptor::wait_read, [this, &watch](const auto& error) {
      if (error) return;  // cancelled by stop()
      uint64_t count = 0;
      // The descriptor is an eventfd: 8 bytes, never short. EAGAIN only if
      // someone else drained it between the wake-up and here.
      ssize_t n = ::read(watch.descriptor.native_handle(), &count, sizeof count);
      if (n == static_cast<ssize_t>(sizeof count) && count != 0) watch.handler(count);
      arm(watch);
    });
  }
};

IoThread::IoThread(std::string name, seccomp::Role role) : impl_(std::make_unique<Impl>()) {
  impl_->name = std::move(name);
  impl_->role = role;
}

IoThread::~IoThread() { stop(); }

Result<void> IoThread::watch_eventfd(int eventfd, std::function<void(uint64_t)> handler) {
  int fd = ::dup(eventfd);
  if (fd < 0) return fail_errno(errno, fmt::format("{}: dup of an eventfd", impl_->name));
  auto watch = std::make_unique<Impl::Watch>(Impl::Watch{asio::posix::stream_descriptor(impl_->context, fd),
                                                          std::move(handler)});
  impl_->arm(*watch);
  impl_->watches.push_back(std::move(watch));
  return {};
}

void IoThread::post(std::function<void()> work) { asio::post(impl_->context, std::move(work)); }

void IoThread::start() {
  if (impl_->thread.joinable() || impl_->stopped) return;
  impl_->thread = std::thread([impl = impl_.get()] {
    pthread_setname_np(pthread_self(), impl->name.substr(0, 15).c_str());
    seccomp::enter(impl->role);
    impl->context.run();
  });
}

void IoThread::stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  impl_->guard.reset();
  impl_->context.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->watches.clear();
}

}  // namespace vmm
