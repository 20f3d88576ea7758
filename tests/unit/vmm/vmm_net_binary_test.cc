// --net failures that stop the vmm binary before the guest boots: a taken
// hostfwd port and a TAP that cannot be attached are usage errors (exit 2)
// with one clear line.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "support/vmm_process.h"
#include "vmm/exit_codes.h"

namespace vmm {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// A TCP socket listening on 127.0.0.1 at a port the kernel picked.
class Listener {
 public:
  Listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd_, 1) == 0 &&
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0)
      port_ = ntohs(a.sin_port);
  }
  ~Listener() {
    if (fd_ >= 0) ::close(fd_);
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(VmmNetBinary, ATakenHostfwdPortIsAUsageErrorBeforeBoot) {
  Listener taken;
  ASSERT_NE(taken.port(), 0);
  const std::string fwd = "user,hostfwd=tcp:127.0.0.1:" + std::to_string(taken.port()) + "-:80";
  // No kernel exists: the network is set up (and refused) before it is read.
  auto r = test_support::run_vmm({"--kernel", "/nonexistent/kernel", "--net", fwd});
  EXPECT_EQ(r.exit_code, kExitUsage) << r.err;
  EXPECT_THAT(r.err, StartsWith("vmm: --net user: hostfwd="));
  EXPECT_THAT(r.err, HasSubstr("cannot listen on tcp port 127.0.0.1:" + std::to_string(taken.port())));
  EXPECT_EQ(r.out, "");
}

TEST(VmmNetBinary, AMalformedHostfwdIsAUsageError) {
  auto r = test_support::run_vmm({"--kernel", "/nonexistent/kernel", "--net", "user,hostfwd=tcp::80"});
  EXPECT_EQ(r.exit_code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("--net 'user,hostfwd=tcp::80'"));
}

TEST(VmmNetBinary, AnInterfaceThatIsNoTapIsAUsageErrorBeforeBoot) {
  const int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) GTEST_SKIP() << "no /dev/net/tun here";
  ::close(fd);
  // "lo" always exists and is not a TAP: attaching to it fails whoever we are.
  auto r = test_support::run_vmm({"--kernel", "/nonexistent/kernel", "--net", "tap=lo"});
  EXPECT_EQ(r.exit_code, kExitUsage) << r.err;
  EXPECT_THAT(r.err, StartsWith("vmm: --net tap=lo: "));
  EXPECT_EQ(r.out, "");
}

}  // namespace
}  // namespace vmm
