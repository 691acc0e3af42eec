// SPDX-License-Identifier: MIT
// Type declarations of runstate's Node.js binding (index.js). Reads are
// synchronous; every write, open, close, flush and checkpoint returns a
// promise. A transaction is a synchronous callback (Db.transaction).

/** A run id: the 36-character UUID text form. */
export type RunId = string;
/** Bytes in: a string (UTF-8) or any ArrayBuffer view (read, not kept). */
export type BytesIn = string | Uint8Array | ArrayBufferView | ArrayBuffer;
/** A KV value to write: bytes, or an array of parts stored as their
 *  concatenation (joined in the native call: no buffer is built in
 *  JavaScript first). */
export type ValueIn = BytesIn | BytesIn[];
export type Durability = 'inmemory' | 'buffered' | 'strict';
export type RunStatus = 'active' | 'paused' | 'completed' | 'failed' | 'cancelled' | 'archived';

/** Values come out as Buffers (copies), or as strings with encoding 'utf8'. */
export interface ReadOptions { encoding?: 'buffer' | 'utf8' }
export interface WriteOptions {
  /** Override the database's durability for this commit: 'strict' on a
   *  Buffered database waits for an fdatasync (on the libuv pool),
   *  'buffered' on a Strict one does not. */
  durability?: Durability;
}

export class RunstateError extends Error {
  /** The RS_E* name, e.g. 'RS_ECONFLICT'. */
  code: string;
  /** The negative C code, e.g. -5. */
  errno: number;
  /** RS_ETRANSITION from runindex.transition: the status the run is in. */
  from?: RunStatus;
}

export const errors: Readonly<Record<string, number>>;
export const DURABILITY: Readonly<Record<Durability, number>>;

export interface OpenOptions {
  /** Default: 'inmemory' without a path, 'buffered' with one. */
  durability?: Durability;
  /** Database directory (Buffered and Strict). */
  path?: string;
  /** RS_DB_F_SALVAGE: open a damaged log by cutting it at the damage. */
  salvage?: boolean;
  hashSeed?: number | bigint;
  flushIntervalMs?: number;
  flushBatchCommits?: number;
  flushBatchBytes?: number;
  /** Infinity: never checkpoint automatically. */
  checkpointWalBytes?: number;
  segmentBytes?: number;
}

export function open(options?: OpenOptions): Promise<Db>;
export function runId(): RunId;
export function parseRunId(s: string): RunId;
export function isNilRunId(s: string): boolean;
export function transitionAllowed(from: RunStatus, to: RunStatus): boolean;
export function version(): string;
export function describeError(code: number): { name: string; message: string };

export interface Page<T> { items: T[]; more: boolean }
export interface CursorPage<T> extends Page<T> { cursor: number }
export interface KvEntry<K = Buffer | string, V = Buffer | string> { key: K; value: V }

export interface ScanOptions extends ReadOptions {
  start?: BytesIn;
  end?: BytesIn;
  resume?: BytesIn;
  limit?: number;
  reverse?: boolean;
  keyEncoding?: 'buffer' | 'utf8';
}
export interface ListOptions extends ReadOptions {
  prefix?: BytesIn;
  after?: BytesIn;
  limit?: number;
  keyEncoding?: 'buffer' | 'utf8';
}
export interface PageOptions extends ReadOptions { cursor?: number; limit?: number }

export interface Event {
  seq: number;
  type: string;
  payload: Buffer | string;
  timestampNs: bigint;
  prevHash: Buffer;
  hash: Buffer;
  /** Appended by the current transaction and not committed yet. */
  pending: boolean;
}
export interface EventReceipt { seq: number; timestampNs: bigint; hash: Buffer }
export interface PendingEventReceipt {
  pending: boolean;
  seq: number | undefined;
  timestampNs: bigint | undefined;
  hash: Buffer | undefined;
}

export interface Cell { name: string; value: Buffer | string; version: number }

/** A trace id: a number once committed, a BigInt pending handle inside the
 *  transaction that records it. */
export type TraceId = number | bigint;
export interface Trace {
  id: TraceId;
  parent: TraceId | null;
  type: string;
  payload: Buffer | string;
  timestampNs: bigint;
  tags: string[];
  pending: boolean;
  /** Only in tree(). */
  depth?: number;
}
export interface TraceIn {
  type: string;
  payload?: BytesIn;
  tags?: string[];
  parent?: TraceId | PendingTraceReceipt | null;
}
export interface PendingTraceReceipt { pending: boolean; handle: bigint; id: number | undefined }

export interface RunInfo {
  id: RunId;
  status: RunStatus;
  parent: RunId | null;
  name: string | null;
  metadata: Buffer | string;
  tags: string[];
  createdNs: bigint;
  updatedNs: bigint;
}
export interface RunCreate {
  id?: RunId;
  name?: string;
  parent?: RunId;
  tags?: string[];
  metadata?: BytesIn;
}

