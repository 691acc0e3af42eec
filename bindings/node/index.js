// SPDX-License-Identifier: MIT
//
// runstate for Node.js. The rules this layer keeps (README.md says them for
// users):
//  - Reads are synchronous: they run on the calling (JavaScript) thread on
//    the library's lock-free read path and return values, never promises.
//  - Every write returns a promise. A write is committed before the call
//    returns (a read right after it sees it); the promise settles once it
//    is as durable as asked: at once for InMemory and Buffered, after an
//    fdatasync on the libuv pool for Strict. The JavaScript thread never
//    waits on fdatasync (the commit is made in Buffered mode and a flush
//    on the pool makes it durable; several commits share one flush). So a
//    Strict commit is visible before it is durable; the log keeps commits
//    in visibility order, so nothing derived from it is acknowledged
//    before it is durable (README.md, "Strict: visible, then durable").
//    RunIndex writes on a Strict database run whole on the pool: they take
//    effect when their promise resolves.
//  - open, close, flush and checkpoint return promises (the libuv pool does
//    the file work).
//  - A transaction is a synchronous callback: db.transaction(run, (tx) =>
//    {...}) begins a C transaction, runs the callback, commits, and retries
//    the whole callback on RS_ECONFLICT. The C transaction never outlives
//    the call, so it can never be open across an await, and it begins and
//    commits on the same thread as the C API requires.
'use strict';

const path = require('path');

function loadNative() {
	const dirs = ['Release', 'Debug'];
	let firstError;
	for (const d of dirs) {
		try {
			return require(path.join(__dirname, 'build', d, 'runstate.node'));
		} catch (e) {
			if (firstError === undefined) firstError = e;
		}
	}
	throw firstError;
}

const native = loadNative();

/** An error of the C library: `code` is the RS_E* name, `errno` the
 *  negative code, `message` starts with rs_strerror()'s text. */
class RunstateError extends Error {
	constructor(message, code, errno) {
		super(message);
		this.name = 'RunstateError';
		this.code = code;
		this.errno = errno;
	}
}
native.setErrorClass(RunstateError);

// The codes in ABI order (RS_ERROR_MAP): RS_<NAME> is -(index + 1).
const ERROR_NAMES = [
	'EINVAL', 'ENOMEM', 'ENOTFOUND', 'EEXIST', 'ECONFLICT', 'EMISMATCH',
	'ENOSPC', 'ETOOBIG', 'EDONE', 'ERUN', 'EREADONLY', 'EIO', 'ECORRUPT',
	'EBUSY', 'ENOTSUP', 'EVERSION', 'ETRANSITION', 'EARCHIVED', 'EUTF8',
	'ERANGE',
];
const errors = Object.freeze(Object.fromEntries(
	ERROR_NAMES.map((n, i) => ['RS_' + n, -(i + 1)])));

function rsError(name, detail) {
	const errno = errors[name];
	const base = native.strerror(errno).message;
	return new RunstateError(detail ? `${base}: ${detail}` : base, name, errno);
}

const DURABILITY = Object.freeze({ inmemory: 0, buffered: 1, strict: 2 });
const DURABILITY_NAMES = ['inmemory', 'buffered', 'strict'];

function durabilityOf(name, what) {
	if (name === undefined) return undefined;
	const d = DURABILITY[name];
	if (d === undefined)
		throw rsError('RS_EINVAL',
			`${what} must be 'inmemory', 'buffered' or 'strict' (got ${String(name)})`);
	return d;
}

const TX_ATTEMPTS = 16; // RS_TXN_RUN_DEFAULT_ATTEMPTS

function str(opts) {
	return opts !== undefined && opts !== null && opts.encoding === 'utf8';
}
function keyStr(opts) {
	return opts !== undefined && opts !== null && opts.keyEncoding === 'utf8';
}
// KV bytes come from C++ as ArrayBuffers (or strings): Buffers over them.
function buf(x) {
	return typeof x === 'object' ? Buffer.from(x) : x;
}

