/* SPDX-License-Identifier: MIT */
/*
 * KV: the public key-value operations, one-shot and transactional. A
 * stateless facade over the txn layer: argument checks, then one call.
 */
#include <string.h>

#include "primitives/prim.h"
#include "txn/txn.h"
#include "util/error.h"

#define TAG RS__TAG_KV

static int check_db_key(const rs_db *db, const rs_run_id *run, const void *key,
			size_t klen)
{
	RS_TRY(rs__prim_check_db_run(db, run));
	return rs__prim_check_key(key, klen);
}

static int check_txn_key(const rs_txn *txn, const void *key, size_t klen)
{
	RS_TRY(rs__txn_check(txn));
	return rs__prim_check_key(key, klen);
}

/* A NULL prefix of length 0 means "every key". */
static int check_prefix(const void **prefix, size_t plen, const void *after,
			size_t alen)
{
	RS_CHECK_ARG(*prefix || plen == 0);
	if (plen > RS_KEY_MAX || alen > RS_KEY_MAX)
		return RS_ETOOBIG;
	RS_CHECK_ARG(after || alen == 0);
	RS_CHECK_ARG(!after || alen > 0);
	if (!*prefix)
		*prefix = "";
	return 0;
}

/* ---- one-shot ---- */

struct kv_put {
	const void *key, *val;
	size_t klen, vlen;
};

/* The caller's key and value live until the one-shot commit returns. */
static int stage_put(rs_txn *txn, const void *arg)
{
	const struct kv_put *p = arg;

	return rs__txn_write_view(txn, TAG, p->key, p->klen, p->val, p->vlen,
				  0);
}

int rs_kv_put(rs_db *db, const rs_run_id *run, const void *key, size_t klen,
	      const void *val, size_t vlen)
{
	struct kv_put p = { key, val, klen, vlen };

	RS_TRY(check_db_key(db, run, key, klen));
	RS_TRY(rs__prim_check_bytes(val, vlen));
	return rs__txn_oneshot(db, run, stage_put, &p);
}

int rs_kv_get(rs_db *db, const rs_run_id *run, const void *key, size_t klen,
	      void *buf, size_t cap, size_t *len_out)
{
	rs__copy_out co = { NULL, 0, buf, cap, 0 };
	int rc;

	RS_TRY(check_db_key(db, run, key, klen));
	RS_CHECK_ARG(buf || cap == 0);
	rc = rs__txn_read_latest(db, run, TAG, key, klen, &co);
	if (len_out && (rc == 0 || rc == RS_ENOSPC))
		*len_out = co.len;
	return rc;
}

int rs_kv_exists(rs_db *db, const rs_run_id *run, const void *key, size_t klen,
		 bool *exists_out)
{
	int rc;

	RS_TRY(check_db_key(db, run, key, klen));
	RS_CHECK_ARG(exists_out);
	rc = rs__txn_read_latest(db, run, TAG, key, klen, NULL);
	if (rc < 0 && rc != RS_ENOTFOUND)
		return rc;
	*exists_out = rc == 0;
	return 0;
}

/* A one-shot delete, decided under the run's commit lock: a delete of an
 * absent key writes nothing (no version, no log record). */
typedef struct kv_delete {
	const void *key;
	size_t klen;
	bool existed;
	bool *existed_out;
} kv_delete;

static int delete_run(rs__cc *cc, void *arg)
{
	kv_delete *d = arg;
	rs_bytes v;
	int rc = rs__cc_read(cc, TAG, d->key, d->klen, &v);

	if (rc == RS_ENOTFOUND)
		return 0;
	RS_TRY(rc);
	d->existed = true;
	return rs__cc_write(cc, TAG, d->key, d->klen, NULL, 0, RS__OP_F_DELETE);
}

static void delete_done(const void *arg, int rc)
{
	const kv_delete *d = arg;

	if (rc == 0 && d->existed_out)
		*d->existed_out = d->existed;
}

static const rs__step_type delete_step = { delete_run, delete_done };

static int stage_delete(rs_txn *txn, const void *arg)
{
	const kv_delete *req = arg;
	kv_delete *d;

	RS_TRY(rs__txn_defer(txn, &delete_step, sizeof(*d), (void **)&d));
	*d = *req;
	return 0;
}

