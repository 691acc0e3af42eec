/* SPDX-License-Identifier: MIT */
/*
 * The log and checkpoint formats in memory (durability/wal_format.c):
 * round trips, and every single-bit flip of a record, a segment header or
 * a checkpoint image rejected.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <cmocka.h>

#include "durability/wal_format.h"
#include "util/endian.h"
#include "storage/store.h"

static const rs_run_id run = { { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
				 15, 16 } };

static rs__op make_op(uint8_t tag, const char *k, const char *v, bool del)
{
	rs__op op;

	memset(&op, 0, sizeof(op));
	op.tag = tag;
	op.key = k;
	op.klen = (uint32_t)strlen(k);
	op.val = v ? v : "";
	op.vlen = v ? (uint32_t)strlen(v) : 0;
	op.flags = del ? RS__OP_F_DELETE : 0;
	return op;
}

/* An encoded, sealed record of three ops; caller frees. */
static unsigned char *sample(size_t *len)
{
	static rs__op ops[3];
	rs__commit_record rec;
	unsigned char *p;

	ops[0] = make_op(1, "alpha", "one", false);
	ops[1] = make_op(3, "beta", "", false);
	ops[2] = make_op(1, "gamma", NULL, true);
	memset(&rec, 0, sizeof(rec));
	rec.kind = RS__REC_COMMIT;
	rec.run = &run;
	rec.version = 42;
	rec.ops = ops;
	rec.nops = 3;
	*len = (size_t)rs__rec_size(&rec);
	assert_int_equal(*len, 64 + 3 * 12 + 5 + 3 + 4 + 5);
	p = calloc(1, *len + 64); /* zeros after it: a clean end */
	rs__rec_encode(p, &rec, 777);
	rs__rec_seal(p, 1000);
	return p;
}

static void wal_format__record_round_trip(void **state)
{
	size_t len;
	unsigned char *p = sample(&len);
	const unsigned char *cur;
	rs__rec_view v;
	rs__op op;

	(void)state;
	assert_int_equal(rs__rec_len(p), len);
	assert_int_equal(rs__rec_check(p, len + 64, &v), 0);
	assert_int_equal(v.len, len);
	assert_int_equal(v.kind, RS__REC_COMMIT);
	assert_int_equal(v.synced_lsn, 1000);
	assert_memory_equal(v.run.bytes, run.bytes, 16);
	assert_int_equal(v.version, 42);
	assert_int_equal(v.timestamp_ns, 777);
	assert_int_equal(v.nops, 3);
	cur = v.ops;
	rs__rec_next_op(&cur, &op);
	assert_int_equal(op.tag, 1);
	assert_int_equal(op.klen, 5);
	assert_memory_equal(op.key, "alpha", 5);
	assert_int_equal(op.vlen, 3);
	assert_memory_equal(op.val, "one", 3);
	assert_int_equal(op.flags, 0);
	rs__rec_next_op(&cur, &op);
	assert_int_equal(op.tag, 3);
	assert_int_equal(op.vlen, 0);
	rs__rec_next_op(&cur, &op);
	assert_int_equal(op.flags, RS__OP_F_DELETE);
	assert_int_equal(op.vlen, 0);
	assert_ptr_equal(cur, p + len);
	/* After it: zeros, the clean end. */
	assert_int_equal(rs__rec_check(p + len, 64, &v), RS__REC_END);
	assert_int_equal(rs__rec_check(p + len, 0, &v), RS__REC_END);
	/* Cut short anywhere: rejected. */
	for (size_t n = 1; n < len; n++)
		assert_int_equal(rs__rec_check(p, n, &v), RS_ECORRUPT);
	free(p);
}

static void wal_format__every_bit_flip_is_caught(void **state)
{
	size_t len;
	unsigned char *p = sample(&len);
	rs__rec_view v;

	(void)state;
	for (size_t byte = 0; byte < len; byte++) {
		for (int bit = 0; bit < 8; bit++) {
			p[byte] ^= (unsigned char)(1u << bit);
			assert_int_equal(rs__rec_check(p, len + 64, &v),
					 RS_ECORRUPT);
			p[byte] ^= (unsigned char)(1u << bit);
		}
	}
	/* A non-zero byte in the zeros after the end. */
	p[len + 40] = 1;
	assert_int_equal(rs__rec_check(p + len, 64, &v), RS_ECORRUPT);
	free(p);
}

