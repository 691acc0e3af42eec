/* SPDX-License-Identifier: MIT */
/*
 * Tier D, contention: the workloads that the contention protocol
 * (contention.c) runs as contention/<workload>/{1,2,4,8}. Public API only
 * (runstate.h), InMemory, sharded store.
 *
 * Workloads:
 *  disjoint   worker t works in its own run t of one shared database.
 *             Operations alternate: even ones are a one-shot rs_kv_put of
 *             a 100-byte value to one of 64 keys (key p mod 64, value
 *             number p / 64 for the p-th put); odd ones are a
 *             read-modify-write transaction (rs_txn_begin, rs_txn_kv_get
 *             of a 16-byte counter key, rs_txn_kv_put of counter + 1,
 *             rs_txn_commit). Nothing is shared, so no attempt should
 *             ever conflict. Check: in every run the counter equals the
 *             transactions that thread committed and each of the 64 keys
 *             holds the value of its last put.
 *  disjoint_ceiling
 *             disjoint's work without the database: each worker replaces
 *             records (malloc of the version size, free of the replaced
 *             one) in a private hash table of the same keys and values.
 *             Its scaling is the machine's ceiling, which disjoint's runs
 *             report beside their own (ceiling_scaling, of_ceiling).
 *             Check: each counter equals its thread's odd operations.
 *  statecell  every worker runs rs_statecell_transition on one cell of one
 *             run with a counter callback (8-byte value + 1), with
 *             max_attempts 1: a conflict comes back to the driver, which
 *             retries and counts it. Check: the cell's value equals the
 *             successful transitions of all threads (and its version is
 *             one more).
 *  eventlog   every worker runs rs_eventlog_append on one run: a
 *             100-byte payload carrying its thread id and append number.
 *             Check: no caller ever saw RS_ECONFLICT; the log's length
 *             equals the successful appends; reading the whole log, the
 *             sequences are dense from 0 and each thread's append numbers
 *             appear exactly once, in order (no duplicate, no missing
 *             event); rs_eventlog_verify_chain passes.
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"
#include "contention.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- workload: disjoint ---- */

#define DJ_KEYS 64u

typedef struct dj {
	rs_db *db;
	rs_bench_keys k; /* DJ_KEYS data keys (the same in every run) */
	unsigned char ctr[RS_BENCH_KEY_LEN];
	rs_run_id run[]; /* one per thread */
} dj;

static int dj_setup(void **out, int n)
{
	dj *d = calloc(1, sizeof(*d) + (size_t)n * sizeof(rs_run_id));
	int rc;

	if (!d)
		return RS_ENOMEM;
	*out = d;
	memcpy(d->ctr, "counter_________", RS_BENCH_KEY_LEN);
	for (int t = 0; t < n; t++)
		rs_bench_run_id(&d->run[t], 0x40u + (unsigned)t);
	if ((rc = rs_bench_keys_make(&d->k, DJ_KEYS)) < 0)
		return rc;
	return rs_bench_db_open(&d->db, RS_STORAGE_SHARDED, false);
}

static int dj_attempt(void *shared, int tid, uint64_t seq)
{
	dj *d = shared;
	const rs_run_id *run = &d->run[tid];
	rs_txn *txn;
	rs_bytes v;
	uint64_t ctr = 0;
	int rc;

	if (!(seq & 1)) {
		uint64_t p = seq / 2;

		return rs_kv_put(d->db, run, rs_bench_key(&d->k, p % DJ_KEYS),
				 RS_BENCH_KEY_LEN,
				 rs_bench_val(&d->k, (size_t)(p / DJ_KEYS)),
				 RS_BENCH_VAL_LEN);
	}
	if ((rc = rs_txn_begin(&txn, d->db, run, 0)) < 0)
		return rc;
	rc = rs_txn_kv_get(txn, d->ctr, RS_BENCH_KEY_LEN, &v);
	if (rc == 0 && v.len == sizeof(ctr))
		memcpy(&ctr, v.data, sizeof(ctr));
	else if (rc != RS_ENOTFOUND) {
		rs_txn_abort(txn);
		return rc < 0 ? rc : RS_ECORRUPT;
	}
	ctr++;
	if ((rc = rs_txn_kv_put(txn, d->ctr, RS_BENCH_KEY_LEN, &ctr,
				sizeof(ctr))) < 0) {
		rs_txn_abort(txn);
		return rc;
	}
	return rs_txn_commit(txn);
}

