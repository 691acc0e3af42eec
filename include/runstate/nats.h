/* SPDX-License-Identifier: MIT */
/**
 * @file runstate/nats.h
 * runstate_nats: replicate a database through a NATS JetStream cluster.
 *
 * An optional library beside the core (librunstate_nats, built when the
 * NATS C client is found; the core library does not depend on it). It is
 * a durability backend (<runstate/durability.h>): every commit record of
 * the database is published to one JetStream stream, and the database is
 * restored from that stream (and the newest checkpoint in it) when it is
 * opened, on any machine that reaches the cluster. docs/replication.md
 * describes the guarantees of each mode, fencing, the failure cases and
 * how to run a cluster for it.
 *
 *     rs_nats_options no = RS_NATS_OPTIONS_INIT;
 *     rs_db_options o = RS_DB_OPTIONS_INIT;
 *     rs_nats *n;
 *     rs_db *db;
 *
 *     no.servers = "nats://10.0.0.1:4222,nats://10.0.0.2:4222";
 *     no.name = "agents";
 *     no.replicas = 3;
 *     o.durability = RS_DURABILITY_STRICT;
 *     rc = rs_nats_open(&n, &db, &no, &o);
 *     ... use db with the whole runstate.h API ...
 *     rs_nats_close(n); // closes db too
 *
 * One writer per name: the process that opens a name as the writer fences
 * every earlier writer of it (their next commit returns RS_EFENCED and
 * nothing they commit after that is stored). A process opened with
 * RS_NATS_F_FOLLOWER is a hot standby: it applies the writer's commits as
 * they are stored and serves reads; rs_nats_promote() makes it the writer.
 */
#ifndef RUNSTATE_NATS_H
#define RUNSTATE_NATS_H

#include <runstate/durability.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A database's connection to its JetStream stream. */
typedef struct rs_nats rs_nats;

#define RS_NATS_OPTIONS_VERSION 1

/** Open as a hot standby (follower) rather than as the writer. */
#define RS_NATS_F_FOLLOWER 0x1u

/** Longest rs_nats_options.name. */
#define RS_NATS_NAME_MAX 64u

/** Options of rs_nats_open(). Initialize with RS_NATS_OPTIONS_INIT. */
typedef struct rs_nats_options {
	/** RS_NATS_OPTIONS_VERSION. */
	uint32_t version;
	/** Comma-separated server URLs ("nats://127.0.0.1:4222,..."). The
	 *  client reconnects to any of them. Required. */
	const char *servers;
	/** The database's name: 1..RS_NATS_NAME_MAX of [A-Za-z0-9_-].
	 *  Its log is the stream "RS_<name>" (subject "rs.<name>.log"), its
	 *  checkpoints the stream "RS_<name>_CKPT". Required. */
	const char *name;
	/** JetStream replicas of the streams, when rs_nats_open() creates
	 *  them: 1..5 (0: 1). An existing stream keeps its own. R3 survives
	 *  the loss of one server of three. */
	int replicas;
	/** Milliseconds a commit waits for JetStream's acknowledgement before
	 *  it fails with RS_EIO (0: 2000). Also bounds each request to the
	 *  cluster made at open, flush, checkpoint and promotion. */
	uint32_t ack_timeout_ms;
	/** Records published and not acknowledged yet, at most (0: 1024):
	 *  the window of Buffered commits; a commit beyond it waits for an
	 *  acknowledgement (back-pressure). */
	uint32_t max_pending;
	/** RS_NATS_F_* flags. */
	uint32_t flags;
} rs_nats_options;

#define RS_NATS_OPTIONS_INIT                                    \
	{                                                       \
		RS_NATS_OPTIONS_VERSION, NULL, NULL, 0, 0, 0, 0 \
	}

/**
 * Connects to the cluster, creates the streams of `opts->name` when they
 * do not exist, and opens *db_out with `db_opts` (NULL: the defaults) and
 * this backend as its rs_db_options.durability_ops: the database is
 * restored from the newest complete checkpoint and the records after it.
 * The writer then publishes a fence record, which fences every earlier
 * writer of the name. With RS_NATS_F_FOLLOWER the database is a follower
 * (RS_DB_F_FOLLOWER: writes return RS_EREADONLY) that applies the
 * stream's new records on a background thread.
 *
 * db_opts->durability is the default mode of commits
 * (RS_DURABILITY_INMEMORY is taken as RS_DURABILITY_BUFFERED);
 * durability_ops, durability_ctx and path must be unset.
 * db_opts->allocator (all three hooks or none) also serves the backend's
 * own memory (its state, the ring of records in flight, batches, decoded
 * records, checkpoint chunks and images), so the hooks must stay valid
 * until rs_nats_close() returns; the NATS client and xxHash's checkpoint
 * hash state use the C library's malloc.
 *
 * @param[out] out      The backend; NULL on failure.
 * @param[out] db_out   Its database; NULL on failure.
 * @param[in]  opts     Connection and stream options.
 * @param[in]  db_opts  Database options, or NULL.
 * @return 0; RS_EINVAL (NULL, a bad option); RS_EVERSION; RS_EIO (the
 *         cluster did not answer within the bounds of ack_timeout_ms, or
 *         refused); RS_ECORRUPT (a record or checkpoint that does not
 *         decode, a log trimmed past the checkpoint); RS_ENOMEM. On
 *         failure nothing is left open.
 * Thread safety: any thread.
 */
