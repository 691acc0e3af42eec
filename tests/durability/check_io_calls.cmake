# SPDX-License-Identifier: MIT
#
# The file layer test (docs/durability.md, "The file layer"): no file of
# src/durability/ but io.c calls the file system itself. Everything else
# goes through the rs__io of its database (io.h), so that the power-loss
# and fault-injection tests see every call. Fails on a call of any of
# these functions (or a file system header) outside io.c:
#
#   open openat close read pread write pwrite fsync fdatasync rename
#   renameat unlink unlinkat ftruncate fallocate posix_fallocate mmap
#   munmap opendir fdopendir readdir closedir mkdir flock fstat stat
#
# Run: cmake -DSRC=<repo>/src -P check_io_calls.cmake
cmake_minimum_required(VERSION 3.20)

if(NOT SRC OR NOT IS_DIRECTORY "${SRC}/durability")
  message(FATAL_ERROR "check_io_calls: -DSRC=<path to src/> is required")
endif()

get_filename_component(SRC "${SRC}" ABSOLUTE)

set(calls open openat close read pread write pwrite fsync fdatasync rename
    renameat unlink unlinkat ftruncate fallocate posix_fallocate mmap munmap
    opendir fdopendir readdir closedir mkdir flock fstat stat)
list(JOIN calls "|" alt)
# A call: the name not preceded by an identifier character, '.', '>' (a
# member: io->ops->fsync) or '_' and followed by '('.
set(call_re "(^|[^A-Za-z0-9_.>])(${alt})[ \t]*\\(")
set(header_re "^[ \t]*#[ \t]*include[ \t]*<(fcntl|unistd|dirent|sys/mman|sys/file|sys/stat)\\.h>")

file(GLOB files RELATIVE "${SRC}/durability" "${SRC}/durability/*.c"
     "${SRC}/durability/*.h")
list(SORT files)
set(violations 0)
set(checked 0)
foreach(f IN LISTS files)
  if(f STREQUAL "io.c")
    continue()
  endif()
  math(EXPR checked "${checked} + 1")
  # One list element per line: brackets and semicolons would otherwise
  # join or split lines (CMake list syntax), so they are replaced first.
  file(READ "${SRC}/durability/${f}" text)
  string(REPLACE ";" "," text "${text}")
  string(REPLACE "[" "(" text "${text}")
  string(REPLACE "]" ")" text "${text}")
  string(REPLACE "\\" "/" text "${text}")
  string(REPLACE "\n" ";" lines "${text}")
  set(n 0)
  set(in_comment OFF)
  foreach(line IN LISTS lines)
    math(EXPR n "${n} + 1")
    # Comments do not count: strip /* ... */ on the line and lines
    # inside a block comment (" * ...").
    string(REGEX REPLACE "/\\*.*\\*/" "" code "${line}")
    string(REGEX REPLACE "//.*$" "" code "${code}")
    if(code MATCHES "^[ \t]*/?\\*")
      continue()
    endif()
    # String literals do not count either.
    string(REGEX REPLACE "\"[^\"]*\"" "\"\"" code "${code}")
    if(code MATCHES "${call_re}" OR code MATCHES "${header_re}")
      message(SEND_ERROR "src/durability/${f}:${n}: file system call outside io.c: ${line}")
      math(EXPR violations "${violations} + 1")
    endif()
  endforeach()
endforeach()
if(checked EQUAL 0)
  message(FATAL_ERROR "check_io_calls: no sources under ${SRC}/durability")
endif()
if(violations GREATER 0)
  message(FATAL_ERROR "check_io_calls: ${violations} direct file system call(s)")
endif()
message(STATUS "check_io_calls: ${checked} files, none calls the file system but io.c")
