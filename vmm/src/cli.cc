#include "vmm/cli.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <charconv>
#include <sstream>
#include <vector>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "boot/device_map.h"
#include "boot/memory_maps.h"
#include "devices/pci/host_bridge.h"
#include "loader/cmdline.h"
#include "vmm/console_watch.h"
#include "vmm/exit_codes.h"
#include "vmm/expect_pattern.h"
#include "vmm/text.h"

#ifndef MINIVMM_VERSION
#define MINIVMM_VERSION "unknown"
#endif

namespace vmm {
namespace po = boost::program_options;

static_assert(ConsoleWatch::kWindow == 4096, "the --expect help text says 4 KiB");

namespace {

constexpr uint64_t kPageSize = 4096;
constexpr uint64_t kMaxTimeoutSeconds = 365ull * 24 * 3600;

std::unexpected<UsageError> usage(std::string message) { return std::unexpected(UsageError{std::move(message)}); }

template <class... Args>
std::unexpected<UsageError> usage(fmt::format_string<Args...> format, Args&&... args) {
  return usage(fmt::format(format, std::forward<Args>(args)...));
}

// Every value is taken as a string and converted here: Boost's lexical_cast
// turns "-1" into 4294967295 for unsigned types, and its messages cannot say
// what range was expected.
po::options_description vm_options() {
  // Long option names (--virtio-transport) go on a line of their own rather
  // than pushing every description into a narrow column.
  po::options_description desc("Options for booting (and --dry-run)", po::options_description::m_default_line_length,
                               po::options_description::m_default_line_length - 28);
  desc.add_options()
      ("kernel", po::value<std::string>()->value_name("PATH"),
       "kernel: bzImage, ELF vmlinux, arm64/riscv64 Image, optionally compressed (required)")
      ("initrd", po::value<std::string>()->value_name("PATH"), "initial ramdisk")
      ("cmdline", po::value<std::string>()->value_name("STR"),
       "kernel command line; words after a standalone -- go to init")
      ("memory", po::value<std::string>()->value_name("SIZE"),
       "guest RAM with a K, M, G or T suffix (powers of 1024; no suffix means bytes); 16M..1T, default 512M")
      ("cpus", po::value<std::string>()->value_name("N"), "vCPUs, 1..254 (default 1)")
      ("arch", po::value<std::string>()->value_name("ARCH"),
       "guest architecture: x86_64, aarch64 or riscv64 (default: the host's)")
      ("boot", po::value<std::string>()->value_name("MODE"),
       "auto|linux|pvh (x86_64): auto takes PVH when the kernel has a PVH entry (a bzImage: when its payload "
       "decompresses to a vmlinux with one), else the Linux 64-bit entry")
      ("no-kernel-cache", po::bool_switch(),
       "decompress a bzImage's payload for PVH every time instead of keeping the vmlinux in "
       "$XDG_CACHE_HOME/minivmm/vmlinux (else ~/.cache/minivmm/vmlinux; at most 4 kernels)")
      ("console", po::value<std::string>()->value_name("WHERE"),
       "stdio (default; raw mode on a terminal, Ctrl-A x quits), file:PATH, or none")
      ("expect", po::value<std::string>()->value_name("REGEX"),
       "exit 0 as soon as a console line matches this Perl-compatible (PCRE2) regular expression; on a line "
       "longer than 4 KiB only its most recent 4 KiB is sure to be searched")
      ("timeout", po::value<std::string>()->value_name("SECS"), "stop the VM after SECS seconds (exit code 6)")
      ("boot-report", po::bool_switch(),
       "print set-up time, times to first console byte, to 'Linux version' and to 'Run /init', exits by kind, "
       "peak RSS")
      ("dry-run", po::bool_switch(),
       "load everything and write every boot structure into guest memory, print the layout and the entry "
       "registers, and exit; needs no /dev/kvm")
      ("dump-dtb", po::value<std::string>()->value_name("PATH"),
       "with --dry-run: write the generated device tree (aarch64, riscv64)")
      ("disk", po::value<std::vector<std::string>>()->composing()->value_name("PATH[,OPTS]"),
       "a virtio-blk disk on a raw image file or block device (repeatable); OPTS, comma-separated: ro "
       "(read-only), serial=ID (the id the guest reads, at most 20 bytes), cache=writeback (default) or cache=none "
       "(O_DIRECT)")
      ("share", po::value<std::vector<std::string>>()->composing()->value_name("DIR[,OPTS]"),
       "serve a host directory to the guest (repeatable); OPTS, comma-separated: tag=TAG (the guest's mount source, "
       "default: DIR's last component), ro (the host refuses every write), proto=virtiofs (default) or proto=9p")
      ("net", po::value<std::vector<std::string>>()->composing()->value_name("user[,OPTS]|tap=IF[,OPTS]"),
       "a virtio-net device (repeatable): user is user-mode networking through libslirp (no privileges; the guest "
       "gets 10.0.2.15 by DHCP, 10.0.2.2 is the host, 10.0.2.3 its DNS), tap=IF an existing TAP interface; OPTS, "
       "comma-separated: hostfwd=[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT (user only, repeatable: "
       "a host port forwarded into the guest), mac=52:54:00:XX:XX:XX (default 52:54:00:12:34:56, then :57, ...)")
      ("no-rng", po::bool_switch(), "leave out the virtio-rng entropy device")
      ("virtio-transport", po::value<std::string>()->value_name("none|pci|mmio"),
       "how the virtio devices (console, rng, --disk) reach the guest: pci (default: a PCI host bridge, MSI-X "
       "where the irqchip routes MSIs, INTx elsewhere), mmio (virtio-mmio windows) or none (no virtio devices)")
      ("seccomp", po::value<std::string>()->value_name("kill|log|off"),
       "seccomp-bpf allow-list per thread once the VM is set up: kill (default: a forbidden system call ends "
       "the VMM with a message naming the thread and the call, exit code 10), log (the kernel logs it and lets "
       "it run), off");
  return desc;
}

po::options_description exec_options() {
  po::options_description desc("Options of vmm exec (with the boot options above, but --initrd, --cmdline, "
                               "--console, --expect, --dry-run, --arch)",
                               po::options_description::m_default_line_length,
                               po::options_description::m_default_line_length - 28);
  desc.add_options()
      ("fs", po::value<std::string>()->value_name("virtiofs|9p"),
       "how the host's / (read-only) and every --share reach the guest (default virtiofs)")
      ("modules", po::value<std::string>()->value_name("DIR"),
       "the kernel's modules, a /lib/modules/VERSION tree (default: /lib/modules/ and the kernel's version)")
      ("append", po::value<std::string>()->value_name("STR"), "extra words for the guest kernel's command line")
      ("verbose", po::bool_switch(), "show the guest kernel's console on stderr")
      ("save-initrd", po::value<std::string>()->value_name("FILE"),
       "write the initrd this run would boot to FILE, print the kernel and its command line, and stop (to run the "
       "same guest under another VMM)");
  return desc;
}

po::options_description general_options() {
  po::options_description desc("General options");
  desc.add_options()
      ("json", po::bool_switch(), "inspect: print JSON instead of a table")
      ("help,h", po::bool_switch(), "print this help and exit")
      ("version", po::bool_switch(), "print the version and exit");
  return desc;
}

po::options_description all_options() {
  po::options_description hidden;
  hidden.add_options()("args", po::value<std::vector<std::string>>());
  po::options_description all;
  all.add(vm_options()).add(exec_options()).add(general_options()).add(hidden);
  return all;
}

std::optional<uint64_t> parse_u64(std::string_view text) {
  uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 10);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::expected<uint64_t, UsageError> parse_memory(const std::string& text) {
  auto size = parse_size(text);
  if (!size) return usage("--memory {}: {}", quoted(text), size.error());
  if (*size < kMinMemory)
    return usage("--memory {}: {} is less than the minimum of 16 MiB{}", quoted(text), human_size(*size),
                 text.find_first_not_of("0123456789") == std::string::npos ? " (no suffix means bytes: try 512M)"
                                                                            : "");
  if (*size > kMaxMemory) return usage("--memory {}: more than the maximum of 1 TiB", quoted(text));
  if (*size % kPageSize != 0) return usage("--memory {}: not a multiple of 4 KiB", quoted(text));
  return *size;
}

std::expected<ConsoleOptions, UsageError> parse_console(const std::string& text) {
  if (text == "stdio") return ConsoleOptions{ConsoleKind::kStdio, {}};
  if (text == "none") return ConsoleOptions{ConsoleKind::kNone, {}};
  if (text.starts_with("file:")) {
    std::string path = text.substr(5);
    if (path.empty()) return usage("--console {}: file: needs a path, e.g. file:console.log", quoted(text));
    return ConsoleOptions{ConsoleKind::kFile, path};
  }
  return usage("--console {}: expected stdio, file:PATH or none", quoted(text));
}

std::expected<Options, UsageError> parse_inspect(const po::variables_map& vm, const std::vector<std::string>& args) {
  for (const auto& name : {"kernel", "initrd", "cmdline", "memory", "cpus", "arch", "boot", "console", "expect",
                           "timeout", "dump-dtb", "disk", "share", "virtio-transport", "seccomp"}) {
    if (vm.count(name)) return usage("inspect: --{} does not apply (usage: vmm inspect KERNEL [--json])", name);
  }
  for (const auto& name : {"boot-report", "dry-run", "no-rng", "no-kernel-cache"}) {
    if (vm[name].as<bool>()) return usage("inspect: --{} does not apply (usage: vmm inspect KERNEL [--json])", name);
  }
  if (args.size() < 2) return usage("inspect: no kernel file given (usage: vmm inspect KERNEL [--json])");
  if (args.size() > 2) return usage("inspect: unexpected argument {}", quoted(args[2]));
  if (args[1].empty()) return usage("inspect: the kernel path is empty");
  Options options;
  options.command = Command::kInspect;
  options.kernel = args[1];
  options.json = vm["json"].as<bool>();
  return options;
}

std::expected<Options, UsageError> parse_vm(const po::variables_map& vm, bool exec = false) {
  Options options;
  options.arch = host_arch();
  options.dry_run = vm["dry-run"].as<bool>();
  options.command = exec ? Command::kExec : options.dry_run ? Command::kDryRun : Command::kRun;
  if (exec) {
    for (const auto& name : {"initrd", "cmdline", "console", "expect", "dump-dtb", "arch"})
      if (vm.count(name)) return usage("exec: --{} does not apply (vmm exec makes its own)", name);
    if (options.dry_run) return usage("exec: --dry-run does not apply");
    if (auto fs = vm.count("fs") ? std::optional(vm["fs"].as<std::string>()) : std::nullopt) {
      if (*fs == "virtiofs") options.exec.fs = ShareProto::kVirtiofs;
      else if (*fs == "9p") options.exec.fs = ShareProto::k9p;
      else return usage("--fs {}: expected virtiofs or 9p", quoted(*fs));
    }
    if (vm.count("modules")) {
      options.exec.modules = vm["modules"].as<std::string>();
      if (options.exec.modules->empty()) return usage("--modules: the path is empty");
    }
    options.exec.verbose = vm["verbose"].as<bool>();
    if (vm.count("append")) options.exec.append = vm["append"].as<std::string>();
    if (vm.count("save-initrd")) {
      options.exec.save_initrd = vm["save-initrd"].as<std::string>();
      if (options.exec.save_initrd->empty()) return usage("--save-initrd: the path is empty");
    }
  } else {
    for (const auto& name : {"fs", "modules", "append", "save-initrd"})
      if (vm.count(name)) return usage("--{} applies to `vmm exec` only", name);
    if (vm["verbose"].as<bool>()) return usage("--verbose applies to `vmm exec` only");
  }
  options.boot_report = vm["boot-report"].as<bool>();
  auto get = [&](const char* name) -> std::optional<std::string> {
    if (!vm.count(name)) return std::nullopt;
    return vm[name].as<std::string>();
  };

  if (vm["json"].as<bool>()) return usage("--json applies to `vmm inspect` only");

  auto kernel = get("kernel");
  if (!kernel && !exec) return usage("no kernel given: use --kernel PATH (or vmm inspect KERNEL)");
  if (kernel && kernel->empty()) return usage("--kernel: the path is empty");
  if (kernel) options.kernel = *kernel;

  if (auto initrd = get("initrd")) {
    if (initrd->empty()) return usage("--initrd: the path is empty");
    options.initrd = *initrd;
  }

  if (auto arch = get("arch")) {
    auto parsed = loader::parse_arch(*arch);
    if (!parsed) return usage("--arch {}: unknown architecture (expected x86_64, aarch64 or riscv64)", quoted(*arch));
    options.arch = *parsed;
  }

  if (auto memory = get("memory")) {
    auto parsed = parse_memory(*memory);
    if (!parsed) return std::unexpected(parsed.error());
    options.memory = *parsed;
  }

  if (auto cpus = get("cpus")) {
    auto n = parse_u64(*cpus);
    if (!n || *n < 1 || *n > kMaxCpus) return usage("--cpus {}: expected a whole number from 1 to {}", quoted(*cpus), kMaxCpus);
    options.cpus = static_cast<uint32_t>(*n);
  }

  if (auto boot = get("boot")) {
    if (*boot == "auto") {
      options.boot = BootMode::kAuto;
    } else if (*boot == "linux") {
      options.boot = BootMode::kLinux;
    } else if (*boot == "pvh") {
      options.boot = BootMode::kPvh;
    } else {
      return usage("--boot {}: expected auto, linux or pvh", quoted(*boot));
    }
    if (options.boot == BootMode::kPvh && options.arch != loader::Arch::kX86_64)
      return usage("--boot pvh: PVH is an x86_64 boot protocol, not {}", loader::to_string(options.arch));
  }

  if (auto cmdline = get("cmdline")) {
    // Catch bad text now, as a usage error; the kernel's own limit is checked
    // again once its header is read.
    uint64_t capacity = options.arch == loader::Arch::kAarch64   ? loader::kCmdlineCapacityAarch64
                        : options.arch == loader::Arch::kRiscv64 ? loader::kCmdlineCapacityRiscv64
                                                                 : loader::kCmdlineCapacityX86Elf;
    loader::Cmdline check(capacity);
    if (auto r = check.append(*cmdline); !r) return usage("--cmdline: {}", r.error().message);
    options.cmdline = *cmdline;  // given empty means an empty command line, not the default
  }

  if (auto console = get("console")) {
    auto parsed = parse_console(*console);
    if (!parsed) return std::unexpected(parsed.error());
    options.console = *parsed;
  }

  if (auto expect = get("expect")) {
    if (expect->empty()) return usage("--expect: the pattern is empty (it would match at once)");
    if (auto pattern = ExpectPattern::compile(*expect); !pattern)
      return usage("--expect {}: not a valid Perl-compatible (PCRE2) regular expression: {}", quoted(*expect),
                   pattern.error());
    options.expect = *expect;
  }

  if (auto timeout = get("timeout")) {
    auto n = parse_u64(*timeout);
    if (!n || *n < 1 || *n > kMaxTimeoutSeconds)
      return usage("--timeout {}: expected whole seconds from 1 to {}", quoted(*timeout), kMaxTimeoutSeconds);
    options.timeout = std::chrono::seconds(*n);
  }

  if (auto dtb = get("dump-dtb")) {
    if (!options.dry_run) return usage("--dump-dtb needs --dry-run");
    if (dtb->empty()) return usage("--dump-dtb: the path is empty");
    if (options.arch == loader::Arch::kX86_64)
      return usage("--dump-dtb: x86_64 guests have no device tree (use --arch aarch64 or riscv64)");
    options.dump_dtb = *dtb;
  }
  if (vm.count("disk")) {
    for (const auto& text : vm["disk"].as<std::vector<std::string>>()) {
      auto disk = parse_disk(text);
      if (!disk) return std::unexpected(disk.error());
      // The image lock would refuse the second open anyway, blaming "another process".
      for (const auto& earlier : options.disks)
        if (earlier.path == disk->path) return usage("--disk {}: the image is given twice", quoted(disk->path));
      options.disks.push_back(std::move(*disk));
    }
  }
  if (vm.count("share")) {
    for (const auto& text : vm["share"].as<std::vector<std::string>>()) {
      auto share = parse_share(text);
      if (!share) return std::unexpected(share.error());
      for (const auto& earlier : options.shares)
        if (earlier.tag == share->tag)
          return usage("--share {}: tag {} is already used by {} (give one with tag=)", quoted(text),
                       quoted(share->tag), quoted(earlier.host_dir));
      options.shares.push_back(std::move(*share));
    }
  }
  if (vm.count("net")) {
    for (const auto& text : vm["net"].as<std::vector<std::string>>()) {
      auto net = parse_net(text);
      if (!net) return std::unexpected(net.error());
      for (const auto& earlier : options.nets) {
        if (net->kind == NetKind::kTap && earlier.kind == NetKind::kTap && earlier.tap == net->tap)
          return usage("--net {}: TAP interface {} is given twice", quoted(text), quoted(net->tap));
        if (net->mac && earlier.mac && *net->mac == *earlier.mac)
          return usage("--net {}: MAC {} is given twice", quoted(text), format_mac(*net->mac));
        for (const auto& f : net->forwards)
          for (const auto& g : earlier.forwards)
            if (f.udp == g.udp && f.host_port == g.host_port)
              return usage("--net {}: hostfwd {} takes host port {} that {} already takes", quoted(text),
                           quoted(f.text), f.host_port, quoted(g.text));
      }
      options.nets.push_back(std::move(*net));
    }
  }
  options.rng = !vm["no-rng"].as<bool>();
  options.kernel_cache = !vm["no-kernel-cache"].as<bool>();
  if (auto mode = get("seccomp")) {
    auto parsed = seccomp::parse_mode(*mode);
    if (!parsed) return usage("--seccomp {}: expected kill, log or off", quoted(*mode));
    options.seccomp = *parsed;
  }
  if (auto transport = get("virtio-transport")) {
    if (*transport == "none") {
      options.transport = VirtioTransport::kNone;
    } else if (*transport == "pci") {
      options.transport = VirtioTransport::kPci;
    } else if (*transport == "mmio") {
      options.transport = VirtioTransport::kMmio;
    } else {
      return usage("--virtio-transport {}: expected none, pci or mmio", quoted(*transport));
    }
  }
  if (options.transport == VirtioTransport::kNone && !options.disks.empty())
    return usage("--disk needs virtio: --virtio-transport none leaves it out");
  if (options.transport == VirtioTransport::kNone && !options.shares.empty())
    return usage("--share needs virtio: --virtio-transport none leaves it out");
  if (options.transport == VirtioTransport::kNone && !options.nets.empty())
    return usage("--net needs virtio: --virtio-transport none leaves it out");

  if (auto r = check_vm_options(options); !r) return std::unexpected(r.error());
  return options;
}

}  // namespace

loader::Arch host_arch() {
#if defined(__aarch64__)
  return loader::Arch::kAarch64;
#elif defined(__riscv) && __riscv_xlen == 64
  return loader::Arch::kRiscv64;
#else
  return loader::Arch::kX86_64;
#endif
}

std::expected<uint64_t, std::string> parse_size(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0) return std::unexpected(std::string("expected a number with an optional K, M, G or T suffix"));
  auto number = parse_u64(text.substr(0, digits));
  if (!number) return std::unexpected(std::string("the number is too large"));
  std::string_view suffix = text.substr(digits);
  unsigned shift = 0;
  if (suffix.empty()) {
    shift = 0;
  } else if (suffix.size() == 1) {
    switch (suffix[0]) {
      case 'K': case 'k': shift = 10; break;
      case 'M': case 'm': shift = 20; break;
      case 'G': case 'g': shift = 30; break;
      case 'T': case 't': shift = 40; break;
      default: return std::unexpected(fmt::format("unknown suffix {} (use K, M, G or T)", quoted(suffix)));
    }
  } else {
    return std::unexpected(fmt::format("unknown suffix {} (use K, M, G or T)", quoted(suffix)));
  }
  if (*number == 0) return std::unexpected(std::string("the size is 0"));
  if (shift != 0 && *number > (~0ull >> shift)) return std::unexpected(std::string("the size overflows 64 bits"));
  return *number << shift;
}

