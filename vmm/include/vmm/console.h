// The host side of the guest console: the terminal mode, the bounded
// asynchronous writer for guest output, and the reader that feeds host input
// to the guest at the pace the guest takes it.
//
// Neither side ever sets O_NONBLOCK: stdin and stdout usually share one open
// file description (the terminal), so the flag would make stdout
// non-blocking too, lose output with EAGAIN and outlive the process. The
// writer and the reader are threads of their own that poll() before each
// read or write, so a slow reader of our output or a silent terminal never
// stalls the event loop (timeouts and signals stay prompt).
#pragma once

#include <termios.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>

#include "vmm/console_watch.h"

namespace vmm {

// Puts a terminal in raw mode (so Ctrl-C, arrows and so on reach the guest)
// and restores it when destroyed or on restore().
class RawTerminal {
 public:
  explicit RawTerminal(int fd);
  ~RawTerminal() { restore(); }
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;
  void restore();
  bool active() const { return active_; }

 private:
  int fd_;
  termios saved_{};
  bool active_ = false;
};

// Guest output on its way to a file descriptor (not owned; -1 discards).
// At most `capacity` bytes wait; when the reader falls that far behind, newer
// output is dropped and counted (the guest is never slowed down by a
// reader, and the VMM's memory stays bounded). A reader that went away
// (EPIPE) ends the writing; the rest is counted as dropped.
class ConsoleOutput {
 public:
  static constexpr size_t kDefaultCapacity = 1 << 20;

  explicit ConsoleOutput(int fd, size_t capacity = kDefaultCapacity);
  ~ConsoleOutput();
  ConsoleOutput(const ConsoleOutput&) = delete;
  ConsoleOutput& operator=(const ConsoleOutput&) = delete;

  // Any thread.
  void write(std::span<const std::byte> bytes);
  // Writes what is queued, giving a slow reader at most `limit`, then stops
  // the writer thread. Idempotent.
  void close(std::chrono::milliseconds limit);

  uint64_t written() const { return written_.load(); }
  uint64_t dropped() const { return dropped_.load(); }
  bool reader_gone() const { return reader_gone_.load(); }

 private:
  void run();
  bool write_chunk(std::string_view chunk);

  int fd_;
  size_t capacity_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::string queue_;
  bool closing_ = false;
  bool stopped_ = false;  // the writer thread has ended (or never ran): output is only counted
  std::chrono::steady_clock::time_point deadline_{};
  std::atomic<uint64_t> written_{0}, dropped_{0};
  std::atomic<bool> reader_gone_{false};
  std::thread thread_;
};

// Reads host input from `fd` (not owned) and hands it to the guest device,
// never more at once than `room()` says the device can take, so a paste of
// any size arrives whole. Ctrl-A x calls `quit` (see ConsoleEscape).
class ConsoleInput {
 public:
  using Room = std::function<size_t()>;
  using Deliver = std::function<void(std::span<const std::byte>)>;
  using Quit = std::function<void()>;

  // `escape`: Ctrl-A x quits. `eof_char`: once fd ends, the guest gets this
  // terminal end-of-file character (Ctrl-D) — twice after a partial line,
  // since the first only ends that line.
  ConsoleInput(int fd, Room room, Deliver deliver, Quit quit, bool escape = true,
               std::optional<char> eof_char = std::nullopt);
  ~ConsoleInput();
  ConsoleInput(const ConsoleInput&) = delete;
  ConsoleInput& operator=(const ConsoleInput&) = delete;
  // Stops the reader thread (idempotent).
  void stop();
  uint64_t delivered() const { return delivered_.load(); }

 private:
  void run();

  int fd_;
  Room room_;
  Deliver deliver_;
  Quit quit_;
  int wake_fd_ = -1;  // eventfd: stop() wakes the poll
  ConsoleEscape escape_;
  bool use_escape_;
  std::optional<char> eof_char_;
  char last_byte_ = '\n';
  std::atomic<uint64_t> delivered_{0};
  std::thread thread_;
};

}  // namespace vmm
