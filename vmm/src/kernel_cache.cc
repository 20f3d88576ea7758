#include "vmm/kernel_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <new>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "loader/bzimage.h"
#include "loader/elf.h"

namespace vmm {
namespace {

namespace fs = std::filesystem;

constexpr size_t kChunk = 1 << 20;
// Leftovers of a process killed while writing or evicting; a live writer
// finishes in seconds.
constexpr auto kStaleTemp = std::chrono::hours(1);

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string errno_text(int err) { return std::strerror(err); }

uint32_t crc32_of(std::span<const std::byte> bytes) {
  uLong crc = ::crc32(0L, Z_NULL, 0);
  while (!bytes.empty()) {
    const size_t n = std::min(bytes.size(), size_t{1} << 30);
    crc = ::crc32(crc, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(n));
    bytes = bytes.subspan(n);
  }
  return static_cast<uint32_t>(crc);
}

// The compressed payload bytes, copied out of the bzImage (the entry stores
// them and the comparison needs them whole).
std::expected<std::vector<std::byte>, std::string> read_payload(const loader::ImageSource& bzimage,
                                                                  const loader::BzImagePayloadRange& range) {
  std::vector<std::byte> out;
  try {
    out.resize(range.length);
  } catch (const std::bad_alloc&) {
    return std::unexpected(fmt::format("cannot allocate {:#x} bytes for the payload", range.length));
  }
  if (auto r = bzimage.read_at(range.offset, out); !r) return std::unexpected(r.error().message);
  return out;
}

// Whether the file holds exactly `expected`.
std::expected<bool, std::string> same_bytes(const loader::ImageSource& file, std::span<const std::byte> expected) {
  if (file.size() != expected.size()) return false;
  std::vector<std::byte> buf(std::min(kChunk, expected.size()));
  for (uint64_t at = 0; at < expected.size(); at += buf.size()) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), expected.size() - at));
    if (auto r = file.read_at(at, std::span(buf).first(n)); !r) return std::unexpected(r.error().message);
    if (std::memcmp(buf.data(), expected.data() + at, n) != 0) return false;
  }
  return true;
}

// Each missing component of `dir` made 0700 (mkdir -p).
std::expected<void, std::string> make_dirs(const std::string& dir) {
  for (size_t slash = 1;; ++slash) {
    slash = dir.find('/', slash);
    const std::string prefix = dir.substr(0, slash);
    if (::mkdir(prefix.c_str(), 0700) != 0) {
      const int err = errno;
      // An existing directory may answer EROFS or EACCES instead of EEXIST.
      struct stat st {};
      const bool exists = ::stat(prefix.c_str(), &st) == 0;
      if (exists && !S_ISDIR(st.st_mode)) return std::unexpected(fmt::format("{} is not a directory", prefix));
      if (!exists) return std::unexpected(fmt::format("cannot create {}: {}", prefix, errno_text(err)));
    }
    if (slash == std::string::npos) return {};
  }
}

std::expected<void, std::string> write_all(int fd, std::span<const std::byte> bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), std::min(bytes.size(), size_t{1} << 30));
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::unexpected(errno_text(errno));
    }
    bytes = bytes.subspan(static_cast<size_t>(n));
  }
  return {};
}

// `name` in the directory `dir`: the bytes of `src`.
std::expected<void, std::string> write_file(const std::string& dir, const char* name, const loader::ImageSource& src) {
  const std::string path = dir + "/" + name;
  const int raw = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (raw < 0) return std::unexpected(fmt::format("cannot create {}: {}", path, errno_text(errno)));
  Fd fd(raw);
  auto fail = [&path](const std::string& why) { return std::unexpected(fmt::format("writing {}: {}", path, why)); };
  if (auto bytes = src.bytes()) {
    if (auto r = write_all(fd.get(), *bytes); !r) return fail(r.error());
  } else {
    std::vector<std::byte> buf(std::min<uint64_t>(kChunk, src.size()));
    for (uint64_t at = 0; at < src.size(); at += buf.size()) {
      auto part = std::span(buf).first(static_cast<size_t>(std::min<uint64_t>(buf.size(), src.size() - at)));
      if (auto r = src.read_at(at, part); !r) return fail(r.error().message);
      if (auto r = write_all(fd.get(), part); !r) return fail(r.error());
    }
  }
  return {};
}