std::expected<void, UsageError> check_vm_options(const Options& options) {
  const std::string_view arch = loader::to_string(options.arch);
  if (!options.dry_run && options.arch != host_arch())
    return usage("--arch {}: this vmm runs {} guests (KVM runs the host's architecture); a foreign --arch needs "
                 "--dry-run", arch, loader::to_string(host_arch()));
  if (auto map = boot::memory_map_for(options.arch, options.memory); !map)
    return usage("--memory {}: {} for an {} guest", human_size(options.memory), map.error().message, arch);
  if (options.cpus > boot::max_cpus(options.arch))
    return usage("--cpus {}: an {} guest can have at most {}", options.cpus, arch, boot::max_cpus(options.arch));
  // virtio-console, virtio-rng, the disks: each takes a PCI slot (the bridge
  // has slot 0) or a virtio-mmio window with its own interrupt line.
  const size_t fixed = 1 + (options.rng ? 1 : 0);
  const size_t slots = options.transport == VirtioTransport::kMmio
                           ? boot::device_map_for(options.arch, options.memory).virtio_mmio.lines.size()
                           : devices::pci::kMaxDevices - 1;
  if (fixed + options.disks.size() + options.shares.size() + options.nets.size() > slots)
    return usage("--disk, --share{}: {} disks and {} shares{} do not fit: an {} guest has {} virtio {} slots and the "
                 "console{} take {}{}",
                 options.nets.empty() ? "" : ", --net", options.disks.size(), options.shares.size(),
                 options.nets.empty() ? "" : fmt::format(" and {} NICs", options.nets.size()), arch, slots,
                 to_string(options.transport), options.rng ? " and rng" : "", fixed,
                 options.transport == VirtioTransport::kMmio ? " (--virtio-transport pci has more)" : "");
  return {};
}

