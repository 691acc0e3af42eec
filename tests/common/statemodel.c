/* SPDX-License-Identifier: MIT */
#include "common/statemodel.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Test code: running out of memory ends the test binary. */
static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q) {
		fputs("statemodel: out of memory\n", stderr);
		exit(2);
	}
	return q;
}

uint64_t sm_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

uint64_t sm_rnd(uint64_t *s, uint64_t n)
{
	return n ? sm_rand(s) % n : 0;
}

static void put_u64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (unsigned char)v;
		v >>= 8;
	}
}

static uint64_t get_u64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* ---- runs ---- */

void sm_run_init(sm_run *r, const rs_run_id *id)
{
	memset(r, 0, sizeof(*r));
	r->id = *id;
	rs_m_init(&r->kv);
	rs_m_init(&r->cells);
	rs_m_init(&r->floors);
}

void sm_run_free(sm_run *r)
{
	rs_m_free(&r->kv);
	rs_m_free(&r->cells);
	rs_m_free(&r->floors);
	free(r->ev);
	free(r->tr);
	r->ev = NULL;
	r->tr = NULL;
	r->nev = r->cev = r->ntr = r->ctr = 0;
}

void sm_run_copy(sm_run *dst, const sm_run *src)
{
	*dst = *src;
	rs_m_copy(&dst->kv, &src->kv);
	rs_m_copy(&dst->cells, &src->cells);
	rs_m_copy(&dst->floors, &src->floors);
	dst->cev = src->nev;
	dst->ev = xrealloc(NULL, sizeof(*dst->ev) * (src->nev + 1));
	if (src->nev)
		memcpy(dst->ev, src->ev, sizeof(*dst->ev) * src->nev);
	dst->ctr = src->ntr;
	dst->tr = xrealloc(NULL, sizeof(*dst->tr) * (src->ntr + 1));
	if (src->ntr)
		memcpy(dst->tr, src->tr, sizeof(*dst->tr) * src->ntr);
}

const char *sm_kind_name(sm_kind k)
{
	static const char *const names[] = {
		"kv_put",    "kv_delete",  "eventlog_append",
		"cell_init", "cell_set",   "cell_cas",
		"cell_del",  "cell_trans", "trace_record",
	};

	return k < SM_NKINDS ? names[k] : "?";
}

/* ---- applying an op to the model ---- */

enum mode {
	ONESHOT,
	VIEW,
	COMMIT
};

int sm_trans_fn(rs_bytes value, uint64_t version, rs_bytes *new_value_out,
		void *ctx)
{
	unsigned char *buf = ctx;

	(void)version;
	if (value.len && ((const unsigned char *)value.data)[0] == '!')
		return 77;
	if (value.len >= SM_VAL)
		return 0;
	if (value.len)
		memcpy(buf, value.data, value.len);
	buf[value.len] = '+';
	new_value_out->data = buf;
	new_value_out->len = value.len + 1;
	return 0;
}

static size_t committed_traces(const sm_run *r)
{
	size_t n = 0;

	while (n < r->ntr && !r->tr[n].pending)
		n++;
	return n;
}

static void cell_write(sm_run *r, const sm_op *op, uint64_t ver,
		       const void *val, size_t vlen)
{
	unsigned char buf[8 + SM_VAL];

	put_u64(buf, ver);
	if (vlen)
		memcpy(buf + 8, val, vlen);
	rs_m_put(&r->cells, op->key, op->klen, buf, 8 + vlen);
}

/* The real id of trace reference `parent` at commit (handles map: the
 * real ids of this transaction's records by step, -1 unassigned). */
