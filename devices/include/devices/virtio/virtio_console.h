// virtio-console (virtio 1.2 §5.3) with one port and no MULTIPORT: receiveq
// 0 carries host input to the guest, transmitq 1 carries guest output to the
// host. Config cols/rows stay 0 (no VIRTIO_CONSOLE_F_SIZE).
//
// Host input is buffered up to a bound until the driver posts receive
// buffers; enqueue_input returns how much it took, so the caller (the host
// console) applies back-pressure instead of the device growing without limit.
//
// Thread safety: notify (I/O thread), enqueue_input (console thread) and
// reset (vCPU thread) may race; one mutex guards the state. The output
// callback runs with that mutex held and must not call back into the device.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <span>
#include <string>

#include "devices/virtio/virtio_device.h"

namespace devices::virtio {

class VirtioConsole final : public VirtioDevice {
 public:
  using Output = std::function<void(std::span<const std::byte>)>;
  static constexpr uint16_t kReceiveQueue = 0;
  static constexpr uint16_t kTransmitQueue = 1;
  static constexpr size_t kDefaultInputCapacity = 64 * 1024;
  // cols u16, rows u16, max_nr_ports u32, emerg_wr u32.
  static constexpr uint32_t kConfigSize = 12;

  explicit VirtioConsole(Output output, size_t input_capacity = kDefaultInputCapacity);

  DeviceType type() const override { return DeviceType::kConsole; }
  std::string_view name() const override { return "virtio-console"; }
  uint64_t device_features() const override;
  uint16_t num_queues() const override { return 2; }
  uint32_t config_size() const override { return kConfigSize; }
  void read_config(uint32_t offset, std::span<std::byte> data) override;
  bool activate(const Activation& activation, std::string& why) override;
  void notify(uint16_t queue) override;
  void reset() override;

  // Host input for the guest. Returns how many bytes were taken (fewer than
  // offered once the buffer is full); they reach the guest as soon as it has
  // receive buffers.
  size_t enqueue_input(std::span<const std::byte> bytes);
  size_t pending_input() const;
  // How much enqueue_input would take now (the host console paces on it).
  size_t input_room() const;

 private:
  void deliver_input();  // mutex_ held
  void transmit();       // mutex_ held
  void fail(uint16_t queue, const std::string& error);

  Output output_;
  size_t input_capacity_;
  mutable std::mutex mutex_;
  std::deque<std::byte> input_;
  bool active_ = false;
  bool failed_ = false;
  Virtqueue* rx_ = nullptr;
  Virtqueue* tx_ = nullptr;
  TransportHooks* hooks_ = nullptr;
};

}  // namespace devices::virtio