std::string_view to_string(BootMode mode) {
  switch (mode) {
    case BootMode::kAuto: return "auto";
    case BootMode::kLinux: return "linux";
    case BootMode::kPvh: return "pvh";
  }
  return "unknown";
}

std::string_view to_string(VirtioTransport transport) {
  switch (transport) {
    case VirtioTransport::kNone: return "none";
    case VirtioTransport::kPci: return "pci";
    case VirtioTransport::kMmio: return "mmio";
  }
  return "?";
}

namespace {

// Walks the KEY and KEY=VALUE items after the path of a "PATH,item,..."
// option (--disk, --share), checking in one place what both check alike, in
// the order they always have: a flag in `flags` written with a value, then a
// key given twice. Every item that passes goes to `handle(item, key, value)`
// (value empty when there is no '='); its first error ends the walk.
template <typename HandleItem>
std::expected<void, UsageError> for_each_option_item(std::string_view option, std::string_view text,
                                                     std::initializer_list<std::string_view> flags,
                                                     HandleItem&& handle) {
  std::vector<std::string_view> seen;
  size_t comma = text.find(',');
  while (comma != std::string_view::npos) {
    const size_t start = comma + 1;
    comma = text.find(',', start);
    const std::string_view item = text.substr(start, comma == std::string_view::npos ? comma : comma - start);
    const size_t eq = item.find('=');
    const std::string_view key = item.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
    if (eq != std::string_view::npos && std::ranges::find(flags, key) != flags.end())
      return usage("{} {}: {} takes no value", option, quoted(text), key);
    if (std::ranges::find(seen, key) != seen.end()) return usage("{} {}: {} is given twice", option, quoted(text), key);
    seen.push_back(key);
    if (auto r = handle(item, key, value); !r) return r;
  }
  return {};
}

}  // namespace

