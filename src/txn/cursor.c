/* SPDX-License-Identifier: MIT */
/*
 * Ordered access to a transaction's view: cursors, range scans, listings.
 *
 * The view of one tag in key order is the snapshot's entries (the store's
 * ordered index, storage/index.c) merged with the transaction's staged
 * writes: a staged put shadows the snapshot's entry of the same key, a
 * staged delete hides it. The staged writes are sorted on demand into
 * `wsorted` (rebuilt when a write was added since), so a merge step is one
 * store step plus a binary search of the staged keys.
 *
 * Range reads. A cursor of a read-write transaction records the interval
 * of keys it has walked over, from where its seek started to the entry it
 * reached (or the bound, when it reached none), and widens it with every
 * step. At commit every key inside every recorded interval must have no
 * version newer than the snapshot (commit.c): a key created, changed or
 * deleted inside what the transaction scanned is a conflict, one outside
 * it is not. Intervals are exact: a scan that stopped at its limit
 * protects up to the last entry it read (the one more it peeked at, when
 * asked whether more remain), not the rest of its range.
 */
#define _GNU_SOURCE
#include "txn/txn.h"

#include <stdlib.h>
#include <string.h>

#include "util/error.h"

static const unsigned char empty_key[1];

/* ---- the staged writes in order ---- */

static int op_cmp(const void *pa, const void *pb)
{
	const rs__op *a = *(const rs__op *const *)pa;
	const rs__op *b = *(const rs__op *const *)pb;

	return rs__tagkey_cmp(a->tag, a->key, a->klen, b->tag, b->key, b->klen);
}

static int sort_writes(rs_txn *txn)
{
	size_t n = txn->writes.n;

	if (txn->nwsorted == n)
		return 0;
	RS_TRY(rs__grow(&txn->db->alloc, (void **)&txn->wsorted, &txn->cwsorted,
			n, sizeof(*txn->wsorted)));
	for (size_t i = 0; i < n; i++)
		txn->wsorted[i] = &txn->writes.ops[i];
	qsort(txn->wsorted, n, sizeof(*txn->wsorted), op_cmp);
	txn->nwsorted = n;
	return 0;
}

/*
 * The staged write next to a position: the first after (tag, key)
 * forward (at it too, when `incl`), the last before it backward; NULL
 * when there is none of `want` (a tag) there.
 */
static const rs__op *staged_near(const rs_txn *txn, unsigned tag,
				 const void *key, size_t klen, bool incl,
				 int dir, uint8_t want)
{
	size_t lo = 0, hi = txn->nwsorted;
	/* Forward: the first op > key (>= when incl). Backward: the last op
	 * < key (<= when incl), i.e. the one before the first op >= key
	 * (> when incl). */
	bool strict = dir > 0 ? !incl : incl;
	const rs__op *op;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const rs__op *m = txn->wsorted[mid];
		int c = rs__tagkey_cmp(m->tag, m->key, m->klen, tag, key, klen);

		if (c < 0 || (c == 0 && strict))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (dir < 0) {
		if (lo == 0)
			return NULL;
		lo--;
	} else if (lo == txn->nwsorted) {
		return NULL;
	}
	op = txn->wsorted[lo];
	return op->tag == want ? op : NULL;
}

static const rs__op *staged_step(const rs_txn *txn, const rs__op *op, int dir)
{
	return staged_near(txn, op->tag, op->key, op->klen, false, dir,
			   op->tag);
}

/* ---- cursors ---- */

static const rs__bound unbounded = { NULL, 0, false, true };

void rs__tcur_init(rs__tcur *c, rs_txn *txn, uint8_t tag)
{
	memset(c, 0, sizeof(*c));
	c->txn = txn;
	c->tag = tag;
	c->lo = unbounded;
	c->hi = unbounded;
}

static int bound_copy(rs_txn *txn, rs__bound *dst, const rs__bound *src)
{
	*dst = src ? *src : unbounded;
	if (dst->inf)
		return 0;
	dst->key = dst->len ? rs__arena_dup(&txn->arena, src->key, src->len)
			    : empty_key;
	return dst->key ? 0 : RS_ENOMEM;
}

