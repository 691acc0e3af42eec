/* SPDX-License-Identifier: MIT */
/*
 * Recovery at open: newest checkpoint, then the log after it, in order.
 *
 * Segments: after the checkpoint's segment (or from segment 1 without
 * one), consecutive numbers, each header's start LSN equal to the end of
 * the valid records of the one before. Segments older than the checkpoint
 * are left-overs of a crash during its cleanup and are removed.
 *
 * Records are replayed through the host one by one; a record at or below
 * its run's version (covered by the checkpoint) is skipped, and a version
 * gap is corruption. A segment ends at its first all-zero byte run
 * (preallocated space). Anything else that is not a valid record:
 *  - in the last segment, it is a torn write (a crash during a batch
 *    write) unless a valid record further on says, through its synced-LSN
 *    field, that the log was already durable past the bad one: then a
 *    record that was acknowledged is damaged, which is corruption. The
 *    CLOSE record of a clean close says so for the whole log. A torn
 *    tail is cut off (and the space reserved again, reading as zeros) so
 *    records written later are not followed by the old garbage;
 *  - in any other segment it is corruption: a segment is synced before
 *    the next one is created, so it cannot be torn.
 * Corruption fails the open with RS_ECORRUPT, unless the caller asked to
 * salvage: then the log ends at the first bad byte (the rest is cut and
 * later segments removed), as if the crash had happened there. Salvage
 * only keeps a real prefix of history: it never starts from a segment
 * other than the checkpoint's (or segment 1 at LSN 0), never replaces a
 * damaged checkpoint by anything but an older valid one with its log or
 * the whole log (load_checkpoint), and never empties a database
 * (salvage_cut); where it cannot, the open fails and nothing changes.
 *
 * Replaying the same directory twice gives the same state: nothing here
 * writes except to cut what was never valid.
 */
#define _GNU_SOURCE
#include "durability/wal.h"

#include <string.h>

#include "util/clock.h"
#include "util/error.h"

typedef struct recovery {
	rs__wal *w;
	rs__op *ops; /* scratch for one record */
	size_t cap;
	uint64_t *segs, *ckpts;
	size_t nsegs, nckpts;
	bool removed;		  /* a directory entry was removed */
	bool last_close;	  /* the last valid record read is a CLOSE */
	bool have_ckpt;		  /* a checkpoint was loaded */
	uint64_t first_start_lsn; /* of the first segment replayed */
	uint64_t last_size;	  /* file size of the last one */
} recovery;

static int replay_record(recovery *rv, const rs__rec_view *v)
{
	rs__wal *w = rv->w;
	const unsigned char *cur = v->ops;
	rs__commit_record rec;
	int rc;

	RS_TRY(rs__grow(w->alloc, (void **)&rv->ops, &rv->cap, v->nops + 1,
			sizeof(*rv->ops)));
	for (uint32_t i = 0; i < v->nops; i++)
		rs__rec_next_op(&cur, &rv->ops[i]);
	memset(&rec, 0, sizeof(rec));
	rec.kind = v->kind;
	rec.run = &v->run;
	rec.version = v->version;
	rec.timestamp_ns = v->timestamp_ns;
	rec.ops = rv->ops;
	rec.nops = v->nops;
	if (v->kind == RS__REC_DROP_RUN) {
		rec.drop_run = &v->drop_run;
		rec.drop_version = v->drop_version;
	}
	rc = w->host.replay(w->host.ctx, &rec, rv->ops);
	if (rc < 0)
		return rc;
	if (rc == 1)
		w->rstats.records_skipped++;
	else
		w->rstats.records_replayed++;
	return 0;
}

static int remove_segment(recovery *rv, uint64_t seq)
{
	char name[RS__NAME_MAX];

	rs__wal_name(name, RS__SEG_PREFIX, seq, RS__SEG_SUFFIX);
	rv->removed = true;
	return rs__wal_unlink(rv->w, name);
}

