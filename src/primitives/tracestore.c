/* SPDX-License-Identifier: MIT */
/*
 * TraceStore: spans of work per run, with indices by type, tag, parent and
 * time. A stateless facade over the txn layer.
 *
 * Keys (tag RS__TAG_TRACESTORE; all integers big-endian):
 *   0x00                     meta: u64 count (the next id), u64 last ts
 *   0x01 id                  trace: u64 timestamp, u64 parent
 *                            (RS_TRACE_NONE for a root), u32 type length,
 *                            type, u32 tag count, tags (u32 length +
 *                            bytes each), payload
 *   0x02 u32-len type [ord]  ordinal list (prim.h) of the type's ids
 *   0x03 u32-len tag [ord]   ordinal list of the tag's ids
 *   0x04 u32-8 parent [ord]  ordinal list of the parent's children
 * Every name is length-prefixed after its kind byte, so no index key can
 * equal or extend another's (tag "a" never reaches tag "a__b"), and the
 * tag keeps all of it apart from KV and the other primitives.
 *
 * A record is a deferred step (txn/txn.h): under the run's commit lock it takes
 * the count as the id (dense, in commit order), stamps max(last, now) (so
 * timestamps never decrease along ids, which makes time queries a binary
 * search over ids) and appends the id to each of its index lists, all in
 * the same commit as the trace. Queries read a list's length and then
 * point-read entries and traces: O(results). In a transaction, its
 * pending records follow, found in one pass over its deferred steps.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <string.h>

#include "primitives/prim.h"
#include "txn/txn.h"
#include "util/clock.h"
#include "util/error.h"

#define TAG RS__TAG_TRACESTORE
#define K_META 0x00
#define K_TRACE 0x01
#define K_TYPE 0x02
#define K_TAG 0x03
#define K_CHILD 0x04

#define REC_HDR (8 + 8 + 4)
#define META_LEN 16

static const unsigned char meta_key[1] = { K_META };

/* A pending record: the step's argument. */
typedef struct tr_record {
	unsigned char *val; /* the trace value; ts and parent set at commit */
	size_t vlen;
	uint64_t parent;  /* as given: an id, a pending handle, or NONE */
	uint64_t handle;  /* its own pending handle */
	uint64_t id;	  /* assigned at commit */
	uint64_t *id_out; /* the caller's, or NULL: receives id */
} tr_record;

static const rs__step_type record_step;

static bool is_pending(uint64_t id)
{
	return id != RS_TRACE_NONE && (id & RS_TRACE_PENDING);
}

static void trace_key(unsigned char key[9], uint64_t id)
{
	key[0] = K_TRACE;
	rs__put_u64(key + 1, id);
}

static size_t child_prefix(unsigned char *prefix, uint64_t parent)
{
	unsigned char id[8];

	rs__put_u64(id, parent);
	return rs__ol_prefix(prefix, K_CHILD, id, sizeof(id));
}

/* Parse a trace value; views point into it. */
static int trace_parse(const void *data, size_t len, uint64_t id, rs_trace *t)
{
	const unsigned char *p = data, *tags_enc;
	size_t off, size, ntags;
	uint32_t tlen;

	if (len < REC_HDR)
		return RS_ECORRUPT;
	tlen = rs__get_u32(p + 16);
	if (len - REC_HDR < tlen)
		return RS_ECORRUPT;
	off = REC_HDR + tlen;
	if (!(size = rs__tags_read(p + off, len - off, &ntags, &tags_enc)))
		return RS_ECORRUPT;
	off += size;
	t->id = id;
	t->timestamp_ns = rs__get_u64(p);
	t->parent = rs__get_u64(p + 8);
	t->type.data = p + REC_HDR;
	t->type.len = tlen;
	t->ntags = ntags;
	t->tags_enc = tags_enc;
	t->payload.data = p + off;
	t->payload.len = len - off;
	t->flags = 0;
	return 0;
}