int rs__tcur_bound(rs__tcur *c, const rs__bound *lo, const rs__bound *hi)
{
	RS_TRY(bound_copy(c->txn, &c->lo, lo));
	RS_TRY(bound_copy(c->txn, &c->hi, hi));
	c->on = false;
	return 0;
}

/*
 * The end of the keys that start with prefix: the shortest key greater
 * than all of them (the prefix with its last non-0xFF byte incremented),
 * in buf; false when there is none (empty, or all 0xFF).
 */
static bool prefix_end(const void *prefix, size_t plen, unsigned char *buf,
		       size_t *len_out)
{
	const unsigned char *p = prefix;

	while (plen && p[plen - 1] == 0xFF)
		plen--;
	if (!plen)
		return false;
	memcpy(buf, p, plen);
	buf[plen - 1]++;
	*len_out = plen;
	return true;
}

/* The range of the keys that start with prefix (its end in the arena). */
static int prefix_range(rs_txn *txn, const void *prefix, size_t plen,
			rs__bound *lo, rs__bound *hi)
{
	unsigned char *end = plen ? rs__txn_alloc(txn, plen) : NULL;
	size_t elen;

	if (plen && !end)
		return RS_ENOMEM;
	*lo = (rs__bound){ plen ? prefix : empty_key, (uint32_t)plen, true,
			   false };
	*hi = unbounded;
	if (plen && prefix_end(prefix, plen, end, &elen))
		*hi = (rs__bound){ end, (uint32_t)elen, false, false };
	return 0;
}

int rs__tcur_prefix(rs__tcur *c, const void *prefix, size_t plen)
{
	rs__bound lo, hi;

	RS_TRY(prefix_range(c->txn, prefix, plen, &lo, &hi));
	return rs__tcur_bound(c, &lo, &hi);
}

/* Whether key lies inside the bound, seen from its side (lo: at or
 * after it; hi: at or before it). */
static bool within(const rs__bound *b, const void *key, size_t klen, int side)
{
	int cmp;

	if (b->inf)
		return true;
	cmp = rs__key_cmp(key, klen, b->key, b->len) * side;
	return cmp < 0 || (cmp == 0 && b->incl);
}

/* ---- range reads ---- */

static bool recording(const rs__tcur *c)
{
	return !(c->txn->flags & (RS_TXN_F_READONLY | RS__TXN_F_BLIND));
}

static int range_open(rs__tcur *c, const rs__bound *lo, const rs__bound *hi)
{
	rs_txn *txn = c->txn;
	rs__range_read *rr;

	RS_TRY(rs__grow(&txn->db->alloc, (void **)&txn->ranges, &txn->cranges,
			txn->nranges + 1, sizeof(*txn->ranges)));
	rr = &txn->ranges[txn->nranges++];
	rr->tag = c->tag;
	rr->lo = *lo;
	rr->hi = *hi;
	c->range = txn->nranges;
	return 0;
}

/* Widen the cursor's range to the entry just reached in direction dir,
 * or (none reached) to the bound on that side. */
static void range_widen(rs__tcur *c, int dir, bool found)
{
	rs__range_read *rr;
	rs__bound *end;

	if (!c->range)
		return;
	rr = &c->txn->ranges[c->range - 1];
	end = dir > 0 ? &rr->hi : &rr->lo;
	if (!found) {
		*end = dir > 0 ? c->hi : c->lo;
		return;
	}
	if (end->inf || !within(end, c->key.data, c->key.len, dir > 0 ? 1 : -1))
		*end = (rs__bound){ c->key.data, (uint32_t)c->key.len, true,
				    false };
}

/* ---- the merge ---- */

/* The entry of s (a store position) or w (a staged write) that comes
 * first in direction dir; equal keys never reach here. */
