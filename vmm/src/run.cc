#include "vmm/run.h"
#include "vmm/text.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <utility>  // boost/asio/awaitable.hpp needs std::exchange under C++23
#include <boost/asio.hpp>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "vmm/arch.h"
#include "vmm/boot_report.h"
#include "vmm/console.h"
#include "vmm/console_watch.h"
#include "vmm/exit_codes.h"
#include "vmm/exit_policy.h"
#include "vmm/kvm.h"
#include "vmm/machine.h"
#include "vmm/sandbox.h"
#include "vmm/vcpu_loop.h"

namespace vmm {

namespace asio = boost::asio;

namespace {

void print_error(std::string_view message) { write_stderr(fmt::format("vmm: {}\n", message)); }

// Bytes of guest memory the host has resident (mincore), to separate the
// VMM's own footprint from guest pages in the RSS.
uint64_t resident_bytes(const loader::GuestMemory& mem) {
  const long page = sysconf(_SC_PAGESIZE);
  uint64_t total = 0;
  std::vector<unsigned char> vec;
  for (const auto& r : mem.regions()) {
    size_t pages = static_cast<size_t>((r.size() + page - 1) / page);
    vec.assign(pages, 0);
    if (mincore(r.host(), r.size(), vec.data()) != 0) continue;
    for (unsigned char v : vec) total += (v & 1) ? static_cast<uint64_t>(page) : 0;
  }
  return total;
}

// From /proc/self/statm, opened before the seccomp filter (which allows no open on the main thread).
uint64_t current_rss_bytes(int statm) {
  char text[128];
  ssize_t n = statm < 0 ? -1 : ::pread(statm, text, sizeof text - 1, 0);
  if (n <= 0) return 0;
  text[n] = '\0';
  unsigned long size = 0, resident = 0;
  return std::sscanf(text, "%lu %lu", &size, &resident) == 2 ? resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE))
                                                                : 0;
}

// Console output crosses from the vCPU threads (UART THR writes) to the main
// thread in batches: one post per burst, not per byte. Bounded: a guest
// printing faster than the main thread takes it loses the excess (counted).
class OutputBatch {
 public:
  static constexpr size_t kCapacity = 256 * 1024;
  void push(std::byte b, asio::io_context& io, const std::function<void()>& flush) {
    std::lock_guard lock(mutex_);
    if (buffer_.size() >= kCapacity) {
      ++dropped_;
      return;
    }
    buffer_.push_back(static_cast<char>(b));
    if (!posted_) {
      posted_ = true;
      asio::post(io, flush);
    }
  }
  std::string take() {
    std::lock_guard lock(mutex_);
    posted_ = false;
    return std::exchange(buffer_, {});
  }
  uint64_t dropped() const {
    std::lock_guard lock(mutex_);
    return dropped_;
  }

 private:
  mutable std::mutex mutex_;
  std::string buffer_;
  bool posted_ = false;
  uint64_t dropped_ = 0;
};

// Where guest output goes: stdout, a file opened before anything expensive
// (a bad path is a usage error before KVM is touched), or nowhere.
struct ConsoleSinkFd {
  Fd file;
  int fd = -1;
};

