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

/* Register the calling thread with RCU if it is not yet; cheap when it is. */
void rs__rcu_thread_register_slow(void);
extern _Thread_local bool rs__rcu_thread_ready;

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

/* Every callback passed here starts with rs__rcu_cb_begin(head). */
static inline void rs__rcu_call(struct rcu_head *head,
				void (*fn)(struct rcu_head *head))
{
	RS__TSAN_RELEASE(head);
	urcu_memb_call_rcu(head, fn);
}

static inline void rs__rcu_cb_begin(struct rcu_head *head)
{
	(void)head;
	RS__TSAN_ACQUIRE(head);
	RS__TSAN_ACQUIRE(&rs__tsan_grace_token);
}

#ifdef RS_TSAN
extern char rs__tsan_barrier_token;
/* Queued by rs__rcu_barrier(): runs after every callback queued before it
 * on the (sequential) call_rcu worker, and releases what they did. */
static inline void rs__rcu_barrier_mark(struct rcu_head *head)
{
	(void)head;
	__tsan_release(&rs__tsan_barrier_token);
}
#endif

/* Wait for every pending rs__rcu_call() callback to have run. Never inside
 * a read-side section or under a lock a reader takes. Under TSan it also
 * states that those callbacks happen before the caller's next step (the
 * caller usually frees what they read). */
static inline void rs__rcu_barrier(void)
{
#ifdef RS_TSAN
	struct rcu_head mark;

	urcu_memb_call_rcu(&mark, rs__rcu_barrier_mark);
#endif
	urcu_memb_barrier();
	RS__TSAN_ACQUIRE(&rs__tsan_barrier_token);
}

static inline void rs__rcu_synchronize(void)
{
	urcu_memb_synchronize_rcu();
}

#define rs__rcu_flavor (&urcu_memb_flavor)

#endif
