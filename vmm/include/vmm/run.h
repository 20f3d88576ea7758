// `vmm run`: boot a kernel in a KVM VM with a serial console and wait for it
// to finish. This is the whole VMM behind the CLI: main() parses arguments
// into a RunConfig and returns run_vm()'s exit code.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace vmm {

// How the kernel is entered on x86_64:
//   linux: the Linux 64-bit boot protocol (zero page, long mode). A bzImage
//          is loaded as is; an ELF vmlinux is loaded at its p_paddr and
//          entered at e_entry with a zero page the VMM builds.
//   pvh:   the PVH boot protocol (start_info, 32-bit protected mode) at the
//          XEN_ELFNOTE_PHYS32_ENTRY of an ELF vmlinux; for a bzImage the
//          compressed payload is first decompressed to its vmlinux ELF.
//   auto:  pvh when the kernel file itself offers a PVH entry (an ELF
//          vmlinux with the PVH note), linux otherwise. A bzImage therefore
//          boots the Linux way under auto: finding its PVH note would mean
//          decompressing the payload, which the Linux path does not need.
enum class BootPath { kAuto, kLinux, kPvh };
enum class ConsoleSink { kStdio, kFile, kNone };

struct RunConfig {
  std::string kernel;
  std::optional<std::string> initrd;
  std::string cmdline = "console=ttyS0";
  uint64_t memory = 512ull << 20;
  uint32_t cpus = 1;
  BootPath boot = BootPath::kAuto;
  ConsoleSink console = ConsoleSink::kStdio;
  std::string console_path;          // for kFile
  std::optional<std::string> expect; // ECMAScript regex, matched per console line
  std::optional<double> timeout_seconds;
  bool boot_report = false;
  std::string kvm_device = "/dev/kvm";
};

// Runs the VM to the end; returns an ExitCode (vmm/exit_codes.h). Errors are
// printed to stderr prefixed "vmm: ".
int run_vm(const RunConfig& config);

}  // namespace vmm