static int dj_check(void *shared, int n, const uint64_t *succ, char *msg,
		    size_t cap)
{
	dj *d = shared;
	unsigned char buf[RS_BENCH_VAL_LEN];

	for (int t = 0; t < n; t++) {
		uint64_t txns = succ[t] / 2, puts = (succ[t] + 1) / 2, ctr = 0;
		size_t len = 0;
		int rc = rs_kv_get(d->db, &d->run[t], d->ctr, RS_BENCH_KEY_LEN,
				   &ctr, sizeof(ctr), &len);

		if (rc < 0 || len != sizeof(ctr) || ctr != txns) {
			snprintf(msg, cap,
				 "run %d: counter %llu (%s), expected %llu", t,
				 (unsigned long long)ctr,
				 rc < 0 ? rs_strerror(rc) : "read",
				 (unsigned long long)txns);
			return -1;
		}
		for (uint64_t j = 0; j < DJ_KEYS; j++) {
			const void *key = rs_bench_key(&d->k, (size_t)j);
			uint64_t last;

			rc = rs_kv_get(d->db, &d->run[t], key, RS_BENCH_KEY_LEN,
				       buf, sizeof(buf), &len);
			if (j >= puts) {
				if (rc != RS_ENOTFOUND) {
					snprintf(msg, cap,
						 "run %d: key %llu was never "
						 "put but is present",
						 t, (unsigned long long)j);
					return -1;
				}
				continue;
			}
			last = j + (puts - 1 - j) / DJ_KEYS * DJ_KEYS;
			if (rc < 0 || len != RS_BENCH_VAL_LEN ||
			    memcmp(buf,
				   rs_bench_val(&d->k,
						(size_t)(last / DJ_KEYS)),
				   RS_BENCH_VAL_LEN) != 0) {
				snprintf(msg, cap,
					 "run %d: key %llu does not hold the "
					 "value of its last put",
					 t, (unsigned long long)j);
				return -1;
			}
		}
	}
	return 0;
}

static void dj_teardown(void *shared)
{
	dj *d = shared;

	if (!d)
		return;
	rs_db_close(d->db);
	rs_bench_keys_free(&d->k);
	free(d);
}

/* ---- workload: disjoint_ceiling (no database) ---- */

/*
 * What disjoint does to memory, without the database: each worker owns a
 * private open-addressing table of DJ_KEYS + 1 keys (linear probing,
 * 16-byte keys, hashed with FNV-1a), and every operation replaces a key's
 * value record the way a commit replaces a version: malloc a record of
 * the engine's version size (24-byte header + value), fill it, link it,
 * free the one it replaces. Even operations put a 100-byte value, odd
 * ones read an 8-byte counter and write counter + 1. No lock, no RCU, no
 * shared line: its 2-thread scaling is what this machine allows for such
 * work, the ceiling beside disjoint's.
 */
#define CL_SLOTS 256u /* a power of two, >= 2 x (DJ_KEYS + 1) */

typedef struct cl_rec {
	uint64_t ver; /* the engine's version header: 24 bytes */
	uint32_t len;
	uint32_t flags;
	unsigned char data[];
} cl_rec;

typedef struct cl_slot {
	const unsigned char *key;
	uint64_t hash;
	cl_rec *rec;
} cl_slot;

typedef struct cl_table {
	_Alignas(64) cl_slot s[CL_SLOTS]; /* whole cache lines, per thread */
	uint64_t ver;
} cl_table;

typedef struct cl {
	rs_bench_keys k;
	unsigned char ctr[RS_BENCH_KEY_LEN];
	int n;
	cl_table *t[]; /* one per thread */
} cl;

static uint64_t cl_hash(const unsigned char *key)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (unsigned i = 0; i < RS_BENCH_KEY_LEN; i++)
		h = (h ^ key[i]) * 0x100000001b3ull;
	return h;
}

/* The slot of `key`: its own, or the empty one where it goes. */
static cl_slot *cl_find(cl_table *t, const unsigned char *key)
{
	uint64_t h = cl_hash(key);

	for (size_t i = (size_t)h & (CL_SLOTS - 1);;
	     i = (i + 1) & (CL_SLOTS - 1)) {
		cl_slot *s = &t->s[i];

		if (!s->key) {
			s->key = key;
			s->hash = h;
			return s;
		}
		if (s->hash == h && memcmp(s->key, key, RS_BENCH_KEY_LEN) == 0)
			return s;
	}
}

