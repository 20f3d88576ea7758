// Hand-built 9P2000.L messages for the p9 server tests and a client that
// sends them (optionally split across several buffers, as a virtqueue chain
// would) and decodes the reply header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backends/p9_codec.h"
#include "backends/p9_server.h"

namespace p9_test {

using backends::p9::Type;

class Msg {
 public:
  Msg& u8(uint8_t v) { return raw(&v, 1); }
  Msg& u16(uint16_t v) {
    uint8_t b[2] = {uint8_t(v), uint8_t(v >> 8)};
    return raw(b, 2);
  }
  Msg& u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) bytes_.push_back(std::byte(v >> (8 * i)));
    return *this;
  }
  Msg& u64(uint64_t v) {
    u32(uint32_t(v));
    return u32(uint32_t(v >> 32));
  }
  Msg& str(std::string_view s) {
    u16(uint16_t(s.size()));
    return raw(s.data(), s.size());
  }
  Msg& raw(const void* p, size_t n) {
    auto b = static_cast<const std::byte*>(p);
    bytes_.insert(bytes_.end(), b, b + n);
    return *this;
  }
  // size[4] type[1] tag[2] + body, the size field set to the real length.
  std::vector<std::byte> build(Type type, uint16_t tag = 1) const {
    std::vector<std::byte> m;
    const uint32_t size = uint32_t(7 + bytes_.size());
    for (int i = 0; i < 4; ++i) m.push_back(std::byte(size >> (8 * i)));
    m.push_back(std::byte(uint8_t(type)));
    m.push_back(std::byte(tag & 0xff));
    m.push_back(std::byte(tag >> 8));
    m.insert(m.end(), bytes_.begin(), bytes_.end());
    return m;
  }

 private:
  std::vector<std::byte> bytes_;
};

struct Reply {
  uint8_t type = 0;
  uint16_t tag = 0;
  uint32_t size = 0;
  uint32_t written = 0;
  std::vector<std::byte> bytes;
  bool is_error() const { return type == uint8_t(Type::kRlerror); }
  uint32_t ecode() const { return is_error() ? u32(7) : 0; }
  uint8_t u8(size_t at) const { return uint8_t(bytes.at(at)); }
  uint16_t u16(size_t at) const { return uint16_t(u8(at) | u8(at + 1) << 8); }
  uint32_t u32(size_t at) const { return uint32_t(u16(at)) | uint32_t(u16(at + 2)) << 16; }
  uint64_t u64(size_t at) const { return uint64_t(u32(at)) | uint64_t(u32(at + 4)) << 32; }
  std::string str(size_t at) const {
    const uint16_t n = u16(at);
    return std::string(reinterpret_cast<const char*>(bytes.data()) + at + 2, n);
  }
};

// Sends raw bytes split at `split` boundaries; the reply goes into buffers
// of `reply_sizes` bytes.
inline Reply send_raw(backends::P9Server& server, const std::vector<std::byte>& msg,
                      std::vector<size_t> split = {}, std::vector<size_t> reply_sizes = {600 * 1024}) {
  std::vector<std::span<const std::byte>> in;
  size_t at = 0;
  for (size_t n : split) {
    n = std::min(n, msg.size() - at);
    in.emplace_back(msg.data() + at, n);
    at += n;
  }
  if (at < msg.size()) in.emplace_back(msg.data() + at, msg.size() - at);
  std::vector<std::vector<std::byte>> out_store;
  std::vector<std::span<std::byte>> out;
  for (size_t n : reply_sizes) out_store.emplace_back(n, std::byte{0xcc});
  for (auto& b : out_store) out.emplace_back(b);
  Reply r;
  r.written = server.handle(in, out);
  for (auto& b : out_store) r.bytes.insert(r.bytes.end(), b.begin(), b.end());
  if (r.written >= 7) {
    r.size = r.u32(0);
    r.type = r.u8(4);
    r.tag = r.u16(5);
  }
  return r;
}

inline Reply send(backends::P9Server& server, Type type, const Msg& body, uint16_t tag = 1) {
  return send_raw(server, body.build(type, tag));
}

}  // namespace p9_test
