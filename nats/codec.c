/* SPDX-License-Identifier: MIT */
/*
 * Log message encoding (codec.h). The layout, byte by byte:
 *
 *   0  u8  magic 0xA7        1  u8  format 1
 *   2  u8  type              3  u8  0
 *   4  16  writer id
 *   batch (type 4): 20 u32 count, then per record a u32 length and a body
 *   commit (type 1, written by earlier versions): 20 one body
 *   body:
 *      0 u32 kind   4 u8 mode   5 u8[3] 0   8 u64 version  16 u64 ts_ns
 *     24 16 run    40 16 drop_run          56 u64 drop_version
 *     64 u32 nops, then per op: u8 tag, u8 is_delete, u32 klen, u32 vlen,
 *        key, value
 *   end: u64 XXH3-64 of every byte before it
 *
 * A commit record is never split across messages, so a RunIndex delete
 * (RS_RECORD_DROP_RUN, two runs) is stored, replicated and replayed whole
 * or not at all; a batch is stored whole or not at all, and its records
 * are applied in order, each atomically.
 */
#include "codec.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#define MAGIC 0xA7u
#define FORMAT 1u
#define HDR (4u + RSN_WRITER_ID_LEN)
#define OP_FIXED 10u
#define SUM RSN_SUM

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

#define BODY_FIXED 68u

/* Bytes of rec's body. */
static size_t body_size(const rs_commit_record *rec)
{
	size_t n = BODY_FIXED;

	for (size_t i = 0; i < rec->nops; i++)
		n += OP_FIXED + rec->ops[i].key.len + rec->ops[i].value.len;
	return n;
}

size_t rsn_record_size(const rs_commit_record *rec)
{
	return 4u + body_size(rec);
}

static void header(uint8_t *buf, uint8_t type, const uint8_t *writer)
{
	buf[0] = MAGIC;
	buf[1] = FORMAT;
	buf[2] = type;
	buf[3] = 0;
	memcpy(buf + 4, writer, RSN_WRITER_ID_LEN);
}

void rsn_encode_record(uint8_t *buf, const rs_commit_record *rec)
{
	uint8_t *p = buf + 4;

	put32(buf, (uint32_t)body_size(rec));
	put32(p, rec->kind);
	p[4] = (uint8_t)rec->mode;
	p[5] = p[6] = p[7] = 0;
	put64(p + 8, rec->version);
	put64(p + 16, rec->timestamp_ns);
	memcpy(p + 24, rec->run.bytes, 16);
	memcpy(p + 40, rec->drop_run.bytes, 16);
	put64(p + 56, rec->drop_version);
	put32(p + 64, (uint32_t)rec->nops);
	p += BODY_FIXED;
	for (size_t i = 0; i < rec->nops; i++) {
		const rs_record_op *op = &rec->ops[i];

		p[0] = op->tag;
		p[1] = op->is_delete ? 1 : 0;
		put32(p + 2, (uint32_t)op->key.len);
		put32(p + 6, (uint32_t)op->value.len);
		p += OP_FIXED;
		memcpy(p, op->key.data, op->key.len);
		p += op->key.len;
		if (op->value.len)
			memcpy(p, op->value.data, op->value.len);
		p += op->value.len;
	}
}

void rsn_batch_begin(uint8_t *buf, const uint8_t *writer)
{
	header(buf, RSN_MSG_BATCH, writer);
	put32(buf + HDR, 0);
}

void rsn_batch_finish(uint8_t *buf, size_t len, uint32_t count)
{
	put32(buf + HDR, count);
	put64(buf + len, XXH3_64bits(buf, len));
}

void rsn_encode_marker(uint8_t *buf, uint8_t type, const uint8_t *writer)
{
	header(buf, type, writer);
	put64(buf + HDR, XXH3_64bits(buf, HDR));
}

/* The op count of the body [p, end), or SIZE_MAX if it cannot hold one. */
static size_t body_nops(const uint8_t *p, const uint8_t *end)
{
	size_t nops;

	if ((size_t)(end - p) < BODY_FIXED)
		return SIZE_MAX;
	nops = get32(p + 64);
	return nops > (size_t)(end - p - BODY_FIXED) / OP_FIXED ? SIZE_MAX
								: nops;
}

/* Decodes the body [p, end) into *rec, its ops into ops (body_nops()
 * of them). 0 or RS_ECORRUPT. */
