// SPDX-License-Identifier: MIT
//
// RunstateSaver: a LangGraph.js checkpoint saver (BaseCheckpointSaver of
// @langchain/langgraph-checkpoint) over runstate.
//
// One LangGraph thread is one runstate run. Its run id is derived from the
// thread_id (a UUIDv5 over the thread_id's UTF-16 code units, so any
// string, of any length, maps to one run id and back through the RunIndex
// entry), and the run is registered in the RunIndex with the tag
// "langgraph", the thread_id in its metadata (JSON) and, when it fits the
// 256-byte name limit, the name "langgraph:<thread_id>".
//
// Storage layout 3 (FORMAT). The database records its layout under the key
// FORMAT_KEY of the run FORMAT_RUN (written with a saver's first write); a
// saver refuses, with RS_EVERSION, a database of another layout (layout 2
// packed a record's parts, each with a 4-byte length), or one that holds
// threads but records no layout (layout 1, before layouts were recorded).
// Keys of a thread's run (KV; keys are strings, stored as their UTF-8
// bytes; `esc(s)` is s with each U+0000 written as U+0000 U+0001, then
// U+0000 U+0000, so keys sort as their strings do, by code point, and no
// escaped string is a prefix of another):
//   c esc(ns) esc(id)                -> the checkpoint's record
//   c esc(ns) esc(id) esc(task) idx  -> a pending write of the checkpoint
//                                       (idx: 8 hex digits of idx + 2^31)
//   i esc(id) esc(ns)                -> "" (every namespace, by id)
//   o esc(ns) esc(id) gen            -> the record that a put of the same
//                                       id replaced (its generation gen)
// So a checkpoint's writes sort right after its record: one forward scan
// reads a checkpoint by id, and one reverse scan of "c esc(ns)" the newest
// one (its writes come first, then its record).
// A record holds the checkpoint (without its channel values) and the
// values of the channels its put changed (those in newVersions),
// serialized together as one array [checkpoint, value, ...] (a value the
// serializer keeps as bytes, and every value under another serializer than
// JsonPlusSerializer, is serialized alone); its metadata, serialized alone
// (list's filter reads only that); its parent's id; its sources; its v;
// and its generation (0, one more for each put again of the same id).
// Records and writes are text (see parseRec and parseWrite below).
// The sources say, per channel, where its value is: [version, writer,
// writer's generation, where], the writer being the checkpoint whose put
// wrote the value (this one for the channels in newVersions, else the
// parent's source at the same version, so that a fork reusing a version
// number never reads another branch's value); where: 0 for no value, k > 0
// for element k of the writer's array, k < 0 for the value serialized
// alone at place -k - 1 of its record's list of them. A value is thus stored once, by its
// writer. A put of an id that has a record already moves that record to
// its "o" key and writes the new one with the next generation, so the
// children of the earlier one still read what they inherited (as with
// MemorySaver, whose checkpoints hold all their values).
// Serialized: under JsonPlusSerializer (its own methods), a value that
// is plain JSON data (plain(): no class instance, Date, undefined, cycle,
// toJSON...) is written as JSON.stringify(v), which is the text
// JsonPlusSerializer's _dumps encodes for it, with no serializer call and
// no encoding to bytes in JavaScript; anything else goes through the
// serializer (dumpsTyped).
// put() writes the record and the index entry in one commit (one
// kv.write; both with putIfAbsent, so that a put again, found by the
// commit, takes the slower path). It reads its parent's sources before
// that commit: a record changes only by a put of the same id (which
// updates the cache below too), so the read needs no place in the commit.
// The sources of recent puts are cached per database (shared by every
// saver over it, dropped by deleteThread).
// getTuple() reads a checkpoint and its writes by one scan (one snapshot);
// when it inherits values (or needs its parent's sends, v < 4), it reads
// again, all of it and the records of the writers, in one read-only
// transaction. Then it deserializes: with JsonPlusSerializer, the stored
// texts (checkpoint, metadata, values, writes) joined as one JSON array:
// those its reviver would leave as JSON.parse makes them (no "lc" or
// "__proto__" key, no \u escape: see bare()) by one JSON.parse, the
// others (LangChain objects, undefined, Set, Map, bytes...) by one call
// of the serializer.
'use strict';

//
// This file defines the saver over a given @langchain/langgraph-checkpoint
// module: index.js passes the CommonJS build, index.mjs the ES module one,
// so that RunstateSaver extends the BaseCheckpointSaver of whichever build
// the application loads (no dual-package hazard).

const crypto = require('node:crypto');
const rs = require('..');

const TAG = 'langgraph';
// The UUIDv5 namespace of thread run ids (random, fixed forever).
const NAMESPACE = Buffer.from('6f0d1c2a8e4b4f7a9c3e5b2d1a0f8e71', 'hex');
// The storage layout, and where a database records it (a run of its own,
// random and fixed forever: a version 4 id, never a thread's).
const FORMAT = 3;
const FORMAT_RUN = '3b9e7c1d-5a2f-4e8b-9d6c-0f1a2b3c4d5e';
const FORMAT_KEY = 'langgraph:format';
const PAGE = 64;
const RUNS_CACHED = 4096; // thread ids whose run ids are kept
const SOURCES_CACHED = 16; // records' sources kept per run

