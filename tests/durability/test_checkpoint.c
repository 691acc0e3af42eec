/* SPDX-License-Identifier: MIT */
/*
 * Checkpoints and modes: a checkpoint plus the log after it recovers the
 * same state as the whole log; automatic checkpoints bound what recovery
 * replays; damaged checkpoints; the same workload leaves the same state
 * under InMemory, Buffered and Strict.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <cmocka.h>

#include "dur_util.h"
#include "workload.h"

static const rs_storage stores[] = { RS_STORAGE_SHARDED, RS_STORAGE_UNIFIED };

static void checkpoint__plus_log_equals_whole_log(void **state)
{
	(void)state;
	for (size_t s = 0; s < 2; s++) {
		char *d1 = dur_tmpdir(), *d2 = dur_tmpdir();
		rs_db_options o1 = dur_opts(d1, RS_DURABILITY_STRICT);
		rs_db_options o2 = dur_opts(d2, RS_DURABILITY_BUFFERED);
		rs_db *a, *b;
		char *live, *ra, *rb;
		unsigned after;
		rs_db_stats st;

		o1.storage = o2.storage = stores[s];
		o1.segment_bytes = o2.segment_bytes = 8192;
		a = dur_open(&o1);
		b = dur_open(&o2);
		wl_run(a, 7, 0, 400);
		wl_run(b, 7, 0, 400);
		assert_int_equal(rs_db_checkpoint(a), 0);
		/* Everything before the checkpoint's segment is gone. */
		assert_int_equal(dur_count_files(d1, "ckpt-"), 1);
		assert_int_equal(dur_count_files(d1, "wal-"), 1);
		after = wl_run(a, 7, 400, 150);
		wl_run(b, 7, 400, 150);
		live = dur_dump(a, WL_RUNS);
		rs_db_close(a);
		rs_db_close(b);

		a = dur_open(&o1);
		b = dur_open(&o2);
		st = dur_stats(a);
		assert_true(st.checkpoint_used);
		assert_int_equal(st.checkpoint_runs, WL_RUNS);
		assert_true(st.checkpoint_entries > 0);
		assert_int_equal(st.records_replayed, after);
		assert_false(dur_stats(b).checkpoint_used);
		ra = dur_dump(a, WL_RUNS);
		rb = dur_dump(b, WL_RUNS);
		assert_string_equal(live, ra);
		assert_string_equal(ra, rb);
		/* And once more after a second checkpoint with no log. */
		assert_int_equal(rs_db_checkpoint(a), 0);
		assert_int_equal(rs_db_checkpoint(a), 0);
		rs_db_close(a);
		a = dur_open(&o1);
		assert_int_equal(dur_stats(a).records_replayed, 0);
		free(ra);
		ra = dur_dump(a, WL_RUNS);
		assert_string_equal(live, ra);
		rs_db_close(a);
		rs_db_close(b);
		free(live);
		free(ra);
		free(rb);
		dur_rmdir(d1);
		dur_rmdir(d2);
	}
}

static void checkpoint__automatic_bounds_replay(void **state)
{
	char *dir = dur_tmpdir();
	rs_db_options o = dur_opts(dir, RS_DURABILITY_BUFFERED);
	const uint64_t threshold = 16 * 1024;
	rs_db_stats st;
	rs_db *db;
	unsigned records;
	int waited = 0;

	(void)state;
	o.segment_bytes = 4096;
	o.checkpoint_wal_bytes = threshold;
	o.flush_batch_commits = 16;
	db = dur_open(&o);
	records = wl_run(db, 3, 0, 3000);
	assert_int_equal(rs_db_flush(db), 0);
	/* Let the checkpointer catch up with the end of the log. */
	while ((st = dur_stats(db)).wal_bytes_since_checkpoint >= threshold &&
	       waited++ < 20000)
		dur_sleep_ms(1);
	assert_true(st.wal_bytes_since_checkpoint < threshold);
	assert_true(st.checkpoints >= 2);
	rs_db_close(db);
	/*
	 * What is kept: the checkpoint's own segment, the current one, and
	 * the full segments between, which hold less than `threshold` bytes
	 * of records in all. A record never spans segments, so a full
	 * segment holds at least its size less the 48-byte header and less
	 * one record (under 256 bytes in this workload): at most 6 files
	 * here. (The bound was 5, too tight: with their ends partly empty,
	 * 4 full segments can hold less than the threshold.)
	 */
	assert_true((uint64_t)dur_count_files(dir, "wal-") <=
		    2 + (threshold - 1) / (o.segment_bytes - 48 - 256));

	db = dur_open(&o);
	st = dur_stats(db);
	assert_true(st.checkpoint_used);
	/* Recovery replays only what followed the last checkpoint: less
	 * than `threshold` bytes, each record at least 64 bytes. */
	assert_true(st.records_replayed <= threshold / 64);
	assert_true(st.records_replayed < records / 10);
	rs_db_close(db);
	dur_rmdir(dir);
}

