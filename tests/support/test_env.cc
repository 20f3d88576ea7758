#include "support/test_env.h"

#include <cstdlib>

namespace test_support {

std::string kernel_cache_dir() {
  if (const char* dir = std::getenv("MINIVMM_KERNEL_CACHE"); dir && *dir) return dir;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "/root") + "/.cache/minivmm/kernels";
}

bool kernels_required() {
  const char* v = std::getenv("MINIVMM_REQUIRE_KERNELS");
  return v != nullptr && std::string(v) == "1";
}

}  // namespace test_support
