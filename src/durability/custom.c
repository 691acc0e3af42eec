/* SPDX-License-Identifier: MIT */
/*
 * A user's rs_durability_ops behind the internal backend interface: commit
 * records are converted to the public form (rs_record_op views over the
 * staged ops; no copy of keys or values) and back at recovery and for
 * rs_db_apply(). The struct is copied at open, as far as its version goes:
 * a version-1 struct has no field past `close`, and those stay NULL.
 *
 * Version 2: checkpoints stream the host's image through the public sink
 * (rs_image_fn), load_image feeds the host's load through the shared
 * loader (image.c, copying: the backend's views die after each call), and
 * promote and stat are passed through.
 */
#include "durability/durability.h"

#include <stddef.h>
#include <string.h>

#include "util/clock.h"
#include "util/error.h"

#define STACK_OPS 16u

/* How much of the struct each version has. */
#define OPS_V1_SIZE                           \
	(offsetof(rs_durability_ops, close) + \
	 sizeof(((rs_durability_ops *)0)->close))

typedef struct custom {
	const rs__alloc *alloc;
	rs_durability_ops ops; /* the user's, copied; NULL past its version */
	void *ctx;
	const rs__dur_host *host; /* from recover (always called at open) */
} custom;

static void to_public(const rs__op *op, rs_record_op *out)
{
	out->tag = op->tag;
	out->is_delete = (op->flags & RS__OP_F_DELETE) != 0;
	out->key.data = op->key;
	out->key.len = op->klen;
	if (out->is_delete) {
		out->value.data = NULL;
		out->value.len = 0;
	} else {
		out->value.data = op->vlen ? op->val : "";
		out->value.len = op->vlen;
	}
}

static int custom_commit(void *state, const rs__commit_record *rec)
{
	custom *c = state;
	rs_record_op stack[STACK_OPS], *ops = stack;
	rs_commit_record pub;
	int rc;

	if (rec->nops > STACK_OPS) {
		ops = rs__calloc(c->alloc, rec->nops, sizeof(*ops));
		if (!ops)
			return RS_ENOMEM;
	}
	for (size_t i = 0; i < rec->nops; i++)
		to_public(&rec->ops[i], &ops[i]);
	pub.kind = rec->kind;
	pub.mode = rec->mode;
	pub.run = *rec->run;
	pub.version = rec->version;
	pub.timestamp_ns =
		rec->timestamp_ns ? rec->timestamp_ns : rs__clock_realtime_ns();
	pub.ops = ops;
	pub.nops = rec->nops;
	memset(&pub.drop_run, 0, sizeof(pub.drop_run));
	pub.drop_version = 0;
	if (rec->kind == RS__REC_DROP_RUN) {
		pub.drop_run = *rec->drop_run;
		pub.drop_version = rec->drop_version;
	}
	rc = c->ops.commit(c->ctx, &pub);
	if (ops != stack)
		rs__free(c->alloc, ops);
	/* Only negative RS_E* codes mean failure. */
	return rc < 0 ? rc : 0;
}

int rs__record_from_public(const rs__alloc *a, const rs_commit_record *rec,
			   bool public_tags, rs__commit_record *out,
			   rs__op **ops_out)
{
	rs__op *ops;

	if (!rec ||
	    (rec->kind != RS__REC_COMMIT && rec->kind != RS__REC_DROP_RUN) ||
	    (rec->nops && !rec->ops) || rec->version == 0 ||
	    (rec->kind == RS__REC_DROP_RUN &&
	     (rs_run_id_is_nil(&rec->drop_run) || rec->drop_version == 0)))
		return RS_EINVAL;
	ops = rs__calloc(a, rec->nops + 1, sizeof(*ops));
	if (!ops)
		return RS_ENOMEM;
	for (size_t i = 0; i < rec->nops; i++) {
		const rs_record_op *p = &rec->ops[i];

		if (p->tag == 0 || (public_tags && p->tag > RS_TAG_RUNINDEX) ||
		    !p->key.data || p->key.len == 0 ||
		    p->key.len > RS_KEY_MAX || p->value.len > RS_VALUE_MAX ||
		    (!p->value.data && p->value.len)) {
			rs__free(a, ops);
			return RS_EINVAL;
		}
		ops[i].tag = p->tag;
		ops[i].flags = p->is_delete ? RS__OP_F_DELETE : 0;
		ops[i].key = p->key.data;
		ops[i].klen = (uint32_t)p->key.len;
		ops[i].val = p->is_delete ? "" : p->value.data;
		ops[i].vlen = p->is_delete ? 0 : (uint32_t)p->value.len;
		if (!ops[i].val)
			ops[i].val = "";
	}
	memset(out, 0, sizeof(*out));
	out->kind = rec->kind;
	out->run = &rec->run;
	out->version = rec->version;
	out->timestamp_ns = rec->timestamp_ns;
	out->ops = ops;
	out->nops = rec->nops;
	out->mode = rec->mode;
	if (rec->kind == RS__REC_DROP_RUN) {
		out->drop_run = &rec->drop_run;
		out->drop_version = rec->drop_version;
	}
	*ops_out = ops;
	return 0;
}

struct replay_ctx {
	custom *c;
	const rs__dur_host *host;
};

