/* SPDX-License-Identifier: MIT */
/*
 * The JetStream durability backend (include/runstate/nats.h,
 * docs/replication.md).
 *
 * Log. One stream per database, one subject. Every message is published by
 * this file with three headers: Nats-Msg-Id "<writer id hex>-<n>" (n
 * unique per publish),
 * Nats-Expected-Last-Sequence seq - 1 and (from the second message on)
 * Nats-Expected-Last-Msg-Id, the id of the message this writer believes is
 * last. The writer is the only publisher of its log while it is not
 * fenced, so it predicts every sequence number: `next_seq` is assigned
 * under `mu` in the same critical section as the publish on the one
 * connection, so wire order is sequence order and JetStream checks each
 * expectation against the message before it (pipelined: many publishes in
 * flight, acknowledged in order). Any other writer's message (a fence
 * record at open or promotion) makes every later expectation of this
 * writer false, so JetStream stores none of them: "wrong last sequence" or
 * "wrong last msg id", which resync() turns into RS_EFENCED after reading
 * the foreign message. The msg-id chain also makes a barrier final: after
 * a failure, resync() publishes a barrier expecting the last stored
 * message; once it is stored no older in-flight message of this writer can
 * be stored anymore (each expects an id that is no longer last).
 *
 * Group commit. A committer encodes its record into the open `batch`
 * (one message in the making). The batch is published at once when fewer
 * than MAX_INFLIGHT messages are in flight (a lone committer never
 * waits), else by the reply that brings the count below it, so under load
 * each message carries every record that arrived while the previous ones
 * flew: one JetStream store, one Raft round and one ack for many commits.
 * A batch holds only Strict records or only Buffered ones (a record of
 * the other kind publishes it first), and at most max_msg bytes. Fencing
 * is per message, as above; a batch is stored whole or not at all.
 *
 * Pipeline. `ring` holds the messages published and not yet retired, at
 * slot seq % cap: `confirmed` is the highest sequence such that it and
 * every one below are stored and in the local database. `recs` counts
 * the records of the window, the open batch and `keep`, and never exceeds
 * cap (max_pending); so neither does the window next_seq - 1 - confirmed.
 * A Strict committer waits on its waiter (a stack object on its batch's,
 * then its message's, list) until the reply handler or resync() fills
 * it, or its deadline passes (RS_EIO: its record leaves the open batch,
 * or its message becomes an `orphan` that resync() applies if stored;
 * `resync` is set). A message is `local` once every committer of it has
 * returned (a Buffered batch at once).
 *
 * Threads: committers (ops callbacks, under their run's commit lock), the
 * NATS reply handler (a libnats thread), and `bg`: the follower's tail, the
 * promotion, and the writer's resync. A Strict committer whose record is
 * published alone, by itself, is the `reader`: its reply comes to a
 * synchronous subscription of its own inbox that it reads itself (one
 * thread handoff instead of two); at most one reader at a time. Only `bg` calls rs_db_apply(), never
 * while holding `mu`. Lock order: a run's commit lock (held by the core
 * around commit) before `mu`; nothing is locked while waiting for NATS
 * except in publish (natsConnection_PublishMsg buffers and returns).
 */
#define _GNU_SOURCE

#include <runstate/nats.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <nats/nats.h>

#include <xxhash.h>

#include "codec.h"

#define DEFAULT_ACK_MS 2000u
#define DEFAULT_PENDING 1024u
#define MSGID_LEN (2 * RSN_WRITER_ID_LEN + 1 + 20 + 1)
/* "<writer hex>-<position>-<number>", then "-<chunk>" or "-end". */
#define CKPT_ID_LEN (2 * RSN_WRITER_ID_LEN + 2 * 21 + 1)
/* JetStream error codes of a failed expectation. */
#define JS_WRONG_LAST_MSGID 10070
#define JS_WRONG_LAST_SEQ 10071

/* Messages in flight at most before new records wait in the open batch:
 * group commit (see "Pipeline" above). One committer alone never waits
 * (nothing is in flight when it commits); under load each message
 * carries every record that arrived while the previous ones flew. */
#define MAX_INFLIGHT 4u
/* Bytes of a message kept for its headers (ids and expectations, about
 * 200 bytes) below the server's max_payload. */
#define HEADER_ROOM 512u

enum slot_state {
	SLOT_FREE = 0,
	SLOT_INFLIGHT,
	SLOT_ACKED,
	SLOT_FAILED
};

/* What a message holds: a fence or barrier, or a batch of Strict records
 * (each committer waits for the ack) or of Buffered ones (local at
 * once). A batch never mixes the two: a Buffered batch that was not
 * stored is republished whole, which a Strict record told RS_EIO must
 * not be. */
enum slot_kind {
	SK_MARKER = 0,
	SK_STRICT,
	SK_BUFFERED
};

typedef struct waiter {
	/* Its own semaphore, posted once after `done` is set (under mu, or
	 * by the reply handler once it released mu: post_all()): an ack
	 * wakes only its committer, which returns without taking mu again
	 * (unless it is the last of its message; see wait_waiter()). */
	sem_t sem;
	bool done;
	int rc;
	/* A fence or barrier: told RS_EIO at once when refused (its caller
	 * retries); a commit waits for resync()'s verdict instead. */
	bool marker;
	/* The next waiter of the same message or open batch. */
	struct waiter *next;
	/* The sequence of its message; 0 while its record is in the open
	 * batch, at [off, off + len) of it. */
	uint64_t seq;
	size_t off, len;
	/* It reads its own reply (the `reader`, see wait_waiter()). */
	bool self;
} waiter;

/* A waiter on the stack; waiter_fini() after it returned. */
static void waiter_init(waiter *w, bool marker)
{
	memset(w, 0, sizeof(*w));
	sem_init(&w->sem, 0, 0);
	w->marker = marker;
}

static void waiter_fini(waiter *w)
{
	sem_destroy(&w->sem);
}

typedef struct slot {
	uint64_t seq;
	/* Unique per publish: a reply names it, so a late reply to an older
	 * publish of the same sequence (before a resync) is not taken for
	 * this one's. */
	uint64_t pub_id;
	uint8_t state;
	uint8_t kind;
	/* The local database has (or, for a waiter told 0, will have) every
	 * record of it: a Buffered batch or a marker at once, a Strict one
	 * once nwait is 0 and it is not an orphan. */
	bool local;
	/* A committer of it gave up (RS_EIO): resync() applies it if it
	 * was stored. */
	bool orphan;
	int js_err;
	/* Records in it (1 for a marker). */
	uint32_t nrec;
	/* Committers of a Strict batch still to return: set under mu at
	 * publish, decremented by each committer told 0 as it returns,
	 * without mu (acq_rel; the one that takes it to 0 takes mu to mark
	 * the slot local), or under mu by one that gives up. */
	_Atomic uint32_t nwait;
	waiter *w;
	uint8_t *buf;
	size_t len;
} slot;

/* Records committed and not published yet: one message in the making. */
typedef struct batch {
	uint8_t *buf;
	size_t len, cap;
	uint32_t nrec;
	uint8_t kind;
	waiter *w;
} batch;

enum role {
	ROLE_WRITER = 0,
	ROLE_FOLLOWER
};

struct rs_nats {
	/* Set at open, read-only after. */
	rs_allocator al; /* db_opts->allocator, or the C library's */
	char name[RS_NATS_NAME_MAX + 1];
	char stream[RS_NATS_NAME_MAX + 8];
	char ckpt_stream[RS_NATS_NAME_MAX + 16];
	char subject[RS_NATS_NAME_MAX + 8];
	char ckpt_wild[RS_NATS_NAME_MAX + 16];
	char ckpt_data[RS_NATS_NAME_MAX + 16];
	char ckpt_end[RS_NATS_NAME_MAX + 16];
	char inbox[64];
	uint8_t writer[RSN_WRITER_ID_LEN];
	char writer_hex[2 * RSN_WRITER_ID_LEN + 1];
	uint64_t ack_ns;
	int64_t ack_ms;
	uint32_t cap;
	int replicas;
	/* The largest message payload: the server's max_payload less
	 * HEADER_ROOM. */
	size_t max_msg;
	rs_durability_ops ops;
	rs_db *db;

	natsConnection *nc;
	jsCtx *js;
	natsSubscription *replies;
	/* The reader's replies: a synchronous subscription on sinbox. */
	char sinbox[64];
	natsSubscription *sreplies;
	/* A committer reads its own reply (at most one at a time). */
	bool reader;
	pthread_t reader_thread;
	/* The follower's ordered consumer (bg only, after open) and the id
	 * of the last message it delivered (recover, then bg). */
	natsSubscription *tail;
	char tail_prev[MSGID_LEN];

	pthread_mutex_t mu;
	pthread_cond_t cv;    /* waiters, window, resync done */
	pthread_cond_t bg_cv; /* wakes bg */
	slot *ring;
	uint64_t next_seq;
	uint64_t confirmed;
	uint64_t pub_ids;
	char last_id[MSGID_LEN];
	/* Slots SLOT_INFLIGHT; records in the window, the open batch and
	 * `keep` (at most cap: the window of max_pending). */
	uint32_t inflight;
	uint32_t recs;
	batch batch;
	/* Batches published so far (flush waits for the one it found). */
	uint64_t batch_gen;
	bool resync;
	bool fenced;
	/* A checkpoint is streaming its image: every commit waits for its
	 * ack (Buffered too), so the image holds only stored records. */
	bool ckpt_active;
	/* Buffered records applied locally and not stored (a failure):
	 * republished in this order by resync, before any new commit. */
	slot *keep;
	size_t nkeep, ckeep;
	/* Position of the newest checkpoint loaded or written (0: none). */
	uint64_t ckpt_pos;
	bool closing;
	enum role role;
	bool promote_req;
	bool promote_done;
	int promote_rc;
	bool bg_started;
	/* rs_db_open() has returned: bg may tail, resync and apply. */
	bool opened;
	pthread_t bg;

	/* Follower position and lag (written by bg and recover, read by
	 * stat under mu). */
	uint64_t applied_seq;
	uint64_t applied_ts;
	uint64_t lag_records;
	int tail_error;
	rs_nats_stats st;
};

