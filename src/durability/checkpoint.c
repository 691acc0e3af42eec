/* SPDX-License-Identifier: MIT */
/*
 * Checkpoints: writing one, and loading one at recovery.
 *
 * Writing, without stopping writers:
 *  1. Under mu, note P: the segment the next record goes to (P.seq) and
 *     the LSN after the last record appended (P.lsn). Make everything
 *     before P durable, so segment P.seq exists and nothing before P is
 *     still in memory.
 *  2. Ask the host for an image of every run (host->image): for each run
 *     it takes the run's commit lock for an instant, so every commit whose
 *     record is before P (appended under that lock) is published, then
 *     reads a pinned snapshot. Commits go on meanwhile; a run's image is at
 *     some version v >= every version of that run logged before P.
 *  3. Stream the image to ckpt-<P.seq>.tmp, fsync, rename to
 *     ckpt-<P.seq>.rsc, fsync the directory.
 *  4. Delete older checkpoints and every segment before P.seq; fsync the
 *     directory.
 * Recovery loads the newest checkpoint and replays segments from P.seq,
 * skipping every record whose version is at or below its run's version in
 * the image (they are in it already). Records after P are the only ones
 * applied, so recovery work is bounded by the log written since the last
 * checkpoint, not by the age of the database.
 */
#define _GNU_SOURCE
#include "durability/wal.h"

#include <stdio.h>
#include <string.h>

#include "util/clock.h"
#include "util/error.h"
#include "util/hash.h"

#define CKW_BUF (1u << 20)

typedef struct ckpt_writer {
	rs__wal *w;
	int fd;
	uint64_t off; /* file offset of buf[0] */
	unsigned char *buf;
	size_t len;
	XXH3_state_t hash; /* over the body */
	uint64_t nruns, nentries;
} ckpt_writer;

static int ckw_flush(ckpt_writer *cw)
{
	RS_TRY(rs__wal_pwrite_all(cw->w, cw->fd, cw->buf, cw->len, cw->off));
	cw->off += cw->len;
	cw->len = 0;
	return 0;
}

static int ckw_put(ckpt_writer *cw, const void *p, size_t n)
{
	XXH3_64bits_update(&cw->hash, p, n);
	if (cw->len + n > CKW_BUF) {
		RS_TRY(ckw_flush(cw));
		if (n > CKW_BUF / 2) {
			RS_TRY(rs__wal_pwrite_all(cw->w, cw->fd, p, n,
						  cw->off));
			cw->off += n;
			return 0;
		}
	}
	if (n)
		memcpy(cw->buf + cw->len, p, n);
	cw->len += n;
	return 0;
}

static int sink_run(void *ctx, const rs_run_id *run, uint64_t version)
{
	ckpt_writer *cw = ctx;
	unsigned char item[RS__CKPT_RUN_ITEM];

	rs__ckpt_run_encode(item, run, version);
	cw->nruns++;
	return ckw_put(cw, item, sizeof(item));
}

static int sink_entry(void *ctx, uint8_t tag, const void *key, size_t klen,
		      const void *val, size_t vlen)
{
	ckpt_writer *cw = ctx;
	unsigned char hdr[RS__OP_HDR];

	rs__ckpt_entry_encode(hdr, tag, klen, vlen);
	cw->nentries++;
	RS_TRY(ckw_put(cw, hdr, sizeof(hdr)));
	RS_TRY(ckw_put(cw, key, klen));
	return ckw_put(cw, val, vlen);
}

/* Steps 3: the image into `tmp`, synced. */
static int write_image(rs__wal *w, const char *tmp, uint64_t seq, uint64_t lsn)
{
	ckpt_writer cw;
	rs__image_sink sink = { sink_run, sink_entry, &cw };
	unsigned char hdr[RS__CKPT_HDR] = { 0 };
	unsigned char trailer[RS__CKPT_TRAILER];
	rs__ckpt_header h;
	int rc;

	memset(&cw, 0, sizeof(cw));
	cw.w = w;
	cw.off = RS__CKPT_HDR;
	cw.buf = rs__malloc(w->alloc, CKW_BUF);
	if (!cw.buf)
		return RS_ENOMEM;
	XXH3_64bits_reset(&cw.hash);
	if ((rc = rs__wal_create_tmp(w, tmp, &cw.fd)) < 0) {
		rs__free(w->alloc, cw.buf);
		return rc;
	}
	if ((rc = w->host.image(w->host.ctx, &sink)) < 0 ||
	    (rc = ckw_flush(&cw)) < 0)
		goto out;
	rs__ckpt_trailer_encode(trailer, XXH3_64bits_digest(&cw.hash));
	h.wal_seq = seq;
	h.wal_lsn = lsn;
	h.created_ns = rs__clock_realtime_ns();
	h.nruns = cw.nruns;
	h.nentries = cw.nentries;
	rs__ckpt_header_encode(hdr, &h);
	if ((rc = rs__wal_pwrite_all(w, cw.fd, trailer, sizeof(trailer),
				     cw.off)) < 0 ||
	    (rc = rs__wal_pwrite_all(w, cw.fd, hdr, sizeof(hdr), 0)) < 0)
		goto out;
	rc = rs__wal_fsync(w, cw.fd);
out:
	rs__wal_close_fd(w, cw.fd);
	rs__free(w->alloc, cw.buf);
	return rc;
}

