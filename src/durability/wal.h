/* SPDX-License-Identifier: MIT */
#ifndef RS_DURABILITY_WAL_H
#define RS_DURABILITY_WAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <runstate.h>

#include "durability/durability.h"
#include "durability/wal_format.h"
#include "util/alloc.h"

/*
 * The write-ahead log shared by the Buffered and Strict backends. The
 * concurrency design (locks, who writes, LSNs, lifetimes) is described at
 * the top of wal.c, the commit path and group commit at the top of
 * wal_commit.c; the file format in wal_format.c and docs/wal-format.md.
 */

/* A run of consecutive records of one buffer bound for one segment. */
typedef struct rs__wal_chunk {
	uint64_t seq;		/* segment */
	uint64_t off;		/* file offset of the first byte */
	uint64_t seg_start_lsn; /* the segment's start LSN (to create it) */
	size_t start;		/* offset in the buffer */
	size_t len;
} rs__wal_chunk;

/* Encoded records waiting to be written, in log order. */
typedef struct rs__wal_buf {
	unsigned char *data;
	size_t len, cap;
	rs__wal_chunk *chunks;
	size_t nchunks, cchunks;
	uint64_t ncommits;
	uint64_t nstrict; /* of them, Strict commits (waiting for it) */
} rs__wal_buf;

typedef struct rs__wal {
	const rs__alloc *alloc;
	rs__wal_config cfg;
	char *dir; /* cfg.path, owned */
	rs__dur_host host;
	const rs__io *io; /* cfg.io: every file system call goes here */
	int dirfd;
	rs__dirlock *lock;

	/* Lock order: ckpt_mu, then a run's commit lock (held by the
	 * caller of commit), then mu. Nothing is called with mu held except
	 * memory copies and condition waits. */
	pthread_mutex_t mu;
	pthread_cond_t flush_cv; /* the flusher waits here */
	pthread_cond_t done_cv;	 /* a batch was taken or finished */
	pthread_cond_t ckpt_cv;	 /* the checkpointer waits here */
	pthread_cond_t fill_cv;	 /* a gathering leader waits here */

	/* ---- under mu ---- */
	rs__wal_buf bufs[2];
	unsigned filling;	/* index of the buffer committers append to */
	uint64_t lsn_appended;	/* LSN after the last record appended */
	uint64_t lsn_durable;	/* everything before it is synced */
	uint64_t cur_seq;	/* segment the next record goes to */
	uint64_t cur_off;	/* and its offset there */
	uint64_t cur_start_lsn; /* start LSN of segment cur_seq */
	uint64_t oldest_seq;	/* oldest segment file that exists */
	bool writing;		/* a thread owns the writer state below */
	bool gathering;		/* the leader waits for gather_target */
	uint64_t gather_target; /* Strict commits it waits for */
	uint64_t last_nstrict;	/* Strict commits in the last batch */
	uint64_t last_write_ns; /* how long its write and sync took */
	bool shutdown;
	bool ckpt_due;		/* the checkpointer should run */
	bool ckpt_running;	/* a checkpoint is being written */
	int failed;		/* sticky: RS_EIO once a write or sync failed */
	bool ends_closed;	/* the log's last record is a CLOSE record */
	uint64_t ckpt_base_lsn; /* LSN the newest checkpoint covers */
	uint64_t n_records, n_bytes, n_syncs, n_checkpoints;

	/* ---- writer state: only the thread that set `writing` ---- */
	int seg_fd;
	uint64_t seg_fd_seq;
	/* Zeroing ahead (wal_commit.c): seg_fd is written, zeros included,
	 * up to offset `zeroed`. */
	uint64_t zeroed;

	/* Serializes checkpoints (explicit and automatic). */
	pthread_mutex_t ckpt_mu;

	pthread_t flusher;
	pthread_t checkpointer;
	bool flusher_started;
	bool checkpointer_started;

	rs_db_stats rstats; /* recovery's counters, set by open */
} rs__wal;

/* ---- shared by wal.c and wal_commit.c ---- */

/* Whether a buffer holds a full batch (flush_batch_commits records or
 * flush_batch_bytes bytes): flush it now; Buffered commits wait. */
static inline bool rs__wal_buf_full(const rs__wal *w, const rs__wal_buf *b)
{
	return b->ncommits >= w->cfg.flush_batch_commits ||
	       b->len >= w->cfg.flush_batch_bytes;
}

