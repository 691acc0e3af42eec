// SPDX-License-Identifier: MIT
// Every function of the binding on an in-memory database: results, and bad
// input answered with the right RS_E* code.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const rs = require('..');

function code(c) {
	return (e) => {
		assert.ok(e instanceof rs.RunstateError, `not a RunstateError: ${e}`);
		assert.equal(e.code, c, e.message);
		assert.equal(e.errno, rs.errors[c]);
		return true;
	};
}

let db;
test.before(async () => { db = await rs.open(); });
test.after(async () => { await db.close(); });

test('module: version, errors, run ids', () => {
	assert.match(rs.version(), /^\d+\.\d+\.\d+$/);
	assert.equal(rs.errors.RS_EINVAL, -1);
	assert.equal(rs.errors.RS_ERANGE, -20);
	assert.deepEqual(rs.describeError(-5),
		{ name: 'RS_ECONFLICT', message: 'transaction conflict: data it read has changed; retry' });
	const id = rs.runId();
	assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
	assert.notEqual(rs.runId(), id);
	assert.equal(rs.parseRunId(id.toUpperCase()), id);
	assert.throws(() => rs.parseRunId('nope'), code('RS_EINVAL'));
	assert.throws(() => rs.parseRunId(42), code('RS_EINVAL'));
	assert.equal(rs.isNilRunId('00000000-0000-0000-0000-000000000000'), true);
	assert.equal(rs.isNilRunId(id), false);
	assert.equal(rs.transitionAllowed('active', 'completed'), true);
	assert.equal(rs.transitionAllowed('archived', 'active'), false);
	assert.throws(() => rs.transitionAllowed('bogus', 'active'), code('RS_EINVAL'));
});

test('open: bad options', async () => {
	await assert.rejects(rs.open({ durability: 'sometimes' }), code('RS_EINVAL'));
	await assert.rejects(rs.open({ bogus: 1 }), code('RS_EINVAL'));
	await assert.rejects(rs.open({ durability: 'strict' }), code('RS_EINVAL')); // no path
	await assert.rejects(rs.open({ durability: 'inmemory', path: '/tmp/x' }), code('RS_EINVAL'));
	await assert.rejects(rs.open({ flushIntervalMs: -1 }), code('RS_EINVAL'));
	assert.equal(db.durability, 'inmemory');
	assert.equal(db.path, null);
	assert.equal(db.closed, false);
});

test('kv: put, get, exists, getMany, delete', async () => {
	const run = rs.runId();
	assert.equal(await db.kv.put(run, 'a', 'alpha'), undefined);
	await db.kv.put(run, Buffer.from('b'), new Uint8Array([1, 2, 3]));
	await db.kv.put(run, 'empty', '');
	assert.deepEqual(db.kv.get(run, 'a'), Buffer.from('alpha'));
	assert.equal(db.kv.get(run, 'a', { encoding: 'utf8' }), 'alpha');
	assert.deepEqual(db.kv.get(run, 'b'), Buffer.from([1, 2, 3]));
	assert.equal(db.kv.get(run, 'empty', { encoding: 'utf8' }), '');
	assert.equal(db.kv.get(run, 'missing'), undefined);
	assert.equal(db.kv.exists(run, 'a'), true);
	assert.equal(db.kv.exists(run, 'missing'), false);
	assert.deepEqual(db.kv.getMany(run, ['a', 'missing', 'empty'], { encoding: 'utf8' }),
		['alpha', undefined, '']);
	// A value larger than the binding's first buffer.
	const big = Buffer.alloc(100000, 7);
	await db.kv.put(run, 'big', big);
	assert.deepEqual(db.kv.get(run, 'big'), big);
	assert.deepEqual(db.kv.getMany(run, ['big', 'a'])[0], big);
	// Values are copies: changing one changes nothing stored.
	const v = db.kv.get(run, 'a');
	v[0] = 0;
	assert.equal(db.kv.get(run, 'a', { encoding: 'utf8' }), 'alpha');
	// Input views are read during the call only.
	const buf = Buffer.from('xyz');
	await db.kv.put(run, 'view', buf.subarray(1));
	buf.fill(0);
	assert.equal(db.kv.get(run, 'view', { encoding: 'utf8' }), 'yz');
	// Any view: its bytes, from its offset, for its byte length.
	const wide = new Uint16Array([1, 2, 3, 4]).subarray(1, 3);
	await db.kv.put(run, new Float64Array([1.5]), wide);
	assert.deepEqual(db.kv.get(run, Buffer.from(new Float64Array([1.5]).buffer)),
		Buffer.from(wide.buffer, wide.byteOffset, 4));
	const dv = new DataView(new ArrayBuffer(8), 2, 3);
	dv.setUint8(0, 7);
	await db.kv.put(run, 'dv', dv);
	assert.deepEqual(db.kv.get(run, 'dv'), Buffer.from([7, 0, 0]));
	assert.equal(await db.kv.delete(run, 'a'), true);
	assert.equal(await db.kv.delete(run, 'a'), false);
	assert.equal(db.kv.get(run, 'a'), undefined);
});

