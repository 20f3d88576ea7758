#include "vmm/run.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <utility>  // boost/asio/awaitable.hpp needs std::exchange under C++23
#include <boost/asio.hpp>
#include <array>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "devices/bus.h"
#include "devices/serial_16550a.h"
#include "vmm/arch.h"
#include "vmm/boot_report.h"
#include "vmm/console_watch.h"
#include "vmm/exit_codes.h"
#include "vmm/kvm.h"
#include "vmm/vcpu_loop.h"

namespace vmm {

namespace asio = boost::asio;

namespace {

void print_error(std::string_view message) { fmt::print(stderr, "vmm: {}\n", message); }

// Puts the terminal in raw mode (so Ctrl-C, arrows and so on reach the guest)
// and restores it when destroyed — every return path of run_vm passes here.
class RawTerminal {
 public:
  explicit RawTerminal(int fd) : fd_(fd) {
    if (!isatty(fd_) || tcgetattr(fd_, &saved_) != 0) return;
    termios raw = saved_;
    cfmakeraw(&raw);
    raw.c_oflag |= OPOST | ONLCR;  // our own messages still get their carriage returns
    if (tcsetattr(fd_, TCSANOW, &raw) == 0) active_ = true;
  }
  ~RawTerminal() { restore(); }
  void restore() {
    if (active_) tcsetattr(fd_, TCSANOW, &saved_);
    active_ = false;
  }
  bool active() const { return active_; }

 private:
  int fd_;
  termios saved_{};
  bool active_ = false;
};

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

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

uint64_t current_rss_bytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long size = 0, resident = 0;
  int n = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  return n == 2 ? resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE)) : 0;
}

// Console output crosses from the vCPU threads (UART THR writes) to the main
// thread in batches: one post per burst, not per byte.
class OutputQueue {
 public:
  explicit OutputQueue(asio::io_context& io) : io_(io) {}
  void push(std::byte b, std::function<void()>& flush) {
    std::lock_guard lock(mutex_);
    buffer_.push_back(static_cast<char>(b));
    if (!posted_) {
      posted_ = true;
      asio::post(io_, flush);
    }
  }
  std::string take() {
    std::lock_guard lock(mutex_);
    posted_ = false;
    return std::exchange(buffer_, {});
  }

 private:
  asio::io_context& io_;
  std::mutex mutex_;
  std::string buffer_;
  bool posted_ = false;
};

}  // namespace

