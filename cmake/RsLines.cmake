# SPDX-License-Identifier: MIT
#
# Reading a text file line by line in a CMake script (-P). Semicolons and
# square brackets are list syntax in CMake, and a backslash escapes, so
# they travel as placeholders (<semi>, <lb>, <rb>, <bs>) while the text is
# a list; rs_restore_text() puts them back.

include_guard(GLOBAL)

# out: the lines of `path` as a CMake list, with placeholders.
function(rs_read_lines path out)
  file(READ "${path}" text)
  string(REPLACE ";" "<semi>" text "${text}")
  string(REPLACE "[" "<lb>" text "${text}")
  string(REPLACE "]" "<rb>" text "${text}")
  string(REPLACE "\\" "<bs>" text "${text}")
  string(REPLACE "\n" ";" text "${text}")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

# var: its text with the placeholders turned back into what they stand for.
function(rs_restore_text var)
  set(text "${${var}}")
  string(REPLACE "<semi>" ";" text "${text}")
  string(REPLACE "<lb>" "[" text "${text}")
  string(REPLACE "<rb>" "]" text "${text}")
  string(REPLACE "<bs>" "\\" text "${text}")
  set(${var} "${text}" PARENT_SCOPE)
endfunction()
