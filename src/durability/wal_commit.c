/* SPDX-License-Identifier: MIT */
/*
 * The log's commit path, for both modes, and its writer.
 *
 * A committer (holding its run's commit lock) takes `mu`, encodes its
 * record into the filling buffer and notes the LSN after it. Everything
 * after that depends on the commit's mode.
 *
 * Buffered. The commit returns once its record is encoded; the flusher
 * (wal.c) writes it. A committer that fills the buffer (flush_batch_commits
 * records or flush_batch_bytes bytes) wakes the flusher at once, and a
 * committer that finds the buffer full waits until the writer takes it. So
 * at most two batches of acknowledged commits (one being written, one
 * filling) are not yet on disk: the loss window documented in runstate.h.
 *
 * Strict: group commit. The commit waits until `lsn_durable` reaches its
 * LSN, and if no thread is writing it becomes the leader: it swaps the
 * buffers, drops `mu`, writes the whole batch (its own record and every
 * record appended before it, by any run), fdatasyncs once, takes `mu`
 * again, advances `lsn_durable` and wakes the followers that queued
 * meanwhile. The next of them to run leads the next batch. The leader is
 * always a thread that needs the sync itself (or the flusher, or
 * rs_db_flush), so no commit pays a hand-off to another thread and sleeps
 * twice; and each sync covers at least one commit, so there is at most one
 * fdatasync per commit.
 *
 * Gathering. A leader that has just finished a batch returns to its caller
 * at once, and its next commit would lead again with only the records that
 * arrived meanwhile, while the followers it woke are still being scheduled:
 * committers split into cohorts that alternate, each sync covering a part
 * of them. So when the last batch held several Strict commits, a new
 * leader first waits (as the writer, `gathering`) until as many Strict
 * commits are in the buffer, or half the last batch's write and sync time
 * has passed (at most GATHER_MAX_NS). A lone committer never waits.
 *
 * The writer (rs__wal_write_locked) is shared by every thread that writes:
 * it is the only code that writes segments, advances `lsn_durable`, and
 * notes that a checkpoint is due. Buffers are freed by close, or by the
 * writer when an exceptional batch made one large.
 *
 * Positions, locks and memory ordering: see the top of wal.c.
 */
#define _GNU_SOURCE
#include "durability/wal.h"

#include <assert.h>

#include "util/clock.h"
#include "util/error.h"
#include "util/perf.h"

#define GATHER_MAX_NS 500000u

void rs__wal_buf_free(const rs__alloc *a, rs__wal_buf *b)
{
	rs__free(a, b->data);
	rs__free(a, b->chunks);
	b->data = NULL;
	b->chunks = NULL;
	b->len = b->cap = b->nchunks = b->cchunks = 0;
	b->ncommits = b->nstrict = 0;
}

/* With mu held: place the record in the log and copy it to the buffer
 * (rec NULL: a CLOSE record). */
static int append_locked(rs__wal *w, const rs__commit_record *rec,
			 uint64_t size, uint64_t *end_lsn)
{
	rs__wal_buf *b = &w->bufs[w->filling];
	rs__wal_chunk *c;

	/* Never write what recovery would refuse to read (RS__LSN_MAX,
	 * RS__SEQ_MAX): in practice never reached. */
	if (w->lsn_appended + size > RS__LSN_MAX || w->cur_seq >= RS__SEQ_MAX)
		return RS_ERANGE;
	/* Allocate first: a failure must leave the log position as is. */
	RS_TRY(rs__grow(w->alloc, (void **)&b->data, &b->cap,
			b->len + (size_t)size, 1));
	RS_TRY(rs__grow(w->alloc, (void **)&b->chunks, &b->cchunks,
			b->nchunks + 1, sizeof(*b->chunks)));
	/* A record that does not fit starts the next segment, unless the
	 * current one is empty (an oversized record gets one of its own). */
	if (w->cur_off > RS__SEG_HDR &&
	    w->cur_off + size > w->cfg.segment_bytes) {
		w->cur_seq++;
		w->cur_off = RS__SEG_HDR;
		w->cur_start_lsn = w->lsn_appended;
	}
	c = b->nchunks ? &b->chunks[b->nchunks - 1] : NULL;
	if (!c || c->seq != w->cur_seq) {
		c = &b->chunks[b->nchunks++];
		c->seq = w->cur_seq;
		c->off = w->cur_off;
		c->seg_start_lsn = w->cur_start_lsn;
		c->start = b->len;
		c->len = 0;
	}
	if (!rec) {
		rs__rec_encode_close(b->data + b->len, rs__clock_realtime_ns());
	} else {
		rs__rec_encode(b->data + b->len, rec,
			       rec->timestamp_ns ? rec->timestamp_ns
						 : rs__clock_realtime_ns());
		b->ncommits++;
	}
	b->len += (size_t)size;
	c->len += (size_t)size;
	w->ends_closed = !rec;
	if (rec && rec->mode == RS_DURABILITY_STRICT) {
		b->nstrict++;
		if (w->gathering && b->nstrict >= w->gather_target)
			pthread_cond_signal(&w->fill_cv);
	}
	w->cur_off += size;
	w->lsn_appended += size;
	w->n_records++;
	*end_lsn = w->lsn_appended;
	return 0;
}

