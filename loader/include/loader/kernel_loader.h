// The front door: detect the format of any supported kernel file (through
// compression and EFI zboot wrappers) and inspect or load it.
#pragma once

#include "loader/guest_memory.h"
#include "loader/image_source.h"
#include "loader/kernel.h"
#include "loader/load_options.h"

namespace loader {

Result<KernelInfo> inspect_kernel(const ImageSource& src);
// Detects the format and loads. A compressed Image/vmlinux is inflated
// straight into guest memory (bounded by the room there). Refuses a kernel
// for another arch than options.arch with kWrongArch.
Result<LoadedKernel> load_kernel(const ImageSource& src, GuestMemory& mem, const LoadOptions& options);

}  // namespace loader
