/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the public API driven by the fuzzer's bytes, checked
 * against a small model.
 *
 * Every input is a stream of operations on a fresh InMemory database over
 * FZ_NRUNS runs: KV put / delete / get / exists / get_many / scan / list
 * and cursor sessions (one-shot and in a transaction), EventLog append /
 * read / read_range / len / verify, StateCell init / set / cas / delete /
 * read, RunIndex create / transition / delete / get, and transactions
 * begin (read-write or read-only) / commit / abort, at most one open at a
 * time. While a transaction is open, one-shot writes go to the other runs
 * only, so its commit never conflicts and its outcome is exact.
 *
 * Arguments come from the bytes and are often hostile: NULL pointers with
 * lengths, zero lengths, keys and names one byte over the limit, values
 * over RS_VALUE_MAX backed by a small buffer (so a library that read
 * before checking would overrun it), invalid UTF-8 (overlong forms,
 * surrogates, truncated sequences, raw bytes).
 *
 * The model: per run, its KV entries (tests/common/kvmodel, which also
 * gives the expected answers of scans, listings and cursor moves), its
 * events (type and payload), its cells (value, version, and the version
 * a deleted cell continues from) and its RunIndex registration (status,
 * name). Every return code is checked: an argument error must be one of
 * those the arguments call for, and changes nothing; otherwise the code
 * and every value read must be the model's. After a run is deleted its
 * KV entries and registration are modelled exactly (none); the numbering
 * of its events and cell versions is then only checked for consistency,
 * since what continues across a delete is not this target's business.
 * At the end every run is compared whole.
 */
#include <stdlib.h>
#include <string.h>

#include "common/kvmodel.h"
#include "fuzz/fuzz_common.h"

#define MAX_OPS 2048
#define MAX_EVENTS 512
#define MAX_CELLS 16
#define BIG_VAL 4096u

/* ---- hostile arguments ---- */

typedef struct arg {
	const void *p;
	size_t len;
	int err; /* what this argument alone calls for: 0, EINVAL, ... */
} arg;

static unsigned char big[BIG_VAL + RS_KEY_MAX + 8];
static unsigned char scratch_text[RS_NAME_MAX + 1];

/* RFC 3629, written here independently of src/util/utf8.c. */
static bool utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i], need;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i <= need)
			return false;
		for (unsigned k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += need + 1;
	}
	return true;
}

static const char *const keys[] = { "a",  "ab", "abc", "b",  "ba",   "c",
				    "k1", "k2", "k10", "zz", "\xff", "a\0b" };
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* A key: mostly from a small set (so they collide), sometimes hostile. */
static arg key_arg(fz_in *in)
{
	unsigned sel = fz_u8(in);
	arg a = { NULL, 0, 0 };

	if (sel < 0xe0) {
		a.p = keys[sel % NKEYS];
		a.len = sel % NKEYS == NKEYS - 1 ? 3 : strlen(a.p);
		return a;
	}
	switch (sel) {
	case 0xf0:
		a.p = "x";
		a.err = RS_EINVAL; /* empty */
		return a;
	case 0xf1:
		a.len = 3;
		a.err = RS_EINVAL; /* NULL */
		return a;
	case 0xf2:
		a.p = big;
		a.len = RS_KEY_MAX + 1;
		a.err = RS_ETOOBIG;
		return a;
	case 0xf3:
		a.p = big;
		a.len = RS_KEY_MAX;
		return a;
	default:
		a.p = fz_str(in, 24, &a.len);
		if (a.len == 0) {
			a.p = "raw";
			a.len = 3;
		}
		return a;
	}
}

static arg val_arg(fz_in *in)
{
	unsigned sel = fz_u8(in);
	arg a = { NULL, 0, 0 };

	switch (sel) {
	case 0xf0:
		a.p = "";
		return a;
	case 0xf1:
		return a; /* NULL, 0: an empty value */
	case 0xf2:
		a.len = 5;
		a.err = RS_EINVAL;
		return a;
	case 0xf3:
		a.p = big; /* over the limit, backed by 4 KiB only */
		a.len = (size_t)RS_VALUE_MAX + 1;
		a.err = RS_ETOOBIG;
		return a;
	case 0xf4:
		a.p = big;
		a.len = BIG_VAL;
		return a;
	default:
		a.p = fz_str(in, 32, &a.len);
		return a;
	}
}

static const char *const texts[] = {
	"step", "tool", "a", "\xc3\xa9", "\xe2\x82\xac-x", "t\xf0\x9f\x98\x80"
};
#define NTEXTS (sizeof(texts) / sizeof(texts[0]))

/* Text (a type, name or tag) of at most max bytes. */
static arg text_arg(fz_in *in, size_t max)
{
	unsigned sel = fz_u8(in);
	arg a = { NULL, 0, 0 };

	if (sel < 0xe0) {
		a.p = texts[sel % NTEXTS];
		a.len = strlen(a.p);
		return a;
	}
	switch (sel) {
	case 0xf0:
		a.p = "x";
		a.err = RS_EINVAL;
		return a;
	case 0xf1:
		a.len = 2;
		a.err = RS_EINVAL;
		return a;
	case 0xf2:
	case 0xf5:
		memset(scratch_text, 'n', sizeof(scratch_text));
		a.p = scratch_text;
		a.len = sel == 0xf2 ? max + 1 : max;
		a.err = sel == 0xf2 ? RS_ETOOBIG : 0;
		return a;
	case 0xf3:
		a.p = "\xc0\xaf"; /* overlong '/' */
		a.len = 2;
		a.err = RS_EUTF8;
		return a;
	case 0xf4:
		a.p = "\xed\xa0\x80"; /* a surrogate */
		a.len = 3;
		a.err = RS_EUTF8;
		return a;
	default:
		a.p = fz_str(in, 16, &a.len);
		if (a.len == 0)
			a.err = RS_EINVAL;
		else if (!utf8_ok(a.p, a.len))
			a.err = RS_EUTF8;
		if (a.len == 0)
			a.p = "";
		return a;
	}
}