static void pending_view(const tr_record *r, rs_trace *t)
{
	(void)trace_parse(r->val, r->vlen, r->handle, t);
	t->parent = r->parent;
	t->timestamp_ns = 0;
	t->flags = RS_TRACE_F_PENDING;
}

int rs_trace_tag(const rs_trace *t, size_t i, rs_bytes *tag_out)
{
	RS_CHECK_ARG(t && tag_out && i < t->ntags);
	return rs__tags_at(t->tags_enc, t->ntags, i, tag_out);
}

/* ---- recording ---- */

/* Absent: no trace yet, the next id is the run's base. */
static int read_meta(int rc, rs_bytes v, uint64_t base, uint64_t *count,
		     uint64_t *ts)
{
	if (rc == RS_ENOTFOUND) {
		*count = base;
		*ts = 0;
		return 0;
	}
	RS_TRY(rc);
	if (v.len != META_LEN)
		return RS_ECORRUPT;
	*count = rs__get_u64(v.data);
	*ts = rs__get_u64((const unsigned char *)v.data + 8);
	return 0;
}

int rs__tracestore_floor(rs__cc *cc, uint64_t *floor_out)
{
	uint64_t ts;
	rs_bytes v;

	return read_meta(rs__cc_also_read(cc, TAG, meta_key, 1, &v), v,
			 rs__cc_also_base(cc), floor_out, &ts);
}

static int record_run(rs__cc *cc, void *arg)
{
	tr_record *r = arg;
	unsigned char key[9], prefix[RS__OL_PREFIX_MAX];
	unsigned char *idv, *meta;
	uint64_t count, last, ts, now = rs__clock_realtime_ns();
	uint64_t parent = r->parent;
	rs_trace t;
	rs_bytes v, tag;

	RS_TRY(read_meta(rs__cc_read(cc, TAG, meta_key, 1, &v), v,
			 rs__cc_base(cc), &count, &last));
	ts = now > last ? now : last;
	if (is_pending(parent)) {
		/* An earlier step of this transaction: already assigned. */
		const tr_record *p = rs__cc_step_arg(
			cc, parent & ~RS_TRACE_PENDING, &record_step);

		if (!p)
			return RS_ENOTFOUND;
		parent = p->id;
	} else if (parent != RS_TRACE_NONE &&
		   (parent >= count || parent < rs__cc_base(cc))) {
		return RS_ENOTFOUND; /* not a trace of this life */
	}
	rs__put_u64(r->val, ts);
	rs__put_u64(r->val + 8, parent);
	trace_key(key, count);
	RS_TRY(rs__cc_write(cc, TAG, key, sizeof(key), r->val, r->vlen, 0));

	if (!(idv = rs__cc_u64(cc, count)))
		return RS_ENOMEM;
	RS_TRY(trace_parse(r->val, r->vlen, count, &t));
	RS_TRY(rs__ol_append(
		cc, TAG, prefix,
		rs__ol_prefix(prefix, K_TYPE, t.type.data, t.type.len), idv, 8,
		NULL));
	for (size_t i = 0; i < t.ntags; i++) {
		RS_TRY(rs__tags_at(t.tags_enc, t.ntags, i, &tag));
		RS_TRY(rs__ol_append(
			cc, TAG, prefix,
			rs__ol_prefix(prefix, K_TAG, tag.data, tag.len), idv, 8,
			NULL));
	}
	if (parent != RS_TRACE_NONE)
		RS_TRY(rs__ol_append(cc, TAG, prefix,
				     child_prefix(prefix, parent), idv, 8,
				     NULL));

	if (!(meta = rs__cc_alloc(cc, META_LEN)))
		return RS_ENOMEM;
	rs__put_u64(meta, count + 1);
	rs__put_u64(meta + 8, ts);
	RS_TRY(rs__cc_write(cc, TAG, meta_key, 1, meta, META_LEN, 0));
	r->id = count;
	return 0;
}

static void record_done(const void *arg, int rc)
{
	const tr_record *r = arg;

	if (rc == 0 && r->id_out)
		*r->id_out = r->id;
}

static const rs__step_type record_step = { record_run, record_done };

