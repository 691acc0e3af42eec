/* SPDX-License-Identifier: MIT */
/* The in-process shipping backend of the replication tests (rs_ship.h). */
#define _GNU_SOURCE
#include "common/rs_ship.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "durability/durability.h"
#include "storage/store.h"
#include "txn/txn.h"

struct ship_rec {
	rs_commit_record rec; /* ops and their bytes below, owned */
	rs_record_op *ops;
};

typedef struct ship_item {
	bool is_run;
	rs_run_id run;
	uint64_t version;
	uint8_t tag;
	void *key, *val;
	size_t klen, vlen;
} ship_item;

struct ship_image {
	ship_item *items;
	size_t n, cap;
	ship_image *older; /* replaced images, kept until the log is freed */
};

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		fprintf(stderr, "rs_ship: out of memory\n");
		abort();
	}
	return p;
}

static void *dup_bytes(const void *p, size_t n)
{
	void *q = xmalloc(n);

	if (n)
		memcpy(q, p, n);
	return q;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static ship_rec *rec_copy(const rs_commit_record *rec)
{
	ship_rec *r = xmalloc(sizeof(*r));

	r->rec = *rec;
	r->ops = xmalloc(rec->nops * sizeof(*r->ops));
	for (size_t i = 0; i < rec->nops; i++) {
		const rs_record_op *o = &rec->ops[i];

		r->ops[i] = *o;
		r->ops[i].key.data = dup_bytes(o->key.data, o->key.len);
		r->ops[i].value.data =
			o->is_delete ? NULL
				     : dup_bytes(o->value.data, o->value.len);
	}
	r->rec.ops = r->ops;
	return r;
}

static void rec_free(ship_rec *r)
{
	for (size_t i = 0; i < r->rec.nops; i++) {
		free((void *)r->ops[i].key.data);
		free((void *)r->ops[i].value.data);
	}
	free(r->ops);
	free(r);
}

static void image_free(ship_image *img)
{
	while (img) {
		ship_image *older = img->older;

		for (size_t i = 0; i < img->n; i++) {
			free(img->items[i].key);
			free(img->items[i].val);
		}
		free(img->items);
		free(img);
		img = older;
	}
}

static ship_item *image_add(ship_image *img)
{
	if (img->n == img->cap) {
		img->cap = img->cap ? 2 * img->cap : 64;
		img->items =
			realloc(img->items, img->cap * sizeof(*img->items));
		if (!img->items)
			abort();
	}
	memset(&img->items[img->n], 0, sizeof(img->items[0]));
	return &img->items[img->n++];
}

void ship_log_init(ship_log *log)
{
	memset(log, 0, sizeof(*log));
	pthread_mutex_init(&log->mu, NULL);
	pthread_cond_init(&log->cv, NULL);
	log->epoch = 1;
}

void ship_log_free(ship_log *log)
{
	for (size_t i = 0; i < log->n; i++)
		rec_free(log->recs[i]);
	free(log->recs);
	image_free(log->img);
	pthread_mutex_destroy(&log->mu);
	pthread_cond_destroy(&log->cv);
}

size_t ship_log_len(ship_log *log)
{
	size_t n;

	pthread_mutex_lock(&log->mu);
	n = log->n;
	pthread_mutex_unlock(&log->mu);
	return n;
}

/* ---- the backend ---- */

static int s_commit(void *ctx, const rs_commit_record *rec)
{
	ship_node *node = ctx;
	ship_log *log = node->log;
	ship_rec *copy;

	node->commits++;
	/* The library never hands a follower's commit to its backend. */
	if (node->follower)
		return RS_EIO;
	copy = rec_copy(rec);
	pthread_mutex_lock(&log->mu);
	if (node->epoch != log->epoch) {
		log->fenced++;
		pthread_mutex_unlock(&log->mu);
		rec_free(copy);
		return RS_EFENCED;
	}
	if (log->n == log->cap) {
		log->cap = log->cap ? 2 * log->cap : 256;
		log->recs = realloc(log->recs, log->cap * sizeof(*log->recs));
		if (!log->recs)
			abort();
	}
	log->recs[log->n++] = copy;
	log->commits++;
	pthread_cond_broadcast(&log->cv);
	pthread_mutex_unlock(&log->mu);
	return 0;
}

/* Callbacks into the library are made without the log's lock (which
 * commits take under their run's lock): images and records stay
 * allocated and unchanged until the log is freed. */
static int s_load_image(void *ctx, const rs_image_sink *load)
{
	ship_node *node = ctx;
	ship_log *log = node->log;
	const ship_image *img;
	size_t pos;
	int rc = 0;

	pthread_mutex_lock(&log->mu);
	img = log->img;
	pos = log->img_pos;
	pthread_mutex_unlock(&log->mu);
	if (img) {
		for (size_t i = 0; i < img->n && rc == 0; i++) {
			const ship_item *it = &img->items[i];
			rs_bytes k = { it->key, it->klen };
			rs_bytes v = { it->val, it->vlen };

			rc = it->is_run ? load->run(load->ctx, &it->run,
						    it->version)
					: load->entry(load->ctx, it->tag, k, v);
		}
		node->loaded_image = true;
		atomic_store(&node->applied, pos);
	}
	return rc;
}

static int s_recover(void *ctx, rs_replay_fn replay, void *replay_ctx)
{
	ship_node *node = ctx;
	ship_log *log = node->log;
	size_t i = atomic_load(&node->applied);
	int rc = 0;

	/* The records up to now; the tail thread takes the rest. */
	for (ship_rec *r; rc == 0; i++) {
		pthread_mutex_lock(&log->mu);
		r = i < log->n ? log->recs[i] : NULL;
		pthread_mutex_unlock(&log->mu);
		if (!r)
			break;
		rc = replay(&r->rec, replay_ctx);
		node->replayed++;
	}
	if (rc == 0)
		atomic_store(&node->applied, i);
	return rc;
}

static int s_flush(void *ctx)
{
	(void)ctx;
	return 0;
}

static void s_close(void *ctx)
{
	(void)ctx;
}

static int img_run(void *ctx, const rs_run_id *run, uint64_t version)
{
	ship_item *it = image_add(ctx);

	it->is_run = true;
	it->run = *run;
	it->version = version;
	return 0;
}

static int img_entry(void *ctx, uint8_t tag, rs_bytes key, rs_bytes value)
{
	ship_item *it = image_add(ctx);

	it->tag = tag;
	it->key = dup_bytes(key.data, key.len);
	it->klen = key.len;
	it->val = dup_bytes(value.data, value.len);
	it->vlen = value.len;
	return 0;
}

static int s_checkpoint(void *ctx, rs_image_fn image, void *image_ctx)
{
	ship_node *node = ctx;
	ship_log *log = node->log;
	ship_image *img = calloc(1, sizeof(*img));
	rs_image_sink sink = { img_run, img_entry, img };
	size_t pos;
	int rc;

	if (!img)
		return RS_ENOMEM;
	node->checkpoints++;
	/* Every record acknowledged so far is in the log below pos. */
	pos = ship_log_len(log);
	if ((rc = image(image_ctx, &sink)) < 0) {
		image_free(img);
		return rc;
	}
	pthread_mutex_lock(&log->mu);
	img->older = log->img;
	log->img = img;
	log->img_pos = pos;
	pthread_mutex_unlock(&log->mu);
	return 0;
}

static void stop_tail(ship_node *node)
{
	if (!node->tail_running)
		return;
	atomic_store(&node->stop, true);
	pthread_mutex_lock(&node->log->mu);
	pthread_cond_broadcast(&node->log->cv);
	pthread_mutex_unlock(&node->log->mu);
	pthread_join(node->tail, NULL);
	node->tail_running = false;
}

static int s_promote(void *ctx)
{
	ship_node *node = ctx;
	ship_log *log = node->log;

	node->promotes++;
	/* Fence first: the old writer appends nothing from now on. */
	pthread_mutex_lock(&log->mu);
	log->epoch++;
	node->epoch = log->epoch;
	pthread_mutex_unlock(&log->mu);
	if (!ship_wait_caught_up(node))
		return RS_EIO;
	stop_tail(node);
	node->follower = false;
	return 0;
}

static void s_stat(void *ctx, rs_db_stats *out)
{
	ship_node *node = ctx;
	size_t n = ship_log_len(node->log);
	size_t applied = atomic_load(&node->applied);

	if (!node->follower) {
		out->repl_position = n;
		return;
	}
	out->repl_position = applied;
	out->repl_lag_records = n - applied;
	if (n > applied) {
		uint64_t ts = atomic_load(&node->applied_ts), now = now_ns();

		out->repl_lag_ns = now > ts ? now - ts : 0;
	}
}

static const rs_durability_ops g_ops = {
	.version = RS_DURABILITY_OPS_VERSION,
	.commit = s_commit,
	.recover = s_recover,
	.flush = s_flush,
	.close = s_close,
	.checkpoint = s_checkpoint,
	.load_image = s_load_image,
	.promote = s_promote,
	.stat = s_stat,
};

const rs_durability_ops *ship_ops(void)
{
	return &g_ops;
}

/* ---- nodes ---- */

static void *tail_main(void *arg)
{
	ship_node *node = arg;
	ship_log *log = node->log;

	while (!atomic_load(&node->stop)) {
		size_t i = atomic_load(&node->applied);
		const rs_commit_record *rec = NULL;
		int rc;

		pthread_mutex_lock(&log->mu);
		if (i == log->n && !atomic_load(&node->stop)) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 20 * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&log->cv, &log->mu, &ts);
		}
		if (i < log->n)
			rec = &log->recs[i]->rec; /* immutable once appended */
		pthread_mutex_unlock(&log->mu);
		if (!rec)
			continue;
		rc = rs_db_apply(node->db, rec);
		if (rc < 0) {
			int zero = 0;

			atomic_compare_exchange_strong(&node->tail_err, &zero,
						       rc);
			break;
		}
		atomic_store(&node->applied_ts, rec->timestamp_ns);
		atomic_store(&node->applied, i + 1);
	}
	return NULL;
}

