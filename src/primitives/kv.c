/* SPDX-License-Identifier: MIT */
/*
 * KV: the public key-value operations, one-shot and transactional. A
 * stateless facade over the txn layer: argument checks, then one call.
 */
#include <string.h>

#include "storage/store.h"
#include "txn/txn.h"
#include "util/error.h"
#include "util/rcu.h"

static int check_db_run(const rs_db *db, const rs_run_id *run)
{
	RS_CHECK_ARG(db && run);
	RS_CHECK_ARG(!rs_run_id_is_nil(run));
	return 0;
}

static int check_txn(const rs_txn *txn)
{
	RS_CHECK_ARG(txn);
	return txn->state == RS__TXN_ACTIVE ? 0 : RS_EDONE;
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

int rs_kv_put(rs_db *db, const rs_run_id *run, const void *key, size_t klen,
	      const void *val, size_t vlen)
{
	rs__op op = { 0 };

	RS_TRY(check_db_run(db, run));
	RS_TRY(rs__check_key(key, klen));
	RS_TRY(rs__check_value(val, vlen));
	op.key = key;
	op.klen = (uint32_t)klen;
	op.val = vlen ? val : "";
	op.vlen = (uint32_t)vlen;
	op.tag = RS__TAG_KV;
	return rs__db_commit_ops(db, run, &op, 1, NULL, NULL);
}

struct copy_out {
	void *buf;
	size_t cap;
	size_t len;
};

static int sink_copy(const void *val, size_t len, void *arg)
{
	struct copy_out *co = arg;

	co->len = len;
	if (len > co->cap)
		return RS_ENOSPC;
	if (len)
		memcpy(co->buf, val, len);
	return 0;
}

int rs_kv_get(rs_db *db, const rs_run_id *run, const void *key, size_t klen,
	      void *buf, size_t cap, size_t *len_out)
{
	struct copy_out co = { buf, cap, 0 };
	rs__store *st;
	int rc;

	RS_TRY(check_db_run(db, run));
	RS_TRY(rs__check_key(key, klen));
	RS_CHECK_ARG(buf || cap == 0);
	rs__rcu_thread_ensure();
	st = db->store;
	rc = st->ops->read_latest(st, run, RS__TAG_KV, key, klen, sink_copy,
				  &co);
	if (len_out && (rc == 0 || rc == RS_ENOSPC))
		*len_out = co.len;
	return rc;
}

static int sink_none(const void *val, size_t len, void *arg)
{
	(void)val;
	(void)len;
	(void)arg;
	return 0;
}

int rs_kv_exists(rs_db *db, const rs_run_id *run, const void *key, size_t klen,
		 bool *exists_out)
{
	rs__store *st;
	int rc;

	RS_TRY(check_db_run(db, run));
	RS_TRY(rs__check_key(key, klen));
	RS_CHECK_ARG(exists_out);
	rs__rcu_thread_ensure();
	st = db->store;
	rc = st->ops->read_latest(st, run, RS__TAG_KV, key, klen, sink_none,
				  NULL);
	if (rc < 0 && rc != RS_ENOTFOUND)
		return rc;
	*exists_out = rc == 0;
	return 0;
}

/* Under the run's commit lock: a delete of an absent key writes nothing. */
static int delete_locked(rs_db *db, rs__run *run, rs__op *ops, size_t *nops,
			 void *ctx)
{
	rs__store *st = db->store;
	bool present = false;

	st->ops->newest(st, run, ops[0].tag, ops[0].key, ops[0].klen,
			ops[0].hash, &present);
	*(bool *)ctx = present;
	if (!present)
		*nops = 0;
	return 0;
}

int rs_kv_delete(rs_db *db, const rs_run_id *run, const void *key, size_t klen,
		 bool *existed_out)
{
	rs__op op = { 0 };
	bool existed = false;
	int rc;

	RS_TRY(check_db_run(db, run));
	RS_TRY(rs__check_key(key, klen));
	op.key = key;
	op.klen = (uint32_t)klen;
	op.val = "";
	op.tag = RS__TAG_KV;
	op.flags = RS__OP_F_DELETE;
	rc = rs__db_commit_ops(db, run, &op, 1, delete_locked, &existed);
	if (rc == 0 && existed_out)
		*existed_out = existed;
	return rc;
}

static int check_keys(size_t n, const rs_bytes *keys)
{
	RS_CHECK_ARG(keys || n == 0);
	for (size_t i = 0; i < n; i++)
		RS_TRY(rs__check_key(keys[i].data, keys[i].len));
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

	RS_TRY(check_db_run(db, run));
	RS_TRY(check_keys(n, keys));
	RS_CHECK_ARG(vals_out || n == 0);
	RS_CHECK_ARG(buf || cap == 0);
	RS_TRY(rs__txn_begin(&txn, db, run, RS_TXN_F_READONLY));
	for (size_t i = 0; i < n; i++) {
		rs_bytes v;

		rc = rs__txn_read(txn, RS__TAG_KV, keys[i].data, keys[i].len,
				  &v);
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

	RS_TRY(check_db_run(db, run));
	RS_TRY(check_prefix(&prefix, prefix_len, after, after_len));
	RS_CHECK_ARG(cb);
	RS_TRY(rs__txn_begin(&txn, db, run, RS_TXN_F_READONLY));
	rc = rs__txn_list(txn, RS__TAG_KV, prefix, prefix_len, after, after_len,
			  limit, more_out, cb, ctx);
	rs__txn_abort(txn);
	return rc;
}

/* ---- in a transaction ---- */

int rs_txn_kv_put(rs_txn *txn, const void *key, size_t klen, const void *val,
		  size_t vlen)
{
	RS_TRY(check_txn(txn));
	RS_TRY(rs__check_key(key, klen));
	RS_TRY(rs__check_value(val, vlen));
	return rs__txn_write(txn, RS__TAG_KV, key, klen, val, vlen, 0);
}

int rs_txn_kv_get(rs_txn *txn, const void *key, size_t klen, rs_bytes *val_out)
{
	RS_TRY(check_txn(txn));
	RS_TRY(rs__check_key(key, klen));
	RS_CHECK_ARG(val_out);
	return rs__txn_read(txn, RS__TAG_KV, key, klen, val_out);
}

int rs_txn_kv_exists(rs_txn *txn, const void *key, size_t klen,
		     bool *exists_out)
{
	rs_bytes v;
	int rc;

	RS_TRY(check_txn(txn));
	RS_TRY(rs__check_key(key, klen));
	RS_CHECK_ARG(exists_out);
	rc = rs__txn_read(txn, RS__TAG_KV, key, klen, &v);
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

	RS_TRY(check_txn(txn));
	RS_TRY(rs__check_key(key, klen));
	if (txn->flags & RS_TXN_F_READONLY)
		return RS_EREADONLY;
	rc = rs__txn_read(txn, RS__TAG_KV, key, klen, &v);
	if (rc < 0 && rc != RS_ENOTFOUND)
		return rc;
	RS_TRY(rs__txn_write(txn, RS__TAG_KV, key, klen, NULL, 0,
			     RS__OP_F_DELETE));
	if (existed_out)
		*existed_out = rc == 0;
	return 0;
}

int rs_txn_kv_get_many(rs_txn *txn, size_t n, const rs_bytes *keys,
		       rs_bytes *vals_out)
{
	RS_TRY(check_txn(txn));
	RS_TRY(check_keys(n, keys));
	RS_CHECK_ARG(vals_out || n == 0);
	for (size_t i = 0; i < n; i++) {
		int rc = rs__txn_read(txn, RS__TAG_KV, keys[i].data,
				      keys[i].len, &vals_out[i]);
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
	RS_TRY(check_txn(txn));
	RS_TRY(check_prefix(&prefix, prefix_len, after, after_len));
	RS_CHECK_ARG(cb);
	return rs__txn_list(txn, RS__TAG_KV, prefix, prefix_len, after,
			    after_len, limit, more_out, cb, ctx);
}
