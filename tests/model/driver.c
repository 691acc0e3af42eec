/* SPDX-License-Identifier: MIT */
#include "model/driver.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- failures ---- */

static bool md_fail(md *m, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static bool md_fail(md *m, int line, const char *fmt, ...)
{
	char msg[1536];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(m->why, sizeof(m->why), "step %ld (driver.c:%d): %s", m->step,
		 line, msg);
	return false;
}

#define FAIL(m, ...) return md_fail((m), __LINE__, __VA_ARGS__)
#define CHK(m, cond, ...)                     \
	do {                                  \
		if (!(cond))                  \
			FAIL(m, __VA_ARGS__); \
	} while (0)
/* A return code and the model's. */
#define CHK_RC(m, got, want, what)                                    \
	do {                                                          \
		int g_ = (got), w_ = (want);                          \
		(m)->calls++;                                         \
		CHK(m, g_ == w_, "%s: got %s, model says %s", (what), \
		    rs_errname(g_), rs_errname(w_));                  \
	} while (0)

static uint64_t rnd(md *m, uint64_t n)
{
	return sm_rnd(&m->rng, n);
}

static rs_db *db_of(md *m)
{
	return *m->dbp;
}

static void say(md *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(md *m, const char *fmt, ...)
{
	va_list ap;

	if (!m->verbose)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "[w%u step %ld] ", m->cfg.worker, m->step);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ---- growable id lists ---- */

typedef struct idv {
	uint64_t *v;
	size_t n, cap;
} idv;

static void idv_push(idv *l, uint64_t x)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 32;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (!l->v)
			abort();
	}
	l->v[l->n++] = x;
}

/* ---- slots, ids, registry ---- */

static rs_run_id slot_id(const md *m, unsigned s)
{
	rs_run_id id;

	memset(&id, 0, sizeof(id));
	id.bytes[0] = 0x52;
	id.bytes[1] = (uint8_t)m->cfg.worker;
	id.bytes[2] = (uint8_t)s;
	memcpy(id.bytes + 3, &m->gen[s], sizeof(m->gen[s]));
	id.bytes[15] = 0x4d;
	return id;
}

static bool own_id(const md *m, const rs_run_id *id)
{
	return id->bytes[0] == 0x52 && id->bytes[1] == m->cfg.worker &&
	       id->bytes[15] == 0x4d;
}

static md_reg *reg_find(md *m, const rs_run_id *id)
{
	for (size_t i = 0; i < m->nregs; i++)
		if (!memcmp(&m->regs[i].id, id, sizeof(*id)))
			return &m->regs[i];
	return NULL;
}

static md_reg *reg_by_name(md *m, const char *name)
{
	for (size_t i = 0; i < m->nregs; i++)
		if (m->regs[i].name[0] && !strcmp(m->regs[i].name, name))
			return &m->regs[i];
	return NULL;
}

rs_db_options md_options(const md_cfg *cfg, const char *dir)
{
	rs_db_options o = RS_DB_OPTIONS_INIT;

	o.durability = cfg->mode;
	o.storage = cfg->storage;
	o.path = cfg->mode == RS_DURABILITY_INMEMORY ? NULL : dir;
	o.checkpoint_wal_bytes =
		cfg->ckpt_bytes ? cfg->ckpt_bytes : RS_CHECKPOINT_NEVER;
	o.segment_bytes = cfg->segment_bytes;
	return o;
}

void md_init(md *m, const md_cfg *cfg, rs_db **dbp, const char *dir,
	     uint64_t seed)
{
	memset(m, 0, sizeof(*m));
	m->cfg = *cfg;
	m->dbp = dbp;
	m->dir = dir;
	m->rng = seed;
	m->verbose = getenv("RS_MODEL_TRACE") != NULL;
	for (unsigned s = 0; s < MD_SLOTS; s++) {
		rs_run_id id = slot_id(m, s);

		sm_run_init(&m->runs[s], &id);
		m->runs[s].known = true;
		m->floor[s] = cfg->shared ? 0 : UINT64_MAX;
	}
}

void md_free(md *m)
{
	for (unsigned s = 0; s < MD_SLOTS; s++)
		sm_run_free(&m->runs[s]);
	free(m->regs);
	m->regs = NULL;
}

static unsigned pick(md *m)
{
	return (unsigned)rnd(m, MD_SLOTS);
}

static bool check_version(md *m, const sm_run *r)
{
	uint64_t v = UINT64_MAX;

	CHK_RC(m, rs_db_run_version(db_of(m), &r->id, &v), 0, "run_version");
	CHK(m, v == r->version, "run version %" PRIu64 ", model %" PRIu64, v,
	    r->version);
	return true;
}

/*
 * Before slot s's life begins, its base follows the library's (a delete
 * moves the drop mark). In a shared database other workers' deletes move
 * it at any time, so the life begins now, with a KV put: its version
 * says the base.
 */
static bool settle(md *m, unsigned s)
{
	sm_run *r = &m->runs[s];
	uint64_t v = 0, floor = m->floor[s] == UINT64_MAX ? 0 : m->floor[s];
	char why[512];
	sm_res got, want;
	size_t ns = 0;
	sm_op op;

	if (!sm_unborn(r))
		return true;
	if (!m->cfg.shared || r->archived) {
		CHK(m, sm_rebase(db_of(m), r, m->floor[s], why, sizeof(why)),
		    "slot %u: %s", s, why);
		if (r->base > m->top_base)
			m->top_base = r->base;
		return true;
	}
	memset(&op, 0, sizeof(op));
	op.kind = SM_KV_PUT;
	op.klen = (size_t)snprintf((char *)op.key, SM_TXT, "born");
	sm_exec(db_of(m), &r->id, NULL, &op, &got);
	CHK_RC(m, got.rc, 0, "kv_put (a life begins)");
	CHK_RC(m, rs_db_run_version(db_of(m), &r->id, &v), 0, "run_version");
	CHK(m, v > floor,
	    "slot %u: a life begins at %" PRIu64 ", below %" PRIu64, s, v - 1,
	    floor);
	r->base = r->version = v - 1;
	if (r->base > m->top_base)
		m->top_base = r->base;
	sm_apply(r, &op, false, &ns, &want);
	return true;
}

static bool settle_all(md *m)
{
	for (unsigned s = 0; s < MD_SLOTS; s++)
		if (!settle(m, s))
			return false;
	return true;
}

static bool learn(md *m, sm_run *r, size_t ev0, size_t tr0)
{
	char why[512];

	CHK(m, sm_learn(db_of(m), r, ev0, tr0, why, sizeof(why)), "%s", why);
	return true;
}

/* ---- one-shot writes ---- */

static bool step_write(md *m)
{
	sm_run *r = &m->runs[pick(m)];
	size_t ev0 = r->nev, tr0 = r->ntr, ns = 0;
	sm_res got, want;
	char why[512];
	sm_op op;

	sm_gen_write(r, &m->rng, &op);
	say(m, "one-shot %s", sm_kind_name(op.kind));
	sm_exec(db_of(m), &r->id, NULL, &op, &got);
	sm_apply(r, &op, false, &ns, &want);
	m->calls++;
	CHK(m, sm_same_res(&op, &got, &want, false, why, sizeof(why)), "%s",
	    why);
	return learn(m, r, ev0, tr0) && check_version(m, r);
}

/* ---- reads: KV ---- */

/* Where reads go: one-shot on a run, or a transaction and its view. */
typedef struct tgt {
	md *m;
	const sm_run *r; /* the model: the run, or the transaction's view */
	rs_txn *txn;
	/* What a read-write transaction has read (for the interference
	 * step): point-read KV keys and cell names, and whether it read
	 * KV or cell ranges, the event log (len: the head) or traces. */
	rs_model kv_pts, cell_pts;
	/* KV keys it wrote: reading them reads its own write, which need
	 * not join the read set. */
	rs_model kv_w;
	bool kv_ranged, cell_ranged, ev_read, ev_len, tr_read;
} tgt;

static void gen_kv_key(md *m, const rs_model *kv, unsigned char *k,
		       size_t *klen)
{
	if (kv->n && rnd(m, 3)) {
		const rs_m_ent *e = &kv->e[rnd(m, kv->n)];

		memcpy(k, e->k, e->klen);
		*klen = e->klen;
		if (rnd(m, 4) == 0 && *klen < RS_KEY_MAX)
			k[(*klen)++] = 'a';
		return;
	}
	*klen = 1 + rnd(m, 3);
	for (size_t i = 0; i < *klen; i++)
		k[i] = "\x00"
		       "abc\xff"[rnd(m, 5)];
}

/* A bound near the model's keys (possibly empty). */
static size_t gen_bound(md *m, const rs_model *kv, unsigned char *b)
{
	size_t n;

	if (rnd(m, 6) == 0)
		return 0;
	gen_kv_key(m, kv, b, &n);
	if (n > 1 && rnd(m, 3) == 0)
		n--;
	return n;
}

