# SPDX-License-Identifier: MIT
#
# The README's C example is examples/kv_quickstart.c, byte for byte:
#   cmake -DREADME=README.md -DEXAMPLE=examples/kv_quickstart.c -P check_readme.cmake
# The README holds it in the first ```c block after the line
# "<!-- example: examples/kv_quickstart.c -->".
file(READ "${README}" readme)
file(READ "${EXAMPLE}" example)
set(marker "<!-- example: examples/kv_quickstart.c -->\n```c\n")
string(FIND "${readme}" "${marker}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "README.md has no \"${marker}\" block")
endif()
string(LENGTH "${marker}" mlen)
math(EXPR start "${at} + ${mlen}")
string(SUBSTRING "${readme}" ${start} -1 rest)
string(FIND "${rest}" "```\n" end)
string(SUBSTRING "${rest}" 0 ${end} block)
if(NOT block STREQUAL example)
  message(FATAL_ERROR "README.md's example differs from ${EXAMPLE}: "
                      "copy the file into the README (or the README into the file)")
endif()
message(STATUS "README example matches ${EXAMPLE}")