/* rc for arguments whose own errors are e[0..n): 0 expected when none,
 * else one of them. Returns whether the call may have done its work. */
static bool args_ok(int rc, const int *e, size_t n, const char *what)
{
	bool any = false, match = false;

	for (size_t i = 0; i < n; i++) {
		if (e[i]) {
			any = true;
			match |= rc == e[i];
		}
	}
	if (!any)
		return true;
	FZ_CHECK(match, "%s: %s, for bad arguments", what, rs_errname(rc));
	return false;
}

/* ---- the model ---- */

typedef struct m_event {
	unsigned char *type, *payload;
	size_t tlen, plen;
} m_event;

typedef struct m_cell {
	unsigned char name[RS_NAME_MAX];
	size_t nlen;
	unsigned char *val;
	size_t vlen;
	uint64_t version; /* 0: never existed (while absent: its last) */
	bool live;
} m_cell;

typedef struct m_run {
	rs_run_id id;
	rs_model kv;
	m_event ev[MAX_EVENTS];
	uint64_t nev;  /* events modelled */
	bool ev_exact; /* false after a delete: numbering unknown */
	uint64_t ev_base;
	m_cell cells[MAX_CELLS];
	size_t ncells;
	bool cells_exact;
	bool registered, archived;
	rs_run_status status;
	unsigned char name[RS_NAME_MAX];
	size_t nlen; /* 0: unnamed */
} m_run;

typedef struct txn_state {
	rs_txn *txn;
	unsigned run;
	bool readonly, wrote, maybe_wrote;
	rs_model view; /* the run's KV as the transaction sees it */
	m_cell cells[MAX_CELLS];
	size_t ncells;
	m_event pend[64];
	size_t npend;
} txn_state;

typedef struct world {
	rs_db *db;
	m_run runs[FZ_NRUNS];
	txn_state t;
	fz_in in;
} world;

static unsigned char *dup(const void *p, size_t n)
{
	unsigned char *d = malloc(n ? n : 1);

	FZ_CHECK(d, "out of memory");
	if (n)
		memcpy(d, p, n);
	return d;
}

static void cell_free_all(m_cell *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(c[i].val);
}

static void cells_copy(m_cell *dst, const m_cell *src, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		dst[i] = src[i];
		dst[i].val = src[i].val ? dup(src[i].val, src[i].vlen) : NULL;
	}
}

static m_cell *cell_find(m_cell *c, size_t *n, const arg *name, bool add)
{
	for (size_t i = 0; i < *n; i++)
		if (c[i].nlen == name->len &&
		    !memcmp(c[i].name, name->p, name->len))
			return &c[i];
	if (!add || *n == MAX_CELLS)
		return NULL;
	memset(&c[*n], 0, sizeof(c[*n]));
	memcpy(c[*n].name, name->p, name->len);
	c[*n].nlen = name->len;
	return &c[(*n)++];
}

static void ev_clear(m_run *r)
{
	for (uint64_t i = 0; i < r->nev && i < MAX_EVENTS; i++) {
		free(r->ev[i].type);
		free(r->ev[i].payload);
	}
	r->nev = 0;
}

static void txn_end(world *w)
{
	txn_state *t = &w->t;

	rs_m_free(&t->view);
	cell_free_all(t->cells, t->ncells);
	for (size_t i = 0; i < t->npend; i++) {
		free(t->pend[i].type);
		free(t->pend[i].payload);
	}
	memset(t, 0, sizeof(*t));
}

/* Which run a one-shot write may go to: not the open transaction's. */
static unsigned oneshot_run(world *w, unsigned r)
{
	if (w->t.txn && r == w->t.run)
		r = (r + 1) % FZ_NRUNS;
	return r;
}

/* ---- KV ---- */

static void check_same(const rs_model *got, const rs_model *want,
		       const char *what)
{
	char why[256];

	FZ_CHECK(rs_m_same(got, want, why, sizeof(why)), "%s: %s", what, why);
}

static void op_kv_write(world *w, unsigned r, bool del)
{
	arg k = key_arg(&w->in), v = del ? (arg){ "", 0, 0 } : val_arg(&w->in);
	int errs[2] = { k.err, v.err };
	bool in_txn = w->t.txn && (fz_u8(&w->in) & 1);
	bool existed = false;
	int rc;

	if (in_txn) {
		txn_state *t = &w->t;
		int want = t->readonly ? RS_EREADONLY : 0;

		rc = del ? rs_txn_kv_delete(t->txn, k.p, k.len, &existed)
			 : rs_txn_kv_put(t->txn, k.p, k.len, v.p, v.len);
		if (!args_ok(rc, errs, 2, "txn kv write"))
			return;
		FZ_CHECK(rc == want, "txn kv write: %s", rs_errname(rc));
		if (rc)
			return;
		if (del) {
			bool had = rs_m_del(&t->view, k.p, k.len);

			FZ_CHECK(had == existed, "txn delete: existed %d", had);
			/* Whether deleting an absent key stages a write is
			 * not promised. */
			t->wrote |= had;
			t->maybe_wrote = true;
			return;
		} else {
			rs_m_put(&t->view, k.p, k.len, v.p, v.len);
			t->wrote = true;
		}
		return;
	}
	r = oneshot_run(w, r);
	rc = del ? rs_kv_delete(w->db, &w->runs[r].id, k.p, k.len, &existed)
		 : rs_kv_put(w->db, &w->runs[r].id, k.p, k.len, v.p, v.len);
	if (!args_ok(rc, errs, 2, "kv write"))
		return;
	if (w->runs[r].archived) {
		FZ_CHECK(rc == RS_EARCHIVED, "write to an archived run: %s",
			 rs_errname(rc));
		return;
	}
	FZ_CHECK(rc == 0, "kv write: %s", rs_errname(rc));
	if (del) {
		bool had = rs_m_del(&w->runs[r].kv, k.p, k.len);

		FZ_CHECK(had == existed, "delete: existed %d, model %d",
			 existed, had);
	} else {
		rs_m_put(&w->runs[r].kv, k.p, k.len, v.p, v.len);
	}
}

