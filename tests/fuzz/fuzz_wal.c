/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: log segment and record decoding (durability/wal_format.c,
 * docs/wal-format.md).
 *
 * Input: one flags byte, then a segment image (flags bit 2 clear: the
 * 48-byte header, then records) or a stream of records (bit 2 set).
 * Bit 0 recomputes the segment header's checksum and bit 1 each record's
 * before it is checked, so that mutations get past the checksums into
 * the structure checks.
 *
 * Checked: rs__seg_header_decode() and rs__rec_check() accept any bytes
 * without reading outside them; whatever they accept re-encodes (with
 * rs__seg_header_encode(), rs__rec_encode() and rs__rec_seal()) to the
 * same bytes, so nothing accepted is ambiguous; every accepted record has
 * the documented bounds (len >= 64, 1..RS_KEY_MAX-byte keys, values of
 * at most RS_VALUE_MAX, ops filling the record exactly), and the same
 * record with its last byte missing is rejected.
 */
#include <stdlib.h>
#include <string.h>

#include "durability/wal_format.h"
#include "fuzz/fuzz_common.h"

#define F_SEAL_SEG 0x1u
#define F_SEAL_REC 0x2u
#define F_RECORDS 0x4u

/* Bounded: a stream of 64-byte records in a large input. */
#define MAX_RECORDS 4096u

static void check_header(const unsigned char *p, size_t n)
{
	rs__seg_header h;
	unsigned char again[RS__SEG_HDR];
	int rc = rs__seg_header_decode(p, n, &h);

	FZ_EXPECT_RC(rc, 0, RS_ECORRUPT, RS_EVERSION);
	if (rc != 0)
		return;
	FZ_CHECK(n >= RS__SEG_HDR, "a header accepted from %zu bytes", n);
	rs__seg_header_encode(again, &h);
	FZ_CHECK(memcmp(again, p, RS__SEG_HDR) == 0,
		 "an accepted segment header does not re-encode");
}

/* A CLOSE record (v checked): a bare header, which re-encodes. */
static void check_close(const unsigned char *p, const rs__rec_view *v)
{
	unsigned char again[RS__REC_HDR];
	rs__rec_view v2;

	FZ_CHECK(v->len == RS__REC_HDR && v->nops == 0 && v->version == 0 &&
			 rs_run_id_is_nil(&v->run),
		 "a CLOSE record of %u bytes, %u ops, version %llu", v->len,
		 v->nops, (unsigned long long)v->version);
	rs__rec_encode_close(again, v->timestamp_ns);
	rs__rec_seal(again, v->synced_lsn);
	FZ_CHECK(memcmp(again, p, RS__REC_HDR) == 0,
		 "an accepted CLOSE record does not re-encode to its bytes");
	FZ_CHECK(rs__rec_check(again, RS__REC_HDR - 1, &v2) == RS_ECORRUPT,
		 "a CLOSE record accepted without its last byte");
}

/* The record at p (v checked): decode its ops, re-encode, compare. */
static void check_record(const unsigned char *p, size_t avail,
			 const rs__rec_view *v)
{
	const unsigned char *cur = v->ops;
	rs__commit_record rec;
	rs__op *ops;
	unsigned char *again;
	rs__rec_view v2;

	FZ_CHECK(v->len >= RS__REC_HDR && v->len <= avail,
		 "record length %u of %zu bytes", v->len, avail);
	if (v->kind == RS__WAL_REC_CLOSE) {
		check_close(p, v);
		return;
	}
	FZ_CHECK(v->kind == RS__REC_COMMIT || v->kind == RS__REC_DROP_RUN,
		 "record kind %u", v->kind);
	FZ_CHECK(v->version >= 1, "record version 0");
	FZ_CHECK(v->nops <= (v->len - RS__REC_HDR) / RS__OP_HDR,
		 "%u ops in %u bytes", v->nops, v->len);
	ops = calloc(v->nops + 1, sizeof(*ops));
	FZ_CHECK(ops, "out of memory");
	for (uint32_t i = 0; i < v->nops; i++) {
		rs__rec_next_op(&cur, &ops[i]);
		FZ_CHECK(ops[i].tag != 0, "op with tag 0");
		FZ_CHECK(ops[i].klen >= 1 && ops[i].klen <= RS_KEY_MAX,
			 "op key of %u bytes", ops[i].klen);
		FZ_CHECK(ops[i].vlen <= RS_VALUE_MAX, "op value of %u bytes",
			 ops[i].vlen);
		FZ_CHECK(!(ops[i].flags & RS__OP_F_DELETE) || ops[i].vlen == 0,
			 "a delete with a value");
		FZ_CHECK(cur <= p + v->len, "op %u ends past its record", i);
	}
	memset(&rec, 0, sizeof(rec));
	rec.kind = v->kind;
	rec.run = &v->run;
	rec.version = v->version;
	rec.ops = ops;
	rec.nops = v->nops;
	if (v->kind == RS__REC_DROP_RUN) {
		FZ_CHECK(!rs_run_id_is_nil(&v->drop_run) && v->drop_version,
			 "a DROP_RUN record without its run");
		rec.drop_run = &v->drop_run;
		rec.drop_version = v->drop_version;
	}
	FZ_CHECK(rs__rec_size(&rec) == v->len,
		 "record of %u bytes re-encodes to %llu", v->len,
		 (unsigned long long)rs__rec_size(&rec));
	again = malloc(v->len);
	FZ_CHECK(again, "out of memory");
	rs__rec_encode(again, &rec, v->timestamp_ns);
	rs__rec_seal(again, v->synced_lsn);
	FZ_CHECK(memcmp(again, p, v->len) == 0,
		 "an accepted record does not re-encode to its bytes");
	FZ_CHECK(rs__rec_len(again) == v->len, "rs__rec_len");
	/* One byte short is never a record. */
	FZ_CHECK(rs__rec_check(again, v->len - 1, &v2) == RS_ECORRUPT,
		 "a record accepted without its last byte");
	free(again);
	free(ops);
}

static void walk(unsigned char *p, size_t n, size_t pos, bool seal)
{
	for (unsigned i = 0; i < MAX_RECORDS && pos < n; i++) {
		rs__rec_view v;
		int rc;

		if (seal)
			fz_seal_record(p + pos, n - pos);
		rc = rs__rec_check(p + pos, n - pos, &v);
		FZ_EXPECT_RC(rc, 0, RS_ECORRUPT, RS__REC_END);
		if (rc != 0)
			return;
		check_record(p + pos, n - pos, &v);
		pos += v.len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned flags = 0;
	size_t n = 0;
	unsigned char *p = fz_flags_and_copy(data, size, &flags, &n);

	if (!p)
		return 0;
	if (flags & F_RECORDS) {
		walk(p, n, 0, flags & F_SEAL_REC);
	} else {
		if ((flags & F_SEAL_SEG) && n >= RS__SEG_HDR)
			fz_seal_header(p, RS__SEG_HDR);
		check_header(p, n);
		if (n >= RS__SEG_HDR)
			walk(p, n, RS__SEG_HDR, flags & F_SEAL_REC);
	}
	free(p);
	return 0;
}