static bool kv_get(tgt *t)
{
	md *m = t->m;
	unsigned char k[RS_KEY_MAX + 1], buf[64];
	size_t klen, cap = rnd(m, 3) ? sizeof(buf) : rnd(m, 6), len = 0;
	long at;
	int rc, want;

	gen_kv_key(m, &t->r->kv, k, &klen);
	at = rs_m_find(&t->r->kv, k, klen);
	if (t->txn) {
		rs_bytes v = { NULL, 0 };
		bool ex = false;

		if (rs_m_find(&t->kv_w, k, klen) < 0)
			rs_m_put(&t->kv_pts, k, klen, NULL, 0);
		if (rnd(m, 4) == 0) {
			CHK_RC(m, rs_txn_kv_exists(t->txn, k, klen, &ex), 0,
			       "txn_kv_exists");
			CHK(m, ex == (at >= 0), "txn exists %d", ex);
			return true;
		}
		rc = rs_txn_kv_get(t->txn, k, klen, &v);
		CHK_RC(m, rc, at >= 0 ? 0 : RS_ENOTFOUND, "txn_kv_get");
		if (at >= 0)
			CHK(m,
			    v.len == t->r->kv.e[at].vlen &&
				    (!v.len ||
				     !memcmp(v.data, t->r->kv.e[at].v, v.len)),
			    "txn_kv_get: value differs");
		return true;
	}
	if (rnd(m, 4) == 0) {
		bool ex = false;

		CHK_RC(m, rs_kv_exists(db_of(m), &t->r->id, k, klen, &ex), 0,
		       "kv_exists");
		CHK(m, ex == (at >= 0), "kv_exists %d", ex);
		return true;
	}
	rc = rs_kv_get(db_of(m), &t->r->id, k, klen, cap ? buf : NULL, cap,
		       &len);
	want = at < 0 ? RS_ENOTFOUND
		      : (t->r->kv.e[at].vlen > cap ? RS_ENOSPC : 0);
	CHK_RC(m, rc, want, "kv_get");
	if (at >= 0) {
		CHK(m, len == t->r->kv.e[at].vlen, "kv_get: length %zu", len);
		CHK(m, rc || !len || !memcmp(buf, t->r->kv.e[at].v, len),
		    "kv_get: value differs");
	}
	return true;
}

static bool kv_get_many(tgt *t)
{
	md *m = t->m;
	unsigned char keys[4][8], buf[256];
	rs_bytes kb[4], vals[4];
	size_t n = 1 + rnd(m, 4), needed = 0;

	for (size_t i = 0; i < n; i++) {
		size_t kl;
		unsigned char k[RS_KEY_MAX + 1];

		do
			gen_kv_key(m, &t->r->kv, k, &kl);
		while (kl > sizeof(keys[i]));
		memcpy(keys[i], k, kl);
		kb[i].data = keys[i];
		kb[i].len = kl;
		if (t->txn && rs_m_find(&t->kv_w, k, kl) < 0)
			rs_m_put(&t->kv_pts, k, kl, NULL, 0);
	}
	if (t->txn)
		CHK_RC(m, rs_txn_kv_get_many(t->txn, n, kb, vals), 0,
		       "txn_kv_get_many");
	else
		CHK_RC(m,
		       rs_kv_get_many(db_of(m), &t->r->id, n, kb, vals, buf,
				      sizeof(buf), &needed),
		       0, "kv_get_many");
	for (size_t i = 0; i < n; i++) {
		long at = rs_m_find(&t->r->kv, kb[i].data, kb[i].len);

		if (at < 0) {
			CHK(m, vals[i].data == NULL, "get_many %zu: present",
			    i);
			continue;
		}
		CHK(m,
		    vals[i].data && vals[i].len == t->r->kv.e[at].vlen &&
			    (!vals[i].len ||
			     !memcmp(vals[i].data, t->r->kv.e[at].v,
				     vals[i].len)),
		    "get_many %zu: value differs", i);
	}
	return true;
}

static bool kv_scan(tgt *t)
{
	md *m = t->m;
	unsigned char s[RS_KEY_MAX + 1], e[RS_KEY_MAX + 1], res[RS_KEY_MAX + 1];
	rs_m_scan sc;
	rs_scan_options o;
	rs_model got, want;
	bool more = false, want_more = false, ask = rnd(m, 2);
	char why[512];
	int rc;

	memset(&sc, 0, sizeof(sc));
	if (rnd(m, 2)) {
		sc.start_len = gen_bound(m, &t->r->kv, s);
		sc.start = s;
	}
	if (rnd(m, 2)) {
		sc.end_len = gen_bound(m, &t->r->kv, e);
		sc.end = e;
	}
	if (rnd(m, 3) == 0) {
		sc.resume_len = gen_bound(m, &t->r->kv, res);
		sc.resume = res;
	}
	sc.reverse = rnd(m, 2);
	sc.limit = rnd(m, 2) ? 0 : 1 + rnd(m, 4);
	rs_m_scan_options(&sc, &o);
	rs_m_init(&got);
	rs_m_init(&want);
	rs_m_expect_scan(&t->r->kv, &sc, &want, &want_more);
	rc = t->txn ? rs_txn_kv_scan(t->txn, &o, ask ? &more : NULL,
				     rs_m_collect_cb, &got)
		    : rs_kv_scan(db_of(m), &t->r->id, &o, ask ? &more : NULL,
				 rs_m_collect_cb, &got);
	t->kv_ranged = true;
	m->calls++;
	bool ok = rc == 0 && rs_m_same(&got, &want, why, sizeof(why)) &&
		  (!ask || more == want_more);
	rs_m_free(&got);
	rs_m_free(&want);
	CHK(m, ok, "%skv_scan (%s, limit %zu): rc %s, %s", t->txn ? "txn_" : "",
	    sc.reverse ? "reverse" : "forward", sc.limit, rs_errname(rc),
	    rc ? "" : why);
	return true;
}

static bool kv_list(tgt *t)
{
	md *m = t->m;
	unsigned char p[RS_KEY_MAX + 1], a[RS_KEY_MAX + 1];
	size_t plen = 0, alen = 0, limit = rnd(m, 4);
	rs_model got, want;
	bool more = false, want_more = false, use_after = rnd(m, 2);
	char why[512];
	int rc;

	if (rnd(m, 3)) {
		gen_kv_key(m, &t->r->kv, p, &plen);
		plen = rnd(m, plen + 1);
	}
	if (use_after)
		gen_kv_key(m, &t->r->kv, a, &alen);
	rs_m_init(&got);
	rs_m_init(&want);
	rs_m_expect_list(&t->r->kv, p, plen, use_after ? a : NULL, alen, limit,
			 &want, &want_more);
	rc = t->txn ? rs_txn_kv_list(t->txn, plen ? p : NULL, plen,
				     use_after ? a : NULL, alen, limit, &more,
				     rs_m_collect_cb, &got)
		    : rs_kv_list(db_of(m), &t->r->id, plen ? p : NULL, plen,
				 use_after ? a : NULL, alen, limit, &more,
				 rs_m_collect_cb, &got);
	t->kv_ranged = true;
	m->calls++;
	bool ok = rc == 0 && rs_m_same(&got, &want, why, sizeof(why)) &&
		  more == want_more;
	rs_m_free(&got);
	rs_m_free(&want);
	CHK(m, ok, "kv_list: rc %s, %s (more %d, model %d)", rs_errname(rc),
	    rc ? "" : why, more, want_more);
	return true;
}

