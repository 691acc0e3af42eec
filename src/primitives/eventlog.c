/* SPDX-License-Identifier: MIT */
/*
 * EventLog: an append-only, hash-chained log per run. A stateless facade
 * over the txn layer.
 *
 * Keys (tag RS__TAG_EVENTLOG; the kind byte keeps them apart):
 *   0x00                      head: u64 length, u64 last timestamp,
 *                             hash of the last event (32 bytes)
 *   0x01 seq                  event seq (u64 big-endian): u64 timestamp,
 *                             prev_hash (32), hash (32), u32 type length,
 *                             type, payload
 *   0x02 u32-len type         per-type ordinal list (prim.h) of u64
 *   0x02 u32-len type ord     sequences, in sequence order
 * All integers big-endian.
 *
 * Appends are deferred steps (txn/txn.h): under the run's commit lock a step
 * reads the head, takes its length as the sequence, chains to its hash,
 * stamps max(previous timestamp, now), and stages the event, the type
 * index entry and the new head. Sequences are therefore dense and unique
 * and appenders never conflict. The hash encoding is in
 * docs/eventlog-chain.md; eventlog_hash() below is its only implementation.
 */
#define _GNU_SOURCE
#include <sodium.h>
#include <stddef.h>
#include <string.h>

#include "primitives/prim.h"
#include "txn/txn.h"
#include "util/clock.h"
#include "util/error.h"

#define TAG RS__TAG_EVENTLOG
#define K_HEAD 0x00
#define K_EVENT 0x01
#define K_TYPE 0x02

#define EV_HDR (8 + RS_HASH_LEN + RS_HASH_LEN + 4)
#define HEAD_LEN (8 + 8 + RS_HASH_LEN)

static const unsigned char head_key[1] = { K_HEAD };
static const char hash_domain[16] = "runstate.event.1";

typedef struct el_head {
	uint64_t len;
	uint64_t ts;
	uint8_t hash[RS_HASH_LEN];
} el_head;

/* A pending append: the step's argument. */
typedef struct el_append {
	unsigned char *val; /* the event value; header filled at commit */
	size_t vlen;
	uint32_t tlen;
	rs_event_receipt res;
	rs_event_receipt *receipt_out; /* the caller's, or NULL */
} el_append;

static const rs__step_type append_step;

static void event_key(unsigned char key[9], uint64_t seq)
{
	key[0] = K_EVENT;
	rs__put_u64(key + 1, seq);
}

static void hash_u64(crypto_generichash_state *st, uint64_t v)
{
	unsigned char b[8];

	rs__put_u64(b, v);
	crypto_generichash_update(st, b, 8);
}

/* BLAKE2b-256 of the canonical encoding (docs/eventlog-chain.md). */
static void eventlog_hash(uint8_t out[RS_HASH_LEN], uint64_t seq,
			  const void *type, size_t tlen, const void *payload,
			  size_t plen, uint64_t ts,
			  const uint8_t prev[RS_HASH_LEN])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, RS_HASH_LEN);
	crypto_generichash_update(&st, (const unsigned char *)hash_domain,
				  sizeof(hash_domain));
	hash_u64(&st, seq);
	hash_u64(&st, tlen);
	crypto_generichash_update(&st, type, tlen);
	hash_u64(&st, plen);
	if (plen)
		crypto_generichash_update(&st, payload, plen);
	hash_u64(&st, ts);
	crypto_generichash_update(&st, prev, RS_HASH_LEN);
	crypto_generichash_final(&st, out, RS_HASH_LEN);
}

/* An absent head is an empty log whose next sequence is the run's base. */
static int head_parse(int rc, rs_bytes v, uint64_t base, el_head *h)
{
	if (rc == RS_ENOTFOUND) {
		memset(h, 0, sizeof(*h));
		h->len = base;
		return 0;
	}
	RS_TRY(rc);
	if (v.len != HEAD_LEN)
		return RS_ECORRUPT;
	h->len = rs__get_u64(v.data);
	h->ts = rs__get_u64((const unsigned char *)v.data + 8);
	memcpy(h->hash, (const unsigned char *)v.data + 16, RS_HASH_LEN);
	return 0;
}

