/* SPDX-License-Identifier: MIT */
/*
 * Tier B facades of the primitives (EventLog, StateCell, TraceStore,
 * RunIndex) and the cross tier (several primitives in one transaction):
 * public API only (runstate.h), InMemory. Every benchmark runs on the
 * sharded store (its catalog name) and on the unified store, the M3
 * baseline (name@unified). Per operation, inside the timed loop:
 *
 *  eventlog_append            rs_eventlog_append of a 100-byte payload
 *                             (type "tool_call") to a growing log
 *  eventlog_read              rs_eventlog_read of a random sequence of a
 *                             1024-event log into one caller buffer
 *  eventlog_read_range/100    rs_eventlog_read_range of 100 events (random
 *                             start) of that log; the callback counts
 *  eventlog_verify_chain/1000 rs_eventlog_verify_chain of a 1000-event log
 *  statecell_init             rs_statecell_init of a name not used yet in the
 *                             run (pre-generated), 100-byte value
 *  statecell_read             rs_statecell_read of one of 1024 cells (shuffled
 *                             order) into one caller buffer
 *  statecell_cas              rs_statecell_cas of one of 1024 cells, expecting
 *                             the version its previous write returned
 *  statecell_transition       rs_statecell_transition of one of 1024 cells with
 *                             a counter callback (8-byte value + 1)
 *  tracestore_record_minimal  rs_tracestore_record, 100-byte payload, no tags,
 *                             no parent
 *  tracestore_record_3_tags   the same with 3 tags
 *  tracestore_query_by_type   rs_tracestore_query_by_type of one of 10 types of
 *                             a 1000-trace run: 100 results
 *  tracestore_get_tree        rs_tracestore_get_tree of one of 64 trees of 13
 *                             traces (1 + 3 + 9)
 *  runindex_create            rs_runindex_create with a pre-generated id
 *                             (no name, tags, parent or metadata)
 *  runindex_transition        rs_runindex_transition of one of 1024 runs,
 *                             Active -> Paused or Paused -> Active
 *  runindex_lifecycle         create, -> Completed, -> Archived, delete
 *                             (four calls; one of 1024 ids in turn)
 *  cross_txn_kv_event         rs_txn_run: rs_txn_kv_put (one of 1024 keys)
 *                             and rs_txn_eventlog_append, one commit
 *  cross_txn_kv_event_state   the same plus rs_txn_statecell_set of one cell
 *  cross_txn_all_primitives   the same plus rs_txn_tracestore_record (no tags)
 *  cross_snapshot_read        a read-only transaction: rs_txn_kv_get,
 *                             rs_txn_eventlog_len, rs_txn_statecell_read,
 *                             rs_txn_tracestore_get, commit
 *
 * Growing benchmarks (eventlog_append, statecell_init, tracestore_record_*,
 * runindex_create, cross_txn_*) rotate: after PRIM_RUN_CAP operations the
 * timer is paused, the run is deleted (rs_runindex_delete: its memory is
 * reclaimed) and a fresh run id is used (runindex_create deletes the runs
 * it registered and starts over), then the timer resumes. So every figure
 * covers a run (or registry) growing from 0 to PRIM_RUN_CAP items, on
 * both stores alike, and memory stays bounded however long the loop runs.
 *
 * Setup and a warm-up of 4096 operations run untimed; values, names, ids
 * and tags are generated before the timed loop. An operation that fails or
 * returns a wrong result fails the benchmark.
 *
 * Probes (outside any timed loop): per-operation latency of several of
 * them, one clock read per operation, as the kvstore_get probe.
 */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Items a growing benchmark adds to one run before it rotates (a multiple
 * of RS_BENCH_BATCH). */
#define PRIM_RUN_CAP 4096u
/* Cells, KV keys, runs of the read and update benchmarks. */
#define PRIM_HOT RS_BENCH_HOT_KEYS
/* Events of the eventlog_read / _read_range log. */
#define PRIM_EVENTS 1024u
#define PRIM_RANGE 100u
#define PRIM_CHAIN 1000u
/* tracestore_query_by_type: types x traces per type. */
#define PRIM_TYPES 10u
#define PRIM_PER_TYPE 100u
/* tracestore_get_tree: trees of 1 + 3 + 9 traces. */
#define PRIM_TREES 64u
#define PRIM_TREE_NODES 13u

