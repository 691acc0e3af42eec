/* SPDX-License-Identifier: MIT */
/**
 * @file runstate/durability.h
 * runstate: writing a durability backend of your own.
 *
 * Most programs never need this file: the built-in write-ahead log
 * (rs_db_options.durability, RS_DURABILITY_BUFFERED or
 * RS_DURABILITY_STRICT) is the durability backend of every database that
 * sets no rs_db_options.durability_ops. This header is for backend
 * authors (libgit2's git2/sys/ idea): it declares the commit record a
 * backend receives for every committed write transaction and the vtable
 * (rs_durability_ops) the library calls, for example to ship every
 * commit to another machine. The library then creates no files.
 *
 * It includes <runstate.h> first and <runstate.h> includes it at its end,
 * so either header may be included alone.
 *
 * Start from RS_DURABILITY_OPS_INIT and set what you provide:
 *
 *     static int my_commit(void *ctx, const rs_commit_record *rec);
 *
 *     rs_durability_ops ops = RS_DURABILITY_OPS_INIT;
 *     rs_db_options o = RS_DB_OPTIONS_INIT;
 *
 *     ops.commit = my_commit;
 *     o.durability = RS_DURABILITY_STRICT;
 *     o.durability_ops = &ops;
 *     o.durability_ctx = my_state;
 *     rc = rs_db_open(&db, &o);
 *
 * A backend is called with the record of every committed write
 * transaction, under the commit lock of its run, before its writes become
 * visible (see rs_durability_ops.commit); with `recover` it hands records
 * back once, at open, to restore the database.
 *
 * Replication (version 2 of the struct): `checkpoint` stores the image
 * that rs_db_checkpoint() streams and `load_image` hands it back at open;
 * a second process opens the same history with RS_DB_F_FOLLOWER, feeds
 * the records it tails to rs_db_apply(), and becomes the writer with
 * rs_db_promote() (`promote` fences the old writer, whose next commit
 * then fails with RS_EFENCED). See docs/durability.md.
 */
#ifndef RUNSTATE_DURABILITY_H
#define RUNSTATE_DURABILITY_H

#include <runstate.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Primitive tags: the key space of each primitive inside a run, as seen in
 * commit records and checkpoints.
 */
typedef enum rs_tag {
	RS_TAG_KV = 1,
	RS_TAG_EVENTLOG = 2,
	RS_TAG_STATECELL = 3,
	RS_TAG_TRACESTORE = 4,
	RS_TAG_RUNINDEX = 5
} rs_tag;

/** Kind of a commit record. */
typedef enum rs_record_kind {
	/** A committed write transaction: its ops, in staging order. */
	RS_RECORD_COMMIT = 1,
	/** A RunIndex delete, one atomic step over two runs: the ops apply
	 *  to `run` (the nil RunId, where the RunIndex lives) at `version`,
	 *  and every key of `drop_run`, of every tag, is deleted at
	 *  `drop_version` (that run's next version). */
	RS_RECORD_DROP_RUN = 2
} rs_record_kind;

/** One write of a commit record. */
typedef struct rs_record_op {
	/** Primitive tag (rs_tag). */
	uint8_t tag;
	/** True for a delete; `value` is then {NULL, 0}. */
	bool is_delete;
	/** 1..RS_KEY_MAX bytes. */
	rs_bytes key;
	/** 0..RS_VALUE_MAX bytes; data is non-NULL for a put. */
	rs_bytes value;
} rs_record_op;

/**
 * What a durability backend receives for each committed write transaction
 * (and what it hands back at recovery). Every pointer is a borrowed view,
 * valid only during the callback it is passed to.
 */
typedef struct rs_commit_record {
	/** rs_record_kind. */
	uint32_t kind;
	/** The durability this commit asks for: the database's mode or the
	 *  transaction's override. Ignored by replay. */
	rs_durability mode;
	/** The run. */
	rs_run_id run;
	/** The run's new commit version: 1 for its first commit, then one
	 *  more per commit. */
	uint64_t version;
	/** Commit time, nanoseconds since the Unix epoch. */
	uint64_t timestamp_ns;
	/** The writes. */
	const rs_record_op *ops;
	size_t nops;
	/** RS_RECORD_DROP_RUN only (all zero otherwise): the run whose every
	 *  key this record deletes, and that run's new version. */
	rs_run_id drop_run;
	uint64_t drop_version;
} rs_commit_record;

