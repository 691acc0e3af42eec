# SPDX-License-Identifier: MIT
#
# Test registration helpers (STYLE.md section 6).
#
#   rs_add_test(<name> SOURCES <src>... LABELS <label>...
#               [LINK <lib>...] [SHARED] [TIMEOUT <seconds>] [NO_VALGRIND])
#
# Builds executable <name> from SOURCES, linked to runstate::runstate_static
# (runstate::runstate_shared with SHARED; only the public API is reachable
# then), CMocka, Threads and, outside sanitizer builds, jemalloc. Private
# include dirs: src/ (unit tests may use rs__ internals) and tests/ (shared
# helpers). Registers ctest <name> with LABELS and TIMEOUT (default 300 s),
# and for label `unit` its valgrind copy (below) unless NO_VALGRIND.

include_guard(GLOBAL)

# valgrind copies of the unit tests: in unsanitized builds (valgrind and
# the sanitizers exclude each other) every rs_add_test() with label `unit`
# is registered a second time as <name>_valgrind, labels `valgrind` and
# `slow` (about 6 minutes of CPU in all, 2024 development VM): run them
# with `ctest -L valgrind`, or RS_TEST_VALGRIND=1 ./scripts/test. jemalloc
# is linked into unsanitized tests, so valgrind replaces its allocator too
# (--soname-synonyms). Any memory error or a definite or possible leak
# fails the test.
find_program(RS_VALGRIND valgrind)
set(RS_VALGRIND_COMMAND ${RS_VALGRIND} -q --error-exitcode=1
    --leak-check=full
    --soname-synonyms=somalloc=*jemalloc*)

# Sanitizer runtime options for a ctest test. All three are set on every
# test; each runtime reads only its own.
function(rs_set_test_environment test)
  set_property(TEST ${test} APPEND PROPERTY ENVIRONMENT
    "ASAN_OPTIONS=detect_leaks=1:abort_on_error=0"
    "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1"
    "TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=${PROJECT_SOURCE_DIR}/tests/sanitizers/tsan.supp")
endfunction()

function(rs_add_test name)
  cmake_parse_arguments(PARSE_ARGV 1 RT "SHARED;NO_VALGRIND" "TIMEOUT" "SOURCES;LABELS;LINK")
  if(RT_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "rs_add_test(${name}): unknown arguments: ${RT_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT RT_SOURCES)
    message(FATAL_ERROR "rs_add_test(${name}): SOURCES is required")
  endif()
  if(NOT RT_LABELS)
    message(FATAL_ERROR "rs_add_test(${name}): LABELS is required (unit, integration, stress, crash, fuzz, slow)")
  endif()
  if(NOT RT_TIMEOUT)
    set(RT_TIMEOUT 300)
  endif()
  if(RT_SHARED)
    set(lib runstate::runstate_shared)
  else()
    set(lib runstate::runstate_static)
  endif()

  add_executable(${name} ${RT_SOURCES})
  set_target_properties(${name} PROPERTIES
    C_STANDARD 11
    C_STANDARD_REQUIRED ON
    C_EXTENSIONS OFF)
  target_include_directories(${name} PRIVATE
    ${PROJECT_SOURCE_DIR}/src
    ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(${name} PRIVATE
    runstate_internal_flags ${lib} PkgConfig::CMOCKA Threads::Threads ${RT_LINK})
  rs_link_jemalloc(${name})

  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES
    LABELS "${RT_LABELS}"
    TIMEOUT ${RT_TIMEOUT})
  rs_set_test_environment(${name})

  if(RS_SANITIZE STREQUAL "" AND RS_VALGRIND AND "unit" IN_LIST RT_LABELS
     AND NOT RT_NO_VALGRIND)
    add_test(NAME ${name}_valgrind
      COMMAND ${RS_VALGRIND_COMMAND} $<TARGET_FILE:${name}>)
    math(EXPR _rs_vg_timeout "${RT_TIMEOUT} * 4")
    set_tests_properties(${name}_valgrind PROPERTIES
      LABELS "valgrind;slow"
      TIMEOUT ${_rs_vg_timeout})
  endif()
endfunction()
