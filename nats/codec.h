/* SPDX-License-Identifier: MIT */
/*
 * The payload of one message of a database's log stream (docs/replication.md,
 * "Record format"): a commit record, a fence record or a barrier, each
 * tagged with the 16-byte id of the writer that published it, and a
 * checksum. Little-endian, no padding.
 */
#ifndef RS_NATS_CODEC_H
#define RS_NATS_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include <runstate/durability.h>

#define RSN_WRITER_ID_LEN 16u

enum rsn_msg_type {
	RSN_MSG_COMMIT = 1, /* a commit record */
	RSN_MSG_FENCE = 2,  /* a writer took over the log (open, promotion) */
	RSN_MSG_BARRIER = 3 /* a writer resynchronized after a failure */
};

/* A decoded message: `rec` (RSN_MSG_COMMIT) points into the payload and
 * into `ops` (owned, rsn_msg_free()). */
typedef struct rsn_msg {
	uint8_t type;
	uint8_t writer[RSN_WRITER_ID_LEN];
	rs_commit_record rec;
	rs_record_op *ops;
} rsn_msg;

/* Bytes rsn_encode_commit() writes for rec. */
size_t rsn_commit_size(const rs_commit_record *rec);
/* Encodes rec into buf (rsn_commit_size() bytes). */
void rsn_encode_commit(uint8_t *buf, const uint8_t *writer,
		       const rs_commit_record *rec);
/* Bytes of a fence or barrier message. */
#define RSN_MARKER_SIZE (4u + RSN_WRITER_ID_LEN + 8u)
/* Encodes a fence or barrier (RSN_MARKER_SIZE bytes). */
void rsn_encode_marker(uint8_t *buf, uint8_t type, const uint8_t *writer);
/* Decodes a payload into *out: 0, RS_ECORRUPT or RS_ENOMEM. */
int rsn_decode(const void *data, size_t len, rsn_msg *out);
void rsn_msg_free(rsn_msg *m);

#endif /* RS_NATS_CODEC_H */
