/* SPDX-License-Identifier: MIT */
/*
 * StateCell: named, versioned values of a run. A stateless facade over the
 * txn layer.
 *
 * Keys (tag RS__TAG_STATECELL):
 *   0x01 name   the cell: u64 version (big-endian), then the value
 *   0x02 name   the name's version floor: u64, the version the cell had
 *               when it was last deleted (kept while the cell is absent)
 * A deleted cell is a tombstone of 0x01 name plus its floor, so init
 * continues at floor + 1 and a version never repeats for a name (a stale
 * CAS always fails). A name with no floor starts at the run's base + 1
 * (txn.h): past every version of an earlier life of the run id. Listings and scans are range scans of the 0x01 keys
 * (txn.h): O(log n + cells passed).
 *
 * One operation, two ways to run it (cell_apply): the one-shot writes are
 * deferred steps of a one-shot write (txn.h), reading the newest committed
 * cell under the run's commit lock, so they never conflict and init has
 * exactly one winner; in a transaction the same code reads the cell in
 * the transaction's view (joining the read set) and stages its writes.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <string.h>

#include "primitives/prim.h"
#include "txn/txn.h"
#include "util/error.h"

#define TAG RS__TAG_STATECELL
#define K_CELL 0x01
#define K_FLOOR 0x02
#define CELL_KEY_MAX (1 + RS_NAME_MAX)

enum cell_op {
	OP_INIT,
	OP_SET,
	OP_CAS,
	OP_DELETE,
	OP_TRANSITION
};

/* Where a cell operation reads: a transaction's view, or (cc set) the
 * newest committed state under the commit lock. Writes always go to txn. */
typedef struct cell_io {
	rs_txn *txn;
	rs__cc *cc;
} cell_io;

typedef struct cell_args {
	enum cell_op op;
	unsigned char key[CELL_KEY_MAX];
	size_t klen;
	unsigned char *val; /* u64 version + value, in the arena */
	size_t vlen;
	uint64_t expected;
	rs_statecell_transition_fn fn;
	void *fn_ctx;
	/* results, and where a one-shot write hands them (cell_done) */
	uint64_t version;
	bool existed;
	uint64_t *version_out;
	bool *existed_out;
} cell_args;

static size_t cell_key(unsigned char *key, uint8_t kind, const char *name,
		       size_t len)
{
	key[0] = kind;
	memcpy(key + 1, name, len);
	return 1 + len;
}

static int io_read(cell_io *io, const unsigned char *key, size_t klen,
		   rs_bytes *out)
{
	if (io->cc)
		return rs__cc_read(io->cc, TAG, key, klen, out);
	return rs__txn_read(io->txn, TAG, key, klen, out);
}

/* The cell's version and value; RS_ENOTFOUND when absent. */
static int read_cell(cell_io *io, const cell_args *a, uint64_t *version,
		     rs_bytes *value)
{
	rs_bytes v;
	int rc = io_read(io, a->key, a->klen, &v);

	if (rc < 0)
		return rc;
	if (v.len < 8)
		return RS_ECORRUPT;
	*version = rs__get_u64(v.data);
	value->data = (const unsigned char *)v.data + 8;
	value->len = v.len - 8;
	return 0;
}

static int read_floor(cell_io *io, const cell_args *a, uint64_t *floor)
{
	unsigned char key[CELL_KEY_MAX];
	rs_bytes v;
	int rc;

	memcpy(key, a->key, a->klen);
	key[0] = K_FLOOR;
	rc = io_read(io, key, a->klen, &v);
	RS_TRY(rs__prim_read_u64(rc, v, floor));
	/* A name never written in this life: init goes past the base. */
	if (rc == RS_ENOTFOUND)
		*floor = io->cc ? rs__cc_base(io->cc) : rs__txn_base(io->txn);
	return 0;
}

