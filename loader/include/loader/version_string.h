// Finding the "Linux version ..." banner inside kernel bytes, for `vmm inspect`.
// Shared by every format that carries the banner uncompressed (ELF vmlinux,
// raw Images, decompressed payloads).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "loader/error.h"
#include "loader/image_source.h"

namespace loader {

// The banner is searched in chunks of this many bytes (overlapping by
// kMaxVersionLength), so a 50 MB kernel is never read into one buffer.
inline constexpr uint64_t kVersionSearchChunk = 1u << 20;
// A banner longer than this (prefix included) is cut here.
inline constexpr uint64_t kMaxVersionLength = 512;

// The first "Linux version <digit>..." in [offset, offset+len) of src, up to
// the end of its line: printable ASCII only, at most kMaxVersionLength bytes.
// A "Linux version " not followed by a digit (a format string) is skipped.
// nullopt when there is none; an error only when the range cannot be read.
Result<std::optional<std::string>> find_linux_version(const ImageSource& src, uint64_t offset, uint64_t len);

}  // namespace loader
