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
// Keys of a thread's run (KV; `esc(s)` is s's UTF-8 bytes with 0x00
// written as 00 01, then 00 00, so keys sort as their strings do, by code
// point, and no key is a prefix of another):
//   c esc(ns) id                     -> the checkpoint's record
//   i esc(id) esc(ns)                -> "" (every namespace, by id)
//   b esc(ns) esc(channel) esc(writer) version
//                                    -> a channel value (a blob) that
//                                       the put of checkpoint `writer` wrote
//   w esc(ns) esc(id) esc(task) idx  -> a pending write (idx: 4 bytes,
//                                       big-endian, biased by 2^31)
// A checkpoint's record holds the checkpoint without its channel values,
// its metadata, its parent's id and, per channel, the version and writer
// of its value: the checkpoint itself for the channels in newVersions,
// else the parent's source at the same version (so a fork that reuses a
// version number never reads another branch's value). put() writes the record, the index entry
// and the blobs of the channels in newVersions in one transaction.
// getTuple() reads everything of one checkpoint at one snapshot (a
// read-only transaction), then deserializes. The newest checkpoint is the
// last key under "c esc(ns)", found by a reverse scan; list() walks the
// same ranges backwards, page by page.
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

/** The run id of a thread: a UUIDv5 of its thread_id. */
function threadRunId(threadId) {
	const h = crypto.createHash('sha1').update(NAMESPACE)
		.update(Buffer.from(String(threadId), 'utf16le')).digest();
	h[6] = (h[6] & 0x0f) | 0x50;
	h[8] = (h[8] & 0x3f) | 0x80;
	const x = h.subarray(0, 16).toString('hex');
	return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

const Z = Buffer.from([0, 0]);
const C = Buffer.from('c'), I = Buffer.from('i'), B = Buffer.from('b'), W = Buffer.from('w');

function esc(s) {
	const b = Buffer.from(s, 'utf8');
	if (b.indexOf(0) < 0) return Buffer.concat([b, Z]);
	const out = [];
	for (const byte of b) {
		out.push(byte);
		if (byte === 0) out.push(1);
	}
	out.push(0, 0);
	return Buffer.from(out);
}

function unesc(buf, at) {
	const out = [];
	let i = at;
	for (;;) {
		const byte = buf[i];
		if (byte === 0) {
			if (buf[i + 1] === 0) return [Buffer.from(out).toString('utf8'), i + 2];
			out.push(0);
			i += 2;
		} else {
			out.push(byte);
			i++;
		}
	}
}

function idx4(i) {
	const b = Buffer.alloc(4);
	b.writeUInt32BE((i + 0x80000000) >>> 0);
	return b;
}

// The first key after every key that starts with p.
function prefixEnd(p) {
	const b = Buffer.from(p);
	for (let i = b.length - 1; i >= 0; i--) {
		if (b[i] !== 0xff) {
			b[i]++;
			return b.subarray(0, i + 1);
		}
	}
	return undefined;
}

// A channel value: its namespace, channel, writer (the checkpoint whose
// put wrote it) and version.
function blobKey(ns, channel, writer, version) {
	return Buffer.concat([B, esc(ns), esc(channel), esc(writer), versionBytes(version)]);
}

function versionBytes(v) {
	return Buffer.from(typeof v === 'number' ? `n${v}` : `s${v}`, 'utf8');
}

// Records: a list of byte strings, each with a 4-byte length.
function pack(parts) {
	const bufs = parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p.buffer, p.byteOffset, p.byteLength)));
	const out = Buffer.allocUnsafe(bufs.reduce((n, b) => n + 4 + b.length, 0));
	let at = 0;
	for (const b of bufs) {
		out.writeUInt32BE(b.length, at);
		b.copy(out, at + 4);
		at += 4 + b.length;
	}
	return out;
}

function unpack(buf) {
	const parts = [];
	let at = 0;
	while (at < buf.length) {
		const n = buf.readUInt32BE(at);
		parts.push(buf.subarray(at + 4, at + 4 + n));
		at += 4 + n;
	}
	return parts;
}

const EMPTY_TYPE = 'empty';
const NO_PARENT = '\u0000';

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