static int floor_of(rs_bytes key, rs_bytes val, void *ctx)
{
	uint64_t *max = ctx, v;

	/* Cells start with their version, floors are one. */
	if (key.len < 1 || val.len < 8 ||
	    (((const unsigned char *)key.data)[0] == K_FLOOR && val.len != 8))
		return RS_ECORRUPT;
	v = rs__get_u64(val.data);
	if (v + 1 > *max)
		*max = v + 1;
	return 0;
}

int rs__statecell_floor(rs__cc *cc, uint64_t *floor_out)
{
	*floor_out = rs__cc_also_base(cc) + 1;
	return rs__cc_also_each(cc, TAG, floor_of, floor_out);
}

/* A value buffer (u64 version + bytes) in the transaction's arena. */
static int make_val(rs_txn *txn, cell_args *a, const void *val, size_t vlen)
{
	a->val = rs__txn_alloc(txn, 8 + vlen);
	if (!a->val)
		return RS_ENOMEM;
	if (vlen)
		memcpy(a->val + 8, val, vlen);
	a->vlen = 8 + vlen;
	return 0;
}

static int write_version(cell_io *io, cell_args *a, uint64_t version)
{
	rs__put_u64(a->val, version);
	a->version = version;
	return rs__txn_write_ref(io->txn, TAG, a->key, a->klen, a->val, a->vlen,
				 0);
}

static int apply_delete(cell_io *io, cell_args *a, uint64_t cur)
{
	unsigned char key[CELL_KEY_MAX];
	unsigned char *floor = rs__txn_alloc(io->txn, 8);

	if (!floor)
		return RS_ENOMEM;
	rs__put_u64(floor, cur);
	memcpy(key, a->key, a->klen);
	key[0] = K_FLOOR;
	RS_TRY(rs__txn_write_ref(io->txn, TAG, key, a->klen, floor, 8, 0));
	return rs__txn_write_ref(io->txn, TAG, a->key, a->klen, NULL, 0,
				 RS__OP_F_DELETE);
}

static int apply_transition(cell_io *io, cell_args *a, uint64_t cur,
			    rs_bytes value)
{
	rs_bytes nv = { NULL, 0 };
	int rc = a->fn(value, cur, &nv, a->fn_ctx);

	if (rc != 0)
		return rc;
	if (!nv.data) {
		a->version = cur;
		return 0;
	}
	if (nv.len > RS_VALUE_MAX)
		return RS_ETOOBIG;
	RS_TRY(make_val(io->txn, a, nv.data, nv.len));
	return write_version(io, a, cur + 1);
}

static int cell_apply(cell_io *io, cell_args *a)
{
	uint64_t cur = 0, floor;
	rs_bytes value;
	int rc = read_cell(io, a, &cur, &value);
	bool present = rc == 0;

	if (rc < 0 && rc != RS_ENOTFOUND)
		return rc;
	switch (a->op) {
	case OP_INIT:
		if (present)
			return RS_EEXIST;
		RS_TRY(read_floor(io, a, &floor));
		return write_version(io, a, floor + 1);
	case OP_DELETE:
		a->existed = present;
		return present ? apply_delete(io, a, cur) : 0;
	default:
		break;
	}
	if (!present)
		return RS_ENOTFOUND;
	if (a->op == OP_TRANSITION)
		return apply_transition(io, a, cur, value);
	if (a->op == OP_CAS && cur != a->expected)
		return RS_EMISMATCH;
	return write_version(io, a, cur + 1);
}

static int cell_run(rs__cc *cc, void *arg)
{
	cell_io io = { rs__cc_txn(cc), cc };

	return cell_apply(&io, arg);
}

static void cell_done(const void *arg, int rc)
{
	const cell_args *a = arg;

	if (rc != 0)
		return;
	if (a->version_out)
		*a->version_out = a->version;
	if (a->existed_out)
		*a->existed_out = a->existed;
}

static const rs__step_type cell_step = { cell_run, cell_done };

/* ---- argument checks ---- */

static int check_name(const char *name, size_t len)
{
	return rs__prim_check_text(name, len, RS_NAME_MAX);
}

static int check_write(const char *name, size_t nlen, const void *val,
		       size_t vlen)
{
	RS_TRY(check_name(name, nlen));
	return rs__prim_check_bytes(val, vlen);
}