// A fresh, empty directory `DIR/.PREFIX-XXXXXX` (an entry being built, or a
// name to rename an entry to before removing it).
std::expected<std::string, std::string> temp_dir(const std::string& dir, std::string_view prefix) {
  std::string tmpl = fmt::format("{}/.{}-XXXXXX", dir, prefix);
  if (::mkdtemp(tmpl.data()) == nullptr)
    return std::unexpected(fmt::format("cannot write in {}: {}", dir, errno_text(errno)));
  return tmpl;
}

// Renames the entry out of the way first: a reader holding it open then
// finds it gone as a whole, never half removed.
void remove_entry(const std::string& dir, const std::string& entry) {
  auto away = temp_dir(dir, "old");
  std::error_code ec;
  if (!away) {
    fs::remove_all(entry, ec);
    return;
  }
  if (::rename(entry.c_str(), away->c_str()) != 0) {
    // Not a directory (a file under the entry's name): nobody reads it as an entry.
    fs::remove(*away, ec);
    fs::remove_all(entry, ec);
    return;
  }
  fs::remove_all(*away, ec);
}

// Keeps the kMaxEntries most recently used entries and clears what killed
// processes left behind. Best effort: a failure here costs disk space only.
void evict(const std::string& dir) {
  struct Entry {
    fs::file_time_type used;
    std::string path;
  };
  std::vector<Entry> entries;
  std::error_code ec;
  const auto now = fs::file_time_type::clock::now();
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code stat_ec;
    const auto mtime = fs::last_write_time(it->path(), stat_ec);
    if (stat_ec) continue;
    if (name.starts_with(".")) {
      // A half-built entry, an entry being removed, or an index being written.
      if (now - mtime > kStaleTemp) fs::remove_all(it->path(), stat_ec);
      continue;
    }
    if (!it->is_directory(stat_ec)) continue;
    entries.push_back({mtime, it->path().string()});
  }
  if (entries.size() <= KernelCache::kMaxEntries) return;
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.used != b.used ? a.used > b.used : a.path < b.path;
  });
  for (size_t i = KernelCache::kMaxEntries; i < entries.size(); ++i) remove_entry(dir, entries[i].path);
}

struct Lookup {
  std::unique_ptr<loader::ImageSource> vmlinux;  // a hit
  std::string problem;  // why an entry under the name is not used ("": none there)
};

