/* SPDX-License-Identifier: MIT */
#ifndef RS_PRIMITIVES_PRIM_H
#define RS_PRIMITIVES_PRIM_H

/*
 * Helpers shared by the primitive facades: argument checks, tag lists, and
 * dense ordinal lists (the indices). Big-endian integers come from
 * util/endian.h.
 *
 * Ordinal lists, for indices that only ever grow (EventLog by type,
 * TraceStore by type, tag and parent): under a key prefix P (a kind byte,
 * then a length-prefixed or fixed-size name, so no two names share a
 * prefix and no list collides with another key), the key P holds the
 * list's length n (u64) and the keys P + ordinal (u64 big-endian) hold
 * the entries 0..n-1. Appending happens at commit, under the run's lock,
 * in a deferred step; a query reads n, then point-reads entries from its
 * cursor (an ordinal): O(1) per entry returned, with no seek. An index
 * whose entries are removed (the RunIndex's) is instead a set of ordered
 * keys, range-scanned (txn.h), so removed entries are not walked.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <runstate.h>

#include "txn/txn.h"
#include "util/endian.h"

/* Longest ordinal-list prefix: kind, u32 length, a tag or type. */
#define RS__OL_PREFIX_MAX (1 + 4 + 256)
#define RS__OL_KEY_MAX (RS__OL_PREFIX_MAX + 8)

/*
 * Once per process, from rs_db_open(): initialize libsodium (thread-safe,
 * idempotent). Then rebuild what the RunIndex keeps only in memory (the
 * archived flags of runs) from the database's content; must run after
 * recovery, before the handle is returned.
 */
int rs__prim_global_init(void);
int rs__runindex_open(rs_db *db);
/* For a record of another writer applied to the nil run (rs_db_apply:
 * txn from rs__txn_apply_begin): what the RunIndex keeps besides its
 * data, as the writer's commit did. An archived run is fenced (named with
 * rs__txn_also, its flag set at commit), a dropped run's flags cleared. */
int rs__runindex_stage_applied(rs_txn *txn, const rs__commit_record *rec);

/* ---- argument checks ---- */

/* db and a data run (not nil). */
int rs__prim_check_db_run(const rs_db *db, const rs_run_id *run);
/* Text: RS_EINVAL (NULL, empty), RS_ETOOBIG (> max), RS_EUTF8. */
int rs__prim_check_text(const char *s, size_t len, size_t max);
/* A KV key: RS_EINVAL (NULL, empty), RS_ETOOBIG (> RS_KEY_MAX). */
int rs__prim_check_key(const void *key, size_t klen);
/* A payload or value: RS_EINVAL (NULL with len), RS_ETOOBIG. */
int rs__prim_check_bytes(const void *p, size_t len);
/* A u64 value read with result rc: 0 when absent (RS_ENOTFOUND),
 * RS_ECORRUPT unless 8 bytes, else rc's error. */
int rs__prim_read_u64(int rc, rs_bytes v, uint64_t *out);
/* Range-scan options (KV and StateCell): *o NULL becomes the whole
 * range, forward; RS_EINVAL for another version or unknown flags. */
int rs__prim_check_scan(const rs_scan_options **o);
/* Tags: n <= RS_TAGS_MAX, each text, no duplicates. */
int rs__prim_check_tags(const rs_bytes *tags, size_t n);

/* ---- tag lists: n times (u32 length, bytes) ---- */

size_t rs__tags_size(const rs_bytes *tags, size_t n);
unsigned char *rs__tags_put(unsigned char *p, const rs_bytes *tags, size_t n);
/* Tag i of an encoded list of n tags of `size` bytes in all. */
int rs__tags_at(const void *enc, size_t n, size_t i, rs_bytes *out);
/* A stored list within avail bytes at p: u32 count n (<= RS_TAGS_MAX),
 * then n tags. *n_out receives n and *enc_out the tags; the result is the
 * size of it all, count included, or 0 when malformed. */
size_t rs__tags_read(const unsigned char *p, size_t avail, size_t *n_out,
		     const unsigned char **enc_out);

/* ---- ordinal lists ---- */

/* Build a prefix: kind, then u32 length + name. Returns its length. */
size_t rs__ol_prefix(unsigned char *out, uint8_t kind, const void *name,
		     size_t len);
/* At commit: append val (which must live until the commit ends) to a
 * list; *ord_out receives its ordinal (may be NULL). */
int rs__ol_append(rs__cc *cc, uint8_t tag, const unsigned char *prefix,
		  size_t plen, const void *val, size_t vlen, uint64_t *ord_out);
/* In a transaction's view: the list's length (0 when absent). */
int rs__ol_len(rs_txn *txn, uint8_t tag, const unsigned char *prefix,
	       size_t plen, uint64_t *len_out);
/* In a transaction's view: entry `ord`, below the list's length
 * (RS_ECORRUPT for a hole: lists have none, so a damaged or hostile log
 * made it). */
int rs__ol_get(rs_txn *txn, uint8_t tag, const unsigned char *prefix,
	       size_t plen, uint64_t ord, rs_bytes *out);

/* A u64 value living until the commit ends; NULL on out of memory. */
unsigned char *rs__cc_u64(rs__cc *cc, uint64_t v);

/*
 * For a run delete (runindex.c), under the dropped run's lock: one past
 * the highest counter a primitive has used in the second run of the
 * commit (rs__cc_also_*): the EventLog's next sequence, the TraceStore's
 * next id, the StateCell versions and floors. The drop version goes above
 * all three, so a later life of the id never repeats one (txn.h, bases).
 */
int rs__eventlog_floor(rs__cc *cc, uint64_t *floor_out);
int rs__tracestore_floor(rs__cc *cc, uint64_t *floor_out);
int rs__statecell_floor(rs__cc *cc, uint64_t *floor_out);

#endif