static int body_decode(const uint8_t *p, const uint8_t *end,
		       rs_commit_record *rec, rs_record_op *ops)
{
	size_t nops = get32(p + 64);

	rec->kind = get32(p);
	rec->mode = (rs_durability)p[4];
	rec->version = get64(p + 8);
	rec->timestamp_ns = get64(p + 16);
	memcpy(rec->run.bytes, p + 24, 16);
	memcpy(rec->drop_run.bytes, p + 40, 16);
	rec->drop_version = get64(p + 56);
	p += BODY_FIXED;
	for (size_t i = 0; i < nops; i++) {
		rs_record_op *op = &ops[i];
		size_t kl, vl;

		if ((size_t)(end - p) < OP_FIXED)
			return RS_ECORRUPT;
		op->tag = p[0];
		op->is_delete = p[1] != 0;
		kl = get32(p + 2);
		vl = get32(p + 6);
		p += OP_FIXED;
		if (kl > (size_t)(end - p) || vl > (size_t)(end - p) - kl)
			return RS_ECORRUPT;
		op->key.data = p;
		op->key.len = kl;
		p += kl;
		op->value.data =
			op->is_delete ? NULL : (vl ? (const void *)p : "");
		op->value.len = op->is_delete ? 0 : vl;
		p += vl;
	}
	if (p != end)
		return RS_ECORRUPT;
	rec->ops = ops;
	rec->nops = nops;
	return 0;
}

/*
 * The records of a batch body [p, end) (a commit message: one body, no
 * length prefix). Two passes: the first checks every length and counts
 * the records and ops, the second decodes into arrays sized by it.
 */
/* n zeroed elements of `size` bytes from a, or NULL. */
static void *array_new(const rs_allocator *a, size_t n, size_t size)
{
	void *p;

	if (size && n > SIZE_MAX / size)
		return NULL;
	if ((p = a->malloc_fn(a->ctx, n * size)) != NULL)
		memset(p, 0, n * size);
	return p;
}

static int records_decode(const uint8_t *p, const uint8_t *end, bool batch,
			  rsn_msg *out)
{
	size_t count = 1, nrecs = 0, nops = 0, k;
	const uint8_t *q;

	if (batch) {
		if ((size_t)(end - p) < 4)
			return RS_ECORRUPT;
		count = get32(p);
		p += 4;
		if (count == 0 || count > (size_t)(end - p) / (4 + BODY_FIXED))
			return RS_ECORRUPT;
	}
	for (q = p; nrecs < count; nrecs++) {
		const uint8_t *bend = end;

		if (batch) {
			size_t bl;

			if ((size_t)(end - q) < 4)
				return RS_ECORRUPT;
			bl = get32(q);
			q += 4;
			if (bl > (size_t)(end - q))
				return RS_ECORRUPT;
			bend = q + bl;
		}
		if ((k = body_nops(q, bend)) == SIZE_MAX)
			return RS_ECORRUPT;
		nops += k;
		q = bend;
	}
	if (q != end)
		return RS_ECORRUPT;
	out->recs = array_new(out->a, count, sizeof(*out->recs));
	out->ops = array_new(out->a, nops ? nops : 1, sizeof(*out->ops));
	if (!out->recs || !out->ops) {
		rsn_msg_free(out);
		return RS_ENOMEM;
	}
	nops = 0;
	for (size_t i = 0; i < count; i++) {
		const uint8_t *bend = end;

		if (batch) {
			bend = p + 4 + get32(p);
			p += 4;
		}
		if (body_decode(p, bend, &out->recs[i], out->ops + nops) < 0) {
			rsn_msg_free(out);
			return RS_ECORRUPT;
		}
		nops += out->recs[i].nops;
		p = bend;
	}
	out->nrecs = count;
	return 0;
}

int rsn_decode(const void *data, size_t len, const rs_allocator *a,
	       rsn_msg *out)
{
	const uint8_t *b = data;

	memset(out, 0, sizeof(*out));
	out->a = a;
	if (!b || len < HDR + SUM || b[0] != MAGIC || b[1] != FORMAT)
		return RS_ECORRUPT;
	if (get64(b + len - SUM) != XXH3_64bits(b, len - SUM))
		return RS_ECORRUPT;
	out->type = b[2];
	memcpy(out->writer, b + 4, RSN_WRITER_ID_LEN);
	if (out->type == RSN_MSG_FENCE || out->type == RSN_MSG_BARRIER)
		return len == RSN_MARKER_SIZE ? 0 : RS_ECORRUPT;
	if (out->type != RSN_MSG_COMMIT && out->type != RSN_MSG_BATCH)
		return RS_ECORRUPT;
	return records_decode(b + HDR, b + len - SUM,
			      out->type == RSN_MSG_BATCH, out);
}