/**
 * Applies one record during recovery (see rs_durability_ops.recover).
 * Returns 0, or a negative RS_E* code that the backend must return.
 */
typedef int (*rs_replay_fn)(const rs_commit_record *rec, void *ctx);

/**
 * Where a checkpoint image goes (rs_image_fn) and where one comes from at
 * open (rs_durability_ops.load_image): run by run, run() once, then
 * entry() once per live key of that run (of every tag; key 1..RS_KEY_MAX
 * bytes, value 0..RS_VALUE_MAX bytes). Every pointer is a borrowed view,
 * valid only during the call. A negative return stops the stream and is
 * returned by whoever drives it.
 *
 * An image also carries the library's own state of a run as entries of
 * tags outside rs_tag (a run's base, the database's drop mark): store
 * and load every entry as it is, whatever its tag.
 */
typedef struct rs_image_sink {
	/** A run, at `version` (the commit it is imaged at). */
	int (*run)(void *ctx, const rs_run_id *run, uint64_t version);
	/** One entry of the run last given to run(). */
	int (*entry)(void *ctx, uint8_t tag, rs_bytes key, rs_bytes value);
	void *ctx;
} rs_image_sink;

/**
 * Streams the database's consistent image into *sink: what
 * rs_durability_ops.checkpoint receives, with `image_ctx`, to call once.
 * Returns 0, a negative return of the sink, or RS_ENOMEM.
 */
typedef int (*rs_image_fn)(void *image_ctx, const rs_image_sink *sink);

/** Version 2 added checkpoint, load_image, promote and stat (after
 *  close). A version-1 struct (without them) is still accepted: only its
 *  fields are read. */
#define RS_DURABILITY_OPS_VERSION 2

/**
 * A durability backend of your own (rs_db_options.durability_ops), in place
 * of the built-in write-ahead log. The library calls it as below and
 * creates no files. `ctx` is rs_db_options.durability_ctx. Initialize with
 * RS_DURABILITY_OPS_INIT; the struct must stay valid until rs_db_close()
 * returns.
 */
struct rs_durability_ops {
	/** RS_DURABILITY_OPS_VERSION. */
	uint32_t version;
	/**
	 * Must provide. Make `rec` as durable as rec->mode asks and return 0;
	 * or return a negative RS_E* code (RS_EIO, RS_ENOMEM): the commit is
	 * then not applied and rs_txn_commit() returns that code. Called once
	 * per committed write transaction, after validation and before its
	 * writes become visible, under the run's commit lock: the records of
	 * one run arrive one at a time, in version order; records of
	 * different runs may arrive concurrently from several threads.
	 */
	int (*commit)(void *ctx, const rs_commit_record *rec);
	/**
	 * May be NULL. Called once by rs_db_open() before any commit: call
	 * `replay(rec, replay_ctx)` for every record to restore, in commit
	 * order (per run, versions 1, 2, 3... without gaps; records at or
	 * below a run's current version are skipped). Return 0, or a
	 * negative RS_E* code (a nonzero return of `replay` included), which
	 * rs_db_open() returns.
	 */
	int (*recover)(void *ctx, rs_replay_fn replay, void *replay_ctx);
	/** May be NULL. Make every record accepted so far durable
	 *  (rs_db_flush()). Return 0 or a negative RS_E* code. */
	int (*flush)(void *ctx);
	/** May be NULL. Called once by rs_db_close() (and by a failed
	 *  rs_db_open() after `recover`), after the last commit. */
	void (*close)(void *ctx);

	/* ---- version 2 ---- */