static void op_kv_get(world *w, unsigned r)
{
	arg k = key_arg(&w->in);
	unsigned char buf[64];
	size_t cap = fz_u8(&w->in) % sizeof(buf), len = 0;
	bool in_txn = w->t.txn && (fz_u8(&w->in) & 1);
	const rs_model *m = in_txn ? &w->t.view : &w->runs[r].kv;
	long at;
	int rc;

	if (in_txn) {
		rs_bytes v = { NULL, 0 };
		bool exists = false;

		rc = rs_txn_kv_get(w->t.txn, k.p, k.len, &v);
		if (!args_ok(rc, &k.err, 1, "txn kv get"))
			return;
		at = rs_m_find(m, k.p, k.len);
		FZ_CHECK(rc == (at < 0 ? RS_ENOTFOUND : 0), "txn get: %s",
			 rs_errname(rc));
		if (at >= 0)
			FZ_CHECK(v.len == m->e[at].vlen &&
					 (!v.len ||
					  !memcmp(v.data, m->e[at].v, v.len)),
				 "txn get: wrong value");
		rc = rs_txn_kv_exists(w->t.txn, k.p, k.len, &exists);
		FZ_CHECK(rc == 0 && exists == (at >= 0), "txn exists");
		return;
	}
	rc = rs_kv_get(w->db, &w->runs[r].id, k.p, k.len, cap ? buf : NULL, cap,
		       &len);
	if (!args_ok(rc, &k.err, 1, "kv get"))
		return;
	at = rs_m_find(m, k.p, k.len);
	if (at < 0) {
		FZ_CHECK(rc == RS_ENOTFOUND, "get: %s, expected absent",
			 rs_errname(rc));
		return;
	}
	FZ_CHECK(len == m->e[at].vlen, "get: len %zu, model %zu", len,
		 m->e[at].vlen);
	if (m->e[at].vlen > cap) {
		FZ_CHECK(rc == RS_ENOSPC, "get: %s, expected RS_ENOSPC",
			 rs_errname(rc));
		return;
	}
	FZ_CHECK(rc == 0 && (!len || !memcmp(buf, m->e[at].v, len)),
		 "get: %s or wrong value", rs_errname(rc));
}

static void op_kv_get_many(world *w, unsigned r)
{
	rs_bytes ks[3], vals[3];
	int errs[3];
	size_t n = 1 + fz_u8(&w->in) % 3, needed = 0;
	unsigned char buf[256];
	const rs_model *m = &w->runs[r].kv;
	int rc;

	for (size_t i = 0; i < n; i++) {
		arg a = key_arg(&w->in);

		ks[i].data = a.p;
		ks[i].len = a.len;
		errs[i] = a.err;
	}
	rc = rs_kv_get_many(w->db, &w->runs[r].id, n, ks, vals, buf,
			    sizeof(buf), &needed);
	if (!args_ok(rc, errs, n, "get_many"))
		return;
	if (rc == RS_ENOSPC)
		return; /* BIG_VAL values */
	FZ_CHECK(rc == 0, "get_many: %s", rs_errname(rc));
	for (size_t i = 0; i < n; i++) {
		long at = rs_m_find(m, ks[i].data, ks[i].len);

		FZ_CHECK((at < 0) == (vals[i].data == NULL),
			 "get_many: key %zu presence", i);
		if (at >= 0)
			FZ_CHECK(vals[i].len == m->e[at].vlen &&
					 (!vals[i].len ||
					  !memcmp(vals[i].data, m->e[at].v,
						  vals[i].len)),
				 "get_many: value %zu", i);
	}
}

static void scan_arg(fz_in *in, const void **p, size_t *len, int *err,
		     bool empty_ok)
{
	unsigned sel = fz_u8(in) % 4;
	arg a;

	*p = NULL;
	*len = 0;
	if (sel == 0)
		return;
	a = key_arg(in);
	*p = a.p;
	*len = a.len;
	/* Bounds and prefixes may be empty keys; a listing's cursor (the
	 * last key of a page) may not. */
	if (a.err == RS_ETOOBIG || (a.err == RS_EINVAL && (!a.p || !empty_ok)))
		*err = a.err;
}

static void op_kv_scan(world *w, unsigned r)
{
	rs_m_scan sc;
	rs_scan_options o;
	rs_model got, want;
	bool more = false, wmore = false;
	bool in_txn = w->t.txn && (fz_u8(&w->in) & 1);
	const rs_model *m = in_txn ? &w->t.view : &w->runs[r].kv;
	int errs[3] = { 0, 0, 0 }, rc;

	memset(&sc, 0, sizeof(sc));
	scan_arg(&w->in, &sc.start, &sc.start_len, &errs[0], true);
	scan_arg(&w->in, &sc.end, &sc.end_len, &errs[1], true);
	scan_arg(&w->in, &sc.resume, &sc.resume_len, &errs[2], true);
	sc.reverse = fz_u8(&w->in) & 1;
	sc.limit = fz_u8(&w->in) % 6;
	rs_m_scan_options(&sc, &o);
	rs_m_init(&got);
	rs_m_init(&want);
	rc = in_txn ? rs_txn_kv_scan(w->t.txn, &o, &more, rs_m_collect_cb, &got)
		    : rs_kv_scan(w->db, &w->runs[r].id, &o, &more,
				 rs_m_collect_cb, &got);
	if (args_ok(rc, errs, 3, "scan")) {
		FZ_CHECK(rc == 0, "scan: %s", rs_errname(rc));
		rs_m_expect_scan(m, &sc, &want, &wmore);
		check_same(&got, &want, "scan");
		FZ_CHECK(more == wmore, "scan: more %d, model %d", more, wmore);
	}
	rs_m_free(&got);
	rs_m_free(&want);
}

