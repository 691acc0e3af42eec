/* SPDX-License-Identifier: MIT */
#ifndef RS_DURABILITY_WAL_FORMAT_H
#define RS_DURABILITY_WAL_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <runstate.h>

#include "durability/durability.h"
#include "util/op.h"

/*
 * The on-disk formats of the write-ahead log and of checkpoints, byte by
 * byte in docs/wal-format.md. Everything is little-endian. These functions
 * only encode and decode memory; files are handled by wal_file.c.
 */

#define RS__WAL_FORMAT 1u

/* ---- log segments ---- */

#define RS__SEG_MAGIC "RSWAL\r\n\x1a"
#define RS__SEG_HDR 48u
#define RS__REC_HDR 64u
#define RS__OP_HDR 12u
/* What a DROP_RUN record carries after its ops: the run it also drops
 * (16 bytes) and that run's new version (8). */
#define RS__DROP_TRAILER 24u
/* The length field is 32 bits. */
#define RS__REC_MAX UINT32_MAX
/*
 * A record kind of the log only, next to rs_record_kind's COMMIT (1) and
 * DROP_RUN (2): CLOSE, written by a clean close after everything before
 * it was synced, and synced itself. Its synced LSN is its own LSN, so it
 * proves every record before it was on stable storage: damage to any of
 * them is corruption, not a torn write. 64 bytes, no ops, nil run,
 * version 0; recovery applies nothing for it.
 */
#define RS__WAL_REC_CLOSE 3u

/*
 * The largest log position and segment number a file may state, 2^63,
 * and run version, 2^63 - 1 (the store keeps a node's first version as
 * a 63-bit number beside a tag bit: storage/table.h, rs__vref); a header
 * or record past them is corrupt. The log refuses a commit that would
 * pass them (RS_ERANGE, wal_commit.c), so it never writes what it would
 * refuse to read, and no counter can wrap.
 */
#define RS__LSN_MAX (UINT64_C(1) << 63)
#define RS__SEQ_MAX (UINT64_C(1) << 63)
#define RS__VERSION_MAX ((UINT64_C(1) << 63) - 1)

typedef struct rs__seg_header {
	uint64_t seq;	    /* segment number: 1, 2, 3... */
	uint64_t start_lsn; /* LSN of its first record byte */
	uint64_t created_ns;
} rs__seg_header;

void rs__seg_header_encode(unsigned char out[RS__SEG_HDR],
			   const rs__seg_header *h);
/* RS_ECORRUPT (short, bad magic or checksum, seq 0 or past RS__SEQ_MAX,
 * start LSN past RS__LSN_MAX) or RS_EVERSION. */
int rs__seg_header_decode(const unsigned char *p, size_t avail,
			  rs__seg_header *out);

/* Bytes the record of `rec` takes (may exceed RS__REC_MAX). */
uint64_t rs__rec_size(const rs__commit_record *rec);
/* Encode a CLOSE record (RS__REC_HDR bytes), unsealed. */
void rs__rec_encode_close(unsigned char out[RS__REC_HDR],
			  uint64_t timestamp_ns);
/* Encode it at `out` (rs__rec_size bytes), unsealed: the synced LSN and
 * the checksum are written by rs__rec_seal() when the record is written. */
void rs__rec_encode(unsigned char *out, const rs__commit_record *rec,
		    uint64_t timestamp_ns);
/* Set the synced-LSN field and the checksum of an encoded record. */
void rs__rec_seal(unsigned char *rec, uint64_t synced_lsn);
/* The length field of an encoded record. */
uint32_t rs__rec_len(const unsigned char *rec);

/* A decoded, checked record; pointers into the checked bytes. */
typedef struct rs__rec_view {
	uint32_t len;
	uint32_t kind;
	uint64_t synced_lsn;
	rs_run_id run;
	uint64_t version;
	uint64_t timestamp_ns;
	uint32_t nops;
	const unsigned char *ops; /* nops encoded ops */
	rs_run_id drop_run;	  /* RS__REC_DROP_RUN only */
	uint64_t drop_version;
} rs__rec_view;

