// The initramfs of a `vmm exec` guest (DESIGN.md §10), made by the VMM
// itself: no busybox, no cpio tool, no root. Two newc archives back to back
// (the kernel unpacks concatenated archives in order):
//   - the cached part: /init (the static vmm-exec-init) and the kernel
//     modules the run needs, uncompressed, with /minivmm/modules listing them
//     in load order (dependencies first);
//   - the run's part: /minivmm/exec, the command, environment, working
//     directory and shares, as NUL-separated key/value words.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "vmm/error.h"

namespace vmm::exec {

// Appends newc ("070701") entries; finish() adds the trailer.
class CpioWriter {
 public:
  void add_directory(std::string_view path, uint32_t mode = 0755);
  void add_file(std::string_view path, std::string_view data, uint32_t mode = 0644);
  // The archive so far plus its TRAILER!!! entry, padded to 4 bytes.
  std::string finish();

 private:
  void add_entry(std::string_view path, uint32_t mode, std::string_view data);
  std::string out_;
  uint32_t next_ino_ = 1;
};

// A /lib/modules/VERSION tree's index: modules.dep (what each module needs)
// and modules.builtin (what the kernel has without modules).
class ModuleIndex {
 public:
  // Reads dir's modules.dep; without one (a tree unpacked from a package,
  // before depmod ran) finds the modules by file name and reads each needed
  // module's own dependency list (its .modinfo "depends="). modules.builtin
  // is optional.
  static Result<ModuleIndex> load(const std::string& dir);
  static ModuleIndex parse(std::string_view modules_dep, std::string_view modules_builtin);

  // "virtio_pci" from "kernel/drivers/virtio/virtio_pci.ko.xz" ('-' read as '_', as modprobe does).
  static std::string name_of(std::string_view path);

  bool builtin(std::string_view name) const;
  bool has_module(std::string_view name) const;
  // The module files to load for `names`, dependencies first, each once;
  // built-in names need nothing. A name that is neither a module nor built
  // in goes to `missing`.
  std::vector<std::string> load_order(const std::vector<std::string>& names, std::vector<std::string>& missing) const;

 private:
  std::vector<std::string> deps_of(const std::string& name) const;

  std::map<std::string, std::string, std::less<>> path_;                       // name -> relative path
  mutable std::map<std::string, std::vector<std::string>, std::less<>> deps_;  // name -> dependency names
  std::set<std::string, std::less<>> builtin_;
  std::string scanned_dir_;  // set when deps_ is filled from the modules themselves
};

// The "depends=" list of a module's .modinfo (module names, '-' read as '_').
std::vector<std::string> modinfo_depends(std::string_view module_bytes);

// The modules vmm exec needs for a share protocol and virtio transport, and
// the CONFIG_ option that provides each.
struct NeededModule {
  std::string name;
  std::string config;
};
std::vector<NeededModule> needed_modules(bool nine_p, bool mmio);

// One run's /minivmm/exec.
struct ExecSpec {
  std::string fs;        // "virtiofs" | "9p"
  std::string root_tag;  // the host's / share
  std::string cwd;
  bool tty = false;
  std::vector<std::string> argv, env;
  struct Share {
    std::string tag, path;
    bool writable = false;
  };
  std::vector<Share> shares;
};
std::string encode_spec(const ExecSpec& spec);

// The cached part for `modules` (files under `modules_dir`, loaded in that
// order) and the init binary, decompressing .ko.xz/.ko.zst/.ko.gz.
Result<std::string> build_base_archive(const std::string& init_path, const std::string& modules_dir,
                                       const std::vector<std::string>& modules);
// The run's part.
std::string build_spec_archive(const ExecSpec& spec);

// build_base_archive through a cache directory: the archive is reused while
// the init binary and every module file keep their size and mtime. A cache
// that cannot be written only costs the rebuild. Writing a new archive keeps
// the kMaxBaseArchives most recently used ones.
constexpr size_t kMaxBaseArchives = 8;
Result<std::string> cached_base_archive(const std::string& cache_dir, const std::string& init_path,
                                        const std::string& modules_dir, const std::vector<std::string>& modules);

}  // namespace vmm::exec