/* ---- one-shot writes: a deferred step, run under the commit lock ---- */

struct cell_req {
	enum cell_op op;
	const char *name;
	size_t nlen;
	uint64_t expected;
	const void *val;
	size_t vlen;
	uint64_t *version_out;
	bool *existed_out;
};

static int stage_cell(rs_txn *txn, const void *arg)
{
	const struct cell_req *r = arg;
	cell_args *a;

	RS_TRY(rs__txn_defer(txn, &cell_step, sizeof(*a), (void **)&a));
	if (r->op != OP_DELETE)
		RS_TRY(make_val(txn, a, r->val, r->vlen));
	a->op = r->op;
	a->klen = cell_key(a->key, K_CELL, r->name, r->nlen);
	a->expected = r->expected;
	a->version_out = r->version_out;
	a->existed_out = r->existed_out;
	return 0;
}

static int oneshot(rs_db *db, const rs_run_id *run, enum cell_op op,
		   const char *name, size_t nlen, uint64_t expected,
		   const void *val, size_t vlen, uint64_t *version_out)
{
	struct cell_req r = { op,  name, nlen,	      expected,
			      val, vlen, version_out, NULL };

	return rs__txn_oneshot(db, run, stage_cell, &r);
}

int rs_statecell_init(rs_db *db, const rs_run_id *run, const char *name,
		      size_t name_len, const void *val, size_t vlen,
		      uint64_t *version_out)
{
	RS_TRY(rs__prim_check_db_run(db, run));
	RS_TRY(check_write(name, name_len, val, vlen));
	return oneshot(db, run, OP_INIT, name, name_len, 0, val, vlen,
		       version_out);
}

int rs_statecell_set(rs_db *db, const rs_run_id *run, const char *name,
		     size_t name_len, const void *val, size_t vlen,
		     uint64_t *version_out)
{
	RS_TRY(rs__prim_check_db_run(db, run));
	RS_TRY(check_write(name, name_len, val, vlen));
	return oneshot(db, run, OP_SET, name, name_len, 0, val, vlen,
		       version_out);
}

int rs_statecell_cas(rs_db *db, const rs_run_id *run, const char *name,
		     size_t name_len, uint64_t expected_version,
		     const void *val, size_t vlen, uint64_t *version_out)
{
	RS_TRY(rs__prim_check_db_run(db, run));
	RS_TRY(check_write(name, name_len, val, vlen));
	return oneshot(db, run, OP_CAS, name, name_len, expected_version, val,
		       vlen, version_out);
}

int rs_statecell_delete(rs_db *db, const rs_run_id *run, const char *name,
			size_t name_len, bool *existed_out)
{
	struct cell_req r = { OP_DELETE, name, name_len, 0,
			      NULL,	 0,    NULL,	 existed_out };

	RS_TRY(rs__prim_check_db_run(db, run));
	RS_TRY(check_name(name, name_len));
	return rs__txn_oneshot(db, run, stage_cell, &r);
}

/* ---- one-shot reads ---- */

int rs_statecell_read(rs_db *db, const rs_run_id *run, const char *name,
		      size_t name_len, void *buf, size_t cap, size_t *len_out,
		      uint64_t *version_out)
{
	unsigned char key[CELL_KEY_MAX], version[8];
	rs__copy_out co = { version, sizeof(version), buf, cap, 0 };
	int rc;

	RS_TRY(rs__prim_check_db_run(db, run));
	RS_TRY(check_name(name, name_len));
	RS_CHECK_ARG(buf || cap == 0);
	rc = rs__txn_read_latest(db, run, TAG, key,
				 cell_key(key, K_CELL, name, name_len), &co);
	/* On RS_ENOSPC too: the length and the version of the same value. */
	if (len_out && (rc == 0 || rc == RS_ENOSPC))
		*len_out = co.len;
	if (version_out && (rc == 0 || rc == RS_ENOSPC))
		*version_out = rs__get_u64(version);
	return rc;
}

