#include "backends/tap_net.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

#include "devices/virtio/virtio_net.h"

namespace backends {

namespace {
using devices::virtio::VirtioNet;
constexpr size_t kMaxParts = VirtioNet::kQueueSize + 1;
}  // namespace

struct TapNet::Impl {
  std::string name;
  int fd = -1;
  int wake = -1;
  std::thread thread;
  std::atomic<bool> stopping{false};
  devices::virtio::NetReceiver* receiver = nullptr;
  std::vector<std::byte> rx_buffer;  // one frame with its header, reused

  static constexpr unsigned long kNoChange = ~0ul;
  std::atomic<unsigned long> offloads{kNoChange};  // TUNSETOFFLOAD flags the thread still has to apply

  ~Impl() {
    if (thread.joinable()) {
      stopping = true;
      kick();
      thread.join();
    }
    if (fd >= 0) ::close(fd);
    if (wake >= 0) ::close(wake);
  }

  void kick() {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake, &one, sizeof one);
  }

  void loop() {
    std::array<pollfd, 2> fds{pollfd{fd, POLLIN, 0}, pollfd{wake, POLLIN, 0}};
    while (!stopping) {
      if (const unsigned long flags = offloads.exchange(kNoChange); flags != kNoChange) {
        // A failure leaves the kernel at no offloads (see set_offloads).
        [[maybe_unused]] int r = ::ioctl(fd, TUNSETOFFLOAD, flags);
      }
      if (::poll(fds.data(), fds.size(), -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (stopping) return;
      if (fds[1].revents & POLLIN) {
        uint64_t count = 0;
        [[maybe_unused]] ssize_t n = ::read(wake, &count, sizeof count);
      }
      // Everything the kernel has queued, then back to sleep.
      for (;;) {
        const ssize_t n = ::read(fd, rx_buffer.data(), rx_buffer.size());
        if (n <= 0) break;
        receiver->receive(std::span(rx_buffer.data(), static_cast<size_t>(n)));
      }
    }
  }
};

TapNet::TapNet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TapNet::~TapNet() = default;

std::string TapNet::describe() const { return "tap:" + impl_->name; }

devices::Result<std::unique_ptr<TapNet>> TapNet::open(const std::string& ifname) {
  using devices::ErrorCode;
  if (ifname.empty() || ifname.size() >= IFNAMSIZ)
    return devices::fail(ErrorCode::kInvalidArgument, "--net tap={}: an interface name has 1 to {} characters", ifname,
                         IFNAMSIZ - 1);
  auto impl = std::make_unique<Impl>();
  impl->name = ifname;
  impl->fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (impl->fd < 0)
    return devices::fail(ErrorCode::kIo, "--net tap={}: cannot open /dev/net/tun: {}", ifname, std::strerror(errno));
  unsigned int features = 0;
  if (::ioctl(impl->fd, TUNGETFEATURES, &features) < 0 || !(features & IFF_VNET_HDR))
    return devices::fail(ErrorCode::kUnsupported, "--net tap={}: the kernel's TAP driver lacks IFF_VNET_HDR", ifname);
  const bool exists = ::if_nametoindex(ifname.c_str()) != 0;
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, ifname.data(), ifname.size());
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
  if (::ioctl(impl->fd, TUNSETIFF, &ifr) < 0) {
    const int e = errno;
    if (!exists && e == EPERM)
      return devices::fail(ErrorCode::kIo,
                           "--net tap={}: no such interface, and creating one needs CAP_NET_ADMIN (create it first: "
                           "ip tuntap add {} mode tap user $USER)",
                           ifname, ifname);
    return devices::fail(ErrorCode::kIo, "--net tap={}: cannot attach{}: {}", ifname,
                         exists ? " (not a TAP device, or not ours: check its owner and mode)" : "", std::strerror(e));
  }
  int hdr_size = static_cast<int>(sizeof(devices::virtio::VirtioNetHdr));
  if (::ioctl(impl->fd, TUNSETVNETHDRSZ, &hdr_size) < 0)
    return devices::fail(ErrorCode::kIo, "--net tap={}: TUNSETVNETHDRSZ: {}", ifname, std::strerror(errno));
  if (::ioctl(impl->fd, TUNSETOFFLOAD, 0ul) < 0)
    return devices::fail(ErrorCode::kIo, "--net tap={}: TUNSETOFFLOAD: {}", ifname, std::strerror(errno));
  impl->wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (impl->wake < 0) return devices::fail(ErrorCode::kIo, "--net tap={}: eventfd: {}", ifname, std::strerror(errno));
  impl->rx_buffer.resize(sizeof(devices::virtio::VirtioNetHdr) + VirtioNet::kMaxFrameBytes);
  return std::unique_ptr<TapNet>(new TapNet(std::move(impl)));
}

uint64_t TapNet::offload_features() const {
  // Host direction (guest -> TAP): the kernel takes any checksum/GSO request
  // with the header. Guest direction: whatever set_offloads enables.
  return VirtioNet::kFCsum | VirtioNet::kFHostTso4 | VirtioNet::kFHostTso6 | VirtioNet::kFHostEcn |
         VirtioNet::kFGuestCsum | VirtioNet::kFGuestTso4 | VirtioNet::kFGuestTso6 | VirtioNet::kFGuestEcn;
}

void TapNet::set_offloads(uint64_t negotiated) {
  unsigned long flags = 0;
  if (negotiated & VirtioNet::kFGuestCsum) {
    flags |= TUN_F_CSUM;
    if (negotiated & VirtioNet::kFGuestTso4) flags |= TUN_F_TSO4;
    if (negotiated & VirtioNet::kFGuestTso6) flags |= TUN_F_TSO6;
    if ((negotiated & VirtioNet::kFGuestEcn) && (flags & (TUN_F_TSO4 | TUN_F_TSO6))) flags |= TUN_F_TSO_ECN;
  }
  // The backend's thread makes the call (this runs on a vCPU). Until it
  // does, the kernel stays at no offloads and sends only complete frames,
  // which every driver takes.
  impl_->offloads.store(flags);
  impl_->kick();
}

void TapNet::start(devices::virtio::NetReceiver& receiver) {
  if (impl_->thread.joinable()) return;
  impl_->receiver = &receiver;
  impl_->thread = std::thread([this, impl = impl_.get()] {
    ::pthread_setname_np(::pthread_self(), "net-tap");
    enter_thread();
    impl->loop();
  });
}

bool TapNet::send(std::span<const std::span<const std::byte>> parts) {
  if (parts.size() > kMaxParts) return false;
  std::array<iovec, kMaxParts> iov;
  for (size_t i = 0; i < parts.size(); ++i)
    iov[i] = iovec{const_cast<std::byte*>(parts[i].data()), parts[i].size()};
  for (;;) {
    const ssize_t n = ::writev(impl_->fd, iov.data(), static_cast<int>(parts.size()));
    if (n >= 0) return true;
    if (errno != EINTR) return false;  // EAGAIN: the kernel's queue is full; EIO: the link is down
  }
}

}  // namespace backends
