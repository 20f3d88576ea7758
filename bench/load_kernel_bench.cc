// Loading a real kernel into guest memory, side by side with a bare pread of
// the same bytes into the same kind of mapping. Kernels come from
// scripts/fetch_kernels.sh ($MINIVMM_KERNEL_CACHE or ~/.cache/minivmm/kernels).
//
// Pairs to compare (scripts/bench.sh prints the ratios):
//   Pread/prefaulted      vs LoadElf/prefaulted       loader overhead on warm memory
//   Pread/fresh_4k        vs LoadElf/fresh_thp         what huge pages buy on first touch
//   Pread/fresh_4k        vs LoadElf/zero_copy         private file mapping instead of copying
//   Decompress/xz_payload vs ExtractVmlinux            bzImage payload extraction overhead
//   VerifyBzImagePayload/amd64, /cloud-amd64           what checking the payload before a Linux-entry
//                                                      boot would add (decompress + ELF checks), issue 13
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "loader/bzimage.h"
#include "loader/decompress.h"
#include "loader/elf.h"
#include "loader/guest_memory.h"
#include "loader/image_source.h"
#include "loader/kernel_loader.h"

namespace {

using loader::GuestAddress;
using loader::GuestMemory;

constexpr uint64_t kGuestSize = 512ull << 20;

std::string cache_dir() {
  if (const char* d = std::getenv("MINIVMM_KERNEL_CACHE"); d && *d) return d;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "/root") + "/.cache/minivmm/kernels";
}

// The cloud kernel's vmlinux, extracted once from its bzImage into the cache
// so that pread and mmap see a real file.
const std::string& vmlinux_path() {
  static const std::string path = [] {
    std::string bz = cache_dir() + "/cloud-amd64/vmlinuz";
    std::string out = cache_dir() + "/cloud-amd64/vmlinux.bench";
    struct stat st{};
    if (stat(out.c_str(), &st) == 0 && st.st_size > 0) return out;
    auto src = loader::FileImageSource::open(bz);
    if (!src) return std::string();
    auto elf = loader::extract_bzimage_vmlinux(*src);
    if (!elf) return std::string();
    auto bytes = (*elf)->bytes();
    FILE* f = std::fopen(out.c_str(), "wb");
    if (!f || !bytes) return std::string();
    std::fwrite(bytes->data(), 1, bytes->size(), f);
    std::fclose(f);
    return out;
  }();
  return path;
}

std::optional<GuestMemory> make_memory(loader::MemoryOptions opts) {
  std::array specs{loader::RegionSpec{GuestAddress(0), kGuestSize}};
  auto mem = GuestMemory::create(specs, opts);
  if (!mem) return std::nullopt;
  return std::move(*mem);
}

void prefault(GuestMemory& mem) {
  auto span = mem.host_span(GuestAddress(0), kGuestSize);
  std::memset(span->data(), 0, span->size());
}

// The baseline: every PT_LOAD's file bytes pread to its p_paddr, nothing else.
struct Segments {
  struct Seg { uint64_t offset, paddr, filesz; };
  std::vector<Seg> segs;
};

Segments read_segments(const loader::ImageSource& src) {
  Segments out;
  auto info = loader::inspect_elf(src);
  // inspect_elf reports PT_LOADs as fields "PT_LOAD[i].p_offset"/"p_paddr"/"p_filesz".
  if (!info) return out;
  Segments::Seg cur{};
  int have = 0;
  for (auto& f : info->fields) {
    if (f.name.find(".p_offset") != std::string::npos) { cur.offset = f.value; have |= 1; }
    if (f.name.find(".p_paddr") != std::string::npos) { cur.paddr = f.value; have |= 2; }
    if (f.name.find(".p_filesz") != std::string::npos) { cur.filesz = f.value; have |= 4; }
    if (have == 7) { out.segs.push_back(cur); have = 0; }
  }
  return out;
}

void bare_pread(int fd, const Segments& segs, GuestMemory& mem) {
  for (auto& s : segs.segs) {
    auto dst = mem.host_span(GuestAddress(s.paddr), s.filesz);
    uint64_t done = 0;
    while (done < s.filesz) {
      ssize_t n = pread(fd, dst->data() + done, s.filesz - done, static_cast<off_t>(s.offset + done));
      if (n <= 0) std::abort();
      done += static_cast<uint64_t>(n);
    }
  }
}

bool skip_without_kernel(benchmark::State& state) {
  if (vmlinux_path().empty()) {
    state.SkipWithError("no kernel: run scripts/fetch_kernels.sh first");
    return true;
  }
  return false;
}

loader::LoadOptions elf_options(bool zero_copy) {
  loader::LoadOptions o;
  o.highmem_start = GuestAddress(1 << 20);
  o.zero_copy = zero_copy;
  return o;
}

