// The `vmm` command line, parsed into plain data. The parser never prints or
// exits: main() decides what to do with a usage error, so tests can call it.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "loader/kernel.h"

namespace vmm {

enum class Command {
  kRun,      // vmm --kernel K [options]
  kDryRun,   // vmm --kernel K [options] --dry-run
  kInspect,  // vmm inspect KERNEL [--json]
  kHelp,     // vmm --help
  kVersion,  // vmm --version
};

enum class BootMode { kAuto, kLinux, kPvh };

enum class ConsoleKind { kStdio, kFile, kNone };

struct ConsoleOptions {
  ConsoleKind kind = ConsoleKind::kStdio;
  std::string path;  // kFile only
};

inline constexpr uint64_t kMinMemory = 16ull << 20;
inline constexpr uint64_t kMaxMemory = 1ull << 40;
inline constexpr uint64_t kDefaultMemory = 512ull << 20;
inline constexpr uint32_t kMaxCpus = 254;  // x86: 8-bit APIC ids, 0xff is broadcast

// The kernel command line: nullopt when --cmdline was not given (the VMM's
// default applies), "" when it was given empty (an empty command line).
//
// Transitional: run_command.cc still reads this as the std::string it was
// (`if (!options.cmdline.empty()) c.cmdline = options.cmdline;`), so empty()
// means "not given" and the conversion yields the given text. Replace with a
// plain std::optional<std::string> once it reads
// `if (options.cmdline) c.cmdline = *options.cmdline;`.
struct CmdlineOption : std::optional<std::string> {
  using std::optional<std::string>::optional;
  using std::optional<std::string>::operator=;
  bool empty() const { return !has_value(); }
  operator const std::string&() const {
    static const std::string kNotGiven;
    return has_value() ? **this : kNotGiven;
  }
};

struct Options {
  Command command = Command::kRun;
  std::string kernel;
  std::optional<std::string> initrd;
  CmdlineOption cmdline;  // as the user gave it; nullopt when not given
  uint64_t memory = kDefaultMemory;
  uint32_t cpus = 1;
  loader::Arch arch = loader::Arch::kX86_64;  // parse_command_line sets the host's by default
  BootMode boot = BootMode::kAuto;
  ConsoleOptions console;
  std::optional<std::string> expect;  // PCRE2 pattern, known to compile (ExpectPattern)
  std::optional<std::chrono::seconds> timeout;
  bool boot_report = false;
  bool dry_run = false;
  std::optional<std::string> dump_dtb;
  bool json = false;
};

struct UsageError {
  std::string message;  // one line, no "vmm: " prefix
};

// args excludes argv[0].
std::expected<Options, UsageError> parse_command_line(std::span<const char* const> args);

// The architecture this binary runs on.
loader::Arch host_arch();

// "512M", "2G", "16777216", "1T" (K/M/G/T, either case, powers of 1024).
std::expected<uint64_t, std::string> parse_size(std::string_view text);

std::string_view to_string(BootMode mode);

std::string help_text();
// What main() prints for a usage error: "vmm: MESSAGE (see vmm --help)\n".
std::string usage_error_line(const UsageError& error);
std::string version_text();

}  // namespace vmm
