// `vmm`: parse the command line, run one command, turn the outcome into an
// exit code. Each command lives in its own file.
#include <signal.h>

#include <cstdio>
#include <exception>
#include <span>
#include <string_view>
#include <system_error>

#include <fmt/format.h>

#include "vmm/cli.h"
#include "vmm/dry_run_command.h"
#include "vmm/exec_command.h"
#include "vmm/exit_codes.h"
#include "vmm/inspect_command.h"
#include "vmm/run.h"
#include "vmm/seccomp_policy.h"
#include "vmm/text.h"

namespace {

int run(int argc, char** argv) {
  const char* const* args = argv;
  auto options = vmm::parse_command_line(std::span(args + (argc > 0 ? 1 : 0), argc > 0 ? argc - 1 : 0));
  if (!options) {
    vmm::write_stderr(vmm::usage_error_line(options.error()));
    // vmm exec's own status space: its usage errors are its failures.
    bool exec = false;
    for (int i = 1; i < argc && std::string_view(argv[i]) != "--"; ++i) exec |= std::string_view(argv[i]) == "exec";
    return exec ? static_cast<int>(vmm::kExitExecFailed) : static_cast<int>(vmm::kExitUsage);
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
      return vmm::run_vm(*options);
    case vmm::Command::kExec:
      return vmm::run_exec(*options);
    case vmm::Command::kSeccompReport:
      fmt::print("{}", vmm::seccomp::report());
      return vmm::kExitOk;
  }
  return vmm::kExitInternal;
}

}  // namespace

int main(int argc, char** argv) {
  // A reader of our output that goes away (`vmm ... | head`) must not kill
  // us with the terminal still raw: writes then fail with EPIPE instead.
  signal(SIGPIPE, SIG_IGN);
  try {
    return run(argc, argv);
  } catch (const std::system_error& e) {
    // Our reader went away (`vmm --dry-run | head`): nothing left to say.
    if (e.code() == std::errc::broken_pipe) return vmm::kExitOk;
    vmm::write_stderr(fmt::format("vmm: internal error: {}\n", e.what()));
  } catch (const std::exception& e) {
    // RAII has restored the terminal by the time we get here.
    vmm::write_stderr(fmt::format("vmm: internal error: {}\n", e.what()));
  } catch (...) {
    vmm::write_stderr("vmm: internal error: unknown exception\n");
  }
  return vmm::kExitInternal;
}