static int cl_replace(cl_table *t, const unsigned char *key, const void *val,
		      size_t len)
{
	cl_slot *s = cl_find(t, key);
	cl_rec *r = malloc(sizeof(*r) + len);

	if (!r)
		return RS_ENOMEM;
	r->ver = ++t->ver;
	r->len = (uint32_t)len;
	r->flags = 0;
	memcpy(r->data, val, len);
	free(s->rec);
	s->rec = r;
	return 0;
}

static int cl_setup(void **out, int n)
{
	cl *c = calloc(1, sizeof(*c) + (size_t)n * sizeof(cl_table *));

	if (!c)
		return RS_ENOMEM;
	*out = c;
	memcpy(c->ctr, "counter_________", RS_BENCH_KEY_LEN);
	for (; c->n < n; c->n++) {
		c->t[c->n] = aligned_alloc(64, sizeof(cl_table));
		if (!c->t[c->n])
			return RS_ENOMEM;
		memset(c->t[c->n], 0, sizeof(cl_table));
	}
	return rs_bench_keys_make(&c->k, DJ_KEYS);
}

static int cl_attempt(void *shared, int tid, uint64_t seq)
{
	cl *c = shared;
	cl_table *t = c->t[tid];
	uint64_t ctr = 0;
	const cl_rec *r;

	if (!(seq & 1)) {
		uint64_t p = seq / 2;

		return cl_replace(t, rs_bench_key(&c->k, p % DJ_KEYS),
				  rs_bench_val(&c->k, (size_t)(p / DJ_KEYS)),
				  RS_BENCH_VAL_LEN);
	}
	r = cl_find(t, c->ctr)->rec;
	if (r)
		memcpy(&ctr, r->data, sizeof(ctr));
	ctr++;
	return cl_replace(t, c->ctr, &ctr, sizeof(ctr));
}

/* Each counter equals that thread's odd operations; every key put holds
 * a 100-byte record. */
static int cl_check(void *shared, int n, const uint64_t *succ, char *msg,
		    size_t cap)
{
	cl *c = shared;

	for (int t = 0; t < n; t++) {
		uint64_t puts = (succ[t] + 1) / 2, ctr = 0, held = 0;
		const cl_rec *r = cl_find(c->t[t], c->ctr)->rec;

		if (r)
			memcpy(&ctr, r->data, sizeof(ctr));
		for (size_t i = 0; i < CL_SLOTS; i++) {
			const cl_slot *s = &c->t[t]->s[i];

			held += s->rec && s->rec->len == RS_BENCH_VAL_LEN;
		}
		if (ctr != succ[t] / 2 ||
		    held != (puts < DJ_KEYS ? puts : DJ_KEYS)) {
			snprintf(msg, cap,
				 "thread %d: counter %llu, %llu values held", t,
				 (unsigned long long)ctr,
				 (unsigned long long)held);
			return -1;
		}
	}
	return 0;
}

static void cl_teardown(void *shared)
{
	cl *c = shared;

	if (!c)
		return;
	for (int t = 0; t < c->n; t++) {
		for (size_t i = 0; c->t[t] && i < CL_SLOTS; i++)
			free(c->t[t]->s[i].rec);
		free(c->t[t]);
	}
	rs_bench_keys_free(&c->k);
	free(c);
}

static const rs_bench_contention_wl wl_disjoint_ceiling = {
	.name = "disjoint_ceiling",
	.setup = cl_setup,
	.attempt = cl_attempt,
	.check = cl_check,
	.teardown = cl_teardown,
};

static const rs_bench_contention_wl wl_disjoint = {
	.name = "disjoint",
	.setup = dj_setup,
	.attempt = dj_attempt,
	.check = dj_check,
	.teardown = dj_teardown,
	.ceiling = &wl_disjoint_ceiling,
};

/* ---- workload: statecell ---- */

static const char sc_name[] = "counter";
#define SC_NAME_LEN (sizeof(sc_name) - 1)

typedef struct sc_slot {
	_Alignas(64) uint64_t out; /* the callback's new value */
} sc_slot;

typedef struct sc {
	rs_db *db;
	rs_run_id run;
	sc_slot t[]; /* one per thread, each on its own cache line */
} sc;

