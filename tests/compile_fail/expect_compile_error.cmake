# Builds one compile-fail target and passes only if the build fails with the expected
# diagnostic. Run by CTest as
#   cmake -DBUILD_DIR=<build> -DTARGET=<target> -DEXPECTED=<text> [-DCONFIG=<type>]
#         -P expect_compile_error.cmake
cmake_minimum_required(VERSION 3.25)

foreach(var BUILD_DIR TARGET EXPECTED)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "expect_compile_error.cmake: -D${var}=... is required")
  endif()
endforeach()

set(config_args)
if(CONFIG)
  set(config_args --config ${CONFIG})
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target ${TARGET} ${config_args}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)

if(rc EQUAL 0)
  message(FATAL_ERROR "${TARGET} compiled, but it must not:\n${out}")
endif()
string(FIND "${out}" "${EXPECTED}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "${TARGET} failed to compile, but without the expected diagnostic\n"
                      "  \"${EXPECTED}\"\ncompiler output:\n${out}")
endif()
message(STATUS "${TARGET} failed to compile as expected: \"${EXPECTED}\"")
