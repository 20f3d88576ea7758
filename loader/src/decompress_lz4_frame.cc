// LZ4 frame format through liblz4's LZ4F API; stops at the end of the first frame.
#include <lz4frame.h>

#include "decompress_stream.h"

namespace loader::detail {
namespace {

class Lz4FrameCodec final : public StreamCodec {
 public:
  Lz4FrameCodec() {
    if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx_, LZ4F_VERSION))) dctx_ = nullptr;
  }
  ~Lz4FrameCodec() override {
    if (dctx_) LZ4F_freeDecompressionContext(dctx_);
  }
  bool ok() const { return dctx_ != nullptr; }

  StepResult step(std::span<const std::byte> in, std::span<std::byte> out, bool) override {
    size_t out_len = out.size();
    size_t in_len = in.size();
    size_t rc = LZ4F_decompress(dctx_, out.data(), &out_len, in.data(), &in_len, nullptr);
    StepResult s{in_len, out_len};
    if (LZ4F_isError(rc)) {
      s.error = LZ4F_getErrorName(rc);
    } else if (rc == 0) {
      s.done = true;
    }
    return s;
  }

 private:
  LZ4F_dctx* dctx_ = nullptr;
};

}  // namespace

Result<uint64_t> decompress_lz4_frame(const ImageSource& src, uint64_t offset, uint64_t len,
                                      std::span<std::byte> out) {
  Lz4FrameCodec codec;
  if (!codec.ok()) return fail(ErrorCode::kIo, "{}: LZ4F_createDecompressionContext failed", src.name());
  return run_stream(Compression::kLz4Frame, codec, src, offset, len, out);
}

}  // namespace loader::detail