test('kv: bad input', async () => {
	const run = rs.runId();
	assert.throws(() => db.kv.get('not-a-uuid', 'a'), code('RS_EINVAL'));
	assert.throws(() => db.kv.get('00000000-0000-0000-0000-000000000000', 'a'), code('RS_EINVAL'));
	assert.throws(() => db.kv.get(run, ''), code('RS_EINVAL'));
	assert.throws(() => db.kv.get(run, 12), code('RS_EINVAL'));
	assert.throws(() => db.kv.get(run, undefined), code('RS_EINVAL'));
	assert.throws(() => db.kv.get(run, 'k'.repeat(1025)), code('RS_ETOOBIG'));
	assert.throws(() => db.kv.getMany(run, 'a'), code('RS_EINVAL'));
	await assert.rejects(db.kv.put(run, '', 'v'), code('RS_EINVAL'));
	await assert.rejects(db.kv.put(run, 'k'.repeat(1025), 'v'), code('RS_ETOOBIG'));
	await assert.rejects(db.kv.put(run, 'k', Buffer.alloc(16 * 1024 * 1024 + 1)), code('RS_ETOOBIG'));
	await assert.rejects(db.kv.put(run, 'k', {}), code('RS_EINVAL'));
	await assert.rejects(db.kv.put('bad', 'k', 'v'), code('RS_EINVAL'));
	await assert.rejects(db.kv.put(run, 'k', 'v', { durability: 'strict' }), code('RS_EINVAL'));
});

test('kv: write, several writes in one commit', async () => {
	const run = rs.runId();
	await db.kv.put(run, 'old', 'x');
	const v0 = db.runVersion(run);
	assert.equal(await db.kv.write(run, [
		['put', 'a', 'alpha'], ['putIfAbsent', 'old', 'replaced?'], ['putIfAbsent', Buffer.from('new'), new Uint8Array([7])],
		['delete', 'old'], ['delete', 'never'],
	]), true);
	assert.equal(db.runVersion(run), v0 + 1); // one commit
	assert.equal(db.kv.get(run, 'a', { encoding: 'utf8' }), 'alpha');
	assert.deepEqual(db.kv.get(run, 'new'), Buffer.from([7]));
	assert.equal(db.kv.get(run, 'old'), undefined);
	// Every putIfAbsent finding its key: nothing written, no commit.
	assert.equal(await db.kv.write(run, [['putIfAbsent', 'a', 'again']]), false);
	assert.equal(db.kv.get(run, 'a', { encoding: 'utf8' }), 'alpha');
	assert.equal(db.runVersion(run), v0 + 1);
	assert.equal(await db.kv.write(run, []), false);
	// Bad input rejects and writes nothing of the batch.
	await assert.rejects(db.kv.write(run, 'a'), code('RS_EINVAL'));
	for (const bad of [['put', 'k'], ['upsert', 'k', 'v'], ['put', 'k', {}], ['put', '', 'v'], 'put'])
		await assert.rejects(db.kv.write(run, [['put', 'partial', 'p'], bad]), code('RS_EINVAL'));
	await assert.rejects(db.kv.write(run, [['put', 'partial', 'p'], ['put', 'k'.repeat(1025), 'v']]), code('RS_ETOOBIG'));
	assert.equal(db.kv.get(run, 'partial'), undefined);
	await assert.rejects(db.kv.write('bad', [['put', 'k', 'v']]), code('RS_EINVAL'));
	// A value given as parts is stored as their concatenation, by write
	// (arguments or array form) and put; a part that is not bytes rejects.
	const big = 'p'.repeat(300);
	assert.equal(await db.kv.write(run, [['put', 'j1', ['he', Buffer.from('ll'), new Uint8Array([0x6f]), '', big]]]), true);
	assert.equal(db.kv.get(run, 'j1', { encoding: 'utf8' }), `hello${big}`);
	await db.kv.write(run, [['put', 'j2', []], ['put', 'j3', ['\u00e9', new Uint16Array([0x4141]).buffer]], ['put', 'j4', ['x']]]);
	assert.equal(db.kv.get(run, 'j2', { encoding: 'utf8' }), '');
	assert.equal(db.kv.get(run, 'j3', { encoding: 'utf8' }), '\u00e9AA');
	assert.equal(db.kv.get(run, 'j4', { encoding: 'utf8' }), 'x');
	await db.kv.put(run, 'j5', ['a', 'b']);
	assert.equal(db.kv.get(run, 'j5', { encoding: 'utf8' }), 'ab');
	// A getter on a parts array that writes too: each call joins its
	// values into buffers of its own.
	const tricky = ['a', 'b'];
	let inner;
	Object.defineProperty(tricky, 1, { get() { inner = db.kv.write(run, [['put', 'j7', ['in', 'ner']]]); return 'B'; } });
	await db.kv.write(run, [['put', 'j8', ['x', 'y'.repeat(40)]], ['put', 'j9', tricky]]);
	await inner;
	assert.equal(db.kv.get(run, 'j7', { encoding: 'utf8' }), 'inner');
	assert.equal(db.kv.get(run, 'j8', { encoding: 'utf8' }), `x${'y'.repeat(40)}`);
	assert.equal(db.kv.get(run, 'j9', { encoding: 'utf8' }), 'aB');
	for (const bad of [[1], [null], [undefined], [['x']], [{}], ['ok', 2]])
		await assert.rejects(db.kv.write(run, [['put', 'j6', bad]]), code('RS_EINVAL'));
	assert.equal(db.kv.get(run, 'j6'), undefined);
	await assert.rejects(db.kv.write(run, [['put', 'k', 'v']], { durability: 'strict' }), code('RS_EINVAL'));
});

