#include "vmm/exec_command.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <span>

#include <fmt/format.h>

#include "loader/image_source.h"
#include "loader/kernel_loader.h"
#include "vmm/arch.h"
#include "vmm/exec_initramfs.h"
#include "vmm/exit_codes.h"
#include "vmm/run.h"
#include "vmm/text.h"

namespace vmm {

namespace exec {

void GuestReport::feed(std::string_view bytes) {
  tail_ += bytes;
  if (tail_.size() > kTailBytes) tail_.erase(0, tail_.size() - kTailBytes);
  for (char c : bytes) {
    if (c == '\n') {
      line(partial_);
      partial_.clear();
    } else if (partial_.size() < 4096) {
      partial_.push_back(c);
    }
  }
}

void GuestReport::line(std::string_view text) {
  while (!text.empty() && (text.back() == '\r' || text.back() == ' ')) text.remove_suffix(1);
  constexpr std::string_view kPrefix = "minivmm-exec: ";
  size_t at = text.find(kPrefix);
  if (at == std::string_view::npos) return;
  std::string_view rest = text.substr(at + kPrefix.size());
  size_t space = rest.find(' ');
  std::string_view kind = rest.substr(0, space);
  std::string_view value = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
  if (kind == "status") {
    int n = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec == std::errc() && ptr == value.data() + value.size() && n >= 0 && n <= 255) status_ = n;
  } else if (kind == "error") {
    error_ = std::string(value);
  } else if (kind == "missing") {
    missing_ = std::string(value);
  } else if (kind == "ready") {
    ready_.store(true, std::memory_order_release);
  }
}

std::string kernel_release(std::string_view version) {
  constexpr std::string_view kBanner = "Linux version ";
  size_t at = version.find(kBanner);
  if (at == std::string_view::npos) return {};
  std::string_view rest = version.substr(at + kBanner.size());
  return std::string(rest.substr(0, rest.find_first_of(" \t\n")));
}

}  // namespace exec

namespace {

void say(std::string_view message) { write_stderr(fmt::format("vmm exec: {}\n", message)); }

void write_fd(int fd, std::span<const std::byte> bytes) {
  const char* p = reinterpret_cast<const char*>(bytes.data());
  size_t left = bytes.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the reader went away: the rest has nowhere to go
    p += n;
    left -= static_cast<size_t>(n);
  }
}

std::string self_directory() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string path(buf, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/'));
}

std::string cache_directory() {
  if (const char* xdg = ::getenv("XDG_CACHE_HOME"); xdg && *xdg == '/') return std::string(xdg) + "/minivmm/exec";
  if (const char* home = ::getenv("HOME"); home && *home == '/') return std::string(home) + "/.cache/minivmm/exec";
  return "/tmp/minivmm-exec-" + std::to_string(::getuid());
}

std::string absolute(const std::string& path) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) != nullptr) return buf;
  return path;
}

bool readable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), R_OK) == 0;
}

constexpr std::string_view kRootTag = "vmm-exec-root";

}  // namespace