/* ---- transition: a transaction retried on conflict ---- */

struct transition_ctx {
	const char *name;
	size_t nlen;
	rs_statecell_transition_fn fn;
	void *ctx;
	uint64_t version;
};

static int txn_apply(rs_txn *txn, enum cell_op op, const char *name,
		     size_t nlen, uint64_t expected, const void *val,
		     size_t vlen, cell_args *a)
{
	cell_io io = { txn, NULL };

	if (rs__txn_readonly(txn))
		return RS_EREADONLY;
	a->op = op;
	a->klen = cell_key(a->key, K_CELL, name, nlen);
	a->expected = expected;
	if (op != OP_DELETE && op != OP_TRANSITION)
		RS_TRY(make_val(txn, a, val, vlen));
	return cell_apply(&io, a);
}

static int transition_body(rs_txn *txn, void *arg)
{
	struct transition_ctx *tc = arg;
	cell_args a = { 0 };
	int rc;

	a.fn = tc->fn;
	a.fn_ctx = tc->ctx;
	/* fn's own nonzero return, positive ones too, goes back as is. */
	rc = txn_apply(txn, OP_TRANSITION, tc->name, tc->nlen, 0, NULL, 0, &a);
	tc->version = a.version;
	return rc;
}

int rs_statecell_transition(rs_db *db, const rs_run_id *run, const char *name,
			    size_t name_len, unsigned max_attempts,
			    uint64_t *version_out,
			    rs_statecell_transition_fn fn, void *ctx)
{
	struct transition_ctx tc = { name, name_len, fn, ctx, 0 };
	int rc;

	RS_TRY(rs__prim_check_db_run(db, run));
	RS_TRY(check_name(name, name_len));
	RS_CHECK_ARG(fn);
	rc = rs__txn_run(db, run, 0, max_attempts, transition_body, &tc);
	if (rc == 0 && version_out)
		*version_out = tc.version;
	return rc;
}

/* ---- in a transaction ---- */

/* init, set and cas in a transaction: checks, apply, the new version. */
static int txn_write(rs_txn *txn, enum cell_op op, const char *name,
		     size_t nlen, uint64_t expected, const void *val,
		     size_t vlen, uint64_t *version_out)
{
	cell_args a = { 0 };

	RS_TRY(rs__txn_check(txn));
	RS_TRY(check_write(name, nlen, val, vlen));
	RS_TRY(txn_apply(txn, op, name, nlen, expected, val, vlen, &a));
	if (version_out)
		*version_out = a.version;
	return 0;
}

int rs_txn_statecell_init(rs_txn *txn, const char *name, size_t name_len,
			  const void *val, size_t vlen, uint64_t *version_out)
{
	return txn_write(txn, OP_INIT, name, name_len, 0, val, vlen,
			 version_out);
}

int rs_txn_statecell_read(rs_txn *txn, const char *name, size_t name_len,
			  rs_bytes *val_out, uint64_t *version_out)
{
	cell_io io = { txn, NULL };
	cell_args a = { 0 };
	uint64_t version;

	RS_TRY(rs__txn_check(txn));
	RS_TRY(check_name(name, name_len));
	RS_CHECK_ARG(val_out);
	a.klen = cell_key(a.key, K_CELL, name, name_len);
	RS_TRY(read_cell(&io, &a, &version, val_out));
	if (version_out)
		*version_out = version;
	return 0;
}

int rs_txn_statecell_set(rs_txn *txn, const char *name, size_t name_len,
			 const void *val, size_t vlen, uint64_t *version_out)
{
	return txn_write(txn, OP_SET, name, name_len, 0, val, vlen,
			 version_out);
}

int rs_txn_statecell_cas(rs_txn *txn, const char *name, size_t name_len,
			 uint64_t expected_version, const void *val,
			 size_t vlen, uint64_t *version_out)
{
	return txn_write(txn, OP_CAS, name, name_len, expected_version, val,
			 vlen, version_out);
}