function bufs(a) {
	for (let i = 0; i < a.length; i++) if (typeof a[i] === 'object') a[i] = Buffer.from(a[i]);
	return a;
}

// A KV page from the native flat form [key, value, ..., bytes, more]: a
// key or value is a string, or its length in bytes, cut from `bytes` (one
// ArrayBuffer for the page) in order. The native side uses it only for a
// page with a key or value wanted as a string that is not well-formed
// UTF-8 (see kvPage).
function kvFlatPage(flat) {
	const n = flat.length - 2;
	const bytes = flat[n];
	const items = new Array(n >> 1);
	let at = 0;
	for (let i = 0; i < n; i += 2) {
		let key = flat[i], value = flat[i + 1];
		if (typeof key === 'number') {
			const len = key;
			key = Buffer.from(bytes, at, len);
			at += len;
		}
		if (typeof value === 'number') {
			const len = value;
			value = Buffer.from(bytes, at, len);
			at += len;
		}
		items[i >> 1] = { key, value };
	}
	return { items, more: flat[n + 1] };
}

// A KV page from the native packed form (addon.cc, KvPacked): one
// ArrayBuffer [u32 n, u32 more, u32 len x 2n, bytes...], alone or with one
// string that holds, in order, the keys (kstr) and values (vstr) wanted
// as strings; len is then a length in that string, else in bytes.
function kvPage(out, kstr, vstr) {
	let ab = out, text = '';
	if (Array.isArray(out)) {
		// The flat form starts with a key (a string or a length).
		if (!(out[0] instanceof ArrayBuffer)) return kvFlatPage(out);
		ab = out[0];
		text = out[1];
	}
	const hd = new Uint32Array(ab, 0, ab.byteLength >>> 2);
	const n = hd[0];
	const items = new Array(n);
	let at = 4 * (2 + 2 * n), t = 0;
	for (let i = 0; i < n; i++) {
		const kl = hd[2 + 2 * i], vl = hd[3 + 2 * i];
		let key, value;
		if (kstr) {
			key = text.slice(t, t + kl);
			t += kl;
		} else {
			key = Buffer.from(ab, at, kl);
			at += kl;
		}
		if (vstr) {
			value = text.slice(t, t + vl);
			t += vl;
		} else {
			value = Buffer.from(ab, at, vl);
			at += vl;
		}
		items[i] = { key, value };
	}
	return { items, more: hd[1] === 1 };
}

function o(opts) {
	return opts === undefined || opts === null ? {} : opts;
}

function rejectWith(fn) {
	try {
		return fn();
	} catch (e) {
		return Promise.reject(e);
	}
}

// A trace reference: a committed id (number), a pending handle (BigInt),
// a receipt of tx.tracestore.record(), or null/undefined for none.
function traceRef(p) {
	if (p === undefined || p === null) return null;
	if (typeof p === 'object') return p.pending ? p.handle : p.id;
	return p;
}

// Commits that need an fdatasync wait here; one flush on the pool covers
// every commit made before it started (group commit).
class SyncGroup {
	constructor(db) {
		this.db = db;
		this.waiting = [];
		this.running = false;
	}

	wait() {
		const p = new Promise((resolve, reject) => {
			this.waiting.push({ resolve, reject });
		});
		this.db._track(p);
		if (!this.running) this._start();
		return p;
	}

	_start() {
		const batch = this.waiting;
		this.waiting = [];
		this.running = true;
		let flush;
		try {
			flush = this.db._h.flushAsync();
		} catch (e) {
			flush = Promise.reject(e);
		}
		flush.then(
			() => { for (const w of batch) w.resolve(); },
			(e) => { for (const w of batch) w.reject(e); },
		).finally(() => {
			this.running = false;
			if (this.waiting.length > 0) this._start();
		});
	}
}

