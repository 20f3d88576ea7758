#include "vmm/console.h"
#include "vmm/sandbox.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>

namespace vmm {

RawTerminal::RawTerminal(int fd) : fd_(fd) {
  if (fd_ < 0 || !isatty(fd_) || tcgetattr(fd_, &saved_) != 0) return;
  termios raw = saved_;
  cfmakeraw(&raw);
  raw.c_oflag |= OPOST | ONLCR;  // our own messages still get their carriage returns
  if (tcsetattr(fd_, TCSANOW, &raw) == 0) active_ = true;
}

void RawTerminal::restore() {
  if (active_) tcsetattr(fd_, TCSANOW, &saved_);
  active_ = false;
}

ConsoleOutput::ConsoleOutput(int fd, size_t capacity) : fd_(fd), capacity_(capacity == 0 ? 1 : capacity) {
  if (fd_ >= 0) {
    thread_ = std::thread([this] { run(); });
  } else {
    stopped_ = true;
  }
}

ConsoleOutput::~ConsoleOutput() { close(std::chrono::milliseconds(0)); }

void ConsoleOutput::write(std::span<const std::byte> bytes) {
  if (bytes.empty() || fd_ < 0) return;  // no sink: nothing to write, nothing lost
  std::lock_guard lock(mutex_);
  if (stopped_) {
    dropped_ += bytes.size();
    return;
  }
  size_t room = capacity_ > queue_.size() ? capacity_ - queue_.size() : 0;
  size_t take = std::min(room, bytes.size());
  queue_.append(reinterpret_cast<const char*>(bytes.data()), take);
  dropped_ += bytes.size() - take;
  cv_.notify_one();
}

void ConsoleOutput::close(std::chrono::milliseconds limit) {
  {
    std::lock_guard lock(mutex_);
    if (!closing_) {
      closing_ = true;
      deadline_ = std::chrono::steady_clock::now() + limit;
    }
    cv_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

bool ConsoleOutput::write_chunk(std::string_view chunk) {
  while (!chunk.empty()) {
    pollfd p{fd_, POLLOUT, 0};
    int r = ::poll(&p, 1, 50);
    if (r < 0 && errno != EINTR) return false;
    if (r <= 0) {
      std::lock_guard lock(mutex_);
      if (closing_ && std::chrono::steady_clock::now() >= deadline_) return false;
      continue;
    }
    if (p.revents & (POLLERR | POLLNVAL)) return false;
    // Small writes after POLLOUT: a pipe or terminal with some room takes them without blocking.
    size_t n = std::min<size_t>(chunk.size(), 4096);
    ssize_t w = ::write(fd_, chunk.data(), n);
    if (w < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return false;  // EPIPE and the like: the reader is gone
    }
    written_ += static_cast<uint64_t>(w);
    chunk.remove_prefix(static_cast<size_t>(w));
  }
  return true;
}

void ConsoleOutput::run() {
  seccomp::enter(seccomp::Role::kConsoleOutput);
  std::string chunk;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [&] { return !queue_.empty() || closing_; });
      if (queue_.empty()) {  // closing and drained
        stopped_ = true;
        return;
      }
      size_t n = std::min<size_t>(queue_.size(), 64 * 1024);
      chunk.assign(queue_, 0, n);
      queue_.erase(0, n);
    }
    if (!write_chunk(chunk)) {
      // The reader is gone, or out of time at close: from here on output is only counted.
      std::lock_guard lock(mutex_);
      reader_gone_ = !closing_ || std::chrono::steady_clock::now() < deadline_;
      dropped_ += chunk.size() + queue_.size();
      queue_.clear();
      stopped_ = true;
      return;
    }
  }
}

ConsoleInput::ConsoleInput(int fd, Room room, Deliver deliver, Quit quit, bool escape, std::optional<char> eof_char)
    : fd_(fd),
      room_(std::move(room)),
      deliver_(std::move(deliver)),
      quit_(std::move(quit)),
      use_escape_(escape),
      eof_char_(eof_char) {
  if (fd_ < 0) return;
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC);
  if (wake_fd_ < 0) return;
  thread_ = std::thread([this] { run(); });
}

ConsoleInput::~ConsoleInput() {
  stop();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void ConsoleInput::stop() {
  if (!thread_.joinable()) return;
  uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
  thread_.join();
}

void ConsoleInput::run() {
  seccomp::enter(seccomp::Role::kConsoleInput);
  std::array<char, 512> buffer{};
  bool eof = false;
  std::string at_eof;
  for (;;) {
    size_t room = room_ ? room_() : buffer.size();
    if (eof && !at_eof.empty() && room >= at_eof.size()) {
      deliver_(std::as_bytes(std::span(at_eof.data(), at_eof.size())));
      delivered_ += at_eof.size();
      at_eof.clear();
    }
    bool want_input = !eof && room > 0;
    bool waiting = want_input || (eof && at_eof.empty());
    pollfd p[2] = {{wake_fd_, POLLIN, 0}, {fd_, static_cast<short>(want_input ? POLLIN : 0), 0}};
    // With no room the guest has not read what it got yet: look again shortly.
    int r = ::poll(p, want_input ? 2 : 1, waiting ? -1 : 10);
    if (r < 0 && errno != EINTR) return;
    if (p[0].revents) return;
    if (!want_input || !(p[1].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    ssize_t n = ::read(fd_, buffer.data(), std::min(room, buffer.size()));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) {
      eof = true;  // the guest gets no more input; Ctrl-A x is gone with it
      if (eof_char_) at_eof.assign(last_byte_ == '\n' ? 1 : 2, *eof_char_);
      continue;
    }
    last_byte_ = buffer[static_cast<size_t>(n) - 1];
    std::string to_guest;
    bool quit = false;
    if (use_escape_) {
      quit = escape_.feed(std::as_bytes(std::span(buffer.data(), static_cast<size_t>(n))), to_guest);
    } else {
      to_guest.assign(buffer.data(), static_cast<size_t>(n));
    }
    if (!to_guest.empty()) {
      deliver_(std::as_bytes(std::span(to_guest.data(), to_guest.size())));
      delivered_ += to_guest.size();
    }
    if (quit) {
      if (quit_) quit_();
      return;
    }
  }
}

}  // namespace vmm