int rs_txn_statecell_transition(rs_txn *txn, const char *name, size_t name_len,
				uint64_t *version_out,
				rs_statecell_transition_fn fn, void *ctx)
{
	cell_args a = { 0 };
	int rc;

	RS_TRY(rs__txn_check(txn));
	RS_TRY(check_name(name, name_len));
	RS_CHECK_ARG(fn);
	a.fn = fn;
	a.fn_ctx = ctx;
	rc = txn_apply(txn, OP_TRANSITION, name, name_len, 0, NULL, 0, &a);
	if (rc == 0 && version_out)
		*version_out = a.version;
	return rc;
}

int rs_txn_statecell_delete(rs_txn *txn, const char *name, size_t name_len,
			    bool *existed_out)
{
	cell_args a = { 0 };

	RS_TRY(rs__txn_check(txn));
	RS_TRY(check_name(name, name_len));
	RS_TRY(txn_apply(txn, OP_DELETE, name, name_len, 0, NULL, 0, &a));
	if (existed_out)
		*existed_out = a.existed;
	return 0;
}

/* ---- listing ---- */

struct list_ctx {
	rs_statecell_entry_cb cb;
	void *ctx;
};

static int list_entry(rs_bytes key, rs_bytes val, void *arg)
{
	struct list_ctx *lc = arg;
	rs_bytes name, value;

	if (val.len < 8)
		return RS_ECORRUPT;
	name.data = (const unsigned char *)key.data + 1;
	name.len = key.len - 1;
	value.data = (const unsigned char *)val.data + 8;
	value.len = val.len - 8;
	return lc->cb(name, value, rs__get_u64(val.data), lc->ctx);
}

static int check_list(const char *prefix, size_t plen, const char *after,
		      size_t alen, rs_statecell_entry_cb cb)
{
	RS_CHECK_ARG(prefix || plen == 0);
	RS_CHECK_ARG(!after || alen > 0);
	RS_CHECK_ARG(after || alen == 0);
	RS_CHECK_ARG(cb);
	return plen > RS_NAME_MAX || alen > RS_NAME_MAX ? RS_ETOOBIG : 0;
}

/* A read in a one-shot snapshot of the run. */
typedef int (*view_fn)(rs_txn *txn, void *req);

static int in_snapshot(rs_db *db, const rs_run_id *run, view_fn fn, void *req)
{
	rs_txn *txn;
	int rc;

	RS_TRY(rs__txn_begin(&txn, db, run, RS_TXN_F_READONLY));
	rc = fn(txn, req);
	rs__txn_abort(txn);
	return rc;
}

struct list_req {
	const char *prefix;
	size_t plen;
	const char *after;
	size_t alen;
	size_t limit;
	bool *more_out;
	struct list_ctx lc;
};

/* After check_list(). */
static int do_list(rs_txn *txn, void *arg)
{
	struct list_req *q = arg;
	unsigned char pkey[CELL_KEY_MAX], akey[CELL_KEY_MAX];

	pkey[0] = akey[0] = K_CELL;
	if (q->plen)
		memcpy(pkey + 1, q->prefix, q->plen);
	if (q->alen)
		memcpy(akey + 1, q->after, q->alen);
	return rs__txn_list(txn, TAG, pkey, 1 + q->plen, q->after ? akey : NULL,
			    q->after ? 1 + q->alen : 0, q->limit, q->more_out,
			    list_entry, &q->lc);
}

int rs_statecell_list(rs_db *db, const rs_run_id *run, const char *prefix,
		      size_t prefix_len, const char *after, size_t after_len,
		      size_t limit, bool *more_out, rs_statecell_entry_cb cb,
		      void *ctx)
{
	struct list_req q = { prefix, prefix_len, after,      after_len,
			      limit,  more_out,	  { cb, ctx } };

	RS_TRY(rs__prim_check_db_run(db, run));
	RS_TRY(check_list(prefix, prefix_len, after, after_len, cb));
	return in_snapshot(db, run, do_list, &q);
}

