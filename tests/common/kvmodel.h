/* SPDX-License-Identifier: MIT */
/*
 * A reference model of a run's KV keys for the ordered-access tests: a
 * sorted array of owned (key, value) copies, and the expected answers of
 * scans, listings and cursor moves computed from it. Plain C and the
 * public header only; no CMocka (worker threads use it too): failures
 * are reported as text for the caller to assert on.
 */
#ifndef RS_TESTS_COMMON_KVMODEL_H
#define RS_TESTS_COMMON_KVMODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <runstate.h>

typedef struct rs_m_ent {
	unsigned char *k;
	size_t klen;
	unsigned char *v;
	size_t vlen;
} rs_m_ent;

/* Sorted and unique when built with rs_m_put(); any order when filled
 * with rs_m_append() (a collected answer). */
typedef struct rs_model {
	rs_m_ent *e;
	size_t n, cap;
} rs_model;

void rs_m_init(rs_model *m);
void rs_m_free(rs_model *m);
void rs_m_clear(rs_model *m);
/* dst becomes a copy of src (dst initialized or freed before). */
void rs_m_copy(rs_model *dst, const rs_model *src);
/* Bytewise order, a shorter key first when it is a prefix. */
int rs_m_cmp(const void *a, size_t alen, const void *b, size_t blen);
/* The first index whose key is >= key (> key when `strict`). */
size_t rs_m_lower(const rs_model *m, const void *key, size_t klen, bool strict);
/* The index of key, or -1. */
long rs_m_find(const rs_model *m, const void *key, size_t klen);
void rs_m_put(rs_model *m, const void *key, size_t klen, const void *val,
	      size_t vlen);
/* Whether the key was there. */
bool rs_m_del(rs_model *m, const void *key, size_t klen);
void rs_m_append(rs_model *m, const void *key, size_t klen, const void *val,
		 size_t vlen);
/* An rs_kv_entry_cb appending to the rs_model in ctx. */
int rs_m_collect_cb(rs_bytes key, rs_bytes value, void *ctx);
bool rs_m_has_prefix(const rs_m_ent *e, const void *prefix, size_t plen);

/* ---- expected answers ---- */

/* A scan's parameters as the test drew them (the bytes are the test's). */
typedef struct rs_m_scan {
	const void *start, *end, *resume;
	size_t start_len, end_len, resume_len;
	bool reverse;
	size_t limit;
} rs_m_scan;

/* The rs_scan_options of sc. */
void rs_m_scan_options(const rs_m_scan *sc, rs_scan_options *o);
/* The entries rs_kv_scan() passes for sc, appended to out; *more as
 * more_out. */
void rs_m_expect_scan(const rs_model *m, const rs_m_scan *sc, rs_model *out,
		      bool *more);
/* The entries of rs_kv_list(prefix, after, limit). */
void rs_m_expect_list(const rs_model *m, const void *prefix, size_t plen,
		      const void *after, size_t alen, size_t limit,
		      rs_model *out, bool *more);
/* Whether got equals want entry by entry; if not, a description. */
bool rs_m_same(const rs_model *got, const rs_model *want, char *why,
	       size_t cap);
/* Printable form of some bytes (hex past the printable ones), for
 * messages; returns buf. */
const char *rs_m_show(const void *p, size_t len, char *buf, size_t cap);

/* ---- a cursor over a model, as rs_cursor is documented ---- */

typedef struct rs_m_cur {
	bool on;
	unsigned char key[RS_KEY_MAX];
	size_t klen;
	unsigned char pfx[RS_KEY_MAX];
	size_t plen; /* 0: no prefix */
} rs_m_cur;

/* Each returns 0 with *at the index of the entry landed on, or
 * RS_ENOTFOUND; the view m may differ from call to call (a transaction
 * staging writes between moves): positions are keys, not indexes. */
int rs_m_cur_seek(rs_m_cur *c, const rs_model *m, const void *key, size_t klen,
		  bool le, size_t *at);
/* rs_cursor_first() (last: rs_cursor_last()) within prefix. */
int rs_m_cur_in(rs_m_cur *c, const rs_model *m, const void *prefix, size_t plen,
		bool last, size_t *at);
int rs_m_cur_step(rs_m_cur *c, const rs_model *m, int dir, size_t *at);

#endif
