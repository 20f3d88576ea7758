#include "vmm/boot_report.h"

#include <gtest/gtest.h>

namespace vmm {
namespace {

TEST(BootReport, FormatsTimesExitsAndMemory) {
  BootReport r;
  r.start = SteadyTime(std::chrono::seconds(10));
  r.first_kvm_run = r.start + std::chrono::microseconds(2500);
  r.banner = r.start + std::chrono::milliseconds(120);
  r.setup_phases = {{"memory", r.start + std::chrono::microseconds(500)},
                    {"kernel+initrd", r.start + std::chrono::microseconds(2000)}};
  r.exits_io = 7;
  r.exits_hlt = 1;
  r.pio.any_unknown = true;
  r.pio.unknown_reads = 3;
  r.pio.unknown_writes = 4;
  r.pio.first_unknown_address = 0x2f8;
  r.peak_rss_bytes = 3u << 20;
  r.guest_memory_bytes = 512u << 20;
  r.boot_path = "pvh (ELF vmlinux)";
  r.pio_ranges.push_back({"pci cf8", 0xcf8, 8, 1100, 1100});
  std::string s = r.format();
  EXPECT_NE(s.find("port accesses by range:\n    pci cf8 [0xcf8+0x8]: 1100 reads, 1100 writes"), std::string::npos) << s;
  EXPECT_EQ(s.find("MMIO accesses by range"), std::string::npos) << s;
  EXPECT_NE(s.find("set-up (start→KVM_RUN):   2.5 ms"), std::string::npos) << s;
  EXPECT_NE(s.find("by step:                memory 0.5 ms, kernel+initrd 1.5 ms, threads 0.5 ms\n"), std::string::npos) << s;
  EXPECT_NE(s.find("\"Linux version\":          120.0 ms"), std::string::npos) << s;
  EXPECT_NE(s.find("\"Run /init\":              not seen"), std::string::npos) << s;
  EXPECT_NE(s.find("8 total: io 7"), std::string::npos) << s;
  EXPECT_NE(s.find("hlt 1"), std::string::npos) << s;
  EXPECT_NE(s.find("3 reads, 4 writes (first at 0x2f8)"), std::string::npos) << s;
  EXPECT_NE(s.find("unknown MMIO accesses:    none"), std::string::npos) << s;
  EXPECT_NE(s.find("3.0 MiB (guest memory 512.0 MiB"), std::string::npos) << s;
  EXPECT_NE(s.find("pvh (ELF vmlinux)"), std::string::npos) << s;
}

// Whether the kernel came from the kernel cache is a line under the set-up
// steps, and there is no such line when nothing was decompressed.
TEST(BootReport, SaysWhereADecompressedKernelCameFrom) {
  BootReport r;
  r.start = SteadyTime(std::chrono::seconds(10));
  r.first_kvm_run = r.start + std::chrono::milliseconds(3);
  r.setup_phases = {{"kernel+initrd", r.start + std::chrono::milliseconds(2)}};
  EXPECT_EQ(r.format().find("    kernel:"), std::string::npos) << r.format();
  r.kernel_source = "decompressed payload from cache (/c/minivmm/vmlinux/0badf00d-123)";
  std::string s = r.format();
  EXPECT_NE(s.find("threads 1.0 ms\n    kernel:                 decompressed payload from cache "
                   "(/c/minivmm/vmlinux/0badf00d-123)\n"),
            std::string::npos)
      << s;
}

TEST(BootReport, VirtioDeviceDetailGetsALineOfItsOwn) {
  BootReport r;
  r.start = SteadyTime(std::chrono::seconds(1));
  r.virtio_mode = "ioeventfd";
  r.virtio.push_back({"virtio-net (pci 00:03.0)", 10, 8, 0, "tx 5 frames 900 bytes, dropped 0"});
  r.virtio.push_back({"virtio-blk (pci 00:04.0)", 3, 3, 0, ""});
  const std::string s = r.format();
  EXPECT_NE(s.find("virtio-net (pci 00:03.0): 10 notifications, 8 I/O thread wake-ups, 0 via register writes\n"
                   "      tx 5 frames 900 bytes, dropped 0\n"),
            std::string::npos)
      << s;
  const std::string blk = "virtio-blk (pci 00:04.0): 3 notifications, 3 I/O thread wake-ups, 0 via register writes\n";
  const size_t at = s.find(blk);
  ASSERT_NE(at, std::string::npos) << s;
  EXPECT_FALSE(s.substr(at + blk.size()).starts_with("      ")) << "no detail, no second line\n" << s;
}

TEST(BootReport, SaysHowManyWritesWereQueuedOnlyWhenTheRingWasUsed) {
  BootReport r;
  EXPECT_EQ(r.format().find("queued writes"), std::string::npos);
  r.queued_writes_on = true;
  r.queued_writes = 1100;
  EXPECT_NE(r.format().find("queued writes (no exit):  1100 (counted in the ranges below)\n"), std::string::npos)
      << r.format();
  r.queued_malformed = 2;
  EXPECT_NE(r.format().find("1100 (counted in the ranges below), 2 malformed ring entries skipped"), std::string::npos)
      << r.format();
}

TEST(BootReport, PeakRssIsMeasured) { EXPECT_GT(peak_rss_bytes(), 0u); }

}  // namespace
}  // namespace vmm
