#===- KilnUtils.cmake - Helpers shared by Kiln's CMake files -----------------===#
# SPDX-License-Identifier: Apache-2.0
#
# kiln_add_library / kiln_add_executable wrap add_library / add_executable so
# that every Kiln target gets the same warning flags (-Wall -Wextra -Werror),
# the sanitizer flags when KILN_SANITIZE is on, and links MLIR through
# mlir_target_link_libraries (the monolithic libMLIR.so on Debian).
#===----------------------------------------------------------------------===#

set(KILN_WARNING_FLAGS -Wall -Wextra -Werror -Wno-unused-parameter)

if(KILN_SANITIZE)
  set(KILN_SANITIZER_FLAGS -fsanitize=address,undefined -fno-sanitize=vptr
      -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_compile_options(${KILN_SANITIZER_FLAGS})
  add_link_options(${KILN_SANITIZER_FLAGS})
  message(STATUS "Kiln: sanitizers: ASan + UBSan")
else()
  message(STATUS "Kiln: sanitizers: off")
endif()

# The importer fuzzer (test/conformance/FuzzImporter.cpp) needs clang's
# libFuzzer and a sanitized build. There, the libraries an import runs
# through are compiled with coverage instrumentation so that coverage guides
# the fuzzer: full -fsanitize=fuzzer-no-link (edge counters + comparison
# tracing) for the frontend, the protobuf boundary, the dialect and the
# support code, edge counters only for the evaluator (its kernels' inner
# loops would pay for comparison tracing in every sanitized test). Programs
# that do not link libFuzzer get the no-op coverage hooks of the sanitizer
# runtime.
if(KILN_SANITIZE AND CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  set(KILN_FUZZ ON)
  message(STATUS "Kiln: importer fuzzer: on (libFuzzer, coverage-instrumented "
                 "frontend)")
else()
  set(KILN_FUZZ OFF)
  message(STATUS "Kiln: importer fuzzer: off (needs KILN_SANITIZE=ON and "
                 "clang)")
endif()
set(KILN_FUZZ_FULL_COVERAGE_LIBS "KilnFrontend;KilnOnnxProto;KilnDialect;KilnSupport"
    CACHE STRING "Libraries compiled with -fsanitize=fuzzer-no-link")
set(KILN_FUZZ_EDGE_COVERAGE_LIBS "KilnEvaluator"
    CACHE STRING "Libraries compiled with edge-counter coverage only")

# kiln_add_library(name SOURCES a.cpp ... [MLIR_LIBS MLIRIR ...]
#                  [LINK other-targets ...] [DEPENDS tablegen-targets ...]
#                  [EXCEPTIONS])
# EXCEPTIONS compiles the library with C++ exceptions (needed by code that
# calls into libonnx / protobuf, which throw); LLVM code builds without them.
function(kiln_add_library name)
  cmake_parse_arguments(ARG "EXCEPTIONS" "" "SOURCES;MLIR_LIBS;LINK;DEPENDS"
                        ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${KILN_WARNING_FLAGS})
  if(KILN_FUZZ AND name IN_LIST KILN_FUZZ_FULL_COVERAGE_LIBS)
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer-no-link)
  elseif(KILN_FUZZ AND name IN_LIST KILN_FUZZ_EDGE_COVERAGE_LIBS)
    target_compile_options(${name} PRIVATE
      -fsanitize-coverage=inline-8bit-counters,pc-table)
  endif()
  if(ARG_EXCEPTIONS)
    target_compile_options(${name} PRIVATE -fexceptions)
  endif()
  if(ARG_MLIR_LIBS)
    mlir_target_link_libraries(${name} PUBLIC ${ARG_MLIR_LIBS})
    # libMLIR.so depends on libLLVM.so; code using LLVM's own APIs (Support,
    # CommandLine) must name it on the link line too.
    target_link_libraries(${name} PUBLIC LLVM)
  endif()
  if(ARG_LINK)
    target_link_libraries(${name} PUBLIC ${ARG_LINK})
  endif()
  if(ARG_DEPENDS)
    add_dependencies(${name} ${ARG_DEPENDS})
  endif()
endfunction()

# kiln_add_executable(name SOURCES ... [MLIR_LIBS ...] [LINK ...])
function(kiln_add_executable name)
  cmake_parse_arguments(ARG "" "" "SOURCES;MLIR_LIBS;LINK;DEPENDS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${KILN_WARNING_FLAGS})
  if(ARG_MLIR_LIBS)
    mlir_target_link_libraries(${name} PRIVATE ${ARG_MLIR_LIBS})
    target_link_libraries(${name} PRIVATE LLVM)
  endif()
  if(ARG_LINK)
    target_link_libraries(${name} PRIVATE ${ARG_LINK})
  endif()
  if(ARG_DEPENDS)
    add_dependencies(${name} ${ARG_DEPENDS})
  endif()
endfunction()