static int custom_replay(const rs_commit_record *rec, void *arg)
{
	struct replay_ctx *rc = arg;
	rs__commit_record irec;
	rs__op *ops;
	int err;

	RS_TRY(rs__record_from_public(rc->c->alloc, rec, false, &irec, &ops));
	err = rc->host->replay(rc->host->ctx, &irec, ops);
	rs__free(rc->c->alloc, ops);
	return err < 0 ? err : 0;
}

/* The public load sink: into the shared loader, copied. */
static int load_run(void *ctx, const rs_run_id *run, uint64_t version)
{
	if (!run)
		return RS_ECORRUPT;
	return rs__image_loader_run(ctx, run, version);
}

static int load_entry(void *ctx, uint8_t tag, rs_bytes key, rs_bytes value)
{
	rs__op op;

	if (tag == 0 || !key.data || key.len == 0 || key.len > RS_KEY_MAX ||
	    value.len > RS_VALUE_MAX || (!value.data && value.len))
		return RS_ECORRUPT;
	memset(&op, 0, sizeof(op));
	op.tag = tag;
	op.key = key.data;
	op.klen = (uint32_t)key.len;
	op.val = value.data ? value.data : "";
	op.vlen = (uint32_t)value.len;
	return rs__image_loader_entry(ctx, &op);
}

static int load_image(custom *c, const rs__dur_host *host)
{
	rs__image_loader ld;
	rs_image_sink sink = { load_run, load_entry, &ld };
	int rc;

	rs__image_loader_init(&ld, c->alloc, host, true);
	rc = c->ops.load_image(c->ctx, &sink);
	rc = rc < 0 ? rc : (rc > 0 ? RS_EINVAL : 0);
	if (rc == 0)
		rc = rs__image_loader_finish(&ld);
	rs__image_loader_fini(&ld);
	return rc;
}

static int custom_recover(void *state, const rs__dur_host *host)
{
	custom *c = state;
	struct replay_ctx rc = { c, host };
	int err;

	c->host = host;
	if (c->ops.load_image)
		RS_TRY(load_image(c, host));
	if (!c->ops.recover)
		return 0;
	err = c->ops.recover(c->ctx, custom_replay, &rc);
	return err < 0 ? err : (err > 0 ? RS_EINVAL : 0);
}

static int custom_flush(void *state)
{
	custom *c = state;
	int rc;

	if (!c->ops.flush)
		return 0;
	rc = c->ops.flush(c->ctx);
	return rc < 0 ? rc : 0;
}

/* ---- checkpoints: the host's image through the public sink ---- */

typedef struct image_call {
	const rs__dur_host *host;
	const rs_image_sink *sink;
	bool called;
} image_call;

static int image_run(void *ctx, const rs_run_id *run, uint64_t version)
{
	const image_call *ic = ctx;

	return ic->sink->run(ic->sink->ctx, run, version);
}

static int image_entry(void *ctx, uint8_t tag, const void *key, size_t klen,
		       const void *val, size_t vlen)
{
	const image_call *ic = ctx;
	rs_bytes k = { key, klen }, v = { vlen ? val : "", vlen };

	return ic->sink->entry(ic->sink->ctx, tag, k, v);
}

static int image_fn(void *image_ctx, const rs_image_sink *sink)
{
	image_call *ic = image_ctx;
	rs__image_sink isink = { image_run, image_entry, ic };
	int rc;

	if (!sink || !sink->run || !sink->entry || ic->called)
		return RS_EINVAL;
	ic->called = true;
	ic->sink = sink;
	rc = ic->host->image(ic->host->ctx, &isink);
	return rc < 0 ? rc : 0;
}

static int custom_checkpoint(void *state)
{
	custom *c = state;
	image_call ic = { c->host, NULL, false };
	int rc;

	if (!c->ops.checkpoint)
		return RS_ENOTSUP;
	rc = c->ops.checkpoint(c->ctx, image_fn, &ic);
	return rc < 0 ? rc : 0;
}

static int custom_promote(void *state)
{
	custom *c = state;
	int rc;

	if (!c->ops.promote)
		return RS_ENOTSUP;
	rc = c->ops.promote(c->ctx);
	return rc < 0 ? rc : 0;
}

static void custom_stats(void *state, rs_db_stats *out)
{
	custom *c = state;

	if (c->ops.stat)
		c->ops.stat(c->ctx, out);
}

static void custom_close(void *state)
{
	custom *c = state;

	if (c->ops.close)
		c->ops.close(c->ctx);
	rs__free(c->alloc, c);
}

static const rs__durability_ops custom_ops = {
	.commit = custom_commit,
	.recover = custom_recover,
	.flush = custom_flush,
	.checkpoint = custom_checkpoint,
	.stats = custom_stats,
	.close = custom_close,
	.promote = custom_promote,
};

int rs__durability_custom_open(rs__durability *out, const rs__alloc *a,
			       const rs_durability_ops *ops, void *ctx)
{
	custom *c = rs__calloc(a, 1, sizeof(*c));

	if (!c)
		return RS_ENOMEM;
	c->alloc = a;
	/* Only the fields of the struct's version: a version-1 struct is
	 * shorter. */
	memcpy(&c->ops, ops, ops->version >= 2 ? sizeof(c->ops) : OPS_V1_SIZE);
	c->ctx = ctx;
	out->ops = &custom_ops;
	out->state = c;
	return 0;
}

bool rs__durability_is_custom(const rs__durability *d)
{
	return d->ops == &custom_ops;
}