/* ---- time ---- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Waits on cv until the monotonic deadline: false once it has passed. */
static bool wait_until(pthread_cond_t *cv, pthread_mutex_t *mu,
		       uint64_t deadline_ns)
{
	uint64_t now = now_ns();
	struct timespec ts;

	if (now >= deadline_ns)
		return false;
	clock_gettime(CLOCK_REALTIME, &ts);
	{
		uint64_t d = deadline_ns - now;
		uint64_t ns = (uint64_t)ts.tv_nsec + d % 1000000000u;

		ts.tv_sec += (time_t)(d / 1000000000u + ns / 1000000000u);
		ts.tv_nsec = (long)(ns % 1000000000u);
	}
	pthread_cond_timedwait(cv, mu, &ts);
	return true;
}

/* ---- message ids ---- */

/* Unique per publish (not per sequence: JetStream would take a barrier
 * or a retry at a sequence for a duplicate of the record first published
 * there, and acknowledge the wrong message). */
static void msg_id(const rs_nats *n, uint64_t pub, char *out)
{
	snprintf(out, MSGID_LEN, "%s-%" PRIu64, n->writer_hex, pub);
}

/* ---- memory: the database's allocator (rs_db_options.allocator) ---- */

static void *libc_malloc(void *ctx, size_t size)
{
	(void)ctx;
	return malloc(size);
}

static void *libc_realloc(void *ctx, void *ptr, size_t size)
{
	(void)ctx;
	return realloc(ptr, size);
}

static void libc_free(void *ctx, void *ptr)
{
	(void)ctx;
	free(ptr);
}

static void *nmalloc(const rs_nats *n, size_t size)
{
	return n->al.malloc_fn(n->al.ctx, size ? size : 1);
}

static void *nrealloc(const rs_nats *n, void *ptr, size_t size)
{
	return n->al.realloc_fn(n->al.ctx, ptr, size ? size : 1);
}

static void nfree(const rs_nats *n, void *ptr)
{
	if (ptr)
		n->al.free_fn(n->al.ctx, ptr);
}

/* count zeroed elements of `size` bytes, or NULL. */
static void *ncalloc(const rs_nats *n, size_t count, size_t size)
{
	void *p;

	if (size && count > SIZE_MAX / size)
		return NULL;
	if ((p = nmalloc(n, count * size)) != NULL)
		memset(p, 0, count * size);
	return p;
}

/* ---- publishing ---- */

static slot *slot_of(rs_nats *n, uint64_t seq)
{
	return &n->ring[seq % n->cap];
}

/* Sets a slot's state, counting the slots in flight; under mu. */
static void slot_state(rs_nats *n, slot *sl, uint8_t state)
{
	if (sl->state == SLOT_INFLIGHT)
		n->inflight--;
	if (state == SLOT_INFLIGHT)
		n->inflight++;
	sl->state = state;
}

/* Empties a slot (its buffer freed, its waiters forgotten); under mu. */
static void slot_free(rs_nats *n, slot *sl)
{
	nfree(n, sl->buf);
	sl->buf = NULL;
	sl->w = NULL;
	slot_state(n, sl, SLOT_FREE);
}

/* Recounts `inflight` and `recs` from the window, the open batch and
 * `keep`; under mu, after the window was reset (resync, a fence retried). */
static void recount_locked(rs_nats *n)
{
	n->inflight = 0;
	n->recs = n->batch.nrec;
	for (uint32_t i = 0; i < n->cap; i++) {
		slot *sl = &n->ring[i];

		if (sl->state == SLOT_FREE)
			continue;
		n->recs += sl->nrec;
		if (sl->state == SLOT_INFLIGHT)
			n->inflight++;
	}
	for (size_t i = 0; i < n->nkeep; i++)
		n->recs += n->keep[i].nrec;
}

/* Hands every waiter of a message (or of the open batch) its result and
 * wakes it; under mu. The reader, if told by another thread, is blocked
 * reading its replies: an empty message on its inbox wakes it. defer:
 * the waiters are chained on *defer instead of posted, for post_all()
 * once mu is released (each is posted exactly once either way, and
 * consumes its post before it returns: see wait_waiter()). */
static void tell_list(rs_nats *n, waiter **head, int rc, waiter **defer)
{
	waiter *w = *head;

	*head = NULL;
	while (w) {
		waiter *next = w->next;

		w->done = true;
		w->rc = rc;
		w->next = NULL;
		if (w->self &&
		    !pthread_equal(pthread_self(), n->reader_thread)) {
			char wake[80];

			snprintf(wake, sizeof(wake), "%s.0.0", n->sinbox);
			(void)natsConnection_PublishString(n->nc, wake, "");
		}
		if (defer) {
			w->next = *defer;
			*defer = w;
		} else {
			sem_post(&w->sem);
		}
		w = next;
	}
}

static void tell(rs_nats *n, slot *sl, int rc)
{
	tell_list(n, &sl->w, rc, NULL);
}

/* Posts the waiters tell_list() chained (without mu): a waiter may be
 * gone once posted, so its link is read first. */
static void post_all(waiter *w)
{
	while (w) {
		waiter *next = w->next;

		sem_post(&w->sem);
		w = next;
	}
}

/* Takes w out of a waiter list: whether it was in it. */
static bool unlink_waiter(waiter **head, waiter *w)
{
	for (waiter **p = head; *p; p = &(*p)->next) {
		if (*p == w) {
			*p = w->next;
			w->next = NULL;
			return true;
		}
	}
	return false;
}

/*
 * Publishes buf (ownership passes to the slot) as the next sequence; under
 * mu, with a free window slot. The waiters of the list w get its
 * sequence. self: its reply goes to the reader's inbox. 0 or RS_EIO /
 * RS_ENOMEM / RS_ETOOBIG (nothing sent).
 */
static int publish_locked(rs_nats *n, uint8_t *buf, size_t len, uint8_t kind,
			  uint32_t nrec, waiter *w, bool self,
			  uint64_t *seq_out)
{
	uint64_t seq = n->next_seq, pub = ++n->pub_ids;
	char reply[112], hdr[24], id[MSGID_LEN];
	natsMsg *m = NULL;
	natsStatus s;
	slot *sl;

	snprintf(reply, sizeof(reply), "%s.%" PRIu64 ".%" PRIu64,
		 self ? n->sinbox : n->inbox, seq, pub);
	s = natsMsg_Create(&m, n->subject, reply, (const char *)buf, (int)len);
	if (s != NATS_OK)
		return RS_ENOMEM;
	msg_id(n, pub, id);
	s = natsMsgHeader_Set(m, "Nats-Msg-Id", id);
	snprintf(hdr, sizeof(hdr), "%" PRIu64, seq - 1);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Nats-Expected-Last-Sequence", hdr);
	if (s == NATS_OK && n->last_id[0])
		s = natsMsgHeader_Set(m, "Nats-Expected-Last-Msg-Id",
				      n->last_id);
	if (s == NATS_OK)
		s = natsConnection_PublishMsg(n->nc, m);
	natsMsg_Destroy(m);
	if (s == NATS_MAX_PAYLOAD)
		return RS_ETOOBIG;
	if (s != NATS_OK)
		return RS_EIO;
	sl = slot_of(n, seq);
	sl->seq = seq;
	sl->pub_id = pub;
	slot_state(n, sl, SLOT_INFLIGHT);
	sl->kind = kind;
	sl->local = kind != SK_STRICT;
	sl->orphan = false;
	sl->js_err = 0;
	sl->nrec = nrec;
	{
		uint32_t nw = 0;

		for (waiter *x = w; x; x = x->next) {
			x->seq = seq;
			nw++;
		}
		atomic_store_explicit(&sl->nwait, nw, memory_order_relaxed);
	}
	sl->w = w;
	sl->buf = buf;
	sl->len = len;
	memcpy(n->last_id, id, sizeof(id));
	n->next_seq = seq + 1;
	if (seq_out)
		*seq_out = seq;
	return 0;
}

/*
 * Publishes the open batch as one message; under mu. 0 (also when it is
 * empty), or RS_EIO and the batch stays open (resyncing, fenced, the
 * window full; or the publish failed, which starts a resync that
 * publishes it after). self: its one waiter reads the reply itself.
 */
static int batch_publish_locked(rs_nats *n, bool self)
{
	batch *b = &n->batch;
	int rc;

	if (!b->nrec)
		return 0;
	if (n->resync || n->fenced || n->next_seq - 1 - n->confirmed >= n->cap)
		return RS_EIO;
	rsn_batch_finish(b->buf, b->len, b->nrec);
	rc = publish_locked(n, b->buf, b->len + RSN_SUM, b->kind, b->nrec, b->w,
			    self, NULL);
	if (rc < 0) {
		n->resync = true;
		pthread_cond_broadcast(&n->bg_cv);
		return rc;
	}
	if (self) {
		b->w->self = true;
		n->reader = true;
		n->reader_thread = pthread_self();
	}
	b->buf = NULL;
	b->len = b->cap = 0;
	b->nrec = 0;
	b->w = NULL;
	n->batch_gen++;
	return 0;
}

/* Drops the open batch (fenced: nothing of it may be stored), telling its
 * waiters rc; under mu. */
static void batch_drop_locked(rs_nats *n, int rc)
{
	tell_list(n, &n->batch.w, rc, NULL);
	nfree(n, n->batch.buf);
	n->batch.buf = NULL;
	n->batch.len = n->batch.cap = 0;
	n->recs -= n->batch.nrec;
	n->batch.nrec = 0;
}

/* Takes the record of w (its commit gave up) out of the open batch;
 * under mu. */
static void batch_remove_locked(rs_nats *n, waiter *w)
{
	batch *b = &n->batch;

	if (!unlink_waiter(&b->w, w))
		return;
	memmove(b->buf + w->off, b->buf + w->off + w->len,
		b->len - w->off - w->len);
	b->len -= w->len;
	for (waiter *x = b->w; x; x = x->next)
		if (x->off > w->off)
			x->off -= w->len;
	b->nrec--;
	n->recs--;
}

/*
 * Adds rec (rsn_record_size() = len bytes) to the open batch; under mu,
 * with room in the window. w: a Strict committer's waiter (NULL for
 * Buffered). A batch of the other kind, or one it would make too large,
 * is published first; the batch is published at once when fewer than
 * MAX_INFLIGHT messages are in flight, else by the reply that brings the
 * count below. 0, RS_ENOMEM, RS_EIO.
 */
