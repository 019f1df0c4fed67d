# `cmake --install`: the libraries, their headers (under include/beryl, with the paths the code
# includes them by: "app/runtime/server.hpp") and the beryl_cpp CMake package, so that
#   find_package(beryl_cpp CONFIG REQUIRED)
#   target_link_libraries(app PRIVATE beryl::runtime)
# works from any directory. The package finds the same Debian packages the build did.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(BERYL_PACKAGE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/beryl_cpp)
set(_beryl_libraries beryl_core beryl_supervision beryl_actors beryl_transport beryl_runtime
    beryl_testing)
foreach(library IN LISTS _beryl_libraries)
  string(REPLACE "beryl_" "" name ${library})
  set_target_properties(${library} PROPERTIES EXPORT_NAME ${name})
endforeach()

install(TARGETS ${_beryl_libraries} EXPORT beryl_cppTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
foreach(dir core actors transport supervision app/runtime app/testing)
  get_filename_component(parent ${dir} DIRECTORY)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${dir} DESTINATION ${BERYL_INSTALL_INCLUDEDIR}/${parent}
          FILES_MATCHING PATTERN "*.hpp")
endforeach()
install(EXPORT beryl_cppTargets NAMESPACE beryl:: DESTINATION ${BERYL_PACKAGE_DIR})

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/beryl_cppConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/beryl_cppConfig.cmake
                              INSTALL_DESTINATION ${BERYL_PACKAGE_DIR})
# 0.x: a minor version may break the API.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/beryl_cppConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/beryl_cppConfig.cmake
              ${PROJECT_BINARY_DIR}/beryl_cppConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/caf_import.cmake
        DESTINATION ${BERYL_PACKAGE_DIR})