static int check_record(const char *type, size_t tlen, const void *payload,
			size_t plen, const rs_bytes *tags, size_t ntags)
{
	RS_TRY(rs__prim_check_text(type, tlen, RS_TYPE_MAX));
	RS_TRY(rs__prim_check_bytes(payload, plen));
	return rs__prim_check_tags(tags, ntags);
}

static int stage_record(rs_txn *txn, const char *type, size_t tlen,
			const void *payload, size_t plen, const rs_bytes *tags,
			size_t ntags, uint64_t parent, uint64_t *id_out)
{
	size_t tsize = rs__tags_size(tags, ntags);
	size_t vlen = REC_HDR + tlen + 4 + tsize + plen;
	unsigned char *val, *p;
	tr_record *r;

	if (rs__txn_readonly(txn))
		return RS_EREADONLY;
	if (!(val = rs__txn_alloc(txn, vlen)))
		return RS_ENOMEM;
	RS_TRY(rs__txn_defer(txn, &record_step, sizeof(*r), (void **)&r));
	memset(val, 0, 16);
	rs__put_u32(val + 16, (uint32_t)tlen);
	memcpy(val + REC_HDR, type, tlen);
	p = val + REC_HDR + tlen;
	rs__put_u32(p, (uint32_t)ntags);
	p = rs__tags_put(p + 4, tags, ntags);
	if (plen)
		memcpy(p, payload, plen);
	r->val = val;
	r->vlen = vlen;
	r->parent = parent;
	r->handle = RS_TRACE_PENDING | (rs__txn_nsteps(txn) - 1);
	r->id_out = id_out;
	return 0;
}

struct record_req {
	const char *type;
	size_t tlen;
	const void *payload;
	size_t plen;
	const rs_bytes *tags;
	size_t ntags;
	uint64_t parent;
	uint64_t *id_out;
};

static int stage_record_req(rs_txn *txn, const void *arg)
{
	const struct record_req *q = arg;

	return stage_record(txn, q->type, q->tlen, q->payload, q->plen, q->tags,
			    q->ntags, q->parent, q->id_out);
}

int rs_tracestore_record(rs_db *db, const rs_run_id *run, const char *type,
			 size_t type_len, const void *payload,
			 size_t payload_len, const rs_bytes *tags, size_t ntags,
			 uint64_t parent, uint64_t *id_out)
{
	struct record_req q = { type, type_len, payload, payload_len,
				tags, ntags,	parent,	 id_out };

	RS_TRY(rs__prim_check_db_run(db, run));
	RS_TRY(check_record(type, type_len, payload, payload_len, tags, ntags));
	/* No transaction here, so no pending handle can name a parent. */
	if (is_pending(parent))
		return RS_ENOTFOUND;
	return rs__txn_oneshot(db, run, stage_record_req, &q);
}

/* ---- the view of a transaction: snapshot + pending records ---- */

static const tr_record *pending_get(const rs_txn *txn, uint64_t handle)
{
	uint64_t k = handle & ~RS_TRACE_PENDING;

	return rs__txn_step_arg(txn, k, &record_step);
}

static int view_get(rs_txn *txn, uint64_t id, rs_trace *t)
{
	unsigned char key[9];
	const tr_record *r;
	rs_bytes v;

	if (id == RS_TRACE_NONE)
		return RS_ENOTFOUND;
	if (is_pending(id)) {
		if (!(r = pending_get(txn, id)))
			return RS_ENOTFOUND;
		pending_view(r, t);
		return 0;
	}
	trace_key(key, id);
	RS_TRY(rs__txn_read(txn, TAG, key, sizeof(key), &v));
	return trace_parse(v.data, v.len, id, t);
}

/* Which pending records a query matches. */
typedef struct matcher {
	uint8_t kind;	  /* K_TYPE, K_TAG or K_CHILD */
	const void *name; /* type or tag */
	size_t len;
	uint64_t parent; /* K_CHILD */
} matcher;

