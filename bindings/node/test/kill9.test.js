// SPDX-License-Identifier: MIT
// kill -9 of a Node process writing checkpoints (test/fixtures/writer.js):
// under Strict no acknowledged checkpoint is lost; under Buffered what
// survives is a prefix of the acknowledged checkpoints (only a suffix is
// lost, within the flush window). RS_NODE_KILL_ACKS (default 150) is how
// many acknowledgements the child gets before the kill.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { RunstateSaver } = require('../langgraph');

const ACKS = Number(process.env.RS_NODE_KILL_ACKS || 150);

function writeThenKill(dir, durability) {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'writer.js'), dir, durability, String(ACKS * 100)],
			{ stdio: ['ignore', 'pipe', 'inherit'] });
		const acked = [];
		let buf = '';
		child.stdout.on('data', (d) => {
			buf += d;
			const lines = buf.split('\n');
			buf = lines.pop();
			for (const l of lines) acked.push(l);
			if (acked.length >= ACKS && !child.killed) child.kill('SIGKILL');
		});
		child.on('exit', (code, signal) => {
			if (signal !== 'SIGKILL') reject(new Error(`writer exited (${code}) before the kill`));
			else resolve(acked);
		});
	});
}

for (const durability of ['strict', 'buffered']) {
	test(`kill -9 while writing checkpoints, ${durability}`, async (t) => {
		const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rs-kill-'));
		t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
		const dir = path.join(tmp, 'db');
		const acked = await writeThenKill(dir, durability);
		assert.ok(acked.length >= ACKS);
		const saver = await RunstateSaver.open({ path: dir, durability });
		const present = [];
		for (const id of acked) {
			const tup = await saver.getTuple({ configurable: { thread_id: 'killed', checkpoint_ns: '', checkpoint_id: id } });
			present.push(tup !== undefined);
			if (tup) assert.equal(tup.checkpoint.channel_values.n, present.length - 1);
		}
		const kept = present.indexOf(false) < 0 ? present.length : present.indexOf(false);
		// What survives is a prefix of what was acknowledged.
		assert.ok(present.slice(kept).every((p) => !p), 'a checkpoint survived after a lost one');
		if (durability === 'strict')
			assert.equal(kept, acked.length, `lost ${acked.length - kept} acknowledged checkpoints`);
		t.diagnostic(`${durability}: ${acked.length} acknowledged, ${kept} recovered`);
		await saver.close();
	});
}
