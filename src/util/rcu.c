/* SPDX-License-Identifier: MIT */
#include "util/rcu.h"

#include <pthread.h>
#include <stdatomic.h>

/*
 * Threads are registered on their first call into the library and leave RCU
 * from a pthread_key destructor when they exit. A thread the host already
 * registered with urcu-memb is left as it is (and not unregistered by us).
 */
RS_TLS bool rs__rcu_thread_ready;
#ifdef RS_TSAN
char rs__tsan_grace_token;
#endif
static RS_TLS bool registered_by_us;

static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t exit_key;
static void (*_Atomic exit_hook)(void);

static void thread_exit(void *arg)
{
	void (*hook)(void) =
		atomic_load_explicit(&exit_hook, memory_order_acquire);

	(void)arg;
	if (hook)
		hook();
	if (registered_by_us) {
		urcu_memb_unregister_thread();
		registered_by_us = false;
	}
	rs__rcu_thread_ready = false;
}

static void make_key(void)
{
	(void)pthread_key_create(&exit_key, thread_exit);
}

void rs__rcu_thread_register_slow(void)
{
	pthread_once(&key_once, make_key);
	if (!URCU_TLS(urcu_memb_reader).registered) {
		urcu_memb_register_thread();
		registered_by_us = true;
	}
	/* Any non-NULL value makes the destructor run at thread exit. */
	(void)pthread_setspecific(exit_key, &rs__rcu_thread_ready);
	rs__rcu_thread_ready = true;
}

void rs__thread_set_exit_hook(void (*hook)(void))
{
	atomic_store_explicit(&exit_hook, hook, memory_order_release);
}

/* ---- retire lists ---- */

void rs__retire_list_init(rs__retire_list *l, const rs__alloc *a,
			  size_t first_cap)
{
	l->e = NULL;
	l->n = l->cap = l->resv = 0;
	l->first_cap = first_cap;
	l->alloc = a;
}

void rs__retire_list_fini(rs__retire_list *l)
{
	rs__retire_free_now(l);
	rs__free(l->alloc, l->e);
	l->e = NULL;
	l->cap = l->resv = 0;
}

int rs__retire_reserve(rs__retire_list *l, size_t extra)
{
	size_t need = l->n + l->resv + extra;

	if (need > l->cap && l->cap == 0 && need <= l->first_cap) {
		/* A list handed to a reclaimer gets its size at once, so one
		 * whose arrays then only change hands never reallocates. */
		l->e = rs__malloc(l->alloc, l->first_cap * sizeof(*l->e));
		if (!l->e)
			return RS_ENOMEM;
		l->cap = l->first_cap;
	}
	RS_TRY(rs__grow(l->alloc, (void **)&l->e, &l->cap, need,
			sizeof(*l->e)));
	l->resv += extra;
	return 0;
}

static void entries_free(const rs__alloc *a, rs__retired *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		e[i].fn(a, e[i].p);
}

void rs__retire_free_now(rs__retire_list *l)
{
	entries_free(l->alloc, l->e, l->n);
	l->n = 0;
}

void rs__retire_flush(rs__retire_list *l)
{
	if (!l->n)
		return;
	urcu_memb_synchronize_rcu();
	/* Every read-side section that could see these objects has ended;
	 * each released this token when it did (see rs__rcu_read_unlock). */
	RS__TSAN_ACQUIRE(&rs__tsan_grace_token);
	rs__retire_free_now(l);
}

/* ---- the reclaimer: a thread per database ---- */

/* Free one taken batch and shrink an array one huge commit grew. */
static void batch_free(rs__reclaimer *rc, rs__rbatch *b)
{
	entries_free(rc->alloc, b->e, b->n);
	b->n = 0;
	if (b->cap > RS__RETIRE_CAP) {
		rs__retired *e =
			rs__malloc(rc->alloc, RS__RETIRE_CAP * sizeof(*e));
		if (e) {
			rs__free(rc->alloc, b->e);
			b->e = e;
			b->cap = RS__RETIRE_CAP;
		}
	}
}

static void *reclaimer_main(void *arg)
{
	rs__reclaimer *rc = arg;

	pthread_mutex_lock(&rc->lock);
	for (;;) {
		rs__rbatch *got, *last = NULL;
		unsigned n = 0;

		while (!rc->queued && !rc->stop)
			pthread_cond_wait(&rc->work, &rc->lock);
		if (!rc->queued)
			break; /* stop, and nothing left */
		got = rc->queued;
		rc->queued = NULL;
		pthread_mutex_unlock(&rc->lock);

		/* One grace period for every batch taken. This thread is not
		 * an RCU reader, so it cannot hold one back. */
		urcu_memb_synchronize_rcu();
		/* Every read-side section that could see these objects has
		 * ended; each released this token when it did. */
		RS__TSAN_ACQUIRE(&rs__tsan_grace_token);
		for (rs__rbatch *b = got; b; b = b->next) {
			batch_free(rc, b);
			last = b;
			n++;
		}

		pthread_mutex_lock(&rc->lock);
		last->next = rc->idle;
		rc->idle = got;
		rc->inflight -= n;
		pthread_cond_broadcast(&rc->freed);
	}
	pthread_mutex_unlock(&rc->lock);
	return NULL;
}

