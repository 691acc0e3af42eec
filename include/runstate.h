/* SPDX-License-Identifier: MIT */
/**
 * @file runstate.h
 * runstate: the in-process state substrate for AI-agent runtimes.
 *
 * runstate keeps the state of many agent runs in process memory and gives
 * each run real transactions over it. A run is named by a 16-byte RunId
 * (a UUIDv4). Everything stored belongs to exactly one run; a transaction
 * belongs to exactly one run and is atomic within it. There is no cross-run
 * atomicity, and the API cannot express a cross-run write: a transaction is
 * bound to its run when it begins.
 *
 * Reads observe one committed, consistent snapshot of the run (MVCC): no
 * dirty, torn or mixed-version reads. A transaction records what it read,
 * including keys it found absent, and commit fails with RS_ECONFLICT if any
 * of it changed since the snapshot (optimistic concurrency, first committer
 * wins). Blind writes never conflict. Read-only transactions never conflict
 * and take no lock.
 *
 * Every operation comes in two forms: one-shot on a run (`rs_kv_get(db, run,
 * ...)`, its own implicit transaction; reads take a lock-free fast path that
 * is observationally equivalent to a read-only transaction started at the
 * same instant) and inside an explicit transaction (`rs_txn_kv_get(txn,
 * ...)`).
 *
 * This header reads top to bottom: conventions, errors, limits and byte
 * views, run ids, the database (options, open, close, flush, checkpoint,
 * statistics), transactions, then the five primitives: KV, EventLog,
 * StateCell, TraceStore, RunIndex. Writing a durability backend of your
 * own is in <runstate/durability.h>, which this header includes.
 *
 * Caveats:
 *  - A long-lived transaction (read-only ones included) pins the versions
 *    its snapshot can see: overwritten values of its run are kept until it
 *    ends, so memory grows with every write to the run meanwhile. Keep
 *    transactions short. Its reads stay cheap: a read at a snapshot visits
 *    O(log n) versions of a key that n newer commits overwrote (39 under
 *    100,000; docs/engine.md), never all of them.
 *  - Do not use a database across fork() without exec(): the child has
 *    none of the parent's threads (RCU reclamation, WAL flushing) and
 *    inherits locks in whatever state they were. Open databases after
 *    fork(), in the process that uses them. The child does not keep the
 *    parent's directory locks (its copies of them are closed at fork, and
 *    rs_db_close() unlocks before it closes), so the parent can close and
 *    reopen a directory while the child runs, and the child may open
 *    directories the parent does not hold.
 *  - What survives a crash (process kill or power loss) depends on the
 *    durability mode (rs_durability):
 *    RS_DURABILITY_INMEMORY keeps nothing (nor after close).
 *    RS_DURABILITY_BUFFERED keeps every commit older than its loss window:
 *    commits acknowledged within the last flush_interval_ms (plus the one
 *    flush in progress), never more than 2 x flush_batch_commits commits
 *    or 2 x flush_batch_bytes bytes, may be lost; what survives is, per
 *    run, a prefix of its commits. RS_DURABILITY_STRICT keeps every
 *    acknowledged commit. rs_db_close() and rs_db_flush() leave nothing
 *    unwritten.
 *  - A transaction or database handle must not be used once consumed
 *    (rs_txn_commit(), rs_txn_abort(), rs_db_close()): that is undefined
 *    behaviour, and RS_EDONE is only a best-effort diagnostic (see
 *    "Handle lifetime" below).
 *  - One process per database directory: a second rs_db_open() of the same
 *    directory, from this process or another, fails with RS_EBUSY.
 *  - The process using runstate must not itself use liburcu's "memb"
 *    flavor on the same threads with different registration rules.
 *  - Archived runs (RunIndex) are read-only: every write to their data
 *    fails with RS_EARCHIVED.
 */
#ifndef RUNSTATE_H
#define RUNSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Conventions                                                         */
/* ------------------------------------------------------------------ */

/*
 * Names. Functions and types start with rs_, macros and enum constants
 * with RS_. Each primitive has one prefix: rs_kv_, rs_eventlog_,
 * rs_statecell_, rs_tracestore_, rs_runindex_; inside a transaction the
 * same operation is rs_txn_<primitive>_ (rs_kv_get, rs_txn_kv_get).
 * Records are named for what they hold (rs_event, rs_trace, rs_run_info,
 * rs_run_status), and a function that only reads such a record carries its
 * name (rs_trace_tag, rs_run_info_tag, rs_run_status_name). Getters are
 * rs_<object>_<property>, without get_ (rs_db_stat, rs_db_run_version,
 * rs_txn_snapshot_version, rs_eventlog_len); "get" names the read of a
 * stored item by its key (rs_kv_get, rs_tracestore_get, rs_runindex_get).
 * Options and vtables start with `uint32_t version` and come with an
 * initializer (RS_DB_OPTIONS_INIT, RS_DURABILITY_OPS_INIT).
 *
 * Parameters. Inputs come first, led by what the call acts on (db and
 * run, or txn). Only a function that constructs a handle (rs_db_open,
 * rs_txn_begin) or produces a value from nothing (rs_run_id_generate,
 * rs_run_id_parse) takes its one output first, named `out`. Every other
 * output comes after the inputs and is named *_out (version_out,
 * stats_out); among them a caller-owned buffer is the pair (buf, cap),
 * followed by the size it took (len_out or needed_out). An in/out
 * parameter (a paging cursor) sits where its input role puts it. A
 * callback and its context (cb, ctx, or fn, ctx) come last. The functions
 * of a vtable (rs_durability_ops, rs_allocator) take their own ctx first,
 * as a method takes its object. A pointer documented as "may be NULL" (or
 * "NULL for defaults") is optional; any other is required (NULL is
 * RS_EINVAL). Outputs are written only on success unless the doc says
 * otherwise.
 *
 * Memory at the boundary. Every pointer crossing it is one of three kinds.
 *  1. Caller-owned buffer (buf, cap): the library copies into it. When it
 *     is too small the call returns RS_ENOSPC, copies nothing, and sets
 *     its len_out or needed_out to the size needed: call again with a
 *     buffer that large.
 *  2. Borrowed view (rs_bytes, and the views inside rs_event, rs_trace,
 *     rs_run_info): read-only memory of the library, never freed by the
 *     caller, valid for the lifetime the function states: during the
 *     callback it is passed to, or until the transaction ends.
 *  3. Library handle (rs_db, rs_txn): opaque, released by its own function
 *     (rs_db_close(); rs_txn_commit() or rs_txn_abort()).
 * The library never returns memory the caller must free().
 *
 * Callbacks. A nonzero return from a callback stops the operation, which
 * returns that value unchanged (a positive one too). A callback passed to
 * a call (cb or fn) runs on the calling thread, before the call returns.
 *
 * Errors. A fallible call returns int: 0 (RS_OK) or a negative RS_E* code
 * (below; rs_strerror() gives its message), never errno and never a
 * positive code of its own. Each function's @return lists the codes it
 * can return and when. A rejected call changes nothing. Two codes apply to
 * whole families and are listed with each member:
 *  - every call that commits can fail in the durability backend: RS_EIO
 *    (a write or sync of the log failed: that commit and every later one
 *    fail with RS_EIO, and so do rs_db_flush() and rs_db_checkpoint(),
 *    until the database is closed and opened again; reads keep working
 *    and see exactly the commits that returned 0) or
 *    RS_ENOMEM for the built-in log, and whatever negative code a custom
 *    rs_durability_ops.commit returns;
 *  - every write to the data of a run fails with RS_EARCHIVED once the run
 *    is archived (RunIndex): one-shot writes at once, transactions at
 *    rs_txn_commit() (or rs_txn_run()).
 *
 * Lives of a run id. rs_runindex_delete() ends a run's life; the next
 * write to the id begins its next one, empty. Nothing of an earlier life
 * ever repeats in a later one of the same id: not a commit version
 * (rs_db_run_version()), an EventLog sequence, a trace id or a StateCell
 * version, so a value read before the delete (a version held for a
 * compare-and-swap, a sequence a reader stopped at) can never match the
 * new life by accident. That holds across close and reopen. The rule: each
 * life starts at a base version B, and its commit versions are B + 1,
 * B + 2, ..., its sequences and trace ids B, B + 1, ... (dense from B),
 * and a cell first created in it gets version B + 1. B is 0 for every run
 * of a database in which no run was ever deleted; otherwise it is the
 * database's drop mark when the life's first write happened: the version
 * the last delete gave its run's tombstones, which is above every version
 * and counter that run ever used and above the mark before it. So, once a
 * run has been deleted, a run id never seen before starts at that mark
 * too, not at 0. Nothing is kept per deleted run: its memory is given back
 * once no transaction can see it.
 *
 * Thread safety. Every function's doc ends with one of these terms:
 *  - any thread: callable from any number of threads at once;
 *  - one thread per handle: the handle may move between threads but must
 *    not be used by two at once;
 *  - owner thread: only on the thread that created the handle (a
 *    transaction belongs to the thread that began it);
 *  - exclusive: nothing else in flight on the database (rs_db_close()).
 * The library registers each calling thread with its RCU implementation on
 * first use and unregisters it when the thread exits. Callers never see
 * RCU. Every database starts one reclaimer thread in rs_db_open() and
 * joins it in rs_db_close(): it waits for RCU grace periods, so that later
 * commits can free what earlier ones replaced or deleted. On Linux it runs
 * in the SCHED_IDLE class: it uses a core only when the core would
 * otherwise idle, or when a committer waits for it.
 *
 * Handle lifetime (the stale-handle rule). rs_txn_commit() and
 * rs_txn_abort() consume their transaction, whatever they return;
 * rs_db_close() consumes the database and every transaction still open on
 * it. Any later use of a consumed handle, by any function, is undefined
 * behaviour, as with mdb_txn_commit(). Transaction contexts are not freed
 * when consumed: they go back to a per-thread pool, so a stale rs_txn
 * pointer may already name a newer transaction begun by the same thread,
 * and a call through it would act on that transaction. RS_EDONE is
 * returned only on a best-effort basis, when the library happens to notice
 * that the context is idle; never rely on it.
 *
 * Experimental API. Declarations under #ifdef RS_EXPERIMENTAL_API are
 * outside the API and ABI promise: they may change or disappear in any
 * release, and exist for runstate's own benchmark suite and tests (zstd's
 * ZSTD_STATIC_LINKING_ONLY idea). Define RS_EXPERIMENTAL_API before
 * including this header to see them.
 */

/* ------------------------------------------------------------------ */
/* Export and version                                                  */
/* ------------------------------------------------------------------ */

#if defined(_WIN32)
#if defined(RS_BUILDING_LIBRARY)
#define RS_API __declspec(dllexport)
#else
#define RS_API
#endif
#elif defined(__GNUC__) || defined(__clang__)
#define RS_API __attribute__((visibility("default")))
#else
#define RS_API
#endif

#define RS_VERSION_MAJOR 0
#define RS_VERSION_MINOR 1
#define RS_VERSION_PATCH 0

/** M*10000 + m*100 + p. */
#define RS_VERSION_NUMBER \
	(RS_VERSION_MAJOR * 10000 + RS_VERSION_MINOR * 100 + RS_VERSION_PATCH)
#define RS__STR2(x) #x
#define RS__STR(x) RS__STR2(x)
#define RS_VERSION_STRING         \
	RS__STR(RS_VERSION_MAJOR) \
	"." RS__STR(RS_VERSION_MINOR) "." RS__STR(RS_VERSION_PATCH)
/** True when the headers are at least version M.m.p. */
#define RS_VERSION_CHECK(M, m, p) \
	(RS_VERSION_NUMBER >= ((M)*10000 + (m)*100 + (p)))

/**
 * The library's version as RS_VERSION_NUMBER, as built.
 * Thread safety: any thread.
 */
RS_API unsigned rs_version(void);

/**
 * The library's version as "M.m.p", a static string.
 * Thread safety: any thread.
 */
RS_API const char *rs_version_string(void);

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

/**
 * Every error code, in ABI order: append only, never reorder. RS_<NAME>
 * has the value -(row index + 1).
 */
#define RS_ERROR_MAP(XX)                                                       \
	XX(EINVAL, "invalid argument")                                         \
	XX(ENOMEM, "out of memory")                                            \
	XX(ENOTFOUND, "not found")                                             \
	XX(EEXIST, "already exists")                                           \
	XX(ECONFLICT, "transaction conflict: data it read has changed; retry") \
	XX(EMISMATCH, "version mismatch (compare-and-swap failed)")            \
	XX(ENOSPC, "buffer too small; the needed size was returned")           \
	XX(ETOOBIG, "key, value or name longer than the documented limit")     \
	XX(EDONE, "transaction already finished")                              \
	XX(ERUN, "run mismatch: the operation names another run")              \
	XX(EREADONLY, "write in a read-only transaction or database")          \
	XX(EIO, "I/O error; the database no longer accepts writes")            \
	XX(ECORRUPT, "corrupt data on disk")                                   \
	XX(EBUSY, "database directory is in use by another handle")            \
	XX(ENOTSUP, "not supported by this build or configuration")            \
	XX(EVERSION, "unsupported struct or format version")                   \
	XX(ETRANSITION, "status transition not allowed")                       \
	XX(EARCHIVED, "run is archived and read-only")                         \
	XX(EUTF8, "text is not valid UTF-8")                                   \
	XX(ERANGE, "value out of range")                                       \
	XX(EFENCED, "fenced: another writer took over this database's "        \
		    "history; the commit was rejected")

