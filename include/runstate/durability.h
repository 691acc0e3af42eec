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

#define RS_DURABILITY_OPS_VERSION 1

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
};

/** A backend that provides nothing yet: set at least `commit`. */
#define RS_DURABILITY_OPS_INIT                                    \
	{                                                         \
		RS_DURABILITY_OPS_VERSION, NULL, NULL, NULL, NULL \
	}

#ifdef __cplusplus
}
#endif

#endif /* RUNSTATE_DURABILITY_H */
