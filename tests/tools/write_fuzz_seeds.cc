// Writes a seed corpus for every fuzz target from the same builders the unit
// tests use, so the fuzzers start from valid images instead of spending their
// time budget rediscovering magic numbers. Usage: write_fuzz_seeds OUTDIR
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/bus_fuzz_input.h"
#include "support/bzimage_builder.h"
#include "support/compress.h"
#include "support/elf_builder.h"
#include "support/image_builder.h"
#include "support/virtio_driver.h"
#include "support/virtio_fuzz_input.h"

namespace {

namespace fs = std::filesystem;
using loader::Compression;

void write(const fs::path& dir, const std::string& name, const std::vector<std::byte>& bytes) {
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::vector<std::byte> text(const std::string& s) {
  std::vector<std::byte> out(s.size());
  for (size_t i = 0; i < s.size(); ++i) out[i] = static_cast<std::byte>(s[i]);
  return out;
}

template <class Header>
std::vector<std::byte> with_header(const Header& h, const loader::GuestMemory& mem, uint64_t len) {
  std::vector<std::byte> out(sizeof h + len);
  std::memcpy(out.data(), &h, sizeof h);
  if (!mem.read(loader::GuestAddress(0), std::span(out).subspan(sizeof h))) std::abort();
  return out;
}

loader::GuestMemory seed_memory(uint64_t size) {
  std::array specs{loader::RegionSpec{loader::GuestAddress(0), size}};
  auto m = loader::GuestMemory::create(specs);
  if (!m) std::abort();
  return std::move(*m);
}

// Valid rings for fuzz_virtqueue: direct chains, an indirect one, a wrap.
void write_virtqueue_seeds(const fs::path& dir) {
  namespace vf = test_support::virtio_fuzz;
  using test_support::DriverQueue;
  vf::VirtqueueHeader h{vf::kFlagIndirect, 0, 8, 0x1000, 0x2000, 0x3000};
  {
    auto mem = seed_memory(vf::kVirtqueueRegionSize);
    DriverQueue q(mem, 8, h.desc, h.avail, h.used);
    q.add_chain({{0x8000, 16, false}, {0x9000, 512, true}, {0x9200, 1, true}});
    q.add_chain({{0x8100, 64, false}});
    write(dir, "direct", with_header(h, mem, 0xa000));
  }
  {
    auto mem = seed_memory(vf::kVirtqueueRegionSize);
    DriverQueue q(mem, 8, h.desc, h.avail, h.used);
    q.add_indirect_chain(0x4000, {{0x8000, 16, false}, {0x9000, 512, true}, {0x9200, 1, true}});
    q.add_chain({{0x8000, 8, false}, {0x9000, 8, true}});
    write(dir, "indirect", with_header(h, mem, 0xa000));
  }
  {
    auto mem = seed_memory(vf::kVirtqueueRegionSize);
    h.flags = vf::kFlagEventIdx | vf::kFlagIndirect;
    DriverQueue q(mem, 8, h.desc, h.avail, h.used);
    q.set_used_event(1);
    for (int i = 0; i < 5; ++i) q.add_chain({{0x8000 + 0x100ull * i, 32, true}});
    write(dir, "event_idx", with_header(h, mem, 0xa000));
  }
}

// One request of each type for fuzz_virtio_blk.
void write_virtio_blk_seeds(const fs::path& dir) {
  namespace vf = test_support::virtio_fuzz;
  using test_support::DriverQueue;
  constexpr uint64_t kHdr = 0x4000, kData = 0x5000, kStatus = 0x9000, kSeg = 0x8000;
  struct Request {
    const char* name;
    uint32_t type;
    bool data_in;
    uint32_t data_len;
  };
  const Request requests[] = {{"in", 0, true, 1024},        {"out", 1, false, 512},      {"flush", 4, false, 0},
                              {"get_id", 8, true, 20},      {"discard", 11, false, 32},  {"write_zeroes", 13, false, 16}};
  for (const Request& r : requests) {
    auto mem = seed_memory(vf::kBlkMemorySize);
    DriverQueue q(mem, 16, vf::kBlkDesc, vf::kBlkAvail, vf::kBlkUsed);
    q.put<uint32_t>(kHdr, r.type);
    q.put<uint64_t>(kHdr + 8, 2);
    std::vector<test_support::DriverBuffer> bufs{{kHdr, 16, false}};
    if (r.type == 11 || r.type == 13) {
      for (uint32_t i = 0; i < r.data_len / 16; ++i) {
        q.put<uint64_t>(kSeg + 16 * i, 4 * i);
        q.put<uint32_t>(kSeg + 16 * i + 8, 2);
      }
      bufs.push_back({kSeg, r.data_len, false});
    } else if (r.data_len > 0) {
      bufs.push_back({kData, r.data_len, r.data_in});
    }
    bufs.push_back({kStatus, 1, true});
    q.add_chain(bufs);
    vf::BlkHeader h{static_cast<uint8_t>(vf::kBlkFlagDiscard | vf::kBlkFlagIndirect), 4, 0};
    write(dir, r.name, with_header(h, mem, 0xa000));
  }
}

// One fuzz_pci_config operation (see fuzz/fuzz_pci_config.cc for the format).
enum PciPath : uint8_t { kEcam = 0, kCf8 = 1, kMmio = 2, kIo = 3, kHooks = 4 };
void pci_op(std::vector<std::byte>& out, PciPath path, bool write, unsigned size_log2, uint32_t offset,
            uint64_t value) {
  out.push_back(static_cast<std::byte>(path));
  out.push_back(static_cast<std::byte>((write ? 1 : 0) | size_log2 << 1));
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::byte>(offset >> (8 * i)));
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::byte>(value >> (8 * i)));
}

