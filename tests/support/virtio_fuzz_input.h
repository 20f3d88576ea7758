// The input layouts of fuzz/fuzz_virtqueue.cc, fuzz/fuzz_virtio_blk.cc and fuzz/fuzz_fuse.cc,
// shared with tests/tools/write_fuzz_seeds.cc so the seeds stay valid inputs.
#pragma once

#include <cstddef>
#include <cstdint>

namespace test_support::virtio_fuzz {

// fuzz_virtqueue: a VirtqueueHeader, then guest memory contents from address 0.
// Guest RAM is two adjacent 64 KiB regions, so a buffer may cross a region
// boundary that is contiguous in guest physical space.
inline constexpr uint64_t kVirtqueueRegionSize = 0x10000;
inline constexpr uint8_t kFlagEventIdx = 1;
inline constexpr uint8_t kFlagIndirect = 2;
struct VirtqueueHeader {
  uint8_t flags;
  uint8_t reserved;
  uint16_t size;  // any value: invalid sizes are part of the input space
  uint32_t desc;
  uint32_t avail;
  uint32_t used;
};
static_assert(sizeof(VirtqueueHeader) == 16);

// fuzz_virtio_blk: a BlkHeader, then guest memory contents from address 0.
// One 256 KiB region; rings at fixed places; the disk is kBlkDiskSize bytes
// (not a multiple of 512 on purpose).
inline constexpr uint64_t kBlkMemorySize = 0x40000;
inline constexpr uint64_t kBlkDesc = 0x0, kBlkAvail = 0x1000, kBlkUsed = 0x2000;
inline constexpr uint64_t kBlkDiskSize = 64 * 1024 + 300;
inline constexpr uint8_t kBlkFlagReadOnly = 1;
inline constexpr uint8_t kBlkFlagEventIdx = 2;
inline constexpr uint8_t kBlkFlagIndirect = 4;
inline constexpr uint8_t kBlkFlagDiscard = 8;  // negotiate DISCARD and WRITE_ZEROES
struct BlkHeader {
  uint8_t flags;
  uint8_t size_log2;  // queue size 1 << (size_log2 % 5): 1..16
  uint16_t reserved;
};
static_assert(sizeof(BlkHeader) == 4);

// fuzz_fuse: a sequence of FuseRecords, each followed by `len` bytes of raw
// FUSE request (header included, its len field as the fuzzer wrote it),
// served in order by one FuseServer over a fresh share holding a file "f"
// ("hello"), a directory "d" with a file "g", and a symlink "l" -> "/etc".
// Node ids are handed out in order from 2, handles from 1. `shape` splits
// the request across readable buffers (low nibble) and picks the reply room
// (kFuseOutSizes[shape >> 5]).
inline constexpr size_t kFuseMaxRecords = 32;
inline constexpr uint32_t kFuseOutSizes[8] = {0, 8, 16, 64, 512, 4096, 16384, 65536};
struct FuseRecord {
  uint8_t shape;
  uint8_t len_lo;
  uint8_t len_hi;
};
static_assert(sizeof(FuseRecord) == 3);
// fuzz_p9: records, each a P9Record then `len` bytes (clipped to what is
// left) of one raw 9P message for the server of a fresh temporary share.
// `split` cuts the request into up to four buffers (two bits per cut: a
// cut after 0, 3, 7 or 40 % len bytes); the reply gets 1 << (reply_log2 % 18)
// bytes in two buffers. At most kP9MaxRecords records are used.
inline constexpr uint32_t kP9MaxRecords = 64;
inline constexpr uint32_t kP9MaxMsize = 64 * 1024;
struct P9Record {
  uint8_t split;
  uint8_t reply_log2;
  uint16_t len;
};
static_assert(sizeof(P9Record) == 4);

}  // namespace test_support::virtio_fuzz
