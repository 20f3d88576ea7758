// Writes a seed corpus for every fuzz target from the same builders the unit
// tests use, so the fuzzers start from valid images instead of spending their
// time budget rediscovering magic numbers. Usage: write_fuzz_seeds OUTDIR
#include <linux/fuse.h>
#include <sys/stat.h>

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

// fuzz_p9: one 9P2000.L session per seed, as P9Record-framed messages.
class P9Seed {
 public:
  P9Seed& msg(uint8_t type, const std::vector<std::byte>& body, uint8_t split = 0, uint8_t reply_log2 = 13) {
    const uint32_t size = static_cast<uint32_t>(7 + body.size());
    const uint16_t len = static_cast<uint16_t>(size);
    out_.push_back(std::byte{split});
    out_.push_back(std::byte{reply_log2});
    out_.push_back(std::byte(len & 0xff));
    out_.push_back(std::byte(len >> 8));
    for (int i = 0; i < 4; ++i) out_.push_back(std::byte((size >> (8 * i)) & 0xff));
    out_.push_back(std::byte{type});
    out_.push_back(std::byte{1});
    out_.push_back(std::byte{0});
    out_.insert(out_.end(), body.begin(), body.end());
    return *this;
  }
  const std::vector<std::byte>& bytes() const { return out_; }

 private:
  std::vector<std::byte> out_;
};

class P9Body {
 public:
  P9Body& u8(uint8_t v) { return put(v, 1); }
  P9Body& u16(uint16_t v) { return put(v, 2); }
  P9Body& u32(uint32_t v) { return put(v, 4); }
  P9Body& u64(uint64_t v) { return put(v, 8); }
  P9Body& str(const std::string& s) {
    u16(static_cast<uint16_t>(s.size()));
    for (char c : s) b_.push_back(std::byte(c));
    return *this;
  }
  operator std::vector<std::byte>() const { return b_; }

 private:
  P9Body& put(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) b_.push_back(std::byte((v >> (8 * i)) & 0xff));
    return *this;
  }
  std::vector<std::byte> b_;
};

