/* SPDX-License-Identifier: MIT */
/*
 * Public entry points: version, run ids, database open/close and
 * transactions. Argument checks live here; the work is in txn/.
 */
#include <string.h>

#include "durability/durability.h"
#include "primitives/prim.h"
#include "storage/store.h"
#include "txn/txn.h"
#include "util/error.h"
#include "util/random.h"
#include "util/rcu.h"

unsigned rs_version(void)
{
	return RS_VERSION_NUMBER;
}

const char *rs_version_string(void)
{
	return RS_VERSION_STRING;
}

/* ---- run ids ---- */

int rs_run_id_generate(rs_run_id *out)
{
	rs_run_id id;

	RS_CHECK_ARG(out);
	RS_TRY(rs__random_bytes(id.bytes, sizeof(id.bytes)));
	id.bytes[6] = (uint8_t)((id.bytes[6] & 0x0f) | 0x40); /* version 4 */
	id.bytes[8] = (uint8_t)((id.bytes[8] & 0x3f) | 0x80); /* RFC 4122 */
	*out = id;
	return 0;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool is_hyphen_pos(size_t i)
{
	return i == 8 || i == 13 || i == 18 || i == 23;
}

int rs_run_id_parse(rs_run_id *out, const char *str, size_t len)
{
	rs_run_id id;
	size_t b = 0;

	RS_CHECK_ARG(out && str);
	RS_CHECK_ARG(len == RS_RUN_ID_STRLEN);
	for (size_t i = 0; i < len;) {
		int hi, lo;

		if (is_hyphen_pos(i)) {
			RS_CHECK_ARG(str[i] == '-');
			i++;
			continue;
		}
		hi = hex_value(str[i]);
		lo = hex_value(str[i + 1]);
		RS_CHECK_ARG(hi >= 0 && lo >= 0 && !is_hyphen_pos(i + 1));
		id.bytes[b++] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	*out = id;
	return 0;
}

int rs_run_id_format(const rs_run_id *id, char *buf, size_t cap)
{
	static const char digits[] = "0123456789abcdef";
	size_t o = 0;

	RS_CHECK_ARG(id && buf);
	if (cap < RS_RUN_ID_STRLEN + 1)
		return RS_ENOSPC;
	for (size_t b = 0; b < 16; b++) {
		if (b == 4 || b == 6 || b == 8 || b == 10)
			buf[o++] = '-';
		buf[o++] = digits[id->bytes[b] >> 4];
		buf[o++] = digits[id->bytes[b] & 15];
	}
	buf[o] = '\0';
	return 0;
}

bool rs_run_id_is_nil(const rs_run_id *id)
{
	static const rs_run_id nil;

	return !id || memcmp(id->bytes, nil.bytes, sizeof(nil.bytes)) == 0;
}

/* ---- database ---- */

static int check_options(const rs_db_options *o)
{
	if (o->version != RS_DB_OPTIONS_VERSION)
		return RS_EVERSION;
	RS_CHECK_ARG(o->flags == 0);
	RS_CHECK_ARG(o->storage == RS_STORAGE_SHARDED ||
		     o->storage == RS_STORAGE_UNIFIED);
	switch (o->durability) {
	case RS_DURABILITY_INMEMORY:
		RS_CHECK_ARG(o->path == NULL);
		return 0;
	case RS_DURABILITY_BUFFERED:
	case RS_DURABILITY_STRICT:
		RS_CHECK_ARG(o->path != NULL && o->path[0] != '\0');
		/* The write-ahead log is not part of this build yet. */
		return RS_ENOTSUP;
	default:
		return RS_EINVAL;
	}
}

int rs_db_open(rs_db **out, const rs_db_options *opts)
{
	static const rs_db_options defaults = RS_DB_OPTIONS_INIT;
	rs__alloc alloc;
	uint64_t seed;
	rs_db *db;
	int rc;

	RS_CHECK_ARG(out);
	if (!opts)
		opts = &defaults;
	RS_TRY(check_options(opts));
	RS_TRY(rs__alloc_init(&alloc, &opts->allocator));
	RS_TRY(rs__prim_global_init());
	seed = opts->hash_seed;
	while (seed == 0)
		RS_TRY(rs__random_bytes(&seed, sizeof(seed)));

	rs__rcu_thread_ensure();
	db = rs__calloc(&alloc, 1, sizeof(*db));
	if (!db)
		return RS_ENOMEM;
	db->alloc = alloc;
	db->mode = opts->durability;
	rc = opts->storage == RS_STORAGE_UNIFIED
		     ? rs__store_unified_new(&db->store, &db->alloc, seed)
		     : rs__store_sharded_new(&db->store, &db->alloc, seed);
	if (rc < 0)
		goto fail_store;
	if ((rc = rs__durability_mem_open(&db->dur, &db->alloc)) < 0)
		goto fail_dur;
	if ((rc = rs__db_init(db)) < 0)
		goto fail_init;
	/* After recovery: rebuilds state derived from the data. */
	if ((rc = rs__runindex_open(db)) < 0) {
		rs_db_close(db);
		return rc;
	}
	*out = db;
	return 0;
fail_init:
	if (db->dur.ops->close)
		db->dur.ops->close(db->dur.state);
fail_dur:
	db->store->ops->destroy(db->store);
fail_store:
	rs__free(&alloc, db);
	return rc;
}

void rs_db_close(rs_db *db)
{
	rs__alloc alloc;

	if (!db)
		return;
	rs__rcu_thread_ensure();
	if (db->dur.ops->close)
		db->dur.ops->close(db->dur.state);
	/* liburcu's own deferred work (the run map) must finish first. */
	rs__rcu_barrier();
	rs__db_fini(db);
	db->store->ops->destroy(db->store);
	rs__rcu_barrier();
	alloc = db->alloc;
	rs__free(&alloc, db);
}

int rs_db_run_version(rs_db *db, const rs_run_id *run, uint64_t *version_out)
{
	rs__run *r;
	int rc;

	RS_CHECK_ARG(db && run && version_out);
	RS_CHECK_ARG(!rs_run_id_is_nil(run));
	rs__rcu_thread_ensure();
	rc = db->store->ops->run_find(db->store, run, false, &r);
	if (rc == RS_ENOTFOUND) {
		*version_out = 0;
		return 0;
	}
	RS_TRY(rc);
	*version_out = db->store->ops->visible(r);
	return 0;
}

/* ---- transactions ---- */

int rs_txn_begin(rs_txn **out, rs_db *db, const rs_run_id *run, uint32_t flags)
{
	RS_CHECK_ARG(out && db && run);
	RS_CHECK_ARG(!rs_run_id_is_nil(run));
	RS_CHECK_ARG((flags & ~RS_TXN_F_READONLY) == 0);
	return rs__txn_begin(out, db, run, flags);
}

int rs_txn_commit(rs_txn *txn)
{
	RS_CHECK_ARG(txn);
	if (txn->state != RS__TXN_ACTIVE)
		return RS_EDONE;
	return rs__txn_commit(txn);
}

void rs_txn_abort(rs_txn *txn)
{
	if (txn && txn->state == RS__TXN_ACTIVE)
		rs__txn_abort(txn);
}

int rs_txn_snapshot_version(const rs_txn *txn, uint64_t *version_out)
{
	RS_CHECK_ARG(txn && version_out);
	if (txn->state != RS__TXN_ACTIVE)
		return RS_EDONE;
	*version_out = txn->snap.ver;
	return 0;
}

int rs_txn_run(rs_db *db, const rs_run_id *run, uint32_t flags,
	       unsigned max_attempts, rs_txn_fn fn, void *ctx)
{
	RS_CHECK_ARG(db && run && fn);
	RS_CHECK_ARG(!rs_run_id_is_nil(run));
	RS_CHECK_ARG((flags & ~RS_TXN_F_READONLY) == 0);
	return rs__txn_run(db, run, flags, max_attempts, fn, ctx);
}
