/* SPDX-License-Identifier: MIT */
/*
 * The write-ahead log backend, Buffered and Strict alike: open, the two
 * background threads (the flusher and the checkpointer), flush, stats,
 * close. What committing threads do (append a record, write a batch as
 * the writer, group commit) is in wal_commit.c; files are wal_file.c, the
 * byte format wal_format.c, and checkpoints and recovery have their own
 * files.
 *
 * Positions. The log is one stream of records cut into segment files. An
 * LSN is a byte offset in that stream (headers excluded); it keeps growing
 * across segments and restarts. `lsn_appended` is the end of the last
 * record encoded into memory, `lsn_durable` the end of the last record
 * known to be on stable storage. Each record's place (segment, offset) is
 * fixed when it is encoded, so the order of the log is the order in which
 * committers took `mu`; and since a committer holds its run's commit lock
 * when it does, the records of one run are in version order.
 *
 * Buffers and the writer. Committers append to bufs[filling] under `mu`.
 * One thread at a time is the writer (`writing`): it swaps the buffers
 * under `mu`, then writes and syncs the full one without `mu`, so
 * committers keep appending meanwhile. The writer state (seg_fd) belongs
 * to whoever set `writing`; `mu` hands it over. Batches are written in LSN
 * order, each after the previous one's fdatasync returned, which is what
 * makes the synced-LSN field of a record meaningful to recovery. The
 * writer is a Strict committer (group commit), the flusher thread, or a
 * thread in rs_db_flush(), a checkpoint or close.
 *
 * The flusher. It wakes every flush_interval_ms (idle or not) and, unless
 * a writer is already at work, writes what is pending; it is also woken
 * at once when a buffer fills (flush_batch_commits or flush_batch_bytes).
 * It is what makes a Buffered commit durable; the bound on how much such
 * commits can lose is kept by the commit path (wal_commit.c).
 *
 * The checkpointer runs checkpoints on its own thread (so they never delay
 * a flush), when the writer notes that the log has grown by
 * checkpoint_wal_bytes since the last one; rs_db_checkpoint() runs one on
 * the caller's thread. `ckpt_mu` serializes them. See checkpoint.c.
 *
 * Failure. The first failed write or sync makes `failed` RS_EIO for good:
 * every later commit fails, nothing more is written. What a failed sync
 * left on disk is unknown, so such a commit may or may not reappear after
 * a restart.
 *
 * Memory ordering. Every shared field of rs__wal is read and written with
 * `mu` held (the writer state by the thread that set `writing` under it),
 * so the mutex orders everything; there are no atomics.
 *
 * Lock order: ckpt_mu, then a run's commit lock, then mu. No file I/O
 * happens under mu.
 *
 * Lifetimes. Open allocates the rs__wal, recovers, then starts both
 * threads; a failed open frees everything, the directory lock included.
 * Close sets `shutdown`, joins the checkpointer (a checkpoint in progress
 * still reads the database, which is freed only after close returns), then
 * the flusher (which drains what is buffered), drains once more, appends
 * and syncs a CLOSE record (unless the log ends in one), and frees
 * the buffers, file descriptors, lock file and the rs__wal (wal_free).
 */
#define _GNU_SOURCE
#include "durability/wal.h"

#include <string.h>
#include <time.h>

#include "util/clock.h"
#include "util/error.h"

/* With mu held: write everything appended so far (shutdown drain). */
static void drain_locked(rs__wal *w)
{
	(void)rs__wal_wait_durable_locked(w, w->lsn_appended, false);
}