std::expected<DiskOptions, UsageError> parse_disk(std::string_view text) {
  DiskOptions disk;
  const size_t comma = text.find(',');
  disk.path = std::string(text.substr(0, comma));
  if (disk.path.empty()) return usage("--disk {}: the path is empty (expected PATH[,ro][,serial=ID][,cache=MODE])", quoted(text));
  auto items = for_each_option_item("--disk", text, {"ro"}, [&](std::string_view item, std::string_view key,
                                                                 std::string_view value) -> std::expected<void, UsageError> {
    if (key == "ro") {
      disk.read_only = true;
    } else if (key == "serial") {
      if (value.empty()) return usage("--disk {}: serial= needs an id", quoted(text));
      if (value.size() > kMaxDiskSerial)
        return usage("--disk {}: serial {} is {} bytes; a virtio-blk id holds at most {}", quoted(text), quoted(value),
                     value.size(), kMaxDiskSerial);
      disk.serial = std::string(value);
    } else if (key == "cache") {
      if (value == "writeback") {
        disk.cache = DiskCache::kWriteback;
      } else if (value == "none") {
        disk.cache = DiskCache::kNone;
      } else {
        return usage("--disk {}: cache={}: expected writeback or none", quoted(text), quoted(value));
      }
    } else {
      return usage("--disk {}: unknown option {} (expected ro, serial=ID or cache=writeback|none)", quoted(text),
                   quoted(item));
    }
    return {};
  });
  if (!items) return std::unexpected(items.error());
  return disk;
}

