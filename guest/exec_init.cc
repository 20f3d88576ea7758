// PID 1 of a `vmm exec` guest (DESIGN.md §10). The VMM puts this static
// binary at /init of a generated initramfs, with the kernel modules to load
// and the run's spec. It loads the modules, mounts the host's root read-only
// from a virtio-fs or 9p share, puts tmpfs where programs write, mounts the
// extra shares at their host paths, runs the command with its stdin/stdout on
// hvc1 and its stderr on hvc2, reports the status on hvc0 (the hidden kernel
// console) and powers off.
//
// Everything it reports goes out as one line "minivmm-exec: KIND TEXT" on
// hvc0 (or /dev/kmsg before hvc0 exists); the VMM turns it into its exit
// status and messages. Kinds: status N, error TEXT, missing CONFIG_... TEXT.
//
// No C++ library beyond the C one: it runs before anything is mounted and
// must stay small.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <string>
#include <string_view>
#include <vector>

namespace {

int g_report_fd = -1;  // hvc0 once it exists, else /dev/kmsg

void write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::write(fd, s.data(), s.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    s.remove_prefix(static_cast<size_t>(n));
  }
}

void report(std::string_view kind, std::string_view text) {
  std::string line = "\nminivmm-exec: " + std::string(kind) + " " + std::string(text) + "\n";
  int fd = g_report_fd >= 0 ? g_report_fd : ::open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  write_all(fd, line);
  if (fd == g_report_fd && isatty(fd)) tcdrain(fd);
}

[[noreturn]] void power_off() {
  ::sync();
  ::reboot(RB_POWER_OFF);
  for (;;) ::pause();
}

[[noreturn]] void fail(std::string_view kind, std::string_view text) {
  report(kind, text);
  power_off();
}

std::string errno_text(const char* what, const std::string& arg) {
  return std::string(what) + " " + arg + ": " + strerror(errno);
}

void sleep_ms(long ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

bool read_file(const char* path, std::string& out) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return true;
}

// The spec and the module list are NUL-separated words.
std::vector<std::string> split_nul(const std::string& data) {
  std::vector<std::string> words;
  size_t at = 0;
  while (at < data.size()) {
    size_t end = data.find('\0', at);
    if (end == std::string::npos) end = data.size();
    words.emplace_back(data, at, end - at);
    at = end + 1;
  }
  return words;
}

struct Share {
  std::string tag, path;
  bool read_only = true;
};

struct Spec {
  std::string fs = "virtiofs";  // virtiofs | 9p
  std::string root_tag;
  std::string cwd = "/";
  bool tty = false;
  std::vector<std::string> argv, env;
  std::vector<Share> shares;
};

Spec read_spec() {
  std::string data;
  if (!read_file("/minivmm/exec", data)) fail("error", "no /minivmm/exec in the initramfs");
  std::vector<std::string> words = split_nul(data);
  Spec spec;
  for (size_t i = 0; i + 1 < words.size(); i += 2) {
    const std::string& key = words[i];
    const std::string& value = words[i + 1];
    if (key == "fs") spec.fs = value;
    else if (key == "root") spec.root_tag = value;
    else if (key == "cwd") spec.cwd = value;
    else if (key == "tty") spec.tty = value == "1";
    else if (key == "arg") spec.argv.push_back(value);
    else if (key == "env") spec.env.push_back(value);
    else if (key == "share-tag") spec.shares.push_back({value, "", true});
    else if (key == "share-path" && !spec.shares.empty()) spec.shares.back().path = value;
    else if (key == "share-rw" && !spec.shares.empty()) spec.shares.back().read_only = value != "1";
  }
  if (spec.argv.empty() || spec.root_tag.empty()) fail("error", "/minivmm/exec names no command or root");
  return spec;
}

void load_modules() {
  std::string list;
  if (!read_file("/minivmm/modules", list)) return;  // a kernel with everything built in
  for (const std::string& path : split_nul(list)) {
    if (path.empty()) continue;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail("error", errno_text("cannot open module", path));
    if (::syscall(SYS_finit_module, fd, "", 0) != 0 && errno != EEXIST)
      fail("error", errno_text("cannot load module", path));
    ::close(fd);
  }
}