/** @cond internal */
enum rs__error_index {
#define RS__XX(name, msg) RS__IDX_##name,
	RS_ERROR_MAP(RS__XX)
#undef RS__XX
	RS__ERROR_COUNT
};
/** @endcond */

/** Return codes. 0 is success; every error is negative. */
typedef enum rs_error {
	RS_OK = 0,
#define RS__XX(name, msg) RS_##name = -(RS__IDX_##name + 1),
	RS_ERROR_MAP(RS__XX)
#undef RS__XX
} rs_error;

/**
 * The message for a return code: a static string, never NULL. Unknown codes
 * (and positive values) give "unknown error".
 * Thread safety: any thread.
 */
RS_API const char *rs_strerror(int rc);

/**
 * The symbolic name of a return code ("RS_ECONFLICT"), a static string,
 * never NULL ("RS_UNKNOWN" for unknown codes).
 * Thread safety: any thread.
 */
RS_API const char *rs_errname(int rc);

/* ------------------------------------------------------------------ */
/* Limits and byte views                                               */
/* ------------------------------------------------------------------ */

/** A read-only view of bytes. A NULL data pointer means "absent". */
typedef struct rs_bytes {
	const void *data;
	size_t len;
} rs_bytes;

/** Longest key, in bytes. Keys are 1..RS_KEY_MAX bytes. */
#define RS_KEY_MAX 1024u
/** Longest value, in bytes. Values may be empty. Also the limit of an
 *  event or trace payload, a StateCell value and a run's metadata. */
#define RS_VALUE_MAX (16u * 1024u * 1024u)

/*
 * Text limits. Names, types and tags are text: 1..max bytes of well-formed
 * UTF-8 (RFC 3629: no overlong forms, surrogates or code points above
 * U+10FFFF), compared bytewise. An empty one is RS_EINVAL, a longer one
 * RS_ETOOBIG, a malformed one RS_EUTF8.
 */
/** Longest StateCell name or run name, in bytes. */
#define RS_NAME_MAX 256u
/** Longest event type or trace type, in bytes. */
#define RS_TYPE_MAX 256u
/** Longest tag of a trace or a run, in bytes. */
#define RS_TAG_MAX 256u
/** Most tags on one trace or one run (duplicates are RS_EINVAL). */
#define RS_TAGS_MAX 32u

/** Length of an event hash (BLAKE2b-256), in bytes. */
#define RS_HASH_LEN 32u

/* ------------------------------------------------------------------ */
/* Run ids                                                             */
/* ------------------------------------------------------------------ */

/**
 * A run's id: 16 bytes, a UUID. The all-zero (nil) id is reserved by the
 * library and rejected by data operations with RS_EINVAL.
 */
typedef struct rs_run_id {
	uint8_t bytes[16];
} rs_run_id;

/** Length of the text form, "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx". */
#define RS_RUN_ID_STRLEN 36u

/**
 * Generate a random (version 4) run id from the operating system's
 * random source.
 *
 * @param[out] out  The new id.
 * @return 0, RS_EINVAL (out is NULL) or RS_EIO (no random source).
 * Thread safety: any thread.
 */
RS_API int rs_run_id_generate(rs_run_id *out);

/**
 * Parse the 36-character text form (hex digits of either case, hyphens at
 * positions 8, 13, 18 and 23). Any UUID version is accepted; the nil id
 * parses but stays reserved.
 *
 * @param[out] out  The id; unchanged on error.
 * @param[in]  str  The text; need not be NUL-terminated.
 * @param[in]  len  Its length; must be RS_RUN_ID_STRLEN.
 * @return 0 or RS_EINVAL (NULL argument, wrong length or a bad character).
 * Thread safety: any thread.
 */
RS_API int rs_run_id_parse(rs_run_id *out, const char *str, size_t len);

/**
 * Write the text form of an id, lower-case, NUL-terminated.
 *
 * @param[in]  id   The id.
 * @param[out] buf  Caller-owned buffer of at least RS_RUN_ID_STRLEN + 1.
 * @param[in]  cap  Its capacity.
 * @return 0, RS_EINVAL (NULL argument) or RS_ENOSPC (cap too small;
 *         nothing written).
 * Thread safety: any thread.
 */
RS_API int rs_run_id_format(const rs_run_id *id, char *buf, size_t cap);

/**
 * Whether an id is the nil (all-zero) id. A NULL id is reported as nil.
 * Thread safety: any thread.
 */
RS_API bool rs_run_id_is_nil(const rs_run_id *id);

/* ------------------------------------------------------------------ */
/* Database                                                            */
/* ------------------------------------------------------------------ */

/** Opaque database handle. */
typedef struct rs_db rs_db;

/**
 * Durability mode of a database (and, where allowed, of one commit; see
 * rs_txn_set_durability()). Buffered and Strict keep a write-ahead log (WAL)
 * of one record per committed write transaction in the database directory,
 * plus checkpoints; rs_db_open() recovers from them (docs/durability.md).
 *
 * - RS_DURABILITY_INMEMORY: no files at all; everything is gone after
 *   close or a crash.
 * - RS_DURABILITY_BUFFERED: a commit appends its record to an in-memory
 *   buffer and returns. A background thread writes and fdatasyncs the
 *   buffer every flush_interval_ms, and sooner once flush_batch_commits
 *   records or flush_batch_bytes bytes are waiting. Loss window after a
 *   crash: the commits acknowledged within the last flush_interval_ms plus
 *   the duration of the flush in progress; never more than
 *   2 x flush_batch_commits commits or 2 x flush_batch_bytes bytes (a commit
 *   waits for the flusher rather than exceed that). A crash never leaves
 *   part of a transaction, and per run what survives is a prefix of its
 *   commits. rs_db_flush() and rs_db_close() write and sync everything.
 * - RS_DURABILITY_STRICT: a commit returns only after its record is on
 *   stable storage (fdatasync), so every acknowledged commit survives kill -9
 *   and power loss (given a device that honors cache flushes). Each commit
 *   costs at most one fdatasync; concurrent commits on different runs share
 *   one (group commit). Commits of one run are serialized, fdatasync
 *   included.
 */
typedef enum rs_durability {
	RS_DURABILITY_INMEMORY = 0,
	RS_DURABILITY_BUFFERED = 1,
	RS_DURABILITY_STRICT = 2
} rs_durability;

/**
 * Storage engine. RS_STORAGE_SHARDED (the default and the only engine of
 * the stable API) keeps one lock-free, multi-versioned hash table per run.
 *
 * Experimental (RS_EXPERIMENTAL_API, outside the ABI promise; for the
 * benchmark suite and the tests): RS_STORAGE_UNIFIED is the M3 baseline
 * design, kept so benchmarks can compare in one run and tests can run on
 * both: one global reader-writer lock over one ordered map of all runs,
 * snapshots by deep copy (O(keys in the run)). Same semantics.
 */
typedef enum rs_storage {
	RS_STORAGE_SHARDED = 0,
#ifdef RS_EXPERIMENTAL_API
	RS_STORAGE_UNIFIED = 1,
#endif
} rs_storage;

/** A durability backend of your own: see <runstate/durability.h>. */
typedef struct rs_durability_ops rs_durability_ops;

/**
 * Allocation hooks. Either all three functions are set or none (NULL: the
 * C library's malloc/realloc/free). `ctx` is passed to each. The functions
 * must be thread-safe (every thread that uses the database may call them)
 * and stay valid until rs_db_close() returns.
 */
typedef struct rs_allocator {
	void *(*malloc_fn)(void *ctx, size_t size);
	void *(*realloc_fn)(void *ctx, void *ptr, size_t size);
	void (*free_fn)(void *ctx, void *ptr);
	void *ctx;
} rs_allocator;

#define RS_DB_OPTIONS_VERSION 1

/** rs_db_options.flags: open a database whose log or checkpoint is corrupt
 *  by treating the first corrupt byte as the end of the log: recovery keeps
 *  the state as of the last commit before it and deletes the rest of the
 *  log (reported in rs_db_stats.bytes_salvaged). A damaged newest
 *  checkpoint is replaced by an older valid one whose log is all there, or
 *  by the whole log from its first segment. Salvage only ever keeps a real
 *  prefix of history: when none can be built (the checkpoint is damaged
 *  and the log before it is gone, or nothing valid precedes the damage) it
 *  fails with RS_ECORRUPT, like an open without it, and changes
 *  nothing. */
#define RS_DB_F_SALVAGE 0x1u

/** rs_db_options.flags: open as a follower of a history another process
 *  writes (requires durability_ops, else RS_EINVAL). The database recovers
 *  as usual (durability_ops->load_image, then recover), serves every read,
 *  and takes new records only from its backend through rs_db_apply(): every
 *  write commit fails with RS_EREADONLY before the backend is called
 *  (nothing staged is applied), and so does rs_db_checkpoint(), until
 *  rs_db_promote() makes it the writer (<runstate/durability.h>). A
 *  transaction begun while the database is a follower stays read-only
 *  after a promotion (its commit of writes fails with RS_EREADONLY). */
#define RS_DB_F_FOLLOWER 0x2u

/** Defaults of the durability options (used when the field is 0). */
#define RS_FLUSH_INTERVAL_DEFAULT_MS 10u
#define RS_FLUSH_BATCH_COMMITS_DEFAULT 1024u
#define RS_FLUSH_BATCH_BYTES_DEFAULT (1u << 20)
#define RS_CHECKPOINT_WAL_BYTES_DEFAULT (64u << 20)
#define RS_SEGMENT_BYTES_DEFAULT (64u << 20)
/** rs_db_options.checkpoint_wal_bytes: never checkpoint automatically. */
#define RS_CHECKPOINT_NEVER UINT64_MAX

/** Options for rs_db_open(). Initialize with RS_DB_OPTIONS_INIT. */
typedef struct rs_db_options {
	/** RS_DB_OPTIONS_VERSION. */
	uint32_t version;
	/** Durability of every commit unless a commit overrides it. */
	rs_durability durability;
	/** Database directory: required for Buffered and Strict (created,
	 *  one level, if missing); must be NULL for InMemory and with
	 *  durability_ops. */
	const char *path;
	/** Storage engine: RS_STORAGE_SHARDED. */
	rs_storage storage;
	/** 0 or RS_DB_F_* flags: RS_DB_F_SALVAGE, RS_DB_F_FOLLOWER. */
	uint32_t flags;
	/** Seed for key hashing; 0 picks a random one per open (so hostile
	 *  keys cannot be precomputed to collide). */
	uint64_t hash_seed;
	/** Allocation hooks for everything the library allocates. */
	rs_allocator allocator;
	/** Buffered: the longest a commit waits in memory before the
	 *  flusher writes and syncs it, in ms (1..3600000; 0: default). It
	 *  bounds the loss window. Also applies to Buffered commits on a
	 *  Strict database. */
	uint32_t flush_interval_ms;
	/** Buffered: flush as soon as this many commits wait (0: default). */
	uint32_t flush_batch_commits;
	/** Buffered: flush as soon as this many bytes of records wait (0:
	 *  default). */
	size_t flush_batch_bytes;
	/** Checkpoint automatically once the log has grown by this many
	 *  bytes since the last checkpoint (0: default; RS_CHECKPOINT_NEVER:
	 *  only rs_db_checkpoint()). Bounds recovery time. */
	uint64_t checkpoint_wal_bytes;
	/** Size of each preallocated log segment file in bytes (4096..2^40;
	 *  0: default). A larger record gets a segment of its own. */
	uint64_t segment_bytes;
	/** A durability backend of your own instead of the built-in log, or
	 *  NULL (<runstate/durability.h>). With it `path` must be NULL;
	 *  `durability` is passed to it in every record. It must stay valid
	 *  until rs_db_close() returns. */
	const rs_durability_ops *durability_ops;
	/** Passed to every durability_ops callback. */
	void *durability_ctx;
} rs_db_options;

#define RS_DB_OPTIONS_INIT                                                    \
	{                                                                     \
		RS_DB_OPTIONS_VERSION, RS_DURABILITY_INMEMORY, NULL,          \
			RS_STORAGE_SHARDED, 0, 0, { NULL, NULL, NULL, NULL }, \
			0, 0, 0, 0, 0, NULL, NULL                             \
	}

/**
 * Open a database. For Buffered and Strict this takes the directory's lock,
 * then recovers: it loads the newest checkpoint and replays the log after
 * it, so versions and data continue where they left off. A torn record at
 * the very end of the log (a crash during a write) is cut off and reported
 * in rs_db_stats; corruption anywhere else fails the open unless
 * RS_DB_F_SALVAGE is set. A record counts as possibly torn only while no
 * later record proves it was synced: a clean rs_db_close() ends the log
 * with such a proof, so after it any damaged record is RS_ECORRUPT; after
 * a crash, damage inside the last batch written before it cannot be told
 * from a torn write and is cut (docs/wal-format.md). Recovery is
 * idempotent. Then it starts the flusher and checkpointer threads.
 *
 * @param[out] out   The handle; set only on success.
 * @param[in]  opts  Options, or NULL for defaults (in-memory, sharded).
 *                   Read during the call only, except the allocator
 *                   hooks and durability_ops, which must outlive the
 *                   database.
 * @return 0, RS_EINVAL (NULL out, inconsistent options, a partial
 *         allocator, unknown flags, storage or durability, a
 *         flush_interval_ms or segment_bytes outside its range, a
 *         durability_ops without commit, RS_DB_F_FOLLOWER without
 *         durability_ops), RS_EVERSION (opts->version
 *         or durability_ops->version unknown, or files of a newer format),
 *         RS_EBUSY (the directory is open in this or another process),
 *         RS_ECORRUPT (corrupt log or checkpoint, without
 *         RS_DB_F_SALVAGE; or a RunIndex in the layout of development
 *         builds before ordered keys), RS_EIO (a file system call failed, or no
 *         random source or crypto library), RS_ENOMEM, or an error
 *         returned by durability_ops->load_image or ->recover.
 * Thread safety: any thread.
 */