static void checkpoint__damaged_is_corrupt(void **state)
{
	char *dir = dur_tmpdir();
	rs_db_options o = dur_opts(dir, RS_DURABILITY_STRICT);
	rs_db_options so = o;
	unsigned char *img;
	size_t len;
	unsigned records;
	char *want, *got;
	rs_db *db;
	rs_db_stats st;

	(void)state;
	so.flags = RS_DB_F_SALVAGE;
	db = dur_open(&o);
	records = wl_run(db, 5, 0, 100);
	assert_int_equal(rs_db_checkpoint(db), 0);
	records += wl_run(db, 5, 100, 20);
	want = dur_dump(db, WL_RUNS);
	rs_db_close(db);
	assert_int_equal(dur_count_files(dir, "ckpt-"), 1);
	img = dur_read(dur_ckpt(dir, 1), &len);
	/* A flipped byte anywhere is caught before anything is applied:
	 * every byte of the header and trailer, a sample of the body. */
	for (size_t at = 0; at < len;
	     at += (at < 64 || at + 17 >= len) ? 1 : 29) {
		rs_db *x = NULL;

		img[at] ^= 0x10;
		dur_write(dur_ckpt(dir, 1), img, len);
		assert_int_equal(rs_db_open(&x, &o), RS_ECORRUPT);
		img[at] ^= 0x10;
	}
	dur_write(dur_ckpt(dir, 1), img, 10);
	{
		rs_db *x = NULL;

		assert_int_equal(rs_db_open(&x, &o), RS_ECORRUPT);
	}
	/* The whole log is still there (segment 1 holds it): salvage drops
	 * the checkpoint and replays all of it. */
	assert_true(dur_exists(dur_seg(dir, 1)));
	db = dur_open(&so);
	st = dur_stats(db);
	assert_false(st.checkpoint_used);
	assert_int_equal(st.records_replayed, records);
	assert_int_equal(st.bytes_salvaged, 10);
	got = dur_dump(db, WL_RUNS);
	assert_string_equal(got, want);
	rs_db_close(db);
	free(got);
	free(want);
	assert_int_equal(dur_count_files(dir, "ckpt-"), 0);
	free(img);
	dur_rmdir(dir);
}

static void modes__same_workload_same_state(void **state)
{
	static const rs_durability modes[] = { RS_DURABILITY_INMEMORY,
					       RS_DURABILITY_BUFFERED,
					       RS_DURABILITY_STRICT };

	(void)state;
	for (size_t s = 0; s < 2; s++) {
		char *dumps[3];

		for (size_t m = 0; m < 3; m++) {
			char *dir = dur_tmpdir();
			rs_db_options o = dur_opts(dir, modes[m]);
			rs_db *db;

			o.storage = stores[s];
			db = dur_open(&o);
			wl_run(db, 11, 0, 300);
			if (modes[m] == RS_DURABILITY_INMEMORY) {
				dumps[m] = dur_dump(db, WL_RUNS);
				rs_db_close(db);
			} else {
				rs_db_close(db);
				db = dur_open(&o);
				dumps[m] = dur_dump(db, WL_RUNS);
				rs_db_close(db);
			}
			dur_rmdir(dir);
		}
		assert_string_equal(dumps[0], dumps[1]);
		assert_string_equal(dumps[0], dumps[2]);
		for (size_t m = 0; m < 3; m++)
			free(dumps[m]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(checkpoint__plus_log_equals_whole_log),
		cmocka_unit_test(checkpoint__automatic_bounds_replay),
		cmocka_unit_test(checkpoint__damaged_is_corrupt),
		cmocka_unit_test(modes__same_workload_same_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