/*
 * Zeroing ahead. A segment is preallocated with fallocate(), which leaves
 * its blocks unwritten: the first write into each block converts it, a
 * change to the file's metadata, so the fdatasync after it must also
 * commit the file system's journal. With records of a few KiB nearly
 * every Strict commit enters a new block and pays that: on the test VM
 * (ext4) an append of 2,500 bytes + fdatasync took 156-165 us a commit
 * into unwritten blocks and 123-143 us into blocks written before (5,000
 * bytes: 223-228 against 124-125). So when a chunk ends past `zeroed`,
 * the writer first writes zeros from the chunk's end to the next
 * ZERO_AHEAD boundary (at most the segment's size): one conversion and
 * one journal commit per ZERO_AHEAD of log, paid by the one commit whose
 * sync writes those zeros (~2.4 ms for 1 MiB there, at most one commit in
 * every 1 MiB of records; 64 KiB steps gave a worse p99: 365-390 against
 * 204-224 us). The zeros go only where nothing is written yet (past the
 * chunk's end, by the only writer), and that space reads as zeros anyway
 * (wal_format.c), so recovery sees the same log whether or not they
 * reached the disk. A failed zero write is ignored: it changes nothing a
 * reader can see, and the chunk's own write and sync still report a
 * failing device. `zeroed` is an offset in the open segment (seg_fd):
 * write_batch() sets it back to 0 when it opens the next one.
 */
#define ZERO_AHEAD (1u << 20)
#define ZERO_BLOCK (64u * 1024u)

static void zero_ahead(rs__wal *w, const rs__wal_chunk *c)
{
	static const unsigned char zeros[ZERO_BLOCK];
	uint64_t end = c->off + c->len, to;

	if (end <= w->zeroed)
		return;
	to = (end + ZERO_AHEAD - 1) / ZERO_AHEAD * ZERO_AHEAD;
	if (to > w->cfg.segment_bytes)
		to = w->cfg.segment_bytes;
	w->zeroed = to > end ? to : end;
	/* From the chunk's end: the chunk writes its own bytes. */
	for (uint64_t off = end; off < to; off += ZERO_BLOCK) {
		size_t n =
			to - off < ZERO_BLOCK ? (size_t)(to - off) : ZERO_BLOCK;

		if (rs__wal_pwrite_all(w, w->seg_fd, zeros, n, off) < 0)
			return;
	}
}

/*
 * Without mu, as the only writer: seal the records of `b` (their synced LSN
 * is `base`, where the previous batch ended), write each chunk to its
 * segment, creating segments as the log crosses into them, and sync.
 * *syncs counts the fdatasync calls.
 */
static int write_batch(rs__wal *w, rs__wal_buf *b, uint64_t base,
		       uint64_t *syncs)
{
	bool dirty = false;

	for (size_t off = 0; off < b->len;) {
		uint32_t len = rs__rec_len(b->data + off);

		rs__rec_seal(b->data + off, base);
		off += len;
	}
	for (size_t i = 0; i < b->nchunks; i++) {
		const rs__wal_chunk *c = &b->chunks[i];

		if (w->seg_fd < 0 || w->seg_fd_seq != c->seq) {
			/* The old segment is complete and synced before
			 * the next exists: only the last segment of the
			 * log can ever have a torn tail. */
			if (w->seg_fd >= 0) {
				if (dirty) {
					RS_TRY(rs__wal_fdatasync(w, w->seg_fd));
					(*syncs)++;
				}
				rs__wal_close_fd(w, w->seg_fd);
				w->seg_fd = -1;
			}
			dirty = false;
			assert(c->off == RS__SEG_HDR);
			RS_TRY(rs__wal_create_segment(
				w, c->seq, c->seg_start_lsn, &w->seg_fd));
			w->seg_fd_seq = c->seq;
			w->zeroed = 0;
		}
		zero_ahead(w, c);
		RS_TRY(rs__wal_pwrite_all(w, w->seg_fd, b->data + c->start,
					  c->len, c->off));
		dirty = true;
	}
	if (dirty) {
		RS_TRY(rs__wal_fdatasync(w, w->seg_fd));
		(*syncs)++;
	}
	return 0;
}

