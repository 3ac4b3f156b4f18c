#===- KilnSubdirs.cmake - Add every child folder that has a CMakeLists ------===#
# SPDX-License-Identifier: Apache-2.0
#
# kiln_add_subdirectories() adds each immediate child folder of the current
# source folder that contains a CMakeLists.txt, in sorted order. Components
# (a pass phase, a runtime, a unit-test folder) then join the build by
# existing, without edits to a shared list.
#===----------------------------------------------------------------------===#
function(kiln_add_subdirectories)
  file(GLOB children LIST_DIRECTORIES true RELATIVE
       ${CMAKE_CURRENT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR}/*)
  list(SORT children)
  foreach(child ${children})
    if(IS_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/${child} AND
       EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${child}/CMakeLists.txt)
      add_subdirectory(${child})
    endif()
  endforeach()
endfunction()
