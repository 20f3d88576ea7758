// The 9P2000.L wire format over scatter/gather buffers: a bounded
// little-endian Reader over the request's guest buffers and a bounded Writer
// over the reply's. Neither ever touches a byte outside its buffers or past
// its limit: a read past the end or a write past the room sets a sticky
// failure flag and yields zeros, so a handler decodes every field and checks
// ok() once instead of checking each one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace backends::p9 {

// Message types (the 9P2000.L subset the server speaks; R = T + 1).
enum class Type : uint8_t {
  kTlerror = 6,
  kRlerror = 7,
  kTstatfs = 8,
  kTlopen = 12,
  kTlcreate = 14,
  kTsymlink = 16,
  kTmknod = 18,
  kTrename = 20,
  kTreadlink = 22,
  kTgetattr = 24,
  kTsetattr = 26,
  kTxattrwalk = 30,
  kTxattrcreate = 32,
  kTreaddir = 40,
  kTfsync = 50,
  kTlock = 52,
  kTgetlock = 54,
  kTlink = 70,
  kTmkdir = 72,
  kTrenameat = 74,
  kTunlinkat = 76,
  kTversion = 100,
  kTauth = 102,
  kTattach = 104,
  kTflush = 108,
  kTwalk = 110,
  kTread = 116,
  kTwrite = 118,
  kTclunk = 120,
  kTremove = 122,
};

inline constexpr uint32_t kHeaderSize = 7;  // size[4] type[1] tag[2]
inline constexpr uint16_t kNoTag = 0xffff;
inline constexpr uint32_t kNoFid = 0xffffffff;
inline constexpr uint32_t kQidSize = 13;

// qid.type bits.
inline constexpr uint8_t kQidDir = 0x80;
inline constexpr uint8_t kQidSymlink = 0x02;
inline constexpr uint8_t kQidFile = 0x00;

struct Qid {
  uint8_t type = 0;
  uint32_t version = 0;
  uint64_t path = 0;
};

// qid.path for a host inode. The guest's kernel keys its inodes by it, so two
// files of different host file systems (a share holding mount points: /,
// /dev, /proc) must not share one: the top 16 bits carry a hash of the
// device, the rest the inode number (Linux inode numbers stay far below 2^48).
uint64_t qid_path(uint64_t dev, uint64_t ino);

class Reader {
 public:
  // Reads at most `limit` bytes of the concatenated buffers.
  Reader(std::span<const std::span<const std::byte>> buffers, uint64_t limit);

  uint8_t u8();
  uint16_t u16();
  uint32_t u32();
  uint64_t u64();
  // string[s]: u16 length + bytes (not NUL-terminated; may contain NULs,
  // which the caller rejects where a name is expected).
  std::string str();
  void skip(uint64_t n);
  // The host spans holding the next n bytes, consumed (for pwritev straight
  // out of guest memory).
  std::vector<std::span<const std::byte>> take(uint64_t n);

  uint64_t position() const { return pos_; }
  uint64_t remaining() const { return ok_ ? limit_ - pos_ : 0; }
  bool ok() const { return ok_; }

 private:
  bool copy(std::byte* out, uint64_t n);
  std::span<const std::span<const std::byte>> buffers_;
  uint64_t limit_;
  uint64_t pos_ = 0;
  size_t index_ = 0;   // buffer holding pos_
  size_t in_buf_ = 0;  // offset of pos_ inside it
  bool ok_ = true;
};

class Writer {
 public:
  // Writes at most `limit` bytes into the concatenated buffers.
  Writer(std::span<const std::span<std::byte>> buffers, uint64_t limit);

  void u8(uint8_t v);
  void u16(uint16_t v);
  void u32(uint32_t v);
  void u64(uint64_t v);
  void str(std::string_view s);
  void qid(const Qid& q);
  void bytes(std::span<const std::byte> data);
  // Overwrites already-written bytes (the size field, a count).
  void patch_u32(uint64_t at, uint32_t v);
  // The host spans of the next n bytes, counted as written (for preadv
  // straight into guest memory). Fails like a write when they do not fit.
  std::vector<std::span<std::byte>> reserve(uint64_t n);
  // Gives back the last n reserved bytes (a short read).
  void unwind(uint64_t n);

  uint64_t position() const { return pos_; }
  uint64_t room() const { return ok_ ? limit_ - pos_ : 0; }
  uint64_t limit() const { return limit_; }
  bool ok() const { return ok_; }

 private:
  void put(const std::byte* data, uint64_t n);
  void write_at(uint64_t at, const std::byte* data, uint64_t n);
  std::span<const std::span<std::byte>> buffers_;
  uint64_t limit_;
  uint64_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace backends::p9