	/**
	 * May be NULL (rs_db_checkpoint() then returns RS_ENOTSUP). Called
	 * by rs_db_checkpoint() (never by a follower): call
	 * `image(image_ctx, &sink)` exactly once. It streams every run
	 * (run(), then entry() per live key of every tag), each as of a
	 * snapshot taken after every record already returned from `commit`
	 * when image() was called; commits of other threads go on
	 * meanwhile. Store the image with the log position it covers (the
	 * position of the last record acknowledged before calling image());
	 * then the log before it may be trimmed: `load_image` plus the
	 * records after that position restore the database. Return 0, or a
	 * negative RS_E* code (image()'s included), which rs_db_checkpoint()
	 * returns.
	 */
	int (*checkpoint)(void *ctx, rs_image_fn image, void *image_ctx);
	/**
	 * May be NULL. Called once by rs_db_open(), before `recover`: stream
	 * the newest checkpoint into *load (for each run: run(), then
	 * entry() for each key; a run once), or do nothing. `recover` then
	 * replays the records after it (records at or below a run's version
	 * are skipped, so an overlap is harmless). Return 0, or a negative
	 * RS_E* code (a negative return of *load included: RS_ECORRUPT for
	 * an image that names a run twice or a key twice), which
	 * rs_db_open() returns.
	 */
	int (*load_image)(void *ctx, const rs_image_sink *load);
	/**
	 * May be NULL (rs_db_promote() then returns RS_ENOTSUP). Called by
	 * rs_db_promote() of a follower: return 0 once the backend has
	 * applied (rs_db_apply()) every record of the previous writer it
	 * can reach and has fenced that writer (its next commit gets
	 * RS_EFENCED); the database then accepts writes, and `commit` is
	 * called for them. A negative RS_E* code leaves it a follower.
	 */
	int (*promote)(void *ctx);
	/** May be NULL. Called by rs_db_stat(), last: fill the replication
	 *  fields of *out (repl_position, repl_lag_records, repl_lag_ns).
	 *  Any thread, concurrently with everything else. */
	void (*stat)(void *ctx, rs_db_stats *out);
};

/** A backend that provides nothing yet: set at least `commit`. */
#define RS_DURABILITY_OPS_INIT                                                 \
	{                                                                      \
		RS_DURABILITY_OPS_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, \
			NULL, NULL                                             \
	}

/**
 * Apply a record committed by another writer (or resolved by the backend
 * after an ambiguous failure) to a database opened with durability_ops,
 * without calling durability_ops->commit: the replication path of a
 * follower (RS_DB_F_FOLLOWER), which a backend calls as it tails its log.
 *
 * It goes through the commit path of the library: under the run's commit
 * lock (for a RS_RECORD_DROP_RUN record, the nil run's, then the dropped
 * run's), every write is installed at rec->version and published at once,
 * so a reader's snapshot sees all of the record or none of it, and
 * reclamation keeps what open snapshots can see. A DROP_RUN record drops
 * its second run in the same step, at rec->drop_version. What the library
 * derives from the data (archived runs refusing writes, the drop mark,
 * bases, EventLog hash chains) ends as it would after the same commit on
 * the writer.
 *
 * The first record of a run's life (the run does not exist, or its life
 * has no commit yet) may have any version: the life starts below it.
 * After that a run's records must come one version at a time.
 *
 * @param[in] db   Opened with durability_ops (a follower or not).
 * @param[in] rec  The record, as `commit` received it on the writer
 *                 (kind, run, version, ops; drop_run and drop_version for
 *                 RS_RECORD_DROP_RUN; mode and timestamp_ns are
 *                 ignored). Read during the call only.
 * @return 0 (applied), 1 (skipped: the run is already at or past
 *         rec->version), RS_ECORRUPT (a version gap: a record of the run
 *         is missing; or the record contradicts the database's state),
 *         RS_EINVAL (NULL argument, a malformed record: unknown kind or
 *         tag, version 0, a key or value outside its limits, the same key
 *         twice; or a database without durability_ops), RS_ERANGE (a
 *         version past what a run may hold) or RS_ENOMEM. Nothing is
 *         applied on an error.
 * Never call it from inside a durability_ops callback.
 * Thread safety: any thread; records of one run in version order (a
 * DROP_RUN record is a record of both its runs).
 */
RS_API int rs_db_apply(rs_db *db, const rs_commit_record *rec);

/**
 * Follower to writer: calls durability_ops->promote, then accepts writes
 * (their records go to `commit`). Versions continue from what was
 * applied. Transactions begun before it stay read-only.
 *
 * @return 0, RS_EINVAL (NULL, or not a follower: never one, or promoted
 *         already), RS_ENOTSUP (the backend has no `promote`), or the
 *         backend's error (the database stays a follower).
 * Thread safety: any thread; one promotion at a time.
 */
RS_API int rs_db_promote(rs_db *db);

#ifdef __cplusplus
}
#endif

#endif /* RUNSTATE_DURABILITY_H */
