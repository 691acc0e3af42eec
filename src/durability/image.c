/* SPDX-License-Identifier: MIT */
/*
 * Loading a checkpoint image into the database (host->load), shared by
 * the write-ahead log's checkpoint files (checkpoint.c, views into the
 * mapped file) and a user's backend's load_image (custom.c, copies of
 * views that die after each call). A run's entries go in chunks of at
 * most LOAD_CHUNK entries (and, copied, about LOAD_BYTES bytes), all at
 * the run's one version; a run without entries is loaded once, empty.
 */
#include "durability/durability.h"

#include <string.h>

#include "util/error.h"

#define LOAD_CHUNK 4096u
#define LOAD_BYTES (1u << 20)

void rs__image_loader_init(rs__image_loader *ld, const rs__alloc *a,
			   const rs__dur_host *host, bool copy)
{
	memset(ld, 0, sizeof(*ld));
	ld->alloc = a;
	ld->host = host;
	ld->copy = copy;
	rs__arena_init(&ld->bytes, a);
}

static int flush(rs__image_loader *ld, bool run_end)
{
	if (!ld->have_run || (ld->n == 0 && (ld->loaded || !run_end)))
		return 0;
	RS_TRY(ld->host->load(ld->host->ctx, &ld->run, ld->version, ld->ops,
			      ld->n));
	ld->n = 0;
	ld->loaded = true;
	if (ld->copy) {
		rs__arena_reset(&ld->bytes);
		ld->nbytes = 0;
	}
	return 0;
}

int rs__image_loader_run(rs__image_loader *ld, const rs_run_id *run,
			 uint64_t version)
{
	RS_TRY(flush(ld, true));
	ld->run = *run;
	ld->version = version;
	ld->have_run = true;
	ld->loaded = false;
	return 0;
}

int rs__image_loader_entry(rs__image_loader *ld, const rs__op *op)
{
	rs__op *o;

	if (!ld->have_run) /* an entry before any run */
		return RS_ECORRUPT;
	RS_TRY(rs__grow(ld->alloc, (void **)&ld->ops, &ld->cap, ld->n + 1,
			sizeof(*ld->ops)));
	o = &ld->ops[ld->n];
	*o = *op;
	if (ld->copy) {
		o->key = rs__arena_dup(&ld->bytes, op->key, op->klen);
		o->val = op->vlen ? rs__arena_dup(&ld->bytes, op->val, op->vlen)
				  : "";
		if (!o->key || !o->val)
			return RS_ENOMEM;
		ld->nbytes += (size_t)op->klen + op->vlen;
	}
	ld->n++;
	if (ld->n == LOAD_CHUNK || ld->nbytes >= LOAD_BYTES)
		return flush(ld, false);
	return 0;
}

int rs__image_loader_finish(rs__image_loader *ld)
{
	return flush(ld, true);
}

void rs__image_loader_fini(rs__image_loader *ld)
{
	rs__free(ld->alloc, ld->ops);
	rs__arena_free(&ld->bytes);
	ld->ops = NULL;
}
