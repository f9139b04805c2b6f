# What `cmake --install` adds besides the targets that install themselves (the
# bnconform command in cli/, the plugins through bnconform_install_plugin, the ABI
# header in include/): the golden catalog certify and `golden check` read, the
# documentation, and the CMake package find_package(bnconform) loads
# (cmake/package/). Layout: cmake/InstallLayout.cmake.
include(CMakePackageConfigHelpers)

install(DIRECTORY golden/cases golden/specs DESTINATION ${BNCONFORM_INSTALL_DATADIR}/golden)

install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY docs DESTINATION ${CMAKE_INSTALL_DOCDIR})
# The example kernel to start from (docs/certify.md).
install(FILES examples/c_kernel/README.md examples/c_kernel/bn_example.c
  examples/c_kernel/bn_example.h DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples/c_kernel)

install(EXPORT bnconform_targets NAMESPACE bnconform:: FILE bnconformTargets.cmake
  DESTINATION ${BNCONFORM_INSTALL_CMAKEDIR})
configure_package_config_file(cmake/package/bnconformConfig.cmake.in
  ${PROJECT_BINARY_DIR}/package/bnconformConfig.cmake
  INSTALL_DESTINATION ${BNCONFORM_INSTALL_CMAKEDIR})
# 0.x: a minor version may change the command line, so only the same minor matches.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/package/bnconformConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/package/bnconformConfig.cmake
  ${PROJECT_BINARY_DIR}/package/bnconformConfigVersion.cmake
  cmake/package/bnconformCertifyTest.cmake
  DESTINATION ${BNCONFORM_INSTALL_CMAKEDIR})