static int batch_add_locked(rs_nats *n, const rs_commit_record *rec, size_t len,
			    waiter *w)
{
	uint8_t kind = w ? SK_STRICT : SK_BUFFERED;
	batch *b = &n->batch;
	size_t need;
	int rc;

	if (b->nrec && (b->kind != kind || b->len + len + RSN_SUM > n->max_msg))
		if ((rc = batch_publish_locked(n, false)) < 0)
			return rc;
	need = (b->nrec ? b->len : RSN_BATCH_HEAD) + len + RSN_SUM;
	if (need > b->cap) {
		size_t c = b->cap * 2 > need ? b->cap * 2 : need;
		uint8_t *p;

		if (c < 4096)
			c = 4096;
		if (!(p = nrealloc(n, b->buf, c)))
			return RS_ENOMEM;
		b->buf = p;
		b->cap = c;
	}
	if (!b->nrec) {
		rsn_batch_begin(b->buf, n->writer);
		b->len = RSN_BATCH_HEAD;
		b->kind = kind;
	}
	rsn_encode_record(b->buf + b->len, rec);
	if (w) {
		w->seq = 0;
		w->off = b->len;
		w->len = len;
		w->next = b->w;
		b->w = w;
	}
	b->len += len;
	b->nrec++;
	n->recs++;
	/* A failed publish leaves the batch to the resync it starts. A
	 * Strict record published alone by its own committer is read back
	 * by it (one thread handoff less; see wait_waiter()). */
	if (n->inflight < MAX_INFLIGHT)
		(void)batch_publish_locked(n, w && b->nrec == 1 && !n->reader);
	return 0;
}

/* Retires the stored, local slots after `confirmed`, then publishes the
 * open batch if the pipeline has room; under mu. */
static void advance_locked(rs_nats *n)
{
	while (n->confirmed + 1 < n->next_seq) {
		slot *sl = slot_of(n, n->confirmed + 1);

		if (sl->state != SLOT_ACKED || !sl->local)
			break;
		n->recs -= sl->nrec;
		slot_free(n, sl);
		n->confirmed++;
	}
	if (n->batch.nrec && n->inflight < MAX_INFLIGHT)
		(void)batch_publish_locked(n, false);
	pthread_cond_broadcast(&n->cv);
}

/* Parses `"key":<digits>` in a JetStream reply; 0 if absent. */
static uint64_t json_u64(const char *js, int len, const char *key)
{
	char pat[32];
	size_t pl;

	pl = (size_t)snprintf(pat, sizeof(pat), "\"%s\":", key);
	for (int i = 0; i + (int)pl <= len; i++) {
		if (memcmp(js + i, pat, pl) == 0) {
			uint64_t v = 0;

			for (int j = i + (int)pl;
			     j < len && js[j] >= '0' && js[j] <= '9'; j++)
				v = v * 10 + (uint64_t)(js[j] - '0');
			return v;
		}
	}
	return 0;
}

/* The sequence and publish id a reply's subject names: "<inbox>.<seq>.<publish
 * id>" on either inbox (0, 0 for anything else). */
static void reply_names(const rs_nats *n, const char *subj, uint64_t *seq,
			uint64_t *pub)
{
	const char *inbox[2] = { n->inbox, n->sinbox };
	char *end = NULL;

	*seq = *pub = 0;
	for (int i = 0; i < 2; i++) {
		size_t il = strlen(inbox[i]);

		if (strncmp(subj, inbox[i], il) == 0 && subj[il] == '.') {
			*seq = strtoull(subj + il + 1, &end, 10);
			if (end && *end == '.')
				*pub = strtoull(end + 1, NULL, 10);
			return;
		}
	}
}

/* One JetStream ack or error; under mu. defer: see tell_list(). */
static void reply_locked(rs_nats *n, natsMsg *m, waiter **defer)
{
	const char *data = natsMsg_GetData(m);
	int len = natsMsg_GetDataLength(m);
	uint64_t seq, pub;
	bool err;
	slot *sl;

	reply_names(n, natsMsg_GetSubject(m), &seq, &pub);
	/* An ack names the stream and the sequence; anything else (an error
	 * reply, a 503 "no responders" status with no body) is a failure. */
	/* A duplicate names the message first stored with this id: never
	 * this publish's (ids are unique per publish). */
	err = len <= 0 || !data || memmem(data, (size_t)len, "\"error\"", 7) ||
	      memmem(data, (size_t)len, "\"duplicate\"", 11) ||
	      json_u64(data, len, "seq") != seq;
	sl = slot_of(n, seq);
	if (seq > n->confirmed && seq < n->next_seq && sl->seq == seq &&
	    sl->pub_id == pub && sl->state == SLOT_INFLIGHT) {
		if (!err) {
			slot_state(n, sl, SLOT_ACKED);
			n->st.published += sl->nrec;
			/* Its committers mark it local as they return; the
			 * next batch is published before they are woken. */
			tell_list(n, &sl->w, 0, defer);
			advance_locked(n);
		} else {
			slot_state(n, sl, SLOT_FAILED);
			sl->js_err =
				(int)(len > 0 && data
					      ? json_u64(data, len, "err_code")
					      : 0);
			n->st.publish_failures++;
			/* A commit's waiter waits for resync()'s verdict:
			 * fenced, or an earlier record of ours was lost. */
			if (sl->w && sl->w->marker)
				tell(n, sl, RS_EIO);
			n->resync = true;
			pthread_cond_broadcast(&n->bg_cv);
		}
	}
}

/* The reply handler (a libnats thread): the replies of `inbox`. */
static void on_reply(natsConnection *nc, natsSubscription *sub, natsMsg *m,
		     void *arg)
{
	rs_nats *n = arg;
	waiter *wake = NULL;

	(void)nc;
	(void)sub;
	pthread_mutex_lock(&n->mu);
	reply_locked(n, m, &wake);
	pthread_mutex_unlock(&n->mu);
	/* Woken without mu held, they do not queue on it. */
	post_all(wake);
	natsMsg_Destroy(m);
}

/*
 * The reader (a Strict committer whose record went alone, published by
 * itself): reads the replies of `sinbox` on its own thread, where the
 * reply handler would cost a second thread handoff (libnats' delivery
 * thread, then the committer's wake-up). Under mu, released while it
 * reads. It handles whatever arrives (its reply, an earlier reader's late
 * one, a wake-up from tell_list()). false once deadline_ns has passed.
 */
static bool read_replies_locked(rs_nats *n, waiter *w, uint64_t deadline_ns)
{
	uint64_t now = now_ns();
	natsMsg *m = NULL;
	natsStatus s;

	if (now >= deadline_ns)
		return false;
	pthread_mutex_unlock(&n->mu);
	s = natsSubscription_NextMsg(
		&m, n->sreplies, (int64_t)((deadline_ns - now) / 1000000u) + 1);
	pthread_mutex_lock(&n->mu);
	if (s == NATS_OK) {
		reply_locked(n, m, NULL);
		natsMsg_Destroy(m);
	} else if (s != NATS_TIMEOUT) {
		/* The subscription failed: wait for resync()'s verdict. */
		w->self = false;
		n->reader = false;
	}
	return true;
}

/* Waits for w's post until the monotonic deadline: false once it has
 * passed without one. (sem_timedwait() takes a CLOCK_REALTIME time, as
 * wait_until() does; sem_clockwait() would not, but ThreadSanitizer does
 * not know it.) */
static bool sem_wait_until(sem_t *sem, uint64_t deadline_ns)
{
	for (;;) {
		uint64_t now = now_ns(), d, ns;
		struct timespec ts;

		if (now >= deadline_ns)
			return sem_trywait(sem) == 0;
		d = deadline_ns - now;
		clock_gettime(CLOCK_REALTIME, &ts);
		ns = (uint64_t)ts.tv_nsec + d % 1000000000u;
		ts.tv_sec += (time_t)(d / 1000000000u + ns / 1000000000u);
		ts.tv_nsec = (long)(ns % 1000000000u);
		if (sem_timedwait(sem, &ts) == 0)
			return true;
		if (errno != EINTR && errno != ETIMEDOUT)
			return false;
	}
}

/*
 * Waits for w, set by the reply handler or resync(); until deadline. Called
 * under mu, returns without it: a committer told 0 by an ack leaves without
 * taking mu again (the reply handler, which holds it, would make every
 * committer of the message queue on it), except the last one of its
 * message, which marks the message local. RS_EIO on timeout: its record
 * leaves the open batch if it is still there, else its message becomes an
 * orphan (resync follows and applies it if it was stored).
 */
static int wait_waiter(rs_nats *n, waiter *w, uint64_t deadline_ns)
{
	slot *sl;
	int rc;

	while (!w->done) {
		if (w->self) {
			if (read_replies_locked(n, w, deadline_ns))
				continue;
			w->self = false;
			n->reader = false;
			if (w->done)
				break;
		} else {
			pthread_mutex_unlock(&n->mu);
			if (sem_wait_until(&w->sem, deadline_ns))
				goto told;
			pthread_mutex_lock(&n->mu);
			/* Told between the timeout and the lock. */
			if (w->done)
				break;
		}
		if (w->seq == 0) {
			batch_remove_locked(n, w);
		} else {
			sl = slot_of(n, w->seq);
			if (sl->seq == w->seq && unlink_waiter(&sl->w, w)) {
				sl->orphan = true;
				atomic_fetch_sub_explicit(&sl->nwait, 1,
							  memory_order_acq_rel);
			}
		}
		n->resync = true;
		n->st.publish_failures++;
		pthread_cond_broadcast(&n->bg_cv);
		rc = n->fenced ? RS_EFENCED : RS_EIO;
		pthread_mutex_unlock(&n->mu);
		return rc;
	}
	if (w->self) {
		w->self = false;
		n->reader = false;
	}
	pthread_mutex_unlock(&n->mu);
	/* Told under mu; its post may come after (post_all()): w must
	 * live until it is made. */
	while (sem_wait(&w->sem) != 0 && errno == EINTR)
		;
told:
	/* done, rc and seq were written before the post (or under mu). */
	rc = w->rc;
	if (rc != 0 || w->marker)
		return rc;
	/* Stored, and its commit returns now: from here on a checkpoint's
	 * image has it, so `confirmed` may pass it once every committer of
	 * the message has returned. Told 0, its message is acknowledged and
	 * stays in its slot until nwait is 0 (nothing frees an acknowledged
	 * Strict slot before it is local). */
	sl = slot_of(n, w->seq);
	if (atomic_fetch_sub_explicit(&sl->nwait, 1, memory_order_acq_rel) ==
	    1) {
		pthread_mutex_lock(&n->mu);
		if (sl->seq == w->seq && sl->state == SLOT_ACKED &&
		    !sl->local && !sl->orphan) {
			sl->local = true;
			advance_locked(n);
		}
		pthread_mutex_unlock(&n->mu);
	}
	return 0;
}