void rsn_msg_free(rsn_msg *m)
{
	if (m->recs)
		m->a->free_fn(m->a->ctx, m->recs);
	if (m->ops)
		m->a->free_fn(m->a->ctx, m->ops);
	m->recs = NULL;
	m->ops = NULL;
	m->nrecs = 0;
}

void rsn_image_run(uint8_t *buf, const rs_run_id *run, uint64_t version)
{
	buf[0] = 'R';
	memcpy(buf + 1, run->bytes, 16);
	put64(buf + 17, version);
}

void rsn_image_entry_head(uint8_t *buf, uint8_t tag, size_t klen, size_t vlen)
{
	buf[0] = 'E';
	buf[1] = tag;
	put32(buf + 2, (uint32_t)klen);
	put32(buf + 6, (uint32_t)vlen);
}

#define END_MAGIC 0xA8u

void rsn_encode_ckpt_end(uint8_t *buf, const rsn_ckpt_end *e)
{
	uint8_t *p = buf + 2 + RSN_WRITER_ID_LEN;

	buf[0] = END_MAGIC;
	buf[1] = FORMAT;
	memcpy(buf + 2, e->writer, RSN_WRITER_ID_LEN);
	put64(p, e->position);
	put64(p + 8, e->number);
	put64(p + 16, e->first_seq);
	put64(p + 24, e->last_seq);
	put64(p + 32, e->chunks);
	put64(p + 40, e->bytes);
	put64(p + 48, e->hash);
	put64(p + 56, XXH3_64bits(buf, RSN_CKPT_END_SIZE - SUM));
}

int rsn_decode_ckpt_end(const void *data, size_t len, rsn_ckpt_end *out)
{
	const uint8_t *b = data, *p;

	if (!b || len != RSN_CKPT_END_SIZE || b[0] != END_MAGIC ||
	    b[1] != FORMAT || get64(b + len - SUM) != XXH3_64bits(b, len - SUM))
		return RS_ECORRUPT;
	p = b + 2 + RSN_WRITER_ID_LEN;
	memcpy(out->writer, b + 2, RSN_WRITER_ID_LEN);
	out->position = get64(p);
	out->number = get64(p + 8);
	out->first_seq = get64(p + 16);
	out->last_seq = get64(p + 24);
	out->chunks = get64(p + 32);
	out->bytes = get64(p + 40);
	out->hash = get64(p + 48);
	return 0;
}

int rsn_image_decode(const uint8_t *p, size_t len, const rs_image_sink *sink)
{
	const uint8_t *end = p + len;
	bool have_run = false;
	int rc;

	while (p < end) {
		if (*p == 'R') {
			rs_run_id run;

			if ((size_t)(end - p) < RSN_IMG_RUN_SIZE)
				return RS_ECORRUPT;
			memcpy(run.bytes, p + 1, 16);
			if ((rc = sink->run(sink->ctx, &run, get64(p + 17))) <
			    0)
				return rc;
			have_run = true;
			p += RSN_IMG_RUN_SIZE;
		} else if (*p == 'E') {
			rs_bytes k, v;
			size_t kl, vl;

			if (!have_run ||
			    (size_t)(end - p) < RSN_IMG_ENTRY_FIXED)
				return RS_ECORRUPT;
			kl = get32(p + 2);
			vl = get32(p + 6);
			if (kl > (size_t)(end - p) - RSN_IMG_ENTRY_FIXED ||
			    vl > (size_t)(end - p) - RSN_IMG_ENTRY_FIXED - kl)
				return RS_ECORRUPT;
			k.data = p + RSN_IMG_ENTRY_FIXED;
			k.len = kl;
			v.data = p + RSN_IMG_ENTRY_FIXED + kl;
			v.len = vl;
			if ((rc = sink->entry(sink->ctx, p[1], k, v)) < 0)
				return rc;
			p += RSN_IMG_ENTRY_FIXED + kl + vl;
		} else {
			return RS_ECORRUPT;
		}
	}
	return 0;
}