static bool store_first(const rs__iter *s, const rs__op *w, int dir)
{
	int cmp;

	if (!w)
		return true;
	cmp = rs__key_cmp(s->key.data, s->key.len, w->key, w->klen);
	return dir > 0 ? cmp < 0 : cmp > 0;
}

/*
 * From the store candidate (*s_ok, c->sit) and the staged candidate w,
 * both the first of their side in direction dir, position the cursor on
 * the first entry of the merged view.
 */
static int merge(rs__tcur *c, bool s_ok, const rs__op *w, int dir)
{
	rs__store *st = c->txn->db->store;
	const rs__snap *snap = &c->txn->snap;

	for (;;) {
		int rc;

		if (s_ok && w &&
		    rs__key_cmp(c->sit.key.data, c->sit.key.len, w->key,
				w->klen) == 0) {
			/* Shadowed by a staged write (put or delete). */
			rc = st->ops->step(st, snap, c->tag, &c->sit, dir);
			if (rc < 0 && rc != RS_ENOTFOUND)
				return rc;
			s_ok = rc == 0;
			continue;
		}
		if (w && (w->flags & RS__OP_F_DELETE) &&
		    (!s_ok || !store_first(&c->sit, w, dir))) {
			w = staged_step(c->txn, w, dir);
			continue;
		}
		break;
	}
	if (!s_ok && !w)
		return RS_ENOTFOUND;
	if (s_ok && store_first(&c->sit, w, dir)) {
		c->key = c->sit.key;
		c->val = c->sit.val;
		c->from_store = true;
	} else {
		c->key = (rs_bytes){ w->key, w->klen };
		c->val = (rs_bytes){ w->val, w->vlen };
		c->from_store = false;
	}
	return 0;
}

/* Check the far bound, then note the result. */
static int land(rs__tcur *c, int rc, int dir)
{
	if (rc == 0 && !within(dir > 0 ? &c->hi : &c->lo, c->key.data,
			       c->key.len, dir > 0 ? 1 : -1))
		rc = RS_ENOTFOUND;
	c->on = rc == 0;
	if (rc < 0 && rc != RS_ENOTFOUND)
		return rc; /* no memory: on no entry, nothing recorded */
	range_widen(c, dir, c->on);
	return rc;
}

/* Seek both sides from a position (key NULL: the tag's end). */
static int seek_both(rs__tcur *c, const void *key, size_t klen, int mode)
{
	rs__store *st = c->txn->db->store;
	int dir = (mode == RS__SEEK_GE || mode == RS__SEEK_GT) ? 1 : -1;
	bool incl = mode == RS__SEEK_GE || mode == RS__SEEK_LE;
	const rs__op *w = NULL;
	int rc;

	rc = st->ops->seek(st, &c->txn->snap, c->tag, key, klen, mode, &c->sit);
	if (rc < 0 && rc != RS_ENOTFOUND)
		return rc;
	if (c->txn->writes.n) {
		RS_TRY(sort_writes(c->txn));
		if (key)
			w = staged_near(c->txn, c->tag, key, klen, incl, dir,
					c->tag);
		else /* the start of the tag, or its end: tag + 1 */
			w = staged_near(c->txn, c->tag + (dir < 0), empty_key,
					0, dir > 0, dir, c->tag);
	}
	return merge(c, rc == 0, w, dir);
}

int rs__tcur_seek(rs__tcur *c, const void *key, size_t klen, int mode)
{
	int dir = (mode == RS__SEEK_GE || mode == RS__SEEK_GT) ? 1 : -1;
	const rs__bound *near = dir > 0 ? &c->lo : &c->hi;
	rs__bound start = unbounded;

	/* A start outside the near bound starts at the bound. */
	if (!near->inf && (!key || !within(near, key, klen, -dir))) {
		key = near->key;
		klen = near->len;
		mode = dir > 0 ? (near->incl ? RS__SEEK_GE : RS__SEEK_GT)
			       : (near->incl ? RS__SEEK_LE : RS__SEEK_LT);
	}
	c->range = 0;
	if (recording(c)) {
		/* The interval starts at the seek position; land() and
		 * each step widen it in their direction. */
		if (key) {
			start = (rs__bound){ key, (uint32_t)klen,
					     mode == RS__SEEK_GE ||
						     mode == RS__SEEK_LE,
					     false };
			if (key != near->key)
				start.key = klen ? rs__arena_dup(&c->txn->arena,
								 key, klen)
						 : empty_key;
			if (!start.key)
				return RS_ENOMEM;
		}
		RS_TRY(range_open(c, &start, &start));
	}
	return land(c, seek_both(c, key, klen, mode), dir);
}

