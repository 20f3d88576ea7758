#include "vmm/boot_report.h"

#include <sys/resource.h>

#include <fmt/format.h>

namespace vmm {

namespace {
const SteadyTime g_process_start = std::chrono::steady_clock::now();

std::string since(const SteadyTime& start, const std::optional<SteadyTime>& t) {
  if (!t) return "not seen";
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(*t - start).count();
  return fmt::format("{:.1f} ms", static_cast<double>(us) / 1000.0);
}

std::string mib(uint64_t bytes) { return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1024.0 * 1024.0)); }
}  // namespace

SteadyTime process_start_time() { return g_process_start; }

uint64_t peak_rss_bytes() {
  rusage u{};
  if (getrusage(RUSAGE_SELF, &u) != 0) return 0;
  return static_cast<uint64_t>(u.ru_maxrss) * 1024;  // Linux reports KiB
}

void BootReport::take_exits(const ExitCounters& c) {
  exits_io = c.io.load();
  exits_mmio = c.mmio.load();
  exits_hlt = c.hlt.load();
  exits_shutdown = c.shutdown.load();
  exits_system_event = c.system_event.load();
  exits_intr = c.intr.load();
  exits_irq_window = c.irq_window.load();
  exits_internal_error = c.internal_error.load();
  exits_fail_entry = c.fail_entry.load();
  exits_other = c.other.load();
}

std::string BootReport::format() const {
  std::string s = "minivmm boot report\n";
  s += fmt::format("  boot path:                {} ({} vCPU{})\n", boot_path, cpus, cpus == 1 ? "" : "s");
  s += fmt::format("  outcome:                  {}\n", outcome);
  s += fmt::format("  set-up (start→KVM_RUN):   {}\n", since(start, first_kvm_run));
  if (!setup_phases.empty()) {
    // Each step's own duration: where the set-up time above went.
    std::string parts;
    SteadyTime from = start;
    auto add = [&](std::string_view name, SteadyTime to) {
      auto us = std::chrono::duration_cast<std::chrono::microseconds>(to - from).count();
      parts += fmt::format("{}{} {:.1f} ms", parts.empty() ? "" : ", ", name, static_cast<double>(us) / 1000.0);
      from = to;
    };
    for (const auto& p : setup_phases) add(p.name, p.end);
    if (first_kvm_run) add("threads", *first_kvm_run);
    s += fmt::format("    by step:                {}\n", parts);
  }
  // The decompression is most of a PVH bzImage's "kernel+initrd" step unless the cache served it.
  if (!kernel_source.empty()) s += fmt::format("    kernel:                 {}\n", kernel_source);
  s += fmt::format("  first console byte:       {}\n", since(start, first_console_byte));
  s += fmt::format("  \"Linux version\":          {}\n", since(start, banner));
  s += fmt::format("  \"Run /init\":              {}\n", since(start, init));
  s += fmt::format("  exit of the VMM:          {}\n", since(start, end));
  s += fmt::format("  console bytes:            {}\n", console_bytes);
  uint64_t total = exits_io + exits_mmio + exits_hlt + exits_shutdown + exits_system_event + exits_intr +
                   exits_irq_window + exits_internal_error + exits_fail_entry + exits_other;
  s += fmt::format("  exits:                    {} total: io {}, mmio {}, hlt {}, shutdown {}, system-event {}, "
                   "intr {}, irq-window {}, internal-error {}, fail-entry {}, other {}\n",
                   total, exits_io, exits_mmio, exits_hlt, exits_shutdown, exits_system_event, exits_intr,
                   exits_irq_window, exits_internal_error, exits_fail_entry, exits_other);
  auto unknown = [](const devices::BusStats& b) {
    if (!b.any_unknown) return std::string("none");
    return fmt::format("{} reads, {} writes (first at {:#x})", b.unknown_reads, b.unknown_writes,
                       b.first_unknown_address);
  };
  // Each access here is one exit to the VMM (a rep ins/outs: one per item;
  // a queued write: none), so these lines say which device a boot's exits
  // went to.
  auto ranges = [&s](std::string_view what, const std::vector<devices::RangeCount>& counts) {
    if (counts.empty()) return;
    s += fmt::format("  {} accesses by range:\n", what);
    for (const auto& c : counts) {
      s += fmt::format("    {} [{:#x}+{:#x}]: {} reads, {} writes\n", c.name, c.base, c.size, c.reads, c.writes);
    }
  };
  if (queued_writes_on) {
    s += fmt::format("  queued writes (no exit):  {} (counted in the ranges below){}\n", queued_writes,
                     queued_malformed ? fmt::format(", {} malformed ring entries skipped", queued_malformed) : "");
  }
  ranges("port", pio_ranges);
  ranges("MMIO", mmio_ranges);
  s += fmt::format("  unknown port accesses:    {}\n", unknown(pio));
  s += fmt::format("  unknown MMIO accesses:    {}\n", unknown(mmio));
  if (last_post_code) {
    s += fmt::format("  port 0x80 writes:         {} (last {:#04x})\n", post_code_writes, *last_post_code);
  } else {
    s += "  port 0x80 writes:         0\n";
  }
  s += fmt::format("  peak RSS:                 {} (guest memory {}; RSS includes the guest pages touched)\n",
                   mib(peak_rss_bytes), mib(guest_memory_bytes));
  if (current_rss_bytes >= guest_resident_bytes) {
    s += fmt::format("  VMM overhead at exit:     {} (RSS {} minus {} of guest pages resident)\n",
                     mib(current_rss_bytes - guest_resident_bytes), mib(current_rss_bytes),
                     mib(guest_resident_bytes));
  }
  if (!virtio.empty()) {
    s += fmt::format("  virtio doorbells:         {}\n", virtio_mode);
    for (const auto& v : virtio) {
      s += fmt::format("    {}: {} notifications, {} I/O thread wake-ups, {} via register writes\n", v.device,
                       v.notifications, v.wakeups, v.slow_path);
      if (!v.detail.empty()) s += fmt::format("      {}\n", v.detail);
    }
  }
  // One "note:" per line of notes.
  for (size_t begin = 0; begin < notes.size();) {
    size_t end = notes.find('\n', begin);
    if (end == std::string::npos) end = notes.size();
    if (end > begin) s += fmt::format("  note: {}\n", notes.substr(begin, end - begin));
    begin = end + 1;
  }
  return s;
}

}  // namespace vmm
