/* SPDX-License-Identifier: MIT */
/*
 * Key sets: see keyset.h. The index is rebuilt whole when it grows (it
 * belongs to one transaction, so that cost is the transaction's own) and
 * kept at most half full, so a probe ends at an empty slot.
 */
#include "txn/keyset.h"

#include <stdbool.h>
#include <string.h>

#include "util/error.h"

void rs__keyset_free(const rs__alloc *a, rs__keyset *ks)
{
	rs__free(a, ks->ops);
	rs__free(a, ks->idx);
	memset(ks, 0, sizeof(*ks));
}

void rs__keyset_reset_slow(const rs__alloc *a, rs__keyset *ks)
{
	if (ks->cap > RS__KEYSET_KEEP_MAX) {
		rs__keyset_free(a, ks);
		return;
	}
	if (ks->n > RS__KEYSET_SCAN_MAX && ks->idx)
		memset(ks->idx, 0, ks->idx_cap * sizeof(ks->idx[0]));
	ks->n = 0;
}

static bool op_matches(const rs__op *op, uint8_t tag, const void *key,
		       size_t klen, uint64_t hash)
{
	return op->hash == hash && op->tag == tag && op->klen == klen &&
	       memcmp(op->key, key, klen) == 0;
}

long rs__keyset_find_slow(const rs__keyset *ks, uint8_t tag, const void *key,
			  size_t klen, uint64_t hash)
{
	if (ks->n <= RS__KEYSET_SCAN_MAX) {
		for (size_t i = 0; i < ks->n; i++)
			if (op_matches(&ks->ops[i], tag, key, klen, hash))
				return (long)i;
		return -1;
	}
	for (size_t i = (size_t)hash & (ks->idx_cap - 1);;
	     i = (i + 1) & (ks->idx_cap - 1)) {
		uint32_t p = ks->idx[i];

		if (!p)
			return -1;
		if (op_matches(&ks->ops[p - 1], tag, key, klen, hash))
			return (long)p - 1;
	}
}

int rs__keyset_view(const rs__keyset *ks, uint8_t tag, const void *key,
		    size_t klen, uint64_t hash, rs_bytes *out)
{
	long w = rs__keyset_find(ks, tag, key, klen, hash);
	const rs__op *op;

	if (w < 0)
		return 1;
	op = &ks->ops[w];
	if (op->flags & RS__OP_F_DELETE)
		return RS_ENOTFOUND;
	out->data = op->val;
	out->len = op->vlen;
	return 0;
}

static void index_put(rs__keyset *ks, size_t pos)
{
	size_t i = (size_t)ks->ops[pos].hash & (ks->idx_cap - 1);

	while (ks->idx[i])
		i = (i + 1) & (ks->idx_cap - 1);
	ks->idx[i] = (uint32_t)pos + 1;
}

static void index_rebuild(rs__keyset *ks)
{
	memset(ks->idx, 0, ks->idx_cap * sizeof(ks->idx[0]));
	for (size_t i = 0; i < ks->n; i++)
		index_put(ks, i);
}

int rs__keyset_add_slow(const rs__alloc *a, rs__keyset *ks, const rs__op *op)
{
	size_t n = ks->n + 1;
	bool grown = false;

	if (n > UINT32_MAX - 1)
		return RS_ENOMEM;
	if (n > ks->cap)
		RS_TRY(rs__grow(a, (void **)&ks->ops, &ks->cap, n,
				sizeof(rs__op)));
	if (n > RS__KEYSET_SCAN_MAX && n * 2 > ks->idx_cap) {
		size_t cap = ks->idx_cap ? ks->idx_cap : 32;
		uint32_t *idx;

		while (n * 2 > cap)
			cap *= 2;
		idx = rs__calloc(a, cap, sizeof(*idx));
		if (!idx)
			return RS_ENOMEM;
		rs__free(a, ks->idx);
		ks->idx = idx;
		ks->idx_cap = cap;
		grown = true;
	}
	ks->ops[ks->n] = *op;
	ks->n = n;
	/* The index starts when the set outgrows a linear scan. */
	if (grown || n == RS__KEYSET_SCAN_MAX + 1)
		index_rebuild(ks);
	else if (n > RS__KEYSET_SCAN_MAX)
		index_put(ks, n - 1);
	return 0;
}
