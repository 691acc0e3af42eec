/* SPDX-License-Identifier: MIT */
/*
 * Encoding and checking of log segments, log records and checkpoints. The
 * byte-by-byte specification is docs/wal-format.md; keep the two in step.
 *
 * Invariants the rest of the durability layer relies on:
 *  - One record per committed write transaction; its checksum (XXH3-64,
 *    seed 0) covers every byte of the record after the checksum field, so
 *    a record is either wholly valid or rejected: recovery can never apply
 *    part of a transaction.
 *  - Segments are preallocated and therefore read as zeros past the last
 *    record. An all-zero tail is the clean end of a segment; anything else
 *    that is not a valid record is torn or corrupt (recovery.c decides
 *    which, using the synced-LSN field below).
 *  - A record's synced-LSN field holds the log position up to which the log
 *    was on stable storage when the record was written (the start of the
 *    batch it was written in). It is filled in, and the checksum computed,
 *    by the thread that writes the batch (rs__rec_seal), not by the
 *    committer: a committer only copies bytes under the log mutex. A
 *    CLOSE record, written alone after everything before it was synced,
 *    carries its own LSN there: the proof for the whole log.
 *  - rs__rec_check() and rs__ckpt_check() accept any input: every length
 *    is checked against the bytes available before it is used, so they
 *    are safe on garbage (torn tails, bit flips, fuzzing).
 *
 * Nothing here allocates, locks or performs I/O.
 */
#include "durability/wal_format.h"

#include <string.h>

#include "util/endian.h"
#include "util/error.h"
#include "util/hash.h"

