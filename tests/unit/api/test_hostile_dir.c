/* SPDX-License-Identifier: MIT */
/*
 * Bad database directories and hostile checkpoints (issue 8, deliver item
 * 6): each open fails with a documented error, never aborts, and a
 * checkpoint whose counts or lengths are huge (with every checksum
 * recomputed, so only the counts lie) makes the open allocate no more
 * than a small bound (peak live bytes through the allocator hooks).
 *
 * A directory that is a regular file fails with RS_EIO. A directory the
 * process may not read (chmod 000) fails with RS_EIO; one it may not
 * create files in (chmod 0555, its files writable) opens and takes writes,
 * and a checkpoint there fails with RS_EIO and changes nothing; with its
 * files read-only too (as on a read-only file system, which a test cannot
 * mount without privileges) the open fails with RS_EIO. Root ignores
 * permissions, so as root those cases run in a forked child that became
 * nobody (skipped with a message when it cannot). A second opener in
 * another process (RS_EBUSY) is tests/durability/test_dirlock.c.
 */
#define _GNU_SOURCE
#include "common/rs_test.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "durability/dur_util.h"
#include "util/endian.h"
#include "util/hash.h"

/* ---- hooks that keep the peak of live bytes ---- */

static _Atomic int64_t live, peak;

#define HDR 16

static void *p_malloc(void *ctx, size_t size)
{
	char *p = malloc(size + HDR);
	int64_t now;

	(void)ctx;
	if (!p)
		return NULL;
	memcpy(p, &size, sizeof(size));
	now = atomic_fetch_add(&live, (int64_t)size) + (int64_t)size;
	if (now > atomic_load(&peak))
		atomic_store(&peak, now);
	return p + HDR;
}

static void p_free(void *ctx, void *ptr)
{
	size_t size;

	(void)ctx;
	if (!ptr)
		return;
	memcpy(&size, (char *)ptr - HDR, sizeof(size));
	atomic_fetch_sub(&live, (int64_t)size);
	free((char *)ptr - HDR);
}

static void *p_realloc(void *ctx, void *ptr, size_t size)
{
	void *n = p_malloc(ctx, size);
	size_t old;

	if (!n || !ptr)
		return n;
	memcpy(&old, (char *)ptr - HDR, sizeof(old));
	memcpy(n, ptr, old < size ? old : size);
	p_free(ctx, ptr);
	return n;
}

static int open_at(const char *path, rs_db **db)
{
	rs_db_options o = RS_DB_OPTIONS_INIT;

	o.durability = RS_DURABILITY_BUFFERED;
	o.path = path;
	o.allocator.malloc_fn = p_malloc;
	o.allocator.realloc_fn = p_realloc;
	o.allocator.free_fn = p_free;
	*db = NULL;
	return rs_db_open(db, &o);
}

static char base[64];

static int setup(void **state)
{
	(void)state;
	snprintf(base, sizeof(base), "/tmp/rs-hostile-XXXXXX");
	return mkdtemp(base) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	chmod(base, 0700);
	rs_t_rmtree(base);
	return 0;
}

/* ---- directories ---- */

static void hostile__directory_that_is_a_file(void **state)
{
	char path[128];
	rs_db *db;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/file", base);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "not a db", 8), 8);
	close(fd);
	assert_rc(open_at(path, &db), RS_EIO);
	assert_null(db);
	assert_int_equal(atomic_load(&live), 0);
	/* A path through a file. */
	snprintf(path, sizeof(path), "%s/file/db", base);
	assert_rc(open_at(path, &db), RS_EIO);
	assert_int_equal(atomic_load(&live), 0);
}

/* chmod every file in dir (not dir itself). */
static int chmod_files(const char *dir, mode_t mode)
{
	char p[512];
	struct dirent *e;
	DIR *d = opendir(dir);
	int rc = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		rc |= chmod(p, mode);
	}
	closedir(d);
	return rc;
}

/* The scenario, without cmocka (it may run in a child): 0 when every
 * step gave what it should, else the number of the step that did not. */
