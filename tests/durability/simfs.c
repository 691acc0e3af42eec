/* SPDX-License-Identifier: MIT */
/*
 * The simulated file system and the counting, failing layer of simfs.h.
 */
#define _GNU_SOURCE
#include "simfs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECTOR 512u
#define NAME_MAX_ 64
#define NFDS 64
#define FD_BASE 1000 /* far from real descriptors: mixing them shows */

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q) {
		fprintf(stderr, "simfs: out of memory\n");
		abort();
	}
	return q;
}

#define GROW(arr, n, cap)                                                \
	do {                                                             \
		if ((n) == (cap)) {                                      \
			(cap) = (cap) ? 2 * (cap) : 8;                   \
			(arr) = xrealloc((arr), (cap) * sizeof(*(arr))); \
		}                                                        \
	} while (0)

enum {
	OP_WRITE,
	OP_TRUNC,
	OP_ALLOC
};

typedef struct sim_op {
	int kind;
	uint64_t off, len; /* OP_WRITE: [off, off+len); else the size */
	unsigned char *data;
} sim_op;

/* Bytes and a size. */
typedef struct sim_bytes {
	unsigned char *p;
	size_t len, cap;
} sim_bytes;

typedef struct sim_file {
	sim_bytes cur; /* what a process reads */
	sim_bytes dur; /* what the medium holds */
	sim_op *pend;  /* since the last sync, in order */
	size_t npend, cpend;
} sim_file;

enum {
	DOP_CREATE,
	DOP_RENAME,
	DOP_UNLINK
};

typedef struct sim_dop {
	int kind;
	char a[NAME_MAX_], b[NAME_MAX_];
	int ino;
} sim_dop;

typedef struct sim_ent {
	char name[NAME_MAX_];
	int ino;
} sim_ent;

typedef struct sim_dir {
	sim_ent *e;
	size_t n, cap;
} sim_dir;

enum {
	FD_FREE,
	FD_FILE,
	FD_DIR,
	FD_PARENT
};

struct simfs {
	rs__io io;
	pthread_mutex_t mu;
	char root[256];
	bool root_exists, root_durable;
	sim_file **files;
	size_t nfiles, cfiles;
	sim_dir cur, dur; /* the directory: page cache and medium */
	sim_dop *dops;	  /* since the last directory fsync */
	size_t ndops, cdops;
	struct {
		int kind, ino;
	} fds[NFDS];
	int lock_fd;
};

/* ---- bytes ---- */

static void bytes_resize(sim_bytes *b, size_t len)
{
	if (len > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;

		while (cap < len)
			cap *= 2;
		b->p = xrealloc(b->p, cap);
		b->cap = cap;
	}
	if (len > b->len)
		memset(b->p + b->len, 0, len - b->len);
	b->len = len;
}

static void bytes_write(sim_bytes *b, uint64_t off, const void *p, size_t n)
{
	if (off + n > b->len)
		bytes_resize(b, (size_t)(off + n));
	memcpy(b->p + off, p, n);
}

static void bytes_copy(sim_bytes *to, const sim_bytes *from)
{
	to->len = 0;
	bytes_resize(to, from->len);
	if (from->len)
		memcpy(to->p, from->p, from->len);
}

static void op_apply(sim_bytes *b, const sim_op *op, uint64_t len)
{
	switch (op->kind) {
	case OP_WRITE:
		bytes_write(b, op->off, op->data, (size_t)len);
		break;
	case OP_TRUNC:
		if (op->len < b->len)
			b->len = (size_t)op->len;
		else
			bytes_resize(b, (size_t)op->len);
		break;
	default:
		if (op->len > b->len)
			bytes_resize(b, (size_t)op->len);
		break;
	}
}

/* ---- the directory ---- */

static sim_ent *dir_find(sim_dir *d, const char *name)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->e[i].name, name) == 0)
			return &d->e[i];
	return NULL;
}