/*
 * Waits (under mu) until the backend may publish: not resyncing, window
 * free. RS_EFENCED, RS_EIO (closing, or still resyncing / full at the
 * deadline).
 */
static int wait_writable(rs_nats *n, uint64_t deadline_ns)
{
	for (;;) {
		if (n->fenced)
			return RS_EFENCED;
		if (n->closing || n->role != ROLE_WRITER)
			return RS_EIO;
		if (!n->resync && n->recs < n->cap &&
		    n->next_seq - 1 - n->confirmed < n->cap)
			return 0;
		if (!wait_until(&n->cv, &n->mu, deadline_ns))
			return RS_EIO;
	}
}

/*
 * Waits (under mu) until every record committed before the call is stored
 * and local: the open batch is published first (or, while a resync holds
 * it, once the resync publishes it). 0, RS_EFENCED, RS_EIO at the
 * deadline.
 */
static int wait_stored_locked(rs_nats *n, uint64_t deadline_ns)
{
	uint64_t target = n->next_seq - 1, gen = n->batch_gen;
	bool open = n->batch.nrec > 0;

	if (open && batch_publish_locked(n, false) == 0) {
		target = n->next_seq - 1;
		open = false;
	}
	for (;;) {
		if (n->fenced)
			return RS_EFENCED;
		if (open && n->batch_gen > gen) {
			target = n->next_seq - 1;
			open = false;
		}
		if (!open && !n->resync && n->confirmed >= target)
			return 0;
		if (!wait_until(&n->cv, &n->mu, deadline_ns))
			return RS_EIO;
	}
}

/* Publishes a fence or barrier and waits for it (under mu). */
static int publish_marker_locked(rs_nats *n, uint8_t type, uint64_t *seq_out)
{
	uint8_t *buf = nmalloc(n, RSN_MARKER_SIZE);
	uint64_t seq;
	waiter w;
	int rc;

	if (!buf)
		return RS_ENOMEM;
	waiter_init(&w, true);
	rsn_encode_marker(buf, type, n->writer);
	rc = publish_locked(n, buf, RSN_MARKER_SIZE, SK_MARKER, 1, &w, false,
			    &seq);
	if (rc < 0) {
		nfree(n, buf);
		waiter_fini(&w);
		return rc;
	}
	n->recs++;
	rc = wait_waiter(n, &w, now_ns() + n->ack_ns);
	pthread_mutex_lock(&n->mu);
	waiter_fini(&w);
	if (rc == 0 && seq_out)
		*seq_out = seq;
	return rc;
}

/* ---- reading the stream ---- */

/* Whether a failed JetStream request may be tried again before
 * deadline_ns: a stream without a leader (an election after a server
 * died) answers at once with "no responders"; sleeps 50 ms first. */
static bool again(uint64_t deadline_ns)
{
	struct timespec ts = { 0, 50000000 };

	if (now_ns() + 50000000u >= deadline_ns)
		return false;
	nanosleep(&ts, NULL);
	return true;
}

static int stream_last(rs_nats *n, uint64_t *first, uint64_t *last)
{
	uint64_t deadline = now_ns() + n->ack_ns;
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	jsOptions jo;
	natsStatus s;

	jsOptions_Init(&jo);
	jo.Wait = n->ack_ms;
	while ((s = js_GetStreamInfo(&si, n->js, n->stream, &jo, &jerr)) !=
	       NATS_OK)
		if (!again(deadline))
			return RS_EIO;
	if (first)
		*first = si->State.FirstSeq;
	*last = si->State.LastSeq;
	jsStreamInfo_Destroy(si);
	return 0;
}

/* Fetches the message at seq of the log (stream NULL) or of `stream`:
 * RS_ENOTFOUND (deleted), RS_EIO. */
static int get_msg(rs_nats *n, const char *stream, uint64_t seq, natsMsg **out)
{
	uint64_t deadline = now_ns() + n->ack_ns;
	jsErrCode jerr = 0;
	jsOptions jo;
	natsStatus s;

	jsOptions_Init(&jo);
	jo.Wait = n->ack_ms;
	for (;;) {
		jerr = 0;
		s = js_GetMsg(out, n->js, stream ? stream : n->stream, seq, &jo,
			      &jerr);
		if (s == NATS_OK)
			return 0;
		if (jerr == JSNoMessageFoundErr)
			return RS_ENOTFOUND;
		if (!again(deadline))
			return RS_EIO;
	}
}

/* An ordered consumer of the log from `from` on. */
static int tail_open(rs_nats *n, uint64_t from, natsSubscription **out)
{
	jsErrCode jerr = 0;
	jsSubOptions so;
	jsOptions jo;
	natsStatus s;

	jsOptions_Init(&jo);
	jo.Wait = n->ack_ms;
	jsSubOptions_Init(&so);
	so.Stream = n->stream;
	so.Ordered = true;
	so.Config.DeliverPolicy = js_DeliverByStartSequence;
	so.Config.OptStartSeq = from ? from : 1;
	s = js_SubscribeSync(out, n->js, n->subject, &jo, &so, &jerr);
	return s == NATS_OK ? 0 : RS_EIO;
}

/* The next message of an ordered consumer: 0, RS_ENOTFOUND (none within
 * wait_ms), RS_EIO. *seq_out, *pending_out from its metadata. */
static int tail_next(natsSubscription *sub, int64_t wait_ms, natsMsg **out,
		     uint64_t *seq_out, uint64_t *pending_out)
{
	jsMsgMetaData *meta = NULL;
	natsStatus s;

	s = natsSubscription_NextMsg(out, sub, wait_ms);
	if (s == NATS_TIMEOUT)
		return RS_ENOTFOUND;
	if (s != NATS_OK)
		return RS_EIO;
	if (natsMsg_GetMetaData(&meta, *out) != NATS_OK) {
		natsMsg_Destroy(*out);
		*out = NULL;
		return RS_EIO;
	}
	*seq_out = meta->Sequence.Stream;
	*pending_out = meta->NumPending;
	jsMsgMetaData_Destroy(meta);
	return 0;
}

/* ---- recovery ---- */

/*
 * Whether the message at stream sequence seq is where its writer put it:
 * right after the message it expected (Nats-Expected-Last-Sequence) with
 * the id it expected (Nats-Expected-Last-Msg-Id; none only at sequence
 * 1). JetStream checks both before it stores a message; every reader
 * (recovery, the follower, resync) checks them again against what it
 * read, so a message stored against its writer's expectations, should
 * that ever happen, counts nowhere instead of forking the history.
 * prev_id: the id of the message at seq - 1 ("" for none).
 */
static bool chained(natsMsg *m, uint64_t seq, const char *prev_id)
{
	const char *els = NULL, *elmi = NULL;

	if (natsMsgHeader_Get(m, "Nats-Expected-Last-Sequence", &els) !=
		    NATS_OK ||
	    !els || strtoull(els, NULL, 10) + 1 != seq)
		return false;
	if (natsMsgHeader_Get(m, "Nats-Expected-Last-Msg-Id", &elmi) !=
		    NATS_OK ||
	    !elmi)
		return seq == 1 || prev_id[0] == '\0';
	return strcmp(elmi, prev_id) == 0;
}

/* Copies the message's id into out (MSGID_LEN; "" for none). */
static void id_of(natsMsg *m, char *out)
{
	const char *id = NULL;

	if (natsMsgHeader_Get(m, "Nats-Msg-Id", &id) == NATS_OK && id)
		snprintf(out, MSGID_LEN, "%s", id);
	else
		out[0] = '\0';
}

/* Replays the log's records (after) .. last through `replay`. */
static int replay_range(rs_nats *n, natsSubscription *sub, uint64_t last,
			rs_replay_fn replay, void *rctx, uint64_t *at)
{
	while (*at < last) {
		natsMsg *m = NULL;
		uint64_t seq = 0, pending = 0;
		rsn_msg d;
		int rc;

		rc = tail_next(sub, n->ack_ms, &m, &seq, &pending);
		if (rc < 0)
			return RS_EIO;
		if (seq <= *at) {
			natsMsg_Destroy(m);
			continue;
		}
		rc = rsn_decode(natsMsg_GetData(m),
				(size_t)natsMsg_GetDataLength(m), &n->al, &d);
		if (rc == 0 && d.nrecs && chained(m, seq, n->tail_prev)) {
			for (size_t i = 0; i < d.nrecs && rc == 0; i++) {
				rc = replay(&d.recs[i], rctx);
				n->st.replayed++;
			}
		}
		id_of(m, n->tail_prev);
		rsn_msg_free(&d);
		natsMsg_Destroy(m);
		if (rc < 0)
			return rc;
		*at = seq;
		n->applied_seq = seq;
	}
	return 0;
}

/* The id of the log's message at seq into out ("" for seq 0). */
static int id_at(rs_nats *n, uint64_t seq, char *out)
{
	natsMsg *m = NULL;
	int rc;

	out[0] = '\0';
	if (seq == 0)
		return 0;
	if ((rc = get_msg(n, NULL, seq, &m)) < 0)
		return rc;
	id_of(m, out);
	natsMsg_Destroy(m);
	return 0;
}

/* Sets last_id to the id of the message at seq (0: none). */
static int learn_last_id(rs_nats *n, uint64_t seq)
{
	return id_at(n, seq, n->last_id);
}

