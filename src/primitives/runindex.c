/* SPDX-License-Identifier: MIT */
/*
 * RunIndex: the global registry of runs, their metadata and lifecycle. A
 * stateless facade over the txn layer. It lives in the shard of the nil
 * RunId (which data operations reject), under tag RS__TAG_RUNINDEX.
 *
 * Keys (all integers big-endian; ord is a run's registration ordinal):
 *   0x00                      u64: the next registration ordinal
 *   0x01 id(16)               the run: u8 status, u8 has_parent,
 *                             parent(16), u64 created, u64 updated,
 *                             u64 ord, u32 name length, name, u32 tag
 *                             count, tags (u32 length + bytes), metadata
 *   0x02 name                 the id(16) of the run with that name
 *   0x03 ord                  id: every registered run
 *   0x04 u32-len tag ord      id: the runs with a tag
 *   0x05 parent(16) ord       id: the runs with a parent
 *   0x06 status(1) ord        id: the runs in a status
 * The lists (0x03..0x06) hold exactly the registered runs: their entries
 * are written with the run, deleted with it, and a transition moves its
 * 0x06 entry from one status to the other in the same commit. A listing
 * is therefore a range scan of one list's prefix from the cursor (the
 * ordinal after the last run returned) in key order, i.e. registration
 * order: O(log n) to seek and O(1) per run returned, whatever the number
 * of deleted runs or runs in other statuses. (An earlier layout kept
 * dense ordinal lists with holes, whose walks cost O(runs registered);
 * rs__runindex_open() refuses a database written with it.)
 *
 * Writes are deferred steps on the nil run (txn/txn.h), so checks (an id or
 * name taken, the current status) and writes happen under its commit lock
 * and never conflict. A transition to Archived also locks the run itself
 * (nil run first) and sets its RS__RUN_F_FENCED flag, which every commit
 * on that run checks under its lock. A delete locks both as well and drops
 * all the run's keys in the same commit (one durability record). The
 * flags live in memory only: rs__runindex_open() rebuilds them at open.
 * Reads are snapshots of the nil run: lock-free on the sharded store.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <string.h>

#include "primitives/prim.h"
#include "txn/txn.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/run_id.h"

#define TAG RS__TAG_RUNINDEX
#define K_NEXT 0x00
#define K_RUN 0x01
#define K_NAME 0x02
#define K_ALL 0x03
#define K_TAG 0x04
#define K_PARENT 0x05
#define K_STATUS 0x06

/* Offsets in a run record. */
#define R_STATUS 0
#define R_HAS_PARENT 1
#define R_PARENT 2
#define R_CREATED 18
#define R_UPDATED 26
#define R_ORD 34
#define R_NAME_LEN 42
#define R_HDR 46

static const char *const status_names[] = {
	"active", "paused", "completed", "failed", "cancelled", "archived",
};

const char *rs_run_status_name(rs_run_status status)
{
	if ((unsigned)status < sizeof(status_names) / sizeof(status_names[0]))
		return status_names[status];
	return "unknown";
}

bool rs_runindex_transition_allowed(rs_run_status from, rs_run_status to)
{
	switch (from) {
	case RS_RUN_ACTIVE:
		return to == RS_RUN_PAUSED || to == RS_RUN_COMPLETED ||
		       to == RS_RUN_FAILED || to == RS_RUN_CANCELLED;
	case RS_RUN_PAUSED:
		return to == RS_RUN_ACTIVE || to == RS_RUN_CANCELLED;
	case RS_RUN_COMPLETED:
	case RS_RUN_FAILED:
	case RS_RUN_CANCELLED:
		return to == RS_RUN_ARCHIVED;
	default:
		return false;
	}
}

static bool status_valid(rs_run_status s)
{
	return (unsigned)s <= RS_RUN_ARCHIVED;
}

/* A parsed record; views point into the record. */
typedef struct run_rec {
	rs_run_info info;
	uint64_t ord;
} run_rec;

static size_t run_key(unsigned char key[17], const rs_run_id *id)
{
	key[0] = K_RUN;
	memcpy(key + 1, id->bytes, 16);
	return 17;
}