test('kv: list, scan (forward, reverse, bounds, resume, limit)', async () => {
	const run = rs.runId();
	for (const k of ['a1', 'a2', 'a3', 'b1', 'b2'])
		await db.kv.put(run, k, 'v' + k);
	const l = db.kv.list(run, { prefix: 'a', keyEncoding: 'utf8', encoding: 'utf8' });
	assert.deepEqual(l.items.map((e) => e.key), ['a1', 'a2', 'a3']);
	assert.equal(l.items[0].value, 'va1');
	assert.equal(l.more, false);
	const p1 = db.kv.list(run, { prefix: 'a', limit: 2, keyEncoding: 'utf8' });
	assert.deepEqual(p1.items.map((e) => e.key), ['a1', 'a2']);
	assert.equal(p1.more, true);
	assert.ok(Buffer.isBuffer(p1.items[0].value));
	const p2 = db.kv.list(run, { prefix: 'a', after: 'a2', keyEncoding: 'utf8' });
	assert.deepEqual(p2.items.map((e) => e.key), ['a3']);
	assert.equal(db.kv.list(run).items.length, 5);
	assert.throws(() => db.kv.list(run, { after: '' }), code('RS_EINVAL'));
	const s = db.kv.scan(run, { start: 'a2', end: 'b2', keyEncoding: 'utf8' });
	assert.deepEqual(s.items.map((e) => e.key), ['a2', 'a3', 'b1']);
	const r = db.kv.scan(run, { reverse: true, limit: 2, keyEncoding: 'utf8' });
	assert.deepEqual(r.items.map((e) => e.key), ['b2', 'b1']);
	assert.equal(r.more, true);
	const r2 = db.kv.scan(run, { reverse: true, resume: 'b1', keyEncoding: 'utf8' });
	assert.deepEqual(r2.items.map((e) => e.key), ['a3', 'a2', 'a1']);
	assert.equal(r2.more, false);
	assert.throws(() => db.kv.scan(run, { start: 'k'.repeat(1025) }), code('RS_ETOOBIG'));
	// Bytes keys and values (empty ones too), cut from one page's bytes.
	const bin = rs.runId();
	await db.kv.write(bin, [['put', Buffer.from([0, 255]), ''], ['put', Buffer.from([1]), Buffer.from([9, 8, 7])],
		['put', Buffer.from([2]), 'xyz']]);
	for (const page of [db.kv.list(bin), db.kv.scan(bin), db.read(bin, (tx) => tx.kv.scan({ reverse: true }))]) {
		const items = page.items.slice().sort((a, b) => Buffer.compare(a.key, b.key));
		assert.deepEqual(items.map((e) => [...e.key]), [[0, 255], [1], [2]]);
		assert.deepEqual(items.map((e) => [...e.value]), [[], [9, 8, 7], [120, 121, 122]]);
		assert.ok(items.every((e) => Buffer.isBuffer(e.key) && Buffer.isBuffer(e.value)));
	}
	assert.deepEqual(db.kv.scan(bin, { encoding: 'utf8' }).items.map((e) => [[...e.key], e.value]),
		[[[0, 255], ''], [[1], '\t\b\x07'], [[2], 'xyz']]);
	// Strings of every UTF-8 length (1 to 4 bytes, a 4-byte one being two
	// UTF-16 units), beside bytes, cut from one page's string and bytes;
	// bytes that are not well-formed UTF-8, wanted as strings, come out as
	// Buffer#toString('utf8') makes them (U+FFFD for each bad sequence).
	const uni = rs.runId();
	const keys = ['a\u00e9', 'b\u20ac\u0000z', 'c\u{1F600}x', 'd', 'e\uffff'];
	await db.kv.write(uni, keys.map((k, i) => ['put', k, `${k}:${'\u{10FFFF}'.repeat(i)}`]));
	for (const [ks, vs] of [[true, true], [true, false], [false, true]]) {
		const o = { keyEncoding: ks ? 'utf8' : undefined, encoding: vs ? 'utf8' : undefined };
		for (const page of [db.kv.scan(uni, o), db.kv.list(uni, o), db.read(uni, (tx) => tx.kv.scan({ ...o, reverse: true }))]) {
			const got = page.items.map((e) => [ks ? e.key : e.key.toString('utf8'), vs ? e.value : e.value.toString('utf8')])
				.sort((a, b) => (a[0] < b[0] ? -1 : 1));
			assert.deepEqual(got, keys.map((k, i) => [k, `${k}:${'\u{10FFFF}'.repeat(i)}`]));
			assert.equal(page.more, false);
		}
	}
	// A page all ASCII (its string made from the bytes as they are), with
	// keys, values or both wanted as strings.
	const asc = rs.runId();
	const av = [['a', 'x'.repeat(21)], ['b', ''], ['c', '{"k":[1,"\\u00e9"]}\x1e\x7f']];
	await db.kv.write(asc, av.map(([k, v]) => ['put', k, v]));
	for (const [ks, vs] of [[true, true], [true, false], [false, true]]) {
		const o = { keyEncoding: ks ? 'utf8' : undefined, encoding: vs ? 'utf8' : undefined };
		for (const page of [db.kv.scan(asc, o), db.read(asc, (tx) => tx.kv.scan({ ...o, reverse: true }))]) {
			const got = page.items.map((e) => [ks ? e.key : e.key.toString('utf8'), vs ? e.value : e.value.toString('utf8')])
				.sort((a, b) => (a[0] < b[0] ? -1 : 1));
			assert.deepEqual(got, av);
			assert.ok(page.items.every((e) => typeof e.key === (ks ? 'string' : 'object') && typeof e.value === (vs ? 'string' : 'object')));
		}
	}
	const bad = [Buffer.from([0x61, 0xff]), Buffer.from([0x62, 0xc3]), Buffer.from([0x63, 0xed, 0xa0, 0x80]),
		Buffer.from([0x64, 0xf4, 0x90, 0x80, 0x80]), Buffer.from([0x65, 0xc0, 0xaf]), Buffer.from([0x66, 0x80])];
	const mixed = rs.runId();
	await db.kv.write(mixed, [...bad.map((b) => ['put', b, b]), ['put', 'g\u00e9', Buffer.from([0xe2, 0x82])]]);
	const all = [...bad, Buffer.from('g\u00e9')];
	for (const o of [{ keyEncoding: 'utf8' }, { encoding: 'utf8' }, { keyEncoding: 'utf8', encoding: 'utf8' }]) {
		const page = db.kv.scan(mixed, { ...o, limit: 3 });
		assert.equal(page.more, true);
		const rest = db.kv.scan(mixed, { ...o, resume: page.items[2].key });
		const vals = [...bad, Buffer.from([0xe2, 0x82])];
		assert.deepEqual([...page.items, ...rest.items].map((e) => [typeof e.key === 'string' ? e.key : [...e.key],
			typeof e.value === 'string' ? e.value : [...e.value]]),
		all.map((k, i) => [o.keyEncoding ? k.toString('utf8') : [...k], o.encoding ? vals[i].toString('utf8') : [...vals[i]]]));
	}
});

