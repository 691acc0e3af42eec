# SPDX-License-Identifier: MIT
#
# The layer test (docs/architecture.md): reads every #include "..." in
# src/ and fails on any that points against the layer order
#
#   util <- storage <- txn <- primitives      durability <- util only
#   runstate.c (top) may include every layer
#
# A file may include its own layer and the layers it is allowed to see.
# The txn layer reaches durability only through its vtable
# (durability/durability.h), which is why txn may include durability.
#
# Run: cmake -DSRC=<repo>/src -P check_layers.cmake
cmake_minimum_required(VERSION 3.20)

if(NOT SRC OR NOT IS_DIRECTORY "${SRC}")
  message(FATAL_ERROR "check_layers: -DSRC=<path to src/> is required")
endif()

get_filename_component(SRC "${SRC}" ABSOLUTE)

set(allow_util       util)
set(allow_durability util durability)
set(allow_storage    util storage)
set(allow_txn        util storage durability txn)
set(allow_primitives util txn primitives)
set(layers util durability storage txn primitives)

file(GLOB_RECURSE files RELATIVE "${SRC}" "${SRC}/*.c" "${SRC}/*.h")
list(SORT files)
if(NOT files)
  message(FATAL_ERROR "check_layers: no sources under ${SRC}")
endif()
set(violations 0)
set(checked 0)
foreach(f IN LISTS files)
  string(REGEX MATCH "^[^/]+" layer "${f}")
  if(f STREQUAL "runstate.c")
    continue() # the top: public entry points, may see every layer
  endif()
  if(NOT layer IN_LIST layers)
    message(SEND_ERROR "check_layers: ${f} is in no known layer (add it to the order here and in docs/architecture.md)")
    math(EXPR violations "${violations} + 1")
    continue()
  endif()
  file(STRINGS "${SRC}/${f}" lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
  set(n 0)
  foreach(line IN LISTS lines)
    string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([^\"]*)\".*" "\\1" inc "${line}")
    math(EXPR checked "${checked} + 1")
    string(REGEX MATCH "^[^/]+" target "${inc}")
    if(NOT inc MATCHES "/")
      message(SEND_ERROR "check_layers: ${f} includes \"${inc}\": name the layer (\"${layer}/${inc}\")")
      math(EXPR violations "${violations} + 1")
    elseif(NOT target IN_LIST allow_${layer})
      message(SEND_ERROR "check_layers: ${f} (layer ${layer}) includes \"${inc}\" (layer ${target}): ${layer} may include only: ${allow_${layer}}")
      math(EXPR violations "${violations} + 1")
    endif()
  endforeach()
endforeach()

list(LENGTH files nfiles)
if(violations GREATER 0)
  message(FATAL_ERROR "check_layers: ${violations} include(s) against the layer order")
endif()
message(STATUS "check_layers: ${nfiles} files, ${checked} includes, all in layer order")
