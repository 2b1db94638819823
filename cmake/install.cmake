# `cmake --install build --prefix P`: headers, static libraries, a CMake package
# (find_package(lockdep CONFIG): lockdep::lockdep, lockdep::alloc) and pkg-config files.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(lockdep_install_targets lockdep)
if(TARGET lockdep_alloc)
  list(APPEND lockdep_install_targets lockdep_alloc)
  install(DIRECTORY alloc/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endif()
install(TARGETS ${lockdep_install_targets} EXPORT lockdepTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY lockdep/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS lockdep_preload lockdep_free_watch LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS lockdep-run RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

set(lockdep_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/lockdep)
install(EXPORT lockdepTargets NAMESPACE lockdep:: DESTINATION ${lockdep_cmake_dir})
configure_package_config_file(cmake/lockdepConfig.cmake.in
  ${PROJECT_BINARY_DIR}/lockdepConfig.cmake INSTALL_DESTINATION ${lockdep_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/lockdepConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/lockdepConfig.cmake
              ${PROJECT_BINARY_DIR}/lockdepConfigVersion.cmake
        DESTINATION ${lockdep_cmake_dir})

foreach(package lockdep lockdep-alloc)
  if(package STREQUAL "lockdep-alloc" AND NOT TARGET lockdep_alloc)
    continue()
  endif()
  configure_file(cmake/${package}.pc.in ${PROJECT_BINARY_DIR}/${package}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/${package}.pc
          DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()