static int unreadable_scenario(const char *path)
{
	const rs_run_id run = { { 1, 2, 3, 4, 5, 6, 0x40 } };
	rs_db *db;

	if (open_at(path, &db) != 0)
		return 1;
	if (rs_kv_put(db, &run, "k", 1, "v", 1) != 0)
		return 2;
	rs_db_close(db);
	if (chmod(path, 0) != 0 || open_at(path, &db) != RS_EIO || db)
		return 3;
	/* Read-only (as a read-only file system: no file can be created
	 * or written). */
	/* A directory no file can be created in, its files writable: it
	 * opens and writes go on, but a checkpoint (a new file) fails with
	 * RS_EIO and changes nothing. */
	if (chmod(path, 0555) != 0 || open_at(path, &db) != 0)
		return 4;
	if (rs_db_checkpoint(db) != RS_EIO)
		return 7;
	if (rs_kv_put(db, &run, "k2", 2, "v2", 2) != 0)
		return 8;
	rs_db_close(db);
	/* As on a read-only file system: nothing can be opened for
	 * writing. */
	if (chmod_files(path, 0444) != 0 || open_at(path, &db) != RS_EIO || db)
		return 9;
	if (chmod_files(path, 0600) != 0)
		return 10;
	if (chmod(path, 0700) != 0 || open_at(path, &db) != 0)
		return 5;
	if (rs_kv_get(db, &run, "k2", 2, NULL, 0, NULL) != RS_ENOSPC)
		return 11;
	rs_db_close(db);
	return atomic_load(&live) == 0 ? 0 : 6;
}

static void hostile__unreadable_or_unwritable_directory(void **state)
{
	char path[128];
	pid_t pid;
	int status;

	(void)state;
	snprintf(path, sizeof(path), "%s/db", base);
	if (geteuid() != 0) {
		assert_int_equal(unreadable_scenario(path), 0);
		return;
	}
	/* Root ignores permissions: run it as nobody, in a child forked
	 * while this process holds no database (no library thread). */
	if (chown(base, 65534, 65534) != 0) {
		print_message("skipped: root, and cannot chown to nobody\n");
		skip();
	}
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(100);
		_exit(unreadable_scenario(path));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 100) {
		print_message("skipped: root, and cannot become nobody\n");
		skip();
	}
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- hostile checkpoints ---- */

static rs_run_id run_of(int i)
{
	rs_run_id id;

	memset(id.bytes, 0x30 + i, sizeof(id.bytes));
	id.bytes[6] = 0x40;
	return id;
}

/* A database with a checkpoint (and nothing after it); its file name. */
static void make_checkpointed(const char *path, char *ckpt, size_t cap)
{
	rs_db *db;
	DIR *d;
	struct dirent *e;

	assert_ok(open_at(path, &db));
	for (int r = 0; r < 2; r++) {
		rs_run_id id = run_of(r);

		for (int k = 0; k < 4; k++) {
			char key[8];

			snprintf(key, sizeof(key), "k%d", k);
			assert_ok(
				rs_kv_put(db, &id, key, strlen(key), "val", 3));
		}
	}
	assert_ok(rs_db_checkpoint(db));
	rs_db_close(db);
	d = opendir(path);
	assert_non_null(d);
	ckpt[0] = '\0';
	while ((e = readdir(d)) != NULL)
		if (!strncmp(e->d_name, "ckpt-", 5) &&
		    strstr(e->d_name, ".rsc"))
			snprintf(ckpt, cap, "%s/%s", path, e->d_name);
	closedir(d);
	assert_true(ckpt[0] != '\0');
}

#define CK_HDR 64
#define CK_TRAILER 16

/* Recompute the header and body checksums (docs/wal-format.md). */
static void reseal(unsigned char *b, size_t len)
{
	rs__put_u64(b + 56, XXH3_64bits(b, 56));
	rs__put_u64(b + len - 8,
		    XXH3_64bits(b + CK_HDR, len - CK_HDR - CK_TRAILER));
}

/* Opens the database with the checkpoint replaced by `b`: the result,
 * with the peak of bytes allocated meanwhile in *peak_out. */