/* An event from its header (EV_HDR bytes) and its body (type, payload),
 * which need not be contiguous. */
static int event_parse_parts(const unsigned char *hdr,
			     const unsigned char *body, size_t blen,
			     uint64_t seq, rs_event *ev)
{
	uint32_t tlen = rs__get_u32(hdr + 8 + 2 * RS_HASH_LEN);

	/* Append stores a type of 1..RS_TYPE_MAX bytes; anything else was
	 * written by a damaged or hostile log. */
	if (tlen == 0 || tlen > RS_TYPE_MAX || blen < tlen)
		return RS_ECORRUPT;
	ev->seq = seq;
	ev->timestamp_ns = rs__get_u64(hdr);
	memcpy(ev->prev_hash, hdr + 8, RS_HASH_LEN);
	memcpy(ev->hash, hdr + 8 + RS_HASH_LEN, RS_HASH_LEN);
	ev->type.data = body;
	ev->type.len = tlen;
	ev->payload.data = body + tlen;
	ev->payload.len = blen - tlen;
	ev->flags = 0;
	return 0;
}

static int event_parse(const void *data, size_t len, uint64_t seq, rs_event *ev)
{
	const unsigned char *p = data;

	if (len < EV_HDR)
		return RS_ECORRUPT;
	return event_parse_parts(p, p + EV_HDR, len - EV_HDR, seq, ev);
}

static void pending_view(const el_append *a, uint64_t seq, rs_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->seq = seq;
	ev->type.data = a->val + EV_HDR;
	ev->type.len = a->tlen;
	ev->payload.data = a->val + EV_HDR + a->tlen;
	ev->payload.len = a->vlen - EV_HDR - a->tlen;
	ev->flags = RS_EVENT_F_PENDING;
}

/* ---- appending ---- */

static int append_run(rs__cc *cc, void *arg)
{
	el_append *a = arg;
	unsigned char key[9], prefix[RS__OL_PREFIX_MAX];
	unsigned char *type = a->val + EV_HDR, *seqv, *headv;
	size_t plen = a->vlen - EV_HDR - a->tlen;
	uint64_t now = rs__clock_realtime_ns(), seq, ts;
	el_head h;
	rs_bytes v;

	RS_TRY(head_parse(rs__cc_read(cc, TAG, head_key, 1, &v), v,
			  rs__cc_base(cc), &h));
	seq = h.len;
	ts = now > h.ts ? now : h.ts;
	rs__put_u64(a->val, ts);
	memcpy(a->val + 8, h.hash, RS_HASH_LEN);
	eventlog_hash(a->val + 8 + RS_HASH_LEN, seq, type, a->tlen,
		      type + a->tlen, plen, ts, h.hash);
	event_key(key, seq);
	RS_TRY(rs__cc_write(cc, TAG, key, sizeof(key), a->val, a->vlen, 0));

	if (!(seqv = rs__cc_u64(cc, seq)))
		return RS_ENOMEM;
	RS_TRY(rs__ol_append(cc, TAG, prefix,
			     rs__ol_prefix(prefix, K_TYPE, type, a->tlen), seqv,
			     8, NULL));

	if (!(headv = rs__cc_alloc(cc, HEAD_LEN)))
		return RS_ENOMEM;
	rs__put_u64(headv, seq + 1);
	rs__put_u64(headv + 8, ts);
	memcpy(headv + 16, a->val + 8 + RS_HASH_LEN, RS_HASH_LEN);
	RS_TRY(rs__cc_write(cc, TAG, head_key, 1, headv, HEAD_LEN, 0));

	a->res.seq = seq;
	a->res.timestamp_ns = ts;
	memcpy(a->res.hash, a->val + 8 + RS_HASH_LEN, RS_HASH_LEN);
	return 0;
}

static void append_done(const void *arg, int rc)
{
	const el_append *a = arg;

	if (rc == 0 && a->receipt_out)
		*a->receipt_out = a->res;
}

