/* SPDX-License-Identifier: MIT */
/*
 * Failure recording for worker threads, which must never call CMocka's
 * assertions (they longjmp): workers record failures in a `chk`, and the
 * test thread asserts after the join.
 */
#ifndef RS_TESTS_COMMON_RS_CHK_H
#define RS_TESTS_COMMON_RS_CHK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct chk {
	_Atomic int failures;
	pthread_mutex_t mu;
	char first[512];
} chk;

void chk_init(chk *c);
void chk_fail(chk *c, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* In a worker: record and go on (or stop, at the caller's choice). */
#define CHECK(c, cond, ...) \
	((cond) ? true : (chk_fail((c), __LINE__, __VA_ARGS__), false))

/* On the test thread: fails with the first recorded failure. */
void chk_assert(chk *c);

/* Start n threads on fn, the i-th given args + i * size; join them all. */
void run_threads(int n, void *(*fn)(void *), void *args, size_t size);

#endif