test('kv: cursor', async () => {
	const run = rs.runId();
	for (const k of ['a', 'b', 'c', 'd'])
		await db.kv.put(run, k, k.toUpperCase());
	const c = db.kv.cursor(run, { keyEncoding: 'utf8', encoding: 'utf8' });
	await db.kv.put(run, 'bb', 'later'); // not in the cursor's snapshot
	assert.deepEqual(c.seek('b'), ['b', 'B']);
	assert.deepEqual(c.next(), ['c', 'C']);
	assert.deepEqual(c.prev(), ['b', 'B']);
	assert.deepEqual(c.seek('bz', { le: true }), ['b', 'B']);
	assert.deepEqual(c.first(), ['a', 'A']);
	assert.deepEqual(c.last(), ['d', 'D']);
	assert.equal(c.next(), undefined);
	assert.deepEqual(c.first('c'), ['c', 'C']);
	assert.equal(c.next(), undefined); // kept inside the prefix
	assert.equal(c.seek('z'), undefined);
	c.close();
	assert.throws(() => c.next(), code('RS_EINVAL'));
	c.close(); // twice is fine
});

test('eventlog: append, read, range, len, head, byType, verify', async () => {
	const run = rs.runId();
	const r0 = await db.eventlog.append(run, 'msg', 'hello');
	assert.equal(r0.seq, 0);
	assert.equal(typeof r0.timestampNs, 'bigint');
	assert.equal(r0.hash.length, 32);
	const r1 = await db.eventlog.append(run, 'tool', Buffer.from([9]));
	await db.eventlog.append(run, 'msg');
	assert.equal(r1.seq, 1);
	const e = db.eventlog.read(run, 0, { encoding: 'utf8' });
	assert.equal(e.type, 'msg');
	assert.equal(e.payload, 'hello');
	assert.deepEqual(e.hash, r0.hash);
	assert.deepEqual(e.prevHash, Buffer.alloc(32));
	assert.equal(e.pending, false);
	assert.deepEqual(db.eventlog.read(run, 1).prevHash, r0.hash);
	assert.equal(db.eventlog.read(run, 3), undefined);
	assert.equal(db.eventlog.range(run).length, 3);
	assert.deepEqual(db.eventlog.range(run, 1, 2).map((x) => x.seq), [1]);
	assert.deepEqual(db.eventlog.range(run, 0, Infinity, { limit: 2 }).map((x) => x.seq), [0, 1]);
	assert.throws(() => db.eventlog.range(run, 2, 1), code('RS_EINVAL'));
	assert.equal(db.eventlog.len(run), 3);
	const h = db.eventlog.head(run);
	assert.equal(h.len, 3);
	assert.deepEqual(h.hash, db.eventlog.read(run, 2).hash);
	const bt = db.eventlog.byType(run, 'msg', { limit: 1 });
	assert.deepEqual(bt.items.map((x) => x.seq), [0]);
	assert.equal(bt.more, true);
	const bt2 = db.eventlog.byType(run, 'msg', { cursor: bt.cursor });
	assert.deepEqual(bt2.items.map((x) => x.seq), [2]);
	assert.equal(bt2.more, false);
	assert.deepEqual(db.eventlog.verify(run), { ok: true, badSeq: null });
	await assert.rejects(db.eventlog.append(run, '', 'x'), code('RS_EINVAL'));
	await assert.rejects(db.eventlog.append(run, Buffer.from([0xff]), 'x'), code('RS_EUTF8'));
	await assert.rejects(db.eventlog.append(run, 't'.repeat(257), 'x'), code('RS_ETOOBIG'));
	assert.throws(() => db.eventlog.read(run, -1), code('RS_EINVAL'));
	assert.throws(() => db.eventlog.read(run, 1.5), code('RS_EINVAL'));
	assert.throws(() => db.eventlog.byType(run, ''), code('RS_EINVAL'));
});