static int sc_setup(void **out, int n)
{
	static const uint64_t zero;
	sc *d = aligned_alloc(64,
			      sizeof(*d) + (size_t)n * sizeof(sc_slot) + 64);
	int rc;

	if (!d)
		return RS_ENOMEM;
	memset(d, 0, sizeof(*d) + (size_t)n * sizeof(sc_slot));
	*out = d;
	rs_bench_run_id(&d->run, 0x50u);
	if ((rc = rs_bench_db_open(&d->db, RS_STORAGE_SHARDED, false)) < 0)
		return rc;
	return rs_statecell_init(d->db, &d->run, sc_name, SC_NAME_LEN, &zero,
				 sizeof(zero), NULL);
}

/* One attempt: max_attempts 1, so a conflict comes back to the driver,
 * which retries at once and counts the attempt. */
static int sc_attempt(void *shared, int tid, uint64_t seq)
{
	sc *d = shared;

	(void)seq;
	return rs_statecell_transition(d->db, &d->run, sc_name, SC_NAME_LEN, 1,
				       NULL, rs_bench_incr_u64, &d->t[tid].out);
}

static int sc_check(void *shared, int n, const uint64_t *succ, char *msg,
		    size_t cap)
{
	sc *d = shared;
	uint64_t total = 0, c = 0, ver = 0;
	size_t len = 0;
	int rc;

	for (int t = 0; t < n; t++)
		total += succ[t];
	rc = rs_statecell_read(d->db, &d->run, sc_name, SC_NAME_LEN, &c,
			       sizeof(c), &len, &ver);
	if (rc < 0 || len != sizeof(c) || c != total || ver != total + 1) {
		snprintf(msg, cap,
			 "cell value %llu, version %llu (%s); expected value "
			 "%llu (successful transitions), version %llu",
			 (unsigned long long)c, (unsigned long long)ver,
			 rc < 0 ? rs_strerror(rc) : "read",
			 (unsigned long long)total,
			 (unsigned long long)(total + 1));
		return -1;
	}
	return 0;
}

static void sc_teardown(void *shared)
{
	sc *d = shared;

	if (!d)
		return;
	rs_db_close(d->db);
	free(d);
}

static const rs_bench_contention_wl wl_statecell = {
	.name = "statecell",
	.setup = sc_setup,
	.attempt = sc_attempt,
	.check = sc_check,
	.teardown = sc_teardown,
};

/* ---- workload: eventlog ---- */

static const char el_type[] = "tool_call";
#define EL_TYPE_LEN (sizeof(el_type) - 1)

typedef struct el_slot {
	/* The payload: thread id, then this thread's append number, then
	 * filler (RS_BENCH_VAL_LEN bytes in all). */
	_Alignas(64) unsigned char payload[RS_BENCH_VAL_LEN];
	uint64_t conflicts; /* RS_ECONFLICT returned to this caller */
} el_slot;

typedef struct el {
	rs_db *db;
	rs_run_id run;
	el_slot t[];
} el;

static int el_setup(void **out, int n)
{
	el *d = aligned_alloc(64,
			      sizeof(*d) + (size_t)n * sizeof(el_slot) + 64);

	if (!d)
		return RS_ENOMEM;
	memset(d, 0, sizeof(*d) + (size_t)n * sizeof(el_slot));
	*out = d;
	rs_bench_run_id(&d->run, 0x51u);
	for (int t = 0; t < n; t++) {
		uint64_t tid = (uint64_t)t;

		memset(d->t[t].payload, 'a' + t, sizeof(d->t[t].payload));
		memcpy(d->t[t].payload, &tid, sizeof(tid));
	}
	return rs_bench_db_open(&d->db, RS_STORAGE_SHARDED, false);
}

static int el_attempt(void *shared, int tid, uint64_t seq)
{
	el *d = shared;
	el_slot *s = &d->t[tid];
	int rc;

	memcpy(s->payload + 8, &seq, sizeof(seq));
	rc = rs_eventlog_append(d->db, &d->run, el_type, EL_TYPE_LEN,
				s->payload, sizeof(s->payload), NULL);
	if (RS_BENCH_UNLIKELY(rc == RS_ECONFLICT))
		s->conflicts++;
	return rc;
}

