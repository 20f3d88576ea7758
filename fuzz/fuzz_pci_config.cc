// libFuzzer target: a guest poking a PCI host bridge with one virtio-pci
// device (over a fake VirtioDevice) through every path a vCPU has: ECAM,
// CF8/CFC, the MMIO and IO BAR windows, plus the device's own hooks firing
// in between. Nothing may crash, and a few invariants must hold throughout.
//
// Input: 14-byte operations
//   [0]     path: 0 ECAM, 1 CF8/CFC, 2 MMIO window, 3 IO window, 4 device hooks
//   [1]     bit 0 write, bits 1-2 size (1, 2, 4, 8)
//   [2..5]  offset (le32); for the MMIO window bit 31 picks the 64-bit
//           window, the low 20 bits are the offset into it
//   [6..13] value (le64)
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <string>

#include "devices/pci/host_bridge.h"
#include "devices/virtio/virtio_pci.h"
#include "devices/virtio/virtqueue.h"

namespace {

using namespace devices;

constexpr uint64_t kMmio32 = 0xc000'0000, kMmio64 = 0x80'0000'0000, kIo = 0xc000;

class FuzzDevice final : public virtio::VirtioDevice {
 public:
  virtio::DeviceType type() const override { return virtio::DeviceType::kBlock; }
  std::string_view name() const override { return "virtio-fuzz"; }
  uint64_t device_features() const override { return virtio::kFVersion1 | virtio::kFEventIdx | 1; }
  uint16_t num_queues() const override { return 3; }
  uint32_t config_size() const override { return sizeof config_; }
  void read_config(uint32_t offset, std::span<std::byte> data) override {
    for (size_t i = 0; i < data.size(); ++i) data[i] = offset + i < sizeof config_ ? config_[offset + i] : std::byte{0};
  }
  void write_config(uint32_t offset, std::span<const std::byte> data) override {
    for (size_t i = 0; i < data.size(); ++i) {
      if (offset + i < sizeof config_) config_[offset + i] = data[i];
    }
  }
  bool activate(const virtio::Activation& a, std::string&) override {
    // The transport must only activate with a valid negotiation.
    if (!(a.features & virtio::kFVersion1) || (a.features & ~device_features()) || a.queues.size() != 3 || !a.hooks) {
      std::abort();
    }
    hooks_ = a.hooks;
    return true;
  }
  void notify(uint16_t queue) override {
    if (queue >= 3 || !hooks_) std::abort();
    hooks_->signal_used(queue);  // re-entry from inside notify must not deadlock
  }
  void reset() override { hooks_ = nullptr; }

 private:
  std::byte config_[12]{};
  virtio::TransportHooks* hooks_ = nullptr;
};

loader::GuestMemory& guest_memory() {
  static loader::GuestMemory mem = [] {
    std::array specs{loader::RegionSpec{loader::GuestAddress(0), 1ull << 20}};
    auto m = loader::GuestMemory::create(specs);
    if (!m) std::abort();
    return std::move(*m);
  }();
  return mem;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pci::BridgeWindows windows;
  windows.mmio32 = {kMmio32, 0x1000'0000};
  windows.mmio64 = {kMmio64, 0x10'0000'0000};
  windows.io = {kIo, 0x1000};
  std::array<bool, 4> levels{};
  std::array<IrqLine, 4> lines;
  for (size_t i = 0; i < 4; ++i) lines[i] = [&levels, i](bool l) { levels[i] = l; };
  pci::PciHostBridge bridge(windows, lines);
  uint64_t msis = 0;
  bridge.set_msi_sink([&msis](const devices::pci::Msi&) { ++msis; });
  auto transport = virtio::VirtioPci::create(std::make_shared<FuzzDevice>(), guest_memory());
  if (!transport) std::abort();
  auto slot = bridge.add_device(*transport);
  if (!slot) std::abort();
  auto& vp = **transport;
  const uint8_t line = pci::PciHostBridge::intx_line(*slot, 1);

  for (size_t at = 0; at + 14 <= size; at += 14) {
    const uint8_t* op = data + at;
    const bool write = op[1] & 1;
    const size_t len = size_t{1} << ((op[1] >> 1) & 3);
    uint32_t offset = 0;
    uint64_t value = 0;
    std::memcpy(&offset, op + 2, 4);
    std::memcpy(&value, op + 6, 8);
    std::byte buf[8];
    std::memcpy(buf, &value, sizeof buf);
    Device* target = nullptr;
    uint64_t address = 0;
    switch (op[0] % 5) {
      case 0: target = bridge.ecam().get(); address = offset & (pci::kEcamBusSize - 1); break;
      case 1: target = bridge.cf8().get(); address = offset % pci::kCf8Size; break;
      case 2:
        target = bridge.mmio_window().get();
        address = ((offset >> 31) ? kMmio64 : kMmio32) + (offset & 0xfffff);
        break;
      case 3: target = bridge.io_window().get(); address = kIo + (offset & 0xfff); break;
      default:
        switch (value % 3) {
          case 0: vp.signal_used(static_cast<uint16_t>(offset % 4)); break;
          case 1: vp.signal_config(); break;
          default: vp.device_error("fuzz"); break;
        }
        break;
    }
    if (target) {
      if (write) {
        target->write(address, std::span<const std::byte>(buf, len));
      } else {
        target->read(address, std::span(buf, len));
      }
    }
    // INTx is level: on exactly while ISR is non-zero and INTx is not disabled.
    const bool disabled = bridge.config_read(*slot, 0, pci::kCommand, 2) & pci::kCommandIntxDisable;
    const bool expect = vp.isr_peek() != 0 && !disabled;
    if (levels[line] != expect || bridge.line_level(line) != expect) std::abort();
    // Identity registers are read-only whatever the guest wrote.
    if (bridge.config_read(*slot, 0, pci::kVendorId, 4) != 0x1042'1af4u) std::abort();
    if (bridge.config_read(0, 0, pci::kVendorId, 4) != 0x0008'1b36u) std::abort();
  }
  return 0;
}
