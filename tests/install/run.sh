#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Install-tree consumer test, run by ctest (tests/install/CMakeLists.txt).
#
# 1. cmake --install <build dir> into a fresh temporary prefix: headers,
#    both libraries (the SONAME as CHANGELOG.md, "Versions", says), the
#    CMake package, pkg-config, the tool and its man page, the docs.
# 2. Build tests/install/consumer (C and C++) four ways and run every binary:
#      find_package(runstate) + runstate::runstate_static
#      find_package(runstate) + runstate::runstate_shared
#      pkg-config --cflags --libs runstate           (shared)
#      pkg-config --cflags --libs --static runstate  (librunstate.a)
#    Only the prefix is visible to these builds, never the source tree.
# 3. Build every program of examples/ against the prefix (pkg-config) and
#    run it.
# 4. With --nats=1 (runstate_nats was built): its header, archive, CMake
#    component and runstate-nats.pc are installed; consumer_nats builds
#    with find_package(runstate COMPONENTS nats) and with pkg-config
#    (beside the shared core) and runs (no server: argument checks and a
#    refused connection).
# Any failure stops the script with a non-zero exit and a FAIL line.
set -euo pipefail

build_dir="" config="" cc="cc" cxx="c++" generator="" libdir="lib"
version="" soversion="" sanitize="" tool=0 nats=0
for arg in "$@"; do
	case "$arg" in
	--build-dir=*) build_dir=${arg#*=} ;;
	--config=*) config=${arg#*=} ;;
	--cc=*) cc=${arg#*=} ;;
	--cxx=*) cxx=${arg#*=} ;;
	--generator=*) generator=${arg#*=} ;;
	--libdir=*) libdir=${arg#*=} ;;
	--version=*) version=${arg#*=} ;;
	--soversion=*) soversion=${arg#*=} ;;
	--sanitize=*) sanitize=${arg#*=} ;;
	--tool=*) tool=${arg#*=} ;;
	--nats=*) nats=${arg#*=} ;;
	*) echo "run.sh: unknown argument: $arg" >&2; exit 2 ;;
	esac
done

die() {
	echo "install test: FAIL: $*" >&2
	exit 1
}
step() {
	echo "== $*"
}

[ -n "$build_dir" ] || die "--build-dir is required"
[ -f "$build_dir/CMakeCache.txt" ] || die "$build_dir is not a CMake build tree"
[ -n "$version" ] || die "--version is required"
[ -n "$soversion" ] || die "--soversion is required"
command -v pkg-config >/dev/null || die "pkg-config is not installed"
command -v readelf >/dev/null || die "readelf (binutils) is not installed"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
consumer_src="$here/consumer"
work=$(mktemp -d "${TMPDIR:-/tmp}/runstate-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"
libpath="$prefix/$libdir"

san_flags=()
if [ -n "$sanitize" ]; then
	san_flags=(-fsanitize="$sanitize" -fno-omit-frame-pointer
		   -fno-sanitize-recover=all)
fi

step "install $build_dir into $prefix"
install_args=(--install "$build_dir" --prefix "$prefix")
[ -n "$config" ] && install_args+=(--config "$config")
cmake "${install_args[@]}" || die "cmake --install failed"
for f in include/runstate.h include/runstate/durability.h \
	 "$libdir/librunstate.a" "$libdir/librunstate.so" \
	 "$libdir/librunstate.so.$soversion" \
	 "$libdir/cmake/runstate/runstateConfig.cmake" \
	 "$libdir/cmake/runstate/runstateConfigVersion.cmake" \
	 "$libdir/cmake/runstate/runstateTargets.cmake" \
	 "$libdir/pkgconfig/runstate.pc" \
	 share/doc/runstate/README.md share/doc/runstate/CHANGELOG.md \
	 share/doc/runstate/LICENSE share/doc/runstate/docs/guide.md \
	 share/doc/runstate/docs/wal-format.md \
	 share/doc/runstate/examples/kv_quickstart.c; do
	[ -e "$prefix/$f" ] || die "not installed: $f"
done
soname=$(readelf -d "$prefix/$libdir/librunstate.so" |
	sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "librunstate.so.$soversion" ] ||
	die "SONAME is '$soname', want librunstate.so.$soversion"
# The runstate tool and its man page (RS_BUILD_TOOLS).
if [ "$tool" = 1 ]; then
	for f in bin/runstate share/man/man1/runstate.1; do
		[ -e "$prefix/$f" ] || die "not installed: $f"
	done
	"$prefix/bin/runstate" --version | grep -q "runstate $version" ||
		die "the installed runstate tool does not run"
fi

if [ "$nats" = 1 ]; then
	for f in include/runstate/nats.h "$libdir/librunstate_nats.a" \
		 "$libdir/cmake/runstate/runstateNatsTargets.cmake" \
		 "$libdir/pkgconfig/runstate-nats.pc"; do
		[ -e "$prefix/$f" ] || die "not installed: $f"
	done
elif [ -e "$prefix/include/runstate/nats.h" ]; then
	die "runstate/nats.h is installed without runstate_nats"
fi

# check_linkage <binary> static|shared: NEEDED must (not) name librunstate.
check_linkage() {
	local needed
	needed=$(readelf -d "$1" | grep NEEDED || true)
	case "$2" in
	shared)
		grep -q "librunstate\.so\.$soversion" <<<"$needed" ||
			die "$1 does not link librunstate.so"
		;;
	static)
		if grep -q librunstate <<<"$needed"; then
			die "$1 links librunstate.so, want librunstate.a"
		fi
		;;
	esac
}