static bool pending_matches(const tr_record *r, const matcher *m)
{
	rs_trace t;
	rs_bytes tag;

	if (m->kind == K_CHILD)
		return r->parent == m->parent;
	pending_view(r, &t);
	if (m->kind == K_TYPE)
		return t.type.len == m->len &&
		       memcmp(t.type.data, m->name, m->len) == 0;
	for (size_t i = 0; i < t.ntags; i++) {
		(void)rs__tags_at(t.tags_enc, t.ntags, i, &tag);
		if (tag.len == m->len && memcmp(tag.data, m->name, m->len) == 0)
			return true;
	}
	return false;
}

static size_t matcher_prefix(const matcher *m, unsigned char *prefix)
{
	if (m->kind == K_CHILD)
		return child_prefix(prefix, m->parent);
	return rs__ol_prefix(prefix, m->kind, m->name, m->len);
}

/*
 * A position in a query's list in the view: the committed entries (n of
 * them) first, then the matching pending records. For a pending position
 * it remembers where the search stopped (steps before `step` hold no
 * later match; one found at or after it is at list position `at`), so a
 * walk visits each step at most twice, not once per entry.
 */
typedef struct lcur {
	uint64_t pos;
	size_t step;
	uint64_t at;
} lcur;

static void lcur_init(lcur *c, uint64_t n, uint64_t pos)
{
	c->pos = pos;
	c->step = 0;
	c->at = n;
}

/* The entry at c->pos (c->pos++ moves on). RS_ENOTFOUND past the end. */
static int list_at(rs_txn *txn, const matcher *m, const unsigned char *prefix,
		   size_t plen, uint64_t n, lcur *c, rs_trace *t)
{
	rs_bytes v;
	int rc;

	if (c->pos < n) {
		RS_TRY(rs__ol_get(txn, TAG, prefix, plen, c->pos, &v));
		if (v.len != 8)
			return RS_ECORRUPT;
		rc = view_get(txn, rs__get_u64(v.data), t);
		return rc == RS_ENOTFOUND ? RS_ECORRUPT : rc;
	}
	for (; c->step < rs__txn_nsteps(txn); c->step++) {
		const tr_record *r =
			rs__txn_step_arg(txn, c->step, &record_step);

		if (!r || !pending_matches(r, m))
			continue;
		if (c->at == c->pos) {
			pending_view(r, t);
			return 0;
		}
		c->at++;
	}
	return RS_ENOTFOUND;
}

static int list_len(rs_txn *txn, const matcher *m, const unsigned char *prefix,
		    size_t plen, uint64_t *n)
{
	/* A pending parent has no committed children. */
	if (m->kind == K_CHILD && is_pending(m->parent)) {
		*n = 0;
		return 0;
	}
	return rs__ol_len(txn, TAG, prefix, plen, n);
}

static int view_query(rs_txn *txn, const matcher *m, uint64_t *cursor,
		      size_t limit, bool *more_out, rs_tracestore_trace_cb cb,
		      void *ctx)
{
	unsigned char prefix[RS__OL_PREFIX_MAX];
	size_t plen = matcher_prefix(m, prefix), done = 0;
	uint64_t n;
	rs_trace t;
	lcur c;
	int rc = 0;

	RS_TRY(list_len(txn, m, prefix, plen, &n));
	for (lcur_init(&c, n, *cursor); !limit || done < limit;
	     c.pos++, done++) {
		rc = list_at(txn, m, prefix, plen, n, &c, &t);
		if (rc == RS_ENOTFOUND)
			break;
		RS_TRY(rc);
		*cursor = c.pos + 1;
		if ((rc = cb(&t, ctx)) != 0)
			return rc;
	}
	if (more_out) {
		rc = list_at(txn, m, prefix, plen, n, &c, &t);
		if (rc < 0 && rc != RS_ENOTFOUND)
			return rc;
		*more_out = rc == 0;
	}
	return 0;
}

