// SPDX-License-Identifier: MIT
// RunstateSaver beyond the conformance suite: putWrites' ordering and
// idempotence, thread ids of any length, the RunIndex entry of a thread,
// one commit per put, deleteThread, the durability option, and stored
// texts read back as MemorySaver gives them (JSON.parse or the reviver).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { uuid6, emptyCheckpoint, TASKS } = require('@langchain/langgraph-checkpoint');
const rs = require('..');
const { RunstateSaver, threadRunId } = require('../langgraph');

function checkpoint(values = {}, versions = {}) {
	return { ...emptyCheckpoint(), id: uuid6(-3), channel_values: values, channel_versions: versions };
}

const meta = { source: 'loop', step: 0, parents: {} };

test('putWrites: writesSortKey order, regular writes once, special writes replaced', async () => {
	const saver = await RunstateSaver.open();
	const cfg = await saver.put({ configurable: { thread_id: 't' } }, checkpoint(), meta, {});
	await saver.putWrites(cfg, [['a', 1], ['b', 2]], 'task-z', '~b');
	await saver.putWrites(cfg, [['c', 3]], 'task-a', '~c');
	await saver.putWrites(cfg, [['d', 4]], 'task-m'); // no path: sorts first
	// A retried task writes again: the first writes stay.
	await saver.putWrites(cfg, [['a', 100], ['b', 200]], 'task-z', '~b');
	// Special writes (negative indices) are replaced.
	await saver.putWrites(cfg, [['__error__', 'first']], 'task-e', '~a');
	await saver.putWrites(cfg, [['__error__', 'second']], 'task-e', '~a');
	const t = await saver.getTuple(cfg);
	assert.deepEqual(t.pendingWrites, [
		['task-m', 'd', 4],
		['task-e', '__error__', 'second'],
		['task-z', 'a', 1],
		['task-z', 'b', 2],
		['task-a', 'c', 3],
	]);
	await saver.close();
});

test('thread ids of any length and form get runs of their own, named in the RunIndex', async () => {
	const saver = await RunstateSaver.open();
	const long = 'x'.repeat(100000);
	const ids = [long, 'short', '\ud800', '\udc00', 'ü'.repeat(200), '0'];
	const runs = new Set(ids.map(threadRunId));
	assert.equal(runs.size, ids.length);
	// The run ids are stored: their derivation never changes.
	assert.equal(threadRunId('t'), '38128403-b78a-5bc6-9215-27b368f84f3d');
	assert.equal(threadRunId(''), 'db480f04-8e1d-5d66-916c-e3e1e073bcc1');
	assert.equal(threadRunId('\u00e9\u{1F600}'), '7393b2d9-446c-52ee-b2f3-90c130501227');
	assert.equal(threadRunId('\ud800'), '7e82fa1e-e357-5659-ab16-65021ef2349f');
	for (const id of ids) {
		const cfg = await saver.put({ configurable: { thread_id: id } }, checkpoint({ v: id }, { v: 1 }), meta, { v: 1 });
		const t = await saver.getTuple({ configurable: { thread_id: id } });
		assert.equal(t.config.configurable.thread_id, id);
		assert.equal(t.checkpoint.channel_values.v, id);
		assert.equal(t.checkpoint.id, cfg.configurable.checkpoint_id);
		const info = saver.db.runindex.get(threadRunId(id), { encoding: 'utf8' });
		assert.deepEqual(info.tags, ['langgraph']);
		assert.equal(JSON.parse(info.metadata).thread_id, id);
	}
	assert.equal(saver.db.runindex.get(threadRunId('short')).name, 'langgraph:short');
	assert.equal(saver.db.runindex.get(threadRunId(long)).name, null); // over 256 bytes
	assert.equal(saver.db.runindex.get(threadRunId('\ud800')).name, null); // not UTF-8
	// list() without a thread_id finds every thread, its id intact.
	const seen = new Set();
	for await (const t of saver.list({})) seen.add(t.config.configurable.thread_id);
	assert.deepEqual([...seen].sort(), [...ids].sort());
	await saver.close();
});

