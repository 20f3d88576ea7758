// The arm64 and riscv64 "Image" formats (a 64-byte header, optionally behind
// an MZ EFI stub), and the EFI zboot container that wraps a compressed Image.
#pragma once

#include <memory>

#include "loader/guest_memory.h"
#include "loader/image_source.h"
#include "loader/kernel.h"
#include "loader/load_options.h"

namespace loader {

Result<KernelInfo> inspect_arm64_image(const ImageSource& src);
Result<LoadedKernel> load_arm64_image(const ImageSource& src, GuestMemory& mem, const LoadOptions& options);

Result<KernelInfo> inspect_riscv_image(const ImageSource& src);
Result<LoadedKernel> load_riscv_image(const ImageSource& src, GuestMemory& mem, const LoadOptions& options);

// True for "MZ" + "zimg" at offset 4.
bool is_efi_zboot(const ImageSource& src);
// Unpacks the zboot payload (offset, size and compression from its header).
Result<std::unique_ptr<ImageSource>> extract_efi_zboot(const ImageSource& src, uint64_t max_size = 1ull << 30);

}  // namespace loader
