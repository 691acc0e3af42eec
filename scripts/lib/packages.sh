# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# Sourced by scripts/test and scripts/bench.

# What building and testing runstate needs on Debian 12 (systemtap-sdt-dev:
# <sys/sdt.h>, for the RS_PERF_TRACE build of docs/perf-trace.md;
# libnats-dev and nats-server: the JetStream backend runstate_nats and the
# replication tests' clusters, docs/replication.md).
# shellcheck disable=SC2034
RS_BASE_PACKAGES=(build-essential cmake pkg-config ninja-build clang
	libclang-rt-14-dev liburcu-dev libxxhash-dev libjemalloc-dev
	libcmocka-dev libsodium-dev libjson-c-dev libbenchmark-dev git
	ca-certificates systemtap-sdt-dev libnats-dev nats-server)

# What scripts/bench needs on top: the JSON library of the harness, the
# peers of reports 5 (Redis) and 6 (LMDB), and for report.html gnuplot (its
# charts), Chromium (scripts/bench-screenshot), xmllint (the bench_report
# test) and the DejaVu fonts the charts and the page name.
# shellcheck disable=SC2034
RS_BENCH_PACKAGES=(nlohmann-json3-dev redis-server libhiredis-dev liblmdb-dev
	gnuplot-nox chromium libxml2-utils fonts-dejavu-core)

# rs_ensure_packages <debian package>...
#   Installs the packages that are not installed yet (apt-get, through sudo
#   when not root). Does nothing, and needs no network, when all are present.
rs_ensure_packages() {
	local missing=() pkg
	for pkg in "$@"; do
		if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
			grep -q 'install ok installed'; then
			missing+=("$pkg")
		fi
	done
	[ "${#missing[@]}" -eq 0 ] && return 0

	local sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		if ! command -v sudo >/dev/null; then
			echo "missing packages: ${missing[*]}; run as root or install sudo" >&2
			return 1
		fi
		sudo=(sudo)
	fi
	echo "installing missing packages: ${missing[*]}"
	"${sudo[@]}" apt-get update
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y --no-install-recommends "${missing[@]}"
}
