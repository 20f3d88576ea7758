// `vmm inspect KERNEL [--json]`: what the loader sees in a kernel file,
// without KVM.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

#include "loader/kernel.h"
#include "vmm/cli.h"

namespace vmm {

// Prints the report to out, or one error line to err; returns the exit code
// (kExitOk, or kExitLoad for a missing, unreadable or malformed file).
int run_inspect(const Options& options, std::FILE* out, std::FILE* err);

std::string format_inspect_table(std::string_view file, const loader::KernelInfo& info);
std::string format_inspect_json(std::string_view file, const loader::KernelInfo& info);

// "vmm: <file>: <message>" on one line (the file is not repeated when the
// message already starts with it; control bytes are escaped).
std::string error_line(std::string_view file, std::string_view message);

}  // namespace vmm
