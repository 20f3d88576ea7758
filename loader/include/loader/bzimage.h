// x86 bzImage (Linux boot protocol >= 2.06): parse, load, and unpack the
// compressed payload to the vmlinux ELF inside it.
#pragma once

#include <memory>

#include "loader/guest_memory.h"
#include "loader/image_source.h"
#include "loader/kernel.h"
#include "loader/load_options.h"

namespace loader {

Result<KernelInfo> inspect_bzimage(const ImageSource& src);
// Loads the protected-mode part at options.load_address (default 1 MiB),
// checks init_size fits, returns the setup header bytes for the zero page.
Result<LoadedKernel> load_bzimage(const ImageSource& src, GuestMemory& mem, const LoadOptions& options);
// Where the compressed payload lies in the file: payload_offset (0x248)
// made a file offset, and payload_length (0x24c), checked inside the file.
struct BzImagePayloadRange {
  uint64_t offset = 0;
  uint64_t length = 0;
};
Result<BzImagePayloadRange> bzimage_payload_range(const ImageSource& src);

// Decompresses payload_offset/payload_length to the vmlinux ELF, so the
// kernel can be booted through PVH (load it with load_elf).
Result<std::unique_ptr<ImageSource>> extract_bzimage_vmlinux(const ImageSource& src,
                                                             uint64_t max_size = 1ull << 30);

// Decompresses the payload and checks that it is an x86_64 vmlinux ELF the
// loader would accept (headers, program headers, segments inside the file),
// then drops it. The Linux entry never reads the payload itself, the guest's
// own decompressor does; a damaged one (bytes changed inside the stream, a
// payload that is not an ELF) would only show as a guest dying early.
Result<void> verify_bzimage_payload(const ImageSource& src, uint64_t max_size = 1ull << 30);

}  // namespace loader