int run_vm(const RunConfig& config) {
  BootReport report;
  report.start = process_start_time();
  report.cpus = config.cpus;
  report.guest_memory_bytes = config.memory;

  if (config.cpus == 0 || config.cpus > 254) {
    print_error(fmt::format("--cpus {}: must be 1..254", config.cpus));
    return kExitUsage;
  }
  std::optional<std::regex> expect;
  if (config.expect) {
    try {
      expect.emplace(*config.expect, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      print_error(fmt::format("--expect '{}': not a valid regular expression: {}", *config.expect, e.what()));
      return kExitUsage;
    }
  }

  // Memory and kernel first: a bad kernel is reported the same on hosts with and without KVM.
  auto map = arch::memory_map(config);
  if (!map) {
    print_error(fmt::format("--memory: {}", map.error().message));
    return kExitUsage;
  }
  auto mem = loader::GuestMemory::create(boot::guest_memory_regions(*map));
  if (!mem) {
    print_error(fmt::format("guest memory: {}", mem.error().message));
    return kExitLoad;
  }
  auto state = arch::prepare_boot(*mem, *map, config, report.boot_path);
  if (!state) {
    print_error(state.error().message);
    return kExitLoad;
  }
  arch::State& arch_state = **state;

  auto kvm = Kvm::open(config.kvm_device);
  if (!kvm) {
    print_error(kvm.error().message);
    return kExitKvm;
  }
  auto kvm_check = [](auto&& r) -> bool {
    if (!r) print_error(r.error().message);
    return static_cast<bool>(r);
  };
  if (!kvm_check(arch::check_capabilities(*kvm, arch_state))) return kExitKvm;
  auto vm = kvm->create_vm();
  if (!kvm_check(vm)) return kExitKvm;
  if (!kvm_check(arch::create_vm_devices(*kvm, *vm, arch_state, config))) return kExitKvm;
  uint32_t slot = 0;
  for (const auto& region : mem->regions()) {
    if (!kvm_check(vm->set_user_memory_region(slot++, region.base().value(), region.size(), region.host()))) {
      return kExitKvm;
    }
  }

  asio::io_context io;
  std::atomic<bool> stop{false};
  bool finished = false;
  int exit_code = kExitOk;
  std::string outcome;
  ConsoleWatch watch(expect);
  OutputQueue output(io);

  // Console sink.
  Fd console_fd;
  int sink = -1;
  if (config.console == ConsoleSink::kStdio) {
    sink = STDOUT_FILENO;
  } else if (config.console == ConsoleSink::kFile) {
    console_fd = Fd(::open(config.console_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!console_fd.valid()) {
      print_error(fmt::format("--console file:{}: {}", config.console_path, std::strerror(errno)));
      return kExitUsage;
    }
    sink = console_fd.get();
  }

  // Devices: the console UART here, the rest from the architecture.
  devices::Bus pio(devices::BusKind::kPio);
  devices::Bus mmio(devices::BusKind::kMmio);
  std::function<void()> flush;
  auto serial = std::make_shared<devices::Serial16550a>(
      arch::serial_irq(*vm, arch_state), [&output, &flush](std::byte b) { output.push(b, flush); });
  std::function<void(int, std::string)> finish;
  // How a guest-initiated end (reset, triple fault, halt, PSCI) maps to an exit code.
  auto guest_done_code = [&] {
    if (watch.panic()) return static_cast<int>(kExitGuestPanic);
    if (watch.has_expect() && !watch.expect_matched()) return static_cast<int>(kExitExpectUnmet);
    return static_cast<int>(kExitOk);
  };
  arch::Platform platform{pio, mmio,
                          [&] { asio::post(io, [&] { finish(guest_done_code(), "guest reset through the i8042"); }); },
                          [&] { asio::post(io, [&] { finish(guest_done_code(), "guest powered off through ACPI"); }); },
                          nullptr};
  const arch::SerialWiring wiring = arch::serial_wiring();
  auto serial_added = (wiring.bus == devices::BusKind::kPio ? pio : mmio)
                          .add(wiring.base, devices::Serial16550a::kRegisterCount, serial, "serial0");
  if (!serial_added) {
    print_error(serial_added.error().message);
    return kExitInternal;
  }
  if (!kvm_check(arch::add_platform_devices(*vm, platform, arch_state))) return kExitInternal;

  // vCPUs.
  auto mmap_size = kvm->vcpu_mmap_size();
  if (!kvm_check(mmap_size)) return kExitKvm;
  std::vector<Vcpu> vcpus;
  vcpus.reserve(config.cpus);
  for (uint32_t i = 0; i < config.cpus; ++i) {
    auto vcpu = vm->create_vcpu(i, *mmap_size);
    if (!kvm_check(vcpu)) return kExitKvm;
    vcpus.push_back(std::move(*vcpu));
  }
  for (auto& vcpu : vcpus) {
    if (!kvm_check(arch::setup_vcpu(*kvm, *vm, vcpu, arch_state, config))) return kExitKvm;
  }
  if (!kvm_check(arch::vcpus_created(*vm, vcpus, *mem, arch_state, config))) return kExitKvm;
  report.notes += arch::notes(arch_state);

  RawTerminal terminal(config.console == ConsoleSink::kStdio ? STDIN_FILENO : -1);
  ExitCounters exits;
  std::atomic<int64_t> first_run_ns{0};
  std::vector<std::thread> threads;
  size_t halted = 0;

  asio::signal_set signals(io, SIGINT, SIGTERM);
  asio::steady_timer timeout(io);
  asio::steady_timer panic_grace(io);
  std::unique_ptr<asio::posix::stream_descriptor> input;
  std::array<char, 512> input_buffer{};
  ConsoleEscape escape;

  finish = [&](int code, std::string why) {
    if (finished) return;
    finished = true;
    exit_code = code;
    outcome = std::move(why);
    stop.store(true, std::memory_order_release);
    for (size_t i = 0; i < vcpus.size(); ++i) {
      vcpus[i].run_state()->immediate_exit = 1;
      if (i < threads.size()) pthread_kill(threads[i].native_handle(), kKickSignal);
    }
    signals.cancel();
    timeout.cancel();
    panic_grace.cancel();
    if (input) input->cancel();
    io.stop();
  };

  flush = [&] {
    std::string data = output.take();
    if (data.empty()) return;
    if (sink >= 0) write_all(sink, data);
    bool had_panic = watch.panic().has_value();
    watch.feed(std::as_bytes(std::span(data.data(), data.size())));
    if (finished) return;
    if (watch.expect_matched()) {
      finish(kExitOk, fmt::format("--expect '{}' matched", *config.expect));
      return;
    }
    if (!had_panic && watch.panic()) {
      // Let the rest of the panic message arrive before ending the VM.
      panic_grace.expires_after(std::chrono::seconds(1));
      panic_grace.async_wait([&](const boost::system::error_code& ec) {
        if (!ec) finish(kExitGuestPanic, "guest kernel panic");
      });
    }
  };

  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (!ec) finish(kExitInterrupted, fmt::format("stopped by signal {}", strsignal(signo)));
  });
  if (config.timeout_seconds) {
    timeout.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(*config.timeout_seconds)));
    timeout.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) finish(kExitTimeout, fmt::format("timeout after {} s", *config.timeout_seconds));
    });
  }

  // Console input: a terminal, pipe or socket on stdin (not a regular file or /dev/null, which epoll refuses).
  struct stat st{};
  if (config.console == ConsoleSink::kStdio && fstat(STDIN_FILENO, &st) == 0 &&
      (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || isatty(STDIN_FILENO))) {
    int fd = ::dup(STDIN_FILENO);
    if (fd >= 0) {
      boost::system::error_code ec;
      input = std::make_unique<asio::posix::stream_descriptor>(io);
      input->assign(fd, ec);
      if (ec) {
        ::close(fd);
        input.reset();
      }
    }
  }
  std::function<void()> read_input = [&] {
    input->async_read_some(asio::buffer(input_buffer), [&](const boost::system::error_code& ec, size_t n) {
      if (ec || finished) return;  // EOF or error: the guest just gets no more input
      std::string to_guest;
      if (escape.feed(std::as_bytes(std::span(input_buffer.data(), n)), to_guest)) {
        finish(guest_done_code() == kExitGuestPanic ? kExitGuestPanic : kExitOk, "quit with Ctrl-A x");
        return;
      }
      serial->enqueue_input(std::as_bytes(std::span(to_guest.data(), to_guest.size())));
      read_input();
    });
  };
  if (input) read_input();

  // Go.
  install_kick_handler();
  VcpuContext ctx{pio, mmio, exits, stop, first_run_ns};
  ctx.memory = &*mem;
  for (auto& vcpu : vcpus) {
    threads.emplace_back([&, vcpu_ptr = &vcpu] {
      sigset_t block;
      sigemptyset(&block);
      sigaddset(&block, SIGINT);
      sigaddset(&block, SIGTERM);
      pthread_sigmask(SIG_BLOCK, &block, nullptr);
      VcpuOutcome outcome = run_vcpu(*vcpu_ptr, ctx);
      asio::post(io, [&, outcome] {
        switch (outcome.stop) {
          case VcpuStop::kKicked: break;
          case VcpuStop::kShutdown: finish(guest_done_code(), outcome.detail); break;
          case VcpuStop::kHalted:
            if (++halted == vcpus.size()) finish(guest_done_code(), "all vCPUs halted");
            break;
          case VcpuStop::kError:
            finish(kExitKvm, outcome.detail);
            break;
        }
      });
    });
  }

  io.run();
  // finish() kicked every vCPU; wait for them before anything they use goes away.
  for (auto& t : threads) t.join();
  flush();  // output written after the last flush was scheduled
  terminal.restore();

  if (exit_code != kExitOk || config.boot_report) {
    std::string tail = watch.tail();
    if (exit_code == kExitTimeout || exit_code == kExitKvm || exit_code == kExitExpectUnmet) {
      if (!tail.empty()) fmt::print(stderr, "vmm: last console output:\n{}\n", tail.substr(tail.size() > 1500 ? tail.size() - 1500 : 0));
    }
  }
  if (exit_code != kExitOk) print_error(outcome);
  if (exit_code == kExitTimeout) {
    // Where the guest was stuck: the first thing to look at after a timeout.
    for (auto& vcpu : vcpus) {
      std::string where = arch::describe_vcpu(vcpu);
      if (!where.empty()) fmt::print(stderr, "vmm: vCPU {}{}\n", vcpu.id(), where);
    }
  }

  if (config.boot_report) {
    report.end = std::chrono::steady_clock::now();
    // --expect can match before the guest's newline: start the report on a line of its own.
    if (sink == STDOUT_FILENO) {
      std::string tail = watch.tail();
      if (!tail.empty() && tail.back() != '\n') write_all(sink, "\n");
    }
    int64_t ns = first_run_ns.load();
    if (ns != 0) report.first_kvm_run = SteadyTime(std::chrono::nanoseconds(ns));
    report.first_console_byte = watch.first_byte();
    report.banner = watch.banner();
    report.init = watch.init();
    report.console_bytes = watch.bytes();
    report.take_exits(exits);
    report.pio = pio.stats();
    report.mmio = mmio.stats();
    if (platform.post_code) {
      report.post_code_writes = platform.post_code->total_writes();
      auto entries = platform.post_code->entries();
      if (!entries.empty()) report.last_post_code = entries.back().code;
    }
    report.peak_rss_bytes = peak_rss_bytes();
    report.current_rss_bytes = current_rss_bytes();
    report.guest_resident_bytes = resident_bytes(*mem);
    report.outcome = outcome;
    fmt::print(stderr, "{}", report.format());
  }
  return exit_code;
}

}  // namespace vmm
