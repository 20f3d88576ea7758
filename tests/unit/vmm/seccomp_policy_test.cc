#include "vmm/seccomp_policy.h"

#include <gmock/gmock.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/kvm.h>
#include <seccomp.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace vmm::seccomp {
namespace {

using ::testing::HasSubstr;

constexpr uint32_t kArches[] = {SCMP_ARCH_X86_64, SCMP_ARCH_AARCH64, SCMP_ARCH_RISCV64};

std::set<std::string> names(Role role) {
  std::set<std::string> out;
  for (const auto& rule : allow_list(role)) out.insert(rule.name);
  return out;
}

TEST(SeccompPolicy, EveryRoleCompilesInKillAndLogMode) {
  for (Role role : kAllRoles) {
    for (Mode mode : {Mode::kKill, Mode::kLog}) {
      auto program = compile(role, mode);
      ASSERT_TRUE(program) << role_name(role) << ": " << program.error().message;
      // At least the arch check, the syscall-number load and one allow.
      EXPECT_GT(program->code.size(), 3u) << role_name(role);
    }
  }
  EXPECT_FALSE(compile(Role::kMain, Mode::kOff));
}

TEST(SeccompPolicy, EveryNameIsASyscallOfSomeArchitecture) {
  // A typo would silently allow nothing; a name no architecture has is one.
  for (Role role : kAllRoles) {
    for (const auto& name : names(role)) {
      bool somewhere = false;
      for (uint32_t arch : kArches) somewhere |= seccomp_syscall_resolve_name_arch(arch, name.c_str()) >= 0;
      EXPECT_TRUE(somewhere) << role_name(role) << ": " << name;
    }
  }
}

TEST(SeccompPolicy, NoRoleMayExecForkOrReachTheNetwork) {
  for (Role role : kAllRoles) {
    const auto allowed = names(role);
    for (const char* never : {"execve", "execveat", "fork", "vfork", "clone", "clone3", "ptrace", "process_vm_writev",
                              "setuid", "mount", "bpf", "kexec_load", "init_module"}) {
      EXPECT_EQ(allowed.count(never), 0u) << role_name(role) << " allows " << never;
    }
    // libslirp's thread is user networking itself: the guest's connections
    // are its sockets. Nobody else reaches the network.
    if (role == Role::kNetUser) continue;
    for (const char* never : {"socket", "connect", "accept", "accept4", "sendto", "sendmsg"})
      EXPECT_EQ(allowed.count(never), 0u) << role_name(role) << " allows " << never;
  }
}

TEST(SeccompPolicy, UserNetworkingOpensOnlyInternetSockets) {
  std::set<uint64_t> domains;
  for (const Rule& rule : allow_list(Role::kNetUser)) {
    if (rule.name != "socket") continue;
    ASSERT_EQ(rule.args.size(), 1u) << "socket() without a domain filter";
    EXPECT_EQ(rule.args[0].index, 0u);
    domains.insert(rule.args[0].value);
  }
  EXPECT_EQ(domains, (std::set<uint64_t>{AF_INET, AF_INET6}));
}

TEST(SeccompPolicy, OnlyTheFileRolesTouchTheFileSystem) {
  for (Role role : kAllRoles) {
    const auto allowed = names(role);
    const bool opens = allowed.count("openat") || allowed.count("openat2") || allowed.count("open");
    // libslirp reads the host's /etc/resolv.conf for the guest's DNS: only
    // read-only opens (every write, create, truncate or append flag masked to 0).
    EXPECT_EQ(opens, role == Role::kFileServer || role == Role::kNetUser) << role_name(role);
    if (role == Role::kNetUser) {
      for (const Rule& rule : allow_list(role)) {
        if (rule.name != "openat") continue;
        ASSERT_EQ(rule.args.size(), 1u);
        EXPECT_EQ(rule.args[0].index, 2u);
        const uint64_t writing = O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND;
        EXPECT_EQ(rule.args[0].mask & writing, writing);
        EXPECT_EQ(rule.args[0].value, 0u);
      }
    }
    const bool writes_files = allowed.count("pwritev") != 0;
    EXPECT_EQ(writes_files, role == Role::kFileServer || role == Role::kVirtioBlk) << role_name(role);
  }
  const auto fs = names(Role::kFileServer);
  for (const char* needed : {"openat2", "mkdirat", "renameat2", "unlinkat", "getdents64", "fsync"})
    EXPECT_EQ(fs.count(needed), 1u) << needed;
  const auto blk = names(Role::kVirtioBlk);
  for (const char* needed : {"preadv", "pwritev", "fdatasync", "fallocate"}) EXPECT_EQ(blk.count(needed), 1u) << needed;
}

TEST(SeccompPolicy, IoctlIsAlwaysRestrictedToNamedRequests) {
  for (Role role : kAllRoles) {
    for (const auto& rule : allow_list(role)) {
      if (rule.name != "ioctl") continue;
      ASSERT_EQ(rule.args.size(), 1u) << role_name(role) << ": " << rule.why;
      EXPECT_EQ(rule.args[0].index, 1u);
      EXPECT_EQ(rule.args[0].mask, 0xffffffffu);
    }
  }
  auto requests = [](Role role) {
    std::set<uint64_t> out;
    for (const auto& rule : allow_list(role))
      if (rule.name == "ioctl") out.insert(rule.args[0].value);
    return out;
  };
  const auto vcpu = requests(Role::kVcpu);
  EXPECT_EQ(vcpu.count(KVM_RUN), 1u);
  EXPECT_EQ(vcpu.count(KVM_IOEVENTFD), 1u);
  EXPECT_EQ(vcpu.count(KVM_CREATE_VM & 0xffffffffu), 0u);
  EXPECT_EQ(vcpu.count(KVM_SET_USER_MEMORY_REGION & 0xffffffffu), 0u);
  // KVM_RUN belongs to the vCPU threads alone.
  for (Role role : kAllRoles) {
    if (role != Role::kVcpu) {
      EXPECT_EQ(requests(role).count(KVM_RUN), 0u) << role_name(role);
    }
  }
  EXPECT_TRUE(requests(Role::kConsoleOutput).empty());
}

TEST(SeccompPolicy, MemoryIsNeverMappedExecutable) {
  for (Role role : kAllRoles) {
    int mmaps = 0;
    for (const auto& rule : allow_list(role)) {
      if (rule.name != "mmap" && rule.name != "mprotect") continue;
      ++mmaps;
      ASSERT_EQ(rule.args.size(), 1u);
      EXPECT_EQ(rule.args[0].index, 2u);
      EXPECT_EQ(rule.args[0].mask & 0x4 /* PROT_EXEC */, 0x4u);
      EXPECT_EQ(rule.args[0].value, 0u);
    }
    EXPECT_EQ(mmaps, 2) << role_name(role);
  }
}

TEST(SeccompPolicy, NamesAnArchitectureLacksAreSkipped) {
  // poll exists on x86_64 only; aarch64 and riscv64 have ppoll alone
  // (libseccomp answers with a negative pseudo-syscall number).
  ASSERT_LT(seccomp_syscall_resolve_name_arch(SCMP_ARCH_AARCH64, "poll"), 0);
  ASSERT_GE(seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, "poll"), 0);
  const auto x86 = figures(Role::kConsoleOutput, SCMP_ARCH_X86_64);
  const auto arm = figures(Role::kConsoleOutput, SCMP_ARCH_AARCH64);
  const auto rv = figures(Role::kConsoleOutput, SCMP_ARCH_RISCV64);
  EXPECT_GT(x86.syscalls, arm.syscalls);
  EXPECT_EQ(arm.syscalls, rv.syscalls);
  for (uint32_t arch : kArches) {
    for (Role role : kAllRoles) {
      auto program = figures(role, arch);
      EXPECT_GT(program.syscalls, 15u) << role_name(role);
    }
  }
  // And the filter of this build still compiles with them in the list.
  EXPECT_TRUE(compile(Role::kConsoleOutput, Mode::kKill));
}

