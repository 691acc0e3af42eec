/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* statfs, nftw flags */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <errno.h>
#include <ftw.h>
#include <sys/stat.h>
#include <sys/vfs.h>

int rs_bench_keys_make(rs_bench_keys *k, size_t n)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;

	memset(k, 0, sizeof(*k));
	k->n = n;
	k->keys = malloc(n * RS_BENCH_KEY_LEN);
	k->vals = malloc((size_t)RS_BENCH_NVALS * RS_BENCH_VAL_LEN);
	k->order = malloc(n * sizeof(*k->order));
	if (!k->keys || !k->vals || !k->order) {
		rs_bench_keys_free(k);
		return RS_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char *p = k->keys + i * RS_BENCH_KEY_LEN;
		size_t v = i;

		/* "k" and 15 decimal digits, zero-padded. */
		p[0] = 'k';
		for (size_t d = RS_BENCH_KEY_LEN - 1; d >= 1; d--, v /= 10)
			p[d] = (unsigned char)('0' + v % 10);
		k->order[i] = (uint32_t)i;
	}
	for (size_t i = 0; i < (size_t)RS_BENCH_NVALS * RS_BENCH_VAL_LEN; i++)
		k->vals[i] =
			(unsigned char)('a' +
					(i * 7 + i / RS_BENCH_VAL_LEN) % 26);
	/* Fisher-Yates with xorshift64: the same order in every run. */
	for (size_t i = n; i > 1; i--) {
		size_t j;
		uint32_t t;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		j = (size_t)(x % i);
		t = k->order[i - 1];
		k->order[i - 1] = k->order[j];
		k->order[j] = t;
	}
	return 0;
}

void rs_bench_keys_free(rs_bench_keys *k)
{
	free(k->keys);
	free(k->vals);
	free(k->order);
	memset(k, 0, sizeof(*k));
}

static rs_bench_keys keys_1m;

static void keys_1m_free(void)
{
	rs_bench_keys_free(&keys_1m);
}

const rs_bench_keys *rs_bench_keys_1m(void)
{
	static bool tried;

	if (!tried) {
		tried = true;
		if (rs_bench_keys_make(&keys_1m,
				       rs_bench_scaled(RS_BENCH_1M_KEYS)) == 0)
			atexit(keys_1m_free);
	}
	return keys_1m.keys ? &keys_1m : NULL;
}

void rs_bench_register_both(const char *name, rs_bench_fn fn, size_t nkeys,
			    bool count_allocs)
{
	static const rs_storage stores[2] = { RS_STORAGE_SHARDED,
					      RS_STORAGE_UNIFIED };
	/* Live as long as the registrations: until exit. */
	static rs_bench_cfg cfgs[256];
	static size_t ncfgs;
	char full[256];

	for (int i = 0; i < 2; i++) {
		rs_bench_cfg *cfg;

		if (ncfgs == sizeof(cfgs) / sizeof(cfgs[0]))
			abort(); /* raise the pool size */
		cfg = &cfgs[ncfgs++];
		cfg->storage = stores[i];
		cfg->nkeys = nkeys;
		cfg->count_allocs = count_allocs;
		snprintf(full, sizeof(full), "%s%s", name,
			 i ? RS_BENCH_UNIFIED_SUFFIX : "");
		RS_BENCH(full, fn, cfg);
	}
}

/* ---- counting allocator ---- */

static _Thread_local uint64_t allocs;

static void *count_malloc(void *ctx, size_t size)
{
	(void)ctx;
	allocs++;
	return malloc(size);
}

static void *count_realloc(void *ctx, void *p, size_t size)
{
	(void)ctx;
	allocs++;
	return realloc(p, size);
}

static void count_free(void *ctx, void *p)
{
	(void)ctx;
	free(p);
}

uint64_t rs_bench_allocs(void)
{
	return allocs;
}

int rs_bench_db_open(rs_db **out, rs_storage storage, bool count_allocs)
{
	rs_db_options o = RS_DB_OPTIONS_INIT;

	o.durability = RS_DURABILITY_INMEMORY;
	o.storage = storage;
	o.hash_seed = 0x5eed5eed5eed5eedull;
	if (count_allocs) {
		o.allocator.malloc_fn = count_malloc;
		o.allocator.realloc_fn = count_realloc;
		o.allocator.free_fn = count_free;
	}
	return rs_db_open(out, &o);
}

/*
 * Fill in transactions of up to 4096 puts: one commit each. (One-shot puts
 * would cost the unified store a deep copy of the run per key: quadratic
 * set-up time for the 100k-key benchmarks, and nothing worth measuring.)
 */
int rs_bench_db_fill(rs_db *db, const rs_run_id *run, const rs_bench_keys *k)
{
	return rs_bench_db_fill_batch(db, run, k, 4096);
}