int rs_kv_delete(rs_db *db, const rs_run_id *run, const void *key, size_t klen,
		 bool *existed_out)
{
	kv_delete d = { key, klen, false, existed_out };

	RS_TRY(check_db_key(db, run, key, klen));
	return rs__txn_oneshot(db, run, stage_delete, &d);
}

static int check_keys(size_t n, const rs_bytes *keys)
{
	RS_CHECK_ARG(keys || n == 0);
	for (size_t i = 0; i < n; i++)
		RS_TRY(rs__prim_check_key(keys[i].data, keys[i].len));
	return 0;
}

int rs_kv_get_many(rs_db *db, const rs_run_id *run, size_t n,
		   const rs_bytes *keys, rs_bytes *vals_out, void *buf,
		   size_t cap, size_t *needed_out)
{
	unsigned char *dst = buf;
	size_t need = 0;
	rs_txn *txn;
	int rc;

	RS_TRY(rs__prim_check_db_run(db, run));
	RS_TRY(check_keys(n, keys));
	RS_CHECK_ARG(vals_out || n == 0);
	RS_CHECK_ARG(buf || cap == 0);
	RS_TRY(rs__txn_begin(&txn, db, run, RS_TXN_F_READONLY));
	for (size_t i = 0; i < n; i++) {
		rs_bytes v;

		rc = rs__txn_read(txn, TAG, keys[i].data, keys[i].len, &v);
		if (rc == RS_ENOTFOUND) {
			vals_out[i].data = NULL;
			vals_out[i].len = 0;
			continue;
		}
		if (rc < 0)
			goto out;
		if (v.len == 0) {
			/* Present but empty: a non-NULL pointer all the same. */
			vals_out[i].data = "";
		} else if (need + v.len <= cap) {
			memcpy(dst + need, v.data, v.len);
			vals_out[i].data = dst + need;
		} else {
			/* Keep counting so the caller learns the size. */
			vals_out[i].data = NULL;
		}
		vals_out[i].len = v.len;
		need += v.len;
	}
	rc = need > cap ? RS_ENOSPC : 0;
out:
	rs__txn_abort(txn);
	if (needed_out && (rc == 0 || rc == RS_ENOSPC))
		*needed_out = need;
	return rc;
}

int rs_kv_list(rs_db *db, const rs_run_id *run, const void *prefix,
	       size_t prefix_len, const void *after, size_t after_len,
	       size_t limit, bool *more_out, rs_kv_entry_cb cb, void *ctx)
{
	rs_txn *txn;
	int rc;

	RS_TRY(rs__prim_check_db_run(db, run));
	RS_TRY(check_prefix(&prefix, prefix_len, after, after_len));
	RS_CHECK_ARG(cb);
	RS_TRY(rs__txn_begin(&txn, db, run, RS_TXN_F_READONLY));
	rc = rs__txn_list(txn, TAG, prefix, prefix_len, after, after_len, limit,
			  more_out, cb, ctx);
	rs__txn_abort(txn);
	return rc;
}

/* ---- in a transaction ---- */

int rs_txn_kv_put(rs_txn *txn, const void *key, size_t klen, const void *val,
		  size_t vlen)
{
	RS_TRY(check_txn_key(txn, key, klen));
	RS_TRY(rs__prim_check_bytes(val, vlen));
	return rs__txn_write(txn, TAG, key, klen, val, vlen, 0);
}

int rs_txn_kv_get(rs_txn *txn, const void *key, size_t klen, rs_bytes *val_out)
{
	RS_TRY(check_txn_key(txn, key, klen));
	RS_CHECK_ARG(val_out);
	return rs__txn_read(txn, TAG, key, klen, val_out);
}

int rs_txn_kv_exists(rs_txn *txn, const void *key, size_t klen,
		     bool *exists_out)
{
	rs_bytes v;
	int rc;

	RS_TRY(check_txn_key(txn, key, klen));
	RS_CHECK_ARG(exists_out);
	rc = rs__txn_read(txn, TAG, key, klen, &v);
	if (rc < 0 && rc != RS_ENOTFOUND)
		return rc;
	*exists_out = rc == 0;
	return 0;
}

