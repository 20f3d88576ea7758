// xz and legacy .lzma through liblzma. The kernel's xz streams use CRC32 and
// the x86/ARM BCJ filters; liblzma's stream decoder handles both.
#include <lzma.h>

#include "decompress_stream.h"

namespace loader::detail {
namespace {

// Bounds the dictionary a header may ask for (kernels use <= 64 MiB), so a
// forged header is an error, not a giant allocation.
constexpr uint64_t kMemLimit = 256ull << 20;

const char* lzma_error_text(lzma_ret rc) {
  switch (rc) {
    case LZMA_MEM_ERROR: return "LZMA_MEM_ERROR (out of memory)";
    case LZMA_MEMLIMIT_ERROR: return "LZMA_MEMLIMIT_ERROR (dictionary larger than 256 MiB)";
    case LZMA_FORMAT_ERROR: return "LZMA_FORMAT_ERROR (not an xz/lzma stream)";
    case LZMA_OPTIONS_ERROR: return "LZMA_OPTIONS_ERROR (unsupported options)";
    case LZMA_DATA_ERROR: return "LZMA_DATA_ERROR (data is corrupt)";
    case LZMA_BUF_ERROR: return "LZMA_BUF_ERROR (the input ends before the stream does)";
    case LZMA_UNSUPPORTED_CHECK: return "LZMA_UNSUPPORTED_CHECK (integrity check type not supported)";
    default: return "unknown liblzma error";
  }
}

class LzmaCodec final : public StreamCodec {
 public:
  explicit LzmaCodec(bool xz) {
    // No LZMA_CONCATENATED: stop at the end of the first stream, so the
    // kernel's size trailer after it is left alone.
    init_ = xz ? lzma_stream_decoder(&s_, kMemLimit, 0) : lzma_alone_decoder(&s_, kMemLimit);
  }
  ~LzmaCodec() override { lzma_end(&s_); }
  lzma_ret init_result() const { return init_; }

  StepResult step(std::span<const std::byte> in, std::span<std::byte> out, bool input_finished) override {
    s_.next_in = reinterpret_cast<const uint8_t*>(in.data());
    s_.avail_in = in.size();
    s_.next_out = reinterpret_cast<uint8_t*>(out.data());
    s_.avail_out = out.size();
    lzma_ret rc = lzma_code(&s_, input_finished ? LZMA_FINISH : LZMA_RUN);
    StepResult r{in.size() - s_.avail_in, out.size() - s_.avail_out};
    if (rc == LZMA_STREAM_END) {
      r.done = true;
    } else if (rc == LZMA_BUF_ERROR && !input_finished) {
      // Only "no progress possible right now": the driver decides.
    } else if (rc != LZMA_OK) {
      r.error = lzma_error_text(rc);
    }
    return r;
  }

 private:
  lzma_stream s_ = LZMA_STREAM_INIT;
  lzma_ret init_ = LZMA_PROG_ERROR;
};

Result<uint64_t> run(Compression kind, const ImageSource& src, uint64_t offset, uint64_t len,
                     std::span<std::byte> out) {
  LzmaCodec codec(kind == Compression::kXz);
  if (codec.init_result() != LZMA_OK)
    return fail(ErrorCode::kIo, "{}: liblzma decoder init failed: {}", src.name(), lzma_error_text(codec.init_result()));
  return run_stream(kind, codec, src, offset, len, out);
}

}  // namespace

Result<uint64_t> decompress_xz(const ImageSource& src, uint64_t offset, uint64_t len, std::span<std::byte> out) {
  return run(Compression::kXz, src, offset, len, out);
}

Result<uint64_t> decompress_lzma(const ImageSource& src, uint64_t offset, uint64_t len, std::span<std::byte> out) {
  return run(Compression::kLzma, src, offset, len, out);
}

}  // namespace loader::detail