TEST(SeccompPolicy, FiguresCountDistinctSyscallsAndEachIoctlRequest) {
  const auto f = figures(Role::kVcpu);
  std::set<std::string> distinct;
  size_t ioctls = 0;
  for (const auto& rule : allow_list(Role::kVcpu)) {
    if (seccomp_syscall_resolve_name(rule.name.c_str()) < 0) continue;
    distinct.insert(rule.name);
    ioctls += rule.name == "ioctl";
  }
  EXPECT_EQ(f.syscalls, distinct.size());
  EXPECT_EQ(f.ioctls, ioctls);
  EXPECT_GE(f.ioctls, 3u);  // KVM_RUN, KVM_IOEVENTFD, an interrupt request at least
}

TEST(SeccompPolicy, ModesAndRolesByName) {
  for (Mode m : {Mode::kKill, Mode::kLog, Mode::kOff}) EXPECT_EQ(parse_mode(to_string(m)), m);
  EXPECT_FALSE(parse_mode("KILL"));
  EXPECT_EQ(role_for_device("virtio-blk"), Role::kVirtioBlk);
  EXPECT_EQ(role_for_device("virtio-fs"), Role::kFileServer);
  EXPECT_EQ(role_for_device("virtio-9p"), Role::kFileServer);
  EXPECT_EQ(role_for_device("virtio-console"), Role::kVirtioConsole);
  EXPECT_EQ(role_for_device("virtio-rng"), Role::kVirtioRng);
  EXPECT_EQ(role_for_device("virtio-net"), Role::kVirtioNet);
  EXPECT_EQ(role_for_device("virtio-gpu"), Role::kVirtioDevice);
  std::set<std::string_view> role_names;
  for (Role role : kAllRoles) role_names.insert(role_name(role));
  EXPECT_EQ(role_names.size(), std::size(kAllRoles));
}

