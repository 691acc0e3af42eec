/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "dur_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "util/endian.h"

char *dur_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *path;

	if (!base || !*base)
		base = "/tmp";
	assert_true(asprintf(&path, "%s/rs-dur-XXXXXX", base) > 0);
	assert_non_null(mkdtemp(path));
	return path;
}

static int rm_entry(const char *p, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

void dur_rmdir(char *path)
{
	if (!path)
		return;
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(path);
}

const char *dur_path(const char *dir, const char *name)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	return buf;
}

const char *dur_seg(const char *dir, uint64_t seq)
{
	char name[64];

	snprintf(name, sizeof(name), "wal-%016" PRIx64 ".log", seq);
	return dur_path(dir, name);
}

const char *dur_ckpt(const char *dir, uint64_t seq)
{
	char name[64];

	snprintf(name, sizeof(name), "ckpt-%016" PRIx64 ".rsc", seq);
	return dur_path(dir, name);
}

int dur_count_files(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

unsigned char *dur_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *p;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	p = malloc((size_t)n + 1);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return p;
}

void dur_write(const char *path, const void *p, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

bool dur_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

void dur_copy_file(const char *from, const char *to)
{
	char src[4096];
	unsigned char *p;
	size_t len;

	snprintf(src, sizeof(src), "%s", from);
	p = dur_read(src, &len);
	dur_write(to, p, len);
	free(p);
}

rs_db_options dur_opts(const char *dir, rs_durability mode)
{
	rs_db_options o = RS_DB_OPTIONS_INIT;

	o.durability = mode;
	o.path = mode == RS_DURABILITY_INMEMORY ? NULL : dir;
	o.segment_bytes = 64 * 1024;
	o.checkpoint_wal_bytes = RS_CHECKPOINT_NEVER;
	return o;
}

rs_db *dur_open(const rs_db_options *o)
{
	rs_db *db = NULL;
	int rc = rs_db_open(&db, o);

	if (rc != 0)
		fail_msg("rs_db_open: %s", rs_errname(rc));
	return db;
}

int dur_open_rc(const rs_db_options *o)
{
	rs_db *db = NULL;
	int rc = rs_db_open(&db, o);

	if (rc == 0)
		rs_db_close(db);
	return rc;
}

void dur_sleep_ms(unsigned ms)
{
	struct timespec ts = { (time_t)(ms / 1000),
			       (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

rs_run_id dur_run(unsigned n)
{
	rs_run_id id;

	memset(&id, 0, sizeof(id));
	id.bytes[0] = 0x42;
	id.bytes[12] = (uint8_t)(n >> 24);
	id.bytes[13] = (uint8_t)(n >> 16);
	id.bytes[14] = (uint8_t)(n >> 8);
	id.bytes[15] = (uint8_t)n;
	return id;
}

void dur_put(rs_db *db, unsigned run, const char *key, const char *val)
{
	rs_run_id id = dur_run(run);
	int rc = rs_kv_put(db, &id, key, strlen(key), val, strlen(val));

	if (rc != 0)
		fail_msg("rs_kv_put: %s", rs_errname(rc));
}

char *dur_get(rs_db *db, unsigned run, const char *key)
{
	rs_run_id id = dur_run(run);
	char buf[4096];
	size_t len = 0;
	int rc = rs_kv_get(db, &id, key, strlen(key), buf, sizeof(buf) - 1,
			   &len);

	if (rc == RS_ENOTFOUND)
		return NULL;
	assert_int_equal(rc, 0);
	buf[len] = '\0';
	return strdup(buf);
}

uint64_t dur_version(rs_db *db, unsigned run)
{
	rs_run_id id = dur_run(run);
	uint64_t v = 0;

	assert_int_equal(rs_db_run_version(db, &id, &v), 0);
	return v;
}

struct dump {
	char *p;
	size_t len, cap;
};

static void dump_add(struct dump *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void dump_add(struct dump *d, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(d->p + d->len, d->cap - d->len, fmt, ap);
		va_end(ap);
		assert_true(n >= 0);
		if ((size_t)n < d->cap - d->len)
			break;
		d->cap = d->cap * 2 + (size_t)n + 64;
		d->p = realloc(d->p, d->cap);
		assert_non_null(d->p);
	}
	d->len += (size_t)n;
}

static int dump_entry(rs_bytes key, rs_bytes val, void *ctx)
{
	struct dump *d = ctx;

	dump_add(d, "  %.*s=%.*s\n", (int)key.len, (const char *)key.data,
		 (int)val.len, (const char *)val.data);
	return 0;
}

char *dur_dump(rs_db *db, unsigned nruns)
{
	struct dump d = { NULL, 0, 0 };

	d.cap = 256;
	d.p = malloc(d.cap);
	assert_non_null(d.p);
	d.p[0] = '\0';
	for (unsigned r = 0; r < nruns; r++) {
		rs_run_id id = dur_run(r);

		dump_add(&d, "run %u v%" PRIu64 "\n", r, dur_version(db, r));
		assert_int_equal(rs_kv_list(db, &id, NULL, 0, NULL, 0, 0, NULL,
					    dump_entry, &d),
				 0);
	}
	return d.p;
}

size_t dur_records(const unsigned char *seg, size_t len, size_t *off,
		   size_t *rlen, size_t max)
{
	size_t pos = 48, n = 0;

	while (pos + 64 <= len && n < max) {
		uint32_t l = rs__get_le32(seg + pos + 8);

		if (l == 0 || pos + l > len)
			break;
		off[n] = pos;
		rlen[n] = l;
		n++;
		pos += l;
	}
	return n;
}

rs_db_stats dur_stats(rs_db *db)
{
	rs_db_stats st;

	memset(&st, 0, sizeof(st));
	st.version = RS_DB_STATS_VERSION;
	assert_int_equal(rs_db_stat(db, &st), 0);
	return st;
}