# run_consumer <binary> static|shared
run_consumer() {
	check_linkage "$1" "$2"
	step "run $1"
	LD_LIBRARY_PATH="$libpath${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$1" ||
		die "$1 exited with status $?"
}

for kind in static shared; do
	bdir="$work/cmake-$kind"
	step "find_package(runstate) with runstate::runstate_$kind"
	gen_args=()
	[ -n "$generator" ] && gen_args=(-G "$generator")
	nats_args=()
	[ "$nats" = 1 ] && [ "$kind" = static ] && nats_args=(-DRS_CONSUMER_NATS=ON)
	cmake -S "$consumer_src" -B "$bdir" "${gen_args[@]}" "${nats_args[@]}" \
		-DCMAKE_BUILD_TYPE=Debug \
		-DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
		-DCMAKE_C_FLAGS="${san_flags[*]}" \
		-DCMAKE_CXX_FLAGS="${san_flags[*]}" \
		-DCMAKE_PREFIX_PATH="$prefix" \
		-DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
		-DRS_CONSUMER_TARGET="runstate::runstate_$kind" \
		-DRS_EXPECTED_VERSION="$version" ||
		die "configuring the consumer ($kind) failed"
	found=$(sed -n 's/^runstate_DIR:PATH=//p' "$bdir/CMakeCache.txt")
	case "$found" in
	"$prefix"/*) ;;
	*) die "find_package(runstate) found '$found', not the temp prefix" ;;
	esac
	cmake --build "$bdir" || die "building the consumer ($kind) failed"
	run_consumer "$bdir/consumer_c" "$kind"
	run_consumer "$bdir/consumer_cxx" "$kind"
	if [ ${#nats_args[@]} -gt 0 ]; then
		run_consumer "$bdir/consumer_nats" static
	fi
done

export PKG_CONFIG_PATH="$libpath/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
pc_version=$(pkg-config --modversion runstate) || die "pkg-config cannot find runstate"
[ "$pc_version" = "$version" ] || die "runstate.pc says $pc_version, want $version"
pc_prefix=$(pkg-config --variable=prefix runstate)
[ "$(realpath "$pc_prefix")" = "$(realpath "$prefix")" ] ||
	die "runstate.pc resolves prefix to $pc_prefix, not $prefix"

read -r -a pc_cflags <<<"$(pkg-config --cflags runstate)"
read -r -a pc_libs_shared <<<"$(pkg-config --libs runstate)"
# --static lists the private deps; -l:librunstate.a makes the linker take the
# archive even though librunstate.so sits beside it.
pc_libs_static=()
for w in $(pkg-config --libs --static runstate); do
	[ "$w" = "-lrunstate" ] && w="-l:librunstate.a"
	pc_libs_static+=("$w")
done

for kind in shared static; do
	step "pkg-config ($kind)"
	bdir="$work/pc-$kind"
	mkdir -p "$bdir"
	if [ "$kind" = shared ]; then
		libs=("${pc_libs_shared[@]}")
	else
		libs=("${pc_libs_static[@]}")
	fi
	"$cc" -std=c11 -Wall -Wextra -Wpedantic -Werror "${san_flags[@]}" \
		"${pc_cflags[@]}" "$consumer_src/consumer.c" \
		-o "$bdir/consumer_c" "${libs[@]}" ||
		die "pkg-config C consumer ($kind) failed to build"
	"$cxx" -std=c++17 -Wall -Wextra -Wpedantic -Werror "${san_flags[@]}" \
		"${pc_cflags[@]}" "$consumer_src/consumer.cpp" \
		-o "$bdir/consumer_cxx" "${libs[@]}" ||
		die "pkg-config C++ consumer ($kind) failed to build"
	run_consumer "$bdir/consumer_c" "$kind"
	run_consumer "$bdir/consumer_cxx" "$kind"
done

# The examples, as a user builds them: against the installed copy only.
examples_src="$here/../../examples"
step "examples against the installed copy (pkg-config, shared)"
bdir="$work/examples"
mkdir -p "$bdir"
nex=0
for src in "$examples_src"/*.c "$examples_src"/*.cpp; do
	name=$(basename "${src%.*}")
	case "$src" in
	*.c) build=("$cc" -std=c11) ;;
	*) build=("$cxx" -std=c++17) ;;
	esac
	"${build[@]}" -Wall -Wextra -Werror -pthread "${san_flags[@]}" \
		"${pc_cflags[@]}" "$src" -o "$bdir/$name" \
		"${pc_libs_shared[@]}" ||
		die "example $name failed to build against the install"
	run_consumer "$bdir/$name" shared
	nex=$((nex + 1))
done
[ "$nex" -ge 4 ] || die "only $nex examples found in $examples_src"

nconsumers=8
if [ "$nats" = 1 ]; then
	step "pkg-config runstate-nats (the backend beside the shared core)"
	bdir="$work/pc-nats"
	mkdir -p "$bdir"
	read -r -a nats_cflags <<<"$(pkg-config --cflags runstate-nats)" ||
		die "pkg-config cannot find runstate-nats"
	read -r -a nats_libs <<<"$(pkg-config --libs runstate-nats)"
	"$cc" -std=c11 -Wall -Wextra -Wpedantic -Werror "${san_flags[@]}" \
		"${nats_cflags[@]}" "$consumer_src/consumer_nats.c" \
		-o "$bdir/consumer_nats" "${nats_libs[@]}" ||
		die "pkg-config nats consumer failed to build"
	run_consumer "$bdir/consumer_nats" shared
	nconsumers=10
fi

echo "install test: OK ($nconsumers consumer binaries and $nex examples built and run)"