#define PRIM_SALT_RUN 0x20u
#define PRIM_SALT_IDS 0x60u

static const char ev_type[] = "tool_call";
#define EV_TYPE_LEN (sizeof(ev_type) - 1)
static const char tr_type[] = "llm_call";
#define TR_TYPE_LEN (sizeof(tr_type) - 1)
static const char cell_state[] = "state";
#define CELL_STATE_LEN (sizeof(cell_state) - 1)
static const char *const tag_text[3] = { "env:prod", "model:large",
					 "agent:planner" };

typedef struct pfix {
	rs_db *db;
	rs_storage storage;
	rs_run_id run;
	uint64_t run_n;	     /* rotations so far */
	size_t in_run;	     /* items added to the current run */
	uint64_t ops;	     /* operations run, warm-up included */
	rs_bench_keys k;     /* PRIM_RUN_CAP keys (also cell names) */
	size_t pos;	     /* next index into k.order */
	uint32_t *seq;	     /* RS_BENCH_SEQ_LEN random indices */
	size_t spos;	     /* next index into seq */
	uint64_t *vers;	     /* statecell_cas: each cell's version */
	unsigned char *stat; /* runindex_transition: each run's status */
	rs_run_id *ids;	     /* runindex_*: PRIM_RUN_CAP ids */
	uint64_t *roots;     /* tracestore_get_tree: tree roots */
	rs_bytes tags[3];
	char types[PRIM_TYPES][8];
	uint64_t scratch; /* the transition callback's output */
	unsigned char buf[512];
} pfix;

/* One benchmark: what it sets up and what one operation is. */
typedef struct pbench {
	int (*setup)(pfix *f);
	int (*op)(pfix *f);
	/* Untimed, every PRIM_RUN_CAP operations; NULL: never. */
	int (*rotate)(pfix *f);
	/* Untimed, after the loop; NULL: nothing to check. */
	int (*check)(pfix *f);
} pbench;

static void pfix_close(pfix *f)
{
	rs_db_close(f->db);
	rs_bench_keys_free(&f->k);
	free(f->seq);
	free(f->vers);
	free(f->stat);
	free(f->ids);
	free(f->roots);
	memset(f, 0, sizeof(*f));
}

static int pfix_open(pfix *f, rs_storage storage)
{
	int rc;

	memset(f, 0, sizeof(*f));
	f->storage = storage;
	rs_bench_run_id_n(&f->run, PRIM_SALT_RUN, 0);
	for (int i = 0; i < 3; i++) {
		f->tags[i].data = tag_text[i];
		f->tags[i].len = strlen(tag_text[i]);
	}
	for (unsigned i = 0; i < PRIM_TYPES; i++)
		snprintf(f->types[i], sizeof(f->types[i]), "type_%u", i);
	if ((rc = rs_bench_keys_make(&f->k, PRIM_RUN_CAP)) < 0)
		return rc;
	f->seq = malloc(RS_BENCH_SEQ_LEN * sizeof(*f->seq));
	f->vers = calloc(PRIM_RUN_CAP, sizeof(*f->vers));
	f->stat = calloc(PRIM_RUN_CAP, sizeof(*f->stat));
	f->ids = malloc(PRIM_RUN_CAP * sizeof(*f->ids));
	f->roots = malloc(PRIM_TREES * sizeof(*f->roots));
	if (!f->seq || !f->vers || !f->stat || !f->ids || !f->roots)
		return RS_ENOMEM;
	/* Hot-set indices (k.order covers PRIM_RUN_CAP keys: the read and
	 * update benchmarks use their own permutation of PRIM_HOT). */
	rs_bench_seq_uniform(f->seq, PRIM_HOT, RS_BENCH_UNIFORM_SEED);
	for (size_t i = 0; i < PRIM_RUN_CAP; i++)
		rs_bench_run_id_n(&f->ids[i], PRIM_SALT_IDS, i);
	return rs_bench_db_open(&f->db, storage, false);
}

