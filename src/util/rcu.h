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
#include <stdatomic.h>
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
 * after its grace period; the reclaimer then marks batches done with a
 * release that their owner acquires before freeing. Outside TSan these
 * compile to nothing.
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
 * A list has two arrays: the one being filled and the previous batch.
 * When the one being filled holds RS__RETIRE_BATCH entries, the commit,
 * after releasing its lock, makes it the previous batch and queues it for
 * the database's reclaimer thread (started at open, joined at close),
 * which waits for one grace period (synchronize_rcu) for every batch
 * queued by then and marks them done. It frees nothing: each later commit
 * of the list's owner frees a share of the done batch, after its lock is
 * released: the batch's rest spread over the retires the filling array
 * takes before its hand-off (rs__retire_quota), so frees keep pace with
 * allocation (about one for one under overwrites). So no
 * commit waits for a grace period or frees a batch at once, and memory is
 * freed on the thread that allocated it (a cross-thread free costs jemalloc
 * tens of ns, and a single freeing thread did not keep up with two
 * writers: see below). At that pace the done batch is empty when the
 * next is due, unless its grace period outlasted the filling; the
 * hand-off then frees what is left (at most a batch).
 *
 * Back-pressure. A list has one batch in flight at most. A hand-off that
 * finds the previous batch still waiting for its grace period waits until
 * the reclaimer marks it done. That is the only wait on the commit path:
 * it happens only when a grace period lasts longer than a context takes to
 * retire RS__RETIRE_BATCH entries (a long read-side section, or a
 * reclaimer starved of CPU), always after the commit lock is released and
 * outside any read-side section. What awaits reclamation is thus bounded
 * by 2 x RS__RETIRE_BATCH entries (+ one commit's) per context. A context
 * left idle keeps its batches until it is reused or the database closes.
 * (Bounding batches per database instead would let an idle context's
 * unfreed batch block every other committer.)
 *
 * Tried and measured on 2 vCPUs (contention/disjoint, one-shot puts and
 * read-modify-write transactions, each thread its own run): a writer
 * waiting for a grace period per batch of 4096 itself scaled 1.7x with 2
 * threads (256: 0.75x); liburcu's call_rcu, whose thread sleeps 10 ms
 * after every round, held a one-shot put to 1.3 us of wall time for
 * 0.25 us of CPU (waiting for it); a reclaimer thread that freed the
 * batches itself capped two writers at what one thread can free across
 * threads (~4M/s, 1.0x). The batch is a trade too: every grace period
 * sends membarrier IPIs to every CPU running the process's threads and
 * wakes the reclaimer. One-shot overwrites, same run (2 vCPUs): batches of
 * 1024 took 273 ns a put, 2048 160 ns, 4096 155 ns (the tree before the
 * reclaimer: 150 ns). And each hand-off and grace period lands on the
 * writer as a futex wake and about two membarrier IPIs, a few
 * microseconds each in a VM: with 4096, 1M uniform overwrites of a
 * 1M-key run (kvstore_put_overwrite/1M) met about 500 of them, and their
 * p99.9 was 11.1-11.4 us (12.0-12.6x the median) beside a machine floor
 * of 4.8-5.0 us; with 8192, 6.2-6.9 us (6.8-7.3x), and 16384 gave no
 * more (5.7-6.4 us); three rounds each, alternating. 8192 costs a
 * writing context two 132 KiB arrays.
 */
typedef void (*rs__free_fn)(const rs__alloc *a, void *p);

typedef struct rs__retired {
	void *p;
	rs__free_fn fn;
} rs__retired;

enum {
	RS__RB_EMPTY = 0, /* nothing left to free */
	RS__RB_WAIT = 1,  /* queued for a grace period */
	RS__RB_DONE = 2	  /* grace period over: its owner frees it */
};

/* A list's previous batch. */
typedef struct rs__rbatch {
	rs__retired *e;
	size_t n, cap;
	size_t freed; /* entries e[0..freed) already freed (owner only) */
	/* Written by the reclaimer (DONE, release, under its lock) and by
	 * the owner; the owner's acquire load of DONE orders its frees
	 * after the grace period. */
	_Atomic int state;
	struct rs__rbatch *next; /* the reclaimer's queue */
} rs__rbatch;

typedef struct rs__retire_list {
	rs__retired *e; /* the array being filled */
	size_t n, cap;
	size_t resv; /* entries reserved for the commit under way, unused */
	size_t mark; /* n at the end of the last commit */
	size_t first_cap; /* capacity of the first arrays */
	const rs__alloc *alloc;
	rs__rbatch prev;
} rs__retire_list;

#define RS__RETIRE_BATCH 8192u
/* A list's first capacity: a batch and the retires of the commit that
 * fills it (bigger commits grow it). */
#define RS__RETIRE_CAP (RS__RETIRE_BATCH + 256u)

/* One database's reclaimer: a thread that waits for grace periods. */
typedef struct rs__reclaimer {
	pthread_t th;
	pthread_mutex_t lock; /* guards everything below */
	pthread_cond_t work;  /* a batch was queued, or stop */
	pthread_cond_t done;  /* batches were marked done */
	rs__rbatch *queued;
	bool stop;
	uint64_t handoffs; /* batches queued, ever */
	uint64_t waits;	   /* hand-offs that had to wait */
} rs__reclaimer;

/*
 * first_cap: RS__RETIRE_CAP for a list handed to a reclaimer (both its
 * arrays are allocated at that size by the first reserve, so the list
 * never allocates again after warm-up), 0 for one flushed synchronously
 * (rs__retire_flush), which grows from a few entries.
 */
void rs__retire_list_init(rs__retire_list *l, const rs__alloc *a,
			  size_t first_cap);
/* Free all the list holds now, and its arrays: when no reader can exist
 * and the reclaimer is gone or never saw the list. */
void rs__retire_list_fini(rs__retire_list *l);

/*
 * Make room for `extra` more retires on top of those already reserved
 * (until rs__retire_unreserve). 0 or RS_ENOMEM (unchanged).
 */
int rs__retire_reserve_slow(rs__retire_list *l, size_t extra);
static inline int rs__retire_reserve(rs__retire_list *l, size_t extra)
{
	/* Every commit reserves: the common case, room, is no call. */
	if (l->n + l->resv + extra <= l->cap) {
		l->resv += extra;
		return 0;
	}
	return rs__retire_reserve_slow(l, extra);
}

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

/* Wait for a grace period, then free the entries being filled (the array
 * stays). Never inside a read-side section or under a lock a reader
 * takes. For lists without a reclaimer. */
void rs__retire_flush(rs__retire_list *l);
/* Free the entries being filled at once: only when no reader can exist. */
void rs__retire_free_now(rs__retire_list *l);

/* Starts the thread (RS_ENOMEM if it cannot). */
int rs__reclaim_init(rs__reclaimer *rc);
/* Ends every grace period still waited for, then joins the thread. */
void rs__reclaim_fini(rs__reclaimer *rc);

void rs__retire_step(rs__reclaimer *rc, rs__retire_list *l, size_t retired);
/* Entries of the done previous batch that a commit which retired
 * `retired` frees (rcu.c; the tests check its pace). */
size_t rs__retire_quota(const rs__retire_list *l, size_t retired);
/*
 * The end of a commit, outside its lock and any read-side section: drop
 * its unused reservation, free a share of the done batch, and queue the
 * array being filled once it holds RS__RETIRE_BATCH entries (waiting first
 * if the previous batch's grace period is not over: back-pressure).
 */
static inline void rs__retire_end(rs__reclaimer *rc, rs__retire_list *l)
{
	size_t retired = l->n - l->mark;

	rs__retire_unreserve(l);
	if (l->n >= RS__RETIRE_BATCH ||
	    (l->prev.freed < l->prev.n &&
	     atomic_load_explicit(&l->prev.state, memory_order_acquire) ==
		     RS__RB_DONE))
		rs__retire_step(rc, l, retired);
	l->mark = l->n;
}
/* Free everything the list holds, waiting for the grace periods it needs
 * (tests and memory accounting). Outside every lock and read-side section. */
void rs__retire_drain(rs__reclaimer *rc, rs__retire_list *l);
/* For tests: hand-offs and waits so far. */
void rs__reclaim_stats(rs__reclaimer *rc, uint64_t *handoffs, uint64_t *waits);

static inline void rs__rcu_synchronize(void)
{
	urcu_memb_synchronize_rcu();
}

#define rs__rcu_flavor (&urcu_memb_flavor)

#endif
