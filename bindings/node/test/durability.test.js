// SPDX-License-Identifier: MIT
// Durable databases: which calls settle at once and which wait for the
// libuv pool, what survives close and reopen, and that many open/close
// cycles leak neither memory nor file descriptors nor handles.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const v8 = require('node:v8');
const vm = require('node:vm');
const rs = require('..');

function tmpdir(t) {
	const d = fs.mkdtempSync(path.join(os.tmpdir(), 'rs-node-'));
	t.after(() => fs.rmSync(d, { recursive: true, force: true }));
	return path.join(d, 'db');
}

// Whether a promise has settled once the microtask queue has drained. Work
// on the libuv pool can only settle a promise in a later turn of the event
// loop, so this tells a commit that waited for the pool (false) from one
// that was settled by the call itself (true), without any clock.
async function settledNow(p) {
	let done = false;
	p.then(() => { done = true; }, () => { done = true; });
	for (let i = 0; i < 10; i++) await Promise.resolve();
	return done;
}

test('strict: a commit is visible at once and settles after an fdatasync on the pool', async (t) => {
	const db = await rs.open({ durability: 'strict', path: tmpdir(t) });
	assert.equal(db.durability, 'strict');
	const run = rs.runId();
	const syncs = db.stats().walSyncs;
	const p = db.kv.put(run, 'k', 'v');
	assert.equal(db.kv.get(run, 'k', { encoding: 'utf8' }), 'v');
	assert.equal(await settledNow(p), false);
	await p;
	assert.ok(db.stats().walSyncs > syncs);
	// Every kind of write waits the same way.
	assert.equal(await settledNow(db.transaction(run, (tx) => tx.kv.put('a', 'b'))), false);
	assert.equal(await settledNow(db.eventlog.append(run, 't', 'p')), false);
	assert.equal(await settledNow(db.runindex.create({ id: run })), false);
	// A read-only transaction writes nothing and waits for nothing.
	assert.equal(await settledNow(db.transaction(run, (tx) => tx.kv.get('a'), { readonly: true })), true);
	// A Buffered commit on a Strict database does not wait.
	assert.equal(await settledNow(db.kv.put(run, 'k', 'w', { durability: 'buffered' })), true);
	await assert.rejects(db.kv.put(run, 'k', 'w', { durability: 'inmemory' }),
		(e) => e.code === 'RS_EINVAL');
	await db.close();
});

test('strict: concurrent commits share fdatasyncs, close waits for them all', async (t) => {
	const dir = tmpdir(t);
	const db = await rs.open({ durability: 'strict', path: dir });
	const run = rs.runId();
	const n = 200;
	const ps = [];
	for (let i = 0; i < n; i++) ps.push(db.kv.put(run, `k${i}`, `v${i}`));
	const closing = db.close();
	const results = await Promise.allSettled(ps);
	assert.ok(results.every((r) => r.status === 'fulfilled'));
	await closing;
	const db2 = await rs.open({ durability: 'strict', path: dir });
	for (let i = 0; i < n; i++)
		assert.equal(db2.kv.get(run, `k${i}`, { encoding: 'utf8' }), `v${i}`);
	const st = db2.stats();
	assert.equal(st.recordsReplayed, n);
	await db2.close();
});

test('buffered: commits settle at once; strict per commit waits; flush and checkpoint', async (t) => {
	const dir = tmpdir(t);
	const db = await rs.open({ path: dir }); // a path without durability: buffered
	assert.equal(db.durability, 'buffered');
	const run = rs.runId();
	assert.equal(await settledNow(db.kv.put(run, 'a', '1')), true);
	assert.equal(await settledNow(db.kv.put(run, 'b', '2', { durability: 'strict' })), false);
	assert.equal(await settledNow(db.runindex.create({ id: run, name: 'r' })), true);
	assert.equal(await settledNow(db.flush()), false);
	await db.flush();
	assert.equal(await settledNow(db.checkpoint()), false);
	await db.checkpoint();
	assert.equal(db.stats().checkpoints, 2);
	await db.eventlog.append(run, 'after', 'checkpoint');
	await db.close();
	const db2 = await rs.open({ durability: 'buffered', path: dir });
	const st = db2.stats();
	assert.equal(st.checkpointUsed, true);
	assert.equal(st.recordsReplayed, 1);
	assert.equal(db2.kv.get(run, 'b', { encoding: 'utf8' }), '2');
	assert.equal(db2.runindex.getByName('r').id, run);
	assert.equal(db2.eventlog.len(run), 1);
	// One process per directory.
	await assert.rejects(rs.open({ path: dir }), (e) => e.code === 'RS_EBUSY');
	await db2.close();
});

