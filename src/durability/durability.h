/* SPDX-License-Identifier: MIT */
#ifndef RS_DURABILITY_DURABILITY_H
#define RS_DURABILITY_DURABILITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <runstate.h>

#include "durability/io.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/op.h"

/*
 * The durability layer sits beneath the commit path: every committed write
 * transaction hands exactly one record to it, under its run's commit lock,
 * after validation and before its versions become visible. A backend that
 * fails leaves the commit unapplied.
 *
 * This layer depends on util/ only. What it needs from the database above
 * (replaying records into the store at recovery, a consistent image of
 * every run for a checkpoint) it gets through an rs__dur_host of callbacks
 * that the txn layer provides (txn/replay.c).
 *
 * Backends: InMemory (mem.c), the write-ahead log for Buffered and Strict
 * (wal*.c, recovery.c, checkpoint.c), and an adapter for a user's public
 * rs_durability_ops (custom.c).
 */

/*
 * Record kinds: the values of rs_record_kind, also the on-disk values.
 * RS__REC_COMMIT applies its ops to its run. RS__REC_DROP_RUN is a commit
 * that also drops a second run: besides applying its ops to its own run,
 * replaying it deletes every key of drop_run (of every tag) and sets that
 * run's version to drop_version. Both halves are one atomic record; what
 * the ops mean is the business of the layers above.
 */
#define RS__REC_COMMIT 1u
#define RS__REC_DROP_RUN 2u

typedef struct rs__commit_record {
	uint32_t kind;	       /* RS__REC_* */
	const rs_run_id *run;  /* the run */
	uint64_t version;      /* the run's new commit version */
	uint64_t timestamp_ns; /* 0: the backend stamps it if it logs */
	const rs__op *ops;
	size_t nops;
	rs_durability mode; /* the mode this commit asks for */
	/* RS__REC_DROP_RUN only (NULL and 0 otherwise): the run whose every
	 * key this record also deletes, and its new version. */
	const rs_run_id *drop_run;
	uint64_t drop_version; /* drop_run's new commit version */
} rs__commit_record;

/* Receives a consistent image of every run, one run at a time: run(), then
 * entry() for each of its live keys. */
typedef struct rs__image_sink {
	int (*run)(void *ctx, const rs_run_id *run, uint64_t version);
	int (*entry)(void *ctx, uint8_t tag, const void *key, size_t klen,
		     const void *val, size_t vlen);
	void *ctx;
} rs__image_sink;

/* What the database provides to its backend. */
typedef struct rs__dur_host {
	/*
	 * Recovery, single-threaded, before any commit. Apply one logged
	 * record at its version; ops[i].hash and .prep are the host's to
	 * write. Returns 0 (applied), 1 (skipped: the run is already at or
	 * past rec's version), RS_ECORRUPT (a version gap, unless the host
	 * was told to salvage) or RS_ENOMEM.
	 */
	int (*replay)(void *ctx, const rs__commit_record *rec, rs__op *ops);
	/*
	 * Recovery: install `ops` (puts of distinct keys) in `run` at
	 * `version` and make that version current. May be called several
	 * times for one run with the same version (chunks of its image).
	 */
	int (*load)(void *ctx, const rs_run_id *run, uint64_t version,
		    rs__op *ops, size_t nops);
	/*
	 * Checkpoint, concurrently with commits: stream through `sink` an
	 * image of every run that existed when the call began, each as of a
	 * snapshot taken after every commit already handed to the backend
	 * when the call began has been published.
	 */
	int (*image)(void *ctx, const rs__image_sink *sink);
	void *ctx;
} rs__dur_host;

/*
 * A backend. Internal, so it has no version field: only the public
 * rs_durability_ops (adapted by custom.c) crosses the ABI.
 */