static void apply(sm_run *r, const sm_op *op, enum mode m, size_t *nsteps,
		  const uint64_t *handles, sm_res *out)
{
	long at;
	uint64_t cur = 0;

	memset(out, 0, sizeof(*out));
	if (m == ONESHOT && r->archived) {
		/* A transition that finds no cell, fails or writes nothing
		 * never reaches the commit that would refuse it. */
		if (op->kind != SM_CELL_TRANS) {
			out->rc = RS_EARCHIVED;
			return;
		}
	}
	at = (op->kind >= SM_CELL_INIT && op->kind <= SM_CELL_TRANS)
		     ? rs_m_find(&r->cells, op->key, op->klen)
		     : -1;
	if (at >= 0)
		cur = get_u64(r->cells.e[at].v);
	switch (op->kind) {
	case SM_KV_PUT:
		rs_m_put(&r->kv, op->key, op->klen, op->val, op->vlen);
		out->wrote = true;
		break;
	case SM_KV_DEL:
		out->existed = rs_m_del(&r->kv, op->key, op->klen);
		/* A staged delete is a write even of an absent key. */
		out->wrote = m != ONESHOT || out->existed;
		break;
	case SM_EV_APPEND: {
		sm_event *e;

		if (r->nev == r->cev) {
			r->cev = r->cev ? 2 * r->cev : 16;
			r->ev = xrealloc(r->ev, sizeof(*r->ev) * r->cev);
		}
		e = &r->ev[r->nev];
		memset(e, 0, sizeof(*e));
		memcpy(e->type, op->key, op->klen + 1);
		memcpy(e->pl, op->val, op->vlen);
		e->plen = op->vlen;
		e->pending = m == VIEW;
		out->receipt.seq = r->base + r->nev++;
		out->wrote = out->step = true;
		break;
	}
	case SM_CELL_INIT: {
		long f;

		if (at >= 0) {
			out->rc = RS_EEXIST;
			break;
		}
		f = rs_m_find(&r->floors, op->key, op->klen);
		out->version =
			f >= 0 ? get_u64(r->floors.e[f].v) + 1 : r->base + 1;
		if (f >= 0)
			rs_m_del(&r->floors, op->key, op->klen);
		cell_write(r, op, out->version, op->val, op->vlen);
		out->wrote = true;
		break;
	}
	case SM_CELL_SET:
	case SM_CELL_CAS:
		if (at < 0) {
			out->rc = RS_ENOTFOUND;
			break;
		}
		if (op->kind == SM_CELL_CAS && cur != op->ver) {
			out->rc = RS_EMISMATCH;
			break;
		}
		out->version = cur + 1;
		cell_write(r, op, cur + 1, op->val, op->vlen);
		out->wrote = true;
		break;
	case SM_CELL_DEL:
		if (at >= 0) {
			unsigned char v[8];

			put_u64(v, cur);
			rs_m_del(&r->cells, op->key, op->klen);
			rs_m_put(&r->floors, op->key, op->klen, v, 8);
			out->existed = out->wrote = true;
		}
		break;
	case SM_CELL_TRANS: {
		unsigned char buf[SM_VAL + 1];
		rs_bytes nv = { NULL, 0 };
		const rs_m_ent *e;

		if (at < 0) {
			out->rc = RS_ENOTFOUND;
			break;
		}
		e = &r->cells.e[at];
		out->rc = sm_trans_fn((rs_bytes){ e->v + 8, e->vlen - 8 }, cur,
				      &nv, buf);
		out->version = cur;
		if (out->rc || !nv.data)
			break;
		if (m == ONESHOT && r->archived) {
			out->rc = RS_EARCHIVED;
			break;
		}
		out->version = cur + 1;
		cell_write(r, op, cur + 1, nv.data, nv.len);
		out->wrote = true;
		break;
	}
	case SM_TR_RECORD: {
		uint64_t parent = op->parent;
		sm_trace *t;

		if (parent != RS_TRACE_NONE && (parent & RS_TRACE_PENDING)) {
			size_t i;

			for (i = 0; m == VIEW && i < r->ntr; i++)
				if (r->tr[i].pending &&
				    r->tr[i].handle == parent)
					break;
			if (m == COMMIT) {
				parent = handles[parent & ~RS_TRACE_PENDING];
			} else if (m != VIEW || i == r->ntr) {
				out->rc = RS_ENOTFOUND;
				break;
			}
		} else if (parent != RS_TRACE_NONE &&
			   (parent < r->base ||
			    parent - r->base >= committed_traces(r))) {
			out->rc = RS_ENOTFOUND;
			break;
		}
		if (r->ntr == r->ctr) {
			r->ctr = r->ctr ? 2 * r->ctr : 16;
			r->tr = xrealloc(r->tr, sizeof(*r->tr) * r->ctr);
		}
		t = &r->tr[r->ntr];
		memset(t, 0, sizeof(*t));
		memcpy(t->type, op->key, op->klen + 1);
		memcpy(t->pl, op->val, op->vlen);
		t->plen = op->vlen;
		memcpy(t->tags, op->tags, sizeof(t->tags));
		t->ntags = op->ntags;
		t->parent = parent;
		t->pending = m == VIEW;
		out->id = r->base + r->ntr++;
		if (m == VIEW)
			t->handle = out->id = RS_TRACE_PENDING | *nsteps;
		out->wrote = out->step = true;
		break;
	}
	default:
		out->rc = RS_EINVAL;
		break;
	}
	if (out->rc)
		out->wrote = out->step = false;
	if (m == VIEW && out->step)
		(*nsteps)++;
	if (m == ONESHOT && out->wrote)
		r->version++;
}

