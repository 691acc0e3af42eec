/* SPDX-License-Identifier: MIT */
/*
 * Files of a database directory:
 *
 *   LOCK                    flock()ed by the open handle (one owner)
 *   wal-<seq>.log           log segments, <seq> 16 lower-case hex digits
 *   ckpt-<seq>.rsc          checkpoints, named by the segment the log
 *                           after them starts in
 *   *.tmp                   being written; removed by the next open
 *
 * Every file is created under a temporary name, synced, renamed into place,
 * and the directory is fsynced after each create, rename and remove, so a
 * crash leaves either the old or the new directory entry, never a partial
 * file under a final name.
 */
#define _GNU_SOURCE
#include "durability/wal.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/error.h"

#define LOCK_NAME "LOCK"

void rs__wal_name(char out[RS__NAME_MAX], const char *prefix, uint64_t seq,
		  const char *suffix)
{
	snprintf(out, RS__NAME_MAX, "%s%016" PRIx64 "%s", prefix, seq, suffix);
}

int rs__wal_io_error(int neg_errno)
{
	return neg_errno == -ENOMEM ? RS_ENOMEM : RS_EIO;
}

/* fsync a directory; with may_deny, one we may not open is left as is. */
static int fsync_path_dir(const rs__io *io, const char *path, bool may_deny)
{
	int fd = io->ops->open(io->ctx, path, RS__IO_DIR);
	int rc = 0;

	if (fd == -EACCES && may_deny)
		return 0;
	if (fd < 0)
		return rs__wal_io_error(fd);
	if (io->ops->fsync(io->ctx, fd) < 0)
		rc = RS_EIO;
	io->ops->close(io->ctx, fd);
	return rc;
}

/* fsync the directory that contains `path`. */
static int fsync_parent(const rs__io *io, const char *path, bool may_deny)
{
	char parent[PATH_MAX];
	size_t n = strlen(path);

	while (n > 1 && path[n - 1] == '/')
		n--;
	while (n > 0 && path[n - 1] != '/')
		n--;
	if (n == 0)
		return fsync_path_dir(io, ".", may_deny);
	if (n >= sizeof(parent))
		return RS_EINVAL;
	memcpy(parent, path, n);
	parent[n] = '\0';
	return fsync_path_dir(io, parent, may_deny);
}

/*
 * The directory lock is an flock() on LOCK, which belongs to the open file
 * description: a fork()ed child shares it, and would keep the directory
 * locked after the parent closed the database, until the child exits or
 * execs. So every held lock is on a list, and a pthread_atfork() handler
 * closes the child's copies (the parent's lock is unaffected: it goes
 * when the last descriptor of the description is closed). Between fork()
 * and that handler the child still holds a copy, so closing a database
 * unlocks (LOCK_UN, which acts on the description) before it closes its
 * descriptor: the directory is free at once, whatever the child has or
 * has not run yet. A child does
 * not own its parent's databases (see the fork caveat in runstate.h); it
 * may open any directory its parent does not hold.
 */
struct rs__dirlock {
	const rs__io *io;
	int fd;
	rs__dirlock *prev, *next;
};

static pthread_mutex_t g_locks_mu = PTHREAD_MUTEX_INITIALIZER;
static rs__dirlock *g_locks;
static pthread_once_t g_atfork_once = PTHREAD_ONCE_INIT;

static void locks_prepare(void)
{
	pthread_mutex_lock(&g_locks_mu);
}

static void locks_parent(void)
{
	pthread_mutex_unlock(&g_locks_mu);
}

static void locks_child(void)
{
	for (rs__dirlock *l = g_locks; l; l = l->next) {
		/* Through the file layer: no other thread runs here. */
		if (l->fd >= 0)
			l->io->ops->close(l->io->ctx, l->fd);
		l->fd = -1;
	}
	pthread_mutex_unlock(&g_locks_mu);
}

static void locks_atfork(void)
{
	(void)pthread_atfork(locks_prepare, locks_parent, locks_child);
}