static int open_node(ship_log *log, ship_node *node, rs_storage storage,
		     bool follower)
{
	rs_db_options o = RS_DB_OPTIONS_INIT;
	int rc;

	memset(node, 0, sizeof(*node));
	node->log = log;
	node->follower = follower;
	pthread_mutex_lock(&log->mu);
	node->epoch = follower ? 0 : log->epoch;
	pthread_mutex_unlock(&log->mu);
	o.storage = storage;
	o.durability_ops = &g_ops;
	o.durability_ctx = node;
	o.flags = follower ? RS_DB_F_FOLLOWER : 0;
	if ((rc = rs_db_open(&node->db, &o)) < 0)
		return rc;
	if (follower) {
		if (pthread_create(&node->tail, NULL, tail_main, node) != 0)
			abort();
		node->tail_running = true;
	}
	return 0;
}

int ship_open_writer(ship_log *log, ship_node *node, rs_storage storage)
{
	return open_node(log, node, storage, false);
}

int ship_open_follower(ship_log *log, ship_node *node, rs_storage storage)
{
	return open_node(log, node, storage, true);
}

void ship_close(ship_node *node)
{
	stop_tail(node);
	rs_db_close(node->db);
	node->db = NULL;
}

bool ship_wait_caught_up(ship_node *node)
{
	/* 20 s in 1 ms steps. */
	for (int i = 0; i < 20000; i++) {
		if (atomic_load(&node->tail_err))
			return false;
		if (atomic_load(&node->applied) >= ship_log_len(node->log))
			return true;
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	return false;
}

/* ---- the dump ---- */

typedef struct dump_run {
	rs_run_id id;
	uint64_t version, base;
	uint32_t flags;
	char *text; /* its entries */
	size_t len, cap;
	size_t nentries;
} dump_run;

typedef struct dumper {
	rs_db *db;
	dump_run *runs;
	size_t n, cap;
	uint64_t mark;
} dumper;

static void text_add(dump_run *r, const char *s, size_t n)
{
	if (r->len + n + 1 > r->cap) {
		r->cap = (r->len + n + 1) * 2;
		r->text = realloc(r->text, r->cap);
		if (!r->text)
			abort();
	}
	memcpy(r->text + r->len, s, n);
	r->len += n;
	r->text[r->len] = '\0';
}

static void text_hex(dump_run *r, const void *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *b = p;
	char two[2];

	for (size_t i = 0; i < n; i++) {
		two[0] = hex[b[i] >> 4];
		two[1] = hex[b[i] & 15];
		text_add(r, two, 2);
	}
}

static uint64_t get_u64(const unsigned char *b)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

static int dump_run_cb(void *ctx, const rs_run_id *run, uint64_t version)
{
	dumper *d = ctx;
	rs__store *st = d->db->store;
	dump_run *r;
	rs__run *sr;

	if (d->n == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 16;
		d->runs = realloc(d->runs, d->cap * sizeof(*d->runs));
		if (!d->runs)
			abort();
	}
	r = &d->runs[d->n++];
	memset(r, 0, sizeof(*r));
	r->id = *run;
	r->version = version;
	rs__rcu_read_lock();
	if (st->ops->run_find(st, run, false, &sr) == 0)
		r->flags = st->ops->run_flags(sr);
	rs__rcu_read_unlock();
	return 0;
}

static int dump_entry_cb(void *ctx, uint8_t tag, const void *key, size_t klen,
			 const void *val, size_t vlen)
{
	dumper *d = ctx;
	dump_run *r = &d->runs[d->n - 1];
	char head[16];

	if (tag == RS__TAG_ENGINE && klen == 1 && vlen == 8) {
		if (*(const char *)key == 'b')
			r->base = get_u64(val);
		else
			d->mark = get_u64(val);
		return 0;
	}
	r->nentries++;
	text_add(r, head, (size_t)snprintf(head, sizeof(head), "  %u ", tag));
	text_hex(r, key, klen);
	text_add(r, " = ", 3);
	text_hex(r, val, vlen);
	text_add(r, "\n", 1);
	return 0;
}

static int run_order(const void *a, const void *b)
{
	return memcmp(&((const dump_run *)a)->id, &((const dump_run *)b)->id,
		      sizeof(rs_run_id));
}

char *ship_dump(rs_db *db)
{
	dumper d = { db, NULL, 0, 0, 0 };
	rs__image_sink sink = { dump_run_cb, dump_entry_cb, &d };
	rs__dur_host host;
	dump_run out = { 0 };
	char line[160];
	int rc;

	rs__db_host_init(db, &host);
	rs__rcu_thread_ensure();
	rc = host.image(host.ctx, &sink);
	if (d.runs)
		qsort(d.runs, d.n, sizeof(*d.runs), run_order);
	text_add(
		&out, line,
		(size_t)snprintf(
			line, sizeof(line), "image rc %d mark %llu\n", rc,
			(unsigned long long)atomic_load(&db->store->run_base)));
	for (size_t i = 0; i < d.n; i++) {
		dump_run *r = &d.runs[i];

		/* A run that exists without state: made by a transaction
		 * that never committed (no record names it). */
		if (r->nentries || r->version != r->base || r->flags) {
			text_add(&out, "run ", 4);
			text_hex(&out, r->id.bytes, sizeof(r->id.bytes));
			text_add(&out, line,
				 (size_t)snprintf(
					 line, sizeof(line),
					 " version %llu base %llu flags %u\n",
					 (unsigned long long)r->version,
					 (unsigned long long)r->base,
					 r->flags));
			if (r->text)
				text_add(&out, r->text, r->len);
		}
		free(r->text);
	}
	free(d.runs);
	return out.text;
}
