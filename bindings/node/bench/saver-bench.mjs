// SPDX-License-Identifier: MIT
//
// Checkpoint saver benchmark (../../../scripts/bench runs it when Node is
// present): one step = put (2 changed channels, 1 KiB values each) +
// putWrites (2 writes) + getTuple(latest), timed at thread lengths 10, 500
// and 4,000 checkpoints; then, on the 4,000-checkpoint thread, getTuple of
// a past checkpoint by id and list(limit 10). Savers, all in this run:
// MemorySaver; SqliteSaver on ':memory:' and on a file (WAL, its
// synchronous setting as it comes, printed; and synchronous=FULL, the Strict
// class); RunstateSaver InMemory, Buffered and Strict. Durability classes:
// none (MemorySaver, both :memory:), buffered (SQLite NORMAL, runstate
// Buffered), strict (SQLite FULL, runstate Strict). Prints one table, in
// microseconds per operation (median of RS_SAVER_BENCH_ROUNDS rounds,
// default 3; a length under the timed steps, such as 10, is timed on as
// many fresh threads of that length as make RS_SAVER_BENCH_SHORT_STEPS
// steps, default five times the timed steps), with each
// saver's ratio to SqliteSaver of its class and to MemorySaver, and the
// goals. RS_SAVER_BENCH_LENGTHS (e.g. "10,500") and
// RS_SAVER_BENCH_STEPS (timed steps per length, default 200) make it
// shorter. Within a round every saver is open and they take turns, 50
// timed steps each (five whole threads at length 10), in an order drawn
// afresh each turn, so that a machine's drift falls on every saver alike
// and no saver always follows the same one; each turn ends, untimed,
// with a return to the event loop (see settle); a ratio is the median
// over the rounds of the two savers' times in the same round.
// RS_SAVER_BENCH_SAVERS="RunstateSaver InMemory,..." runs only the savers
// named (with MemorySaver and the SQLite baselines of their classes).
// RS_SAVER_BENCH_BASE=<another bindings/node directory, built> adds its
// RunstateSaver rows, marked "(base)", to compare two builds in one run.
// A second table: RS_SAVER_BENCH_CONCURRENT threads (default 8) stepping
// at once, 25 steps each (see concurrently()).
// RS_SAVER_BENCH_CLOCK=cpu times by CPU time instead of the wall clock
// (see timeIt). Checkpoint ids (uuid6) are made before each timed stretch:
// LangGraph makes them, not the saver. A durable RunstateSaver's row also
// gives its fdatasyncs per step; the Strict goal line says what they mean
// for its ratio to SQLite's synchronous=FULL, beside what one fdatasync
// costs on this machine in the same run on the JavaScript thread (where
// SqliteSaver, through better-sqlite3, makes its own, blocking the event
// loop) and through libuv's thread pool (Node's fs.fdatasync, and where
// RunstateSaver Strict waits for its, off the event loop): syncCost().
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { MemorySaver, uuid6 } = require('@langchain/langgraph-checkpoint');
const { SqliteSaver } = require('@langchain/langgraph-checkpoint-sqlite');
const Database = require('better-sqlite3');
const { RunstateSaver } = require('../langgraph');
const BASE_DIR = process.env.RS_SAVER_BENCH_BASE;
const BaseSaver = BASE_DIR ? require(path.resolve(BASE_DIR, 'langgraph')).RunstateSaver : undefined;

const LENGTHS = (process.env.RS_SAVER_BENCH_LENGTHS || '10,500,4000').split(',').map(Number);
const STEPS = Number(process.env.RS_SAVER_BENCH_STEPS || 200);
// Timed steps at a length under STEPS (threads of that length, as many as
// make them): a step there is short, so more of them (a stretch of a
// noisy machine, or one collection of the garbage, then weighs less).
const SHORT_STEPS = Number(process.env.RS_SAVER_BENCH_SHORT_STEPS || 5 * STEPS);
const ROUNDS = Number(process.env.RS_SAVER_BENCH_ROUNDS || 3);
const VALUE = 'x'.repeat(1024);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rs-saver-bench-'));
let seq = 0;
const file = (n) => path.join(tmp, `${n}-${seq++}`);

