#include "support/vmm_process.h"

#include <fcntl.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <tuple>

namespace test_support {

bool have_kvm() { return access("/dev/kvm", R_OK | W_OK) == 0; }

std::string binary_dir() {
  if (const char* d = std::getenv("MINIVMM_BINARY_DIR"); d && *d) return d;
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  return exe.parent_path().parent_path().string();
}

// Runs vmm with stdin from /dev/null and collects stdout (the console) and stderr.
RunResult run_vmm(std::vector<std::string> args) {
  std::string vmm = binary_dir() + "/vmm/vmm";
  args.insert(args.begin(), vmm);
  int out_pipe[2], err_pipe[2];
  if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0) return {};
  pid_t pid = fork();
  if (pid == 0) {
    int null_fd = open("/dev/null", O_RDONLY);
    dup2(null_fd, 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    close(out_pipe[0]);
    close(err_pipe[0]);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(vmm.c_str(), argv.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  RunResult r;
  // Drain both pipes (small outputs: stderr after stdout is fine for these guests,
  // but read them alternately so neither can fill up and block the child).
  bool out_open = true, err_open = true;
  char buf[4096];
  while (out_open || err_open) {
    fd_set fds;
    FD_ZERO(&fds);
    if (out_open) FD_SET(out_pipe[0], &fds);
    if (err_open) FD_SET(err_pipe[0], &fds);
    if (select(std::max(out_pipe[0], err_pipe[0]) + 1, &fds, nullptr, nullptr, nullptr) < 0) break;
    for (auto [fd, open_flag, sink] : {std::tuple{out_pipe[0], &out_open, &r.out}, std::tuple{err_pipe[0], &err_open, &r.err}}) {
      if (*open_flag && FD_ISSET(fd, &fds)) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0) {
          *open_flag = false;
        } else {
          sink->append(buf, static_cast<size_t>(n));
        }
      }
    }
  }
  close(out_pipe[0]);
  close(err_pipe[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

}  // namespace test_support