test('put: the checkpoint and its channel values are one commit', async () => {
	const saver = await RunstateSaver.open();
	const run = threadRunId('one');
	await saver.put({ configurable: { thread_id: 'one' } }, checkpoint(), meta, {});
	const v0 = saver.db.runVersion(run);
	await saver.put({ configurable: { thread_id: 'one' } },
		checkpoint({ a: 'x'.repeat(1024), b: [1, 2] }, { a: 2, b: 2 }), meta, { a: 2, b: 2 });
	assert.equal(saver.db.runVersion(run), v0 + 1);
	await saver.close();
});

test('put: a parent rewritten by another saver of the same database is read as it is now', async () => {
	const a = await RunstateSaver.open();
	const b = new RunstateSaver(a.db);
	const cfg = { configurable: { thread_id: 'shared' } };
	const first = checkpoint({ x: 'one' }, { x: 1 });
	const c1 = await a.put(cfg, first, meta, { x: 1 });
	// The same checkpoint id written again, by the other saver.
	await b.put(cfg, { ...first, channel_values: { x: 'two' }, channel_versions: { x: 2 } }, meta, { x: 2 });
	const c2 = await a.put(c1, checkpoint({ x: 'two' }, { x: 2 }), meta, {}); // x inherited
	assert.equal((await a.getTuple(c2)).checkpoint.channel_values.x, 'two');
	await a.close();
});

test('deleteThread removes the thread and nothing else', async () => {
	const saver = await RunstateSaver.open();
	for (const t of ['keep', 'drop']) {
		const cfg = await saver.put({ configurable: { thread_id: t } }, checkpoint({ c: t }, { c: 1 }), meta, { c: 1 });
		await saver.putWrites(cfg, [[TASKS, 'send']], 'task');
	}
	await saver.deleteThread('drop');
	await saver.deleteThread('never-existed');
	assert.equal(await saver.getTuple({ configurable: { thread_id: 'drop' } }), undefined);
	assert.equal(saver.db.runindex.get(threadRunId('drop')), undefined);
	assert.equal(saver.db.kv.list(threadRunId('drop')).items.length, 0);
	assert.equal((await saver.getTuple({ configurable: { thread_id: 'keep' } })).checkpoint.channel_values.c, 'keep');
	// The thread can be written again after its delete.
	await saver.put({ configurable: { thread_id: 'drop' } }, checkpoint(), meta, {});
	assert.ok(await saver.getTuple({ configurable: { thread_id: 'drop' } }));
	await saver.close();
});

test('list: newest first across namespaces, before, limit, filter', async () => {
	const saver = await RunstateSaver.open();
	const ids = [];
	let cfg = { configurable: { thread_id: 'l' } };
	for (let i = 0; i < 150; i++) {
		const ns = i % 3 === 0 ? 'sub' : '';
		const c = await saver.put({ configurable: { ...cfg.configurable, checkpoint_ns: ns } },
			checkpoint(), { ...meta, step: i, source: i % 2 ? 'loop' : 'input' }, {});
		ids.push(c.configurable.checkpoint_id);
	}
	const all = [];
	for await (const t of saver.list({ configurable: { thread_id: 'l' } })) all.push(t.checkpoint.id);
	assert.deepEqual(all, ids.slice().reverse());
	const root = [];
	for await (const t of saver.list({ configurable: { thread_id: 'l', checkpoint_ns: '' } }, { before: { configurable: { checkpoint_id: ids[100] } }, limit: 5 }))
		root.push(t.metadata.step);
	assert.deepEqual(root, [98, 97, 95, 94, 92]);
	const loops = [];
	for await (const t of saver.list({ configurable: { thread_id: 'l' } }, { filter: { source: 'loop' }, limit: 3 }))
		loops.push(t.metadata.step);
	assert.deepEqual(loops, [149, 147, 145]);
	await saver.close();
});

test('durability: strict commits on a buffered database wait for their fdatasync', async (t) => {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rs-saver-'));
	t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
	const db = await rs.open({ durability: 'buffered', path: path.join(dir, 'db') });
	const strict = new RunstateSaver(db, { durability: 'strict' });
	const syncs = db.stats().walSyncs;
	await strict.put({ configurable: { thread_id: 's' } }, checkpoint(), meta, {});
	assert.ok(db.stats().walSyncs > syncs);
	assert.throws(() => new RunstateSaver({}), TypeError);
	await strict.close(); // not its database: still open
	assert.equal(db.closed, false);
	await db.close();
});