static void wal_format__drop_run_record(void **state)
{
	rs_run_id dropped = run;
	rs__commit_record rec;
	rs__op op;
	unsigned char buf[64 + 12 + 3 + 24];
	const unsigned char *cur;
	rs__rec_view v;

	(void)state;
	dropped.bytes[0] ^= 0xff;
	memset(&op, 0, sizeof(op));
	op.tag = RS__TAG_RUNINDEX;
	op.key = "reg";
	op.klen = 3;
	op.val = "";
	op.flags = RS__OP_F_DELETE;
	memset(&rec, 0, sizeof(rec));
	rec.kind = RS__REC_DROP_RUN;
	rec.run = &run;
	rec.version = 9;
	rec.ops = &op;
	rec.nops = 1;
	rec.drop_run = &dropped;
	rec.drop_version = 4;
	/* Header, one delete op with its key, the 24-byte drop trailer. */
	assert_int_equal(rs__rec_size(&rec), sizeof(buf));
	rs__rec_encode(buf, &rec, 1);
	rs__rec_seal(buf, 0);
	assert_int_equal(rs__rec_check(buf, sizeof(buf), &v), 0);
	assert_int_equal(v.kind, RS__REC_DROP_RUN);
	assert_int_equal(v.nops, 1);
	assert_memory_equal(v.drop_run.bytes, dropped.bytes, 16);
	assert_int_equal(v.drop_version, 4);
	cur = v.ops;
	rs__rec_next_op(&cur, &op);
	assert_int_equal(op.klen, 3);
	assert_memory_equal(op.key, "reg", 3);
	assert_ptr_equal(cur, buf + 64 + 12 + 3);
	/* A zero drop version is corrupt even with a good checksum. */
	memset(buf + sizeof(buf) - 8, 0, 8);
	rs__rec_seal(buf, 0);
	assert_int_equal(rs__rec_check(buf, sizeof(buf), &v), RS_ECORRUPT);
}

/* Give an encoded file header format version `version` and a matching
 * checksum: what a later release would write. */
static void reseal_version(unsigned char *h, size_t size, uint32_t version)
{
	uint64_t sum;

	for (int i = 0; i < 4; i++)
		h[8 + i] = (unsigned char)(version >> (8 * i));
	sum = rs__wal_checksum(h, size - 8);
	for (int i = 0; i < 8; i++)
		h[size - 8 + i] = (unsigned char)(sum >> (8 * i));
}

/* The CLOSE record: its own kind, no run, no ops; every flip rejected. */
static void wal_format__close_record(void **state)
{
	unsigned char r[RS__REC_HDR];
	rs__rec_view v;

	(void)state;
	rs__rec_encode_close(r, 42);
	rs__rec_seal(r, 4096);
	assert_int_equal(rs__rec_check(r, sizeof(r), &v), 0);
	assert_int_equal(v.kind, RS__WAL_REC_CLOSE);
	assert_int_equal(v.len, RS__REC_HDR);
	assert_int_equal(v.synced_lsn, 4096);
	assert_int_equal(v.nops, 0);
	assert_int_equal(rs__rec_check(r, sizeof(r) - 1, &v), RS_ECORRUPT);
	for (size_t byte = 0; byte < sizeof(r); byte++) {
		for (int bit = 0; bit < 8; bit++) {
			r[byte] ^= (unsigned char)(1u << bit);
			assert_int_equal(rs__rec_check(r, sizeof(r), &v),
					 RS_ECORRUPT);
			r[byte] ^= (unsigned char)(1u << bit);
		}
	}
	/* A CLOSE with a run or a version is malformed, checksum or not. */
	r[30] = 1;
	rs__rec_seal(r, 4096);
	assert_int_equal(rs__rec_check(r, sizeof(r), &v), RS_ECORRUPT);
}

static void wal_format__segment_header(void **state)
{
	unsigned char h[RS__SEG_HDR];
	rs__seg_header in = { 7, 123456, 99 }, out;

	(void)state;
	rs__seg_header_encode(h, &in);
	assert_memory_equal(h, "RSWAL\r\n\x1a", 8);
	assert_int_equal(rs__seg_header_decode(h, sizeof(h), &out), 0);
	assert_int_equal(out.seq, 7);
	assert_int_equal(out.start_lsn, 123456);
	assert_int_equal(out.created_ns, 99);
	assert_int_equal(rs__seg_header_decode(h, sizeof(h) - 1, &out),
			 RS_ECORRUPT);
	for (size_t byte = 0; byte < sizeof(h); byte++) {
		for (int bit = 0; bit < 8; bit++) {
			int rc;

			h[byte] ^= (unsigned char)(1u << bit);
			rc = rs__seg_header_decode(h, sizeof(h), &out);
			/* The checksum is checked before the version. */
			assert_int_equal(rc, RS_ECORRUPT);
			h[byte] ^= (unsigned char)(1u << bit);
		}
	}
	/* An intact header of a newer format version. */
	reseal_version(h, RS__SEG_HDR, 2);
	assert_int_equal(rs__seg_header_decode(h, sizeof(h), &out),
			 RS_EVERSION);
}