int rs__reclaim_init(rs__reclaimer *rc, const rs__alloc *a)
{
	unsigned made = 0;

	rc->alloc = a;
	rc->idle = rc->queued = NULL;
	rc->inflight = 0;
	rc->bound = RS__RECLAIM_INFLIGHT;
	rc->stop = false;
	rc->handoffs = rc->waits = 0;
	for (; made < RS__RECLAIM_INFLIGHT; made++) {
		rs__rbatch *b = &rc->b[made];

		b->n = 0;
		b->cap = RS__RETIRE_CAP;
		b->e = rs__malloc(a, RS__RETIRE_CAP * sizeof(*b->e));
		if (!b->e)
			goto fail;
		b->next = rc->idle;
		rc->idle = b;
	}
	if (pthread_mutex_init(&rc->lock, NULL) != 0)
		goto fail;
	if (pthread_cond_init(&rc->work, NULL) != 0)
		goto fail_lock;
	if (pthread_cond_init(&rc->freed, NULL) != 0)
		goto fail_work;
	if (pthread_create(&rc->th, NULL, reclaimer_main, rc) != 0)
		goto fail_freed;
	return 0;
fail_freed:
	pthread_cond_destroy(&rc->freed);
fail_work:
	pthread_cond_destroy(&rc->work);
fail_lock:
	pthread_mutex_destroy(&rc->lock);
fail:
	while (made-- > 0)
		rs__free(a, rc->b[made].e);
	return RS_ENOMEM;
}

void rs__reclaim_fini(rs__reclaimer *rc)
{
	pthread_mutex_lock(&rc->lock);
	rc->stop = true;
	pthread_cond_signal(&rc->work);
	pthread_mutex_unlock(&rc->lock);
	/* It frees every queued batch before it returns. */
	pthread_join(rc->th, NULL);
	assert(rc->inflight == 0);
	for (unsigned i = 0; i < RS__RECLAIM_INFLIGHT; i++)
		rs__free(rc->alloc, rc->b[i].e);
	pthread_cond_destroy(&rc->freed);
	pthread_cond_destroy(&rc->work);
	pthread_mutex_destroy(&rc->lock);
}

void rs__reclaim_handoff(rs__reclaimer *rc, rs__retire_list *l)
{
	rs__retired *e;
	rs__rbatch *b;
	size_t cap;

	if (!l->n)
		return;
	pthread_mutex_lock(&rc->lock);
	if (rc->inflight >= rc->bound) {
		/* Back-pressure: the only wait (see rcu.h). */
		rc->waits++;
		while (rc->inflight >= rc->bound)
			pthread_cond_wait(&rc->freed, &rc->lock);
	}
	b = rc->idle;
	rc->idle = b->next;
	rc->inflight++;
	rc->handoffs++;
	/* The list's array goes with the batch; the batch's empty one
	 * stays with the list. */
	e = b->e;
	cap = b->cap;
	b->e = l->e;
	b->cap = l->cap;
	b->n = l->n;
	l->e = e;
	l->cap = cap;
	l->n = 0;
	b->next = rc->queued;
	rc->queued = b;
	pthread_cond_signal(&rc->work);
	pthread_mutex_unlock(&rc->lock);
}

void rs__reclaim_drain(rs__reclaimer *rc)
{
	pthread_mutex_lock(&rc->lock);
	while (rc->inflight)
		pthread_cond_wait(&rc->freed, &rc->lock);
	pthread_mutex_unlock(&rc->lock);
}

void rs__reclaim_set_bound(rs__reclaimer *rc, unsigned bound)
{
	pthread_mutex_lock(&rc->lock);
	rc->bound = bound < 1			   ? 1
		    : bound > RS__RECLAIM_INFLIGHT ? RS__RECLAIM_INFLIGHT
						   : bound;
	pthread_mutex_unlock(&rc->lock);
}

void rs__reclaim_stats(rs__reclaimer *rc, uint64_t *handoffs, uint64_t *waits)
{
	pthread_mutex_lock(&rc->lock);
	*handoffs = rc->handoffs;
	*waits = rc->waits;
	pthread_mutex_unlock(&rc->lock);
}