/* The next index of the hot set, in a fixed shuffled order. */
static inline uint32_t hot_next(pfix *f)
{
	uint32_t i = f->seq[f->spos];

	f->spos = (f->spos + 1) & (RS_BENCH_SEQ_LEN - 1);
	return i;
}

/* The next of the PRIM_RUN_CAP names/keys, each once per run. */
static inline uint32_t cap_next(pfix *f)
{
	return rs_bench_next(&f->k, &f->pos);
}

static inline const char *name_of(const pfix *f, uint32_t i)
{
	return (const char *)rs_bench_key(&f->k, i);
}

static inline const void *val_of(const pfix *f, uint64_t i)
{
	return rs_bench_val(&f->k, (size_t)i);
}

/* Delete the run (untimed) and go on with a fresh one. */
static int rotate_run(pfix *f)
{
	int rc = rs_runindex_delete(f->db, &f->run);

	if (rc < 0 && rc != RS_ENOTFOUND)
		return rc;
	rs_bench_run_id_n(&f->run, PRIM_SALT_RUN, ++f->run_n);
	f->pos = 0;
	return 0;
}

/* ---- EventLog ---- */

static int op_ev_append(pfix *f)
{
	return rs_eventlog_append(f->db, &f->run, ev_type, EV_TYPE_LEN,
				  val_of(f, f->ops), RS_BENCH_VAL_LEN, NULL);
}

static int fill_events(pfix *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = rs_eventlog_append(f->db, &f->run, ev_type,
					    EV_TYPE_LEN, val_of(f, i),
					    RS_BENCH_VAL_LEN, NULL);

		if (rc < 0)
			return rc;
	}
	return 0;
}

static int setup_ev_log(pfix *f)
{
	return fill_events(f, PRIM_EVENTS);
}

static int setup_ev_chain(pfix *f)
{
	return fill_events(f, PRIM_CHAIN);
}

static int op_ev_read(pfix *f)
{
	uint64_t seq = hot_next(f) % PRIM_EVENTS;
	rs_event ev;
	int rc = rs_eventlog_read(f->db, &f->run, seq, &ev, f->buf,
				  sizeof(f->buf), NULL);

	if (RS_BENCH_UNLIKELY(rc == 0 && (ev.seq != seq ||
					  ev.payload.len != RS_BENCH_VAL_LEN)))
		return RS_ECORRUPT;
	return rc;
}

static int count_event(const rs_event *ev, void *ctx)
{
	size_t *n = ctx;

	*n += 1 + (ev->payload.len != RS_BENCH_VAL_LEN) * PRIM_EVENTS;
	return 0;
}

static int op_ev_range(pfix *f)
{
	uint64_t start = hot_next(f) % (PRIM_EVENTS - PRIM_RANGE + 1);
	size_t n = 0;
	int rc = rs_eventlog_read_range(f->db, &f->run, start,
					start + PRIM_RANGE, count_event, &n);

	if (RS_BENCH_UNLIKELY(rc == 0 && n != PRIM_RANGE))
		return RS_ECORRUPT;
	return rc;
}

static int op_ev_verify(pfix *f)
{
	return rs_eventlog_verify_chain(f->db, &f->run, NULL);
}

/* ---- StateCell ---- */

static int op_cell_init(pfix *f)
{
	return rs_statecell_init(f->db, &f->run, name_of(f, cap_next(f)),
				 RS_BENCH_KEY_LEN, val_of(f, f->ops),
				 RS_BENCH_VAL_LEN, NULL);
}

static int setup_cells(pfix *f)
{
	for (uint32_t i = 0; i < PRIM_HOT; i++) {
		int rc = rs_statecell_init(f->db, &f->run, name_of(f, i),
					   RS_BENCH_KEY_LEN, val_of(f, i),
					   RS_BENCH_VAL_LEN, &f->vers[i]);

		if (rc < 0)
			return rc;
	}
	return 0;
}