static void dir_remove(sim_dir *d, const char *name)
{
	sim_ent *e = dir_find(d, name);

	if (e)
		*e = d->e[--d->n];
}

static void dir_add(sim_dir *d, const char *name, int ino)
{
	GROW(d->e, d->n, d->cap);
	snprintf(d->e[d->n].name, NAME_MAX_, "%s", name);
	d->e[d->n++].ino = ino;
}

static void dir_copy(sim_dir *to, const sim_dir *from)
{
	to->n = 0;
	for (size_t i = 0; i < from->n; i++)
		dir_add(to, from->e[i].name, from->e[i].ino);
}

/* Apply a directory change; false when its source is missing. */
static bool dop_apply(sim_dir *d, const sim_dop *op)
{
	sim_ent *e;

	switch (op->kind) {
	case DOP_CREATE:
		if (dir_find(d, op->a))
			return false;
		dir_add(d, op->a, op->ino);
		return true;
	case DOP_RENAME:
		if (!(e = dir_find(d, op->a)) || e->ino != op->ino)
			return false;
		dir_remove(d, op->b);
		e = dir_find(d, op->a);
		snprintf(e->name, NAME_MAX_, "%s", op->b);
		return true;
	default:
		if (!dir_find(d, op->a))
			return false;
		dir_remove(d, op->a);
		return true;
	}
}

static void dop_add(simfs *s, int kind, const char *a, const char *b, int ino)
{
	sim_dop *op;

	GROW(s->dops, s->ndops, s->cdops);
	op = &s->dops[s->ndops++];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	snprintf(op->a, NAME_MAX_, "%s", a);
	if (b)
		snprintf(op->b, NAME_MAX_, "%s", b);
	op->ino = ino;
}

/* ---- files and descriptors ---- */

static int file_new(simfs *s)
{
	GROW(s->files, s->nfiles, s->cfiles);
	s->files[s->nfiles] = xrealloc(NULL, sizeof(sim_file));
	memset(s->files[s->nfiles], 0, sizeof(sim_file));
	return (int)s->nfiles++;
}

static void file_pend(sim_file *f, int kind, uint64_t off, uint64_t len,
		      const void *data)
{
	sim_op *op;

	GROW(f->pend, f->npend, f->cpend);
	op = &f->pend[f->npend++];
	op->kind = kind;
	op->off = off;
	op->len = len;
	op->data = NULL;
	if (data) {
		op->data = xrealloc(NULL, (size_t)len);
		memcpy(op->data, data, (size_t)len);
	}
}

static void file_sync(sim_file *f)
{
	bytes_copy(&f->dur, &f->cur);
	for (size_t i = 0; i < f->npend; i++)
		free(f->pend[i].data);
	f->npend = 0;
}

static int fd_new(simfs *s, int kind, int ino)
{
	for (int i = 0; i < NFDS; i++) {
		if (s->fds[i].kind == FD_FREE) {
			s->fds[i].kind = kind;
			s->fds[i].ino = ino;
			return FD_BASE + i;
		}
	}
	return -EMFILE;
}

static int fd_kind(simfs *s, int fd)
{
	if (fd < FD_BASE || fd >= FD_BASE + NFDS)
		return FD_FREE;
	return s->fds[fd - FD_BASE].kind;
}

static sim_file *fd_file(simfs *s, int fd)
{
	if (fd_kind(s, fd) != FD_FILE)
		return NULL;
	return s->files[s->fds[fd - FD_BASE].ino];
}

/* ---- the rs__io ops ---- */