/*
 * Salvage: the log ends at byte `at` of segment i (0: the whole segment
 * goes). Counts what is dropped.
 */
static int salvage_cut(recovery *rv, size_t i, uint64_t at,
		       const unsigned char *p, size_t size)
{
	rs__wal *w = rv->w;

	/* Nothing valid before the damage: salvage would leave an empty
	 * database in place of this one. It refuses instead. */
	if (!rv->have_ckpt && i == 0 && at <= RS__SEG_HDR)
		return RS_ECORRUPT;
	w->rstats.bytes_salvaged +=
		rs__wal_data_end(p, at < size ? at : size, size) -
		(at < size ? at : size);
	if (at == 0)
		RS_TRY(remove_segment(rv, rv->segs[i]));
	else
		RS_TRY(rs__wal_cut_segment(w, rv->segs[i], at));
	for (size_t j = i + 1; j < rv->nsegs; j++) {
		const unsigned char *q;
		size_t qlen;
		char name[RS__NAME_MAX];

		rs__wal_name(name, RS__SEG_PREFIX, rv->segs[j], RS__SEG_SUFFIX);
		if (rs__wal_map(w, name, &q, &qlen) == 0) {
			w->rstats.bytes_salvaged +=
				rs__wal_data_end(q, 0, qlen);
			rs__wal_unmap(w, q, qlen);
		}
		RS_TRY(remove_segment(rv, rv->segs[j]));
	}
	rv->nsegs = at == 0 ? i : i + 1;
	return 0;
}

/*
 * Replay segment i. *end_lsn: in, the LSN its header must start at (or
 * UINT64_MAX: any); out, the LSN after its last valid record. Sets *stop
 * when salvage ended the log here.
 */
static int replay_segment(recovery *rv, size_t i, uint64_t *end_lsn,
			  uint64_t *end_off, bool *stop)
{
	rs__wal *w = rv->w;
	bool last = i + 1 == rv->nsegs;
	char name[RS__NAME_MAX];
	const unsigned char *p;
	rs__seg_header h;
	size_t size, pos = RS__SEG_HDR, bad = 0;
	bool is_bad = false;
	int rc;

	rs__wal_name(name, RS__SEG_PREFIX, rv->segs[i], RS__SEG_SUFFIX);
	RS_TRY(rs__wal_map(w, name, &p, &size));
	w->rstats.segments_read++;
	rc = p ? rs__seg_header_decode(p, size, &h) : RS_ECORRUPT;
	if (rc == 0 && (h.seq != rv->segs[i] ||
			(*end_lsn != UINT64_MAX && h.start_lsn != *end_lsn)))
		rc = RS_ECORRUPT;
	if (rc < 0) {
		if (rc == RS_ECORRUPT && w->cfg.salvage) {
			rc = salvage_cut(rv, i, 0, p, size);
			*stop = true;
		}
		goto out;
	}
	if (i == 0)
		rv->first_start_lsn = h.start_lsn;
	rv->last_size = size;
	for (;;) {
		rs__rec_view v;

		rc = rs__rec_check(p + pos, size - pos, &v);
		if (rc == RS__REC_END)
			break;
		if (rc < 0) {
			is_bad = true;
			bad = pos;
			break;
		}
		rv->last_close = v.kind == RS__WAL_REC_CLOSE;
		if (!rv->last_close && (rc = replay_record(rv, &v)) < 0)
			goto out;
		pos += v.len;
	}
	rc = 0;
	if (is_bad) {
		uint64_t bad_lsn = h.start_lsn + (bad - RS__SEG_HDR);

		if (last && rs__wal_is_torn(p, size, bad, bad_lsn)) {
			w->rstats.bytes_truncated +=
				rs__wal_data_end(p, bad, size) - bad;
			rc = rs__wal_cut_segment(w, rv->segs[i], bad);
		} else if (w->cfg.salvage) {
			rc = salvage_cut(rv, i, bad, p, size);
			*stop = true;
		} else {
			rc = RS_ECORRUPT;
		}
		if (rc < 0)
			goto out;
	}
	*end_lsn = h.start_lsn + (pos - RS__SEG_HDR);
	*end_off = pos;
out:
	rs__wal_unmap(w, p, size);
	return rc;
}