void sm_apply(sm_run *r, const sm_op *op, bool txn, size_t *nsteps, sm_res *out)
{
	apply(r, op, txn ? VIEW : ONESHOT, nsteps, NULL, out);
}

void sm_commit(sm_run *r, const sm_op *ops, sm_res *res, size_t n)
{
	uint64_t *handles = xrealloc(NULL, sizeof(*handles) * (n + 1));
	size_t step = 0;
	bool wrote = false;

	for (size_t i = 0; i < n; i++) {
		sm_res c;

		if (res[i].rc != 0)
			continue;
		apply(r, &ops[i], COMMIT, NULL, handles, &c);
		wrote |= c.wrote;
		if (c.step) {
			handles[step++] = c.id;
			res[i].receipt.seq = c.receipt.seq;
			if (ops[i].kind == SM_TR_RECORD)
				res[i].id = c.id;
		}
	}
	if (wrote)
		r->version++;
	free(handles);
}

/* ---- running an op in the library ---- */

static size_t tags_of(const sm_op *op, rs_bytes *tags)
{
	for (size_t i = 0; i < op->ntags; i++) {
		tags[i].data = op->tags[i];
		tags[i].len = strlen(op->tags[i]);
	}
	return op->ntags;
}

void sm_exec(rs_db *db, const rs_run_id *run, rs_txn *txn, const sm_op *op,
	     sm_res *out)
{
	const char *name = (const char *)op->key;
	unsigned char tbuf[SM_VAL + 1];
	rs_bytes tags[SM_TAGS];
	size_t nt = tags_of(op, tags);
	int rc = RS_EINVAL;

	memset(out, 0, sizeof(*out));
	switch (op->kind) {
	case SM_KV_PUT:
		rc = txn ? rs_txn_kv_put(txn, op->key, op->klen, op->val,
					 op->vlen)
			 : rs_kv_put(db, run, op->key, op->klen, op->val,
				     op->vlen);
		break;
	case SM_KV_DEL:
		rc = txn ? rs_txn_kv_delete(txn, op->key, op->klen,
					    &out->existed)
			 : rs_kv_delete(db, run, op->key, op->klen,
					&out->existed);
		break;
	case SM_EV_APPEND:
		rc = txn ? rs_txn_eventlog_append(txn, name, op->klen, op->val,
						  op->vlen, &out->receipt)
			 : rs_eventlog_append(db, run, name, op->klen, op->val,
					      op->vlen, &out->receipt);
		break;
	case SM_CELL_INIT:
		rc = txn ? rs_txn_statecell_init(txn, name, op->klen, op->val,
						 op->vlen, &out->version)
			 : rs_statecell_init(db, run, name, op->klen, op->val,
					     op->vlen, &out->version);
		break;
	case SM_CELL_SET:
		rc = txn ? rs_txn_statecell_set(txn, name, op->klen, op->val,
						op->vlen, &out->version)
			 : rs_statecell_set(db, run, name, op->klen, op->val,
					    op->vlen, &out->version);
		break;
	case SM_CELL_CAS:
		rc = txn ? rs_txn_statecell_cas(txn, name, op->klen, op->ver,
						op->val, op->vlen,
						&out->version)
			 : rs_statecell_cas(db, run, name, op->klen, op->ver,
					    op->val, op->vlen, &out->version);
		break;
	case SM_CELL_DEL:
		rc = txn ? rs_txn_statecell_delete(txn, name, op->klen,
						   &out->existed)
			 : rs_statecell_delete(db, run, name, op->klen,
					       &out->existed);
		break;
	case SM_CELL_TRANS:
		rc = txn ? rs_txn_statecell_transition(txn, name, op->klen,
						       &out->version,
						       sm_trans_fn, tbuf)
			 : rs_statecell_transition(db, run, name, op->klen, 0,
						   &out->version, sm_trans_fn,
						   tbuf);
		break;
	case SM_TR_RECORD:
		rc = txn ? rs_txn_tracestore_record(txn, name, op->klen,
						    op->val, op->vlen, tags, nt,
						    op->parent, &out->id)
			 : rs_tracestore_record(db, run, name, op->klen,
						op->val, op->vlen, tags, nt,
						op->parent, &out->id);
		break;
	default:
		break;
	}
	out->rc = rc;
}

