/* SPDX-License-Identifier: MIT */
/*
 * A user's rs_durability_ops behind the internal backend interface: commit
 * records are converted to the public form (rs_record_op views over the
 * staged ops; no copy of keys or values) and back at recovery.
 */
#include "durability/durability.h"

#include <string.h>

#include "util/clock.h"
#include "util/error.h"

#define STACK_OPS 16u

typedef struct custom {
	const rs__alloc *alloc;
	const rs_durability_ops *ops;
	void *ctx;
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
	rc = c->ops->commit(c->ctx, &pub);
	if (ops != stack)
		rs__free(c->alloc, ops);
	/* Only negative RS_E* codes mean failure. */
	return rc < 0 ? rc : 0;
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

	if (!rec ||
	    (rec->kind != RS__REC_COMMIT && rec->kind != RS__REC_DROP_RUN) ||
	    (rec->nops && !rec->ops) || rec->version == 0 ||
	    (rec->kind == RS__REC_DROP_RUN &&
	     (rs_run_id_is_nil(&rec->drop_run) || rec->drop_version == 0)))
		return RS_EINVAL;
	ops = rs__calloc(rc->c->alloc, rec->nops + 1, sizeof(*ops));
	if (!ops)
		return RS_ENOMEM;
	for (size_t i = 0; i < rec->nops; i++) {
		const rs_record_op *p = &rec->ops[i];

		if (p->tag == 0 || !p->key.data || p->key.len == 0 ||
		    p->key.len > RS_KEY_MAX || p->value.len > RS_VALUE_MAX ||
		    (!p->value.data && p->value.len)) {
			rs__free(rc->c->alloc, ops);
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
	memset(&irec, 0, sizeof(irec));
	irec.kind = rec->kind;
	irec.run = &rec->run;
	irec.version = rec->version;
	irec.timestamp_ns = rec->timestamp_ns;
	irec.ops = ops;
	irec.nops = rec->nops;
	irec.mode = rec->mode;
	if (rec->kind == RS__REC_DROP_RUN) {
		irec.drop_run = &rec->drop_run;
		irec.drop_version = rec->drop_version;
	}
	err = rc->host->replay(rc->host->ctx, &irec, ops);
	rs__free(rc->c->alloc, ops);
	return err < 0 ? err : 0;
}

static int custom_recover(void *state, const rs__dur_host *host)
{
	custom *c = state;
	struct replay_ctx rc = { c, host };
	int err;

	if (!c->ops->recover)
		return 0;
	err = c->ops->recover(c->ctx, custom_replay, &rc);
	return err < 0 ? err : (err > 0 ? RS_EINVAL : 0);
}

static int custom_flush(void *state)
{
	custom *c = state;
	int rc;

	if (!c->ops->flush)
		return 0;
	rc = c->ops->flush(c->ctx);
	return rc < 0 ? rc : 0;
}

static void custom_close(void *state)
{
	custom *c = state;

	if (c->ops->close)
		c->ops->close(c->ctx);
	rs__free(c->alloc, c);
}

/* The public interface has no checkpoint and no counters. */
static const rs__durability_ops custom_ops = {
	.commit = custom_commit,
	.recover = custom_recover,
	.flush = custom_flush,
	.close = custom_close,
};

int rs__durability_custom_open(rs__durability *out, const rs__alloc *a,
			       const rs_durability_ops *ops, void *ctx)
{
	custom *c = rs__calloc(a, 1, sizeof(*c));

	if (!c)
		return RS_ENOMEM;
	c->alloc = a;
	c->ops = ops;
	c->ctx = ctx;
	out->ops = &custom_ops;
	out->state = c;
	return 0;
}
