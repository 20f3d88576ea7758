# Third-party libraries, all from Debian packages installed by scripts/setup.sh.
option(MINIVMM_STATIC "Link executables statically (the cross toolchain files turn this on)" OFF)
if(MINIVMM_STATIC)
  # Static executables run in the nested guests whatever their root holds.
  set(CMAKE_FIND_LIBRARY_SUFFIXES .a)
  set(Boost_USE_STATIC_LIBS ON)
  set(PKG_CONFIG_ARGN --static)
  string(APPEND CMAKE_EXE_LINKER_FLAGS " -static")
endif()
find_package(PkgConfig REQUIRED)
if(MINIVMM_STATIC)
  # Debian's libfmt-dev ships only libfmt.so (bookworm's 9 and trixie's 10
  # alike), so a static build uses fmt header-only under the usual target name.
  find_path(FMT_INCLUDE_DIR fmt/format.h REQUIRED)
  add_library(fmt::fmt INTERFACE IMPORTED)
  set_target_properties(fmt::fmt PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES ${FMT_INCLUDE_DIR}
    INTERFACE_COMPILE_DEFINITIONS FMT_HEADER_ONLY=1)
else()
  find_package(fmt REQUIRED)
endif()
find_package(Boost 1.74 REQUIRED COMPONENTS program_options)
pkg_check_modules(ZLIB REQUIRED IMPORTED_TARGET zlib)
pkg_check_modules(LZMA REQUIRED IMPORTED_TARGET liblzma)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
pkg_check_modules(LZ4 REQUIRED IMPORTED_TARGET liblz4)
pkg_check_modules(LZO2 REQUIRED IMPORTED_TARGET lzo2)
# --expect: PCRE2's match limits bound a search, which std::regex cannot.
# A C library, so its .a links in both cross sysroots (RE2's C++ would not
# with trixie's; see scripts/build_sysroot.sh). IMPORTED_TARGET finds
# libpcre2-8.a under MINIVMM_STATIC like the others.
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
# virtio-blk reads and writes on io_uring (backends/). A C library: its .a
# links in both static cross builds. Off: the synchronous engine alone.
option(MINIVMM_IO_URING "virtio-blk I/O on io_uring (liburing)" ON)
if(MINIVMM_IO_URING)
  pkg_check_modules(URING REQUIRED IMPORTED_TARGET liburing)
endif()
set_property(TARGET PkgConfig::PCRE2 APPEND PROPERTY INTERFACE_COMPILE_DEFINITIONS PCRE2_CODE_UNIT_WIDTH=8)
# seccomp-bpf allow-lists per thread role (vmm/seccomp_policy.h): libseccomp
# resolves syscall names per architecture; Debian's libseccomp-dev ships the .a.
pkg_check_modules(SECCOMP REQUIRED IMPORTED_TARGET libseccomp)
find_library(BZ2_LIBRARY NAMES bz2 REQUIRED)
find_path(BZ2_INCLUDE_DIR bzlib.h REQUIRED)
find_library(FDT_LIBRARY NAMES fdt REQUIRED)
find_path(FDT_INCLUDE_DIR libfdt.h REQUIRED)
find_package(Threads REQUIRED)
# libslirp (--net user). Debian's libslirp-dev has no static library, so a
# static build compiles libslirp from its pinned source (cmake/libslirp.cmake,
# fetched by scripts/fetch_libslirp.sh) against the sysroot's libglib-2.0.a;
# a native build links the distribution's shared libslirp (its header needs
# no glib, so libglib2.0-dev is not required for it).
if(MINIVMM_STATIC OR MINIVMM_SLIRP_FROM_SOURCE)
  include(${CMAKE_CURRENT_LIST_DIR}/libslirp.cmake)
else()
  find_library(SLIRP_LIBRARY NAMES slirp REQUIRED)
  find_path(SLIRP_INCLUDE_DIR slirp/libslirp.h REQUIRED)
  add_library(minivmm_slirp INTERFACE IMPORTED)
  set_target_properties(minivmm_slirp PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES ${SLIRP_INCLUDE_DIR}
    INTERFACE_LINK_LIBRARIES ${SLIRP_LIBRARY})
endif()