test('put: a checkpoint written again under its id keeps the values its children inherited', async () => {
	// The same steps on MemorySaver and on RunstateSaver: a child inherits
	// x at version 1, then its parent is put again with x at version 2.
	const { MemorySaver } = require('@langchain/langgraph-checkpoint');
	const results = [];
	for (const saver of [new MemorySaver(), await RunstateSaver.open()]) {
		const cfg = { configurable: { thread_id: 'reput', checkpoint_ns: '' } };
		const first = checkpoint({ x: 'one', y: 'kept' }, { x: 1, y: 1 });
		const c1 = await saver.put(cfg, first, meta, { x: 1, y: 1 });
		const child = await saver.put(c1, checkpoint({ x: 'one', y: 'kept' }, { x: 1, y: 1 }), meta, {});
		await saver.put(cfg, { ...first, channel_values: { x: 'two', y: 'kept' }, channel_versions: { x: 2, y: 1 } },
			meta, { x: 2 });
		const grandchild = await saver.put(c1, checkpoint({ x: 'two', y: 'kept' }, { x: 2, y: 1 }), meta, {});
		results.push([
			(await saver.getTuple(child)).checkpoint.channel_values,
			(await saver.getTuple(c1)).checkpoint.channel_values,
			(await saver.getTuple(grandchild)).checkpoint.channel_values,
		]);
		if (saver.close) await saver.close();
	}
	assert.deepEqual(results[0], [{ x: 'one', y: 'kept' }, { x: 'two', y: 'kept' }, { x: 'two', y: 'kept' }]);
	assert.deepEqual(results[1], results[0]);
});

test('storage layout: a database of another layout is refused, a new one records its layout', async () => {
	const lg = require('../langgraph');
	// Threads of a saver that recorded no layout (as before layouts were
	// versioned): refused, with RS_EVERSION.
	const old = await rs.open();
	await old.runindex.create({ id: threadRunId('t'), tags: ['langgraph'], metadata: JSON.stringify({ thread_id: 't' }) });
	await old.kv.put(threadRunId('t'), 'c\0\0id', 'a record of another layout');
	assert.throws(() => new RunstateSaver(old), (e) => e.code === 'RS_EVERSION' && /layout/.test(e.message));
	await old.close();
	// A layout this saver does not know: refused, by open() too.
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rs-saver-'));
	try {
		const p = path.join(dir, 'db');
		const db = await rs.open({ path: p, durability: 'buffered' });
		await db.kv.put(lg.FORMAT_RUN, lg.FORMAT_KEY, String(lg.FORMAT + 1));
		assert.throws(() => new RunstateSaver(db), (e) => e.code === 'RS_EVERSION' && e.message.includes(`layout ${lg.FORMAT + 1}`));
		await db.close();
		await assert.rejects(RunstateSaver.open({ path: p }), (e) => e.code === 'RS_EVERSION');
		// A new database gets the saver's layout with its first write,
		// and opens again.
		const q = path.join(dir, 'db2');
		const s = await RunstateSaver.open({ path: q });
		assert.equal(s.db.kv.get(lg.FORMAT_RUN, lg.FORMAT_KEY), undefined);
		await s.put({ configurable: { thread_id: 'x' } }, checkpoint(), meta, {});
		assert.equal(s.db.kv.get(lg.FORMAT_RUN, lg.FORMAT_KEY, { encoding: 'utf8' }), String(lg.FORMAT));
		await s.close();
		const again = await RunstateSaver.open({ path: q });
		const prev = await again.getTuple({ configurable: { thread_id: 'x' } });
		assert.ok(prev);
		// A thread registered by an earlier process takes more puts (its
		// RunIndex entry is kept, as it was).
		const before = again.db.runindex.get(threadRunId('x'), { encoding: 'utf8' });
		await again.put(prev.config, checkpoint(), meta, {});
		assert.deepEqual(again.db.runindex.get(threadRunId('x'), { encoding: 'utf8' }), before);
		assert.equal(before.name, 'langgraph:x');
		assert.equal(again.db.runindex.byTag('langgraph').items.length, 1);
		await again.close();
	} finally {
		fs.rmSync(dir, { recursive: true, force: true });
	}
});