test('statecell: init, read, set, cas, transition, delete, list, scan', async () => {
	const run = rs.runId();
	assert.equal(await db.statecell.init(run, 'phase', 'plan'), 1);
	await assert.rejects(db.statecell.init(run, 'phase', 'x'), code('RS_EEXIST'));
	assert.deepEqual(db.statecell.read(run, 'phase', { encoding: 'utf8' }), { value: 'plan', version: 1 });
	assert.equal(db.statecell.read(run, 'nope'), undefined);
	assert.equal(await db.statecell.set(run, 'phase', 'act'), 2);
	await assert.rejects(db.statecell.set(run, 'nope', 'x'), code('RS_ENOTFOUND'));
	assert.equal(await db.statecell.cas(run, 'phase', 2, 'check'), 3);
	await assert.rejects(db.statecell.cas(run, 'phase', 2, 'x'), code('RS_EMISMATCH'));
	const v = await db.statecell.transition(run, 'phase', (val, ver) => {
		assert.equal(ver, 3);
		return val + '!';
	}, { encoding: 'utf8' });
	assert.equal(v, 4);
	assert.equal(db.statecell.read(run, 'phase', { encoding: 'utf8' }).value, 'check!');
	// undefined writes nothing.
	assert.equal(await db.statecell.transition(run, 'phase', () => undefined), 4);
	await assert.rejects(db.statecell.transition(run, 'nope', () => 'x'), code('RS_ENOTFOUND'));
	await assert.rejects(db.statecell.transition(run, 'phase', () => { throw new Error('boom'); }),
		/boom/);
	await assert.rejects(db.statecell.transition(run, 'phase', () => 12), code('RS_EINVAL'));
	await assert.rejects(db.statecell.transition(run, 'phase', 'notfn'), code('RS_EINVAL'));
	// Nothing of the database may be used from inside a transition.
	await assert.rejects(db.statecell.transition(run, 'phase', () => {
		db.kv.get(run, 'a');
	}), code('RS_EINVAL'));
	assert.equal(db.statecell.read(run, 'phase').version, 4);
	await db.statecell.init(run, 'plan.a', '1');
	await db.statecell.init(run, 'plan.b', '2');
	const l = db.statecell.list(run, { prefix: 'plan.', encoding: 'utf8' });
	assert.deepEqual(l.items, [{ name: 'plan.a', value: '1', version: 1 }, { name: 'plan.b', value: '2', version: 1 }]);
	const s = db.statecell.scan(run, { reverse: true, limit: 1 });
	assert.equal(s.items[0].name, 'plan.b');
	assert.equal(s.more, true);
	assert.equal(await db.statecell.delete(run, 'phase'), true);
	assert.equal(await db.statecell.delete(run, 'phase'), false);
	// Versions continue past a delete (no ABA).
	assert.equal(await db.statecell.init(run, 'phase', 'again'), 5);
	await assert.rejects(db.statecell.init(run, '', 'x'), code('RS_EINVAL'));
	await assert.rejects(db.statecell.init(run, 'n'.repeat(257), 'x'), code('RS_ETOOBIG'));
	assert.throws(() => db.statecell.read(run, 7), code('RS_EINVAL'));
});

