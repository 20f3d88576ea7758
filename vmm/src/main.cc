// `vmm`: parse the command line, run one command, turn the outcome into an
// exit code. Each command lives in its own file.
#include <cstdio>
#include <span>

#include <fmt/format.h>

#include "vmm/cli.h"
#include "vmm/dry_run_command.h"
#include "vmm/exit_codes.h"
#include "vmm/inspect_command.h"
#include "vmm/run_command.h"

int main(int argc, char** argv) {
  const char* const* args = argv;
  auto options = vmm::parse_command_line(std::span(args + (argc > 0 ? 1 : 0), argc > 0 ? argc - 1 : 0));
  if (!options) {
    fmt::print(stderr, "{}", vmm::usage_error_line(options.error()));
    return vmm::kExitUsage;
  }
  switch (options->command) {
    case vmm::Command::kHelp:
      fmt::print("{}", vmm::help_text());
      return vmm::kExitOk;
    case vmm::Command::kVersion:
      fmt::print("{}", vmm::version_text());
      return vmm::kExitOk;
    case vmm::Command::kInspect:
      return vmm::run_inspect(*options, stdout, stderr);
    case vmm::Command::kDryRun:
      return vmm::run_dry_run(*options, stdout, stderr);
    case vmm::Command::kRun:
      return vmm::run_vm(vmm::run_config_from(*options));
  }
  return vmm::kExitInternal;
}