static int nats_recover(void *ctx, rs_replay_fn replay, void *rctx)
{
	rs_nats *n = ctx;
	natsSubscription *sub = NULL;
	uint64_t at = n->applied_seq, last = 0;
	int rc, tries;

	uint64_t first = 0;

	if ((rc = stream_last(n, &first, &last)) < 0)
		return rc;
	n->st.log_first = first;
	/* Trimmed past what the checkpoint covers: records are missing. */
	if (last > at && first > at + 1)
		return RS_ECORRUPT;
	/* The chain starts at the message the checkpoint covers. */
	if ((rc = id_at(n, at, n->tail_prev)) < 0)
		return rc;
	if ((rc = tail_open(n, at + 1, &sub)) < 0)
		return rc;
	for (tries = 0;; tries++) {
		if ((rc = replay_range(n, sub, last, replay, rctx, &at)) < 0)
			goto out;
		if (n->role == ROLE_FOLLOWER) {
			/* bg tails from here. */
			n->tail = sub;
			sub = NULL;
			break;
		}
		/* The writer takes the log over: a fence expecting `last`. */
		if ((rc = learn_last_id(n, last)) < 0)
			goto out;
		pthread_mutex_lock(&n->mu);
		n->next_seq = last + 1;
		n->confirmed = last;
		rc = publish_marker_locked(n, RSN_MSG_FENCE, &at);
		if (rc == 0) {
			n->resync = false;
			advance_locked(n);
		}
		pthread_mutex_unlock(&n->mu);
		if (rc == 0) {
			n->applied_seq = at;
			break;
		}
		/* Someone appended meanwhile (an old writer still
		 * committing): replay it, then try again. */
		if (tries >= 100 || (rc = stream_last(n, NULL, &last)) < 0) {
			rc = RS_EIO;
			goto out;
		}
		pthread_mutex_lock(&n->mu);
		for (uint64_t s = n->confirmed + 1; s < n->next_seq; s++)
			slot_free(n, slot_of(n, s));
		n->resync = false;
		recount_locked(n);
		pthread_mutex_unlock(&n->mu);
	}
	rc = 0;
out:
	if (sub) {
		natsSubscription_Unsubscribe(sub);
		natsSubscription_Destroy(sub);
	}
	return rc;
}

/* ---- commit and flush ---- */

static int nats_commit(void *ctx, const rs_commit_record *rec)
{
	rs_nats *n = ctx;
	bool strict = rec->mode == RS_DURABILITY_STRICT;
	size_t len = rsn_record_size(rec);
	uint64_t deadline = now_ns() + n->ack_ns;
	waiter w;
	int rc;

	if (len > n->max_msg - RSN_BATCH_HEAD - RSN_SUM)
		return RS_ETOOBIG;
	waiter_init(&w, false);
	pthread_mutex_lock(&n->mu);
	rc = wait_writable(n, deadline);
	strict = strict || n->ckpt_active;
	if (rc == 0)
		rc = batch_add_locked(n, rec, len, strict ? &w : NULL);
	if (rc == 0 && strict)
		rc = wait_waiter(n, &w, deadline); /* releases mu */
	else
		pthread_mutex_unlock(&n->mu);
	waiter_fini(&w);
	return rc;
}

static int nats_flush(void *ctx)
{
	rs_nats *n = ctx;
	int rc;

	pthread_mutex_lock(&n->mu);
	rc = wait_stored_locked(n, now_ns() + n->ack_ns);
	pthread_mutex_unlock(&n->mu);
	return rc;
}

static void nats_close_cb(void *ctx)
{
	/* rs_nats_close() tears everything down after rs_db_close(). */
	(void)ctx;
}

/* ---- resync (bg, writer) ---- */

/* Applies a record of ours the local database does not have (its commit
 * returned RS_EIO, or it was published before a resync and stored late);
 * rs_db_apply() skips one it already has. */
static int apply_own(rs_nats *n, const rsn_msg *d)
{
	int rc = 0;

	for (size_t i = 0; i < d->nrecs; i++) {
		if ((rc = rs_db_apply(n->db, &d->recs[i])) < 0)
			return rc;
		if (rc == 0) {
			pthread_mutex_lock(&n->mu);
			n->st.applied++;
			pthread_mutex_unlock(&n->mu);
		}
	}
	return 0;
}

/*
 * After a failed or unacknowledged publish: reads the stream after
 * `confirmed`. A message is the record of the slot at its sequence only if
 * it has the slot's very bytes; then the slot is resolved (its waiter is
 * told 0, or it is applied locally when its commit already returned).
 * Any other message of ours is an older record (published before an
 * earlier resync and stored late): it is applied locally, and from it on
 * no slot of the current window was stored (each expects its
 * predecessor). Another writer's message fences us. Then a barrier makes
 * it final: once stored, nothing older of ours can be stored anymore; the
 * Buffered records that were not stored (applied locally) are republished
 * after it. 0 when done (commits may go on), RS_EFENCED, or RS_EIO / an
 * error (try again later).
 */
static int resync_once(rs_nats *n)
{
	uint64_t last = 0, from, missing = 0;
	char prev[MSGID_LEN];
	int rc;

	if ((rc = stream_last(n, NULL, &last)) < 0)
		return rc;
	pthread_mutex_lock(&n->mu);
	from = n->confirmed + 1;
	pthread_mutex_unlock(&n->mu);
	if ((rc = id_at(n, from - 1, prev)) < 0)
		return rc;
	for (uint64_t s = from; s <= last; s++) {
		const char *data;
		size_t len;
		natsMsg *m = NULL;
		rsn_msg d;
		slot *sl;
		bool apply = false, mine;

		if ((rc = get_msg(n, NULL, s, &m)) < 0)
			return rc == RS_ENOTFOUND ? RS_ECORRUPT : rc;
		data = natsMsg_GetData(m);
		len = (size_t)natsMsg_GetDataLength(m);
		if (!chained(m, s, prev)) {
			/* Stored out of order: counts nowhere (a reader skips
			 * it), and the slot at s was not stored. */
			id_of(m, prev);
			natsMsg_Destroy(m);
			pthread_mutex_lock(&n->mu);
			if (!missing)
				missing = s;
			pthread_mutex_unlock(&n->mu);
			continue;
		}
		id_of(m, prev);
		if ((rc = rsn_decode(data, len, &n->al, &d)) < 0) {
			natsMsg_Destroy(m);
			return rc;
		}
		pthread_mutex_lock(&n->mu);
		if (memcmp(d.writer, n->writer, RSN_WRITER_ID_LEN) != 0) {
			/* Another writer's message: we are fenced. */
			n->fenced = true;
			for (uint64_t t = n->confirmed + 1; t < n->next_seq;
			     t++)
				tell(n, slot_of(n, t), RS_EFENCED);
			batch_drop_locked(n, RS_EFENCED);
			pthread_cond_broadcast(&n->cv);
			pthread_mutex_unlock(&n->mu);
			rsn_msg_free(&d);
			natsMsg_Destroy(m);
			return RS_EFENCED;
		}
		sl = slot_of(n, s);
		mine = !missing && s < n->next_seq && sl->seq == s &&
		       sl->state != SLOT_FREE && sl->buf && sl->len == len &&
		       memcmp(sl->buf, data, len) == 0;
		if (mine) {
			slot_state(n, sl, SLOT_ACKED);
			/* Its committers mark it local as they return; a
			 * record whose committer gave up is applied here
			 * (rs_db_apply() skips the others). A marker or a
			 * Buffered batch is local already: retire it now (no
			 * reply or committer will: its ack was lost). */
			tell(n, sl, 0);
			apply = sl->orphan;
			if (!apply)
				advance_locked(n);
		} else {
			if (!missing)
				missing = s;
			apply = true;
		}
		pthread_mutex_unlock(&n->mu);
		rc = apply ? apply_own(n, &d) : 0;
		rsn_msg_free(&d);
		natsMsg_Destroy(m);
		if (rc < 0)
			return rc;
		if (mine && apply) {
			pthread_mutex_lock(&n->mu);
			sl->orphan = false;
			if (atomic_load_explicit(&sl->nwait,
						 memory_order_acquire) == 0) {
				sl->local = true;
				advance_locked(n);
			}
			pthread_mutex_unlock(&n->mu);
		}
	}

	/* The window's records from `missing` (or after `last`) on were not
	 * stored. */
	{
		uint64_t old_next, stop, seq = 0, until = now_ns() + n->ack_ns;
		size_t done = 0;

		pthread_mutex_lock(&n->mu);
		old_next = n->next_seq;
		stop = missing ? missing : last + 1;
		if (stop > old_next)
			stop = old_next;
		/* Committers told 0 above mark their records local. */
		while (n->confirmed + 1 < stop &&
		       wait_until(&n->cv, &n->mu, until))
			;
		if (n->confirmed + 1 < stop) {
			pthread_mutex_unlock(&n->mu);
			return RS_EIO;
		}
		if (n->nkeep + (old_next - stop) > n->ckeep) {
			size_t c = n->nkeep + (size_t)(old_next - stop) + 16;
			slot *k =
				c > SIZE_MAX / sizeof(*k)
					? NULL
					: nrealloc(n, n->keep, c * sizeof(*k));

			if (!k) {
				pthread_mutex_unlock(&n->mu);
				return RS_ENOMEM;
			}
			n->keep = k;
			n->ckeep = c;
		}
		for (uint64_t t = stop; t < old_next; t++) {
			slot *sl = slot_of(n, t);

			tell(n, sl, RS_EIO);
			if (sl->kind == SK_BUFFERED && sl->buf) {
				/* Buffered records: the database has them,
				 * the stream must get them. */
				n->keep[n->nkeep++] = *sl;
				sl->buf = NULL;
			}
			slot_free(n, sl);
		}
		pthread_cond_broadcast(&n->cv);
		n->confirmed = last;
		n->next_seq = last + 1;
		/* The id of the message physically last (whoever wrote it). */
		memcpy(n->last_id, prev, sizeof(prev));
		rc = publish_marker_locked(n, RSN_MSG_BARRIER, &seq);
		if (rc == 0)
			advance_locked(n);
		/* In order, within the window; what is left waits for the
		 * next round (commits stay blocked until none is left). */
		while (rc == 0 && done < n->nkeep &&
		       n->next_seq - 1 - n->confirmed < n->cap) {
			rc = publish_locked(n, n->keep[done].buf,
					    n->keep[done].len, SK_BUFFERED,
					    n->keep[done].nrec, NULL, false,
					    NULL);
			if (rc == 0)
				done++;
		}
		if (done) {
			memmove(n->keep, n->keep + done,
				(n->nkeep - done) * sizeof(*n->keep));
			n->nkeep -= done;
		}
		if (rc == 0 && n->nkeep == 0) {
			n->resync = false;
			/* What was committed meanwhile follows. */
			(void)batch_publish_locked(n, false);
		} else if (rc == 0) {
			rc = RS_EIO;
		}
		recount_locked(n);
		pthread_cond_broadcast(&n->cv);
		pthread_mutex_unlock(&n->mu);
	}
	return rc;
}

/* ---- follower tail (bg) ---- */