function sqliteFile(sync) {
	const db = new Database(file('sqlite') + '.db');
	const s = new SqliteSaver(db);
	s.setup();
	if (sync) db.pragma(`synchronous=${sync}`);
	return { saver: s, close: () => db.close(), note: `synchronous=${db.pragma('synchronous', { simple: true })}` };
}

const SAVERS = [
	{ name: 'MemorySaver', cls: 'none', make: async () => ({ saver: new MemorySaver(), close: () => {} }) },
	{ name: 'SqliteSaver :memory:', cls: 'none', make: async () => { const s = SqliteSaver.fromConnString(':memory:'); return { saver: s, close: () => s.db.close() }; } },
	{ name: 'RunstateSaver InMemory', cls: 'none', make: async () => { const s = await RunstateSaver.open(); return { saver: s, close: () => s.close() }; } },
	{ name: 'SqliteSaver file', cls: 'buffered', make: async () => sqliteFile(null) },
	{ name: 'RunstateSaver Buffered', cls: 'buffered', make: async () => { const s = await RunstateSaver.open({ path: file('rs'), durability: 'buffered' }); return { saver: s, close: () => s.close() }; } },
	{ name: 'SqliteSaver file FULL', cls: 'strict', make: async () => sqliteFile('FULL') },
	{ name: 'RunstateSaver Strict', cls: 'strict', make: async () => { const s = await RunstateSaver.open({ path: file('rs'), durability: 'strict' }); return { saver: s, close: () => s.close() }; } },
];
const BASE = { none: 'SqliteSaver :memory:', buffered: 'SqliteSaver file', strict: 'SqliteSaver file FULL' };
// RS_SAVER_BENCH_SAVERS="RunstateSaver InMemory,...": only the savers
// named, and MemorySaver, with the baselines of their classes (for the
// ratios).
if (process.env.RS_SAVER_BENCH_SAVERS) {
	const only = new Set(process.env.RS_SAVER_BENCH_SAVERS.split(',').map((x) => x.trim()));
	const named = (x) => only.has(x.name) || x.name === 'MemorySaver';
	const keep = SAVERS.filter((x) => named(x) || SAVERS.some((y) => named(y) && BASE[y.cls] === x.name));
	if ([...only].some((n) => !SAVERS.some((x) => x.name === n)))
		throw new Error(`RS_SAVER_BENCH_SAVERS: names are ${SAVERS.map((x) => x.name).join(', ')}`);
	SAVERS.splice(0, SAVERS.length, ...keep);
}
if (BaseSaver !== undefined) {
	for (const spec of SAVERS.filter((x) => x.name.startsWith('RunstateSaver'))) {
		const durability = spec.name.endsWith('InMemory') ? undefined : spec.name.endsWith('Strict') ? 'strict' : 'buffered';
		SAVERS.push({
			name: `${spec.name} (base)`, cls: spec.cls,
			make: async () => {
				const s = await BaseSaver.open(durability ? { path: file('rsb'), durability } : {});
				return { saver: s, close: () => s.close() };
			},
		});
	}
}

// Checkpoint ids and timestamps, made before a timed stretch (LangGraph
// makes them, not the saver: uuid6 alone was a tenth of a step's time).
function ids(n) {
	return Array.from({ length: n }, () => [uuid6(-3), new Date().toISOString()]);
}

// One step of a thread; returns the new config. `made`: its [id, ts].
async function step(saver, config, i, made = ids(1)[0]) {
	const cp = {
		v: 4, id: made[0], ts: made[1],
		channel_values: { messages: `${VALUE}${i}`, scratch: `${VALUE}${i}` },
		channel_versions: { messages: i + 1, scratch: i + 1 },
		versions_seen: { agent: { messages: i } },
	};
	const next = await saver.put(config, cp, { source: 'loop', step: i, parents: {} }, { messages: i + 1, scratch: i + 1 });
	await saver.putWrites(next, [['messages', `w${i}`], ['scratch', `v${i}`]], `task-${i}`);
	const t = await saver.getTuple({ configurable: { thread_id: next.configurable.thread_id, checkpoint_ns: '' } });
	if (t === undefined || t.checkpoint.id !== cp.id) throw new Error('getTuple(latest) did not return the latest checkpoint');
	return next;
}

