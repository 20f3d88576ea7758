#include "support/setup_header_builder.h"

namespace test_support {

std::vector<std::byte> build_setup_header(const SetupHeaderSpec& spec) {
  std::vector<std::byte> out(0x26c - kSetupHeaderStart, std::byte{0});
  auto put = [&](size_t file_offset, uint64_t value, int bytes) {
    for (int i = 0; i < bytes; ++i)
      out[file_offset - kSetupHeaderStart + i] = static_cast<std::byte>(value >> (8 * i));
  };
  put(0x1f1, spec.setup_sects, 1);
  put(0x1fe, spec.boot_flag, 2);
  // jump: a short jmp (0xeb) whose displacement ends the header at 0x26c.
  put(0x200, 0xeb, 1);
  put(0x201, 0x26c - 0x202, 1);
  put(0x202, spec.header_magic, 4);
  put(0x206, spec.version, 2);
  put(0x211, spec.loadflags, 1);
  put(0x214, 0x100000, 4);  // code32_start
  put(0x22c, spec.initrd_addr_max, 4);
  put(0x230, spec.kernel_alignment, 4);
  put(0x234, spec.relocatable_kernel, 1);
  put(0x235, 21, 1);  // min_alignment: 2 MiB
  put(0x236, spec.xloadflags, 2);
  put(0x238, spec.cmdline_size, 4);
  put(0x258, spec.pref_address, 8);
  put(0x260, spec.init_size, 4);
  return out;
}

}  // namespace test_support
