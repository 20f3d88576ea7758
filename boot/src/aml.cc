#include "boot/acpi/aml.h"

#include <algorithm>

namespace boot::aml {
namespace {

constexpr uint8_t kZeroOp = 0x00;
constexpr uint8_t kOneOp = 0x01;
constexpr uint8_t kNameOp = 0x08;
constexpr uint8_t kBytePrefix = 0x0a;
constexpr uint8_t kWordPrefix = 0x0b;
constexpr uint8_t kDWordPrefix = 0x0c;
constexpr uint8_t kStringPrefix = 0x0d;
constexpr uint8_t kQWordPrefix = 0x0e;
constexpr uint8_t kScopeOp = 0x10;
constexpr uint8_t kBufferOp = 0x11;
constexpr uint8_t kPackageOp = 0x12;
constexpr uint8_t kMethodOp = 0x14;
constexpr uint8_t kRootChar = 0x5c;
constexpr uint8_t kExtOpPrefix = 0x5b;
constexpr uint8_t kDeviceOp = 0x82;
constexpr uint8_t kReturnOp = 0xa4;

void append(Bytes& out, const Bytes& more) { out.insert(out.end(), more.begin(), more.end()); }

void append_le(Bytes& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

// A NameString: a single segment, optionally rooted ("\\_SB_"); "\\" alone
// is the root itself (RootChar + NullName).
Bytes name_string(std::string_view path) {
  Bytes out;
  if (!path.empty() && path.front() == '\\') {
    out.push_back(kRootChar);
    path.remove_prefix(1);
    if (path.empty()) {
      out.push_back(0x00);
      return out;
    }
  }
  append(out, name_seg(path));
  return out;
}

// op [ext] PkgLength body
Bytes with_pkg_length(std::initializer_list<uint8_t> ops, const Bytes& body) {
  Bytes out(ops);
  append(out, pkg_length(body.size()));
  append(out, body);
  return out;
}

Bytes concat(const std::vector<Bytes>& parts) {
  Bytes out;
  for (const auto& p : parts) append(out, p);
  return out;
}

}  // namespace

Bytes name_seg(std::string_view name) {
  Bytes out;
  for (size_t i = 0; i < 4; ++i) out.push_back(i < name.size() ? static_cast<uint8_t>(name[i]) : '_');
  return out;
}

Bytes integer(uint64_t value) {
  Bytes out;
  if (value == 0) {
    out.push_back(kZeroOp);
  } else if (value == 1) {
    out.push_back(kOneOp);
  } else if (value <= 0xff) {
    out.push_back(kBytePrefix);
    append_le(out, value, 1);
  } else if (value <= 0xffff) {
    out.push_back(kWordPrefix);
    append_le(out, value, 2);
  } else if (value <= 0xffffffff) {
    out.push_back(kDWordPrefix);
    append_le(out, value, 4);
  } else {
    out.push_back(kQWordPrefix);
    append_le(out, value, 8);
  }
  return out;
}

Bytes string(std::string_view text) {
  // Sized up front: GCC 12 at -O2 and above misreads insert() into a
  // one-byte vector as an out-of-bounds memcpy (-Warray-bounds).
  Bytes out(text.size() + 2, 0);
  out[0] = kStringPrefix;
  std::copy(text.begin(), text.end(), out.begin() + 1);
  return out;
}

Bytes eisa_id(std::string_view id) {
  // Three letters of 5 bits each ('A' = 1) then four hex digits, stored big
  // endian in the 32-bit value's memory order.
  auto letter = [&](size_t i) -> uint32_t { return i < id.size() ? static_cast<uint32_t>(id[i] - 0x40) & 0x1f : 0; };
  auto hex = [&](size_t i) -> uint32_t {
    if (i >= id.size()) return 0;
    char c = id[i];
    if (c >= '0' && c <= '9') return static_cast<uint32_t>(c - '0');
    if (c >= 'A' && c <= 'F') return static_cast<uint32_t>(c - 'A' + 10);
    if (c >= 'a' && c <= 'f') return static_cast<uint32_t>(c - 'a' + 10);
    return 0;
  };
  uint32_t vendor = (letter(0) << 10) | (letter(1) << 5) | letter(2);
  uint32_t product = (hex(3) << 12) | (hex(4) << 8) | (hex(5) << 4) | hex(6);
  uint32_t value = ((vendor >> 8) & 0xff) | ((vendor & 0xff) << 8) | (((product >> 8) & 0xff) << 16) |
                   ((product & 0xff) << 24);
  Bytes out{kDWordPrefix};
  append_le(out, value, 4);
  return out;
}

Bytes pkg_length(size_t body_length) {
  // The encoded length counts the PkgLength bytes themselves.
  if (body_length + 1 < 0x40) return {static_cast<uint8_t>(body_length + 1)};
  for (size_t extra = 1; extra <= 3; ++extra) {
    size_t total = body_length + 1 + extra;
    if (total < (size_t{1} << (4 + 8 * extra))) {
      Bytes out{static_cast<uint8_t>((extra << 6) | (total & 0x0f))};
      for (size_t i = 0; i < extra; ++i) out.push_back(static_cast<uint8_t>(total >> (4 + 8 * i)));
      return out;
    }
  }
  return {};  // beyond 256 MiB: not reachable from the tables we build
}

Bytes buffer(const Bytes& contents) {
  Bytes body = integer(contents.size());
  append(body, contents);
  return with_pkg_length({kBufferOp}, body);
}

Bytes package(const std::vector<Bytes>& elements) {
  Bytes body{static_cast<uint8_t>(elements.size())};
  append(body, concat(elements));
  return with_pkg_length({kPackageOp}, body);
}

Bytes name(std::string_view name, const Bytes& value) {
  Bytes out{kNameOp};
  append(out, name_string(name));
  append(out, value);
  return out;
}

Bytes device(std::string_view name, const std::vector<Bytes>& body) {
  Bytes inner = name_string(name);
  append(inner, concat(body));
  return with_pkg_length({kExtOpPrefix, kDeviceOp}, inner);
}

Bytes scope(std::string_view path, const std::vector<Bytes>& body) {
  Bytes inner = name_string(path);
  append(inner, concat(body));
  return with_pkg_length({kScopeOp}, inner);
}

Bytes method_return(std::string_view name, const Bytes& value) {
  Bytes inner = name_string(name);
  inner.push_back(0x00);  // MethodFlags: 0 args, NotSerialized
  inner.push_back(kReturnOp);
  append(inner, value);
  return with_pkg_length({kMethodOp}, inner);
}

Bytes io_port(uint16_t min, uint16_t max, uint8_t alignment, uint8_t length) {
  Bytes out{0x47, 0x01};  // small item "I/O port", 7 bytes; decodes 16 address bits
  append_le(out, min, 2);
  append_le(out, max, 2);
  out.push_back(alignment);
  out.push_back(length);
  return out;
}

Bytes irq_no_flags(uint16_t irq_mask) {
  Bytes out{0x22};  // small item "IRQ", 2 bytes: no information byte = edge, high, exclusive
  append_le(out, irq_mask, 2);
  return out;
}

Bytes memory32_fixed(uint32_t base, uint32_t length, bool writeable) {
  Bytes out{0x86, 0x09, 0x00, static_cast<uint8_t>(writeable ? 1 : 0)};  // large item, 9 bytes
  append_le(out, base, 4);
  append_le(out, length, 4);
  return out;
}

Bytes extended_interrupt(uint32_t gsi, bool level) {
  // Flags: bit 0 consumer, bit 1 edge, bit 2 active low, bit 3 shared.
  uint8_t flags = static_cast<uint8_t>(0x01 | (level ? 0 : 0x02));
  Bytes out{0x89, 0x06, 0x00, flags, 0x01};  // one interrupt, no resource source
  append_le(out, gsi, 4);
  return out;
}

namespace {

// Address space descriptors (ACPI 6.5 §6.4.3.5): resource type, general
// flags, type-specific flags, then granularity, min, max, translation and
// length, each `width` bytes.
constexpr uint8_t kProducerMinMaxFixed = 0x0c;  // _MAF | _MIF, positive decode, producer

Bytes address_space(uint8_t tag, int width, uint8_t type, uint8_t type_flags, uint64_t min, uint64_t length) {
  Bytes out{tag};
  append_le(out, 3 + 5 * width, 2);
  out.push_back(type);
  out.push_back(kProducerMinMaxFixed);
  out.push_back(type_flags);
  append_le(out, 0, width);                 // granularity: decodes the whole range
  append_le(out, min, width);
  append_le(out, min + length - 1, width);  // max
  append_le(out, 0, width);                 // translation
  append_le(out, length, width);
  return out;
}

// Memory type flags: read-write, and non-cacheable (0) or prefetchable (3) in bits 1..2.
uint8_t memory_flags(bool prefetchable) { return static_cast<uint8_t>(0x01 | (prefetchable ? 0x06 : 0x00)); }

}  // namespace

Bytes word_bus_number(uint16_t min, uint16_t max) {
  return address_space(0x88, 2, 2, 0, min, uint64_t{max} - min + 1);
}

Bytes dword_memory(uint32_t base, uint32_t length, bool prefetchable) {
  return address_space(0x87, 4, 0, memory_flags(prefetchable), base, length);
}

Bytes qword_memory(uint64_t base, uint64_t length, bool prefetchable) {
  return address_space(0x8a, 8, 0, memory_flags(prefetchable), base, length);
}

Bytes resource_template(const std::vector<Bytes>& descriptors) {
  Bytes contents = concat(descriptors);
  contents.push_back(0x79);  // End Tag
  contents.push_back(0x00);  // checksum 0: "treat as correct"
  return buffer(contents);
}

}  // namespace boot::aml