test('getTuple and list: writes of a checkpoint with no record are no other checkpoint\'s', async () => {
	const saver = await RunstateSaver.open();
	const cfg = { configurable: { thread_id: 'orphans', checkpoint_ns: '' } };
	const a = await saver.put(cfg, checkpoint({ x: 1 }, { x: 1 }), meta, { x: 1 });
	await saver.putWrites(a, [['x', 'of a']], 'task');
	// Writes under ids before, between and after the records.
	const id = (s) => ({ configurable: { ...cfg.configurable, checkpoint_id: s } });
	const b = await saver.put(a, checkpoint({ x: 2 }, { x: 2 }), meta, { x: 2 });
	for (const orphan of ['0', a.configurable.checkpoint_id + '~', 'zzzz'])
		await saver.putWrites(id(orphan), [['x', `of ${orphan}`], ['y', 'more']], 'task');
	const latest = await saver.getTuple(cfg);
	assert.equal(latest.checkpoint.id, b.configurable.checkpoint_id);
	assert.deepEqual(latest.pendingWrites, []);
	const listed = [];
	for await (const t of saver.list(cfg)) listed.push([t.checkpoint.id, t.pendingWrites]);
	assert.deepEqual(listed, [[b.configurable.checkpoint_id, []], [a.configurable.checkpoint_id, [['task', 'x', 'of a']]]]);
	assert.deepEqual((await saver.getTuple(a)).pendingWrites, [['task', 'x', 'of a']]);
	assert.equal(await saver.getTuple(id('zzzz')), undefined);
	await saver.close();
});

test('values kept as bytes, control characters, and a serializer of its own round-trip', async () => {
	const bytes = new Uint8Array([0, 1, 0x1e, 255, 128]);
	const check = async (s, wantBytes) => {
		const values = { raw: bytes, text: 'x\x1ey\0', n: [1, { a: '\u00e9\u{1F600}' }] };
		const cfg = await s.put({ configurable: { thread_id: 'b\x1e' } }, checkpoint(values, { raw: 1, text: 1, n: 1 }),
			{ ...meta, note: '\x1e' }, { raw: 1, text: 1, n: 1 });
		await s.putWrites(cfg, [['raw', bytes], ['text', 'w\x1e']], 'task\x1e');
		const t = await s.getTuple(cfg);
		assert.deepEqual(Buffer.from(t.checkpoint.channel_values.raw), Buffer.from(bytes));
		assert.equal(t.checkpoint.channel_values.text, 'x\x1ey\0');
		assert.deepEqual(t.checkpoint.channel_values.n, values.n);
		assert.equal(t.metadata.note, '\x1e');
		assert.deepEqual(t.pendingWrites.map(([task, ch, v]) => [task, ch, ch === 'raw' ? [...v] : v]),
			[['task\x1e', 'raw', [...bytes]], ['task\x1e', 'text', 'w\x1e']]);
		assert.equal(wantBytes(t.checkpoint.channel_values.raw), true);
		// A child that inherits the values reads them from their writer's record.
		const cfg2 = await s.put(cfg, checkpoint({ ...values, text: 'z' }, { raw: 1, text: 2, n: 1 }), meta, { text: 2 });
		const t2 = await s.getTuple(cfg2);
		assert.deepEqual(Buffer.from(t2.checkpoint.channel_values.raw), Buffer.from(bytes));
		assert.deepEqual(t2.checkpoint.channel_values.n, values.n);
		assert.equal(t2.checkpoint.channel_values.text, 'z');
		const listed = [];
		for await (const x of s.list({ configurable: { thread_id: 'b\x1e' } }, { filter: { note: '\x1e' } })) listed.push(x.config.configurable.checkpoint_id);
		assert.deepEqual(listed, [cfg.configurable.checkpoint_id]);
	};
	const s = await RunstateSaver.open();
	await check(s, (v) => v instanceof Uint8Array);
	await s.close();
	// A serializer of its own (neither JsonPlusSerializer's texts nor its
	// types): what it gave, strings or bytes, comes back as it gave them.
	const serde = {
		async dumpsTyped(o) {
			if (o instanceof Uint8Array) return ['raw', o];
			return typeof o === 'string' ? ['str', `s${o}`] : ['bin', Buffer.from(JSON.stringify(o))];
		},
		async loadsTyped(t, d) {
			if (t === 'raw') return d;
			if (t === 'str') {
				assert.equal(typeof d, 'string');
				return d.slice(1);
			}
			assert.ok(d instanceof Uint8Array);
			return JSON.parse(Buffer.from(d).toString('utf8'));
		},
	};
	const c = await RunstateSaver.open({ serde });
	await check(c, (v) => v instanceof Uint8Array);
	await c.close();
});