#define RS__REC_END 1 /* only zero bytes from here on: the clean end */

/*
 * Check the bytes at p (avail of them, up to the end of the segment):
 * RS__REC_END when they are all zero, 0 and *out filled for a complete
 * record whose checksum and structure are right, RS_ECORRUPT otherwise.
 */
int rs__rec_check(const unsigned char *p, size_t avail, rs__rec_view *out);
/* Decode op i's fields in turn: call with *cur = view->ops. Only on a
 * checked record. */
void rs__rec_next_op(const unsigned char **cur, rs__op *op);

/* Offset after the last non-zero byte of p[from, len) (from if none). */
size_t rs__wal_data_end(const unsigned char *p, size_t from, size_t len);

/*
 * Whether the bad bytes at offset `bad` of the last segment p[0, size),
 * at LSN bad_lsn, are a torn write: no valid record at a later offset has
 * a synced LSN in (bad_lsn, its own LSN] (docs/wal-format.md, "Reading a
 * segment"). The search steps over every valid record whole (nothing
 * inside one is taken for a record) and gives up, the rest counting as
 * unproven, after RS__TORN_PROBES candidates whose header looked right but
 * whose checksum did not match: the work is then at most RS__TORN_PROBES
 * + 1 passes over the segment whatever its bytes, where a hostile file
 * made it quadratic before.
 */
#define RS__TORN_PROBES 64u
bool rs__wal_is_torn(const unsigned char *p, size_t size, size_t bad,
		     uint64_t bad_lsn);

/* ---- checkpoints ---- */

#define RS__CKPT_MAGIC "RSCKPT\r\n"
#define RS__CKPT_END_MAGIC "RSCKEND\n"
#define RS__CKPT_HDR 64u
#define RS__CKPT_TRAILER 16u
#define RS__CKPT_RUN_ITEM 32u
#define RS__CKPT_ITEM_RUN 1u
#define RS__CKPT_ITEM_ENTRY 2u

typedef struct rs__ckpt_header {
	uint64_t wal_seq; /* segments before it are covered */
	uint64_t wal_lsn; /* the log position the image covers */
	uint64_t created_ns;
	uint64_t nruns;
	uint64_t nentries;
} rs__ckpt_header;

void rs__ckpt_header_encode(unsigned char out[RS__CKPT_HDR],
			    const rs__ckpt_header *h);
int rs__ckpt_header_decode(const unsigned char *p, size_t avail,
			   rs__ckpt_header *out);
void rs__ckpt_run_encode(unsigned char out[RS__CKPT_RUN_ITEM],
			 const rs_run_id *run, uint64_t version);
/* Writes the 12-byte entry header; key and value follow it. */
void rs__ckpt_entry_encode(unsigned char out[RS__OP_HDR], uint8_t tag,
			   size_t klen, size_t vlen);
void rs__ckpt_trailer_encode(unsigned char out[RS__CKPT_TRAILER],
			     uint64_t body_checksum);

/* One item of a checked checkpoint body. */
typedef struct rs__ckpt_item {
	unsigned type; /* RS__CKPT_ITEM_* */
	rs_run_id run; /* RUN */
	uint64_t version;
	rs__op op; /* ENTRY: tag, key, val */
} rs__ckpt_item;

/*
 * Check a whole checkpoint file image: header, trailer, body checksum, and
 * the structure of every item (counts as in the header). RS_ECORRUPT or
 * RS_EVERSION on failure.
 */
int rs__ckpt_check(const unsigned char *p, size_t len, rs__ckpt_header *out);
/* Walk the items of a checked image: *off starts at RS__CKPT_HDR; returns
 * 1 with *item filled, or 0 at the trailer. */
int rs__ckpt_next(const unsigned char *p, size_t len, size_t *off,
		  rs__ckpt_item *item);

/* XXH3-64, seed 0: every checksum of both formats. */
uint64_t rs__wal_checksum(const void *p, size_t len);

#endif
