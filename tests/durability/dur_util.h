/* SPDX-License-Identifier: MIT */
#ifndef RS_TESTS_DUR_UTIL_H
#define RS_TESTS_DUR_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <runstate.h>

/*
 * Helpers shared by the durability tests: temporary directories, files,
 * opening databases, and a canonical dump of a database's KV state.
 */

/* A fresh directory under $TMPDIR (or /tmp); free with dur_rmdir(). */
char *dur_tmpdir(void);
/* Remove the directory and everything in it, and free the path. */
void dur_rmdir(char *path);
/* "<dir>/<name>" in a static buffer (one at a time). */
const char *dur_path(const char *dir, const char *name);
/* Segment / checkpoint file names. */
const char *dur_seg(const char *dir, uint64_t seq);
const char *dur_ckpt(const char *dir, uint64_t seq);
/* How many files of the directory have this prefix. */
int dur_count_files(const char *dir, const char *prefix);

/* Whole-file helpers; dur_read returns malloc'd bytes (free()). */
unsigned char *dur_read(const char *path, size_t *len);
void dur_write(const char *path, const void *p, size_t len);
bool dur_exists(const char *path);
void dur_copy_file(const char *from, const char *to);

/* Options for a durable database in `dir` (small segments for tests). */
rs_db_options dur_opts(const char *dir, rs_durability mode);
/* Open or fail the test. */
rs_db *dur_open(const rs_db_options *o);
/* Open and close again: rs_db_open()'s return code. */
int dur_open_rc(const rs_db_options *o);
void dur_sleep_ms(unsigned ms);

/* Deterministic run ids: run n. */
rs_run_id dur_run(unsigned n);

/* Put / get string values (asserting success). */
void dur_put(rs_db *db, unsigned run, const char *key, const char *val);
/* Returns a malloc'd string, or NULL when absent. */
char *dur_get(rs_db *db, unsigned run, const char *key);
uint64_t dur_version(rs_db *db, unsigned run);

/*
 * A canonical text dump of runs 0..nruns-1: each run's version and all KV
 * entries in key order. malloc'd; compare with strcmp.
 */
char *dur_dump(rs_db *db, unsigned nruns);

/* Records of a segment file image: offsets and lengths (up to max). */
size_t dur_records(const unsigned char *seg, size_t len, size_t *off,
		   size_t *rlen, size_t max);

rs_db_stats dur_stats(rs_db *db);

#endif