int rs_bench_db_fill_batch(rs_db *db, const rs_run_id *run,
			   const rs_bench_keys *k, size_t batch)
{
	for (size_t i = 0; i < k->n;) {
		rs_txn *txn;
		int rc = rs_txn_begin(&txn, db, run, 0);

		if (rc < 0)
			return rc;
		for (size_t end = i + batch; i < k->n && i < end; i++) {
			rc = rs_txn_kv_put(txn, rs_bench_key(k, i),
					   RS_BENCH_KEY_LEN, rs_bench_val(k, i),
					   RS_BENCH_VAL_LEN);
			if (rc < 0) {
				rs_txn_abort(txn);
				return rc;
			}
		}
		if ((rc = rs_txn_commit(txn)) < 0)
			return rc;
	}
	return 0;
}

void rs_bench_run_id(rs_run_id *out, unsigned salt)
{
	for (unsigned i = 0; i < 16; i++)
		out->bytes[i] = (uint8_t)(0x11 * (i + 1) + salt);
	out->bytes[6] = (uint8_t)((out->bytes[6] & 0x0f) | 0x40);
	out->bytes[8] = (uint8_t)((out->bytes[8] & 0x3f) | 0x80);
}

void rs_bench_run_id_n(rs_run_id *out, unsigned salt, uint64_t n)
{
	rs_bench_run_id(out, salt);
	for (unsigned i = 0; i < 7; i++)
		out->bytes[9 + i] ^= (uint8_t)(n >> (8 * i));
}

uint64_t rs_bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static double pct(const uint64_t *s, size_t n, double p)
{
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);

	return (double)s[i < n ? i : n - 1];
}

void rs_bench_record_latency(const char *prefix, uint64_t *s, size_t n)
{
	char name[160];
	double sum = 0;

	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++)
		sum += (double)s[i];
	qsort(s, n, sizeof(*s), u64_cmp);
#define RS__PUT(suffix, v)                                             \
	do {                                                           \
		snprintf(name, sizeof(name), "%s.%s", prefix, suffix); \
		rs_bench_metric_set(name, (v));                        \
	} while (0)
	RS__PUT("mean_ns", sum / (double)n);
	RS__PUT("p50_ns", pct(s, n, 0.50));
	RS__PUT("p95_ns", pct(s, n, 0.95));
	RS__PUT("p99_ns", pct(s, n, 0.99));
	RS__PUT("p999_ns", pct(s, n, 0.999));
	RS__PUT("max_ns", (double)s[n - 1]);
	RS__PUT("samples", (double)n);
#undef RS__PUT
}

int rs_bench_incr_u64(rs_bytes value, uint64_t version, rs_bytes *nv, void *ctx)
{
	uint64_t *out = ctx, c;

	(void)version;
	if (value.len != sizeof(c))
		return RS_ECORRUPT;
	memcpy(&c, value.data, sizeof(c));
	*out = c + 1;
	nv->data = out;
	nv->len = sizeof(*out);
	return 0;
}

void rs_bench_finish(rs_bench_state *st, int bad)
{
	if (bad)
		rs_bench_skip_with_error(st, rs_strerror(bad));
	rs_bench_items_processed(st, rs_bench_iterations(st));
}

size_t rs_bench_warmup_ops(size_t nkeys)
{
	size_t n = 2 * nkeys;

	return n < 4096 ? 4096 : n;
}

void rs_bench_seq_uniform(uint32_t *seq, uint32_t n, uint64_t seed)
{
	uint64_t x = seed ? seed : 0x2545f4914f6cdd1dull;

	for (size_t i = 0; i < RS_BENCH_SEQ_LEN; i++)
		seq[i] = (uint32_t)(rs_bench_rand(&x) % n);
}

int rs_bench_cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (int)n : 1;
}

/* ---- temporary directories ---- */

static const char *fs_name(long type)
{
	switch ((unsigned long)type) {
	case 0xEF53:
		return "ext2/3/4";
	case 0x01021994:
		return "tmpfs (RAM: fdatasync does no I/O)";
	case 0x58465342:
		return "xfs";
	case 0x9123683E:
		return "btrfs";
	case 0x794c7630:
		return "overlayfs";
	case 0x2FC12FC1:
		return "zfs";
	}
	return "other";
}

int rs_bench_mkdtemp(char *dir, size_t cap, const char *what,
		     const char *note_key)
{
	const char *tmp = getenv("TMPDIR");
	const char *base = tmp && *tmp ? tmp : "/tmp";
	struct statfs sfs;

	snprintf(dir, cap, "%s/runstate-bench-%s-XXXXXX", base, what);
	if (!mkdtemp(dir)) {
		int err = errno;

		dir[0] = 0;
		errno = err;
		return -1;
	}
	if (note_key && statfs(dir, &sfs) == 0) {
		char note[400];

		snprintf(note, sizeof(note),
			 "%s (temporary directories under %s)",
			 fs_name((long)sfs.f_type), base);
		rs_bench_note_set(note_key, note);
	}
	return 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag,
		    struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

void rs_bench_rmdir(char *dir)
{
	if (dir[0])
		nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	dir[0] = 0;
}
