/* SPDX-License-Identifier: MIT */
/*
 * measure_durability: the cost of each durability mode, for the numbers in
 * docs/durability.md. Not a ctest (it measures, asserts nothing) and built
 * only without sanitizers. Usage:
 *
 *   measure_durability [dir]     (default: a new directory under $TMPDIR)
 *
 * Prints:
 *  - Buffered put latency (mean, and p50/p99 of timed single puts);
 *  - Strict put latency beside a bare pwrite+fdatasync of the same record
 *    size in the same directory, both on a preallocated file and appending;
 *  - Strict group commit: commits/s with 1, 2, 4, 8 committer threads on
 *    different runs, and fdatasyncs per commit.
 * Disk latency drifts (and on a shared machine, jumps), so the Strict and
 * group-commit measurements run in interleaved rounds and report medians;
 *  - recovery (rs_db_open) time for 100k and 1M records, replayed from the
 *    log alone and loaded from a checkpoint.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <runstate.h>

#define VAL_LEN 100
#define KEY_LEN 16

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "measure_durability: %s: %s\n", what, rs_errname(rc));
	exit(1);
}

static char base[4096];

static const char *sub(const char *name)
{
	static char p[4200];

	snprintf(p, sizeof(p), "%s/%s", base, name);
	return p;
}

static void rm_rf(const char *path)
{
	char cmd[4300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "measure_durability: cannot remove %s\n", path);
}

static rs_db *open_db(const char *name, rs_durability mode, bool fresh)
{
	rs_db_options o = RS_DB_OPTIONS_INIT;
	rs_db *db;
	int rc;

	if (fresh)
		rm_rf(sub(name));
	o.durability = mode;
	o.path = sub(name);
	o.checkpoint_wal_bytes = RS_CHECKPOINT_NEVER;
	if ((rc = rs_db_open(&db, &o)) != 0)
		die("rs_db_open", rc);
	return db;
}

static rs_run_id run_id(unsigned n)
{
	rs_run_id id;

	memset(&id, 0, sizeof(id));
	id.bytes[0] = 0x5a;
	memcpy(id.bytes + 4, &n, sizeof(n));
	return id;
}

static void make_key(char *k, uint64_t i)
{
	snprintf(k, KEY_LEN + 1, "key-%012" PRIu64, i);
}

static unsigned char value[VAL_LEN];

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- Buffered ---- */

static void measure_buffered(void)
{
	enum {
		N = 200000,
		SAMPLES = 20000
	};
	rs_db *db = open_db("buffered", RS_DURABILITY_BUFFERED, true);
	rs_run_id run = run_id(1);
	static char keys[4096][KEY_LEN + 1];
	uint64_t *lat = malloc(SAMPLES * sizeof(*lat));
	uint64_t t0, t;
	int rc;

	for (unsigned i = 0; i < 4096; i++)
		make_key(keys[i], i);
	for (unsigned i = 0; i < 20000; i++) /* warm-up */
		rs_kv_put(db, &run, keys[i % 4096], KEY_LEN, value, VAL_LEN);
	t0 = now_ns();
	for (unsigned i = 0; i < N; i++)
		if ((rc = rs_kv_put(db, &run, keys[i % 4096], KEY_LEN, value,
				    VAL_LEN)) != 0)
			die("put", rc);
	t = now_ns() - t0;
	for (unsigned i = 0; i < SAMPLES; i++) {
		uint64_t a = now_ns();

		rs_kv_put(db, &run, keys[i % 4096], KEY_LEN, value, VAL_LEN);
		lat[i] = now_ns() - a;
	}
	qsort(lat, SAMPLES, sizeof(*lat), cmp_u64);
	printf("kvstore_put_buffered: %.0f ns/op mean (%u puts, %d B "
	       "values); timed singly: p50 %" PRIu64 " ns, p99 %" PRIu64
	       " ns\n",
	       (double)t / N, N, VAL_LEN, lat[SAMPLES / 2],
	       lat[SAMPLES * 99 / 100]);
	free(lat);
	rs_db_close(db);
	rm_rf(sub("buffered"));
}

