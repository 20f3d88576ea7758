# Shared part of the cross toolchain files (toolchain-aarch64.cmake,
# toolchain-riscv64.cmake): Debian's g++-<triplet> cross compiler against a
# sysroot filled by scripts/build_sysroot.sh, statically linked so the binaries
# run in the nested guests whatever their root filesystem holds.
#
# Expects MINIVMM_CROSS_ARCH (aarch64, riscv64) and MINIVMM_CROSS_TRIPLET.
# The sysroot is -DMINIVMM_SYSROOT=..., else $ENV{MINIVMM_SYSROOT}, else
# ~/.cache/minivmm/sysroot/<arch>.

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ${MINIVMM_CROSS_ARCH})
set(CMAKE_C_COMPILER ${MINIVMM_CROSS_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${MINIVMM_CROSS_TRIPLET}-g++)

if(NOT MINIVMM_SYSROOT)
  if(DEFINED ENV{MINIVMM_SYSROOT})
    set(MINIVMM_SYSROOT "$ENV{MINIVMM_SYSROOT}")
  else()
    set(MINIVMM_SYSROOT "$ENV{HOME}/.cache/minivmm/sysroot/${MINIVMM_CROSS_ARCH}")
  endif()
endif()
if(NOT EXISTS "${MINIVMM_SYSROOT}/.minivmm-sysroot")
  message(FATAL_ERROR "no ${MINIVMM_CROSS_ARCH} sysroot at ${MINIVMM_SYSROOT}: "
    "run scripts/build_sysroot.sh ${MINIVMM_CROSS_ARCH} (or set MINIVMM_SYSROOT)")
endif()
set(MINIVMM_SYSROOT "${MINIVMM_SYSROOT}" CACHE PATH "Sysroot of the ${MINIVMM_CROSS_ARCH} cross build")
# try_compile projects re-read this file without the cache: hand the value on.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES MINIVMM_SYSROOT)

set(CMAKE_SYSROOT "${MINIVMM_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH "${MINIVMM_SYSROOT}")
# Programs (pkg-config, dtc, ...) run on the build machine; headers, libraries
# and CMake packages come from the sysroot only, never from the host.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config must read only the sysroot's .pc files and prefix their paths.
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${MINIVMM_SYSROOT}")
set(ENV{PKG_CONFIG_LIBDIR} "${MINIVMM_SYSROOT}/usr/lib/${MINIVMM_CROSS_TRIPLET}/pkgconfig:${MINIVMM_SYSROOT}/usr/lib/pkgconfig:${MINIVMM_SYSROOT}/usr/share/pkgconfig")
unset(ENV{PKG_CONFIG_PATH})

# The sysroot holds headers and static libraries only (cmake/dependencies.cmake
# links .a files, adds -static and uses fmt header-only under MINIVMM_STATIC).
set(MINIVMM_STATIC ON CACHE BOOL "Link executables statically")

# ctest and gtest_discover_tests run the target's binaries under qemu-user;
# static binaries need no -L <sysroot>.
find_program(MINIVMM_QEMU_USER NAMES qemu-${MINIVMM_CROSS_ARCH}-static qemu-${MINIVMM_CROSS_ARCH}
  NO_CMAKE_FIND_ROOT_PATH)
if(MINIVMM_QEMU_USER)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${MINIVMM_QEMU_USER}")
endif()