export interface DbStats {
  checkpointUsed: boolean;
  checkpointRuns: number;
  checkpointEntries: number;
  recordsReplayed: number;
  recordsSkipped: number;
  bytesTruncated: number;
  bytesSalvaged: number;
  segmentsRead: number;
  recoveryNs: number;
  walRecords: number;
  walBytes: number;
  walSyncs: number;
  checkpoints: number;
  walBytesSinceCheckpoint: number;
}

/** A KV cursor. Each move returns [key, value] or undefined. */
export class Cursor {
  seek(key: BytesIn, opts?: { le?: boolean }): [Buffer | string, Buffer | string] | undefined;
  first(prefix?: BytesIn): [Buffer | string, Buffer | string] | undefined;
  last(prefix?: BytesIn): [Buffer | string, Buffer | string] | undefined;
  next(): [Buffer | string, Buffer | string] | undefined;
  prev(): [Buffer | string, Buffer | string] | undefined;
  close(): void;
}

export interface TransactionOptions extends WriteOptions {
  readonly?: boolean;
  /** Attempts in all while the commit conflicts (default 16). */
  maxAttempts?: number;
}

export class Db {
  readonly durability: Durability;
  readonly path: string | null;
  readonly closed: boolean;
  readonly kv: Kv;
  readonly eventlog: EventLog;
  readonly statecell: StateCell;
  readonly tracestore: TraceStore;
  readonly runindex: RunIndex;

  /** Runs fn(tx) synchronously in a transaction on `run`, commits it, and
   *  runs it again on RS_ECONFLICT. fn must not be async. */
  transaction<T>(run: RunId, fn: (tx: Tx) => T, opts?: TransactionOptions): Promise<T>;
  /** fn(tx) in a read-only transaction (one snapshot), synchronously. */
  read<T>(run: RunId, fn: (tx: Tx) => T): T;
  flush(): Promise<void>;
  checkpoint(): Promise<void>;
  close(): Promise<void>;
  stats(): DbStats;
  runVersion(run: RunId): number;
}

export interface Kv {
  get(run: RunId, key: BytesIn): Buffer | undefined;
  get(run: RunId, key: BytesIn, opts: { encoding: 'utf8' }): string | undefined;
  get(run: RunId, key: BytesIn, opts?: ReadOptions): Buffer | string | undefined;
  exists(run: RunId, key: BytesIn): boolean;
  getMany(run: RunId, keys: BytesIn[], opts?: ReadOptions): Array<Buffer | string | undefined>;
  list(run: RunId, opts?: ListOptions): Page<KvEntry>;
  scan(run: RunId, opts?: ScanOptions): Page<KvEntry>;
  /** A cursor on a snapshot taken now; close it. */
  cursor(run: RunId, opts?: { encoding?: 'buffer' | 'utf8'; keyEncoding?: 'buffer' | 'utf8' }): Cursor;
  put(run: RunId, key: BytesIn, value: ValueIn, opts?: WriteOptions): Promise<void>;
  /** Resolves to whether the key existed. */
  delete(run: RunId, key: BytesIn, opts?: WriteOptions): Promise<boolean>;
  /** Several writes in one commit, staged and committed by one native
   *  call. A putIfAbsent reads its key (the commit is retried if that read
   *  conflicts). Resolves to whether anything was written (false when
   *  every putIfAbsent found its key: then nothing is committed). */
  write(run: RunId, ops: KvWriteOp[], opts?: WriteOptions): Promise<boolean>;
}

export type KvWriteOp =
  | ['put', BytesIn, ValueIn]
  | ['putIfAbsent', BytesIn, ValueIn]
  | ['delete', BytesIn];

export interface EventLog {
  append(run: RunId, type: string, payload?: BytesIn, opts?: WriteOptions): Promise<EventReceipt>;
  read(run: RunId, seq: number, opts?: ReadOptions): Event | undefined;
  /** Events with start <= seq < end (end: Infinity by default). */
  range(run: RunId, start?: number, end?: number, opts?: ReadOptions & { limit?: number }): Event[];
  len(run: RunId): number;
  head(run: RunId): { len: number; hash: Buffer };
  byType(run: RunId, type: string, opts?: PageOptions): CursorPage<Event>;
  verify(run: RunId): { ok: boolean; badSeq: number | null };
}

