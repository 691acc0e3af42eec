/* SPDX-License-Identifier: MIT */
#ifndef RS_TXN_KEYSET_H
#define RS_TXN_KEYSET_H

#include <stddef.h>
#include <stdint.h>

#include <runstate.h>

#include "util/alloc.h"
#include "util/op.h"

/*
 * A set of keys (tag + bytes) over an rs__op array: a transaction's read
 * set and write set. Up to RS__KEYSET_SCAN_MAX entries it is scanned
 * linearly; past that a hash index (open addressing over the ops' own
 * hashes) finds an entry in O(1). Reset keeps the capacity, so a reused
 * transaction context allocates nothing after warm-up.
 */
typedef struct rs__keyset {
	rs__op *ops;
	size_t n, cap;
	uint32_t *idx; /* position + 1, 0 = empty; power-of-two size */
	size_t idx_cap;
} rs__keyset;

/* Sets up to this many entries have no index. */
#define RS__KEYSET_SCAN_MAX 8u
/* Reset frees sets that grew past this many entries (rare huge txns). */
#define RS__KEYSET_KEEP_MAX 4096u

/* The position of (tag, key), or -1. */
long rs__keyset_find_slow(const rs__keyset *ks, uint8_t tag, const void *key,
			  size_t klen, uint64_t hash);
static inline long rs__keyset_find(const rs__keyset *ks, uint8_t tag,
				   const void *key, size_t klen, uint64_t hash)
{
	return ks->n ? rs__keyset_find_slow(ks, tag, key, klen, hash) : -1;
}
/* The value an entry of a write set stages, as a view: 0, RS_ENOTFOUND
 * (it stages a delete) or 1 (the set has no entry for the key). */
int rs__keyset_view(const rs__keyset *ks, uint8_t tag, const void *key,
		    size_t klen, uint64_t hash, rs_bytes *out);
/* Append an op the caller checked is absent: 0 or RS_ENOMEM. */
int rs__keyset_add_slow(const rs__alloc *a, rs__keyset *ks, const rs__op *op);
static inline int rs__keyset_add(const rs__alloc *a, rs__keyset *ks,
				 const rs__op *op)
{
	/* The common case of a small set with room: no index to keep. */
	if (ks->n < ks->cap && ks->n < RS__KEYSET_SCAN_MAX) {
		ks->ops[ks->n++] = *op;
		return 0;
	}
	return rs__keyset_add_slow(a, ks, op);
}

/* Empty the set, keeping its capacity (up to RS__KEYSET_KEEP_MAX). */
void rs__keyset_reset_slow(const rs__alloc *a, rs__keyset *ks);
static inline void rs__keyset_reset(const rs__alloc *a, rs__keyset *ks)
{
	if (ks->n > RS__KEYSET_SCAN_MAX || ks->cap > RS__KEYSET_KEEP_MAX)
		rs__keyset_reset_slow(a, ks);
	else
		ks->n = 0;
}
void rs__keyset_free(const rs__alloc *a, rs__keyset *ks);

#endif
