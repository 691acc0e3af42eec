/* SPDX-License-Identifier: MIT */
/* EventLog semantics, on both stores. */
#define _GNU_SOURCE
#include "prim_fixture.h"

#include <sodium.h>
#include <stdlib.h>

#include "storage/store.h"
#include "txn/txn.h"

static const uint8_t zero_hash[RS_HASH_LEN];

static void append(fx *f, const char *type, const char *payload,
		   rs_event_receipt *rc_out)
{
	assert_int_equal(rs_eventlog_append(f->db, &f->run, type, strlen(type),
					    payload, strlen(payload), rc_out),
			 0);
}

/* The chain hash, computed independently from docs/eventlog-chain.md. */
static void spec_hash(uint8_t out[RS_HASH_LEN], uint64_t seq, const void *type,
		      size_t tlen, const void *payload, size_t plen,
		      uint64_t ts, const uint8_t prev[RS_HASH_LEN])
{
	size_t n = 16 + 8 + 8 + tlen + 8 + plen + 8 + RS_HASH_LEN, o = 0;
	unsigned char *m = malloc(n);
	uint64_t fields[4] = { seq, tlen, plen, ts };

	assert_non_null(m);
	memcpy(m, "runstate.event.1", 16);
	o = 16;
	for (int f = 0; f < 4; f++) {
		for (int i = 7; i >= 0; i--)
			m[o++] = (unsigned char)(fields[f] >> (8 * i));
		if (f == 1) {
			memcpy(m + o, type, tlen);
			o += tlen;
		} else if (f == 2) {
			memcpy(m + o, payload, plen);
			o += plen;
		}
	}
	memcpy(m + o, prev, RS_HASH_LEN);
	o += RS_HASH_LEN;
	assert_int_equal(o, n);
	crypto_generichash(out, RS_HASH_LEN, m, n, NULL, 0);
	free(m);
}

