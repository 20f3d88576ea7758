#include "vmm/exec_initramfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>

#include <fmt/format.h>

#include "loader/decompress.h"
#include "loader/image_source.h"

namespace vmm::exec {

namespace {

// Modules are a few MiB at most; a bigger one is not a module.
constexpr uint64_t kMaxModuleBytes = 256ull << 20;

Result<std::string> read_whole(const std::string& path, uint64_t limit) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return fail_errno(errno, path);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return fail("{}: not a regular file", path);
  }
  if (static_cast<uint64_t>(st.st_size) > limit) {
    ::close(fd);
    return fail("{}: {} bytes is more than the {} expected at most", path, st.st_size, limit);
  }
  std::string data(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pread(fd, data.data() + done, data.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  if (done != data.size()) return fail("{}: short read", path);
  return data;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

template <class F>
void for_each_line(std::string_view text, F&& f) {
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    f(text.substr(at, end - at));
    at = end + 1;
  }
}

uint64_t fnv1a(uint64_t h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string file_identity(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return path + ":missing";
  return fmt::format("{}:{}:{}.{}", path, st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

}  // namespace

void CpioWriter::add_entry(std::string_view path, uint32_t mode, std::string_view data) {
  // newc: a 110-byte ASCII header, the NUL-terminated name padded to 4, the data padded to 4.
  std::string name(path);
  while (!name.empty() && name.front() == '/') name.erase(0, 1);
  out_ += fmt::format("070701{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}",
                      next_ino_++, mode, 0, 0, 1, 0, data.size(), 0, 0, 0, 0, name.size() + 1, 0);
  out_ += name;
  out_.push_back('\0');
  out_.append((4 - out_.size() % 4) % 4, '\0');
  out_ += data;
  out_.append((4 - out_.size() % 4) % 4, '\0');
}

void CpioWriter::add_directory(std::string_view path, uint32_t mode) { add_entry(path, S_IFDIR | mode, {}); }

void CpioWriter::add_file(std::string_view path, std::string_view data, uint32_t mode) {
  add_entry(path, S_IFREG | mode, data);
}

std::string CpioWriter::finish() {
  add_entry("TRAILER!!!", 0, {});
  return std::exchange(out_, {});
}

std::string ModuleIndex::name_of(std::string_view path) {
  size_t slash = path.rfind('/');
  std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  size_t ko = base.find(".ko");
  std::string name(base.substr(0, ko));
  for (char& c : name)
    if (c == '-') c = '_';
  return name;
}

ModuleIndex ModuleIndex::parse(std::string_view modules_dep, std::string_view modules_builtin) {
  ModuleIndex index;
  for_each_line(modules_dep, [&](std::string_view line) {
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return;
    std::string_view path = trim(line.substr(0, colon));
    if (path.empty()) return;
    std::string name = name_of(path);
    std::vector<std::string> deps;
    std::string_view rest = line.substr(colon + 1);
    size_t at = 0;
    while (at < rest.size()) {
      size_t end = rest.find(' ', at);
      if (end == std::string_view::npos) end = rest.size();
      std::string_view dep = trim(rest.substr(at, end - at));
      if (!dep.empty()) deps.push_back(name_of(dep));
      at = end + 1;
    }
    index.path_[name] = std::string(path);
    index.deps_[name] = std::move(deps);
  });
  for_each_line(modules_builtin, [&](std::string_view line) {
    line = trim(line);
    if (!line.empty()) index.builtin_.insert(name_of(line));
  });
  return index;
}

Result<ModuleIndex> ModuleIndex::load(const std::string& dir) {
  auto builtin = read_whole(dir + "/modules.builtin", 64ull << 20);
  std::string_view builtin_text = builtin ? std::string_view(*builtin) : std::string_view();
  if (auto dep = read_whole(dir + "/modules.dep", 64ull << 20); dep) return parse(*dep, builtin_text);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return fail_errno(errno, dir);
  if (!S_ISDIR(st.st_mode)) return fail("{}: not a directory", dir);
  ModuleIndex index = parse("", builtin_text);
  index.scanned_dir_ = dir;
  // A module tree is a few thousand files: walk it by name only.
  std::function<void(const std::string&, int)> walk = [&](const std::string& rel, int depth) {
    if (depth > 16) return;
    DIR* d = ::opendir((dir + "/" + rel).c_str());
    if (!d) return;
    while (dirent* e = ::readdir(d)) {
      std::string_view name = e->d_name;
      if (name == "." || name == "..") continue;
      std::string child = rel.empty() ? std::string(name) : rel + "/" + std::string(name);
      if (e->d_type == DT_DIR) {
        walk(child, depth + 1);
      } else if (name.ends_with(".ko") || name.ends_with(".ko.xz") || name.ends_with(".ko.zst") ||
                 name.ends_with(".ko.gz")) {
        index.path_.emplace(name_of(name), child);
      }
    }
    ::closedir(d);
  };
  walk("", 0);
  if (index.path_.empty() && builtin_text.empty()) return fail("{}: no modules.dep, modules.builtin or modules", dir);
  return index;
}

std::vector<std::string> modinfo_depends(std::string_view bytes) {
  // .modinfo holds NUL-terminated "key=value" strings; "depends=" is one of them.
  constexpr std::string_view kKey = "depends=";
  size_t at = 0;
  while ((at = bytes.find(kKey, at)) != std::string_view::npos) {
    if (at == 0 || bytes[at - 1] == '\0') break;
    at += kKey.size();
  }
  std::vector<std::string> out;
  if (at == std::string_view::npos) return out;
  std::string_view value = bytes.substr(at + kKey.size());
  value = value.substr(0, value.find('\0'));
  size_t start = 0;
  while (start <= value.size()) {
    size_t comma = value.find(',', start);
    if (comma == std::string_view::npos) comma = value.size();
    std::string_view dep = trim(value.substr(start, comma - start));
    if (!dep.empty()) out.push_back(ModuleIndex::name_of(dep));
    start = comma + 1;
  }
  return out;
}

std::vector<std::string> ModuleIndex::deps_of(const std::string& name) const {
  if (auto it = deps_.find(name); it != deps_.end()) return it->second;
  std::vector<std::string> deps;
  auto path = path_.find(name);
  if (!scanned_dir_.empty() && path != path_.end()) {
    const std::string file = scanned_dir_ + "/" + path->second;
    if (auto data = read_whole(file, kMaxModuleBytes); data) {
      auto bytes = std::as_bytes(std::span(data->data(), data->size()));
      loader::Compression kind = loader::detect_compression(bytes);
      if (kind == loader::Compression::kNone) {
        deps = modinfo_depends(*data);
      } else {
        loader::SpanImageSource src(bytes, file);
        if (auto plain = loader::decompress_to_vector(kind, src, 0, bytes.size(), kMaxModuleBytes); plain)
          deps = modinfo_depends(std::string_view(reinterpret_cast<const char*>(plain->data()), plain->size()));
      }
    }
  }
  deps_[name] = deps;
  return deps;
}

bool ModuleIndex::builtin(std::string_view name) const { return builtin_.contains(name); }
bool ModuleIndex::has_module(std::string_view name) const { return path_.contains(name); }

std::vector<std::string> ModuleIndex::load_order(const std::vector<std::string>& names,
                                                 std::vector<std::string>& missing) const {
  std::vector<std::string> order;
  std::set<std::string, std::less<>> done;
  // Depth-first, dependencies before the module; `done` is set on entry so a
  // cycle in a damaged modules.dep ends instead of recursing forever.
  std::function<void(const std::string&)> visit = [&](const std::string& name) {
    if (done.contains(name)) return;
    done.insert(name);
    for (const auto& d : deps_of(name)) visit(d);
    auto path = path_.find(name);
    if (path != path_.end()) order.push_back(path->second);
  };
  for (const auto& name : names) {
    if (builtin(name)) continue;
    if (!has_module(name)) {
      missing.push_back(name);
      continue;
    }
    visit(name);
  }
  return order;
}

std::vector<NeededModule> needed_modules(bool nine_p, bool mmio) {
  std::vector<NeededModule> out;
  out.push_back(mmio ? NeededModule{"virtio_mmio", "CONFIG_VIRTIO_MMIO"} : NeededModule{"virtio_pci", "CONFIG_VIRTIO_PCI"});
  out.push_back({"virtio_console", "CONFIG_VIRTIO_CONSOLE"});
  if (nine_p) {
    out.push_back({"9pnet_virtio", "CONFIG_NET_9P_VIRTIO"});
    out.push_back({"9p", "CONFIG_9P_FS"});
  } else {
    out.push_back({"virtiofs", "CONFIG_VIRTIO_FS"});
  }
  return out;
}

std::string encode_spec(const ExecSpec& spec) {
  std::string out;
  auto put = [&](std::string_view key, std::string_view value) {
    out += key;
    out.push_back('\0');
    out += value;
    out.push_back('\0');
  };
  put("fs", spec.fs);
  put("root", spec.root_tag);
  put("cwd", spec.cwd);
  put("tty", spec.tty ? "1" : "0");
  for (const auto& a : spec.argv) put("arg", a);
  for (const auto& e : spec.env) put("env", e);
  for (const auto& s : spec.shares) {
    put("share-tag", s.tag);
    put("share-path", s.path);
    put("share-rw", s.writable ? "1" : "0");
  }
  return out;
}

Result<std::string> build_base_archive(const std::string& init_path, const std::string& modules_dir,
                                       const std::vector<std::string>& modules) {
  auto init = read_whole(init_path, 64ull << 20);
  if (!init) return std::unexpected(init.error());
  CpioWriter cpio;
  cpio.add_file("init", *init, 0755);
  cpio.add_directory("minivmm");
  cpio.add_directory("lib");
  cpio.add_directory("lib/modules");
  std::string list;
  for (size_t i = 0; i < modules.size(); ++i) {
    const std::string path = modules_dir + "/" + modules[i];
    auto data = read_whole(path, kMaxModuleBytes);
    if (!data) return std::unexpected(data.error());
    auto bytes = std::as_bytes(std::span(data->data(), data->size()));
    loader::Compression kind = loader::detect_compression(bytes);
    std::string ko;
    if (kind == loader::Compression::kNone) {
      ko = std::move(*data);
    } else {
      loader::SpanImageSource src(bytes, path);
      auto plain = loader::decompress_to_vector(kind, src, 0, bytes.size(), kMaxModuleBytes);
      if (!plain) return fail("{}: {}", path, plain.error().message);
      ko.assign(reinterpret_cast<const char*>(plain->data()), plain->size());
    }
    // Numbered so two modules of one name in different trees cannot collide.
    std::string in_archive = fmt::format("/lib/modules/{:02}-{}.ko", i, ModuleIndex::name_of(modules[i]));
    cpio.add_file(in_archive, ko);
    list += in_archive;
    list.push_back('\0');
  }
  cpio.add_file("minivmm/modules", list);
  return cpio.finish();
}

std::string build_spec_archive(const ExecSpec& spec) {
  CpioWriter cpio;
  cpio.add_directory("minivmm");
  cpio.add_file("minivmm/exec", encode_spec(spec));
  return cpio.finish();
}

namespace {

// Keeps the kMaxBaseArchives most recently used archives (a hit touches its
// file) and clears temporaries a killed writer left: every new kernel or
// rebuilt init adds an archive, and the directory must not grow for ever.
// Best effort: a failure costs disk space only.
void evict_base_archives(const std::string& cache_dir) {
  namespace fs = std::filesystem;
  std::vector<std::pair<fs::file_time_type, fs::path>> archives;
  std::error_code ec;
  const auto now = fs::file_time_type::clock::now();
  for (fs::directory_iterator it(cache_dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code stat_ec;
    if (!it->is_regular_file(stat_ec) || !name.starts_with("base-")) continue;
    const auto mtime = fs::last_write_time(it->path(), stat_ec);
    if (stat_ec) continue;
    if (name.ends_with(".tmp")) {
      if (now - mtime > std::chrono::hours(1)) fs::remove(it->path(), stat_ec);
    } else if (name.ends_with(".cpio")) {
      archives.emplace_back(mtime, it->path());
    }
  }
  if (archives.size() <= kMaxBaseArchives) return;
  std::sort(archives.begin(), archives.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  for (size_t i = kMaxBaseArchives; i < archives.size(); ++i) fs::remove(archives[i].second, ec);
}

}  // namespace

Result<std::string> cached_base_archive(const std::string& cache_dir, const std::string& init_path,
                                        const std::string& modules_dir, const std::vector<std::string>& modules) {
  uint64_t key = fnv1a(0xcbf29ce484222325ull, "minivmm-exec-initramfs-v1");
  key = fnv1a(key, file_identity(init_path));
  for (const auto& m : modules) key = fnv1a(key, file_identity(modules_dir + "/" + m));
  const std::string file = fmt::format("{}/base-{:016x}.cpio", cache_dir, key);
  if (auto cached = read_whole(file, 1ull << 30); cached) {
    ::utimensat(AT_FDCWD, file.c_str(), nullptr, 0);  // most recently used
    return cached;
  }

  auto archive = build_base_archive(init_path, modules_dir, modules);
  if (!archive) return archive;
  // Best effort: a private temporary name, then an atomic rename.
  for (size_t at = 1; at <= cache_dir.size(); ++at) {
    if (at == cache_dir.size() || cache_dir[at] == '/') ::mkdir(cache_dir.substr(0, at).c_str(), 0755);
  }
  const std::string tmp = fmt::format("{}.{}.tmp", file, ::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) {
    bool ok = ::write(fd, archive->data(), archive->size()) == static_cast<ssize_t>(archive->size());
    ::close(fd);
    if (!ok || ::rename(tmp.c_str(), file.c_str()) != 0) ::unlink(tmp.c_str());
  }
  evict_base_archives(cache_dir);
  return archive;
}

}  // namespace vmm::exec