class Db {
	constructor(h, durability, dbPath) {
		this._h = h;
		this._dur = durability;
		/** 'inmemory' | 'buffered' | 'strict' */
		this.durability = DURABILITY_NAMES[durability];
		this.path = dbPath === undefined ? null : dbPath;
		this._inflight = new Set();
		this._sync = new SyncGroup(this);
		this._closing = null;
		this._wrote = false; // whether the last commit of _attempt wrote
		this.kv = new Kv(this);
		this.eventlog = new EventLog(this);
		this.statecell = new StateCell(this);
		this.tracestore = new TraceStore(this);
		this.runindex = new RunIndex(this);
	}

	get closed() {
		return !this._h.isOpen();
	}

	_track(p) {
		this._inflight.add(p);
		const drop = () => this._inflight.delete(p);
		p.then(drop, drop);
		return p;
	}

	// The durability a write asks for, checked against the database's.
	_effective(opts) {
		const d = opts && opts.durability !== undefined
			? durabilityOf(opts.durability, 'durability') : this._dur;
		if ((this._dur === 0) !== (d === 0))
			throw rsError('RS_EINVAL', this._dur === 0
				? 'an InMemory database has no log: durability must be inmemory'
				: 'a logged database cannot skip its log: durability must be buffered or strict');
		return d;
	}

	// After a commit: a promise that settles when it is durable enough.
	_settle(value, wrote, d) {
		if (wrote && d === 2) return this._sync.wait().then(() => value);
		return Promise.resolve(value);
	}

	// Begin, body(gen), commit; again while the commit conflicts, up to
	// `attempts` in all. Returns body's value; this._wrote says whether
	// the commit wrote.
	_attempt(run, readonly, attempts, body) {
		const h = this._h;
		for (let i = 1; ; i++) {
			const gen = h.txBegin(run, readonly);
			let value;
			try {
				value = body(gen);
			} catch (e) {
				h.txAbort(gen);
				throw e;
			}
			try {
				this._wrote = h.txCommit(gen);
			} catch (e) {
				if (e.code === 'RS_ECONFLICT' && i < attempts) continue;
				throw e;
			}
			return value;
		}
	}

	// fn(tx) in a transaction: its value, once committed (receipts
	// filled in).
	_run(run, fn, readonly, attempts) {
		let tx;
		const value = this._attempt(run, readonly, attempts, (gen) => {
			tx = new Tx(this, gen);
			const v = fn(tx);
			if (v !== null && typeof v === 'object' && typeof v.then === 'function')
				throw rsError('RS_EINVAL',
					'a transaction callback must be synchronous (it returned a promise)');
			return v;
		});
		if (tx._events !== null || tx._traces !== null) tx._fill(this._h.txResults());
		return value;
	}

	/**
	 * Run fn(tx) in a transaction on `run` and commit it; retried (fn run
	 * again) while the commit conflicts. fn must be synchronous. Resolves
	 * to fn's return value once the commit is durable as asked.
	 */
	transaction(run, fn, opts) {
		return rejectWith(() => {
			if (typeof fn !== 'function')
				throw rsError('RS_EINVAL', 'the transaction body must be a function');
			const op = o(opts);
			const d = this._effective(op);
			const attempts = op.maxAttempts === undefined ? TX_ATTEMPTS : op.maxAttempts;
			if (!Number.isInteger(attempts) || attempts < 1)
				throw rsError('RS_EINVAL', 'maxAttempts must be a positive integer');
			const value = this._run(run, fn, !!op.readonly, attempts);
			return this._settle(value, this._wrote, d);
		});
	}

	/** Run fn(tx) in a read-only transaction (one snapshot) and return its
	 *  result synchronously. Writes in it fail with RS_EREADONLY. */
	read(run, fn) {
		if (typeof fn !== 'function')
			throw rsError('RS_EINVAL', 'the transaction body must be a function');
		// _run without its retry loop: a read-only transaction never
		// conflicts and hands out no receipts.
		const h = this._h;
		const gen = h.txBegin(run, true);
		try {
			const v = fn(new Tx(this, gen));
			if (v !== null && typeof v === 'object' && typeof v.then === 'function')
				throw rsError('RS_EINVAL',
					'a transaction callback must be synchronous (it returned a promise)');
			return v;
		} finally {
			h.txAbort(gen);
		}
	}