/* The first id in [lo, hi) whose timestamp is >= t0 (hi if none). */
static int time_lower_bound(rs_txn *txn, uint64_t lo, uint64_t hi, uint64_t t0,
			    uint64_t *out)
{
	rs_trace t;

	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		int rc = view_get(txn, mid, &t);

		RS_TRY(rc == RS_ENOTFOUND ? RS_ECORRUPT : rc);
		if (t.timestamp_ns < t0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*out = lo;
	return 0;
}

static int view_by_time(rs_txn *txn, uint64_t t0, uint64_t t1, uint64_t *cursor,
			size_t limit, bool *more_out, rs_tracestore_trace_cb cb,
			void *ctx)
{
	uint64_t count, last, id;
	size_t done = 0;
	rs_trace t;
	rs_bytes v;
	int rc;

	uint64_t from = *cursor, base = rs__txn_base(txn);

	RS_TRY(read_meta(rs__txn_read(txn, TAG, meta_key, 1, &v), v, base,
			 &count, &last));
	if (more_out)
		*more_out = false;
	if (from < base) /* ids of this life start at its base */
		from = base;
	if (from >= count)
		return 0;
	RS_TRY(time_lower_bound(txn, from, count, t0, &id));
	for (; id < count; id++) {
		rc = view_get(txn, id, &t);
		RS_TRY(rc == RS_ENOTFOUND ? RS_ECORRUPT : rc);
		if (t.timestamp_ns >= t1)
			break;
		if (limit && done == limit) {
			if (more_out)
				*more_out = true;
			break;
		}
		done++;
		*cursor = id + 1;
		if ((rc = cb(&t, ctx)) != 0)
			return rc;
	}
	return 0;
}

typedef struct frame {
	uint64_t id;
	lcur next;  /* the next child to visit */
	uint64_t n; /* committed children */
	unsigned depth;
} frame;

/* Depth first, pre-order, with an explicit stack (depth-bounded). */
static int view_tree(rs_txn *txn, uint64_t root, unsigned max_depth,
		     rs_tracestore_tree_cb cb, void *ctx)
{
	const rs__alloc *a = rs__txn_allocator(txn);
	unsigned char prefix[RS__OL_PREFIX_MAX];
	frame *stack = NULL;
	size_t cap = 0, top = 0;
	rs_trace t;
	matcher m = { K_CHILD, NULL, 0, 0 };
	int rc;

	RS_TRY(view_get(txn, root, &t));
	if ((rc = cb(&t, 0, ctx)) != 0 || max_depth == 0)
		return rc;
	if ((rc = rs__grow(a, (void **)&stack, &cap, 1, sizeof(*stack))) < 0)
		return rc;
	m.parent = root;
	rc = list_len(txn, &m, prefix, matcher_prefix(&m, prefix), &stack[0].n);
	stack[0].id = root;
	lcur_init(&stack[0].next, stack[0].n, 0);
	stack[0].depth = 0;
	top = 1;
	while (rc == 0 && top > 0) {
		frame *f = &stack[top - 1];

		m.parent = f->id;
		rc = list_at(txn, &m, prefix, matcher_prefix(&m, prefix), f->n,
			     &f->next, &t);
		if (rc == RS_ENOTFOUND) {
			rc = 0;
			top--;
			continue;
		}
		if (rc < 0)
			break;
		f->next.pos++;
		if ((rc = cb(&t, f->depth + 1, ctx)) != 0)
			break;
		if (f->depth + 1 >= max_depth)
			continue;
		rc = rs__grow(a, (void **)&stack, &cap, top + 1,
			      sizeof(*stack));
		if (rc < 0)
			break;
		f = &stack[top];
		f->id = t.id;
		f->depth = stack[top - 1].depth + 1;
		m.parent = t.id;
		rc = list_len(txn, &m, prefix, matcher_prefix(&m, prefix),
			      &f->n);
		lcur_init(&f->next, f->n, 0);
		top++;
	}
	rs__free(a, stack);
	return rc;
}

/* ---- one-shot reads ---- */

int rs_tracestore_get(rs_db *db, const rs_run_id *run, uint64_t id,
		      rs_trace *t_out, void *buf, size_t cap,
		      size_t *needed_out)
{
	rs__copy_out co = { NULL, 0, buf, cap, 0 };
	unsigned char key[9];
	int rc;

	RS_TRY(rs__prim_check_db_run(db, run));
	RS_CHECK_ARG(t_out && (buf || cap == 0));
	if (id == RS_TRACE_NONE || is_pending(id))
		return RS_ENOTFOUND;
	trace_key(key, id);
	rc = rs__txn_read_latest(db, run, TAG, key, sizeof(key), &co);
	/* Parsed in the caller's buffer: the views point there. */
	if (rc == 0)
		rc = trace_parse(buf, co.len, id, t_out);
	if (needed_out && (rc == 0 || rc == RS_ENOSPC))
		*needed_out = co.len;
	return rc;
}

static int oneshot_query(rs_db *db, const rs_run_id *run, const matcher *m,
			 uint64_t *cursor, size_t limit, bool *more_out,
			 rs_tracestore_trace_cb cb, void *ctx)
{
	rs_txn *txn;
	int rc;

	RS_CHECK_ARG(cursor && cb);
	RS_TRY(rs__txn_begin(&txn, db, run, RS_TXN_F_READONLY));
	rc = view_query(txn, m, cursor, limit, more_out, cb, ctx);
	rs__txn_abort(txn);
	return rc;
}

int rs_tracestore_query_by_type(rs_db *db, const rs_run_id *run,
				const char *type, size_t type_len,
				uint64_t *cursor, size_t limit, bool *more_out,
				rs_tracestore_trace_cb cb, void *ctx)
{
	matcher m = { K_TYPE, type, type_len, 0 };

	RS_TRY(rs__prim_check_db_run(db, run));
	RS_TRY(rs__prim_check_text(type, type_len, RS_TYPE_MAX));
	return oneshot_query(db, run, &m, cursor, limit, more_out, cb, ctx);
}

int rs_tracestore_query_by_tag(rs_db *db, const rs_run_id *run, const char *tag,
			       size_t tag_len, uint64_t *cursor, size_t limit,
			       bool *more_out, rs_tracestore_trace_cb cb,
			       void *ctx)
{
	matcher m = { K_TAG, tag, tag_len, 0 };

	RS_TRY(rs__prim_check_db_run(db, run));
	RS_TRY(rs__prim_check_text(tag, tag_len, RS_TAG_MAX));
	return oneshot_query(db, run, &m, cursor, limit, more_out, cb, ctx);
}

int rs_tracestore_children(rs_db *db, const rs_run_id *run, uint64_t parent,
			   uint64_t *cursor, size_t limit, bool *more_out,
			   rs_tracestore_trace_cb cb, void *ctx)
{
	matcher m = { K_CHILD, NULL, 0, parent };

	RS_TRY(rs__prim_check_db_run(db, run));
	RS_CHECK_ARG(parent != RS_TRACE_NONE && !is_pending(parent));
	return oneshot_query(db, run, &m, cursor, limit, more_out, cb, ctx);
}

int rs_tracestore_query_by_time(rs_db *db, const rs_run_id *run, uint64_t t0,
				uint64_t t1, uint64_t *cursor, size_t limit,
				bool *more_out, rs_tracestore_trace_cb cb,
				void *ctx)
{
	rs_txn *txn;
	int rc;

	RS_TRY(rs__prim_check_db_run(db, run));
	RS_CHECK_ARG(cursor && cb && t0 <= t1);
	RS_TRY(rs__txn_begin(&txn, db, run, RS_TXN_F_READONLY));
	rc = view_by_time(txn, t0, t1, cursor, limit, more_out, cb, ctx);
	rs__txn_abort(txn);
	return rc;
}

int rs_tracestore_get_tree(rs_db *db, const rs_run_id *run, uint64_t root,
			   unsigned max_depth, rs_tracestore_tree_cb cb,
			   void *ctx)
{
	rs_txn *txn;
	int rc;

	RS_TRY(rs__prim_check_db_run(db, run));
	RS_CHECK_ARG(cb && root != RS_TRACE_NONE && !is_pending(root));
	RS_TRY(rs__txn_begin(&txn, db, run, RS_TXN_F_READONLY));
	rc = view_tree(txn, root, max_depth, cb, ctx);
	rs__txn_abort(txn);
	return rc;
}

/* ---- in a transaction ---- */

int rs_txn_tracestore_record(rs_txn *txn, const char *type, size_t type_len,
			     const void *payload, size_t payload_len,
			     const rs_bytes *tags, size_t ntags,
			     uint64_t parent, uint64_t *id_out)
{
	rs_trace t;

	RS_TRY(rs__txn_check(txn));
	RS_TRY(check_record(type, type_len, payload, payload_len, tags, ntags));
	if (rs__txn_readonly(txn))
		return RS_EREADONLY;
	/* The parent must be in the view; a committed one joins the read
	 * set, so the commit conflicts if it vanished (run deleted). */
	if (parent != RS_TRACE_NONE)
		RS_TRY(view_get(txn, parent, &t));
	RS_TRY(stage_record(txn, type, type_len, payload, payload_len, tags,
			    ntags, parent, id_out));
	if (id_out)
		*id_out = RS_TRACE_PENDING | (rs__txn_nsteps(txn) - 1);
	return 0;
}

int rs_txn_tracestore_get(rs_txn *txn, uint64_t id, rs_trace *t_out)
{
	RS_TRY(rs__txn_check(txn));
	RS_CHECK_ARG(t_out);
	return view_get(txn, id, t_out);
}

int rs_txn_tracestore_query_by_type(rs_txn *txn, const char *type,
				    size_t type_len, uint64_t *cursor,
				    size_t limit, bool *more_out,
				    rs_tracestore_trace_cb cb, void *ctx)
{
	matcher m = { K_TYPE, type, type_len, 0 };

	RS_TRY(rs__txn_check(txn));
	RS_TRY(rs__prim_check_text(type, type_len, RS_TYPE_MAX));
	RS_CHECK_ARG(cursor && cb);
	return view_query(txn, &m, cursor, limit, more_out, cb, ctx);
}

int rs_txn_tracestore_query_by_tag(rs_txn *txn, const char *tag, size_t tag_len,
				   uint64_t *cursor, size_t limit,
				   bool *more_out, rs_tracestore_trace_cb cb,
				   void *ctx)
{
	matcher m = { K_TAG, tag, tag_len, 0 };

	RS_TRY(rs__txn_check(txn));
	RS_TRY(rs__prim_check_text(tag, tag_len, RS_TAG_MAX));
	RS_CHECK_ARG(cursor && cb);
	return view_query(txn, &m, cursor, limit, more_out, cb, ctx);
}

int rs_txn_tracestore_children(rs_txn *txn, uint64_t parent, uint64_t *cursor,
			       size_t limit, bool *more_out,
			       rs_tracestore_trace_cb cb, void *ctx)
{
	matcher m = { K_CHILD, NULL, 0, parent };

	RS_TRY(rs__txn_check(txn));
	RS_CHECK_ARG(parent != RS_TRACE_NONE && cursor && cb);
	return view_query(txn, &m, cursor, limit, more_out, cb, ctx);
}

int rs_txn_tracestore_query_by_time(rs_txn *txn, uint64_t t0, uint64_t t1,
				    uint64_t *cursor, size_t limit,
				    bool *more_out, rs_tracestore_trace_cb cb,
				    void *ctx)
{
	RS_TRY(rs__txn_check(txn));
	RS_CHECK_ARG(cursor && cb && t0 <= t1);
	return view_by_time(txn, t0, t1, cursor, limit, more_out, cb, ctx);
}

int rs_txn_tracestore_get_tree(rs_txn *txn, uint64_t root, unsigned max_depth,
			       rs_tracestore_tree_cb cb, void *ctx)
{
	RS_TRY(rs__txn_check(txn));
	RS_CHECK_ARG(cb && root != RS_TRACE_NONE);
	return view_tree(txn, root, max_depth, cb, ctx);
}
