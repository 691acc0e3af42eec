/* SPDX-License-Identifier: MIT */
/*
 * runstate_bench_replication: the replication rows of
 * docs/benchmark-catalog.md ("Replication"), against nats-server clusters
 * this program starts on 127.0.0.1 (tests/common/natscluster.c). A small
 * standalone program: the rows need clusters, processes killed and a
 * standby, which the Google Benchmark shim of runstate_bench does not fit.
 *
 *   bare_jetstream_publish/R1, /R3   js_Publish + ack of the bytes of one
 *                                    encoded 16 B key + 100 B value put
 *   kvstore_put_replicated/R1, /R3   rs_kv_put, Strict, one committer
 *   replicated_group_commit/{1,8,32} Strict committers (one run each), R3
 *   standby_lag                      commit acknowledged -> visible on a
 *                                    follower, p50 / p99
 *   failover_time                    writer process killed -> the standby
 *                                    (promoted) accepts a commit
 *
 * Every ratio is between rows measured in this run. Prints PASS or FAIL
 * per goal; exits 1 only when a row could not run.
 * bare_jetstream_publish_async/R3 (pipelined, 256 in flight) is the
 * ceiling of one connection, printed beside group commit.
 *
 *   runstate_bench_replication [--quick]
 *   runstate_bench_replication --child <servers> <name>   (the failover
 *                                    writer: commits until killed)
 */
#define _GNU_SOURCE

#include <pthread.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>
#include <runstate/nats.h>

#include "codec.h"
#include "common/natscluster.h"
#include "replication/repl_util.h"

#define KEY_LEN 16
#define VAL_LEN 100
/* A key's buffer: KEY_LEN bytes are used. */
#define KBUF 32

static bool quick;
static int failures;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i];
}