test('tracestore: record, get, byType, byTag, children, byTime, tree', async () => {
	const run = rs.runId();
	const root = await db.tracestore.record(run, { type: 'agent', payload: 'root', tags: ['a'] });
	assert.equal(root, 0);
	const c1 = await db.tracestore.record(run, { type: 'tool', payload: 'c1', tags: ['a', 'b'], parent: root });
	const c2 = await db.tracestore.record(run, { type: 'tool', parent: root });
	const g = await db.tracestore.record(run, { type: 'llm', parent: c1 });
	const t = db.tracestore.get(run, c1, { encoding: 'utf8' });
	assert.equal(t.id, c1);
	assert.equal(t.parent, root);
	assert.equal(t.type, 'tool');
	assert.equal(t.payload, 'c1');
	assert.deepEqual(t.tags, ['a', 'b']);
	assert.equal(db.tracestore.get(run, root).parent, null);
	assert.equal(db.tracestore.get(run, 99), undefined);
	assert.deepEqual(db.tracestore.byType(run, 'tool').items.map((x) => x.id), [c1, c2]);
	const p = db.tracestore.byTag(run, 'a', { limit: 1 });
	assert.deepEqual(p.items.map((x) => x.id), [root]);
	assert.equal(p.more, true);
	assert.deepEqual(db.tracestore.byTag(run, 'a', { cursor: p.cursor }).items.map((x) => x.id), [c1]);
	assert.deepEqual(db.tracestore.children(run, root).items.map((x) => x.id), [c1, c2]);
	assert.deepEqual(db.tracestore.children(run, g).items, []);
	const all = db.tracestore.byTime(run, 0n);
	assert.equal(all.items.length, 4);
	assert.equal(db.tracestore.byTime(run, 0, 1).items.length, 0);
	assert.throws(() => db.tracestore.byTime(run, 10n, 5n), code('RS_EINVAL'));
	const tree = db.tracestore.tree(run, root);
	assert.deepEqual(tree.map((x) => [x.id, x.depth]), [[root, 0], [c1, 1], [g, 2], [c2, 1]]);
	assert.deepEqual(db.tracestore.tree(run, root, { maxDepth: 0 }).map((x) => x.id), [root]);
	assert.equal(db.tracestore.tree(run, 99), undefined);
	await assert.rejects(db.tracestore.record(run, { type: 'x', parent: 99 }), code('RS_ENOTFOUND'));
	await assert.rejects(db.tracestore.record(run, { type: '' }), code('RS_EINVAL'));
	await assert.rejects(db.tracestore.record(run, { type: 'x', tags: ['d', 'd'] }), code('RS_EINVAL'));
	await assert.rejects(db.tracestore.record(run, { type: 'x', tags: ['t'.repeat(257)] }), code('RS_ETOOBIG'));
	await assert.rejects(db.tracestore.record(run, { type: 'x', tags: 'a' }), code('RS_EINVAL'));
});

test('runindex: create, get, getByName, list, queries, transition, delete', async () => {
	const parent = await db.runindex.create({ name: 'parent-run', tags: ['team'] });
	const child = await db.runindex.create({ parent, tags: ['team', 'x'], metadata: '{"a":1}' });
	const fixed = rs.runId();
	assert.equal(await db.runindex.create({ id: fixed }), fixed);
	await assert.rejects(db.runindex.create({ id: fixed }), code('RS_EEXIST'));
	await assert.rejects(db.runindex.create({ name: 'parent-run' }), code('RS_EEXIST'));
	const info = db.runindex.get(child, { encoding: 'utf8' });
	assert.equal(info.id, child);
	assert.equal(info.status, 'active');
	assert.equal(info.parent, parent);
	assert.equal(info.name, null);
	assert.equal(info.metadata, '{"a":1}');
	assert.deepEqual(info.tags, ['team', 'x']);
	assert.equal(typeof info.createdNs, 'bigint');
	assert.equal(db.runindex.getByName('parent-run').id, parent);
	assert.equal(db.runindex.getByName('nobody'), undefined);
	assert.equal(db.runindex.get(rs.runId()), undefined);
	const ids = db.runindex.list().items.map((r) => r.id);
	assert.ok(ids.includes(parent) && ids.includes(child) && ids.includes(fixed));
	const page = db.runindex.list({ limit: 1 });
	assert.equal(page.items.length, 1);
	assert.equal(page.more, true);
	assert.notEqual(db.runindex.list({ cursor: page.cursor, limit: 1 }).items[0].id, page.items[0].id);
	assert.deepEqual(db.runindex.byTag('team').items.map((r) => r.id), [parent, child]);
	assert.deepEqual(db.runindex.byParent(parent).items.map((r) => r.id), [child]);
	assert.equal(await db.runindex.transition(child, 'completed'), 'active');
	assert.deepEqual(db.runindex.byStatus('completed').items.map((r) => r.id), [child]);
	await assert.rejects(db.runindex.transition(child, 'active'), (e) => {
		code('RS_ETRANSITION')(e);
		assert.equal(e.from, 'completed');
		return true;
	});
	await assert.rejects(db.runindex.transition(child, 'sideways'), code('RS_EINVAL'));
	await assert.rejects(db.runindex.transition(rs.runId(), 'paused'), code('RS_ENOTFOUND'));
	assert.throws(() => db.runindex.byStatus('sideways'), code('RS_EINVAL'));
	// Archived runs are read-only.
	assert.equal(await db.runindex.transition(child, 'archived'), 'completed');
	await assert.rejects(db.kv.put(child, 'k', 'v'), code('RS_EARCHIVED'));
	// Delete removes the entry and all data.
	await db.kv.put(parent, 'k', 'v');
	await db.runindex.delete(parent);
	assert.equal(db.runindex.get(parent), undefined);
	assert.equal(db.kv.get(parent, 'k'), undefined);
	await assert.rejects(db.runindex.delete(parent), code('RS_ENOTFOUND'));
	await assert.rejects(db.runindex.create({ name: '' }), code('RS_EINVAL'));
	await assert.rejects(db.runindex.create({ parent: 'bad' }), code('RS_EINVAL'));
});

