// `vmm exec [options] [-- CMD ARGS...]` (DESIGN.md §10): boot a kernel with
// the host's own root shared read-only, run CMD in the working directory with
// stdin/stdout on hvc1 and stderr on hvc2, and exit with its status.
#pragma once

#include <atomic>
#include <optional>
#include <string>
#include <string_view>

#include "vmm/cli.h"

namespace vmm {

// Returns CMD's status, or an ExecExitCode (vmm/exit_codes.h).
int run_exec(const Options& options);

namespace exec {

// What the guest's init says on the hidden console, one line each:
// "minivmm-exec: status N", "... error TEXT", "... missing CONFIG_... TEXT".
// Fed the console's bytes as they come; keeps the last few KiB for a report.
class GuestReport {
 public:
  static constexpr size_t kTailBytes = 3000;
  void feed(std::string_view bytes);
  std::optional<int> status() const { return status_; }
  const std::optional<std::string>& error() const { return error_; }
  const std::optional<std::string>& missing() const { return missing_; }
  const std::string& tail() const { return tail_; }
  // The guest init has set up the command's stdin: host input may flow
  // (what came sooner would meet a tty still echoing, or no reader).
  bool ready() const { return ready_.load(std::memory_order_acquire); }

 private:
  void line(std::string_view text);
  std::string partial_;
  std::string tail_;
  std::optional<int> status_;
  std::optional<std::string> error_, missing_;
  std::atomic<bool> ready_{false};  // read by the stdin thread
};

// The release ("6.1.0-18-amd64") out of a "Linux version ..." banner; empty when there is none.
std::string kernel_release(std::string_view version);

}  // namespace exec
}  // namespace vmm
