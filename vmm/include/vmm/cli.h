// The `vmm` command line, parsed into plain data. The parser never prints or
// exits: main() decides what to do with a usage error, so tests can call it.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "loader/kernel.h"
#include "vmm/seccomp_policy.h"

namespace vmm {

enum class Command {
  kRun,      // vmm --kernel K [options]
  kDryRun,   // vmm --kernel K [options] --dry-run
  kInspect,  // vmm inspect KERNEL [--json]
  kExec,     // vmm exec [options] [-- CMD ARGS...]
  kHelp,     // vmm --help
  kVersion,  // vmm --version
  kSeccompReport,  // vmm seccomp-report (hidden): the allow-lists' figures
};

enum class BootMode { kAuto, kLinux, kPvh };

enum class ConsoleKind { kStdio, kFile, kNone };

struct ConsoleOptions {
  ConsoleKind kind = ConsoleKind::kStdio;
  std::string path;  // kFile only
};

// kPci (the default): a PCI host bridge, because every distribution kernel
// builds virtio-pci where virtio-mmio is a module and, on x86, needs ACPI
// entries (DESIGN.md §9). kNone: no virtio devices at all.
enum class VirtioTransport { kNone, kPci, kMmio };
enum class DiskCache { kWriteback, kNone };

// One --disk PATH[,ro][,serial=ID][,cache=writeback|none].
struct DiskOptions {
  std::string path;
  bool read_only = false;
  std::string serial;  // virtio-blk GET_ID: at most kMaxDiskSerial bytes
  DiskCache cache = DiskCache::kWriteback;
};
inline constexpr size_t kMaxDiskSerial = 20;

// One --share HOSTDIR[,tag=TAG][,ro][,proto=virtiofs|9p]: a host directory the
// VMM serves itself (virtio-fs or virtio-9p); the guest mounts it by its tag.
enum class ShareProto { kVirtiofs, k9p };
struct ShareOptions {
  std::string host_dir;
  std::string tag;  // given, or derived from host_dir's last component ("root" for /)
  bool read_only = false;
  ShareProto proto = ShareProto::kVirtiofs;
};
// virtio-fs's config field holds 36 bytes; 9p takes the same limit so a tag
// works with either protocol.
inline constexpr size_t kMaxShareTag = 36;

// One --net user[,hostfwd=...]...[,mac=MAC] or --net tap=IFNAME[,mac=MAC]:
// a virtio-net device on libslirp's user-mode stack or on a TAP interface.
enum class NetKind { kUser, kTap };
// hostfwd=[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT (QEMU's syntax).
struct NetForward {
  bool udp = false;
  std::string host_addr;   // empty: every address
  uint16_t host_port = 0;  // 1..65535
  std::string guest_addr;  // empty: the guest's DHCP address (10.0.2.15)
  uint16_t guest_port = 0;
  std::string text;        // as written, for messages
};
struct NetOptions {
  NetKind kind = NetKind::kUser;
  std::string tap;                             // kTap: the interface name
  std::vector<NetForward> forwards;            // kUser only
  std::optional<std::array<uint8_t, 6>> mac;   // default: 52:54:00:12:34:56 + the device's index
};

inline constexpr uint64_t kMinMemory = 16ull << 20;
inline constexpr uint64_t kMaxMemory = 1ull << 40;
inline constexpr uint64_t kDefaultMemory = 512ull << 20;
inline constexpr uint32_t kMaxCpus = 254;  // x86: 8-bit APIC ids, 0xff is broadcast

// What `vmm exec` adds (DESIGN.md §10).
struct ExecOptions {
  std::vector<std::string> command;  // empty: an interactive shell
  ShareProto fs = ShareProto::kVirtiofs;  // how the host's root (and every --share) reaches the guest
  bool verbose = false;                   // show the guest kernel's console on stderr
  std::optional<std::string> modules;     // a /lib/modules/VERSION tree (default: the kernel's own version's)
  std::string append;                     // extra kernel command-line words
  // Write the initrd this run would boot to this file, print the kernel and
  // its command line, and stop: another VMM can then run the very same guest
  // (scripts/bench_exec.sh runs it under QEMU).
  std::optional<std::string> save_initrd;
};

// Everything one invocation of `vmm` asks for: the CLI fills it in, the run,
// the dry run and inspect read it (one type, so nothing is lost in a copy).
struct Options {
  Command command = Command::kRun;
  std::string kernel;
  std::optional<std::string> initrd;
  // As the user gave it (an explicitly empty one stays empty); without it the
  // devices' defaults are used (console=ttyS0).
  std::optional<std::string> cmdline;
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
  std::string kvm_device = "/dev/kvm";
  std::vector<DiskOptions> disks;  // virtio-blk, in the order given
  std::vector<ShareOptions> shares;  // virtio-fs / virtio-9p, in the order given
  std::vector<NetOptions> nets;      // virtio-net, in the order given
  bool rng = true;                 // virtio-rng (--no-rng turns it off)
  bool kernel_cache = true;        // decompressed bzImage payloads kept on disk (--no-kernel-cache: never touched)
  VirtioTransport transport = VirtioTransport::kPci;
  seccomp::Mode seccomp = seccomp::kDefaultMode;  // --seccomp kill|log|off
  ExecOptions exec;  // Command::kExec only; kernel may then be empty (the host's running kernel)
};

struct UsageError {
  std::string message;  // one line, no "vmm: " prefix
};

// args excludes argv[0].
std::expected<Options, UsageError> parse_command_line(std::span<const char* const> args);

// The limits of the guest architecture (RAM size and alignment, vCPU count,
// a foreign --arch only with --dry-run), as usage errors. parse_command_line
// applies it, so a dry run accepts exactly what a boot accepts.
std::expected<void, UsageError> check_vm_options(const Options& options);

// The architecture this binary runs on.
loader::Arch host_arch();

// "512M", "2G", "16777216", "1T" (K/M/G/T, either case, powers of 1024).
std::expected<uint64_t, std::string> parse_size(std::string_view text);

std::string_view to_string(BootMode mode);
std::string_view to_string(VirtioTransport transport);
// One --disk value (without the option name), as a usage error naming it.
std::expected<DiskOptions, UsageError> parse_disk(std::string_view text);
std::string_view to_string(ShareProto proto);
// One --share value (without the option name). The tag, when not given, is
// host_dir's last component with anything outside [A-Za-z0-9._-] made '_'.
std::expected<ShareOptions, UsageError> parse_share(std::string_view text);

// One --net value (without the option name).
std::expected<NetOptions, UsageError> parse_net(std::string_view text);
// "52:54:00:12:34:56".
std::string format_mac(const std::array<uint8_t, 6>& mac);

std::string help_text();
// What main() prints for a usage error: "vmm: MESSAGE (see vmm --help)\n".
std::string usage_error_line(const UsageError& error);
std::string version_text();

}  // namespace vmm