static bool whyf(char *why, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static bool whyf(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, cap, fmt, ap);
	va_end(ap);
	return false;
}

/* ---- lives of a run ---- */

bool sm_unborn(const sm_run *r)
{
	return r->version == r->base;
}

bool sm_rebase(rs_db *db, sm_run *r, uint64_t floor, char *why, size_t cap)
{
	uint64_t v = 0;
	int rc;

	if (!sm_unborn(r))
		return true;
	if ((rc = rs_db_run_version(db, &r->id, &v)))
		return whyf(why, cap, "run version: %s", rs_errname(rc));
	if (floor == UINT64_MAX ? v != 0 : v < floor)
		return whyf(why, cap,
			    "a life begins at %" PRIu64 ", below %" PRIu64, v,
			    floor == UINT64_MAX ? 0 : floor);
	r->base = r->version = v;
	return true;
}

static uint64_t max_cell_version(const rs_model *m, uint64_t floor)
{
	for (size_t i = 0; i < m->n; i++)
		if (get_u64(m->e[i].v) >= floor)
			floor = get_u64(m->e[i].v) + 1;
	return floor;
}

uint64_t sm_next_floor(const sm_run *r)
{
	uint64_t f = r->version + 1;

	if (r->base + r->nev > f)
		f = r->base + r->nev;
	if (r->base + r->ntr > f)
		f = r->base + r->ntr;
	f = max_cell_version(&r->cells, f);
	return max_cell_version(&r->floors, f);
}

bool sm_same_res(const sm_op *op, const sm_res *got, const sm_res *want,
		 bool staged, char *why, size_t cap)
{
	const char *k = sm_kind_name(op->kind);

	if (got->rc != want->rc)
		return whyf(why, cap, "%s: got %s (%d), model says %s (%d)", k,
			    rs_errname(got->rc), got->rc, rs_errname(want->rc),
			    want->rc);
	if (got->rc)
		return true;
	switch (op->kind) {
	case SM_KV_DEL:
	case SM_CELL_DEL:
		if (got->existed != want->existed)
			return whyf(why, cap, "%s: existed %d, model says %d",
				    k, got->existed, want->existed);
		break;
	case SM_CELL_INIT:
	case SM_CELL_SET:
	case SM_CELL_CAS:
	case SM_CELL_TRANS:
		if (got->version != want->version)
			return whyf(why, cap,
				    "%s: version %" PRIu64
				    ", model says %" PRIu64,
				    k, got->version, want->version);
		break;
	case SM_EV_APPEND:
		if (!staged && got->receipt.seq != want->receipt.seq)
			return whyf(why, cap,
				    "%s: seq %" PRIu64 ", model says %" PRIu64,
				    k, got->receipt.seq, want->receipt.seq);
		break;
	case SM_TR_RECORD:
		if (got->id != want->id)
			return whyf(why, cap,
				    "%s: id %#" PRIx64 ", model says %#" PRIx64,
				    k, got->id, want->id);
		break;
	default:
		break;
	}
	return true;
}

/* ---- generating ops ---- */

static const unsigned char key_alpha[] = { 0x00, 'a', 'b', 'c', 0xff };