void BM_Pread_Prefaulted(benchmark::State& state) {
  if (skip_without_kernel(state)) return;
  auto src = loader::FileImageSource::open(vmlinux_path());
  auto segs = read_segments(*src);
  auto mem = make_memory({});
  prefault(*mem);
  for (auto _ : state) bare_pread(src->fd(), segs, *mem);
}

void BM_LoadElf_Prefaulted(benchmark::State& state) {
  if (skip_without_kernel(state)) return;
  auto src = loader::FileImageSource::open(vmlinux_path());
  auto mem = make_memory({});
  prefault(*mem);
  for (auto _ : state) benchmark::DoNotOptimize(loader::load_elf(*src, *mem, elf_options(false)));
}

void BM_Pread_Fresh4k(benchmark::State& state) {
  if (skip_without_kernel(state)) return;
  auto src = loader::FileImageSource::open(vmlinux_path());
  auto segs = read_segments(*src);
  for (auto _ : state) {
    auto mem = make_memory({});
    bare_pread(src->fd(), segs, *mem);
    state.PauseTiming();
    mem.reset();  // munmap outside the measurement
    state.ResumeTiming();
  }
}

void load_fresh(benchmark::State& state, loader::MemoryOptions opts, bool zero_copy) {
  if (skip_without_kernel(state)) return;
  auto src = loader::FileImageSource::open(vmlinux_path());
  for (auto _ : state) {
    auto mem = make_memory(opts);
    if (!mem) {
      state.SkipWithError("guest memory could not be created");
      return;
    }
    auto r = loader::load_elf(*src, *mem, elf_options(zero_copy));
    if (!r) {
      state.SkipWithError(r.error().message.c_str());
      return;
    }
    state.PauseTiming();
    mem.reset();
    state.ResumeTiming();
  }
}

void BM_LoadElf_Fresh4k(benchmark::State& state) { load_fresh(state, {}, false); }
void BM_LoadElf_FreshThp(benchmark::State& state) {
  load_fresh(state, {.huge_pages = loader::HugePages::kTransparent}, false);
}
void BM_LoadElf_ZeroCopy(benchmark::State& state) { load_fresh(state, {}, true); }

// The payload decompressor alone against the whole extraction API.
void BM_Decompress_Payload(benchmark::State& state) {
  auto src = loader::FileImageSource::open(cache_dir() + "/cloud-amd64/vmlinuz");
  if (!src) {
    state.SkipWithError("no kernel: run scripts/fetch_kernels.sh first");
    return;
  }
  auto info = loader::inspect_bzimage(*src);
  uint64_t setup_sects = 0, payload_offset = 0, payload_length = 0;
  for (auto& f : info->fields) {
    if (f.name == "setup_sects") setup_sects = f.value ? f.value : 4;
    if (f.name == "payload_offset") payload_offset = f.value;
    if (f.name == "payload_length") payload_length = f.value;
  }
  uint64_t pm_start = (setup_sects + 1) * 512;
  for (auto _ : state) {
    auto out = loader::decompress_to_vector(info->payload_compression, *src, pm_start + payload_offset,
                                            payload_length, 1ull << 30);
    benchmark::DoNotOptimize(out);
  }
}

void BM_ExtractVmlinux(benchmark::State& state) {
  auto src = loader::FileImageSource::open(cache_dir() + "/cloud-amd64/vmlinuz");
  if (!src) {
    state.SkipWithError("no kernel: run scripts/fetch_kernels.sh first");
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(loader::extract_bzimage_vmlinux(*src));
}

// The check the dry run makes and a boot could make before entering a
// bzImage the Linux way: the Debian amd64 kernel's payload is xz, the
// cloud kernel's LZ4 (legacy). Arg 0 is amd64, 1 cloud-amd64.
void BM_VerifyBzImagePayload(benchmark::State& state) {
  const std::string flavour = state.range(0) == 0 ? "amd64" : "cloud-amd64";
  auto src = loader::FileImageSource::open(cache_dir() + "/" + flavour + "/vmlinuz");
  if (!src) {
    state.SkipWithError("no kernel: run scripts/fetch_kernels.sh first");
    return;
  }
  state.SetLabel(flavour);
  for (auto _ : state) {
    auto r = loader::verify_bzimage_payload(*src);
    if (!r) {
      state.SkipWithError(r.error().message.c_str());
      return;
    }
  }
}

BENCHMARK(BM_Pread_Prefaulted)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LoadElf_Prefaulted)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Pread_Fresh4k)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LoadElf_Fresh4k)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LoadElf_FreshThp)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LoadElf_ZeroCopy)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Decompress_Payload)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_ExtractVmlinux)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_VerifyBzImagePayload)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->Iterations(5);

}  // namespace

BENCHMARK_MAIN();
