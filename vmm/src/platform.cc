#include "vmm/platform.h"

#include "backends/file_block_backend.h"
#include "backends/fuse_server.h"
#include "backends/p9_server.h"
#include "backends/slirp_net.h"
#include "backends/tap_net.h"
#include "backends/share_dir.h"
#include "boot/device_map.h"
#include "boot/layout_x86.h"
#include "boot/memory_map_aarch64.h"
#include "boot/memory_map_riscv64.h"
#include "devices/acpi_pm.h"
#include "devices/cmos_rtc.h"
#include "devices/i8042.h"
#include "devices/pci/pci_root.h"
#include "devices/plic.h"
#include "devices/virtio/virtio_blk.h"
#include "devices/virtio/virtio_console.h"
#include "devices/virtio/virtio_fs.h"
#include "devices/virtio/virtio_mmio_device.h"
#include "devices/virtio/virtio_net.h"
#include "devices/virtio/virtio_p9.h"
#include "devices/virtio/virtio_pci.h"
#include "devices/virtio/virtio_rng.h"
#include "vmm/exit_codes.h"
#include "vmm/sandbox.h"

namespace vmm {

Result<void> Platform::add(std::shared_ptr<devices::PlatformDevice> device) {
  if (auto r = devices::map_windows(device, pio_, mmio_); !r) return fail("{}", r.error().message);
  devices_.push_back(std::move(device));
  return {};
}

boot::PlatformDescription Platform::describe() const {
  boot::PlatformDescription out;
  for (const auto& d : devices_) d->describe(out);
  return out;
}

std::string Platform::cmdline(const Options& options) const {
  if (options.cmdline) return *options.cmdline;
  std::string line;
  for (const auto& word : describe().default_cmdline) line += (line.empty() ? "" : " ") + word;
  return line;
}

void Platform::connect_irqs(const std::function<devices::IrqLine(const devices::IrqRequest&)>& make_line) {
  for (const auto& d : devices_) {
    std::vector<devices::IrqLine> lines;
    for (const auto& request : d->irqs()) lines.push_back(make_line(request));
    if (!lines.empty()) d->connect_irqs(std::move(lines));
  }
}

boot::X86BootRequest x86_boot_request(const Options& options, const Platform& platform) {
  boot::X86BootRequest request;
  request.kernel = options.kernel;
  request.initrd = options.initrd;
  request.cmdline = platform.cmdline(options);
  request.cpus = options.cpus;
  request.entry = options.boot == BootMode::kPvh     ? boot::X86EntryChoice::kPvh
                  : options.boot == BootMode::kLinux ? boot::X86EntryChoice::kLinux
                                                     : boot::X86EntryChoice::kAuto;
  request.platform = platform.describe();
  // The dry run promises what a boot would do, so it checks the payload the
  // guest would decompress. A boot does not: decompressing and checking the
  // Debian bzImages costs 1.2 s of CPU (xz) and 0.25 s (LZ4) on this host
  // (bench BM_VerifyBzImagePayload), several times the whole Linux-entry
  // set-up (89-257 ms to the first KVM_RUN), to find what the guest's own
  // decompressor reports on the console anyway ("crc error -- System halted").
  request.verify_bzimage_payload = options.dry_run;
  return request;
}

namespace {

using devices::BusKind;
using devices::SerialPlacement;

Result<void> add_x86_64(Platform& p, PlatformSinks& sinks) {
  namespace x86 = boot::x86;
  for (auto r : {
           p.add(std::make_shared<devices::Serial16550a>(SerialPlacement{BusKind::kPio, x86::kCom1Port, x86::kCom1Irq},
                                                         sinks.console_output)),
           p.add(std::make_shared<devices::I8042>(sinks.control)),
           p.add(std::make_shared<devices::CmosRtc>()),
           p.add(std::make_shared<devices::AcpiPm>(x86::kAcpiPm1aEvtPort, x86::kAcpiS5SlpTyp, sinks.control)),
           p.add(std::make_shared<devices::PostCode>()),
       }) {
    if (!r) return r;
  }
  return {};
}

Result<void> add_aarch64(Platform& p, PlatformSinks& sinks) {
  namespace a = boot::aarch64;
  return p.add(std::make_shared<devices::Serial16550a>(
      SerialPlacement{BusKind::kMmio, a::kUartBase, a::kUartSpi, 0, a::kUartClockHz, a::kUartSize}, sinks.console_output));
}

Result<void> add_riscv64(Platform& p, const Options& options, PlatformSinks& sinks) {
  namespace rv = boot::riscv64;
  // One context per hart (its S-mode external interrupt); the VMM connects them to KVM.
  auto plic = devices::Plic::create(rv::kPlicNumSources, options.cpus, {});
  if (!plic) return fail("PLIC: {}", plic.error().message);
  (*plic)->place(rv::kPlicBase, rv::kPlicSize);
  for (auto r : {
           p.add(*plic),
           p.add(std::make_shared<devices::Serial16550a>(
               SerialPlacement{BusKind::kMmio, rv::kUartBase, rv::kUartIrq, 0, rv::kUartClockHz, rv::kUartSize},
               sinks.console_output)),
       }) {
    if (!r) return r;
  }
  return {};
}

constexpr std::string_view kDiskOption = "--disk";
constexpr std::string_view kShareOption = "--share";
constexpr std::string_view kNetOption = "--net";

// The host side of one --net: libslirp or a TAP. Its errors start with "--net".
Result<std::unique_ptr<devices::virtio::NetBackend>> net_backend(const NetOptions& net) {
  if (net.kind == NetKind::kTap) {
    auto tap = backends::TapNet::open(net.tap);
    if (!tap) return fail("{}", tap.error().message);
    return std::unique_ptr<devices::virtio::NetBackend>(std::move(*tap));
  }
  backends::SlirpNetOptions o;
  for (const NetForward& f : net.forwards)
    o.forwards.push_back({f.udp, f.host_addr, f.host_port, f.guest_addr, f.guest_port, f.text});
  auto user = backends::SlirpNet::open(o);
  if (!user) return fail("{}", user.error().message);
  return std::unique_ptr<devices::virtio::NetBackend>(std::move(*user));
}

// The virtio devices, in the order the guest finds them (PCI slot or
// virtio-mmio window): the console (hvc0), any extra consoles (hvc1...), the
// entropy source, one disk per --disk, the shares, then one NIC per --net. Opening the images here means a missing or locked disk stops the
// boot before any vCPU exists.
Result<std::vector<std::shared_ptr<devices::virtio::VirtioDevice>>> virtio_devices(Platform& p, const Options& options,
                                                                                    PlatformSinks& sinks) {
  namespace virtio = devices::virtio;
  std::vector<std::shared_ptr<virtio::VirtioDevice>> out;
  // The same sink as the UART, so console=hvc0 shows up where ttyS0 would
  // (and --expect sees it); host input goes to it when the guest's console is
  // hvc0 (run.cc).
  auto console = std::make_shared<virtio::VirtioConsole>([sink = sinks.console_output](std::span<const std::byte> bytes) {
    if (!sink) return;
    for (std::byte b : bytes) sink(b);
  });
  p.set_virtio_console(console);
  out.push_back(console);
  for (const auto& output : sinks.extra_consoles) {
    auto extra = std::make_shared<virtio::VirtioConsole>(output);
    p.add_extra_console(extra);
    out.push_back(extra);
  }
  if (options.rng) out.push_back(std::make_shared<virtio::VirtioRng>());
  for (const DiskOptions& disk : options.disks) {
    backends::FileBlockOptions o;
    o.read_only = disk.read_only;
    o.cache = disk.cache == DiskCache::kNone ? backends::CacheMode::kNone : backends::CacheMode::kWriteback;
    auto backend = backends::FileBlockBackend::open(disk.path, o);
    if (!backend) return fail("{}: {}", kDiskOption, backend.error().message);
    // io_uring refused (old kernel, seccomp, io_uring_disabled): the disk
    // still works, one request at a time; say why once.
    if (!(*backend)->async_io() && sinks.log) {
      sinks.log(fmt::format("{} {}: I/O is {}", kDiskOption, disk.path, (*backend)->io_engine()));
    }
    out.push_back(std::make_shared<virtio::VirtioBlk>(std::move(*backend), disk.serial));
  }
  // Each node a share's guest holds keeps a descriptor: room for a full
  // node table per share, beside the VMM's own.
  if (!options.shares.empty()) backends::raise_open_file_limit(1024 + options.shares.size() * 65536);
  for (const ShareOptions& share : options.shares) {
    if (share.proto == ShareProto::kVirtiofs) {
      // Served in this process; its errors already start with "--share".
      auto server = backends::FuseServer::open(share.host_dir, share.read_only);
      if (!server) return fail("{}", server.error().message);
      out.push_back(std::make_shared<virtio::VirtioFs>(share.tag, std::shared_ptr<backends::FuseServer>(std::move(*server))));
    } else {
      auto server = backends::P9Server::open({.root = share.host_dir, .read_only = share.read_only});
      if (!server) return fail("{}", server.error().message);
      out.push_back(std::make_shared<virtio::VirtioP9>(std::move(*server), share.tag));
    }
  }
  // A TAP that cannot be opened or a forwarded port that is taken stops
  // the boot here, before any vCPU exists.
  for (size_t i = 0; i < options.nets.size(); ++i) {
    auto backend = net_backend(options.nets[i]);
    if (!backend) return std::unexpected(backend.error());
    const auto role = options.nets[i].kind == NetKind::kTap ? seccomp::Role::kNetTap : seccomp::Role::kNetUser;
    (*backend)->set_thread_entry([role] { seccomp::enter(role); });
    const auto mac = options.nets[i].mac.value_or(virtio::default_mac(static_cast<uint32_t>(i)));
    out.push_back(std::make_shared<virtio::VirtioNet>(std::move(*backend), mac));
  }
  return out;
}

// The notification and interrupt plumbing is the VMM's (vmm/virtio_io.h):
// here the devices only go on the buses.
Result<void> add_virtio(Platform& p, loader::Arch arch, const Options& options, PlatformSinks& sinks,
                        loader::GuestMemory& memory) {
  namespace virtio = devices::virtio;
  if (options.transport == VirtioTransport::kNone) return {};
  auto list = virtio_devices(p, options, sinks);
  if (!list) return std::unexpected(list.error());
  const boot::DeviceMap map = boot::device_map_for(arch, options.memory);
  const bool acpi = arch == loader::Arch::kX86_64;
  virtio::Logger log = sinks.log;

  if (options.transport == VirtioTransport::kMmio) {
    if (list->size() > map.virtio_mmio.lines.size())
      return fail("virtio-mmio: {} devices but {} slots", list->size(), map.virtio_mmio.lines.size());
    for (size_t i = 0; i < list->size(); ++i) {
      virtio::MmioPlacement placement{map.virtio_mmio.slot_base(i), map.virtio_mmio.lines[i], static_cast<uint32_t>(i),
                                      acpi};
      if (auto r = p.add(std::make_shared<virtio::VirtioMmioDevice>((*list)[i], memory, placement, log)); !r) return r;
    }
    return {};
  }

  devices::pci::PciRootPlacement placement;
  placement.ecam_base = map.pci.ecam_base;
  placement.windows.mmio32 = {map.pci.mmio32_base, map.pci.mmio32_size};
  placement.windows.mmio64 = {map.pci.mmio64_base, map.pci.mmio64_size};
  placement.intx_lines = map.pci.intx_lines;
  placement.config_ports = map.pci.config_ports;
  placement.acpi = acpi;
  auto root = std::make_shared<devices::pci::PciRoot>(placement);
  for (auto& device : *list) {
    auto function = virtio::VirtioPci::create(device, memory, log);
    if (!function) return fail("{}: {}", device->name(), function.error().message);
    if (auto slot = root->add(*function); !slot) return fail("{}: {}", device->name(), slot.error().message);
  }
  return p.add(root);
}

}  // namespace

bool console_is_hvc(std::string_view cmdline) {
  // Linux's /dev/console is the last console= on the command line.
  std::string_view last;
  size_t at = 0;
  while (at < cmdline.size()) {
    size_t end = cmdline.find(' ', at);
    if (end == std::string_view::npos) end = cmdline.size();
    std::string_view word = cmdline.substr(at, end - at);
    if (word.starts_with("console=")) last = word.substr(8);
    at = end + 1;
  }
  return last.starts_with("hvc");
}

int user_input_exit_code(std::string_view message) {
  if (message.starts_with(kDiskOption)) return kExitLoad;
  if (message.starts_with(kShareOption) || message.starts_with(kNetOption)) return kExitUsage;
  return 0;
}


Result<std::unique_ptr<Platform>> build_platform(loader::Arch arch, const Options& options, PlatformSinks sinks,
                                                 loader::GuestMemory& memory) {
  auto platform = std::make_unique<Platform>();
  Result<void> r;
  switch (arch) {
    case loader::Arch::kX86_64: r = add_x86_64(*platform, sinks); break;
    case loader::Arch::kAarch64: r = add_aarch64(*platform, sinks); break;
    case loader::Arch::kRiscv64: r = add_riscv64(*platform, options, sinks); break;
  }
  if (!r) return std::unexpected(r.error());
  if (auto v = add_virtio(*platform, arch, options, sinks, memory); !v) return std::unexpected(v.error());
  return platform;
}

}  // namespace vmm