typedef struct rs__durability_ops {
	/* Must provide. Returns 0 once the record is as durable as
	 * rec->mode promises, or RS_EIO / RS_ENOMEM / RS_ETOOBIG. */
	int (*commit)(void *state, const rs__commit_record *rec);
	/* May be NULL. Called once by open, before any commit. */
	int (*recover)(void *state, const rs__dur_host *host);
	/* May be NULL. Make everything accepted so far durable. */
	int (*flush)(void *state);
	/* May be NULL (RS_ENOTSUP). Write a checkpoint. */
	int (*checkpoint)(void *state);
	/* May be NULL (all zero). Fill the counters of *out. */
	void (*stats)(void *state, rs_db_stats *out);
	/* May be NULL. Flush and release everything. */
	void (*close)(void *state);
	/* May be NULL (RS_ENOTSUP). A follower becomes the writer. */
	int (*promote)(void *state);
} rs__durability_ops;

typedef struct rs__durability {
	const rs__durability_ops *ops;
	void *state;
} rs__durability;

/* InMemory: no files; every commit is accepted as is. */
int rs__durability_mem_open(rs__durability *out, const rs__alloc *a);

/* Configuration of the write-ahead log (Buffered and Strict). */
typedef struct rs__wal_config {
	const char *path;
	const rs__io *io; /* the file layer (io.h) */
	rs_durability mode;
	uint64_t flush_interval_ns;
	uint64_t flush_batch_commits;
	uint64_t flush_batch_bytes;
	uint64_t checkpoint_bytes; /* UINT64_MAX: never automatic */
	uint64_t segment_bytes;
	bool salvage;
} rs__wal_config;

/*
 * Take the directory's lock (creating the directory and the lock file if
 * needed): RS_EBUSY when another handle holds it. Done first by open, so a
 * busy directory is reported before anything else is touched. A child
 * fork()ed while the lock is held does not keep it (wal_file.c).
 */
typedef struct rs__dirlock rs__dirlock;
int rs__wal_lock_dir(const rs__alloc *a, const rs__io *io, const char *path,
		     rs__dirlock **out);
/* Release it (NULL: nothing). */
void rs__wal_unlock_dir(const rs__alloc *a, rs__dirlock *lock);

/*
 * Open the log in cfg->path through cfg->io (locked by `lock`, taken
 * through the same io, which it takes over, also on failure): recover through `host` (which must stay valid until close),
 * then start the flusher and checkpointer threads.
 */
int rs__durability_wal_open(rs__durability *out, const rs__alloc *a,
			    const rs__wal_config *cfg, rs__dirlock *lock,
			    const rs__dur_host *host);

/* A user's backend behind the internal interface. `ops` is read at open
 * (only the fields its version has). */
int rs__durability_custom_open(rs__durability *out, const rs__alloc *a,
			       const rs_durability_ops *ops, void *ctx);
/* Whether d is such a backend (rs_db_apply needs one). */
bool rs__durability_is_custom(const rs__durability *d);

/*
 * A public record as an internal one, checked: RS_EINVAL for an unknown
 * kind, version 0, a DROP_RUN without its run or version, a tag 0, a key
 * or value outside its limits, or (public_tags) a tag outside rs_tag.
 * *ops_out (free with rs__free) holds views of rec's bytes; out->run and
 * ->drop_run point into rec.
 */
int rs__record_from_public(const rs__alloc *a, const rs_commit_record *rec,
			   bool public_tags, rs__commit_record *out,
			   rs__op **ops_out);

/*
 * Loading an image (a checkpoint) into host->load, one run at a time in
 * chunks (image.c): run() starts a run (ending the one before), entry()
 * adds one of its keys, finish() ends the last run. With `copy` the keys
 * and values are copied (the caller's views die after each call); without
 * it they must live until finish().
 */
typedef struct rs__image_loader {
	const rs__alloc *alloc;
	const rs__dur_host *host;
	rs__op *ops;
	size_t n, cap;
	rs__arena bytes; /* copies, with `copy` */
	size_t nbytes;
	bool copy;
	rs_run_id run;
	uint64_t version;
	bool have_run, loaded;
} rs__image_loader;

void rs__image_loader_init(rs__image_loader *ld, const rs__alloc *a,
			   const rs__dur_host *host, bool copy);
int rs__image_loader_run(rs__image_loader *ld, const rs_run_id *run,
			 uint64_t version);
int rs__image_loader_entry(rs__image_loader *ld, const rs__op *op);
int rs__image_loader_finish(rs__image_loader *ld);
void rs__image_loader_fini(rs__image_loader *ld);

#endif