/* Applies one message of the tail; 0 or an error stopping the tail. */
static int tail_apply(rs_nats *n, natsMsg *m, uint64_t seq, uint64_t pending)
{
	rsn_msg d;
	int rc;

	bool ok = chained(m, seq, n->tail_prev);

	id_of(m, n->tail_prev);
	rc = rsn_decode(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m),
			&n->al, &d);
	if (rc < 0)
		return rc;
	/* Not chained: stored out of its writer's order; counts nowhere. */
	for (size_t i = 0; ok && i < d.nrecs && rc >= 0; i++) {
		rc = rs_db_apply(n->db, &d.recs[i]);
		pthread_mutex_lock(&n->mu);
		if (rc >= 0)
			n->applied_ts = d.recs[i].timestamp_ns;
		if (rc == 0)
			n->st.applied++;
		pthread_mutex_unlock(&n->mu);
	}
	pthread_mutex_lock(&n->mu);
	if (rc >= 0) {
		n->applied_seq = seq;
		n->lag_records = pending;
	}
	pthread_mutex_unlock(&n->mu);
	rsn_msg_free(&d);
	return rc < 0 ? rc : 0;
}

/* Drains the tail until it has nothing for wait_ms. */
static int tail_drain(rs_nats *n, int64_t wait_ms)
{
	for (;;) {
		natsMsg *m = NULL;
		uint64_t seq = 0, pending = 0;
		int rc;

		rc = tail_next(n->tail, wait_ms, &m, &seq, &pending);
		if (rc == RS_ENOTFOUND)
			return 0;
		if (rc < 0)
			return rc;
		if (seq > n->applied_seq)
			rc = tail_apply(n, m, seq, pending);
		natsMsg_Destroy(m);
		if (rc < 0)
			return rc;
		wait_ms = pending ? n->ack_ms : 0;
	}
}

/* Promotion, on bg: catch up, fence, become the writer. */
static int do_promote(rs_nats *n)
{
	uint64_t last = 0, seq = 0;
	int rc;

	for (int tries = 0; tries < 100; tries++) {
		if ((rc = stream_last(n, NULL, &last)) < 0)
			return rc;
		while (n->applied_seq < last) {
			natsMsg *m = NULL;
			uint64_t s = 0, pending = 0;

			rc = tail_next(n->tail, n->ack_ms, &m, &s, &pending);
			if (rc < 0)
				return RS_EIO;
			if (s > n->applied_seq)
				rc = tail_apply(n, m, s, pending);
			natsMsg_Destroy(m);
			if (rc < 0)
				return rc;
		}
		if ((rc = learn_last_id(n, n->applied_seq)) < 0)
			return rc;
		pthread_mutex_lock(&n->mu);
		n->role = ROLE_WRITER;
		n->next_seq = n->applied_seq + 1;
		n->confirmed = n->applied_seq;
		n->resync = false;
		rc = publish_marker_locked(n, RSN_MSG_FENCE, &seq);
		if (rc == 0) {
			advance_locked(n);
			n->applied_seq = seq;
			n->lag_records = 0;
		} else {
			/* Not the writer yet: forget the fence attempt. */
			for (uint64_t s = n->confirmed + 1; s < n->next_seq;
			     s++)
				slot_free(n, slot_of(n, s));
			recount_locked(n);
			n->next_seq = n->confirmed + 1;
			n->role = ROLE_FOLLOWER;
			n->resync = false;
		}
		pthread_mutex_unlock(&n->mu);
		if (rc == 0) {
			/* The writer reads no tail: it would only queue our
			 * own records. */
			natsSubscription_Unsubscribe(n->tail);
			natsSubscription_Destroy(n->tail);
			n->tail = NULL;
			return 0;
		}
		if (rc == RS_ENOMEM)
			return rc;
		/* The old writer appended meanwhile: catch up again. */
	}
	return RS_EIO;
}

static void *bg_main(void *arg)
{
	rs_nats *n = arg;

	pthread_mutex_lock(&n->mu);
	while (!n->closing) {
		if (!n->opened) {
			pthread_cond_wait(&n->bg_cv, &n->mu);
			continue;
		}
		if (n->role == ROLE_FOLLOWER) {
			if (n->promote_req) {
				int rc;

				pthread_mutex_unlock(&n->mu);
				rc = do_promote(n);
				pthread_mutex_lock(&n->mu);
				n->promote_req = false;
				n->promote_done = true;
				n->promote_rc = rc;
				pthread_cond_broadcast(&n->cv);
				continue;
			}
			pthread_mutex_unlock(&n->mu);
			if (n->tail_error == 0) {
				int rc = tail_drain(n, 100);

				if (rc < 0) {
					pthread_mutex_lock(&n->mu);
					n->tail_error = rc;
					pthread_mutex_unlock(&n->mu);
				}
			} else {
				struct timespec ts = { 0, 100000000 };

				nanosleep(&ts, NULL);
			}
			pthread_mutex_lock(&n->mu);
			continue;
		}
		if (n->resync && !n->fenced) {
			int rc;
			uint64_t pause;

			/* Let in-flight replies arrive first (bounded). */
			wait_until(&n->bg_cv, &n->mu, now_ns() + 20000000u);
			pthread_mutex_unlock(&n->mu);
			rc = resync_once(n);
			pthread_mutex_lock(&n->mu);
			if (rc == 0)
				n->st.resyncs++;
			pause = rc == 0 || rc == RS_EFENCED ? 0 : 200000000u;
			if (pause)
				wait_until(&n->bg_cv, &n->mu, now_ns() + pause);
			continue;
		}
		pthread_cond_wait(&n->bg_cv, &n->mu);
	}
	pthread_mutex_unlock(&n->mu);
	return NULL;
}

/* ---- v2 ops ---- */

/* ---- checkpoints ---- */

/* The image being written: bytes not yet in a chunk, the chunks so far. */
typedef struct ckpt_out {
	rs_nats *n;
	uint8_t *buf;
	size_t len;
	char id[CKPT_ID_LEN];
	uint64_t chunks, bytes, first_seq, last_seq;
	XXH3_state_t *hash;
	int err;
} ckpt_out;

static int chunk_publish(ckpt_out *o, const uint8_t *p, size_t len)
{
	char msgid[CKPT_ID_LEN + 22];
	jsPubAck *pa = NULL;
	jsErrCode jerr = 0;
	jsPubOptions po;

	jsPubOptions_Init(&po);
	snprintf(msgid, sizeof(msgid), "%s-%" PRIu64, o->id, o->chunks);
	po.MsgId = msgid;
	po.MaxWait = o->n->ack_ms;
	if (js_Publish(&pa, o->n->js, o->n->ckpt_data, p, (int)len, &po,
		       &jerr) != NATS_OK)
		return RS_EIO;
	if (o->chunks == 0)
		o->first_seq = pa->Sequence;
	o->last_seq = pa->Sequence;
	o->chunks++;
	jsPubAck_Destroy(pa);
	return 0;
}

/* Appends bytes to the image, publishing every full chunk. */
static int ckpt_append(ckpt_out *o, const void *data, size_t len)
{
	const uint8_t *p = data;

	XXH3_64bits_update(o->hash, data, len);
	o->bytes += len;
	while (len) {
		size_t take = RSN_CHUNK - o->len;

		if (take > len)
			take = len;
		memcpy(o->buf + o->len, p, take);
		o->len += take;
		p += take;
		len -= take;
		if (o->len == RSN_CHUNK) {
			int rc = chunk_publish(o, o->buf, o->len);

			if (rc < 0)
				return rc;
			o->len = 0;
		}
	}
	return 0;
}

static int ckpt_run(void *ctx, const rs_run_id *run, uint64_t version)
{
	uint8_t b[RSN_IMG_RUN_SIZE];

	rsn_image_run(b, run, version);
	return ckpt_append(ctx, b, sizeof(b));
}

static int ckpt_entry(void *ctx, uint8_t tag, rs_bytes key, rs_bytes value)
{
	uint8_t b[RSN_IMG_ENTRY_FIXED];
	int rc;

	rsn_image_entry_head(b, tag, key.len, value.len);
	if ((rc = ckpt_append(ctx, b, sizeof(b))) < 0 ||
	    (rc = ckpt_append(ctx, key.data, key.len)) < 0)
		return rc;
	return value.len ? ckpt_append(ctx, value.data, value.len) : 0;
}

static int purge_below(rs_nats *n, const char *stream, uint64_t seq)
{
	jsErrCode jerr = 0;
	jsOptions jo;

	jsOptions_Init(&jo);
	jo.Wait = n->ack_ms;
	jo.Stream.Purge.Sequence = seq;
	return js_PurgeStream(n->js, stream, &jo, &jerr) == NATS_OK ? 0
								    : RS_EIO;
}

/*
 * rs_db_checkpoint(): flush, stream the image into chunks of the
 * checkpoint stream (commits meanwhile wait for their acks), publish the
 * end record naming them and the position they cover, check with a
 * barrier that this writer is not fenced, then trim: the log below the
 * previous checkpoint's position (a standby lagging by less than one
 * checkpoint interval still finds its records) and the checkpoint stream
 * below this checkpoint's first chunk.
 */