	// A one-operation write: op(h, gen) stages it; resolves to its value,
	// or to pick(value, results) (results: the commit's receipts).
	_write(run, opts, op, pick) {
		return rejectWith(() => {
			const d = this._effective(opts);
			const h = this._h;
			const v = this._attempt(run, false, TX_ATTEMPTS, (gen) => op(h, gen));
			return this._settle(pick === undefined ? v : pick(v, h.txResults()), this._wrote, d);
		});
	}

	// A RunIndex write (no transaction form): inline, or on the pool for a
	// Strict database.
	_index(opts, call) {
		return rejectWith(() => {
			const d = this._effective(opts);
			if (this._dur === 2) return this._track(call(true));
			return this._settle(call(false), true, d);
		});
	}

	/** Write and fdatasync everything committed so far. */
	flush() {
		return rejectWith(() => {
			if (this._dur === 0) {
				this._h.stat(); // throws if closed
				return Promise.resolve();
			}
			return this._track(this._h.flushAsync());
		});
	}

	/** Write a checkpoint now (RS_ENOTSUP for InMemory). */
	checkpoint() {
		return rejectWith(() => this._track(this._h.checkpointAsync()));
	}

	/** Close: waits for this database's promises in flight, then closes
	 *  (on the pool for a durable database). Idempotent. */
	close() {
		if (this._h.inTxn())
			return Promise.reject(rsError('RS_EBUSY', 'close inside a transaction'));
		if (this._closing === null) {
			this._closing = (async () => {
				while (this._inflight.size > 0)
					await Promise.allSettled([...this._inflight]);
				if (!this._h.isOpen()) return;
				await this._h.close(this._dur !== 0);
			})();
		}
		return this._closing;
	}

	/** Statistics (rs_db_stats). */
	stats() {
		return this._h.stat();
	}

	/** The newest committed version of a run. */
	runVersion(run) {
		return this._h.runVersion(run);
	}
}

// ---- one-shot primitives on the database ----

// kvWrite's op codes.
const W_PUT = 0;
const W_OPS = Object.freeze({ __proto__: null, put: W_PUT, putIfAbsent: 1, delete: 2 });

class Kv {
	constructor(db) { this.db = db; }

	get(run, key, opts) { return buf(this.db._h.kvGet(run, key, str(opts))); }
	exists(run, key) { return this.db._h.kvExists(run, key); }
	getMany(run, keys, opts) { return bufs(this.db._h.kvGetMany(run, keys, str(opts))); }

	list(run, opts) {
		const p = o(opts);
		const ks = keyStr(p), vs = str(p);
		return kvPage(this.db._h.kvList(run, p.prefix, p.after, p.limit, ks, vs), ks, vs);
	}

	scan(run, opts) {
		const p = o(opts);
		const ks = keyStr(p), vs = str(p);
		return kvPage(this.db._h.kvScan(run, p.start, p.end, p.resume, p.limit,
			!!p.reverse, ks, vs), ks, vs);
	}

	cursor(run, opts) {
		const p = o(opts);
		return new Cursor(this.db._h.kvCursor(run, keyStr(p), str(p)));
	}

	put(run, key, value, opts) {
		return rejectWith(() => {
			const d = this.db._effective(opts);
			return this.db._settle(undefined, this.db._h.kvWrite(run, W_PUT, key, value), d);
		});
	}

