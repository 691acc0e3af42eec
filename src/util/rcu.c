/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* SCHED_IDLE */
#include "util/rcu.h"

#include <pthread.h>
#include <sched.h>
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
	l->n = l->cap = l->resv = l->mark = 0;
	l->first_cap = first_cap;
	l->alloc = a;
	l->prev.e = NULL;
	l->prev.n = l->prev.cap = l->prev.freed = 0;
	atomic_init(&l->prev.state, RS__RB_EMPTY);
	l->prev.next = NULL;
}

static void entries_free(const rs__alloc *a, rs__retired *e, size_t from,
			 size_t to)
{
	for (size_t i = from; i < to; i++)
		e[i].fn(a, e[i].p);
}

void rs__retire_list_fini(rs__retire_list *l)
{
	rs__retire_free_now(l);
	entries_free(l->alloc, l->prev.e, l->prev.freed, l->prev.n);
	rs__free(l->alloc, l->e);
	rs__free(l->alloc, l->prev.e);
	rs__retire_list_init(l, l->alloc, l->first_cap);
}

int rs__retire_reserve_slow(rs__retire_list *l, size_t extra)
{
	size_t need = l->n + l->resv + extra;

	if (need > l->cap && l->cap == 0) {
		/* The array being filled, at full size (or more, for a huge
		 * commit), and the batch's second array if it has none yet
		 * (never one the batch holds: it may be queued): after
		 * warm-up a list whose arrays only change places never
		 * allocates. */
		size_t cap = need > l->first_cap ? need : l->first_cap;
		rs__retired *e = rs__malloc(l->alloc, cap * sizeof(*e));
		rs__retired *p = NULL;

		if (e && !l->prev.e && l->first_cap)
			p = rs__malloc(l->alloc, l->first_cap * sizeof(*p));
		if (!e || (!l->prev.e && l->first_cap && !p)) {
			rs__free(l->alloc, e);
			rs__free(l->alloc, p);
			return RS_ENOMEM;
		}
		l->e = e;
		l->cap = cap;
		if (p) {
			l->prev.e = p;
			l->prev.cap = l->first_cap;
		}
	}
	RS_TRY(rs__grow(l->alloc, (void **)&l->e, &l->cap, need,
			sizeof(*l->e)));
	l->resv += extra;
	return 0;
}