static void eventlog__append_assigns_dense_sequences(void **state)
{
	fx *f = *state;
	rs_event_receipt r[5];
	uint8_t hash[RS_HASH_LEN];
	uint64_t len = 99;

	assert_int_equal(rs_eventlog_len(f->db, &f->run, &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(rs_eventlog_head(f->db, &f->run, &len, hash), 0);
	assert_int_equal(len, 0);
	assert_memory_equal(hash, zero_hash, RS_HASH_LEN);
	for (int i = 0; i < 5; i++) {
		append(f, "step", "x", &r[i]);
		assert_int_equal(r[i].seq, (uint64_t)i);
		if (i)
			assert_true(r[i].timestamp_ns >= r[i - 1].timestamp_ns);
	}
	assert_int_equal(rs_eventlog_len(f->db, &f->run, &len), 0);
	assert_int_equal(len, 5);
	assert_int_equal(rs_eventlog_head(f->db, &f->run, &len, hash), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(hash, r[4].hash, RS_HASH_LEN);
	/* NULL receipt and NULL outputs are fine. */
	assert_int_equal(
		rs_eventlog_append(f->db, &f->run, S("t"), NULL, 0, NULL), 0);
	assert_int_equal(rs_eventlog_head(f->db, &f->run, NULL, NULL), 0);
}

static void eventlog__read_returns_fields_and_chain(void **state)
{
	fx *f = *state;
	rs_event_receipt r[3];
	const char *payloads[3] = { "alpha", "", "gamma-gamma" };
	char buf[64];
	size_t need = 0;
	rs_event ev;

	for (int i = 0; i < 3; i++)
		append(f, i == 1 ? "tool" : "msg", payloads[i], &r[i]);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(rs_eventlog_read(f->db, &f->run, (uint64_t)i,
						  &ev, buf, sizeof(buf), &need),
				 0);
		assert_int_equal(ev.seq, (uint64_t)i);
		assert_int_equal(ev.flags, 0);
		assert_int_equal(ev.timestamp_ns, r[i].timestamp_ns);
		assert_int_equal(ev.payload.len, strlen(payloads[i]));
		assert_memory_equal(ev.payload.data, payloads[i],
				    ev.payload.len);
		assert_non_null(ev.payload.data);
		assert_int_equal(need, ev.type.len + ev.payload.len);
		assert_memory_equal(ev.hash, r[i].hash, RS_HASH_LEN);
		assert_memory_equal(ev.prev_hash, i ? r[i - 1].hash : zero_hash,
				    RS_HASH_LEN);
	}
	assert_int_equal(ev.type.len, 3);
	assert_memory_equal(ev.type.data, "msg", 3);
}

static void eventlog__hash_matches_documented_encoding(void **state)
{
	fx *f = *state;
	rs_event_receipt r[2];
	uint8_t want[RS_HASH_LEN];
	char buf[64];
	rs_event ev;

	append(f, "user.message", "hello", &r[0]);
	append(f, "tool.call", "{\"n\":1}", &r[1]);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(rs_eventlog_read(f->db, &f->run, (uint64_t)i,
						  &ev, buf, sizeof(buf), NULL),
				 0);
		spec_hash(want, ev.seq, ev.type.data, ev.type.len,
			  ev.payload.data, ev.payload.len, ev.timestamp_ns,
			  ev.prev_hash);
		assert_memory_equal(want, r[i].hash, RS_HASH_LEN);
	}
}

static void eventlog__read_errors(void **state)
{
	fx *f = *state;
	char buf[4];
	size_t need = 0;
	rs_event ev;

	assert_int_equal(rs_eventlog_read(f->db, &f->run, 0, &ev, buf,
					  sizeof(buf), &need),
			 RS_ENOTFOUND);
	append(f, "type", "payload", NULL);
	assert_int_equal(rs_eventlog_read(f->db, &f->run, 0, &ev, buf,
					  sizeof(buf), &need),
			 RS_ENOSPC);
	assert_int_equal(need, 11);
	assert_int_equal(
		rs_eventlog_read(f->db, &f->run, 0, &ev, NULL, 0, &need),
		RS_ENOSPC);
	assert_int_equal(need, 11);
	assert_int_equal(rs_eventlog_read(f->db, &f->run, 1, &ev, buf,
					  sizeof(buf), NULL),
			 RS_ENOTFOUND);
}

struct collect {
	uint64_t seqs[64];
	uint32_t flags[64];
	size_t n;
	size_t stop_after; /* 0: never */
};

static int collect_event(const rs_event *ev, void *ctx)
{
	struct collect *c = ctx;

	c->seqs[c->n] = ev->seq;
	c->flags[c->n] = ev->flags;
	c->n++;
	return c->stop_after && c->n == c->stop_after ? 42 : 0;
}

static void eventlog__read_range_cuts_at_len(void **state)
{
	fx *f = *state;
	struct collect c = { 0 };

	for (int i = 0; i < 5; i++)
		append(f, "t", "p", NULL);
	assert_int_equal(
		rs_eventlog_read_range(f->db, &f->run, 1, 3, collect_event, &c),
		0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.seqs[0], 1);
	assert_int_equal(c.seqs[1], 2);
	c.n = 0;
	assert_int_equal(rs_eventlog_read_range(f->db, &f->run, 2, UINT64_MAX,
						collect_event, &c),
			 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.seqs[2], 4);
	c.n = 0;
	assert_int_equal(
		rs_eventlog_read_range(f->db, &f->run, 7, 9, collect_event, &c),
		0);
	assert_int_equal(
		rs_eventlog_read_range(f->db, &f->run, 3, 3, collect_event, &c),
		0);
	assert_int_equal(c.n, 0);
	c.stop_after = 2;
	assert_int_equal(rs_eventlog_read_range(f->db, &f->run, 0, UINT64_MAX,
						collect_event, &c),
			 42);
	assert_int_equal(c.n, 2);
	assert_int_equal(
		rs_eventlog_read_range(f->db, &f->run, 3, 2, collect_event, &c),
		RS_EINVAL);
}

static void eventlog__read_by_type_pages_in_order(void **state)
{
	fx *f = *state;
	struct collect c = { 0 };
	uint64_t cursor = 0;
	bool more = false;
	/* "a" must not match "a__b" (or its length-prefixed neighbours). */
	const char *types[] = { "a", "a__b", "a", "b", "a", "a_", "a", "a" };

	for (size_t i = 0; i < 8; i++)
		append(f, types[i], "p", NULL);
	assert_int_equal(rs_eventlog_read_by_type(f->db, &f->run, S("a"),
						  &cursor, 2, &more,
						  collect_event, &c),
			 0);
	assert_true(more);
	assert_int_equal(cursor, 2);
	assert_int_equal(rs_eventlog_read_by_type(f->db, &f->run, S("a"),
						  &cursor, 2, &more,
						  collect_event, &c),
			 0);
	assert_true(more);
	assert_int_equal(rs_eventlog_read_by_type(f->db, &f->run, S("a"),
						  &cursor, 2, &more,
						  collect_event, &c),
			 0);
	assert_false(more);
	assert_int_equal(cursor, 5);
	assert_int_equal(c.n, 5);
	uint64_t want[] = { 0, 2, 4, 6, 7 };
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(c.seqs[i], want[i]);
	/* Past the end: nothing, no error. */
	assert_int_equal(rs_eventlog_read_by_type(f->db, &f->run, S("a"),
						  &cursor, 0, &more,
						  collect_event, &c),
			 0);
	assert_int_equal(c.n, 5);
	c.n = 0;
	cursor = 0;
	assert_int_equal(rs_eventlog_read_by_type(f->db, &f->run, S("a__b"),
						  &cursor, 0, NULL,
						  collect_event, &c),
			 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.seqs[0], 1);
	c.n = 0;
	cursor = 0;
	assert_int_equal(rs_eventlog_read_by_type(f->db, &f->run, S("zzz"),
						  &cursor, 0, &more,
						  collect_event, &c),
			 0);
	assert_int_equal(c.n, 0);
	assert_false(more);
}

/* Overwrite a committed key of the run through the internals. */
static void tamper(fx *f, const void *key, size_t klen, const void *val,
		   size_t vlen)
{
	rs_txn *txn;

	assert_int_equal(rs_txn_begin(&txn, f->db, &f->run, 0), 0);
	assert_int_equal(
		rs__txn_write(txn, RS__TAG_EVENTLOG, key, klen, val, vlen, 0),
		0);
	assert_int_equal(rs_txn_commit(txn), 0);
}

static void eventlog__verify_chain_reports_first_bad(void **state)
{
	fx *f = *state;
	unsigned char key[9] = { 0x01 }, val[256];
	uint64_t bad = 99;
	rs_txn *txn;
	rs_bytes v;

	assert_int_equal(rs_eventlog_verify_chain(f->db, &f->run, &bad), 0);
	for (int i = 0; i < 6; i++)
		append(f, "t", "payload", NULL);
	assert_int_equal(rs_eventlog_verify_chain(f->db, &f->run, &bad), 0);
	assert_int_equal(bad, 99);

	/* Flip one payload byte of event 3. */
	key[8] = 3;
	assert_int_equal(rs_txn_begin(&txn, f->db, &f->run, 0), 0);
	assert_int_equal(rs__txn_read(txn, RS__TAG_EVENTLOG, key, 9, &v), 0);
	assert_true(v.len <= sizeof(val));
	memcpy(val, v.data, v.len);
	rs_txn_abort(txn);
	val[v.len - 1] ^= 1;
	tamper(f, key, 9, val, v.len);
	assert_int_equal(rs_eventlog_verify_chain(f->db, &f->run, &bad),
			 RS_ECORRUPT);
	assert_int_equal(bad, 3);
	val[v.len - 1] ^= 1;
	tamper(f, key, 9, val, v.len);
	assert_int_equal(rs_eventlog_verify_chain(f->db, &f->run, &bad), 0);

	/* A head that no longer matches the last event. */
	assert_int_equal(rs_txn_begin(&txn, f->db, &f->run, 0), 0);
	assert_int_equal(rs__txn_read(txn, RS__TAG_EVENTLOG, "\0", 1, &v), 0);
	memcpy(val, v.data, v.len);
	rs_txn_abort(txn);
	val[v.len - 1] ^= 1;
	tamper(f, "\0", 1, val, v.len);
	assert_int_equal(rs_eventlog_verify_chain(f->db, &f->run, &bad),
			 RS_ECORRUPT);
	assert_int_equal(bad, 6);
	assert_int_equal(rs_eventlog_verify_chain(f->db, &f->run, NULL),
			 RS_ECORRUPT);
}

static void eventlog__txn_receipt_filled_at_commit(void **state)
{
	fx *f = *state;
	rs_event_receipt r1, r2, want;
	struct collect c = { 0 };
	rs_txn *txn;
	rs_event ev;
	uint64_t len;

	append(f, "t", "committed", &want);
	memset(&r1, 0xee, sizeof(r1));
	memset(&r2, 0xee, sizeof(r2));
	assert_int_equal(rs_txn_begin(&txn, f->db, &f->run, 0), 0);
	assert_int_equal(rs_txn_eventlog_append(txn, S("t"), S("one"), &r1), 0);
	assert_int_equal(rs_txn_eventlog_append(txn, S("u"), S("two"), &r2), 0);
	/* Read-your-writes: pending events follow the committed one. */
	assert_int_equal(rs_txn_eventlog_len(txn, &len), 0);
	assert_int_equal(len, 3);
	assert_int_equal(rs_txn_eventlog_read(txn, 2, &ev), 0);
	assert_int_equal(ev.flags, RS_EVENT_F_PENDING);
	assert_int_equal(ev.seq, 2);
	assert_memory_equal(ev.payload.data, "two", 3);
	assert_int_equal(rs_txn_eventlog_read(txn, 0, &ev), 0);
	assert_int_equal(ev.flags, 0);
	assert_int_equal(rs_txn_eventlog_read(txn, 3, &ev), RS_ENOTFOUND);
	assert_int_equal(rs_txn_eventlog_read_range(txn, 0, UINT64_MAX,
						    collect_event, &c),
			 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.seqs[2], 2);
	assert_int_equal(c.flags[1], RS_EVENT_F_PENDING);
	c.n = 0;
	assert_int_equal(
		rs_txn_eventlog_read_range(txn, 2, 3, collect_event, &c), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.seqs[0], 2);
	/* Head: committed only. */
	assert_int_equal(rs_txn_eventlog_head(txn, &len, NULL), 0);
	assert_int_equal(len, 1);
	assert_int_equal(rs_txn_eventlog_verify_chain(txn, NULL), 0);
	/* Nothing is filled before commit. */
	assert_int_equal(r1.seq, 0xeeeeeeeeeeeeeeeeull);
	assert_int_equal(rs_txn_commit(txn), 0);
	assert_int_equal(r1.seq, 1);
	assert_int_equal(r2.seq, 2);
	assert_int_equal(
		rs_eventlog_read(f->db, &f->run, 2, &ev, NULL, 0, NULL),
		RS_ENOSPC);
	assert_int_equal(rs_eventlog_head(f->db, &f->run, &len, want.hash), 0);
	assert_memory_equal(want.hash, r2.hash, RS_HASH_LEN);
	assert_int_equal(rs_eventlog_verify_chain(f->db, &f->run, NULL), 0);
}

static void eventlog__txn_read_by_type_includes_pending(void **state)
{
	fx *f = *state;
	struct collect c = { 0 };
	uint64_t cursor = 0;
	bool more;
	rs_txn *txn;

	append(f, "a", "1", NULL);
	append(f, "b", "2", NULL);
	assert_int_equal(rs_txn_begin(&txn, f->db, &f->run, 0), 0);
	assert_int_equal(rs_txn_eventlog_append(txn, S("b"), S("3"), NULL), 0);
	assert_int_equal(rs_txn_eventlog_append(txn, S("a"), S("4"), NULL), 0);
	assert_int_equal(rs_txn_eventlog_append(txn, S("a"), S("5"), NULL), 0);
	assert_int_equal(rs_txn_eventlog_read_by_type(txn, S("a"), &cursor, 2,
						      &more, collect_event, &c),
			 0);
	assert_true(more);
	assert_int_equal(rs_txn_eventlog_read_by_type(txn, S("a"), &cursor, 2,
						      &more, collect_event, &c),
			 0);
	assert_false(more);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.seqs[0], 0);
	assert_int_equal(c.seqs[1], 3);
	assert_int_equal(c.seqs[2], 4);
	assert_int_equal(c.flags[2], RS_EVENT_F_PENDING);
	rs_txn_abort(txn);
	/* Aborted: nothing appended. */
	assert_int_equal(rs_eventlog_len(f->db, &f->run, &cursor), 0);
	assert_int_equal(cursor, 2);
}