static void op_kv_list(world *w, unsigned r)
{
	rs_model got, want;
	const void *prefix, *after;
	size_t plen, alen, limit;
	bool more = false, wmore = false;
	bool in_txn = w->t.txn && (fz_u8(&w->in) & 1);
	const rs_model *m = in_txn ? &w->t.view : &w->runs[r].kv;
	int errs[2] = { 0, 0 }, rc;

	scan_arg(&w->in, &prefix, &plen, &errs[0], true);
	scan_arg(&w->in, &after, &alen, &errs[1], false);
	limit = fz_u8(&w->in) % 5;
	rs_m_init(&got);
	rs_m_init(&want);
	rc = in_txn ? rs_txn_kv_list(w->t.txn, prefix, plen, after, alen, limit,
				     &more, rs_m_collect_cb, &got)
		    : rs_kv_list(w->db, &w->runs[r].id, prefix, plen, after,
				 alen, limit, &more, rs_m_collect_cb, &got);
	if (args_ok(rc, errs, 2, "list")) {
		FZ_CHECK(rc == 0, "list: %s", rs_errname(rc));
		rs_m_expect_list(m, prefix, plen, after, alen, limit, &want,
				 &wmore);
		check_same(&got, &want, "list");
		FZ_CHECK(more == wmore, "list: more %d, model %d", more, wmore);
	}
	rs_m_free(&got);
	rs_m_free(&want);
}

static void op_cursor(world *w, unsigned r)
{
	bool in_txn = w->t.txn && (fz_u8(&w->in) & 1);
	const rs_model *m = in_txn ? &w->t.view : &w->runs[r].kv;
	unsigned moves = 1 + fz_u8(&w->in) % 8;
	rs_cursor *cur;
	rs_m_cur mc;
	int rc;

	memset(&mc, 0, sizeof(mc));
	rc = in_txn ? rs_txn_kv_cursor_open(w->t.txn, &cur)
		    : rs_kv_cursor_open(w->db, &w->runs[r].id, &cur);
	FZ_CHECK(rc == 0, "cursor open: %s", rs_errname(rc));
	for (unsigned i = 0; i < moves; i++) {
		unsigned how = fz_u8(&w->in) % 6;
		rs_bytes k = { NULL, 0 }, v = { NULL, 0 };
		size_t at = 0;
		int want;
		arg a = { NULL, 0, 0 };

		if (how < 4) {
			a = key_arg(&w->in);
			if (a.err == RS_EINVAL && a.p)
				a.err = 0; /* an empty key or prefix is fine */
		}
		switch (how) {
		case 0:
		case 1:
			rc = rs_cursor_seek(cur, a.p, a.len,
					    how ? RS_SEEK_LE : RS_SEEK_GE, &k,
					    &v);
			if (!args_ok(rc, &a.err, 1, "seek"))
				continue;
			want = rs_m_cur_seek(&mc, m, a.p, a.len, how, &at);
			break;
		case 2:
		case 3:
			rc = how == 2 ? rs_cursor_first(cur, a.p, a.len, &k, &v)
				      : rs_cursor_last(cur, a.p, a.len, &k, &v);
			if (!args_ok(rc, &a.err, 1, "first/last"))
				continue;
			want = rs_m_cur_in(&mc, m, a.p, a.len, how == 3, &at);
			break;
		default:
			rc = how == 4 ? rs_cursor_next(cur, &k, &v)
				      : rs_cursor_prev(cur, &k, &v);
			want = rs_m_cur_step(&mc, m, how == 4 ? 1 : -1, &at);
			break;
		}
		FZ_CHECK(rc == want, "cursor move %u: %s, model %s", how,
			 rs_errname(rc), rs_errname(want));
		if (rc == 0)
			FZ_CHECK(!rs_m_cmp(k.data, k.len, m->e[at].k,
					   m->e[at].klen) &&
					 !rs_m_cmp(v.data, v.len, m->e[at].v,
						   m->e[at].vlen),
				 "cursor move %u: wrong entry", how);
	}
	rs_cursor_close(cur);
}

/* ---- EventLog ---- */

static bool ev_equal(const rs_event *ev, const m_event *m)
{
	return ev->type.len == m->tlen &&
	       !memcmp(ev->type.data, m->type, m->tlen) &&
	       ev->payload.len == m->plen &&
	       (!m->plen || !memcmp(ev->payload.data, m->payload, m->plen));
}

static void op_ev_append(world *w, unsigned r)
{
	arg ty = text_arg(&w->in, RS_TYPE_MAX), pl = val_arg(&w->in);
	int errs[2] = { ty.err, pl.err };
	bool in_txn = w->t.txn && (fz_u8(&w->in) & 1);
	rs_event_receipt rc_out;
	m_run *mr;
	int rc;

	if (in_txn) {
		txn_state *t = &w->t;

		rc = rs_txn_eventlog_append(t->txn, ty.p, ty.len, pl.p, pl.len,
					    NULL);
		if (!args_ok(rc, errs, 2, "txn append"))
			return;
		FZ_CHECK(rc == (t->readonly ? RS_EREADONLY : 0),
			 "txn append: %s", rs_errname(rc));
		if (rc || t->npend == 64)
			return;
		t->wrote = true;
		t->pend[t->npend].type = dup(ty.p, ty.len);
		t->pend[t->npend].tlen = ty.len;
		t->pend[t->npend].payload = dup(pl.p, pl.len);
		t->pend[t->npend].plen = pl.len;
		t->npend++;
		return;
	}
	r = oneshot_run(w, r);
	mr = &w->runs[r];
	rc = rs_eventlog_append(w->db, &mr->id, ty.p, ty.len, pl.p, pl.len,
				&rc_out);
	if (!args_ok(rc, errs, 2, "append"))
		return;
	if (mr->archived) {
		FZ_CHECK(rc == RS_EARCHIVED, "append to an archived run: %s",
			 rs_errname(rc));
		return;
	}
	FZ_CHECK(rc == 0, "append: %s", rs_errname(rc));
	if (!mr->ev_exact && mr->nev == 0)
		mr->ev_base = rc_out.seq;
	FZ_CHECK(rc_out.seq == mr->ev_base + mr->nev,
		 "append: seq %llu, model %llu", (unsigned long long)rc_out.seq,
		 (unsigned long long)(mr->ev_base + mr->nev));
	if (mr->nev < MAX_EVENTS) {
		m_event *e = &mr->ev[mr->nev];

		e->type = dup(ty.p, ty.len);
		e->tlen = ty.len;
		e->payload = dup(pl.p, pl.len);
		e->plen = pl.len;
	}
	mr->nev++;
}

