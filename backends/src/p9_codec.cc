#include "backends/p9_codec.h"

#include <algorithm>
#include <cstring>

namespace backends::p9 {

namespace {

uint64_t total(auto buffers) {
  uint64_t n = 0;
  for (const auto& b : buffers) n += b.size();
  return n;
}

}  // namespace

Reader::Reader(std::span<const std::span<const std::byte>> buffers, uint64_t limit)
    : buffers_(buffers), limit_(std::min(limit, total(buffers))) {}

bool Reader::copy(std::byte* out, uint64_t n) {
  if (!ok_ || n > limit_ - pos_) {
    ok_ = false;
    if (out) std::memset(out, 0, n);
    return false;
  }
  while (n > 0) {
    const auto& b = buffers_[index_];
    const uint64_t chunk = std::min<uint64_t>(n, b.size() - in_buf_);
    if (out) {
      std::memcpy(out, b.data() + in_buf_, chunk);
      out += chunk;
    }
    in_buf_ += chunk;
    pos_ += chunk;
    n -= chunk;
    if (in_buf_ == b.size()) {
      ++index_;
      in_buf_ = 0;
    }
  }
  // Skip empty buffers so index_ always names the one holding pos_.
  while (index_ < buffers_.size() && buffers_[index_].size() == 0) ++index_;
  return true;
}

uint8_t Reader::u8() {
  uint8_t b[1];
  copy(reinterpret_cast<std::byte*>(b), 1);
  return b[0];
}

uint16_t Reader::u16() {
  uint8_t b[2];
  copy(reinterpret_cast<std::byte*>(b), 2);
  return static_cast<uint16_t>(b[0] | b[1] << 8);
}

uint32_t Reader::u32() {
  uint8_t b[4];
  copy(reinterpret_cast<std::byte*>(b), 4);
  return uint32_t{b[0]} | uint32_t{b[1]} << 8 | uint32_t{b[2]} << 16 | uint32_t{b[3]} << 24;
}

uint64_t Reader::u64() {
  const uint64_t lo = u32();
  const uint64_t hi = u32();
  return lo | hi << 32;
}

std::string Reader::str() {
  const uint16_t len = u16();
  if (!ok_ || len > limit_ - pos_) {
    ok_ = false;
    return {};
  }
  std::string s(len, '\0');
  copy(reinterpret_cast<std::byte*>(s.data()), len);
  return s;
}

void Reader::skip(uint64_t n) { copy(nullptr, n); }

std::vector<std::span<const std::byte>> Reader::take(uint64_t n) {
  std::vector<std::span<const std::byte>> out;
  if (!ok_ || n > limit_ - pos_) {
    ok_ = false;
    return out;
  }
  uint64_t left = n;
  size_t i = index_;
  size_t off = in_buf_;
  while (left > 0) {
    const auto& b = buffers_[i];
    const uint64_t chunk = std::min<uint64_t>(left, b.size() - off);
    if (chunk > 0) out.push_back(b.subspan(off, chunk));
    left -= chunk;
    ++i;
    off = 0;
  }
  copy(nullptr, n);
  return out;
}

Writer::Writer(std::span<const std::span<std::byte>> buffers, uint64_t limit)
    : buffers_(buffers), limit_(std::min(limit, total(buffers))) {}

void Writer::write_at(uint64_t at, const std::byte* data, uint64_t n) {
  uint64_t base = 0;
  for (const auto& b : buffers_) {
    if (n == 0) break;
    if (at < base + b.size()) {
      const uint64_t off = at - base;
      const uint64_t chunk = std::min<uint64_t>(n, b.size() - off);
      std::memcpy(b.data() + off, data, chunk);
      data += chunk;
      at += chunk;
      n -= chunk;
    }
    base += b.size();
  }
}

void Writer::put(const std::byte* data, uint64_t n) {
  if (!ok_ || n > limit_ - pos_) {
    ok_ = false;
    return;
  }
  write_at(pos_, data, n);
  pos_ += n;
}

void Writer::u8(uint8_t v) { put(reinterpret_cast<const std::byte*>(&v), 1); }

void Writer::u16(uint16_t v) {
  const uint8_t b[2] = {static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8)};
  put(reinterpret_cast<const std::byte*>(b), 2);
}

void Writer::u32(uint32_t v) {
  uint8_t b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<uint8_t>(v >> (8 * i));
  put(reinterpret_cast<const std::byte*>(b), 4);
}

void Writer::u64(uint64_t v) {
  u32(static_cast<uint32_t>(v));
  u32(static_cast<uint32_t>(v >> 32));
}

void Writer::str(std::string_view s) {
  if (s.size() > 0xffff) {
    ok_ = false;
    return;
  }
  u16(static_cast<uint16_t>(s.size()));
  put(reinterpret_cast<const std::byte*>(s.data()), s.size());
}

void Writer::qid(const Qid& q) {
  u8(q.type);
  u32(q.version);
  u64(q.path);
}

void Writer::bytes(std::span<const std::byte> data) { put(data.data(), data.size()); }

void Writer::patch_u32(uint64_t at, uint32_t v) {
  if (at > pos_ || pos_ - at < 4) return;
  uint8_t b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<uint8_t>(v >> (8 * i));
  write_at(at, reinterpret_cast<const std::byte*>(b), 4);
}

std::vector<std::span<std::byte>> Writer::reserve(uint64_t n) {
  std::vector<std::span<std::byte>> out;
  if (!ok_ || n > limit_ - pos_) {
    ok_ = false;
    return out;
  }
  uint64_t at = pos_;
  uint64_t left = n;
  uint64_t base = 0;
  for (const auto& b : buffers_) {
    if (left == 0) break;
    if (at < base + b.size()) {
      const uint64_t off = at - base;
      const uint64_t chunk = std::min<uint64_t>(left, b.size() - off);
      out.push_back(b.subspan(off, chunk));
      at += chunk;
      left -= chunk;
    }
    base += b.size();
  }
  pos_ += n;
  return out;
}

void Writer::unwind(uint64_t n) { pos_ -= std::min(n, pos_); }

uint64_t qid_path(uint64_t dev, uint64_t ino) {
  uint64_t h = dev * 0x9e3779b97f4a7c15ull;
  h ^= h >> 29;
  return (h & 0xffff000000000000ull) ^ ino;
}

}  // namespace backends::p9