static bool kv_cursor(tgt *t)
{
	md *m = t->m;
	rs_cursor *cur = NULL;
	rs_m_cur mc;
	unsigned moves = 1 + (unsigned)rnd(m, 6);

	memset(&mc, 0, sizeof(mc));
	if (t->txn)
		CHK_RC(m, rs_txn_kv_cursor_open(t->txn, &cur), 0,
		       "txn_kv_cursor_open");
	else
		CHK_RC(m, rs_kv_cursor_open(db_of(m), &t->r->id, &cur), 0,
		       "kv_cursor_open");
	t->kv_ranged = true;
	for (unsigned i = 0; i < moves; i++) {
		unsigned char k[RS_KEY_MAX + 1];
		size_t klen = 0, at = 0;
		rs_bytes gk = { NULL, 0 }, gv = { NULL, 0 };
		unsigned what = (unsigned)rnd(m, 5);
		int rc, want;

		switch (what) {
		case 0:
		case 1:
			gen_kv_key(m, &t->r->kv, k, &klen);
			rc = rs_cursor_seek(cur, k, klen,
					    what ? RS_SEEK_LE : RS_SEEK_GE, &gk,
					    &gv);
			want = rs_m_cur_seek(&mc, &t->r->kv, k, klen, what,
					     &at);
			break;
		case 2: {
			bool last = rnd(m, 2);

			gen_kv_key(m, &t->r->kv, k, &klen);
			klen = rnd(m, 2) ? rnd(m, klen + 1) : 0;
			rc = last ? rs_cursor_last(cur, klen ? k : NULL, klen,
						   &gk, &gv)
				  : rs_cursor_first(cur, klen ? k : NULL, klen,
						    &gk, &gv);
			want = rs_m_cur_in(&mc, &t->r->kv, k, klen, last, &at);
			break;
		}
		default: {
			int dir = what == 3 ? 1 : -1;

			rc = dir > 0 ? rs_cursor_next(cur, &gk, &gv)
				     : rs_cursor_prev(cur, &gk, &gv);
			want = rs_m_cur_step(&mc, &t->r->kv, dir, &at);
			break;
		}
		}
		m->calls++;
		if (rc != want) {
			rs_cursor_close(cur);
			FAIL(m, "cursor move %u (%u): got %s, model %s", i,
			     what, rs_errname(rc), rs_errname(want));
		}
		if (rc == 0) {
			const rs_m_ent *e = &t->r->kv.e[at];

			if (gk.len != e->klen ||
			    memcmp(gk.data, e->k, e->klen) ||
			    gv.len != e->vlen ||
			    (e->vlen && memcmp(gv.data, e->v, e->vlen))) {
				rs_cursor_close(cur);
				FAIL(m, "cursor move %u (%u): entry differs", i,
				     what);
			}
		}
	}
	rs_cursor_close(cur);
	return true;
}

/* ---- reads: EventLog ---- */

static bool same_event(md *m, const rs_event *ev, const sm_event *e,
		       uint64_t seq, const char *what)
{
	CHK(m, ev->seq == seq, "%s: seq %" PRIu64 ", model %" PRIu64, what,
	    ev->seq, seq);
	CHK(m,
	    ev->type.len == strlen(e->type) &&
		    !memcmp(ev->type.data, e->type, ev->type.len) &&
		    ev->payload.len == e->plen &&
		    (!e->plen || !memcmp(ev->payload.data, e->pl, e->plen)),
	    "%s %" PRIu64 ": type or payload differ", what, seq);
	CHK(m,
	    (ev->flags & RS_EVENT_F_PENDING) ==
		    (e->pending ? RS_EVENT_F_PENDING : 0u),
	    "%s %" PRIu64 ": pending flag %u", what, seq, ev->flags);
	if (!e->pending)
		CHK(m,
		    ev->timestamp_ns == e->ts &&
			    !memcmp(ev->hash, e->hash, RS_HASH_LEN),
		    "%s %" PRIu64 ": timestamp or hash differ", what, seq);
	return true;
}

struct ev_col {
	idv ids;
};

static int ev_col_cb(const rs_event *ev, void *ctx)
{
	idv_push(&((struct ev_col *)ctx)->ids, ev->seq);
	return 0;
}

static size_t committed_events(const sm_run *r)
{
	size_t n = 0;

	while (n < r->nev && !r->ev[n].pending)
		n++;
	return n;
}

/* Pages through a query returning ids, checking each page and `more`
 * against want (the ids, in order). */
typedef int (*page_fn)(tgt *t, const void *q, uint64_t *cursor, size_t limit,
		       bool *more, idv *out);

static bool paged(tgt *t, const char *what, page_fn fn, const void *q,
		  const idv *want, bool allow_limit)
{
	md *m = t->m;
	size_t limit = allow_limit ? rnd(m, 4) : 0, pos = 0;
	uint64_t cursor = 0;

	for (size_t page = 0;; page++) {
		idv got = { NULL, 0, 0 };
		bool more = false;
		size_t exp;
		int rc = fn(t, q, &cursor, limit, &more, &got);

		m->calls++;
		exp = want->n - pos;
		if (limit && exp > limit)
			exp = limit;
		if (rc || got.n != exp ||
		    (exp &&
		     memcmp(got.v, want->v + pos, exp * sizeof(*got.v)))) {
			free(got.v);
			FAIL(m,
			     "%s page %zu (limit %zu): rc %s, %zu ids, model "
			     "%zu",
			     what, page, limit, rs_errname(rc), got.n, exp);
		}
		free(got.v);
		pos += exp;
		CHK(m, more == (pos < want->n), "%s page %zu: more %d", what,
		    page, more);
		if (!more)
			return true;
		CHK(m, page <= want->n, "%s: pages never end", what);
	}
}

static int ev_by_type_page(tgt *t, const void *q, uint64_t *cursor,
			   size_t limit, bool *more, idv *out)
{
	const char *type = q;
	struct ev_col c = { *out };
	int rc = t->txn ? rs_txn_eventlog_read_by_type(
				  t->txn, type, strlen(type), cursor, limit,
				  more, ev_col_cb, &c)
			: rs_eventlog_read_by_type(db_of(t->m), &t->r->id, type,
						   strlen(type), cursor, limit,
						   more, ev_col_cb, &c);

	*out = c.ids;
	return rc;
}

/* A sequence to read at: mostly of the log or just past it, sometimes
 * one of an earlier life (below the base). */
static uint64_t ev_seq(md *m, const sm_run *r)
{
	if (r->base && rnd(m, 8) == 0)
		return r->base - 1 - rnd(m, r->base < 4 ? r->base : 4);
	return r->base + rnd(m, r->nev + 2);
}

static bool ev_reads(tgt *t)
{
	md *m = t->m;
	const sm_run *r = t->r;
	unsigned what = (unsigned)rnd(m, 6);
	unsigned char buf[256];
	rs_event ev;
	int rc;

	t->ev_read = true;
	switch (what) {
	case 0: {
		uint64_t seq = ev_seq(m, r);
		size_t cap = rnd(m, 4) ? sizeof(buf) : rnd(m, 8), need = 0;
		int want = seq < r->base || seq - r->base >= r->nev
				   ? RS_ENOTFOUND
				   : 0;

		if (t->txn) {
			rc = rs_txn_eventlog_read(t->txn, seq, &ev);
		} else {
			rc = rs_eventlog_read(db_of(m), &r->id, seq, &ev,
					      cap ? buf : NULL, cap, &need);
			if (!want && need > cap)
				want = RS_ENOSPC;
		}
		CHK_RC(m, rc, want, "eventlog_read");
		return rc ||
		       same_event(m, &ev, &r->ev[seq - r->base], seq, "read");
	}
	case 1: {
		uint64_t s = ev_seq(m, r),
			 e = rnd(m, 3) ? UINT64_MAX : s + rnd(m, 4);
		idv want = { NULL, 0, 0 };
		struct ev_col c = { { NULL, 0, 0 } };

		for (uint64_t i = s > r->base ? s : r->base;
		     i - r->base < r->nev && i < e; i++)
			idv_push(&want, i);
		rc = t->txn ? rs_txn_eventlog_read_range(t->txn, s, e,
							 ev_col_cb, &c)
			    : rs_eventlog_read_range(db_of(m), &r->id, s, e,
						     ev_col_cb, &c);
		m->calls++;
		bool ok = rc == 0 && c.ids.n == want.n &&
			  (!want.n ||
			   !memcmp(c.ids.v, want.v, want.n * sizeof(uint64_t)));
		free(want.v);
		free(c.ids.v);
		CHK(m, ok, "read_range [%" PRIu64 ", %" PRIu64 "): %s", s, e,
		    rs_errname(rc));
		return true;
	}
	case 2: {
		uint64_t len = 0;
		uint8_t h[RS_HASH_LEN];
		size_t nc = committed_events(r);

		if (t->txn) {
			t->ev_len = true;
			CHK_RC(m, rs_txn_eventlog_len(t->txn, &len), 0,
			       "txn_eventlog_len");
			CHK(m, len == r->base + r->nev, "txn len %" PRIu64,
			    len);
			CHK_RC(m, rs_txn_eventlog_head(t->txn, &len, h), 0,
			       "txn_eventlog_head");
		} else {
			CHK_RC(m, rs_eventlog_len(db_of(m), &r->id, &len), 0,
			       "eventlog_len");
			CHK(m, len == r->base + r->nev, "len %" PRIu64, len);
			CHK_RC(m, rs_eventlog_head(db_of(m), &r->id, &len, h),
			       0, "eventlog_head");
		}
		CHK(m, len == r->base + nc,
		    "head length %" PRIu64 ", model %zu from %" PRIu64, len, nc,
		    r->base);
		if (nc)
			CHK(m, !memcmp(h, r->ev[nc - 1].hash, RS_HASH_LEN),
			    "head hash differs");
		return true;
	}
	case 3: {
		uint64_t bad = 0;

		rc = t->txn ? rs_txn_eventlog_verify_chain(t->txn, &bad)
			    : rs_eventlog_verify_chain(db_of(m), &r->id, &bad);
		CHK_RC(m, rc, 0, "verify_chain");
		return true;
	}
	default: {
		char type[SM_TXT];
		idv want = { NULL, 0, 0 };
		bool ok;

		snprintf(type, sizeof(type), "e%u", (unsigned)rnd(m, 4));
		for (size_t i = 0; i < r->nev; i++)
			if (!strcmp(r->ev[i].type, type))
				idv_push(&want, r->base + i);
		ok = paged(t, "read_by_type", ev_by_type_page, type, &want,
			   true);
		free(want.v);
		return ok;
	}
	}
}