static int nats_checkpoint(void *ctx, rs_image_fn image, void *image_ctx)
{
	rs_nats *n = ctx;
	ckpt_out o;
	rs_image_sink sink;
	rsn_ckpt_end end;
	uint8_t endbuf[RSN_CKPT_END_SIZE];
	uint64_t pos, prev, number, deadline = now_ns() + n->ack_ns;
	int rc = 0;

	memset(&o, 0, sizeof(o));
	o.n = n;
	o.buf = nmalloc(n, RSN_CHUNK);
	o.hash = XXH3_createState();
	if (!o.buf || !o.hash) {
		rc = RS_ENOMEM;
		goto out;
	}
	XXH3_64bits_reset(o.hash);
	pthread_mutex_lock(&n->mu);
	n->ckpt_active = true;
	/* Every record committed before now stored and local (Buffered
	 * ones included); later ones wait for their acks, so they may be in
	 * the image but are stored (replay skips them). Commits go on. */
	rc = wait_stored_locked(n, deadline);
	pos = n->confirmed;
	prev = n->ckpt_pos;
	number = ++n->pub_ids;
	pthread_mutex_unlock(&n->mu);
	if (rc < 0)
		goto done;
	snprintf(o.id, sizeof(o.id), "%s-%" PRIu64 "-%" PRIu64, n->writer_hex,
		 pos, number);
	sink.run = ckpt_run;
	sink.entry = ckpt_entry;
	sink.ctx = &o;
	rc = image(image_ctx, &sink);
	if (rc == 0 && (o.len || o.chunks == 0))
		rc = chunk_publish(&o, o.buf, o.len);
done:
	pthread_mutex_lock(&n->mu);
	n->ckpt_active = false;
	pthread_mutex_unlock(&n->mu);
	if (rc < 0)
		goto out;
	memcpy(end.writer, n->writer, RSN_WRITER_ID_LEN);
	end.position = pos;
	end.number = number;
	end.first_seq = o.first_seq;
	end.last_seq = o.last_seq;
	end.chunks = o.chunks;
	end.bytes = o.bytes;
	end.hash = XXH3_64bits_digest(o.hash);
	rsn_encode_ckpt_end(endbuf, &end);
	{
		jsPubAck *pa = NULL;
		jsErrCode jerr = 0;
		jsPubOptions po;
		char msgid[CKPT_ID_LEN + 8];

		jsPubOptions_Init(&po);
		snprintf(msgid, sizeof(msgid), "%s-end", o.id);
		po.MsgId = msgid;
		po.MaxWait = n->ack_ms;
		if (js_Publish(&pa, n->js, n->ckpt_end, endbuf,
			       (int)sizeof(endbuf), &po, &jerr) != NATS_OK) {
			rc = RS_EIO;
			goto out;
		}
		jsPubAck_Destroy(pa);
	}
	/* Still the writer? A fenced one keeps its (correct, older)
	 * checkpoint but trims nothing. */
	pthread_mutex_lock(&n->mu);
	rc = wait_writable(n, now_ns() + n->ack_ns);
	if (rc == 0)
		rc = publish_marker_locked(n, RSN_MSG_BARRIER, NULL);
	if (rc == RS_EIO && n->fenced)
		rc = RS_EFENCED;
	if (rc == 0) {
		n->ckpt_pos = pos;
		n->st.checkpoints++;
	}
	pthread_mutex_unlock(&n->mu);
	if (rc < 0)
		goto out;
	if (prev > 1 && (rc = purge_below(n, n->stream, prev)) < 0)
		goto out;
	rc = purge_below(n, n->ckpt_stream, o.first_seq);
out:
	nfree(n, o.buf);
	if (o.hash)
		XXH3_freeState(o.hash);
	return rc;
}

/* rs_db_open(), before recover: the newest complete checkpoint. */
static int nats_load_image(void *ctx, const rs_image_sink *load)
{
	rs_nats *n = ctx;
	natsMsg *m = NULL;
	jsErrCode jerr = 0;
	jsOptions jo;
	rsn_ckpt_end end;
	uint8_t *img = NULL;
	size_t len = 0;
	uint64_t chunks = 0;
	char prefix[CKPT_ID_LEN + 2];
	natsStatus s;
	int rc;

	jsOptions_Init(&jo);
	jo.Wait = n->ack_ms;
	for (uint64_t deadline = now_ns() + n->ack_ns;;) {
		jerr = 0;
		s = js_GetLastMsg(&m, n->js, n->ckpt_stream, n->ckpt_end, &jo,
				  &jerr);
		if (s == NATS_OK)
			break;
		if (jerr == JSNoMessageFoundErr)
			return 0;
		if (!again(deadline))
			return RS_EIO;
	}
	rc = rsn_decode_ckpt_end(natsMsg_GetData(m),
				 (size_t)natsMsg_GetDataLength(m), &end);
	natsMsg_Destroy(m);
	if (rc < 0)
		return rc;
	if (end.bytes > SIZE_MAX / 2 || !(img = nmalloc(n, (size_t)end.bytes)))
		return RS_ENOMEM;
	{
		char hex[2 * RSN_WRITER_ID_LEN + 1];

		for (size_t i = 0; i < RSN_WRITER_ID_LEN; i++)
			snprintf(hex + 2 * i, 3, "%02x", end.writer[i]);
		snprintf(prefix, sizeof(prefix), "%s-%" PRIu64 "-%" PRIu64 "-",
			 hex, end.position, end.number);
	}
	for (uint64_t seq = end.first_seq; seq <= end.last_seq; seq++) {
		const char *id = NULL;
		size_t dl;

		if ((rc = get_msg(n, n->ckpt_stream, seq, &m)) < 0)
			goto out;
		dl = (size_t)natsMsg_GetDataLength(m);
		/* Only this checkpoint's chunks (another writer's may sit
		 * between them). */
		if (natsMsgHeader_Get(m, "Nats-Msg-Id", &id) == NATS_OK && id &&
		    strncmp(id, prefix, strlen(prefix)) == 0) {
			if (dl > end.bytes - len) {
				natsMsg_Destroy(m);
				rc = RS_ECORRUPT;
				goto out;
			}
			memcpy(img + len, natsMsg_GetData(m), dl);
			len += dl;
			chunks++;
		}
		natsMsg_Destroy(m);
	}
	if (len != end.bytes || chunks != end.chunks ||
	    XXH3_64bits(img, len) != end.hash) {
		rc = RS_ECORRUPT;
		goto out;
	}
	rc = rsn_image_decode(img, len, load);
	if (rc == 0) {
		n->applied_seq = end.position;
		n->ckpt_pos = end.position;
		n->st.checkpoint_position = end.position;
	}
out:
	nfree(n, img);
	return rc;
}

static int nats_promote(void *ctx)
{
	rs_nats *n = ctx;
	uint64_t deadline = now_ns() + 30u * n->ack_ns;
	int rc;

	pthread_mutex_lock(&n->mu);
	if (n->role != ROLE_FOLLOWER) {
		pthread_mutex_unlock(&n->mu);
		return RS_EINVAL;
	}
	n->promote_done = false;
	n->promote_req = true;
	pthread_cond_broadcast(&n->bg_cv);
	while (!n->promote_done) {
		if (!wait_until(&n->cv, &n->mu, deadline))
			break;
	}
	rc = n->promote_done ? n->promote_rc : RS_EIO;
	pthread_mutex_unlock(&n->mu);
	return rc;
}

static void nats_stat(void *ctx, rs_db_stats *out)
{
	rs_nats *n = ctx;
	rs_nats_stats s = RS_NATS_STATS_INIT;

	rs_nats_stat(n, &s);
	out->repl_position = s.position;
	out->repl_lag_records = s.lag_records;
	out->repl_lag_ns = s.lag_ns;
}

/* ---- open and close ---- */

static bool valid_name(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return i > 0 && i <= RS_NATS_NAME_MAX;
}

/* Whether a refused stream creation can never succeed as asked (the
 * configuration is wrong for this cluster), as against a cluster still
 * electing or placing (no peers yet, system unavailable, a timeout). */
static bool stream_refusal_final(jsErrCode jerr)
{
	return jerr == JSStreamSubjectOverlapErr ||
	       jerr == JSStreamReplicasNotSupportedErr ||
	       jerr == JSClusterRequiredErr || jerr == JSClusterNotActiveErr ||
	       jerr == JSNotEnabledErr || jerr == JSNotEnabledForAccountErr;
}

/* Finds or creates the stream, retried until the ack deadline while the
 * cluster is not ready for it (a cluster that has just formed can answer
 * account requests before it knows enough peers to place a replicated
 * stream). 0 or RS_EIO. */
static int ensure_stream(rs_nats *n, const char *name, const char *subject)
{
	uint64_t deadline = now_ns() + n->ack_ns;
	jsStreamInfo *si = NULL;
	jsStreamConfig sc;
	jsErrCode jerr = 0;
	jsOptions jo;
	natsStatus s;
	const char *subs[1];

	jsOptions_Init(&jo);
	jo.Wait = n->ack_ms;
	jsStreamConfig_Init(&sc);
	subs[0] = subject;
	sc.Name = name;
	sc.Subjects = subs;
	sc.SubjectsLen = 1;
	sc.Storage = js_FileStorage;
	sc.Replicas = n->replicas;
	for (;;) {
		jerr = 0;
		s = js_GetStreamInfo(&si, n->js, name, &jo, &jerr);
		if (s == NATS_OK) {
			jsStreamInfo_Destroy(si);
			return 0;
		}
		if (jerr == JSStreamNotFoundErr || s == NATS_NOT_FOUND) {
			jerr = 0;
			s = js_AddStream(&si, n->js, &sc, &jo, &jerr);
			if (s == NATS_OK) {
				jsStreamInfo_Destroy(si);
				return 0;
			}
			/* JSStreamNameExistErr: another process made it
			 * meanwhile; the next round finds it. */
			if (stream_refusal_final(jerr))
				return RS_EIO;
		}
		if (!again(deadline))
			return RS_EIO;
	}
}

static int connect_all(rs_nats *n, const char *servers)
{
	natsOptions *no = NULL;
	size_t len = strlen(servers) + 1;
	char *list = nmalloc(n, len), *save = NULL, *tok;
	const char *urls[16];
	int nurls = 0, rc = RS_EIO;
	natsInbox *ib = NULL;
	jsOptions jo;

	if (!list)
		return RS_ENOMEM;
	memcpy(list, servers, len);
	for (tok = strtok_r(list, ",", &save); tok && nurls < 16;
	     tok = strtok_r(NULL, ",", &save))
		urls[nurls++] = tok;
	if (nurls == 0) {
		nfree(n, list);
		return RS_EINVAL;
	}
	if (natsOptions_Create(&no) != NATS_OK)
		goto out;
	if (natsOptions_SetServers(no, urls, nurls) != NATS_OK ||
	    natsOptions_SetTimeout(no, n->ack_ms) != NATS_OK ||
	    natsOptions_SetMaxReconnect(no, -1) != NATS_OK ||
	    natsOptions_SetReconnectWait(no, 100) != NATS_OK ||
	    natsOptions_SetPingInterval(no, 1000) != NATS_OK ||
	    natsOptions_SetMaxPingsOut(no, 2) != NATS_OK ||
	    natsOptions_SetNoRandomize(no, false) != NATS_OK ||
	    /* A committer waits for its ack: the publish must not sit in
	     * the client's buffer until the flusher's next round (about
	     * 1 ms). Concurrent publishes still share the socket. */
	    natsOptions_SetSendAsap(no, true) != NATS_OK)
		goto out;
	if (natsConnection_Connect(&n->nc, no) != NATS_OK)
		goto out;
	jsOptions_Init(&jo);
	jo.Wait = n->ack_ms;
	if (natsConnection_JetStream(&n->js, n->nc, &jo) != NATS_OK)
		goto out;
	if (natsInbox_Create(&ib) != NATS_OK)
		goto out;
	snprintf(n->inbox, sizeof(n->inbox), "%s", (const char *)ib);
	natsInbox_Destroy(ib);
	{
		char wild[80];

		snprintf(wild, sizeof(wild), "%s.>", n->inbox);
		if (natsConnection_Subscribe(&n->replies, n->nc, wild, on_reply,
					     n) != NATS_OK)
			goto out;
		/* Replies must never be dropped as a slow consumer. */
		natsSubscription_SetPendingLimits(n->replies, -1, -1);
		if (natsInbox_Create(&ib) != NATS_OK)
			goto out;
		snprintf(n->sinbox, sizeof(n->sinbox), "%s", (const char *)ib);
		natsInbox_Destroy(ib);
		snprintf(wild, sizeof(wild), "%s.>", n->sinbox);
		if (natsConnection_SubscribeSync(&n->sreplies, n->nc, wild) !=
		    NATS_OK)
			goto out;
		natsSubscription_SetPendingLimits(n->sreplies, -1, -1);
	}
	rc = 0;
out:
	natsOptions_Destroy(no);
	nfree(n, list);
	return rc;
}