static void eventlog__blind_appends_never_conflict(void **state)
{
	fx *f = *state;
	rs_event_receipt r;
	rs_txn *txn, *reader;
	uint64_t len;

	/* A transaction that only appends commits after other appends. */
	assert_int_equal(rs_txn_begin(&txn, f->db, &f->run, 0), 0);
	assert_int_equal(rs_txn_eventlog_append(txn, S("t"), S("late"), &r), 0);
	append(f, "t", "early", NULL);
	append(f, "t", "early", NULL);
	assert_int_equal(rs_txn_commit(txn), 0);
	assert_int_equal(r.seq, 2);

	/* One that read the length conflicts with an append after it. */
	assert_int_equal(rs_txn_begin(&reader, f->db, &f->run, 0), 0);
	assert_int_equal(rs_txn_eventlog_len(reader, &len), 0);
	assert_int_equal(rs_txn_eventlog_append(reader, S("t"), S("x"), NULL),
			 0);
	append(f, "t", "other", NULL);
	assert_int_equal(rs_txn_commit(reader), RS_ECONFLICT);
	assert_int_equal(rs_eventlog_verify_chain(f->db, &f->run, NULL), 0);
}

static void eventlog__bad_input(void **state)
{
	fx *f = *state;
	rs_run_id nil = { { 0 } };
	char buf[8], big_type[RS_TYPE_MAX + 1];
	uint64_t cursor = 0, len;
	rs_event ev;
	rs_txn *txn;
	struct collect c = { 0 };

	memset(big_type, 'x', sizeof(big_type));
	assert_int_equal(
		rs_eventlog_append(NULL, &f->run, S("t"), NULL, 0, NULL),
		RS_EINVAL);
	assert_int_equal(rs_eventlog_append(f->db, NULL, S("t"), NULL, 0, NULL),
			 RS_EINVAL);
	assert_int_equal(rs_eventlog_append(f->db, &nil, S("t"), NULL, 0, NULL),
			 RS_EINVAL);
	assert_int_equal(
		rs_eventlog_append(f->db, &f->run, NULL, 0, NULL, 0, NULL),
		RS_EINVAL);
	assert_int_equal(
		rs_eventlog_append(f->db, &f->run, "", 0, NULL, 0, NULL),
		RS_EINVAL);
	assert_int_equal(rs_eventlog_append(f->db, &f->run, big_type,
					    sizeof(big_type), NULL, 0, NULL),
			 RS_ETOOBIG);
	assert_int_equal(rs_eventlog_append(f->db, &f->run, big_type,
					    RS_TYPE_MAX, NULL, 0, NULL),
			 0);
	assert_int_equal(rs_eventlog_append(f->db, &f->run, S("\xc0\xaf"), NULL,
					    0, NULL),
			 RS_EUTF8);
	assert_int_equal(
		rs_eventlog_append(f->db, &f->run, S("t"), NULL, 3, NULL),
		RS_EINVAL);
	assert_int_equal(rs_eventlog_append(f->db, &f->run, S("t"), buf,
					    (size_t)RS_VALUE_MAX + 1, NULL),
			 RS_ETOOBIG);
	/* Only the valid append above landed. */
	assert_int_equal(rs_eventlog_len(f->db, &f->run, &len), 0);
	assert_int_equal(len, 1);

	assert_int_equal(
		rs_eventlog_read(f->db, &f->run, 0, NULL, buf, 8, NULL),
		RS_EINVAL);
	assert_int_equal(
		rs_eventlog_read(f->db, &f->run, 0, &ev, NULL, 8, NULL),
		RS_EINVAL);
	assert_int_equal(rs_eventlog_read(f->db, &nil, 0, &ev, buf, 8, NULL),
			 RS_EINVAL);
	assert_int_equal(rs_eventlog_len(f->db, &f->run, NULL), RS_EINVAL);
	assert_int_equal(rs_eventlog_len(NULL, &f->run, &len), RS_EINVAL);
	assert_int_equal(rs_eventlog_head(f->db, &nil, &len, NULL), RS_EINVAL);
	assert_int_equal(
		rs_eventlog_read_range(f->db, &f->run, 0, 1, NULL, NULL),
		RS_EINVAL);
	assert_int_equal(rs_eventlog_read_by_type(f->db, &f->run, S("t"), NULL,
						  0, NULL, collect_event, &c),
			 RS_EINVAL);
	assert_int_equal(rs_eventlog_read_by_type(f->db, &f->run, S("t"),
						  &cursor, 0, NULL, NULL, NULL),
			 RS_EINVAL);
	assert_int_equal(rs_eventlog_read_by_type(f->db, &f->run,
						  S("\xed\xa0\x80"), &cursor, 0,
						  NULL, collect_event, &c),
			 RS_EUTF8);
	assert_int_equal(rs_eventlog_verify_chain(NULL, &f->run, NULL),
			 RS_EINVAL);

	/* Transactions: NULL, read-only, finished. */
	assert_int_equal(rs_txn_eventlog_append(NULL, S("t"), NULL, 0, NULL),
			 RS_EINVAL);
	assert_int_equal(rs_txn_eventlog_len(NULL, &len), RS_EINVAL);
	assert_int_equal(rs_txn_begin(&txn, f->db, &f->run, RS_TXN_F_READONLY),
			 0);
	assert_int_equal(rs_txn_eventlog_append(txn, S("t"), NULL, 0, NULL),
			 RS_EREADONLY);
	assert_int_equal(rs_txn_eventlog_append(txn, S("\xff"), NULL, 0, NULL),
			 RS_EUTF8);
	assert_int_equal(rs_txn_eventlog_read(txn, 0, NULL), RS_EINVAL);
	assert_int_equal(
		rs_txn_eventlog_read_range(txn, 2, 1, collect_event, &c),
		RS_EINVAL);
	assert_int_equal(rs_txn_eventlog_read_by_type(txn, S("t"), NULL, 0,
						      NULL, collect_event, &c),
			 RS_EINVAL);
	assert_int_equal(rs_txn_eventlog_len(txn, NULL), RS_EINVAL);
	assert_int_equal(rs_txn_eventlog_len(txn, &len), 0);
	assert_int_equal(len, 1);
	assert_int_equal(rs_txn_commit(txn), 0);
	/* The context is pooled, so its state is still readable. */
	assert_int_equal(rs_txn_eventlog_append(txn, S("t"), NULL, 0, NULL),
			 RS_EDONE);
	assert_int_equal(rs_txn_eventlog_read(txn, 0, &ev), RS_EDONE);
	assert_int_equal(rs_txn_eventlog_head(txn, NULL, NULL), RS_EDONE);
	assert_int_equal(rs_txn_eventlog_verify_chain(txn, NULL), RS_EDONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_TEST(eventlog__append_assigns_dense_sequences),
		FX_TEST(eventlog__read_returns_fields_and_chain),
		FX_TEST(eventlog__hash_matches_documented_encoding),
		FX_TEST(eventlog__read_errors),
		FX_TEST(eventlog__read_range_cuts_at_len),
		FX_TEST(eventlog__read_by_type_pages_in_order),
		FX_TEST(eventlog__verify_chain_reports_first_bad),
		FX_TEST(eventlog__txn_receipt_filled_at_commit),
		FX_TEST(eventlog__txn_read_by_type_includes_pending),
		FX_TEST(eventlog__blind_appends_never_conflict),
		FX_TEST(eventlog__bad_input),
	};

	return FX_RUN("eventlog", tests);
}