typedef struct el_walk {
	uint64_t next_seq; /* the sequence the next event must have */
	uint64_t *next;	   /* per thread: the append number expected next */
	int n;
	char *msg;
	size_t cap;
} el_walk;

static int el_visit(const rs_event *ev, void *ctx)
{
	el_walk *w = ctx;
	uint64_t tid, num;

	if (ev->seq != w->next_seq) {
		snprintf(w->msg, w->cap, "event %llu has sequence %llu",
			 (unsigned long long)w->next_seq,
			 (unsigned long long)ev->seq);
		return -1;
	}
	w->next_seq++;
	if (ev->payload.len != RS_BENCH_VAL_LEN) {
		snprintf(w->msg, w->cap, "event %llu: payload of %zu bytes",
			 (unsigned long long)ev->seq, ev->payload.len);
		return -1;
	}
	memcpy(&tid, ev->payload.data, sizeof(tid));
	memcpy(&num, (const unsigned char *)ev->payload.data + 8, sizeof(num));
	if (tid >= (uint64_t)w->n || num != w->next[tid]) {
		snprintf(w->msg, w->cap,
			 "event %llu: append %llu of thread %llu, expected "
			 "append %llu of it (a duplicate or a missing event)",
			 (unsigned long long)ev->seq, (unsigned long long)num,
			 (unsigned long long)tid,
			 tid < (uint64_t)w->n ? (unsigned long long)w->next[tid]
					      : 0ull);
		return -1;
	}
	w->next[tid]++;
	return 0;
}

static int el_check(void *shared, int n, const uint64_t *succ, char *msg,
		    size_t cap)
{
	el *d = shared;
	uint64_t total = 0, len = 0, conflicts = 0, bad = 0;
	el_walk w = { 0, NULL, n, msg, cap };
	int rc;

	for (int t = 0; t < n; t++) {
		total += succ[t];
		conflicts += d->t[t].conflicts;
	}
	if (conflicts) {
		snprintf(msg, cap,
			 "%llu appends returned RS_ECONFLICT to their caller",
			 (unsigned long long)conflicts);
		return -1;
	}
	if ((rc = rs_eventlog_len(d->db, &d->run, &len)) < 0 || len != total) {
		snprintf(msg, cap,
			 "log length %llu (%s), expected %llu appends",
			 (unsigned long long)len,
			 rc < 0 ? rs_strerror(rc) : "read",
			 (unsigned long long)total);
		return -1;
	}
	if (!(w.next = calloc((size_t)n, sizeof(*w.next)))) {
		snprintf(msg, cap, "out of memory");
		return -1;
	}
	rc = rs_eventlog_read_range(d->db, &d->run, 0, UINT64_MAX, el_visit,
				    &w);
	if (rc == 0 && w.next_seq != total) {
		snprintf(msg, cap, "read %llu events of %llu",
			 (unsigned long long)w.next_seq,
			 (unsigned long long)total);
		rc = -1;
	}
	for (int t = 0; rc == 0 && t < n; t++)
		if (w.next[t] != succ[t]) {
			snprintf(msg, cap,
				 "thread %d: %llu events in the log, %llu "
				 "appends succeeded",
				 t, (unsigned long long)w.next[t],
				 (unsigned long long)succ[t]);
			rc = -1;
		}
	free(w.next);
	if (rc > 0 || (rc < 0 && rc != -1))
		snprintf(msg, cap, "read_range: %s", rs_strerror(rc));
	if (rc)
		return -1;
	if ((rc = rs_eventlog_verify_chain(d->db, &d->run, &bad)) != 0) {
		snprintf(msg, cap, "verify_chain: %s at sequence %llu",
			 rs_strerror(rc), (unsigned long long)bad);
		return -1;
	}
	return 0;
}

static void el_teardown(void *shared)
{
	el *d = shared;

	if (!d)
		return;
	rs_db_close(d->db);
	free(d);
}

static const rs_bench_contention_wl wl_eventlog = {
	.name = "eventlog",
	.setup = el_setup,
	.attempt = el_attempt,
	.check = el_check,
	.teardown = el_teardown,
};

void rs_bench_suite_contention(void)
{
	rs_bench_contention_register(&wl_statecell);
	rs_bench_contention_register(&wl_eventlog);
	/* The ceiling first: disjoint's runs report against it. */
	rs_bench_contention_register(&wl_disjoint_ceiling);
	rs_bench_contention_register(&wl_disjoint);
}