// SHA-1 of bytes, in hex: crypto.hash where Node has it (one call;
// createHash costs about 6 us a thread here, fetching the digest each
// time).
const sha1hex = typeof crypto.hash === 'function'
	? (b) => crypto.hash('sha1', b, 'hex')
	: (b) => crypto.createHash('sha1').update(b).digest('hex');
// The variant nibble (10xx) of a UUID from a hash's nibble there.
const VARIANT = Object.fromEntries([...'0123456789abcdef'].map((c, i) => [c, '89ab'[i & 3]]));

/** The run id of a thread: a UUIDv5 of its thread_id. */
function threadRunId(threadId) {
	// The namespace and the thread_id's UTF-16 code units in one buffer,
	// and the digest as hex, with the version (5) and variant nibbles
	// set in the text: no buffer concatenated, none hex-encoded apart.
	const t = String(threadId);
	const b = Buffer.allocUnsafe(16 + 2 * t.length);
	NAMESPACE.copy(b, 0);
	b.write(t, 16, 'utf16le');
	const x = sha1hex(b);
	return `${x.slice(0, 8)}-${x.slice(8, 12)}-5${x.slice(13, 16)}-${VARIANT[x[16]]}${x.slice(17, 20)}-${x.slice(20, 32)}`;
}

function esc(s) {
	return (s.indexOf('\0') < 0 ? s : s.replace(/\0/g, '\0\x01')) + '\0\0';
}

// The string esc() wrote at key[at...], and where it ends.
function unesc(key, at) {
	let out = '';
	for (let i = at; ;) {
		const z = key.indexOf('\0', i);
		if (key.charCodeAt(z + 1) === 0) return [out + key.slice(i, z), z + 2];
		out += key.slice(i, z + 1);
		i = z + 2;
	}
}

const IDX_BIAS = 0x80000000;
function idxHex(i) {
	return ((i + IDX_BIAS) >>> 0).toString(16).padStart(8, '0');
}
// The indices of LangGraph's special writes (negative) and of a task's
// first writes, precomputed.
const IDX_LOW = -16;
const IDX_KEYS = Array.from({ length: 64 - IDX_LOW }, (_, k) => idxHex(k + IDX_LOW));
function idxKey(i) {
	return i >= IDX_LOW && i < 64 && Number.isInteger(i) ? IDX_KEYS[i - IDX_LOW] : idxHex(i);
}

// The first key after every key that starts with p (p ends with U+0000,
// or is one letter).
function prefixEnd(p) {
	return p.slice(0, -1) + String.fromCharCode(p.charCodeAt(p.length - 1) + 1);
}

// Records and writes are text (layout 3): a header, JSON, then SEP and the
// serialized parts kept as they are (JSON texts of JsonPlusSerializer,
// which hold no raw control character, so no SEP). A serialized item that
// is not such a text is kept in the header instead: [type, data] for
// data that is a string, [type, 0, base64] for bytes. Every value is thus
// well-formed UTF-8, read back as one string per scan page (sliced, not
// decoded part by part) and written by kv.write from its parts (joined
// natively, with no buffer built here; a header and the SEP after it are
// one part, as each part costs the native side a few N-API calls).
const SEP = '\x1e';

function enc([t, d]) {
	return typeof d === 'string' ? [t, d]
		: [t, 0, Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('base64')];
}

function dec(e) {
	return e.length === 2 ? [e[0], e[1]] : [e[0], Buffer.from(e[2], 'base64')];
}

// A serialized part of a record at s[a...b): its header field is its type
// (the text kept as it is) or enc() of it.
function itemAt(f, s, a, b) {
	return typeof f === 'string' ? [f, s.slice(a, b)] : dec(f);
}

// A record: header [parent | null, v, gen, sources, meta's field,
// checkpoint's field, [enc() of each value serialized alone]], SEP, the
// metadata's text, SEP, the text of the checkpoint with its values.
// Parsed: {parent, v, gen, sources, meta, main, alone}; meta and main
// are [type, data], alone(where) the value serialized alone at `where`.
function parseRec(s) {
	const h = s.indexOf(SEP);
	const m = s.indexOf(SEP, h + 1);
	const hd = JSON.parse(s.slice(0, h));
	return {
		parent: hd[0] === null ? undefined : hd[0], v: Number(hd[1]), gen: hd[2], sources: hd[3],
		meta: itemAt(hd[4], s, h + 1, m), main: itemAt(hd[5], s, m + 1), alone: (where) => dec(hd[6][-where - 1]),
	};
}

// The sources alone (put reads its parent's).
function recSources(s) {
	return JSON.parse(s.slice(0, s.indexOf(SEP)))[3];
}

