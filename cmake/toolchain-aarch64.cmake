# Cross build for aarch64 with Debian's g++-aarch64-linux-gnu against a bookworm
# arm64 sysroot (scripts/build_sysroot.sh aarch64). Preset: cross-aarch64.
set(MINIVMM_CROSS_ARCH aarch64)
set(MINIVMM_CROSS_TRIPLET aarch64-linux-gnu)
include(${CMAKE_CURRENT_LIST_DIR}/cross-linux-gnu.cmake)