static int setup_counters(pfix *f)
{
	static const uint64_t zero;

	for (uint32_t i = 0; i < PRIM_HOT; i++) {
		int rc = rs_statecell_init(f->db, &f->run, name_of(f, i),
					   RS_BENCH_KEY_LEN, &zero,
					   sizeof(zero), NULL);

		if (rc < 0)
			return rc;
	}
	return 0;
}

static int op_cell_read(pfix *f)
{
	size_t len;
	uint64_t ver;
	int rc = rs_statecell_read(f->db, &f->run, name_of(f, hot_next(f)),
				   RS_BENCH_KEY_LEN, f->buf, sizeof(f->buf),
				   &len, &ver);

	if (RS_BENCH_UNLIKELY(rc == 0 && len != RS_BENCH_VAL_LEN))
		return RS_ECORRUPT;
	return rc;
}

static int op_cell_cas(pfix *f)
{
	uint32_t i = hot_next(f);

	return rs_statecell_cas(f->db, &f->run, name_of(f, i), RS_BENCH_KEY_LEN,
				f->vers[i], val_of(f, f->ops), RS_BENCH_VAL_LEN,
				&f->vers[i]);
}

static int op_cell_transition(pfix *f)
{
	return rs_statecell_transition(f->db, &f->run, name_of(f, hot_next(f)),
				       RS_BENCH_KEY_LEN, 0, NULL,
				       rs_bench_incr_u64, &f->scratch);
}

/* Every transition counted once: the counters add up to the operations. */
static int check_counters(pfix *f)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; i < PRIM_HOT; i++) {
		uint64_t c = 0;
		size_t len = 0;
		int rc = rs_statecell_read(f->db, &f->run, name_of(f, i),
					   RS_BENCH_KEY_LEN, &c, sizeof(c),
					   &len, NULL);

		if (rc < 0)
			return rc;
		sum += c;
	}
	return sum == f->ops ? 0 : RS_ECORRUPT;
}

/* ---- TraceStore ---- */

static int op_trace_min(pfix *f)
{
	return rs_tracestore_record(f->db, &f->run, tr_type, TR_TYPE_LEN,
				    val_of(f, f->ops), RS_BENCH_VAL_LEN, NULL,
				    0, RS_TRACE_NONE, NULL);
}

static int op_trace_3tags(pfix *f)
{
	return rs_tracestore_record(f->db, &f->run, tr_type, TR_TYPE_LEN,
				    val_of(f, f->ops), RS_BENCH_VAL_LEN,
				    f->tags, 3, RS_TRACE_NONE, NULL);
}

static int setup_trace_types(pfix *f)
{
	for (unsigned i = 0; i < PRIM_TYPES * PRIM_PER_TYPE; i++) {
		const char *t = f->types[i % PRIM_TYPES];
		int rc = rs_tracestore_record(f->db, &f->run, t, strlen(t),
					      val_of(f, i), RS_BENCH_VAL_LEN,
					      NULL, 0, RS_TRACE_NONE, NULL);

		if (rc < 0)
			return rc;
	}
	return 0;
}

static int count_trace(const rs_trace *t, void *ctx)
{
	size_t *n = ctx;

	*n += 1 + (t->payload.len != RS_BENCH_VAL_LEN) * PRIM_EVENTS;
	return 0;
}

static int op_trace_query(pfix *f)
{
	const char *t = f->types[f->ops % PRIM_TYPES];
	uint64_t cursor = 0;
	size_t n = 0;
	int rc = rs_tracestore_query_by_type(f->db, &f->run, t, 6, &cursor, 0,
					     NULL, count_trace, &n);

	if (RS_BENCH_UNLIKELY(rc == 0 && n != PRIM_PER_TYPE))
		return RS_ECORRUPT;
	return rc;
}

