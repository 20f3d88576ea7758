// Reading generated device trees back in tests: libfdt lookups that return
// plain values, and a dtc round trip that reports dtc's exit status and
// everything it printed.
#pragma once

#include <libfdt.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace fdt_test {

inline const void* blob(const std::vector<std::byte>& dtb) { return dtb.data(); }

// The raw bytes of path:name, or nullopt when the node or property is missing.
inline std::optional<std::vector<uint8_t>> prop(const std::vector<std::byte>& dtb, const std::string& path,
                                                const std::string& name) {
  int node = fdt_path_offset(blob(dtb), path.c_str());
  if (node < 0) return std::nullopt;
  int len = 0;
  const void* data = fdt_getprop(blob(dtb), node, name.c_str(), &len);
  if (!data) return std::nullopt;
  auto* p = static_cast<const uint8_t*>(data);
  return std::vector<uint8_t>(p, p + len);
}

inline std::vector<uint32_t> cells(const std::vector<uint8_t>& bytes) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i + 4 <= bytes.size(); i += 4)
    out.push_back((uint32_t{bytes[i]} << 24) | (uint32_t{bytes[i + 1]} << 16) | (uint32_t{bytes[i + 2]} << 8) |
                  bytes[i + 3]);
  return out;
}

inline std::vector<uint32_t> prop_cells(const std::vector<std::byte>& dtb, const std::string& path,
                                        const std::string& name) {
  auto p = prop(dtb, path, name);
  return p ? cells(*p) : std::vector<uint32_t>{};
}

// A stringlist property as separate strings (each must be NUL-terminated).
inline std::vector<std::string> prop_strings(const std::vector<std::byte>& dtb, const std::string& path,
                                             const std::string& name) {
  std::vector<std::string> out;
  auto p = prop(dtb, path, name);
  if (!p) return out;
  std::string cur;
  for (uint8_t b : *p) {
    if (b == 0) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(static_cast<char>(b));
    }
  }
  if (!cur.empty()) out.push_back(cur + "<unterminated>");
  return out;
}

inline std::optional<std::string> prop_string(const std::vector<std::byte>& dtb, const std::string& path,
                                              const std::string& name) {
  auto list = prop_strings(dtb, path, name);
  if (list.size() != 1) return std::nullopt;
  return list[0];
}

inline uint32_t phandle_of(const std::vector<std::byte>& dtb, const std::string& path) {
  int node = fdt_path_offset(blob(dtb), path.c_str());
  return node < 0 ? 0 : fdt_get_phandle(blob(dtb), node);
}

// Names of the direct subnodes of path.
inline std::vector<std::string> subnodes(const std::vector<std::byte>& dtb, const std::string& path) {
  std::vector<std::string> out;
  int parent = fdt_path_offset(blob(dtb), path.c_str());
  if (parent < 0) return out;
  int child;
  fdt_for_each_subnode(child, blob(dtb), parent) { out.emplace_back(fdt_get_name(blob(dtb), child, nullptr)); }
  return out;
}

struct DtcRun {
  bool found = false;  // dtc is installed
  int exit_code = -1;
  std::string dts;     // decompiled source
  std::string stderr_text;
};

inline std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Decompiles dtb with `dtc -I dtb -O dts`. dtc runs all its checks on the
// tree it read, so any warning about our nodes shows up in stderr_text.
inline DtcRun run_dtc(const std::vector<std::byte>& dtb) {
  DtcRun run;
  run.found = std::system("command -v dtc >/dev/null 2>&1") == 0;
  if (!run.found) return run;
  char dir_template[] = "/tmp/minivmm_dtc_XXXXXX";
  const char* dir = mkdtemp(dir_template);
  if (!dir) return run;
  std::string base(dir);
  std::string in = base + "/in.dtb", out = base + "/out.dts", err = base + "/err.txt";
  {
    std::ofstream f(in, std::ios::binary);
    f.write(reinterpret_cast<const char*>(dtb.data()), static_cast<std::streamsize>(dtb.size()));
  }
  std::string cmd = "dtc -I dtb -O dts -o " + out + " " + in + " 2>" + err;
  int status = std::system(cmd.c_str());
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.dts = read_file(out);
  run.stderr_text = read_file(err);
  std::remove(in.c_str());
  std::remove(out.c_str());
  std::remove(err.c_str());
  rmdir(dir);
  return run;
}

inline size_t count_occurrences(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
  return n;
}

}  // namespace fdt_test
