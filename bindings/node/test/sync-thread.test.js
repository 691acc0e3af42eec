// SPDX-License-Identifier: MIT
// No fdatasync (or fsync) on the JavaScript thread: a child process does
// every kind of durable work on a Strict database under strace, and every
// sync it makes comes from another thread (the libuv pool or the library's
// own). Skipped when strace is missing or cannot trace here.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const probe = spawnSync('strace', ['-qq', '-e', 'trace=none', 'true']);
const usable = probe.status === 0;

test('durable work never syncs on the JavaScript thread', { skip: usable ? false : 'strace is missing or cannot trace' }, (t) => {
	const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rs-sync-'));
	t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
	const trace = path.join(tmp, 'trace');
	const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=fdatasync,fsync,sync_file_range,syncfs',
		'-o', trace, process.execPath, path.join(__dirname, 'fixtures', 'durable-work.js'), path.join(tmp, 'db')],
	{ encoding: 'utf8' });
	assert.equal(r.status, 0, r.stderr);
	const pid = r.stdout.trim();
	const lines = fs.readFileSync(trace, 'utf8').split('\n').filter((l) => /sync/.test(l));
	const byTid = new Map();
	for (const l of lines) byTid.set(l.split(/\s+/)[0], (byTid.get(l.split(/\s+/)[0]) ?? 0) + 1);
	assert.ok(lines.length > 0, 'the child made no syncs at all');
	assert.equal(byTid.get(pid), undefined,
		`the JavaScript thread (${pid}) synced ${byTid.get(pid)} times`);
	t.diagnostic(`${lines.length} syncs, on threads ${[...byTid.keys()].join(' ')}; JavaScript thread ${pid}: none`);
});
