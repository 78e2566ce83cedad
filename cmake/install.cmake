# cmake --install: headers, both libraries, a CMake package (find_package(spotopt
# CONFIG) gives spotopt::spotopt and spotopt::spotopt_static) and a pkg-config file.
include(CMakePackageConfigHelpers)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/spotopt
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
install(FILES ${PROJECT_SOURCE_DIR}/capi/spotopt.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/spotopt)
install(TARGETS spotopt spotopt_static EXPORT spotoptTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
set(SPOTOPT_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/spotopt)
install(EXPORT spotoptTargets NAMESPACE spotopt:: DESTINATION ${SPOTOPT_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/spotoptConfig.cmake.in
  ${PROJECT_BINARY_DIR}/spotoptConfig.cmake INSTALL_DESTINATION ${SPOTOPT_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/spotoptConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/spotoptConfig.cmake
              ${PROJECT_BINARY_DIR}/spotoptConfigVersion.cmake
        DESTINATION ${SPOTOPT_CMAKE_DIR})
file(RELATIVE_PATH SPOTOPT_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
configure_file(${PROJECT_SOURCE_DIR}/cmake/spotopt.pc.in ${PROJECT_BINARY_DIR}/spotopt.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/spotopt.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