typedef struct ev_walk {
	m_run *r;
	uint64_t next;
	uint64_t first; /* the first sequence seen */
	bool seen;
} ev_walk;

static int ev_walk_cb(const rs_event *ev, void *ctx)
{
	ev_walk *wk = ctx;
	m_run *r = wk->r;

	/* The first event may be above the start asked for: a run's
	 * sequences begin at its life's base (docs/primitives.md). */
	if (!wk->seen) {
		uint64_t first = r->ev_base > wk->next ? r->ev_base : wk->next;

		FZ_CHECK(ev->seq >= wk->next,
			 "read_range: seq %llu before %llu",
			 (unsigned long long)ev->seq,
			 (unsigned long long)wk->next);
		if (r->ev_exact)
			wk->next = first;
		else
			wk->next = ev->seq;
		wk->first = ev->seq;
		wk->seen = true;
	}
	FZ_CHECK(ev->seq == wk->next, "read_range: seq %llu, expected %llu",
		 (unsigned long long)ev->seq, (unsigned long long)wk->next);
	if (r->ev_exact || ev->seq >= r->ev_base) {
		uint64_t i = ev->seq - r->ev_base;

		if (i < MAX_EVENTS && i < r->nev)
			FZ_CHECK(ev_equal(ev, &r->ev[i]),
				 "read_range: event %llu differs",
				 (unsigned long long)ev->seq);
	}
	wk->next++;
	return 0;
}

static void op_ev_read(world *w, unsigned r)
{
	m_run *mr = &w->runs[r];
	uint64_t len = 0, bad = 0, start = fz_u8(&w->in) % 8;
	unsigned char buf[BIG_VAL + 300];
	size_t needed = 0;
	ev_walk wk = { mr, start, 0, false };
	rs_event ev;
	int rc;

	FZ_CHECK(rs_eventlog_len(w->db, &mr->id, &len) == 0, "len");
	if (mr->ev_exact || mr->nev)
		FZ_CHECK(len == mr->ev_base + mr->nev, "len %llu, model %llu",
			 (unsigned long long)len,
			 (unsigned long long)(mr->ev_base + mr->nev));
	rc = rs_eventlog_read_range(w->db, &mr->id, start, UINT64_MAX,
				    ev_walk_cb, &wk);
	FZ_CHECK(rc == 0, "read_range: %s", rs_errname(rc));
	if (wk.seen)
		FZ_CHECK(wk.next == len, "read_range ended at %llu of %llu",
			 (unsigned long long)wk.next, (unsigned long long)len);
	else if (mr->ev_exact)
		FZ_CHECK(start >= len || mr->nev == 0,
			 "read_range from %llu saw nothing of %llu",
			 (unsigned long long)start, (unsigned long long)len);
	rc = rs_eventlog_verify_chain(w->db, &mr->id, &bad);
	FZ_CHECK(rc == 0, "verify_chain: %s at %llu", rs_errname(rc),
		 (unsigned long long)bad);
	rc = rs_eventlog_read(w->db, &mr->id, start, &ev, buf,
			      fz_u8(&w->in) & 1 ? sizeof(buf) : 3, &needed);
	/* Nothing past the end, nor below the life's base (the first
	 * sequence the range read found). */
	if (start >= len || !wk.seen || start < wk.first) {
		FZ_CHECK(rc == RS_ENOTFOUND, "read outside the log: %s",
			 rs_errname(rc));
		return;
	}
	FZ_CHECK(rc == 0 || rc == RS_ENOSPC, "read: %s", rs_errname(rc));
	if (rc == 0 && mr->ev_exact && start - mr->ev_base < MAX_EVENTS &&
	    start >= mr->ev_base)
		FZ_CHECK(ev_equal(&ev, &mr->ev[start - mr->ev_base]),
			 "read: event differs");
	if (w->t.txn && w->t.run == r) {
		uint64_t tlen = 0;

		rc = rs_txn_eventlog_len(w->t.txn, &tlen);
		FZ_CHECK(rc == 0, "txn len: %s", rs_errname(rc));
		FZ_CHECK(tlen == len + w->t.npend || w->t.npend == 64,
			 "txn len %llu, expected %llu + %zu",
			 (unsigned long long)tlen, (unsigned long long)len,
			 w->t.npend);
	}
}

/* ---- StateCell ---- */

