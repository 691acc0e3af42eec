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

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/error.h"

#define LOCK_NAME "LOCK"

void rs__wal_name(char out[RS__NAME_MAX], const char *prefix, uint64_t seq,
		  const char *suffix)
{
	snprintf(out, RS__NAME_MAX, "%s%016" PRIx64 "%s", prefix, seq, suffix);
}

static int fsync_path_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return RS_EIO;
	if (fsync(fd) != 0)
		rc = RS_EIO;
	close(fd);
	return rc;
}

/* fsync the directory that contains `path` (after creating it). */
static int fsync_parent(const char *path)
{
	char parent[PATH_MAX];
	size_t n = strlen(path);

	while (n > 1 && path[n - 1] == '/')
		n--;
	while (n > 0 && path[n - 1] != '/')
		n--;
	if (n == 0)
		return fsync_path_dir(".");
	if (n >= sizeof(parent))
		return RS_EINVAL;
	memcpy(parent, path, n);
	parent[n] = '\0';
	return fsync_path_dir(parent);
}

/*
 * The directory lock is an flock() on LOCK, which belongs to the open file
 * description: a fork()ed child shares it, and would keep the directory
 * locked after the parent closed the database, until the child exits or
 * execs. So every held lock is on a list, and a pthread_atfork() handler
 * closes the child's copies (the parent's lock is unaffected: it goes
 * when the last descriptor of the description is closed). A child does
 * not own its parent's databases (see the fork caveat in runstate.h); it
 * may open any directory its parent does not hold.
 */
struct rs__dirlock {
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
		if (l->fd >= 0)
			close(l->fd);
		l->fd = -1;
	}
	pthread_mutex_unlock(&g_locks_mu);
}

static void locks_atfork(void)
{
	(void)pthread_atfork(locks_prepare, locks_parent, locks_child);
}

int rs__wal_lock_dir(const rs__alloc *a, const char *path, rs__dirlock **out)
{
	char lock[PATH_MAX];
	rs__dirlock *l;
	int fd, rc = 0;

	if ((size_t)snprintf(lock, sizeof(lock), "%s/" LOCK_NAME, path) >=
	    sizeof(lock))
		return RS_EINVAL;
	if (mkdir(path, 0777) == 0) {
		RS_TRY(fsync_parent(path));
	} else if (errno != EEXIST) {
		return errno == ENOMEM ? RS_ENOMEM : RS_EIO;
	}
	if (!(l = rs__malloc(a, sizeof(*l))))
		return RS_ENOMEM;
	(void)pthread_once(&g_atfork_once, locks_atfork);
	/* Held from the open on, so no fork() sees the descriptor before
	 * it is on the list. */
	pthread_mutex_lock(&g_locks_mu);
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
		rc = fd >= 0 && errno == EWOULDBLOCK ? RS_EBUSY : RS_EIO;
		pthread_mutex_unlock(&g_locks_mu);
		if (fd >= 0)
			close(fd);
		rs__free(a, l);
		return rc;
	}
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
	if (l->fd >= 0)
		close(l->fd); /* releases the flock */
	rs__free(a, l);
}

int rs__wal_fsync_dir(rs__wal *w)
{
	return fsync(w->dirfd) == 0 ? 0 : RS_EIO;
}

int rs__wal_pwrite_all(int fd, const void *p, size_t len, uint64_t off)
{
	const unsigned char *b = p;

	while (len) {
		ssize_t n = pwrite(fd, b, len, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return RS_EIO;
		}
		b += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Reserve the segment's blocks so appends do not change its size. */
static int preallocate(int fd, uint64_t size)
{
	int err;

	if (fallocate(fd, 0, 0, (off_t)size) == 0)
		return 0;
	err = posix_fallocate(fd, 0, (off_t)size);
	if (err == 0 || err == EOPNOTSUPP || err == EINVAL)
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
	fd = openat(w->dirfd, tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0644);
	if (fd < 0)
		return RS_EIO;
	rs__seg_header_encode(hdr, &h);
	if ((rc = rs__wal_pwrite_all(fd, hdr, sizeof(hdr), 0)) < 0 ||
	    (rc = preallocate(fd, w->cfg.segment_bytes)) < 0)
		goto fail;
	if (fsync(fd) != 0 || renameat(w->dirfd, tmp, w->dirfd, name) != 0) {
		rc = RS_EIO;
		goto fail;
	}
	if ((rc = rs__wal_fsync_dir(w)) < 0) {
		close(fd);
		return rc;
	}
	*fd_out = fd;
	return 0;
fail:
	close(fd);
	unlinkat(w->dirfd, tmp, 0);
	return rc;
}

int rs__wal_open_segment(rs__wal *w, uint64_t seq, int *fd_out)
{
	char name[RS__NAME_MAX];
	int fd;

	rs__wal_name(name, RS__SEG_PREFIX, seq, RS__SEG_SUFFIX);
	fd = openat(w->dirfd, name, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return RS_EIO;
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
	if (ftruncate(fd, (off_t)len) != 0)
		rc = RS_EIO;
	if (rc == 0 && len < w->cfg.segment_bytes)
		rc = preallocate(fd, w->cfg.segment_bytes);
	if (rc == 0 && fsync(fd) != 0)
		rc = RS_EIO;
	close(fd);
	return rc;
}

int rs__wal_map(rs__wal *w, const char *name, const unsigned char **p_out,
		size_t *len_out)
{
	struct stat st;
	void *p;
	int fd = openat(w->dirfd, name, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return RS_EIO;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return RS_EIO;
	}
	*len_out = (size_t)st.st_size;
	*p_out = NULL;
	if (st.st_size == 0) {
		close(fd);
		return 0;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return errno == ENOMEM ? RS_ENOMEM : RS_EIO;
	*p_out = p;
	return 0;
}

void rs__wal_unmap(const unsigned char *p, size_t len)
{
	if (p)
		munmap((void *)(uintptr_t)p, len);
}

int rs__wal_unlink(rs__wal *w, const char *name)
{
	if (unlinkat(w->dirfd, name, 0) != 0 && errno != ENOENT)
		return RS_EIO;
	return 0;
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

int rs__wal_list(rs__wal *w, bool remove_tmp, uint64_t **segs, size_t *nsegs,
		 uint64_t **ckpts, size_t *nckpts)
{
	size_t cseg = 0, cckpt = 0;
	bool removed = false;
	struct dirent *de;
	int rc = 0, fd;
	DIR *d;

	*segs = *ckpts = NULL;
	*nsegs = *nckpts = 0;
	fd = openat(w->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return RS_EIO;
	}
	while ((de = readdir(d)) != NULL) {
		uint64_t seq;

		if (parse_name(de->d_name, RS__SEG_PREFIX, RS__SEG_SUFFIX,
			       &seq))
			rc = push(w->alloc, segs, nsegs, &cseg, seq);
		else if (parse_name(de->d_name, RS__CKPT_PREFIX,
				    RS__CKPT_SUFFIX, &seq))
			rc = push(w->alloc, ckpts, nckpts, &cckpt, seq);
		else if (remove_tmp && (parse_name(de->d_name, RS__SEG_PREFIX,
						   RS__TMP_SUFFIX, &seq) ||
					parse_name(de->d_name, RS__CKPT_PREFIX,
						   RS__TMP_SUFFIX, &seq))) {
			/* An interrupted create: never renamed, never used. */
			rc = rs__wal_unlink(w, de->d_name);
			removed = true;
		}
		if (rc < 0)
			break;
	}
	closedir(d);
	if (rc == 0 && removed)
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