RS_API int rs_db_open(rs_db **out, const rs_db_options *opts);

/**
 * Close a database and free everything it holds. NULL is a no-op.
 *
 * Writes and syncs every logged commit (Buffered included), stops and joins
 * the flusher and checkpointer threads (waiting for a checkpoint in
 * progress to finish), joins the reclaimer thread, releases the directory
 * lock, and frees everything. Close cannot report a failed write: call
 * rs_db_flush() first to know that Buffered commits reached the disk.
 *
 * Transactions still open: close aborts them (their writes are discarded,
 * never logged) and frees their contexts, so they are consumed like the
 * database: any later call on such a handle, rs_txn_abort() and
 * rs_txn_commit() included, is undefined behaviour (it uses freed memory).
 * Finish every transaction first. Every other call on the database must
 * have returned before close starts; any call after it, on the database or
 * a view it gave out, is undefined behaviour.
 *
 * @param[in] db  From rs_db_open(), or NULL. Consumed.
 * Thread safety: exclusive.
 */
RS_API void rs_db_close(rs_db *db);

/**
 * Write and fdatasync every commit logged so far, and wait for it: after
 * this returns 0, every commit acknowledged before the call survives a
 * crash. InMemory: nothing to do. With durability_ops: calls its flush.
 *
 * @return 0, RS_EINVAL (NULL db), RS_EIO (the log failed; the database
 *         no longer accepts writes), or an error returned by
 *         durability_ops->flush.
 * Thread safety: any thread.
 */
RS_API int rs_db_flush(rs_db *db);

/**
 * Write a checkpoint now: a consistent image of every run (each run as of
 * one of its commits), fsynced and renamed into place atomically; then the
 * log segments it covers are deleted, so that recovery replays only what
 * came after. Writers are not stopped: each run's commit lock is taken
 * only for an instant. A checkpoint already running (automatic or from
 * another thread) is waited for, then this one runs.
 *
 * With durability_ops (version 2) this calls its `checkpoint`, which
 * receives a function streaming the same consistent image
 * (<runstate/durability.h>) and stores it wherever the backend keeps its
 * log.
 *
 * @return 0, RS_EINVAL (NULL db), RS_ENOTSUP (InMemory, or a
 *         durability_ops backend without `checkpoint`), RS_EREADONLY (a
 *         follower: RS_DB_F_FOLLOWER), an error returned by
 *         durability_ops->checkpoint, RS_EIO (a file system call of the
 *         checkpoint failed: the previous checkpoint and the log are
 *         intact, commits go on and a later checkpoint may succeed; or
 *         the log had failed, see Errors) or RS_ENOMEM.
 * Thread safety: any thread.
 */
RS_API int rs_db_checkpoint(rs_db *db);

/** Version 2 added the replication fields (follower ... repl_lag_ns); a
 *  version-1 struct is still accepted and gets its fields only. */
#define RS_DB_STATS_VERSION 2
/** An rs_db_stats ready for rs_db_stat(): the version set, the rest 0. */
#define RS_DB_STATS_INIT                                                     \
	{                                                                    \
		RS_DB_STATS_VERSION, false, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, \
			0, 0, false, 0, 0, 0, 0                              \
	}

/** Statistics of a database: what its open recovered, and its log since. */
typedef struct rs_db_stats {
	/** In: RS_DB_STATS_VERSION. */
	uint32_t version;
	/** Whether recovery loaded a checkpoint. */
	bool checkpoint_used;
	/** Runs and entries loaded from it. */
	uint64_t checkpoint_runs;
	uint64_t checkpoint_entries;
	/** Log records applied by recovery. */
	uint64_t records_replayed;
	/** Log records read but already covered by the checkpoint. */
	uint64_t records_skipped;
	/** Bytes of torn record cut from the end of the log. */
	uint64_t bytes_truncated;
	/** Bytes of log and of damaged checkpoints dropped by
	 *  RS_DB_F_SALVAGE (0 without it). */
	uint64_t bytes_salvaged;
	/** Log segment files read by recovery. */
	uint64_t segments_read;
	/** Duration of the recovery, in nanoseconds. */
	uint64_t recovery_ns;
	/** Since open: records logged, their bytes, fdatasync calls on the
	 *  log, checkpoints written. */
	uint64_t wal_records;
	uint64_t wal_bytes;
	uint64_t wal_syncs;
	uint64_t checkpoints;
	/** Log bytes written since the last checkpoint (what the next
	 *  recovery would read). */
	uint64_t wal_bytes_since_checkpoint;
	/* ---- version 2: replication (<runstate/durability.h>) ---- */
	/** Opened with RS_DB_F_FOLLOWER and not promoted since. */
	bool follower;
	/** Records rs_db_apply() applied since open (skipped ones not
	 *  counted). */
	uint64_t records_applied;
	/** From the backend (durability_ops->stat; 0 without one): the log
	 *  position of the newest record applied or acknowledged. */
	uint64_t repl_position;
	/** From the backend: records in the log not applied yet. */
	uint64_t repl_lag_records;
	/** From the backend: now minus the commit time of the newest
	 *  applied record while records remain to apply; 0 when caught
	 *  up. */
	uint64_t repl_lag_ns;
} rs_db_stats;

/**
 * Read the database's statistics. The recovery and log fields are all
 * zero for InMemory and for a durability_ops backend. `follower` and
 * `records_applied` are the library's own; with a durability_ops backend
 * of version 2 that sets `stat`, it is called last to fill the
 * replication fields (repl_*).
 *
 * @param[in]     db         The database.
 * @param[in,out] stats_out  Set stats_out->version = RS_DB_STATS_VERSION
 *                           first (or initialize with RS_DB_STATS_INIT);
 *                           the rest is written. A version-1 struct
 *                           (the layout before the replication fields)
 *                           is accepted: only its fields are written.
 * @return 0, RS_EINVAL (NULL argument) or RS_EVERSION (unknown
 *         stats_out->version).
 * Thread safety: any thread.
 */
RS_API int rs_db_stat(rs_db *db, rs_db_stats *stats_out);

/**
 * The newest committed version of a run: its base before its first commit
 * (0 unless a run of the database was ever deleted: see "Lives of a run
 * id"; for a run not written yet, or not since its delete, the base its
 * next write would start at), then one more per committed write
 * transaction.
 *
 * @param[in]  db, run      The database and run (not nil).
 * @param[out] version_out  The version.
 * @return 0 or RS_EINVAL (NULL argument or nil run).
 * Thread safety: any thread.
 */
RS_API int rs_db_run_version(rs_db *db, const rs_run_id *run,
			     uint64_t *version_out);

/* ------------------------------------------------------------------ */
/* Transactions                                                        */
/* ------------------------------------------------------------------ */

/** Opaque transaction handle. */
typedef struct rs_txn rs_txn;

/** rs_txn_begin() flag: a read-only transaction (never conflicts). */
#define RS_TXN_F_READONLY 0x1u

/**
 * Begin a transaction on one run, at a snapshot of the run's newest
 * committed state. Acquiring the snapshot is O(1) and allocation-free;
 * contexts come from a pool of at most 8 per thread. On a follower
 * (RS_DB_F_FOLLOWER) every transaction is read-only, whatever `flags`
 * say: its first write returns RS_EREADONLY.
 *
 * @param[out] out    The transaction; set only on success.
 * @param[in]  db     The database.
 * @param[in]  run    The run every operation of the transaction belongs
 *                    to; not the nil id.
 * @param[in]  flags  0 or RS_TXN_F_READONLY.
 * @return 0, RS_EINVAL (NULL argument, nil run, unknown flags) or
 *         RS_ENOMEM.
 * Thread safety: any thread; the transaction then belongs to this thread
 * (owner thread) until it is committed or aborted.
 */
RS_API int rs_txn_begin(rs_txn **out, rs_db *db, const rs_run_id *run,
			uint32_t flags);

/**
 * Commit a transaction.
 *
 * Validates everything the transaction read (OCC: keys, keys read as
 * absent, listed prefixes). On success all its writes become visible
 * atomically to snapshots taken afterwards. A read-only (or write-free)
 * transaction always succeeds and touches no lock, log or version.
 *
 * Durability: its one log record is handed to the durability backend
 * before the writes become visible. Strict returns after the record is
 * synced; Buffered after it is buffered (see rs_durability and
 * rs_txn_set_durability()).
 *
 * @param[in] txn  From rs_txn_begin(). Consumed whether this succeeds or
 *                 fails: its context goes back to the thread's pool, and
 *                 any later use of txn is undefined behaviour.
 * @return 0, RS_EINVAL (NULL), RS_EDONE (txn already consumed; best
 *         effort only, see "Handle lifetime"), RS_ECONFLICT (something
 *         read has changed; retry in a new transaction), RS_EARCHIVED (the
 *         run is archived: nothing applied), RS_ETOOBIG (its log record
 *         would pass 4 GiB), RS_ECORRUPT (a record its appends or
 *         recordings build on is malformed), RS_ERANGE (a run's versions
 *         would reach 2^63, or the log 2^63 bytes or segments; never in
 *         practice), RS_ENOMEM, RS_EIO (the log
 *         failed: nothing was applied and the database accepts no more
 *         writes; whether the commit is found after a restart is unknown),
 *         or an error returned by durability_ops->commit (RS_EFENCED from
 *         a replicating backend: another writer took over the history,
 *         nothing was applied).
 * Thread safety: owner thread. Runs concurrently with readers and other
 * committers.
 */
RS_API int rs_txn_commit(rs_txn *txn);

/**
 * Abort a transaction: discard its writes and release its snapshot.
 * NULL is a no-op.
 *
 * @param[in] txn  From rs_txn_begin(), or NULL. Consumed: its context
 *                 goes back to the thread's pool, and any later use of
 *                 txn is undefined behaviour.
 * Thread safety: owner thread.
 */
RS_API void rs_txn_abort(rs_txn *txn);

/**
 * The run version the transaction's snapshot reads at: what
 * rs_db_run_version() said then (the run's base before its first commit;
 * see "Lives of a run id").
 *
 * @param[out] version_out  The version.
 * @return 0, RS_EINVAL (NULL argument) or RS_EDONE (best effort).
 * Thread safety: owner thread.
 */
RS_API int rs_txn_snapshot_version(const rs_txn *txn, uint64_t *version_out);

/**
 * Choose the durability of this transaction's commit, overriding the
 * database's mode: RS_DURABILITY_STRICT on a Buffered database (this commit
 * returns only once its record is synced, together with everything logged
 * before it), or RS_DURABILITY_BUFFERED on a Strict one (it returns without
 * waiting; the record is synced by the next flush, within the Buffered
 * loss window). Naming the database's own mode is allowed. Skipping the log
 * on a Buffered or Strict database (RS_DURABILITY_INMEMORY), or asking for a
 * log on an InMemory one, is rejected, because recovery would then miss a
 * version. A rejected call changes nothing.
 *
 * @param[in] txn   An active transaction.
 * @param[in] mode  The durability for its commit.
 * @return 0, RS_EINVAL (NULL txn, unknown mode, or a mode not allowed for
 *         this database) or RS_EDONE (best effort).
 * Thread safety: owner thread.
 */
RS_API int rs_txn_set_durability(rs_txn *txn, rs_durability mode);

/**
 * A transaction body for rs_txn_run(). Return 0 to commit; any other value
 * aborts and is returned by rs_txn_run() unchanged, except RS_ECONFLICT,
 * which retries. It may run more than once, so it must be pure: no side
 * effects outside the transaction that a rerun would repeat.
 */
typedef int (*rs_txn_fn)(rs_txn *txn, void *ctx);

/** Attempts rs_txn_run() makes when max_attempts is 0. */
#define RS_TXN_RUN_DEFAULT_ATTEMPTS 16u

/**
 * Run fn in a transaction on `run` and commit it, retrying with randomized
 * exponential backoff (from 1 µs, capped at 1 ms) while the commit, or fn,
 * returns RS_ECONFLICT.
 *
 * @param[in] db            The database.
 * @param[in] run           The run (not nil).
 * @param[in] flags         As for rs_txn_begin().
 * @param[in] max_attempts  Attempts in all; 0 for
 *                          RS_TXN_RUN_DEFAULT_ATTEMPTS.
 * @param[in] fn            The body; it must not commit or abort the
 *                          transaction it is given.
 * @param[in] ctx           Passed to fn.
 * @return 0 (committed), fn's own nonzero return, RS_ECONFLICT (still
 *         conflicting after max_attempts), RS_EINVAL, RS_EARCHIVED (the
 *         run is archived and fn wrote), RS_ETOOBIG, RS_ECORRUPT,
 *         RS_ENOMEM or RS_EIO: the codes of rs_txn_begin() and
 *         rs_txn_commit().
 * Thread safety: any thread.
 */
