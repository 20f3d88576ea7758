// FileBlockBackend alone: 4 KiB random reads from a 256 MiB image that sits
// in the page cache, synchronous (what virtio-blk did: one request at a time
// on the I/O thread) against io_uring (the requests of one notification
// submitted together). QD16 is one batch of 16 requests per iteration, as a
// guest's doorbell with 16 requests queued; items/s is requests per second.
//
// Pairs to compare:
//   Sync/qd1  vs Uring/qd1    io_uring's cost for a lone request
//   Sync/qd16 vs Uring/qd16   what submitting a batch together buys
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "backends/file_block_backend.h"

namespace {

constexpr uint64_t kImageBytes = 256ull << 20;
constexpr uint64_t kBlock = 4096;

// One image for the whole run, written (so cached) once and removed at exit.
struct Image {
  Image() {
    char tmpl[] = "/tmp/minivmm-blkbench-XXXXXX";
    int fd = ::mkstemp(tmpl);
    if (fd < 0) std::abort();
    ::close(fd);
    path = tmpl;
    std::ofstream out(path, std::ios::binary);
    std::vector<char> chunk(1 << 20);
    for (uint64_t at = 0; at < kImageBytes; at += chunk.size()) {
      for (size_t i = 0; i < chunk.size(); i += 512) chunk[i] = static_cast<char>((at + i) >> 9);
      out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    }
  }
  ~Image() { std::remove(path.c_str()); }
  std::string path;
};

Image& image() {
  static Image img;
  return img;
}

// xorshift: cheap, and the same offsets for both engines.
struct Offsets {
  uint64_t state = 0x9e3779b97f4a7c15ull;
  uint64_t next() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (state % (kImageBytes / kBlock)) * kBlock;
  }
};

std::unique_ptr<backends::FileBlockBackend> open_image(backends::IoEngine engine, benchmark::State& state) {
  auto b = backends::FileBlockBackend::open(image().path, {.read_only = true, .engine = engine});
  if (!b) {
    state.SkipWithError(b.error().message.c_str());
    return nullptr;
  }
  return std::move(*b);
}

void Sync(benchmark::State& state) {
  const auto depth = static_cast<size_t>(state.range(0));
  auto b = open_image(backends::IoEngine::kSync, state);
  if (!b) return;
  std::vector<std::vector<std::byte>> bufs(depth, std::vector<std::byte>(kBlock));
  Offsets off;
  for (auto _ : state) {
    for (size_t i = 0; i < depth; ++i) {
      std::span<std::byte> part[1] = {bufs[i]};
      if (!b->read_at(off.next(), part)) state.SkipWithError("read failed");
    }
    benchmark::DoNotOptimize(bufs[0].data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * depth));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * depth * kBlock));
}

void Uring(benchmark::State& state) {
  const auto depth = static_cast<size_t>(state.range(0));
  auto b = open_image(backends::IoEngine::kUring, state);
  if (!b) return;
  auto* io = b->async_io();
  std::vector<std::vector<std::byte>> bufs(depth, std::vector<std::byte>(kBlock));
  Offsets off;
  bool failed = false;
  auto done = [&failed](uint32_t, bool ok) { failed = failed || !ok; };
  for (auto _ : state) {
    for (size_t i = 0; i < depth; ++i) {
      std::span<std::byte> part[1] = {bufs[i]};
      if (!io->queue_read(off.next(), part, static_cast<uint32_t>(i))) failed = true;
    }
    io->submit();
    io->reap(true, done);
    benchmark::DoNotOptimize(bufs[0].data());
  }
  if (failed) state.SkipWithError("read failed");
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * depth));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * depth * kBlock));
}

BENCHMARK(Sync)->ArgName("qd")->Arg(1)->Arg(16);
BENCHMARK(Uring)->ArgName("qd")->Arg(1)->Arg(16);

}  // namespace

BENCHMARK_MAIN();