test('strict: RunIndex writes run on the pool and take effect when they resolve', async (t) => {
	const db = await rs.open({ durability: 'strict', path: tmpdir(t) });
	const id = await db.runindex.create({ name: 'job', tags: ['x'] });
	assert.equal(db.runindex.get(id).status, 'active');
	assert.equal(await db.runindex.transition(id, 'paused'), 'active');
	await assert.rejects(db.runindex.transition(id, 'completed'),
		(e) => e.code === 'RS_ETRANSITION' && e.from === 'paused');
	await db.kv.put(id, 'k', 'v');
	await db.runindex.delete(id);
	assert.equal(db.kv.get(id, 'k'), undefined);
	await assert.rejects(db.runindex.delete(id), (e) => e.code === 'RS_ENOTFOUND');
	await db.close();
});

function fdCount() {
	return fs.readdirSync('/proc/self/fd').length;
}

// Each open database runs threads of its own (reclaimer, flusher,
// checkpointer): a database never closed keeps them.
function threadCount() {
	return Number(/^Threads:\s+(\d+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]);
}

test('many open/close cycles: memory, descriptors and handles stay bounded', async (t) => {
	const dir = tmpdir(t);
	const cycle = async (durable, i) => {
		const db = await rs.open(durable ? { durability: 'strict', path: dir } : {});
		const run = rs.runId();
		await db.transaction(run, (tx) => {
			for (let k = 0; k < 20; k++) tx.kv.put(`k${k}`, Buffer.alloc(256, i));
			tx.eventlog.append('e', 'p');
		});
		const c = db.kv.cursor(run);
		c.first();
		if (i % 2 === 0) c.close(); // the others are closed by db.close()
		await db.close();
	};
	for (let i = 0; i < 30; i++) await cycle(i % 3 === 0, i); // warm-up
	const fds = fdCount();
	const threads = threadCount();
	const handles = process.getActiveResourcesInfo().length;
	const rss = process.memoryUsage().rss;
	const memCycles = Number(process.env.RS_NODE_CYCLES || 300);
	for (let i = 0; i < memCycles; i++) await cycle(false, i);
	for (let i = 0; i < memCycles / 6; i++) await cycle(true, i);
	const grown = process.memoryUsage().rss - rss;
	assert.ok(fdCount() <= fds, `descriptors: ${fds} -> ${fdCount()}`);
	assert.ok(threadCount() <= threads, `threads: ${threads} -> ${threadCount()}`);
	assert.ok(process.getActiveResourcesInfo().length <= handles,
		`handles: ${handles} -> ${process.getActiveResourcesInfo().length}`);
	// Cycles that leaked even one database's fixed allocation (its
	// tables, threads' stacks, contexts) would grow by far more than this.
	assert.ok(grown < 64 * 1024 * 1024, `rss grew by ${grown} bytes`);
});

test('a database dropped without close is closed by its finalizer', async (t) => {
	const dir = tmpdir(t);
	v8.setFlagsFromString('--expose-gc');
	const gc = vm.runInNewContext('gc');
	await (async () => {
		const db = await rs.open({ durability: 'buffered', path: dir });
		await db.kv.put(rs.runId(), 'k', 'v');
	})();
	// The directory is locked until the handle is finalized.
	let reopened;
	for (let i = 0; i < 20 && reopened === undefined; i++) {
		gc();
		await new Promise((r) => setImmediate(r));
		reopened = await rs.open({ path: dir }).catch((e) => {
			assert.equal(e.code, 'RS_EBUSY');
			return undefined;
		});
	}
	assert.ok(reopened, 'the dropped handle was never closed');
	assert.equal(reopened.stats().recordsReplayed, 1);
	await reopened.close();
});