static void gen_text(uint64_t *rng, sm_op *op, const char *stem, unsigned n)
{
	op->klen = (size_t)snprintf((char *)op->key, SM_TXT, "%s%u", stem,
				    (unsigned)sm_rnd(rng, n));
}

/* A cell name: mostly one that exists (or existed). */
static void gen_cell(const sm_run *r, uint64_t *rng, sm_op *op)
{
	const rs_model *m = sm_rnd(rng, 3) ? &r->cells : &r->floors;

	if (m->n && sm_rnd(rng, 4)) {
		const rs_m_ent *e = &m->e[sm_rnd(rng, m->n)];

		memcpy(op->key, e->k, e->klen);
		op->key[e->klen] = '\0';
		op->klen = e->klen;
		return;
	}
	gen_text(rng, op, "c", 8);
}

void sm_gen_write(const sm_run *r, uint64_t *rng, sm_op *op)
{
	static const unsigned weights[SM_NKINDS] = { 25, 10, 15, 10, 8,
						     8,	 6,  6,	 12 };
	unsigned w = (unsigned)sm_rnd(rng, 100), k = 0;

	memset(op, 0, offsetof(sm_op, key));
	while (k < SM_NKINDS - 1 && w >= weights[k])
		w -= weights[k++];
	op->kind = (sm_kind)k;
	op->vlen = (size_t)sm_rnd(rng, 13);
	for (size_t i = 0; i < op->vlen; i++)
		op->val[i] = (unsigned char)sm_rand(rng);
	if (op->vlen && sm_rnd(rng, 6) == 0)
		op->val[0] = '!';
	op->parent = RS_TRACE_NONE;
	op->ntags = 0;
	switch (op->kind) {
	case SM_KV_PUT:
	case SM_KV_DEL:
		if (r->kv.n && sm_rnd(rng, 2)) {
			const rs_m_ent *e = &r->kv.e[sm_rnd(rng, r->kv.n)];

			memcpy(op->key, e->k, e->klen);
			op->klen = e->klen;
		} else if (sm_rnd(rng, 50) == 0) {
			op->klen = RS_KEY_MAX;
			memset(op->key, 'L', op->klen);
			op->key[op->klen - 1] = (unsigned char)sm_rnd(rng, 3);
		} else {
			op->klen = 1 + (size_t)sm_rnd(rng, 4);
			for (size_t i = 0; i < op->klen; i++)
				op->key[i] = key_alpha[sm_rnd(
					rng, sizeof(key_alpha))];
		}
		break;
	case SM_EV_APPEND:
		gen_text(rng, op, "e", 4);
		break;
	case SM_CELL_CAS: {
		long at;

		gen_cell(r, rng, op);
		at = rs_m_find(&r->cells, op->key, op->klen);
		op->ver = at >= 0 ? get_u64(r->cells.e[at].v) : r->base + 1;
		/* Stale and future versions too. */
		if (sm_rnd(rng, 3) == 0)
			op->ver =
				op->ver > 1 && sm_rnd(rng, 2)
					? op->ver - 1 - sm_rnd(rng, op->ver - 1)
					: op->ver + 1;
		break;
	}
	case SM_CELL_INIT:
	case SM_CELL_SET:
	case SM_CELL_DEL:
	case SM_CELL_TRANS:
		gen_cell(r, rng, op);
		break;
	case SM_TR_RECORD: {
		unsigned mask = 0;

		gen_text(rng, op, "s", 3);
		op->ntags = (size_t)sm_rnd(rng, SM_TAGS + 1);
		for (size_t i = 0; i < op->ntags; i++) {
			unsigned g;

			do
				g = (unsigned)sm_rnd(rng, 5);
			while (mask & (1u << g));
			mask |= 1u << g;
			snprintf(op->tags[i], SM_TXT, "g%u", g);
		}
		if (r->ntr && sm_rnd(rng, 10) < 6) {
			const sm_trace *t = &r->tr[sm_rnd(rng, r->ntr)];

			op->parent = t->pending
					     ? t->handle
					     : r->base + (uint64_t)(t - r->tr);
		} else if (sm_rnd(rng, 10) == 0) {
			/* Not a trace of this life: past its last, or an id
			 * of an earlier life of the run. */
			op->parent =
				r->base && sm_rnd(rng, 3) == 0
					? r->base - 1 - sm_rnd(rng, r->base)
					: r->base + r->ntr + sm_rnd(rng, 3);
		}
		break;
	}
	default:
		break;
	}
}

