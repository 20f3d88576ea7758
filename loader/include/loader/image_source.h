// Where kernel bytes come from: a file (pread) or bytes already in memory
// (tests, fuzzing, decompressed payloads). Parsers read only through this.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "loader/error.h"
#include "loader/guest_memory.h"

namespace loader {

class ImageSource {
 public:
  virtual ~ImageSource() = default;
  virtual uint64_t size() const = 0;
  // Fills all of out from offset; kTruncated (naming offset and length) if the
  // source ends first.
  virtual Result<void> read_at(uint64_t offset, std::span<std::byte> out) const = 0;
  // A name for messages: the file path, or what the bytes are.
  virtual const std::string& name() const = 0;
  // The file descriptor behind the source, for zero-copy mapping; -1 if none.
  virtual int fd() const { return -1; }
  // The bytes themselves when they are already in memory.
  virtual std::optional<std::span<const std::byte>> bytes() const { return std::nullopt; }

  // Reads a trivially copyable header struct at offset.
  template <class T>
  Result<T> read_obj(uint64_t offset) const {
    T value;
    auto r = read_at(offset, std::as_writable_bytes(std::span(&value, 1)));
    if (!r) return std::unexpected(r.error());
    return value;
  }
};

class FileImageSource final : public ImageSource {
 public:
  static Result<FileImageSource> open(const std::string& path);
  // `relative` opened from the directory `dir_fd` (openat), named `path` in
  // messages: a caller holding a directory open reads exactly the file in it,
  // whatever is renamed over that directory's path meanwhile.
  static Result<FileImageSource> open_at(int dir_fd, const std::string& relative, std::string path);
  FileImageSource(FileImageSource&& other) noexcept;
  FileImageSource& operator=(FileImageSource&&) = delete;
  ~FileImageSource() override;

  uint64_t size() const override { return size_; }
  Result<void> read_at(uint64_t offset, std::span<std::byte> out) const override;
  const std::string& name() const override { return path_; }
  int fd() const override { return fd_; }

 private:
  FileImageSource(int fd, uint64_t size, std::string path) : fd_(fd), size_(size), path_(std::move(path)) {}
  int fd_ = -1;
  uint64_t size_ = 0;
  std::string path_;
};

// A view of bytes owned elsewhere.
class SpanImageSource final : public ImageSource {
 public:
  explicit SpanImageSource(std::span<const std::byte> data, std::string name = "<memory>")
      : data_(data), name_(std::move(name)) {}
  uint64_t size() const override { return data_.size(); }
  Result<void> read_at(uint64_t offset, std::span<std::byte> out) const override;
  const std::string& name() const override { return name_; }
  std::optional<std::span<const std::byte>> bytes() const override { return data_; }

 private:
  std::span<const std::byte> data_;
  std::string name_;
};

// Bytes it owns, e.g. a decompressed payload.
class BufferImageSource final : public ImageSource {
 public:
  explicit BufferImageSource(std::vector<std::byte> data, std::string name = "<buffer>")
      : data_(std::move(data)), name_(std::move(name)) {}
  uint64_t size() const override { return data_.size(); }
  Result<void> read_at(uint64_t offset, std::span<std::byte> out) const override;
  const std::string& name() const override { return name_; }
  std::optional<std::span<const std::byte>> bytes() const override { return std::span<const std::byte>(data_); }

 private:
  std::vector<std::byte> data_;
  std::string name_;
};

// Copies [offset, offset+len) of src straight into guest memory at addr:
// pread into the mapping for files, one memcpy for in-memory sources.
Result<void> load_into_memory(const ImageSource& src, uint64_t offset, uint64_t len, GuestMemory& mem,
                              GuestAddress addr);

}  // namespace loader