/* ---- reads: StateCell ---- */

static int cell_col_cb(rs_bytes name, rs_bytes value, uint64_t version,
		       void *ctx)
{
	unsigned char buf[8 + SM_VAL];

	if (value.len > SM_VAL)
		return 99;
	for (int i = 7; i >= 0; i--)
		buf[7 - i] = (unsigned char)(version >> (8 * i));
	if (value.len)
		memcpy(buf + 8, value.data, value.len);
	rs_m_append(ctx, name.data, name.len, buf, 8 + value.len);
	return 0;
}

static void gen_name(md *m, const sm_run *r, char *name)
{
	if (r->cells.n && rnd(m, 3)) {
		const rs_m_ent *e = &r->cells.e[rnd(m, r->cells.n)];

		memcpy(name, e->k, e->klen);
		name[e->klen] = '\0';
		return;
	}
	snprintf(name, SM_TXT, "c%u", (unsigned)rnd(m, 8));
}

static bool cell_reads(tgt *t)
{
	md *m = t->m;
	const sm_run *r = t->r;
	unsigned what = (unsigned)rnd(m, 4);
	char name[SM_TXT];
	rs_model got, want;
	bool more = false, want_more = false, ok;
	char why[512];
	int rc;

	gen_name(m, r, name);
	if (what <= 1) {
		long at = rs_m_find(&r->cells, name, strlen(name));
		uint64_t ver = 0, mver = 0;
		size_t mlen = 0;

		if (at >= 0) {
			for (int i = 0; i < 8; i++)
				mver = mver << 8 | r->cells.e[at].v[i];
			mlen = r->cells.e[at].vlen - 8;
		}
		if (t->txn) {
			rs_bytes v = { NULL, 0 };

			rs_m_put(&t->cell_pts, name, strlen(name), NULL, 0);
			rc = rs_txn_statecell_read(t->txn, name, strlen(name),
						   &v, &ver);
			CHK_RC(m, rc, at >= 0 ? 0 : RS_ENOTFOUND,
			       "txn_statecell_read");
			if (!rc)
				CHK(m,
				    ver == mver && v.len == mlen &&
					    (!mlen ||
					     !memcmp(v.data,
						     r->cells.e[at].v + 8,
						     mlen)),
				    "txn cell %s differs", name);
			return true;
		}
		unsigned char buf[SM_VAL];
		size_t cap = rnd(m, 3) ? sizeof(buf) : rnd(m, 4), len = 0;
		int w = at < 0 ? RS_ENOTFOUND : (mlen > cap ? RS_ENOSPC : 0);

		rc = rs_statecell_read(db_of(m), &r->id, name, strlen(name),
				       cap ? buf : NULL, cap, &len, &ver);
		CHK_RC(m, rc, w, "statecell_read");
		if (at >= 0)
			CHK(m, len == mlen, "cell %s length %zu", name, len);
		if (!rc)
			CHK(m,
			    ver == mver &&
				    (!mlen ||
				     !memcmp(buf, r->cells.e[at].v + 8, mlen)),
			    "cell %s differs", name);
		return true;
	}
	rs_m_init(&got);
	rs_m_init(&want);
	t->cell_ranged = true;
	if (what == 2) {
		size_t plen = rnd(m, 2) ? rnd(m, strlen(name) + 1) : 0;
		size_t limit = rnd(m, 4);
		bool after = rnd(m, 2);
		char a[SM_TXT];

		gen_name(m, r, a);
		rs_m_expect_list(&r->cells, name, plen, after ? a : NULL,
				 after ? strlen(a) : 0, limit, &want,
				 &want_more);
		rc = t->txn ? rs_txn_statecell_list(
				      t->txn, plen ? name : NULL, plen,
				      after ? a : NULL, after ? strlen(a) : 0,
				      limit, &more, cell_col_cb, &got)
			    : rs_statecell_list(db_of(m), &r->id,
						plen ? name : NULL, plen,
						after ? a : NULL,
						after ? strlen(a) : 0, limit,
						&more, cell_col_cb, &got);
	} else {
		rs_m_scan sc;
		rs_scan_options o;
		char s[SM_TXT], e[SM_TXT];

		memset(&sc, 0, sizeof(sc));
		gen_name(m, r, s);
		gen_name(m, r, e);
		if (rnd(m, 2)) {
			sc.start = s;
			sc.start_len = strlen(s);
		}
		if (rnd(m, 2)) {
			sc.end = e;
			sc.end_len = strlen(e);
		}
		if (rnd(m, 3) == 0) {
			sc.resume = name;
			sc.resume_len = strlen(name);
		}
		sc.reverse = rnd(m, 2);
		sc.limit = rnd(m, 3);
		rs_m_scan_options(&sc, &o);
		rs_m_expect_scan(&r->cells, &sc, &want, &want_more);
		rc = t->txn ? rs_txn_statecell_scan(t->txn, &o, &more,
						    cell_col_cb, &got)
			    : rs_statecell_scan(db_of(m), &r->id, &o, &more,
						cell_col_cb, &got);
	}
	m->calls++;
	ok = rc == 0 && rs_m_same(&got, &want, why, sizeof(why)) &&
	     more == want_more;
	rs_m_free(&got);
	rs_m_free(&want);
	CHK(m, ok, "cell %s: rc %s, %s (more %d, model %d)",
	    what == 2 ? "list" : "scan", rs_errname(rc), rc ? "" : why, more,
	    want_more);
	return true;
}

/* ---- reads: TraceStore ---- */

static int tr_col_cb(const rs_trace *tr, void *ctx)
{
	idv_push(ctx, tr->id);
	return 0;
}

/* A trace's id as the view names it. */
static uint64_t tr_name(const sm_run *r, size_t i)
{
	return r->tr[i].pending ? r->tr[i].handle : r->base + i;
}

typedef struct trq {
	unsigned kind; /* 0 type, 1 tag, 2 children, 3 time */
	char text[SM_TXT];
	uint64_t parent, t0, t1;
} trq;

static int tr_page(tgt *t, const void *qv, uint64_t *cursor, size_t limit,
		   bool *more, idv *out)
{
	const trq *q = qv;
	rs_db *db = db_of(t->m);
	const rs_run_id *id = &t->r->id;
	size_t n = strlen(q->text);

	switch (q->kind) {
	case 0:
		return t->txn ? rs_txn_tracestore_query_by_type(
					t->txn, q->text, n, cursor, limit, more,
					tr_col_cb, out)
			      : rs_tracestore_query_by_type(db, id, q->text, n,
							    cursor, limit, more,
							    tr_col_cb, out);
	case 1:
		return t->txn ? rs_txn_tracestore_query_by_tag(
					t->txn, q->text, n, cursor, limit, more,
					tr_col_cb, out)
			      : rs_tracestore_query_by_tag(db, id, q->text, n,
							   cursor, limit, more,
							   tr_col_cb, out);
	case 2:
		return t->txn ? rs_txn_tracestore_children(t->txn, q->parent,
							   cursor, limit, more,
							   tr_col_cb, out)
			      : rs_tracestore_children(db, id, q->parent,
						       cursor, limit, more,
						       tr_col_cb, out);
	default:
		return t->txn ? rs_txn_tracestore_query_by_time(
					t->txn, q->t0, q->t1, cursor, limit,
					more, tr_col_cb, out)
			      : rs_tracestore_query_by_time(
					db, id, q->t0, q->t1, cursor, limit,
					more, tr_col_cb, out);
	}
}

static bool tr_matches(const sm_run *r, size_t i, const trq *q)
{
	const sm_trace *x = &r->tr[i];

	switch (q->kind) {
	case 0:
		return !strcmp(x->type, q->text);
	case 1:
		for (size_t j = 0; j < x->ntags; j++)
			if (!strcmp(x->tags[j], q->text))
				return true;
		return false;
	case 2:
		return x->parent == q->parent;
	default:
		return !x->pending && x->ts >= q->t0 && x->ts < q->t1;
	}
}

struct tree_col {
	idv ids, depths;
};

static int tree_cb(const rs_trace *tr, unsigned depth, void *ctx)
{
	struct tree_col *c = ctx;

	idv_push(&c->ids, tr->id);
	idv_push(&c->depths, depth);
	return 0;
}

static void tree_want(const sm_run *r, uint64_t node, unsigned depth,
		      unsigned max, struct tree_col *w)
{
	idv_push(&w->ids, node);
	idv_push(&w->depths, depth);
	if (depth == max)
		return;
	for (size_t i = 0; i < r->ntr; i++)
		if (r->tr[i].parent == node)
			tree_want(r, tr_name(r, i), depth + 1, max, w);
}