int rs__wal_lock_dir(const rs__alloc *a, const rs__io *io, const char *path,
		     rs__dirlock **out)
{
	char lock[PATH_MAX];
	rs__dirlock *l;
	int fd, rc = 0;

	if ((size_t)snprintf(lock, sizeof(lock), "%s/" LOCK_NAME, path) >=
	    sizeof(lock))
		return RS_EINVAL;
	/* The directory's entry in its parent is synced at every open, not
	 * only when this one created it: a crash or a failed sync after an
	 * earlier mkdir leaves a directory that exists but may not survive
	 * a power cut, with everything later written into it. */
	rc = io->ops->mkdir(io->ctx, path);
	if (rc < 0 && rc != -EEXIST)
		return rs__wal_io_error(rc);
	RS_TRY(fsync_parent(io, path, rc == -EEXIST));
	if (!(l = rs__malloc(a, sizeof(*l))))
		return RS_ENOMEM;
	(void)pthread_once(&g_atfork_once, locks_atfork);
	/* Held from the open on, so no fork() sees the descriptor before
	 * it is on the list. */
	pthread_mutex_lock(&g_locks_mu);
	fd = io->ops->open(io->ctx, lock, RS__IO_WRITE | RS__IO_CREATE);
	rc = fd < 0 ? fd : io->ops->lock(io->ctx, fd);
	if (rc < 0) {
		pthread_mutex_unlock(&g_locks_mu);
		if (fd >= 0)
			io->ops->close(io->ctx, fd);
		rs__free(a, l);
		return fd >= 0 && rc == -EWOULDBLOCK ? RS_EBUSY
						     : rs__wal_io_error(rc);
	}
	l->io = io;
	l->fd = fd;
	l->prev = NULL;
	l->next = g_locks;
	if (g_locks)
		g_locks->prev = l;
	g_locks = l;
	pthread_mutex_unlock(&g_locks_mu);
	*out = l;
	return 0;
}

void rs__wal_unlock_dir(const rs__alloc *a, rs__dirlock *l)
{
	if (!l)
		return;
	pthread_mutex_lock(&g_locks_mu);
	if (l->prev)
		l->prev->next = l->next;
	else
		g_locks = l->next;
	if (l->next)
		l->next->prev = l->prev;
	pthread_mutex_unlock(&g_locks_mu);
	if (l->fd >= 0) {
		/* Unlocked first: a child fork()ed a moment ago may not have
		 * run locks_child() yet, and its copy of the descriptor
		 * would keep the description, and the lock, alive. */
		(void)l->io->ops->unlock(l->io->ctx, l->fd);
		l->io->ops->close(l->io->ctx, l->fd);
	}
	rs__free(a, l);
}

int rs__wal_open_dir(rs__wal *w)
{
	int fd = w->io->ops->open(w->io->ctx, w->dir, RS__IO_DIR);

	if (fd < 0)
		return rs__wal_io_error(fd);
	w->dirfd = fd;
	return 0;
}

void rs__wal_close_fd(rs__wal *w, int fd)
{
	if (fd >= 0)
		w->io->ops->close(w->io->ctx, fd);
}

int rs__wal_fsync_dir(rs__wal *w)
{
	return w->io->ops->fsync(w->io->ctx, w->dirfd) == 0 ? 0 : RS_EIO;
}

int rs__wal_fsync(rs__wal *w, int fd)
{
	return w->io->ops->fsync(w->io->ctx, fd) == 0 ? 0 : RS_EIO;
}

int rs__wal_fdatasync(rs__wal *w, int fd)
{
	return w->io->ops->fdatasync(w->io->ctx, fd) == 0 ? 0 : RS_EIO;
}