// Microseconds of one append of a record's size (2,600 bytes) to a file
// written before (as a log's preallocated segment is) and its fdatasync:
// [on the JavaScript thread, through libuv's pool (fs.fdatasync)], in
// alternating blocks of 20, the median of each.
async function syncCost() {
	const name = file('sync');
	const fd = fs.openSync(name, 'w+');
	const rec = Buffer.alloc(2600, 120);
	const n = 200;
	const zero = Buffer.alloc(n * rec.length);
	fs.writeSync(fd, zero, 0, zero.length, 0);
	fs.fsyncSync(fd);
	const main = [], pool = [];
	let off = 0;
	for (let i = 0; i < n; i++) {
		const onPool = Math.floor(i / 20) % 2 === 1;
		const t0 = process.hrtime.bigint();
		fs.writeSync(fd, rec, 0, rec.length, off);
		if (onPool) await new Promise((res, rej) => fs.fdatasync(fd, (e) => (e ? rej(e) : res())));
		else fs.fdatasyncSync(fd);
		(onPool ? pool : main).push(Number(process.hrtime.bigint() - t0) / 1000);
		off += rec.length;
	}
	fs.closeSync(fd);
	fs.rmSync(name);
	return [median(main), median(pool)];
}

function median(xs) {
	const s = xs.slice().sort((a, b) => a - b);
	return s[Math.floor(s.length / 2)];
}

// The median of the rounds' ratios num[k] / den[k] (two times of one
// round, measured side by side).
const pairedRatio = (num, den) => median(num.map((x, k) => x / den[k]));

// Microseconds per call of fn, by the wall clock, or with
// RS_SAVER_BENCH_CLOCK=cpu by the process's CPU time (every thread's, user
// and system): on a shared machine that leaves out the time other
// processes had the CPU, but also any wait for a disk (fdatasync), so it
// is the measure for the none and buffered classes only.
const CPU_CLOCK = process.env.RS_SAVER_BENCH_CLOCK === 'cpu';
async function timeIt(n, fn) {
	if (CPU_CLOCK) {
		const c0 = process.cpuUsage();
		for (let i = 0; i < n; i++) await fn(i);
		const c = process.cpuUsage(c0);
		return (c.user + c.system) / n;
	}
	const t0 = process.hrtime.bigint();
	for (let i = 0; i < n; i++) await fn(i);
	return Number(process.hrtime.bigint() - t0) / 1000 / n;
}

// The fdatasyncs a durable runstate database of x has made (it counts its
// own), or undefined for another saver.
const walSyncs = (x) => (x.spec.cls !== 'none' && x.saver.db && typeof x.saver.db.stats === 'function'
	? x.saver.db.stats().walSyncs : undefined);

// Steps of CONCURRENT threads at once (RS_SAVER_BENCH_CONCURRENT, default
// 8; 0: not measured), CONCURRENT_STEPS each, from their first
// checkpoint: as an agent runtime serving several conversations steps
// them, each thread's steps in order, the threads' interleaved wherever
// one awaits. Microseconds per step (all threads' time over all their
// steps, by timeIt's clock), and the fdatasyncs it took (a runstate
// database's count). A saver whose calls are synchronous (SqliteSaver,
// better-sqlite3) makes them one after another whatever the concurrency;
// commits of concurrent steps can share a sync (group commit).
const CONCURRENT = Number(process.env.RS_SAVER_BENCH_CONCURRENT ?? 8);
const CONCURRENT_STEPS = 25;
async function concurrently(x, r) {
	const made = Array.from({ length: CONCURRENT }, () => ids(CONCURRENT_STEPS));
	const s0 = walSyncs(x);
	const each = await timeIt(1, () => Promise.all(made.map(async (m, j) => {
		let c = { configurable: { thread_id: `bench-${r}-at-once-${j}`, checkpoint_ns: '' } };
		for (let n = 0; n < CONCURRENT_STEPS; n++) c = await step(x.saver, c, n, m[n]);
	})));
	const syncsTaken = s0 === undefined ? 0 : walSyncs(x) - s0;
	return {
		us: each / (CONCURRENT * CONCURRENT_STEPS), syncsTaken,
		syncs: s0 === undefined ? undefined : syncsTaken / (CONCURRENT * CONCURRENT_STEPS),
	};
}

// Warm-up (JIT, allocator, files) on a thread of its own.
async function warmUp(spec) {
	const { saver, close } = await spec.make();
	let config = { configurable: { thread_id: 'warm-up', checkpoint_ns: '' } };
	for (let i = 0; i < 100; i++) config = await step(saver, config, i);
	await close();
}