static void op_cell(world *w, unsigned r)
{
	unsigned what = fz_u8(&w->in) % 5;
	arg name = text_arg(&w->in, RS_NAME_MAX);
	arg v = what < 3 ? val_arg(&w->in) : (arg){ "", 0, 0 };
	uint64_t expect = fz_u8(&w->in) % 4, ver = 0;
	bool in_txn = w->t.txn && (fz_u8(&w->in) & 1);
	m_cell *cells;
	size_t *ncells;
	m_run *mr;
	m_cell *c;
	bool existed = false, exact;
	int errs[2] = { name.err, v.err };
	int rc, want;

	if (!in_txn)
		r = oneshot_run(w, r);
	else
		r = w->t.run;
	mr = &w->runs[r];
	exact = mr->cells_exact;
	cells = in_txn ? w->t.cells : mr->cells;
	ncells = in_txn ? &w->t.ncells : &mr->ncells;
	if (in_txn && w->t.readonly && what != 4) {
		rc = what == 0
			     ? rs_txn_statecell_init(w->t.txn, name.p, name.len,
						     v.p, v.len, &ver)
		     : what == 1
			     ? rs_txn_statecell_set(w->t.txn, name.p, name.len,
						    v.p, v.len, &ver)
		     : what == 2
			     ? rs_txn_statecell_cas(w->t.txn, name.p, name.len,
						    expect, v.p, v.len, &ver)
			     : rs_txn_statecell_delete(w->t.txn, name.p,
						       name.len, &existed);
		if (args_ok(rc, errs, 2, "read-only cell write"))
			FZ_CHECK(rc == RS_EREADONLY, "read-only cell write: %s",
				 rs_errname(rc));
		return;
	}
	switch (what) {
	case 0:
		rc = in_txn ? rs_txn_statecell_init(w->t.txn, name.p, name.len,
						    v.p, v.len, &ver)
			    : rs_statecell_init(w->db, &mr->id, name.p,
						name.len, v.p, v.len, &ver);
		break;
	case 1:
		rc = in_txn ? rs_txn_statecell_set(w->t.txn, name.p, name.len,
						   v.p, v.len, &ver)
			    : rs_statecell_set(w->db, &mr->id, name.p, name.len,
					       v.p, v.len, &ver);
		break;
	case 2:
		rc = in_txn ? rs_txn_statecell_cas(w->t.txn, name.p, name.len,
						   expect, v.p, v.len, &ver)
			    : rs_statecell_cas(w->db, &mr->id, name.p, name.len,
					       expect, v.p, v.len, &ver);
		break;
	case 3:
		rc = in_txn ? rs_txn_statecell_delete(w->t.txn, name.p,
						      name.len, &existed)
			    : rs_statecell_delete(w->db, &mr->id, name.p,
						  name.len, &existed);
		break;
	default: {
		unsigned char buf[64];
		size_t len = 0;
		rs_bytes tv;

		if (in_txn)
			rc = rs_txn_statecell_read(w->t.txn, name.p, name.len,
						   &tv, &ver);
		else
			rc = rs_statecell_read(w->db, &mr->id, name.p, name.len,
					       buf, sizeof(buf), &len, &ver);
		if (!args_ok(rc, &name.err, 1, "cell read"))
			return;
		c = cell_find(cells, ncells, &name, false);
		if (!c || !c->live) {
			FZ_CHECK(rc == RS_ENOTFOUND, "cell read: %s",
				 rs_errname(rc));
			return;
		}
		if (!in_txn && c->vlen > sizeof(buf)) {
			FZ_CHECK(rc == RS_ENOSPC, "cell read: %s",
				 rs_errname(rc));
			return;
		}
		FZ_CHECK(rc == 0, "cell read: %s", rs_errname(rc));
		if (exact)
			FZ_CHECK(ver == c->version, "cell version %llu, %llu",
				 (unsigned long long)ver,
				 (unsigned long long)c->version);
		if (in_txn)
			FZ_CHECK(tv.len == c->vlen &&
					 (!c->vlen ||
					  !memcmp(tv.data, c->val, c->vlen)),
				 "txn cell value");
		else
			FZ_CHECK(len == c->vlen && (!c->vlen ||
						    !memcmp(buf, c->val, len)),
				 "cell value");
		return;
	}
	}
	if (!args_ok(rc, errs, 2, "cell write"))
		return;
	c = cell_find(cells, ncells, &name, true);
	if (!c) {
		FZ_CHECK(rc != RS_EINVAL && rc != RS_ETOOBIG && rc != RS_EUTF8,
			 "cell: %s", rs_errname(rc));
		return; /* more names than the model keeps: unchecked */
	}
	if (what == 0)
		want = c->live ? RS_EEXIST : 0;
	else if (what == 3)
		want = 0;
	else if (!c->live)
		want = RS_ENOTFOUND;
	else if (what == 2 && expect != c->version)
		want = exact ? RS_EMISMATCH : rc;
	else
		want = 0;
	if (!in_txn && mr->archived) {
		/* The fence or the cell's own check may come first. */
		FZ_CHECK(rc == RS_EARCHIVED || (want && rc == want),
			 "cell op %u, archived run: %s", what, rs_errname(rc));
		return;
	}
	FZ_CHECK(rc == want, "cell op %u: %s, model %s", what, rs_errname(rc),
		 rs_errname(want));
	if (rc)
		return;
	if (in_txn && what != 3)
		w->t.wrote = true;
	if (what == 3) {
		FZ_CHECK(existed == c->live, "cell delete: existed %d",
			 existed);
		if (in_txn) {
			w->t.wrote |= c->live;
			w->t.maybe_wrote = true;
		}
		c->live = false;
		free(c->val);
		c->val = NULL;
		return;
	}
	if (exact)
		FZ_CHECK(ver == c->version + 1, "cell version %llu after %llu",
			 (unsigned long long)ver,
			 (unsigned long long)c->version);
	c->version = ver;
	c->live = true;
	free(c->val);
	c->val = dup(v.p, v.len);
	c->vlen = v.len;
}

/* ---- RunIndex ---- */