static bool tr_reads(tgt *t)
{
	md *m = t->m;
	const sm_run *r = t->r;
	unsigned what = (unsigned)rnd(m, t->txn ? 4 : 6);
	trq q;
	idv want = { NULL, 0, 0 };
	bool ok;

	t->tr_read = true;
	memset(&q, 0, sizeof(q));
	if (what == 0) {
		size_t i = rnd(m, r->ntr + 2);
		uint64_t id = i < r->ntr ? tr_name(r, i) : r->base + i;
		unsigned char buf[256];
		rs_trace tr;
		int rc;

		rc = t->txn ? rs_txn_tracestore_get(t->txn, id, &tr)
			    : rs_tracestore_get(db_of(m), &r->id, id, &tr, buf,
						sizeof(buf), NULL);
		CHK_RC(m, rc, i < r->ntr ? 0 : RS_ENOTFOUND, "tracestore_get");
		if (r->base && !t->txn && rnd(m, 4) == 0) {
			/* An id of an earlier life is no trace of this one. */
			rs_trace below;

			CHK_RC(m,
			       rs_tracestore_get(db_of(m), &r->id, r->base - 1,
						 &below, buf, sizeof(buf),
						 NULL),
			       RS_ENOTFOUND, "tracestore_get below the base");
		}
		if (rc)
			return true;
		const sm_trace *x = &r->tr[i];
		rs_bytes tag;

		CHK(m,
		    tr.id == id && tr.parent == x->parent &&
			    tr.type.len == strlen(x->type) &&
			    !memcmp(tr.type.data, x->type, tr.type.len) &&
			    tr.payload.len == x->plen &&
			    (!x->plen ||
			     !memcmp(tr.payload.data, x->pl, x->plen)) &&
			    tr.ntags == x->ntags &&
			    (tr.flags & RS_TRACE_F_PENDING) ==
				    (x->pending ? RS_TRACE_F_PENDING : 0u),
		    "trace %#" PRIx64 " differs", id);
		if (!x->pending)
			CHK(m, tr.timestamp_ns == x->ts, "trace %zu timestamp",
			    i);
		for (size_t j = 0; j < x->ntags; j++)
			CHK(m,
			    !rs_trace_tag(&tr, j, &tag) &&
				    tag.len == strlen(x->tags[j]) &&
				    !memcmp(tag.data, x->tags[j], tag.len),
			    "trace %zu tag %zu", i, j);
		return true;
	}
	if (what == 5) {
		struct tree_col got = { { NULL, 0, 0 }, { NULL, 0, 0 } },
				w = { { NULL, 0, 0 }, { NULL, 0, 0 } };
		size_t i = rnd(m, r->ntr + 1);
		unsigned max = (unsigned)rnd(m, 4);
		int rc = rs_tracestore_get_tree(db_of(m), &r->id, r->base + i,
						max, tree_cb, &got);

		if (i < r->ntr)
			tree_want(r, r->base + i, 0, max, &w);
		m->calls++;
		ok = rc == (i < r->ntr ? 0 : RS_ENOTFOUND) &&
		     got.ids.n == w.ids.n &&
		     (!w.ids.n ||
		      (!memcmp(got.ids.v, w.ids.v, w.ids.n * 8) &&
		       !memcmp(got.depths.v, w.depths.v, w.ids.n * 8)));
		free(got.ids.v);
		free(got.depths.v);
		free(w.ids.v);
		free(w.depths.v);
		CHK(m, ok, "get_tree(%zu, %u): %s", i, max, rs_errname(rc));
		return true;
	}
	q.kind = what - 1;
	if (q.kind == 0)
		snprintf(q.text, sizeof(q.text), "s%u", (unsigned)rnd(m, 3));
	else if (q.kind == 1)
		snprintf(q.text, sizeof(q.text), "g%u", (unsigned)rnd(m, 5));
	else if (q.kind == 2)
		q.parent = r->ntr ? tr_name(r, rnd(m, r->ntr)) : r->base;
	else {
		size_t a = rnd(m, r->ntr + 1), b = rnd(m, r->ntr + 1);

		q.t0 = a < r->ntr ? r->tr[a].ts + rnd(m, 2) : 0;
		q.t1 = b < r->ntr ? r->tr[b].ts + rnd(m, 2) : UINT64_MAX;
		if (q.t0 > q.t1)
			q.t1 = q.t0;
	}
	for (size_t i = 0; i < r->ntr; i++)
		if (tr_matches(r, i, &q))
			idv_push(&want, tr_name(r, i));
	ok = paged(t, "trace query", tr_page, &q, &want, true);
	free(want.v);
	return ok;
}

/* One random read (one-shot or in t's transaction). */
static bool do_read(tgt *t)
{
	switch (rnd(t->m, 10)) {
	case 0:
	case 1:
		return kv_get(t);
	case 2:
		return kv_get_many(t);
	case 3:
		return kv_scan(t);
	case 4:
		return kv_list(t);
	case 5:
		return kv_cursor(t);
	case 6:
		return ev_reads(t);
	case 7:
		return cell_reads(t);
	default:
		return tr_reads(t);
	}
}

static bool step_read(md *m)
{
	tgt t;

	memset(&t, 0, sizeof(t));
	t.m = m;
	t.r = &m->runs[pick(m)];
	say(m, "one-shot read");
	return do_read(&t);
}

/* ---- transactions ---- */

#define MD_TXN_OPS 8

/* A second commit between T's begin and commit (a one-shot write, or a
 * one-op transaction). *conflict: whether T must then conflict. Returns
 * false on a mismatch; *did is false when nothing fits T's footprint. */
static bool interfere(md *m, sm_run *r, const tgt *t, bool t_wrote,
		      bool *conflict, bool *did)
{
	sm_op op;
	sm_res got, want;
	size_t ns = 0, ev0 = r->nev, tr0 = r->ntr;
	char why[512];
	unsigned c = (unsigned)rnd(m, 6);

	*did = true;
	*conflict = false;
	sm_gen_write(r, &m->rng, &op);
	if (!t_wrote) {
		/* A write-free transaction commits whatever happened. */
	} else if (c == 0 && t->kv_pts.n) {
		const rs_m_ent *e = &t->kv_pts.e[rnd(m, t->kv_pts.n)];

		op.kind = SM_KV_PUT;
		memcpy(op.key, e->k, e->klen);
		op.klen = e->klen;
		*conflict = true;
	} else if (c == 1 && t->cell_pts.n) {
		const rs_m_ent *e = &t->cell_pts.e[rnd(m, t->cell_pts.n)];

		memcpy(op.key, e->k, e->klen);
		op.key[e->klen] = '\0';
		op.klen = e->klen;
		op.kind = rs_m_find(&r->cells, op.key, op.klen) >= 0
				  ? SM_CELL_SET
				  : SM_CELL_INIT;
		*conflict = true;
	} else if (c == 2 && t->ev_len) {
		op.kind = SM_EV_APPEND;
		op.klen = (size_t)snprintf((char *)op.key, SM_TXT, "e0");
		*conflict = true;
	} else if (c == 3 && !t->kv_ranged) {
		op.kind = SM_KV_PUT;
		do
			op.klen = (size_t)snprintf((char *)op.key, SM_TXT,
						   "I%u", m->seq++);
		while (rs_m_find(&t->kv_pts, op.key, op.klen) >= 0);
	} else if (c == 4 && !t->cell_ranged) {
		op.kind = SM_CELL_INIT;
		op.klen = (size_t)snprintf((char *)op.key, SM_TXT, "cI%u",
					   m->seq++);
	} else if (c == 5 && !t->ev_read && !t->tr_read) {
		op.kind = rnd(m, 2) ? SM_EV_APPEND : SM_TR_RECORD;
		op.parent = RS_TRACE_NONE;
		op.klen =
			(size_t)snprintf((char *)op.key, SM_TXT, "%s",
					 op.kind == SM_EV_APPEND ? "e1" : "s1");
	} else {
		*did = false;
		return true;
	}
	say(m, "  interfering %s (T must %sconflict)", sm_kind_name(op.kind),
	    *conflict ? "" : "not ");
	if (rnd(m, 2)) {
		sm_exec(db_of(m), &r->id, NULL, &op, &got);
		sm_apply(r, &op, false, &ns, &want);
	} else {
		/* The same write as a one-op transaction: staged in a view,
		 * then committed (a staged delete writes even when absent). */
		sm_run v2;
		rs_txn *t2;
		int rc;

		CHK_RC(m, rs_txn_begin(&t2, db_of(m), &r->id, 0), 0,
		       "txn_begin (second)");
		sm_exec(db_of(m), &r->id, t2, &op, &got);
		rc = rs_txn_commit(t2);
		sm_run_copy(&v2, r);
		sm_apply(&v2, &op, true, &ns, &want);
		sm_run_free(&v2);
		if (want.rc == 0 && want.wrote && r->archived)
			want.rc = RS_EARCHIVED;
		else if (want.rc == 0)
			sm_commit(r, &op, &want, 1);
		if (got.rc == 0)
			got.rc = rc;
		if (want.rc)
			want.wrote = false;
	}
	m->calls++;
	CHK(m, sm_same_res(&op, &got, &want, true, why, sizeof(why)),
	    "interfering: %s", why);
	if (!want.wrote)
		*conflict = false;
	return learn(m, r, ev0, tr0);
}