static bool all_zero(const unsigned char *p, size_t n)
{
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

uint64_t rs__wal_checksum(const void *p, size_t len)
{
	return XXH3_64bits(p, len);
}

/* ---- file headers ---- */

/*
 * Both file headers have one layout: 8-byte magic, format version, header
 * size, then HDR_NFIELDS u64 fields, then an XXH3 of every header byte
 * before it (the last 8). The checksum is verified first, over the header
 * size the file states, so a damaged byte anywhere (the version field
 * included) is RS_ECORRUPT; a header that is intact but of another format
 * version is RS_EVERSION, so a file of a newer format is not called
 * corrupt. Every version keeps the first 16 bytes and a trailing checksum.
 */
#define HDR_FIELDS 16u
#define HDR_NFIELDS(size) (((size)-HDR_FIELDS - 8u) / 8u)
/* The largest header size a later version may state and still be read. */
#define HDR_SIZE_MAX 4096u

static void header_encode(unsigned char *out, const char *magic, uint32_t size,
			  const uint64_t *fields)
{
	memcpy(out, magic, 8);
	rs__put_le32(out + 8, RS__WAL_FORMAT);
	rs__put_le32(out + 12, size);
	for (uint32_t off = HDR_FIELDS; off < size - 8; off += 8)
		rs__put_le64(out + off, *fields++);
	rs__put_le64(out + size - 8, rs__wal_checksum(out, size - 8));
}

static int header_decode(const unsigned char *p, size_t avail,
			 const char *magic, uint32_t size, uint64_t *fields)
{
	uint32_t stated;

	if (avail < HDR_FIELDS || memcmp(p, magic, 8) != 0)
		return RS_ECORRUPT;
	stated = rs__get_le32(p + 12);
	if (stated < HDR_FIELDS + 8 || stated > HDR_SIZE_MAX || stated % 8 ||
	    avail < stated ||
	    rs__get_le64(p + stated - 8) != rs__wal_checksum(p, stated - 8))
		return RS_ECORRUPT;
	if (rs__get_le32(p + 8) != RS__WAL_FORMAT)
		return RS_EVERSION;
	if (stated != size)
		return RS_ECORRUPT;
	for (uint32_t off = HDR_FIELDS; off < size - 8; off += 8)
		*fields++ = rs__get_le64(p + off);
	return 0;
}

_Static_assert(HDR_NFIELDS(RS__SEG_HDR) == 3, "segment header fields");

void rs__seg_header_encode(unsigned char out[RS__SEG_HDR],
			   const rs__seg_header *h)
{
	const uint64_t f[HDR_NFIELDS(RS__SEG_HDR)] = { h->seq, h->start_lsn,
						       h->created_ns };

	header_encode(out, RS__SEG_MAGIC, RS__SEG_HDR, f);
}

int rs__seg_header_decode(const unsigned char *p, size_t avail,
			  rs__seg_header *out)
{
	uint64_t f[HDR_NFIELDS(RS__SEG_HDR)];

	RS_TRY(header_decode(p, avail, RS__SEG_MAGIC, RS__SEG_HDR, f));
	if (f[0] == 0 || f[0] > RS__SEQ_MAX || f[1] > RS__LSN_MAX)
		return RS_ECORRUPT;
	out->seq = f[0];
	out->start_lsn = f[1];
	out->created_ns = f[2];
	return 0;
}

/* ---- records ---- */

uint64_t rs__rec_size(const rs__commit_record *rec)
{
	uint64_t n = RS__REC_HDR;

	if (rec->kind == RS__REC_DROP_RUN)
		n += RS__DROP_TRAILER;

	for (size_t i = 0; i < rec->nops; i++)
		n += RS__OP_HDR + (uint64_t)rec->ops[i].klen +
		     ((rec->ops[i].flags & RS__OP_F_DELETE) ? 0
							    : rec->ops[i].vlen);
	return n;
}

void rs__rec_encode(unsigned char *out, const rs__commit_record *rec,
		    uint64_t timestamp_ns)
{
	unsigned char *p = out + RS__REC_HDR;

	rs__put_le64(out, 0);
	rs__put_le32(out + 8, (uint32_t)rs__rec_size(rec));
	rs__put_le16(out + 12, (uint16_t)rec->kind);
	rs__put_le16(out + 14, 0);
	rs__put_le64(out + 16, 0);
	memcpy(out + 24, rec->run->bytes, 16);
	rs__put_le64(out + 40, rec->version);
	rs__put_le64(out + 48, timestamp_ns);
	rs__put_le32(out + 56, (uint32_t)rec->nops);
	rs__put_le32(out + 60, 0);
	for (size_t i = 0; i < rec->nops; i++) {
		const rs__op *op = &rec->ops[i];
		bool del = (op->flags & RS__OP_F_DELETE) != 0;
		uint32_t vlen = del ? 0 : op->vlen;

		p[0] = op->tag;
		p[1] = del ? 1 : 0;
		rs__put_le16(p + 2, 0);
		rs__put_le32(p + 4, op->klen);
		rs__put_le32(p + 8, vlen);
		p += RS__OP_HDR;
		memcpy(p, op->key, op->klen);
		p += op->klen;
		if (vlen)
			memcpy(p, op->val, vlen);
		p += vlen;
	}
	if (rec->kind == RS__REC_DROP_RUN) {
		memcpy(p, rec->drop_run->bytes, 16);
		rs__put_le64(p + 16, rec->drop_version);
	}
}

void rs__rec_encode_close(unsigned char out[RS__REC_HDR], uint64_t timestamp_ns)
{
	memset(out, 0, RS__REC_HDR);
	rs__put_le32(out + 8, RS__REC_HDR);
	rs__put_le16(out + 12, RS__WAL_REC_CLOSE);
	rs__put_le64(out + 48, timestamp_ns);
}

uint32_t rs__rec_len(const unsigned char *rec)
{
	return rs__get_le32(rec + 8);
}

void rs__rec_seal(unsigned char *rec, uint64_t synced_lsn)
{
	uint32_t len = rs__get_le32(rec + 8);

	rs__put_le64(rec + 16, synced_lsn);
	rs__put_le64(rec, rs__wal_checksum(rec + 8, len - 8));
}

/* The ops of a record whose checksum matched: structure only. */
static int check_ops(const unsigned char *p, const unsigned char *end,
		     uint32_t nops)
{
	for (uint32_t i = 0; i < nops; i++) {
		uint32_t klen, vlen;

		if ((size_t)(end - p) < RS__OP_HDR)
			return RS_ECORRUPT;
		klen = rs__get_le32(p + 4);
		vlen = rs__get_le32(p + 8);
		if (p[0] == 0 || (p[1] & ~1u) != 0 ||
		    rs__get_le16(p + 2) != 0 || klen == 0 ||
		    klen > RS_KEY_MAX || vlen > RS_VALUE_MAX ||
		    ((p[1] & 1u) && vlen != 0))
			return RS_ECORRUPT;
		p += RS__OP_HDR;
		if ((uint64_t)(end - p) < (uint64_t)klen + vlen)
			return RS_ECORRUPT;
		p += klen + vlen;
	}
	return p == end ? 0 : RS_ECORRUPT;
}

/*
 * The header checks that need no checksum: they reject most garbage before
 * a checksum has to be computed over a length read from it. Whether the
 * bytes at p (avail of them, at least RS__REC_HDR) could start a record.
 */
static bool rec_plausible(const unsigned char *p, size_t avail)
{
	uint32_t len = rs__get_le32(p + 8), kind = rs__get_le16(p + 12),
		 nops = rs__get_le32(p + 56);

	if (kind == RS__WAL_REC_CLOSE)
		return len == RS__REC_HDR && rs__get_le16(p + 14) == 0 &&
		       all_zero(p + 24, 24) && all_zero(p + 56, 8);
	return len >= RS__REC_HDR && len <= avail &&
	       (kind == RS__REC_COMMIT || kind == RS__REC_DROP_RUN) &&
	       rs__get_le16(p + 14) == 0 && rs__get_le32(p + 60) == 0 &&
	       rs__get_le64(p + 40) != 0 &&
	       rs__get_le64(p + 40) <= RS__VERSION_MAX &&
	       (kind != RS__REC_DROP_RUN ||
		len >= RS__REC_HDR + RS__DROP_TRAILER) &&
	       nops <= (len - RS__REC_HDR) / RS__OP_HDR;
}

/* A CLOSE record whose header rec_plausible() accepted. */
static int check_close(const unsigned char *p, rs__rec_view *out)
{
	if (rs__get_le64(p) != rs__wal_checksum(p + 8, RS__REC_HDR - 8))
		return RS_ECORRUPT;
	memset(out, 0, sizeof(*out));
	out->len = RS__REC_HDR;
	out->kind = RS__WAL_REC_CLOSE;
	out->synced_lsn = rs__get_le64(p + 16);
	out->timestamp_ns = rs__get_le64(p + 48);
	out->ops = p + RS__REC_HDR;
	return 0;
}

int rs__rec_check(const unsigned char *p, size_t avail, rs__rec_view *out)
{
	const unsigned char *ops_end;
	uint32_t len, kind, nops;

	if (all_zero(p, avail < 12 ? avail : 12))
		return all_zero(p, avail) ? RS__REC_END : RS_ECORRUPT;
	if (avail < RS__REC_HDR || !rec_plausible(p, avail))
		return RS_ECORRUPT;
	len = rs__get_le32(p + 8);
	kind = rs__get_le16(p + 12);
	nops = rs__get_le32(p + 56);
	/* A CLOSE record: exactly its header, nil run, version 0, no ops. */
	if (kind == RS__WAL_REC_CLOSE)
		return check_close(p, out);
	if (rs__get_le64(p) != rs__wal_checksum(p + 8, len - 8))
		return RS_ECORRUPT;
	ops_end = p + len - (kind == RS__REC_DROP_RUN ? RS__DROP_TRAILER : 0);
	if (check_ops(p + RS__REC_HDR, ops_end, nops) < 0)
		return RS_ECORRUPT;
	memset(out->drop_run.bytes, 0, 16);
	out->drop_version = 0;
	if (kind == RS__REC_DROP_RUN) {
		memcpy(out->drop_run.bytes, ops_end, 16);
		out->drop_version = rs__get_le64(ops_end + 16);
		if (out->drop_version == 0 ||
		    out->drop_version > RS__VERSION_MAX ||
		    rs_run_id_is_nil(&out->drop_run))
			return RS_ECORRUPT;
	}
	out->len = len;
	out->kind = kind;
	out->synced_lsn = rs__get_le64(p + 16);
	memcpy(out->run.bytes, p + 24, 16);
	out->version = rs__get_le64(p + 40);
	out->timestamp_ns = rs__get_le64(p + 48);
	out->nops = nops;
	out->ops = p + RS__REC_HDR;
	return 0;
}

void rs__rec_next_op(const unsigned char **cur, rs__op *op)
{
	const unsigned char *p = *cur;

	memset(op, 0, sizeof(*op));
	op->tag = p[0];
	op->flags = (p[1] & 1u) ? RS__OP_F_DELETE : 0;
	op->klen = rs__get_le32(p + 4);
	op->vlen = rs__get_le32(p + 8);
	op->key = p + RS__OP_HDR;
	op->val = p + RS__OP_HDR + op->klen;
	*cur = p + RS__OP_HDR + op->klen + op->vlen;
}

size_t rs__wal_data_end(const unsigned char *p, size_t from, size_t len)
{
	size_t end = len;

	while (end > from) {
		size_t blk = (end - from) < 4096 ? (end - from) : 4096;
		const unsigned char *q = p + end - blk;

		if (all_zero(q, blk)) {
			end -= blk;
			continue;
		}
		while (p[end - 1] == 0)
			end--;
		break;
	}
	return end;
}

bool rs__wal_is_torn(const unsigned char *p, size_t size, size_t bad,
		     uint64_t bad_lsn)
{
	size_t end = rs__wal_data_end(p, bad, size), o = bad + 1;
	unsigned failed = 0;

	/* A record starts before the last non-zero byte but may end after
	 * it: its last bytes can be zeros (a CLOSE record's always are). */
	while (o < end && o + RS__REC_HDR <= size) {
		uint64_t lsn = bad_lsn + (o - bad);
		rs__rec_view v;

		if (!rec_plausible(p + o, size - o)) {
			o++;
			continue;
		}
		if (rs__rec_check(p + o, size - o, &v) != 0) {
			if (++failed == RS__TORN_PROBES)
				return true;
			o++;
			continue;
		}
		/* A proof, unless it claims a position no writer could have
		 * synced when it was written (past its own). */
		if (v.synced_lsn > bad_lsn && v.synced_lsn <= lsn)
			return false;
		/* Nothing inside a valid record starts one: skipping it
		 * keeps values that look like records out of the search,
		 * and hashes each valid record once. */
		o += v.len;
	}
	return true;
}

/* ---- checkpoints ---- */

_Static_assert(HDR_NFIELDS(RS__CKPT_HDR) == 5, "checkpoint header fields");

void rs__ckpt_header_encode(unsigned char out[RS__CKPT_HDR],
			    const rs__ckpt_header *h)
{
	const uint64_t f[HDR_NFIELDS(RS__CKPT_HDR)] = { h->wal_seq, h->wal_lsn,
							h->created_ns, h->nruns,
							h->nentries };

	header_encode(out, RS__CKPT_MAGIC, RS__CKPT_HDR, f);
}

int rs__ckpt_header_decode(const unsigned char *p, size_t avail,
			   rs__ckpt_header *out)
{
	uint64_t f[HDR_NFIELDS(RS__CKPT_HDR)];

	RS_TRY(header_decode(p, avail, RS__CKPT_MAGIC, RS__CKPT_HDR, f));
	if (f[0] == 0 || f[0] > RS__SEQ_MAX || f[1] > RS__LSN_MAX)
		return RS_ECORRUPT;
	out->wal_seq = f[0];
	out->wal_lsn = f[1];
	out->created_ns = f[2];
	out->nruns = f[3];
	out->nentries = f[4];
	return 0;
}

void rs__ckpt_run_encode(unsigned char out[RS__CKPT_RUN_ITEM],
			 const rs_run_id *run, uint64_t version)
{
	memset(out, 0, 8);
	out[0] = RS__CKPT_ITEM_RUN;
	memcpy(out + 8, run->bytes, 16);
	rs__put_le64(out + 24, version);
}

void rs__ckpt_entry_encode(unsigned char out[RS__OP_HDR], uint8_t tag,
			   size_t klen, size_t vlen)
{
	out[0] = RS__CKPT_ITEM_ENTRY;
	out[1] = tag;
	rs__put_le16(out + 2, 0);
	rs__put_le32(out + 4, (uint32_t)klen);
	rs__put_le32(out + 8, (uint32_t)vlen);
}

void rs__ckpt_trailer_encode(unsigned char out[RS__CKPT_TRAILER],
			     uint64_t body_checksum)
{
	memcpy(out, RS__CKPT_END_MAGIC, 8);
	rs__put_le64(out + 8, body_checksum);
}

/* Decode the item at *off (before end); RS_ECORRUPT if malformed. */
static int ckpt_item(const unsigned char *p, size_t end, size_t *off,
		     rs__ckpt_item *item)
{
	const unsigned char *q = p + *off;
	size_t left = end - *off;

	memset(item, 0, sizeof(*item));
	if (left < 1)
		return RS_ECORRUPT;
	item->type = q[0];
	if (item->type == RS__CKPT_ITEM_RUN) {
		if (left < RS__CKPT_RUN_ITEM || !all_zero(q + 1, 7))
			return RS_ECORRUPT;
		memcpy(item->run.bytes, q + 8, 16);
		item->version = rs__get_le64(q + 24);
		if (item->version > RS__VERSION_MAX)
			return RS_ECORRUPT;
		*off += RS__CKPT_RUN_ITEM;
		return 0;
	}
	if (item->type == RS__CKPT_ITEM_ENTRY) {
		uint32_t klen, vlen;

		if (left < RS__OP_HDR)
			return RS_ECORRUPT;
		klen = rs__get_le32(q + 4);
		vlen = rs__get_le32(q + 8);
		if (q[1] == 0 || rs__get_le16(q + 2) != 0 || klen == 0 ||
		    klen > RS_KEY_MAX || vlen > RS_VALUE_MAX ||
		    left - RS__OP_HDR < (uint64_t)klen + vlen)
			return RS_ECORRUPT;
		item->op.tag = q[1];
		item->op.klen = klen;
		item->op.vlen = vlen;
		item->op.key = q + RS__OP_HDR;
		item->op.val = q + RS__OP_HDR + klen;
		*off += RS__OP_HDR + (size_t)klen + vlen;
		return 0;
	}
	return RS_ECORRUPT;
}

int rs__ckpt_check(const unsigned char *p, size_t len, rs__ckpt_header *out)
{
	rs__ckpt_header h;
	uint64_t nruns = 0, nentries = 0;
	size_t off = RS__CKPT_HDR, end;

	RS_TRY(rs__ckpt_header_decode(p, len, &h));
	if (len < RS__CKPT_HDR + RS__CKPT_TRAILER)
		return RS_ECORRUPT;
	end = len - RS__CKPT_TRAILER;
	if (memcmp(p + end, RS__CKPT_END_MAGIC, 8) != 0 ||
	    rs__get_le64(p + end + 8) !=
		    rs__wal_checksum(p + RS__CKPT_HDR, end - RS__CKPT_HDR))
		return RS_ECORRUPT;
	while (off < end) {
		rs__ckpt_item it;

		RS_TRY(ckpt_item(p, end, &off, &it));
		if (it.type == RS__CKPT_ITEM_RUN)
			nruns++;
		else if (nruns == 0)
			return RS_ECORRUPT; /* an entry before any run */
		else
			nentries++;
	}
	if (nruns != h.nruns || nentries != h.nentries)
		return RS_ECORRUPT;
	*out = h;
	return 0;
}

int rs__ckpt_next(const unsigned char *p, size_t len, size_t *off,
		  rs__ckpt_item *item)
{
	size_t end = len - RS__CKPT_TRAILER;

	if (*off >= end)
		return 0;
	/* Checked by rs__ckpt_check() already. */
	return ckpt_item(p, end, off, item) == 0 ? 1 : 0;
}