// The virtio-pci device sits in slot 1 with BAR 4 first in the 64-bit window
// (bit 31 of a window offset): a driver's bring-up from reset to DRIVER_OK.
std::vector<std::byte> pci_bring_up(bool msix) {
  constexpr uint32_t bar = 0x8000'0000u;
  std::vector<std::byte> s;
  if (msix) pci_op(s, kEcam, true, 1, 0x8000 | 0x86, 0x8000);  // MSI-X enable (cap at 0x84)
  for (uint8_t st : {0, 1, 3}) pci_op(s, kMmio, true, 0, bar | 0x14, st);
  pci_op(s, kMmio, true, 2, bar | 0x08, 0);
  pci_op(s, kMmio, true, 2, bar | 0x0c, 1);
  pci_op(s, kMmio, true, 2, bar | 0x08, 1);
  pci_op(s, kMmio, true, 2, bar | 0x0c, 1);  // VERSION_1
  pci_op(s, kMmio, true, 0, bar | 0x14, 0x0b);
  pci_op(s, kMmio, true, 1, bar | 0x16, 0);
  pci_op(s, kMmio, true, 1, bar | 0x18, 64);
  if (msix) pci_op(s, kMmio, true, 1, bar | 0x1a, 1);
  pci_op(s, kMmio, true, 2, bar | 0x20, 0x1000);
  pci_op(s, kMmio, true, 2, bar | 0x28, 0x2000);
  pci_op(s, kMmio, true, 3, bar | 0x30, 0x3000);
  pci_op(s, kMmio, true, 1, bar | 0x1c, 1);
  pci_op(s, kMmio, true, 0, bar | 0x14, 0x0f);
  if (msix) {
    pci_op(s, kMmio, true, 3, bar | 0x4010, 0xfee0'0000);
    pci_op(s, kMmio, true, 2, bar | 0x401c, 0);  // unmask vector 1
  }
  pci_op(s, kMmio, true, 1, bar | 0x3000, 0);  // notify queue 0
  pci_op(s, kHooks, false, 0, 0, 1);           // signal_config
  pci_op(s, kMmio, false, 0, bar | 0x1000, 0);  // read ISR
  pci_op(s, kMmio, false, 3, bar | 0x5000, 0);  // read the PBA
  return s;
}

std::vector<std::byte> pci_config_walk() {
  std::vector<std::byte> s;
  pci_op(s, kCf8, true, 2, 0, 0x8000'0800);  // CF8: slot 1, register 0
  pci_op(s, kCf8, false, 2, 4, 0);
  pci_op(s, kCf8, true, 2, 0, 0x8000'0820);  // BAR 4: size it through CFC
  pci_op(s, kCf8, true, 2, 4, 0xffff'ffff);
  pci_op(s, kCf8, false, 2, 4, 0);
  for (uint32_t reg = 0x34; reg < 0x94; reg += 4) pci_op(s, kEcam, false, 2, 0x8000 | reg, 0);
  pci_op(s, kEcam, true, 1, 0x8000 | 0x04, 0);  // decode off, then on again
  pci_op(s, kEcam, true, 1, 0x8000 | 0x04, 0x6);
  return s;
}

// fuzz_bus_devices: what the device unit tests do, as bus operations.
namespace bf = test_support::bus_fuzz;

std::vector<std::byte> bus_serial(uint8_t window, uint8_t input_hook) {
  std::vector<std::byte> s;
  bf::put_op(s, window, true, 0, 3, 0x83);  // LCR: DLAB
  bf::put_op(s, window, true, 0, 0, 0x01);  // DLL: 115200
  bf::put_op(s, window, true, 0, 1, 0x00);  // DLM
  bf::put_op(s, window, true, 0, 3, 0x03);  // LCR: 8N1
  bf::put_op(s, window, true, 0, 2, 0xc7);  // FCR: FIFOs on, cleared
  bf::put_op(s, window, true, 0, 1, 0x03);  // IER: RX data, THRE
  bf::put_op(s, window, true, 0, 4, 0x0b);  // MCR: DTR RTS OUT2
  bf::put_op(s, window, true, 0, 0, 'h');   // THR
  bf::put_op(s, window, false, 0, 2, 0);    // IIR
  bf::put_op(s, window, false, 0, 5, 0);    // LSR
  bf::put_op(s, static_cast<uint8_t>(bf::kHookFlag | input_hook), false, 0, 3, 0x0a6b6f);
  bf::put_op(s, window, false, 0, 2, 0);
  bf::put_op(s, window, false, 0, 0, 0);    // RBR
  bf::put_op(s, window, false, 0, 6, 0);    // MSR
  bf::put_op(s, window, true, 0, 4, 0x10);  // MCR: loopback
  bf::put_op(s, window, true, 0, 0, 'x');
  bf::put_op(s, window, false, 0, 0, 0);
  bf::put_op(s, window, false, 2, 0, 0);    // a 4-byte read of a byte register
  return s;
}

std::vector<std::byte> bus_i8042() {
  std::vector<std::byte> s;
  using W = bf::Window;
  bf::put_op(s, W::kWindowI8042Command, true, 0, 0, 0xaa);  // self test
  bf::put_op(s, W::kWindowI8042Command, false, 0, 0, 0);    // status
  bf::put_op(s, W::kWindowI8042Data, false, 0, 0, 0);       // 0x55
  bf::put_op(s, W::kWindowI8042Command, true, 0, 0, 0x20);  // read command byte
  bf::put_op(s, W::kWindowI8042Data, false, 0, 0, 0);
  bf::put_op(s, W::kWindowI8042Command, true, 0, 0, 0x60);  // write command byte
  bf::put_op(s, W::kWindowI8042Data, true, 0, 0, 0x47);
  bf::put_op(s, W::kWindowI8042Data, true, 0, 0, 0xff);    // keyboard reset
  bf::put_op(s, W::kWindowI8042Data, false, 0, 0, 0);
  bf::put_op(s, W::kWindowI8042Command, true, 0, 0, 0xd4);  // to the AUX port
  bf::put_op(s, W::kWindowI8042Data, true, 0, 0, 0xf4);
  bf::put_op(s, W::kWindowI8042Data, false, 0, 0, 0);
  bf::put_op(s, W::kWindowI8042Command, true, 0, 0, 0xfe);  // pulse reset
  return s;
}

std::vector<std::byte> bus_cmos_acpi_post() {
  std::vector<std::byte> s;
  using W = bf::Window;
  for (uint8_t reg : {0x0a, 0x0b, 0x00, 0x02, 0x04, 0x07, 0x08, 0x09, 0x32, 0x0d}) {
    bf::put_op(s, W::kWindowCmos, true, 0, 0, reg);
    bf::put_op(s, W::kWindowCmos, false, 0, 1, 0);
  }
  bf::put_op(s, W::kWindowCmos, true, 0, 0, 0x0b);  // SET, binary, 24 hour
  bf::put_op(s, W::kWindowCmos, true, 0, 1, 0x86);
  bf::put_op(s, W::kWindowCmos, true, 0, 0, 0x04);
  bf::put_op(s, W::kWindowCmos, true, 0, 1, 23);
  bf::put_op(s, W::kWindowCmos, true, 0, 0, 0x0b);
  bf::put_op(s, W::kWindowCmos, true, 0, 1, 0x06);
  bf::put_op(s, static_cast<uint8_t>(bf::kHookFlag | bf::kHookClock), false, 0, 0, 3600);
  bf::put_op(s, W::kWindowCmos, true, 0, 0, 0x04);
  bf::put_op(s, W::kWindowCmos, false, 0, 1, 0);
  bf::put_op(s, W::kWindowCmos, true, 0, 0, 0x80 | 0x40);  // NMI off, CMOS RAM
  bf::put_op(s, W::kWindowCmos, true, 0, 1, 0x12);
  bf::put_op(s, W::kWindowCmos, false, 1, 0, 0);            // a 2-byte access over both ports
  bf::put_op(s, W::kWindowAcpiPm, false, 1, 0, 0);          // PM1a_STS
  bf::put_op(s, W::kWindowAcpiPm, true, 1, 2, 0x0100);      // PM1a_EN
  bf::put_op(s, W::kWindowAcpiPm, false, 1, 4, 0);          // PM1a_CNT
  bf::put_op(s, W::kWindowAcpiPm, true, 1, 4, 1u | 1u << 10);  // S1: ignored
  bf::put_op(s, W::kWindowAcpiPm, true, 1, 4, 1u | 5u << 10 | 1u << 13);  // S5: power off
  bf::put_op(s, W::kWindowAcpiPm, true, 2, 2, 0xffffffff);  // straddles the end
  for (uint8_t code : {0x00, 0x10, 0x55, 0xff}) bf::put_op(s, W::kWindowPostCode, true, 0, 0, code);
  bf::put_op(s, W::kWindowPostCode, false, 0, 0, 0);
  bf::put_op(s, W::kWindowPostCode, true, 0, 0xffffffffu, 0, true);  // the port below it
  return s;
}

std::vector<std::byte> bus_plic() {
  std::vector<std::byte> s;
  using W = bf::Window;
  constexpr uint32_t kSource = 10;
  bf::put_op(s, W::kWindowPlic, true, 2, 4 * kSource, 1);          // priority
  bf::put_op(s, W::kWindowPlic, true, 2, 0x2000, 1u << kSource);   // context 0 enable
  bf::put_op(s, W::kWindowPlic, true, 2, 0x20'0000, 0);            // context 0 threshold
  bf::put_op(s, static_cast<uint8_t>(bf::kHookFlag | bf::kHookPlicLevel), false, 0, kSource, 1);
  bf::put_op(s, W::kWindowPlic, false, 2, 0x1000, 0);              // pending
  bf::put_op(s, W::kWindowPlic, false, 2, 0x20'0004, 0);           // claim
  bf::put_op(s, static_cast<uint8_t>(bf::kHookFlag | bf::kHookPlicLevel), false, 0, kSource, 0);
  bf::put_op(s, W::kWindowPlic, true, 2, 0x20'0004, kSource);      // complete
  bf::put_op(s, W::kWindowPlic, true, 2, 0x2080, 1u << kSource);   // context 1
  bf::put_op(s, W::kWindowPlic, true, 2, 0x20'1000, 0);
  bf::put_op(s, static_cast<uint8_t>(bf::kHookFlag | bf::kHookPlicLevel), false, 0, kSource, 1);
  bf::put_op(s, W::kWindowPlic, false, 2, 0x20'1004, 0);
  bf::put_op(s, W::kWindowPlic, false, 3, 0x20'0000, 0);           // 8-byte access
  bf::put_op(s, W::kWindowPlic, false, 2, 0x400'0000 - 2, 0);      // straddles the end
  return s;
}

std::vector<std::byte> sbi_calls() {
  std::vector<std::byte> s;
  constexpr uint64_t kDbcn = 0x4442434e;
  bf::put_sbi_call(s, 0x01, 0, {'o'});                                  // legacy putchar
  bf::put_sbi_call(s, 0x02, 0, {});                                     // legacy getchar
  bf::put_sbi_call(s, kDbcn, 0, {16, bf::kSbiRamBase + 0x100, 0});      // write
  bf::put_sbi_call(s, kDbcn, 0, {8, bf::kSbiRamBase + bf::kSbiRamSize - 4, 0});  // runs out of RAM
  bf::put_sbi_call(s, kDbcn, 0, {0x2000, bf::kSbiRamBase, 0});          // longer than one chunk
  bf::put_sbi_call(s, kDbcn, 1, {16, bf::kSbiRamBase, 0});              // read
  bf::put_sbi_call(s, kDbcn, 2, {'!'});                                 // write_byte
  bf::put_sbi_call(s, kDbcn, 3, {});
  bf::put_sbi_call(s, 0x10, 0, {});                                     // base: KVM's own
  bf::put_sbi_call(s, 0x53525354, 0, {0, 0});                           // SRST
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
    return 2;
  }
  const fs::path root(argv[1]);
  const Compression codecs[] = {Compression::kGzip, Compression::kBzip2, Compression::kXz,
                                Compression::kLzma, Compression::kLzo,  Compression::kLz4Legacy,
                                Compression::kLz4Frame, Compression::kZstd};

  const auto elf = test_support::vmlinux_like().build().bytes;
  write(root / "fuzz_elf", "vmlinux_like", elf);

  std::vector<std::byte> small_payload = test_support::minimal_elf64();
  for (Compression c : codecs) {
    test_support::BzImageSpec spec;
    spec.compression = c;
    auto bz = test_support::build_bzimage(spec).bytes;
    write(root / "fuzz_bzimage", std::string(to_string(c)), bz);
    write(root / "fuzz_kernel_loader", "bzimage-" + std::string(to_string(c)), bz);

    auto stream = test_support::compress(c, elf);
    std::vector<std::byte> seed{static_cast<std::byte>(static_cast<int>(c))};
    seed.insert(seed.end(), stream.begin(), stream.end());
    write(root / "fuzz_decompress", std::string(to_string(c)), seed);
  }

  const auto arm = test_support::build_arm64_image();
  const auto riscv = test_support::build_riscv_image();
  write(root / "fuzz_kernel_loader", "vmlinux_like", elf);
  write(root / "fuzz_kernel_loader", "arm64", arm);
  write(root / "fuzz_kernel_loader", "riscv64", riscv);
  write(root / "fuzz_kernel_loader", "arm64.gz", test_support::compress(Compression::kGzip, arm));
  write(root / "fuzz_kernel_loader", "arm64.zst", test_support::compress(Compression::kZstd, arm));
  write(root / "fuzz_kernel_loader", "arm64-zboot",
        test_support::build_efi_zboot(test_support::compress(Compression::kGzip, arm), "gzip"));

  auto setup = test_support::build_bzimage().bytes;
  std::vector<std::byte> x86_seed(16, std::byte{0});
  x86_seed.insert(x86_seed.end(), setup.begin() + 0x1f1, setup.begin() + 0x280);
  write(root / "fuzz_x86_boot", "setup_header", x86_seed);

  write(root / "fuzz_cmdline", "console", text("console=ttyS0 reboot=t panic=-1"));
  write(root / "fuzz_cmdline", "quoted", text("root=/dev/vda dyndbg=\"file x.c +p\" -- init arg"));
  write(root / "fuzz_cmdline", "virtio", text("virtio_mmio.device=4K@0xd0000000:5 quiet"));

  write_virtqueue_seeds(root / "fuzz_virtqueue");
  write_virtio_blk_seeds(root / "fuzz_virtio_blk");
  write(root / "fuzz_pci_config", "bring_up_intx", pci_bring_up(false));
  write(root / "fuzz_pci_config", "bring_up_msix", pci_bring_up(true));
  write(root / "fuzz_pci_config", "config_walk", pci_config_walk());
  write(root / "fuzz_bus_devices", "serial_pio", bus_serial(bf::kWindowSerialPio, bf::kHookSerialPioInput));
  write(root / "fuzz_bus_devices", "serial_mmio", bus_serial(bf::kWindowSerialMmio, bf::kHookSerialMmioInput));
  write(root / "fuzz_bus_devices", "i8042", bus_i8042());
  write(root / "fuzz_bus_devices", "cmos_acpi_post", bus_cmos_acpi_post());
  write(root / "fuzz_bus_devices", "plic", bus_plic());
  write(root / "fuzz_sbi", "console_calls", sbi_calls());
  return 0;
}