test('storage layout 2 (the packed records before layout 3) is refused', async () => {
	const lg = require('../langgraph');
	const db = await rs.open();
	await db.kv.put(lg.FORMAT_RUN, lg.FORMAT_KEY, '2');
	assert.equal(lg.FORMAT, 3);
	assert.throws(() => new RunstateSaver(db), (e) => e.code === 'RS_EVERSION' && e.message.includes('storage layout 2'));
	await db.close();
});

test('getTuple: stored texts read by JSON.parse or revived by the serializer come back as MemorySaver gives them', async () => {
	const { MemorySaver } = require('@langchain/langgraph-checkpoint');
	const { HumanMessage } = require('@langchain/core/messages');
	const values = [
		{ a: [1, 'x', null, { b: true }] }, // plain: JSON.parse
		'say "lc" \\u0041', // the key's text, and a \u, inside strings only
		{ u: undefined, s: new Set([1, 2]), m: new Map([['k', 1]]) }, // lc 2 records
		{ lc: 3, type: 'not a record' }, // an "lc" key, nothing to revive
		JSON.parse('{"__proto__": {"polluted": 1}, "x": 1}'), // set as the prototype by the reviver
		'a\u0001b\ud800', // escaped in the text (\u0001, \ud800)
		{ bytes: new Uint8Array([1, 2, 3]) },
		[new HumanMessage('hi')], // lc 1: a LangChain object
	];
	const mem = new MemorySaver();
	const saver = await RunstateSaver.open();
	for (let i = 0; i < values.length; i++) {
		const tuples = [];
		for (const s of [mem, saver]) {
			const cp = checkpoint({ v: values[i], plain: 'p' }, { v: 1, plain: 1 });
			cp.id = `1ef0000${i}-0000-6000-8000-000000000000`;
			const cfg = await s.put({ configurable: { thread_id: `t${i}`, checkpoint_ns: '' } }, cp,
				{ ...meta, v: values[i] }, { v: 1, plain: 1 });
			await s.putWrites(cfg, [['v', values[i]], ['plain', 'w']], 'task');
			tuples.push(await s.getTuple(cfg));
		}
		// Plain objects with their prototypes' contents (each revived
		// "__proto__" object is a prototype of its own).
		const norm = (x) => {
			if (x === null || typeof x !== 'object') return x;
			if (Array.isArray(x)) return x.map(norm);
			const proto = Object.getPrototypeOf(x);
			if (proto !== Object.prototype && !(Object.getPrototypeOf(proto) === Object.prototype && proto.constructor === Object))
				return x; // Set, Map, Uint8Array, a message...: compared as they are
			return { own: Object.fromEntries(Object.entries(x).map(([k, v]) => [k, norm(v)])),
				proto: proto === Object.prototype ? null : norm({ ...proto }) };
		};
		const [m, r] = tuples.map((t) => norm([t.checkpoint.channel_values, t.metadata, t.pendingWrites]));
		assert.deepStrictEqual(r, m, `value ${i}`);
	}
	assert.ok(saver._parse);
	await saver.close();
});