void write_p9_seeds(const fs::path& dir) {
  const uint32_t nofid = 0xffffffff;
  auto session = [&] {
    P9Seed s;
    s.msg(100, P9Body().u32(16384).str("9P2000.L"));
    s.msg(104, P9Body().u32(0).u32(nofid).str("root").str("").u32(0));
    return s;
  };
  P9Seed read = session();
  read.msg(110, P9Body().u32(0).u32(1).u16(2).str("d").str("b"), 0x1b)
      .msg(12, P9Body().u32(1).u32(0))
      .msg(116, P9Body().u32(1).u64(0).u32(100), 0, 7)
      .msg(24, P9Body().u32(1).u64(0x7ff))
      .msg(120, P9Body().u32(1));
  write(dir, "read", read.bytes());

  P9Seed create = session();
  create.msg(110, P9Body().u32(0).u32(2).u16(0))
      .msg(14, P9Body().u32(2).str("new").u32(2).u32(04755).u32(0))
      .msg(118, P9Body().u32(2).u64(0).u32(5).u8('h').u8('e').u8('l').u8('l').u8('o'), 0x39)
      .msg(50, P9Body().u32(2).u32(0))
      .msg(26, P9Body().u32(2).u32(1 | 8).u32(0644).u32(0).u32(0).u64(3).u64(0).u64(0).u64(0).u64(0))
      .msg(72, P9Body().u32(0).str("dir").u32(0755).u32(0))
      .msg(16, P9Body().u32(0).str("sl").str("../../outside-sentinel").u32(0))
      .msg(70, P9Body().u32(0).u32(2).str("hard"))
      .msg(74, P9Body().u32(0).str("a").u32(0).str("a2"))
      .msg(76, P9Body().u32(0).str("a2").u32(0))
      .msg(18, P9Body().u32(0).str("fifo").u32(0010644).u32(0).u32(0).u32(0))
      .msg(8, P9Body().u32(0));
  write(dir, "create", create.bytes());

  P9Seed walk = session();
  walk.msg(110, P9Body().u32(0).u32(3).u16(4).str("..").str("d").str("up").str("keep"))
      .msg(110, P9Body().u32(0).u32(4).u16(1).str("etc"))
      .msg(22, P9Body().u32(4))
      .msg(12, P9Body().u32(4).u32(0))
      .msg(110, P9Body().u32(0).u32(5).u16(1).str("d"))
      .msg(12, P9Body().u32(5).u32(0))
      .msg(40, P9Body().u32(5).u64(0).u32(200), 0, 9)
      .msg(30, P9Body().u32(0).u32(6).str(""))
      .msg(32, P9Body().u32(5).str("user.k").u64(2).u32(0))
      .msg(118, P9Body().u32(5).u64(0).u32(2).u8('v').u8('v'))
      .msg(120, P9Body().u32(5))
      .msg(52, P9Body().u32(0).u8(1).u32(0).u64(0).u64(0).u32(1).str("c"))
      .msg(54, P9Body().u32(0).u8(1).u64(0).u64(0).u32(1).str("c"))
      .msg(122, P9Body().u32(3));
  write(dir, "walk", walk.bytes());
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


// Request sequences for fuzz_fuse over its fixed share (f, d/g, l -> /etc).
class FuseSeq {
 public:
  explicit FuseSeq(bool ro) { bytes_.push_back(std::byte{static_cast<uint8_t>(ro ? 1 : 0)}); }
  // Appends one request; shape 0xe0 gives it 65536 bytes of reply room.
  FuseSeq& req(uint32_t opcode, uint64_t nodeid, const std::vector<std::byte>& args, uint8_t shape = 0xe3) {
    fuse_in_header h{};
    h.len = static_cast<uint32_t>(sizeof(h) + args.size());
    h.opcode = opcode;
    h.unique = ++unique_;
    h.nodeid = nodeid;
    const test_support::virtio_fuzz::FuseRecord rec{shape, static_cast<uint8_t>(h.len & 0xff),
                                                    static_cast<uint8_t>(h.len >> 8)};
    put(rec);
    put(h);
    bytes_.insert(bytes_.end(), args.begin(), args.end());
    return *this;
  }
  const std::vector<std::byte>& bytes() const { return bytes_; }

 private:
  template <class T>
  void put(const T& v) {
    const auto* p = reinterpret_cast<const std::byte*>(&v);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
  }
  std::vector<std::byte> bytes_;
  uint64_t unique_ = 0;
};

template <class T>
std::vector<std::byte> fuse_args(const T& v, const std::string& tail = {}, bool nul = true) {
  std::vector<std::byte> out(sizeof(T));
  std::memcpy(out.data(), &v, sizeof(T));
  for (char c : tail) out.push_back(static_cast<std::byte>(c));
  if (nul) out.push_back(std::byte{0});
  return out;
}
std::vector<std::byte> fuse_name(const std::string& s) {
  std::vector<std::byte> out;
  for (char c : s) out.push_back(static_cast<std::byte>(c));
  out.push_back(std::byte{0});
  return out;
}

void write_fuse_seeds(const fs::path& dir) {
  fuse_init_in init{};
  init.major = 7;
  init.minor = 38;
  init.max_readahead = 65536;
  init.flags = FUSE_DO_READDIRPLUS | FUSE_MAX_PAGES | FUSE_ASYNC_READ;
  fuse_open_in open_rw{};
  open_rw.flags = 2;  // O_RDWR
  fuse_read_in rd{};
  rd.fh = 1;
  rd.size = 4096;
  fuse_write_in wr{};
  wr.fh = 1;
  wr.offset = 3;
  wr.size = 5;
  // Node 2 = f, fh 1 on it.
  write(dir, "file_io",
        FuseSeq(false)
            .req(FUSE_INIT, 0, fuse_args(init, "", false))
            .req(FUSE_LOOKUP, 1, fuse_name("f"))
            .req(FUSE_OPEN, 2, fuse_args(open_rw, "", false))
            .req(FUSE_READ, 2, fuse_args(rd, "", false))
            .req(FUSE_WRITE, 2, fuse_args(wr, "world", false))
            .req(FUSE_GETATTR, 2, fuse_args(fuse_getattr_in{}, "", false))
            .req(FUSE_FLUSH, 2, fuse_args(fuse_flush_in{1, 0, 0, 0}, "", false))
            .req(FUSE_RELEASE, 2, fuse_args(fuse_release_in{1, 0, 0, 0}, "", false))
            .req(FUSE_FORGET, 2, fuse_args(fuse_forget_in{1}, "", false), 0)
            .bytes());
  fuse_create_in create{};
  create.flags = 0102;  // O_RDWR|O_CREAT
  create.mode = S_IFREG | 04755;
  fuse_setattr_in sa{};
  sa.valid = FATTR_SIZE | FATTR_MODE | FATTR_MTIME_NOW | FATTR_MTIME;
  sa.size = 5ull << 30;
  sa.mode = 0600;
  fuse_setxattr_in sx{};
  sx.size = 3;
  std::vector<std::byte> sx_args(FUSE_COMPAT_SETXATTR_IN_SIZE);
  std::memcpy(sx_args.data(), &sx, FUSE_COMPAT_SETXATTR_IN_SIZE);
  for (char c : std::string("user.k")) sx_args.push_back(static_cast<std::byte>(c));
  sx_args.push_back(std::byte{0});
  for (char c : std::string("val")) sx_args.push_back(static_cast<std::byte>(c));
  fuse_getxattr_in gx{};
  gx.size = 64;
  fuse_rename2_in rn{};
  rn.newdir = 1;
  rn.flags = 1;  // RENAME_NOREPLACE
  fuse_link_in ln{};
  ln.oldnodeid = 2;
  fuse_mkdir_in md{};
  md.mode = 0755;
  fuse_mknod_in mn{};
  mn.mode = S_IFIFO | 0644;
  // Node 2 = n (created, fh 1), then links, renames, xattrs, directories.
  auto namespace_ops = [&](bool ro) {
    return FuseSeq(ro)
        .req(FUSE_INIT, 0, fuse_args(init, "", false))
        .req(FUSE_CREATE, 1, fuse_args(create, "n"))
        .req(FUSE_SETATTR, 2, fuse_args(sa, "", false))
        .req(FUSE_SETXATTR, 2, sx_args)
        .req(FUSE_GETXATTR, 2, fuse_args(gx, "user.k"))
        .req(FUSE_LISTXATTR, 2, fuse_args(gx, "", false))
        .req(FUSE_LINK, 1, fuse_args(ln, "n2"))
        .req(FUSE_RENAME2, 1, fuse_args(rn, std::string("n2\0n3", 5)))
        .req(FUSE_SYMLINK, 1, fuse_name(std::string("s\0../../x", 9)))
        .req(FUSE_MKDIR, 1, fuse_args(md, "dd"))
        .req(FUSE_MKNOD, 1, fuse_args(mn, "p"))
        .req(FUSE_UNLINK, 1, fuse_name("n3"))
        .req(FUSE_RMDIR, 1, fuse_name("dd"))
        .req(FUSE_STATFS, 1, {})
        .bytes();
  };
  write(dir, "namespace", namespace_ops(false));
  write(dir, "namespace_ro", namespace_ops(true));
  fuse_open_in od{};
  fuse_read_in rdd{};
  rdd.fh = 1;
  rdd.size = 512;
  fuse_batch_forget_in bf{};
  bf.count = 2;
  std::vector<std::byte> bf_args = fuse_args(bf, "", false);
  for (uint64_t id : {2u, 3u}) {
    const fuse_forget_one one{id, 1};
    const auto* p = reinterpret_cast<const std::byte*>(&one);
    bf_args.insert(bf_args.end(), p, p + sizeof(one));
  }
  // Node 2 = d, dir fh 1; node 3 = l (the link, never followed).
  write(dir, "dirs_links",
        FuseSeq(false)
            .req(FUSE_LOOKUP, 1, fuse_name("d"))
            .req(FUSE_OPENDIR, 2, fuse_args(od, "", false))
            .req(FUSE_READDIRPLUS, 2, fuse_args(rdd, "", false))
            .req(FUSE_READDIR, 2, fuse_args(rdd, "", false), 0x83)
            .req(FUSE_RELEASEDIR, 2, fuse_args(fuse_release_in{1, 0, 0, 0}, "", false))
            .req(FUSE_LOOKUP, 1, fuse_name("l"))
            .req(FUSE_READLINK, 3, {})
            .req(FUSE_OPEN, 3, fuse_args(od, "", false))
            .req(FUSE_LOOKUP, 1, fuse_name(".."))
            .req(FUSE_BATCH_FORGET, 0, bf_args, 0)
            .bytes());
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
  write_fuse_seeds(root / "fuzz_fuse");
  write_p9_seeds(root / "fuzz_p9");
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