std::expected<ConsoleSinkFd, std::string> open_console_sink(const Options& options) {
  ConsoleSinkFd sink;
  switch (options.console.kind) {
    case ConsoleKind::kStdio: sink.fd = STDOUT_FILENO; break;
    case ConsoleKind::kNone: break;
    case ConsoleKind::kFile:
      sink.file = Fd(::open(options.console.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
      if (!sink.file.valid())
        return std::unexpected(fmt::format("--console file:{}: {}", options.console.path, std::strerror(errno)));
      sink.fd = sink.file.get();
      break;
  }
  return sink;
}

ExitEvent event_for(VcpuStop stop) {
  switch (stop) {
    case VcpuStop::kPowerOff: return ExitEvent::kGuestPowerOff;
    case VcpuStop::kReset: return ExitEvent::kGuestReset;
    case VcpuStop::kCrash: return ExitEvent::kGuestCrash;
    case VcpuStop::kHalted: return ExitEvent::kAllHalted;
    case VcpuStop::kDeadline: return ExitEvent::kTimeout;
    case VcpuStop::kError:
    case VcpuStop::kKicked: break;
  }
  return ExitEvent::kVcpuError;
}

}  // namespace

int run_vm(const Options& options, const RunHooks* hooks) {
  BootReport report;
  report.start = process_start_time();
  report.cpus = options.cpus;
  report.guest_memory_bytes = options.memory;

  // The console sink and the watcher first: what the user got wrong is said before KVM is touched.
  auto sink = open_console_sink(options);
  if (!sink) {
    print_error(sink.error());
    return kExitUsage;
  }
  if (hooks && hooks->console_to_stderr) sink->fd = STDERR_FILENO;
  // The filters are compiled now and installed by each thread as it enters
  // its run loop, after everything it needs is open (vmm/sandbox.h).
  if (auto r = seccomp::prepare(options.seccomp, hooks ? hooks->seccomp_exit_code : kExitSeccomp); !r) {
    print_error(r.error().message);
    return kExitInternal;
  }
  Fd statm(options.boot_report ? ::open("/proc/self/statm", O_RDONLY | O_CLOEXEC) : -1);
  // The CLI has compiled the pattern once already; a failure here is a bug.
  ConsoleWatch watch(options.expect);
  ExitPolicy policy(options.expect.has_value());

  asio::io_context io;
  std::atomic<bool> stop{false};
  OutputBatch batch;
  std::function<void()> flush;
  std::function<void(ExitEvent, std::string)> end;
  // Device requests arrive on vCPU threads; the decision is made on the main thread.
  PlatformSinks sinks{
      [&](devices::MachineRequest request, std::string_view how) {
        asio::post(io, [&, request, how = std::string(how)] {
          end(request == devices::MachineRequest::kPowerOff ? ExitEvent::kGuestPowerOff : ExitEvent::kGuestReset, how);
        });
      },
      [&](std::byte b) { batch.push(b, io, flush); },
      [](std::string_view line) { print_error(line); }};
  if (hooks) sinks.extra_consoles = hooks->extra_consoles;

  // Before this: option parsing, the console, the seccomp filters.
  report.setup_phases.push_back({"start", std::chrono::steady_clock::now()});
  auto machine = Machine::build(options, std::move(sinks));
  if (!machine) {
    print_error(machine.error().message);
    return machine.error().exit_code;
  }
  Machine& m = **machine;
  report.boot_path = m.boot_path();
  report.setup_phases.insert(report.setup_phases.end(), m.phases().begin(), m.phases().end());
  report.notes += m.notes();
  report.kernel_source = m.kernel_source();
  std::vector<Vcpu>& vcpus = m.vcpus();

  ConsoleOutput output(sink->fd);
  const bool raw = hooks ? hooks->raw_stdin : options.console.kind == ConsoleKind::kStdio;
  RawTerminal terminal(raw ? STDIN_FILENO : -1);
  std::vector<std::thread> threads;
  asio::signal_set signals(io, SIGINT, SIGTERM);
  asio::steady_timer timeout(io);
  asio::steady_timer panic_grace(io);
  std::unique_ptr<ConsoleInput> input;

  end = [&](ExitEvent event, std::string why) {
    if (!policy.on(event, std::move(why))) return;
    stop.store(true, std::memory_order_release);
    for (size_t i = 0; i < vcpus.size(); ++i) {
      vcpus[i].run_state()->immediate_exit = 1;
      if (i < threads.size()) pthread_kill(threads[i].native_handle(), kKickSignal);
    }
    signals.cancel();
    timeout.cancel();
    panic_grace.cancel();
    io.stop();
  };

  flush = [&] {
    std::string data = batch.take();
    if (data.empty()) return;
    auto bytes = std::as_bytes(std::span(data.data(), data.size()));
    output.write(bytes);
    if (hooks && hooks->console_tap) hooks->console_tap(data);
    bool had_panic = watch.panic().has_value();
    watch.feed(bytes);
    if (watch.expect_matched()) policy.set_expect_matched();
    if (watch.panic()) policy.set_panic_seen();
    if (policy.decided()) return;
    if (watch.expect_matched()) {
      end(ExitEvent::kExpectMatched, fmt::format("--expect '{}' matched", *options.expect));
      return;
    }
    if (!had_panic && watch.panic()) {
      // Let the rest of the panic message arrive before ending the VM.
      panic_grace.expires_after(std::chrono::seconds(1));
      panic_grace.async_wait([&](const boost::system::error_code& ec) {
        if (!ec) end(ExitEvent::kPanic, "guest kernel panic");
      });
    }
  };

  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (!ec) end(ExitEvent::kSignal, fmt::format("stopped by signal {}", strsignal(signo)));
  });
  const std::string timeout_reason = options.timeout ? fmt::format("timeout after {} s", options.timeout->count()) : "";
  int64_t deadline_ns = 0;
  if (options.timeout) {
    deadline_ns = steady_now_ns() + std::chrono::duration_cast<std::chrono::nanoseconds>(*options.timeout).count();
    timeout.expires_after(*options.timeout);
    timeout.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) end(ExitEvent::kTimeout, timeout_reason);
    });
  }

  auto console_uart = m.platform().console();
  auto virtio_console = m.platform().virtio_console();
  auto quit = [&] { asio::post(io, [&] { end(ExitEvent::kQuitKey, "quit with Ctrl-A x"); }); };
  const auto& extra = m.platform().extra_consoles();
  if (hooks && hooks->input_console >= 0 && static_cast<size_t>(hooks->input_console) < extra.size()) {
    auto target = extra[static_cast<size_t>(hooks->input_console)];
    input = std::make_unique<ConsoleInput>(
        STDIN_FILENO,
        [target, ready = hooks->input_ready] { return !ready || ready() ? target->input_room() : size_t{0}; },
        [target](std::span<const std::byte> bytes) { target->enqueue_input(bytes); }, quit, hooks->input_escape,
        hooks->input_eof_char);
  } else if (options.console.kind == ConsoleKind::kStdio && virtio_console &&
             console_is_hvc(m.platform().cmdline(options))) {
    input = std::make_unique<ConsoleInput>(
        STDIN_FILENO, [virtio_console] { return virtio_console->input_room(); },
        [virtio_console](std::span<const std::byte> bytes) { virtio_console->enqueue_input(bytes); }, quit);
  } else if (options.console.kind == ConsoleKind::kStdio && console_uart) {
    input = std::make_unique<ConsoleInput>(
        STDIN_FILENO, [console_uart] { return console_uart->rx_room(); },
        [console_uart](std::span<const std::byte> bytes) { console_uart->enqueue_input(bytes); }, quit);
  }
  if (VirtioIo* virtio_io = m.virtio_io()) virtio_io->start();

  // Go.
  ExitCounters exits;
  std::atomic<int64_t> first_run_ns{0};
  size_t halted = 0;
  install_kick_handler();
  VcpuContext ctx{m.platform().pio(), m.platform().mmio(), exits, stop, first_run_ns};
  ctx.memory = &m.memory();
  ctx.deadline_ns = deadline_ns;
  ctx.coalesced = m.coalesced();
  for (auto& vcpu : vcpus) {
    threads.emplace_back([&, vcpu_ptr = &vcpu] {
      sigset_t block;
      sigemptyset(&block);
      sigaddset(&block, SIGINT);
      sigaddset(&block, SIGTERM);
      pthread_sigmask(SIG_BLOCK, &block, nullptr);
      seccomp::enter(seccomp::Role::kVcpu);
      VcpuOutcome outcome = run_vcpu(*vcpu_ptr, ctx);
      asio::post(io, [&, outcome] {
        if (outcome.stop == VcpuStop::kKicked) return;
        if (outcome.stop == VcpuStop::kHalted && ++halted < vcpus.size()) return;
        std::string why = outcome.stop == VcpuStop::kHalted     ? "all vCPUs halted"
                          : outcome.stop == VcpuStop::kDeadline ? timeout_reason
                                                                : outcome.detail;
        end(event_for(outcome.stop), std::move(why));
      });
    });
  }

  // Every thread runs: from here on the main thread is the event loop, the
  // shutdown and the report, under its own filter.
  seccomp::enter(seccomp::Role::kMain);
  io.run();
  // end() kicked every vCPU; wait for them before anything they use goes away.
  for (auto& t : threads) t.join();
  if (VirtioIo* virtio_io = m.virtio_io()) virtio_io->stop();
  if (input) input->stop();
  flush();  // output written after the last flush was scheduled
  output.close(std::chrono::seconds(2));
  terminal.restore();

  const ExitDecision decision = policy.decision().value_or(ExitDecision{kExitInternal, "the event loop ended early"});
  const int exit_code = decision.code;
  if (exit_code == kExitTimeout || exit_code == kExitKvm || exit_code == kExitExpectUnmet ||
      exit_code == kExitGuestCrash) {
    std::string tail = watch.tail();
    if (!tail.empty())
      write_stderr(fmt::format("vmm: last console output:\n{}\n", tail.substr(tail.size() > 1500 ? tail.size() - 1500 : 0)));
  }
  if (exit_code != kExitOk) print_error(decision.reason);
  if (exit_code == kExitTimeout) {
    // Where the guest was stuck: the first thing to look at after a timeout.
    for (auto& vcpu : vcpus) {
      std::string where = arch::describe_vcpu(vcpu);
      if (!where.empty()) write_stderr(fmt::format("vmm: vCPU {}{}\n", vcpu.id(), where));
    }
  }
  if (auto note = watch.take_note()) print_error(*note);
  uint64_t dropped = batch.dropped() + output.dropped();
  if (dropped != 0) {
    print_error(fmt::format("{} bytes of guest console output were dropped{}", dropped,
                            output.reader_gone() ? " (the reader of our output went away)"
                                                 : " (the reader could not keep up)"));
  }

  if (options.boot_report) {
    report.end = std::chrono::steady_clock::now();
    // --expect can match before the guest's newline: start the report on a line of its own.
    std::string tail = watch.tail();
    if (sink->fd == STDOUT_FILENO && !tail.empty() && tail.back() != '\n') write_stderr("\n");
    int64_t ns = first_run_ns.load();
    if (ns != 0) report.first_kvm_run = SteadyTime(std::chrono::nanoseconds(ns));
    report.first_console_byte = watch.first_byte();
    report.banner = watch.banner();
    report.init = watch.init();
    report.console_bytes = watch.bytes();
    report.take_exits(exits);
    if (VirtioIo* virtio_io = m.virtio_io()) {
      report.virtio_mode = virtio_io->mode();
      for (const auto& v : virtio_io->stats()) report.virtio.push_back({v.device, v.notifications, v.wakeups, v.slow_path, v.detail});
    }
    report.pio = m.platform().pio().stats();
    report.mmio = m.platform().mmio().stats();
    report.pio_ranges = m.platform().pio().range_counts();
    if (CoalescedRing* ring = m.coalesced()) {
      report.queued_writes = ring->delivered();
      report.queued_malformed = ring->malformed();
      report.queued_writes_on = true;
    }
    report.mmio_ranges = m.platform().mmio().range_counts();
    if (auto post_code = m.platform().find<devices::PostCode>()) {
      report.post_code_writes = post_code->total_writes();
      auto entries = post_code->entries();
      if (!entries.empty()) report.last_post_code = entries.back().code;
    }
    report.peak_rss_bytes = peak_rss_bytes();
    report.current_rss_bytes = current_rss_bytes(statm.get());
    report.guest_resident_bytes = resident_bytes(m.memory());
    report.outcome = decision.reason;
    write_stderr(report.format());
  }
  return exit_code;
}

}  // namespace vmm
