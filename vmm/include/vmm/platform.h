// The devices of one VM and the buses they sit on, built without KVM so the
// dry run lists and describes exactly what a boot gets. Adding a device is
// one line in platform.cc (kvmtool's dev_init list); the device itself says
// where it sits, which lines it drives and what the kernel is told about it.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "boot/platform_description.h"
#include "boot/x86_boot_path.h"
#include "devices/bus.h"
#include "devices/platform_device.h"
#include "devices/post_code.h"
#include "devices/serial_16550a.h"
#include "devices/virtio/virtio_console.h"
#include "loader/guest_memory.h"
#include "loader/kernel.h"
#include "vmm/cli.h"
#include "vmm/error.h"

namespace vmm {

// Where a VM's devices send what the VMM must act on.
struct PlatformSinks {
  devices::MachineControl control;                 // guest poweroff/reset requests (vCPU threads)
  std::function<void(std::byte)> console_output;  // the console UART's and virtio-console's bytes (vCPU threads)
  std::function<void(std::string_view)> log = nullptr;  // one line about a device (a virtio device needing a reset); may be empty
  // One more virtio-console per entry (hvc1, hvc2, ... after hvc0), each with
  // its own output (called on the device's I/O thread): vmm exec's stdout and stderr.
  std::vector<std::function<void(std::span<const std::byte>)>> extra_consoles = {};
};

class Platform {
 public:
  Platform() : pio_(devices::BusKind::kPio), mmio_(devices::BusKind::kMmio) {}
  Platform(const Platform&) = delete;
  Platform& operator=(const Platform&) = delete;

  // Registers `device` on the buses at its windows.
  Result<void> add(std::shared_ptr<devices::PlatformDevice> device);

  devices::Bus& pio() { return pio_; }
  devices::Bus& mmio() { return mmio_; }
  const std::vector<std::shared_ptr<devices::PlatformDevice>>& devices() const { return devices_; }

  // Everything the devices add to the DT / DSDT / command line.
  boot::PlatformDescription describe() const;
  // The kernel command line: the user's, or the devices' defaults.
  std::string cmdline(const Options& options) const;

  // Hands each device its interrupt lines, made by `make_line` (the arch's KVM wiring).
  void connect_irqs(const std::function<devices::IrqLine(const devices::IrqRequest&)>& make_line);

  // The first device of type T, or nullptr.
  template <class T>
  std::shared_ptr<T> find() const {
    for (const auto& d : devices_)
      if (auto t = std::dynamic_pointer_cast<T>(d)) return t;
    return nullptr;
  }

  // The UART the host console is attached to.
  std::shared_ptr<devices::Serial16550a> console() const { return find<devices::Serial16550a>(); }
  // The virtio console (behind a transport, so not in devices()); nullptr without virtio.
  std::shared_ptr<devices::virtio::VirtioConsole> virtio_console() const { return virtio_console_; }
  void set_virtio_console(std::shared_ptr<devices::virtio::VirtioConsole> console) {
    virtio_console_ = std::move(console);
  }
  // The consoles made for PlatformSinks::extra_consoles, in the same order.
  const std::vector<std::shared_ptr<devices::virtio::VirtioConsole>>& extra_consoles() const { return extra_consoles_; }
  void add_extra_console(std::shared_ptr<devices::virtio::VirtioConsole> console) {
    extra_consoles_.push_back(std::move(console));
  }

 private:
  devices::Bus pio_;
  devices::Bus mmio_;
  std::vector<std::shared_ptr<devices::PlatformDevice>> devices_;
  std::shared_ptr<devices::virtio::VirtioConsole> virtio_console_;
  std::vector<std::shared_ptr<devices::virtio::VirtioConsole>> extra_consoles_;
};

// What an x86_64 boot loads, for options on this platform (the real boot and the dry run alike).
boot::X86BootRequest x86_boot_request(const Options& options, const Platform& platform);

// The devices a guest of `arch` gets. The virtio devices read and write
// `memory`, which must outlive the platform. Errors about something the user
// named (an unopenable --disk, a --share that is no directory) start with the
// option's name; every other one is a bug.
Result<std::unique_ptr<Platform>> build_platform(loader::Arch arch, const Options& options, PlatformSinks sinks,
                                                 loader::GuestMemory& memory);
// The exit code for an error about something the user named: 3 for a disk
// (issue 10: a load error), 2 for a share or a --net backend (a bad
// argument, like the tag checks); 0 when `message` is not about user input.
int user_input_exit_code(std::string_view message);
// Whether the guest's /dev/console is a virtio console (the last console= on
// `cmdline` names hvcN): host input then goes there instead of the UART.
bool console_is_hvc(std::string_view cmdline);

}  // namespace vmm