int rs_txn_kv_delete(rs_txn *txn, const void *key, size_t klen,
		     bool *existed_out)
{
	rs_bytes v;
	int rc;

	RS_TRY(check_txn_key(txn, key, klen));
	if (rs__txn_readonly(txn))
		return RS_EREADONLY;
	rc = rs__txn_read(txn, TAG, key, klen, &v);
	if (rc < 0 && rc != RS_ENOTFOUND)
		return rc;
	RS_TRY(rs__txn_write(txn, TAG, key, klen, NULL, 0, RS__OP_F_DELETE));
	if (existed_out)
		*existed_out = rc == 0;
	return 0;
}

int rs_txn_kv_get_many(rs_txn *txn, size_t n, const rs_bytes *keys,
		       rs_bytes *vals_out)
{
	RS_TRY(rs__txn_check(txn));
	RS_TRY(check_keys(n, keys));
	RS_CHECK_ARG(vals_out || n == 0);
	for (size_t i = 0; i < n; i++) {
		int rc = rs__txn_read(txn, TAG, keys[i].data, keys[i].len,
				      &vals_out[i]);
		if (rc == RS_ENOTFOUND) {
			vals_out[i].data = NULL;
			vals_out[i].len = 0;
		} else if (rc < 0) {
			return rc;
		}
	}
	return 0;
}

int rs_txn_kv_list(rs_txn *txn, const void *prefix, size_t prefix_len,
		   const void *after, size_t after_len, size_t limit,
		   bool *more_out, rs_kv_entry_cb cb, void *ctx)
{
	RS_TRY(rs__txn_check(txn));
	RS_TRY(check_prefix(&prefix, prefix_len, after, after_len));
	RS_CHECK_ARG(cb);
	return rs__txn_list(txn, TAG, prefix, prefix_len, after, after_len,
			    limit, more_out, cb, ctx);
}

/* ---- ordered access ---- */

static int check_bytes_arg(const void *p, size_t len)
{
	RS_CHECK_ARG(p || len == 0);
	return len > RS_KEY_MAX ? RS_ETOOBIG : 0;
}

static int check_scan(const rs_scan_options **op, rs__bound *lo, rs__bound *hi)
{
	static const rs__bound whole = { NULL, 0, false, true };
	const rs_scan_options *o;

	*lo = *hi = whole;
	RS_TRY(rs__prim_check_scan(op));
	o = *op;
	RS_TRY(check_bytes_arg(o->start, o->start_len));
	RS_TRY(check_bytes_arg(o->end, o->end_len));
	RS_TRY(check_bytes_arg(o->resume, o->resume_len));
	if (o->start)
		*lo = (rs__bound){ o->start, (uint32_t)o->start_len, true,
				   false };
	if (o->end)
		*hi = (rs__bound){ o->end, (uint32_t)o->end_len, false, false };
	return 0;
}

static int scan(rs_txn *txn, const rs_scan_options *o, const rs__bound *lo,
		const rs__bound *hi, bool *more_out, rs_kv_entry_cb cb,
		void *ctx)
{
	return rs__txn_scan(txn, TAG, lo, hi, o->resume, o->resume_len,
			    (o->flags & RS_SCAN_REVERSE) != 0, o->limit,
			    more_out, cb, ctx);
}

int rs_kv_scan(rs_db *db, const rs_run_id *run, const rs_scan_options *opts,
	       bool *more_out, rs_kv_entry_cb cb, void *ctx)
{
	rs__bound lo, hi;
	rs_txn *txn;
	int rc;

	RS_TRY(rs__prim_check_db_run(db, run));
	RS_TRY(check_scan(&opts, &lo, &hi));
	RS_CHECK_ARG(cb);
	RS_TRY(rs__txn_begin(&txn, db, run, RS_TXN_F_READONLY));
	rc = scan(txn, opts, &lo, &hi, more_out, cb, ctx);
	rs__txn_abort(txn);
	return rc;
}

int rs_txn_kv_scan(rs_txn *txn, const rs_scan_options *opts, bool *more_out,
		   rs_kv_entry_cb cb, void *ctx)
{
	rs__bound lo, hi;

	RS_TRY(rs__txn_check(txn));
	RS_TRY(check_scan(&opts, &lo, &hi));
	RS_CHECK_ARG(cb);
	return scan(txn, opts, &lo, &hi, more_out, cb, ctx);
}