RS_API int rs_nats_open(rs_nats **out, rs_db **db_out,
			const rs_nats_options *opts,
			const rs_db_options *db_opts);

/**
 * Follower -> writer (rs_db_promote()): applies every record stored so
 * far, publishes a fence record (retried while the old writer still
 * commits), and makes the database writable. From then on the old
 * writer's commits fail with RS_EFENCED.
 *
 * @return 0; RS_EINVAL (NULL, not a follower: never one, or promoted
 *         already); RS_EIO (the cluster did not answer in time: still a
 *         follower, retry).
 * Thread safety: any thread; one call at a time.
 */
RS_API int rs_nats_promote(rs_nats *n);

/** The database rs_nats_open() opened (NULL for NULL).
 *  Thread safety: any thread. */
RS_API rs_db *rs_nats_db(const rs_nats *n);

/**
 * Stops the follower's thread, closes the database (rs_db_close()), waits
 * for the acknowledgement of every Buffered record still in flight
 * (bounded by ack_timeout_ms; call rs_db_flush() first to learn whether
 * they were stored), disconnects and frees n. NULL is a no-op.
 * Thread safety: exclusive (after every other call on n and its database).
 */
RS_API void rs_nats_close(rs_nats *n);

#define RS_NATS_STATS_VERSION 1
/** An rs_nats_stats ready for rs_nats_stat(): the version set, the rest 0. */
#define RS_NATS_STATS_INIT                                                     \
	{                                                                      \
		RS_NATS_STATS_VERSION, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, false, \
			false, 0                                               \
	}

/** Counters of one backend (rs_nats_stat()). */
typedef struct rs_nats_stats {
	/** In: RS_NATS_STATS_VERSION. */
	uint32_t version;
	/** Records this process published and JetStream acknowledged. */
	uint64_t published;
	/** Publishes that failed (timeout, refused, fenced). */
	uint64_t publish_failures;
	/** Resynchronizations with the stream after a failure. */
	uint64_t resyncs;
	/** Records applied from the stream (follower, resync). */
	uint64_t applied;
	/** At open: the stream position of the checkpoint loaded (0: none)
	 *  and the records replayed after it. */
	uint64_t checkpoint_position;
	uint64_t replayed;
	/** At open: the first sequence still in the log (above 1 once
	 *  checkpoints have trimmed it). */
	uint64_t log_first;
	/** Checkpoints this process wrote. */
	uint64_t checkpoints;
	/** The stream position (sequence) of the newest record this
	 *  database contains. */
	uint64_t position;
	/** Follower: records stored in the stream and not applied yet, as
	 *  of the last record received; 0 when caught up. */
	uint64_t lag_records;
	/** Follower: now minus the commit time of the newest applied record,
	 *  while lag_records > 0; else 0. */
	uint64_t lag_ns;
	/** Whether this backend was fenced (every commit RS_EFENCED). */
	bool fenced;
	/** Whether it is a follower now. */
	bool follower;
	/** Follower: the error that stopped it applying records (0: none):
	 *  RS_ECORRUPT for a record that does not decode or a gap (the log
	 *  was trimmed past what it had applied: reopen it, from the newest
	 *  checkpoint). It still serves reads of what it has. */
	int error;
} rs_nats_stats;

/** Fills *out with the backend's counters.
 *  @param[in]     n    The backend.
 *  @param[in,out] out  Set out->version = RS_NATS_STATS_VERSION first (or
 *                      initialize with RS_NATS_STATS_INIT).
 *  @return 0, RS_EINVAL (NULL argument) or RS_EVERSION (unknown
 *          out->version).
 *  Thread safety: any thread. */
RS_API int rs_nats_stat(rs_nats *n, rs_nats_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* RUNSTATE_NATS_H */
