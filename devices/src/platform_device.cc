#include "devices/platform_device.h"

namespace devices {

Result<void> map_windows(const std::shared_ptr<PlatformDevice>& device, Bus& pio, Bus& mmio) {
  if (!device) return fail(ErrorCode::kInvalidArgument, "null device");
  for (const Window& w : device->windows()) {
    Bus& bus = w.bus == BusKind::kPio ? pio : mmio;
    std::shared_ptr<Device> target = w.target ? w.target : std::static_pointer_cast<Device>(device);
    if (auto r = bus.add(w.base, w.size, std::move(target), w.name, w.device_offset); !r) return r;
  }
  return {};
}

}  // namespace devices