/*
 * A cursor is a txn-layer cursor (txn/cursor.c) in its transaction's
 * arena; a one-shot cursor owns a read-only transaction, ended at close.
 */
struct rs_cursor {
	rs__tcur tc;
	rs_txn *own;
	bool closed;
};

static int cursor_new(rs_txn *txn, rs_txn *own, rs_cursor **out)
{
	rs_cursor *c = rs__txn_alloc(txn, sizeof(*c));

	if (!c)
		return RS_ENOMEM;
	rs__tcur_init(&c->tc, txn, TAG);
	c->own = own;
	c->closed = false;
	*out = c;
	return 0;
}

int rs_kv_cursor_open(rs_db *db, const rs_run_id *run, rs_cursor **out)
{
	rs_txn *txn;
	int rc;

	RS_TRY(rs__prim_check_db_run(db, run));
	RS_CHECK_ARG(out);
	RS_TRY(rs__txn_begin(&txn, db, run, RS_TXN_F_READONLY));
	if ((rc = cursor_new(txn, txn, out)) < 0)
		rs__txn_abort(txn);
	return rc;
}

int rs_txn_kv_cursor_open(rs_txn *txn, rs_cursor **out)
{
	RS_TRY(rs__txn_check(txn));
	RS_CHECK_ARG(out);
	return cursor_new(txn, NULL, out);
}

void rs_cursor_close(rs_cursor *cur)
{
	if (!cur || cur->closed)
		return;
	cur->closed = true;
	if (cur->own)
		rs__txn_abort(cur->own); /* frees the cursor with the arena */
}

static int check_cursor(const rs_cursor *cur)
{
	RS_CHECK_ARG(cur && !cur->closed);
	return rs__txn_check(cur->tc.txn);
}

/* The cursor's entry into the caller's views, or its error. */
static int cursor_out(const rs_cursor *cur, int rc, rs_bytes *key_out,
		      rs_bytes *val_out)
{
	if (rc < 0)
		return rc;
	if (key_out)
		*key_out = cur->tc.key;
	if (val_out)
		*val_out = cur->tc.val;
	return 0;
}

int rs_cursor_seek(rs_cursor *cur, const void *key, size_t klen, rs_seek how,
		   rs_bytes *key_out, rs_bytes *val_out)
{
	RS_TRY(check_cursor(cur));
	RS_TRY(check_bytes_arg(key, klen));
	RS_CHECK_ARG(how == RS_SEEK_GE || how == RS_SEEK_LE);
	RS_TRY(rs__tcur_bound(&cur->tc, NULL, NULL));
	return cursor_out(
		cur,
		rs__tcur_seek(&cur->tc, klen ? key : "", klen,
			      how == RS_SEEK_GE ? RS__SEEK_GE : RS__SEEK_LE),
		key_out, val_out);
}

static int cursor_end(rs_cursor *cur, const void *prefix, size_t plen, int mode,
		      rs_bytes *key_out, rs_bytes *val_out)
{
	RS_TRY(check_cursor(cur));
	RS_TRY(check_bytes_arg(prefix, plen));
	RS_TRY(rs__tcur_prefix(&cur->tc, prefix, plen));
	return cursor_out(cur, rs__tcur_seek(&cur->tc, NULL, 0, mode), key_out,
			  val_out);
}

int rs_cursor_first(rs_cursor *cur, const void *prefix, size_t prefix_len,
		    rs_bytes *key_out, rs_bytes *val_out)
{
	return cursor_end(cur, prefix, prefix_len, RS__SEEK_GE, key_out,
			  val_out);
}

int rs_cursor_last(rs_cursor *cur, const void *prefix, size_t prefix_len,
		   rs_bytes *key_out, rs_bytes *val_out)
{
	return cursor_end(cur, prefix, prefix_len, RS__SEEK_LE, key_out,
			  val_out);
}

int rs_cursor_next(rs_cursor *cur, rs_bytes *key_out, rs_bytes *val_out)
{
	RS_TRY(check_cursor(cur));
	return cursor_out(cur, rs__tcur_next(&cur->tc, 1), key_out, val_out);
}

int rs_cursor_prev(rs_cursor *cur, rs_bytes *key_out, rs_bytes *val_out)
{
	RS_TRY(check_cursor(cur));
	return cursor_out(cur, rs__tcur_next(&cur->tc, -1), key_out, val_out);
}
