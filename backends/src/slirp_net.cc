#include "backends/slirp_net.h"

#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <mutex>
#include <thread>

#include <slirp/libslirp.h>

namespace backends {

namespace {

int64_t now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

in_addr addr(const char* dotted) {
  in_addr a{};
  ::inet_pton(AF_INET, dotted, &a);
  return a;
}

int to_poll_events(int slirp) {
  int e = 0;
  if (slirp & SLIRP_POLL_IN) e |= POLLIN;
  if (slirp & SLIRP_POLL_OUT) e |= POLLOUT;
  if (slirp & SLIRP_POLL_PRI) e |= POLLPRI;
  if (slirp & SLIRP_POLL_ERR) e |= POLLERR;
  if (slirp & SLIRP_POLL_HUP) e |= POLLHUP;
  return e;
}

int to_slirp_events(short revents) {
  int e = 0;
  if (revents & POLLIN) e |= SLIRP_POLL_IN;
  if (revents & POLLOUT) e |= SLIRP_POLL_OUT;
  if (revents & POLLPRI) e |= SLIRP_POLL_PRI;
  if (revents & POLLERR) e |= SLIRP_POLL_ERR;
  if (revents & POLLHUP) e |= SLIRP_POLL_HUP;
  return e;
}

}  // namespace

struct SlirpNet::Impl {
  struct Timer {
    SlirpTimerCb cb = nullptr;      // timer_new
    SlirpTimerId id = SLIRP_TIMER_RA;  // timer_new_opaque
    void* cb_opaque = nullptr;
    int64_t expire_ms = -1;         // -1: not armed
  };
  struct Slot {
    std::array<std::byte, kMaxFrame> bytes;
    size_t len = 0;
  };

  Slirp* slirp = nullptr;
  SlirpCb callbacks{};
  int wake = -1;  // eventfd: a frame was queued, or stop
  std::thread thread;
  std::atomic<bool> stopping{false};
  devices::virtio::NetReceiver* receiver = nullptr;
  std::vector<std::unique_ptr<Timer>> timers;  // touched only on the slirp thread (and before it starts)
  std::vector<pollfd> pollfds;

  std::mutex tx_mutex;
  std::vector<Slot> tx;  // kTxSlots, allocated once
  size_t tx_head = 0, tx_count = 0;
  Slot tx_work;  // the slirp thread's copy of the frame it feeds in

  ~Impl() {
    if (thread.joinable()) {
      stopping = true;
      kick();
      thread.join();
    }
    if (slirp != nullptr) slirp_cleanup(slirp);
    if (wake >= 0) ::close(wake);
  }

  void kick() {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake, &one, sizeof one);
  }

  static Impl& self(void* opaque) { return *static_cast<Impl*>(opaque); }

  static ssize_t send_packet(const void* buf, size_t len, void* opaque) {
    Impl& s = self(opaque);
    if (s.receiver != nullptr) s.receiver->receive(std::span(static_cast<const std::byte*>(buf), len));
    return static_cast<ssize_t>(len);
  }
  static void guest_error(const char*, void*) {}  // the device counts what it drops; slirp's view is not ours to print
  static int64_t clock_get_ns(void*) { return now_ns(); }
  static void* timer_new(SlirpTimerCb cb, void* cb_opaque, void* opaque) {
    auto t = std::make_unique<Timer>();
    t->cb = cb;
    t->cb_opaque = cb_opaque;
    return self(opaque).timers.emplace_back(std::move(t)).get();
  }
  static void* timer_new_opaque(SlirpTimerId id, void* cb_opaque, void* opaque) {
    auto t = std::make_unique<Timer>();
    t->id = id;
    t->cb_opaque = cb_opaque;
    return self(opaque).timers.emplace_back(std::move(t)).get();
  }
  static void timer_free(void* timer, void* opaque) {
    auto& timers = self(opaque).timers;
    std::erase_if(timers, [&](const auto& t) { return t.get() == timer; });
  }
  static void timer_mod(void* timer, int64_t expire_ms, void*) { static_cast<Timer*>(timer)->expire_ms = expire_ms; }
  static void register_poll_fd(int, void*) {}  // slirp_pollfds_fill lists every socket each round
  static void unregister_poll_fd(int, void*) {}
  static void notify(void* opaque) { self(opaque).kick(); }

