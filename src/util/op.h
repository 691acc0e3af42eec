/* SPDX-License-Identifier: MIT */
#ifndef RS_UTIL_OP_H
#define RS_UTIL_OP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "util/endian.h"

/*
 * Primitive tags: the key space of each primitive inside a run (op.tag).
 * The values are on disk (log records, checkpoints) and public as rs_tag.
 */
enum {
	RS__TAG_KV = 1,
	RS__TAG_EVENTLOG = 2,
	RS__TAG_STATECELL = 3,
	RS__TAG_TRACESTORE = 4,
	RS__TAG_RUNINDEX = 5,
	/* The engine's own state, in checkpoint images only (txn/replay.c):
	 * the nil run's drop mark, a run's base. Never a key in the store. */
	RS__TAG_ENGINE = 6
};

/*
 * Run flags: kept per run by the store, in memory only, and read and set
 * under the run's commit lock (a commit step sets them through the txn
 * layer; the layer above rebuilds them at open from what it stored).
 */
#define RS__RUN_F_FENCED 0x1u /* read-only: commits fail (RS_EARCHIVED) */

/*
 * One staged write: the unit the txn layer stages, the store installs and
 * the durability layer logs. It lives in util/ because all three layers
 * share it and layers only depend downward.
 */
#define RS__OP_F_DELETE 0x1u

typedef struct rs__op {
	const void *key;
	const void *val;
	uint64_t hash;
	uint32_t klen;
	uint32_t vlen;
	uint8_t tag;	    /* RS__TAG_* */
	uint8_t flags;	    /* RS__OP_F_DELETE */
	uint8_t prep_flags; /* the store's, with prep */
	void *prep[2];	    /* the store's prepared objects */
} rs__op;

/* Bytewise key order, a shorter key before its extensions (memcmp order):
 * the order of every listing. Eight bytes at a time as big-endian words
 * (one load each, no call): index searches compare keys on every step. */
static inline int rs__key_cmp(const void *a, size_t alen, const void *b,
			      size_t blen)
{
	const unsigned char *p = a, *q = b;
	size_t n = alen < blen ? alen : blen;

	for (; n >= 8; n -= 8, p += 8, q += 8) {
		uint64_t x = rs__get_u64(p), y = rs__get_u64(q);

		if (x != y)
			return x < y ? -1 : 1;
	}
	for (; n; n--, p++, q++)
		if (*p != *q)
			return *p < *q ? -1 : 1;
	return (alen > blen) - (alen < blen);
}

/* The order of (tag, key) positions inside a run: by tag, then by key.
 * Tags are unsigned so that tag + 1 (with an empty key: the end of a
 * tag's keys) is a position too. */
static inline int rs__tagkey_cmp(unsigned atag, const void *a, size_t alen,
				 unsigned btag, const void *b, size_t blen)
{
	if (atag != btag)
		return atag < btag ? -1 : 1;
	return rs__key_cmp(a, alen, b, blen);
}

#endif
