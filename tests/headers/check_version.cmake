# SPDX-License-Identifier: MIT
#
# The version follows the changelog (CHANGELOG.md, "Versions"); run as
#   cmake -DCHANGELOG=<CHANGELOG.md> -DVERSION=<x.y.z> -DSOVERSION=<s>
#         [-DLIBRARY=<the built shared library> -DREADELF=<readelf>]
#         -P check_version.cmake
#
# - every second-level heading is "## Unreleased" (first, at most once) or
#   "## [X.Y.Z] - YYYY-MM-DD", releases newest first;
# - the header's version (VERSION, parsed by CMake from runstate.h) is the
#   newest release when nothing is unreleased, else above it;
# - with major version 0 the SONAME carries the minor (0.MINOR), from 1.0
#   on the major; an unreleased section that flags an API or ABI break
#   needs a version whose SONAME differs from the newest release's;
# - the built library's SONAME is librunstate.so.SOVERSION.

include(${CMAKE_CURRENT_LIST_DIR}/../../cmake/RsLines.cmake)

set(bad "")
macro(fail msg)
  string(APPEND bad "  ${msg}\n")
endmacro()

function(soversion_of v out)
  string(REGEX MATCH "^([0-9]+)\\.([0-9]+)" _ "${v}")
  if(CMAKE_MATCH_1 EQUAL 0)
    set(${out} "0.${CMAKE_MATCH_2}" PARENT_SCOPE)
  else()
    set(${out} "${CMAKE_MATCH_1}" PARENT_SCOPE)
  endif()
endfunction()

if(NOT VERSION MATCHES "^[0-9]+\\.[0-9]+\\.[0-9]+$")
  message(FATAL_ERROR "check_version: VERSION '${VERSION}' is not X.Y.Z")
endif()
soversion_of(${VERSION} want_so)
if(NOT SOVERSION STREQUAL want_so)
  fail("SOVERSION is ${SOVERSION}; version ${VERSION} wants ${want_so}")
endif()

rs_read_lines(${CHANGELOG} lines)
set(releases "")
set(n 0)
set(unreleased_at -1)
set(unreleased_lines 0)
set(unreleased_break FALSE)
set(in_unreleased FALSE)
foreach(line IN LISTS lines)
  math(EXPR n "${n} + 1")
  if(line MATCHES "^## ")
    set(in_unreleased FALSE)
    if(line STREQUAL "## Unreleased")
      if(NOT unreleased_at EQUAL -1 OR releases)
        fail("CHANGELOG.md:${n}: '## Unreleased' must come first, once")
      endif()
      set(unreleased_at ${n})
      set(in_unreleased TRUE)
    elseif(line MATCHES "^## <lb>([0-9]+\\.[0-9]+\\.[0-9]+)<rb> - [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]$")
      list(APPEND releases ${CMAKE_MATCH_1})
    else()
      fail("CHANGELOG.md:${n}: heading '${line}' is neither '## Unreleased' nor '## <lb>X.Y.Z<rb> - YYYY-MM-DD'")
    endif()
  elseif(in_unreleased AND NOT line STREQUAL "")
    math(EXPR unreleased_lines "${unreleased_lines} + 1")
    if(line MATCHES "^### .*(API|ABI)" AND NOT line MATCHES "no behaviour change")
      set(unreleased_break TRUE)
    endif()
  endif()
endforeach()

set(prev "")
foreach(r IN LISTS releases)
  if(prev AND NOT r VERSION_LESS prev)
    fail("release ${r} is listed below ${prev}: newest first")
  endif()
  set(prev ${r})
endforeach()

if(releases)
  list(GET releases 0 newest)
  if(unreleased_lines EQUAL 0)
    if(NOT VERSION VERSION_EQUAL newest)
      fail("nothing is unreleased, so the version is the newest release, ${newest}, not ${VERSION}")
    endif()
  elseif(NOT VERSION VERSION_GREATER newest)
    fail("CHANGELOG.md lists unreleased changes: the version (${VERSION}) must be above the newest release, ${newest}")
  else()
    soversion_of(${newest} newest_so)
    if(unreleased_break AND newest_so STREQUAL want_so)
      fail("unreleased API/ABI changes need a new SONAME: ${VERSION} keeps ${newest}'s (${want_so})")
    endif()
  endif()
elseif(unreleased_at EQUAL -1)
  fail("CHANGELOG.md has neither '## Unreleased' nor a release")
endif()

if(LIBRARY)
  # file(READ_ELF) reads nothing in script mode (CMake 3.25): readelf.
  execute_process(COMMAND ${READELF} -d ${LIBRARY}
                  OUTPUT_VARIABLE dyn RESULT_VARIABLE rc)
  set(soname "")
  if(rc EQUAL 0 AND dyn MATCHES "Library soname: \\[([^]]+)\\]")
    set(soname ${CMAKE_MATCH_1})
  endif()
  if(NOT soname STREQUAL "librunstate.so.${SOVERSION}")
    fail("${LIBRARY}: SONAME is '${soname}', want librunstate.so.${SOVERSION}")
  endif()
endif()

list(LENGTH releases nrel)
if(bad)
  message(FATAL_ERROR "check_version: FAIL\n${bad}")
endif()
message(STATUS "check_version: ${VERSION} (SONAME librunstate.so.${SOVERSION}); "
               "${nrel} releases, ${unreleased_lines} unreleased lines")
