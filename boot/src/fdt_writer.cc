#include "boot/fdt_writer.h"

#include <libfdt.h>

#include <algorithm>

namespace boot {

using loader::Error;
using loader::ErrorCode;
using loader::Result;
namespace {

constexpr uint64_t kInitialSize = 4096;

void append_be32(std::vector<std::byte>& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::byte>((v >> shift) & 0xff));
}

bool has_nul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

}  // namespace

FdtWriter::FdtWriter(uint64_t max_size) : max_size_(std::min(max_size, kFdtMaxSize)) {}

Result<void> FdtWriter::record(Error error) {
  if (!error_) error_ = std::move(error);
  return std::unexpected(*error_);
}

template <class Op>
Result<void> FdtWriter::run(std::string_view what, std::string_view name, Op op) {
  for (;;) {
    int rc = op(static_cast<void*>(buffer_.data()));
    if (rc >= 0) return {};
    if (rc != -FDT_ERR_NOSPACE)
      return record(Error{ErrorCode::kInvalidArgument,
                          fmt::format("device tree: {} \"{}\" failed: {}", what, name, fdt_strerror(rc))});
    if (buffer_.size() >= max_size_)
      return record(Error{ErrorCode::kTooLarge, fmt::format("device tree: {} \"{}\" needs more than the {:#x}-byte "
                                                            "limit", what, name, max_size_)});
    std::vector<std::byte> bigger(std::min<uint64_t>(buffer_.size() * 2, max_size_));
    int resize_rc = fdt_resize(buffer_.data(), bigger.data(), static_cast<int>(bigger.size()));
    if (resize_rc < 0)
      return record(Error{ErrorCode::kInvalidArgument,
                          fmt::format("device tree: growing to {:#x} bytes failed: {}", bigger.size(),
                                      fdt_strerror(resize_rc))});
    buffer_.swap(bigger);
  }
}

Result<void> FdtWriter::start() {
  if (error_) return std::unexpected(*error_);
  if (finished_) return record(Error{ErrorCode::kInvalidArgument, "device tree: write after finish()"});
  if (started_) return {};
  started_ = true;
  buffer_.assign(std::min(kInitialSize, max_size_), std::byte{0});
  int rc = fdt_create(buffer_.data(), static_cast<int>(buffer_.size()));
  if (rc < 0)
    return record(Error{ErrorCode::kTooLarge, fmt::format("device tree: fdt_create with {:#x} bytes failed: {}",
                                                          buffer_.size(), fdt_strerror(rc))});
  // No /memreserve/ entries: Linux reserves the DTB and the initrd itself.
  return run("finishing the reserve map", "", [](void* fdt) { return fdt_finish_reservemap(fdt); });
}

Result<void> FdtWriter::begin_node(std::string_view name) {
  if (auto r = start(); !r) return r;
  if (has_nul(name)) return record(Error{ErrorCode::kInvalidArgument, "device tree: node name holds a NUL byte"});
  std::string n(name);
  if (auto r = run("adding node", n, [&](void* fdt) { return fdt_begin_node(fdt, n.c_str()); }); !r) return r;
  ++depth_;
  return {};
}

Result<void> FdtWriter::end_node() {
  if (auto r = start(); !r) return r;
  if (depth_ == 0) return record(Error{ErrorCode::kInvalidArgument, "device tree: end_node() without an open node"});
  if (auto r = run("closing node", "", [](void* fdt) { return fdt_end_node(fdt); }); !r) return r;
  --depth_;
  return {};
}

Result<void> FdtWriter::property_raw(std::string_view name, std::span<const std::byte> value) {
  if (auto r = start(); !r) return r;
  if (depth_ == 0)
    return record(Error{ErrorCode::kInvalidArgument,
                        fmt::format("device tree: property \"{}\" outside any node", name)});
  if (has_nul(name))
    return record(Error{ErrorCode::kInvalidArgument, "device tree: property name holds a NUL byte"});
  if (value.size() > max_size_)
    return record(Error{ErrorCode::kTooLarge, fmt::format("device tree: property \"{}\" of {:#x} bytes exceeds the "
                                                          "{:#x}-byte limit", name, value.size(), max_size_)});
  std::string n(name);
  return run("adding property", n, [&](void* fdt) {
    return fdt_property(fdt, n.c_str(), value.data(), static_cast<int>(value.size()));
  });
}

Result<void> FdtWriter::property_empty(std::string_view name) { return property_raw(name, {}); }

Result<void> FdtWriter::property_u32(std::string_view name, uint32_t value) {
  return property_cells(name, std::span<const uint32_t>(&value, 1));
}

Result<void> FdtWriter::property_u64(std::string_view name, uint64_t value) {
  return property_u64s(name, std::span<const uint64_t>(&value, 1));
}

Result<void> FdtWriter::property_cells(std::string_view name, std::span<const uint32_t> cells) {
  std::vector<std::byte> bytes;
  bytes.reserve(cells.size() * 4);
  for (uint32_t c : cells) append_be32(bytes, c);
  return property_raw(name, bytes);
}

Result<void> FdtWriter::property_cells(std::string_view name, std::initializer_list<uint32_t> cells) {
  return property_cells(name, std::span<const uint32_t>(cells.begin(), cells.size()));
}

Result<void> FdtWriter::property_u64s(std::string_view name, std::span<const uint64_t> values) {
  std::vector<std::byte> bytes;
  bytes.reserve(values.size() * 8);
  for (uint64_t v : values) {
    append_be32(bytes, static_cast<uint32_t>(v >> 32));
    append_be32(bytes, static_cast<uint32_t>(v));
  }
  return property_raw(name, bytes);
}

Result<void> FdtWriter::property_u64s(std::string_view name, std::initializer_list<uint64_t> values) {
  return property_u64s(name, std::span<const uint64_t>(values.begin(), values.size()));
}

Result<void> FdtWriter::property_string(std::string_view name, std::string_view value) {
  return property_strings(name, {value});
}

Result<void> FdtWriter::property_strings(std::string_view name, std::span<const std::string> values) {
  std::vector<std::byte> bytes;
  for (std::string_view v : values) {
    if (has_nul(v))
      return record(Error{ErrorCode::kInvalidArgument,
                          fmt::format("device tree: string in property \"{}\" holds a NUL byte", name)});
    for (char c : v) bytes.push_back(static_cast<std::byte>(c));
    bytes.push_back(std::byte{0});
  }
  return property_raw(name, bytes);
}

Result<void> FdtWriter::property_strings(std::string_view name, std::initializer_list<std::string_view> values) {
  std::vector<std::string> copies(values.begin(), values.end());
  return property_strings(name, std::span<const std::string>(copies));
}

Result<void> FdtWriter::property_bytes(std::string_view name, std::span<const std::byte> value) {
  return property_raw(name, value);
}

Result<std::vector<std::byte>> FdtWriter::finish() {
  if (auto r = start(); !r) return std::unexpected(r.error());
  if (depth_ != 0)
    return std::unexpected(
        record(Error{ErrorCode::kInvalidArgument, fmt::format("device tree: finish() with {} node(s) still open",
                                                              depth_)})
            .error());
  if (auto r = run("finishing tree", "", [](void* fdt) { return fdt_finish(fdt); }); !r)
    return std::unexpected(r.error());
  finished_ = true;
  uint32_t total = fdt_totalsize(buffer_.data());
  std::vector<std::byte> out(buffer_.begin(), buffer_.begin() + total);
  return out;
}

}  // namespace boot