static int setup_trees(pfix *f)
{
	size_t v = 0;

	for (unsigned r = 0; r < PRIM_TREES; r++) {
		uint64_t root, child;
		int rc = rs_tracestore_record(
			f->db, &f->run, tr_type, TR_TYPE_LEN, val_of(f, v++),
			RS_BENCH_VAL_LEN, NULL, 0, RS_TRACE_NONE, &root);

		for (int c = 0; rc == 0 && c < 3; c++) {
			rc = rs_tracestore_record(f->db, &f->run, tr_type,
						  TR_TYPE_LEN, val_of(f, v++),
						  RS_BENCH_VAL_LEN, NULL, 0,
						  root, &child);
			for (int g = 0; rc == 0 && g < 3; g++)
				rc = rs_tracestore_record(
					f->db, &f->run, tr_type, TR_TYPE_LEN,
					val_of(f, v++), RS_BENCH_VAL_LEN, NULL,
					0, child, NULL);
		}
		if (rc < 0)
			return rc;
		f->roots[r] = root;
	}
	return 0;
}

static int count_node(const rs_trace *t, unsigned depth, void *ctx)
{
	size_t *n = ctx;

	*n += 1 +
	      (depth > 2 || t->payload.len != RS_BENCH_VAL_LEN) * PRIM_EVENTS;
	return 0;
}

static int op_trace_tree(pfix *f)
{
	size_t n = 0;
	int rc = rs_tracestore_get_tree(f->db, &f->run,
					f->roots[f->ops % PRIM_TREES], 16,
					count_node, &n);

	if (RS_BENCH_UNLIKELY(rc == 0 && n != PRIM_TREE_NODES))
		return RS_ECORRUPT;
	return rc;
}

/* ---- RunIndex ---- */

static int op_ri_create(pfix *f)
{
	rs_runindex_create_options o = RS_RUNINDEX_CREATE_OPTIONS_INIT;

	o.id = &f->ids[f->pos++];
	return rs_runindex_create(f->db, &o, NULL);
}

/* runindex_create's rotation: delete every run registered since the last
 * one, then register the same ids again. */
static int rotate_ri_create(pfix *f)
{
	for (size_t i = 0; i < f->pos; i++) {
		int rc = rs_runindex_delete(f->db, &f->ids[i]);

		if (rc < 0)
			return rc;
	}
	f->pos = 0;
	return 0;
}

static int setup_ri_runs(pfix *f)
{
	rs_runindex_create_options o = RS_RUNINDEX_CREATE_OPTIONS_INIT;

	for (size_t i = 0; i < PRIM_HOT; i++) {
		int rc;

		o.id = &f->ids[i];
		if ((rc = rs_runindex_create(f->db, &o, NULL)) < 0)
			return rc;
		f->stat[i] = RS_RUN_ACTIVE;
	}
	return 0;
}

static int op_ri_transition(pfix *f)
{
	uint32_t i = hot_next(f);
	rs_run_status to =
		f->stat[i] == RS_RUN_ACTIVE ? RS_RUN_PAUSED : RS_RUN_ACTIVE;
	int rc = rs_runindex_transition(f->db, &f->ids[i], to, NULL);

	if (rc == 0)
		f->stat[i] = (unsigned char)to;
	return rc;
}

static int op_ri_lifecycle(pfix *f)
{
	rs_runindex_create_options o = RS_RUNINDEX_CREATE_OPTIONS_INIT;
	const rs_run_id *id = &f->ids[f->ops % PRIM_HOT];
	int rc;

	o.id = id;
	if ((rc = rs_runindex_create(f->db, &o, NULL)) < 0 ||
	    (rc = rs_runindex_transition(f->db, id, RS_RUN_COMPLETED, NULL)) <
		    0 ||
	    (rc = rs_runindex_transition(f->db, id, RS_RUN_ARCHIVED, NULL)) < 0)
		return rc;
	return rs_runindex_delete(f->db, id);
}

/* ---- cross ---- */

typedef struct xctx {
	const void *key;
	const void *val;
} xctx;

static int tx_kv_event(rs_txn *t, void *ctx)
{
	const xctx *x = ctx;
	int rc = rs_txn_kv_put(t, x->key, RS_BENCH_KEY_LEN, x->val,
			       RS_BENCH_VAL_LEN);

	if (rc < 0)
		return rc;
	return rs_txn_eventlog_append(t, ev_type, EV_TYPE_LEN, x->val,
				      RS_BENCH_VAL_LEN, NULL);
}