static bool has_segment(const recovery *rv, uint64_t seq)
{
	for (size_t i = 0; i < rv->nsegs; i++)
		if (rv->segs[i] == seq)
			return true;
	return false;
}

/* Remove checkpoint `seq`; *bytes (if not NULL) gets its size added. */
static int remove_checkpoint(recovery *rv, uint64_t seq, uint64_t *bytes)
{
	char name[RS__NAME_MAX];

	rs__wal_name(name, RS__CKPT_PREFIX, seq, RS__CKPT_SUFFIX);
	if (bytes) {
		const unsigned char *p;
		size_t len;

		if (rs__wal_map(rv->w, name, &p, &len) == 0) {
			*bytes += len;
			rs__wal_unmap(rv->w, p, len);
		}
	}
	rv->removed = true;
	return rs__wal_unlink(rv->w, name);
}

/*
 * Load the newest checkpoint; *first_seq: the segment the log after it
 * must start at (0: no checkpoint, the log starts at segment 1).
 *
 * Salvage never builds a state that did not exist. When the newest
 * checkpoint is damaged, what it covered is known only to an older valid
 * checkpoint whose log is still there (left by a crash during cleanup), or
 * to the whole log from segment 1; with neither, the open fails with
 * RS_ECORRUPT and nothing is changed. The damaged checkpoints are removed
 * (counted in bytes_salvaged) only once another start was loaded.
 */
static int load_checkpoint(recovery *rv, uint64_t *first_seq,
			   uint64_t *base_lsn)
{
	rs__wal *w = rv->w;
	rs__ckpt_header h;
	size_t use = rv->nckpts;
	int rc = RS_ECORRUPT;

	*first_seq = 0;
	*base_lsn = 0;
	if (rv->nckpts == 0)
		return 0;
	while (use-- > 0) {
		bool newest = use + 1 == rv->nckpts;

		if (!newest && !has_segment(rv, rv->ckpts[use]))
			continue;
		rc = rs__wal_load_checkpoint(w, rv->ckpts[use], &h);
		if (rc != RS_ECORRUPT || !w->cfg.salvage)
			break;
	}
	if (rc == RS_ECORRUPT && w->cfg.salvage && has_segment(rv, 1))
		rc = 0; /* the whole log, without a checkpoint */
	RS_TRY(rc);
	/* Damaged checkpoints newer than the one used (salvage only). */
	for (size_t i = use + 1; i < rv->nckpts; i++)
		RS_TRY(remove_checkpoint(rv, rv->ckpts[i],
					 &w->rstats.bytes_salvaged));
	if (use == SIZE_MAX) {
		/* Every checkpoint went; the log from segment 1 is all. */
		rv->nckpts = 0;
		return 0;
	}
	w->rstats.checkpoint_used = true;
	w->rstats.checkpoint_runs = h.nruns;
	w->rstats.checkpoint_entries = h.nentries;
	*first_seq = h.wal_seq;
	*base_lsn = h.wal_lsn;
	/* Older checkpoints, left by a crash during cleanup. */
	for (size_t i = 0; i < use; i++)
		RS_TRY(remove_checkpoint(rv, rv->ckpts[i], NULL));
	return 0;
}