static size_t name_key(unsigned char *key, const char *name, size_t len)
{
	key[0] = K_NAME;
	memcpy(key + 1, name, len);
	return 1 + len;
}

/* ---- the lists: prefix + ord -> id ---- */

static size_t all_prefix(unsigned char *prefix)
{
	prefix[0] = K_ALL;
	return 1;
}

static size_t status_prefix(unsigned char *prefix, rs_run_status status)
{
	prefix[0] = K_STATUS;
	prefix[1] = (unsigned char)status;
	return 2;
}

static size_t parent_prefix(unsigned char *prefix, const rs_run_id *parent)
{
	prefix[0] = K_PARENT;
	memcpy(prefix + 1, parent->bytes, 16);
	return 17;
}

/* Length-prefixed, so the list of tag "a" never reaches tag "a__b". */
static size_t tag_prefix(unsigned char *prefix, const void *tag, size_t len)
{
	return rs__ol_prefix(prefix, K_TAG, tag, len);
}

/* At commit: put the entry ord -> *id into a list, or delete it (id
 * NULL). The id must live until the commit ends. */
static int entry_write(rs__cc *cc, const unsigned char *prefix, size_t plen,
		       uint64_t ord, const rs_run_id *id)
{
	unsigned char key[RS__OL_KEY_MAX];

	memcpy(key, prefix, plen);
	rs__put_u64(key + plen, ord);
	if (!id)
		return rs__cc_write(cc, TAG, key, plen + 8, NULL, 0,
				    RS__OP_F_DELETE);
	return rs__cc_write(cc, TAG, key, plen + 8, id->bytes, 16, 0);
}

/* At commit: write (id set) or delete (id NULL) a run's entries in every
 * list it belongs to: all runs, its status, each tag, its parent. */
static int entries_write(rs__cc *cc, const run_rec *r, const rs_run_id *id)
{
	unsigned char prefix[RS__OL_PREFIX_MAX];
	const rs_run_info *info = &r->info;
	rs_bytes tag;

	RS_TRY(entry_write(cc, prefix, all_prefix(prefix), r->ord, id));
	RS_TRY(entry_write(cc, prefix, status_prefix(prefix, info->status),
			   r->ord, id));
	for (size_t i = 0; i < info->ntags; i++) {
		RS_TRY(rs__tags_at(info->tags_enc, info->ntags, i, &tag));
		RS_TRY(entry_write(cc, prefix,
				   tag_prefix(prefix, tag.data, tag.len),
				   r->ord, id));
	}
	if (info->has_parent)
		RS_TRY(entry_write(cc, prefix,
				   parent_prefix(prefix, &info->parent), r->ord,
				   id));
	return 0;
}

static int rec_parse(const void *data, size_t len, const rs_run_id *id,
		     run_rec *r)
{
	const unsigned char *p = data;
	rs_run_info *info = &r->info;
	const unsigned char *tags_enc;
	size_t off, size, ntags;
	uint32_t nlen;

	if (len < R_HDR || p[R_STATUS] > RS_RUN_ARCHIVED)
		return RS_ECORRUPT;
	nlen = rs__get_u32(p + R_NAME_LEN);
	if (len - R_HDR < nlen)
		return RS_ECORRUPT;
	off = R_HDR + nlen;
	if (!(size = rs__tags_read(p + off, len - off, &ntags, &tags_enc)))
		return RS_ECORRUPT;
	off += size;
	memset(r, 0, sizeof(*r));
	info->id = *id;
	info->status = (rs_run_status)p[R_STATUS];
	info->has_parent = p[R_HAS_PARENT] != 0;
	memcpy(info->parent.bytes, p + R_PARENT, 16);
	info->created_ns = rs__get_u64(p + R_CREATED);
	info->updated_ns = rs__get_u64(p + R_UPDATED);
	info->name.data = nlen ? p + R_HDR : NULL;
	info->name.len = nlen;
	info->ntags = ntags;
	info->tags_enc = tags_enc;
	info->metadata.data = p + off;
	info->metadata.len = len - off;
	r->ord = rs__get_u64(p + R_ORD);
	return 0;
}