/* A CLOCK_MONOTONIC time in ns as a timespec (timed condition waits). */
static inline struct timespec rs__wal_timespec(uint64_t at_ns)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(at_ns / 1000000000u);
	ts.tv_nsec = (long)(at_ns % 1000000000u);
	return ts;
}

/* ---- wal_file.c ---- */

/* File names: prefix, the sequence number as 16 hex digits, suffix. */
#define RS__NAME_MAX 32
#define RS__SEG_PREFIX "wal-"
#define RS__SEG_SUFFIX ".log"
#define RS__CKPT_PREFIX "ckpt-"
#define RS__CKPT_SUFFIX ".rsc"
#define RS__TMP_SUFFIX ".tmp"
void rs__wal_name(char out[RS__NAME_MAX], const char *prefix, uint64_t seq,
		  const char *suffix);
/* A negative errno from w->io as an RS_E* code (RS_ENOMEM or RS_EIO). */
int rs__wal_io_error(int neg_errno);
/* The database directory (w->dirfd), opened once by open. */
int rs__wal_open_dir(rs__wal *w);
void rs__wal_close_fd(rs__wal *w, int fd);
/* fsync / fdatasync: 0 or RS_EIO. */
int rs__wal_fsync_dir(rs__wal *w);
int rs__wal_fsync(rs__wal *w, int fd);
int rs__wal_fdatasync(rs__wal *w, int fd);
/* Create (or truncate) a file of the directory, open for writing. */
int rs__wal_create_tmp(rs__wal *w, const char *name, int *fd_out);
/* Rename a file of the directory (then fsync the directory yourself). */
int rs__wal_rename(rs__wal *w, const char *from, const char *to);
/* Create segment `seq` atomically (temporary name, header, preallocation,
 * fsync, rename, directory fsync); returns an fd open for writing. */
int rs__wal_create_segment(rs__wal *w, uint64_t seq, uint64_t start_lsn,
			   int *fd_out);
int rs__wal_open_segment(rs__wal *w, uint64_t seq, int *fd_out);
/* pwrite all of it, retrying on EINTR and short writes: 0 or RS_EIO. */
int rs__wal_pwrite_all(rs__wal *w, int fd, const void *p, size_t len,
		       uint64_t off);
/* Read a whole file of the directory into memory (read-only). */
int rs__wal_map(rs__wal *w, const char *name, const unsigned char **p_out,
		size_t *len_out);
void rs__wal_unmap(rs__wal *w, const unsigned char *p, size_t len);
/* Remove a file of the directory (then fsync the directory yourself). */
int rs__wal_unlink(rs__wal *w, const char *name);
/* Give a segment back its preallocation after a cut at `len`. */
int rs__wal_cut_segment(rs__wal *w, uint64_t seq, uint64_t len);
/* Segments and checkpoints present, ascending. Temporaries are removed
 * with remove_tmp (only at open: later, one may be in use). */
int rs__wal_list(rs__wal *w, bool remove_tmp, uint64_t **segs, size_t *nsegs,
		 uint64_t **ckpts, size_t *nckpts);

/* ---- wal_commit.c ---- */

/* The commit entry point of both modes. */
int rs__wal_commit(void *state, const rs__commit_record *rec);
/* With mu held: until `lsn` is durable (writing it as the leader when
 * nobody else is; a Strict committer passes `gather`). 0 or the sticky
 * error. */
int rs__wal_wait_durable_locked(rs__wal *w, uint64_t lsn, bool gather);
/* With mu held and nobody writing: write and sync the filling buffer.
 * Drops mu while it works. */
void rs__wal_write_locked(rs__wal *w);
/* With mu held, at close, nothing else appending: sync what is pending,
 * then append and sync a CLOSE record. */
int rs__wal_close_record_locked(rs__wal *w);
void rs__wal_buf_free(const rs__alloc *a, rs__wal_buf *b);

/* ---- recovery.c ---- */

/* Rebuild the state from the directory and set the append position. */
int rs__wal_recover(rs__wal *w);

/* ---- checkpoint.c ---- */

int rs__wal_checkpoint(rs__wal *w);
/* Recovery: check and load checkpoint `seq` through the host. */
int rs__wal_load_checkpoint(rs__wal *w, uint64_t seq, rs__ckpt_header *out);

#endif