RS_API int rs_txn_run(rs_db *db, const rs_run_id *run, uint32_t flags,
		      unsigned max_attempts, rs_txn_fn fn, void *ctx);

/* ------------------------------------------------------------------ */
/* KV                                                                  */
/* ------------------------------------------------------------------ */

/**
 * Called once per entry by the list functions, in ascending bytewise key
 * order. The views are valid only during the call.
 */
typedef int (*rs_kv_entry_cb)(rs_bytes key, rs_bytes value, void *ctx);

/**
 * One-shot put: set key to value in its own transaction. Never conflicts.
 *
 * @param[in] db, run  The database and run (not nil).
 * @param[in] key      1..RS_KEY_MAX bytes.
 * @param[in] val      0..RS_VALUE_MAX bytes (may be NULL when vlen is 0).
 * @return 0, RS_EINVAL, RS_ETOOBIG, RS_EARCHIVED (the run is archived),
 *         RS_ENOMEM or RS_EIO.
 * Thread safety: any thread.
 */
RS_API int rs_kv_put(rs_db *db, const rs_run_id *run, const void *key,
		     size_t klen, const void *val, size_t vlen);

/**
 * One-shot get into a caller-owned buffer, on the lock-free fast path.
 *
 * @param[out] buf      Receives the value; may be NULL when cap is 0.
 * @param[in]  cap      Its capacity.
 * @param[out] len_out  The value's length (also on RS_ENOSPC); may be NULL.
 * @return 0, RS_ENOTFOUND, RS_ENOSPC (value longer than cap; nothing
 *         copied), RS_EINVAL, RS_ETOOBIG (key too long) or RS_ECORRUPT
 *         (the key's versions contradict the run's: a state no sequence
 *         of commits builds, from damage recovery did not catch; the
 *         read gives up rather than retry for ever).
 * Thread safety: any thread.
 */
RS_API int rs_kv_get(rs_db *db, const rs_run_id *run, const void *key,
		     size_t klen, void *buf, size_t cap, size_t *len_out);

/**
 * One-shot delete. Never conflicts; deleting an absent key is not an
 * error and writes nothing.
 *
 * @param[out] existed_out  Whether the key existed; may be NULL.
 * @return 0, RS_EINVAL, RS_ETOOBIG, RS_EARCHIVED (the run is archived,
 *         whether or not the key exists), RS_ENOMEM or RS_EIO.
 * Thread safety: any thread.
 */
RS_API int rs_kv_delete(rs_db *db, const rs_run_id *run, const void *key,
			size_t klen, bool *existed_out);

/**
 * One-shot existence check on the fast path.
 *
 * @param[out] exists_out  Whether the key exists.
 * @return 0, RS_EINVAL, RS_ETOOBIG or RS_ECORRUPT (as rs_kv_get()).
 * Thread safety: any thread.
 */
RS_API int rs_kv_exists(rs_db *db, const rs_run_id *run, const void *key,
			size_t klen, bool *exists_out);

/**
 * One-shot read of n keys at one snapshot. Present values are copied one
 * after another into buf and vals_out[i] points into buf; an absent key
 * gives vals_out[i].data == NULL. An empty present value has a non-NULL
 * data pointer.
 *
 * @param[in]  keys        n keys.
 * @param[out] vals_out    n views into buf.
 * @param[out] buf         Caller-owned; may be NULL when cap is 0.
 * @param[out] needed_out  Bytes of buf used, or needed on RS_ENOSPC;
 *                         may be NULL.
 * @return 0, RS_ENOSPC (vals_out then undefined), RS_EINVAL, RS_ETOOBIG or
 *         RS_ENOMEM.
 * Thread safety: any thread.
 */
RS_API int rs_kv_get_many(rs_db *db, const rs_run_id *run, size_t n,
			  const rs_bytes *keys, rs_bytes *vals_out, void *buf,
			  size_t cap, size_t *needed_out);

/**
 * One-shot listing of the keys that start with `prefix`, at one snapshot,
 * in ascending bytewise order, starting after the key `after` (a cursor:
 * pass the last key of the previous page, or NULL for the first page).
 * Cost: O(log n + page) per page, n being the keys of the run: a range
 * scan (rs_kv_scan()) of the prefix.
 *
 * @param[in]  prefix     May be NULL when prefix_len is 0 (every key).
 * @param[in]  after      Cursor or NULL; a cursor is a key, 1..RS_KEY_MAX
 *                        bytes (an empty one is RS_EINVAL).
 * @param[in]  limit      Most entries per page; 0 for no limit.
 * @param[out] more_out   Whether entries remain after this page; may be
 *                        NULL.
 * @param[in]  cb, ctx    Called per entry.
 * @return 0, cb's nonzero return, RS_EINVAL, RS_ETOOBIG (prefix or cursor
 *         longer than RS_KEY_MAX) or RS_ENOMEM.
 * Thread safety: any thread.
 */
RS_API int rs_kv_list(rs_db *db, const rs_run_id *run, const void *prefix,
		      size_t prefix_len, const void *after, size_t after_len,
		      size_t limit, bool *more_out, rs_kv_entry_cb cb,
		      void *ctx);

/**
 * Stage a put in a transaction. Later reads in the transaction see it.
 * An archived run fails at commit (RS_EARCHIVED).
 *
 * @return 0, RS_EINVAL, RS_ETOOBIG, RS_EREADONLY, RS_EDONE (best effort)
 *         or RS_ENOMEM.
 * Thread safety: owner thread.
 */
RS_API int rs_txn_kv_put(rs_txn *txn, const void *key, size_t klen,
			 const void *val, size_t vlen);

/**
 * Read a key in a transaction: its own staged writes first, then its
 * snapshot. The key joins the read set (absent included).
 *
 * @param[out] val_out  Borrowed view, valid until the transaction ends.
 * @return 0, RS_ENOTFOUND, RS_EINVAL, RS_ETOOBIG, RS_EDONE (best effort)
 *         or RS_ENOMEM.
 * Thread safety: owner thread.
 */
RS_API int rs_txn_kv_get(rs_txn *txn, const void *key, size_t klen,
			 rs_bytes *val_out);

/**
 * Stage a delete. The key joins the read set (so `existed` stays true at
 * commit, or the commit conflicts). An archived run fails at commit
 * (RS_EARCHIVED).
 *
 * @param[out] existed_out  Whether the key existed in the transaction's
 *                          view; may be NULL.
 * @return 0, RS_EINVAL, RS_ETOOBIG, RS_EREADONLY, RS_EDONE (best effort)
 *         or RS_ENOMEM.
 * Thread safety: owner thread.
 */
RS_API int rs_txn_kv_delete(rs_txn *txn, const void *key, size_t klen,
			    bool *existed_out);

/**
 * Whether a key exists in the transaction's view; it joins the read set.
 *
 * @param[out] exists_out  Whether the key exists.
 * @return 0, RS_EINVAL, RS_ETOOBIG, RS_EDONE (best effort) or RS_ENOMEM.
 * Thread safety: owner thread.
 */
RS_API int rs_txn_kv_exists(rs_txn *txn, const void *key, size_t klen,
			    bool *exists_out);

/**
 * Read n keys in a transaction. vals_out[i] is a borrowed view valid until
 * the transaction ends, or {NULL, 0} when absent.
 *
 * @return 0, RS_EINVAL, RS_ETOOBIG, RS_EDONE (best effort) or RS_ENOMEM.
 * Thread safety: owner thread.
 */
RS_API int rs_txn_kv_get_many(rs_txn *txn, size_t n, const rs_bytes *keys,
			      rs_bytes *vals_out);

/**
 * List keys by prefix in a transaction, merged with its staged writes;
 * arguments as rs_kv_list(). Phantoms: the range listed joins the read
 * set (see "ordered access" below: from the cursor `after`, or the
 * prefix's start, to the last key of the page, or the prefix's end when
 * the page reached it), so the commit conflicts if a key inside it was
 * created, changed or deleted by another commit after the snapshot; keys
 * of the prefix past the page do not. The views passed to cb are valid
 * only during the call.
 *
 * @return 0, cb's nonzero return, RS_EINVAL, RS_ETOOBIG, RS_EDONE (best
 *         effort) or RS_ENOMEM.
 * Thread safety: owner thread.
 */
RS_API int rs_txn_kv_list(rs_txn *txn, const void *prefix, size_t prefix_len,
			  const void *after, size_t after_len, size_t limit,
			  bool *more_out, rs_kv_entry_cb cb, void *ctx);

/* ---- ordered access: range scans and cursors ---- */

/*
 * Every run keeps its keys in order (an index beside the hash table that
 * point reads use), so ordered access costs O(log n) to find a position
 * and O(1) per entry after it, n being the keys of the run (of every
 * primitive), whatever the position: the 1000th page costs what the
 * first does. Entries deleted, or created after the snapshot, are skipped
 * at no more than their own cost.
 *
 * In a read-write transaction, ordered reads join the read set as ranges:
 * the commit conflicts exactly when a key inside a range the transaction
 * actually walked over was created, changed or deleted by another commit
 * after its snapshot. That range runs from where the scan or seek began
 * to the last entry it reached (to its bound, or the end of the keys,
 * when it ran off the end); a scan that stopped at its limit protects up
 * to the last entry it passed, plus the one it read to answer more_out
 * when that is asked for. Keys outside never conflict. Listings are
 * therefore phantom-free over what they returned: a transaction that
 * read a page and commits saw exactly that page at its commit too.
 */

#define RS_SCAN_OPTIONS_VERSION 1

/** Scan in descending key order (from the end of the range). */
#define RS_SCAN_REVERSE 0x1u

/** Options for the range scans (rs_kv_scan(), rs_statecell_scan()).
 *  Initialize with RS_SCAN_OPTIONS_INIT. */
typedef struct rs_scan_options {
	/** RS_SCAN_OPTIONS_VERSION. */
	uint32_t version;
	/** 0 or RS_SCAN_REVERSE. */
	uint32_t flags;
	/** First key of the range, included; NULL: from the first key. */
	const void *start;
	size_t start_len;
	/** End of the range, excluded; NULL: to the last key. */
	const void *end;
	size_t end_len;
	/** Continue after this key in the scan's order (pass the last key
	 *  of the previous page); NULL: from the beginning of the range
	 *  (its end, in reverse). It need not exist. */
	const void *resume;
	size_t resume_len;
	/** Most entries passed to cb; 0 for no limit. */
	size_t limit;
} rs_scan_options;

#define RS_SCAN_OPTIONS_INIT                                             \
	{                                                                \
		RS_SCAN_OPTIONS_VERSION, 0, NULL, 0, NULL, 0, NULL, 0, 0 \
	}

/**
 * One-shot range scan of a run's keys in [start, end), forward or
 * reverse, at one snapshot. Cost: O(log n + entries passed).
 *
 * @param[in]  opts      NULL: every key, forward.
 * @param[out] more_out  Whether entries remain after those passed (one
 *                       more is read to tell); may be NULL.
 * @param[in]  cb, ctx   Called per entry, in the scan's order.
 * @return 0, cb's nonzero return, RS_EINVAL (also a wrong version, an
 *         unknown flag, or a NULL key with a nonzero length), RS_ETOOBIG
 *         (a key longer than RS_KEY_MAX) or RS_ENOMEM.
 * Thread safety: any thread.
 */
RS_API int rs_kv_scan(rs_db *db, const rs_run_id *run,
		      const rs_scan_options *opts, bool *more_out,
		      rs_kv_entry_cb cb, void *ctx);

/**
 * Range scan in a transaction's view (its staged writes merged in order),
 * as rs_kv_scan(). In a read-write transaction the range walked joins the
 * read set (see "ordered access" above).
 *
 * @return 0, cb's nonzero return, RS_EINVAL, RS_ETOOBIG, RS_EDONE (best
 *         effort) or RS_ENOMEM.
 * Thread safety: owner thread.
 */
RS_API int rs_txn_kv_scan(rs_txn *txn, const rs_scan_options *opts,
			  bool *more_out, rs_kv_entry_cb cb, void *ctx);

/**
 * A cursor over the KV keys of a run in ascending bytewise order, as
 * LMDB's MDB_cursor: seek to a key, then step with next and prev. It is
 * positioned on one entry or on none (after a call that returned
 * RS_ENOTFOUND, and when opened); next on no entry goes to the first
 * entry, prev to the last. Every call that lands on an entry returns its
 * key and value as borrowed views, valid until the cursor is closed (a
 * one-shot cursor) or its transaction ends, whichever comes first. Each
 * call costs O(log n) (seek, first, last) or O(1) (next, prev), plus the
 * deleted entries stepped over.
 */
typedef struct rs_cursor rs_cursor;

/** Where rs_cursor_seek() lands. */
typedef enum rs_seek {
	/** The first key at or after the key. */
	RS_SEEK_GE = 0,
	/** The last key at or before the key. */
	RS_SEEK_LE = 1
} rs_seek;

/**
 * Open a cursor on a one-shot snapshot of the run, taken now: it sees
 * that snapshot whatever commits later, and holds its versions (memory)
 * until closed. Close it with rs_cursor_close(). After warm-up, opening
 * allocates nothing.
 *
 * @return 0, RS_EINVAL or RS_ENOMEM.
 * Thread safety: any thread; the cursor is then the opening thread's
 *                (it holds one of that thread's transaction contexts).
 */
RS_API int rs_kv_cursor_open(rs_db *db, const rs_run_id *run, rs_cursor **out);