int rs_run_info_tag(const rs_run_info *info, size_t i, rs_bytes *tag_out)
{
	RS_CHECK_ARG(info && tag_out && i < info->ntags);
	return rs__tags_at(info->tags_enc, info->ntags, i, tag_out);
}

/* ---- create ---- */

typedef struct ri_create {
	rs_run_id id;
	unsigned char
		*rec; /* the record; its ordinal and times set at commit */
	size_t rlen;
	rs_run_id *id_out; /* the caller's, or NULL */
} ri_create;

static int create_run(rs__cc *cc, void *arg)
{
	ri_create *c = arg;
	unsigned char key[1 + RS_NAME_MAX], *next;
	uint64_t now = rs__clock_realtime_ns();
	run_rec r;
	rs_bytes v;
	int rc;

	rc = rs__cc_read(cc, TAG, key, run_key(key, &c->id), &v);
	if (rc != RS_ENOTFOUND)
		return rc < 0 ? rc : RS_EEXIST;
	RS_TRY(rec_parse(c->rec, c->rlen, &c->id, &r));
	if (r.info.name.len) {
		size_t klen = name_key(key, r.info.name.data, r.info.name.len);

		rc = rs__cc_read(cc, TAG, key, klen, &v);
		if (rc != RS_ENOTFOUND)
			return rc < 0 ? rc : RS_EEXIST;
		RS_TRY(rs__cc_write(cc, TAG, key, klen, c->id.bytes, 16, 0));
	}
	key[0] = K_NEXT;
	RS_TRY(rs__prim_read_u64(rs__cc_read(cc, TAG, key, 1, &v), v, &r.ord));
	if (!(next = rs__cc_u64(cc, r.ord + 1)))
		return RS_ENOMEM;
	RS_TRY(rs__cc_write(cc, TAG, key, 1, next, 8, 0));
	RS_TRY(entries_write(cc, &r, &c->id));
	rs__put_u64(c->rec + R_ORD, r.ord);
	rs__put_u64(c->rec + R_CREATED, now);
	rs__put_u64(c->rec + R_UPDATED, now);
	return rs__cc_write(cc, TAG, key, run_key(key, &c->id), c->rec, c->rlen,
			    0);
}

static void create_done(const void *arg, int rc)
{
	const ri_create *c = arg;

	if (rc == 0 && c->id_out)
		*c->id_out = c->id;
}

static const rs__step_type create_step = { create_run, create_done };

static int check_create(const rs_runindex_create_options *o)
{
	if (o->version != RS_RUNINDEX_CREATE_OPTIONS_VERSION)
		return RS_EVERSION;
	RS_CHECK_ARG(!o->id || !rs_run_id_is_nil(o->id));
	if (o->name)
		RS_TRY(rs__prim_check_text(o->name, o->name_len, RS_NAME_MAX));
	else
		RS_CHECK_ARG(o->name_len == 0);
	RS_CHECK_ARG(!o->parent || !rs_run_id_is_nil(o->parent));
	RS_CHECK_ARG(!o->parent || !o->id ||
		     memcmp(o->parent->bytes, o->id->bytes, 16) != 0);
	RS_TRY(rs__prim_check_tags(o->tags, o->ntags));
	return rs__prim_check_bytes(o->metadata, o->metadata_len);
}

struct create_req {
	const rs_runindex_create_options *o;
	rs_run_id id;
	rs_run_id *id_out;
};

static int stage_create(rs_txn *txn, const void *arg)
{
	const struct create_req *q = arg;
	const rs_runindex_create_options *o = q->o;
	size_t tsize = rs__tags_size(o->tags, o->ntags);
	size_t rlen = R_HDR + o->name_len + 4 + tsize + o->metadata_len;
	unsigned char *rec, *p;
	ri_create *c;

	if (!(rec = rs__txn_alloc(txn, rlen)))
		return RS_ENOMEM;
	RS_TRY(rs__txn_defer(txn, &create_step, sizeof(*c), (void **)&c));
	memset(rec, 0, R_HDR);
	rec[R_STATUS] = RS_RUN_ACTIVE;
	if (o->parent) {
		rec[R_HAS_PARENT] = 1;
		memcpy(rec + R_PARENT, o->parent->bytes, 16);
	}
	rs__put_u32(rec + R_NAME_LEN, (uint32_t)o->name_len);
	p = rec + R_HDR;
	if (o->name_len)
		memcpy(p, o->name, o->name_len);
	p += o->name_len;
	rs__put_u32(p, (uint32_t)o->ntags);
	p = rs__tags_put(p + 4, o->tags, o->ntags);
	if (o->metadata_len)
		memcpy(p, o->metadata, o->metadata_len);
	c->id = q->id;
	c->id_out = q->id_out;
	c->rec = rec;
	c->rlen = rlen;
	return 0;
}