/* ---- comparing a whole run ---- */

static int collect_cell(rs_bytes name, rs_bytes value, uint64_t version,
			void *ctx)
{
	unsigned char buf[8 + SM_VAL];

	if (value.len > SM_VAL)
		return 99;
	put_u64(buf, version);
	if (value.len)
		memcpy(buf + 8, value.data, value.len);
	rs_m_append(ctx, name.data, name.len, buf, 8 + value.len);
	return 0;
}

struct ev_walk {
	const sm_run *r;
	uint64_t next;
	uint8_t prev[RS_HASH_LEN];
	uint64_t prev_ts;
	char *why;
	size_t cap;
};

static int check_event(const rs_event *ev, void *ctx)
{
	struct ev_walk *w = ctx;
	const sm_event *e;

	if (ev->seq != w->next || ev->seq - w->r->base >= w->r->nev)
		return whyf(w->why, w->cap,
			    "event %" PRIu64 " where %" PRIu64
			    " was due (model has %zu from %" PRIu64 ")",
			    ev->seq, w->next, w->r->nev, w->r->base),
		       1;
	e = &w->r->ev[ev->seq - w->r->base];
	if (ev->type.len != strlen(e->type) ||
	    memcmp(ev->type.data, e->type, ev->type.len) ||
	    ev->payload.len != e->plen ||
	    (e->plen && memcmp(ev->payload.data, e->pl, e->plen)))
		return whyf(w->why, w->cap,
			    "event %" PRIu64 ": type or payload differ",
			    ev->seq),
		       1;
	if (memcmp(ev->prev_hash, w->prev, RS_HASH_LEN))
		return whyf(w->why, w->cap,
			    "event %" PRIu64
			    ": prev_hash is not the hash before",
			    ev->seq),
		       1;
	if (ev->timestamp_ns < w->prev_ts)
		return whyf(w->why, w->cap,
			    "event %" PRIu64 ": timestamp went back", ev->seq),
		       1;
	if (w->r->known && (ev->timestamp_ns != e->ts ||
			    memcmp(ev->hash, e->hash, RS_HASH_LEN)))
		return whyf(w->why, w->cap,
			    "event %" PRIu64
			    ": timestamp or hash differ from its receipt",
			    ev->seq),
		       1;
	memcpy(w->prev, ev->hash, RS_HASH_LEN);
	w->prev_ts = ev->timestamp_ns;
	w->next++;
	return 0;
}

static bool same_trace(const rs_trace *t, const sm_trace *m)
{
	rs_bytes tag;

	if (t->type.len != strlen(m->type) ||
	    memcmp(t->type.data, m->type, t->type.len) ||
	    t->payload.len != m->plen ||
	    (m->plen && memcmp(t->payload.data, m->pl, m->plen)) ||
	    t->parent != m->parent || t->ntags != m->ntags)
		return false;
	for (size_t i = 0; i < m->ntags; i++)
		if (rs_trace_tag(t, i, &tag) || tag.len != strlen(m->tags[i]) ||
		    memcmp(tag.data, m->tags[i], tag.len))
			return false;
	return true;
}

