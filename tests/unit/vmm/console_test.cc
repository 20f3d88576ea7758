#include "vmm/console.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace vmm {
namespace {

struct Pipe {
  Pipe() { EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0); }
  ~Pipe() {
    for (int fd : fds)
      if (fd >= 0) ::close(fd);
  }
  void close_end(int i) {
    ::close(fds[i]);
    fds[i] = -1;
  }
  int fds[2] = {-1, -1};
};

std::string drain(int fd) {
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

TEST(ConsoleOutput, WritesEverythingInOrderAndNeverSetsNonBlocking) {
  Pipe p;
  std::string expected;
  for (int i = 0; i < 20000; ++i) expected += std::to_string(i) + ",";
  std::string got;
  std::thread reader([&] { got = drain(p.fds[0]); });
  {
    ConsoleOutput out(p.fds[1]);
    for (size_t off = 0; off < expected.size(); off += 1000) {
      std::string_view part = std::string_view(expected).substr(off, 1000);
      out.write(std::as_bytes(std::span(part.data(), part.size())));
    }
    out.close(std::chrono::seconds(30));
    EXPECT_EQ(out.dropped(), 0u);
    EXPECT_EQ(out.written(), expected.size());
    EXPECT_EQ(::fcntl(p.fds[1], F_GETFL) & O_NONBLOCK, 0) << "the sink's file description must stay blocking";
  }
  p.close_end(1);
  reader.join();
  EXPECT_EQ(got, expected);
}

TEST(ConsoleOutput, AReaderThatFallsBehindCostsBoundedMemoryAndIsCounted) {
  Pipe p;
  constexpr size_t kCapacity = 64 * 1024;
  ConsoleOutput out(p.fds[1], kCapacity);
  std::string chunk(4096, 'x');
  const size_t total = 8u << 20;  // far more than the pipe and the queue hold together
  for (size_t sent = 0; sent < total; sent += chunk.size())
    out.write(std::as_bytes(std::span(chunk.data(), chunk.size())));  // returns at once: nobody reads yet
  EXPECT_GT(out.dropped(), 0u);
  std::string got;
  std::thread reader([&] { got = drain(p.fds[0]); });
  out.close(std::chrono::seconds(30));
  p.close_end(1);
  reader.join();
  EXPECT_EQ(out.written() + out.dropped(), total);
  EXPECT_EQ(got.size(), out.written());
  EXPECT_LE(out.written(), kCapacity + 4096 * 2 + 65536 * 2) << "at most the queue plus what was in flight";
}

TEST(ConsoleOutput, AReaderThatWentAwayDoesNotKillTheProcess) {
  signal(SIGPIPE, SIG_IGN);  // as vmm's main() does
  Pipe p;
  p.close_end(0);
  ConsoleOutput out(p.fds[1]);
  std::string line = "hello\n";
  out.write(std::as_bytes(std::span(line.data(), line.size())));
  out.close(std::chrono::seconds(5));
  EXPECT_TRUE(out.reader_gone());
  EXPECT_EQ(out.dropped(), line.size());
}

// A guest device that takes at most kRoom bytes until the guest reads them.
class FakeUart {
 public:
  static constexpr size_t kRoom = 16;
  size_t room() {
    std::lock_guard lock(m_);
    return kRoom - pending_.size();
  }
  void deliver(std::span<const std::byte> bytes) {
    std::lock_guard lock(m_);
    for (std::byte b : bytes) pending_.push_back(static_cast<char>(b));
    if (pending_.size() > kRoom) overrun_ = true;
    cv_.notify_all();
  }
  // The guest reading RBR until it has `n` bytes.
  std::string guest_reads(size_t n) {
    std::string got;
    std::unique_lock lock(m_);
    while (got.size() < n) {
      cv_.wait(lock, [&] { return !pending_.empty(); });
      got += pending_;
      pending_.clear();
    }
    return got;
  }
  bool overrun() {
    std::lock_guard lock(m_);
    return overrun_;
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::string pending_;
  bool overrun_ = false;
};

TEST(ConsoleInput, APasteLargerThanTheGuestsBufferArrivesWhole) {
  Pipe p;
  std::string paste;
  for (int i = 0; i < 3000; ++i) paste += static_cast<char>('a' + i % 26);
  ASSERT_EQ(::write(p.fds[1], paste.data(), paste.size()), static_cast<ssize_t>(paste.size()));
  FakeUart uart;
  bool quit = false;
  ConsoleInput input(
      p.fds[0], [&] { return uart.room(); }, [&](std::span<const std::byte> b) { uart.deliver(b); },
      [&] { quit = true; });
  EXPECT_EQ(uart.guest_reads(paste.size()), paste);
  input.stop();
  EXPECT_FALSE(uart.overrun()) << "input went past the room the device said it had";
  EXPECT_FALSE(quit);
  EXPECT_EQ(::fcntl(p.fds[0], F_GETFL) & O_NONBLOCK, 0);
}

TEST(ConsoleInput, CtrlAXQuits) {
  Pipe p;
  std::mutex m;
  std::condition_variable cv;
  bool quit = false;
  FakeUart uart;
  ConsoleInput input(
      p.fds[0], [&] { return uart.room(); }, [&](std::span<const std::byte> b) { uart.deliver(b); },
      [&] {
        std::lock_guard lock(m);
        quit = true;
        cv.notify_all();
      });
  const char keys[] = {'l', 's', 0x01, 'x'};
  ASSERT_EQ(::write(p.fds[1], keys, sizeof keys), 4);
  std::unique_lock lock(m);
  cv.wait(lock, [&] { return quit; });
  EXPECT_EQ(uart.guest_reads(2), "ls");
}

TEST(ConsoleInput, DataOnStdinEndsWithTheEofCharacterAndNoEscape) {
  // A complete last line: one Ctrl-D is an end of file to the guest's tty.
  {
    Pipe p;
    const char data[] = {'a', 0x01, 'x', '\n'};  // Ctrl-A x is data here, not a quit
    ASSERT_EQ(::write(p.fds[1], data, sizeof data), 4);
    p.close_end(1);
    FakeUart uart;
    bool quit = false;
    ConsoleInput input(
        p.fds[0], [&] { return uart.room(); }, [&](std::span<const std::byte> b) { uart.deliver(b); },
        [&] { quit = true; }, false, '\x04');
    EXPECT_EQ(uart.guest_reads(5), std::string("a\x01x\n\x04"));
    input.stop();
    EXPECT_FALSE(quit);
  }
  // A partial last line: the first Ctrl-D only ends the line, the second is the end of file.
  {
    Pipe p;
    ASSERT_EQ(::write(p.fds[1], "ab", 2), 2);
    p.close_end(1);
    FakeUart uart;
    ConsoleInput input(
        p.fds[0], [&] { return uart.room(); }, [&](std::span<const std::byte> b) { uart.deliver(b); }, [] {}, false,
        '\x04');
    EXPECT_EQ(uart.guest_reads(4), "ab\x04\x04");
    input.stop();
  }
}

}  // namespace
}  // namespace vmm