/* A checkpoint image of two runs, the second without entries. */
/* Positions past RS__LSN_MAX / RS__SEQ_MAX, or segment 0, are corrupt:
 * recovery would continue a log that wraps (recovery also refuses to
 * continue past RS__OPEN_MAX: test_damage). */
static void wal_format__positions_are_bounded(void **state)
{
	unsigned char h[RS__SEG_HDR], c[RS__CKPT_HDR];
	rs__seg_header sh, out;
	rs__ckpt_header ch = { 3, 4096, 5, 0, 0 }, cout;

	(void)state;
	sh = (rs__seg_header){ 1, RS__LSN_MAX, 0 };
	rs__seg_header_encode(h, &sh);
	assert_int_equal(rs__seg_header_decode(h, sizeof(h), &out), 0);
	sh.start_lsn = RS__LSN_MAX + 1;
	rs__seg_header_encode(h, &sh);
	assert_int_equal(rs__seg_header_decode(h, sizeof(h), &out),
			 RS_ECORRUPT);
	sh = (rs__seg_header){ 0, 0, 0 };
	rs__seg_header_encode(h, &sh);
	assert_int_equal(rs__seg_header_decode(h, sizeof(h), &out),
			 RS_ECORRUPT);
	sh.seq = RS__SEQ_MAX + 1;
	rs__seg_header_encode(h, &sh);
	assert_int_equal(rs__seg_header_decode(h, sizeof(h), &out),
			 RS_ECORRUPT);
	rs__ckpt_header_encode(c, &ch);
	assert_int_equal(rs__ckpt_header_decode(c, sizeof(c), &cout), 0);
	ch.wal_lsn = UINT64_MAX - 15; /* the fuzzers' wrap */
	rs__ckpt_header_encode(c, &ch);
	assert_int_equal(rs__ckpt_header_decode(c, sizeof(c), &cout),
			 RS_ECORRUPT);
}

/*
 * The torn-write search after a bad record is bounded: after
 * RS__TORN_PROBES headers that look right but whose checksum fails, a proof
 * behind them is not looked for (the tail is cut as unproven). A valid
 * record claiming an impossible synced LSN proves nothing, and what is
 * inside a valid record is never taken for one.
 */
static void wal_format__torn_search_is_bounded(void **state)
{
	enum {
		FAKE = 96
	};
	const size_t size = 64 * 1024, bad = RS__SEG_HDR;
	const uint64_t bad_lsn = 1000;
	unsigned char *p = calloc(1, size);
	size_t o = bad + 8, proof;
	rs__op op = make_op(1, "k", "v", false);
	rs__commit_record rec;

	(void)state;
	memset(&rec, 0, sizeof(rec));
	rec.kind = RS__REC_COMMIT;
	rec.run = &run;
	rec.version = 1;
	rec.ops = &op;
	rec.nops = 1;
	p[bad] = 0xff; /* the bad record */
	/* Fakes: records whose header is right but checksum is not. */
	for (int i = 0; i < FAKE; i++, o += 128) {
		rs__rec_encode(p + o, &rec, 1);
		rs__rec_seal(p + o, bad_lsn + 1);
		p[o] ^= 1;
	}
	/* A record with an impossible synced LSN (past its own) never
	 * counts, valid or not. */
	rs__rec_encode(p + o, &rec, 1);
	rs__rec_seal(p + o, bad_lsn + (o - bad) + 1);
	o += 256;
	/* A valid record proving nothing, holding a value that is itself a
	 * proving record: never looked inside. */
	{
		unsigned char inner[RS__REC_HDR + RS__OP_HDR + 2];
		rs__op vop = make_op(1, "x", "", false);
		rs__commit_record outer = rec;

		rs__rec_encode(inner, &rec, 1);
		vop.val = inner;
		vop.vlen = sizeof(inner);
		outer.ops = &vop;
		rs__rec_encode(p + o, &outer, 1);
		/* The inner record starts at its own offset o + 64 + 12 + 1. */
		rs__rec_seal(p + o + RS__REC_HDR + RS__OP_HDR + 1, bad_lsn + 1);
		rs__rec_seal(p + o, 0);
		o += 256;
	}
	/* The proof: a valid record synced past the bad one. */
	proof = o;
	rs__rec_encode(p + proof, &rec, 1);
	rs__rec_seal(p + proof, bad_lsn + 1);
	assert_true(rs__wal_is_torn(p, size, bad, bad_lsn));
	/* With fewer fakes than the bound before it, it is found. */
	memset(p + bad + 8 + 128 * (RS__TORN_PROBES - 1), 0,
	       128 * (FAKE - RS__TORN_PROBES + 1));
	assert_false(rs__wal_is_torn(p, size, bad, bad_lsn));
	/* Without it, torn. */
	memset(p + proof, 0, 256);
	assert_true(rs__wal_is_torn(p, size, bad, bad_lsn));
	free(p);
}