bool sm_check_run(rs_db *db, const sm_run *r, char *why, size_t cap)
{
	rs_model got;
	uint64_t v = 0, len = 0, bad = 0, prev_ts = 0;
	uint8_t head[RS_HASH_LEN];
	unsigned char buf[512];
	struct ev_walk w = { r, r->base, { 0 }, 0, why, cap };
	rs_event ev;
	rs_trace tr;
	int rc;
	bool ok;

	if ((rc = rs_db_run_version(db, &r->id, &v)) || v != r->version)
		return whyf(why, cap,
			    "run version %" PRIu64 " (%s), model says %" PRIu64,
			    v, rs_errname(rc), r->version);
	rs_m_init(&got);
	rc = rs_kv_scan(db, &r->id, NULL, NULL, rs_m_collect_cb, &got);
	ok = rc == 0 && rs_m_same(&got, &r->kv, why, cap);
	rs_m_free(&got);
	if (!ok)
		return rc ? whyf(why, cap, "kv scan: %s", rs_errname(rc))
			  : false;
	rc = rs_statecell_scan(db, &r->id, NULL, NULL, collect_cell, &got);
	ok = rc == 0 && rs_m_same(&got, &r->cells, why, cap);
	rs_m_free(&got);
	if (!ok)
		return rc ? whyf(why, cap, "cell scan: %s", rs_errname(rc))
			  : false;
	if ((rc = rs_eventlog_head(db, &r->id, &len, head)) ||
	    len != r->base + r->nev)
		return whyf(why, cap,
			    "eventlog length %" PRIu64
			    " (%s), model says %" PRIu64,
			    len, rs_errname(rc), r->base + r->nev);
	rc = rs_eventlog_read_range(db, &r->id, 0, UINT64_MAX, check_event, &w);
	if (rc)
		return rc == 1 ? false
			       : whyf(why, cap, "read_range: %s",
				      rs_errname(rc));
	if (w.next != r->base + r->nev || memcmp(head, w.prev, RS_HASH_LEN))
		return whyf(why, cap,
			    "read_range ended at %" PRIu64
			    " of %zu events from %" PRIu64
			    ", or the head hash is not the last event's",
			    w.next, r->nev, r->base);
	/* Nothing below the life's base: an earlier life is gone. */
	if (r->base &&
	    (rc = rs_eventlog_read(db, &r->id, r->base - 1, &ev, buf,
				   sizeof(buf), NULL)) != RS_ENOTFOUND)
		return whyf(why, cap, "event %" PRIu64 " below the base: %s",
			    r->base - 1, rs_errname(rc));
	if ((rc = rs_eventlog_verify_chain(db, &r->id, &bad)))
		return whyf(why, cap, "verify_chain: %s at %" PRIu64,
			    rs_errname(rc), bad);
	if (r->base &&
	    (rc = rs_tracestore_get(db, &r->id, r->base - 1, &tr, buf,
				    sizeof(buf), NULL)) != RS_ENOTFOUND)
		return whyf(why, cap, "trace %" PRIu64 " below the base: %s",
			    r->base - 1, rs_errname(rc));
	for (size_t i = 0; i <= r->ntr; i++) {
		rs_trace t;

		rc = rs_tracestore_get(db, &r->id, r->base + i, &t, buf,
				       sizeof(buf), NULL);
		if (i == r->ntr) {
			if (rc != RS_ENOTFOUND)
				return whyf(why, cap,
					    "trace %zu past the model's: %s", i,
					    rs_errname(rc));
			break;
		}
		if (rc)
			return whyf(why, cap, "trace %zu: %s", i,
				    rs_errname(rc));
		if (!same_trace(&t, &r->tr[i]))
			return whyf(why, cap, "trace %zu differs", i);
		if (t.timestamp_ns < prev_ts ||
		    (r->known && t.timestamp_ns != r->tr[i].ts))
			return whyf(why, cap, "trace %zu: timestamp", i);
		prev_ts = t.timestamp_ns;
	}
	return true;
}

bool sm_learn(rs_db *db, sm_run *r, size_t ev_from, size_t tr_from, char *why,
	      size_t cap)
{
	unsigned char buf[512];
	int rc;

	for (size_t i = ev_from; i < r->nev; i++) {
		rs_event ev;

		rc = rs_eventlog_read(db, &r->id, r->base + i, &ev, buf,
				      sizeof(buf), NULL);
		if (rc)
			return whyf(why, cap, "event %zu after commit: %s", i,
				    rs_errname(rc));
		r->ev[i].ts = ev.timestamp_ns;
		memcpy(r->ev[i].hash, ev.hash, RS_HASH_LEN);
	}
	for (size_t i = tr_from; i < r->ntr; i++) {
		rs_trace t;

		rc = rs_tracestore_get(db, &r->id, r->base + i, &t, buf,
				       sizeof(buf), NULL);
		if (rc)
			return whyf(why, cap, "trace %zu after commit: %s", i,
				    rs_errname(rc));
		r->tr[i].ts = t.timestamp_ns;
	}
	r->known = true;
	return true;
}
