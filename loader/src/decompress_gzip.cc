// gzip (RFC 1952) through zlib's inflate; stops at the end of the first member.
#include <zlib.h>

#include <algorithm>
#include <climits>

#include "decompress_stream.h"

namespace loader::detail {
namespace {

// zlib counts in uInt: hand it at most this much per call.
constexpr size_t kMaxCall = UINT_MAX;

class GzipCodec final : public StreamCodec {
 public:
  GzipCodec() { ok_ = inflateInit2(&z_, 16 + MAX_WBITS) == Z_OK; }
  ~GzipCodec() override {
    if (ok_) inflateEnd(&z_);
  }
  bool ok() const { return ok_; }

  StepResult step(std::span<const std::byte> in, std::span<std::byte> out, bool) override {
    size_t in_len = std::min(in.size(), kMaxCall);
    size_t out_len = std::min(out.size(), kMaxCall);
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data()));
    z_.avail_in = static_cast<uInt>(in_len);
    z_.next_out = reinterpret_cast<Bytef*>(out.data());
    z_.avail_out = static_cast<uInt>(out_len);
    int rc = inflate(&z_, Z_NO_FLUSH);
    StepResult s{in_len - z_.avail_in, out_len - z_.avail_out};
    if (rc == Z_STREAM_END) {
      s.done = true;
    } else if (rc == Z_NEED_DICT) {
      s.error = "a preset dictionary is required";
    } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
      s.error = z_.msg ? z_.msg : zError(rc);
    }
    return s;
  }

 private:
  z_stream z_{};
  bool ok_ = false;
};

}  // namespace

Result<uint64_t> decompress_gzip(const ImageSource& src, uint64_t offset, uint64_t len, std::span<std::byte> out) {
  GzipCodec codec;
  if (!codec.ok()) return fail(ErrorCode::kIo, "{}: zlib inflateInit2 failed (out of memory?)", src.name());
  return run_stream(Compression::kGzip, codec, src, offset, len, out);
}

}  // namespace loader::detail
