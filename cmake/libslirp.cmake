# libslirp 4.7.0 built from Debian's pinned source as a static library, for
# the static (cross) builds: Debian's libslirp-dev ships only libslirp.so.
# Our own CMake instead of libslirp's meson: the sources are plain C over
# glib, and the library needs no configure step beyond its version header.
# scripts/fetch_libslirp.sh fetches and checks the tarball.
set(MINIVMM_LIBSLIRP_VERSION 4.7.0)
set(MINIVMM_LIBSLIRP_SOURCE_DIR "$ENV{HOME}/.cache/minivmm/src/libslirp-v${MINIVMM_LIBSLIRP_VERSION}"
  CACHE PATH "Extracted libslirp ${MINIVMM_LIBSLIRP_VERSION} source (scripts/fetch_libslirp.sh)")
if(NOT EXISTS "${MINIVMM_LIBSLIRP_SOURCE_DIR}/src/slirp.c")
  message(FATAL_ERROR "no libslirp source at ${MINIVMM_LIBSLIRP_SOURCE_DIR}: run scripts/fetch_libslirp.sh")
endif()

# glib from the sysroot (libglib2.0-dev ships libglib-2.0.a); --static pulls
# in what it needs (pcre2, ...).
pkg_check_modules(GLIB REQUIRED IMPORTED_TARGET glib-2.0)

set(slirp_names arp_table bootp cksum dhcpv6 dnssearch if ip6_icmp ip6_input ip6_output ip_icmp ip_input
  ip_output mbuf misc ncsi ndp_table sbuf slirp socket state stream tcp_input tcp_output tcp_subr tcp_timer
  tftp udp udp6 util version vmstate)
set(slirp_sources "")
foreach(n ${slirp_names})
  list(APPEND slirp_sources "${MINIVMM_LIBSLIRP_SOURCE_DIR}/src/${n}.c")
endforeach()

# The public headers where <slirp/libslirp.h> finds them, with the version
# header libslirp's meson would generate.
set(slirp_include "${CMAKE_BINARY_DIR}/libslirp/include")
string(REPLACE "." ";" slirp_version_parts ${MINIVMM_LIBSLIRP_VERSION})
list(GET slirp_version_parts 0 SLIRP_MAJOR_VERSION)
list(GET slirp_version_parts 1 SLIRP_MINOR_VERSION)
list(GET slirp_version_parts 2 SLIRP_MICRO_VERSION)
set(SLIRP_VERSION_STRING "\"${MINIVMM_LIBSLIRP_VERSION}\"")
configure_file("${MINIVMM_LIBSLIRP_SOURCE_DIR}/src/libslirp-version.h.in" "${slirp_include}/slirp/libslirp-version.h" @ONLY)
configure_file("${MINIVMM_LIBSLIRP_SOURCE_DIR}/src/libslirp.h" "${slirp_include}/slirp/libslirp.h" COPYONLY)

# riscv64's sysroot is trixie: its libglib-2.0.a calls glibc 2.38 symbols
# that the cross compiler's glibc 2.36 lacks; supply them (glibc238_compat.c).
include(CheckSymbolExists)
set(CMAKE_REQUIRED_DEFINITIONS -D_GNU_SOURCE)
check_symbol_exists(strlcpy "string.h" MINIVMM_HAVE_STRLCPY)
unset(CMAKE_REQUIRED_DEFINITIONS)
add_library(minivmm_slirp STATIC ${slirp_sources})
set_target_properties(minivmm_slirp PROPERTIES C_STANDARD 11 C_EXTENSIONS ON POSITION_INDEPENDENT_CODE ON)
# Not our code: its warnings are not ours to fix (-w also disarms -Werror).
target_compile_options(minivmm_slirp PRIVATE -w)
target_compile_definitions(minivmm_slirp PRIVATE G_LOG_DOMAIN="Slirp")
target_include_directories(minivmm_slirp PRIVATE "${slirp_include}/slirp" PUBLIC "${slirp_include}")
target_link_libraries(minivmm_slirp PUBLIC PkgConfig::GLIB)
if(NOT MINIVMM_HAVE_STRLCPY)
  # Its own archive, after glib's on the link line, so the linker still
  # looks for these symbols when it reads libglib-2.0.a.
  add_library(minivmm_glibc_compat STATIC "${CMAKE_CURRENT_LIST_DIR}/glibc238_compat.c")
  target_compile_options(minivmm_glibc_compat PRIVATE -w)
  target_link_libraries(minivmm_slirp PUBLIC minivmm_glibc_compat)
endif()