test('transaction: atomic, read-your-writes, returns the value, fills receipts', async () => {
	// A fresh database: no run deleted yet, so every run's base is 0.
	const db = await rs.open();
	const run = rs.runId();
	await db.statecell.init(run, 'count', '0');
	let ev, tr, child;
	const value = await db.transaction(run, (tx) => {
		tx.kv.put('a', '1');
		assert.equal(tx.kv.get('a', { encoding: 'utf8' }), '1');
		assert.equal(tx.kv.exists('a'), true);
		assert.deepEqual(tx.kv.getMany(['a', 'zz'], { encoding: 'utf8' }), ['1', undefined]);
		tx.kv.put('b', '2');
		assert.equal(tx.kv.delete('b'), true);
		// A value as parts, as kv.put takes it; a bad part throws.
		tx.kv.put('p', ['x', Buffer.from('y'), '']);
		assert.equal(tx.kv.get('p', { encoding: 'utf8' }), 'xy');
		assert.throws(() => tx.kv.put('q', ['x', 1]), code('RS_EINVAL'));
		assert.equal(tx.kv.exists('q'), false);
		assert.equal(tx.kv.delete('p'), true);
		assert.deepEqual(tx.kv.list({ keyEncoding: 'utf8' }).items.map((e) => e.key), ['a']);
		assert.deepEqual(tx.kv.scan({ reverse: true, keyEncoding: 'utf8' }).items.map((e) => e.key), ['a']);
		const c = tx.kv.cursor({ keyEncoding: 'utf8', encoding: 'utf8' });
		assert.deepEqual(c.first(), ['a', '1']);
		c.close();
		ev = tx.eventlog.append('step', 'one');
		assert.equal(ev.pending, true);
		assert.equal(tx.eventlog.len(), 1);
		assert.equal(tx.eventlog.head().len, 0); // pending appends have no hash yet
		const pe = tx.eventlog.read(0);
		assert.equal(pe.pending, true);
		assert.equal(tx.eventlog.range().length, 1);
		assert.equal(tx.eventlog.byType('step').items.length, 1);
		assert.deepEqual(tx.eventlog.verify(), { ok: true, badSeq: null });
		const n = tx.statecell.transition('count', (v) => String(Number(v) + 1), { encoding: 'utf8' });
		assert.equal(n, 2);
		assert.equal(tx.statecell.read('count', { encoding: 'utf8' }).value, '1');
		assert.equal(tx.statecell.set('count', '5'), 3);
		assert.equal(tx.statecell.cas('count', 3, '6'), 4);
		assert.throws(() => tx.statecell.cas('count', 3, '7'), code('RS_EMISMATCH'));
		assert.equal(typeof tx.statecell.init('other', 'x'), 'number');
		assert.equal(tx.statecell.delete('other'), true);
		assert.deepEqual(tx.statecell.list().items.map((x) => x.name), ['count']);
		assert.deepEqual(tx.statecell.scan().items.map((x) => x.name), ['count']);
		tr = tx.tracestore.record({ type: 'agent', payload: 'p', tags: ['t'] });
		assert.equal(typeof tr.handle, 'bigint');
		child = tx.tracestore.record({ type: 'tool', parent: tr });
		assert.equal(tx.tracestore.get(tr).pending, true);
		assert.equal(tx.tracestore.children(tr).items.length, 1);
		assert.equal(tx.tracestore.byType('tool').items.length, 1);
		assert.equal(tx.tracestore.byTag('t').items.length, 1);
		assert.equal(tx.tracestore.byTime(0n).items.length, 0); // pending: no timestamp yet
		assert.equal(tx.tracestore.tree(tr).length, 2);
		assert.equal(typeof tx.snapshotVersion(), 'number');
		return 'done';
	});
	assert.equal(value, 'done');
	assert.equal(ev.pending, false);
	assert.equal(ev.seq, 0);
	assert.deepEqual(ev.hash, db.eventlog.read(run, 0).hash);
	assert.equal(tr.id, 0);
	assert.equal(child.id, 1);
	assert.equal(db.tracestore.get(run, 1).parent, 0);
	assert.equal(db.statecell.read(run, 'count', { encoding: 'utf8' }).value, '6');
	assert.equal(db.kv.get(run, 'b'), undefined);
	await db.close();
});

