// Where tests find things fetched outside the repository.
#pragma once

#include <string>

namespace test_support {

// $MINIVMM_KERNEL_CACHE, or ~/.cache/minivmm/kernels (filled by scripts/fetch_kernels.sh).
std::string kernel_cache_dir();
// True when MINIVMM_REQUIRE_KERNELS=1 (the README test command sets it): a
// missing real kernel is then a failure, not a skip.
bool kernels_required();

}  // namespace test_support
