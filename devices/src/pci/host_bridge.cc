#include "devices/pci/host_bridge.h"

#include <algorithm>
#include <cstring>

namespace devices::pci {

namespace {

bool config_size_ok(size_t size) { return size == 1 || size == 2 || size == 4; }

uint32_t load_le(std::span<const std::byte> data) {
  uint32_t v = 0;
  for (size_t i = 0; i < data.size() && i < 4; ++i) v |= std::to_integer<uint32_t>(data[i]) << (8 * i);
  return v;
}

void store_le(std::span<std::byte> data, uint32_t v) {
  for (size_t i = 0; i < data.size(); ++i) data[i] = i < 4 ? std::byte(v >> (8 * i)) : std::byte{0xff};
}

void fill_ones(std::span<std::byte> data) { std::memset(data.data(), 0xff, data.size()); }

}  // namespace

struct PciHostBridge::Bus0 {
  std::array<std::shared_ptr<PciDevice>, kMaxDevices> slots{};
  std::array<IrqLine, kNumIntxLines> lines;
  std::mutex line_mutex;
  std::array<uint32_t, kNumIntxLines> sources{};  // bit d: device d holds the line high

  PciDevice* find(uint8_t device, uint8_t function) const {
    // Single-function devices only: functions 1..7 are absent, as the
    // header type (bit 7 clear) tells the guest.
    if (device >= kMaxDevices || function != 0) return nullptr;
    return slots[device].get();
  }

  uint32_t read(uint8_t device, uint8_t function, uint32_t reg, uint32_t size) const {
    PciDevice* d = find(device, function);
    return d ? d->config_read(reg, size) : 0xffffffffu;
  }

  void write(uint8_t device, uint8_t function, uint32_t reg, uint32_t size, uint32_t value) const {
    if (PciDevice* d = find(device, function)) d->config_write(reg, size, value);
  }

  // Wire-OR: a shared line stays high while any device on it asserts.
  void set_line(uint8_t device, uint8_t line, bool level) {
    std::lock_guard lock(line_mutex);
    const uint32_t before = sources[line];
    const uint32_t bit = 1u << device;
    sources[line] = level ? (before | bit) : (before & ~bit);
    const bool was = before != 0, now = sources[line] != 0;
    if (was != now && lines[line]) lines[line](now);
  }
};

class PciHostBridge::HostFunction final : public PciDevice {
 public:
  HostFunction() {
    Identity id;
    id.vendor_id = kVendorId;
    id.device_id = kDeviceId;
    id.subsystem_vendor_id = kVendorId;
    id.subsystem_id = 0x1100;
    id.class_code = kClassCode;
    config_.set_identity(id);
  }
  std::string_view name() const override { return "pci-host-bridge"; }
  void bar_read(uint32_t, uint64_t, std::span<std::byte> data) override { fill_ones(data); }
  void bar_write(uint32_t, uint64_t, std::span<const std::byte>) override {}
};

class PciHostBridge::Ecam final : public Device {
 public:
  explicit Ecam(std::shared_ptr<Bus0> bus) : bus_(std::move(bus)) {}
  void read(uint64_t offset, std::span<std::byte> data) override {
    if (offset >= kEcamBusSize || !config_size_ok(data.size())) return fill_ones(data);
    store_le(data, bus_->read(device(offset), function(offset), reg(offset), static_cast<uint32_t>(data.size())));
  }
  void write(uint64_t offset, std::span<const std::byte> data) override {
    if (offset >= kEcamBusSize || !config_size_ok(data.size())) return;
    bus_->write(device(offset), function(offset), reg(offset), static_cast<uint32_t>(data.size()), load_le(data));
  }

 private:
  static uint8_t device(uint64_t offset) { return static_cast<uint8_t>(offset >> 15 & 0x1f); }
  static uint8_t function(uint64_t offset) { return static_cast<uint8_t>(offset >> 12 & 0x7); }
  static uint32_t reg(uint64_t offset) { return static_cast<uint32_t>(offset & 0xfff); }
  std::shared_ptr<Bus0> bus_;
};

// Configuration mechanism #1: 0xCF8 latches enable | bus | dev | fn | reg,
// 0xCFC..0xCFF reach the dword it names. Reaches the conventional 256
// bytes only; the extended space is ECAM's.
class PciHostBridge::Cf8 final : public Device {
 public:
  explicit Cf8(std::shared_ptr<Bus0> bus) : bus_(std::move(bus)) {}
  void read(uint64_t offset, std::span<std::byte> data) override {
    std::lock_guard lock(mutex_);
    if (offset == 0 && data.size() == 4) return store_le(data, latch_);
    uint32_t reg = 0;
    if (!target(offset, data.size(), reg)) return fill_ones(data);
    store_le(data, bus_->read(device(), function(), reg, static_cast<uint32_t>(data.size())));
  }
  void write(uint64_t offset, std::span<const std::byte> data) override {
    std::lock_guard lock(mutex_);
    // Only dword accesses hit the latch; byte writes to 0xCF8..0xCFB are
    // other chipset registers (mechanism #2, reset control) we lack.
    if (offset == 0 && data.size() == 4) {
      latch_ = load_le(data) & kLatchMask;
      return;
    }
    uint32_t reg = 0;
    if (!target(offset, data.size(), reg)) return;
    bus_->write(device(), function(), reg, static_cast<uint32_t>(data.size()), load_le(data));
  }

