/* SPDX-License-Identifier: MIT */
#include "common/rs_chk.h"

#include "common/rs_test.h"

#include <stdio.h>

void chk_init(chk *c)
{
	atomic_init(&c->failures, 0);
	pthread_mutex_init(&c->mu, NULL);
	c->first[0] = '\0';
}

void chk_fail(chk *c, int line, const char *fmt, ...)
{
	va_list ap;

	if (atomic_fetch_add(&c->failures, 1) != 0)
		return;
	pthread_mutex_lock(&c->mu);
	{
		int n = snprintf(c->first, sizeof(c->first), "line %d: ", line);
		va_start(ap, fmt);
		vsnprintf(c->first + n, sizeof(c->first) - (size_t)n, fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&c->mu);
}

void chk_assert(chk *c)
{
	pthread_mutex_destroy(&c->mu);
	if (atomic_load(&c->failures) != 0)
		fail_msg("%d failure(s) in worker threads; first: %s",
			 atomic_load(&c->failures), c->first);
}

void run_threads(int n, void *(*fn)(void *), void *args, size_t size)
{
	pthread_t th[16];

	assert_true(n <= 16);
	for (int i = 0; i < n; i++)
		assert_int_equal(
			pthread_create(&th[i], NULL, fn,
				       (char *)args + (size_t)i * size),
			0);
	for (int i = 0; i < n; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
}