static unsigned char *ckpt_sample(size_t *len)
{
	unsigned char *p = calloc(1, 512), hdr[RS__OP_HDR];
	rs__ckpt_header h = { 3, 4096, 5, 2, 2 };
	rs_run_id r2 = run;
	size_t o = RS__CKPT_HDR;

	r2.bytes[0] = 99;
	rs__ckpt_run_encode(p + o, &run, 17);
	o += RS__CKPT_RUN_ITEM;
	rs__ckpt_entry_encode(hdr, 1, 3, 2);
	memcpy(p + o, hdr, sizeof(hdr));
	memcpy(p + o + 12, "keyvv", 5);
	o += 17;
	rs__ckpt_entry_encode(hdr, 2, 1, 0);
	memcpy(p + o, hdr, sizeof(hdr));
	memcpy(p + o + 12, "k", 1);
	o += 13;
	rs__ckpt_run_encode(p + o, &r2, 0);
	o += RS__CKPT_RUN_ITEM;
	rs__ckpt_trailer_encode(
		p + o, rs__wal_checksum(p + RS__CKPT_HDR, o - RS__CKPT_HDR));
	o += RS__CKPT_TRAILER;
	rs__ckpt_header_encode(p, &h);
	*len = o;
	return p;
}

static void wal_format__checkpoint_image(void **state)
{
	size_t len, off = RS__CKPT_HDR;
	unsigned char *p = ckpt_sample(&len);
	rs__ckpt_header h;
	rs__ckpt_item it;

	(void)state;
	assert_int_equal(rs__ckpt_check(p, len, &h), 0);
	assert_int_equal(h.wal_seq, 3);
	assert_int_equal(h.wal_lsn, 4096);
	assert_int_equal(rs__ckpt_next(p, len, &off, &it), 1);
	assert_int_equal(it.type, RS__CKPT_ITEM_RUN);
	assert_int_equal(it.version, 17);
	assert_int_equal(rs__ckpt_next(p, len, &off, &it), 1);
	assert_int_equal(it.type, RS__CKPT_ITEM_ENTRY);
	assert_int_equal(it.op.tag, 1);
	assert_memory_equal(it.op.key, "key", 3);
	assert_memory_equal(it.op.val, "vv", 2);
	assert_int_equal(rs__ckpt_next(p, len, &off, &it), 1);
	assert_int_equal(it.op.vlen, 0);
	assert_int_equal(rs__ckpt_next(p, len, &off, &it), 1);
	assert_int_equal(it.type, RS__CKPT_ITEM_RUN);
	assert_int_equal(it.version, 0);
	assert_int_equal(rs__ckpt_next(p, len, &off, &it), 0);
	for (size_t byte = 0; byte < len; byte++) {
		for (int bit = 0; bit < 8; bit++) {
			int rc;

			p[byte] ^= (unsigned char)(1u << bit);
			rc = rs__ckpt_check(p, len, &h);
			assert_int_equal(rc, RS_ECORRUPT);
			p[byte] ^= (unsigned char)(1u << bit);
		}
	}
	reseal_version(p, RS__CKPT_HDR, 2);
	assert_int_equal(rs__ckpt_check(p, len, &h), RS_EVERSION);
	for (size_t n = 0; n < len; n++)
		assert_int_not_equal(rs__ckpt_check(p, n, &h), 0);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(wal_format__record_round_trip),
		cmocka_unit_test(wal_format__every_bit_flip_is_caught),
		cmocka_unit_test(wal_format__drop_run_record),
		cmocka_unit_test(wal_format__segment_header),
		cmocka_unit_test(wal_format__close_record),
		cmocka_unit_test(wal_format__positions_are_bounded),
		cmocka_unit_test(wal_format__torn_search_is_bounded),
		cmocka_unit_test(wal_format__checkpoint_image),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