 private:
  static constexpr uint32_t kEnable = 1u << 31;
  static constexpr uint32_t kLatchMask = 0x80fffffc;
  // The latch is shared state of the two ports, so one vCPU's CF8/CFC pair
  // must not interleave with another's; guests serialise with a lock of
  // their own, we only keep each access atomic.
  bool target(uint64_t offset, size_t size, uint32_t& reg) const {
    if (offset < 4 || offset >= 8 || !config_size_ok(size) || (offset - 4) + size > 4) return false;
    if (!(latch_ & kEnable) || (latch_ >> 16 & 0xff) != 0) return false;
    reg = (latch_ & 0xfc) | static_cast<uint32_t>(offset - 4);
    return true;
  }
  uint8_t device() const { return static_cast<uint8_t>(latch_ >> 11 & 0x1f); }
  uint8_t function() const { return static_cast<uint8_t>(latch_ >> 8 & 0x7); }

  std::shared_ptr<Bus0> bus_;
  std::mutex mutex_;
  uint32_t latch_ = 0;
};

class PciHostBridge::BarWindow final : public Device {
 public:
  BarWindow(std::shared_ptr<Bus0> bus, AddressSpace space) : bus_(std::move(bus)), space_(space) {}
  void read(uint64_t address, std::span<std::byte> data) override {
    for (const auto& d : bus_->slots) {
      if (!d) continue;
      if (auto hit = d->decode(space_, address, data.size())) return d->bar_read(hit->bar, hit->offset, data);
    }
    fill_ones(data);
  }
  void write(uint64_t address, std::span<const std::byte> data) override {
    for (const auto& d : bus_->slots) {
      if (!d) continue;
      if (auto hit = d->decode(space_, address, data.size())) return d->bar_write(hit->bar, hit->offset, data);
    }
  }