/* ---- Strict vs bare write + fdatasync ---- */

static double bare_sync_us(size_t rec, bool prealloc, unsigned n)
{
	const char *path = sub("bare.dat");
	unsigned char *buf = calloc(1, rec);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	uint64_t t0, off = 0;

	if (fd < 0 || !buf)
		exit(1);
	if (prealloc && fallocate(fd, 0, 0, 64 << 20) != 0)
		perror("fallocate");
	fsync(fd);
	memset(buf, 'x', rec);
	t0 = now_ns();
	for (unsigned i = 0; i < n; i++) {
		if (pwrite(fd, buf, rec, (off_t)off) != (ssize_t)rec ||
		    fdatasync(fd) != 0)
			exit(1);
		off += rec;
	}
	t0 = now_ns() - t0;
	close(fd);
	unlink(path);
	free(buf);
	return (double)t0 / n / 1000.0;
}

static double strict_put_us(unsigned n, size_t *rec_out)
{
	rs_db *db = open_db("strict", RS_DURABILITY_STRICT, true);
	rs_run_id run = run_id(2);
	rs_db_stats st = { .version = RS_DB_STATS_VERSION };
	char key[KEY_LEN + 1];
	uint64_t t0;
	int rc;

	t0 = now_ns();
	for (unsigned i = 0; i < n; i++) {
		make_key(key, i);
		if ((rc = rs_kv_put(db, &run, key, KEY_LEN, value, VAL_LEN)) !=
		    0)
			die("strict put", rc);
	}
	t0 = now_ns() - t0;
	rs_db_stat(db, &st);
	*rec_out = (size_t)(st.wal_bytes / st.wal_records);
	rs_db_close(db);
	rm_rf(sub("strict"));
	return (double)t0 / n / 1000.0;
}

static void measure_strict(void)
{
	enum {
		N = 1000,
		ROUNDS = 7
	};
	double s[ROUNDS], bp[ROUNDS], ba[ROUNDS], ratio[ROUNDS];
	size_t rec = 0;

	(void)strict_put_us(100, &rec); /* the record size */
	for (int r = 0; r < ROUNDS; r++) {
		/* Alternate the order, so neither always runs first. */
		if (r % 2) {
			bp[r] = bare_sync_us(rec, true, N);
			s[r] = strict_put_us(N, &rec);
		} else {
			s[r] = strict_put_us(N, &rec);
			bp[r] = bare_sync_us(rec, true, N);
		}
		ba[r] = bare_sync_us(rec, false, N);
		ratio[r] = s[r] / bp[r];
	}
	printf("kvstore_put_strict: %.1f us/op; bare pwrite(%zu B)+fdatasync "
	       "on a preallocated file: %.1f us; ratio %.2fx; appending: "
	       "%.1f us (medians of %d interleaved rounds of %u ops)\n",
	       median(s, ROUNDS), rec, median(bp, ROUNDS),
	       median(ratio, ROUNDS), median(ba, ROUNDS), ROUNDS, N);
}

/* ---- group commit ---- */

struct gc_thread {
	pthread_t tid;
	rs_db *db;
	unsigned run;
	_Atomic bool *stop;
	uint64_t commits;
};

static void *gc_main(void *arg)
{
	struct gc_thread *g = arg;
	rs_run_id run = run_id(100 + g->run);
	char key[KEY_LEN + 1];

	while (!atomic_load_explicit(g->stop, memory_order_relaxed)) {
		make_key(key, g->commits % 1024);
		if (rs_kv_put(g->db, &run, key, KEY_LEN, value, VAL_LEN) != 0)
			exit(1);
		g->commits++;
	}
	return NULL;
}

/* One second of Strict puts from n threads: commits/s; *spc: syncs per
 * commit. */