export interface StateCell {
  init(run: RunId, name: string, value: BytesIn, opts?: WriteOptions): Promise<number>;
  read(run: RunId, name: string, opts?: ReadOptions): { value: Buffer | string; version: number } | undefined;
  set(run: RunId, name: string, value: BytesIn, opts?: WriteOptions): Promise<number>;
  cas(run: RunId, name: string, expectedVersion: number, value: BytesIn, opts?: WriteOptions): Promise<number>;
  transition(run: RunId, name: string,
             fn: (value: Buffer | string, version: number) => BytesIn | undefined,
             opts?: WriteOptions & ReadOptions): Promise<number>;
  delete(run: RunId, name: string, opts?: WriteOptions): Promise<boolean>;
  list(run: RunId, opts?: ListOptions): Page<Cell>;
  scan(run: RunId, opts?: ScanOptions): Page<Cell>;
}

export interface TraceStore {
  record(run: RunId, trace: TraceIn, opts?: WriteOptions): Promise<number>;
  get(run: RunId, id: TraceId, opts?: ReadOptions): Trace | undefined;
  byType(run: RunId, type: string, opts?: PageOptions): CursorPage<Trace>;
  byTag(run: RunId, tag: string, opts?: PageOptions): CursorPage<Trace>;
  children(run: RunId, parent: TraceId, opts?: PageOptions): CursorPage<Trace>;
  byTime(run: RunId, t0: number | bigint, t1?: number | bigint, opts?: PageOptions): CursorPage<Trace>;
  /** undefined when there is no such root. */
  tree(run: RunId, root: TraceId, opts?: ReadOptions & { maxDepth?: number }): Trace[] | undefined;
}

export interface RunIndex {
  create(run?: RunCreate, opts?: WriteOptions): Promise<RunId>;
  get(id: RunId, opts?: ReadOptions): RunInfo | undefined;
  getByName(name: string, opts?: ReadOptions): RunInfo | undefined;
  list(opts?: PageOptions): CursorPage<RunInfo>;
  byStatus(status: RunStatus, opts?: PageOptions): CursorPage<RunInfo>;
  byTag(tag: string, opts?: PageOptions): CursorPage<RunInfo>;
  byParent(parent: RunId, opts?: PageOptions): CursorPage<RunInfo>;
  /** Resolves to the previous status. */
  transition(id: RunId, to: RunStatus, opts?: WriteOptions): Promise<RunStatus>;
  delete(id: RunId, opts?: WriteOptions): Promise<void>;
}

/** The object a transaction callback gets; valid only during the callback. */
export interface Tx {
  snapshotVersion(): number;
  kv: {
    put(key: BytesIn, value: ValueIn): void;
    get(key: BytesIn, opts?: ReadOptions): Buffer | string | undefined;
    delete(key: BytesIn): boolean;
    exists(key: BytesIn): boolean;
    getMany(keys: BytesIn[], opts?: ReadOptions): Array<Buffer | string | undefined>;
    list(opts?: ListOptions): Page<KvEntry>;
    scan(opts?: ScanOptions): Page<KvEntry>;
    cursor(opts?: { encoding?: 'buffer' | 'utf8'; keyEncoding?: 'buffer' | 'utf8' }): Cursor;
  };
  eventlog: {
    append(type: string, payload?: BytesIn): PendingEventReceipt;
    read(seq: number, opts?: ReadOptions): Event | undefined;
    range(start?: number, end?: number, opts?: ReadOptions & { limit?: number }): Event[];
    len(): number;
    head(): { len: number; hash: Buffer };
    byType(type: string, opts?: PageOptions): CursorPage<Event>;
    verify(): { ok: boolean; badSeq: number | null };
  };
  statecell: {
    init(name: string, value: BytesIn): number;
    read(name: string, opts?: ReadOptions): { value: Buffer | string; version: number } | undefined;
    set(name: string, value: BytesIn): number;
    cas(name: string, expectedVersion: number, value: BytesIn): number;
    transition(name: string, fn: (value: Buffer | string, version: number) => BytesIn | undefined,
               opts?: ReadOptions): number;
    delete(name: string): boolean;
    list(opts?: ListOptions): Page<Cell>;
    scan(opts?: ScanOptions): Page<Cell>;
  };
  tracestore: {
    record(trace: TraceIn): PendingTraceReceipt;
    get(id: TraceId | PendingTraceReceipt, opts?: ReadOptions): Trace | undefined;
    byType(type: string, opts?: PageOptions): CursorPage<Trace>;
    byTag(tag: string, opts?: PageOptions): CursorPage<Trace>;
    children(parent: TraceId | PendingTraceReceipt, opts?: PageOptions): CursorPage<Trace>;
    byTime(t0: number | bigint, t1?: number | bigint, opts?: PageOptions): CursorPage<Trace>;
    tree(root: TraceId | PendingTraceReceipt, opts?: ReadOptions & { maxDepth?: number }): Trace[] | undefined;
  };
}