// A pending write: header [taskPath, channel, field], SEP, the value's
// text.
function parseWrite(s) {
	const h = s.indexOf(SEP);
	const hd = JSON.parse(s.slice(0, h));
	return [hd[0], hd[1], itemAt(hd[2], s, h + 1)];
}

// A JSON text kept as it is, which _load joins with others.
const joins = (it) => it[0] === 'json' && typeof it[1] === 'string';

// Whether JsonPlusSerializer's _dumps(v) is the UTF-8 of JSON.stringify(v):
// v is JSON data that its replacer (_default) returns as it is and that
// JSON.stringify writes as it is: strings, numbers, booleans, null, and
// arrays and plain objects (prototype Array.prototype, Object.prototype or
// null) of them, with no toJSON and no lg_name "Send" (which _default
// rewrites), no undefined anywhere (which it writes as {"lc": 2, ...};
// a hole of an array reads as undefined), and no cycle (which its safe
// stringify replaces: the depth is bounded instead, and a deeper value
// goes to the serializer). Anything else (a class instance such as a
// LangChain message, a Date, a Map, bytes, a BigInt...) is not.
const OBJECT = Object.prototype, ARRAY = Array.prototype;
const DEPTH = 32;
function plain(v, depth) {
	switch (typeof v) {
	case 'string': case 'number': case 'boolean': return true;
	case 'object': break;
	default: return false;
	}
	if (v === null) return true;
	if (depth >= DEPTH) return false;
	const p = Object.getPrototypeOf(v);
	if (p !== ARRAY && p !== OBJECT && p !== null) return false;
	if (v.toJSON !== undefined || v.lg_name === 'Send') return false;
	if (p === ARRAY) {
		for (let i = 0; i < v.length; i++) if (!plain(v[i], depth + 1)) return false;
	} else {
		for (const k in v) if (!plain(v[k], depth + 1)) return false;
	}
	return true;
}

// JsonPlusSerializer's text of v, as a string, where that is
// JSON.stringify(v) (plain()); else undefined.
function plainText(v) {
	return plain(v, 0) ? JSON.stringify(v) : undefined;
}

// Whether JsonPlusSerializer's _loads of JSON text s gives what JSON.parse
// gives. Its reviver (an await per value of the text) changes only
// objects with an "lc" key (lc 1: LangChain objects; lc 2: undefined,
// constructor and delta-snapshot records), and it copies each object's
// entries by assignment, where a "__proto__" key sets the copy's
// prototype. A text in which neither key appears as written, and no \u
// escape could spell one, holds no such object.
function bare(s) {
	return s.indexOf('"lc"') < 0 && s.indexOf('\\u') < 0 && s.indexOf('"__proto__"') < 0;
}

const U = { encoding: 'utf8' };

function configOf(threadId, ns, id) {
	return { configurable: { thread_id: threadId, checkpoint_ns: ns, checkpoint_id: id } };
}

function threadIdOf(config, what) {
	const t = config && config.configurable ? config.configurable.thread_id : undefined;
	if (t === undefined || t === null)
		throw new Error(`Failed to ${what}. The passed RunnableConfig is missing a required "thread_id" field in its "configurable" property.`);
	if (typeof t !== 'string' && typeof t !== 'number')
		throw new Error(`Failed to ${what}: thread_id must be a string (got ${typeof t}).`);
	return String(t);
}

function layoutError(what) {
	const e = rs.describeError(rs.errors.RS_EVERSION);
	return new rs.RunstateError(`${e.message}: RunstateSaver: this database's LangGraph checkpoints are in ${what}; ` +
		`this saver reads and writes storage layout ${FORMAT} only`, e.name, rs.errors.RS_EVERSION);
}

// The sources of recently written records, per database: run -> Map of
// record key -> sources (newest last).
const sourcesByDb = new WeakMap();

function sourcesCache(db) {
	let c = sourcesByDb.get(db);
	if (c === undefined) sourcesByDb.set(db, c = new Map());
	return c;
}

const hasOwn = (o, k) => Object.prototype.hasOwnProperty.call(o, k);