int rs_runindex_create(rs_db *db, const rs_runindex_create_options *opts,
		       rs_run_id *id_out)
{
	static const rs_runindex_create_options defaults =
		RS_RUNINDEX_CREATE_OPTIONS_INIT;
	struct create_req q = { opts ? opts : &defaults, { { 0 } }, id_out };

	RS_CHECK_ARG(db);
	RS_TRY(check_create(q.o));
	if (q.o->id)
		q.id = *q.o->id;
	else
		RS_TRY(rs_run_id_generate(&q.id));
	return rs__txn_oneshot(db, &rs__nil_run, stage_create, &q);
}

/* ---- transition ---- */

typedef struct ri_transition {
	rs_run_id id;
	rs_run_status to;
	rs_run_status from; /* read under the lock (from_set) */
	bool from_set;
	rs_run_status *from_out; /* the caller's, or NULL */
} ri_transition;

static int transition_run(rs__cc *cc, void *arg)
{
	ri_transition *t = arg;
	unsigned char key[17], prefix[2], *rec;
	size_t klen = run_key(key, &t->id);
	uint64_t now = rs__clock_realtime_ns(), before;
	run_rec r;
	rs_bytes v;

	RS_TRY(rs__cc_read(cc, TAG, key, klen, &v));
	RS_TRY(rec_parse(v.data, v.len, &t->id, &r));
	t->from = r.info.status;
	t->from_set = true;
	if (!rs_runindex_transition_allowed(r.info.status, t->to))
		return RS_ETRANSITION;
	if (!(rec = rs__cc_alloc(cc, v.len)))
		return RS_ENOMEM;
	memcpy(rec, v.data, v.len);
	rec[R_STATUS] = (unsigned char)t->to;
	before = rs__get_u64(rec + R_UPDATED);
	rs__put_u64(rec + R_UPDATED, now > before ? now : before);
	if (t->to == RS_RUN_ARCHIVED)
		rs__cc_also_set_flags(cc,
				      rs__cc_also_flags(cc) | RS__RUN_F_FENCED);
	/* The run leaves its status's list for the new one's. */
	RS_TRY(entry_write(cc, prefix, status_prefix(prefix, r.info.status),
			   r.ord, NULL));
	RS_TRY(entry_write(cc, prefix, status_prefix(prefix, t->to), r.ord,
			   &t->id));
	return rs__cc_write(cc, TAG, key, klen, rec, v.len, 0);
}

/* The status the run was in, on success and on a refused transition. */
static void transition_done(const void *arg, int rc)
{
	const ri_transition *t = arg;

	if (t->from_out && t->from_set && (rc == 0 || rc == RS_ETRANSITION))
		*t->from_out = t->from;
}

static const rs__step_type transition_step = { transition_run,
					       transition_done };

static int stage_transition(rs_txn *txn, const void *arg)
{
	const ri_transition *req = arg;
	ri_transition *t;

	RS_TRY(rs__txn_defer(txn, &transition_step, sizeof(*t), (void **)&t));
	*t = *req;
	/* Archiving fences the run itself, under its own lock. */
	if (t->to == RS_RUN_ARCHIVED)
		rs__txn_also(txn, &t->id, true);
	return 0;
}

int rs_runindex_transition(rs_db *db, const rs_run_id *id, rs_run_status to,
			   rs_run_status *from_out)
{
	ri_transition t = { { { 0 } }, to, RS_RUN_ACTIVE, false, from_out };

	RS_CHECK_ARG(db && id && !rs_run_id_is_nil(id));
	RS_CHECK_ARG(status_valid(to));
	t.id = *id;
	return rs__txn_oneshot(db, &rs__nil_run, stage_transition, &t);
}