static const rs__step_type append_step = { append_run, append_done };

static int check_append(const char *type, size_t tlen, const void *payload,
			size_t plen)
{
	RS_TRY(rs__prim_check_text(type, tlen, RS_TYPE_MAX));
	return rs__prim_check_bytes(payload, plen);
}

static int stage_append(rs_txn *txn, const char *type, size_t tlen,
			const void *payload, size_t plen,
			rs_event_receipt *receipt_out)
{
	unsigned char *val;
	el_append *a;

	if (rs__txn_readonly(txn))
		return RS_EREADONLY;
	val = rs__txn_alloc(txn, EV_HDR + tlen + plen);
	if (!val)
		return RS_ENOMEM;
	RS_TRY(rs__txn_defer(txn, &append_step, sizeof(*a), (void **)&a));
	memset(val, 0, EV_HDR);
	rs__put_u32(val + 8 + 2 * RS_HASH_LEN, (uint32_t)tlen);
	memcpy(val + EV_HDR, type, tlen);
	if (plen)
		memcpy(val + EV_HDR + tlen, payload, plen);
	a->val = val;
	a->vlen = EV_HDR + tlen + plen;
	a->tlen = (uint32_t)tlen;
	a->receipt_out = receipt_out;
	return 0;
}

struct append_req {
	const char *type;
	size_t tlen;
	const void *payload;
	size_t plen;
	rs_event_receipt *receipt_out;
};

static int stage_append_req(rs_txn *txn, const void *arg)
{
	const struct append_req *r = arg;

	return stage_append(txn, r->type, r->tlen, r->payload, r->plen,
			    r->receipt_out);
}

int rs_eventlog_append(rs_db *db, const rs_run_id *run, const char *type,
		       size_t type_len, const void *payload, size_t payload_len,
		       rs_event_receipt *receipt_out)
{
	struct append_req r = { type, type_len, payload, payload_len,
				receipt_out };

	RS_TRY(rs__prim_check_db_run(db, run));
	RS_TRY(check_append(type, type_len, payload, payload_len));
	return rs__txn_oneshot(db, run, stage_append_req, &r);
}

int rs_txn_eventlog_append(rs_txn *txn, const char *type, size_t type_len,
			   const void *payload, size_t payload_len,
			   rs_event_receipt *receipt_out)
{
	RS_TRY(rs__txn_check(txn));
	RS_TRY(check_append(type, type_len, payload, payload_len));
	return stage_append(txn, type, type_len, payload, payload_len,
			    receipt_out);
}

/* ---- the view of a transaction: snapshot + pending appends ---- */

static size_t pending_count(const rs_txn *txn)
{
	size_t n = 0;

	for (size_t i = 0; i < rs__txn_nsteps(txn); i++)
		n += rs__txn_step_arg(txn, i, &append_step) != NULL;
	return n;
}

static const el_append *pending_at(const rs_txn *txn, uint64_t k)
{
	for (size_t i = 0; i < rs__txn_nsteps(txn); i++) {
		const el_append *a = rs__txn_step_arg(txn, i, &append_step);

		if (a && k-- == 0)
			return a;
	}
	return NULL;
}

static int view_head(rs_txn *txn, el_head *h)
{
	rs_bytes v;

	return head_parse(rs__txn_read(txn, TAG, head_key, 1, &v), v,
			  rs__txn_base(txn), h);
}

static int view_event(rs_txn *txn, uint64_t seq, rs_event *ev)
{
	unsigned char key[9];
	rs_bytes v;
	int rc;

	event_key(key, seq);
	rc = rs__txn_read(txn, TAG, key, sizeof(key), &v);
	if (rc == 0)
		return event_parse(v.data, v.len, seq, ev);
	return rc;
}

