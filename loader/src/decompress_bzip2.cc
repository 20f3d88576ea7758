// bzip2 through libbz2; stops at the end of the first stream.
#include <bzlib.h>

#include <algorithm>
#include <climits>

#include "decompress_stream.h"

namespace loader::detail {
namespace {

const char* bz_error_text(int rc) {
  switch (rc) {
    case BZ_DATA_ERROR: return "BZ_DATA_ERROR (data integrity error)";
    case BZ_DATA_ERROR_MAGIC: return "BZ_DATA_ERROR_MAGIC (bad stream header)";
    case BZ_MEM_ERROR: return "BZ_MEM_ERROR (out of memory)";
    case BZ_PARAM_ERROR: return "BZ_PARAM_ERROR";
    case BZ_SEQUENCE_ERROR: return "BZ_SEQUENCE_ERROR";
    default: return "unknown libbz2 error";
  }
}

class Bzip2Codec final : public StreamCodec {
 public:
  Bzip2Codec() { ok_ = BZ2_bzDecompressInit(&bz_, 0, 0) == BZ_OK; }
  ~Bzip2Codec() override {
    if (ok_) BZ2_bzDecompressEnd(&bz_);
  }
  bool ok() const { return ok_; }

  StepResult step(std::span<const std::byte> in, std::span<std::byte> out, bool) override {
    size_t in_len = std::min<size_t>(in.size(), UINT_MAX);
    size_t out_len = std::min<size_t>(out.size(), UINT_MAX);
    bz_.next_in = reinterpret_cast<char*>(const_cast<std::byte*>(in.data()));
    bz_.avail_in = static_cast<unsigned>(in_len);
    bz_.next_out = reinterpret_cast<char*>(out.data());
    bz_.avail_out = static_cast<unsigned>(out_len);
    int rc = BZ2_bzDecompress(&bz_);
    StepResult s{in_len - bz_.avail_in, out_len - bz_.avail_out};
    if (rc == BZ_STREAM_END) {
      s.done = true;
    } else if (rc != BZ_OK) {
      s.error = bz_error_text(rc);
    }
    return s;
  }

 private:
  bz_stream bz_{};
  bool ok_ = false;
};

}  // namespace

Result<uint64_t> decompress_bzip2(const ImageSource& src, uint64_t offset, uint64_t len, std::span<std::byte> out) {
  Bzip2Codec codec;
  if (!codec.ok()) return fail(ErrorCode::kIo, "{}: BZ2_bzDecompressInit failed (out of memory?)", src.name());
  return run_stream(Compression::kBzip2, codec, src, offset, len, out);
}

}  // namespace loader::detail