void rs__wal_write_locked(rs__wal *w)
{
	rs__wal_buf *b = &w->bufs[w->filling];
	uint64_t base, end, syncs = 0, t0;
	size_t bytes;
	int rc;

	assert(!w->writing && b->len > 0);
	/* The other buffer was emptied by the previous writer. */
	w->writing = true;
	w->filling ^= 1u;
	base = w->lsn_durable;
	end = w->lsn_appended;
	bytes = b->len;
	w->last_nstrict = b->nstrict;
	/* Committers held back by a full buffer may go on. */
	pthread_cond_broadcast(&w->done_cv);
	pthread_mutex_unlock(&w->mu);

	t0 = rs__clock_monotonic_ns();
	RS_PROBE(wal__write__start, bytes, b->ncommits, end);
	rc = write_batch(w, b, base, &syncs);
	RS_PROBE(wal__write__done, bytes, syncs, rc);

	pthread_mutex_lock(&w->mu);
	w->last_write_ns = rs__clock_monotonic_ns() - t0;
	b->len = 0;
	b->nchunks = 0;
	b->ncommits = 0;
	b->nstrict = 0;
	/* Do not keep an exceptional batch's memory. */
	if (b->cap > 4 * w->cfg.flush_batch_bytes && b->cap > (16u << 20))
		rs__wal_buf_free(w->alloc, b);
	w->n_syncs += syncs;
	if (rc < 0) {
		if (!w->failed)
			w->failed = RS_EIO;
	} else {
		w->lsn_durable = end;
		w->n_bytes += bytes;
		if (w->cfg.checkpoint_bytes != UINT64_MAX && !w->ckpt_due &&
		    !w->ckpt_running &&
		    end - w->ckpt_base_lsn >= w->cfg.checkpoint_bytes) {
			w->ckpt_due = true;
			pthread_cond_signal(&w->ckpt_cv);
		}
	}
	w->writing = false;
	pthread_cond_broadcast(&w->done_cv);
	if (rs__wal_buf_full(w, &w->bufs[w->filling]))
		pthread_cond_signal(&w->flush_cv);
}

/* With mu held, nobody writing: see "Gathering" above. */
static void gather_locked(rs__wal *w)
{
	const rs__wal_buf *b = &w->bufs[w->filling];
	uint64_t target = w->last_nstrict, wait, at;
	struct timespec ts;

	if (target < 2 || b->nstrict >= target)
		return;
	wait = w->last_write_ns / 2;
	if (wait > GATHER_MAX_NS)
		wait = GATHER_MAX_NS;
	at = rs__clock_monotonic_ns() + wait;
	ts = rs__wal_timespec(at);
	/* As the writer: the committers arriving now become followers. */
	w->writing = true;
	w->gathering = true;
	w->gather_target = target;
	while (b->nstrict < target &&
	       pthread_cond_timedwait(&w->fill_cv, &w->mu, &ts) == 0)
		;
	w->gathering = false;
	w->writing = false;
}

int rs__wal_wait_durable_locked(rs__wal *w, uint64_t lsn, bool gather)
{
	while (w->lsn_durable < lsn) {
		if (w->failed)
			return w->failed;
		if (!w->writing) {
			if (gather)
				gather_locked(w);
			rs__wal_write_locked(w);
			continue;
		}
		pthread_cond_wait(&w->done_cv, &w->mu);
	}
	return 0;
}

int rs__wal_close_record_locked(rs__wal *w)
{
	uint64_t end;

	/* Everything before it is synced, so the batch it is written in
	 * starts at its own LSN, which becomes its synced LSN. */
	RS_TRY(rs__wal_wait_durable_locked(w, w->lsn_appended, false));
	RS_TRY(append_locked(w, NULL, RS__REC_HDR, &end));
	return rs__wal_wait_durable_locked(w, end, false);
}

int rs__wal_commit(void *state, const rs__commit_record *rec)
{
	rs__wal *w = state;
	uint64_t size = rs__rec_size(rec), end = 0;
	int rc;

	if (size > RS__REC_MAX)
		return RS_ETOOBIG;
	if (rec->version > RS__VERSION_MAX ||
	    (rec->drop_run && rec->drop_version > RS__VERSION_MAX))
		return RS_ERANGE;
	pthread_mutex_lock(&w->mu);
	if (rec->mode != RS_DURABILITY_STRICT) {
		/* Backpressure: at most one full batch waits while another
		 * is written, which bounds the Buffered loss window. */
		while (!w->failed &&
		       rs__wal_buf_full(w, &w->bufs[w->filling])) {
			pthread_cond_signal(&w->flush_cv);
			pthread_cond_wait(&w->done_cv, &w->mu);
		}
	}
	if ((rc = w->failed) < 0)
		goto out;
	if ((rc = append_locked(w, rec, size, &end)) < 0)
		goto out;
	RS_PROBE(wal__append, rec->run, rec->version, size, end);
	if (rec->mode == RS_DURABILITY_STRICT) {
		RS_PERF_START(t0);

		rc = rs__wal_wait_durable_locked(w, end, true);
		RS_PERF_SYNCED(t0);
		RS_PROBE(commit__synced, rec->run, rec->version, end);
	} else if (rs__wal_buf_full(w, &w->bufs[w->filling])) {
		pthread_cond_signal(&w->flush_cv);
	}
out:
	pthread_mutex_unlock(&w->mu);
	return rc;
}
