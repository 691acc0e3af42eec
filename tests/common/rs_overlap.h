/* SPDX-License-Identifier: MIT */
/*
 * Threads that overlap by construction, for the concurrency tests.
 *
 * A test that means to show "readers never see X while writers run" proves
 * nothing if, under load, the writers finish before a reader is scheduled
 * (or the readers before the first write). So:
 *
 *  - every thread (and the test thread, if it takes part) waits on one
 *    start barrier (rs_ovl_start);
 *  - readers count their reads (rs_ovl_read, one counter per reader);
 *  - writers do their minimum work, then keep going until every reader
 *    has done `need` reads (rs_ovl_writer_more);
 *  - readers keep going while any writer is still at work
 *    (rs_ovl_reader_more), after their own minimum.
 *
 * Every loop stays bounded: by a count the caller gives and by a time cap
 * (RS_TEST_OVERLAP_CAP_MS, default 30000 ms from rs_ovl_init). The cap only
 * ends loops; tests assert the overlap they got (rs_ovl_overlapped), never
 * a duration. Header-only: include it and go.
 */
#ifndef RS_TESTS_COMMON_RS_OVERLAP_H
#define RS_TESTS_COMMON_RS_OVERLAP_H

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#define RS_OVL_MAX_READERS 16
#define RS_OVL_CAP_MS_DEFAULT 30000u

typedef struct rs_ovl {
	pthread_barrier_t start;
	unsigned nreaders;
	uint64_t need; /* reads per reader the writers wait for */
	uint64_t deadline_ns;
	_Atomic unsigned writers_left;
	_Atomic uint64_t reads[RS_OVL_MAX_READERS];
	/* Reads each reader did while a writer was still at work. */
	_Atomic uint64_t reads_during[RS_OVL_MAX_READERS];
} rs_ovl;

static inline uint64_t rs_ovl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * `parties`: the threads that call rs_ovl_start (the test thread
 * included if it does); `nreaders` readers (indices 0..nreaders-1),
 * `nwriters` writers; writers wait for `need` reads of every reader.
 */
static inline void rs_ovl_init(rs_ovl *o, unsigned parties, unsigned nreaders,
			       unsigned nwriters, uint64_t need)
{
	const char *cap = getenv("RS_TEST_OVERLAP_CAP_MS");
	uint64_t ms = cap ? strtoull(cap, NULL, 10) : RS_OVL_CAP_MS_DEFAULT;

	if (nreaders > RS_OVL_MAX_READERS)
		abort();
	pthread_barrier_init(&o->start, NULL, parties);
	o->nreaders = nreaders;
	o->need = need;
	o->deadline_ns = rs_ovl_now_ns() + ms * 1000000u;
	atomic_init(&o->writers_left, nwriters);
	for (unsigned i = 0; i < RS_OVL_MAX_READERS; i++) {
		atomic_init(&o->reads[i], 0);
		atomic_init(&o->reads_during[i], 0);
	}
}

static inline void rs_ovl_destroy(rs_ovl *o)
{
	pthread_barrier_destroy(&o->start);
}

static inline void rs_ovl_start(rs_ovl *o)
{
	pthread_barrier_wait(&o->start);
}

static inline bool rs_ovl_expired(const rs_ovl *o)
{
	return rs_ovl_now_ns() > o->deadline_ns;
}

/* A reader finished one read (call after the read). */
static inline void rs_ovl_read(rs_ovl *o, unsigned reader)
{
	if (atomic_load(&o->writers_left) > 0)
		atomic_fetch_add(&o->reads_during[reader], 1);
	atomic_fetch_add(&o->reads[reader], 1);
}

/* Whether every reader has done at least n reads. */
static inline bool rs_ovl_readers_at(rs_ovl *o, uint64_t n)
{
	for (unsigned i = 0; i < o->nreaders; i++)
		if (atomic_load(&o->reads[i]) < n)
			return false;
	return true;
}

/*
 * A writer that has done `done` operations: go on while below `min`, or
 * while some reader is short of `need` reads and neither `max` nor the
 * time cap is reached.
 */
static inline bool rs_ovl_writer_more(rs_ovl *o, uint64_t done, uint64_t min,
				      uint64_t max)
{
	if (done < min)
		return true;
	return done < max && !rs_ovl_readers_at(o, o->need) && !rs_ovl_expired(o);
}

/* A writer is done: once all are, readers past their minimum stop. */
static inline void rs_ovl_writer_done(rs_ovl *o)
{
	atomic_fetch_sub(&o->writers_left, 1);
}

/* A reader that has done `done` reads: go on while below `min`, or while
 * a writer is at work, within `max` and the time cap. */
static inline bool rs_ovl_reader_more(rs_ovl *o, uint64_t done, uint64_t min,
				      uint64_t max)
{
	if (done >= max || rs_ovl_expired(o))
		return false;
	return done < min || atomic_load(&o->writers_left) > 0;
}

/* The test thread: wait (yielding) until every reader has done n reads;
 * false if the time cap came first. */
static inline bool rs_ovl_wait_reads(rs_ovl *o, uint64_t n)
{
	while (!rs_ovl_readers_at(o, n)) {
		if (rs_ovl_expired(o))
			return false;
		sched_yield();
	}
	return true;
}

/* Whether every reader did at least n reads while a writer was at work. */
static inline bool rs_ovl_overlapped(rs_ovl *o, uint64_t n)
{
	for (unsigned i = 0; i < o->nreaders; i++)
		if (atomic_load(&o->reads_during[i]) < n)
			return false;
	return true;
}

#endif
