/* SPDX-License-Identifier: MIT */
/*
 * The POSIX file layer (see io.h) and the test hook that replaces it. This
 * is the only file of the durability layer that calls the file system.
 */
#define _GNU_SOURCE
#include "durability/io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int neg_errno(void)
{
	return errno ? -errno : -EIO;
}

static int open_flags(unsigned flags)
{
	int f = O_CLOEXEC;

	if (flags & RS__IO_DIR)
		return f | O_RDONLY | O_DIRECTORY;
	f |= (flags & RS__IO_WRITE) ? O_RDWR : O_RDONLY;
	if (flags & RS__IO_CREATE)
		f |= O_CREAT;
	if (flags & RS__IO_TRUNC)
		f |= O_TRUNC;
	return f;
}

static int px_mkdir(void *ctx, const char *path)
{
	(void)ctx;
	return mkdir(path, 0777) == 0 ? 0 : neg_errno();
}

static int px_open(void *ctx, const char *path, unsigned flags)
{
	int fd;

	(void)ctx;
	fd = open(path, open_flags(flags), 0644);
	return fd >= 0 ? fd : neg_errno();
}

static int px_openat(void *ctx, int dirfd, const char *name, unsigned flags)
{
	int fd;

	(void)ctx;
	fd = openat(dirfd, name, open_flags(flags), 0644);
	return fd >= 0 ? fd : neg_errno();
}

static int px_lock(void *ctx, int fd)
{
	(void)ctx;
	return flock(fd, LOCK_EX | LOCK_NB) == 0 ? 0 : neg_errno();
}

static int px_unlock(void *ctx, int fd)
{
	(void)ctx;
	return flock(fd, LOCK_UN) == 0 ? 0 : neg_errno();
}

static int px_close(void *ctx, int fd)
{
	(void)ctx;
	return close(fd) == 0 ? 0 : neg_errno();
}

static int64_t px_pwrite(void *ctx, int fd, const void *p, size_t len,
			 uint64_t off)
{
	ssize_t n;

	(void)ctx;
	n = pwrite(fd, p, len, (off_t)off);
	return n >= 0 ? (int64_t)n : neg_errno();
}

static int px_fsync(void *ctx, int fd)
{
	(void)ctx;
	return fsync(fd) == 0 ? 0 : neg_errno();
}

static int px_fdatasync(void *ctx, int fd)
{
	(void)ctx;
	return fdatasync(fd) == 0 ? 0 : neg_errno();
}

static int px_ftruncate(void *ctx, int fd, uint64_t len)
{
	(void)ctx;
	return ftruncate(fd, (off_t)len) == 0 ? 0 : neg_errno();
}

static int px_fallocate(void *ctx, int fd, uint64_t len)
{
	int err;

	(void)ctx;
	if (fallocate(fd, 0, 0, (off_t)len) == 0)
		return 0;
	/* posix_fallocate returns its error instead of setting errno. */
	err = posix_fallocate(fd, 0, (off_t)len);
	return err == 0 ? 0 : -err;
}

static int px_renameat(void *ctx, int dirfd, const char *from, const char *to)
{
	(void)ctx;
	return renameat(dirfd, from, dirfd, to) == 0 ? 0 : neg_errno();
}

static int px_unlinkat(void *ctx, int dirfd, const char *name)
{
	(void)ctx;
	return unlinkat(dirfd, name, 0) == 0 ? 0 : neg_errno();
}

static int px_map(void *ctx, int dirfd, const char *name,
		  const unsigned char **p_out, size_t *len_out)
{
	struct stat st;
	void *p;
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC), rc;

	(void)ctx;
	if (fd < 0)
		return neg_errno();
	if (fstat(fd, &st) != 0) {
		rc = neg_errno();
		close(fd);
		return rc;
	}
	*len_out = (size_t)st.st_size;
	*p_out = NULL;
	if (st.st_size == 0) {
		close(fd);
		return 0;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	rc = p == MAP_FAILED ? neg_errno() : 0;
	close(fd);
	if (rc < 0)
		return rc;
	*p_out = p;
	return 0;
}

static void px_unmap(void *ctx, const unsigned char *p, size_t len)
{
	(void)ctx;
	if (p)
		munmap((void *)(uintptr_t)p, len);
}

static int px_list(void *ctx, int dirfd, int (*cb)(void *arg, const char *name),
		   void *arg)
{
	struct dirent *de;
	int fd, rc = 0;
	DIR *d;

	(void)ctx;
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return neg_errno();
	if (!(d = fdopendir(fd))) {
		rc = neg_errno();
		close(fd);
		return rc;
	}
	while (rc >= 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			rc = cb(arg, de->d_name);
	}
	closedir(d);
	return rc < 0 ? rc : 0;
}

static const rs__io_ops posix_ops = {
	.mkdir = px_mkdir,
	.open = px_open,
	.openat = px_openat,
	.lock = px_lock,
	.unlock = px_unlock,
	.close = px_close,
	.pwrite = px_pwrite,
	.fsync = px_fsync,
	.fdatasync = px_fdatasync,
	.ftruncate = px_ftruncate,
	.fallocate = px_fallocate,
	.renameat = px_renameat,
	.unlinkat = px_unlinkat,
	.map = px_map,
	.unmap = px_unmap,
	.list = px_list,
};

const rs__io rs__io_posix = { &posix_ops, NULL };

static _Atomic(const rs__io *) test_io;

const rs__io *rs__io_for_open(void)
{
	const rs__io *io = atomic_load_explicit(&test_io, memory_order_acquire);

	return io ? io : &rs__io_posix;
}

void rs__test_io(const rs__io *io)
{
	atomic_store_explicit(&test_io, io, memory_order_release);
}
