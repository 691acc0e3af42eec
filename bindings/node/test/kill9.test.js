// SPDX-License-Identifier: MIT
// kill -9 of a Node process writing checkpoints (test/fixtures/writer.js):
// under Strict no acknowledged checkpoint is lost; under Buffered what
// survives is a prefix of the acknowledged checkpoints (only a suffix is
// lost, within the flush window). And a Strict commit visible before it is
// durable (test/fixtures/derived.js): a commit derived from reading one
// that was not durable yet survives only with it. RS_NODE_KILL_ACKS
// (default 150) is how many acknowledgements the child gets before the
// kill.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const rs = require('..');
const { RunstateSaver } = require('../langgraph');

const ACKS = Number(process.env.RS_NODE_KILL_ACKS || 150);

// Runs fixtures/<script> with args until it has printed ACKS lines, then
// kills it; resolves to the lines.
function writeThenKill(script, ...args) {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', script), ...args, String(ACKS * 100)],
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
		const acked = await writeThenKill('writer.js', dir, durability);
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

test('kill -9, strict: a commit derived from one not yet durable survives only with it', async (t) => {
	const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rs-kill-'));
	t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
	const dir = path.join(tmp, 'db');
	const acked = await writeThenKill('derived.js', dir);
	const db = await rs.open({ durability: 'strict', path: dir });
	const run = '6f0d1c2a-8e4b-4f7a-9c3e-5b2d1a0f8e71';
	for (const i of acked) {
		assert.equal(db.kv.get(run, `b${i}`, { encoding: 'utf8' }), `from ${i}`, `acknowledged b${i} lost`);
		assert.equal(db.kv.get(run, `a${i}`, { encoding: 'utf8' }), i, `b${i} survived without the a${i} it read`);
	}
	t.diagnostic(`${acked.length} derived commits acknowledged, all kept with what they read`);
	await db.close();
});