// One round: a fresh instance of every saver, all open at once and stepped
// in turns of BLOCK timed steps (RS_SAVER_BENCH_BLOCK, default 50; at a
// short length, as many whole threads), in an order drawn afresh each
// turn (shuffled()), so that a shared machine's drift falls on every saver
// alike instead of on whichever round it came in, while a turn is long
// enough for a saver to run warm. Each saver's time is the sum of its own
// steps only, and goes into its res.
const BLOCK = Number(process.env.RS_SAVER_BENCH_BLOCK || 50);
// The savers in the order of turn t: a permutation drawn from t (a fixed
// sequence, so runs are alike), so that no saver always follows the same
// one (each leaves the caches and the collector's state to the next).
function shuffled(xs, t) {
	const out = xs.slice();
	let s = (t + 1) * 2654435761 >>> 0;
	for (let i = out.length - 1; i > 0; i--) {
		s = (Math.imul(s, 1103515245) + 12345) >>> 0;
		const j = s % (i + 1);
		[out[i], out[j]] = [out[j], out[i]];
	}
	return out;
}
async function round(r) {
	const live = [];
	for (const spec of SAVERS) {
		const { saver, close, note } = await spec.make();
		const res = raw.get(spec.name);
		if (note) res.note = note;
		live.push({
			spec, saver, close, res, len: 0, done: [], steps: 0,
			config: { configurable: { thread_id: `bench-${r}`, checkpoint_ns: '' } },
		});
	}
	// After x's turn, untimed. A Buffered database's flusher would write
	// the commits of the turn during the next saver's: write them now (a
	// Strict one has nothing left to write). Then every saver's turn ends
	// with a return to the event loop, as an agent runtime's steps do
	// (between them it awaits a model, a tool...): V8 runs the collector's
	// tasks that wait for one there. Without it only Buffered's flush gave
	// them that point, and the saver after whom they ran paid for them
	// in its timed steps instead: InMemory took 49.2-49.7 us a step at
	// length 500 against Buffered's 39.5-41.8 in the same runs, and
	// 40.6-43.6 against 42.0-43.7 with the return (two pairs of runs).
	const settle = async (x) => {
		if (x.spec.cls === 'buffered' && typeof x.saver.db?.flush === 'function') await x.saver.db.flush();
		await new Promise((res) => setImmediate(res));
	};
	let turn = 0;
	// fn(x) for every saver, in this turn's order.
	const inTurn = async (fn) => {
		const order = shuffled(live, turn++);
		for (const x of order) {
			await fn(x);
			await settle(x);
		}
	};
	const go = async (x, c, n, made) => {
		x.steps++;
		return step(x.saver, c, n, made);
	};
	for (const L of LENGTHS) {
		if (live[0].len === 0 && L < STEPS) {
			// A length shorter than the timed steps: that many threads of
			// L steps each, all timed (the first one goes on), so that the
			// time is not that of one short stretch of a noisy machine.
			const k = Math.ceil(SHORT_STEPS / L);
			const per = Math.max(1, Math.min(k, Math.round(BLOCK / L))); // threads a turn
			const sums = new Map(live.map((x) => [x, 0]));
			for (let j0 = 0; j0 < k; j0 += per) {
				await inTurn(async (x) => {
					for (let j = j0; j < Math.min(k, j0 + per); j++) {
						let c = j === 0 ? x.config : { configurable: { thread_id: `bench-${r}-${j}`, checkpoint_ns: '' } };
						let n = 0;
						const made = ids(L);
						sums.set(x, sums.get(x) + await timeIt(L, async () => {
							c = await go(x, c, n, made[n]);
							n++;
							if (j === 0) x.done.push(c.configurable.checkpoint_id);
						}));
						if (j === 0) x.config = c;
					}
				});
			}
			for (const x of live) {
				x.len = L;
				(x.res.step[L] ??= []).push(sums.get(x) / k);
			}
			continue;
		}
		const timed = Math.min(STEPS, L);
		for (const x of live) {
			while (x.len < L - timed) {
				x.config = await go(x, x.config, x.len++);
				x.done.push(x.config.configurable.checkpoint_id);
			}
			await settle(x);
		}
		const sums = new Map(live.map((x) => [x, 0]));
		const made = new Map(live.map((x) => [x, ids(timed)]));
		for (let b = 0; b < timed; b += BLOCK) {
			const n = Math.min(BLOCK, timed - b);
			await inTurn(async (x) => {
				const m = made.get(x);
				sums.set(x, sums.get(x) + n * await timeIt(n, async (i) => {
					x.config = await go(x, x.config, x.len++, m[b + i]);
					x.done.push(x.config.configurable.checkpoint_id);
				}));
			});
		}
		for (const x of live) (x.res.step[L] ??= []).push(sums.get(x) / timed);
	}
	await inTurn(async (x) => {
		const tid = x.config.configurable.thread_id;
		x.res.byId.push(await timeIt(STEPS, async (i) => {
			const id = x.done[(i * 7919) % x.done.length];
			const t = await x.saver.getTuple({ configurable: { thread_id: tid, checkpoint_ns: '', checkpoint_id: id } });
			if (t === undefined) throw new Error('getTuple by id found nothing');
		}));
	});
	await inTurn(async (x) => {
		const tid = x.config.configurable.thread_id;
		x.res.list.push(await timeIt(Math.max(1, STEPS / 4), async () => {
			let n = 0;
			for await (const _ of x.saver.list({ configurable: { thread_id: tid } }, { limit: 10 })) n++;
			if (n !== 10) throw new Error(`list(limit 10) gave ${n}`);
		}));
	});
	if (CONCURRENT > 0) {
		await inTurn(async (x) => {
			const c = await concurrently(x, r);
			x.res.conc.push(c.us);
			if (c.syncs !== undefined) x.res.concSyncs.push(c.syncs);
			x.concSyncs = c.syncsTaken;
		});
	}
	if (live.some((x) => x.spec.cls === 'strict')) sync.push(await syncCost());
	for (const x of live) {
		// fdatasyncs per step (a runstate database counts its own), over
		// every step of the round.
		const syncs = walSyncs(x);
		if (syncs !== undefined) x.res.syncs.push((syncs - (x.concSyncs ?? 0)) / x.steps);
		await x.close();
	}
}