/* Step 4: what the new checkpoint made obsolete. */
static int remove_covered(rs__wal *w, uint64_t seq, uint64_t oldest)
{
	uint64_t *segs, *ckpts;
	size_t nsegs, nckpts;
	char name[RS__NAME_MAX];
	int rc;

	RS_TRY(rs__wal_list(w, false, &segs, &nsegs, &ckpts, &nckpts));
	rc = 0;
	for (size_t i = 0; i < nckpts && rc == 0; i++) {
		if (ckpts[i] == seq)
			continue;
		rs__wal_name(name, RS__CKPT_PREFIX, ckpts[i], RS__CKPT_SUFFIX);
		rc = rs__wal_unlink(w, name);
	}
	for (size_t i = 0; i < nsegs && rc == 0; i++) {
		if (segs[i] < oldest || segs[i] >= seq)
			continue;
		rs__wal_name(name, RS__SEG_PREFIX, segs[i], RS__SEG_SUFFIX);
		rc = rs__wal_unlink(w, name);
	}
	rs__free(w->alloc, segs);
	rs__free(w->alloc, ckpts);
	if (rc == 0)
		rc = rs__wal_fsync_dir(w);
	return rc;
}

int rs__wal_checkpoint(rs__wal *w)
{
	char tmp[RS__NAME_MAX], name[RS__NAME_MAX];
	uint64_t seq, lsn, oldest;
	int rc;

	pthread_mutex_lock(&w->ckpt_mu);
	pthread_mutex_lock(&w->mu);
	w->ckpt_due = false;
	w->ckpt_running = true;
	/* Step 1. */
	seq = w->cur_seq;
	lsn = w->lsn_appended;
	oldest = w->oldest_seq;
	rc = rs__wal_wait_durable_locked(w, lsn, false);
	pthread_mutex_unlock(&w->mu);
	if (rc < 0)
		goto out;

	rs__wal_name(tmp, RS__CKPT_PREFIX, seq, RS__TMP_SUFFIX);
	rs__wal_name(name, RS__CKPT_PREFIX, seq, RS__CKPT_SUFFIX);
	if ((rc = write_image(w, tmp, seq, lsn)) < 0) {
		(void)rs__wal_unlink(w, tmp);
		goto out;
	}
	if ((rc = rs__wal_rename(w, tmp, name)) < 0) {
		(void)rs__wal_unlink(w, tmp);
		goto out;
	}
	if ((rc = rs__wal_fsync_dir(w)) < 0)
		goto out;
	/* The checkpoint is in place: from here on a crash recovers from
	 * it, whatever of step 4 is done. */
	rc = remove_covered(w, seq, oldest);
	pthread_mutex_lock(&w->mu);
	w->ckpt_base_lsn = lsn;
	w->oldest_seq = seq;
	w->n_checkpoints++;
	pthread_mutex_unlock(&w->mu);
out:
	pthread_mutex_lock(&w->mu);
	w->ckpt_running = false;
	/* The log may have grown past the threshold again meanwhile, with
	 * no batch left to notice it. */
	if (rc == 0 && w->cfg.checkpoint_bytes != UINT64_MAX &&
	    w->lsn_durable - w->ckpt_base_lsn >= w->cfg.checkpoint_bytes) {
		w->ckpt_due = true;
		pthread_cond_signal(&w->ckpt_cv);
	}
	pthread_mutex_unlock(&w->mu);
	pthread_mutex_unlock(&w->ckpt_mu);
	return rc;
}

/* ---- loading ---- */

int rs__wal_load_checkpoint(rs__wal *w, uint64_t seq, rs__ckpt_header *out)
{
	char name[RS__NAME_MAX];
	const unsigned char *p;
	rs__image_loader ld;
	rs__ckpt_item it;
	size_t len, off = RS__CKPT_HDR;
	int rc;

	rs__wal_name(name, RS__CKPT_PREFIX, seq, RS__CKPT_SUFFIX);
	RS_TRY(rs__wal_map(w, name, &p, &len));
	/* Check all of it before anything is applied. */
	if (!p)
		rc = RS_ECORRUPT;
	else
		rc = rs__ckpt_check(p, len, out);
	if (rc < 0)
		goto out;
	/* The entries are views into the mapping, alive until the end. */
	rs__image_loader_init(&ld, w->alloc, &w->host, false);
	while (rc == 0 && rs__ckpt_next(p, len, &off, &it)) {
		if (it.type == RS__CKPT_ITEM_RUN)
			rc = rs__image_loader_run(&ld, &it.run, it.version);
		else
			rc = rs__image_loader_entry(&ld, &it.op);
	}
	if (rc == 0)
		rc = rs__image_loader_finish(&ld);
	rs__image_loader_fini(&ld);
out:
	rs__wal_unmap(w, p, len);
	return rc;
}
