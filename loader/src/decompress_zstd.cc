// zstd through libzstd's streaming decoder; stops at the end of the first frame.
#include <zstd.h>

#include "decompress_stream.h"

namespace loader::detail {
namespace {

class ZstdCodec final : public StreamCodec {
 public:
  ZstdCodec() : dctx_(ZSTD_createDCtx()) {}
  ~ZstdCodec() override { ZSTD_freeDCtx(dctx_); }
  bool ok() const { return dctx_ != nullptr; }

  StepResult step(std::span<const std::byte> in, std::span<std::byte> out, bool) override {
    ZSTD_inBuffer ib{in.data(), in.size(), 0};
    ZSTD_outBuffer ob{out.data(), out.size(), 0};
    size_t rc = ZSTD_decompressStream(dctx_, &ob, &ib);
    StepResult s{ib.pos, ob.pos};
    if (ZSTD_isError(rc)) {
      s.error = ZSTD_getErrorName(rc);
    } else if (rc == 0) {
      // 0: a frame is fully decoded and flushed.
      s.done = true;
    }
    return s;
  }

 private:
  ZSTD_DCtx* dctx_;
};

}  // namespace

Result<uint64_t> decompress_zstd(const ImageSource& src, uint64_t offset, uint64_t len, std::span<std::byte> out) {
  ZstdCodec codec;
  if (!codec.ok()) return fail(ErrorCode::kIo, "{}: ZSTD_createDCtx failed (out of memory?)", src.name());
  return run_stream(Compression::kZstd, codec, src, offset, len, out);
}

}  // namespace loader::detail
