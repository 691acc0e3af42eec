/* SPDX-License-Identifier: MIT */
/*
 * The payload of one message of a database's log stream (docs/replication.md,
 * "Record format"): a batch of commit records (group commit), a fence
 * record or a barrier, each tagged with the 16-byte id of the writer that
 * published it, and a checksum. Little-endian, no padding.
 */
#ifndef RS_NATS_CODEC_H
#define RS_NATS_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include <runstate/durability.h>

#define RSN_WRITER_ID_LEN 16u

enum rsn_msg_type {
	RSN_MSG_COMMIT = 1,  /* one commit record (format 1's writers) */
	RSN_MSG_FENCE = 2,   /* a writer took over the log (open, promotion) */
	RSN_MSG_BARRIER = 3, /* a writer resynchronized after a failure */
	RSN_MSG_BATCH = 4    /* one or more commit records, in commit order */
};

/* A decoded message: `recs` (RSN_MSG_COMMIT, RSN_MSG_BATCH; nrecs of
 * them) point into the payload and into `ops`; both arrays are owned,
 * allocated with `a` (rsn_msg_free()). nrecs is 0 for a fence or
 * barrier. */
typedef struct rsn_msg {
	const rs_allocator *a;
	uint8_t type;
	uint8_t writer[RSN_WRITER_ID_LEN];
	rs_commit_record *recs;
	size_t nrecs;
	rs_record_op *ops;
} rsn_msg;

/*
 * A batch: RSN_BATCH_HEAD bytes (rsn_batch_begin()), then per record a
 * u32 length and the record's body (rsn_encode_record()), then the
 * RSN_SUM-byte checksum that rsn_batch_finish() writes.
 */
#define RSN_BATCH_HEAD (4u + RSN_WRITER_ID_LEN + 4u)
#define RSN_SUM 8u
/* Bytes rsn_encode_record() writes for rec (its length prefix included). */
size_t rsn_record_size(const rs_commit_record *rec);
/* Encodes rec, length prefix first, into buf (rsn_record_size() bytes). */
void rsn_encode_record(uint8_t *buf, const rs_commit_record *rec);
/* Writes the head of an empty batch into buf. */
void rsn_batch_begin(uint8_t *buf, const uint8_t *writer);
/* Sets the count of a batch of len bytes and writes its checksum at
 * buf + len (RSN_SUM bytes more). */
void rsn_batch_finish(uint8_t *buf, size_t len, uint32_t count);
/* Bytes of a fence or barrier message. */
#define RSN_MARKER_SIZE (4u + RSN_WRITER_ID_LEN + 8u)
/* Encodes a fence or barrier (RSN_MARKER_SIZE bytes). */
void rsn_encode_marker(uint8_t *buf, uint8_t type, const uint8_t *writer);
/* Decodes a payload into *out, its arrays allocated with `a` (all three
 * functions set): 0, RS_ECORRUPT or RS_ENOMEM. */
int rsn_decode(const void *data, size_t len, const rs_allocator *a,
	       rsn_msg *out);
void rsn_msg_free(rsn_msg *m);

/*
 * Checkpoints: an image is a byte stream of run headers and entries, cut
 * into chunks (messages) of at most RSN_CHUNK bytes, then an end record
 * naming them.
 *
 *   run:   u8 'R', 16 run id, u64 version
 *   entry: u8 'E', u8 tag, u32 klen, u32 vlen, key, value
 *   end:   u8 magic 0xA8, u8 format 1, 16 writer id, u64 position,
 *          u64 checkpoint number (of this writer), u64 first chunk seq,
 *          u64 last chunk seq, u64 chunks, u64 bytes, u64 XXH3-64 of the
 *          image, u64 XXH3-64 of the end record before it
 * Chunk i of a checkpoint has the Nats-Msg-Id
 * "<writer id hex>-<position>-<number>-<i>".
 */
#define RSN_CHUNK (512u * 1024u)
#define RSN_IMG_RUN_SIZE (1u + 16u + 8u)
#define RSN_IMG_ENTRY_FIXED (1u + 1u + 4u + 4u)
#define RSN_CKPT_END_SIZE (2u + RSN_WRITER_ID_LEN + 8u * 8u)

typedef struct rsn_ckpt_end {
	uint8_t writer[RSN_WRITER_ID_LEN];
	uint64_t position;
	uint64_t number;
	uint64_t first_seq, last_seq;
	uint64_t chunks;
	uint64_t bytes;
	uint64_t hash;
} rsn_ckpt_end;

void rsn_image_run(uint8_t *buf, const rs_run_id *run, uint64_t version);
/* The fixed part of an entry (key and value follow it). */
void rsn_image_entry_head(uint8_t *buf, uint8_t tag, size_t klen, size_t vlen);
void rsn_encode_ckpt_end(uint8_t *buf, const rsn_ckpt_end *e);
int rsn_decode_ckpt_end(const void *data, size_t len, rsn_ckpt_end *out);

/* Streams a whole image into sink: 0, RS_ECORRUPT, or the sink's error. */
int rsn_image_decode(const uint8_t *p, size_t len, const rs_image_sink *sink);

#endif /* RS_NATS_CODEC_H */
