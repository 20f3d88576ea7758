// Building one VM: guest memory from the architecture's map, the platform
// devices, the kernel and boot data (all without KVM, so a bad kernel is
// reported the same on hosts with and without KVM), then the KVM VM, its
// memory slots, the device interrupt lines and the vCPUs. Each failure
// carries the exit code it means (3 for what was loaded, 4 for KVM).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "loader/guest_memory.h"
#include "vmm/arch.h"
#include "vmm/boot_report.h"
#include "vmm/cli.h"
#include "vmm/coalesced_ring.h"
#include "vmm/kvm.h"
#include "vmm/platform.h"
#include "vmm/virtio_io.h"

namespace vmm {

struct MachineError {
  int exit_code = 0;
  std::string message;
};

class Machine {
 public:
  // The boot path ("linux 64-bit (bzImage)") and the host-quirk notes, for the report.
  static std::expected<std::unique_ptr<Machine>, MachineError> build(const Options& options, PlatformSinks sinks);

  loader::GuestMemory& memory() { return mem_; }
  Platform& platform() { return *platform_; }
  std::vector<Vcpu>& vcpus() { return vcpus_; }
  const std::string& boot_path() const { return boot_path_; }
  std::string notes() const { return arch::notes(*state_) + notes_; }
  // Whether a decompressed kernel came from the kernel cache (empty: nothing was decompressed).
  std::string kernel_source() const { return arch::kernel_source(*state_); }
  // The virtio devices' I/O threads and doorbells (nullptr: no virtio devices).
  VirtioIo* virtio_io() { return virtio_io_.get(); }
  // The queue of writes that do not exit (nullptr: no window allows it, or
  // KVM cannot queue them).
  CoalescedRing* coalesced() { return coalesced_.get(); }
  // When each step of build() ended, for the boot report's set-up line.
  const std::vector<SetupPhase>& phases() const { return phases_; }

 private:
  explicit Machine(loader::GuestMemory mem) : mem_(std::move(mem)) {}

  // Declared in the order they are built: destroyed vCPUs first, memory last.
  loader::GuestMemory mem_;
  std::unique_ptr<Platform> platform_;
  arch::StatePtr state_;
  std::optional<Kvm> kvm_;
  std::optional<Vm> vm_;
  // After the VM (its ioeventfds), before the vCPUs: stopped once they are gone.
  std::unique_ptr<VirtioIo> virtio_io_;
  std::vector<Vcpu> vcpus_;
  // On a page of the vCPUs' mappings: gone before they are.
  std::unique_ptr<CoalescedRing> coalesced_;
  std::string boot_path_;
  std::string notes_;
  std::vector<SetupPhase> phases_;
};

}  // namespace vmm
