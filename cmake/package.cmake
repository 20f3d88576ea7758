# Installable CMake package: find_package(minivmm) gives minivmm::loader,
# minivmm::boot, minivmm::devices and minivmm::backends.
include(CMakePackageConfigHelpers)
install(EXPORT minivmmTargets NAMESPACE minivmm:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/minivmm)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/minivmmConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/minivmmConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/minivmm)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/minivmmConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/minivmmConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/minivmmConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/minivmm)
