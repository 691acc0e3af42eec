/* SPDX-License-Identifier: MIT */
#include "util/rcu.h"

#include <pthread.h>
#include <stdatomic.h>

/*
 * Threads are registered on their first call into the library and leave RCU
 * from a pthread_key destructor when they exit. A thread the host already
 * registered with urcu-memb is left as it is (and not unregistered by us).
 */
_Thread_local bool rs__rcu_thread_ready;
#ifdef RS_TSAN
char rs__tsan_grace_token;
char rs__tsan_barrier_token;
#endif
static _Thread_local bool registered_by_us;

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