/* ---- delete ---- */

static int delete_run(rs__cc *cc, void *arg)
{
	const rs_run_id *id = arg;
	unsigned char key[1 + RS_NAME_MAX];
	uint64_t floor, f;
	run_rec r;
	rs_bytes v;
	int rc = rs__cc_read(cc, TAG, key, run_key(key, id), &v);

	if (rc == RS_ENOTFOUND) {
		if (!rs__cc_also_has_data(cc))
			return RS_ENOTFOUND;
	} else {
		RS_TRY(rc);
		RS_TRY(rec_parse(v.data, v.len, id, &r));
		RS_TRY(rs__cc_write(cc, TAG, key, run_key(key, id), NULL, 0,
				    RS__OP_F_DELETE));
		if (r.info.name.len)
			RS_TRY(rs__cc_write(cc, TAG, key,
					    name_key(key, r.info.name.data,
						     r.info.name.len),
					    NULL, 0, RS__OP_F_DELETE));
		RS_TRY(entries_write(cc, &r, NULL));
	}
	/* Above every counter of the life this ends (txn.h, bases). */
	RS_TRY(rs__eventlog_floor(cc, &floor));
	RS_TRY(rs__tracestore_floor(cc, &f));
	floor = f > floor ? f : floor;
	RS_TRY(rs__statecell_floor(cc, &f));
	floor = f > floor ? f : floor;
	rs__cc_also_drop(cc, floor);
	rs__cc_also_set_flags(cc, 0);
	return 0;
}

static const rs__step_type delete_step = { delete_run, NULL };

static int stage_delete(rs_txn *txn, const void *arg)
{
	const rs_run_id *id = arg;
	rs_run_id *copy;

	RS_TRY(rs__txn_defer(txn, &delete_step, sizeof(*copy), (void **)&copy));
	*copy = *id;
	rs__txn_also(txn, id, false);
	return 0;
}

int rs_runindex_delete(rs_db *db, const rs_run_id *id)
{
	RS_CHECK_ARG(db && id && !rs_run_id_is_nil(id));
	return rs__txn_oneshot(db, &rs__nil_run, stage_delete, id);
}

/* ---- reads ---- */

/* Copy a record into the caller's buffer and parse it there. */
static int copy_out(const void *val, size_t len, const rs_run_id *id,
		    rs_run_info *info_out, void *buf, size_t cap, size_t *need)
{
	run_rec r;

	*need = len;
	if (len > cap)
		return RS_ENOSPC;
	memcpy(buf, val, len);
	RS_TRY(rec_parse(buf, len, id, &r));
	*info_out = r.info;
	return 0;
}

int rs_runindex_get(rs_db *db, const rs_run_id *id, rs_run_info *info_out,
		    void *buf, size_t cap, size_t *needed_out)
{
	rs__copy_out co = { NULL, 0, buf, cap, 0 };
	unsigned char key[17];
	run_rec r;
	int rc;

	RS_CHECK_ARG(db && id && info_out && (buf || cap == 0));
	RS_CHECK_ARG(!rs_run_id_is_nil(id));
	rc = rs__txn_read_latest(db, &rs__nil_run, TAG, key, run_key(key, id),
				 &co);
	/* Parsed in the caller's buffer: the views point there. */
	if (rc == 0 && (rc = rec_parse(buf, co.len, id, &r)) == 0)
		*info_out = r.info;
	if (needed_out && (rc == 0 || rc == RS_ENOSPC))
		*needed_out = co.len;
	return rc;
}