  static int add_poll(int fd, int events, void* opaque) {
    auto& fds = self(opaque).pollfds;
    fds.push_back(pollfd{fd, static_cast<short>(to_poll_events(events)), 0});
    return static_cast<int>(fds.size() - 1);
  }
  static int get_revents(int idx, void* opaque) {
    auto& fds = self(opaque).pollfds;
    if (idx < 0 || static_cast<size_t>(idx) >= fds.size()) return 0;
    return to_slirp_events(fds[static_cast<size_t>(idx)].revents);
  }

  // Feeds every queued guest frame to slirp (on the slirp thread).
  void drain_tx() {
    for (;;) {
      {
        std::lock_guard lock(tx_mutex);
        if (tx_count == 0) return;
        Slot& slot = tx[tx_head];
        std::memcpy(tx_work.bytes.data(), slot.bytes.data(), slot.len);
        tx_work.len = slot.len;
        tx_head = (tx_head + 1) % kTxSlots;
        --tx_count;
      }
      // Outside the lock: slirp may answer at once (ARP, DHCP) through
      // send_packet into the device, while the device may be queueing more.
      slirp_input(slirp, reinterpret_cast<const uint8_t*>(tx_work.bytes.data()), static_cast<int>(tx_work.len));
    }
  }

  void run_timers() {
    const int64_t now_ms = now_ns() / 1'000'000;
    // A callback may free or re-arm timers: collect first, then fire.
    std::array<Timer*, 16> due{};
    size_t n = 0;
    for (auto& t : timers) {
      if (t->expire_ms >= 0 && t->expire_ms <= now_ms && n < due.size()) due[n++] = t.get();
    }
    for (size_t i = 0; i < n; ++i) {
      Timer* t = due[i];
      if (std::ranges::none_of(timers, [&](const auto& u) { return u.get() == t; })) continue;
      t->expire_ms = -1;
      if (t->cb != nullptr) {
        t->cb(t->cb_opaque);
      } else {
        slirp_handle_timer(slirp, t->id, t->cb_opaque);
      }
    }
  }

  uint32_t timer_timeout_ms(uint32_t cap) const {
    const int64_t now_ms = now_ns() / 1'000'000;
    int64_t best = cap;
    for (const auto& t : timers) {
      if (t->expire_ms >= 0) best = std::min(best, std::max<int64_t>(0, t->expire_ms - now_ms));
    }
    return static_cast<uint32_t>(best);
  }

  void loop() {
    pollfds.reserve(64);
    while (!stopping) {
      drain_tx();
      pollfds.clear();
      pollfds.push_back(pollfd{wake, POLLIN, 0});
      uint32_t timeout = timer_timeout_ms(1000);
      slirp_pollfds_fill(slirp, &timeout, &Impl::add_poll, this);
      const int r = ::poll(pollfds.data(), pollfds.size(), static_cast<int>(timeout));
      if (r > 0 && (pollfds[0].revents & POLLIN)) {
        uint64_t count = 0;
        [[maybe_unused]] ssize_t n = ::read(wake, &count, sizeof count);
      }
      if (stopping) break;
      slirp_pollfds_poll(slirp, r < 0 ? 1 : 0, &Impl::get_revents, this);
      run_timers();
    }
    // The thread that ran the stack takes it down, under its own sandbox:
    // closing the guest's connections is socket work the main thread's
    // filter does not allow (in the nested proof, tearing down after
    // traffic on the main thread made a call its filter forbids).
    slirp_cleanup(slirp);
    slirp = nullptr;
  }
};

SlirpNet::SlirpNet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SlirpNet::~SlirpNet() = default;

