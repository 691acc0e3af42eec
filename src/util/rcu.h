/* SPDX-License-Identifier: MIT */
#ifndef RS_UTIL_RCU_H
#define RS_UTIL_RCU_H

/*
 * The only header that includes liburcu. Everything else reaches RCU
 * through these wrappers, so the flavor (urcu-memb) is chosen in one place.
 *
 * _LGPL_SOURCE inlines liburcu's small read-side functions; the library is
 * MIT-licensed, which is LGPL-compatible, as liburcu's README requires.
 *
 * (DESIGN.md places the RCU wrapper in txn/; it lives in util/ because the
 * storage layer below txn/ needs it too, and layers only depend downward.)
 */
#ifndef _LGPL_SOURCE
#define _LGPL_SOURCE
#endif
#include <urcu/urcu-memb.h>
#include <urcu/rculfhash.h>

#include <assert.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/alloc.h"
#include "util/error.h"

/*
 * ThreadSanitizer cannot see liburcu's grace periods (membarrier, inline
 * assembly), so under TSan the wrappers state the happens-before edges RCU
 * guarantees: every read-side section ends with a release on one global
 * token that reclamation (rs__retire_flush, the reclaimer thread) acquires
 * after its grace period. (A hand-off reaches the reclaimer through a
 * mutex, which TSan sees.) Outside TSan these compile to nothing.
 */
#if defined(__SANITIZE_THREAD__)
#define RS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RS_TSAN 1
#endif
#endif
#ifdef RS_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
extern char rs__tsan_grace_token;
#define RS__TSAN_RELEASE(p) __tsan_release((void *)(p))
#define RS__TSAN_ACQUIRE(p) __tsan_acquire((void *)(p))
#else
#define RS__TSAN_RELEASE(p) ((void)0)
#define RS__TSAN_ACQUIRE(p) ((void)0)
#endif

/*
 * Thread-locals on hot paths use the initial-exec model: no
 * __tls_get_addr call per access from the PIC objects. They are small
 * (a few hundred bytes in all), well within glibc's static TLS surplus
 * for libraries that are dlopen()ed.
 */
#if defined(__GNUC__) || defined(__clang__)
#define RS_TLS _Thread_local __attribute__((tls_model("initial-exec")))
#else
#define RS_TLS _Thread_local
#endif

/*
 * container_of without liburcu's char-pointer cast, which clang's
 * -Wcast-align rejects: the member's address came from an object of the
 * outer type, so the result is suitably aligned.
 */
#define rs__container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* Register the calling thread with RCU if it is not yet; cheap when it is. */
void rs__rcu_thread_register_slow(void);
extern RS_TLS bool rs__rcu_thread_ready;

static inline void rs__rcu_thread_ensure(void)
{
	if (RS_UNLIKELY(!rs__rcu_thread_ready))
		rs__rcu_thread_register_slow();
}

/*
 * A function run at the exit of every thread that used the library, before
 * the thread leaves RCU (the txn layer returns pooled contexts there).
 */
void rs__thread_set_exit_hook(void (*hook)(void));

static inline void rs__rcu_read_lock(void)
{
	urcu_memb_read_lock();
}

static inline void rs__rcu_read_unlock(void)
{
	RS__TSAN_RELEASE(&rs__tsan_grace_token);
	urcu_memb_read_unlock();
}

/*
 * Wait for every pending call_rcu callback (liburcu's own, e.g. the run
 * map's) to have run. Never inside a read-side section or under a lock a
 * reader takes.
 */
static inline void rs__rcu_barrier(void)
{
	urcu_memb_barrier();
}

/*
 * Deferred reclamation, batched and asynchronous.
 *
 * A writer that unlinks an object (under its run's commit lock) retires
 * it onto a list it owns (the transaction context's): an array of
 * (pointer, free function) entries; the allocator comes from the list, so
 * retired objects carry no header for it. One entry may free a whole
 * chain (a cut tail of versions). The room a commit's retires need is
 * reserved before anything changes (rs__retire_reserve, in prepare, where
 * failing is still allowed), so retiring itself never allocates or fails.
 *
 * When a list holds RS__RETIRE_BATCH entries, the writer, after releasing
 * the lock, hands the whole array to its database's reclaimer
 * (rs__reclaim_handoff): a thread of the database's own, started at open
 * and joined at close, which takes every batch queued so far, waits for
 * one grace period (synchronize_rcu) and frees them. No commit waits for a
 * grace period or frees a batch itself. The array changes hands instead
 * of being copied: the list takes an empty one of the reclaimer's in
 * exchange, so after warm-up nothing is allocated.
 *
 * Why not liburcu's call_rcu: its thread sleeps 10 ms after every round of
 * callbacks, so it frees at most a round per 10 ms; a writer retiring 4M
 * versions a second would need ~40,000 entries (5 MiB) in flight to never
 * wait for it. Measured with call_rcu and 4 batches in flight, a one-shot
 * put took 1.3 us of wall time for 0.25 us of CPU: waiting.
 *
 * Back-pressure. A database has RS__RECLAIM_INFLIGHT batch slots (fewer
 * with rs__reclaim_set_bound, for tests); a batch occupies one from its
 * hand-off until the reclaimer has freed it. A hand-off that finds every
 * slot taken waits until one is freed. That is the only wait on the commit
 * path: it happens only when writers retire faster than the reclaimer
 * frees (grace periods plus frees; or while a read-side section holds
 * grace periods back), always after the commit lock is released and
 * outside any read-side section, and it bounds what awaits reclamation to
 * RS__RECLAIM_INFLIGHT batches per database plus fewer than
 * RS__RETIRE_BATCH entries (+ one commit's) per context.
 *
 * The batch is a trade: every grace period sends membarrier IPIs to every
 * CPU running the process's threads, which in a VM cost microseconds on
 * both ends. When each writer waited for a grace period of its own per
 * batch, batches of 256 gave 2 threads 0.75x the throughput of 1 (4096:
 * 1.75x). Now no writer waits, and the reclaimer waits for one grace period
 * for all the batches queued by then; 2048 keeps each context's array at
 * 36 KiB. 2048 versions of 100-byte values are ~260 KiB.
 */