static int view_read(rs_txn *txn, uint64_t seq, rs_event *ev)
{
	const el_append *a;
	el_head h;
	int rc = view_event(txn, seq, ev);

	if (rc != RS_ENOTFOUND || pending_count(txn) == 0)
		return rc;
	/* Past the committed log: the head (now in the read set) fixes the
	 * provisional sequences of the pending appends. */
	RS_TRY(view_head(txn, &h));
	if (seq < h.len) /* below the base: an earlier life's */
		return seq < rs__txn_base(txn) ? RS_ENOTFOUND : RS_ECORRUPT;
	if (!(a = pending_at(txn, seq - h.len)))
		return RS_ENOTFOUND;
	pending_view(a, seq, ev);
	return 0;
}

static int view_range(rs_txn *txn, uint64_t start, uint64_t end,
		      rs_eventlog_event_cb cb, void *ctx)
{
	uint64_t seq, len, k = 0, base = rs__txn_base(txn);
	rs_event ev;
	int rc;

	if (start < base) /* nothing of this life below its base */
		start = base;
	seq = start;

	/* Committed events until the first absent one: reading it (absent)
	 * is what ties this view to the log's end, not the head, so reading
	 * old events never conflicts with appenders. */
	for (; seq < end; seq++) {
		rc = view_event(txn, seq, &ev);
		if (rc == RS_ENOTFOUND)
			break;
		RS_TRY(rc);
		if ((rc = cb(&ev, ctx)) != 0)
			return rc;
	}
	if (seq >= end || pending_count(txn) == 0)
		return 0;
	if (seq > start) {
		len = seq; /* dense: seq - 1 exists, seq does not */
	} else {
		el_head h;

		RS_TRY(view_head(txn, &h));
		len = h.len;
		if (len > start)
			return RS_ECORRUPT;
	}
	for (size_t i = 0; i < rs__txn_nsteps(txn); i++) {
		const el_append *a = rs__txn_step_arg(txn, i, &append_step);
		uint64_t pseq;

		if (!a)
			continue;
		pseq = len + k++;
		if (pseq < start)
			continue;
		if (pseq >= end)
			break;
		pending_view(a, pseq, &ev);
		if ((rc = cb(&ev, ctx)) != 0)
			return rc;
	}
	return 0;
}

static bool pending_is_type(const el_append *a, const char *type, size_t tlen)
{
	return a->tlen == tlen && memcmp(a->val + EV_HDR, type, tlen) == 0;
}

static int view_by_type(rs_txn *txn, const char *type, size_t tlen,
			uint64_t *cursor, size_t limit, bool *more_out,
			rs_eventlog_event_cb cb, void *ctx)
{
	unsigned char prefix[RS__OL_PREFIX_MAX];
	size_t plen = rs__ol_prefix(prefix, K_TYPE, type, tlen);
	uint64_t n, pos = *cursor, total, k = 0, pseq = 0;
	size_t done = 0;
	rs_event ev;
	int rc;

	RS_TRY(rs__ol_len(txn, TAG, prefix, plen, &n));
	total = n;
	for (size_t i = 0; i < rs__txn_nsteps(txn); i++) {
		const el_append *a = rs__txn_step_arg(txn, i, &append_step);

		if (a && pending_is_type(a, type, tlen))
			total++;
	}
	for (; pos < n && (!limit || done < limit); pos++, done++) {
		rs_bytes v;

		RS_TRY(rs__ol_get(txn, TAG, prefix, plen, pos, &v));
		if (v.len != 8)
			return RS_ECORRUPT;
		rc = view_event(txn, rs__get_u64(v.data), &ev);
		if (rc == RS_ENOTFOUND)
			return RS_ECORRUPT;
		RS_TRY(rc);
		*cursor = pos + 1;
		if ((rc = cb(&ev, ctx)) != 0)
			return rc;
	}
	if (pos < total && pos >= n && (!limit || done < limit)) {
		el_head h;

		/* Pending events: the head fixes their sequences. */
		RS_TRY(view_head(txn, &h));
		for (size_t i = 0; i < rs__txn_nsteps(txn); i++) {
			const el_append *a =
				rs__txn_step_arg(txn, i, &append_step);

			if (!a)
				continue;
			pseq++;
			if (!pending_is_type(a, type, tlen) || n + k++ < pos)
				continue;
			if (limit && done == limit)
				break;
			pending_view(a, h.len + pseq - 1, &ev);
			pos++;
			done++;
			*cursor = pos;
			if ((rc = cb(&ev, ctx)) != 0)
				return rc;
		}
	}
	if (more_out)
		*more_out = pos < total;
	return 0;
}