Lookup look_up(const std::string& entry, std::span<const std::byte> payload) {
  // O_NOFOLLOW: the cache writes directories only; a symbolic link under an
  // entry's name is replaced, never read through.
  const int raw = ::open(entry.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (raw < 0) {
    const int err = errno;
    if (err == ENOENT) return {};
    return {nullptr, fmt::format("cannot open {}: {}", entry, errno_text(err))};
  }
  Fd dir(raw);
  // Both files through the one directory descriptor: the same entry even if
  // it is evicted and written anew meanwhile.
  auto stored = loader::FileImageSource::open_at(dir.get(), "payload", entry + "/payload");
  if (!stored) return {nullptr, stored.error().message};
  auto same = same_bytes(*stored, payload);
  if (!same) return {nullptr, same.error()};
  if (!*same) return {nullptr, fmt::format("{} holds another payload with the same CRC-32 and length", entry)};
  auto vmlinux = loader::FileImageSource::open_at(dir.get(), "vmlinux", entry + "/vmlinux");
  if (!vmlinux) return {nullptr, vmlinux.error().message};
  // The loader's own checks (headers, program headers, every segment inside
  // the file): a truncated or damaged copy is found here, before anything is
  // loaded, and replaced by a fresh decompression.
  if (auto elf = loader::inspect_elf(*vmlinux); !elf) return {nullptr, "damaged: " + elf.error().message};
  ::futimens(dir.get(), nullptr);  // most recently used
  return {std::make_unique<loader::FileImageSource>(std::move(*vmlinux)), ""};
}

// Stores payload and vmlinux as `entry` (replacing an unusable one there).
std::expected<void, std::string> store(const std::string& dir, const std::string& entry,
                                       std::span<const std::byte> payload, const loader::ImageSource& vmlinux,
                                       bool replace) {
  if (auto r = make_dirs(dir); !r) return r;
  auto tmp = temp_dir(dir, "tmp");
  if (!tmp) return std::unexpected(tmp.error());
  auto give_up = [&](std::string why) {
    std::error_code ec;
    fs::remove_all(*tmp, ec);
    return std::unexpected(std::move(why));
  };
  const loader::SpanImageSource payload_source(payload, "payload");
  if (auto r = write_file(*tmp, "vmlinux", vmlinux); !r) return give_up(r.error());
  if (auto r = write_file(*tmp, "payload", payload_source); !r) return give_up(r.error());
  if (::rename(tmp->c_str(), entry.c_str()) == 0) return {};
  int err = errno;
  if (err == ENOTEMPTY || err == EEXIST || err == ENOTDIR) {
    if (!replace && err != ENOTDIR) {
      // Another process stored the same payload meanwhile: its entry serves.
      std::error_code ec;
      fs::remove_all(*tmp, ec);
      return {};
    }
    remove_entry(dir, entry);
    if (::rename(tmp->c_str(), entry.c_str()) == 0) return {};
    err = errno;
  }
  return give_up(fmt::format("cannot rename {} to {}: {}", *tmp, entry, errno_text(err)));
}

// --- the stat index --------------------------------------------------------
// A hit through the entry's name reads and compares the whole payload (8-14
// MiB; 0.2-0.3 s in the nested L1). The index remembers, for a bzImage file
// whose payload was just found equal to an entry's, the file's identity and
// timestamps and the identity of the entry's vmlinux; while all of them stay
// the same, the payload is not read again (git's index does the same for
// `git status`). A timestamp is only trusted once it is older than
// kRacyMargin when recorded: a write in the same clock tick as the recorded
// one could otherwise change the bytes and keep the timestamps (git's "racy
// clean" problem), and a write after the margin always shows in mtime.
constexpr const char* kIndexName = "stat-index";
constexpr size_t kIndexMaxLines = 16;
constexpr size_t kIndexMaxBytes = 64 * 1024;
constexpr int64_t kRacyMarginNs = 3'000'000'000;

int64_t ns_of(const struct timespec& t) { return int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec; }

// What the index says of one bzImage file, and of the entry it matched.
struct IndexRecord {
  uint64_t dev = 0, ino = 0, size = 0;
  int64_t mtime_ns = 0, ctime_ns = 0;
  std::string entry;  // the entry directory's name in the cache directory
  uint64_t vmlinux_ino = 0;
  int64_t vmlinux_ctime_ns = 0;

  bool same_file(const IndexRecord& o) const {
    return dev == o.dev && ino == o.ino && size == o.size && mtime_ns == o.mtime_ns && ctime_ns == o.ctime_ns;
  }
};

IndexRecord file_key(const struct stat& st) {
  IndexRecord r;
  r.dev = st.st_dev;
  r.ino = st.st_ino;
  r.size = static_cast<uint64_t>(st.st_size);
  r.mtime_ns = ns_of(st.st_mtim);
  r.ctime_ns = ns_of(st.st_ctim);
  return r;
}

// An entry's name as the cache writes it: 8 hex digits, '-', a decimal length.
bool is_entry_name(std::string_view name) {
  if (name.size() < 10 || name.size() > 30 || name[8] != '-') return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = i < 8 ? ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) : i == 8 || (c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// The index's records, newest first; a damaged or oversized index reads as
// empty (it is only ever a shortcut) and is rewritten by the next record.
std::vector<IndexRecord> read_index(const std::string& dir) {
  std::vector<IndexRecord> out;
  const std::string path = dir + "/" + kIndexName;
  const int raw = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (raw < 0) return out;
  Fd fd(raw);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || static_cast<uint64_t>(st.st_size) > kIndexMaxBytes)
    return out;
  std::string text(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  text.resize(got);
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line) && out.size() < kIndexMaxLines) {
    std::istringstream in(line);
    std::string tag;
    IndexRecord r;
    if (!(in >> tag >> r.dev >> r.ino >> r.size >> r.mtime_ns >> r.ctime_ns >> r.entry >> r.vmlinux_ino >>
          r.vmlinux_ctime_ns) ||
        tag != "v1" || !is_entry_name(r.entry)) {
      return {};
    }
    std::string extra;
    if (in >> extra) return {};
    out.push_back(std::move(r));
  }
  return out;
}