int rs_txn_statecell_list(rs_txn *txn, const char *prefix, size_t prefix_len,
			  const char *after, size_t after_len, size_t limit,
			  bool *more_out, rs_statecell_entry_cb cb, void *ctx)
{
	struct list_req q = { prefix, prefix_len, after,      after_len,
			      limit,  more_out,	  { cb, ctx } };

	RS_TRY(rs__txn_check(txn));
	RS_TRY(check_list(prefix, prefix_len, after, after_len, cb));
	return do_list(txn, &q);
}

/* ---- range scans: rs_kv_scan() over the 0x01 name keys ---- */

struct scan_req {
	unsigned char lo_key[CELL_KEY_MAX], hi_key[CELL_KEY_MAX];
	unsigned char resume[CELL_KEY_MAX];
	rs__bound lo, hi;
	size_t rlen; /* 0: no resume position */
	bool reverse;
	size_t limit;
	bool *more_out;
	struct list_ctx lc;
};

/* A name of the options: NULL (absent) or up to RS_NAME_MAX bytes. The
 * key K_CELL + name goes into key, its length into *klen (0: absent). */
static int scan_name(unsigned char *key, const void *name, size_t len,
		     size_t *klen)
{
	RS_CHECK_ARG(name || len == 0);
	if (len > RS_NAME_MAX)
		return RS_ETOOBIG;
	*klen = 0;
	if (!name)
		return 0;
	key[0] = K_CELL;
	if (len)
		memcpy(key + 1, name, len);
	*klen = 1 + len;
	return 0;
}

/*
 * The range [K_CELL + start, K_CELL + end), or without a start from the
 * kind byte K_CELL alone (before every name: names are not empty), and
 * without an end to K_FLOOR (after every name).
 */
static int scan_prepare(struct scan_req *q, const rs_scan_options *o,
			bool *more_out, rs_statecell_entry_cb cb, void *ctx)
{
	size_t lo_len, hi_len;

	RS_TRY(rs__prim_check_scan(&o));
	RS_CHECK_ARG(cb);
	RS_TRY(scan_name(q->lo_key, o->start, o->start_len, &lo_len));
	RS_TRY(scan_name(q->hi_key, o->end, o->end_len, &hi_len));
	RS_TRY(scan_name(q->resume, o->resume, o->resume_len, &q->rlen));
	if (!lo_len) {
		q->lo_key[0] = K_CELL;
		lo_len = 1;
	}
	if (!hi_len) {
		q->hi_key[0] = K_FLOOR;
		hi_len = 1;
	}
	q->lo = (rs__bound){ q->lo_key, (uint32_t)lo_len, true, false };
	q->hi = (rs__bound){ q->hi_key, (uint32_t)hi_len, false, false };
	q->reverse = (o->flags & RS_SCAN_REVERSE) != 0;
	q->limit = o->limit;
	q->more_out = more_out;
	q->lc = (struct list_ctx){ cb, ctx };
	return 0;
}

static int do_scan(rs_txn *txn, void *arg)
{
	struct scan_req *q = arg;

	return rs__txn_scan(txn, TAG, &q->lo, &q->hi,
			    q->rlen ? q->resume : NULL, q->rlen, q->reverse,
			    q->limit, q->more_out, list_entry, &q->lc);
}

int rs_statecell_scan(rs_db *db, const rs_run_id *run,
		      const rs_scan_options *opts, bool *more_out,
		      rs_statecell_entry_cb cb, void *ctx)
{
	struct scan_req q;

	RS_TRY(rs__prim_check_db_run(db, run));
	RS_TRY(scan_prepare(&q, opts, more_out, cb, ctx));
	return in_snapshot(db, run, do_scan, &q);
}

int rs_txn_statecell_scan(rs_txn *txn, const rs_scan_options *opts,
			  bool *more_out, rs_statecell_entry_cb cb, void *ctx)
{
	struct scan_req q;

	RS_TRY(rs__txn_check(txn));
	RS_TRY(scan_prepare(&q, opts, more_out, cb, ctx));
	return do_scan(txn, &q);
}