int rs_runindex_get_by_name(rs_db *db, const char *name, size_t name_len,
			    rs_run_info *info_out, void *buf, size_t cap,
			    size_t *needed_out)
{
	unsigned char key[1 + RS_NAME_MAX];
	size_t need = 0;
	rs_run_id id;
	rs_txn *txn;
	rs_bytes v;
	int rc;

	RS_CHECK_ARG(db && info_out && (buf || cap == 0));
	RS_TRY(rs__prim_check_text(name, name_len, RS_NAME_MAX));
	RS_TRY(rs__txn_begin(&txn, db, &rs__nil_run, RS_TXN_F_READONLY));
	rc = rs__txn_read(txn, TAG, key, name_key(key, name, name_len), &v);
	if (rc < 0)
		goto out;
	if (v.len != 16) {
		rc = RS_ECORRUPT;
		goto out;
	}
	memcpy(id.bytes, v.data, 16);
	rc = rs__txn_read(txn, TAG, key, run_key(key, &id), &v);
	if (rc == RS_ENOTFOUND)
		rc = RS_ECORRUPT; /* a name without its run */
	if (rc == 0)
		rc = copy_out(v.data, v.len, &id, info_out, buf, cap, &need);
out:
	rs__txn_abort(txn);
	if (needed_out && (rc == 0 || rc == RS_ENOSPC))
		*needed_out = need;
	return rc;
}

/* ---- listings: a range scan of one list ---- */

struct walk_ctx {
	rs_txn *txn;
	size_t plen;
	int status; /* the list's status, or -1 */
	uint64_t *cursor;
	rs_runindex_run_cb cb;
	void *ctx;
};

/* One entry: prefix + ord -> id. Its run is read at the same snapshot. */
static int walk_entry(rs_bytes key, rs_bytes val, void *arg)
{
	struct walk_ctx *w = arg;
	unsigned char rkey[17];
	uint64_t ord;
	rs_run_id id;
	run_rec r;
	rs_bytes v;
	int rc;

	if (key.len != w->plen + 8 || val.len != 16)
		return RS_ECORRUPT;
	ord = rs__get_u64((const unsigned char *)key.data + w->plen);
	memcpy(id.bytes, val.data, 16);
	rc = rs__txn_read(w->txn, TAG, rkey, run_key(rkey, &id), &v);
	if (rc == RS_ENOTFOUND)
		return RS_ECORRUPT; /* an entry without its run */
	RS_TRY(rc);
	RS_TRY(rec_parse(v.data, v.len, &id, &r));
	if (r.ord != ord ||
	    (w->status >= 0 && r.info.status != (rs_run_status)w->status))
		return RS_ECORRUPT;
	*w->cursor = ord + 1;
	return w->cb(&r.info, w->ctx);
}

/* The entries of one list from the ordinal *cursor on, at one snapshot:
 * [prefix + cursor, prefix + UINT64_MAX]. */
static int walk(rs_db *db, const unsigned char *prefix, size_t plen, int status,
		uint64_t *cursor, size_t limit, bool *more_out,
		rs_runindex_run_cb cb, void *ctx)
{
	unsigned char lo_key[RS__OL_KEY_MAX], hi_key[RS__OL_KEY_MAX];
	struct walk_ctx w = { NULL, plen, status, cursor, cb, ctx };
	rs__bound lo = { lo_key, (uint32_t)plen + 8, true, false };
	rs__bound hi = { hi_key, (uint32_t)plen + 8, true, false };
	int rc;

	memcpy(lo_key, prefix, plen);
	rs__put_u64(lo_key + plen, *cursor);
	memcpy(hi_key, prefix, plen);
	rs__put_u64(hi_key + plen, UINT64_MAX);
	RS_TRY(rs__txn_begin(&w.txn, db, &rs__nil_run, RS_TXN_F_READONLY));
	rc = rs__txn_scan(w.txn, TAG, &lo, &hi, NULL, 0, false, limit, more_out,
			  walk_entry, &w);
	rs__txn_abort(w.txn);
	return rc;
}

int rs_runindex_list(rs_db *db, uint64_t *cursor, size_t limit, bool *more_out,
		     rs_runindex_run_cb cb, void *ctx)
{
	unsigned char prefix[1];

	RS_CHECK_ARG(db && cursor && cb);
	return walk(db, prefix, all_prefix(prefix), -1, cursor, limit, more_out,
		    cb, ctx);
}