	/** write(run, [['put', key, value] | ['putIfAbsent', key, value] |
	 *  ['delete', key], ...], opts): every write in one commit, staged and
	 *  committed by one native call. A value is bytes, or an array of
	 *  parts (strings and byte views) stored as their concatenation. Resolves
	 *  to whether anything was written (false when every putIfAbsent found
	 *  its key). */
	write(run, ops, opts) {
		return rejectWith(() => {
			const d = this.db._effective(opts);
			if (!Array.isArray(ops)) throw rsError('RS_EINVAL', 'ops must be an array');
			const n = ops.length;
			// One or two writes (most) go as arguments, so that the native
			// side reads no array element by element; more as one flat array.
			const flat = n === 1 || n === 2 ? undefined : new Array(n * 3);
			let c0 = 0, c1 = 0;
			for (let i = 0; i < n; i++) {
				const w = ops[i];
				const code = Array.isArray(w) ? W_OPS[w[0]] : undefined;
				if (code === undefined)
					throw rsError('RS_EINVAL', `ops[${i}] must be ['put' | 'putIfAbsent' | 'delete', key, value]`);
				if (flat !== undefined) {
					flat[3 * i] = code;
					flat[3 * i + 1] = w[1];
					flat[3 * i + 2] = w[2];
				} else if (i === 0) {
					c0 = code;
				} else {
					c1 = code;
				}
			}
			const h = this.db._h;
			let wrote;
			if (n === 1)
				wrote = h.kvWrite(run, c0, ops[0][1], ops[0][2]);
			else if (n === 2)
				wrote = h.kvWrite(run, c0, ops[0][1], ops[0][2], c1, ops[1][1], ops[1][2]);
			else
				wrote = h.kvWrite(run, flat);
			return this.db._settle(wrote, wrote, d);
		});
	}

	delete(run, key, opts) {
		return this.db._write(run, opts, (h, g) => h.txKvDelete(g, key));
	}
}

function eventReceipt(v, res) {
	return res.events[0];
}

class EventLog {
	constructor(db) { this.db = db; }

	append(run, type, payload, opts) {
		return this.db._write(run, opts,
			(h, g) => h.txElAppend(g, type, payload === undefined ? '' : payload),
			eventReceipt);
	}

	read(run, seq, opts) { return this.db._h.elRead(run, seq, str(opts)); }

	range(run, start, end, opts) {
		const p = o(opts);
		return this.db._h.elRange(run, start, end, p.limit, str(p));
	}

	len(run) { return this.db._h.elLen(run); }
	head(run) { return this.db._h.elHead(run); }

	byType(run, type, opts) {
		const p = o(opts);
		return this.db._h.elByType(run, type, p.cursor, p.limit, str(p));
	}

	verify(run) { return this.db._h.elVerify(run); }
}

class StateCell {
	constructor(db) { this.db = db; }

	init(run, name, value, opts) {
		return this.db._write(run, opts, (h, g) => h.txScInit(g, name, value));
	}

	read(run, name, opts) { return this.db._h.scRead(run, name, str(opts)); }

	set(run, name, value, opts) {
		return this.db._write(run, opts, (h, g) => h.txScSet(g, name, value));
	}

	cas(run, name, expectedVersion, value, opts) {
		return this.db._write(run, opts,
			(h, g) => h.txScCas(g, name, expectedVersion, value));
	}

	/** fn(value, version) returns the new value (or undefined to write
	 *  nothing); it may run more than once, so it must be pure. Resolves to
	 *  the version after the transition. */
	transition(run, name, fn, opts) {
		const vs = str(opts);
		return this.db._write(run, opts, (h, g) => h.txScTransition(g, name, fn, vs));
	}

	delete(run, name, opts) {
		return this.db._write(run, opts, (h, g) => h.txScDelete(g, name));
	}

	list(run, opts) {
		const p = o(opts);
		return this.db._h.scList(run, p.prefix, p.after, p.limit, str(p));
	}

	scan(run, opts) {
		const p = o(opts);
		return this.db._h.scScan(run, p.start, p.end, p.resume, p.limit,
			!!p.reverse, str(p));
	}
}

const Q_TYPE = 0, Q_TAG = 1, Q_CHILDREN = 2, Q_TIME = 3;