namespace {

// The last component of `path` once "." and ".." are resolved lexically
// against the working directory ("root" for /; empty when unknown).
std::string last_path_component(const std::string& path) {
  std::string full = path;
  if (!path.starts_with('/')) {
    char cwd[4096];
    if (::getcwd(cwd, sizeof cwd) == nullptr) return {};
    full = std::string(cwd) + "/" + path;
  }
  std::vector<std::string> parts;
  size_t at = 0;
  while (at <= full.size()) {
    size_t end = full.find('/', at);
    if (end == std::string::npos) end = full.size();
    std::string part = full.substr(at, end - at);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(std::move(part));
    }
    at = end + 1;
  }
  return parts.empty() ? std::string("root") : parts.back();
}

}  // namespace

std::string_view to_string(ShareProto proto) { return proto == ShareProto::k9p ? "9p" : "virtiofs"; }

std::expected<ShareOptions, UsageError> parse_share(std::string_view text) {
  ShareOptions share;
  const size_t comma = text.find(',');
  share.host_dir = std::string(text.substr(0, comma));
  if (share.host_dir.empty())
    return usage("--share {}: the directory is empty (expected DIR[,tag=TAG][,ro][,proto=virtiofs|9p])", quoted(text));
  auto items = for_each_option_item("--share", text, {"ro"}, [&](std::string_view item, std::string_view key,
                                                                  std::string_view value) -> std::expected<void, UsageError> {
    if (key == "ro") {
      share.read_only = true;
    } else if (key == "tag") {
      if (value.empty()) return usage("--share {}: tag= needs a name", quoted(text));
      if (value.size() > kMaxShareTag)
        return usage("--share {}: tag {} is {} bytes; at most {}", quoted(text), quoted(value), value.size(),
                     kMaxShareTag);
      // The guest passes the tag as a mount source: keep it one plain word.
      for (char c : value)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-'))
          return usage("--share {}: tag {} may hold only letters, digits, '.', '_' and '-'", quoted(text),
                       quoted(value));
      share.tag = std::string(value);
    } else if (key == "proto") {
      if (value == "virtiofs") {
        share.proto = ShareProto::kVirtiofs;
      } else if (value == "9p") {
        share.proto = ShareProto::k9p;
      } else {
        return usage("--share {}: proto={}: expected virtiofs or 9p", quoted(text), quoted(value));
      }
    } else {
      return usage("--share {}: unknown option {} (expected tag=TAG, ro or proto=virtiofs|9p)", quoted(text),
                   quoted(item));
    }
    return {};
  });
  if (!items) return std::unexpected(items.error());
  if (share.tag.empty()) {
    // "." and "../x" name directories too: take the name they resolve to
    // lexically (the directory itself is checked when the VM is built).
    std::string last = last_path_component(share.host_dir);
    if (last.empty()) return usage("--share {}: cannot derive a tag from it (give one with tag=)", quoted(text));
    for (char c : last.substr(0, kMaxShareTag))
      share.tag += std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ? c : '_';
  }
  return share;
}