/**
 * Open a cursor in a transaction: its view merges the transaction's
 * staged writes, including those staged after the cursor was opened. It
 * ends with the transaction (closing it first is optional); using it
 * afterwards is undefined, like any handle of an ended transaction.
 *
 * @return 0, RS_EINVAL, RS_EDONE (best effort) or RS_ENOMEM.
 * Thread safety: owner thread.
 */
RS_API int rs_txn_kv_cursor_open(rs_txn *txn, rs_cursor **out);

/**
 * Close a cursor: a one-shot cursor releases its snapshot and its memory
 * (using it afterwards is undefined, as for freed memory); a closed
 * cursor of a transaction makes every later call on it RS_EINVAL until
 * the transaction ends. NULL is a no-op.
 *
 * Thread safety: owner thread.
 */
RS_API void rs_cursor_close(rs_cursor *cur);

/**
 * Position at the first key >= key (RS_SEEK_GE) or the last key <= key
 * (RS_SEEK_LE), over the whole run (it clears a prefix set by
 * rs_cursor_first() or rs_cursor_last()).
 *
 * @param[in]  key              0..RS_KEY_MAX bytes (it need not exist).
 * @param[out] key_out, val_out The entry's views; each may be NULL.
 * @return 0, RS_ENOTFOUND (no such key: the cursor is on no entry),
 *         RS_EINVAL, RS_ETOOBIG or RS_ENOMEM.
 * Thread safety: owner thread.
 */
RS_API int rs_cursor_seek(rs_cursor *cur, const void *key, size_t klen,
			  rs_seek how, rs_bytes *key_out, rs_bytes *val_out);

/**
 * Position at the first key that starts with prefix, and keep the cursor
 * inside the prefix: next and prev stop (RS_ENOTFOUND) at its ends, until
 * a seek or another first/last.
 *
 * @param[in] prefix  0..RS_KEY_MAX bytes; NULL when prefix_len is 0 (the
 *                    whole run).
 * @return 0, RS_ENOTFOUND (no key under the prefix), RS_EINVAL,
 *         RS_ETOOBIG or RS_ENOMEM.
 * Thread safety: owner thread.
 */
RS_API int rs_cursor_first(rs_cursor *cur, const void *prefix,
			   size_t prefix_len, rs_bytes *key_out,
			   rs_bytes *val_out);

/**
 * Position at the last key that starts with prefix (the newest, when
 * keys under it end in a big-endian sequence or timestamp), and keep the
 * cursor inside the prefix, as rs_cursor_first().
 *
 * @return 0, RS_ENOTFOUND, RS_EINVAL, RS_ETOOBIG or RS_ENOMEM.
 * Thread safety: owner thread.
 */
RS_API int rs_cursor_last(rs_cursor *cur, const void *prefix, size_t prefix_len,
			  rs_bytes *key_out, rs_bytes *val_out);

/**
 * Move to the next key (on no entry: the first, inside the prefix if one
 * is set).
 *
 * @return 0, RS_ENOTFOUND (past the last: the cursor is on no entry),
 *         RS_EINVAL or RS_ENOMEM.
 * Thread safety: owner thread.
 */
RS_API int rs_cursor_next(rs_cursor *cur, rs_bytes *key_out, rs_bytes *val_out);

/**
 * Move to the previous key (on no entry: the last).
 *
 * @return 0, RS_ENOTFOUND (before the first), RS_EINVAL or RS_ENOMEM.
 * Thread safety: owner thread.
 */
RS_API int rs_cursor_prev(rs_cursor *cur, rs_bytes *key_out, rs_bytes *val_out);

/* ------------------------------------------------------------------ */
/* EventLog                                                            */
/* ------------------------------------------------------------------ */

/*
 * A run's EventLog is an append-only, hash-chained sequence of events.
 * Sequences start at the run's base (0 unless a run of the database was
 * ever deleted: see "Lives of a run id") and are dense and unique per run:
 * they are assigned when the append commits, under the run's commit lock,
 * so concurrent appenders never conflict. The length of a log is its next
 * sequence (the base when it is empty). Each event stores its sequence,
 * type, payload, timestamp (ns since the Unix epoch, never below the
 * previous event's) and the previous event's hash (32 zero bytes for the
 * first event); its hash is
 * BLAKE2b-256 over a canonical encoding of those fields, specified byte by
 * byte in docs/eventlog-chain.md so a chain can be verified independently.
 */

/** rs_event flag: appended by the current transaction, not committed yet:
 *  its sequence is provisional and its timestamp and hashes are zero. */
#define RS_EVENT_F_PENDING 0x1u

/**
 * An event, as read. A borrowed view: `type` and `payload` point into
 * memory whose lifetime the reading function states.
 */
typedef struct rs_event {
	uint64_t seq;
	uint64_t timestamp_ns;
	rs_bytes type;
	rs_bytes payload;
	uint8_t prev_hash[RS_HASH_LEN];
	uint8_t hash[RS_HASH_LEN];
	uint32_t flags; /* RS_EVENT_F_* */
} rs_event;

/** What an append was assigned: filled when the append commits. */
typedef struct rs_event_receipt {
	uint64_t seq;
	uint64_t timestamp_ns;
	uint8_t hash[RS_HASH_LEN];
} rs_event_receipt;

/**
 * Called once per event, in sequence order. The event and its views are
 * valid only during the call.
 */
typedef int (*rs_eventlog_event_cb)(const rs_event *ev, void *ctx);

/**
 * One-shot append of an event to a run's log, in its own commit. Never
 * conflicts, however many threads append to the run.
 *
 * @param[in]  db, run      The database and run (not nil).
 * @param[in]  type         1..RS_TYPE_MAX bytes of UTF-8.
 * @param[in]  payload      0..RS_VALUE_MAX bytes (may be NULL when
 *                          payload_len is 0).
 * @param[out] receipt_out  The event's sequence, timestamp and hash; may be
 *                          NULL.
 * @return 0, RS_EINVAL, RS_ETOOBIG, RS_EUTF8, RS_EARCHIVED (the run is
 *         archived), RS_ECORRUPT (the log's head is malformed), RS_ENOMEM
 *         or RS_EIO. On error nothing was appended.
 * Thread safety: any thread.
 */
RS_API int rs_eventlog_append(rs_db *db, const rs_run_id *run, const char *type,
			      size_t type_len, const void *payload,
			      size_t payload_len,
			      rs_event_receipt *receipt_out);

/**
 * One-shot read of the event at `seq`, on the lock-free fast path. The
 * type and payload are copied into buf, one after the other; ev_out's
 * views point there.
 *
 * @param[out] ev_out      The event; undefined unless 0 is returned.
 * @param[out] buf         Caller-owned; may be NULL when cap is 0.
 * @param[out] needed_out  Bytes of buf used, or needed on RS_ENOSPC; may
 *                         be NULL.
 * @return 0, RS_ENOTFOUND (seq >= the log's length, or below its base),
 *         RS_ENOSPC, RS_EINVAL or RS_ECORRUPT (a malformed record).
 * Thread safety: any thread.
 */
RS_API int rs_eventlog_read(rs_db *db, const rs_run_id *run, uint64_t seq,
			    rs_event *ev_out, void *buf, size_t cap,
			    size_t *needed_out);

/**
 * One-shot read of the events with sequences in [start, end), at one
 * snapshot, in order; the range is cut at the log's length (pass
 * UINT64_MAX as end to read to the end). Cost: O(events read).
 *
 * @return 0, cb's nonzero return, RS_EINVAL (NULL argument, start > end),
 *         RS_ENOMEM or RS_ECORRUPT.
 * Thread safety: any thread.
 */
RS_API int rs_eventlog_read_range(rs_db *db, const rs_run_id *run,
				  uint64_t start, uint64_t end,
				  rs_eventlog_event_cb cb, void *ctx);

/**
 * One-shot length of a run's log (the next sequence), on the fast path.
 *
 * @param[out] len_out  The length.
 * @return 0, RS_EINVAL or RS_ECORRUPT (the log's head is malformed).
 * Thread safety: any thread.
 */
RS_API int rs_eventlog_len(rs_db *db, const rs_run_id *run, uint64_t *len_out);

/**
 * One-shot head of a run's log, on the fast path: its length and the hash
 * of its last event (32 zero bytes for an empty log), i.e. the hash the
 * next append will chain to. Both from one snapshot.
 *
 * @param[out] len_out   May be NULL.
 * @param[out] hash_out  RS_HASH_LEN bytes; may be NULL.
 * @return 0, RS_EINVAL or RS_ECORRUPT (the log's head is malformed).
 * Thread safety: any thread.
 */
RS_API int rs_eventlog_head(rs_db *db, const rs_run_id *run, uint64_t *len_out,
			    uint8_t *hash_out);

/**
 * One-shot read of the events of one type, in sequence order, at one
 * snapshot, through a per-type index. Cost: O(events returned), whatever
 * the size of the log.
 *
 * @param[in]     type      1..RS_TYPE_MAX bytes of UTF-8.
 * @param[in,out] cursor    Position in the type's events: 0 for the first
 *                          page; on return, the position after the last
 *                          event passed to cb (pass it back for the next
 *                          page).
 * @param[in]     limit     Most events per page; 0 for no limit.
 * @param[out]    more_out  Whether events remain after this page; may be
 *                          NULL.
 * @return 0, cb's nonzero return, RS_EINVAL, RS_ETOOBIG, RS_EUTF8,
 *         RS_ENOMEM or RS_ECORRUPT.
 * Thread safety: any thread.
 */
RS_API int rs_eventlog_read_by_type(rs_db *db, const rs_run_id *run,
				    const char *type, size_t type_len,
				    uint64_t *cursor, size_t limit,
				    bool *more_out, rs_eventlog_event_cb cb,
				    void *ctx);

/**
 * One-shot verification of a run's whole chain at one snapshot: for every
 * event in order, that its stored previous hash is the hash of the event
 * before (zeros for the first event), that its hash recomputes from its
 * fields, and that the log's head matches the last event. Cost: O(events
 * in the log).
 *
 * @param[out] bad_seq_out  On RS_ECORRUPT, the first sequence that does
 *                          not verify (the log's length when only the
 *                          head is wrong); may be NULL.
 * @return 0 (the chain verifies, an empty one included), RS_ECORRUPT,
 *         RS_EINVAL or RS_ENOMEM.
 * Thread safety: any thread.
 */
RS_API int rs_eventlog_verify_chain(rs_db *db, const rs_run_id *run,
				    uint64_t *bad_seq_out);

/**
 * Append an event in a transaction. The sequence, timestamp and hash are
 * assigned when the transaction commits (under the run's commit lock), so
 * appending never makes the transaction conflict; several appends of one
 * transaction get consecutive sequences in call order. Until then the
 * event is visible in the transaction as a pending event (see
 * rs_txn_eventlog_read()).
 *
 * @param[out] receipt_out  Filled when the transaction commits
 *                          successfully (left alone otherwise); may be
 *                          NULL. It must stay valid until the commit
 *                          returns (rs_txn_commit() or rs_txn_run()).
 * @return 0, RS_EINVAL, RS_ETOOBIG, RS_EUTF8, RS_EREADONLY, RS_EDONE (best
 *         effort) or RS_ENOMEM. An archived run fails at commit
 *         (RS_EARCHIVED).
 * Thread safety: owner thread.
 */
RS_API int rs_txn_eventlog_append(rs_txn *txn, const char *type,
				  size_t type_len, const void *payload,
				  size_t payload_len,
				  rs_event_receipt *receipt_out);

/**
 * Read one event in a transaction's view: the committed events of its
 * snapshot, then its own pending appends, which follow them with
 * provisional sequences and RS_EVENT_F_PENDING. Reading at or past the
 * snapshot's length reads the log's head, so a transaction that saw its
 * pending sequences conflicts if another append commits first: the
 * provisional sequences it saw are then the ones it gets.
 *
 * @param[out] ev_out  Views valid until the transaction ends.
 * @return 0, RS_ENOTFOUND, RS_EINVAL, RS_EDONE (best effort), RS_ENOMEM or
 *         RS_ECORRUPT.
 * Thread safety: owner thread.
 */
RS_API int rs_txn_eventlog_read(rs_txn *txn, uint64_t seq, rs_event *ev_out);

/**
 * rs_eventlog_read_range() in a transaction's view (pending appends
 * included, as for rs_txn_eventlog_read()). Views valid during cb only.
 * Cost: O(events read), plus one pass over the transaction's pending
 * appends and records when the range reaches past the committed events.
 *
 * @return 0, cb's nonzero return, RS_EINVAL (NULL argument, start > end),
 *         RS_EDONE (best effort), RS_ENOMEM or RS_ECORRUPT.
 * Thread safety: owner thread.
 */
RS_API int rs_txn_eventlog_read_range(rs_txn *txn, uint64_t start, uint64_t end,
				      rs_eventlog_event_cb cb, void *ctx);

/**
 * The log's length in a transaction's view: committed events of its
 * snapshot plus its pending appends. Reads the head (see
 * rs_txn_eventlog_read()).
 *
 * @param[out] len_out  The length.
 * @return 0, RS_EINVAL, RS_EDONE (best effort), RS_ENOMEM or RS_ECORRUPT.
 * Thread safety: owner thread.
 */
RS_API int rs_txn_eventlog_len(rs_txn *txn, uint64_t *len_out);

