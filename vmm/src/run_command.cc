#include "vmm/run_command.h"

namespace vmm {

RunConfig run_config_from(const Options& options) {
  RunConfig c;
  c.kernel = options.kernel;
  c.initrd = options.initrd;
  if (!options.cmdline.empty()) c.cmdline = options.cmdline;
  c.memory = options.memory;
  c.cpus = options.cpus;
  switch (options.boot) {
    case BootMode::kAuto: c.boot = BootPath::kAuto; break;
    case BootMode::kLinux: c.boot = BootPath::kLinux; break;
    case BootMode::kPvh: c.boot = BootPath::kPvh; break;
  }
  switch (options.console.kind) {
    case ConsoleKind::kStdio: c.console = ConsoleSink::kStdio; break;
    case ConsoleKind::kFile: c.console = ConsoleSink::kFile; break;
    case ConsoleKind::kNone: c.console = ConsoleSink::kNone; break;
  }
  c.console_path = options.console.path;
  c.expect = options.expect;
  if (options.timeout) c.timeout_seconds = static_cast<double>(options.timeout->count());
  c.boot_report = options.boot_report;
  return c;
}

}  // namespace vmm
