# SPDX-License-Identifier: MIT
#
# Third-party dependencies of runstate (STYLE.md section 7). Everything is
# found through pkg-config IMPORTED_TARGETs and linked PRIVATE to the library;
# runstateConfig.cmake.in repeats the lookups with the same target names so
# that the exported static library resolves its $<LINK_ONLY:...> entries.

find_package(PkgConfig REQUIRED)
set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads REQUIRED)

# Library dependencies.
pkg_check_modules(URCU REQUIRED IMPORTED_TARGET liburcu-memb liburcu-cds)
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)

# jemalloc: inside the library only with RS_WITH_JEMALLOC; test and bench
# executables pick it up through rs_link_jemalloc() when it is available.
if(RS_WITH_JEMALLOC)
  pkg_check_modules(JEMALLOC REQUIRED IMPORTED_TARGET jemalloc)
elseif(RS_BUILD_TESTS OR RS_BUILD_BENCHMARKS)
  pkg_check_modules(JEMALLOC QUIET IMPORTED_TARGET jemalloc)
  if(NOT JEMALLOC_FOUND)
    message(STATUS "jemalloc not found: tests and benchmarks use the system malloc")
  endif()
endif()

if(RS_BUILD_TESTS)
  # Debian's cmocka 1.1.5 CMake config defines no target: use pkg-config.
  pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
endif()

if(RS_BUILD_BENCHMARKS)
  find_package(benchmark REQUIRED)  # benchmark::benchmark
  # The harness reads and writes its JSON results and baselines with
  # nlohmann/json (Debian: nlohmann-json3-dev, header-only).
  find_package(nlohmann_json 3 REQUIRED)  # nlohmann_json::nlohmann_json
  # Peers of the comparison reports (docs/benchmark-catalog.md, reports 5
  # and 6). Optional here; bench/CMakeLists.txt decides what it needs
  # (TARGET PkgConfig::HIREDIS ...).
  pkg_check_modules(HIREDIS QUIET IMPORTED_TARGET hiredis)
  pkg_check_modules(LMDB QUIET IMPORTED_TARGET lmdb)
endif()

# rs_link_jemalloc(<target>)
#
# Links jemalloc into a test or benchmark executable and defines
# RS_HAVE_JEMALLOC=1 on it. Debian builds jemalloc unprefixed, so this replaces
# malloc for the whole process. Does nothing under RS_SANITIZE: ASan and TSan
# intercept malloc themselves and conflict with jemalloc.
function(rs_link_jemalloc target)
  if(NOT RS_SANITIZE STREQUAL "")
    return()
  endif()
  if(NOT TARGET PkgConfig::JEMALLOC)
    return()
  endif()
  target_link_libraries(${target} PRIVATE PkgConfig::JEMALLOC)
  target_compile_definitions(${target} PRIVATE RS_HAVE_JEMALLOC=1)
endfunction()
