// libFuzzer target: virtio-net's transmit and receive paths over arbitrary
// guest memory (test_support::virtio_fuzz::NetHeader, then memory
// contents). The backend aborts on anything the device must have refused: a
// frame shorter than an Ethernet header or longer than the largest frame, or
// a header asking for an offload that was not negotiated. Frames of any
// length (garbage headers included) are injected for the guest.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "devices/virtio/virtio_net.h"
#include "devices/virtio/virtqueue.h"
#include "support/virtio_fuzz_input.h"

namespace {

namespace vf = test_support::virtio_fuzz;
using devices::virtio::NetBackend;
using devices::virtio::NetReceiver;
using devices::virtio::VirtioNet;
using devices::virtio::VirtioNetHdr;

class StrictBackend : public NetBackend {
 public:
  StrictBackend(bool vnet, uint64_t offloads) : vnet_(vnet), offloads_(offloads) {}
  std::string describe() const override { return "strict"; }
  bool vnet_header() const override { return vnet_; }
  uint64_t offload_features() const override { return offloads_; }
  void set_offloads(uint64_t negotiated) override { negotiated_ = negotiated; }
  void start(NetReceiver&) override {}
  bool send(std::span<const std::span<const std::byte>> parts) override {
    size_t len = 0;
    for (auto p : parts) len += p.size();
    size_t frame = len;
    if (vnet_) {
      if (parts.empty() || parts[0].size() != sizeof(VirtioNetHdr)) std::abort();
      VirtioNetHdr h;
      std::memcpy(&h, parts[0].data(), sizeof h);
      frame -= sizeof h;
      if ((h.flags & VirtioNet::kHdrFNeedsCsum) && !(negotiated_ & VirtioNet::kFCsum)) std::abort();
      if (h.flags & ~VirtioNet::kHdrFNeedsCsum) std::abort();
      if ((h.flags & VirtioNet::kHdrFNeedsCsum) && size_t{h.csum_start} + h.csum_offset + 2 > frame) std::abort();
      if (h.gso_type != VirtioNet::kGsoNone && !(negotiated_ & (VirtioNet::kFHostTso4 | VirtioNet::kFHostTso6)))
        std::abort();
    }
    if (frame < VirtioNet::kEthHeaderBytes || frame > VirtioNet::kMaxFrameBytes) std::abort();
    // Touch every byte: a span outside guest memory shows up under ASan.
    volatile uint8_t sum = 0;
    for (auto p : parts)
      for (std::byte b : p) sum = static_cast<uint8_t>(sum + static_cast<uint8_t>(b));
    return (len & 1) == 0;  // the backend refuses some, as a full queue would
  }

 private:
  bool vnet_;
  uint64_t offloads_;
  uint64_t negotiated_ = 0;
};

struct Hooks : devices::virtio::TransportHooks {
  void signal_used(uint16_t) override {}
  void signal_config() override {}
  void device_error(std::string_view) override { ++errors; }
  int errors = 0;
};

loader::GuestMemory& guest_memory() {
  static loader::GuestMemory mem = [] {
    std::array specs{loader::RegionSpec{loader::GuestAddress(0), vf::kNetMemorySize}};
    auto m = loader::GuestMemory::create(specs);
    if (!m) std::abort();
    return std::move(*m);
  }();
  return mem;
}

void place(devices::virtio::Virtqueue& q, uint16_t size, uint64_t desc, uint64_t avail, uint64_t used) {
  q.set_size(size);
  q.set_desc_addr(desc);
  q.set_avail_addr(avail);
  q.set_used_addr(used);
  q.set_ready(true);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vf::NetHeader h;
  if (size < sizeof h) return 0;
  std::memcpy(&h, data, sizeof h);
  data += sizeof h;
  size -= sizeof h;

  auto& mem = guest_memory();
  auto host = mem.host_span(loader::GuestAddress(0), vf::kNetMemorySize);
  std::memset(host->data(), 0, host->size());
  std::memcpy(host->data(), data, std::min<size_t>(size, vf::kNetMemorySize));

  const bool vnet = (h.flags & vf::kNetFlagVnet) != 0;
  const uint64_t offloads = vnet ? VirtioNet::kFCsum | VirtioNet::kFHostTso4 | VirtioNet::kFHostTso6 |
                                       VirtioNet::kFHostEcn | VirtioNet::kFGuestCsum
                                 : 0;
  VirtioNet net(std::make_unique<StrictBackend>(vnet, offloads), devices::virtio::default_mac(0));
  const uint16_t qsize = static_cast<uint16_t>(1u << (h.size_log2 % 5));
  devices::virtio::Virtqueue rx(VirtioNet::kQueueSize), tx(VirtioNet::kQueueSize);
  place(rx, qsize, vf::kNetRxDesc, vf::kNetRxAvail, vf::kNetRxUsed);
  place(tx, qsize, vf::kNetTxDesc, vf::kNetTxAvail, vf::kNetTxUsed);

  uint64_t features = devices::virtio::kFVersion1;
  if (h.flags & vf::kNetFlagEventIdx) features |= devices::virtio::kFEventIdx;
  if (h.flags & vf::kNetFlagIndirect) features |= devices::virtio::kFIndirectDesc;
  if (h.flags & vf::kNetFlagMergeable) features |= VirtioNet::kFMrgRxbuf;
  if (h.flags & vf::kNetFlagCsum) features |= offloads;
  Hooks hooks;
  devices::virtio::Activation a{&mem, features, {&rx, &tx}, &hooks};
  std::string why;
  if (!net.activate(a, why)) std::abort();  // the layout above is always valid
  net.notify(VirtioNet::kTransmitQueue);

  // Frames for the guest: their bytes come from the input too (a vnet
  // backend's header included), so their headers are garbage as often as not.
  static std::vector<std::byte> frame(vf::kNetMaxInject);
  for (uint8_t i = 0; i < h.frames % 8; ++i) {
    const uint32_t len = h.frame_len[i % 4] % (vf::kNetMaxInject + 1);
    for (uint32_t j = 0; j < len; ++j) frame[j] = std::byte(static_cast<uint8_t>(j * 31 + i));
    if (len >= 12 && size > 12) std::memcpy(frame.data(), data, 12);
    net.inject(std::span(frame.data(), len));
  }
  net.notify(VirtioNet::kReceiveQueue);
  net.notify(VirtioNet::kTransmitQueue);  // again: a drained or failed queue is a no-op
  if (net.rx_pending() > VirtioNet::kRxPending) std::abort();
  if (hooks.errors > 2) std::abort();  // one per broken queue at most
  net.reset();
  return 0;
}
