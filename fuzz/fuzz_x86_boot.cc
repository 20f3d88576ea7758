// Untrusted bzImage setup headers and boot requests through the x86 boot
// path: no crash, no write outside guest memory, whatever the header says.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "boot/memory_map_x86.h"
#include "boot/x86_boot.h"

namespace {

loader::GuestMemory* guest() {
  static auto map = boot::x86_memory_map(64ull << 20);
  static auto mem = loader::GuestMemory::create(boot::guest_memory_regions(*map));
  return &*mem;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // First 16 bytes drive the request, the rest is the setup header.
  if (size < 16) return 0;
  uint64_t initrd_addr = 0, initrd_size = 0;
  std::memcpy(&initrd_addr, data, 4);
  std::memcpy(&initrd_size, data + 4, 3);
  uint8_t cpus = data[7];
  uint16_t cmdline_len = static_cast<uint16_t>(data[8] | (data[9] << 8)) & 0x0fff;
  bool pvh = data[10] & 1;

  boot::X86BootConfig config;
  config.kernel.format = loader::KernelFormat::kBzImage;
  config.kernel.load_address = loader::GuestAddress(0x100000);
  config.kernel.load_size = 0x800000;
  config.kernel.entry = loader::GuestAddress(0x100200);
  if (data[10] & 2) config.kernel.pvh_entry = loader::GuestAddress(0x100000);
  for (size_t i = 16; i < size; ++i) config.kernel.setup_header.push_back(static_cast<std::byte>(data[i]));
  config.protocol = pvh ? boot::X86BootProtocol::kPvh : boot::X86BootProtocol::kLinux;
  config.cmdline.assign(cmdline_len, 'x');
  config.cpus = cpus;
  if (initrd_size) config.initrd = loader::InitrdPlacement{loader::GuestAddress(initrd_addr), initrd_size};
  config.memory_map = *boot::x86_memory_map(64ull << 20);
  (void)boot::setup_x86_boot(*guest(), config);
  return 0;
}