static int view_verify(rs_txn *txn, uint64_t *bad_seq_out)
{
	uint8_t prev[RS_HASH_LEN] = { 0 }, want[RS_HASH_LEN];
	uint64_t seq = rs__txn_base(txn); /* the first event chains to zeros */
	el_head h;
	rs_event ev;
	int rc;

	for (;; seq++) {
		rc = view_event(txn, seq, &ev);
		if (rc == RS_ENOTFOUND)
			break;
		if (rc == RS_ECORRUPT)
			goto bad;
		RS_TRY(rc);
		eventlog_hash(want, seq, ev.type.data, ev.type.len,
			      ev.payload.data, ev.payload.len, ev.timestamp_ns,
			      ev.prev_hash);
		if (memcmp(ev.prev_hash, prev, RS_HASH_LEN) != 0 ||
		    memcmp(ev.hash, want, RS_HASH_LEN) != 0)
			goto bad;
		memcpy(prev, ev.hash, RS_HASH_LEN);
	}
	rc = view_head(txn, &h);
	if (rc == RS_ECORRUPT)
		goto bad;
	RS_TRY(rc);
	if (h.len != seq || memcmp(h.hash, prev, RS_HASH_LEN) != 0) {
		if (h.len < seq)
			seq = h.len;
		goto bad;
	}
	return 0;
bad:
	if (bad_seq_out)
		*bad_seq_out = seq;
	return RS_ECORRUPT;
}

/* ---- one-shot reads ---- */

int rs_eventlog_read(rs_db *db, const rs_run_id *run, uint64_t seq,
		     rs_event *ev_out, void *buf, size_t cap,
		     size_t *needed_out)
{
	unsigned char key[9], hdr[EV_HDR];
	rs__copy_out co = { hdr, sizeof(hdr), buf, cap, 0 };
	int rc;

	RS_TRY(rs__prim_check_db_run(db, run));
	RS_CHECK_ARG(ev_out && (buf || cap == 0));
	event_key(key, seq);
	rc = rs__txn_read_latest(db, run, TAG, key, sizeof(key), &co);
	if (rc == 0)
		rc = event_parse_parts(hdr, buf, co.len, seq, ev_out);
	if (needed_out && (rc == 0 || rc == RS_ENOSPC))
		*needed_out = co.len;
	return rc;
}

static int fast_head(rs_db *db, const rs_run_id *run, el_head *h)
{
	unsigned char v[HEAD_LEN];
	rs__copy_out co = { v, sizeof(v), NULL, 0, 0 };
	rs_bytes view = { v, sizeof(v) };
	int rc = rs__txn_read_latest(db, run, TAG, head_key, 1, &co);

	/* A head longer than HEAD_LEN does not fit the empty rest. */
	return head_parse(rc == RS_ENOSPC ? RS_ECORRUPT : rc, view,
			  rc == RS_ENOTFOUND ? rs__txn_base_latest(db, run) : 0,
			  h);
}

int rs__eventlog_floor(rs__cc *cc, uint64_t *floor_out)
{
	el_head h;
	rs_bytes v;

	RS_TRY(head_parse(rs__cc_also_read(cc, TAG, head_key, 1, &v), v,
			  rs__cc_also_base(cc), &h));
	*floor_out = h.len;
	return 0;
}

int rs_eventlog_len(rs_db *db, const rs_run_id *run, uint64_t *len_out)
{
	el_head h;

	RS_TRY(rs__prim_check_db_run(db, run));
	RS_CHECK_ARG(len_out);
	RS_TRY(fast_head(db, run, &h));
	*len_out = h.len;
	return 0;
}

int rs_eventlog_head(rs_db *db, const rs_run_id *run, uint64_t *len_out,
		     uint8_t *hash_out)
{
	el_head h;

	RS_TRY(rs__prim_check_db_run(db, run));
	RS_TRY(fast_head(db, run, &h));
	if (len_out)
		*len_out = h.len;
	if (hash_out)
		memcpy(hash_out, h.hash, RS_HASH_LEN);
	return 0;
}