TEST(SeccompPolicy, ReportHasARowPerRole) {
  const std::string text = report();
  for (Role role : kAllRoles) EXPECT_THAT(text, HasSubstr(fmt::format("| {} |", role_name(role))));
  EXPECT_THAT(text, HasSubstr("| thread role | x86_64 | aarch64 | riscv64 | ioctl requests |"));
}

// README's table of syscalls per role is this policy's: every figure the
// build can compute (syscalls on the three architectures, ioctl requests on
// its own) must match, so a change to a list that forgets the README fails.
TEST(SeccompPolicy, ReadmeTableMatchesThePolicy) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "the README's figures are the ordinary build's; an ASan build allows sigaltstack too";
#endif
  std::filesystem::path readme;
  if (const char* src = std::getenv("MINIVMM_SOURCE_DIR"); src && *src) {
    readme = std::filesystem::path(src) / "README.md";
  } else {  // run outside ctest: this file is tests/unit/vmm/<name>.cc
    readme = std::filesystem::path(__FILE__).parent_path().parent_path().parent_path().parent_path() / "README.md";
  }
  std::ifstream in(readme);
  ASSERT_TRUE(in) << readme;
  std::stringstream text;
  text << in.rdbuf();
  const std::string all = text.str();
  const std::string native = fmt::format("{}", seccomp_arch_native() == SCMP_ARCH_X86_64    ? 0
                                               : seccomp_arch_native() == SCMP_ARCH_AARCH64 ? 1
                                                                                              : 2);
  for (Role role : kAllRoles) {
    const std::string head = fmt::format("\n| {} | ", role_name(role));
    const size_t at = all.find(head);
    ASSERT_NE(at, std::string::npos) << "no README row for " << role_name(role);
    const std::string row = all.substr(at + 1, all.find('\n', at + 1) - at - 1);
    // | role | what | x86_64 | aarch64 | riscv64 |, each "N (K...)".
    std::vector<std::string> cells;
    std::stringstream split(row);
    for (std::string cell; std::getline(split, cell, '|');) cells.push_back(cell);
    ASSERT_GE(cells.size(), 6u) << row;
    for (size_t i = 0; i < 3; ++i) {
      const std::string& cell = cells[3 + i];
      const size_t syscalls = std::strtoul(cell.c_str(), nullptr, 10);
      EXPECT_EQ(syscalls, figures(role, kArches[i]).syscalls) << role_name(role) << " column " << i << ": " << row;
      if (std::to_string(i) == native) {
        const size_t paren = cell.find('(');
        ASSERT_NE(paren, std::string::npos) << row;
        EXPECT_EQ(std::strtoul(cell.c_str() + paren + 1, nullptr, 10), figures(role).ioctls)
            << role_name(role) << ": " << row;
      }
    }
  }
}

}  // namespace
}  // namespace vmm::seccomp
