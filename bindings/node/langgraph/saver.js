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
// Keys of a thread's run (KV; keys are strings, stored as their UTF-8
// bytes; `esc(s)` is s with each U+0000 written as U+0000 U+0001, then
// U+0000 U+0000, so keys sort as their strings do, by code point, and no
// key is a prefix of another):
//   c esc(ns) id                     -> the checkpoint's record
//   i esc(id) esc(ns)                -> "" (every namespace, by id)
//   w esc(ns) esc(id) esc(task) idx  -> a pending write (idx: 8 hex
//                                       digits of idx + 2^31)
// A checkpoint's record holds the checkpoint (without its channel values)
// and its metadata, serialized together; its parent's id; its sources;
// and the serialized values of the channels its put changed (those in
// newVersions). The sources say, per channel, where its value is: the
// version, the writer (the checkpoint whose put wrote it: this one for
// the channels in newVersions, else the parent's source at the same
// version, so that a fork reusing a version number never reads another
// branch's value), the serialization type and the part of the writer's
// record that holds it. A value is thus stored once, by its writer, and a
// checkpoint's own values come with its record.
// put() writes the record and the index entry in one commit (one
// kv.write). It reads its parent's sources before that commit: a record
// changes only by a put of the same id (which updates the cache below
// too), so the read needs no place in the commit. The sources of recent
// puts are cached per database (shared by every saver over it, dropped by
// deleteThread).
// getTuple() reads everything of one checkpoint at one snapshot (a
// read-only transaction: its record, the records of the writers of its
// inherited values, its writes), then deserializes. The newest checkpoint
// is the last key under "c esc(ns)", found by a reverse scan; list() walks
// the same ranges backwards, page by page.
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
const PAGE = 64;
const RUNS_CACHED = 4096; // thread ids whose run ids are kept
const SOURCES_CACHED = 16; // records' sources kept per run