/* Stops and joins bg (it applies to the database: before closing it). */
static void stop_bg(rs_nats *n)
{
	if (n->bg_started) {
		pthread_mutex_lock(&n->mu);
		n->closing = true;
		pthread_cond_broadcast(&n->bg_cv);
		pthread_cond_broadcast(&n->cv);
		pthread_mutex_unlock(&n->mu);
		pthread_join(n->bg, NULL);
		n->bg_started = false;
	}
}

static void teardown(rs_nats *n)
{
	stop_bg(n);
	if (n->tail) {
		natsSubscription_Unsubscribe(n->tail);
		natsSubscription_Destroy(n->tail);
	}
	if (n->sreplies) {
		natsSubscription_Unsubscribe(n->sreplies);
		natsSubscription_Destroy(n->sreplies);
	}
	if (n->replies) {
		/* Drain: wait until no reply handler still runs on n. */
		if (natsSubscription_Drain(n->replies) == NATS_OK)
			natsSubscription_WaitForDrainCompletion(n->replies,
								n->ack_ms);
		natsSubscription_Destroy(n->replies);
	}
	jsCtx_Destroy(n->js);
	if (n->nc) {
		natsConnection_Close(n->nc);
		natsConnection_Destroy(n->nc);
	}
	if (n->ring) {
		for (uint32_t i = 0; i < n->cap; i++)
			nfree(n, n->ring[i].buf);
		nfree(n, n->ring);
	}
	for (size_t i = 0; i < n->nkeep; i++)
		nfree(n, n->keep[i].buf);
	nfree(n, n->keep);
	nfree(n, n->batch.buf);
	pthread_cond_destroy(&n->bg_cv);
	pthread_cond_destroy(&n->cv);
	pthread_mutex_destroy(&n->mu);
	n->al.free_fn(n->al.ctx, n);
}

int rs_nats_open(rs_nats **out, rs_db **db_out, const rs_nats_options *opts,
		 const rs_db_options *db_opts)
{
	rs_db_options o = RS_DB_OPTIONS_INIT;
	rs_allocator al = { libc_malloc, libc_realloc, libc_free, NULL };
	rs_nats *n;
	int rc;

	if (out)
		*out = NULL;
	if (db_out)
		*db_out = NULL;
	if (!out || !db_out || !opts)
		return RS_EINVAL;
	if (opts->version != RS_NATS_OPTIONS_VERSION)
		return RS_EVERSION;
	if (!opts->servers || !opts->name || !valid_name(opts->name) ||
	    opts->replicas < 0 || opts->replicas > 5 ||
	    (opts->flags & ~RS_NATS_F_FOLLOWER))
		return RS_EINVAL;
	if (db_opts) {
		if (db_opts->version != RS_DB_OPTIONS_VERSION)
			return RS_EVERSION;
		if (db_opts->durability_ops || db_opts->durability_ctx ||
		    db_opts->path)
			return RS_EINVAL;
		o = *db_opts;
		if (o.allocator.malloc_fn || o.allocator.realloc_fn ||
		    o.allocator.free_fn) {
			if (!o.allocator.malloc_fn || !o.allocator.realloc_fn ||
			    !o.allocator.free_fn)
				return RS_EINVAL;
			al = o.allocator;
		}
	}
	n = al.malloc_fn(al.ctx, sizeof(*n));
	if (!n)
		return RS_ENOMEM;
	memset(n, 0, sizeof(*n));
	n->al = al;
	pthread_mutex_init(&n->mu, NULL);
	pthread_cond_init(&n->cv, NULL);
	pthread_cond_init(&n->bg_cv, NULL);
	snprintf(n->name, sizeof(n->name), "%s", opts->name);
	snprintf(n->stream, sizeof(n->stream), "RS_%s", opts->name);
	snprintf(n->ckpt_stream, sizeof(n->ckpt_stream), "RS_%s_CKPT",
		 opts->name);
	snprintf(n->subject, sizeof(n->subject), "rs.%s.log", opts->name);
	snprintf(n->ckpt_wild, sizeof(n->ckpt_wild), "rs.%s.ckpt.>",
		 opts->name);
	snprintf(n->ckpt_data, sizeof(n->ckpt_data), "rs.%s.ckpt.data",
		 opts->name);
	snprintf(n->ckpt_end, sizeof(n->ckpt_end), "rs.%s.ckpt.end",
		 opts->name);
	n->ack_ms =
		opts->ack_timeout_ms ? opts->ack_timeout_ms : DEFAULT_ACK_MS;
	n->ack_ns = (uint64_t)n->ack_ms * 1000000u;
	n->cap = opts->max_pending ? opts->max_pending : DEFAULT_PENDING;
	n->replicas = opts->replicas ? opts->replicas : 1;
	n->role = (opts->flags & RS_NATS_F_FOLLOWER) ? ROLE_FOLLOWER
						     : ROLE_WRITER;
	n->next_seq = 1;
	n->ring = ncalloc(n, n->cap, sizeof(*n->ring));
	if (!n->ring) {
		rc = RS_ENOMEM;
		goto fail;
	}
	if (getrandom(n->writer, sizeof(n->writer), 0) !=
	    (ssize_t)sizeof(n->writer)) {
		rc = RS_EIO;
		goto fail;
	}
	for (size_t i = 0; i < RSN_WRITER_ID_LEN; i++)
		snprintf(n->writer_hex + 2 * i, 3, "%02x", n->writer[i]);
	if ((rc = connect_all(n, opts->servers)) < 0)
		goto fail;
	{
		int64_t mp = natsConnection_GetMaxPayload(n->nc);

		n->max_msg =
			mp > (int64_t)(HEADER_ROOM + RSN_BATCH_HEAD + RSN_SUM)
				? (size_t)mp - HEADER_ROOM
				: RSN_BATCH_HEAD + RSN_SUM;
	}
	if ((rc = ensure_stream(n, n->stream, n->subject)) < 0 ||
	    (rc = ensure_stream(n, n->ckpt_stream, n->ckpt_wild)) < 0)
		goto fail;
	if (pthread_create(&n->bg, NULL, bg_main, n) != 0) {
		rc = RS_ENOMEM;
		goto fail;
	}
	n->bg_started = true;

	n->ops = (rs_durability_ops)RS_DURABILITY_OPS_INIT;
	n->ops.commit = nats_commit;
	n->ops.recover = nats_recover;
	n->ops.flush = nats_flush;
	n->ops.close = nats_close_cb;
	n->ops.promote = nats_promote;
	n->ops.stat = nats_stat;
	n->ops.checkpoint = nats_checkpoint;
	n->ops.load_image = nats_load_image;
	if (n->role == ROLE_FOLLOWER)
		o.flags |= RS_DB_F_FOLLOWER;
	if (o.durability == RS_DURABILITY_INMEMORY)
		o.durability = RS_DURABILITY_BUFFERED;
	o.durability_ops = &n->ops;
	o.durability_ctx = n;
	if ((rc = rs_db_open(&n->db, &o)) < 0)
		goto fail;
	/* The follower's tail starts now that the database exists. */
	pthread_mutex_lock(&n->mu);
	n->opened = true;
	pthread_cond_broadcast(&n->bg_cv);
	pthread_mutex_unlock(&n->mu);
	*out = n;
	*db_out = n->db;
	return 0;
fail:
	teardown(n);
	return rc;
}

int rs_nats_promote(rs_nats *n)
{
	if (!n)
		return RS_EINVAL;
	return rs_db_promote(n->db);
}

rs_db *rs_nats_db(const rs_nats *n)
{
	return n ? n->db : NULL;
}

void rs_nats_close(rs_nats *n)
{
	uint64_t deadline;

	if (!n)
		return;
	stop_bg(n);
	rs_db_close(n->db);
	n->db = NULL;
	/* Buffered records still open or in flight: publish them and let
	 * their acks arrive. */
	deadline = now_ns() + n->ack_ns;
	pthread_mutex_lock(&n->mu);
	(void)batch_publish_locked(n, false);
	while (!n->fenced &&
	       (n->batch.nrec ||
		(n->confirmed + 1 < n->next_seq &&
		 slot_of(n, n->confirmed + 1)->state == SLOT_INFLIGHT)))
		if (!wait_until(&n->cv, &n->mu, deadline))
			break;
	pthread_mutex_unlock(&n->mu);
	teardown(n);
}

int rs_nats_stat(rs_nats *n, rs_nats_stats *out)
{
	if (!n || !out)
		return RS_EINVAL;
	if (out->version != RS_NATS_STATS_VERSION)
		return RS_EVERSION;
	pthread_mutex_lock(&n->mu);
	*out = n->st;
	out->version = RS_NATS_STATS_VERSION;
	out->fenced = n->fenced;
	out->error = n->tail_error;
	out->follower = n->role == ROLE_FOLLOWER;
	if (n->role == ROLE_FOLLOWER) {
		out->position = n->applied_seq;
		out->lag_records = n->lag_records;
		out->lag_ns = 0;
		if (n->lag_records && n->applied_ts) {
			uint64_t now = wall_ns();

			out->lag_ns =
				now > n->applied_ts ? now - n->applied_ts : 0;
		}
	} else {
		out->position = n->confirmed;
	}
	pthread_mutex_unlock(&n->mu);
	return 0;
}
