#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# check_report.sh RUNSTATE_BENCH RESULTS.json OUTDIR   (ctest: bench_report)
#
# Renders the reports of a results file with `runstate_bench --report-from`
# (no benchmark runs) into OUTDIR and checks what docs/benchmarks.md
# promises of report.html:
#   - every chart below exists as OUTDIR/charts/<id>.svg, drawn by gnuplot
#     from its .dat and .gp, is well-formed XML (xmllint) and holds its
#     title, the name of every series plotted and its category labels;
#   - the page links every chart, has the environment record and the same
#     tables as report.md (each report heading, the facade-tax table);
#   - the charts hold the tables' numbers: the value printed over each bar
#     of the facade-tax and LMDB charts is the cell of report.md's table.
# Exit 0: all hold; 1: one does not (the message says which); 77 (skipped)
# without gnuplot or xmllint.
#
# The fixture, quick-results.json, is a real `./scripts/bench --quick` run
# (bench-results/quick/results.json), trimmed to what the reports read:
#   jq --indent 1 'del(.context | .[keys_unsorted[] | select(. != "runstate_env")])
#     | .benchmarks |= map(del(.family_index, .per_family_instance_index,
#       .repetitions, .repetition_index, .threads, .name, .cpu_time,
#       .items_per_second, .bytes_per_second))' \
#     bench-results/quick/results.json > tests/report/quick-results.json
# Regenerate it the same way when the reports read something new.
set -euo pipefail

bench=$1
fixture=$2
out=$3

for tool in gnuplot xmllint; do
	if ! command -v "$tool" >/dev/null; then
		echo "SKIP: $tool not installed (Debian: gnuplot-nox, libxml2-utils)"
		exit 77
	fi
done

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

rm -rf "$out"
mkdir -p "$out"
cp "$fixture" "$out/results.json"
"$bench" --report-from "$out/results.json" >"$out/stdout" 2>"$out/stderr" ||
	fail "runstate_bench --report-from exited $?: $(cat "$out/stderr")"
[ ! -s "$out/stderr" ] || fail "runstate_bench said: $(cat "$out/stderr")"
for f in report.md report.html; do
	[ -s "$out/$f" ] || fail "no $out/$f"
done

# id | title | series | category labels, as docs/benchmarks.md lists them.
charts=(
	"facade_tax|1. Facade tax: A0 core, A1 engine, B facade (sharded store)|A0 core;A1 engine;B facade|GET;PUT"
	"latency|2. Red flags: per-operation latency (latency probes)|p50;p99;p99.9;max|kvstore_get;kvstore_put@unified;eventlog_append;kvstore_put_strict;kvstore_put_overwrite/1M"
	"contention_throughput|Contention (tier D): throughput by thread count|contention/disjoint;contention/disjoint_ceiling;contention/statecell;contention/eventlog|1;2;4;8"
	"contention_scaling|Contention (tier D): scaling vs 1 thread|contention/disjoint;contention/disjoint_ceiling;contention/statecell;contention/eventlog;linear (N×)|1;2;4;8"
	"durability|Durability: kvstore_put by mode, beside a bare fdatasync|per operation|kvstore_put (InMemory);kvstore_put_buffered;kvstore_put_strict;peer_fdatasync_append"
	"group_commit|Durability: strict_group_commit/N, commits/s by committers|strict_group_commit commits/s;fdatasync per commit|1;2;4;8"
	"redis|5. Redis competitiveness: time per operation|runstate (in process);Redis unpipelined;Redis pipelined|GET;SET;INCR;MULTI/EXEC, 2 SETs;LPUSH;LPOP"
	"lmdb|6. Embedded peer: LMDB: time per operation|runstate;LMDB|cache_hot_key;cache_uniform_10k;kvstore_put;kvstore_put_strict;kvstore_seek/1M;kvstore_scan/100;kvstore_scan_reverse/100"
	"ordered|Ordered keys: seeks and scans vs LMDB|runstate;LMDB|kvstore_seek/1M;kvstore_scan/100;kvstore_scan_reverse/100"
)

# svg_has FILE TEXT: TEXT is the whole content of one <text> element.
svg_has() {
	grep -qF "<text>$2</text>" "$1"
}

n=0
for c in "${charts[@]}"; do
	IFS='|' read -r id title series cats <<<"$c"
	svg=$out/charts/$id.svg
	for f in "$id.dat" "$id.gp" "$id.svg"; do
		[ -s "$out/charts/$f" ] || fail "chart $id: no charts/$f"
	done
	xmllint --noout "$svg" 2>"$out/xmllint.err" ||
		fail "chart $id: $svg is not well-formed: $(cat "$out/xmllint.err")"
	svg_has "$svg" "$title" || fail "chart $id: no title '$title' in $svg"
	IFS=';' read -r -a names <<<"$series"
	for s in "${names[@]}"; do
		svg_has "$svg" "$s" || fail "chart $id: no series '$s' in $svg"
		grep -qF "\"$s\"" "$out/charts/$id.dat" ||
			fail "chart $id: no column '$s' in charts/$id.dat"
	done
	IFS=';' read -r -a labels <<<"$cats"
	for l in "${labels[@]}"; do
		svg_has "$svg" "$l" || fail "chart $id: no label '$l' in $svg"
	done
	grep -qF "src=\"charts/$id.svg\"" "$out/report.html" ||
		fail "report.html does not show charts/$id.svg"
	n=$((n + 1))
done

# The page: the environment record and report.md's sections and tables.
html=$out/report.html
grep -qF '<h2 id="environment">Environment</h2>' "$html" ||
	fail "report.html has no environment record"
grep -qF "<li>git_commit: " "$html" || fail "report.html: no git_commit line"
while IFS= read -r h; do
	grep -qF ">${h#\#\# }</h2>" "$html" ||
		fail "report.html lacks report.md's section '$h'"
done < <(grep '^## ' "$out/report.md" | sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g')
sections=$(grep -c '^## ' "$out/report.md")
[ "$(grep -c '<h2 ' "$html")" -eq "$sections" ] ||
	fail "report.html has not report.md's $sections sections"
tables=$(grep -c '^|[- |]*-|$' "$out/report.md")
[ "$(grep -c '<table>' "$html")" -eq "$tables" ] ||
	fail "report.html has not report.md's $tables tables"

# The numbers: the cells "<benchmark> <value>" of report.md's facade-tax
# and LMDB tables, printed over the bars of the charts.
cells=0
check_cells() { # CHART: pairs "<name> <value> <unit>" on stdin
	local name value
	while read -r name value; do
		svg_has "$out/charts/$1.svg" "$value" ||
			fail "chart $1: no '$value' over $name's bar (report.md: $name $value)"
		cells=$((cells + 1))
	done
}
check_cells facade_tax < <(sed -n '/^## 1\. Facade tax/,/^## /p' "$out/report.md" |
	grep -E '^\| (GET|PUT) ' |
	awk -F'|' '{ for (i = 3; i <= 5; i++) print $i }' |
	sed -E 's/^ +//; s/ +$//')
check_cells lmdb < <(sed -n '/^## 6\. Embedded peer/,/^## /p' "$out/report.md" |
	grep -E '^\| (get|put|seek)' |
	awk -F'|' '{ print $3; print $4 }' | sed -E 's/^ +//; s/ +$//')
[ "$cells" -eq 20 ] || fail "compared $cells table cells with the charts, not 20"

echo "PASS: $n charts, well-formed, with their titles, series and labels;" \
	"$sections sections and $tables tables as report.md; $cells values as" \
	"the tables"