// Device nodes appear as their drivers probe, which module loading does
// synchronously; the wait only covers a slow probe.
int open_device(const char* path, int flags) {
  for (int tries = 0; tries < 500; ++tries) {
    int fd = ::open(path, flags | O_CLOEXEC | O_NOCTTY);
    if (fd >= 0 || errno != ENOENT) return fd;
    sleep_ms(10);
  }
  return -1;
}

bool has_filesystem(std::string_view name) {
  std::string data;
  if (!read_file("/proc/filesystems", data)) return true;  // cannot tell: let mount say
  size_t at = 0;
  while (at < data.size()) {
    size_t end = data.find('\n', at);
    if (end == std::string::npos) end = data.size();
    std::string_view line(data.data() + at, end - at);
    size_t tab = line.rfind('\t');
    if (line.substr(tab == std::string_view::npos ? 0 : tab + 1) == name) return true;
    at = end + 1;
  }
  return false;
}

void mount_share(const Spec& spec, const std::string& tag, const std::string& where, bool read_only) {
  const bool p9 = spec.fs == "9p";
  const char* type = p9 ? "9p" : "virtiofs";
  // The host's root changes under the guest only through the guest itself,
  // so 9p may cache; writable shares see host changes at once.
  std::string data = p9 ? std::string("trans=virtio,version=9p2000.L,msize=524288,") +
                              (read_only ? "cache=loose" : "cache=none")
                        : std::string();
  unsigned long flags = read_only ? MS_RDONLY : 0;
  for (int tries = 0;; ++tries) {
    if (::mount(tag.c_str(), where.c_str(), type, flags, data.c_str()) == 0) return;
    // The virtio device may still be probing: ENOENT (no such tag) for a moment.
    if (errno == ENOENT && tries < 200) {
      sleep_ms(10);
      continue;
    }
    break;
  }
  if (errno == ENODEV || !has_filesystem(type)) {
    fail("missing", p9 ? "CONFIG_NET_9P CONFIG_NET_9P_VIRTIO CONFIG_9P_FS: the kernel has no 9p over virtio"
                       : "CONFIG_FUSE_FS CONFIG_VIRTIO_FS: the kernel has no virtio-fs");
  }
  if (errno == ENOENT || errno == EINVAL)
    fail("missing", std::string("CONFIG_VIRTIO_PCI: no ") + type + " device with tag " + tag +
                        " reached the kernel (is virtio-pci or virtio-mmio built in or loaded?)");
  fail("error", errno_text("cannot mount share", tag + " on " + where));
}

void mount_fs(const char* source, const std::string& target, const char* type, unsigned long flags,
              const char* data = nullptr) {
  struct stat st {};
  // Only where the host's tree has the directory: the root is read-only.
  if (::stat(target.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return;
  if (::mount(source, target.c_str(), type, flags, data) != 0)
    fail("error", errno_text("cannot mount", std::string(type) + " on " + target));
}

void set_output_mode(int fd, bool terminal) {
  termios t{};
  if (tcgetattr(fd, &t) != 0) return;
  if (!terminal) {
    // A pipe-like channel: bytes as written, no CR added, no echo or signals;
    // canonical input stays so the host's end of input (Ctrl-D) is an EOF.
    t.c_oflag &= ~static_cast<tcflag_t>(OPOST);
    t.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHONL | ISIG | IEXTEN);
    t.c_iflag &= ~static_cast<tcflag_t>(ICRNL | IXON | INLCR | IGNCR);
  }
  tcsetattr(fd, TCSANOW, &t);
}

// The command's stdin/stdout/stderr when the host's are not a terminal:
// pipes, so it sees what a command run on the host would (no tty: no
// prompts, pagers, colours or columns), copied to and from hvc1/hvc2 by PID 1.
struct Pipes {
  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
};

[[noreturn]] void run_child(const Spec& spec, const Pipes* pipes) {
  ::setsid();
  if (pipes) {
    // The pipes are O_CLOEXEC; the copies dup2 makes are not.
    ::dup2(pipes->in[0], 0);
    ::dup2(pipes->out[1], 1);
    ::dup2(pipes->err[1], 2);
  } else {
    int io = ::open("/dev/hvc1", O_RDWR | O_NOCTTY);
    int err = ::open("/dev/hvc2", O_WRONLY | O_NOCTTY);
    if (io < 0 || err < 0) {
      report("error", errno_text("cannot open", io < 0 ? "/dev/hvc1" : "/dev/hvc2"));
      _exit(125);
    }
    if (spec.tty) ::ioctl(io, TIOCSCTTY, 0);
    ::dup2(io, 0);
    ::dup2(io, 1);
    ::dup2(err, 2);
    if (io > 2) ::close(io);
    if (err > 2) ::close(err);
  }
  for (int s = 1; s < NSIG; ++s) ::signal(s, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);

  std::vector<char*> argv, envp;
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  environ = envp.data();
  ::execvp(argv[0], argv.data());
  int e = errno;
  std::string msg = std::string(argv[0]) + ": " + strerror(e) + "\n";
  write_all(2, msg);
  _exit(e == ENOENT ? 127 : 126);
}

}  // namespace