static void verdict(const char *what, bool pass, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void verdict(const char *what, bool pass, const char *fmt, ...)
{
	va_list ap;

	printf("  goal %-44s ", what);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("  %s\n", pass ? "PASS" : "FAIL");
	if (!pass)
		failures++;
}

static void row(const char *name, double ops, double mean_us, double p50,
		double p99)
{
	printf("%-36s %10.0f ops/s %9.1f us mean %9.1f p50 %9.1f p99\n", name,
	       ops, mean_us, p50, p99);
}

static void make_key(char *k, long i)
{
	snprintf(k, KBUF, "k%015ld", i % 1000000000000000L);
}

static const char val[VAL_LEN + 1] =
	"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	"0123456789abcdefghijklmnopqrstuvwxyzABC";

/* A Strict database on the backend (tests/replication/repl_util.c). */
static int open_db(rs_nats **n, rs_db **db, const char *urls, const char *name,
		   int replicas, uint32_t flags)
{
	return rt_open(n, db, urls, name, replicas, flags, RS_DURABILITY_STRICT,
		       0);
}

/* The payload of one encoded put of the benchmark's shape. */
static size_t record_bytes(uint8_t **out)
{
	static const uint8_t writer[RSN_WRITER_ID_LEN];
	rs_record_op op;
	rs_commit_record rec;
	char k[KBUF];
	size_t len;

	make_key(k, 1);
	memset(&rec, 0, sizeof(rec));
	op.tag = RS_TAG_KV;
	op.is_delete = false;
	op.key.data = k;
	op.key.len = KEY_LEN;
	op.value.data = val;
	op.value.len = VAL_LEN;
	rec.kind = RS_RECORD_COMMIT;
	rec.mode = RS_DURABILITY_STRICT;
	rec.version = 1;
	rec.ops = &op;
	rec.nops = 1;
	len = rsn_commit_size(&rec);
	*out = malloc(len);
	if (*out)
		rsn_encode_commit(*out, writer, &rec);
	return *out ? len : 0;
}

/* bare_jetstream_publish/R<r>: mean µs of js_Publish + ack. */
static double bench_bare(const char *urls, int replicas, long iters)
{
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	jsStreamConfig sc;
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	char name[32], subj[32], id[48], rowname[48];
	const char *subs[1];
	uint8_t *payload = NULL;
	size_t plen = record_bytes(&payload);
	double *lat = calloc((size_t)iters, sizeof(double)), t0, sum = 0;

	snprintf(name, sizeof(name), "BARE_R%d", replicas);
	snprintf(subj, sizeof(subj), "bare.r%d", replicas);
	if (!lat || !plen || natsConnection_ConnectTo(&nc, urls) != NATS_OK ||
	    natsConnection_JetStream(&js, nc, NULL) != NATS_OK) {
		fprintf(stderr, "bare: cannot connect\n");
		exit(1);
	}
	jsStreamConfig_Init(&sc);
	subs[0] = subj;
	sc.Name = name;
	sc.Subjects = subs;
	sc.SubjectsLen = 1;
	sc.Replicas = replicas;
	if (js_AddStream(&si, js, &sc, NULL, &jerr) != NATS_OK) {
		fprintf(stderr, "bare: cannot create the stream (%d)\n", jerr);
		exit(1);
	}
	jsStreamInfo_Destroy(si);
	for (long i = 0; i < iters; i++) {
		jsPubOptions po;
		jsPubAck *pa = NULL;

		jsPubOptions_Init(&po);
		snprintf(id, sizeof(id), "bare-%ld", i);
		po.MsgId = id;
		po.ExpectLastSeq = (uint64_t)i;
		t0 = now_s();
		if (js_Publish(&pa, js, subj, payload, (int)plen, &po, &jerr) !=
		    NATS_OK) {
			fprintf(stderr, "bare: publish failed (%d)\n", jerr);
			exit(1);
		}
		lat[i] = (now_s() - t0) * 1e6;
		sum += lat[i];
		jsPubAck_Destroy(pa);
	}
	snprintf(rowname, sizeof(rowname), "bare_jetstream_publish/R%d",
		 replicas);
	{
		double mean = sum / (double)iters;

		row(rowname, 1e6 / mean, mean, pct(lat, (size_t)iters, 0.5),
		    pct(lat, (size_t)iters, 0.99));
		free(lat);
		free(payload);
		jsCtx_Destroy(js);
		natsConnection_Destroy(nc);
		return mean;
	}
}

/* bare_jetstream_publish_async/R3: the cluster's ceiling for one
 * connection, msgs/s with up to 256 publishes in flight (no runstate). */
static double bench_bare_async(const char *urls, long msgs)
{
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	jsOptions jo;
	jsStreamConfig sc;
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	const char *subs[1] = { "bare.async" };
	uint8_t *payload = NULL;
	size_t plen = record_bytes(&payload);
	double t0, el;

	jsOptions_Init(&jo);
	jo.PublishAsync.MaxPending = 256;
	if (!plen || natsConnection_ConnectTo(&nc, urls) != NATS_OK ||
	    natsConnection_JetStream(&js, nc, &jo) != NATS_OK) {
		fprintf(stderr, "bare async: cannot connect\n");
		exit(1);
	}
	jsStreamConfig_Init(&sc);
	sc.Name = "BARE_ASYNC_R3";
	sc.Subjects = subs;
	sc.SubjectsLen = 1;
	sc.Replicas = 3;
	if (js_AddStream(&si, js, &sc, NULL, &jerr) != NATS_OK) {
		fprintf(stderr, "bare async: no stream (%d)\n", jerr);
		exit(1);
	}
	jsStreamInfo_Destroy(si);
	t0 = now_s();
	for (long i = 0; i < msgs; i++)
		if (js_PublishAsync(js, subs[0], payload, (int)plen, NULL) !=
		    NATS_OK)
			break;
	js_PublishAsyncComplete(js, NULL);
	el = now_s() - t0;
	row("bare_jetstream_publish_async/R3", (double)msgs / el,
	    el * 1e6 / (double)msgs, 0, 0);
	free(payload);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	return (double)msgs / el;
}

/* kvstore_put_replicated/R<r>: mean µs of a Strict rs_kv_put. */
static double bench_put(const char *urls, int replicas, long iters)
{
	rs_nats *n = NULL;
	rs_db *db = NULL;
	rs_run_id run;
	char name[32], rowname[48], k[KBUF];
	double *lat = calloc((size_t)iters, sizeof(double)), sum = 0, mean;

	snprintf(name, sizeof(name), "put_r%d", replicas);
	if (!lat || open_db(&n, &db, urls, name, replicas, 0) < 0) {
		fprintf(stderr, "put: cannot open\n");
		exit(1);
	}
	rs_run_id_generate(&run);
	for (long i = 0; i < iters; i++) {
		double t0;
		int rc;

		make_key(k, i);
		t0 = now_s();
		rc = rs_kv_put(db, &run, k, KEY_LEN, val, VAL_LEN);
		lat[i] = (now_s() - t0) * 1e6;
		if (rc < 0) {
			fprintf(stderr, "put: %s\n", rs_errname(rc));
			exit(1);
		}
		sum += lat[i];
	}
	mean = sum / (double)iters;
	snprintf(rowname, sizeof(rowname), "kvstore_put_replicated/R%d",
		 replicas);
	row(rowname, 1e6 / mean, mean, pct(lat, (size_t)iters, 0.5),
	    pct(lat, (size_t)iters, 0.99));
	free(lat);
	rs_nats_close(n);
	return mean;
}

struct gc_arg {
	rs_db *db;
	double end;
	long done;
};

static void *gc_thread(void *p)
{
	struct gc_arg *a = p;
	rs_run_id run;
	char k[KBUF];

	rs_run_id_generate(&run);
	while (now_s() < a->end) {
		make_key(k, a->done);
		if (rs_kv_put(a->db, &run, k, KEY_LEN, val, VAL_LEN) < 0)
			break;
		a->done++;
	}
	return NULL;
}

/* replicated_group_commit/<threads>: commits/s, R3. */
static double bench_group(const char *urls, int threads, double secs)
{
	struct gc_arg args[32];
	pthread_t th[32];
	rs_nats *n = NULL;
	rs_db *db = NULL;
	char name[32], rowname[48];
	long total = 0;
	double t0, el;

	snprintf(name, sizeof(name), "group_%d", threads);
	if (open_db(&n, &db, urls, name, 3, 0) < 0) {
		fprintf(stderr, "group: cannot open\n");
		exit(1);
	}
	t0 = now_s();
	for (int t = 0; t < threads; t++) {
		args[t].db = db;
		args[t].end = t0 + secs;
		args[t].done = 0;
		pthread_create(&th[t], NULL, gc_thread, &args[t]);
	}
	for (int t = 0; t < threads; t++) {
		pthread_join(th[t], NULL);
		total += args[t].done;
	}
	el = now_s() - t0;
	snprintf(rowname, sizeof(rowname), "replicated_group_commit/%d",
		 threads);
	row(rowname, (double)total / el, el * 1e6 * threads / (double)total, 0,
	    0);
	rs_nats_close(n);
	return (double)total / el;
}

/* standby_lag: per commit, acknowledged -> visible on the follower. */
static void bench_lag(const char *urls, long iters, double *p50, double *p99)
{
	rs_nats *w = NULL, *f = NULL;
	rs_db *dw = NULL, *df = NULL;
	rs_run_id run;
	char k[KBUF];
	double *lag = calloc((size_t)iters, sizeof(double));
	long got = 0;

	if (!lag || open_db(&w, &dw, urls, "lag", 3, 0) < 0 ||
	    open_db(&f, &df, urls, "lag", 3, RS_NATS_F_FOLLOWER) < 0) {
		fprintf(stderr, "lag: cannot open\n");
		exit(1);
	}
	rs_run_id_generate(&run);
	for (long i = 0; i < iters; i++) {
		double t_ack, end;
		uint64_t ver = 0;

		make_key(k, i);
		if (rs_kv_put(dw, &run, k, KEY_LEN, val, VAL_LEN) < 0)
			break;
		t_ack = now_s();
		end = t_ack + 5;
		/* Spin until the follower has version i + 1. */
		while (now_s() < end &&
		       (rs_db_run_version(df, &run, &ver) != 0 ||
			ver < (uint64_t)i + 1))
			;
		if (ver < (uint64_t)i + 1)
			break;
		lag[got++] = (now_s() - t_ack) * 1e6;
	}
	*p50 = pct(lag, (size_t)got, 0.5);
	*p99 = pct(lag, (size_t)got, 0.99);
	printf("%-36s %10ld samples %9.1f us p50 %9.1f us p99\n", "standby_lag",
	       got, *p50, *p99);
	free(lag);
	rs_nats_close(f);
	rs_nats_close(w);
}

/* The failover writer: commits until killed. */
static int child_main(const char *urls, const char *name)
{
	rs_nats *n = NULL;
	rs_db *db = NULL;
	rs_run_id run;
	char k[KBUF];

	if (open_db(&n, &db, urls, name, 3, 0) < 0)
		return 2;
	rs_run_id_generate(&run);
	printf("READY\n");
	fflush(stdout);
	for (long i = 0;; i++) {
		make_key(k, i);
		rs_kv_put(db, &run, k, KEY_LEN, val, VAL_LEN);
	}
}

/* failover: seconds from kill -9 of the writer to a commit accepted by
 * the promoted standby. */
static double bench_failover(const char *urls, const char *self, int round)
{
	rs_nats *s = NULL;
	rs_db *ds = NULL;
	rs_run_id run;
	char name[32], line[16];
	int p[2];
	pid_t pid;
	double t_kill, took;
	FILE *f;

	snprintf(name, sizeof(name), "failover_%d", round);
	if (open_db(&s, &ds, urls, name, 3, RS_NATS_F_FOLLOWER) < 0) {
		fprintf(stderr, "failover: cannot open the standby\n");
		exit(1);
	}
	if (pipe(p) != 0 || (pid = fork()) < 0)
		exit(1);
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		execl(self, self, "--child", urls, name, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	f = fdopen(p[0], "r");
	if (!f || !fgets(line, sizeof(line), f)) {
		fprintf(stderr, "failover: the writer did not start\n");
		exit(1);
	}
	/* Let it commit for a while. */
	usleep(300000);
	kill(pid, SIGKILL);
	t_kill = now_s();
	waitpid(pid, NULL, 0);
	fclose(f);
	if (rs_nats_promote(s) < 0) {
		fprintf(stderr, "failover: promotion failed\n");
		exit(1);
	}
	rs_run_id_generate(&run);
	if (rs_kv_put(ds, &run, "after", 5, "1", 1) < 0) {
		fprintf(stderr, "failover: the new writer refused a commit\n");
		exit(1);
	}
	took = now_s() - t_kill;
	rs_nats_close(s);
	return took;
}

int main(int argc, char **argv)
{
	rs_ncluster c1, c3;
	long iters;
	double bare1, bare3, put1, put3, g1, g8, g32, ceiling, fo = 0;

	if (argc == 4 && strcmp(argv[1], "--child") == 0)
		return child_main(argv[2], argv[3]);
	quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
	iters = quick ? 300 : 3000;
	if (!rs_nc_server_bin()) {
		printf("replication benchmarks: skipped (no nats-server)\n");
		return 0;
	}
	printf("replication benchmarks: nats-server clusters on 127.0.0.1 "
	       "(R1: 1 server; R3: 3 servers), %ld operations per row%s\n",
	       iters, quick ? " (--quick)" : "");
	if (rs_nc_start(&c1, 1) != 0 || rs_nc_start(&c3, 3) != 0) {
		fprintf(stderr, "cannot start the clusters\n");
		return 1;
	}
	bare1 = bench_bare(c1.urls, 1, iters);
	put1 = bench_put(c1.urls, 1, iters);
	bare3 = bench_bare(c3.urls, 3, iters);
	put3 = bench_put(c3.urls, 3, iters);
	g1 = bench_group(c3.urls, 1, quick ? 1.0 : 3.0);
	g8 = bench_group(c3.urls, 8, quick ? 1.0 : 3.0);
	g32 = bench_group(c3.urls, 32, quick ? 1.0 : 3.0);
	ceiling = bench_bare_async(c3.urls, quick ? 5000 : 30000);
	{
		double f[3];
		int rounds = quick ? 1 : 3;

		for (int r = 0; r < rounds; r++)
			f[r] = bench_failover(c3.urls, argv[0], r);
		for (int r = 0; r < rounds; r++)
			fo = f[r] > fo ? f[r] : fo;
		printf("%-36s %10.3f s (worst of %d)\n", "failover_time", fo,
		       rounds);
	}
	printf("goals (ratios within this run):\n");
	verdict("kvstore_put_replicated/R1 <= 1.2x bare", put1 <= 1.2 * bare1,
		"%.2fx", put1 / bare1);
	verdict("kvstore_put_replicated/R3 <= 1.2x bare", put3 <= 1.2 * bare3,
		"%.2fx", put3 / bare3);
	verdict("replicated_group_commit/32 >= 10x /1", g32 >= 10 * g1,
		"%.1fx (8: %.1fx; /32 is %.0f%% of the pipelined bare "
		"ceiling)",
		g32 / g1, g8 / g1, 100 * g32 / ceiling);
	{
		double p50 = 0, p99 = 0;

		bench_lag(c3.urls, iters, &p50, &p99);
		verdict("standby_lag p99 < 5 ms", p99 < 5000, "%.2f ms",
			p99 / 1000);
	}
	verdict("failover_time < 3 s", fo < 3.0, "%.3f s", fo);
	rs_nc_stop(&c3);
	rs_nc_stop(&c1);
	/* Like runstate_bench: goals are reported, not an exit status (a
	 * shared machine misses them); an error is. */
	printf("replication benchmarks: goals %d FAIL\n", failures);
	return 0;
}
