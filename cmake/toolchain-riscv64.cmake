# Cross build for riscv64 with Debian's g++-riscv64-linux-gnu against a trixie
# riscv64 sysroot (scripts/build_sysroot.sh riscv64; bookworm has no riscv64
# port). Preset: cross-riscv64.
set(MINIVMM_CROSS_ARCH riscv64)
set(MINIVMM_CROSS_TRIPLET riscv64-linux-gnu)
include(${CMAKE_CURRENT_LIST_DIR}/cross-linux-gnu.cmake)
