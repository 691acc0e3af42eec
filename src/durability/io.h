/* SPDX-License-Identifier: MIT */
#ifndef RS_DURABILITY_IO_H
#define RS_DURABILITY_IO_H

#include <stddef.h>
#include <stdint.h>

/*
 * The file layer of the durability layer: every file system call that the
 * directory lock, the log, checkpoints and recovery make goes through an
 * rs__io, chosen once per database at open (rs__io_for_open()). The
 * default is plain POSIX (io.c). Tests select another one (a simulated
 * file system that can cut the power, or one that fails the nth call)
 * with the internal hook rs__test_io(); it is in no public header, and
 * the shared library does not export it (hidden visibility).
 *
 * Cost: one indirect call per file system call, nothing else; the commit
 * path's are one pwrite and one fdatasync per batch.
 *
 * File descriptors are ints handed out by the implementation. Every call
 * returns >= 0 on success or a negative errno (-EIO, -ENOSPC, ...); none
 * reads or sets errno.
 */

/* open/openat flags. Without RS__IO_WRITE a file is opened read-only. */
#define RS__IO_WRITE 1u	 /* O_RDWR */
#define RS__IO_CREATE 2u /* O_CREAT, mode 0644 */
#define RS__IO_TRUNC 4u	 /* O_TRUNC */
#define RS__IO_DIR 8u	 /* O_RDONLY | O_DIRECTORY */

typedef struct rs__io_ops {
	/* mkdir(path, 0777): -EEXIST when it exists. */
	int (*mkdir)(void *ctx, const char *path);
	/* open(path, flags) / openat(dirfd, name, flags): the new fd. */
	int (*open)(void *ctx, const char *path, unsigned flags);
	int (*openat)(void *ctx, int dirfd, const char *name, unsigned flags);
	/* flock(fd, LOCK_EX | LOCK_NB): -EWOULDBLOCK when held elsewhere. */
	int (*lock)(void *ctx, int fd);
	/* flock(fd, LOCK_UN): the lock goes from the open file description,
	 * whichever descriptors of it (a fork()ed child's) stay open. */
	int (*unlock)(void *ctx, int fd);
	int (*close)(void *ctx, int fd);
	/* pwrite once: the bytes written (maybe fewer than len). */
	int64_t (*pwrite)(void *ctx, int fd, const void *p, size_t len,
			  uint64_t off);
	int (*fsync)(void *ctx, int fd); /* files and directories */
	int (*fdatasync)(void *ctx, int fd);
	int (*ftruncate)(void *ctx, int fd, uint64_t len);
	/* Reserve [0, len) (the file grows to at least len, zero-filled):
	 * -EOPNOTSUPP or -EINVAL where the file system cannot. */
	int (*fallocate)(void *ctx, int fd, uint64_t len);
	int (*renameat)(void *ctx, int dirfd, const char *from, const char *to);
	int (*unlinkat)(void *ctx, int dirfd, const char *name);
	/* The whole file `name` of the directory, read-only, until unmap
	 * (*p NULL for an empty file). */
	int (*map)(void *ctx, int dirfd, const char *name,
		   const unsigned char **p, size_t *len);
	void (*unmap)(void *ctx, const unsigned char *p, size_t len);
	/* cb(arg, name) for each entry of the directory but "." and "..";
	 * cb may unlink the entry it is given. A negative cb return stops
	 * the listing and is returned. */
	int (*list)(void *ctx, int dirfd,
		    int (*cb)(void *arg, const char *name), void *arg);
} rs__io_ops;

typedef struct rs__io {
	const rs__io_ops *ops;
	void *ctx;
} rs__io;

/* Plain POSIX. */
extern const rs__io rs__io_posix;

/* The file layer for a database being opened now: the one set by
 * rs__test_io(), else rs__io_posix. */
const rs__io *rs__io_for_open(void);

/*
 * Test hook: databases opened from now on use `io` (NULL: POSIX again)
 * until they are closed. `io` must outlive them. Set it while no open is
 * in flight.
 */
void rs__test_io(const rs__io *io);

#endif
