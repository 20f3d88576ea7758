// `vmm --kernel K ...`: boot a kernel in a KVM VM with a console and wait
// for it to finish. run_vm reads as the sequence of its parts: the checked
// options, the console, the machine (memory, devices, boot data, KVM,
// vCPUs), the event loop with its exit policy, and the report.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vmm/cli.h"
#include "vmm/exit_codes.h"

namespace vmm {

// What a command built on run_vm (vmm exec) changes about a run.
struct RunHooks {
  // Every byte of the main console, in order, on the event loop's thread.
  std::function<void(std::string_view)> console_tap;
  // Extra virtio consoles (hvc1, hvc2, ...) and where their output goes;
  // called on the devices' I/O threads.
  std::vector<std::function<void(std::span<const std::byte>)>> extra_consoles;
  // Host stdin goes to extra console `input_console` (not the main console).
  int input_console = -1;
  // When set, host input waits until it returns true.
  std::function<bool()> input_ready;
  // Whether Ctrl-A x on stdin quits (off when stdin is data, not a person).
  bool input_escape = true;
  // Sent to the guest once stdin ends (a terminal's end-of-file character; see ConsoleInput).
  std::optional<char> input_eof_char;
  // Put a terminal on stdin in raw mode (without hooks: when --console is stdio).
  bool raw_stdin = false;
  // Guest console output goes to stderr instead of the --console sink.
  bool console_to_stderr = false;
  // The exit code after a seccomp violation (--seccomp kill).
  int seccomp_exit_code = kExitSeccomp;
};

// Runs the VM to the end; returns an ExitCode (vmm/exit_codes.h). Errors are
// printed to stderr prefixed "vmm: ".
int run_vm(const Options& options, const RunHooks* hooks = nullptr);

}  // namespace vmm
