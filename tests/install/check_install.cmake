# Installs the project into a scratch prefix, then builds and runs a consumer against it:
# with CMake's find_package in Debug (validated: the consumer must report, exit 1) and in
# Release (compiled out: exit 0), and with pkg-config. Run with cmake -P, given BUILD_DIR,
# SOURCE_DIR and WORK_DIR.
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
  set(last_status ${status} PARENT_SCOPE)
  set(last_output "${out}${err}" PARENT_SCOPE)
endfunction()

function(must_succeed what)
  run(${ARGN})
  if(NOT last_status EQUAL 0)
    message(FATAL_ERROR "${what} failed (${last_status}):\n${last_output}")
  endif()
  set(last_output "${last_output}" PARENT_SCOPE)
endfunction()

set(prefix ${WORK_DIR}/prefix)
file(REMOVE_RECURSE ${WORK_DIR})
must_succeed("install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

foreach(config Debug Release)
  set(consumer_build ${WORK_DIR}/consumer-${config})
  must_succeed("configure the ${config} consumer" ${CMAKE_COMMAND} -S ${SOURCE_DIR}/consumer
    -B ${consumer_build} -DCMAKE_BUILD_TYPE=${config} -DCMAKE_PREFIX_PATH=${prefix})
  must_succeed("build the ${config} consumer" ${CMAKE_COMMAND} --build ${consumer_build})
  run(${consumer_build}/consumer)
  if(config STREQUAL "Debug" AND NOT last_status EQUAL 1)
    message(FATAL_ERROR "Debug consumer: expected a report (exit 1), got ${last_status}:\n${last_output}")
  endif()
  if(config STREQUAL "Release" AND NOT last_status EQUAL 0)
    message(FATAL_ERROR "Release consumer: expected no validation (exit 0), got ${last_status}")
  endif()
endforeach()

# Zero cost includes zero dependencies: a Release consumer (validation compiled out) needs none
# of the validator's shared libraries, with GCC and with Clang (which, unlike Debian's GCC, does
# not drop unused libraries by itself).
find_program(READELF readelf REQUIRED)
find_program(CLANGXX clang++)
set(release_consumers ${WORK_DIR}/consumer-Release/consumer)
if(CLANGXX)
  set(clang_build ${WORK_DIR}/consumer-Release-clang)
  must_succeed("configure the Release consumer with Clang" ${CMAKE_COMMAND} -S ${SOURCE_DIR}/consumer
    -B ${clang_build} -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=${prefix}
    -DCMAKE_CXX_COMPILER=${CLANGXX})
  must_succeed("build the Release consumer with Clang" ${CMAKE_COMMAND} --build ${clang_build})
  list(APPEND release_consumers ${clang_build}/consumer)
endif()
foreach(consumer IN LISTS release_consumers)
  must_succeed("read ${consumer}" ${READELF} -d ${consumer})
  if(last_output MATCHES "libunwind|libdw|libspdlog|libfmt")
    message(FATAL_ERROR "${consumer} (validation off) needs the validator's libraries:\n${last_output}")
  endif()
endforeach()

find_program(PKG_CONFIG pkg-config REQUIRED)
set(ENV{PKG_CONFIG_PATH} ${prefix}/lib/pkgconfig)
must_succeed("pkg-config" ${PKG_CONFIG} --cflags --libs lockdep-alloc)
string(STRIP "${last_output}" pkg_output)
separate_arguments(pkg_flags UNIX_COMMAND "${pkg_output}")
must_succeed("build with pkg-config" c++ -std=c++20 ${SOURCE_DIR}/consumer/main.cpp ${pkg_flags}
  -o ${WORK_DIR}/consumer-pkgconfig)
run(${WORK_DIR}/consumer-pkgconfig)
if(NOT last_status EQUAL 1)
  message(FATAL_ERROR "pkg-config consumer: expected a report (exit 1), got ${last_status}")
endif()
message(STATUS "installed package works with find_package (Debug, Release) and pkg-config")