/**
 * The committed head of the log at the transaction's snapshot, as for
 * rs_eventlog_head(). Pending appends have no hash yet and are not
 * included: len_out may be less than rs_txn_eventlog_len().
 *
 * @param[out] len_out   May be NULL.
 * @param[out] hash_out  RS_HASH_LEN bytes; may be NULL.
 * @return 0, RS_EINVAL, RS_EDONE (best effort), RS_ENOMEM or RS_ECORRUPT.
 * Thread safety: owner thread.
 */
RS_API int rs_txn_eventlog_head(rs_txn *txn, uint64_t *len_out,
				uint8_t *hash_out);

/**
 * rs_eventlog_read_by_type() in a transaction's view: committed events of
 * the type, then its pending appends of the type (the cursor counts both).
 * Cost: O(events returned), plus one pass over the transaction's pending
 * appends and records.
 *
 * @return 0, cb's nonzero return, RS_EINVAL, RS_ETOOBIG, RS_EUTF8,
 *         RS_EDONE (best effort), RS_ENOMEM or RS_ECORRUPT.
 * Thread safety: owner thread.
 */
RS_API int rs_txn_eventlog_read_by_type(rs_txn *txn, const char *type,
					size_t type_len, uint64_t *cursor,
					size_t limit, bool *more_out,
					rs_eventlog_event_cb cb, void *ctx);

/**
 * rs_eventlog_verify_chain() on the committed events of the transaction's
 * snapshot (pending appends are not chained yet).
 *
 * @return 0 (the chain verifies), RS_ECORRUPT (with *bad_seq_out set as
 *         for rs_eventlog_verify_chain()), RS_EINVAL, RS_EDONE (best
 *         effort) or RS_ENOMEM.
 * Thread safety: owner thread.
 */
RS_API int rs_txn_eventlog_verify_chain(rs_txn *txn, uint64_t *bad_seq_out);

/* ------------------------------------------------------------------ */
/* StateCell                                                           */
/* ------------------------------------------------------------------ */

/*
 * A StateCell is a named, versioned value in a run. init creates it at
 * the run's base + 1 (version 1 unless a run of the database was ever
 * deleted: see "Lives of a run id"), or one past the version it had when
 * last deleted; every set, cas or transition adds 1. Versions of a name
 * never repeat for a run id, across delete and re-init and across a
 * delete of the whole run (RunIndex) too, so a compare-and-swap holding a
 * stale version always fails (no ABA).
 *
 * The one-shot writes run under the run's commit lock and never conflict.
 * In a transaction, every operation on a cell reads it (the cell joins the
 * read set), so a concurrent write of the same cell makes the commit
 * conflict. A malformed stored cell is reported as RS_ECORRUPT.
 */

/**
 * A transition: given the cell's current value and version, write the new
 * value into *new_value_out (the library copies it before fn returns to its
 * caller; it need stay valid only until then). *new_value_out starts as
 * {NULL, 0}: leaving data NULL writes nothing (use a non-NULL pointer with
 * len 0 for an empty value). Return 0 to go on; any other value aborts the
 * transition and is returned unchanged. Results of its own go through ctx.
 * It may run more than once (retries), so it must be pure.
 */
typedef int (*rs_statecell_transition_fn)(rs_bytes value, uint64_t version,
					  rs_bytes *new_value_out, void *ctx);

/** Called once per cell by the list and scan functions, in ascending
 *  bytewise name order (descending for a reverse scan). The views are
 *  valid only during the call. */
typedef int (*rs_statecell_entry_cb)(rs_bytes name, rs_bytes value,
				     uint64_t version, void *ctx);

/**
 * One-shot init: create a cell. Among concurrent inits of one name exactly
 * one succeeds; the others get RS_EEXIST.
 *
 * @param[in]  name         1..RS_NAME_MAX bytes of UTF-8.
 * @param[in]  val          0..RS_VALUE_MAX bytes (NULL when vlen is 0).
 * @param[out] version_out  The new version; may be NULL.
 * @return 0, RS_EEXIST, RS_EINVAL, RS_ETOOBIG, RS_EUTF8, RS_EARCHIVED (the
 *         run is archived), RS_ECORRUPT, RS_ENOMEM or RS_EIO.
 * Thread safety: any thread.
 */
RS_API int rs_statecell_init(rs_db *db, const rs_run_id *run, const char *name,
			     size_t name_len, const void *val, size_t vlen,
			     uint64_t *version_out);

/**
 * One-shot read of a cell's value and version on the lock-free fast path,
 * into a caller-owned buffer.
 *
 * @param[out] buf          May be NULL when cap is 0.
 * @param[out] len_out      The value's length (also on RS_ENOSPC); may be
 *                          NULL.
 * @param[out] version_out  The cell's version (also on RS_ENOSPC: the
 *                          version of the value len_out measured); may be
 *                          NULL. Left alone on the other errors.
 * @return 0, RS_ENOTFOUND, RS_ENOSPC (nothing copied), RS_EINVAL,
 *         RS_ETOOBIG, RS_EUTF8 or RS_ECORRUPT.
 * Thread safety: any thread.
 */
RS_API int rs_statecell_read(rs_db *db, const rs_run_id *run, const char *name,
			     size_t name_len, void *buf, size_t cap,
			     size_t *len_out, uint64_t *version_out);

/**
 * One-shot set of an existing cell's value (version + 1).
 *
 * @param[out] version_out  The new version; may be NULL.
 * @return 0, RS_ENOTFOUND (no such cell), RS_EINVAL, RS_ETOOBIG,
 *         RS_EUTF8, RS_EARCHIVED (the run is archived), RS_ECORRUPT,
 *         RS_ENOMEM or RS_EIO.
 * Thread safety: any thread.
 */
RS_API int rs_statecell_set(rs_db *db, const rs_run_id *run, const char *name,
			    size_t name_len, const void *val, size_t vlen,
			    uint64_t *version_out);

/**
 * One-shot compare-and-swap: set the value only if the cell's version is
 * still expected_version.
 *
 * @param[out] version_out  The new version; may be NULL.
 * @return 0, RS_EMISMATCH (the version differs; nothing written),
 *         RS_ENOTFOUND, RS_EINVAL, RS_ETOOBIG, RS_EUTF8, RS_EARCHIVED (the
 *         run is archived), RS_ECORRUPT, RS_ENOMEM or RS_EIO.
 * Thread safety: any thread.
 */
RS_API int rs_statecell_cas(rs_db *db, const rs_run_id *run, const char *name,
			    size_t name_len, uint64_t expected_version,
			    const void *val, size_t vlen,
			    uint64_t *version_out);

/**
 * One-shot transition: read the cell, call fn, write what it returns, in
 * a transaction retried (randomized exponential backoff, as rs_txn_run())
 * while it conflicts, up to max_attempts attempts.
 *
 * @param[in]  max_attempts  Attempts in all; 0 for
 *                           RS_TXN_RUN_DEFAULT_ATTEMPTS.
 * @param[out] version_out   The version after the transition (unchanged
 *                           when fn wrote nothing); may be NULL.
 * @param[in]  fn, ctx       The transition.
 * @return 0, fn's nonzero return, RS_ENOTFOUND (fn not called),
 *         RS_ECONFLICT (still conflicting after max_attempts), RS_EINVAL,
 *         RS_ETOOBIG (name, or the value fn gave), RS_EUTF8, RS_EARCHIVED
 *         (the run is archived), RS_ECORRUPT, RS_ENOMEM or RS_EIO.
 * Thread safety: any thread.
 */
RS_API int rs_statecell_transition(rs_db *db, const rs_run_id *run,
				   const char *name, size_t name_len,
				   unsigned max_attempts, uint64_t *version_out,
				   rs_statecell_transition_fn fn, void *ctx);

/**
 * One-shot delete. The name's version is remembered, so a later init
 * continues past it. Deleting an absent cell writes nothing.
 *
 * @param[out] existed_out  Whether the cell existed; may be NULL.
 * @return 0, RS_EINVAL, RS_ETOOBIG, RS_EUTF8, RS_EARCHIVED (the run is
 *         archived), RS_ECORRUPT, RS_ENOMEM or RS_EIO.
 * Thread safety: any thread.
 */
RS_API int rs_statecell_delete(rs_db *db, const rs_run_id *run,
			       const char *name, size_t name_len,
			       bool *existed_out);

/**
 * One-shot listing of the cells whose names start with `prefix`, at one
 * snapshot, in ascending bytewise name order, after the name `after` (a
 * cursor: the last name of the previous page, or NULL). Prefix and cursor
 * are bytes (not checked as UTF-8). Cost: O(log n + page) per page, n
 * being the keys of the run: a range scan of the prefix, like
 * rs_kv_list().
 *
 * @param[in]  prefix    0..RS_NAME_MAX bytes; NULL when prefix_len is 0.
 * @param[in]  after     Cursor or NULL; a cursor is 1..RS_NAME_MAX bytes
 *                       (an empty one is RS_EINVAL).
 * @param[in]  limit     Most cells per page; 0 for no limit.
 * @param[out] more_out  Whether cells remain after this page; may be NULL.
 * @return 0, cb's nonzero return, RS_EINVAL, RS_ETOOBIG, RS_ENOMEM or
 *         RS_ECORRUPT.
 * Thread safety: any thread.
 */
RS_API int rs_statecell_list(rs_db *db, const rs_run_id *run,
			     const char *prefix, size_t prefix_len,
			     const char *after, size_t after_len, size_t limit,
			     bool *more_out, rs_statecell_entry_cb cb,
			     void *ctx);

/**
 * One-shot range scan of the cells whose names lie in [start, end), at one
 * snapshot, forward (ascending bytewise name order) or reverse, with a
 * limit and a resume position: rs_kv_scan() over cell names. The options'
 * start, end and resume are names: bytes (not checked as UTF-8), at most
 * RS_NAME_MAX each; resume need not name a cell. Cost: O(log n + cells
 * passed), n being the keys of the run.
 *
 * @param[in]  opts      As for rs_kv_scan(); NULL: every cell, forward.
 * @param[out] more_out  Whether cells remain after those passed (one more
 *                       is read to tell); may be NULL.
 * @param[in]  cb, ctx   Called per cell, in the scan's order.
 * @return 0, cb's nonzero return, RS_EINVAL (also a wrong version, an
 *         unknown flag, or a NULL name with a nonzero length), RS_ETOOBIG
 *         (a name longer than RS_NAME_MAX), RS_ENOMEM or RS_ECORRUPT.
 * Thread safety: any thread.
 */
RS_API int rs_statecell_scan(rs_db *db, const rs_run_id *run,
			     const rs_scan_options *opts, bool *more_out,
			     rs_statecell_entry_cb cb, void *ctx);

/**
 * Init in a transaction (as rs_statecell_init()). The name is read, so of two
 * transactions initializing it one commits and the other conflicts (and
 * then, retried, gets RS_EEXIST). An archived run fails at commit
 * (RS_EARCHIVED).
 *
 * @param[out] version_out  The version the cell will have; may be NULL.
 * @return 0, RS_EEXIST, RS_EINVAL, RS_ETOOBIG, RS_EUTF8, RS_EREADONLY,
 *         RS_EDONE (best effort), RS_ENOMEM or RS_ECORRUPT.
 * Thread safety: owner thread.
 */
RS_API int rs_txn_statecell_init(rs_txn *txn, const char *name, size_t name_len,
				 const void *val, size_t vlen,
				 uint64_t *version_out);

/**
 * Read a cell in a transaction: its own writes first, then its snapshot.
 *
 * @param[out] val_out      Borrowed view, valid until the transaction ends.
 * @param[out] version_out  May be NULL.
 * @return 0, RS_ENOTFOUND, RS_EINVAL, RS_ETOOBIG, RS_EUTF8, RS_EDONE (best
 *         effort), RS_ENOMEM or RS_ECORRUPT.
 * Thread safety: owner thread.
 */
RS_API int rs_txn_statecell_read(rs_txn *txn, const char *name, size_t name_len,
				 rs_bytes *val_out, uint64_t *version_out);

/**
 * Set in a transaction (as rs_statecell_set()). An archived run fails at
 * commit (RS_EARCHIVED).
 *
 * @param[out] version_out  The version the cell will have; may be NULL.
 * @return 0, RS_ENOTFOUND (no such cell), RS_EINVAL, RS_ETOOBIG,
 *         RS_EUTF8, RS_EREADONLY, RS_EDONE (best effort), RS_ENOMEM or
 *         RS_ECORRUPT.
 * Thread safety: owner thread.
 */
RS_API int rs_txn_statecell_set(rs_txn *txn, const char *name, size_t name_len,
				const void *val, size_t vlen,
				uint64_t *version_out);

/**
 * Compare-and-swap in a transaction (as rs_statecell_cas()), against the
 * version in the transaction's view. An archived run fails at commit
 * (RS_EARCHIVED).
 *
 * @param[out] version_out  The version the cell will have; may be NULL.
 * @return 0, RS_EMISMATCH (the version differs; nothing staged),
 *         RS_ENOTFOUND, RS_EINVAL, RS_ETOOBIG, RS_EUTF8, RS_EREADONLY,
 *         RS_EDONE (best effort), RS_ENOMEM or RS_ECORRUPT.
 * Thread safety: owner thread.
 */
RS_API int rs_txn_statecell_cas(rs_txn *txn, const char *name, size_t name_len,
				uint64_t expected_version, const void *val,
				size_t vlen, uint64_t *version_out);

