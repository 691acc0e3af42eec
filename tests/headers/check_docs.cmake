# SPDX-License-Identifier: MIT
#
# Header/code agreement, run by ctest as
#   cmake -DINCLUDE_DIR=<include> -P check_docs.cmake
#
# Fails (listing every problem) unless, in every .h under INCLUDE_DIR:
#  - every RS_API declaration has a doc comment (/** ... */) right above it
#    with a "Thread safety:" line;
#  - every `RS_API int` function's doc has an @return;
#  - every rs_txn_* function that takes `rs_txn *txn` names RS_EDONE in it
#    (the best-effort stale-handle code, see "Conventions");
#  - every write of a run's data (a put, delete, append, record, or a
#    StateCell init/set/cas/transition/delete, one-shot or in a
#    transaction, and rs_txn_commit/rs_txn_run) names RS_EARCHIVED, which
#    an archived run's commit returns;
#  - every RS_E<NAME> written anywhere is a row of RS_ERROR_MAP (in
#    INCLUDE_DIR/runstate.h).
cmake_minimum_required(VERSION 3.20)

if(NOT INCLUDE_DIR OR NOT EXISTS "${INCLUDE_DIR}/runstate.h")
  message(FATAL_ERROR "usage: cmake -DINCLUDE_DIR=<dir with runstate.h> -P check_docs.cmake")
endif()
set(ERROR_HEADER "${INCLUDE_DIR}/runstate.h")
file(GLOB_RECURSE HEADERS "${INCLUDE_DIR}/*.h")
list(SORT HEADERS)

# Read a file as a CMake list of lines. Semicolons and square brackets are
# list syntax in CMake, so they are replaced before splitting.
function(read_lines path out)
  file(READ "${path}" text)
  string(REPLACE ";" "<semi>" text "${text}")
  string(REPLACE "[" "<lb>" text "${text}")
  string(REPLACE "]" "<rb>" text "${text}")
  string(REPLACE "\\" "<bs>" text "${text}")
  string(REPLACE "\n" ";" text "${text}")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

# The error names: XX(NAME, "message") rows of RS_ERROR_MAP.
read_lines("${ERROR_HEADER}" map_lines)
set(codes "")
set(in_map FALSE)
foreach(line IN LISTS map_lines)
  if(line MATCHES "^#define RS_ERROR_MAP\\(XX\\)")
    set(in_map TRUE)
  elseif(in_map)
    if(line MATCHES "XX\\(([A-Z0-9]+),")
      list(APPEND codes "RS_${CMAKE_MATCH_1}")
    endif()
    if(NOT line MATCHES "<bs>[ \t]*$")
      set(in_map FALSE)
    endif()
  endif()
endforeach()
list(LENGTH codes ncodes)
if(ncodes LESS 10)
  message(FATAL_ERROR "check_docs: found only ${ncodes} rows of RS_ERROR_MAP in ${ERROR_HEADER}")
endif()

set(problems "")
set(nfuncs 0)
foreach(header IN LISTS HEADERS)
  get_filename_component(hname "${header}" NAME)
  read_lines("${header}" lines)
  set(lineno 0)
  set(in_doc FALSE)
  set(doc "")
  set(doc_ready FALSE) # a doc comment ended on the line just before
  foreach(line IN LISTS lines)
    math(EXPR lineno "${lineno} + 1")

    # Every RS_E<NAME> on the line: an error code unless followed by '_'
    # (RS_EVENT_F_PENDING, RS_EXPERIMENTAL_API are not codes).
    set(rest "${line}")
    while(rest MATCHES "RS_E[A-Z0-9]+(.*)$")
      set(tail "${CMAKE_MATCH_1}")
      string(REGEX MATCH "RS_E[A-Z0-9]+" name "${rest}")
      if(NOT tail MATCHES "^_")
        list(FIND codes "${name}" at)
        if(at LESS 0 AND NOT line MATCHES "^#define RS_ERROR_MAP")
          list(APPEND problems "${hname}:${lineno}: ${name} is not in RS_ERROR_MAP")
        endif()
      endif()
      set(rest "${tail}")
    endwhile()

    if(in_doc)
      string(APPEND doc " ${line}")
      if(line MATCHES "\\*/")
        set(in_doc FALSE)
        set(doc_ready TRUE)
      endif()
      continue()
    endif()
    if(line MATCHES "^[ \t]*/\\*\\*")
      set(doc "${line}")
      if(line MATCHES "\\*/")
        set(doc_ready TRUE)
      else()
        set(in_doc TRUE)
      endif()
      continue()
    endif()

    if(line MATCHES "^RS_API[ \t]+(.*)$")
      set(decl "${CMAKE_MATCH_1}")
      string(REGEX MATCH "([a-z0-9_]+)\\(" fn "${decl}")
      string(REPLACE "(" "" fn "${fn}")
      math(EXPR nfuncs "${nfuncs} + 1")
      if(NOT doc_ready)
        list(APPEND problems "${hname}:${lineno}: ${fn}: no doc comment right above it")
      else()
        if(NOT doc MATCHES "Thread safety:")
          list(APPEND problems "${hname}:${lineno}: ${fn}: no \"Thread safety:\" line")
        endif()
        if(decl MATCHES "^int[ \t]" AND NOT doc MATCHES "@return")
          list(APPEND problems "${hname}:${lineno}: ${fn}: returns int but its doc has no @return")
        endif()
        if(fn MATCHES "^rs_txn_" AND decl MATCHES "\\(rs_txn \\*txn"
           AND decl MATCHES "^int[ \t]" AND NOT doc MATCHES "RS_EDONE")
          list(APPEND problems "${hname}:${lineno}: ${fn}: takes a transaction but does not name RS_EDONE")
        endif()
        if(fn MATCHES "^rs_(txn_)?(kv_put|kv_delete|eventlog_append|statecell_(init|set|cas|transition|delete)|tracestore_record)$"
           OR fn STREQUAL "rs_txn_commit" OR fn STREQUAL "rs_txn_run")
          if(NOT doc MATCHES "RS_EARCHIVED")
            list(APPEND problems "${hname}:${lineno}: ${fn}: writes a run's data but does not name RS_EARCHIVED")
          endif()
        endif()
      endif()
    endif()
    # Anything but a blank line separates a doc comment from what follows.
    if(NOT line MATCHES "^[ \t]*$")
      set(doc_ready FALSE)
    endif()
  endforeach()
endforeach()

if(nfuncs LESS 50)
  message(FATAL_ERROR "check_docs: found only ${nfuncs} RS_API declarations; is the parser broken?")
endif()
if(problems)
  list(LENGTH problems n)
  string(REPLACE ";" "\n  " text "${problems}")
  string(REPLACE "<semi>" ";" text "${text}")
  string(REPLACE "<lb>" "[" text "${text}")
  string(REPLACE "<rb>" "]" text "${text}")
  string(REPLACE "<bs>" "\\" text "${text}")
  message(FATAL_ERROR "check_docs: ${n} problem(s) in the public headers:\n  ${text}")
endif()
message(STATUS "check_docs: ${nfuncs} RS_API declarations, ${ncodes} error codes: OK")