int run_exec(const Options& options) {
  Options run = options;
  run.command = Command::kRun;

  // The kernel: the user's, or the host's own as virtme-ng does.
  if (run.kernel.empty()) {
    utsname u{};
    ::uname(&u);
    run.kernel = fmt::format("/boot/vmlinuz-{}", u.release);
    if (!readable_file(run.kernel)) {
      say(fmt::format("no --kernel given and the host's kernel {} cannot be read{} (pass --kernel PATH)", run.kernel,
                      ::access(run.kernel.c_str(), F_OK) == 0 ? " (Debian installs it readable by root only)" : ""));
      return kExitExecFailed;
    }
  }
  auto src = loader::FileImageSource::open(run.kernel);
  if (!src) {
    say(fmt::format("--kernel {}: {}", run.kernel, src.error().message));
    return kExitExecFailed;
  }
  auto info = loader::inspect_kernel(*src);
  if (!info) {
    say(fmt::format("--kernel {}: {}", run.kernel, info.error().message));
    return kExitExecFailed;
  }
  const std::string release = exec::kernel_release(info->version);

  // Modules: what the chosen protocol and transport need, unless built in.
  const bool nine_p = options.exec.fs == ShareProto::k9p;
  const bool mmio = options.transport == VirtioTransport::kMmio;
  std::string modules_dir = options.exec.modules.value_or(release.empty() ? "" : "/lib/modules/" + release);
  std::vector<std::string> modules;
  if (!modules_dir.empty()) {
    auto index = exec::ModuleIndex::load(modules_dir);
    if (!index && options.exec.modules) {
      say(fmt::format("--modules {}: {}", modules_dir, index.error().message));
      return kExitExecFailed;
    }
    if (index) {
      std::vector<std::string> names, missing;
      const auto needed = exec::needed_modules(nine_p, mmio);
      for (const auto& m : needed) names.push_back(m.name);
      modules = index->load_order(names, missing);
      if (!missing.empty()) {
        std::string configs;
        for (const auto& name : missing)
          for (const auto& m : needed)
            if (m.name == name) configs += (configs.empty() ? "" : " ") + m.config;
        say(fmt::format("the kernel {} lacks what vmm exec needs: {} (neither built in nor a module in {}){}", run.kernel,
                        configs, modules_dir, nine_p ? "" : "; --fs 9p may work"));
        return kExitExecFailed;
      }
    }
  }

  std::string init = self_directory() + "/vmm-exec-init";
  if (const char* env = ::getenv("MINIVMM_EXEC_INIT"); env && *env) init = env;
  if (!readable_file(init)) {
    say(fmt::format("the guest init {} is missing (it is built and installed next to vmm; MINIVMM_EXEC_INIT names "
                    "another)", init));
    return kExitExecFailed;
  }
  auto base = exec::cached_base_archive(cache_directory(), init, modules_dir, modules);
  if (!base) {
    say(base.error().message);
    return kExitExecFailed;
  }

  // The run's spec: the command, where it runs, what it sees.
  const bool tty = ::isatty(STDIN_FILENO) && ::isatty(STDOUT_FILENO);
  exec::ExecSpec spec;
  spec.fs = nine_p ? "9p" : "virtiofs";
  spec.root_tag = std::string(kRootTag);
  char cwd[PATH_MAX];
  spec.cwd = ::getcwd(cwd, sizeof cwd) ? cwd : "/";
  spec.tty = tty;
  spec.argv = options.exec.command;
  if (spec.argv.empty()) {
    const char* shell = ::getenv("SHELL");
    spec.argv.push_back(shell && *shell ? shell : "/bin/sh");
  }
  for (const char* name : {"PATH", "HOME", "TERM", "LANG", "LC_ALL", "USER", "LOGNAME"})
    if (const char* value = ::getenv(name)) spec.env.push_back(fmt::format("{}={}", name, value));
  if (!::getenv("PATH")) spec.env.push_back("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");

  run.shares.clear();
  run.shares.push_back({"/", std::string(kRootTag), true, options.exec.fs});
  for (ShareOptions share : options.shares) {
    share.proto = options.exec.fs;
    share.host_dir = absolute(share.host_dir);
    spec.shares.push_back({share.tag, share.host_dir, !share.read_only});
    run.shares.push_back(std::move(share));
  }
  const std::string runpart = exec::build_spec_archive(spec);

  // The initrd lives in a memfd: nothing to clean up, nothing another user can swap.
  int memfd = ::memfd_create("vmm-exec-initrd", MFD_CLOEXEC);
  if (memfd < 0) {
    say(fmt::format("memfd_create: {}", std::strerror(errno)));
    return kExitExecFailed;
  }
  auto put = [&](const std::string& data) {
    write_fd(memfd, std::as_bytes(std::span(data.data(), data.size())));
  };
  put(*base);
  put(runpart);
  run.initrd = fmt::format("/proc/self/fd/{}", memfd);
  // --verbose shows the whole boot, not only what a quiet kernel prints.
  run.cmdline = fmt::format("console=hvc0 {}panic=-1 rdinit=/init", options.exec.verbose ? "" : "quiet ");
  for (std::string_view extra : {arch::exec_cmdline(), std::string_view(options.exec.append)})
    if (!extra.empty()) *run.cmdline += fmt::format(" {}", extra);
  run.console = {ConsoleKind::kNone, {}};

  if (options.exec.save_initrd) {
    const std::string& path = *options.exec.save_initrd;
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    file << *base << runpart;
    file.close();
    const bool ok = !file.fail();
    ::close(memfd);
    if (!ok) {
      say(fmt::format("--save-initrd {}: {}", path, std::strerror(errno)));
      return kExitExecFailed;
    }
    // What a peer needs besides the initrd: the kernel, its command line and
    // the shares with their tags (hvc0..2 are the status, stdout and stderr).
    fmt::print("kernel {}\ncmdline {}\n", run.kernel, run.cmdline.value_or(""));
    for (const ShareOptions& share : run.shares)
      fmt::print("share {} {} {}\n", share.tag, share.read_only ? "ro" : "rw", share.host_dir);
    return std::fflush(stdout) == 0 ? 0 : kExitExecFailed;
  }

  exec::GuestReport report;
  RunHooks hooks;
  hooks.console_tap = [&report](std::string_view bytes) { report.feed(bytes); };
  hooks.extra_consoles = {[](std::span<const std::byte> b) { write_fd(STDOUT_FILENO, b); },
                          [](std::span<const std::byte> b) { write_fd(STDERR_FILENO, b); }};
  hooks.input_console = 0;
  hooks.input_ready = [&report] { return report.ready(); };
  hooks.input_escape = tty;
  hooks.raw_stdin = tty;
  hooks.input_eof_char = '\x04';
  hooks.console_to_stderr = options.exec.verbose;
  hooks.seccomp_exit_code = kExitExecFailed;

  const int code = run_vm(run, &hooks);
  ::close(memfd);

  if (report.status()) return *report.status();
  auto show_tail = [&] {
    if (!options.exec.verbose && !report.tail().empty())
      write_stderr(fmt::format("vmm exec: the guest's console ended with:\n{}\n", report.tail()));
  };
  if (report.missing()) {
    say(fmt::format("the kernel {} lacks what vmm exec needs: {}", run.kernel, *report.missing()));
    return kExitExecFailed;
  }
  if (report.error()) {
    show_tail();
    say(fmt::format("the guest could not run the command: {}", *report.error()));
    return kExitExecFailed;
  }
  switch (code) {
    case kExitTimeout: return kExitExecTimeout;
    case kExitInterrupted: return kExitExecInterrupted;
    case kExitOk:
      show_tail();
      say("the guest stopped before the command's status came back");
      return kExitExecFailed;
    default: return kExitExecFailed;  // run_vm said why
  }
}

}  // namespace vmm