int rs__tcur_step(rs__tcur *c, int dir)
{
	rs__store *st = c->txn->db->store;
	const rs__op *w = NULL;
	int rc;

	if (!c->on)
		return rs__tcur_seek(c, NULL, 0,
				     dir > 0 ? RS__SEEK_GE : RS__SEEK_LE);
	if (RS_LIKELY(c->from_store && !c->txn->writes.n)) {
		/* Nothing staged: the view is the snapshot's, one store
		 * step (what merge() would do without a staged side). */
		rc = st->ops->step(st, &c->txn->snap, c->tag, &c->sit, dir);
		if (rc < 0 && rc != RS_ENOTFOUND)
			return rc;
		if (rc == 0) {
			c->key = c->sit.key;
			c->val = c->sit.val;
		}
		return land(c, rc, dir);
	}
	if (c->from_store) {
		rc = st->ops->step(st, &c->txn->snap, c->tag, &c->sit, dir);
	} else {
		rc = st->ops->seek(
			st, &c->txn->snap, c->tag, c->key.data, c->key.len,
			dir > 0 ? RS__SEEK_GT : RS__SEEK_LT, &c->sit);
	}
	if (rc < 0 && rc != RS_ENOTFOUND)
		return rc;
	if (c->txn->writes.n) {
		RS_TRY(sort_writes(c->txn));
		w = staged_near(c->txn, c->tag, c->key.data, c->key.len, false,
				dir, c->tag);
	}
	rc = merge(c, rc == 0, w, dir);
	return land(c, rc, dir);
}

/* ---- scans and listings ---- */

int rs__txn_scan(rs_txn *txn, uint8_t tag, const rs__bound *lo,
		 const rs__bound *hi, const void *resume, size_t rlen,
		 bool reverse, size_t limit, bool *more_out, rs_kv_entry_cb cb,
		 void *ctx)
{
	int dir = reverse ? -1 : 1;
	size_t n = 0;
	rs__tcur c;
	int rc;

	rs__tcur_init(&c, txn, tag);
	RS_TRY(rs__tcur_bound(&c, lo, hi));
	if (more_out)
		*more_out = false;
	if (resume)
		rc = rs__tcur_seek(&c, rlen ? resume : empty_key, rlen,
				   reverse ? RS__SEEK_LT : RS__SEEK_GT);
	else
		rc = rs__tcur_seek(&c, NULL, 0,
				   reverse ? RS__SEEK_LE : RS__SEEK_GE);
	while (rc == 0) {
		if (limit && n == limit) {
			if (more_out)
				*more_out = true;
			return 0;
		}
		if ((rc = cb(c.key, c.val, ctx)) != 0)
			return rc;
		n++;
		if (limit && n == limit && !more_out)
			return 0;
		rc = rs__tcur_step(&c, dir);
	}
	return rc == RS_ENOTFOUND ? 0 : rc;
}

int rs__txn_list(rs_txn *txn, uint8_t tag, const void *prefix, size_t plen,
		 const void *after, size_t alen, size_t limit, bool *more_out,
		 rs_kv_entry_cb cb, void *ctx)
{
	rs__bound lo, hi;

	RS_TRY(prefix_range(txn, prefix, plen, &lo, &hi));
	return rs__txn_scan(txn, tag, &lo, &hi, after, alen, false, limit,
			    more_out, cb, ctx);
}