static int open_with(const char *path, const char *ckpt, const unsigned char *b,
		     size_t len, int64_t *peak_out)
{
	rs_db *db;
	int rc;

	dur_write(ckpt, b, len);
	atomic_store(&peak, atomic_load(&live));
	rc = open_at(path, &db);
	*peak_out = atomic_load(&peak);
	if (rc == 0)
		rs_db_close(db);
	assert_int_equal(atomic_load(&live), 0);
	return rc;
}

/* What a sound open of this tiny database may allocate at most. */
#define PEAK_BOUND ((int64_t)64 << 20)

static void hostile__checkpoint_with_huge_counts_and_lengths(void **state)
{
	char path[128], ckpt[512];
	unsigned char *orig, *b;
	size_t len;
	int64_t pk, sound;
	/* The first item after the header is a RUN (32 bytes), then an
	 * ENTRY: klen at +4, vlen at +8. */
	size_t entry = CK_HDR + 32;
	const uint64_t huge[] = { 1u << 20, (uint64_t)1 << 40, UINT64_MAX,
				  UINT64_MAX / 2 };
	const uint32_t lens[] = { 0, 1025, (16u << 20) + 1, 0x7fffffffu,
				  0xffffffffu };

	(void)state;
	snprintf(path, sizeof(path), "%s/db", base);
	make_checkpointed(path, ckpt, sizeof(ckpt));
	orig = dur_read(ckpt, &len);
	b = malloc(len);
	assert_non_null(b);

	/* Intact: it opens. */
	memcpy(b, orig, len);
	assert_ok(open_with(path, ckpt, b, len, &sound));
	assert_true(orig[entry] == 1 || orig[entry] == 2);

	for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
		for (int field = 40; field <= 48; field += 8) {
			memcpy(b, orig, len);
			rs__put_u64(b + field, huge[i]);
			reseal(b, len);
			assert_rc(open_with(path, ckpt, b, len, &pk),
				  RS_ECORRUPT);
			assert_true(pk < PEAK_BOUND);
		}
	}
	/* Find the first ENTRY and give it hostile lengths. */
	while (entry < len - CK_TRAILER && orig[entry] != 2)
		entry += 32; /* RUN items are 32 bytes */
	assert_int_equal(orig[entry], 2);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		for (int field = 4; field <= 8; field += 4) {
			if (field == 8 && lens[i] == 0)
				continue; /* an empty value is fine */
			memcpy(b, orig, len);
			rs__put_u32(b + entry + field, lens[i]);
			reseal(b, len);
			assert_rc(open_with(path, ckpt, b, len, &pk),
				  RS_ECORRUPT);
			assert_true(pk < PEAK_BOUND);
		}
	}
	/* A RUN with a nil id, an unknown item type, a zero tag. */
	memcpy(b, orig, len);
	memset(b + CK_HDR + 8, 0, 16);
	reseal(b, len);
	assert_rc(open_with(path, ckpt, b, len, &pk), RS_ECORRUPT);
	memcpy(b, orig, len);
	b[entry] = 9;
	reseal(b, len);
	assert_rc(open_with(path, ckpt, b, len, &pk), RS_ECORRUPT);
	memcpy(b, orig, len);
	b[entry + 1] = 0;
	reseal(b, len);
	assert_rc(open_with(path, ckpt, b, len, &pk), RS_ECORRUPT);
	/* Truncated anywhere: never opens, never crashes. */
	for (size_t cut = 0; cut < len; cut += 7) {
		int rc = open_with(path, ckpt, orig, cut, &pk);

		assert_true(rc == RS_ECORRUPT);
	}
	print_message("intact open peaked at %lld bytes; every hostile "
		      "checkpoint stayed under %lld\n",
		      (long long)sound, (long long)PEAK_BOUND);
	/* Put back, it opens again. */
	assert_ok(open_with(path, ckpt, orig, len, &pk));
	free(b);
	free(orig);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			hostile__directory_that_is_a_file, setup, teardown),
		cmocka_unit_test_setup_teardown(
			hostile__unreadable_or_unwritable_directory, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			hostile__checkpoint_with_huge_counts_and_lengths, setup,
			teardown),
	};

	return cmocka_run_group_tests_name("hostile_dir", tests, NULL, NULL);
}