test('put: a text written without the serializer is the serializer\'s own text', () => {
	const { JsonPlusSerializer } = require('@langchain/langgraph-checkpoint');
	const { plainText } = require('../langgraph/saver.js');
	const serde = new JsonPlusSerializer();
	const own = (v) => new TextDecoder().decode(serde._dumps(v));
	const deep = (n) => (n === 0 ? 'leaf' : { d: deep(n - 1) });
	const cyclic = { a: 1 };
	cyclic.self = cyclic;
	const shared = { s: 1 };
	const getter = { get g() { return 'got'; } };
	const nullProto = Object.assign(Object.create(null), { a: [1] });
	const sparse = [1, , 3]; // eslint-disable-line no-sparse-arrays
	// Plain: written here, and equal to the serializer's text.
	const plainOnes = [
		'x', '', 'a"b\\c\n\u0001\ud800\u{1F600}', 0, -0, 1.5e300, NaN, -Infinity, true, null,
		[], {}, [1, 'x', null, [true]], { b: 1, a: 2, 10: 'n', 2: 'm' }, { lc: 1, type: 'constructor' },
		{ lg_name: 'NotSend', node: 'n' }, { x: shared, y: shared }, getter, nullProto, deep(31),
	];
	for (const v of plainOnes) {
		const t = plainText(v);
		assert.notEqual(t, undefined, `plain: ${own(v)}`);
		assert.equal(t, own(v));
	}
	// Not plain: left to the serializer (it writes them otherwise).
	class Point { constructor() { this.x = 1; } }
	const notPlain = [
		undefined, [undefined], { u: undefined }, sparse, new Date(0), { t: new Date(0) }, new Set([1]),
		new Map([['k', 1]]), new Uint8Array([1]), { b: new Uint8Array([1]) }, /re/g, new Error('e'),
		{ lg_name: 'Send', node: 'n', args: {} }, { toJSON: () => 'j' }, new Point(), 1n, () => 1,
		Symbol('s'), cyclic, deep(40), [deep(40)],
	];
	for (const v of notPlain) assert.equal(plainText(v), undefined, String(typeof v));
	// Random trees of both kinds: whenever one is written here, it is the
	// serializer's text.
	let seed = 7;
	const rnd = (n) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
	const gen = (d) => {
		switch (rnd(d > 4 ? 6 : 10)) {
		case 0: return rnd(1000) - 500;
		case 1: return ['', 'a', '\u00e9', '"', '\ud83d', 'lc'][rnd(6)];
		case 2: return rnd(2) === 0;
		case 3: return null;
		case 4: return rnd(40) === 0 ? undefined : rnd(1e6) / 7;
		case 5: return rnd(30) === 0 ? new Date(rnd(1e9)) : 'leaf';
		case 6: case 7: return Array.from({ length: rnd(4) }, () => gen(d + 1));
		default: {
			const o = {};
			for (let i = rnd(4); i-- > 0;) o[['a', 'b', 'lc', 'type', '1', 'lg_name'][rnd(6)]] = gen(d + 1);
			return o;
		}
		}
	};
	let written = 0;
	for (let i = 0; i < 3000; i++) {
		const v = gen(0);
		const t = plainText(v);
		if (t === undefined) continue;
		written++;
		assert.equal(t, own(v));
	}
	assert.ok(written > 2000, `${written} of 3000 written here`);
});

test('registration: a thread registered already, or whose name another run holds, in every durability', async () => {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rs-saver-reg-'));
	try {
		for (const durability of ['inmemory', 'buffered', 'strict']) {
			const db = await rs.open(durability === 'inmemory' ? {} : { path: path.join(dir, durability), durability });
			// The name of thread "taken" belongs to another run.
			const other = await db.runindex.create({ name: 'langgraph:taken' });
			const first = new RunstateSaver(db);
			const cfg = await first.put({ configurable: { thread_id: 'taken' } }, checkpoint({ v: 1 }, { v: 1 }), meta, { v: 1 });
			const info = db.runindex.get(threadRunId('taken'));
			assert.equal(info.name, null, durability);
			assert.equal(JSON.parse(info.metadata).thread_id, 'taken');
			assert.equal(db.runindex.getByName('langgraph:taken').id, other);
			// A second saver over the database finds the thread registered
			// (by the first), by its put and by its putWrites.
			await first.put({ configurable: { thread_id: 'both' } }, checkpoint(), meta, {});
			const second = new RunstateSaver(db);
			await second.put({ configurable: { thread_id: 'both' } }, checkpoint(), meta, {});
			await new RunstateSaver(db).putWrites(cfg, [['v', 2]], 'task');
			const t = await second.getTuple(cfg);
			assert.deepEqual(t.pendingWrites, [['task', 'v', 2]]);
			const threads = [];
			for await (const x of second.list({})) threads.push(x.config.configurable.thread_id);
			assert.deepEqual(threads.sort(), ['both', 'both', 'taken']);
			assert.equal(db.runindex.byTag('langgraph').items.length, 2);
			await db.close();
		}
	} finally {
		fs.rmSync(dir, { recursive: true, force: true });
	}
});