// Puts `record` first (dropping older records of the same file) and writes
// the index whole through a rename; best effort.
void write_index(const std::string& dir, const IndexRecord& record) {
  std::vector<IndexRecord> records = read_index(dir);
  std::erase_if(records, [&](const IndexRecord& r) { return r.dev == record.dev && r.ino == record.ino; });
  records.insert(records.begin(), record);
  if (records.size() > kIndexMaxLines) records.resize(kIndexMaxLines);
  std::string text;
  for (const IndexRecord& r : records)
    text += fmt::format("v1 {} {} {} {} {} {} {} {}\n", r.dev, r.ino, r.size, r.mtime_ns, r.ctime_ns, r.entry,
                        r.vmlinux_ino, r.vmlinux_ctime_ns);
  std::string tmp = fmt::format("{}/.index-XXXXXX", dir);
  const int raw = ::mkstemp(tmp.data());
  if (raw < 0) return;
  {
    Fd fd(raw);
    if (!write_all(fd.get(), std::as_bytes(std::span(text.data(), text.size())))) {
      ::unlink(tmp.c_str());
      return;
    }
  }
  if (::rename(tmp.c_str(), (dir + "/" + kIndexName).c_str()) != 0) ::unlink(tmp.c_str());
}

// The entry the index names for a bzImage with exactly `key`, if its
// vmlinux is still the very file that was recorded.
std::unique_ptr<loader::ImageSource> look_up_by_stat(const std::string& dir, const IndexRecord& key,
                                                     std::string* entry_path) {
  for (const IndexRecord& r : read_index(dir)) {
    if (!r.same_file(key)) continue;
    const std::string entry = dir + "/" + r.entry;
    const int raw = ::open(entry.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (raw < 0) return nullptr;
    Fd entry_dir(raw);
    auto vmlinux = loader::FileImageSource::open_at(entry_dir.get(), "vmlinux", entry + "/vmlinux");
    if (!vmlinux) return nullptr;
    struct stat st {};
    if (::fstat(vmlinux->fd(), &st) != 0 || st.st_ino != r.vmlinux_ino || ns_of(st.st_ctim) != r.vmlinux_ctime_ns)
      return nullptr;
    if (!loader::inspect_elf(*vmlinux)) return nullptr;
    ::futimens(entry_dir.get(), nullptr);  // most recently used
    *entry_path = entry;
    return std::make_unique<loader::FileImageSource>(std::move(*vmlinux));
  }
  return nullptr;
}

}  // namespace

std::expected<std::string, std::string> kernel_cache_dir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg == '/') return std::string(xdg) + "/minivmm/vmlinux";
  if (const char* home = std::getenv("HOME"); home && *home == '/') return std::string(home) + "/.cache/minivmm/vmlinux";
  return std::unexpected("neither $XDG_CACHE_HOME nor $HOME is an absolute path");
}