function define(lg) {
const {
	BaseCheckpointSaver, JsonPlusSerializer, TASKS, WRITES_IDX_MAP,
	getCheckpointId, maxChannelVersion, writesSortKey, compareWritesSortKeys,
} = lg;

function sortWrites(writes) {
	const n = writes.length;
	if (n < 2) return writes;
	// One task's writes (a step's usual lot) come in idx order, or in its
	// reverse from a reverse scan: no keys to make and sort.
	const { taskPath, taskId } = writes[0];
	let up = true, down = true;
	for (let i = 1; i < n && (up || down); i++) {
		const a = writes[i - 1], b = writes[i];
		if (b.taskPath !== taskPath || b.taskId !== taskId) up = down = false;
		else if (a.idx < b.idx) down = false;
		else up = false;
	}
	if (up) return writes;
	if (down) return writes.slice().reverse();
	return writes.map((w) => [writesSortKey(w.taskPath, w.taskId, w.idx), w])
		.sort((a, b) => compareWritesSortKeys(a[0], b[0])).map((x) => x[1]);
}

class RunstateSaver extends BaseCheckpointSaver {
	/**
	 * new RunstateSaver(db, {durability, serde}): a saver over an open
	 * database (not closed by the saver). durability: the commits' durability
	 * ('buffered' or 'strict' on a logged database; default: the database's
	 * own). RunstateSaver.open({path, durability}) opens a database of its
	 * own (default: Buffered with a path, InMemory without) and close()
	 * closes it. Throws RS_EVERSION for a database of another storage
	 * layout.
	 */
	constructor(db, options = {}) {
		super(options.serde);
		if (!(db instanceof rs.Db)) throw new TypeError('RunstateSaver needs a runstate Db');
		this.db = db;
		this._txOpts = options.durability === undefined ? {} : { durability: options.durability };
		this._runs = new Map(); // thread_id -> run id
		this._known = new Set(); // runs registered in the RunIndex
		this._sources = sourcesCache(db);
		// JsonPlusSerializer: values serialized together with their
		// checkpoint, and JSON texts deserialized together (its loadsTyped
		// takes JSON as a string as well as bytes).
		this._text = this.serde instanceof JsonPlusSerializer &&
			this.serde.loadsTyped === JsonPlusSerializer.prototype.loadsTyped &&
			this.serde.dumpsTyped === JsonPlusSerializer.prototype.dumpsTyped &&
			this.serde._dumps === JsonPlusSerializer.prototype._dumps;
		// And its own _loads: a text that its reviver would leave as
		// JSON.parse makes it is parsed by JSON.parse (see bare()).
		this._parse = this._text && this.serde._loads === JsonPlusSerializer.prototype._loads;
		this._formatted = this._checkLayout();
		this._owned = false;
	}

	// Whether the database records this saver's layout; throws if it
	// records another, or none while it holds threads.
	_checkLayout() {
		const f = this.db.kv.get(FORMAT_RUN, FORMAT_KEY, { encoding: 'utf8' });
		if (f === String(FORMAT)) return true;
		if (f !== undefined) throw layoutError(`storage layout ${f}`);
		if (this.db.runindex.byTag(TAG, { limit: 1 }).items.length > 0)
			throw layoutError('storage layout 1 (it records no layout)');
		return false;
	}

	static async open(options = {}) {
		const { serde, durability, ...rest } = options;
		const d = durability ?? (rest.path === undefined ? 'inmemory' : 'buffered');
		const db = await rs.open({ ...rest, durability: d });
		let saver;
		try {
			saver = new RunstateSaver(db, { serde });
		} catch (e) {
			await db.close();
			throw e;
		}
		saver._owned = true;
		return saver;
	}

	async close() {
		if (this._owned) await this.db.close();
	}

	_runOf(threadId) {
		let run = this._runs.get(threadId);
		if (run === undefined) {
			run = threadRunId(threadId);
			if (this._runs.size >= RUNS_CACHED) this._runs.clear();
			this._runs.set(threadId, run);
		}
		return run;
	}

	// Register a thread's run in the RunIndex once (and the layout in the
	// database, before its first thread).
	async _register(threadId, run) {
		if (!this._formatted) {
			await this.db.kv.write(FORMAT_RUN, [['putIfAbsent', FORMAT_KEY, String(FORMAT)]], this._txOpts);
			this._formatted = true;
		}
		// Created at once (a thread's first put is the common case, and a
		// lookup first cost as much as the create); RS_EEXIST: registered
		// already (by an earlier process, or meanwhile), or the name is
		// another run's.
		const base = {
			id: run, tags: [TAG],
			metadata: JSON.stringify({ thread_id: threadId }),
		};
		const name = `${TAG}:${threadId}`;
		const wellFormed = name.isWellFormed();
		try {
			await this.db.runindex.create(
				wellFormed && Buffer.byteLength(name) <= 256 ? { ...base, name } : base,
				this._txOpts);
		} catch (e) {
			if (e.code !== 'RS_EEXIST') throw e;
			if (this.db.runindex.get(run) === undefined)
				await this.db.runindex.create(base, this._txOpts);
		}
		if (this._known.size >= RUNS_CACHED) this._known.clear();
		this._known.add(run);
	}

	// The sources of the record at key `ck` of run: cached, or read.
	_sourcesOf(run, ck) {
		const cached = this._sources.get(run);
		const s = cached === undefined ? undefined : cached.get(ck);
		if (s !== undefined) return s;
		const rec = this.db.kv.get(run, ck, U);
		return rec === undefined ? {} : recSources(rec);
	}

	_remember(run, ck, sources) {
		let cached = this._sources.get(run);
		if (cached === undefined) {
			if (this._sources.size >= RUNS_CACHED) this._sources.clear();
			this._sources.set(run, cached = new Map());
		}
		cached.delete(ck);
		if (cached.size >= SOURCES_CACHED) cached.delete(cached.keys().next().value);
		cached.set(ck, sources);
	}

	async put(config, checkpoint, metadata, newVersions) {
		const threadId = threadIdOf(config, 'put checkpoint');
		const ns = config.configurable.checkpoint_ns ?? '';
		const parent = config.configurable.checkpoint_id;
		const { channel_values: values = {}, ...cp } = checkpoint;
		const versions = cp.channel_versions ?? {};
		const id = String(checkpoint.id);
		const nv = newVersions ?? {};
		// The checkpoint and the changed values: one array, serialized at
		// once (so no copy of them is needed), but for the values
		// serialized alone.
		const main = [cp];
		const own = {}; // channel -> [version, where]
		const alone = [];
		for (const ch of Object.keys(nv)) {
			const v = hasOwn(values, ch) ? values[ch] : undefined;
			if (v === undefined) {
				own[ch] = [nv[ch], 0];
			} else if (this._text && !(v instanceof Uint8Array)) {
				own[ch] = [nv[ch], main.length];
				main.push(v);
			} else {
				own[ch] = [nv[ch], -(alone.length + 1)];
				alone.push(enc(await this.serde.dumpsTyped(v)));
			}
		}
		const [cf, ctext] = this._quick(main) ?? this._field(await this.serde.dumpsTyped(main));
		const [mf, mtext] = this._quick(metadata) ?? this._field(await this.serde.dumpsTyped(metadata));
		const run = this._runOf(threadId);
		if (!this._known.has(run)) await this._register(threadId, run);
		const nsKey = esc(ns);
		const parentId = parent === undefined || parent === null ? null : String(parent);
		const inherited = parentId === null ? undefined : this._sourcesOf(run, `c${nsKey}${esc(parentId)}`);
		const head = [parentId, cp.v ?? 0, 0, null, mf, cf, alone];
		// The record at generation gen; `before`: the sources of the record
		// it replaces, if any (a channel it does not change keeps a value
		// of the same version from there).
		const record = (gen, before) => {
			const sources = {};
			for (const ch of Object.keys(versions)) {
				const ver = versions[ch];
				const o = own[ch];
				if (o !== undefined) sources[ch] = [o[0], id, gen, o[1]];
				else if (inherited !== undefined && inherited[ch] !== undefined && inherited[ch][0] === ver) sources[ch] = inherited[ch];
				else if (before !== undefined && before[ch] !== undefined && before[ch][0] === ver) sources[ch] = before[ch];
			}
			head[2] = gen;
			head[3] = sources;
			return { sources, parts: [JSON.stringify(head) + SEP, mtext, SEP, ctext] };
		};
		const ck = `c${nsKey}${esc(id)}`;
		const ik = `i${esc(id)}${nsKey}`;
		const first = record(0);
		let { sources } = first;
		// A record and its index entry are written and deleted together:
		// both found means a put again of this id.
		if (!await this.db.kv.write(run, [['putIfAbsent', ck, first.parts], ['putIfAbsent', ik, '']], this._txOpts)) {
			sources = await this.db.transaction(run, (tx) => {
				const old = tx.kv.get(ck, U);
				if (old === undefined) { // deleted meanwhile
					tx.kv.put(ck, first.parts);
					tx.kv.put(ik, '');
					return first.sources;
				}
				const { gen, sources: before } = parseRec(old);
				const next = record(gen + 1, before);
				tx.kv.put(`o${nsKey}${esc(id)}${gen}`, old);
				tx.kv.put(ck, next.parts);
				return next.sources;
			}, this._txOpts);
		}
		this._remember(run, ck, sources);
		return configOf(threadId, ns, id);
	}

	async putWrites(config, writes, taskId, taskPath) {
		const threadId = threadIdOf(config, 'put writes');
		const ns = config.configurable.checkpoint_ns ?? '';
		const id = config.configurable.checkpoint_id;
		if (id === undefined || id === null)
			throw new Error('Failed to put writes. The passed RunnableConfig is missing a required "checkpoint_id" field in its "configurable" property.');
		const prefix = `c${esc(ns)}${esc(String(id))}${esc(String(taskId))}`;
		const ops = [];
		for (let i = 0; i < writes.length; i++) {
			const [channel, value] = writes[i];
			const [f, text] = this._quick(value) ?? this._field(await this.serde.dumpsTyped(value));
			const idx = WRITES_IDX_MAP[channel] || i;
			// A regular write is stored once (a retried task keeps its
			// first writes); a special one (error, interrupt...) is
			// replaced.
			ops.push([idx >= 0 ? 'putIfAbsent' : 'put', prefix + idxKey(idx),
				[JSON.stringify([taskPath ?? '', channel, f]) + SEP, text]]);
		}
		const run = this._runOf(threadId);
		if (!this._known.has(run)) await this._register(threadId, run);
		await this.db.kv.write(run, ops, this._txOpts);
	}

	async deleteThread(threadId) {
		const run = this._runOf(String(threadId));
		this._known.delete(run);
		this._sources.delete(run);
		try {
			await this.db.runindex.delete(run, this._txOpts);
		} catch (e) {
			if (e.code !== 'RS_ENOTFOUND') throw e;
		} finally {
			this._sources.delete(run);
		}
	}

	// A serialized item as a record holds it: [its header field, the text
	// kept after SEP]. JsonPlusSerializer's JSON texts are kept as they
	// are (loadsTyped takes them back as strings); anything else goes
	// into the header (enc()).
	_field(item) {
		return this._text && item[0] === 'json' && item[1] instanceof Uint8Array ? item : [enc(item), ''];
	}

	// What _field(await this.serde.dumpsTyped(v)) holds, at once and as
	// a string, where JsonPlusSerializer would write JSON.stringify(v)
	// (plainText()): no serializer call, no encoding to bytes here (the
	// native side writes the string's UTF-8). Else undefined.
	_quick(v) {
		if (!this._text) return undefined;
		const t = plainText(v);
		return t === undefined ? undefined : ['json', t];
	}

	// A pending write from its key (the checkpoint's id ends at key[at])
	// and value.
	_write(key, at, value, id) {
		const [taskId, k] = unesc(key, at);
		const [taskPath, channel, [t, d]] = parseWrite(value);
		return { id, taskId, idx: parseInt(key.slice(k), 16) - IDX_BIAS, taskPath, channel, t, d };
	}

	// A checkpoint's record and writes, by a forward scan from its key:
	// {rec, writes}, or undefined.
	_byId(scan, nsKey, id) {
		const ck = `c${nsKey}${esc(id)}`;
		const end = prefixEnd(ck);
		let rec, resume;
		const writes = [];
		for (let limit = 4; ; limit = Math.min(PAGE, 2 * limit)) {
			const page = scan({ start: ck, end, resume, limit, keyEncoding: 'utf8', encoding: 'utf8' });
			for (const { key, value } of page.items) {
				if (key.length === ck.length) rec = value;
				else if (rec === undefined) return undefined; // writes, no record
				else writes.push(this._write(key, ck.length, value, id));
			}
			if (!page.more) break;
			resume = page.items[page.items.length - 1].key;
		}
		return rec === undefined ? undefined : { id, rec, writes };
	}

	// The checkpoints of namespace nsKey below `end`, newest first, by a
	// reverse scan (a checkpoint's writes come before its record):
	// [id, rec, writes]. limit(): the next page's size.
	* _records(scan, nsKey, end, limit) {
		const prefix = `c${nsKey}`;
		let resume, writes = [];
		for (;;) {
			const page = scan({ start: prefix, end, resume, reverse: true, limit: limit(), keyEncoding: 'utf8', encoding: 'utf8' });
			for (const { key, value } of page.items) {
				const [id, at] = unesc(key, prefix.length);
				// Writes of another id than the record's that follows
				// them are a record's that does not exist.
				if (writes.length > 0 && writes[writes.length - 1].id !== id) writes = [];
				if (at < key.length) {
					writes.push(this._write(key, at, value, id));
				} else {
					yield [id, value, writes];
					writes = [];
				}
			}
			if (!page.more) return;
			resume = page.items[page.items.length - 1].key;
		}
	}

	// The newest checkpoint of a namespace and its writes: {id, rec,
	// writes}, or undefined. Pages from a few entries up (a record and its
	// writes; a record holds values, so a longer page would copy records
	// for nothing).
	_latest(scan, nsKey) {
		let limit = 2;
		for (const [id, rec, writes] of this._records(scan, nsKey, prefixEnd(`c${nsKey}`), () => (limit = Math.min(PAGE, 2 * limit))))
			return { id, rec, writes };
		return undefined;
	}

	// What a checkpoint's tuple needs, from its record and writes:
	// {ns, id, main, meta, parent, values: [[channel, item, element]],
	// writes, sends, others}; `others` (the values it inherits, by writer)
	// and `needSends` are left for _complete to read.
	// rec: the record, as stored or parsed (parseRec).
	_raw(ns, id, rec, writes) {
		const r = typeof rec === 'string' ? parseRec(rec) : rec;
		const { sources, gen, parent, main } = r;
		const values = [];
		let others; // writer and generation -> [writer, gen, [value, where]...]
		for (const ch of Object.keys(sources)) {
			const [, writer, g, where] = sources[ch];
			if (where === 0) continue;
			const v = [ch, undefined, -1];
			if (writer === id && g === gen) {
				if (where > 0) { v[1] = main; v[2] = where; } else v[1] = r.alone(where);
			} else {
				others ??= new Map();
				const k = `${g}\0${writer}`;
				let o = others.get(k);
				if (o === undefined) others.set(k, o = [writer, g]);
				o.push([v, where]);
			}
			values.push(v);
		}
		return {
			ns, id, main, meta: r.meta, values, writes, others, parent,
			needSends: r.v < 4 && parent !== undefined,
		};
	}

	// Read what raw still needs (inherited values, the parent's sends)
	// through getMany and scan of one snapshot.
	_complete(raw, getMany, scan) {
		const nsKey = esc(raw.ns);
		if (raw.others !== undefined) {
			const groups = [...raw.others.values()];
			const recs = getMany(groups.map(([w]) => `c${nsKey}${esc(w)}`)).map((w) => w && parseRec(w));
			// A writer put again since: its record of that generation.
			const moved = [];
			for (let k = 0; k < groups.length; k++) {
				const w = recs[k];
				if (w === undefined || w.gen !== groups[k][1]) moved.push(k);
			}
			if (moved.length > 0) {
				const old = getMany(moved.map((k) => `o${nsKey}${esc(groups[k][0])}${groups[k][1]}`));
				for (let j = 0; j < moved.length; j++) recs[moved[j]] = old[j] && parseRec(old[j]);
			}
			for (let k = 0; k < groups.length; k++) {
				const w = recs[k];
				if (w === undefined) continue; // deleted: its values are missing
				for (let j = 2; j < groups[k].length; j++) {
					const [v, where] = groups[k][j];
					if (where > 0) { v[1] = w.main; v[2] = where; } else v[1] = w.alone(where);
				}
			}
			raw.values = raw.values.filter((v) => v[1] !== undefined);
			raw.others = undefined;
		}
		if (raw.needSends) {
			const p = this._byId(scan, nsKey, raw.parent);
			raw.sends = p === undefined ? [] : p.writes.filter((w) => w.channel === TASKS);
			raw.needSends = false;
		}
		return raw;
	}

	// The raw of checkpoint id (the newest without one) of run, read at one
	// snapshot: one scan when it is all there, else a read-only
	// transaction.
	_read(run, ns, id) {
		const nsKey = esc(ns);
		const one = (o) => this.db.kv.scan(run, o);
		const f = id ? this._byId(one, nsKey, id) : this._latest(one, nsKey);
		if (f === undefined) return undefined;
		const raw = this._raw(ns, f.id, f.rec, f.writes);
		if (raw.others === undefined && !raw.needSends) return raw;
		return this.db.read(run, (tx) => {
			const scan = (o) => tx.kv.scan(o);
			const g = id ? this._byId(scan, nsKey, id) : this._latest(scan, nsKey);
			return g === undefined ? undefined
				: this._complete(this._raw(ns, g.id, g.rec, g.writes), (keys) => tx.kv.getMany(keys, U), scan);
		});
	}

	// Deserialize items ([type, data] each) in as few serializer calls as
	// the serializer allows: with JsonPlusSerializer, its JSON texts in
	// one, as the elements of one JSON array; of them, those that its
	// reviver would leave as they are (bare()) by one JSON.parse of
	// their own array instead.
	async _load(items) {
		const n = items.length;
		const out = new Array(n);
		// Per item: 0 loaded alone, 1 in the serializer's call, 2 parsed.
		const how = new Uint8Array(n);
		let revived = 0;
		if (this._text) {
			const texts = [], bares = [];
			for (let i = 0; i < n; i++) {
				if (!joins(items[i])) continue;
				const t = items[i][1];
				if (this._parse && bare(t)) {
					how[i] = 2;
					bares.push(t);
				} else {
					how[i] = 1;
					texts.push(t);
				}
			}
			revived = texts.length;
			if (bares.length > 0) {
				const all = JSON.parse(`[${bares.join(',')}]`);
				for (let i = 0, k = 0; i < n; i++) if (how[i] === 2) out[i] = all[k++];
			}
			if (revived > 1) {
				const all = await this.serde.loadsTyped('json', `[${texts.join(',')}]`);
				for (let i = 0, k = 0; i < n; i++) if (how[i] === 1) out[i] = all[k++];
			}
		}
		for (let i = 0; i < n; i++)
			if (how[i] === 0 || (how[i] === 1 && revived === 1)) out[i] = await this.serde.loadsTyped(items[i][0], items[i][1]);
		return out;
	}

	// The tuple of raw; `metadata`: its metadata, if the caller has
	// deserialized it already.
	async _tuple(threadId, raw, metadata) {
		const items = [raw.main];
		const metaAt = metadata === undefined ? items.push(raw.meta) - 1 : -1;
		const where = new Map([[raw.main, 0]]); // item -> its index in items
		const valueAt = raw.values.map(([, item, el]) => {
			let i = where.get(item);
			if (i === undefined) where.set(item, i = items.push(item) - 1);
			return [i, el];
		});
		const writes = sortWrites(raw.writes);
		const writesAt = items.length;
		for (const w of writes) items.push([w.t, w.d]);
		const sends = raw.sends === undefined ? undefined : sortWrites(raw.sends);
		const sendsAt = items.length;
		if (sends !== undefined) for (const w of sends) items.push([w.t, w.d]);
		const out = await this._load(items);
		const checkpoint = out[0][0];
		const values = {};
		for (let k = 0; k < raw.values.length; k++) {
			const [i, el] = valueAt[k];
			values[raw.values[k][0]] = el > 0 ? out[i][el] : out[i];
		}
		checkpoint.channel_values = values;
		if (sends !== undefined) {
			checkpoint.channel_values[TASKS] = out.slice(sendsAt, sendsAt + sends.length);
			checkpoint.channel_versions ??= {};
			const vs = Object.values(checkpoint.channel_versions);
			checkpoint.channel_versions[TASKS] = vs.length > 0 ? maxChannelVersion(...vs) : this.getNextVersion(undefined);
		}
		const pendingWrites = writes.map((w, k) => [w.taskId, w.channel, out[writesAt + k]]);
		const tuple = {
			config: configOf(threadId, raw.ns, raw.id),
			checkpoint,
			metadata: metaAt >= 0 ? out[metaAt] : metadata,
			pendingWrites,
		};
		if (raw.parent !== undefined) tuple.parentConfig = configOf(threadId, raw.ns, raw.parent);
		return tuple;
	}

	async getTuple(config) {
		const c = config && config.configurable;
		if (!c || c.thread_id === undefined || c.thread_id === null) return undefined;
		const threadId = String(c.thread_id);
		const id = getCheckpointId(config);
		const raw = this._read(this._runOf(threadId), c.checkpoint_ns ?? '', id ? String(id) : undefined);
		return raw === undefined ? undefined : this._tuple(threadId, raw);
	}

	// The threads to list: one, or every thread of this database.
	* _threads(threadId) {
		if (threadId !== undefined && threadId !== null) {
			yield String(threadId);
			return;
		}
		let cursor = 0;
		for (;;) {
			const page = this.db.runindex.byTag(TAG, { cursor, limit: PAGE, encoding: 'utf8' });
			for (const r of page.items) {
				let meta;
				try {
					meta = JSON.parse(r.metadata);
				} catch {
					continue; // not a thread of a saver
				}
				if (meta && typeof meta.thread_id === 'string' && threadRunId(meta.thread_id) === r.id)
					yield meta.thread_id;
			}
			if (!page.more) return;
			cursor = page.cursor;
		}
	}

	// The checkpoints of a thread, newest first: [ns, id, rec, writes]
	// (rec and writes as one page of a scan read them).
	* _walk(run, nsWanted, beforeId, want) {
		const one = (o) => this.db.kv.scan(run, o);
		if (nsWanted === undefined) {
			// Over every namespace: the index, then each checkpoint by id.
			const end = beforeId === undefined ? 'j' : `i${esc(beforeId)}`;
			let resume;
			for (;;) {
				const page = this.db.kv.scan(run, { start: 'i', end, resume, limit: PAGE, reverse: true, keyEncoding: 'utf8' });
				for (const { key } of page.items) {
					const [id, at] = unesc(key, 1);
					const ns = unesc(key, at)[0];
					const f = this._byId(one, esc(ns), id);
					if (f !== undefined) yield [ns, id, f.rec, f.writes];
				}
				if (!page.more) return;
				resume = page.items[page.items.length - 1].key;
			}
		}
		const prefix = `c${esc(nsWanted)}`;
		const end = beforeId === undefined ? prefixEnd(prefix) : prefix + esc(beforeId);
		for (const [id, rec, writes] of this._records(one, esc(nsWanted), end, want)) yield [nsWanted, id, rec, writes];
	}

	async *list(config, options) {
		const { before, filter } = options ?? {};
		let limit = options && options.limit !== undefined ? options.limit : undefined;
		const c = (config && config.configurable) || {};
		const nsWanted = c.checkpoint_ns;
		const idWanted = c.checkpoint_id;
		const beforeId = before && before.configurable && before.configurable.checkpoint_id !== undefined
			? String(before.configurable.checkpoint_id) : undefined;
		if (limit !== undefined && limit <= 0) return;
		// Pages no larger than needed (a checkpoint and its writes).
		const want = () => (limit !== undefined && !filter && !idWanted ? Math.min(PAGE, 4 * limit) : PAGE);
		for (const threadId of this._threads(c.thread_id)) {
			const run = this._runOf(threadId);
			for (const [ns, id, rec, writes] of this._walk(run, nsWanted, beforeId, want)) {
				if (idWanted && id !== idWanted) continue;
				let metadata;
				const parsed = parseRec(rec);
				if (filter) {
					// The metadata first: the rest only for a match.
					metadata = await this.serde.loadsTyped(parsed.meta[0], parsed.meta[1]);
					if (!Object.entries(filter).every(([k, v]) => metadata[k] === v)) continue;
				}
				let raw = this._raw(ns, id, parsed, writes);
				if (raw.others !== undefined || raw.needSends) raw = this._read(run, ns, id);
				if (raw === undefined) continue; // deleted meanwhile
				yield await this._tuple(threadId, raw, metadata);
				if (limit !== undefined && --limit <= 0) return;
			}
		}
	}
}

return { RunstateSaver, threadRunId };
}

module.exports = { define, threadRunId, plainText, FORMAT, FORMAT_RUN, FORMAT_KEY };