static void op_run_create(world *w, unsigned r)
{
	rs_runindex_create_options co = RS_RUNINDEX_CREATE_OPTIONS_INIT;
	m_run *mr = &w->runs[r];
	unsigned sel = fz_u8(&w->in);
	arg name = text_arg(&w->in, RS_NAME_MAX);
	arg tag = text_arg(&w->in, RS_TAG_MAX);
	rs_bytes tags[2] = { { tag.p, tag.len }, { tag.p, tag.len } };
	rs_run_id parent = w->runs[(r + 1) % FZ_NRUNS].id, got;
	int errs[3] = { 0, 0, 0 };
	bool name_taken = false;
	int rc;

	co.id = &mr->id;
	if (sel & 1) {
		co.name = name.p;
		co.name_len = name.len;
		errs[0] = name.err;
	}
	if (sel & 2) {
		co.tags = tags;
		co.ntags = sel & 4 ? 2 : 1; /* 2: a duplicate */
		errs[1] = sel & 4 ? RS_EINVAL : 0;
		if (tag.err)
			errs[1] = tag.err;
	}
	if (sel & 8)
		co.parent = sel & 16 ? &mr->id : &parent;
	if ((sel & 8) && (sel & 16))
		errs[2] = RS_EINVAL; /* its own parent */
	rc = rs_runindex_create(w->db, &co, &got);
	if ((errs[0] || errs[1] || errs[2]) &&
	    rc != RS_EEXIST) /* which is checked first is not promised */
		if (!args_ok(rc, errs, 3, "runindex create"))
			return;
	if (co.name) {
		for (unsigned i = 0; i < FZ_NRUNS; i++)
			if (w->runs[i].registered && w->runs[i].nlen &&
			    w->runs[i].nlen == co.name_len &&
			    !memcmp(w->runs[i].name, co.name, co.name_len))
				name_taken = true;
	}
	if (errs[0] || errs[1] || errs[2]) {
		FZ_CHECK(rc != 0, "create with bad arguments succeeded");
		return;
	}
	FZ_CHECK(rc == (mr->registered || name_taken ? RS_EEXIST : 0),
		 "runindex create: %s (registered %d, name taken %d)",
		 rs_errname(rc), mr->registered, name_taken);
	if (rc)
		return;
	FZ_CHECK(!memcmp(&got, &mr->id, sizeof(got)), "create: another id");
	mr->registered = true;
	mr->status = RS_RUN_ACTIVE;
	mr->nlen = co.name ? co.name_len : 0;
	if (co.name)
		memcpy(mr->name, co.name, co.name_len);
}

static void op_run_transition(world *w, unsigned r)
{
	m_run *mr = &w->runs[r];
	rs_run_status to = (rs_run_status)(fz_u8(&w->in) % 7);
	rs_run_status from = RS_RUN_ACTIVE;
	int rc = rs_runindex_transition(w->db, &mr->id, to, &from), want;

	if (to > RS_RUN_ARCHIVED) {
		FZ_CHECK(rc == RS_EINVAL, "transition to %d: %s", (int)to,
			 rs_errname(rc));
		return;
	}
	if (!mr->registered)
		want = RS_ENOTFOUND;
	else
		want = rs_runindex_transition_allowed(mr->status, to)
			       ? 0
			       : RS_ETRANSITION;
	FZ_CHECK(rc == want, "transition %s -> %s: %s, model %s",
		 rs_run_status_name(mr->status), rs_run_status_name(to),
		 rs_errname(rc), rs_errname(want));
	if (rc == 0 || rc == RS_ETRANSITION)
		FZ_CHECK(from == mr->status, "transition: from %s",
			 rs_run_status_name(from));
	if (rc == 0) {
		mr->status = to;
		if (to == RS_RUN_ARCHIVED)
			mr->archived = true;
	}
}

static void op_run_delete(world *w, unsigned r)
{
	m_run *mr = &w->runs[r];
	bool data = mr->kv.n || mr->nev;
	int rc;

	for (size_t i = 0; i < mr->ncells; i++)
		data |= mr->cells[i].live;
	uint64_t before[FZ_NRUNS];

	if (w->t.txn && w->t.run == r)
		return; /* its transaction would conflict */
	for (unsigned o = 0; o < FZ_NRUNS; o++)
		if (rs_db_run_version(w->db, &w->runs[o].id, &before[o]) != 0)
			before[o] = UINT64_MAX;
	rc = rs_runindex_delete(w->db, &mr->id);
	if (mr->registered || data)
		FZ_CHECK(rc == 0, "runindex delete: %s", rs_errname(rc));
	else
		FZ_CHECK(rc == 0 || rc == RS_ENOTFOUND, "runindex delete: %s",
			 rs_errname(rc));
	if (rc)
		return;
	/* A delete raises the database's drop mark: a run whose life has
	 * not begun (its version is the mark, and moved) will start its
	 * numbering there (docs/primitives.md, "Lives of a run id"). */
	for (unsigned o = 0; o < FZ_NRUNS; o++) {
		uint64_t now;

		if (o != r && before[o] != UINT64_MAX &&
		    rs_db_run_version(w->db, &w->runs[o].id, &now) == 0 &&
		    now != before[o])
			w->runs[o].ev_exact = w->runs[o].cells_exact = false;
	}
	rs_m_clear(&mr->kv);
	ev_clear(mr);
	mr->ev_exact = false;
	cell_free_all(mr->cells, mr->ncells);
	mr->ncells = 0;
	mr->cells_exact = false;
	mr->registered = mr->archived = false;
	mr->nlen = 0;
}

static void op_run_get(world *w, unsigned r)
{
	m_run *mr = &w->runs[r];
	unsigned char buf[1024];
	size_t needed = 0;
	rs_run_info info;
	int rc = rs_runindex_get(w->db, &mr->id, &info, buf, sizeof(buf),
				 &needed);

	if (!mr->registered) {
		FZ_CHECK(rc == RS_ENOTFOUND, "get unregistered: %s",
			 rs_errname(rc));
		return;
	}
	FZ_CHECK(rc == 0, "runindex get: %s", rs_errname(rc));
	FZ_CHECK(info.status == mr->status, "status %s, model %s",
		 rs_run_status_name(info.status),
		 rs_run_status_name(mr->status));
	FZ_CHECK(mr->nlen ? info.name.len == mr->nlen &&
				    !memcmp(info.name.data, mr->name, mr->nlen)
			  : info.name.data == NULL,
		 "runindex get: name");
	if (mr->nlen) {
		rc = rs_runindex_get_by_name(w->db, (const char *)mr->name,
					     mr->nlen, &info, buf, sizeof(buf),
					     &needed);
		FZ_CHECK(rc == 0 && !memcmp(&info.id, &mr->id, 16),
			 "get_by_name: %s", rs_errname(rc));
	}
}

