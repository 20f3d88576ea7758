// Text helpers for what the vmm prints. File names, kernel strings and
// command-line values are untrusted: their bytes never reach a terminal raw,
// and one message stays one line.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vmm {

// Every byte outside printable ASCII (0x20..0x7e) written as \xNN.
std::string escape_control(std::string_view text);

// 'text', escaped: how a usage error quotes the value it refuses.
std::string quoted(std::string_view text);

// "100 B", "4 KiB", "1.5 GiB": powers of 1024, whole numbers without a
// fraction so that "3 GiB" reads as exact.
std::string human_size(uint64_t bytes);

// Writes `text` to standard error, ignoring failures: a diagnostic must not
// throw (fmt::print does on EPIPE, SIGPIPE being ignored) from a catch block
// or an I/O thread when whoever read our stderr has gone.
void write_stderr(std::string_view text);

}  // namespace vmm