KernelCache::KernelCache(std::expected<std::string, std::string> dir, boot::PayloadDecompressor decompress,
                         std::function<int64_t()> now_ns)
    : dir_(std::move(dir)), decompress_(std::move(decompress)), now_ns_(std::move(now_ns)) {
  if (!now_ns_) {
    now_ns_ = [] {
      struct timespec t {};
      ::clock_gettime(CLOCK_REALTIME, &t);
      return ns_of(t);
    };
  }
}

void KernelCache::remember(const struct stat& bzimage, const std::string& entry_name, int vmlinux_fd) {
  // Only timestamps clearly in the past can vouch for the bytes (racy clean).
  if (now_ns_() - std::max(ns_of(bzimage.st_mtim), ns_of(bzimage.st_ctim)) < kRacyMarginNs) return;
  struct stat vm {};
  if (::fstat(vmlinux_fd, &vm) != 0) return;
  IndexRecord r = file_key(bzimage);
  r.entry = entry_name;
  r.vmlinux_ino = vm.st_ino;
  r.vmlinux_ctime_ns = ns_of(vm.st_ctim);
  write_index(*dir_, r);
}

loader::Result<std::unique_ptr<loader::ImageSource>> KernelCache::vmlinux(const loader::ImageSource& bzimage) {
  auto fresh = [&]() {
    return decompress_ ? decompress_(bzimage) : loader::extract_bzimage_vmlinux(bzimage);
  };
  auto uncached = [&](std::string why) {
    outcome_ = "not cached: " + std::move(why);
    return fresh();
  };
  if (!dir_) return uncached(dir_.error());
  struct stat bz_stat {};
  const bool have_stat = bzimage.fd() >= 0 && ::fstat(bzimage.fd(), &bz_stat) == 0 && S_ISREG(bz_stat.st_mode);
  if (have_stat) {
    std::string entry;
    if (auto hit = look_up_by_stat(*dir_, file_key(bz_stat), &entry)) {
      outcome_ = fmt::format("decompressed payload from cache ({}; bzImage unchanged since compared)", entry);
      return hit;
    }
  }
  auto range = loader::bzimage_payload_range(bzimage);
  if (!range) return uncached(range.error().message);
  auto payload = read_payload(bzimage, *range);
  if (!payload) return uncached(payload.error());

  const std::string name = fmt::format("{:08x}-{}", crc32_of(*payload), payload->size());
  const std::string entry = *dir_ + "/" + name;
  Lookup found = look_up(entry, *payload);
  if (found.vmlinux) {
    outcome_ = fmt::format("decompressed payload from cache ({})", entry);
    if (have_stat) remember(bz_stat, name, found.vmlinux->fd());
    return std::move(found.vmlinux);
  }

  auto vmlinux = fresh();
  if (!vmlinux) {
    outcome_ = "not cached: the payload does not decompress";
    return vmlinux;
  }
  // Only what the loader accepts is kept: a hit must never be worse than a
  // decompression.
  if (auto elf = loader::inspect_elf(**vmlinux); !elf) {
    outcome_ = "not cached: the payload is not a loadable vmlinux";
    return vmlinux;
  }
  if (auto stored = store(*dir_, entry, *payload, **vmlinux, !found.problem.empty()); !stored) {
    outcome_ = "not cached: " + stored.error();
    return vmlinux;
  }
  outcome_ = fmt::format("decompressed, cached as {}", entry);
  if (have_stat) {
    const int raw = ::open((entry + "/vmlinux").c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (raw >= 0) {
      Fd stored_vmlinux(raw);
      remember(bz_stat, name, stored_vmlinux.get());
    }
  }
  if (!found.problem.empty()) outcome_ += fmt::format(" (replacing an entry not used: {})", found.problem);
  evict(*dir_);
  return vmlinux;
}

}  // namespace vmm