function medians(res) {
	return {
		step: Object.fromEntries(Object.entries(res.step).map(([k, v]) => [k, median(v)])),
		byId: median(res.byId), list: median(res.list), note: res.note,
		conc: res.conc.length > 0 ? median(res.conc) : undefined,
		concSyncs: res.concSyncs.length > 0 ? median(res.concSyncs) : undefined,
		syncs: res.syncs.length > 0 ? median(res.syncs) : undefined,
	};
}

const raw = new Map(SAVERS.map((spec) => [spec.name, { step: {}, byId: [], list: [], syncs: [], conc: [], concSyncs: [] }]));
const sync = []; // syncCost() of each round
for (const spec of SAVERS) await warmUp(spec);
for (let r = 0; r < ROUNDS; r++) {
	process.stderr.write(`saver-bench: round ${r + 1} of ${ROUNDS}...\n`);
	await round(r);
}
const results = new Map(SAVERS.map((spec) => [spec.name, medians(raw.get(spec.name))]));
fs.rmSync(tmp, { recursive: true, force: true });

const cols = [...LENGTHS.map((L) => `step@${L}`), 'getTuple(id)', 'list(10)'];
const pad = (s, n) => String(s).padStart(n);
const f = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
console.log(`\nCheckpoint savers, microseconds per operation (${CPU_CLOCK ? 'CPU time, not counting disk waits' : 'wall clock'}; median of ${ROUNDS} rounds; ${STEPS} timed steps per length${LENGTHS.some((L) => L < STEPS) ? `, ${SHORT_STEPS} at a length under ${STEPS}` : ''})`);
console.log(`${'saver'.padEnd(30)} ${'class'.padEnd(8)} ${cols.map((c) => pad(c, 13)).join(' ')}   vs SQLite (class)  vs MemorySaver  ${LENGTHS.at(-1)}/${LENGTHS[0]}`);
// A saver's steps with CONCURRENT threads at once against its class's
// SQLite baseline's (pairedRatio: paired by round).
const concVsBase = (spec) => pairedRatio(raw.get(BASE[spec.cls]).conc, raw.get(spec.name).conc);
const goals = [];
for (const spec of SAVERS) {
	const r = results.get(spec.name);
	const vals = [...LENGTHS.map((L) => r.step[L]), r.byId, r.list];
	// Ratios pair the savers' times of the same round (measured side by
	// side), then take the median over the rounds.
	const own = raw.get(spec.name).step;
	const paired = (num, L) => pairedRatio(num[L], own[L]);
	const vsSql = LENGTHS.map((L) => paired(raw.get(BASE[spec.cls]).step, L));
	const vsMem = LENGTHS.map((L) => paired(raw.get('MemorySaver').step, L));
	const growth = pairedRatio(own[LENGTHS.at(-1)], own[LENGTHS[0]]);
	console.log(`${spec.name.padEnd(30)} ${spec.cls.padEnd(8)} ${vals.map((v) => pad(f(v), 13)).join(' ')}   ` +
		`${vsSql.map((x) => x.toFixed(2) + 'x').join(' ').padEnd(17)}  ${vsMem.map((x) => x.toFixed(2) + 'x').join(' ').padEnd(13)} ${growth.toFixed(2)}x` +
		(r.syncs !== undefined ? `  ${r.syncs.toFixed(2)} syncs/step` : '') +
		(r.note ? `  (${r.note})` : ''));
	if (spec.name.startsWith('RunstateSaver') && !spec.name.endsWith('(base)')) {
		const each = (xs, min) => xs.map((x, k) => `@${LENGTHS[k]} ${x >= min ? 'met' : 'NOT met'}`).join(', ');
		// MemorySaver keeps nothing: only the in-memory class is judged
		// against it (the others are printed beside it).
		goals.push(`${spec.name}: >= 2x ${BASE[spec.cls]}: ${each(vsSql, 2)}` +
			(spec.cls === 'none' ? `; no slower than MemorySaver: ${each(vsMem, 1)}` : '') +
			`; cost at ${LENGTHS.at(-1)} within 1.5x of ${LENGTHS[0]}: ${growth <= 1.5 ? 'met' : 'NOT met'} (${growth.toFixed(2)}x)` +
			(spec.cls === 'strict' && r.syncs !== undefined
				? `; fsync-bound: ${r.syncs.toFixed(2)} fdatasyncs per step (one per commit, put and putWrites, as SQLite's` +
				  ' synchronous=FULL syncs its WAL at each commit), so this ratio mostly compares the two savers\u2019 waits' +
				  ' for the disk, twice a step each (its sync latency, not the savers\u2019 own work)' +
				  (sync.length > 0
					? `; one fdatasync of a 2,600-byte append here: ${f(median(sync.map((x) => x[0])))} us on the JavaScript thread` +
					  ` (SqliteSaver's, blocking the event loop), ${f(median(sync.map((x) => x[1])))} us through libuv's pool` +
					  ' (fs.fdatasync; RunstateSaver Strict\u2019s, off the event loop)' : '') +
				  (CONCURRENT > 0
					? `; with ${CONCURRENT} threads stepping at once ${concVsBase(spec).toFixed(2)}x` +
					  ` (${r.concSyncs.toFixed(2)} fdatasyncs per step: concurrent commits share one; SQLite\u2019s stay one after another)` : '') : ''));
	}
}
if (CONCURRENT > 0) {
	console.log(`\n${CONCURRENT} threads stepping at once (${CONCURRENT_STEPS} steps each, from a thread's first checkpoint), microseconds per step`);
	console.log(`${'saver'.padEnd(30)} ${'class'.padEnd(8)} ${pad('step', 13)}   vs SQLite (class)`);
	for (const spec of SAVERS) {
		const r = results.get(spec.name);
		const vs = concVsBase(spec);
		console.log(`${spec.name.padEnd(30)} ${spec.cls.padEnd(8)} ${pad(f(r.conc), 13)}   ${(vs.toFixed(2) + 'x').padEnd(17)}` +
			(r.concSyncs !== undefined ? `  ${r.concSyncs.toFixed(2)} syncs/step` : ''));
	}
}
console.log('\n(ratios: how many times faster RunstateSaver-or-other is than the baseline per step, the median of the rounds\u2019 ratios; longest/shortest: step cost at the longest thread over the shortest;' +
	' syncs/step: fdatasyncs of a runstate database per step, counted by the database)');
console.log('Goals (issue 10):');
for (const g of goals) console.log(`  ${g}`);