static int tx_kv_event_state(rs_txn *t, void *ctx)
{
	const xctx *x = ctx;
	int rc = tx_kv_event(t, ctx);

	if (rc < 0)
		return rc;
	return rs_txn_statecell_set(t, cell_state, CELL_STATE_LEN, x->val,
				    RS_BENCH_VAL_LEN, NULL);
}

static int tx_all(rs_txn *t, void *ctx)
{
	const xctx *x = ctx;
	int rc = tx_kv_event_state(t, ctx);

	if (rc < 0)
		return rc;
	return rs_txn_tracestore_record(t, tr_type, TR_TYPE_LEN, x->val,
					RS_BENCH_VAL_LEN, NULL, 0,
					RS_TRACE_NONE, NULL);
}

static inline int cross_op(pfix *f, rs_txn_fn fn)
{
	xctx x = { rs_bench_key(&f->k, hot_next(f)), val_of(f, f->ops) };

	return rs_txn_run(f->db, &f->run, 0, 0, fn, &x);
}

static int op_x_kv_event(pfix *f)
{
	return cross_op(f, tx_kv_event);
}

static int op_x_kv_event_state(pfix *f)
{
	return cross_op(f, tx_kv_event_state);
}

static int op_x_all(pfix *f)
{
	return cross_op(f, tx_all);
}

static int init_state_cell(pfix *f)
{
	return rs_statecell_init(f->db, &f->run, cell_state, CELL_STATE_LEN,
				 val_of(f, 0), RS_BENCH_VAL_LEN, NULL);
}

static int rotate_run_cell(pfix *f)
{
	int rc = rotate_run(f);

	return rc < 0 ? rc : init_state_cell(f);
}

static int fill_snapshot(rs_txn *t, void *ctx)
{
	pfix *f = ctx;
	int rc = 0;

	for (uint32_t i = 0; i < PRIM_HOT && rc == 0; i++) {
		rc = rs_txn_kv_put(t, rs_bench_key(&f->k, i), RS_BENCH_KEY_LEN,
				   val_of(f, i), RS_BENCH_VAL_LEN);
		if (rc == 0)
			rc = rs_txn_eventlog_append(t, ev_type, EV_TYPE_LEN,
						    val_of(f, i),
						    RS_BENCH_VAL_LEN, NULL);
		if (rc == 0)
			rc = rs_txn_tracestore_record(
				t, tr_type, TR_TYPE_LEN, val_of(f, i),
				RS_BENCH_VAL_LEN, NULL, 0, RS_TRACE_NONE, NULL);
	}
	return rc;
}

static int setup_snapshot(pfix *f)
{
	int rc = init_state_cell(f);

	return rc < 0 ? rc : rs_txn_run(f->db, &f->run, 0, 1, fill_snapshot, f);
}

static int op_x_snapshot(pfix *f)
{
	uint32_t i = hot_next(f);
	rs_txn *t;
	rs_bytes v, c;
	rs_trace te;
	uint64_t len, ver;
	int rc = rs_txn_begin(&t, f->db, &f->run, RS_TXN_F_READONLY);

	if (rc < 0)
		return rc;
	if ((rc = rs_txn_kv_get(t, rs_bench_key(&f->k, i), RS_BENCH_KEY_LEN,
				&v)) < 0 ||
	    (rc = rs_txn_eventlog_len(t, &len)) < 0 ||
	    (rc = rs_txn_statecell_read(t, cell_state, CELL_STATE_LEN, &c,
					&ver)) < 0 ||
	    (rc = rs_txn_tracestore_get(t, i, &te)) < 0) {
		rs_txn_abort(t);
		return rc;
	}
	if (RS_BENCH_UNLIKELY(v.len != RS_BENCH_VAL_LEN || len != PRIM_HOT ||
			      c.len != RS_BENCH_VAL_LEN || te.id != i)) {
		rs_txn_abort(t);
		return RS_ECORRUPT;
	}
	return rs_txn_commit(t);
}

/* ---- the driver ---- */

