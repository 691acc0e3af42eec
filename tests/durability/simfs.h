/* SPDX-License-Identifier: MIT */
#ifndef RS_TESTS_SIMFS_H
#define RS_TESTS_SIMFS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "durability/io.h"

/*
 * Two file layers (src/durability/io.h) for the power-loss and fault
 * tests, selected with the internal hook rs__test_io().
 *
 * simfs: a simulated file system in memory holding one database
 * directory. Like a kernel it keeps two states: what a process reads (the
 * page cache) and what the medium holds. A file's writes, truncations and
 * preallocations reach the medium only when the file is fsynced or
 * fdatasynced; the directory's entries (create, rename, unlink) only when
 * the directory is fsynced; the directory itself when its parent is.
 * Until then they are pending, in call order. simfs_cut() builds the disk
 * a power cut would leave at that moment: the medium, plus some of the
 * pending operations, chosen by a seed and a variant (see below). Every
 * state of the image is on its medium, so it can be cut again.
 *
 * fio: a layer over another one that counts calls by kind and either
 * fails the nth call of one kind with an errno (once; later calls pass),
 * or "cuts the power" at call k: from the kth mutating call on (create,
 * write, sync, truncate, preallocate, rename, unlink, mkdir; counted from
 * 0 across everything it serves) every mutating call fails with EIO and
 * reaches nothing, so the layer below keeps the state of that moment.
 * Both are thread-safe.
 */

typedef struct simfs simfs;

/* An empty file system: `root` (a relative path without '/') does not
 * exist yet; rs_db_open creates it. */
simfs *simfs_new(const char *root);
void simfs_free(simfs *s);
const rs__io *simfs_io(simfs *s);

/*
 * What survives a power cut now:
 *  SIMFS_KEEP_NONE  only the medium (every pending operation is lost);
 *  SIMFS_KEEP_ALL   every pending operation too (a process crash);
 *  SIMFS_TEAR_LAST  all, but each file's last pending write keeps only a
 *                   prefix of whole 512-byte sectors (maybe none);
 *  higher variants  each pending operation independently kept or lost
 *                   (later ones may survive earlier ones: reordering), a
 *                   kept write torn to a sector prefix now and then, each
 *                   pending directory entry change kept or lost.
 * Pending directory changes are replayed in order over the medium's
 * directory; one whose source is gone is skipped.
 */
#define SIMFS_KEEP_NONE 0u
#define SIMFS_KEEP_ALL 1u
#define SIMFS_TEAR_LAST 2u

typedef struct simfs_cut_info {
	size_t pending; /* operations pending at the cut */
	size_t kept;	/* of them, kept whole */
	size_t torn;	/* kept as a sector prefix */
	char desc[512]; /* what survived, for a failure message */
} simfs_cut_info;

simfs *simfs_cut(simfs *s, uint64_t seed, unsigned variant,
		 simfs_cut_info *info);

/* ---- fio ---- */

enum {
	FIO_OPEN, /* open, openat, map, list */
	FIO_WRITE,
	FIO_SYNC, /* fsync, fdatasync, of files and the directory */
	FIO_TRUNC,
	FIO_ALLOC,
	FIO_RENAME,
	FIO_UNLINK,
	FIO_MKDIR,
	FIO_NKINDS
};

extern const char *const fio_kind_name[FIO_NKINDS];

typedef struct fio {
	rs__io io; /* select this one */
	const rs__io *inner;
	pthread_mutex_t mu;
	uint64_t count[FIO_NKINDS]; /* calls seen, by kind */
	uint64_t mutating;	    /* mutating calls seen */
	/* Fail call number fail_nth (1-based) of kind fail_kind. */
	int fail_kind; /* -1: none */
	uint64_t fail_nth;
	int fail_errno;
	bool fired; /* that call has failed */
	/* Power cut at mutating call cut_at (0-based; UINT64_MAX: none). */
	uint64_t cut_at;
	bool cut; /* it happened */
} fio;

void fio_init(fio *f, const rs__io *inner);
void fio_destroy(fio *f);
/* Whether the failure fired / the power was cut (read under its lock). */
bool fio_has_fired(fio *f);
bool fio_was_cut(fio *f);

#endif
