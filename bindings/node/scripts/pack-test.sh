#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The package as a user installs it: `npm pack` (which copies the C sources
# into vendor/, scripts/vendor.js), then `npm install` of the tarball into a
# fresh project in a temporary directory (building the library and the
# addon there from the tarball alone), then both entry points, CommonJS and
# ES module, of runstate and runstate/langgraph used from that project.
# About 15-25 s on 2 cores (15 s in scripts/test with a warm npm cache;
# CI's whole run took 24 s longer at the stop that added it);
# ../../scripts/test runs it (unless RS_TEST_NODE_PACK=0). Needs the npm
# registry or a warm npm cache.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
npm pack --pack-destination "$tmp" >/dev/null
test -z "$(ls vendor 2>/dev/null)" # postpack removed the copy
cd "$tmp"
npm init -y >/dev/null
npm install --no-audit --no-fund ./runstate-*.tgz '@langchain/langgraph-checkpoint@^1.2.2' \
	'@langchain/core@^1.1.44' >install.log 2>&1 || { tail -40 install.log; exit 1; }
cat >use.mjs <<'JS'
import assert from 'node:assert/strict';
import { open, runId } from 'runstate';
import { RunstateSaver } from 'runstate/langgraph';
const db = await open({ durability: 'strict', path: './db' });
const run = runId();
await db.kv.put(run, 'k', 'v');
assert.equal(db.kv.get(run, 'k', { encoding: 'utf8' }), 'v');
const saver = new RunstateSaver(db);
const cp = { v: 4, id: 'c1', ts: '', channel_values: { a: 1 }, channel_versions: { a: 1 }, versions_seen: {} };
const cfg = await saver.put({ configurable: { thread_id: 't' } }, cp, { source: 'input', step: -1, parents: {} }, { a: 1 });
assert.deepEqual((await saver.getTuple(cfg)).checkpoint.channel_values, { a: 1 });
await db.close();
JS
cat >use.cjs <<'JS'
const assert = require('node:assert/strict');
const rs = require('runstate');
const { RunstateSaver } = require('runstate/langgraph');
assert.equal(typeof rs.open, 'function');
assert.equal(typeof RunstateSaver, 'function');
rs.open({ durability: 'strict', path: './db' }).then(async (db) => {
	assert.equal(db.stats().recordsReplayed > 0 || db.stats().checkpointUsed, true);
	await db.close();
});
JS
node use.mjs
node use.cjs
echo "pack-test: npm pack installs into a fresh project and works there"