static int sim_mkdir(void *ctx, const char *path)
{
	simfs *s = ctx;
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	if (strcmp(path, s->root) != 0)
		rc = -EACCES;
	else if (s->root_exists)
		rc = -EEXIST;
	else
		s->root_exists = true;
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static int openat_locked(simfs *s, const char *name, unsigned flags)
{
	sim_ent *e = dir_find(&s->cur, name);
	int ino;

	if (!s->root_exists)
		return -ENOENT;
	if (flags & RS__IO_DIR)
		return strcmp(name, ".") == 0 ? fd_new(s, FD_DIR, -1)
					      : -ENOTDIR;
	if (!e) {
		if (!(flags & RS__IO_CREATE))
			return -ENOENT;
		ino = file_new(s);
		dir_add(&s->cur, name, ino);
		dop_add(s, DOP_CREATE, name, NULL, ino);
	} else {
		ino = e->ino;
		if (flags & RS__IO_TRUNC) {
			sim_file *f = s->files[ino];
			sim_op op = { OP_TRUNC, 0, 0, NULL };

			op_apply(&f->cur, &op, 0);
			file_pend(f, OP_TRUNC, 0, 0, NULL);
		}
	}
	return fd_new(s, FD_FILE, ino);
}

static int sim_open(void *ctx, const char *path, unsigned flags)
{
	simfs *s = ctx;
	size_t n = strlen(s->root);
	int rc;

	pthread_mutex_lock(&s->mu);
	if (strcmp(path, s->root) == 0)
		rc = !s->root_exists	  ? -ENOENT
		     : flags & RS__IO_DIR ? fd_new(s, FD_DIR, -1)
					  : -EISDIR;
	else if (strncmp(path, s->root, n) == 0 && path[n] == '/')
		rc = openat_locked(s, path + n + 1, flags);
	else if (flags & RS__IO_DIR)
		rc = fd_new(s, FD_PARENT, -1); /* the parent directory */
	else
		rc = -ENOENT;
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static int sim_openat(void *ctx, int dirfd, const char *name, unsigned flags)
{
	simfs *s = ctx;
	int rc;

	pthread_mutex_lock(&s->mu);
	rc = fd_kind(s, dirfd) == FD_DIR ? openat_locked(s, name, flags)
					 : -EBADF;
	pthread_mutex_unlock(&s->mu);
	return rc;
}

/* flock (close_it false) or close (true): both decide who holds LOCK. */
enum lock_op {
	LOCK_TAKE,
	LOCK_DROP,
	LOCK_CLOSE
};

static int fd_lock_op(void *ctx, int fd, enum lock_op op)
{
	simfs *s = ctx;
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	if (fd_kind(s, fd) == FD_FREE) {
		rc = -EBADF;
	} else if (op != LOCK_TAKE) {
		if (op == LOCK_CLOSE)
			s->fds[fd - FD_BASE].kind = FD_FREE;
		if (s->lock_fd == fd)
			s->lock_fd = -1;
	} else if (s->lock_fd >= 0 && s->lock_fd != fd) {
		rc = -EWOULDBLOCK;
	} else {
		s->lock_fd = fd;
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static int sim_lock(void *ctx, int fd)
{
	return fd_lock_op(ctx, fd, LOCK_TAKE);
}

static int sim_unlock(void *ctx, int fd)
{
	return fd_lock_op(ctx, fd, LOCK_DROP);
}

static int sim_close(void *ctx, int fd)
{
	return fd_lock_op(ctx, fd, LOCK_CLOSE);
}

static int64_t sim_pwrite(void *ctx, int fd, const void *p, size_t len,
			  uint64_t off)
{
	simfs *s = ctx;
	sim_file *f;
	int64_t rc = (int64_t)len;

	pthread_mutex_lock(&s->mu);
	if (!(f = fd_file(s, fd))) {
		rc = -EBADF;
	} else {
		bytes_write(&f->cur, off, p, len);
		file_pend(f, OP_WRITE, off, len, p);
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static int sim_fsync(void *ctx, int fd)
{
	simfs *s = ctx;
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	switch (fd_kind(s, fd)) {
	case FD_FILE:
		file_sync(fd_file(s, fd));
		break;
	case FD_DIR:
		dir_copy(&s->dur, &s->cur);
		s->ndops = 0;
		break;
	case FD_PARENT:
		s->root_durable = s->root_exists;
		break;
	default:
		rc = -EBADF;
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static int resize_op(void *ctx, int fd, uint64_t len, int kind)
{
	simfs *s = ctx;
	sim_file *f;
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	if (!(f = fd_file(s, fd))) {
		rc = -EBADF;
	} else {
		sim_op op = { kind, 0, len, NULL };

		op_apply(&f->cur, &op, 0);
		file_pend(f, kind, 0, len, NULL);
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static int sim_ftruncate(void *ctx, int fd, uint64_t len)
{
	return resize_op(ctx, fd, len, OP_TRUNC);
}

static int sim_fallocate(void *ctx, int fd, uint64_t len)
{
	return resize_op(ctx, fd, len, OP_ALLOC);
}

/* The entry `name` of the directory `dirfd`, or NULL with *rc set. */
static sim_ent *entry_locked(simfs *s, int dirfd, const char *name, int *rc)
{
	sim_ent *e = NULL;

	if (fd_kind(s, dirfd) != FD_DIR)
		*rc = -EBADF;
	else if (!(e = dir_find(&s->cur, name)))
		*rc = -ENOENT;
	return e;
}

/* rename (to non-NULL) or unlink: pending until the directory's fsync. */
static int dir_change(void *ctx, int dirfd, const char *name, const char *to)
{
	simfs *s = ctx;
	sim_ent *e;
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	if ((e = entry_locked(s, dirfd, name, &rc)) != NULL) {
		dop_add(s, to ? DOP_RENAME : DOP_UNLINK, name, to,
			to ? e->ino : -1);
		dop_apply(&s->cur, &s->dops[s->ndops - 1]);
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static int sim_renameat(void *ctx, int dirfd, const char *from, const char *to)
{
	return dir_change(ctx, dirfd, from, to);
}

static int sim_unlinkat(void *ctx, int dirfd, const char *name)
{
	return dir_change(ctx, dirfd, name, NULL);
}

static int sim_map(void *ctx, int dirfd, const char *name,
		   const unsigned char **p, size_t *len)
{
	simfs *s = ctx;
	sim_ent *e;
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	if ((e = entry_locked(s, dirfd, name, &rc)) != NULL) {
		const sim_bytes *b = &s->files[e->ino]->cur;

		*len = b->len;
		*p = NULL;
		if (b->len) {
			unsigned char *q = xrealloc(NULL, b->len);

			memcpy(q, b->p, b->len);
			*p = q;
		}
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static void sim_unmap(void *ctx, const unsigned char *p, size_t len)
{
	(void)ctx;
	(void)len;
	free((void *)(uintptr_t)p);
}

static int sim_list(void *ctx, int dirfd, int (*cb)(void *, const char *),
		    void *arg)
{
	simfs *s = ctx;
	sim_dir names = { NULL, 0, 0 };
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	if (fd_kind(s, dirfd) != FD_DIR)
		rc = -EBADF;
	else
		dir_copy(&names, &s->cur);
	pthread_mutex_unlock(&s->mu);
	/* Unlocked: cb may unlink. */
	for (size_t i = 0; i < names.n && rc >= 0; i++)
		rc = cb(arg, names.e[i].name);
	free(names.e);
	return rc < 0 ? rc : 0;
}

static const rs__io_ops sim_ops = {
	.mkdir = sim_mkdir,
	.open = sim_open,
	.openat = sim_openat,
	.lock = sim_lock,
	.unlock = sim_unlock,
	.close = sim_close,
	.pwrite = sim_pwrite,
	.fsync = sim_fsync,
	.fdatasync = sim_fsync,
	.ftruncate = sim_ftruncate,
	.fallocate = sim_fallocate,
	.renameat = sim_renameat,
	.unlinkat = sim_unlinkat,
	.map = sim_map,
	.unmap = sim_unmap,
	.list = sim_list,
};

simfs *simfs_new(const char *root)
{
	simfs *s = xrealloc(NULL, sizeof(*s));

	memset(s, 0, sizeof(*s));
	s->io.ops = &sim_ops;
	s->io.ctx = s;
	pthread_mutex_init(&s->mu, NULL);
	snprintf(s->root, sizeof(s->root), "%s", root);
	s->lock_fd = -1;
	return s;
}

void simfs_free(simfs *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nfiles; i++) {
		sim_file *f = s->files[i];

		for (size_t j = 0; j < f->npend; j++)
			free(f->pend[j].data);
		free(f->pend);
		free(f->cur.p);
		free(f->dur.p);
		free(f);
	}
	free(s->files);
	free(s->cur.e);
	free(s->dur.e);
	free(s->dops);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

const rs__io *simfs_io(simfs *s)
{
	return &s->io;
}

/* ---- power cuts ---- */

static uint64_t next_rand(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* How much of a pending write survives: len, 0, or a prefix ending on a
 * sector boundary inside it. */
static uint64_t tear(const sim_op *op, uint64_t *rng)
{
	uint64_t first = (op->off / SECTOR + 1) * SECTOR,
		 end = op->off + op->len;
	uint64_t nb;

	if (first >= end)
		return next_rand(rng) % 2 ? op->len : 0;
	nb = (end - 1 - first) / SECTOR + 1; /* boundaries inside */
	/* 0: nothing; 1..nb: up to that boundary. */
	{
		uint64_t pick = next_rand(rng) % (nb + 1);

		return pick == 0 ? 0 : first + (pick - 1) * SECTOR - op->off;
	}
}

/* "name:bytes(of bytes the process saw) " */
static void describe(simfs_cut_info *info, const char *name, size_t a, size_t b)
{
	size_t n = strlen(info->desc);

	if (n + 1 < sizeof(info->desc))
		snprintf(info->desc + n, sizeof(info->desc) - n,
			 "%s:%zu(of %zu) ", name, a, b);
}

simfs *simfs_cut(simfs *s, uint64_t seed, unsigned variant,
		 simfs_cut_info *info)
{
	simfs *t = simfs_new(s->root);
	uint64_t rng = seed * 0x2545f4914f6cdd1dull + variant;
	simfs_cut_info local;

	if (!info)
		info = &local;
	memset(info, 0, sizeof(*info));
	pthread_mutex_lock(&s->mu);
	t->root_exists = t->root_durable =
		s->root_durable ||
		(s->root_exists && variant != SIMFS_KEEP_NONE &&
		 (variant < 3 || next_rand(&rng) % 2));
	/* Files: the medium plus the pending operations kept. */
	for (size_t i = 0; i < s->nfiles; i++) {
		const sim_file *f = s->files[i];
		sim_file *g;
		size_t last_write = SIZE_MAX;

		file_new(t);
		g = t->files[i];
		bytes_copy(&g->dur, &f->dur);
		for (size_t j = 0; j < f->npend; j++)
			if (f->pend[j].kind == OP_WRITE)
				last_write = j;
		for (size_t j = 0; j < f->npend; j++) {
			const sim_op *op = &f->pend[j];
			uint64_t len = op->len;

			info->pending++;
			if (variant == SIMFS_KEEP_NONE)
				continue;
			if (variant == SIMFS_TEAR_LAST) {
				if (j == last_write)
					len = tear(op, &rng);
			} else if (variant >= 3) {
				if (next_rand(&rng) % 2)
					continue;
				if (op->kind == OP_WRITE &&
				    next_rand(&rng) % 4 == 0)
					len = tear(op, &rng);
			}
			if (op->kind == OP_WRITE && len == 0)
				continue;
			if (op->kind == OP_WRITE && len < op->len)
				info->torn++;
			else
				info->kept++;
			op_apply(&g->dur, op, len);
		}
		bytes_copy(&g->cur, &g->dur);
	}
	/* The directory: the medium's plus the pending changes kept. */
	dir_copy(&t->dur, &s->dur);
	for (size_t i = 0; i < s->ndops; i++) {
		bool keep = variant == SIMFS_KEEP_ALL ||
			    variant == SIMFS_TEAR_LAST ||
			    (variant >= 3 && next_rand(&rng) % 2);

		info->pending++;
		if (keep && dop_apply(&t->dur, &s->dops[i]))
			info->kept++;
	}
	if (!t->root_exists)
		t->dur.n = 0;
	dir_copy(&t->cur, &t->dur);
	for (size_t i = 0; i < t->dur.n; i++)
		describe(info, t->dur.e[i].name,
			 t->files[t->dur.e[i].ino]->dur.len,
			 s->files[t->dur.e[i].ino]->cur.len);
	pthread_mutex_unlock(&s->mu);
	return t;
}

/* ---- fio ---- */

const char *const fio_kind_name[FIO_NKINDS] = {
	"open",	     "write",  "sync",	 "ftruncate",
	"fallocate", "rename", "unlink", "mkdir",
};

/*
 * Before a call of `kind`: 0 to forward it, or the negative errno it
 * fails with.
 */
static int fio_enter2(fio *f, int kind, bool mutating, bool *cut)
{
	int rc = 0;

	pthread_mutex_lock(&f->mu);
	f->count[kind]++;
	if (mutating) {
		if (f->cut || f->mutating == f->cut_at) {
			f->cut = true;
			rc = -EIO;
		}
		f->mutating++;
	}
	*cut = rc != 0;
	if (rc == 0 && !f->fired && kind == f->fail_kind &&
	    f->count[kind] == f->fail_nth) {
		f->fired = true;
		rc = -f->fail_errno;
	}
	pthread_mutex_unlock(&f->mu);
	return rc;
}

static int fio_enter(fio *f, int kind, bool mutating)
{
	bool cut;

	return fio_enter2(f, kind, mutating, &cut);
}

#define INNER(f) ((f)->inner->ops)
#define ICTX(f) ((f)->inner->ctx)

static int fio_mkdir(void *ctx, const char *path)
{
	fio *f = ctx;
	int rc = fio_enter(f, FIO_MKDIR, true);

	return rc ? rc : INNER(f)->mkdir(ICTX(f), path);
}

static int fio_open(void *ctx, const char *path, unsigned flags)
{
	fio *f = ctx;
	int rc = fio_enter(f, FIO_OPEN, (flags & RS__IO_CREATE) != 0);

	return rc ? rc : INNER(f)->open(ICTX(f), path, flags);
}

static int fio_openat(void *ctx, int dirfd, const char *name, unsigned flags)
{
	fio *f = ctx;
	int rc = fio_enter(f, FIO_OPEN, (flags & RS__IO_CREATE) != 0);

	return rc ? rc : INNER(f)->openat(ICTX(f), dirfd, name, flags);
}

static int fio_lock(void *ctx, int fd)
{
	fio *f = ctx;

	return INNER(f)->lock(ICTX(f), fd);
}

static int fio_unlock(void *ctx, int fd)
{
	fio *f = ctx;

	return INNER(f)->unlock(ICTX(f), fd);
}

static int fio_close(void *ctx, int fd)
{
	fio *f = ctx;

	return INNER(f)->close(ICTX(f), fd);
}

static int64_t fio_pwrite(void *ctx, int fd, const void *p, size_t len,
			  uint64_t off)
{
	fio *f = ctx;
	bool cut;
	int rc = fio_enter2(f, FIO_WRITE, true, &cut);

	if (rc == 0)
		return INNER(f)->pwrite(ICTX(f), fd, p, len, off);
	/* An injected failure (not a cut) may leave part of the write
	 * behind, as a full disk can. */
	if (!cut && len >= 2 * SECTOR)
		(void)INNER(f)->pwrite(ICTX(f), fd, p, len / 2, off);
	return rc;
}

static int fio_fsync(void *ctx, int fd)
{
	fio *f = ctx;
	int rc = fio_enter(f, FIO_SYNC, true);

	return rc ? rc : INNER(f)->fsync(ICTX(f), fd);
}

static int fio_fdatasync(void *ctx, int fd)
{
	fio *f = ctx;
	int rc = fio_enter(f, FIO_SYNC, true);

	return rc ? rc : INNER(f)->fdatasync(ICTX(f), fd);
}

static int fio_ftruncate(void *ctx, int fd, uint64_t len)
{
	fio *f = ctx;
	int rc = fio_enter(f, FIO_TRUNC, true);

	return rc ? rc : INNER(f)->ftruncate(ICTX(f), fd, len);
}

static int fio_fallocate(void *ctx, int fd, uint64_t len)
{
	fio *f = ctx;
	int rc = fio_enter(f, FIO_ALLOC, true);

	return rc ? rc : INNER(f)->fallocate(ICTX(f), fd, len);
}

static int fio_renameat(void *ctx, int dirfd, const char *from, const char *to)
{
	fio *f = ctx;
	int rc = fio_enter(f, FIO_RENAME, true);

	return rc ? rc : INNER(f)->renameat(ICTX(f), dirfd, from, to);
}

static int fio_unlinkat(void *ctx, int dirfd, const char *name)
{
	fio *f = ctx;
	int rc = fio_enter(f, FIO_UNLINK, true);

	return rc ? rc : INNER(f)->unlinkat(ICTX(f), dirfd, name);
}

static int fio_map(void *ctx, int dirfd, const char *name,
		   const unsigned char **p, size_t *len)
{
	fio *f = ctx;
	int rc = fio_enter(f, FIO_OPEN, false);

	return rc ? rc : INNER(f)->map(ICTX(f), dirfd, name, p, len);
}

static void fio_unmap(void *ctx, const unsigned char *p, size_t len)
{
	fio *f = ctx;

	INNER(f)->unmap(ICTX(f), p, len);
}

static int fio_list(void *ctx, int dirfd, int (*cb)(void *, const char *),
		    void *arg)
{
	fio *f = ctx;
	int rc = fio_enter(f, FIO_OPEN, false);

	return rc ? rc : INNER(f)->list(ICTX(f), dirfd, cb, arg);
}

static const rs__io_ops fio_ops = {
	.mkdir = fio_mkdir,
	.open = fio_open,
	.openat = fio_openat,
	.lock = fio_lock,
	.unlock = fio_unlock,
	.close = fio_close,
	.pwrite = fio_pwrite,
	.fsync = fio_fsync,
	.fdatasync = fio_fdatasync,
	.ftruncate = fio_ftruncate,
	.fallocate = fio_fallocate,
	.renameat = fio_renameat,
	.unlinkat = fio_unlinkat,
	.map = fio_map,
	.unmap = fio_unmap,
	.list = fio_list,
};

void fio_init(fio *f, const rs__io *inner)
{
	memset(f, 0, sizeof(*f));
	f->io.ops = &fio_ops;
	f->io.ctx = f;
	f->inner = inner;
	f->fail_kind = -1;
	f->cut_at = UINT64_MAX;
	pthread_mutex_init(&f->mu, NULL);
}

static bool fio_flag(fio *f, const bool *flag)
{
	bool v;

	pthread_mutex_lock(&f->mu);
	v = *flag;
	pthread_mutex_unlock(&f->mu);
	return v;
}

bool fio_has_fired(fio *f)
{
	return fio_flag(f, &f->fired);
}

bool fio_was_cut(fio *f)
{
	return fio_flag(f, &f->cut);
}

void fio_destroy(fio *f)
{
	pthread_mutex_destroy(&f->mu);
}