/** The run id of a thread: a UUIDv5 of its thread_id. */
function threadRunId(threadId) {
	const h = crypto.createHash('sha1').update(NAMESPACE)
		.update(Buffer.from(String(threadId), 'utf16le')).digest();
	h[6] = (h[6] & 0x0f) | 0x50;
	h[8] = (h[8] & 0x3f) | 0x80;
	const x = h.subarray(0, 16).toString('hex');
	return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
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

// Records: a list of byte strings, each with a 4-byte length.
function pack(parts) {
	let n = 0;
	for (const p of parts) n += 4 + (typeof p === 'string' ? Buffer.byteLength(p) : p.byteLength);
	const out = Buffer.allocUnsafe(n);
	let at = 0;
	for (const p of parts) {
		let len;
		if (typeof p === 'string') {
			len = out.write(p, at + 4);
		} else {
			len = p.byteLength;
			out.set(p instanceof Uint8Array ? p : new Uint8Array(p.buffer, p.byteOffset, len), at + 4);
		}
		out.writeUInt32BE(len, at);
		at += 4 + len;
	}
	return out;
}

// The parts of a record as [start, end) offsets: [s0, e0, s1, e1, ...].
function unpack(buf) {
	const at = [];
	for (let i = 0; i < buf.length;) {
		const n = buf.readUInt32BE(i);
		at.push(i + 4, i + 4 + n);
		i += 4 + n;
	}
	return at;
}

const EMPTY_TYPE = 'empty';
const NO_PARENT = '\u0000';
// A record's parts: [checkpoint, metadata] serialized (type, data), the
// parent's id, the sources (JSON), the checkpoint's v, then its values.
const R_TYPE = 0, R_DATA = 1, R_PARENT = 2, R_SOURCES = 3, R_V = 4, R_VALUES = 5;

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

// The sources of recently written records, per database: run -> Map of
// record key -> sources (newest last).
const sourcesByDb = new WeakMap();

function sourcesCache(db) {
	let c = sourcesByDb.get(db);
	if (c === undefined) sourcesByDb.set(db, c = new Map());
	return c;
}

function define(lg) {
const {
	BaseCheckpointSaver, JsonPlusSerializer, TASKS, WRITES_IDX_MAP, copyCheckpoint,
	getCheckpointId, maxChannelVersion, writesSortKey, compareWritesSortKeys,
} = lg;

class RunstateSaver extends BaseCheckpointSaver {
	/**
	 * new RunstateSaver(db, {durability, serde}): a saver over an open
	 * database (not closed by the saver). durability: the commits' durability
	 * ('buffered' or 'strict' on a logged database; default: the database's
	 * own). RunstateSaver.open({path, durability}) opens a database of its
	 * own (default: Buffered with a path, InMemory without) and close()
	 * closes it.
	 */
	constructor(db, options = {}) {
		super(options.serde);
		if (!(db instanceof rs.Db)) throw new TypeError('RunstateSaver needs a runstate Db');
		this.db = db;
		this._txOpts = options.durability === undefined ? {} : { durability: options.durability };
		this._runs = new Map(); // thread_id -> run id
		this._known = new Set(); // runs registered in the RunIndex
		this._sources = sourcesCache(db);
		// JsonPlusSerializer's loadsTyped takes JSON as a string as well
		// as bytes: hand it strings, decoded by the read itself.
		this._text = this.serde instanceof JsonPlusSerializer &&
			this.serde.loadsTyped === JsonPlusSerializer.prototype.loadsTyped;
		this._owned = false;
	}

	static async open(options = {}) {
		const { serde, durability, ...rest } = options;
		const d = durability ?? (rest.path === undefined ? 'inmemory' : 'buffered');
		const db = await rs.open({ ...rest, durability: d });
		const saver = new RunstateSaver(db, { serde });
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

	// Register a thread's run in the RunIndex once.
	async _register(threadId, run) {
		if (this.db.runindex.get(run) === undefined) {
			const base = {
				id: run, tags: [TAG],
				metadata: JSON.stringify({ thread_id: threadId }),
			};
			const name = `${TAG}:${threadId}`;
			const wellFormed = Buffer.from(name, 'utf8').toString('utf8') === name;
			try {
				await this.db.runindex.create(
					wellFormed && Buffer.byteLength(name) <= 256 ? { ...base, name } : base,
					this._txOpts);
			} catch (e) {
				if (e.code !== 'RS_EEXIST') throw e;
				// Registered meanwhile, or the name is another run's.
				if (this.db.runindex.get(run) === undefined)
					await this.db.runindex.create(base, this._txOpts);
			}
		}
		if (this._known.size >= RUNS_CACHED) this._known.clear();
		this._known.add(run);
	}

	// The sources of the record at key `ck` of run: cached, or read.
	_sourcesOf(run, ck) {
		const cached = this._sources.get(run);
		const s = cached === undefined ? undefined : cached.get(ck);
		if (s !== undefined) return s;
		const rec = this.db.kv.get(run, ck);
		if (rec === undefined) return {};
		const at = unpack(rec);
		return JSON.parse(rec.toString('utf8', at[2 * R_SOURCES], at[2 * R_SOURCES + 1]));
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
		// The checkpoint without its values (serialized at once, so no
		// copy of it is needed).
		const { channel_values: values = {}, ...cp } = checkpoint;
		const versions = cp.channel_versions ?? {};
		const [type, data] = await this.serde.dumpsTyped([cp, metadata]);
		const id = String(checkpoint.id);
		const nv = newVersions ?? {};
		const nsKey = esc(ns);
		const parts = [type, data, '', '', String(cp.v ?? 0)];
		const sources = {};
		for (const ch of Object.keys(nv)) {
			if (!Object.prototype.hasOwnProperty.call(values, ch) || values[ch] === undefined) {
				sources[ch] = [nv[ch], id, EMPTY_TYPE, -1];
				continue;
			}
			const [t, d] = await this.serde.dumpsTyped(values[ch]);
			sources[ch] = [nv[ch], id, t, parts.length];
			parts.push(d);
		}
		const run = this._runOf(threadId);
		if (!this._known.has(run)) await this._register(threadId, run);
		const parentId = parent === undefined || parent === null ? NO_PARENT : String(parent);
		const inherited = parentId === NO_PARENT ? {} : this._sourcesOf(run, `c${nsKey}${parentId}`);
		// Where each channel's value lives: written by this put (the
		// channels in newVersions), or inherited from the parent at the
		// same version. Two branches of a thread may reuse a version
		// number, so a value is named by its writer too.
		const own = {};
		for (const ch of Object.keys(versions)) {
			const ver = versions[ch];
			if (Object.prototype.hasOwnProperty.call(sources, ch)) own[ch] = sources[ch];
			else if (inherited[ch] !== undefined && inherited[ch][0] === ver) own[ch] = inherited[ch];
		}
		parts[R_PARENT] = parentId;
		parts[R_SOURCES] = JSON.stringify(own);
		const ck = `c${nsKey}${id}`;
		await this.db.kv.write(run, [['put', ck, pack(parts)], ['put', `i${esc(id)}${nsKey}`, '']], this._txOpts);
		this._remember(run, ck, own);
		return configOf(threadId, ns, id);
	}

	async putWrites(config, writes, taskId, taskPath) {
		const threadId = threadIdOf(config, 'put writes');
		const ns = config.configurable.checkpoint_ns ?? '';
		const id = config.configurable.checkpoint_id;
		if (id === undefined || id === null)
			throw new Error('Failed to put writes. The passed RunnableConfig is missing a required "checkpoint_id" field in its "configurable" property.');
		const prefix = `w${esc(ns)}${esc(String(id))}${esc(String(taskId))}`;
		const ops = [];
		for (let i = 0; i < writes.length; i++) {
			const [channel, value] = writes[i];
			const [t, d] = await this.serde.dumpsTyped(value);
			const idx = WRITES_IDX_MAP[channel] || i;
			// A regular write is stored once (a retried task keeps its
			// first writes); a special one (error, interrupt...) is
			// replaced.
			ops.push([idx >= 0 ? 'putIfAbsent' : 'put', prefix + idxKey(idx),
				pack([taskPath ?? '', channel, t, d])]);
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

	// A serialized value as loadsTyped takes it: a string (JSON from
	// JsonPlusSerializer), or the bytes.
	_data(buf, type, start, end) {
		return this._text && type === 'json' ? buf.toString('utf8', start, end) : buf.subarray(start, end);
	}

	// Everything of one checkpoint as serialized values, read in tx (one
	// snapshot). `rec` when the caller has the record already.
	_raw(tx, ns, id, rec) {
		const nsKey = esc(ns);
		rec ??= tx.kv.get(`c${nsKey}${id}`);
		if (rec === undefined) return undefined;
		const at = unpack(rec);
		const str = (i) => rec.toString('utf8', at[2 * i], at[2 * i + 1]);
		const type = str(R_TYPE), parent = str(R_PARENT);
		const sources = JSON.parse(str(R_SOURCES));
		const channels = [], types = [], values = [];
		let others; // writer -> indices into channels of the values it holds
		for (const ch of Object.keys(sources)) {
			const [, writer, t, part] = sources[ch];
			if (t === EMPTY_TYPE) continue;
			if (writer === id) {
				values.push(this._data(rec, t, at[2 * part], at[2 * part + 1]));
			} else {
				values.push(undefined);
				others ??= new Map();
				const mine = others.get(writer);
				if (mine === undefined) others.set(writer, [channels.length]);
				else mine.push(channels.length);
			}
			channels.push(ch);
			types.push(t);
		}
		if (others !== undefined) {
			// Inherited values: in their writers' records, found through
			// the writers' own sources (a record written again under the
			// same id holds what its sources say now).
			const writers = [...others.keys()];
			const recs = tx.kv.getMany(writers.map((w) => `c${nsKey}${w}`));
			for (let k = 0; k < writers.length; k++) {
				const w = recs[k];
				if (w === undefined) continue;
				const wat = unpack(w);
				const ws = JSON.parse(w.toString('utf8', wat[2 * R_SOURCES], wat[2 * R_SOURCES + 1]));
				for (const i of others.get(writers[k])) {
					const s = ws[channels[i]], want = sources[channels[i]];
					if (s === undefined || s[1] !== writers[k] || s[0] !== want[0] || s[2] === EMPTY_TYPE) continue;
					values[i] = this._data(w, s[2], wat[2 * s[3]], wat[2 * s[3] + 1]);
					types[i] = s[2];
				}
			}
		}
		const writes = this._writesOf(tx, nsKey, id);
		let sends;
		if (Number(str(R_V)) < 4 && parent !== NO_PARENT)
			sends = this._writesOf(tx, nsKey, parent).filter((w) => w.channel === TASKS);
		return {
			ns, id, type, data: this._data(rec, type, at[2 * R_DATA], at[2 * R_DATA + 1]),
			channels, types, values, writes, sends, parent: parent === NO_PARENT ? undefined : parent,
		};
	}

	_writesOf(tx, nsKey, id) {
		const prefix = `w${nsKey}${esc(id)}`;
		const end = prefixEnd(prefix);
		const out = [];
		let resume;
		for (;;) {
			const page = tx.kv.scan({ start: prefix, end, resume, limit: PAGE, keyEncoding: 'utf8' });
			for (const { key, value } of page.items) {
				const [taskId, k] = unesc(key, prefix.length);
				const idx = parseInt(key.slice(k), 16) - IDX_BIAS;
				const at = unpack(value);
				const t = value.toString('utf8', at[4], at[5]);
				out.push({
					taskId, idx, taskPath: value.toString('utf8', at[0], at[1]),
					channel: value.toString('utf8', at[2], at[3]), t, d: this._data(value, t, at[6], at[7]),
				});
			}
			if (!page.more) break;
			resume = page.items[page.items.length - 1].key;
		}
		return out;
	}

	// The tuple of raw; `loaded`: its [checkpoint, metadata], if the
	// caller has deserialized them already.
	async _tuple(threadId, raw, loaded) {
		const serde = this.serde;
		const [checkpoint, metadata] = loaded ?? await serde.loadsTyped(raw.type, raw.data);
		const values = {};
		for (let i = 0; i < raw.values.length; i++)
			if (raw.values[i] !== undefined) values[raw.channels[i]] = await serde.loadsTyped(raw.types[i], raw.values[i]);
		checkpoint.channel_values = values;
		if (raw.sends !== undefined) {
			const sorted = raw.sends.slice().sort((a, b) =>
				compareWritesSortKeys(writesSortKey(a.taskPath, a.taskId, a.idx),
					writesSortKey(b.taskPath, b.taskId, b.idx)));
			checkpoint.channel_values[TASKS] = await Promise.all(sorted.map((w) => serde.loadsTyped(w.t, w.d)));
			checkpoint.channel_versions ??= {};
			const vs = Object.values(checkpoint.channel_versions);
			checkpoint.channel_versions[TASKS] = vs.length > 0 ? maxChannelVersion(...vs) : this.getNextVersion(undefined);
		}
		const writes = raw.writes.length < 2 ? raw.writes : raw.writes.slice().sort((a, b) =>
			compareWritesSortKeys(writesSortKey(a.taskPath, a.taskId, a.idx),
				writesSortKey(b.taskPath, b.taskId, b.idx)));
		const pendingWrites = [];
		for (const w of writes) pendingWrites.push([w.taskId, w.channel, await serde.loadsTyped(w.t, w.d)]);
		const tuple = {
			config: configOf(threadId, raw.ns, raw.id),
			checkpoint,
			metadata,
			pendingWrites,
		};
		if (raw.parent !== undefined) tuple.parentConfig = configOf(threadId, raw.ns, raw.parent);
		return tuple;
	}

	async getTuple(config) {
		const c = config && config.configurable;
		if (!c || c.thread_id === undefined || c.thread_id === null) return undefined;
		const threadId = String(c.thread_id);
		const ns = c.checkpoint_ns ?? '';
		const id = getCheckpointId(config);
		const raw = this.db.read(this._runOf(threadId), (tx) => {
			if (id) return this._raw(tx, ns, String(id));
			const prefix = `c${esc(ns)}`;
			const page = tx.kv.scan({ start: prefix, end: prefixEnd(prefix), reverse: true, limit: 1, keyEncoding: 'utf8' });
			if (page.items.length === 0) return undefined;
			const { key, value } = page.items[0];
			return this._raw(tx, ns, key.slice(prefix.length), value);
		});
		if (raw === undefined) return undefined;
		return this._tuple(threadId, raw);
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

	async *list(config, options) {
		const { before, filter } = options ?? {};
		let limit = options && options.limit !== undefined ? options.limit : undefined;
		const c = (config && config.configurable) || {};
		const nsWanted = c.checkpoint_ns;
		const idWanted = c.checkpoint_id;
		const beforeId = before && before.configurable ? before.configurable.checkpoint_id : undefined;
		if (limit !== undefined && limit <= 0) return;
		for (const threadId of this._threads(c.thread_id)) {
			const run = this._runOf(threadId);
			// By namespace: "c esc(ns)"; over every namespace: "i".
			const prefix = nsWanted === undefined ? 'i' : `c${esc(nsWanted)}`;
			let end = prefixEnd(prefix);
			if (beforeId !== undefined)
				end = prefix + (nsWanted === undefined ? esc(String(beforeId)) : String(beforeId));
			let resume;
			for (;;) {
				// Pages of records (with their values) no larger than needed.
				const want = limit !== undefined && !filter && !idWanted ? Math.min(PAGE, limit) : PAGE;
				const page = this.db.kv.scan(run, { start: prefix, end, resume, limit: want, reverse: true, keyEncoding: 'utf8' });
				for (const { key, value } of page.items) {
					let ns, id;
					if (nsWanted === undefined) {
						const [i, at] = unesc(key, 1);
						id = i;
						ns = unesc(key, at)[0];
					} else {
						ns = nsWanted;
						id = key.slice(prefix.length);
					}
					if (idWanted && id !== idWanted) continue;
					let loaded;
					if (filter) {
						// The metadata first: the rest only for a match.
						const record = nsWanted === undefined ? this.db.kv.get(run, `c${esc(ns)}${id}`) : value;
						if (record === undefined) continue;
						const at = unpack(record);
						const type = record.toString('utf8', at[2 * R_TYPE], at[2 * R_TYPE + 1]);
						loaded = await this.serde.loadsTyped(type, this._data(record, type, at[2 * R_DATA], at[2 * R_DATA + 1]));
						const metadata = loaded[1];
						if (!Object.entries(filter).every(([k, v]) => metadata[k] === v)) continue;
					}
					const raw = this.db.read(run, (tx) => this._raw(tx, ns, id));
					if (raw === undefined) continue; // deleted meanwhile
					yield await this._tuple(threadId, raw, loaded);
					if (limit !== undefined && --limit <= 0) return;
				}
				if (!page.more) break;
				resume = page.items[page.items.length - 1].key;
			}
		}
	}
}

return { RunstateSaver, threadRunId };
}

module.exports = { define, threadRunId };
