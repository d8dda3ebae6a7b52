# Installs a troupe build tree to a fresh prefix, then configures, builds and runs the consumer
# project against that prefix. Run by CTest as
#   cmake -DTROUPE_BUILD_DIR=<build> -DCONSUMER_SOURCE_DIR=<dir> -DWORK_DIR=<scratch>
#         -DGENERATOR=<generator> -DCXX_COMPILER=<c++> [-DBUILD_TYPE=<type>] [-DSANITIZE=<list>]
#         -P install_and_consume.cmake
cmake_minimum_required(VERSION 3.25)

foreach(var TROUPE_BUILD_DIR CONSUMER_SOURCE_DIR WORK_DIR GENERATOR CXX_COMPILER)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "install_and_consume.cmake: -D${var}=... is required")
  endif()
endforeach()

# Runs a command, echoing it; stops the test with its output if it fails.
function(run_step what)
  string(REPLACE ";" " " shown "${ARGN}")
  message(STATUS "${what}: ${shown}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

set(prefix ${WORK_DIR}/prefix)
set(consumer_build ${WORK_DIR}/consumer)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

set(config_args)
if(BUILD_TYPE)
  set(config_args --config ${BUILD_TYPE})
endif()
run_step("install" ${CMAKE_COMMAND} --install ${TROUPE_BUILD_DIR} --prefix ${prefix} ${config_args})

# A sanitized troupe library needs the same sanitizer runtime in the program that links it.
set(flag_args)
if(SANITIZE)
  list(APPEND flag_args "-DCMAKE_CXX_FLAGS=-fsanitize=${SANITIZE} -fno-omit-frame-pointer"
                        "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=${SANITIZE}")
endif()
run_step("configure consumer" ${CMAKE_COMMAND} -S ${CONSUMER_SOURCE_DIR} -B ${consumer_build}
         -G ${GENERATOR} -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_BUILD_TYPE=${BUILD_TYPE}
         -DCMAKE_PREFIX_PATH=${prefix} ${flag_args})

# The package must come from the fresh prefix, not from anywhere else on the machine.
file(STRINGS ${consumer_build}/CMakeCache.txt found_dir REGEX "^troupe_DIR:")
string(REGEX REPLACE "^troupe_DIR:[A-Z]*=" "" found_dir "${found_dir}")
file(REAL_PATH "${found_dir}" found_dir)
file(REAL_PATH "${prefix}" real_prefix)
string(FIND "${found_dir}" "${real_prefix}/" at)
if(NOT at EQUAL 0)
  message(FATAL_ERROR "find_package(troupe) found '${found_dir}', not the package under '${real_prefix}'")
endif()

run_step("build consumer" ${CMAKE_COMMAND} --build ${consumer_build} ${config_args})
set(program ${consumer_build}/consumer)
if(BUILD_TYPE AND EXISTS ${consumer_build}/${BUILD_TYPE}/consumer)
  set(program ${consumer_build}/${BUILD_TYPE}/consumer)  # multi-config generators
endif()
run_step("run consumer" ${program})
message(STATUS "${step_output}")