class TraceStore {
	constructor(db) { this.db = db; }

	/** record(run, {type, payload, tags, parent}) resolves to the id. */
	record(run, trace, opts) {
		return rejectWith(() => {
			const t = o(trace);
			return this.db._write(run, opts,
				(h, g) => h.txTsRecord(g, t.type, t.payload, t.tags, traceRef(t.parent)),
				(v, res) => res.traces[0]);
		});
	}

	get(run, id, opts) { return this.db._h.tsGet(run, id, str(opts)); }

	byType(run, type, opts) {
		const p = o(opts);
		return this.db._h.tsQuery(run, Q_TYPE, type, null, p.cursor, p.limit, str(p));
	}

	byTag(run, tag, opts) {
		const p = o(opts);
		return this.db._h.tsQuery(run, Q_TAG, tag, null, p.cursor, p.limit, str(p));
	}

	children(run, parent, opts) {
		const p = o(opts);
		return this.db._h.tsQuery(run, Q_CHILDREN, parent, null, p.cursor, p.limit, str(p));
	}

	/** Traces with t0 <= timestampNs < t1 (BigInt or number; t1 may be
	 *  omitted for no upper bound). */
	byTime(run, t0, t1, opts) {
		const p = o(opts);
		return this.db._h.tsQuery(run, Q_TIME, t0, t1, p.cursor, p.limit, str(p));
	}

	/** The tree under root, depth first; each item has `depth`. */
	tree(run, root, opts) {
		const p = o(opts);
		return this.db._h.tsTree(run, root, p.maxDepth, str(p));
	}
}

const R_ALL = 0, R_STATUS = 1, R_TAG = 2, R_PARENT = 3;

class RunIndex {
	constructor(db) { this.db = db; }

	/** create({id, name, parent, tags, metadata}) resolves to the id. */
	create(run, opts) {
		const r = o(run);
		return this.db._index(opts, (a) => this.db._h.riCreate(
			r.id, r.name, r.parent, r.tags, r.metadata, a));
	}

	get(id, opts) { return this.db._h.riGet(false, id, str(opts)); }
	getByName(name, opts) { return this.db._h.riGet(true, name, str(opts)); }

	list(opts) {
		const p = o(opts);
		return this.db._h.riQuery(R_ALL, null, p.cursor, p.limit, str(p));
	}

	byStatus(status, opts) {
		const p = o(opts);
		return this.db._h.riQuery(R_STATUS, status, p.cursor, p.limit, str(p));
	}

	byTag(tag, opts) {
		const p = o(opts);
		return this.db._h.riQuery(R_TAG, tag, p.cursor, p.limit, str(p));
	}

	byParent(parent, opts) {
		const p = o(opts);
		return this.db._h.riQuery(R_PARENT, parent, p.cursor, p.limit, str(p));
	}

	/** Resolves to the status the run was in; RS_ETRANSITION carries
	 *  `.from`. */
	transition(id, to, opts) {
		return this.db._index(opts, (a) => this.db._h.riTransition(id, to, a));
	}

	delete(id, opts) {
		return this.db._index(opts, (a) => this.db._h.riDelete(id, a));
	}
}

function entry(kv) {
	return kv === undefined ? kv : bufs(kv);
}

/** A KV cursor: one-shot (close it) or of a transaction (ends with it).
 *  Each move returns [key, value] or undefined. */
class Cursor {
	constructor(c) { this._c = c; }
	seek(key, opts) { return entry(this._c.seek(key, !!(opts && opts.le))); }
	first(prefix) { return entry(this._c.first(prefix)); }
	last(prefix) { return entry(this._c.last(prefix)); }
	next() { return entry(this._c.next()); }
	prev() { return entry(this._c.prev()); }
	close() { this._c.close(); }
	[Symbol.dispose]() { this._c.close(); }
}

// ---- transactions ----

