// `--boot-report`: where the time of a boot went and what it cost, printed
// to stderr when the VMM exits.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "devices/bus.h"

namespace vmm {

using SteadyTime = std::chrono::steady_clock::time_point;

// The earliest moment the VMM can observe (static initialisation), close
// enough to process start for a set-up time (exec and dynamic linking are
// not included).
SteadyTime process_start_time();

// KVM exits by kind, counted by every vCPU thread.
struct ExitCounters {
  std::atomic<uint64_t> io{0}, mmio{0}, hlt{0}, shutdown{0}, system_event{0}, intr{0}, irq_window{0},
      internal_error{0}, fail_entry{0}, other{0};
};

// The end of one step of the VMM's set-up ("kernel and initrd loaded").
struct SetupPhase {
  std::string name;
  SteadyTime end;
};

struct BootReport {
  SteadyTime start;
  std::optional<SteadyTime> first_kvm_run, first_console_byte, banner, init, end;
  std::vector<SetupPhase> setup_phases;  // in order, all before first_kvm_run
  std::string kernel_source;  // the kernel cache's outcome when the VMM decompressed the kernel, else empty
  uint64_t console_bytes = 0;
  uint64_t exits_io = 0, exits_mmio = 0, exits_hlt = 0, exits_shutdown = 0, exits_system_event = 0,
           exits_intr = 0, exits_irq_window = 0, exits_internal_error = 0, exits_fail_entry = 0, exits_other = 0;
  devices::BusStats pio, mmio;
  std::vector<devices::RangeCount> pio_ranges, mmio_ranges;  // busiest first
  // Writes KVM queued instead of exiting (CoalescedRing), delivered late.
  bool queued_writes_on = false;
  uint64_t queued_writes = 0, queued_malformed = 0;
  uint64_t post_code_writes = 0;
  std::optional<uint8_t> last_post_code;
  uint64_t peak_rss_bytes = 0;
  uint64_t guest_memory_bytes = 0;
  uint64_t current_rss_bytes = 0;     // at exit
  uint64_t guest_resident_bytes = 0;  // guest pages resident at exit (mincore)
  uint32_t cpus = 1;
  std::string boot_path;  // "linux (bzImage)", "pvh (bzImage → vmlinux)", ...
  std::string outcome;    // why the VM ended
  std::string notes;      // lines about host quirks worked around
  struct VirtioLine {
    std::string device;
    uint64_t notifications = 0, wakeups = 0, slow_path = 0;
    std::string detail;  // a second line of the device's own counters, or empty
  };
  std::string virtio_mode;  // how doorbells reach the devices ("ioeventfd")
  std::vector<VirtioLine> virtio;

  void take_exits(const ExitCounters& c);
  std::string format() const;
};

// ru_maxrss in bytes.
uint64_t peak_rss_bytes();

}  // namespace vmm