static bool step_txn(md *m)
{
	unsigned s = pick(m);
	sm_run *r = &m->runs[s], view;
	bool ro = rnd(m, 8) == 0, wrote = false, conflict = false, did = false;
	sm_op ops[MD_TXN_OPS];
	sm_res got[MD_TXN_OPS], want[MD_TXN_OPS];
	size_t n = 1 + rnd(m, 6), nops = 0, nsteps = 0;
	unsigned end = (unsigned)rnd(m, 100);
	uint64_t snap = 0;
	rs_txn *txn;
	tgt t;
	char why[512];
	bool ok = true;
	int rc, exp;

	CHK_RC(m,
	       rs_txn_begin(&txn, db_of(m), &r->id, ro ? RS_TXN_F_READONLY : 0),
	       0, "txn_begin");
	if (rs_txn_snapshot_version(txn, &snap) || snap != r->version) {
		rs_txn_abort(txn);
		FAIL(m, "snapshot version %" PRIu64 ", model %" PRIu64, snap,
		     r->version);
	}
	say(m, "txn on slot %u (%s, %zu ops, end %u)", s, ro ? "ro" : "rw", n,
	    end);
	sm_run_copy(&view, r);
	memset(&t, 0, sizeof(t));
	t.m = m;
	t.r = &view;
	t.txn = txn;
	rs_m_init(&t.kv_pts);
	rs_m_init(&t.cell_pts);
	rs_m_init(&t.kv_w);
	for (size_t i = 0; ok && i < n; i++) {
		sm_op *op;

		if (rnd(m, 2)) {
			ok = do_read(&t);
			continue;
		}
		op = &ops[nops];
		sm_gen_write(&view, &m->rng, op);
		say(m, "  txn %s", sm_kind_name(op->kind));
		sm_exec(db_of(m), &r->id, txn, op, &got[nops]);
		if (ro) {
			memset(&want[nops], 0, sizeof(want[nops]));
			want[nops].rc = RS_EREADONLY;
		} else {
			sm_apply(&view, op, true, &nsteps, &want[nops]);
		}
		m->calls++;
		if (!sm_same_res(op, &got[nops], &want[nops], true, why,
				 sizeof(why))) {
			ok = md_fail(m, __LINE__, "txn: %s", why);
			break;
		}
		if (op->kind == SM_KV_DEL &&
		    rs_m_find(&t.kv_w, op->key, op->klen) < 0)
			rs_m_put(&t.kv_pts, op->key, op->klen, NULL, 0);
		if (op->kind == SM_KV_PUT || op->kind == SM_KV_DEL)
			rs_m_put(&t.kv_w, op->key, op->klen, NULL, 0);
		/* A committed parent not found was read as absent: a trace
		 * recorded meanwhile may be it. */
		if (op->kind == SM_TR_RECORD && want[nops].rc == RS_ENOTFOUND &&
		    !(op->parent & RS_TRACE_PENDING))
			t.tr_read = true;
		if (op->kind >= SM_CELL_INIT && op->kind <= SM_CELL_TRANS)
			rs_m_put(&t.cell_pts, op->key, op->klen, NULL, 0);
		wrote |= want[nops].wrote;
		nops++;
	}
	if (!ok) {
		rs_txn_abort(txn);
		goto out;
	}
	if (end < 15) {
		m->aborts++;
		say(m, "  abort");
		rs_txn_abort(txn);
		goto out;
	}
	if (end < 45 && !ro) {
		size_t ev0 = r->nev, tr0 = r->ntr;

		(void)ev0;
		(void)tr0;
		if (!(ok = interfere(m, r, &t, wrote, &conflict, &did))) {
			rs_txn_abort(txn);
			goto out;
		}
	}
	rc = rs_txn_commit(txn);
	exp = !wrote	    ? 0
	      : r->archived ? RS_EARCHIVED
	      : conflict    ? RS_ECONFLICT
			    : 0;
	m->calls++;
	if (rc != exp) {
		ok = md_fail(m, __LINE__,
			     "commit: got %s, model says %s (interfered %d; "
			     "%zu ops; read %zu keys, %zu cells, ranges %d/%d, "
			     "events %d/%d, traces %d)",
			     rs_errname(rc), rs_errname(exp), did, nops,
			     t.kv_pts.n, t.cell_pts.n, t.kv_ranged,
			     t.cell_ranged, t.ev_read, t.ev_len, t.tr_read);
		goto out;
	}
	m->commits += rc == 0;
	m->conflicts += rc == RS_ECONFLICT;
	m->archived += rc == RS_EARCHIVED;
	if (rc == 0 && wrote) {
		size_t ev0 = r->nev, tr0 = r->ntr;

		sm_commit(r, ops, want, nops);
		for (size_t i = 0; i < nops; i++) {
			if (!want[i].step)
				continue;
			if (ops[i].kind == SM_EV_APPEND &&
			    got[i].receipt.seq != want[i].receipt.seq) {
				ok = md_fail(m, __LINE__,
					     "commit: receipt seq %" PRIu64
					     ", model %" PRIu64,
					     got[i].receipt.seq,
					     want[i].receipt.seq);
				goto out;
			}
			if (ops[i].kind == SM_TR_RECORD &&
			    got[i].id != want[i].id) {
				ok = md_fail(m, __LINE__,
					     "commit: trace id %#" PRIx64
					     ", model %#" PRIx64,
					     got[i].id, want[i].id);
				goto out;
			}
		}
		ok = learn(m, r, ev0, tr0);
		for (size_t i = 0; ok && i < nops; i++)
			if (ops[i].kind == SM_EV_APPEND && want[i].step)
				ok = got[i].receipt.timestamp_ns ==
					     r->ev[got[i].receipt.seq - r->base]
						     .ts ||
				     md_fail(m, __LINE__, "receipt timestamp");
	}
	ok = ok && check_version(m, r);
out:
	sm_run_free(&view);
	rs_m_free(&t.kv_pts);
	rs_m_free(&t.cell_pts);
	rs_m_free(&t.kv_w);
	return ok;
}

/* rs_txn_run(): a body of writes that commits, fails with its own code,
 * or keeps reporting RS_ECONFLICT until the attempts run out. */
typedef struct body {
	const sm_op *ops;
	size_t n;
	int ret;
	unsigned calls;
	rs_db *db;
	const rs_run_id *run;
	sm_res res[MD_TXN_OPS];
} body;

static int body_fn(rs_txn *txn, void *ctx)
{
	body *b = ctx;

	b->calls++;
	for (size_t i = 0; i < b->n; i++)
		sm_exec(b->db, b->run, txn, &b->ops[i], &b->res[i]);
	return b->ret;
}

static bool step_txn_run(md *m)
{
	sm_run *r = &m->runs[pick(m)], view;
	sm_op ops[MD_TXN_OPS];
	sm_res want[MD_TXN_OPS];
	body b;
	size_t n = 1 + rnd(m, 4), nsteps = 0;
	unsigned kind = (unsigned)rnd(m, 4), attempts = 1 + (unsigned)rnd(m, 3);
	char why[512];
	bool wrote = false, ok = true;
	int rc, exp;

	memset(&b, 0, sizeof(b));
	sm_run_copy(&view, r);
	for (size_t i = 0; i < n; i++) {
		sm_gen_write(&view, &m->rng, &ops[i]);
		sm_apply(&view, &ops[i], true, &nsteps, &want[i]);
		wrote |= want[i].wrote;
	}
	sm_run_free(&view);
	b.ops = ops;
	b.n = n;
	b.db = db_of(m);
	b.run = &r->id;
	b.ret = kind == 0 ? 42 : kind == 1 ? RS_ECONFLICT : 0;
	say(m, "txn_run %zu ops, body returns %d", n, b.ret);
	rc = rs_txn_run(db_of(m), &r->id, 0, attempts, body_fn, &b);
	exp = b.ret ? b.ret : !wrote ? 0 : r->archived ? RS_EARCHIVED : 0;
	m->calls++;
	CHK(m, rc == exp, "txn_run: got %s (%d), model says %s (%d)",
	    rs_errname(rc), rc, rs_errname(exp), exp);
	CHK(m, b.calls == (b.ret == RS_ECONFLICT ? attempts : 1u),
	    "txn_run: body ran %u times (attempts %u)", b.calls, attempts);
	if (rc == 0 && wrote) {
		size_t ev0 = r->nev, tr0 = r->ntr;

		/* The commit gives the real trace ids and sequences. */
		sm_commit(r, ops, want, n);
		ok = learn(m, r, ev0, tr0);
		for (size_t i = 0; ok && i < n; i++)
			if (want[i].step && ops[i].kind == SM_EV_APPEND)
				CHK(m,
				    b.res[i].receipt.seq == want[i].receipt.seq,
				    "txn_run: receipt seq");
	}
	for (size_t i = 0; i < n; i++)
		CHK(m,
		    sm_same_res(&ops[i], &b.res[i], &want[i], true, why,
				sizeof(why)),
		    "txn_run body: %s", why);
	return ok && check_version(m, r);
}