/**
 * Transition in a transaction: fn is called once with the value and
 * version in the transaction's view, and its new value is staged. Retry
 * the whole transaction (rs_txn_run()) on conflict. An archived run fails
 * at commit (RS_EARCHIVED).
 *
 * @param[out] version_out  The version the cell will have (unchanged when
 *                          fn wrote nothing); may be NULL.
 * @return 0, fn's nonzero return, RS_ENOTFOUND (fn not called), RS_EINVAL,
 *         RS_ETOOBIG (name, or the value fn gave), RS_EUTF8, RS_EREADONLY,
 *         RS_EDONE (best effort), RS_ENOMEM or RS_ECORRUPT.
 * Thread safety: owner thread.
 */
RS_API int rs_txn_statecell_transition(rs_txn *txn, const char *name,
				       size_t name_len, uint64_t *version_out,
				       rs_statecell_transition_fn fn,
				       void *ctx);

/**
 * Delete in a transaction (as rs_statecell_delete()). An archived run
 * fails at commit (RS_EARCHIVED).
 *
 * @param[out] existed_out  Whether the cell existed in the transaction's
 *                          view; may be NULL.
 * @return 0, RS_EINVAL, RS_ETOOBIG, RS_EUTF8, RS_EREADONLY, RS_EDONE (best
 *         effort), RS_ENOMEM or RS_ECORRUPT.
 * Thread safety: owner thread.
 */
RS_API int rs_txn_statecell_delete(rs_txn *txn, const char *name,
				   size_t name_len, bool *existed_out);

/**
 * List cells in a transaction, merged with its own writes; arguments as
 * rs_statecell_list(). The range listed joins the read set, as for
 * rs_txn_kv_list(): from the cursor `after`, or the prefix's start, to the
 * last cell of the page, or the prefix's end when the page reached it; a
 * cell inside it created, changed or deleted by another commit after the
 * snapshot makes this one conflict, cells past the page do not. Cost: as
 * rs_statecell_list(), the staged writes merged in as it goes.
 *
 * @return 0, cb's nonzero return, RS_EINVAL, RS_ETOOBIG, RS_EDONE (best
 *         effort), RS_ENOMEM or RS_ECORRUPT.
 * Thread safety: owner thread.
 */
RS_API int rs_txn_statecell_list(rs_txn *txn, const char *prefix,
				 size_t prefix_len, const char *after,
				 size_t after_len, size_t limit, bool *more_out,
				 rs_statecell_entry_cb cb, void *ctx);

/**
 * Range scan of cells in a transaction's view (its own writes merged in
 * order), as rs_statecell_scan(). In a read-write transaction the range
 * walked joins the read set, as for rs_txn_kv_scan() (see "ordered
 * access" in the KV section): a cell inside it created, changed or deleted
 * by another commit after the snapshot makes this one conflict. Cost: as
 * rs_statecell_scan(), the staged writes merged in as it goes.
 *
 * @return 0, cb's nonzero return, RS_EINVAL, RS_ETOOBIG, RS_EDONE (best
 *         effort), RS_ENOMEM or RS_ECORRUPT.
 * Thread safety: owner thread.
 */
RS_API int rs_txn_statecell_scan(rs_txn *txn, const rs_scan_options *opts,
				 bool *more_out, rs_statecell_entry_cb cb,
				 void *ctx);

/* ------------------------------------------------------------------ */
/* TraceStore                                                          */
/* ------------------------------------------------------------------ */

/*
 * A run's TraceStore records spans of work (tool calls, model calls...):
 * a type, a payload, up to RS_TAGS_MAX tags and an optional parent. Ids
 * are dense per run from the run's base (0 unless a run of the database
 * was ever deleted: see "Lives of a run id") and assigned in commit order
 * (under the run's commit lock, so recording never conflicts), with
 * timestamps that never decrease along ids. Index entries by type, by
 * tag and by parent are written in the same commit as the trace, so every
 * query costs O(results) (O(log n + results) by time), whatever the run's
 * size, and returns traces in recording (id) order. A malformed stored
 * trace or index entry is reported as RS_ECORRUPT.
 */

/** The parent argument of a trace without one; the parent of a root. */
#define RS_TRACE_NONE UINT64_MAX
/**
 * Ids with this bit are pending handles: a trace recorded in the current
 * transaction before it commits. A handle may be the parent of a later
 * trace of the same transaction.
 */
#define RS_TRACE_PENDING (UINT64_C(1) << 63)

/** rs_trace flag: recorded by the current transaction, not yet
 *  committed: its id is a pending handle and its timestamp is 0. */
#define RS_TRACE_F_PENDING 0x1u

/**
 * A trace, as read. A borrowed view: its views point into memory whose
 * lifetime the reading function states. Tags are read with
 * rs_trace_tag().
 */
typedef struct rs_trace {
	uint64_t id;
	uint64_t parent; /* RS_TRACE_NONE for a root */
	uint64_t timestamp_ns;
	rs_bytes type;
	rs_bytes payload;
	size_t ntags;
	uint32_t flags;	      /* RS_TRACE_F_* */
	const void *tags_enc; /* private: the encoded tags */
} rs_trace;

/** Called once per trace, in id order; views valid only during the call. */
typedef int (*rs_tracestore_trace_cb)(const rs_trace *t, void *ctx);
/** Called once per trace of a tree, depth 0 for the root. */
typedef int (*rs_tracestore_tree_cb)(const rs_trace *t, unsigned depth,
				     void *ctx);

/**
 * Tag i of a trace, as a view with the trace's own lifetime.
 *
 * @param[out] tag_out  The tag.
 * @return 0 or RS_EINVAL (NULL argument, i >= t->ntags).
 * Thread safety: any thread.
 */
RS_API int rs_trace_tag(const rs_trace *t, size_t i, rs_bytes *tag_out);

/**
 * One-shot record of a trace, in its own commit; never conflicts.
 *
 * @param[in]  type     1..RS_TYPE_MAX bytes of UTF-8.
 * @param[in]  payload  0..RS_VALUE_MAX bytes (NULL when payload_len is 0).
 * @param[in]  tags     ntags tags (NULL when ntags is 0), each
 *                      1..RS_TAG_MAX bytes of UTF-8, no duplicates.
 * @param[in]  ntags    0..RS_TAGS_MAX.
 * @param[in]  parent   The id of an existing trace of the run, or
 *                      RS_TRACE_NONE.
 * @param[out] id_out   The new id; may be NULL.
 * @return 0, RS_ENOTFOUND (no such parent), RS_EINVAL, RS_ETOOBIG,
 *         RS_EUTF8, RS_EARCHIVED (the run is archived), RS_ECORRUPT,
 *         RS_ENOMEM or RS_EIO.
 * Thread safety: any thread.
 */
RS_API int rs_tracestore_record(rs_db *db, const rs_run_id *run,
				const char *type, size_t type_len,
				const void *payload, size_t payload_len,
				const rs_bytes *tags, size_t ntags,
				uint64_t parent, uint64_t *id_out);

/**
 * One-shot read of one trace on the lock-free fast path. Its type, tags
 * and payload are copied into buf; t_out's views point there.
 *
 * @param[out] t_out       The trace; undefined unless 0 is returned.
 * @param[out] needed_out  Bytes of buf used, or needed on RS_ENOSPC; may
 *                         be NULL.
 * @return 0, RS_ENOTFOUND, RS_ENOSPC, RS_EINVAL or RS_ECORRUPT.
 * Thread safety: any thread.
 */
RS_API int rs_tracestore_get(rs_db *db, const rs_run_id *run, uint64_t id,
			     rs_trace *t_out, void *buf, size_t cap,
			     size_t *needed_out);

/**
 * One-shot query of the traces of one type, at one snapshot, in id order,
 * through a per-type index. Cost: O(traces returned), whatever the number
 * of traces.
 *
 * @param[in,out] cursor    0 for the first page; on return, the position
 *                          after the last trace passed to cb.
 * @param[in]     limit     Most traces per page; 0 for no limit.
 * @param[out]    more_out  Whether traces remain; may be NULL.
 * @return 0, cb's nonzero return, RS_EINVAL, RS_ETOOBIG, RS_EUTF8,
 *         RS_ENOMEM or RS_ECORRUPT.
 * Thread safety: any thread.
 */
RS_API int rs_tracestore_query_by_type(rs_db *db, const rs_run_id *run,
				       const char *type, size_t type_len,
				       uint64_t *cursor, size_t limit,
				       bool *more_out,
				       rs_tracestore_trace_cb cb, void *ctx);

/**
 * One-shot query of the traces carrying one tag; as
 * rs_tracestore_query_by_type(). Tags match exactly ("a" never matches "a__b").
 * Cost: O(traces returned) (a per-tag index).
 *
 * @return 0, cb's nonzero return, RS_EINVAL, RS_ETOOBIG, RS_EUTF8,
 *         RS_ENOMEM or RS_ECORRUPT.
 * Thread safety: any thread.
 */
RS_API int rs_tracestore_query_by_tag(rs_db *db, const rs_run_id *run,
				      const char *tag, size_t tag_len,
				      uint64_t *cursor, size_t limit,
				      bool *more_out, rs_tracestore_trace_cb cb,
				      void *ctx);

/**
 * One-shot query of the children of a trace, in id order; as
 * rs_tracestore_query_by_type(). An id without children gives none (not
 * RS_ENOTFOUND). Cost: O(traces returned) (a per-parent index).
 *
 * @return 0, cb's nonzero return, RS_EINVAL (also parent RS_TRACE_NONE or
 *         a pending handle), RS_ENOMEM or RS_ECORRUPT.
 * Thread safety: any thread.
 */
RS_API int rs_tracestore_children(rs_db *db, const rs_run_id *run,
				  uint64_t parent, uint64_t *cursor,
				  size_t limit, bool *more_out,
				  rs_tracestore_trace_cb cb, void *ctx);

/**
 * One-shot query of the traces with t0 <= timestamp_ns < t1, in id order
 * (timestamps never decrease along ids: a binary search). Cost: O(log
 * traces + traces returned).
 *
 * @param[in,out] cursor  0 for the first page; on return, the id after the
 *                        last trace passed to cb.
 * @return 0, cb's nonzero return, RS_EINVAL (also t0 > t1), RS_ENOMEM or
 *         RS_ECORRUPT.
 * Thread safety: any thread.
 */
RS_API int rs_tracestore_query_by_time(rs_db *db, const rs_run_id *run,
				       uint64_t t0, uint64_t t1,
				       uint64_t *cursor, size_t limit,
				       bool *more_out,
				       rs_tracestore_trace_cb cb, void *ctx);

/**
 * One-shot walk of the tree under `root`, at one snapshot, depth first,
 * pre-order (a trace before its children, children in id order), down to
 * max_depth (0: the root alone). Cost: O(traces visited).
 *
 * @return 0, cb's nonzero return, RS_ENOTFOUND (no root), RS_EINVAL (also
 *         root RS_TRACE_NONE or a pending handle), RS_ENOMEM or
 *         RS_ECORRUPT.
 * Thread safety: any thread.
 */
RS_API int rs_tracestore_get_tree(rs_db *db, const rs_run_id *run,
				  uint64_t root, unsigned max_depth,
				  rs_tracestore_tree_cb cb, void *ctx);

/**
 * Record a trace in a transaction. Its id is assigned at commit (never
 * conflicting). Until then it is visible in the transaction under a
 * pending handle (RS_TRACE_PENDING | n), which may be the parent of later
 * traces of the same transaction and is resolved to the real id at
 * commit. Pending traces appear after committed ones in the type, tag,
 * children and tree queries of the transaction, not in time queries (they
 * have no timestamp yet). An archived run fails at commit (RS_EARCHIVED).
 *
 * @param[in]  parent  A trace id in the transaction's view (a committed
 *                     id, which joins the read set, or a pending handle),
 *                     or RS_TRACE_NONE.
 * @param[out] id_out  Receives the pending handle now and, when the
 *                     transaction commits successfully, the real id; may
 *                     be NULL. It must stay valid until the commit
 *                     returns.
 * @return 0, RS_ENOTFOUND (no such parent), RS_EINVAL, RS_ETOOBIG,
 *         RS_EUTF8, RS_EREADONLY, RS_EDONE (best effort), RS_ENOMEM or
 *         RS_ECORRUPT.
 * Thread safety: owner thread.
 */
RS_API int rs_txn_tracestore_record(rs_txn *txn, const char *type,
				    size_t type_len, const void *payload,
				    size_t payload_len, const rs_bytes *tags,
				    size_t ntags, uint64_t parent,
				    uint64_t *id_out);

/**
 * Read one trace (committed id or pending handle) in a transaction.
 *
 * @param[out] t_out  Views valid until the transaction ends.
 * @return 0, RS_ENOTFOUND, RS_EINVAL, RS_EDONE (best effort), RS_ENOMEM or
 *         RS_ECORRUPT.
 * Thread safety: owner thread.
 */
RS_API int rs_txn_tracestore_get(rs_txn *txn, uint64_t id, rs_trace *t_out);

/**
 * rs_tracestore_query_by_type() in a transaction's view: the committed
 * traces, then the transaction's pending ones (the cursor counts both).
 * Cost: O(traces returned), plus one pass over the transaction's pending
 * appends and records.
 *
 * @return 0, cb's nonzero return, RS_EINVAL, RS_ETOOBIG, RS_EUTF8,
 *         RS_EDONE (best effort), RS_ENOMEM or RS_ECORRUPT.
 * Thread safety: owner thread.
 */