class Tx {
	constructor(db, gen) {
		this._db = db;
		this._h = db._h;
		this._g = gen;
		this._events = null; // receipts handed out, filled at commit
		this._traces = null;
		this._kv = null; // the primitives, made on first use
		this._el = null;
		this._sc = null;
		this._ts = null;
	}

	get kv() { return this._kv ??= new TxKv(this); }
	get eventlog() { return this._el ??= new TxEventLog(this); }
	get statecell() { return this._sc ??= new TxStateCell(this); }
	get tracestore() { return this._ts ??= new TxTraceStore(this); }

	snapshotVersion() { return this._h.txSnapshotVersion(this._g); }

	_fill(res) {
		if (this._events !== null)
			for (let i = 0; i < this._events.length; i++) {
				const r = this._events[i], e = res.events[r._i];
				r.seq = e.seq;
				r.timestampNs = e.timestampNs;
				r.hash = e.hash;
				r.pending = false;
				delete r._i;
			}
		if (this._traces !== null)
			for (const r of this._traces) {
				r.id = res.traces[r._i];
				r.pending = false;
				delete r._i;
			}
	}
}

class TxKv {
	constructor(tx) { this.tx = tx; }
	put(key, value) { this.tx._h.txKvPut(this.tx._g, key, value); }
	get(key, opts) { return buf(this.tx._h.txKvGet(this.tx._g, key, str(opts))); }
	delete(key) { return this.tx._h.txKvDelete(this.tx._g, key); }
	exists(key) { return this.tx._h.txKvExists(this.tx._g, key); }
	getMany(keys, opts) { return bufs(this.tx._h.txKvGetMany(this.tx._g, keys, str(opts))); }

	list(opts) {
		const p = o(opts);
		const ks = keyStr(p), vs = str(p);
		return kvPage(this.tx._h.txKvList(this.tx._g, p.prefix, p.after, p.limit, ks, vs), ks, vs);
	}

	scan(opts) {
		const p = o(opts);
		const ks = keyStr(p), vs = str(p);
		return kvPage(this.tx._h.txKvScan(this.tx._g, p.start, p.end, p.resume, p.limit,
			!!p.reverse, ks, vs), ks, vs);
	}

	cursor(opts) {
		const p = o(opts);
		return new Cursor(this.tx._h.txKvCursor(this.tx._g, keyStr(p), str(p)));
	}
}

class TxEventLog {
	constructor(tx) { this.tx = tx; }

	/** Returns a receipt that the commit fills in ({seq, timestampNs,
	 *  hash}; `pending` until then). */
	append(type, payload) {
		const i = this.tx._h.txElAppend(this.tx._g, type, payload === undefined ? '' : payload);
		const r = { pending: true, seq: undefined, timestampNs: undefined, hash: undefined, _i: i };
		(this.tx._events ??= []).push(r);
		return r;
	}

	read(seq, opts) { return this.tx._h.txElRead(this.tx._g, seq, str(opts)); }

	range(start, end, opts) {
		const p = o(opts);
		return this.tx._h.txElRange(this.tx._g, start, end, p.limit, str(p));
	}

	len() { return this.tx._h.txElLen(this.tx._g); }
	head() { return this.tx._h.txElHead(this.tx._g); }

	byType(type, opts) {
		const p = o(opts);
		return this.tx._h.txElByType(this.tx._g, type, p.cursor, p.limit, str(p));
	}

	verify() { return this.tx._h.txElVerify(this.tx._g); }
}

class TxStateCell {
	constructor(tx) { this.tx = tx; }
	init(name, value) { return this.tx._h.txScInit(this.tx._g, name, value); }
	read(name, opts) { return this.tx._h.txScRead(this.tx._g, name, str(opts)); }
	set(name, value) { return this.tx._h.txScSet(this.tx._g, name, value); }
	cas(name, expectedVersion, value) {
		return this.tx._h.txScCas(this.tx._g, name, expectedVersion, value);
	}
	transition(name, fn, opts) {
		return this.tx._h.txScTransition(this.tx._g, name, fn, str(opts));
	}
	delete(name) { return this.tx._h.txScDelete(this.tx._g, name); }