/* ---- RunIndex ---- */

typedef struct rq {
	unsigned kind; /* 0 list, 1 status, 2 tag, 3 parent */
	rs_run_status st;
	char tag[SM_TXT];
	rs_run_id parent;
} rq;

static int run_col_cb(const rs_run_info *info, void *ctx)
{
	idv *l = ctx;

	/* Ids as pointers-sized tokens: the first 8 and last 8 bytes. */
	uint64_t a, b;

	memcpy(&a, info->id.bytes, 8);
	memcpy(&b, info->id.bytes + 8, 8);
	idv_push(l, a);
	idv_push(l, b);
	return 0;
}

static int rq_page(tgt *t, const void *qv, uint64_t *cursor, size_t limit,
		   bool *more, idv *out)
{
	const rq *q = qv;
	rs_db *db = db_of(t->m);
	idv raw = { NULL, 0, 0 };
	int rc;

	switch (q->kind) {
	case 0:
		rc = rs_runindex_list(db, cursor, limit, more, run_col_cb,
				      &raw);
		break;
	case 1:
		rc = rs_runindex_query_by_status(db, q->st, cursor, limit, more,
						 run_col_cb, &raw);
		break;
	case 2:
		rc = rs_runindex_query_by_tag(db, q->tag, strlen(q->tag),
					      cursor, limit, more, run_col_cb,
					      &raw);
		break;
	default:
		rc = rs_runindex_query_by_parent(db, &q->parent, cursor, limit,
						 more, run_col_cb, &raw);
		break;
	}
	/* Each run is two entries; with other workers, keep our own. */
	for (size_t i = 0; i + 1 < raw.n; i += 2) {
		rs_run_id id;

		memcpy(id.bytes, &raw.v[i], 8);
		memcpy(id.bytes + 8, &raw.v[i + 1], 8);
		if (!t->m->cfg.shared || own_id(t->m, &id)) {
			idv_push(out, raw.v[i]);
			idv_push(out, raw.v[i + 1]);
		}
	}
	free(raw.v);
	return rc;
}

static bool rq_matches(const md_reg *g, const rq *q)
{
	switch (q->kind) {
	case 0:
		return true;
	case 1:
		return g->st == q->st;
	case 2:
		for (size_t i = 0; i < g->ntags; i++)
			if (!strcmp(g->tags[i], q->tag))
				return true;
		return false;
	default:
		return g->has_parent &&
		       !memcmp(&g->parent, &q->parent, sizeof(q->parent));
	}
}

static bool same_info(md *m, const rs_run_info *in, const md_reg *g)
{
	rs_bytes tag;

	CHK(m, !memcmp(&in->id, &g->id, sizeof(g->id)), "run info: id");
	CHK(m, in->status == g->st, "run info: status %s, model %s",
	    rs_run_status_name(in->status), rs_run_status_name(g->st));
	CHK(m,
	    in->has_parent == g->has_parent &&
		    (!g->has_parent ||
		     !memcmp(&in->parent, &g->parent, sizeof(g->parent))),
	    "run info: parent");
	if (g->name[0])
		CHK(m,
		    in->name.data && in->name.len == strlen(g->name) &&
			    !memcmp(in->name.data, g->name, in->name.len),
		    "run info: name");
	else
		CHK(m, in->name.data == NULL, "run info: a name");
	CHK(m,
	    in->metadata.len == g->mlen &&
		    (!g->mlen || !memcmp(in->metadata.data, g->meta, g->mlen)),
	    "run info: metadata");
	CHK(m, in->ntags == g->ntags, "run info: %zu tags", in->ntags);
	for (size_t i = 0; i < g->ntags; i++)
		CHK(m,
		    !rs_run_info_tag(in, i, &tag) &&
			    tag.len == strlen(g->tags[i]) &&
			    !memcmp(tag.data, g->tags[i], tag.len),
		    "run info: tag %zu", i);
	CHK(m, in->created_ns <= in->updated_ns, "run info: updated < created");
	return true;
}

static bool ri_get(md *m, const rs_run_id *id, bool by_name)
{
	md_reg *g = reg_find(m, id);
	unsigned char buf[512];
	rs_run_info info;
	size_t need = 0;
	int rc;

	if (by_name) {
		char name[SM_TXT];

		if (g && g->name[0])
			snprintf(name, sizeof(name), "%s", g->name);
		else
			snprintf(name, sizeof(name), "w%u-n%u", m->cfg.worker,
				 (unsigned)rnd(m, 4));
		g = reg_by_name(m, name);
		rc = rs_runindex_get_by_name(db_of(m), name, strlen(name),
					     &info, buf, sizeof(buf), &need);
	} else {
		rc = rs_runindex_get(db_of(m), id, &info, buf, sizeof(buf),
				     &need);
	}
	CHK_RC(m, rc, g ? 0 : RS_ENOTFOUND, by_name ? "get_by_name" : "get");
	return rc || same_info(m, &info, g);
}

static bool ri_query(md *m)
{
	tgt t;
	rq q;
	idv want = { NULL, 0, 0 };
	bool ok;

	memset(&t, 0, sizeof(t));
	t.m = m;
	memset(&q, 0, sizeof(q));
	q.kind = (unsigned)rnd(m, 4);
	q.st = (rs_run_status)rnd(m, 6);
	snprintf(q.tag, sizeof(q.tag), "w%u-t%u", m->cfg.worker,
		 (unsigned)rnd(m, 3));
	q.parent = slot_id(m, pick(m));
	for (size_t i = 0; i < m->nregs; i++) {
		if (!rq_matches(&m->regs[i], &q))
			continue;
		uint64_t a, b;

		memcpy(&a, m->regs[i].id.bytes, 8);
		memcpy(&b, m->regs[i].id.bytes + 8, 8);
		idv_push(&want, a);
		idv_push(&want, b);
	}
	/* Limits count runs; the lists hold two entries per run. */
	ok = true;
	{
		size_t limit = m->cfg.shared ? 0 : rnd(m, 4), pos = 0;
		uint64_t cursor = 0;

		for (size_t page = 0; ok; page++) {
			idv got = { NULL, 0, 0 };
			bool more = false;
			size_t exp = want.n - pos;
			int rc = rq_page(&t, &q, &cursor, limit, &more, &got);

			m->calls++;
			if (limit && exp > 2 * limit)
				exp = 2 * limit;
			if (rc || got.n != exp ||
			    (exp && memcmp(got.v, want.v + pos, exp * 8)))
				ok = md_fail(m, __LINE__,
					     "runindex query %u page %zu "
					     "(limit %zu): %s, %zu runs, model "
					     "%zu",
					     q.kind, page, limit,
					     rs_errname(rc), got.n / 2,
					     exp / 2);
			free(got.v);
			pos += exp;
			if (ok && !m->cfg.shared && more != (pos < want.n))
				ok = md_fail(m, __LINE__,
					     "runindex query %u: more %d",
					     q.kind, more);
			if (!more || page > want.n)
				break;
		}
	}
	free(want.v);
	return ok;
}

/* A slot's run is deleted: the slot goes on with a fresh id, or with the
 * same one, whose next life starts past everything this one used. */
static void retire(md *m, unsigned s)
{
	sm_run *r = &m->runs[s];
	uint64_t next = sm_unborn(r) ? r->base : sm_next_floor(r);
	rs_run_id id;

	for (unsigned o = 0; o < MD_SLOTS; o++)
		if (m->floor[o] == UINT64_MAX)
			m->floor[o] = 0;
	sm_run_free(r);
	if (rnd(m, 2)) {
		m->floor[s] = next > m->floor[s] ? next : m->floor[s];
		m->relived++;
	} else {
		m->gen[s]++;
		m->floor[s] = 0;
	}
	id = slot_id(m, s);
	sm_run_init(r, &id);
	r->known = true;
}

static bool has_data(const sm_run *r)
{
	return r->kv.n || r->cells.n || r->nev || r->ntr;
}

/*
 * Before a delete, now and then: one commit of several appends and
 * records, so the life's sequences and trace ids run ahead of its
 * versions and its next life must start past them, not only past its
 * last version.
 */