static int prim_step(pfix *f, const pbench *b)
{
	int rc;

	if (b->rotate && f->in_run == PRIM_RUN_CAP) {
		if ((rc = b->rotate(f)) < 0)
			return rc;
		f->in_run = 0;
	}
	rc = b->op(f);
	f->in_run++;
	f->ops++;
	return rc;
}

static int prim_prepare(pfix *f, rs_storage storage, const pbench *b)
{
	int rc;

	if ((rc = pfix_open(f, storage)) < 0)
		return rc;
	if (b->setup && (rc = b->setup(f)) < 0)
		return rc;
	for (size_t w = rs_bench_warmup_ops(PRIM_HOT); w; w--)
		if ((rc = prim_step(f, b)) < 0)
			return rc;
	return 0;
}

static inline void prim_run(rs_bench_state *st, const pbench *b)
{
	rs_storage storage = *(const rs_storage *)rs_bench_arg(st);
	pfix f;
	int rc, bad;

	bad = prim_prepare(&f, storage, b);
	while (!bad && rs_bench_keep_running_batch(st, RS_BENCH_BATCH)) {
		/* PRIM_RUN_CAP is a multiple of the batch: a batch never
		 * crosses a rotation. */
		if (b->rotate && f.in_run == PRIM_RUN_CAP) {
			rs_bench_pause(st);
			if ((rc = b->rotate(&f)) < 0)
				bad = rc;
			f.in_run = 0;
			rs_bench_resume(st);
		}
		for (unsigned j = 0; j < RS_BENCH_BATCH; j++) {
			if (RS_BENCH_UNLIKELY((rc = b->op(&f)) < 0))
				bad = rc;
			f.ops++;
		}
		f.in_run += RS_BENCH_BATCH;
	}
	if (!bad && b->check && (rc = b->check(&f)) < 0)
		bad = rc;
	if (bad)
		rs_bench_skip_with_error(st, rs_strerror(bad));
	rs_bench_items_processed(st, rs_bench_iterations(st));
	pfix_close(&f);
}