static void *flusher_main(void *arg)
{
	rs__wal *w = arg;
	uint64_t deadline;

	pthread_mutex_lock(&w->mu);
	deadline = rs__clock_monotonic_ns() + w->cfg.flush_interval_ns;
	while (!w->shutdown) {
		const rs__wal_buf *b = &w->bufs[w->filling];
		uint64_t now = rs__clock_monotonic_ns();
		struct timespec ts;

		if (b->len && !w->writing && !w->failed &&
		    (now >= deadline || rs__wal_buf_full(w, b))) {
			rs__wal_write_locked(w);
			deadline = rs__clock_monotonic_ns() +
				   w->cfg.flush_interval_ns;
			continue;
		}
		if (now >= deadline)
			deadline = now + w->cfg.flush_interval_ns;
		ts = rs__wal_timespec(deadline);
		pthread_cond_timedwait(&w->flush_cv, &w->mu, &ts);
	}
	drain_locked(w);
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static void *checkpointer_main(void *arg)
{
	rs__wal *w = arg;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->shutdown && !w->ckpt_due)
			pthread_cond_wait(&w->ckpt_cv, &w->mu);
		if (w->shutdown)
			break;
		pthread_mutex_unlock(&w->mu);
		/* A failure is retried when the log next grows past the
		 * threshold; the log itself is unaffected. */
		(void)rs__wal_checkpoint(w);
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static int wal_flush(void *state)
{
	rs__wal *w = state;
	int rc;

	pthread_mutex_lock(&w->mu);
	rc = rs__wal_wait_durable_locked(w, w->lsn_appended, false);
	pthread_mutex_unlock(&w->mu);
	return rc;
}

static int wal_checkpoint_op(void *state)
{
	return rs__wal_checkpoint(state);
}

static void wal_stats(void *state, rs_db_stats *out)
{
	rs__wal *w = state;

	pthread_mutex_lock(&w->mu);
	out->checkpoint_used = w->rstats.checkpoint_used;
	out->checkpoint_runs = w->rstats.checkpoint_runs;
	out->checkpoint_entries = w->rstats.checkpoint_entries;
	out->records_replayed = w->rstats.records_replayed;
	out->records_skipped = w->rstats.records_skipped;
	out->bytes_truncated = w->rstats.bytes_truncated;
	out->bytes_salvaged = w->rstats.bytes_salvaged;
	out->segments_read = w->rstats.segments_read;
	out->recovery_ns = w->rstats.recovery_ns;
	out->wal_records = w->n_records;
	out->wal_bytes = w->n_bytes;
	out->wal_syncs = w->n_syncs;
	out->checkpoints = w->n_checkpoints;
	out->wal_bytes_since_checkpoint = w->lsn_durable - w->ckpt_base_lsn;
	pthread_mutex_unlock(&w->mu);
}

static void wal_free(rs__wal *w)
{
	rs__wal_close_fd(w, w->seg_fd);
	rs__wal_close_fd(w, w->dirfd);
	rs__wal_unlock_dir(w->alloc, w->lock);
	rs__wal_buf_free(w->alloc, &w->bufs[0]);
	rs__wal_buf_free(w->alloc, &w->bufs[1]);
	pthread_cond_destroy(&w->flush_cv);
	pthread_cond_destroy(&w->done_cv);
	pthread_cond_destroy(&w->ckpt_cv);
	pthread_cond_destroy(&w->fill_cv);
	pthread_mutex_destroy(&w->mu);
	pthread_mutex_destroy(&w->ckpt_mu);
	rs__free(w->alloc, w->dir);
	rs__free(w->alloc, w);
}

static void wal_close(void *state)
{
	rs__wal *w = state;

	pthread_mutex_lock(&w->mu);
	w->shutdown = true;
	pthread_cond_broadcast(&w->flush_cv);
	pthread_cond_broadcast(&w->ckpt_cv);
	pthread_mutex_unlock(&w->mu);
	/* A checkpoint in progress finishes first: it still reads the
	 * database, which close frees only after this returns. */
	if (w->checkpointer_started)
		pthread_join(w->checkpointer, NULL);
	if (w->flusher_started)
		pthread_join(w->flusher, NULL);
	pthread_mutex_lock(&w->mu);
	drain_locked(w);
	/* A log that ends in a CLOSE record proves to recovery that every
	 * record before it was synced (docs/wal-format.md). Best effort:
	 * close cannot fail, and without it the last batch is only treated
	 * as a possible torn write. */
	if (!w->failed && !w->ends_closed)
		(void)rs__wal_close_record_locked(w);
	pthread_mutex_unlock(&w->mu);
	wal_free(w);
}

static const rs__durability_ops wal_ops = {
	.commit = rs__wal_commit,
	.recover = NULL, /* done by open, which needs it before threads */
	.flush = wal_flush,
	.checkpoint = wal_checkpoint_op,
	.stats = wal_stats,
	.close = wal_close,
};

static int wal_init(rs__wal *w, const rs__alloc *a, const rs__wal_config *cfg,
		    rs__dirlock *lock, const rs__dur_host *host)
{
	pthread_condattr_t ca;
	size_t n = strlen(cfg->path);

	w->alloc = a;
	w->cfg = *cfg;
	w->host = *host;
	w->io = cfg->io;
	w->lock = lock;
	w->dirfd = -1;
	w->seg_fd = -1;
	pthread_mutex_init(&w->mu, NULL);
	pthread_mutex_init(&w->ckpt_mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->flush_cv, &ca);
	pthread_cond_init(&w->fill_cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&w->done_cv, NULL);
	pthread_cond_init(&w->ckpt_cv, NULL);
	w->dir = rs__malloc(a, n + 1);
	if (!w->dir)
		return RS_ENOMEM;
	memcpy(w->dir, cfg->path, n + 1);
	w->cfg.path = w->dir;
	return rs__wal_open_dir(w);
}

int rs__durability_wal_open(rs__durability *out, const rs__alloc *a,
			    const rs__wal_config *cfg, rs__dirlock *lock,
			    const rs__dur_host *host)
{
	rs__wal *w = rs__calloc(a, 1, sizeof(*w));
	int rc;

	if (!w) {
		rs__wal_unlock_dir(a, lock);
		return RS_ENOMEM;
	}
	if ((rc = wal_init(w, a, cfg, lock, host)) < 0)
		goto fail;
	if ((rc = rs__wal_recover(w)) < 0)
		goto fail;
	if (pthread_create(&w->flusher, NULL, flusher_main, w) != 0) {
		rc = RS_ENOMEM;
		goto fail;
	}
	w->flusher_started = true;
	if (pthread_create(&w->checkpointer, NULL, checkpointer_main, w) != 0) {
		wal_close(w);
		return RS_ENOMEM;
	}
	w->checkpointer_started = true;
	out->ops = &wal_ops;
	out->state = w;
	return 0;
fail:
	wal_free(w);
	return rc;
}