static int recover(recovery *rv)
{
	rs__wal *w = rv->w;
	uint64_t first_seq, base_lsn, end_lsn = UINT64_MAX,
				      end_off = RS__SEG_HDR;
	size_t skip = 0;
	bool stop = false;

	RS_TRY(rs__wal_list(w, true, &rv->segs, &rv->nsegs, &rv->ckpts,
			    &rv->nckpts));
	RS_TRY(load_checkpoint(rv, &first_seq, &base_lsn));
	/* Segments the checkpoint covers. */
	while (skip < rv->nsegs && rv->segs[skip] < first_seq)
		RS_TRY(remove_segment(rv, rv->segs[skip++]));
	if (skip) {
		memmove(rv->segs, rv->segs + skip,
			(rv->nsegs - skip) * sizeof(uint64_t));
		rv->nsegs -= skip;
	}

	/* The log must start where the checkpoint ends, or at segment 1 and
	 * LSN 0: without its start the rest is no prefix of history, so
	 * salvage cannot use it either. */
	if (rv->nsegs && rv->segs[0] != (first_seq ? first_seq : 1))
		return RS_ECORRUPT;
	if (rv->nsegs == 0 && first_seq)
		return RS_ECORRUPT;
	rv->have_ckpt = first_seq != 0;
	if (!first_seq)
		end_lsn = 0;
	for (size_t i = 0; i < rv->nsegs && !stop; i++) {
		if (i > 0 && rv->segs[i] != rv->segs[i - 1] + 1) {
			if (!w->cfg.salvage)
				return RS_ECORRUPT;
			RS_TRY(salvage_cut(rv, i, 0, NULL, 0));
			break;
		}
		RS_TRY(replay_segment(rv, i, &end_lsn, &end_off, &stop));
	}
	w->oldest_seq = rv->nsegs ? rv->segs[0] : 0;
	if (rv->nsegs == 0) {
		/* A new log, after the checkpoint if there is one. */
		uint64_t seq = first_seq ? first_seq : 1;

		RS_TRY(rs__wal_create_segment(w, seq, base_lsn, &w->seg_fd));
		w->seg_fd_seq = seq;
		w->oldest_seq = seq;
		w->cur_seq = seq;
		w->cur_off = RS__SEG_HDR;
		w->cur_start_lsn = base_lsn;
		w->lsn_appended = w->lsn_durable = base_lsn;
		w->ckpt_base_lsn = base_lsn;
		return 0;
	}
	w->cur_seq = rv->segs[rv->nsegs - 1];
	w->cur_off = end_off;
	w->cur_start_lsn = end_lsn - (end_off - RS__SEG_HDR);
	w->lsn_appended = w->lsn_durable = end_lsn;
	/* Without a checkpoint, all the log counts toward the next one. */
	w->ckpt_base_lsn = first_seq ? base_lsn : rv->first_start_lsn;
	if (w->ckpt_base_lsn > end_lsn)
		w->ckpt_base_lsn = end_lsn;
	/* A last segment shorter than its preallocation (copied, cut by
	 * hand) gets it back. */
	if (rv->last_size < w->cfg.segment_bytes)
		RS_TRY(rs__wal_cut_segment(w, w->cur_seq, end_off));
	RS_TRY(rs__wal_open_segment(w, w->cur_seq, &w->seg_fd));
	w->seg_fd_seq = w->cur_seq;
	w->ends_closed = rv->last_close;
	/* After a crash what was read may be in the page cache only. The
	 * next batch's synced LSN will say it is durable, so make it so
	 * first, or a power cut could keep that batch and lose this. */
	return rs__wal_fdatasync(w, w->seg_fd);
}

int rs__wal_recover(rs__wal *w)
{
	recovery rv;
	uint64_t t0 = rs__clock_monotonic_ns();
	int rc;

	memset(&rv, 0, sizeof(rv));
	rv.w = w;
	rc = recover(&rv);
	if (rc == 0 && rv.removed)
		rc = rs__wal_fsync_dir(w);
	rs__free(w->alloc, rv.ops);
	rs__free(w->alloc, rv.segs);
	rs__free(w->alloc, rv.ckpts);
	w->rstats.recovery_ns = rs__clock_monotonic_ns() - t0;
	return rc;
}