static bool burst(md *m, sm_run *r)
{
	sm_op ops[MD_TXN_OPS];
	sm_res got[MD_TXN_OPS], want[MD_TXN_OPS];
	size_t n = 2 + rnd(m, MD_TXN_OPS - 1), ns = 0, ev0 = r->nev,
	       tr0 = r->ntr;
	char why[512];
	sm_run view;
	rs_txn *txn;

	if (r->archived)
		return true;
	say(m, "burst of %zu appends and records", n);
	CHK_RC(m, rs_txn_begin(&txn, db_of(m), &r->id, 0), 0,
	       "txn_begin (burst)");
	sm_run_copy(&view, r);
	for (size_t i = 0; i < n; i++) {
		memset(&ops[i], 0, sizeof(ops[i]));
		ops[i].kind = rnd(m, 2) ? SM_EV_APPEND : SM_TR_RECORD;
		ops[i].klen = (size_t)snprintf(
			(char *)ops[i].key, SM_TXT, "%s",
			ops[i].kind == SM_EV_APPEND ? "e2" : "s2");
		ops[i].parent = RS_TRACE_NONE;
		sm_exec(db_of(m), &r->id, txn, &ops[i], &got[i]);
		sm_apply(&view, &ops[i], true, &ns, &want[i]);
	}
	sm_run_free(&view);
	CHK_RC(m, rs_txn_commit(txn), 0, "txn_commit (burst)");
	sm_commit(r, ops, want, n);
	for (size_t i = 0; i < n; i++)
		CHK(m,
		    sm_same_res(&ops[i], &got[i], &want[i], false, why,
				sizeof(why)),
		    "burst: %s", why);
	return learn(m, r, ev0, tr0);
}

static bool step_runindex(md *m)
{
	unsigned s = pick(m), what = (unsigned)rnd(m, 10);
	sm_run *r = &m->runs[s];
	md_reg *g = reg_find(m, &r->id);
	rs_run_status from = RS_RUN_ACTIVE;
	int rc, exp;

	if (what < 3) {
		rs_runindex_create_options o = RS_RUNINDEX_CREATE_OPTIONS_INIT;
		md_reg n;
		rs_bytes tags[2];
		rs_run_id got;

		memset(&n, 0, sizeof(n));
		n.id = r->id;
		n.st = RS_RUN_ACTIVE;
		o.id = &r->id;
		if (rnd(m, 2)) {
			snprintf(n.name, sizeof(n.name), "w%u-n%u",
				 m->cfg.worker,
				 (unsigned)rnd(m, 4) +
					 (rnd(m, 2) ? m->seq++ : 0));
			o.name = n.name;
			o.name_len = strlen(n.name);
		}
		if (rnd(m, 2)) {
			unsigned p = pick(m);

			n.parent = p == s ? slot_id(m, (s + 1) % MD_SLOTS)
					  : slot_id(m, p);
			n.has_parent = true;
			o.parent = &n.parent;
		}
		n.ntags = (size_t)rnd(m, 3);
		for (size_t i = 0; i < n.ntags; i++) {
			snprintf(n.tags[i], SM_TXT, "w%u-t%zu", m->cfg.worker,
				 (i + (size_t)rnd(m, 2)) % 3);
			if (i && !strcmp(n.tags[i], n.tags[0]))
				snprintf(n.tags[i], SM_TXT, "w%u-t9",
					 m->cfg.worker);
			tags[i].data = n.tags[i];
			tags[i].len = strlen(n.tags[i]);
		}
		o.tags = tags;
		o.ntags = n.ntags;
		n.mlen = (size_t)rnd(m, sizeof(n.meta) + 1);
		for (size_t i = 0; i < n.mlen; i++)
			n.meta[i] = (unsigned char)rnd(m, 256);
		o.metadata = n.meta;
		o.metadata_len = n.mlen;
		exp = g || (n.name[0] && reg_by_name(m, n.name)) ? RS_EEXIST
								 : 0;
		say(m, "runindex create slot %u", s);
		rc = rs_runindex_create(db_of(m), &o, &got);
		CHK_RC(m, rc, exp, "runindex_create");
		if (rc == 0) {
			CHK(m, !memcmp(&got, &r->id, sizeof(got)),
			    "create: id_out");
			if (m->nregs == m->cregs) {
				m->cregs = m->cregs ? 2 * m->cregs : 8;
				m->regs = realloc(m->regs,
						  m->cregs * sizeof(*m->regs));
				if (!m->regs)
					abort();
			}
			m->regs[m->nregs++] = n;
		}
		return ri_get(m, &r->id, false);
	}
	if (what < 6) {
		rs_run_status to = (rs_run_status)rnd(m, 6);

		/* Archive mostly runs that went through a terminal status. */
		if (g && rnd(m, 2) &&
		    (g->st == RS_RUN_COMPLETED || g->st == RS_RUN_FAILED ||
		     g->st == RS_RUN_CANCELLED))
			to = RS_RUN_ARCHIVED;
		exp = !g ? RS_ENOTFOUND
		      : rs_runindex_transition_allowed(g->st, to)
			      ? 0
			      : RS_ETRANSITION;
		say(m, "runindex transition slot %u -> %s", s,
		    rs_run_status_name(to));
		rc = rs_runindex_transition(db_of(m), &r->id, to, &from);
		CHK_RC(m, rc, exp, "runindex_transition");
		if (g)
			CHK(m, from == g->st, "transition: from %s, model %s",
			    rs_run_status_name(from),
			    rs_run_status_name(g->st));
		if (rc == 0) {
			g->st = to;
			if (to == RS_RUN_ARCHIVED)
				r->archived = true;
		}
		return ri_get(m, &r->id, false) && check_version(m, r);
	}
	if (what == 6) {
		/* Deleting an unregistered run whose keys were all deleted
		 * depends on tombstones the model does not keep: skipped. */
		if (!g && !has_data(r) && !sm_unborn(r))
			return true;
		if (rnd(m, 3) == 0 && !burst(m, r))
			return false;
		exp = g || has_data(r) ? 0 : RS_ENOTFOUND;
		say(m, "runindex delete slot %u", s);
		rc = rs_runindex_delete(db_of(m), &r->id);
		CHK_RC(m, rc, exp, "runindex_delete");
		if (rc == 0) {
			rs_run_id old = r->id;

			if (g) {
				size_t i = (size_t)(g - m->regs);

				memmove(g, g + 1,
					(m->nregs - i - 1) * sizeof(*g));
				m->nregs--;
			}
			CHK(m, ri_get(m, &old, false), "%s", m->why);
			retire(m, s);
			m->deletes++;
		}
		return true;
	}
	if (what == 7)
		return ri_get(m, &r->id, true);
	return ri_query(m);
}

/* ---- whole state, flush, checkpoint, reopen ---- */

bool md_check_all(md *m)
{
	char why[512];

	if (!settle_all(m))
		return false;

	for (unsigned s = 0; s < MD_SLOTS; s++)
		CHK(m, sm_check_run(db_of(m), &m->runs[s], why, sizeof(why)),
		    "slot %u: %s", s, why);
	for (size_t i = 0; i < m->nregs; i++)
		if (!ri_get(m, &m->regs[i].id, false))
			return false;
	return ri_query(m);
}

bool md_reopen(md *m)
{
	rs_db_options o = md_options(&m->cfg, m->dir);
	int rc;

	if (m->cfg.mode == RS_DURABILITY_INMEMORY)
		return true;
	say(m, "reopen");
	m->reopens++;
	rs_db_close(*m->dbp);
	*m->dbp = NULL;
	rc = rs_db_open(m->dbp, &o);
	CHK(m, rc == 0, "reopen: %s", rs_errname(rc));
	return md_check_all(m);
}

static bool step_admin(md *m)
{
	unsigned what = (unsigned)rnd(m, 10);
	bool mem = m->cfg.mode == RS_DURABILITY_INMEMORY &&
		   !m->cfg.backend_checkpoints;

	if (what < 3) {
		say(m, "flush");
		CHK_RC(m, rs_db_flush(db_of(m)), 0, "flush");
		return true;
	}
	if (what < 6) {
		say(m, "checkpoint");
		m->checkpoints += !mem;
		CHK_RC(m, rs_db_checkpoint(db_of(m)), mem ? RS_ENOTSUP : 0,
		       "checkpoint");
		return true;
	}
	if (what < 8 && !m->cfg.shared)
		return md_reopen(m);
	say(m, "check all");
	return md_check_all(m);
}

bool md_step(md *m)
{
	unsigned w = (unsigned)rnd(m, 100);

	m->step++;
	if (!settle_all(m))
		return false;
	if (w < 28)
		return step_write(m);
	if (w < 52)
		return step_txn(m);
	if (w < 57)
		return step_txn_run(m);
	if (w < 82)
		return step_read(m);
	if (w < 96)
		return step_runindex(m);
	return step_admin(m);
}