std::string format_mac(const std::array<uint8_t, 6>& mac) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

namespace {

std::optional<std::array<uint8_t, 6>> parse_mac(std::string_view text) {
  std::array<uint8_t, 6> mac{};
  if (text.size() != 17) return std::nullopt;
  for (size_t i = 0; i < 6; ++i) {
    if (i > 0 && text[3 * i - 1] != ':') return std::nullopt;
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(text.data() + 3 * i, text.data() + 3 * i + 2, value, 16);
    if (ec != std::errc() || ptr != text.data() + 3 * i + 2) return std::nullopt;
    mac[i] = static_cast<uint8_t>(value);
  }
  return mac;
}

bool is_ipv4(std::string_view text) {
  // Four decimal octets, as inet_pton takes them (no leading '+', no empty parts).
  int parts = 0;
  size_t at = 0;
  while (at <= text.size()) {
    size_t dot = text.find('.', at);
    if (dot == std::string_view::npos) dot = text.size();
    auto part = text.substr(at, dot - at);
    if (part.empty() || part.size() > 3) return false;
    for (char c : part)
      if (c < '0' || c > '9') return false;
    if (parse_u64(part).value_or(256) > 255) return false;
    ++parts;
    at = dot + 1;
  }
  return parts == 4;
}

std::optional<uint16_t> parse_port(std::string_view text) {
  auto v = parse_u64(text);
  if (!v || *v == 0 || *v > 65535) return std::nullopt;
  return static_cast<uint16_t>(*v);
}

// [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT
std::expected<NetForward, std::string> parse_hostfwd(std::string_view text) {
  NetForward f;
  f.text = std::string(text);
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return std::unexpected(std::string("expected [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT"));
  const std::string_view proto = text.substr(0, colon);
  if (proto == "udp") {
    f.udp = true;
  } else if (proto != "tcp" && !proto.empty()) {
    return std::unexpected(fmt::format("protocol {} is neither tcp nor udp", quoted(proto)));
  }
  const std::string_view rest = text.substr(colon + 1);
  const size_t dash = rest.find('-');
  if (dash == std::string_view::npos)
    return std::unexpected(std::string("no '-' between the host side and the guest side"));
  auto side = [](std::string_view part, std::string& addr, uint16_t& port, const char* which) -> std::optional<std::string> {
    const size_t c = part.rfind(':');
    if (c == std::string_view::npos) return fmt::format("the {} side needs [ADDR]:PORT", which);
    addr = std::string(part.substr(0, c));
    if (!addr.empty() && !is_ipv4(addr)) return fmt::format("{} address {} is not an IPv4 address", which, quoted(addr));
    auto p = parse_port(part.substr(c + 1));
    if (!p) return fmt::format("{} port {} is not a port number 1..65535", which, quoted(part.substr(c + 1)));
    port = *p;
    return std::nullopt;
  };
  if (auto e = side(rest.substr(0, dash), f.host_addr, f.host_port, "host")) return std::unexpected(*e);
  if (auto e = side(rest.substr(dash + 1), f.guest_addr, f.guest_port, "guest")) return std::unexpected(*e);
  return f;
}

}  // namespace