function define(lg) {
const {
	BaseCheckpointSaver, TASKS, WRITES_IDX_MAP, copyCheckpoint, getCheckpointId,
	maxChannelVersion, writesSortKey, compareWritesSortKeys,
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
		this._known = new Set();
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

	// Register a thread's run in the RunIndex once.
	async _thread(threadId) {
		const run = threadRunId(threadId);
		if (this._known.has(run)) return run;
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
		this._known.add(run);
		return run;
	}

	async put(config, checkpoint, metadata, newVersions) {
		const threadId = threadIdOf(config, 'put checkpoint');
		const ns = config.configurable.checkpoint_ns ?? '';
		const parent = config.configurable.checkpoint_id;
		const cp = copyCheckpoint(checkpoint);
		const values = cp.channel_values ?? {};
		delete cp.channel_values;
		const versions = cp.channel_versions ?? {};
		const [[cpType, cpData], [mdType, mdData]] = await Promise.all([
			this.serde.dumpsTyped(cp), this.serde.dumpsTyped(metadata)]);
		const id = String(checkpoint.id);
		const nv = newVersions ?? {};
		const blobs = await Promise.all(Object.entries(nv).map(async ([ch, ver]) => {
			const key = blobKey(ns, ch, id, ver);
			if (!Object.prototype.hasOwnProperty.call(values, ch) || values[ch] === undefined)
				return [key, pack([EMPTY_TYPE, ''])];
			const [t, d] = await this.serde.dumpsTyped(values[ch]);
			return [key, pack([t, d])];
		}));
		const parentId = parent === undefined || parent === null ? NO_PARENT : String(parent);
		const nsKey = esc(ns);
		const run = await this._thread(threadId);
		await this.db.transaction(run, (tx) => {
			// Where each channel's value lives: written by this put (the
			// channels in newVersions), or inherited from the parent at the
			// same version. Two branches of a thread may reuse a version
			// number, so a value is named by its writer too.
			let inherited = {};
			if (parentId !== NO_PARENT) {
				const pr = tx.kv.get(Buffer.concat([C, nsKey, Buffer.from(parentId, 'utf8')]));
				if (pr !== undefined) inherited = JSON.parse(unpack(pr)[5].toString('utf8'));
			}
			const sources = {};
			for (const [ch, ver] of Object.entries(versions)) {
				if (Object.prototype.hasOwnProperty.call(nv, ch)) sources[ch] = [nv[ch], id];
				else if (inherited[ch] !== undefined && inherited[ch][0] === ver) sources[ch] = inherited[ch];
			}
			const record = pack([cpType, cpData, mdType, mdData, parentId,
				JSON.stringify(sources), String(cp.v ?? 0)]);
			tx.kv.put(Buffer.concat([C, nsKey, Buffer.from(id, 'utf8')]), record);
			tx.kv.put(Buffer.concat([I, esc(id), nsKey]), '');
			for (const [k, v] of blobs) tx.kv.put(k, v);
		}, this._txOpts);
		return configOf(threadId, ns, id);
	}

	async putWrites(config, writes, taskId, taskPath) {
		const threadId = threadIdOf(config, 'put writes');
		const ns = config.configurable.checkpoint_ns ?? '';
		const id = config.configurable.checkpoint_id;
		if (id === undefined || id === null)
			throw new Error('Failed to put writes. The passed RunnableConfig is missing a required "checkpoint_id" field in its "configurable" property.');
		const prefix = Buffer.concat([W, esc(ns), esc(String(id)), esc(String(taskId))]);
		const staged = await Promise.all(writes.map(async ([channel, value], i) => {
			const [t, d] = await this.serde.dumpsTyped(value);
			const idx = WRITES_IDX_MAP[channel] || i;
			return [idx, Buffer.concat([prefix, idx4(idx)]), pack([taskPath ?? '', channel, t, d])];
		}));
		const run = await this._thread(threadId);
		await this.db.transaction(run, (tx) => {
			for (const [idx, key, val] of staged) {
				// A regular write is stored once (a retried task keeps its
				// first writes); a special one (error, interrupt...) is
				// replaced.
				if (idx >= 0 && tx.kv.exists(key)) continue;
				tx.kv.put(key, val);
			}
		}, this._txOpts);
	}

	async deleteThread(threadId) {
		const run = threadRunId(threadId);
		this._known.delete(run);
		try {
			await this.db.runindex.delete(run, this._txOpts);
		} catch (e) {
			if (e.code !== 'RS_ENOTFOUND') throw e;
		}
	}

	// Everything of one checkpoint as bytes, read in tx (one snapshot).
	// `record` when the caller has it already.
	_raw(tx, ns, id, record) {
		const nsKey = esc(ns);
		const rec = record ?? tx.kv.get(Buffer.concat([C, nsKey, Buffer.from(id, 'utf8')]));
		if (rec === undefined) return undefined;
		const [cpType, cpData, mdType, mdData, parentB, sourcesB, vB] = unpack(rec);
		const parent = parentB.toString('utf8');
		const sources = JSON.parse(sourcesB.toString('utf8'));
		const channels = Object.keys(sources);
		const blobs = channels.length === 0 ? [] : tx.kv.getMany(channels.map((ch) =>
			blobKey(ns, ch, sources[ch][1], sources[ch][0])));
		const writes = this._writesOf(tx, nsKey, id);
		let sends;
		if (Number(vB.toString('utf8')) < 4 && parent !== NO_PARENT)
			sends = this._writesOf(tx, nsKey, parent).filter((w) => w.channel === TASKS);
		return {
			ns, id, cpType, cpData, mdType, mdData, channels, blobs, writes, sends,
			parent: parent === NO_PARENT ? undefined : parent,
		};
	}

	_writesOf(tx, nsKey, id) {
		const prefix = Buffer.concat([W, nsKey, esc(id)]);
		const out = [];
		let resume;
		for (;;) {
			const page = tx.kv.scan({ start: prefix, end: prefixEnd(prefix), resume, limit: PAGE });
			for (const { key, value } of page.items) {
				const [taskId, at] = unesc(key, prefix.length);
				const idx = key.readUInt32BE(at) - 0x80000000;
				const [taskPath, channel, t, d] = unpack(value);
				out.push({ taskId, idx, taskPath: taskPath.toString('utf8'), channel: channel.toString('utf8'), t: t.toString('utf8'), d });
			}
			if (!page.more) break;
			resume = page.items[page.items.length - 1].key;
		}
		return out;
	}

	async _tuple(threadId, raw, metadata) {
		const serde = this.serde;
		const checkpoint = await serde.loadsTyped(raw.cpType.toString('utf8'), raw.cpData);
		const values = {};
		await Promise.all(raw.channels.map(async (ch, i) => {
			const b = raw.blobs[i];
			if (b === undefined) return;
			const [t, d] = unpack(b);
			const type = t.toString('utf8');
			if (type === EMPTY_TYPE) return;
			values[ch] = await serde.loadsTyped(type, d);
		}));
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
		const writes = raw.writes.slice().sort((a, b) =>
			compareWritesSortKeys(writesSortKey(a.taskPath, a.taskId, a.idx),
				writesSortKey(b.taskPath, b.taskId, b.idx)));
		const pendingWrites = await Promise.all(writes.map(async (w) =>
			[w.taskId, w.channel, await serde.loadsTyped(w.t, w.d)]));
		const tuple = {
			config: configOf(threadId, raw.ns, raw.id),
			checkpoint,
			metadata: metadata ?? await serde.loadsTyped(raw.mdType.toString('utf8'), raw.mdData),
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
		const run = threadRunId(threadId);
		const raw = this.db.read(run, (tx) => {
			if (id) return this._raw(tx, ns, String(id));
			const prefix = Buffer.concat([C, esc(ns)]);
			const page = tx.kv.scan({ start: prefix, end: prefixEnd(prefix), reverse: true, limit: 1 });
			if (page.items.length === 0) return undefined;
			const { key, value } = page.items[0];
			return this._raw(tx, ns, key.subarray(prefix.length).toString('utf8'), value);
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
			const run = threadRunId(threadId);
			// By namespace: "c esc(ns)"; over every namespace: "i".
			const prefix = nsWanted === undefined ? I : Buffer.concat([C, esc(nsWanted)]);
			let end = prefixEnd(prefix);
			if (beforeId !== undefined)
				end = Buffer.concat([prefix, nsWanted === undefined ? esc(String(beforeId)) : Buffer.from(String(beforeId), 'utf8')]);
			let resume;
			for (;;) {
				const page = this.db.kv.scan(run, { start: prefix, end, resume, limit: PAGE, reverse: true });
				for (const { key, value } of page.items) {
					let ns, id, record;
					if (nsWanted === undefined) {
						const [i, at] = unesc(key, 1);
						id = i;
						ns = unesc(key, at)[0];
					} else {
						ns = nsWanted;
						id = key.subarray(prefix.length).toString('utf8');
						record = value;
					}
					if (idWanted && id !== idWanted) continue;
					if (record === undefined)
						record = this.db.kv.get(run, Buffer.concat([C, esc(ns), Buffer.from(id, 'utf8')]));
					if (record === undefined) continue;
					const [, , mdType, mdData] = unpack(record);
					const metadata = await this.serde.loadsTyped(mdType.toString('utf8'), mdData);
					if (filter && !Object.entries(filter).every(([k, v]) => metadata[k] === v)) continue;
					const raw = this.db.read(run, (tx) => this._raw(tx, ns, id));
					if (raw === undefined) continue; // deleted meanwhile
					yield await this._tuple(threadId, raw, metadata);
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