/* ---- transactions ---- */

static void op_txn_begin(world *w, unsigned r)
{
	txn_state *t = &w->t;
	bool ro = fz_u8(&w->in) & 1;
	int rc;

	if (t->txn)
		return;
	rc = rs_txn_begin(&t->txn, w->db, &w->runs[r].id,
			  ro ? RS_TXN_F_READONLY : 0);
	FZ_CHECK(rc == 0, "begin: %s", rs_errname(rc));
	t->run = r;
	t->readonly = ro;
	rs_m_copy(&t->view, &w->runs[r].kv);
	cells_copy(t->cells, w->runs[r].cells, w->runs[r].ncells);
	t->ncells = w->runs[r].ncells;
}

static void op_txn_end(world *w, bool commit)
{
	txn_state *t = &w->t;
	m_run *mr;
	int rc;

	if (!t->txn)
		return;
	mr = &w->runs[t->run];
	if (!commit) {
		rs_txn_abort(t->txn);
		txn_end(w);
		return;
	}
	rc = rs_txn_commit(t->txn);
	if (mr->archived && (t->wrote || (t->maybe_wrote && rc))) {
		FZ_CHECK(rc == RS_EARCHIVED, "commit to an archived run: %s",
			 rs_errname(rc));
		txn_end(w);
		return;
	}
	FZ_CHECK(rc == 0, "commit: %s", rs_errname(rc));
	rs_m_free(&mr->kv);
	rs_m_copy(&mr->kv, &t->view);
	cell_free_all(mr->cells, mr->ncells);
	cells_copy(mr->cells, t->cells, t->ncells);
	mr->ncells = t->ncells;
	for (size_t i = 0; i < t->npend; i++) {
		if (mr->nev < MAX_EVENTS) {
			mr->ev[mr->nev] = t->pend[i];
			t->pend[i].type = t->pend[i].payload = NULL;
		}
		mr->nev++;
	}
	if (t->npend && !mr->ev_exact && mr->nev == t->npend) {
		/* The first events since the run was deleted: learn where
		 * their numbering starts. */
		uint64_t len = 0;

		FZ_CHECK(rs_eventlog_len(w->db, &mr->id, &len) == 0 &&
				 len >= t->npend,
			 "len after commit");
		mr->ev_base = len - t->npend;
	}
	txn_end(w);
}

/* ---- the whole state ---- */

static void check_all(world *w)
{
	for (unsigned r = 0; r < FZ_NRUNS; r++) {
		m_run *mr = &w->runs[r];
		rs_model got;
		uint64_t len = 0;
		int rc;

		rs_m_init(&got);
		rc = rs_kv_scan(w->db, &mr->id, NULL, NULL, rs_m_collect_cb,
				&got);
		FZ_CHECK(rc == 0, "final scan: %s", rs_errname(rc));
		check_same(&got, &mr->kv, "final scan");
		rs_m_free(&got);
		FZ_CHECK(rs_eventlog_len(w->db, &mr->id, &len) == 0, "len");
		if (mr->ev_exact || mr->nev)
			FZ_CHECK(len == mr->ev_base + mr->nev,
				 "final len %llu, model %llu",
				 (unsigned long long)len,
				 (unsigned long long)(mr->ev_base + mr->nev));
		FZ_CHECK(rs_eventlog_verify_chain(w->db, &mr->id, NULL) == 0,
			 "final verify_chain");
	}
	fz_read_all(w->db, NULL, NULL);
}

static void run_ops(world *w)
{
	for (unsigned i = 0; i < MAX_OPS && w->in.n; i++) {
		unsigned op = fz_u8(&w->in);
		unsigned r = (op >> 5) % FZ_NRUNS;

		switch (op % 20) {
		case 0:
		case 1:
		case 2:
			op_kv_write(w, r, false);
			break;
		case 3:
			op_kv_write(w, r, true);
			break;
		case 4:
			op_kv_get(w, r);
			break;
		case 5:
			op_kv_get_many(w, r);
			break;
		case 6:
			op_kv_scan(w, r);
			break;
		case 7:
			op_kv_list(w, r);
			break;
		case 8:
			op_cursor(w, r);
			break;
		case 9:
		case 10:
			op_ev_append(w, r);
			break;
		case 11:
			op_ev_read(w, r);
			break;
		case 12:
		case 13:
			op_cell(w, r);
			break;
		case 14:
			op_run_create(w, r);
			break;
		case 15:
			op_run_transition(w, r);
			break;
		case 16:
			if (fz_u8(&w->in) % 4 == 0)
				op_run_delete(w, r);
			else
				op_run_get(w, r);
			break;
		case 17:
			op_txn_begin(w, r);
			break;
		case 18:
			op_txn_end(w, true);
			break;
		default:
			op_txn_end(w, false);
			break;
		}
	}
	op_txn_end(w, false);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static world w;
	rs_db_options o = RS_DB_OPTIONS_INIT;
	int rc;

	memset(big, 'v', sizeof(big));
	memset(&w, 0, sizeof(w));
	w.in.p = data;
	w.in.n = size;
	o.hash_seed = FZ_HASH_SEED;
	rc = rs_db_open(&w.db, &o);
	FZ_CHECK(rc == 0, "open: %s", rs_errname(rc));
	for (unsigned r = 0; r < FZ_NRUNS; r++) {
		w.runs[r].id = fz_run(r);
		rs_m_init(&w.runs[r].kv);
		w.runs[r].ev_exact = w.runs[r].cells_exact = true;
	}
	run_ops(&w);
	check_all(&w);
	rs_db_close(w.db);
	for (unsigned r = 0; r < FZ_NRUNS; r++) {
		rs_m_free(&w.runs[r].kv);
		ev_clear(&w.runs[r]);
		cell_free_all(w.runs[r].cells, w.runs[r].ncells);
	}
	return 0;
}
