// Running the vmm binary from a test: the KVM integration tests boot the
// tiny guests of tests/guests through it, exactly as a user would.
#pragma once

#include <string>
#include <vector>

namespace test_support {

// True when /dev/kvm can be opened read-write.
bool have_kvm();

// The build tree: $MINIVMM_BINARY_DIR, else two levels above the test
// binary (<build>/tests/vmm_tests).
std::string binary_dir();

struct RunResult {
  int exit_code = -1;
  std::string out, err;
};

// The argv prefix that runs a target binary from a test: empty natively; in
// a cross build whose tests run under qemu-user (no binfmt_misc needed) the
// emulator, when it exists here (inside the nested guests it does not, and
// the binary runs natively).
std::vector<std::string> emulator_prefix();

// Runs <binary_dir>/vmm/vmm with args, stdin from /dev/null, and collects
// stdout (the console) and stderr.
RunResult run_vmm(std::vector<std::string> args);

}  // namespace test_support
