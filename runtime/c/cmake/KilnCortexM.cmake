#===- KilnCortexM.cmake - Cross-build programs for QEMU's MPS2 boards ------===#
# SPDX-License-Identifier: Apache-2.0
#
# kiln_add_cortexm_program(<name> CPU m4|m7|m55 [PORTABLE]
#                          SOURCES <files...> [INCLUDES <dirs...>]
#                          [DEFINES <defs...>] [DEPENDS <targets/files...>])
#
# Builds <name>.elf (and <name>.map) in the current binary folder with
# arm-none-eabi-gcc: the given sources, the whole C runtime (runtime/c/src)
# and the board support (startup.c, semihost.c, the board's linker script),
# newlib-nano with semihosting. PORTABLE defines KILN_RT_PORTABLE (no DSP
# path). Adds a target <name> and sets in the caller:
#   <name>_ELF    the ELF path
#   <name>_QEMU   the qemu-system-arm command prefix that runs it
# Flags (TOOLCHAIN.md): -std=c99 -O2 -mthumb -mfloat-abi=hard, per CPU
#   m4  -mcpu=cortex-m4  -mfpu=fpv4-sp-d16  board mps2-an386 (an386.ld)
#   m7  -mcpu=cortex-m7  -mfpu=fpv5-d16     board mps2-an500 (an500.ld)
#   m55 -mcpu=cortex-m55 (FPU + MVE)        board mps3-an547 (an547.ld)
#===----------------------------------------------------------------------===#

set(KILN_MPS2_DIR ${CMAKE_CURRENT_LIST_DIR}/../platform/mps2)
get_filename_component(KILN_MPS2_DIR ${KILN_MPS2_DIR} ABSOLUTE)
set(KILN_MPS2_DIR ${KILN_MPS2_DIR} CACHE INTERNAL "MPS2 board support")

# Returns in <prefix>_FLAGS, <prefix>_BOARD and <prefix>_MACHINE the compile
# flags, linker script stem and QEMU machine of |cpu|.
function(kiln_cortexm_cpu_info cpu prefix)
  if(cpu STREQUAL "m4")
    set(flags -mcpu=cortex-m4 -mfpu=fpv4-sp-d16)
    set(board an386)
    set(machine mps2-an386)
  elseif(cpu STREQUAL "m7")
    set(flags -mcpu=cortex-m7 -mfpu=fpv5-d16)
    set(board an500)
    set(machine mps2-an500)
  elseif(cpu STREQUAL "m55")
    set(flags -mcpu=cortex-m55)
    set(board an547)
    set(machine mps3-an547)
  else()
    message(FATAL_ERROR "kiln_cortexm_cpu_info: unknown CPU '${cpu}', "
                        "expected m4, m7 or m55")
  endif()
  set(${prefix}_FLAGS -mthumb -mfloat-abi=hard ${flags} PARENT_SCOPE)
  set(${prefix}_BOARD ${board} PARENT_SCOPE)
  set(${prefix}_MACHINE ${machine} PARENT_SCOPE)
endfunction()

function(kiln_add_cortexm_program name)
  cmake_parse_arguments(ARG "PORTABLE" "CPU"
                        "SOURCES;INCLUDES;DEFINES;DEPENDS" ${ARGN})
  if(NOT KILN_ARM_GCC)
    message(FATAL_ERROR "kiln_add_cortexm_program: arm-none-eabi-gcc missing")
  endif()
  kiln_cortexm_cpu_info(${ARG_CPU} cpu)
  file(GLOB rt_sources ${KILN_RT_DIR}/src/*.c)
  file(GLOB rt_headers ${KILN_RT_DIR}/src/*.h ${KILN_RT_DIR}/include/*.h)
  set(elf ${CMAKE_CURRENT_BINARY_DIR}/${name}.elf)
  set(defines)
  foreach(def ${ARG_DEFINES})
    list(APPEND defines -D${def})
  endforeach()
  if(ARG_PORTABLE)
    list(APPEND defines -DKILN_RT_PORTABLE)
  endif()
  set(includes -I${KILN_RT_DIR}/include -I${KILN_RT_DIR}/src -I${KILN_MPS2_DIR})
  foreach(dir ${ARG_INCLUDES})
    list(APPEND includes -I${dir})
  endforeach()
  add_custom_command(
    OUTPUT ${elf}
    COMMAND ${KILN_ARM_GCC} -std=c99 -O2 -g -Wall -Wextra -Werror -pedantic
            ${cpu_FLAGS} ${defines} ${includes}
            --specs=nano.specs --specs=rdimon.specs
            -ffunction-sections -fdata-sections -Wl,--gc-sections
            -L${KILN_MPS2_DIR} -T${cpu_BOARD}.ld
            -Wl,-Map=${CMAKE_CURRENT_BINARY_DIR}/${name}.map
            ${ARG_SOURCES} ${rt_sources}
            ${KILN_MPS2_DIR}/startup.c ${KILN_MPS2_DIR}/semihost.c -o ${elf}
    DEPENDS ${ARG_SOURCES} ${rt_sources} ${rt_headers} ${ARG_DEPENDS}
            ${KILN_MPS2_DIR}/startup.c ${KILN_MPS2_DIR}/semihost.c
            ${KILN_MPS2_DIR}/kiln_mps2.h ${KILN_MPS2_DIR}/${cpu_BOARD}.ld
            ${KILN_MPS2_DIR}/mps2_sections.ld
    WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}
    COMMENT "Cross-compiling ${name}.elf (${ARG_CPU})"
    VERBATIM)
  add_custom_target(${name} ALL DEPENDS ${elf})
  set(${name}_ELF ${elf} PARENT_SCOPE)
  set(${name}_QEMU ${KILN_QEMU_ARM} -M ${cpu_MACHINE} -nographic
      -semihosting -kernel ${elf} PARENT_SCOPE)
endfunction()