std::expected<NetOptions, UsageError> parse_net(std::string_view text) {
  NetOptions net;
  const size_t comma = text.find(',');
  const std::string_view first = text.substr(0, comma);
  if (first == "user") {
    net.kind = NetKind::kUser;
  } else if (first.starts_with("tap=")) {
    net.kind = NetKind::kTap;
    net.tap = std::string(first.substr(4));
    if (net.tap.empty() || net.tap.size() > 15 || net.tap.find('/') != std::string::npos)
      return usage("--net {}: TAP interface name {} must have 1 to 15 characters and no '/'", quoted(text),
                   quoted(net.tap));
  } else {
    return usage("--net {}: expected user[,hostfwd=...][,mac=MAC] or tap=IFNAME[,mac=MAC]", quoted(text));
  }
  bool saw_mac = false;
  size_t at = comma;
  while (at != std::string_view::npos) {
    const size_t start = at + 1;
    at = text.find(',', start);
    const std::string_view item = text.substr(start, at == std::string_view::npos ? at : at - start);
    const size_t eq = item.find('=');
    const std::string_view key = item.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
    if (key == "mac" && eq != std::string_view::npos) {
      if (saw_mac) return usage("--net {}: mac is given twice", quoted(text));
      saw_mac = true;
      auto mac = parse_mac(value);
      if (!mac) return usage("--net {}: mac={} is not six hex bytes like 52:54:00:12:34:56", quoted(text), quoted(value));
      if ((*mac)[0] & 1) return usage("--net {}: mac={} is a multicast address (the first byte is odd)", quoted(text), quoted(value));
      if (*mac == std::array<uint8_t, 6>{}) return usage("--net {}: mac={} is all zeroes", quoted(text), quoted(value));
      net.mac = *mac;
    } else if (key == "hostfwd" && eq != std::string_view::npos) {
      if (net.kind != NetKind::kUser)
        return usage("--net {}: hostfwd is for user networking (a TAP guest is reached at its own address)", quoted(text));
      auto f = parse_hostfwd(value);
      if (!f) return usage("--net {}: hostfwd={}: {}", quoted(text), quoted(value), f.error());
      for (const auto& g : net.forwards)
        if (g.udp == f->udp && g.host_port == f->host_port)
          return usage("--net {}: host {} port {} is forwarded twice", quoted(text), f->udp ? "udp" : "tcp", f->host_port);
      net.forwards.push_back(std::move(*f));
    } else {
      return usage("--net {}: unknown option {} (expected hostfwd=..., mac=MAC)", quoted(text), quoted(item));
    }
  }
  return net;
}

