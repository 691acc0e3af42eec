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

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

/*
 * ThreadSanitizer cannot see liburcu's grace periods (membarrier, inline
 * assembly), so under TSan the wrappers state the happens-before edges RCU
 * guarantees: every read-side section ends with a release on one global
 * token that reclamation callbacks acquire, and call_rcu releases the head
 * its callback acquires. Outside TSan these compile to nothing.
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
 * Deferred reclamation, batched and synchronous. A writer that unlinks an
 * object (under its run's commit lock) retires it onto a list it owns (the
 * transaction context's); when the list reaches RS__RETIRE_BATCH, the
 * writer itself, after releasing the lock, waits for one grace period
 * (synchronize_rcu) and frees the whole batch. That frees memory on the
 * thread that allocated it, needs no background thread that could fall
 * behind, and bounds what waits: at most RS__RETIRE_BATCH - 1 objects per
 * context, whatever the load.
 *
 * The batch size is a trade: synchronize_rcu costs about 1-3 µs alone but
 * sends membarrier IPIs to every CPU running the process's threads, which
 * in a VM cost microseconds on both ends. Measured (2 vCPUs, one-shot
 * puts, each thread its own run): batch 256 gave 2 threads 0.75x the
 * throughput of 1; 1024, 1.4x; 4096, 1.75x; 8192, 1.8x but a slower single
 * thread (colder frees). 4096 objects of a 100-byte value are ~600 KiB.
 */
typedef struct rs__retired {
	struct rs__retired *next;
	void (*free_fn)(struct rs__retired *r);
} rs__retired;

typedef struct rs__retire_list {
	rs__retired *head;
	size_t n;
} rs__retire_list;

#define RS__RETIRE_BATCH 4096u

static inline void rs__retire(rs__retire_list *l, rs__retired *r,
			      void (*free_fn)(rs__retired *r))
{
	r->free_fn = free_fn;
	r->next = l->head;
	l->head = r;
	l->n++;
}

/* Wait for a grace period, then free the list. Never inside a read-side
 * section or under a lock a reader takes. */
void rs__retire_flush(rs__retire_list *l);
/* Free the list at once: only when no reader can exist (close). */
void rs__retire_free_now(rs__retire_list *l);

static inline void rs__rcu_synchronize(void)
{
	urcu_memb_synchronize_rcu();
}

#define rs__rcu_flavor (&urcu_memb_flavor)

#endif