test('transaction: a throwing body aborts; the tx object dies with its callback', async () => {
	const run = rs.runId();
	let saved;
	await assert.rejects(db.transaction(run, (tx) => {
		saved = tx;
		tx.kv.put('a', '1');
		throw new Error('nope');
	}), /nope/);
	assert.equal(db.kv.get(run, 'a'), undefined);
	assert.throws(() => saved.kv.get('a'), code('RS_EDONE'));
	assert.throws(() => saved.kv.put('a', '1'), code('RS_EDONE'));
	// An async body is refused and aborted: it cannot keep a transaction
	// open across an await.
	await assert.rejects(db.transaction(run, async (tx) => { tx.kv.put('a', '1'); }), code('RS_EINVAL'));
	assert.equal(db.kv.get(run, 'a'), undefined);
	// A cursor of a transaction ends with it.
	let cur;
	await db.transaction(run, (tx) => { tx.kv.put('k', 'v'); cur = tx.kv.cursor(); });
	assert.throws(() => cur.first(), code('RS_EDONE'));
	// No nesting on the same database.
	await assert.rejects(db.transaction(run, () => db.read(run, () => 1)), code('RS_EINVAL'));
	let closing;
	await db.transaction(run, () => { closing = db.close(); });
	await assert.rejects(closing, code('RS_EBUSY'));
	assert.equal(db.closed, false);
	await assert.rejects(db.transaction(run, 'x'), code('RS_EINVAL'));
	await assert.rejects(db.transaction(run, () => 1, { maxAttempts: 0 }), code('RS_EINVAL'));
	await assert.rejects(db.transaction('bad', () => 1), code('RS_EINVAL'));
});

test('transaction: retried on conflict, up to maxAttempts', async () => {
	const run = rs.runId();
	await db.kv.put(run, 'n', '0');
	let calls = 0;
	// The body reads n, then a registered-run delete of the run (its own
	// commit, inline here) changes it: the commit conflicts and the body
	// runs again on the new state.
	const r = await db.transaction(run, (tx) => {
		calls++;
		const n = tx.kv.get('n', { encoding: 'utf8' });
		if (calls === 1) db.runindex.delete(run);
		tx.kv.put('n', String(Number(n ?? '0') + 1));
		return n;
	});
	assert.equal(calls, 2);
	assert.equal(r, undefined); // the second attempt saw the run deleted
	assert.equal(db.kv.get(run, 'n', { encoding: 'utf8' }), '1');
	let tries = 0;
	await assert.rejects(db.transaction(run, (tx) => {
		tries++;
		tx.kv.get('n');
		// Register the run and delete it again, each its own commit.
		db.runindex.create({ id: run });
		db.runindex.delete(run);
		tx.kv.put('n', 'x');
	}, { maxAttempts: 3 }), code('RS_ECONFLICT'));
	assert.equal(tries, 3);
});

test('read: one snapshot, read-only, synchronous', async () => {
	const run = rs.runId();
	await db.kv.put(run, 'a', '1');
	const v = db.read(run, (tx) => tx.kv.get('a', { encoding: 'utf8' }));
	assert.equal(v, '1');
	assert.throws(() => db.read(run, (tx) => tx.kv.put('a', '2')), code('RS_EREADONLY'));
	const v2 = await db.transaction(run, (tx) => tx.kv.get('a', { encoding: 'utf8' }), { readonly: true });
	assert.equal(v2, '1');
	assert.throws(() => db.read(run, async () => 1), code('RS_EINVAL'));
});

test('stats, runVersion, flush and checkpoint of an in-memory database', async () => {
	const db = await rs.open();
	const run = rs.runId();
	assert.equal(db.runVersion(run), 0);
	await db.kv.put(run, 'a', '1');
	assert.equal(db.runVersion(run), 1);
	assert.equal(db.stats().walRecords, 0, JSON.stringify(db.stats()));
	await db.flush();
	await assert.rejects(db.checkpoint(), code('RS_ENOTSUP'));
	assert.throws(() => db.runVersion('x'), code('RS_EINVAL'));
	await db.close();
});

test('a closed database answers RS_EINVAL', async () => {
	const d = await rs.open();
	const run = rs.runId();
	const c = d.kv.cursor(run);
	await d.close();
	await d.close(); // idempotent
	assert.equal(d.closed, true);
	assert.throws(() => d.kv.get(run, 'a'), code('RS_EINVAL'));
	assert.throws(() => c.next(), code('RS_EINVAL'));
	await assert.rejects(d.kv.put(run, 'a', 'b'), code('RS_EINVAL'));
	await assert.rejects(d.flush(), code('RS_EINVAL'));
	await assert.rejects(d.runindex.create(), code('RS_EINVAL'));
	assert.throws(() => d.read(run, () => 1), code('RS_EINVAL'));
});

test('ES module entry point', async () => {
	const m = await import('../index.mjs');
	assert.equal(m.open, rs.open);
	assert.equal(m.default, rs);
	assert.equal(m.RunstateError, rs.RunstateError);
});
