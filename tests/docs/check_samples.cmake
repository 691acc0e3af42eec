# SPDX-License-Identifier: MIT
#
# Every ```c block of the given Markdown files compiles:
#   cmake -DCC=<compiler> -DINCLUDE_DIR=<include> -DBENCH_DIR=<bench>
#         -DWORK=<dir> -DDOCS=<a.md|b.md> -P check_samples.cmake
# Each block becomes its own translation unit after the prelude below and is
# compiled with -fsyntax-only and strict warnings (bench/ is on the include
# path for benchmarks.md's sample); any error fails the run,
# naming the file and the line the block starts at. A block that is not
# meant to compile must not be marked c (use text, sh, ...).
cmake_minimum_required(VERSION 3.20)

set(prelude "#define _GNU_SOURCE\n#include <runstate.h>\n#include <stdbool.h>\n#include <stdint.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n")
include(${CMAKE_CURRENT_LIST_DIR}/../../cmake/RsLines.cmake)
string(REPLACE "|" ";" DOCS "${DOCS}")
file(MAKE_DIRECTORY "${WORK}")
set(failed 0)
set(count 0)
foreach(doc IN LISTS DOCS)
  rs_read_lines("${doc}" lines)
  get_filename_component(base "${doc}" NAME_WE)
  set(in OFF)
  set(lineno 0)
  foreach(line IN LISTS lines)
    math(EXPR lineno "${lineno} + 1")
    if(NOT in AND line STREQUAL "```c")
      set(in ON)
      set(block "")
      set(start ${lineno})
    elseif(in AND line STREQUAL "```")
      set(in OFF)
      math(EXPR count "${count} + 1")
      set(src "${WORK}/${base}_${start}.c")
      rs_restore_text(block)
      math(EXPR first "${start} + 1")
      file(WRITE "${src}" "${prelude}#line ${first} \"${doc}\"\n${block}")
      execute_process(
        COMMAND ${CC} -std=c11 -fsyntax-only -Wall -Wextra -Wpedantic
                -Werror -Wno-unused-function -I${INCLUDE_DIR}
                -I${BENCH_DIR} -I${BENCH_DIR}/harness ${src}
        RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
      if(NOT rc EQUAL 0)
        message(SEND_ERROR "${doc}:${start}: sample does not compile:\n${out}")
        set(failed 1)
      endif()
    elseif(in)
      string(APPEND block "${line}\n")
    endif()
  endforeach()
  if(in)
    message(SEND_ERROR "${doc}: unterminated ```c block")
  endif()
endforeach()
if(count EQUAL 0)
  message(FATAL_ERROR "no ```c blocks found in: ${DOCS}")
endif()
message(STATUS "${count} C samples compiled")