#define PB(id, ...)                                    \
	static const pbench pb_##id = { __VA_ARGS__ }; \
	static void bm_##id(rs_bench_state *st)        \
	{                                              \
		prim_run(st, &pb_##id);                \
	}

PB(ev_append, .op = op_ev_append, .rotate = rotate_run)
PB(ev_read, .setup = setup_ev_log, .op = op_ev_read)
PB(ev_range, .setup = setup_ev_log, .op = op_ev_range)
PB(ev_verify, .setup = setup_ev_chain, .op = op_ev_verify)
PB(cell_init, .op = op_cell_init, .rotate = rotate_run)
PB(cell_read, .setup = setup_cells, .op = op_cell_read)
PB(cell_cas, .setup = setup_cells, .op = op_cell_cas)
PB(cell_transition, .setup = setup_counters, .op = op_cell_transition,
   .check = check_counters)
PB(trace_min, .op = op_trace_min, .rotate = rotate_run)
PB(trace_3tags, .op = op_trace_3tags, .rotate = rotate_run)
PB(trace_query, .setup = setup_trace_types, .op = op_trace_query)
PB(trace_tree, .setup = setup_trees, .op = op_trace_tree)
PB(ri_create, .op = op_ri_create, .rotate = rotate_ri_create)
PB(ri_transition, .setup = setup_ri_runs, .op = op_ri_transition)
PB(ri_lifecycle, .op = op_ri_lifecycle)
PB(x_kv_event, .op = op_x_kv_event, .rotate = rotate_run)
PB(x_kv_event_state, .setup = init_state_cell, .op = op_x_kv_event_state,
   .rotate = rotate_run_cell)
PB(x_all, .setup = init_state_cell, .op = op_x_all, .rotate = rotate_run_cell)
PB(x_snapshot, .setup = setup_snapshot, .op = op_x_snapshot)

/* ---- probes: latency with one clock read per operation ---- */

#define PROBE_SAMPLES 100000u

static void prim_probe(const pbench *b, const char *prefix)
{
	size_t n = rs_bench_scaled(PROBE_SAMPLES);
	uint64_t *s = malloc(n * sizeof(*s));
	uint64_t t0, t1;
	pfix f;
	int bad;

	if (!s)
		return;
	bad = prim_prepare(&f, RS_STORAGE_SHARDED, b) < 0;
	t0 = rs_bench_now_ns();
	for (size_t i = 0; i < n && !bad; i++) {
		if (b->rotate && f.in_run == PRIM_RUN_CAP) {
			bad |= b->rotate(&f) < 0;
			f.in_run = 0;
			t0 = rs_bench_now_ns(); /* the rotation is not timed */
		}
		bad |= b->op(&f) < 0;
		f.ops++;
		f.in_run++;
		t1 = rs_bench_now_ns();
		s[i] = t1 - t0;
		t0 = t1;
	}
	if (!bad)
		rs_bench_record_latency(prefix, s, n);
	pfix_close(&f);
	free(s);
}

#define PROBE(id, bench)                            \
	static void probe_##id(void)                \
	{                                           \
		prim_probe(&pb_##id, "lat." bench); \
	}

PROBE(ev_append, "eventlog_append")
PROBE(ev_read, "eventlog_read")
PROBE(cell_read, "statecell_read")
PROBE(cell_cas, "statecell_cas")
PROBE(cell_transition, "statecell_transition")
PROBE(trace_3tags, "tracestore_record_3_tags")
PROBE(ri_transition, "runindex_transition")
PROBE(x_all, "cross_txn_all_primitives")

static void reg_both(const char *name, rs_bench_fn fn)
{
	static const rs_storage stores[2] = { RS_STORAGE_SHARDED,
					      RS_STORAGE_UNIFIED };
	char full[128];

	snprintf(full, sizeof(full), "%s" RS_BENCH_UNIFIED_SUFFIX, name);
	RS_BENCH(name, fn, (void *)&stores[0]);
	RS_BENCH(full, fn, (void *)&stores[1]);
}

void rs_bench_suite_prim(void)
{
	static const struct {
		const char *name;
		rs_bench_fn fn;
	} b[] = {
		{ "eventlog_append", bm_ev_append },
		{ "eventlog_read", bm_ev_read },
		{ "eventlog_read_range/100", bm_ev_range },
		{ "eventlog_verify_chain/1000", bm_ev_verify },
		{ "statecell_init", bm_cell_init },
		{ "statecell_read", bm_cell_read },
		{ "statecell_cas", bm_cell_cas },
		{ "statecell_transition", bm_cell_transition },
		{ "tracestore_record_minimal", bm_trace_min },
		{ "tracestore_record_3_tags", bm_trace_3tags },
		{ "tracestore_query_by_type", bm_trace_query },
		{ "tracestore_get_tree", bm_trace_tree },
		{ "runindex_create", bm_ri_create },
		{ "runindex_transition", bm_ri_transition },
		{ "runindex_lifecycle", bm_ri_lifecycle },
		{ "cross_txn_kv_event", bm_x_kv_event },
		{ "cross_txn_kv_event_state", bm_x_kv_event_state },
		{ "cross_txn_all_primitives", bm_x_all },
		{ "cross_snapshot_read", bm_x_snapshot },
	};
	static const struct {
		const char *bench;
		rs_bench_probe_fn fn;
	} p[] = {
		{ "eventlog_append", probe_ev_append },
		{ "eventlog_read", probe_ev_read },
		{ "statecell_read", probe_cell_read },
		{ "statecell_cas", probe_cell_cas },
		{ "statecell_transition", probe_cell_transition },
		{ "tracestore_record_3_tags", probe_trace_3tags },
		{ "runindex_transition", probe_ri_transition },
		{ "cross_txn_all_primitives", probe_x_all },
	};
	char name[128];

	for (size_t i = 0; i < sizeof(b) / sizeof(b[0]); i++)
		reg_both(b[i].name, b[i].fn);
	for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++) {
		snprintf(name, sizeof(name), "%s latency", p[i].bench);
		rs_bench_register_probe(name, p[i].bench, p[i].fn);
	}
}