RS_API int rs_txn_tracestore_query_by_type(rs_txn *txn, const char *type,
					   size_t type_len, uint64_t *cursor,
					   size_t limit, bool *more_out,
					   rs_tracestore_trace_cb cb,
					   void *ctx);

/**
 * rs_tracestore_query_by_tag() in a transaction's view, pending traces
 * last; cost as rs_txn_tracestore_query_by_type().
 *
 * @return 0, cb's nonzero return, RS_EINVAL, RS_ETOOBIG, RS_EUTF8,
 *         RS_EDONE (best effort), RS_ENOMEM or RS_ECORRUPT.
 * Thread safety: owner thread.
 */
RS_API int rs_txn_tracestore_query_by_tag(rs_txn *txn, const char *tag,
					  size_t tag_len, uint64_t *cursor,
					  size_t limit, bool *more_out,
					  rs_tracestore_trace_cb cb, void *ctx);

/**
 * rs_tracestore_children() in a transaction's view (parent may be a
 * pending handle), pending traces last; cost as
 * rs_txn_tracestore_query_by_type().
 *
 * @return 0, cb's nonzero return, RS_EINVAL (also parent RS_TRACE_NONE),
 *         RS_EDONE (best effort), RS_ENOMEM or RS_ECORRUPT.
 * Thread safety: owner thread.
 */
RS_API int rs_txn_tracestore_children(rs_txn *txn, uint64_t parent,
				      uint64_t *cursor, size_t limit,
				      bool *more_out, rs_tracestore_trace_cb cb,
				      void *ctx);

/**
 * rs_tracestore_query_by_time() on the committed traces of the
 * transaction's snapshot; same cost.
 *
 * @return 0, cb's nonzero return, RS_EINVAL (also t0 > t1), RS_EDONE (best
 *         effort), RS_ENOMEM or RS_ECORRUPT.
 * Thread safety: owner thread.
 */
RS_API int rs_txn_tracestore_query_by_time(rs_txn *txn, uint64_t t0,
					   uint64_t t1, uint64_t *cursor,
					   size_t limit, bool *more_out,
					   rs_tracestore_trace_cb cb,
					   void *ctx);

/**
 * rs_tracestore_get_tree() in a transaction's view (root may be a pending
 * handle). Cost: O(traces visited), plus one pass over the transaction's
 * pending appends and records per trace visited (none when it has none).
 *
 * @return 0, cb's nonzero return, RS_ENOTFOUND (no root), RS_EINVAL (also
 *         root RS_TRACE_NONE), RS_EDONE (best effort), RS_ENOMEM or
 *         RS_ECORRUPT.
 * Thread safety: owner thread.
 */
RS_API int rs_txn_tracestore_get_tree(rs_txn *txn, uint64_t root,
				      unsigned max_depth,
				      rs_tracestore_tree_cb cb, void *ctx);

/* ------------------------------------------------------------------ */
/* RunIndex                                                            */
/* ------------------------------------------------------------------ */

/*
 * The RunIndex is global: it registers runs with metadata (an optional
 * unique name, a parent, tags, opaque metadata bytes) and a lifecycle.
 * Data operations do not need a registered run (any non-nil RunId is a
 * namespace); registration adds metadata and the lifecycle. Reads are
 * lock-free snapshots, like every other read. A malformed stored entry is
 * reported as RS_ECORRUPT.
 *
 * Statuses and the only transitions allowed:
 *   Active    -> Paused, Completed, Failed, Cancelled
 *   Paused    -> Active, Cancelled
 *   Completed, Failed, Cancelled -> Archived
 *   Archived is terminal; an archived run's data is read-only (every write
 *   to it fails with RS_EARCHIVED).
 */

/** A run's lifecycle status. */
typedef enum rs_run_status {
	RS_RUN_ACTIVE = 0,
	RS_RUN_PAUSED = 1,
	RS_RUN_COMPLETED = 2,
	RS_RUN_FAILED = 3,
	RS_RUN_CANCELLED = 4,
	RS_RUN_ARCHIVED = 5
} rs_run_status;

/**
 * The lower-case name of a status ("active", ..., "archived"), a static
 * string, never NULL ("unknown" for other values). With the from_out of
 * rs_runindex_transition() it names both sides of a refused transition.
 * Thread safety: any thread.
 */
RS_API const char *rs_run_status_name(rs_run_status status);

/**
 * Whether from -> to is an allowed transition (the table above). Unknown
 * statuses and from == to are not.
 * Thread safety: any thread.
 */
RS_API bool rs_runindex_transition_allowed(rs_run_status from,
					   rs_run_status to);

/**
 * A registered run, as read. A borrowed view: name, metadata and tags
 * point into memory whose lifetime the reading function states. Tags are
 * read with rs_run_info_tag().
 */
typedef struct rs_run_info {
	rs_run_id id;
	rs_run_status status;
	bool has_parent;
	rs_run_id parent; /* all zero unless has_parent */
	uint64_t created_ns;
	uint64_t updated_ns; /* the last transition, or created_ns */
	rs_bytes name;	     /* data NULL when unnamed */
	rs_bytes metadata;
	size_t ntags;
	const void *tags_enc; /* private: the encoded tags */
} rs_run_info;

/** Called once per run by the list and query functions, in registration
 *  order; the views are valid only during the call. */
typedef int (*rs_runindex_run_cb)(const rs_run_info *info, void *ctx);

/**
 * Tag i of a run, as a view with the info's own lifetime.
 *
 * @param[out] tag_out  The tag.
 * @return 0 or RS_EINVAL (NULL argument, i >= info->ntags).
 * Thread safety: any thread.
 */
RS_API int rs_run_info_tag(const rs_run_info *info, size_t i,
			   rs_bytes *tag_out);

#define RS_RUNINDEX_CREATE_OPTIONS_VERSION 1

/** Options of rs_runindex_create(). Initialize with
 *  RS_RUNINDEX_CREATE_OPTIONS_INIT; every field is optional. */
typedef struct rs_runindex_create_options {
	/** RS_RUNINDEX_CREATE_OPTIONS_VERSION. */
	uint32_t version;
	/** The run's id (not nil), or NULL for a new random one. */
	const rs_run_id *id;
	/** A unique name (1..RS_NAME_MAX bytes of UTF-8), or NULL. */
	const char *name;
	size_t name_len;
	/** The parent run (need not be registered; not nil, not the run
	 *  itself), or NULL. */
	const rs_run_id *parent;
	/** 0..RS_TAGS_MAX tags, each 1..RS_TAG_MAX bytes of UTF-8. */
	const rs_bytes *tags;
	size_t ntags;
	/** 0..RS_VALUE_MAX bytes kept as they are. */
	const void *metadata;
	size_t metadata_len;
} rs_runindex_create_options;

#define RS_RUNINDEX_CREATE_OPTIONS_INIT                                        \
	{                                                                      \
		RS_RUNINDEX_CREATE_OPTIONS_VERSION, NULL, NULL, 0, NULL, NULL, \
			0, NULL, 0                                             \
	}

/**
 * Register a run, Active. Its data (if any was written before) is kept.
 *
 * @param[in]  db      The database.
 * @param[in]  opts    Options; NULL for all defaults.
 * @param[out] id_out  The run's id; may be NULL.
 * @return 0, RS_EEXIST (the id is registered, or the name taken),
 *         RS_EINVAL, RS_ETOOBIG, RS_EUTF8, RS_EVERSION (opts->version
 *         unknown), RS_ECORRUPT, RS_ENOMEM or RS_EIO (also: no random
 *         source for a new id).
 * Thread safety: any thread.
 */
RS_API int rs_runindex_create(rs_db *db, const rs_runindex_create_options *opts,
			      rs_run_id *id_out);

/**
 * Read a registered run on the lock-free fast path. Its name, tags and
 * metadata are copied into buf; info_out's views point there.
 *
 * @param[out] info_out    The run; undefined unless 0 is returned.
 * @param[out] needed_out  Bytes of buf used, or needed on RS_ENOSPC; may
 *                         be NULL.
 * @return 0, RS_ENOTFOUND, RS_ENOSPC, RS_EINVAL or RS_ECORRUPT.
 * Thread safety: any thread.
 */
RS_API int rs_runindex_get(rs_db *db, const rs_run_id *id,
			   rs_run_info *info_out, void *buf, size_t cap,
			   size_t *needed_out);

/**
 * rs_runindex_get() by name (1..RS_NAME_MAX bytes of UTF-8), at one
 * snapshot.
 *
 * @return 0, RS_ENOTFOUND, RS_ENOSPC, RS_EINVAL, RS_ETOOBIG, RS_EUTF8,
 *         RS_ENOMEM or RS_ECORRUPT.
 * Thread safety: any thread.
 */
RS_API int rs_runindex_get_by_name(rs_db *db, const char *name, size_t name_len,
				   rs_run_info *info_out, void *buf, size_t cap,
				   size_t *needed_out);

/**
 * List registered runs in registration order, at one snapshot. Cost:
 * O(log R + runs returned) per page, R being the runs registered: a range
 * scan of an ordered registration list from the cursor, which holds only
 * the runs not deleted (deleted runs are not walked; see "ordered access"
 * in the KV section for what a scan steps over).
 *
 * @param[in,out] cursor    0 for the first page; on return, the position
 *                          after the last run passed to cb (pass it back
 *                          for the next page). A position, not a count:
 *                          runs deleted or registered meanwhile do not
 *                          shift it.
 * @param[in]     limit     Most runs per page; 0 for no limit.
 * @param[out]    more_out  Whether runs remain after this page (one more
 *                          is read to tell); may be NULL.
 * @return 0, cb's nonzero return, RS_EINVAL, RS_ENOMEM or RS_ECORRUPT.
 * Thread safety: any thread.
 */
RS_API int rs_runindex_list(rs_db *db, uint64_t *cursor, size_t limit,
			    bool *more_out, rs_runindex_run_cb cb, void *ctx);

/**
 * The registered runs in one status, in registration order; as
 * rs_runindex_list(). Through a per-status index that every transition
 * updates in its own commit: cost O(log R + runs returned), however many
 * runs are in other statuses.
 *
 * @return 0, cb's nonzero return, RS_EINVAL (also an unknown status),
 *         RS_ENOMEM or RS_ECORRUPT.
 * Thread safety: any thread.
 */
RS_API int rs_runindex_query_by_status(rs_db *db, rs_run_status status,
				       uint64_t *cursor, size_t limit,
				       bool *more_out, rs_runindex_run_cb cb,
				       void *ctx);

/**
 * The registered runs carrying a tag, in registration order; as
 * rs_runindex_list(). Through a per-tag index: cost O(log R + runs
 * returned).
 *
 * @return 0, cb's nonzero return, RS_EINVAL, RS_ETOOBIG, RS_EUTF8,
 *         RS_ENOMEM or RS_ECORRUPT.
 * Thread safety: any thread.
 */
RS_API int rs_runindex_query_by_tag(rs_db *db, const char *tag, size_t tag_len,
				    uint64_t *cursor, size_t limit,
				    bool *more_out, rs_runindex_run_cb cb,
				    void *ctx);

/**
 * The registered runs whose parent is `parent`, in registration order; as
 * rs_runindex_list(). Through a per-parent index: cost O(log R + runs
 * returned).
 *
 * @return 0, cb's nonzero return, RS_EINVAL (also a nil parent),
 *         RS_ENOMEM or RS_ECORRUPT.
 * Thread safety: any thread.
 */
RS_API int rs_runindex_query_by_parent(rs_db *db, const rs_run_id *parent,
				       uint64_t *cursor, size_t limit,
				       bool *more_out, rs_runindex_run_cb cb,
				       void *ctx);

/**
 * Move a run to status `to`. Entering Archived makes the run's data
 * read-only at once: a write commit of the run either committed before or
 * fails with RS_EARCHIVED.
 *
 * @param[out] from_out  The status the run was in; set on 0 and on
 *                       RS_ETRANSITION (so rs_run_status_name() can name
 *                       both sides); may be NULL.
 * @return 0, RS_ETRANSITION (not allowed from the current status;
 *         nothing changed), RS_ENOTFOUND (not registered), RS_EINVAL
 *         (also `to` not a status; from_out is then not set),
 *         RS_ECORRUPT, RS_ENOMEM or RS_EIO.
 * Thread safety: any thread.
 */
RS_API int rs_runindex_transition(rs_db *db, const rs_run_id *id,
				  rs_run_status to, rs_run_status *from_out);

/**
 * Delete a run: its RunIndex entry (if registered) and all its data, of
 * every primitive, in one atomic step (one durability record). Any status
 * may be deleted, Archived included. A snapshot of the run taken before
 * sees all of it, one taken after sees none; afterwards the id is an
 * empty, unregistered namespace again, whose next life continues past
 * every version, sequence, trace id and cell version of this one (see
 * "Lives of a run id"). Transactions on the run that read anything of it
 * conflict; one that only wrote commits into the next life. The run's
 * memory is freed once no transaction can see it (the unified store, a
 * benchmark baseline, keeps its tombstones as it keeps every key's).
 *
 * @return 0, RS_ENOTFOUND (neither registered nor any data), RS_EINVAL,
 *         RS_ECORRUPT, RS_ENOMEM or RS_EIO.
 * Thread safety: any thread.
 */
RS_API int rs_runindex_delete(rs_db *db, const rs_run_id *id);

#ifdef __cplusplus
}
#endif

/* Backend-author material: rs_durability_ops, rs_commit_record. */
#include <runstate/durability.h>

#endif /* RUNSTATE_H */