std::expected<Options, UsageError> parse_command_line(std::span<const char* const> args) {
  po::positional_options_description positional;
  positional.add("args", -1);
  po::variables_map vm;
  // Everything after the first "--" is vmm exec's command, its own options included.
  std::vector<std::string> argv(args.begin(), args.end());
  std::vector<std::string> command;
  bool saw_separator = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    if (argv[i] != "--") continue;
    command.assign(argv.begin() + static_cast<std::ptrdiff_t>(i) + 1, argv.end());
    argv.resize(i);
    saw_separator = true;
    break;
  }
  try {
    // No guessing: "--mem" must not silently mean --memory in a script.
    int style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
    po::store(po::command_line_parser(argv).options(all_options()).positional(positional).style(style).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return usage(e.what());
  }

  if (vm["help"].as<bool>() || vm["version"].as<bool>()) {
    Options options;
    options.command = vm["help"].as<bool>() ? Command::kHelp : Command::kVersion;
    return options;
  }

  std::vector<std::string> positional_args;
  if (vm.count("args")) positional_args = vm["args"].as<std::vector<std::string>>();
  if (!positional_args.empty()) {
    if (positional_args[0] == "inspect") return parse_inspect(vm, positional_args);
    if (positional_args[0] == "seccomp-report" && positional_args.size() == 1) {
      Options options;
      options.command = Command::kSeccompReport;
      return options;
    }
    if (positional_args[0] == "exec") {
      if (positional_args.size() > 1)
        return usage("exec: unexpected argument {} (the command goes after --: vmm exec [options] -- CMD ARGS...)",
                     quoted(positional_args[1]));
      auto options = parse_vm(vm, true);
      if (options) options->exec.command = std::move(command);
      return options;
    }
    return usage("unexpected argument {} (commands: vmm --kernel PATH ..., vmm inspect KERNEL, vmm exec)",
                 quoted(positional_args[0]));
  }
  if (saw_separator) return usage("a command after -- needs vmm exec: vmm exec [options] -- CMD ARGS...");
  return parse_vm(vm);
}

std::string help_text() {
  std::ostringstream options;
  options << vm_options() << "\n" << exec_options() << "\n" << general_options();
  return fmt::format(
      "vmm — a small KVM micro-VMM that boots Linux kernels to a serial console\n"
      "\n"
      "Usage:\n"
      "  vmm --kernel PATH [options]            boot the kernel in a KVM virtual machine\n"
      "  vmm --kernel PATH [options] --dry-run  lay the VM out without KVM and print it\n"
      "  vmm inspect KERNEL [--json]            show what the loader sees in a kernel file\n"
      "  vmm exec [options] [-- CMD ARGS...]    run CMD (default: a shell) in a fresh kernel on the host's own\n"
      "                                         userland (its / shared read-only, tmpfs where programs write,\n"
      "                                         the working directory kept); exits with CMD's status\n"
      "  vmm --help | --version\n"
      "\n"
      "{}\n"
      "Exit codes:\n"
      "  {:<3} the guest powered off or reset on its own, --expect matched, or inspect/--dry-run succeeded\n"
      "  {:<3} bad command-line arguments\n"
      "  {:<3} the kernel or initrd could not be read, parsed or placed, or a --disk could not be opened\n"
      "  {:<3} /dev/kvm is missing or a KVM call failed\n"
      "  {:<3} the guest kernel panicked\n"
      "  {:<3} --timeout expired before the guest finished\n"
      "  {:<3} the guest shut down before --expect matched\n"
      "  {:<3} stopped by SIGINT or SIGTERM\n"
      "  {:<3} the guest crashed: a triple fault (x86) or a crash system event\n"
      "  {:<3} a minivmm thread made a system call its seccomp filter forbids (--seccomp kill; the message\n"
      "      names the thread and the call)\n"
      "  {:<3} internal error (a bug in minivmm)\n"
      "\n"
      "--dry-run loads the kernel and initrd and writes every boot structure into guest memory as a\n"
      "real boot would, then prints the memory layout, the devices (windows, PCI functions, interrupt\n"
      "lines), the entry registers, the boot protocol and the command line. It never opens /dev/kvm,\n"
      "so --arch can be any of the three on any host. It exits 0, 3 when the kernel or initrd cannot\n"
      "be loaded or placed (wrong architecture, --memory too small) or a --disk cannot be opened, or 2\n"
      "when the --dump-dtb file cannot be written.\n"
      "\n"
      "vmm exec exits with CMD's status (128+N when a signal N ended it; 126 when CMD cannot be run, 127\n"
      "when it is not found), {} when --timeout expired, {} when minivmm or the guest kernel failed before\n"
      "CMD's status came back (bad arguments, an unreadable kernel, no KVM, a panic, a kernel without the\n"
      "CONFIG_ options exec needs, a system call the seccomp filter forbids: the message says which) and {}\n"
      "when stopped by SIGINT or SIGTERM.\n"
      "The default kernel is the host's own, /boot/vmlinuz-$(uname -r); stock distribution kernels get\n"
      "their virtio, virtio-fs or 9p modules from /lib/modules in a generated initramfs (cached).\n",
      options.str(), static_cast<int>(kExitOk), static_cast<int>(kExitUsage), static_cast<int>(kExitLoad),
      static_cast<int>(kExitKvm), static_cast<int>(kExitGuestPanic), static_cast<int>(kExitTimeout),
      static_cast<int>(kExitExpectUnmet), static_cast<int>(kExitInterrupted), static_cast<int>(kExitGuestCrash),
      static_cast<int>(kExitSeccomp), static_cast<int>(kExitInternal), static_cast<int>(kExitExecTimeout), static_cast<int>(kExitExecFailed),
      static_cast<int>(kExitExecInterrupted));
}

std::string usage_error_line(const UsageError& error) {
  return fmt::format("vmm: {} (see vmm --help)\n", error.message);
}

std::string version_text() { return fmt::format("vmm (minivmm) {}\n", MINIVMM_VERSION); }

}  // namespace vmm