 private:
  std::shared_ptr<Bus0> bus_;
  AddressSpace space_;
};

PciHostBridge::PciHostBridge(const BridgeWindows& windows, std::array<IrqLine, kNumIntxLines> lines)
    : windows_(windows),
      bus_(std::make_shared<Bus0>()),
      next_mmio32_(windows.mmio32.base),
      next_mmio64_(windows.mmio64.base),
      next_io_(windows.io.base) {
  bus_->lines = std::move(lines);
  bus_->slots[0] = std::make_shared<HostFunction>();
  ecam_ = std::make_shared<Ecam>(bus_);
  cf8_ = std::make_shared<Cf8>(bus_);
  mmio_window_ = std::make_shared<BarWindow>(bus_, AddressSpace::kMemory);
  io_window_ = std::make_shared<BarWindow>(bus_, AddressSpace::kIo);
}

Result<uint8_t> PciHostBridge::add_device(std::shared_ptr<PciDevice> device, std::optional<uint8_t> slot) {
  if (!device) return fail(ErrorCode::kInvalidArgument, "pci: null device");
  uint8_t d = 0;
  if (slot) {
    if (*slot == 0 || *slot >= kMaxDevices) {
      return fail(ErrorCode::kInvalidArgument, "pci: slot {} for {} is not 1..31", *slot, device->name());
    }
    if (bus_->slots[*slot]) {
      return fail(ErrorCode::kOverlap, "pci: slot {} for {} is taken by {}", *slot, device->name(),
                  bus_->slots[*slot]->name());
    }
    d = *slot;
  } else {
    for (d = 1; d < kMaxDevices && bus_->slots[d]; ++d) {
    }
    if (d == kMaxDevices) return fail(ErrorCode::kOverlap, "pci: bus 0 is full, no slot for {}", device->name());
  }
  if (auto r = assign_bars(*device); !r) return std::unexpected(r.error());
  if (const uint8_t pin = device->interrupt_pin(); pin != 0) {
    const uint8_t line = intx_line(d, pin);
    std::weak_ptr<Bus0> weak = bus_;
    device->connect_intx([weak, d, line](bool level) {
      if (auto bus = weak.lock()) bus->set_line(d, line, level);
    });
  }
  device->set_requester_id(static_cast<uint16_t>(d << 3));  // bus 0, function 0
  if (msi_sink_) device->set_msi_sink(msi_sink_);
  bus_->slots[d] = std::move(device);
  return d;
}

Result<void> PciHostBridge::assign_bars(PciDevice& device) {
  struct Pending {
    uint32_t index;
    BarSpec spec;
  };
  std::vector<Pending> bars;
  for (uint32_t i = 0; i < kNumBars; ++i) {
    if (auto spec = device.bar_spec(i)) bars.push_back({i, *spec});
  }
  // Biggest first: every BAR after the first lands aligned without a gap.
  std::stable_sort(bars.begin(), bars.end(), [](const Pending& a, const Pending& b) { return a.spec.size > b.spec.size; });
  std::vector<std::pair<uint32_t, uint64_t>> placed;
  auto place = [](uint64_t& cursor, const Window& w, uint64_t size) -> std::optional<uint64_t> {
    if (w.size == 0) return std::nullopt;
    const uint64_t at = (cursor + size - 1) & ~(size - 1);
    if (at < cursor || at < w.base || at - w.base > w.size || size > w.size - (at - w.base)) return std::nullopt;
    cursor = at + size;
    return at;
  };
  // Work on copies: a device that does not fit leaves the windows untouched.
  uint64_t m32 = next_mmio32_, m64 = next_mmio64_, io = next_io_;
  for (const auto& b : bars) {
    std::optional<uint64_t> at;
    if (b.spec.kind == BarKind::kIo) {
      at = place(io, windows_.io, b.spec.size);
    } else {
      if (b.spec.kind == BarKind::kMemory64 && b.spec.prefetchable) at = place(m64, windows_.mmio64, b.spec.size);
      if (!at) at = place(m32, windows_.mmio32, b.spec.size);
    }
    if (!at) {
      return fail(ErrorCode::kInvalidArgument, "pci: BAR {} of {} ({:#x} bytes) does not fit the PCI windows", b.index,
                  device.name(), b.spec.size);
    }
    placed.emplace_back(b.index, *at);
  }
  for (const auto& [index, address] : placed) device.assign_bar(index, address);
  next_mmio32_ = m32;
  next_mmio64_ = m64;
  next_io_ = io;
  return {};
}

void PciHostBridge::set_msi_sink(MsiSink sink) {
  msi_sink_ = std::move(sink);
  for (uint32_t d = 1; d < kMaxDevices; ++d) {
    if (bus_->slots[d]) bus_->slots[d]->set_msi_sink(msi_sink_);
  }
}

std::shared_ptr<PciDevice> PciHostBridge::device(uint8_t slot) const {
  return slot < kMaxDevices ? bus_->slots[slot] : nullptr;
}

uint32_t PciHostBridge::config_read(uint8_t device, uint8_t function, uint32_t reg, uint32_t size) {
  return bus_->read(device, function, reg, size);
}

void PciHostBridge::config_write(uint8_t device, uint8_t function, uint32_t reg, uint32_t size, uint32_t value) {
  bus_->write(device, function, reg, size, value);
}

std::vector<IntxRoute> PciHostBridge::intx_routes() const {
  std::vector<IntxRoute> routes;
  for (uint8_t d = 0; d < kMaxDevices; ++d) {
    if (!bus_->slots[d]) continue;
    const uint8_t pin = bus_->slots[d]->interrupt_pin();
    if (pin == 0) continue;
    routes.push_back(IntxRoute{d, 0, pin, intx_line(d, pin)});
  }
  return routes;
}

std::vector<IntxRoute> PciHostBridge::all_intx_routes() {
  std::vector<IntxRoute> routes;
  for (uint8_t d = 0; d < kMaxDevices; ++d) {
    for (uint8_t pin = 1; pin <= 4; ++pin) routes.push_back(IntxRoute{d, 0, pin, intx_line(d, pin)});
  }
  return routes;
}

std::vector<PrtEntry> PciHostBridge::prt_entries() const {
  std::vector<PrtEntry> entries;
  for (const auto& r : intx_routes()) {
    entries.push_back(PrtEntry{uint32_t{r.device} << 16 | 0xffff, static_cast<uint8_t>(r.pin - 1), r.line});
  }
  return entries;
}

bool PciHostBridge::line_level(uint8_t line) const {
  if (line >= kNumIntxLines) return false;
  std::lock_guard lock(bus_->line_mutex);
  return bus_->sources[line] != 0;
}

}  // namespace devices::pci
