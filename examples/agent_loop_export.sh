#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The end of agent_loop's story, with the runstate tool (ctest:
# example_agent_loop_export): run the agent (killed mid-run, recovered,
# finished) into a directory that is kept, verify that directory, export
# the run as a portable file, import it into a new database, verify that
# one, and check that both hold the same run (the same counts of KV
# entries, events, cells and traces; the chain is rebuilt on import with
# new timestamps, so its head differs).
#
# Usage: agent_loop_export.sh AGENT_LOOP RUNSTATE
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 AGENT_LOOP RUNSTATE" >&2; exit 2; }
agent=$1 tool=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/agent_loop_export.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() {
	echo "agent_loop_export: FAIL: $*" >&2
	exit 1
}

"$agent" "$work/db" | tee "$work/agent.out"
run=$(sed -n 's/^run \([0-9a-f-]\{36\}\): .*/\1/p' "$work/agent.out")
[ -n "$run" ] || fail "agent_loop printed no run id"

"$tool" verify "$work/db" || fail "runstate verify of the agent's database"
"$tool" export "$work/db" "$run" >"$work/run.jsonl" || fail "export"
"$tool" import --create "$work/copy" <"$work/run.jsonl" || fail "import"
"$tool" verify "$work/copy" || fail "runstate verify of the copy"
"$tool" export "$work/copy" "$run" >"$work/copy.jsonl" || fail "export again"

# The end lines without the chain's head hash.
counts() {
	tail -n 1 "$1" | sed 's/,"head_hash":"[0-9a-f]*"//'
}
[ "$(counts "$work/run.jsonl")" = "$(counts "$work/copy.jsonl")" ] ||
	fail "the copy differs: $(counts "$work/run.jsonl") vs $(counts "$work/copy.jsonl")"
echo "agent_loop_export: ok: run $run exported ($(wc -l <"$work/run.jsonl") lines), imported and verified"
