// A PCI function as the host bridge sees it: a configuration space, up to
// six BARs whose contents the device serves, an INTx pin and optionally an
// MSI-X table in one of its BARs. Concrete devices derive from PciDevice,
// declare their identity, BARs and capabilities in their constructor (before
// the device is shared with the bridge) and implement bar_read/bar_write.
//
// Threading: config and BAR accesses come from vCPU threads, interrupts may
// be raised from I/O threads. One mutex (mutex_, shared with the derived
// class) guards the config space, the MSI-X state and the device's own
// registers. The INTx line and the MSI sink are called with that mutex
// held, so their deliveries stay ordered; they must not call back into the
// device. The BAR observer runs without the mutex (the VMM queries the
// device from it) but serialised with other observer calls.
//
// Which BAR decodes an address is answered lock-free (atomics), since the
// BAR window dispatcher asks for every MMIO exit.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "devices/device.h"
#include "devices/error.h"
#include "devices/pci/config_space.h"
#include "devices/pci/msix.h"

namespace devices::pci {

// One MSI as a function sends it. The message is what the guest programmed;
// the vector and the requester ID (bus << 8 | device << 3 | function) name
// its source, which an interrupt translator needs (a GICv3 ITS tells devices
// apart by the requester ID, and the VMM keeps one KVM route per vector).
struct Msi {
  MsiMessage message;
  uint16_t vector = 0;
  uint16_t requester_id = 0;
};
// Delivers one MSI: the VMM turns it into KVM_SIGNAL_MSI or an irqfd write.
using MsiSink = std::function<void(const Msi& msi)>;

// A BAR's place in the guest address space as the guest last left it.
struct BarMapping {
  uint32_t index = 0;
  BarKind kind = BarKind::kMemory32;
  uint64_t address = 0;
  uint64_t size = 0;
  bool decoding = false;  // the command register enables its space
};
// Told when a BAR's address or its decode enable changes (the VMM moves its
// ioeventfds with it).
using BarObserver = std::function<void(const BarMapping&)>;

enum class AddressSpace : uint8_t { kMemory, kIo };

struct BarHit {
  uint32_t bar = 0;
  uint64_t offset = 0;
};

class PciDevice {
 public:
  PciDevice(const PciDevice&) = delete;
  PciDevice& operator=(const PciDevice&) = delete;
  virtual ~PciDevice() = default;

  virtual std::string_view name() const = 0;

  // Configuration space (size 1, 2 or 4; see ConfigSpace for the edges).
  uint32_t config_read(uint32_t offset, uint32_t size);
  void config_write(uint32_t offset, uint32_t size, uint32_t value);

  // An access inside BAR `bar` at `offset` from its start. The dispatcher
  // only calls these for accesses that lie wholly inside a decoding BAR.
  virtual void bar_read(uint32_t bar, uint64_t offset, std::span<std::byte> data) = 0;
  virtual void bar_write(uint32_t bar, uint64_t offset, std::span<const std::byte> data) = 0;

  // Wiring, done by the bridge / the VMM before the vCPUs run.
  void connect_intx(IrqLine line);
  void set_msi_sink(MsiSink sink);
  void set_bar_observer(BarObserver observer);
  // Where the function sits (the bridge sets it when it takes the device):
  // every MSI carries it.
  void set_requester_id(uint16_t requester_id);
  uint16_t requester_id() const;

  uint8_t interrupt_pin() const;
  // Vectors of the MSI-X capability (0: none).
  uint16_t msix_vectors() const { return msix_ ? msix_->vectors() : 0; }
  std::optional<BarSpec> bar_spec(uint32_t index) const;
  BarMapping bar_mapping(uint32_t index) const;
  // Firmware-style placement: program BAR `index` and enable decoding of its
  // address space in the command register, as firmware leaves it.
  void assign_bar(uint32_t index, uint64_t address);
  // The BAR decoding [address, address+len) in `space`, lock-free.
  std::optional<BarHit> decode(AddressSpace space, uint64_t address, uint64_t len) const;

  // Current INTx level on the wire (after INTx-disable), for tests and dumps.
  bool intx_level() const;

 protected:
  PciDevice();

  // Constructor-time setup.
  Result<void> declare_bar(uint32_t index, const BarSpec& spec);
  // An MSI-X capability whose table and PBA live in BAR `bar` at the given
  // offsets (8-byte aligned, table and PBA must not overlap).
  Result<void> add_msix(uint16_t vectors, uint32_t bar, uint32_t table_offset, uint32_t pba_offset);

  // Everything below needs mutex_ held.
  // Sets the function's INTx state (the status bit) and drives the line
  // unless INTx is disabled in the command register.
  void set_intx_locked(bool asserted);
  bool msix_enabled_locked() const;
  // Raises `vector`: delivered when MSI-X is enabled and neither the
  // function nor the vector is masked, else its pending bit is set (while
  // enabled). Out-of-range vectors are dropped.
  void msix_signal_locked(uint16_t vector);
  // Serves the MSI-X table/PBA part of a BAR access; false when the access
  // is not theirs. Accesses straddling the table edge are the table's.
  bool msix_read_locked(uint32_t bar, uint64_t offset, std::span<std::byte> data) const;
  bool msix_write_locked(uint32_t bar, uint64_t offset, std::span<const std::byte> data);
  void msix_reset_locked();
  // Called after every guest config write, mutex held.
  virtual void on_config_write_locked(uint32_t /*offset*/, uint32_t /*size*/) {}

  mutable std::mutex mutex_;
  ConfigSpace config_;

 private:
  static constexpr uint64_t kNotDecoding = ~0ull;
  // Recomputes the published decode state; returns the BARs that changed.
  std::vector<BarMapping> refresh_decode_locked();
  BarMapping mapping_locked(uint32_t index) const;
  void deliver_pending_locked();
  void send_msi_locked(uint16_t vector);
  void update_intx_line_locked();
  void notify_observer(const std::vector<BarMapping>& changed);

  std::array<std::atomic<uint64_t>, kNumBars> decode_base_;
  std::array<uint64_t, kNumBars> bar_size_{};
  std::array<AddressSpace, kNumBars> bar_space_{};

  IrqLine intx_;
  bool intx_asserted_ = false;
  bool intx_line_level_ = false;
  MsiSink msi_sink_;
  uint16_t requester_id_ = 0;
  std::mutex observer_mutex_;
  BarObserver observer_;

  std::optional<MsixTable> msix_;
  uint32_t msix_cap_ = 0;
  uint32_t msix_bar_ = 0;
  uint64_t msix_table_offset_ = 0;
  uint64_t msix_pba_offset_ = 0;
};

}  // namespace devices::pci
