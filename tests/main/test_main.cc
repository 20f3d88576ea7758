// The unit tests' main. Every test process gets a cache directory of its
// own in XDG_CACHE_HOME, so no test, and no vmm it starts, writes the user's
// ~/.cache (booting a bzImage stores its decompressed kernel there, and that
// cache keeps only the four most recent kernels: a test run would push the
// user's out).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  std::string dir = (std::filesystem::temp_directory_path() / "minivmm-test-cache-XXXXXX").string();
  if (::mkdtemp(dir.data()) == nullptr) {
    std::perror("test main: mkdtemp for XDG_CACHE_HOME");
    return 2;
  }
  ::setenv("XDG_CACHE_HOME", dir.c_str(), 1);
  const int rc = RUN_ALL_TESTS();
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return rc;
}
