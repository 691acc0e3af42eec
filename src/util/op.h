/* SPDX-License-Identifier: MIT */
#ifndef RS_UTIL_OP_H
#define RS_UTIL_OP_H

#include <stdint.h>

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
	uint8_t tag;	    /* primitive tag (storage/store.h) */
	uint8_t flags;	    /* RS__OP_F_DELETE */
	uint8_t prep_flags; /* the store's, with prep */
	void *prep[2];	    /* the store's prepared objects */
} rs__op;

#endif