int rs_eventlog_read_range(rs_db *db, const rs_run_id *run, uint64_t start,
			   uint64_t end, rs_eventlog_event_cb cb, void *ctx)
{
	rs_txn *txn;
	int rc;

	RS_TRY(rs__prim_check_db_run(db, run));
	RS_CHECK_ARG(cb && start <= end);
	RS_TRY(rs__txn_begin(&txn, db, run, RS_TXN_F_READONLY));
	rc = view_range(txn, start, end, cb, ctx);
	rs__txn_abort(txn);
	return rc;
}

int rs_eventlog_read_by_type(rs_db *db, const rs_run_id *run, const char *type,
			     size_t type_len, uint64_t *cursor, size_t limit,
			     bool *more_out, rs_eventlog_event_cb cb, void *ctx)
{
	rs_txn *txn;
	int rc;

	RS_TRY(rs__prim_check_db_run(db, run));
	RS_TRY(rs__prim_check_text(type, type_len, RS_TYPE_MAX));
	RS_CHECK_ARG(cursor && cb);
	RS_TRY(rs__txn_begin(&txn, db, run, RS_TXN_F_READONLY));
	rc = view_by_type(txn, type, type_len, cursor, limit, more_out, cb,
			  ctx);
	rs__txn_abort(txn);
	return rc;
}

int rs_eventlog_verify_chain(rs_db *db, const rs_run_id *run,
			     uint64_t *bad_seq_out)
{
	rs_txn *txn;
	int rc;

	RS_TRY(rs__prim_check_db_run(db, run));
	RS_TRY(rs__txn_begin(&txn, db, run, RS_TXN_F_READONLY));
	rc = view_verify(txn, bad_seq_out);
	rs__txn_abort(txn);
	return rc;
}

/* ---- in a transaction ---- */

int rs_txn_eventlog_read(rs_txn *txn, uint64_t seq, rs_event *ev_out)
{
	RS_TRY(rs__txn_check(txn));
	RS_CHECK_ARG(ev_out);
	return view_read(txn, seq, ev_out);
}

int rs_txn_eventlog_read_range(rs_txn *txn, uint64_t start, uint64_t end,
			       rs_eventlog_event_cb cb, void *ctx)
{
	RS_TRY(rs__txn_check(txn));
	RS_CHECK_ARG(cb && start <= end);
	return view_range(txn, start, end, cb, ctx);
}

int rs_txn_eventlog_len(rs_txn *txn, uint64_t *len_out)
{
	el_head h;

	RS_TRY(rs__txn_check(txn));
	RS_CHECK_ARG(len_out);
	RS_TRY(view_head(txn, &h));
	*len_out = h.len + pending_count(txn);
	return 0;
}

int rs_txn_eventlog_head(rs_txn *txn, uint64_t *len_out, uint8_t *hash_out)
{
	el_head h;

	RS_TRY(rs__txn_check(txn));
	RS_TRY(view_head(txn, &h));
	if (len_out)
		*len_out = h.len;
	if (hash_out)
		memcpy(hash_out, h.hash, RS_HASH_LEN);
	return 0;
}

int rs_txn_eventlog_read_by_type(rs_txn *txn, const char *type, size_t type_len,
				 uint64_t *cursor, size_t limit, bool *more_out,
				 rs_eventlog_event_cb cb, void *ctx)
{
	RS_TRY(rs__txn_check(txn));
	RS_TRY(rs__prim_check_text(type, type_len, RS_TYPE_MAX));
	RS_CHECK_ARG(cursor && cb);
	return view_by_type(txn, type, type_len, cursor, limit, more_out, cb,
			    ctx);
}

int rs_txn_eventlog_verify_chain(rs_txn *txn, uint64_t *bad_seq_out)
{
	RS_TRY(rs__txn_check(txn));
	return view_verify(txn, bad_seq_out);
}