int main() {
  if (::getpid() != 1) {
    fprintf(stderr, "minivmm exec-init: this is the init of a vmm exec guest, not a command\n");
    return 2;
  }
  ::mkdir("/dev", 0755);
  ::mkdir("/proc", 0555);
  ::mkdir("/sys", 0555);
  ::mkdir("/newroot", 0755);
  ::mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, nullptr);
  ::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
  ::mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);

  load_modules();
  g_report_fd = open_device("/dev/hvc0", O_WRONLY);
  if (g_report_fd < 0)
    fail("missing", "CONFIG_VIRTIO_CONSOLE: no /dev/hvc0 (virtio-console) for the command's status");
  set_output_mode(g_report_fd, false);
  Spec spec = read_spec();

  mount_share(spec, spec.root_tag, "/newroot", true);
  const std::string root = "/newroot";
  mount_fs("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC);
  mount_fs("sysfs", root + "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC);
  mount_fs("devtmpfs", root + "/dev", "devtmpfs", MS_NOSUID);
  ::mkdir((root + "/dev/pts").c_str(), 0755);
  mount_fs("devpts", root + "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "ptmxmode=0666,mode=620");
  ::mkdir((root + "/dev/shm").c_str(), 01777);
  mount_fs("tmpfs", root + "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
  // Where programs write: empty and writable, as under virtme-ng.
  for (const char* dir : {"/tmp", "/var/tmp", "/run", "/var/log", "/var/cache", "/var/lib", "/root"}) {
    const bool sticky = std::string_view(dir) == "/tmp" || std::string_view(dir) == "/var/tmp";
    mount_fs("tmpfs", root + dir, "tmpfs", MS_NOSUID | MS_NODEV, sticky ? "mode=1777" : "mode=0755");
  }
  for (const Share& share : spec.shares) {
    std::string where = root + share.path;
    // A share under a tmpfs (/tmp, /run) needs its mount point made there.
    for (size_t at = root.size() + 1; at <= where.size(); ++at)
      if (at == where.size() || where[at] == '/') ::mkdir(where.substr(0, at).c_str(), 0755);
    struct stat st {};
    if (::stat(where.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      fail("error", "share " + share.tag + ": " + share.path + " is not a directory in the guest's root");
    mount_share(spec, share.tag, where, share.read_only);
  }
  if (::chroot(root.c_str()) != 0 || ::chdir("/") != 0) fail("error", errno_text("cannot chroot to", root));
  if (::chdir(spec.cwd.c_str()) != 0) ::chdir("/");

  int io = open_device("/dev/hvc1", O_RDWR);
  int err = open_device("/dev/hvc2", O_WRONLY);
  if (io < 0 || err < 0) fail("missing", "CONFIG_VIRTIO_CONSOLE: no /dev/hvc1 and /dev/hvc2 for the command's output");
  set_output_mode(io, spec.tty);
  set_output_mode(err, false);

  Pipes pipes;
  const bool piped = !spec.tty;
  if (piped && (::pipe2(pipes.in, O_CLOEXEC) != 0 || ::pipe2(pipes.out, O_CLOEXEC) != 0 ||
                ::pipe2(pipes.err, O_CLOEXEC) != 0))
    fail("error", errno_text("cannot make the pipes for", spec.argv[0]));
  // SIGCHLD on a signalfd, so one poll waits for output, input and the end.
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, nullptr);
  const int child_fd = ::signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);

  // hvc1 no longer echoes and the command's stdin is there: the host may send.
  report("ready", "");
  pid_t child = ::fork();
  if (child < 0) fail("error", errno_text("cannot fork for", spec.argv[0]));
  if (child == 0) run_child(spec, piped ? &pipes : nullptr);
  if (piped) {
    ::close(pipes.in[0]);
    ::close(pipes.out[1]);
    ::close(pipes.err[1]);
    ::fcntl(pipes.out[0], F_SETFL, O_NONBLOCK);
    ::fcntl(pipes.err[0], F_SETFL, O_NONBLOCK);
  }

  // PID 1 reaps every orphan; the command's own status is the one reported.
  // Until the command ends it copies hvc1 to the command's stdin (a short
  // read at the host's end of input closes it) and its stdout/stderr out.
  int code = 125;
  bool ended = false, in_open = piped, out_open = piped, err_open = piped;
  std::string pending;  // read from hvc1, not yet taken by the command
  char buf[16384];
  auto copy_out = [&](int from, int to, bool& open) {
    for (;;) {
      ssize_t n = ::read(from, buf, sizeof buf);
      if (n > 0) {
        write_all(to, std::string_view(buf, static_cast<size_t>(n)));
        continue;
      }
      if (n == 0 || (errno != EINTR && errno != EAGAIN)) open = false;
      if (n < 0 && errno == EINTR) continue;
      return;
    }
  };
  while (!ended) {
    int status = 0;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
      if (pid != child) continue;
      code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 125;
      ended = true;
    }
    if (ended || (pid < 0 && errno == ECHILD)) break;
    pollfd fds[5];
    nfds_t n = 0;
    fds[n++] = {child_fd, POLLIN, 0};
    if (in_open && pending.empty()) fds[n++] = {io, POLLIN, 0};
    if (in_open && !pending.empty()) fds[n++] = {pipes.in[1], POLLOUT, 0};
    if (out_open) fds[n++] = {pipes.out[0], POLLIN, 0};
    if (err_open) fds[n++] = {pipes.err[0], POLLIN, 0};
    if (::poll(fds, n, -1) < 0) continue;
    for (nfds_t i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == child_fd) {
        signalfd_siginfo info;
        while (::read(child_fd, &info, sizeof info) > 0) {
        }
      } else if (fds[i].fd == io) {
        ssize_t got = ::read(io, buf, sizeof buf);
        if (got > 0) {
          pending.assign(buf, static_cast<size_t>(got));
        } else if (got == 0 || errno != EINTR) {
          in_open = false;
          ::close(pipes.in[1]);  // the host's end of input
        }
      } else if (fds[i].fd == pipes.in[1]) {
        ssize_t put = ::write(pipes.in[1], pending.data(), pending.size());
        if (put > 0) {
          pending.erase(0, static_cast<size_t>(put));
        } else if (put < 0 && errno != EINTR && errno != EAGAIN) {
          in_open = false;  // the command closed its stdin
          ::close(pipes.in[1]);
        }
      } else if (fds[i].fd == pipes.out[0]) {
        copy_out(pipes.out[0], io, out_open);
      } else if (fds[i].fd == pipes.err[0]) {
        copy_out(pipes.err[0], err, err_open);
      }
    }
  }
  // What the command wrote before it ended (children it left running may
  // still hold the pipes: take what is there, do not wait for them).
  if (out_open) copy_out(pipes.out[0], io, out_open);
  if (err_open) copy_out(pipes.err[0], err, err_open);
  // Everything the command wrote has reached the host before its status does:
  // virtio-console hands each write to the host before returning.
  tcdrain(io);
  tcdrain(err);
  report("status", std::to_string(code));
  power_off();
}