typedef void (*rs__free_fn)(const rs__alloc *a, void *p);

typedef struct rs__retired {
	void *p;
	rs__free_fn fn;
} rs__retired;

typedef struct rs__retire_list {
	rs__retired *e;
	size_t n, cap;
	size_t resv; /* entries reserved for the commit under way, unused */
	size_t first_cap; /* capacity of the first array */
	const rs__alloc *alloc;
} rs__retire_list;

#define RS__RETIRE_BATCH 2048u
/* A list's first capacity: a batch and the retires of the commit that
 * fills it (bigger commits grow it; the reclaimer shrinks it back). Each
 * context that ever committed keeps one such array (36 KiB). */
#define RS__RETIRE_CAP (RS__RETIRE_BATCH + 256u)
#define RS__RECLAIM_INFLIGHT 4u

/* first_cap: RS__RETIRE_CAP for a list handed to a reclaimer (its arrays
 * then all have that size), 0 to grow from a few entries. */
void rs__retire_list_init(rs__retire_list *l, const rs__alloc *a,
			  size_t first_cap);
/* Free what the list holds now, and its array: when no reader can exist. */
void rs__retire_list_fini(rs__retire_list *l);

/*
 * Make room for `extra` more retires on top of those already reserved
 * (until rs__retire_unreserve). 0 or RS_ENOMEM (unchanged).
 */
int rs__retire_reserve(rs__retire_list *l, size_t extra);

/* Drop what is left of the reservations (the commit is over). */
static inline void rs__retire_unreserve(rs__retire_list *l)
{
	l->resv = 0;
}

/* Retire p, freed later by fn(list's allocator, p). Needs a reservation. */
static inline void rs__retire(rs__retire_list *l, void *p, rs__free_fn fn)
{
	assert(l->n < l->cap);
	if (l->resv)
		l->resv--;
	l->e[l->n].p = p;
	l->e[l->n].fn = fn;
	l->n++;
}

/* Wait for a grace period, then free the list's entries (the array stays).
 * Never inside a read-side section or under a lock a reader takes. */
void rs__retire_flush(rs__retire_list *l);
/* Free the list's entries at once: only when no reader can exist. */
void rs__retire_free_now(rs__retire_list *l);

/* The batch slots of one database (see above). */
typedef struct rs__rbatch {
	rs__retired *e;
	size_t n, cap;
	struct rs__rbatch *next; /* on the idle or the queued list */
} rs__rbatch;

typedef struct rs__reclaimer {
	const rs__alloc *alloc;
	pthread_t th;
	pthread_mutex_t lock; /* guards everything below */
	pthread_cond_t work;  /* a batch was queued, or stop */
	pthread_cond_t freed; /* the reclaimer returned slots */
	rs__rbatch *idle;     /* free slots, each with an empty array */
	rs__rbatch *queued;   /* handed off, not yet taken by the thread */
	unsigned inflight;    /* handed off, not yet freed */
	unsigned bound;	      /* at most this many in flight */
	bool stop;
	uint64_t handoffs; /* batches handed off, ever */
	uint64_t waits;	   /* hand-offs that had to wait */
	rs__rbatch b[RS__RECLAIM_INFLIGHT];
} rs__reclaimer;

/* Allocates the slots' arrays and starts the thread (RS_ENOMEM: nothing
 * left to free). */
int rs__reclaim_init(rs__reclaimer *rc, const rs__alloc *a);
/* Lets the thread free what is queued, joins it, then frees the slots. */
void rs__reclaim_fini(rs__reclaimer *rc);
/* Hand the list's entries to the reclaimer, waiting for a free slot first
 * if all are in flight (back-pressure). Outside every lock and read-side
 * section. A list with nothing retired is left as it is. */
void rs__reclaim_handoff(rs__reclaimer *rc, rs__retire_list *l);
/* Wait until every batch handed off so far is freed (tests, accounting).
 * Outside every lock and read-side section. */
void rs__reclaim_drain(rs__reclaimer *rc);
/* The end of a commit (outside its lock): drop its unused reservation,
 * hand the list off once it holds RS__RETIRE_BATCH entries. */
static inline void rs__retire_end(rs__reclaimer *rc, rs__retire_list *l)
{
	rs__retire_unreserve(l);
	if (l->n >= RS__RETIRE_BATCH)
		rs__reclaim_handoff(rc, l);
}
/* For tests: fewer batch slots (1..RS__RECLAIM_INFLIGHT), taking effect
 * for hand-offs from now on. */
void rs__reclaim_set_bound(rs__reclaimer *rc, unsigned bound);
/* For tests: handoffs and waits so far. */
void rs__reclaim_stats(rs__reclaimer *rc, uint64_t *handoffs, uint64_t *waits);

static inline void rs__rcu_synchronize(void)
{
	urcu_memb_synchronize_rcu();
}

#define rs__rcu_flavor (&urcu_memb_flavor)

#endif
