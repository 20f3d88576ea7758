#include "vmm/cli.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <initializer_list>
#include <string>
#include <vector>

namespace vmm {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::expected<Options, UsageError> parse(std::initializer_list<const char*> args) {
  std::vector<const char*> v(args);
  return parse_command_line(v);
}

Options parse_ok(std::initializer_list<const char*> args) {
  auto r = parse(args);
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
  return r ? *r : Options{};
}

std::string parse_error(std::initializer_list<const char*> args) {
  auto r = parse(args);
  EXPECT_FALSE(r) << "parsed although it should not";
  return r ? std::string() : r.error().message;
}

TEST(Cli, KernelAloneGivesDefaults) {
  auto o = parse_ok({"--kernel", "bzImage"});
  EXPECT_EQ(o.command, Command::kRun);
  EXPECT_EQ(o.kernel, "bzImage");
  EXPECT_FALSE(o.initrd);
  EXPECT_FALSE(o.cmdline.has_value()) << "not given: the VMM's default applies";
  EXPECT_EQ(o.memory, 512ull << 20);
  EXPECT_EQ(o.cpus, 1u);
  EXPECT_EQ(o.arch, host_arch());
  EXPECT_EQ(o.boot, BootMode::kAuto);
  EXPECT_EQ(o.console.kind, ConsoleKind::kStdio);
  EXPECT_FALSE(o.expect);
  EXPECT_FALSE(o.timeout);
  EXPECT_FALSE(o.boot_report);
  EXPECT_FALSE(o.dry_run);
  EXPECT_FALSE(o.dump_dtb);
  EXPECT_FALSE(o.json);
}

TEST(Cli, HostArchMatchesTheBuild) {
#if defined(__x86_64__)
  EXPECT_EQ(host_arch(), loader::Arch::kX86_64);
#elif defined(__aarch64__)
  EXPECT_EQ(host_arch(), loader::Arch::kAarch64);
#endif
}

TEST(Cli, EveryOptionIsParsed) {
  auto o = parse_ok({"--kernel", "k", "--initrd", "rd.cpio", "--cmdline", "console=ttyS0 -- init", "--memory", "2G",
                     "--cpus", "4", "--arch", "x86_64", "--boot", "pvh", "--console", "file:/tmp/log", "--expect",
                     "Run /init", "--timeout", "30", "--boot-report"});
  EXPECT_EQ(o.kernel, "k");
  EXPECT_EQ(o.initrd, "rd.cpio");
  ASSERT_TRUE(o.cmdline.has_value());
  EXPECT_EQ(*o.cmdline, "console=ttyS0 -- init");
  EXPECT_EQ(o.memory, 2ull << 30);
  EXPECT_EQ(o.cpus, 4u);
  EXPECT_EQ(o.arch, loader::Arch::kX86_64);
  EXPECT_EQ(o.boot, BootMode::kPvh);
  EXPECT_EQ(o.console.kind, ConsoleKind::kFile);
  EXPECT_EQ(o.console.path, "/tmp/log");
  EXPECT_EQ(o.expect, "Run /init");
  EXPECT_EQ(o.timeout, std::chrono::seconds(30));
  EXPECT_TRUE(o.boot_report);
  EXPECT_EQ(o.command, Command::kRun);
}

TEST(Cli, EqualsSyntaxWorks) {
  auto o = parse_ok({"--kernel=k", "--memory=64M", "--cmdline=-- single"});
  EXPECT_EQ(o.kernel, "k");
  EXPECT_EQ(o.memory, 64ull << 20);
  ASSERT_TRUE(o.cmdline.has_value());
  EXPECT_EQ(*o.cmdline, "-- single");
}

TEST(Cli, AnExplicitlyEmptyCmdlineIsGivenAndEmpty) {
  auto o = parse_ok({"--kernel", "k", "--cmdline", ""});
  ASSERT_TRUE(o.cmdline.has_value()) << "an empty --cmdline must not fall back to the default";
  EXPECT_EQ(*o.cmdline, "");
}

TEST(Cli, DryRunWithDtbDump) {
  auto o = parse_ok({"--kernel", "Image", "--arch", "aarch64", "--dry-run", "--dump-dtb", "out.dtb"});
  EXPECT_EQ(o.command, Command::kDryRun);
  EXPECT_TRUE(o.dry_run);
  EXPECT_EQ(o.arch, loader::Arch::kAarch64);
  EXPECT_EQ(o.dump_dtb, "out.dtb");
  EXPECT_EQ(parse_ok({"--kernel", "Image", "--arch", "riscv64", "--dry-run", "--dump-dtb", "x"}).arch,
            loader::Arch::kRiscv64);
}

TEST(Cli, ArchAliases) {
  EXPECT_EQ(parse_ok({"--kernel", "k", "--arch", "arm64", "--dry-run"}).arch, loader::Arch::kAarch64);
  EXPECT_EQ(parse_ok({"--kernel", "k", "--arch", "amd64", "--dry-run"}).arch, loader::Arch::kX86_64);
}

TEST(Cli, ForeignArchNeedsDryRun) {
  const char* foreign = host_arch() == loader::Arch::kRiscv64 ? "x86_64" : "riscv64";
  EXPECT_THAT(parse_error({"--kernel", "k", "--arch", foreign}), HasSubstr("a foreign --arch needs --dry-run"));
  EXPECT_TRUE(parse({"--kernel", "k", "--arch", foreign, "--dry-run"}));
  EXPECT_TRUE(parse({"--kernel", "k", "--arch", std::string(loader::to_string(host_arch())).c_str()}));
}

TEST(Cli, DryRunAppliesTheArchitecturesLimits) {
  // The same limits a boot applies, as usage errors (exit 2), before anything is loaded.
  EXPECT_THAT(parse_error({"--kernel", "k", "--arch", "aarch64", "--memory", "1T", "--dry-run"}),
              HasSubstr("40-bit IPA"));
  EXPECT_THAT(parse_error({"--kernel", "k", "--arch", "aarch64", "--memory", "3073M", "--dry-run"}),
              HasSubstr("not a multiple of 2 MiB"));
  EXPECT_THAT(parse_error({"--kernel", "k", "--arch", "riscv64", "--memory", "32M", "--dry-run"}),
              HasSubstr("at least 64 MiB"));
  EXPECT_THAT(parse_error({"--kernel", "k", "--arch", "aarch64", "--cpus", "254", "--dry-run"}),
              HasSubstr("at most 123"));
  EXPECT_TRUE(parse({"--kernel", "k", "--arch", "aarch64", "--cpus", "123", "--dry-run"}));
  EXPECT_TRUE(parse({"--kernel", "k", "--arch", "x86_64", "--cpus", "254", "--dry-run"}));
}

TEST(Cli, BootModes) {
  EXPECT_EQ(parse_ok({"--kernel", "k", "--boot", "auto"}).boot, BootMode::kAuto);
  EXPECT_EQ(parse_ok({"--kernel", "k", "--boot", "linux"}).boot, BootMode::kLinux);
  EXPECT_EQ(parse_ok({"--kernel", "k", "--arch", "x86_64", "--boot", "pvh"}).boot, BootMode::kPvh);
  EXPECT_EQ(to_string(BootMode::kPvh), "pvh");
}

TEST(Cli, ConsoleKinds) {
  EXPECT_EQ(parse_ok({"--kernel", "k", "--console", "none"}).console.kind, ConsoleKind::kNone);
  EXPECT_EQ(parse_ok({"--kernel", "k", "--console", "stdio"}).console.kind, ConsoleKind::kStdio);
}

TEST(Cli, CpuBounds) {
  EXPECT_EQ(parse_ok({"--kernel", "k", "--cpus", "1"}).cpus, 1u);
  EXPECT_EQ(parse_ok({"--kernel", "k", "--cpus", "254"}).cpus, 254u);
  EXPECT_THAT(parse_error({"--kernel", "k", "--cpus", ""}), HasSubstr("--cpus ''"));
  for (const char* bad : {"0", "255", "-1", "two", "4x", "+4", "99999999999999999999"}) {
    std::string arg = std::string("--cpus=") + bad;  // "=": a value may start with '-'
    auto e = parse_error({"--kernel", "k", arg.c_str()});
    EXPECT_THAT(e, HasSubstr("--cpus"));
    EXPECT_THAT(e, HasSubstr(std::string("'") + bad + "'"));
    EXPECT_THAT(e, HasSubstr("1 to 254"));
  }
}

TEST(Cli, MemorySuffixes) {
  EXPECT_EQ(parse_ok({"--kernel", "k", "--memory", "16M"}).memory, 16ull << 20);
  EXPECT_EQ(parse_ok({"--kernel", "k", "--memory", "16384k"}).memory, 16ull << 20);
  EXPECT_EQ(parse_ok({"--kernel", "k", "--memory", "3g"}).memory, 3ull << 30);
  EXPECT_EQ(parse_ok({"--kernel", "k", "--memory", "1T"}).memory, 1ull << 40);
  EXPECT_EQ(parse_ok({"--kernel", "k", "--memory", "16777216"}).memory, 16777216u);
}

TEST(Cli, MemoryRejectsZero) {
  auto e = parse_error({"--kernel", "k", "--memory", "0"});
  EXPECT_THAT(e, HasSubstr("--memory '0'"));
  EXPECT_THAT(e, HasSubstr("0"));
  EXPECT_THAT(parse_error({"--kernel", "k", "--memory", "0M"}), HasSubstr("--memory '0M'"));
}

TEST(Cli, MemoryRejectsBadSuffix) {
  auto e = parse_error({"--kernel", "k", "--memory", "512X"});
  EXPECT_THAT(e, HasSubstr("--memory '512X'"));
  EXPECT_THAT(e, HasSubstr("suffix 'X'"));
  EXPECT_THAT(parse_error({"--kernel", "k", "--memory", "512MB"}), HasSubstr("suffix 'MB'"));
  EXPECT_THAT(parse_error({"--kernel", "k", "--memory", "M"}), HasSubstr("expected a number"));
  EXPECT_THAT(parse_error({"--kernel", "k", "--memory=-5M"}), HasSubstr("expected a number"));
}

TEST(Cli, MemoryRejectsTooSmall) {
  auto e = parse_error({"--kernel", "k", "--memory", "15M"});
  EXPECT_THAT(e, HasSubstr("15 MiB is less than the minimum of 16 MiB"));
  // A bare number is bytes; say so, since QEMU users expect MiB.
  EXPECT_THAT(parse_error({"--kernel", "k", "--memory", "512"}), HasSubstr("no suffix means bytes"));
}

TEST(Cli, MemoryRejectsTooLargeAndOverflow) {
  EXPECT_THAT(parse_error({"--kernel", "k", "--memory", "1025G"}), HasSubstr("maximum of 1 TiB"));
  EXPECT_THAT(parse_error({"--kernel", "k", "--memory", "17179869184T"}), HasSubstr("overflows"));
  EXPECT_THAT(parse_error({"--kernel", "k", "--memory", "99999999999999999999"}), HasSubstr("too large"));
}

TEST(Cli, MemoryRejectsUnalignedSize) {
  EXPECT_THAT(parse_error({"--kernel", "k", "--memory", "16777217"}), HasSubstr("multiple of 4 KiB"));
}

TEST(Cli, ParseSizeDirectly) {
  EXPECT_EQ(parse_size("4K").value(), 4096u);
  EXPECT_EQ(parse_size("1").value(), 1u);
  EXPECT_FALSE(parse_size(""));
  EXPECT_FALSE(parse_size("0"));
  EXPECT_EQ(parse_size("16777215T").value(), 16777215ull << 40);
  EXPECT_FALSE(parse_size("16777216T"));
}

TEST(Cli, MissingKernel) {
  EXPECT_THAT(parse_error({}), HasSubstr("no kernel given"));
  EXPECT_THAT(parse_error({"--memory", "1G"}), HasSubstr("no kernel given"));
  EXPECT_THAT(parse_error({"--kernel", ""}), HasSubstr("--kernel: the path is empty"));
  EXPECT_THAT(parse_error({"--kernel"}), HasSubstr("kernel"));
}

TEST(Cli, EmptyInitrdPath) { EXPECT_THAT(parse_error({"--kernel", "k", "--initrd", ""}), HasSubstr("--initrd")); }

TEST(Cli, UnknownOption) { EXPECT_THAT(parse_error({"--kernel", "k", "--bogus"}), HasSubstr("--bogus")); }

TEST(Cli, NoPrefixGuessing) { EXPECT_THAT(parse_error({"--kernel", "k", "--mem", "1G"}), HasSubstr("--mem")); }

TEST(Cli, RepeatedOption) {
  EXPECT_THAT(parse_error({"--kernel", "a", "--kernel", "b"}), HasSubstr("more than once"));
}

TEST(Cli, StrayArgument) {
  auto e = parse_error({"--kernel", "k", "extra"});
  EXPECT_THAT(e, HasSubstr("unexpected argument 'extra'"));
  EXPECT_THAT(parse_error({"inspekt", "k"}), HasSubstr("'inspekt'"));
}

TEST(Cli, BadArch) {
  auto e = parse_error({"--kernel", "k", "--arch", "mips"});
  EXPECT_THAT(e, HasSubstr("--arch 'mips'"));
  EXPECT_THAT(e, HasSubstr("x86_64, aarch64 or riscv64"));
}

TEST(Cli, BadBootMode) {
  EXPECT_THAT(parse_error({"--kernel", "k", "--boot", "efi"}), HasSubstr("--boot 'efi'"));
  EXPECT_THAT(parse_error({"--kernel", "k", "--arch", "aarch64", "--boot", "pvh"}),
              HasSubstr("PVH is an x86_64 boot protocol, not aarch64"));
}

TEST(Cli, BadConsole) {
  EXPECT_THAT(parse_error({"--kernel", "k", "--console", "serial"}), HasSubstr("--console 'serial'"));
  EXPECT_THAT(parse_error({"--kernel", "k", "--console", "file:"}), HasSubstr("needs a path"));
}

TEST(Cli, BadExpectRegex) {
  auto e = parse_error({"--kernel", "k", "--expect", "Run (/init"});
  EXPECT_THAT(e, HasSubstr("--expect 'Run (/init'"));
  EXPECT_THAT(e, HasSubstr("PCRE2"));
  EXPECT_THAT(e, HasSubstr("missing closing parenthesis at offset 10"));
  EXPECT_THAT(parse_error({"--kernel", "k", "--expect", ""}), HasSubstr("empty"));
}

TEST(Cli, ExpectTakesPerlSyntaxThatECMAScriptRefuses) {
  // Possessive quantifiers and inline flags are PCRE2, not ECMAScript.
  for (const char* pattern : {"(?i)login:", "a++b", "\\Qa.b\\E"}) {
    auto o = parse({"--kernel", "k", "--expect", pattern});
    ASSERT_TRUE(o) << pattern << ": " << o.error().message;
    EXPECT_EQ(o->expect, pattern);
  }
}

TEST(Cli, UsageErrorsSayWhereHelpIsOnce) {
  for (auto args : {std::initializer_list<const char*>{},
                    std::initializer_list<const char*>{"--kernel", "k", "extra"},
                    std::initializer_list<const char*>{"--kernel", "k", "--memory", "12Q"},
                    std::initializer_list<const char*>{"inspect"},
                    std::initializer_list<const char*>{"--kernel", "k", "--bogus"}}) {
    auto r = parse(args);
    ASSERT_FALSE(r);
    std::string line = usage_error_line(r.error());
    EXPECT_EQ(line, "vmm: " + r.error().message + " (see vmm --help)\n");
    size_t first = line.find("vmm --help");
    EXPECT_EQ(line.find("vmm --help", first + 1), std::string::npos) << line;
  }
}

TEST(Cli, BadTimeout) {
  for (const char* bad : {"0", "-3", "1.5", "soon", "99999999999"}) {
    std::string arg = std::string("--timeout=") + bad;
    auto e = parse_error({"--kernel", "k", arg.c_str()});
    EXPECT_THAT(e, HasSubstr(std::string("--timeout '") + bad + "'"));
  }
}

TEST(Cli, BadCmdlineIsAUsageError) {
  auto e = parse_error({"--kernel", "k", "--cmdline", "a=\"b"});
  EXPECT_THAT(e, HasSubstr("--cmdline"));
  EXPECT_THAT(e, HasSubstr("never closed"));
  EXPECT_THAT(parse_error({"--kernel", "k", "--cmdline", "a\tb"}), HasSubstr("0x09"));
}

TEST(Cli, CmdlineTooLongForTheArch) {
  std::string riscv_max(1023, 'a');
  std::string riscv_over(1024, 'a');
  EXPECT_TRUE(parse({"--kernel", "k", "--arch", "riscv64", "--dry-run", "--cmdline", riscv_max.c_str()}));
  EXPECT_THAT(parse_error({"--kernel", "k", "--arch", "riscv64", "--dry-run", "--cmdline", riscv_over.c_str()}),
              HasSubstr("capacity of 1024"));
  EXPECT_TRUE(parse({"--kernel", "k", "--arch", "aarch64", "--dry-run", "--cmdline", riscv_over.c_str()}));
}

TEST(Cli, DumpDtbRules) {
  EXPECT_THAT(parse_error({"--kernel", "k", "--arch", "aarch64", "--dump-dtb", "x"}), HasSubstr("needs --dry-run"));
  EXPECT_THAT(parse_error({"--kernel", "k", "--arch", "x86_64", "--dry-run", "--dump-dtb", "x"}),
              HasSubstr("no device tree"));
  EXPECT_THAT(parse_error({"--kernel", "k", "--arch", "aarch64", "--dry-run", "--dump-dtb", ""}),
              HasSubstr("path is empty"));
}

TEST(Cli, JsonOnlyForInspect) {
  EXPECT_THAT(parse_error({"--kernel", "k", "--json"}), HasSubstr("--json applies to `vmm inspect` only"));
}

TEST(Cli, Inspect) {
  auto o = parse_ok({"inspect", "vmlinuz"});
  EXPECT_EQ(o.command, Command::kInspect);
  EXPECT_EQ(o.kernel, "vmlinuz");
  EXPECT_FALSE(o.json);
  EXPECT_TRUE(parse_ok({"inspect", "vmlinuz", "--json"}).json);
  EXPECT_TRUE(parse_ok({"inspect", "--json", "vmlinuz"}).json);
}

TEST(Cli, InspectUsageErrors) {
  EXPECT_THAT(parse_error({"inspect"}), HasSubstr("no kernel file given"));
  EXPECT_THAT(parse_error({"inspect", "a", "b"}), HasSubstr("unexpected argument 'b'"));
  EXPECT_THAT(parse_error({"inspect", ""}), HasSubstr("path is empty"));
  EXPECT_THAT(parse_error({"inspect", "a", "--memory", "1G"}), HasSubstr("--memory does not apply"));
  EXPECT_THAT(parse_error({"inspect", "a", "--dry-run"}), HasSubstr("--dry-run does not apply"));
  EXPECT_THAT(parse_error({"inspect", "a", "--kernel", "b"}), HasSubstr("--kernel does not apply"));
}

TEST(Cli, HelpAndVersion) {
  EXPECT_EQ(parse_ok({"--help"}).command, Command::kHelp);
  EXPECT_EQ(parse_ok({"-h"}).command, Command::kHelp);
  EXPECT_EQ(parse_ok({"--kernel", "k", "--help"}).command, Command::kHelp);
  EXPECT_EQ(parse_ok({"--version"}).command, Command::kVersion);
  EXPECT_THAT(version_text(), HasSubstr("minivmm"));
}

TEST(Cli, VirtioIsOptInWithRngAndNoDisks) {
  auto o = parse_ok({"--kernel", "k"});
  EXPECT_EQ(o.transport, VirtioTransport::kPci);
  EXPECT_EQ(parse_ok({"--kernel", "k", "--virtio-transport", "pci"}).transport, VirtioTransport::kPci);
  EXPECT_THAT(parse_error({"--kernel", "k", "--virtio-transport", "none", "--disk", "d"}),
              HasSubstr("--disk needs virtio"));
  EXPECT_EQ(parse_ok({"--kernel", "k", "--virtio-transport", "none"}).transport, VirtioTransport::kNone);
  EXPECT_TRUE(o.rng);
  EXPECT_TRUE(o.disks.empty());
}

TEST(Cli, DisksAreRepeatableWithTheirOptions) {
  auto o = parse_ok({"--kernel", "k", "--disk", "root.img", "--disk", "/dev/sdb,ro,serial=data-1,cache=none",
                     "--disk=x.img,cache=writeback", "--no-rng", "--virtio-transport", "mmio"});
  ASSERT_EQ(o.disks.size(), 3u);
  EXPECT_EQ(o.disks[0].path, "root.img");
  EXPECT_FALSE(o.disks[0].read_only);
  EXPECT_EQ(o.disks[0].cache, DiskCache::kWriteback);
  EXPECT_EQ(o.disks[1].path, "/dev/sdb");
  EXPECT_TRUE(o.disks[1].read_only);
  EXPECT_EQ(o.disks[1].serial, "data-1");
  EXPECT_EQ(o.disks[1].cache, DiskCache::kNone);
  EXPECT_EQ(o.disks[2].path, "x.img");
  EXPECT_FALSE(o.rng);
  EXPECT_EQ(o.transport, VirtioTransport::kMmio);
  EXPECT_EQ(parse_ok({"--kernel", "k", "--virtio-transport", "pci"}).transport, VirtioTransport::kPci);
}

TEST(Cli, DiskSerialOfTwentyBytesFitsTwentyOneDoesNot) {
  EXPECT_EQ(parse_ok({"--kernel", "k", "--virtio-transport", "pci", "--disk", "d,serial=12345678901234567890"})
                .disks.at(0)
                .serial.size(),
            20u);
  EXPECT_THAT(parse_error({"--kernel", "k", "--virtio-transport", "pci", "--disk", "d,serial=123456789012345678901"}),
              HasSubstr("is 21 bytes; a virtio-blk id holds at most 20"));
}

TEST(Cli, BadDiskSpecsAreUsageErrorsNamingThem) {
  EXPECT_THAT(parse_error({"--kernel", "k", "--disk", ""}), HasSubstr("--disk '': the path is empty"));
  EXPECT_THAT(parse_error({"--kernel", "k", "--disk", ",ro"}), HasSubstr("the path is empty"));
  EXPECT_THAT(parse_error({"--kernel", "k", "--disk", "d,rw"}), HasSubstr("unknown option 'rw'"));
  EXPECT_THAT(parse_error({"--kernel", "k", "--disk", "d,"}), HasSubstr("unknown option ''"));
  EXPECT_THAT(parse_error({"--kernel", "k", "--disk", "d,cache=unsafe"}),
              HasSubstr("cache='unsafe': expected writeback or none"));
  EXPECT_THAT(parse_error({"--kernel", "k", "--disk", "d,ro=1"}), HasSubstr("ro takes no value"));
  EXPECT_THAT(parse_error({"--kernel", "k", "--disk", "d,serial="}), HasSubstr("serial= needs an id"));
  EXPECT_THAT(parse_error({"--kernel", "k", "--disk", "d,ro,ro"}), HasSubstr("ro is given twice"));
  EXPECT_THAT(parse_error({"--kernel", "k", "--disk"}), HasSubstr("disk"));
  EXPECT_THAT(parse_error({"--kernel", "k", "--disk", "a.img", "--disk", "a.img,ro"}),
              HasSubstr("--disk 'a.img': the image is given twice"));
}

TEST(Cli, SharesAreRepeatableWithTagsAndProtocols) {
  auto o = parse_ok({"--kernel", "k", "--share", "/srv/data/", "--share", "/,ro,proto=9p", "--share",
                     "/home/u/src,tag=code,proto=virtiofs", "--share", "/tmp/a b+c"});
  ASSERT_EQ(o.shares.size(), 4u);
  EXPECT_EQ(o.shares[0].host_dir, "/srv/data/");
  EXPECT_EQ(o.shares[0].tag, "data");  // the last component, trailing '/' ignored
  EXPECT_FALSE(o.shares[0].read_only);
  EXPECT_EQ(o.shares[0].proto, ShareProto::kVirtiofs);
  EXPECT_EQ(o.shares[1].tag, "root");
  EXPECT_TRUE(o.shares[1].read_only);
  EXPECT_EQ(o.shares[1].proto, ShareProto::k9p);
  EXPECT_EQ(o.shares[2].tag, "code");
  EXPECT_EQ(o.shares[3].tag, "a_b_c");  // made one plain word
}

TEST(Cli, ShareTagOfADotPathIsTheDirectorysName) {
  auto share = parse_share(".");
  ASSERT_TRUE(share.has_value());
  char buf[4096];
  ASSERT_NE(::getcwd(buf, sizeof buf), nullptr);
  std::string cwd = buf;
  std::string name = cwd == "/" ? "root" : cwd.substr(cwd.rfind('/') + 1);
  EXPECT_EQ(share->tag.size(), std::min(name.size(), kMaxShareTag));
  EXPECT_EQ(parse_share("/a/b/../c/./").value().tag, "c");
  EXPECT_EQ(parse_share("/..").value().tag, "root");
}

TEST(Cli, BadShareSpecsAreUsageErrorsNamingThem) {
  EXPECT_THAT(parse_error({"--kernel", "k", "--share", ""}), HasSubstr("--share '': the directory is empty"));
  EXPECT_THAT(parse_error({"--kernel", "k", "--share", "d,rw"}), HasSubstr("unknown option 'rw'"));
  EXPECT_THAT(parse_error({"--kernel", "k", "--share", "d,proto=nfs"}), HasSubstr("proto='nfs': expected virtiofs or 9p"));
  EXPECT_THAT(parse_error({"--kernel", "k", "--share", "d,tag="}), HasSubstr("tag= needs a name"));
  EXPECT_THAT(parse_error({"--kernel", "k", "--share", "d,tag=a b"}), HasSubstr("may hold only letters"));
  EXPECT_THAT(parse_error({"--kernel", "k", "--share", "d,tag=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}),
              HasSubstr("is 37 bytes; at most 36"));
  EXPECT_THAT(parse_error({"--kernel", "k", "--share", "d,ro,ro"}), HasSubstr("ro is given twice"));
  EXPECT_THAT(parse_error({"--kernel", "k", "--share", "/a/x", "--share", "/b/x"}),
              HasSubstr("tag 'x' is already used by '/a/x'"));
  EXPECT_THAT(parse_error({"--kernel", "k", "--virtio-transport", "none", "--share", "d"}),
              HasSubstr("--share needs virtio"));
  EXPECT_THAT(parse_error({"inspect", "k", "--share", "d"}), HasSubstr("inspect: --share does not apply"));
}

TEST(Cli, SharesCountAgainstTheVirtioSlots) {
  // x86 mmio: console + rng + 3 more devices fit.
  EXPECT_THAT(parse_error({"--kernel", "k", "--arch", "x86_64", "--dry-run", "--virtio-transport", "mmio", "--disk", "a",
                           "--share", "/x", "--share", "/y", "--share", "/z"}),
              HasSubstr("1 disks and 3 shares do not fit"));
}

TEST(Cli, ExecTakesItsCommandAfterTheSeparatorWithItsOwnOptions) {
  auto o = parse_ok({"exec", "--fs", "9p", "--share", "/srv", "--verbose", "--modules", "/m", "--", "sh", "-c",
                     "exit 7", "--kernel", "--"});
  EXPECT_EQ(o.command, Command::kExec);
  EXPECT_TRUE(o.kernel.empty());  // the host's own, found at run time
  EXPECT_EQ(o.exec.fs, ShareProto::k9p);
  EXPECT_TRUE(o.exec.verbose);
  EXPECT_EQ(o.exec.modules.value(), "/m");
  ASSERT_EQ(o.shares.size(), 1u);
  // Everything after the first -- is the command's, options and -- included.
  EXPECT_EQ(o.exec.command, (std::vector<std::string>{"sh", "-c", "exit 7", "--kernel", "--"}));
  auto shell = parse_ok({"exec", "--kernel", "k"});
  EXPECT_EQ(shell.kernel, "k");
  EXPECT_TRUE(shell.exec.command.empty());
  EXPECT_EQ(shell.exec.fs, ShareProto::kVirtiofs);
}

TEST(Cli, ExecRefusesWhatItMakesItselfAndOthersRefuseItsOptions) {
  EXPECT_THAT(parse_error({"exec", "--cmdline", "x"}), HasSubstr("exec: --cmdline does not apply"));
  EXPECT_THAT(parse_error({"exec", "--initrd", "x"}), HasSubstr("exec: --initrd does not apply"));
  EXPECT_THAT(parse_error({"exec", "--dry-run"}), HasSubstr("exec: --dry-run does not apply"));
  EXPECT_THAT(parse_error({"exec", "--fs", "nfs"}), HasSubstr("--fs 'nfs': expected virtiofs or 9p"));
  EXPECT_THAT(parse_error({"exec", "ls"}), HasSubstr("the command goes after --"));
  EXPECT_THAT(parse_error({"--kernel", "k", "--fs", "9p"}), HasSubstr("--fs applies to `vmm exec` only"));
  EXPECT_THAT(parse_error({"--kernel", "k", "--verbose"}), HasSubstr("--verbose applies to `vmm exec` only"));
  EXPECT_THAT(parse_error({"--kernel", "k", "--", "ls"}), HasSubstr("a command after -- needs vmm exec"));
}

TEST(Cli, BadTransportIsAUsageError) {
  EXPECT_THAT(parse_error({"--kernel", "k", "--virtio-transport", "ccw"}),
              HasSubstr("--virtio-transport 'ccw': expected none, pci or mmio"));
}

TEST(Cli, MoreDisksThanVirtioMmioSlotsIsAUsageError) {
  // x86 has five virtio-mmio lines: console + rng + 3 disks fit, a fourth does not.
  EXPECT_EQ(parse_ok({"--kernel", "k", "--arch", "x86_64", "--dry-run", "--virtio-transport", "mmio", "--disk", "a",
                      "--disk", "b", "--disk", "c"})
                .disks.size(),
            3u);
  EXPECT_THAT(parse_error({"--kernel", "k", "--arch", "x86_64", "--dry-run", "--virtio-transport", "mmio", "--disk", "a",
                           "--disk", "b", "--disk", "c", "--disk", "d"}),
              HasSubstr("4 disks and 0 shares do not fit"));
  // Without the rng there is room for the fourth.
  EXPECT_EQ(parse_ok({"--kernel", "k", "--arch", "x86_64", "--dry-run", "--virtio-transport", "mmio", "--no-rng",
                      "--disk", "a", "--disk", "b", "--disk", "c", "--disk", "d"})
                .disks.size(),
            4u);
}

TEST(Cli, VirtioOptionsDoNotApplyToInspect) {
  EXPECT_THAT(parse_error({"inspect", "k", "--disk", "d"}), HasSubstr("inspect: --disk does not apply"));
  EXPECT_THAT(parse_error({"inspect", "k", "--no-rng"}), HasSubstr("inspect: --no-rng does not apply"));
}

TEST(Cli, NoKernelCacheTurnsTheCacheOff) {
  EXPECT_TRUE(parse_ok({"--kernel", "k"}).kernel_cache);
  EXPECT_FALSE(parse_ok({"--kernel", "k", "--no-kernel-cache"}).kernel_cache);
  EXPECT_THAT(parse_error({"inspect", "k", "--no-kernel-cache"}), HasSubstr("inspect: --no-kernel-cache does not apply"));
  EXPECT_THAT(help_text(), HasSubstr("--no-kernel-cache"));
}

TEST(Cli, HelpDocumentsCommandsOptionsAndEveryExitCode) {
  std::string help = help_text();
  EXPECT_THAT(help, HasSubstr("vmm --kernel PATH [options]"));
  EXPECT_THAT(help, HasSubstr("vmm inspect KERNEL [--json]"));
  EXPECT_THAT(help, HasSubstr("--dry-run"));
  for (const char* option : {"--kernel", "--initrd", "--cmdline", "--memory", "--cpus", "--arch", "--boot",
                             "--console", "--expect", "--timeout", "--boot-report", "--dump-dtb", "--json",
                             "--version"})
    EXPECT_THAT(help, HasSubstr(option));
  for (const char* code : {"\n  0 ", "\n  2 ", "\n  3 ", "\n  4 ", "\n  5 ", "\n  6 ", "\n  70 "})
    EXPECT_THAT(help, HasSubstr(code));
  EXPECT_THAT(help, HasSubstr("Perl-compatible (PCRE2) regular expression"));
  EXPECT_THAT(help, HasSubstr("most recent 4 KiB"));
  EXPECT_THAT(help, Not(HasSubstr("ECMAScript")));
}

}  // namespace
}  // namespace vmm

namespace vmm {
namespace {

TEST(CliSeccomp, DefaultIsKillOutsideSanitizerBuilds) {
  EXPECT_EQ(parse_ok({"--kernel", "k"}).seccomp, seccomp::kDefaultMode);
#if !defined(__SANITIZE_ADDRESS__)
  EXPECT_EQ(seccomp::kDefaultMode, seccomp::Mode::kKill);
#endif
}

TEST(CliSeccomp, EachModeOnRunAndExec) {
  EXPECT_EQ(parse_ok({"--kernel", "k", "--seccomp", "log"}).seccomp, seccomp::Mode::kLog);
  EXPECT_EQ(parse_ok({"--kernel", "k", "--seccomp", "off"}).seccomp, seccomp::Mode::kOff);
  EXPECT_EQ(parse_ok({"--kernel", "k", "--seccomp=kill"}).seccomp, seccomp::Mode::kKill);
  auto exec = parse_ok({"exec", "--seccomp", "off", "--", "true"});
  EXPECT_EQ(exec.command, Command::kExec);
  EXPECT_EQ(exec.seccomp, seccomp::Mode::kOff);
}

TEST(CliSeccomp, BadModeAndInspectAreUsageErrors) {
  EXPECT_THAT(parse_error({"--kernel", "k", "--seccomp", "strict"}),
              HasSubstr("--seccomp 'strict': expected kill, log or off"));
  EXPECT_THAT(parse_error({"inspect", "k", "--seccomp", "off"}), HasSubstr("inspect: --seccomp does not apply"));
}

TEST(CliSeccomp, ReportIsAHiddenCommand) {
  EXPECT_EQ(parse_ok({"seccomp-report"}).command, Command::kSeccompReport);
  EXPECT_THAT(parse_error({"seccomp-report", "x"}), HasSubstr("unexpected argument"));
}

}  // namespace
}  // namespace vmm