int rs__wal_pwrite_all(rs__wal *w, int fd, const void *p, size_t len,
		       uint64_t off)
{
	const unsigned char *b = p;

	while (len) {
		int64_t n = w->io->ops->pwrite(w->io->ctx, fd, b, len, off);

		if (n < 0) {
			if (n == -EINTR)
				continue;
			return RS_EIO;
		}
		if (n == 0)
			return RS_EIO; /* no progress: never spin */
		b += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int rs__wal_create_tmp(rs__wal *w, const char *name, int *fd_out)
{
	int fd =
		w->io->ops->openat(w->io->ctx, w->dirfd, name,
				   RS__IO_WRITE | RS__IO_CREATE | RS__IO_TRUNC);

	if (fd < 0)
		return rs__wal_io_error(fd);
	*fd_out = fd;
	return 0;
}

int rs__wal_rename(rs__wal *w, const char *from, const char *to)
{
	return w->io->ops->renameat(w->io->ctx, w->dirfd, from, to) == 0
		       ? 0
		       : RS_EIO;
}

/* Reserve the segment's blocks so appends do not change its size. */
static int preallocate(rs__wal *w, int fd, uint64_t size)
{
	int err = w->io->ops->fallocate(w->io->ctx, fd, size);

	if (err == 0 || err == -EOPNOTSUPP || err == -EINVAL)
		return 0; /* no preallocation here: appends still work */
	return RS_EIO;
}

int rs__wal_create_segment(rs__wal *w, uint64_t seq, uint64_t start_lsn,
			   int *fd_out)
{
	char name[RS__NAME_MAX], tmp[RS__NAME_MAX];
	unsigned char hdr[RS__SEG_HDR];
	rs__seg_header h = { seq, start_lsn, rs__clock_realtime_ns() };
	int fd, rc;

	rs__wal_name(name, RS__SEG_PREFIX, seq, RS__SEG_SUFFIX);
	rs__wal_name(tmp, RS__SEG_PREFIX, seq, RS__TMP_SUFFIX);
	RS_TRY(rs__wal_create_tmp(w, tmp, &fd));
	rs__seg_header_encode(hdr, &h);
	if ((rc = rs__wal_pwrite_all(w, fd, hdr, sizeof(hdr), 0)) < 0 ||
	    (rc = preallocate(w, fd, w->cfg.segment_bytes)) < 0 ||
	    (rc = rs__wal_fsync(w, fd)) < 0 ||
	    (rc = rs__wal_rename(w, tmp, name)) < 0)
		goto fail;
	if ((rc = rs__wal_fsync_dir(w)) < 0) {
		rs__wal_close_fd(w, fd);
		return rc;
	}
	*fd_out = fd;
	return 0;
fail:
	rs__wal_close_fd(w, fd);
	(void)rs__wal_unlink(w, tmp);
	return rc;
}

int rs__wal_open_segment(rs__wal *w, uint64_t seq, int *fd_out)
{
	char name[RS__NAME_MAX];
	int fd;

	rs__wal_name(name, RS__SEG_PREFIX, seq, RS__SEG_SUFFIX);
	fd = w->io->ops->openat(w->io->ctx, w->dirfd, name, RS__IO_WRITE);
	if (fd < 0)
		return rs__wal_io_error(fd);
	*fd_out = fd;
	return 0;
}

int rs__wal_cut_segment(rs__wal *w, uint64_t seq, uint64_t len)
{
	int fd, rc = 0;

	RS_TRY(rs__wal_open_segment(w, seq, &fd));
	/* Dropping the blocks past the cut and reserving them again reads
	 * back as zeros: the torn bytes can never resurface behind records
	 * written there later. */
	if (w->io->ops->ftruncate(w->io->ctx, fd, len) < 0)
		rc = RS_EIO;
	if (rc == 0 && len < w->cfg.segment_bytes)
		rc = preallocate(w, fd, w->cfg.segment_bytes);
	if (rc == 0)
		rc = rs__wal_fsync(w, fd);
	rs__wal_close_fd(w, fd);
	return rc;
}

int rs__wal_map(rs__wal *w, const char *name, const unsigned char **p_out,
		size_t *len_out)
{
	int rc = w->io->ops->map(w->io->ctx, w->dirfd, name, p_out, len_out);

	return rc < 0 ? rs__wal_io_error(rc) : 0;
}

void rs__wal_unmap(rs__wal *w, const unsigned char *p, size_t len)
{
	w->io->ops->unmap(w->io->ctx, p, len);
}

int rs__wal_unlink(rs__wal *w, const char *name)
{
	int rc = w->io->ops->unlinkat(w->io->ctx, w->dirfd, name);

	return rc == 0 || rc == -ENOENT ? 0 : RS_EIO;
}

/* "<prefix><16 lower-case hex digits><suffix>" exactly. */
static bool parse_name(const char *name, const char *prefix, const char *suffix,
		       uint64_t *seq)
{
	size_t pl = strlen(prefix), sl = strlen(suffix);
	uint64_t v = 0;

	if (strlen(name) != pl + 16 + sl || strncmp(name, prefix, pl) != 0 ||
	    strcmp(name + pl + 16, suffix) != 0)
		return false;
	for (size_t i = pl; i < pl + 16; i++) {
		char c = name[i];

		if (c >= '0' && c <= '9')
			v = v << 4 | (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint64_t)(c - 'a' + 10);
		else
			return false;
	}
	*seq = v;
	return true;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static int push(const rs__alloc *a, uint64_t **arr, size_t *n, size_t *cap,
		uint64_t v)
{
	RS_TRY(rs__grow(a, (void **)arr, cap, *n + 1, sizeof(**arr)));
	(*arr)[(*n)++] = v;
	return 0;
}

typedef struct list_ctx {
	rs__wal *w;
	bool remove_tmp, removed;
	uint64_t **segs, **ckpts;
	size_t *nsegs, *nckpts, cseg, cckpt;
	int rc; /* an RS_E* code that stopped the listing */
} list_ctx;

static int list_entry(void *arg, const char *name)
{
	list_ctx *lc = arg;
	uint64_t seq;
	int rc = 0;

	if (parse_name(name, RS__SEG_PREFIX, RS__SEG_SUFFIX, &seq)) {
		rc = push(lc->w->alloc, lc->segs, lc->nsegs, &lc->cseg, seq);
	} else if (parse_name(name, RS__CKPT_PREFIX, RS__CKPT_SUFFIX, &seq)) {
		rc = push(lc->w->alloc, lc->ckpts, lc->nckpts, &lc->cckpt, seq);
	} else if (lc->remove_tmp &&
		   (parse_name(name, RS__SEG_PREFIX, RS__TMP_SUFFIX, &seq) ||
		    parse_name(name, RS__CKPT_PREFIX, RS__TMP_SUFFIX, &seq))) {
		/* An interrupted create: never renamed, never used. */
		lc->removed = true;
		rc = rs__wal_unlink(lc->w, name);
	}
	/* RS_E* codes and negative errnos overlap: keep ours apart. */
	lc->rc = rc;
	return rc < 0 ? -1 : 0;
}

int rs__wal_list(rs__wal *w, bool remove_tmp, uint64_t **segs, size_t *nsegs,
		 uint64_t **ckpts, size_t *nckpts)
{
	list_ctx lc = { w,     remove_tmp, false, segs, ckpts,
			nsegs, nckpts,	   0,	  0,	0 };
	int rc;

	*segs = *ckpts = NULL;
	*nsegs = *nckpts = 0;
	rc = w->io->ops->list(w->io->ctx, w->dirfd, list_entry, &lc);
	if (lc.rc < 0)
		rc = lc.rc;
	else if (rc < 0)
		rc = rs__wal_io_error(rc);
	if (rc == 0 && lc.removed)
		rc = rs__wal_fsync_dir(w);
	if (rc < 0) {
		rs__free(w->alloc, *segs);
		rs__free(w->alloc, *ckpts);
		*segs = *ckpts = NULL;
		*nsegs = *nckpts = 0;
		return rc;
	}
	if (*nsegs)
		qsort(*segs, *nsegs, sizeof(**segs), cmp_u64);
	if (*nckpts)
		qsort(*ckpts, *nckpts, sizeof(**ckpts), cmp_u64);
	return 0;
}