static double group_rate(unsigned n, double *spc)
{
	rs_db *db = open_db("group", RS_DURABILITY_STRICT, true);
	struct gc_thread th[8];
	_Atomic bool stop = false;
	rs_db_stats st = { .version = RS_DB_STATS_VERSION };
	struct timespec dur = { 1, 0 };
	uint64_t total = 0, t0 = now_ns();
	double secs;

	for (unsigned i = 0; i < n; i++) {
		th[i] = (struct gc_thread){ 0, db, i, &stop, 0 };
		pthread_create(&th[i].tid, NULL, gc_main, &th[i]);
	}
	nanosleep(&dur, NULL);
	atomic_store(&stop, true);
	for (unsigned i = 0; i < n; i++) {
		pthread_join(th[i].tid, NULL);
		total += th[i].commits;
	}
	secs = (double)(now_ns() - t0) / 1e9;
	rs_db_stat(db, &st);
	*spc = (double)st.wal_syncs / (double)total;
	rs_db_close(db);
	rm_rf(sub("group"));
	return (double)total / secs;
}

static void measure_group_commit(void)
{
	enum {
		ROUNDS = 3
	};
	static const unsigned counts[] = { 1, 2, 4, 8 };
	double rate[4][ROUNDS], spc[4][ROUNDS], m[4];

	for (int r = 0; r < ROUNDS; r++)
		for (size_t c = 0; c < 4; c++)
			rate[c][r] = group_rate(counts[c], &spc[c][r]);
	for (size_t c = 0; c < 4; c++)
		m[c] = median(rate[c], ROUNDS);
	for (size_t c = 0; c < 4; c++)
		printf("strict_group_commit/%u: %.0f commits/s (%.2fx of 1), "
		       "%.2f fdatasync per commit (medians of %d rounds of "
		       "1 s)\n",
		       counts[c], m[c], m[c] / m[0], median(spc[c], ROUNDS),
		       ROUNDS);
}

/* ---- recovery ---- */

static void fill(const char *name, uint64_t n)
{
	rs_db *db = open_db(name, RS_DURABILITY_BUFFERED, true);
	char key[KEY_LEN + 1];
	int rc;

	for (uint64_t i = 0; i < n; i++) {
		rs_run_id run = run_id((unsigned)(i % 16));

		make_key(key, i);
		if ((rc = rs_kv_put(db, &run, key, KEY_LEN, value, VAL_LEN)) !=
		    0)
			die("fill", rc);
	}
	rs_db_close(db);
}

static void time_open(const char *name, const char *label, uint64_t n)
{
	rs_db_stats st = { .version = RS_DB_STATS_VERSION };
	uint64_t t0 = now_ns();
	rs_db *db = open_db(name, RS_DURABILITY_STRICT, false);
	double ms = (double)(now_ns() - t0) / 1e6;

	rs_db_stat(db, &st);
	printf("recovery_replay/%" PRIu64
	       "k %s: open %.0f ms (replayed %" PRIu64
	       " records, checkpoint entries %" PRIu64 ", recovery %.0f ms)\n",
	       n / 1000, label, ms, st.records_replayed, st.checkpoint_entries,
	       (double)st.recovery_ns / 1e6);
	rs_db_close(db);
}

static void measure_recovery(uint64_t n)
{
	rs_db *db;
	int rc;

	fill("recovery", n);
	time_open("recovery", "log only", n);
	db = open_db("recovery", RS_DURABILITY_STRICT, false);
	if ((rc = rs_db_checkpoint(db)) != 0)
		die("checkpoint", rc);
	rs_db_close(db);
	time_open("recovery", "from checkpoint", n);
	rm_rf(sub("recovery"));
}

int main(int argc, char **argv)
{
	const char *tmp = getenv("TMPDIR");
	bool made = false;

	memset(value, 'v', sizeof(value));
	if (argc > 1) {
		snprintf(base, sizeof(base), "%s", argv[1]);
		mkdir(base, 0777);
	} else {
		snprintf(base, sizeof(base), "%s/rs-measure-XXXXXX",
			 tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(base))
			return 1;
		made = true;
	}
	printf("runstate %s, directory %s\n", rs_version_string(), base);
	measure_buffered();
	measure_strict();
	measure_group_commit();
	measure_recovery(100000);
	measure_recovery(1000000);
	if (made)
		rm_rf(base);
	return 0;
}