	list(opts) {
		const p = o(opts);
		return this.tx._h.txScList(this.tx._g, p.prefix, p.after, p.limit, str(p));
	}

	scan(opts) {
		const p = o(opts);
		return this.tx._h.txScScan(this.tx._g, p.start, p.end, p.resume, p.limit,
			!!p.reverse, str(p));
	}
}

class TxTraceStore {
	constructor(tx) { this.tx = tx; }

	/** Returns a receipt: `handle` (a BigInt, usable as a parent in this
	 *  transaction) now, `id` once committed. */
	record(trace) {
		const t = o(trace);
		const [i, handle] = this.tx._h.txTsRecord(this.tx._g, t.type, t.payload,
			t.tags, traceRef(t.parent));
		const r = { pending: true, handle, id: undefined, _i: i };
		(this.tx._traces ??= []).push(r);
		return r;
	}

	get(id, opts) { return this.tx._h.txTsGet(this.tx._g, traceRef(id), str(opts)); }

	byType(type, opts) {
		const p = o(opts);
		return this.tx._h.txTsQuery(this.tx._g, Q_TYPE, type, null, p.cursor, p.limit, str(p));
	}

	byTag(tag, opts) {
		const p = o(opts);
		return this.tx._h.txTsQuery(this.tx._g, Q_TAG, tag, null, p.cursor, p.limit, str(p));
	}

	children(parent, opts) {
		const p = o(opts);
		return this.tx._h.txTsQuery(this.tx._g, Q_CHILDREN, traceRef(parent), null,
			p.cursor, p.limit, str(p));
	}

	byTime(t0, t1, opts) {
		const p = o(opts);
		return this.tx._h.txTsQuery(this.tx._g, Q_TIME, t0, t1, p.cursor, p.limit, str(p));
	}

	tree(root, opts) {
		const p = o(opts);
		return this.tx._h.txTsTree(this.tx._g, traceRef(root), p.maxDepth, str(p));
	}
}

// ---- module ----

const OPEN_KEYS = new Set(['durability', 'path', 'salvage', 'hashSeed',
	'flushIntervalMs', 'flushBatchCommits', 'flushBatchBytes',
	'checkpointWalBytes', 'segmentBytes']);

/**
 * Open a database: open({durability: 'inmemory' | 'buffered' | 'strict',
 * path, ...}). Resolves to a Db. A durable database is opened (and
 * recovered) on the libuv pool.
 */
function open(options) {
	return rejectWith(() => {
		const opts = o(options);
		if (typeof opts !== 'object')
			throw rsError('RS_EINVAL', 'options must be an object');
		for (const k of Object.keys(opts))
			if (!OPEN_KEYS.has(k))
				throw rsError('RS_EINVAL', `unknown option '${k}'`);
		const d = opts.durability === undefined
			? (opts.path === undefined ? 0 : 1)
			: durabilityOf(opts.durability, 'durability');
		const n = { ...opts, durability: d };
		if (d === 0) return Promise.resolve(new Db(native.open(n, false), d, opts.path));
		return native.open(n, true).then((h) => new Db(h, d, opts.path));
	});
}

module.exports = {
	open,
	Db,
	RunstateError,
	errors,
	DURABILITY,
	/** A new random (version 4) run id. */
	runId: () => native.runIdGenerate(),
	/** The canonical (lower-case) form of a run id; RS_EINVAL if malformed. */
	parseRunId: (s) => native.runIdParse(s),
	isNilRunId: (s) => native.runIdIsNil(s),
	transitionAllowed: (from, to) => native.transitionAllowed(from, to),
	/** The C library's version, "M.m.p". */
	version: () => native.version(),
	/** rs_strerror and rs_errname of a code: {name, message}. */
	describeError: (code) => native.strerror(code),
};