int rs_runindex_query_by_status(rs_db *db, rs_run_status status,
				uint64_t *cursor, size_t limit, bool *more_out,
				rs_runindex_run_cb cb, void *ctx)
{
	unsigned char prefix[2];

	RS_CHECK_ARG(db && cursor && cb && status_valid(status));
	return walk(db, prefix, status_prefix(prefix, status), (int)status,
		    cursor, limit, more_out, cb, ctx);
}

int rs_runindex_query_by_tag(rs_db *db, const char *tag, size_t tag_len,
			     uint64_t *cursor, size_t limit, bool *more_out,
			     rs_runindex_run_cb cb, void *ctx)
{
	unsigned char prefix[RS__OL_PREFIX_MAX];

	RS_CHECK_ARG(db && cursor && cb);
	RS_TRY(rs__prim_check_text(tag, tag_len, RS_TAG_MAX));
	return walk(db, prefix, tag_prefix(prefix, tag, tag_len), -1, cursor,
		    limit, more_out, cb, ctx);
}

int rs_runindex_query_by_parent(rs_db *db, const rs_run_id *parent,
				uint64_t *cursor, size_t limit, bool *more_out,
				rs_runindex_run_cb cb, void *ctx)
{
	unsigned char prefix[17];

	RS_CHECK_ARG(db && parent && cursor && cb);
	RS_CHECK_ARG(!rs_run_id_is_nil(parent));
	return walk(db, prefix, parent_prefix(prefix, parent), -1, cursor,
		    limit, more_out, cb, ctx);
}

/* ---- a record of another writer (rs_db_apply) ---- */

static int applied_archive(rs__cc *cc, void *arg)
{
	(void)arg;
	rs__cc_also_set_flags(cc, rs__cc_also_flags(cc) | RS__RUN_F_FENCED);
	return 0;
}

static int applied_delete(rs__cc *cc, void *arg)
{
	(void)arg;
	rs__cc_also_set_flags(cc, 0);
	return 0;
}

static const rs__step_type applied_archive_step = { applied_archive, NULL };
static const rs__step_type applied_delete_step = { applied_delete, NULL };

/* The run a record's op archives: the put of a run record in status
 * Archived (a transition writes one run record). */
static bool archives(const rs__op *op, rs_run_id *id)
{
	const unsigned char *k = op->key, *v = op->val;

	if (op->tag != TAG || (op->flags & RS__OP_F_DELETE) || op->klen != 17 ||
	    k[0] != K_RUN || op->vlen < R_HDR ||
	    v[R_STATUS] != (unsigned char)RS_RUN_ARCHIVED)
		return false;
	memcpy(id->bytes, k + 1, 16);
	return !rs_run_id_is_nil(id);
}

int rs__runindex_stage_applied(rs_txn *txn, const rs__commit_record *rec)
{
	void *arg;

	if (!rs_run_id_is_nil(rec->run))
		return 0;
	/* The drop itself is the txn layer's (its second run is named). */
	if (rec->kind == RS__REC_DROP_RUN)
		return rs__txn_defer(txn, &applied_delete_step, 1, &arg);
	for (size_t i = 0; i < rec->nops; i++) {
		rs_run_id id;

		if (!archives(&rec->ops[i], &id))
			continue;
		rs__txn_also(txn, &id, true);
		return rs__txn_defer(txn, &applied_archive_step, 1, &arg);
	}
	return 0;
}

/* ---- open: check the layout, rebuild the archived flags ---- */

static int fence_archived(const rs_run_info *info, void *ctx)
{
	return rs__txn_run_add_flags(ctx, &info->id, RS__RUN_F_FENCED);
}

int rs__runindex_open(rs_db *db)
{
	/* The earlier layout's registration list length (0x03, u32 0), a
	 * key this layout never writes. */
	static const unsigned char old_len_key[5] = { K_ALL, 0, 0, 0, 0 };
	uint64_t cursor = 0;
	int rc = rs__txn_read_latest(db, &rs__nil_run, TAG, old_len_key,
				     sizeof(old_len_key), NULL);

	if (rc == 0)
		return RS_ECORRUPT;
	if (rc != RS_ENOTFOUND)
		return rc;
	return rs_runindex_query_by_status(db, RS_RUN_ARCHIVED, &cursor, 0,
					   NULL, fence_archived, db);
}