devices::Result<std::unique_ptr<SlirpNet>> SlirpNet::open(const SlirpNetOptions& options) {
  using devices::ErrorCode;
  auto impl = std::make_unique<Impl>();
  impl->wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (impl->wake < 0) return devices::fail(ErrorCode::kIo, "--net user: eventfd: {}", std::strerror(errno));
  impl->tx.resize(kTxSlots);

  SlirpConfig cfg{};
  cfg.version = 4;
  cfg.restricted = 0;
  cfg.in_enabled = true;
  cfg.vnetwork = addr("10.0.2.0");
  cfg.vnetmask = addr("255.255.255.0");
  cfg.vhost = addr("10.0.2.2");
  cfg.in6_enabled = false;
  cfg.vhostname = "minivmm";
  cfg.vdhcp_start = addr("10.0.2.15");
  cfg.vnameserver = addr("10.0.2.3");
  cfg.if_mtu = 1500;
  cfg.if_mru = 1500;
  cfg.disable_host_loopback = false;  // 10.0.2.2 reaches the host's 127.0.0.1, as with QEMU
  cfg.enable_emu = false;

  SlirpCb& cb = impl->callbacks;
  cb.send_packet = &Impl::send_packet;
  cb.guest_error = &Impl::guest_error;
  cb.clock_get_ns = &Impl::clock_get_ns;
  cb.timer_new = &Impl::timer_new;
  cb.timer_free = &Impl::timer_free;
  cb.timer_mod = &Impl::timer_mod;
  cb.register_poll_fd = &Impl::register_poll_fd;
  cb.unregister_poll_fd = &Impl::unregister_poll_fd;
  cb.notify = &Impl::notify;
  cb.timer_new_opaque = &Impl::timer_new_opaque;
  impl->slirp = slirp_new(&cfg, &impl->callbacks, impl.get());
  if (impl->slirp == nullptr) return devices::fail(ErrorCode::kIo, "--net user: libslirp refused the configuration");

  for (const SlirpForward& f : options.forwards) {
    in_addr host{};
    host.s_addr = INADDR_ANY;
    if (!f.host_addr.empty() && ::inet_pton(AF_INET, f.host_addr.c_str(), &host) != 1)
      return devices::fail(ErrorCode::kInvalidArgument, "--net user: hostfwd={}: {} is not an IPv4 address", f.text,
                           f.host_addr);
    in_addr guest = addr("10.0.2.15");
    if (!f.guest_addr.empty() && ::inet_pton(AF_INET, f.guest_addr.c_str(), &guest) != 1)
      return devices::fail(ErrorCode::kInvalidArgument, "--net user: hostfwd={}: {} is not an IPv4 address", f.text,
                           f.guest_addr);
    errno = 0;
    if (slirp_add_hostfwd(impl->slirp, f.udp ? 1 : 0, host, f.host_port, guest, f.guest_port) < 0) {
      const int e = errno;
      return devices::fail(ErrorCode::kBusy, "--net user: hostfwd={}: cannot listen on {} port {}:{}: {}", f.text,
                           f.udp ? "udp" : "tcp", f.host_addr.empty() ? "0.0.0.0" : f.host_addr, f.host_port,
                           e != 0 ? std::strerror(e) : "refused by libslirp (already in use?)");
    }
  }
  return std::unique_ptr<SlirpNet>(new SlirpNet(std::move(impl)));
}

void SlirpNet::start(devices::virtio::NetReceiver& receiver) {
  if (impl_->thread.joinable()) return;
  impl_->receiver = &receiver;
  impl_->thread = std::thread([this, impl = impl_.get()] {
    ::pthread_setname_np(::pthread_self(), "net-user");
    enter_thread();
    impl->loop();
  });
}

bool SlirpNet::send(std::span<const std::span<const std::byte>> parts) {
  size_t len = 0;
  for (const auto& p : parts) len += p.size();
  if (len > kMaxFrame) return false;
  bool was_empty = false;
  {
    std::lock_guard lock(impl_->tx_mutex);
    if (impl_->tx_count == kTxSlots) return false;
    Impl::Slot& slot = impl_->tx[(impl_->tx_head + impl_->tx_count) % kTxSlots];
    size_t at = 0;
    for (const auto& p : parts) {
      std::memcpy(slot.bytes.data() + at, p.data(), p.size());
      at += p.size();
    }
    slot.len = len;
    was_empty = impl_->tx_count == 0;
    ++impl_->tx_count;
  }
  // The thread drains until the queue is empty, so only the first frame of
  // a burst needs to wake it.
  if (was_empty) impl_->kick();
  return true;
}

}  // namespace backends