void rs__retire_free_now(rs__retire_list *l)
{
	entries_free(l->alloc, l->e, 0, l->n);
	l->n = l->mark = 0;
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

/* ---- the reclaimer: grace periods on a thread of the database's ---- */

/*
 * The reclaimer runs at the lowest scheduling class where there is one
 * (Linux's SCHED_IDLE): it takes a core only when the core would
 * otherwise idle, or when a committer waits for it (back-pressure blocks
 * that committer, which frees its core). At normal priority it preempted
 * the writers: on 2 vCPUs, two writers of two runs did 5.0-5.7M ops/s
 * beside it, 10.0-10.5M with it at SCHED_IDLE, 7.3-8.2M on the tree that
 * waited for grace periods inline. The scheduler still gives an idle-class
 * thread a small share of a saturated machine, so it always progresses.
 */
static void lower_priority(void)
{
#ifdef SCHED_IDLE
	struct sched_param sp = { 0 };

	(void)pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
#endif
}

static void *reclaimer_main(void *arg)
{
	rs__reclaimer *rc = arg;

	lower_priority();

	pthread_mutex_lock(&rc->lock);
	for (;;) {
		rs__rbatch *got;

		while (!rc->queued && !rc->stop)
			pthread_cond_wait(&rc->work, &rc->lock);
		if (!rc->queued)
			break; /* stop, and nothing left */
		got = rc->queued;
		rc->queued = NULL;
		pthread_mutex_unlock(&rc->lock);

		/* One grace period for every batch taken. This thread is not
		 * an RCU reader, so it never holds one back. */
		urcu_memb_synchronize_rcu();
		/* Every read-side section that could see these objects has
		 * ended; each released this token when it did. */
		RS__TSAN_ACQUIRE(&rs__tsan_grace_token);

		pthread_mutex_lock(&rc->lock);
		while (got) {
			rs__rbatch *next = got->next;

			got->next = NULL;
			/* Pairs with the owner's acquire load. */
			atomic_store_explicit(&got->state, RS__RB_DONE,
					      memory_order_release);
			got = next;
		}
		pthread_cond_broadcast(&rc->done);
	}
	pthread_mutex_unlock(&rc->lock);
	return NULL;
}

int rs__reclaim_init(rs__reclaimer *rc)
{
	rc->queued = NULL;
	rc->stop = false;
	rc->handoffs = rc->waits = 0;
	if (pthread_mutex_init(&rc->lock, NULL) != 0)
		return RS_ENOMEM;
	if (pthread_cond_init(&rc->work, NULL) != 0)
		goto fail_lock;
	if (pthread_cond_init(&rc->done, NULL) != 0)
		goto fail_work;
	if (pthread_create(&rc->th, NULL, reclaimer_main, rc) != 0)
		goto fail_done;
	return 0;
fail_done:
	pthread_cond_destroy(&rc->done);
fail_work:
	pthread_cond_destroy(&rc->work);
fail_lock:
	pthread_mutex_destroy(&rc->lock);
	return RS_ENOMEM;
}

void rs__reclaim_fini(rs__reclaimer *rc)
{
	pthread_mutex_lock(&rc->lock);
	rc->stop = true;
	pthread_cond_signal(&rc->work);
	pthread_mutex_unlock(&rc->lock);
	/* It marks every queued batch done before it returns. */
	pthread_join(rc->th, NULL);
	pthread_cond_destroy(&rc->done);
	pthread_cond_destroy(&rc->work);
	pthread_mutex_destroy(&rc->lock);
}

/* Free up to `quota` entries of the done previous batch. */
static void prev_free(rs__retire_list *l, size_t quota)
{
	rs__rbatch *b = &l->prev;
	size_t to = b->n - b->freed > quota ? b->freed + quota : b->n;

	entries_free(l->alloc, b->e, b->freed, to);
	b->freed = to;
	if (b->freed < b->n)
		return;
	b->n = b->freed = 0;
	atomic_store_explicit(&b->state, RS__RB_EMPTY, memory_order_relaxed);
	if (b->cap > 4 * l->first_cap && l->first_cap) {
		/* One huge commit grew this array: keep the usual size. */
		rs__retired *e =
			rs__realloc(l->alloc, b->e, l->first_cap * sizeof(*e));
		if (e) {
			b->e = e;
			b->cap = l->first_cap;
		}
	}
}

/* Wait until the previous batch's grace period is over (back-pressure). */
static void prev_wait(rs__reclaimer *rc, rs__retire_list *l)
{
	if (atomic_load_explicit(&l->prev.state, memory_order_acquire) !=
	    RS__RB_WAIT)
		return;
	pthread_mutex_lock(&rc->lock);
	rc->waits++;
	while (atomic_load_explicit(&l->prev.state, memory_order_acquire) ==
	       RS__RB_WAIT)
		pthread_cond_wait(&rc->done, &rc->lock);
	pthread_mutex_unlock(&rc->lock);
}

/* Queue the array being filled as the previous batch; the previous one
 * must be empty. */
static void handoff(rs__reclaimer *rc, rs__retire_list *l)
{
	rs__rbatch *b = &l->prev;
	rs__retired *e = b->e;
	size_t cap = b->cap;

	b->e = l->e;
	b->cap = l->cap;
	b->n = l->n;
	b->freed = 0;
	l->e = e;
	l->cap = cap;
	l->n = 0;
	atomic_store_explicit(&b->state, RS__RB_WAIT, memory_order_relaxed);
	pthread_mutex_lock(&rc->lock);
	b->next = rc->queued;
	rc->queued = b;
	rc->handoffs++;
	pthread_cond_signal(&rc->work);
	pthread_mutex_unlock(&rc->lock);
}

/*
 * How many entries of the done batch a commit that retired `retired`
 * frees: the batch's rest spread evenly over the retires the array being
 * filled takes before its hand-off (rounded up, at least one), so it is
 * empty just in time. Frees then keep pace with what the commits
 * allocate (an overwrite: one version allocated, about one freed), and
 * the allocator's per-thread cache recycles the blocks instead of
 * overflowing: 16 frees a commit made jemalloc's tcache flush a batch of
 * cold blocks back to their slabs every few puts while a batch drained
 * (the overwrite tail, docs/engine.md).
 */
size_t rs__retire_quota(const rs__retire_list *l, size_t retired)
{
	size_t left = l->prev.n - l->prev.freed;
	size_t room = l->n < RS__RETIRE_BATCH ? RS__RETIRE_BATCH - l->n : 1;

	if (retired == 0)
		retired = 1;
	if (retired > SIZE_MAX / RS__RETIRE_BATCH ||
	    left / room > SIZE_MAX / retired / 2)
		return left;
	/* ceil(left * retired / room), without overflow: room <= BATCH. */
	return (left / room) * retired +
	       ((left % room) * retired + room - 1) / room;
}

void rs__retire_step(rs__reclaimer *rc, rs__retire_list *l, size_t retired)
{
	size_t quota = rs__retire_quota(l, retired);

	if (l->prev.freed < l->prev.n &&
	    atomic_load_explicit(&l->prev.state, memory_order_acquire) ==
		    RS__RB_DONE)
		prev_free(l, quota);
	if (l->n < RS__RETIRE_BATCH)
		return;
	if (l->prev.freed < l->prev.n) {
		/* Its grace period outlasted the filling. */
		prev_wait(rc, l);
		prev_free(l, SIZE_MAX);
	}
	handoff(rc, l);
}

void rs__retire_drain(rs__reclaimer *rc, rs__retire_list *l)
{
	for (int i = 0; i < 2; i++) {
		if (l->prev.freed < l->prev.n) {
			prev_wait(rc, l);
			prev_free(l, SIZE_MAX);
		}
		if (l->n)
			handoff(rc, l);
	}
	l->mark = 0;
}

void rs__reclaim_stats(rs__reclaimer *rc, uint64_t *handoffs, uint64_t *waits)
{
	pthread_mutex_lock(&rc->lock);
	*handoffs = rc->handoffs;
	*waits = rc->waits;
	pthread_mutex_unlock(&rc->lock);
}
