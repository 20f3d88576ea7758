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

// Runs <binary_dir>/vmm/vmm with args, stdin from /dev/null, and collects
// stdout (the console) and stderr.
RunResult run_vmm(std::vector<std::string> args);

}  // namespace test_support
