/* SPDX-License-Identifier: MIT */
/*
 * Recovery: reopen after close, torn tails at every byte offset, bit flips
 * in every field, damaged and missing files, salvage, idempotence, segment
 * rotation, and replay of DROP_RUN records.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "dur_util.h"
#include "durability/wal_format.h"
#include "txn/txn.h"

static const rs_durability modes[] = { RS_DURABILITY_BUFFERED,
				       RS_DURABILITY_STRICT };
static const rs_storage stores[] = { RS_STORAGE_SHARDED, RS_STORAGE_UNIFIED };

/* Write n numbered records to run 0 ("k<i>" = "v<i>"), one per commit. */
static void put_n(rs_db *db, unsigned run, unsigned from, unsigned n)
{
	for (unsigned i = from; i < from + n; i++) {
		char k[32], v[32];

		snprintf(k, sizeof(k), "k%04u", i);
		snprintf(v, sizeof(v), "v%04u", i);
		dur_put(db, run, k, v);
	}
}

static void assert_value(rs_db *db, unsigned run, const char *key,
			 const char *want)
{
	char *got = dur_get(db, run, key);

	if (!want) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void recovery__reopen_keeps_data_and_versions(void **state)
{
	(void)state;
	for (size_t m = 0; m < 2; m++) {
		for (size_t s = 0; s < 2; s++) {
			char *dir = dur_tmpdir();
			rs_db_options o = dur_opts(dir, modes[m]);
			rs_db *db;
			char *before, *after;
			bool existed = false;
			rs_run_id r1 = dur_run(1);

			o.storage = stores[s];
			db = dur_open(&o);
			put_n(db, 0, 0, 50);
			put_n(db, 1, 0, 10);
			assert_int_equal(
				rs_kv_delete(db, &r1, "k0003", 5, &existed), 0);
			assert_true(existed);
			before = dur_dump(db, 3);
			rs_db_close(db);

			db = dur_open(&o);
			after = dur_dump(db, 3);
			assert_string_equal(before, after);
			assert_int_equal(dur_version(db, 0), 50);
			assert_int_equal(dur_version(db, 1), 11);
			assert_int_equal(dur_stats(db).records_replayed, 61);
			/* Versions continue where they left off. */
			dur_put(db, 0, "next", "x");
			assert_int_equal(dur_version(db, 0), 51);
			rs_db_close(db);
			free(before);
			free(after);
			dur_rmdir(dir);
		}
	}
}

static void recovery__multi_key_txn_is_one_record(void **state)
{
	char *dir = dur_tmpdir();
	rs_db_options o = dur_opts(dir, RS_DURABILITY_STRICT);
	rs_db *db = dur_open(&o);
	rs_run_id run = dur_run(0);
	rs_txn *txn;

	(void)state;
	assert_int_equal(rs_txn_begin(&txn, db, &run, 0), 0);
	assert_int_equal(rs_txn_kv_put(txn, "a", 1, "1", 1), 0);
	assert_int_equal(rs_txn_kv_put(txn, "b", 1, "2", 1), 0);
	assert_int_equal(rs_txn_kv_put(txn, "c", 1, "3", 1), 0);
	assert_int_equal(rs_txn_commit(txn), 0);
	assert_int_equal(dur_stats(db).wal_records, 1);
	rs_db_close(db);
	db = dur_open(&o);
	assert_int_equal(dur_stats(db).records_replayed, 1);
	assert_value(db, 0, "a", "1");
	assert_value(db, 0, "b", "2");
	assert_value(db, 0, "c", "3");
	assert_int_equal(dur_version(db, 0), 1);
	rs_db_close(db);
	dur_rmdir(dir);
}

/* A directory with n strict records in segment 1, then the CLOSE record
 * of a clean close; returns its image. */
static unsigned char *make_log(const char *dir, unsigned n, size_t *len)
{
	rs_db_options o = dur_opts(dir, RS_DURABILITY_STRICT);
	rs_db *db = dur_open(&o);

	put_n(db, 0, 0, n);
	rs_db_close(db);
	return dur_read(dur_seg(dir, 1), len);
}

static void recovery__torn_tail_every_offset(void **state)
{
	char *dir = dur_tmpdir();
	rs_db_options o = dur_opts(dir, RS_DURABILITY_STRICT);
	size_t len, off[8], rl[8], n;
	unsigned char *img = make_log(dir, 5, &len);

	(void)state;
	n = dur_records(img, len, off, rl, 8);
	assert_int_equal(n, 6);
	assert_int_equal(rl[5], 64); /* CLOSE */
	/* Cut the last commit after `cut` bytes (a crash: no CLOSE after
	 * it); the rest reads as zeros (preallocated), or the file ends
	 * there (truncate). */
	for (size_t cut = 0; cut < rl[4]; cut++) {
		for (int trunc = 0; trunc < 2; trunc++) {
			size_t flen = trunc ? off[4] + cut : len;
			unsigned char *copy = malloc(len);
			rs_db *db;
			rs_db_stats st;
			size_t torn = cut;

			memcpy(copy, img, len);
			memset(copy + off[4] + cut, 0, len - off[4] - cut);
			dur_write(dur_seg(dir, 1), copy, flen);
			/* What is cut: up to the last non-zero byte. */
			while (torn && copy[off[4] + torn - 1] == 0)
				torn--;
			free(copy);

			db = dur_open(&o);
			st = dur_stats(db);
			assert_int_equal(st.bytes_truncated, torn);
			assert_int_equal(st.records_replayed, 4);
			assert_value(db, 0, "k0003", "v0003");
			assert_value(db, 0, "k0004", NULL);
			assert_int_equal(dur_version(db, 0), 4);
			/* A new, shorter write lands where the torn one was. */
			dur_put(db, 0, "new", "n");
			rs_db_close(db);

			db = dur_open(&o);
			st = dur_stats(db);
			assert_int_equal(st.bytes_truncated, 0);
			assert_int_equal(st.records_replayed, 5);
			assert_value(db, 0, "new", "n");
			assert_value(db, 0, "k0004", NULL);
			assert_int_equal(dur_version(db, 0), 5);
			rs_db_close(db);
		}
	}
	free(img);
	dur_rmdir(dir);
}

/*
 * Flip one bit in every byte of a record in the middle and of the last
 * commit (corruption: the CLOSE record after them proves they were synced;
 * RS_ECORRUPT, or with salvage the state before it), and of the CLOSE
 * record itself (nothing after it: a torn tail, cut).
 */
static void recovery__bit_flips_in_every_field(void **state)
{
	char *dir = dur_tmpdir();
	rs_db_options o = dur_opts(dir, RS_DURABILITY_STRICT);
	size_t len, off[8], rl[8];
	unsigned char *img = make_log(dir, 5, &len);

	(void)state;
	assert_int_equal(dur_records(img, len, off, rl, 8), 6);
	for (int which = 2; which <= 5; which += which == 2 ? 2 : 1) {
		for (size_t b = 0; b < rl[which]; b++) {
			unsigned char *copy = malloc(len);
			rs_db_options so = o;
			rs_db *db;
			rs_db_stats st;

			memcpy(copy, img, len);
			copy[off[which] + b] ^= (unsigned char)(1u << (b % 8));
			dur_write(dur_seg(dir, 1), copy, len);
			if (which == 5) {
				size_t torn = rl[5];

				/* Cut up to its last non-zero byte. */
				while (copy[off[5] + torn - 1] == 0)
					torn--;
				db = dur_open(&o);
				st = dur_stats(db);
				assert_int_equal(st.bytes_truncated, torn);
				assert_int_equal(dur_version(db, 0), 5);
				rs_db_close(db);
				free(copy);
				continue;
			}
			assert_int_equal(dur_open_rc(&o), RS_ECORRUPT);
			/* Nothing was changed by the failed open. */
			{
				size_t l2;
				unsigned char *now =
					dur_read(dur_seg(dir, 1), &l2);

				assert_int_equal(l2, len);
				assert_memory_equal(now, copy, len);
				free(now);
			}
			so.flags = RS_DB_F_SALVAGE;
			db = dur_open(&so);
			st = dur_stats(db);
			assert_true(st.bytes_salvaged > 0);
			assert_int_equal(dur_version(db, 0), (uint64_t)which);
			assert_value(db, 0, which == 2 ? "k0001" : "k0003",
				     which == 2 ? "v0001" : "v0003");
			assert_value(db, 0, which == 2 ? "k0002" : "k0004",
				     NULL);
			rs_db_close(db);
			/* Salvage cut the log: it opens cleanly now. */
			db = dur_open(&o);
			assert_int_equal(dur_version(db, 0), (uint64_t)which);
			rs_db_close(db);
			free(copy);
		}
	}
	free(img);
	dur_rmdir(dir);
}

static void recovery__damaged_headers(void **state)
{
	char *dir = dur_tmpdir();
	rs_db_options o = dur_opts(dir, RS_DURABILITY_STRICT);
	rs_db_options so = o;
	size_t len;
	unsigned char *img = make_log(dir, 3, &len);
	unsigned char *copy = malloc(len);
	rs_db *db;

	(void)state;
	so.flags = RS_DB_F_SALVAGE;
	/* Empty segment file. */
	dur_write(dur_seg(dir, 1), "", 0);
	assert_int_equal(dur_open_rc(&o), RS_ECORRUPT);
	/* Truncated header. */
	dur_write(dur_seg(dir, 1), img, 20);
	assert_int_equal(dur_open_rc(&o), RS_ECORRUPT);
	/* Wrong magic. */
	memcpy(copy, img, len);
	copy[0] = 'X';
	dur_write(dur_seg(dir, 1), copy, len);
	assert_int_equal(dur_open_rc(&o), RS_ECORRUPT);
	/* Header checksum mismatch. */
	memcpy(copy, img, len);
	copy[20] ^= 1;
	dur_write(dur_seg(dir, 1), copy, len);
	assert_int_equal(dur_open_rc(&o), RS_ECORRUPT);
	/* A flipped byte in the version field is damage, not a newer
	 * format: the checksum is checked first. */
	memcpy(copy, img, len);
	copy[8] = 99;
	dur_write(dur_seg(dir, 1), copy, len);
	assert_int_equal(dur_open_rc(&o), RS_ECORRUPT);
	/* An intact header of a newer format version. */
	{
		uint64_t sum;

		sum = rs__wal_checksum(copy, 40);
		for (int i = 0; i < 8; i++)
			copy[40 + i] = (unsigned char)(sum >> (8 * i));
	}
	dur_write(dur_seg(dir, 1), copy, len);
	assert_int_equal(dur_open_rc(&o), RS_EVERSION);
	assert_int_equal(dur_open_rc(&so), RS_EVERSION);
	/* Salvage refuses to turn a log whose first header is bad into an
	 * empty database, and changes nothing. */
	memcpy(copy, img, len);
	copy[0] = 'X';
	dur_write(dur_seg(dir, 1), copy, len);
	assert_int_equal(dur_open_rc(&so), RS_ECORRUPT);
	{
		size_t l2;
		unsigned char *now = dur_read(dur_seg(dir, 1), &l2);

		assert_int_equal(l2, len);
		assert_memory_equal(now, copy, len);
		free(now);
	}
	dur_write(dur_seg(dir, 1), img, len);
	db = dur_open(&o);
	assert_int_equal(dur_version(db, 0), 3);
	dur_put(db, 0, "after", "1");
	rs_db_close(db);
	/* Stray temporaries and unknown files are harmless. */
	dur_write(dur_path(dir, "wal-0000000000000009.tmp"), "junk", 4);
	dur_write(dur_path(dir, "ckpt-0000000000000003.tmp"), "junk", 4);
	dur_write(dur_path(dir, "README"), "hello", 5);
	dur_write(dur_path(dir, "notes.tmp"), "mine", 4);
	db = dur_open(&o);
	assert_false(dur_exists(dur_path(dir, "wal-0000000000000009.tmp")));
	assert_false(dur_exists(dur_path(dir, "ckpt-0000000000000003.tmp")));
	/* Files the library did not name are the user's: left alone. */
	assert_true(dur_exists(dur_path(dir, "README")));
	assert_true(dur_exists(dur_path(dir, "notes.tmp")));
	assert_value(db, 0, "after", "1");
	rs_db_close(db);
	free(copy);
	free(img);
	dur_rmdir(dir);
}

static void recovery__is_idempotent(void **state)
{
	char *dir = dur_tmpdir();
	rs_db_options o = dur_opts(dir, RS_DURABILITY_STRICT);
	size_t len, off[16], rl[16];
	unsigned char *img = make_log(dir, 10, &len);
	char *d1, *d2;
	rs_db *db;

	(void)state;
	assert_int_equal(dur_records(img, len, off, rl, 16), 11);
	/* A torn tail (a crash: no CLOSE record), cut by the first open
	 * only. */
	memset(img + off[9] + 10, 0, rl[9] - 10 + rl[10]);
	img[off[9] + 30] = 0x55;
	dur_write(dur_seg(dir, 1), img, len);
	db = dur_open(&o);
	assert_true(dur_stats(db).bytes_truncated > 0);
	d1 = dur_dump(db, 2);
	rs_db_close(db);
	for (int i = 0; i < 3; i++) {
		db = dur_open(&o);
		assert_int_equal(dur_stats(db).bytes_truncated, 0);
		d2 = dur_dump(db, 2);
		assert_string_equal(d1, d2);
		free(d2);
		rs_db_close(db);
	}
	free(d1);
	free(img);
	dur_rmdir(dir);
}

static void recovery__segments_rotate_and_must_be_contiguous(void **state)
{
	char *dir = dur_tmpdir();
	rs_db_options o = dur_opts(dir, RS_DURABILITY_STRICT);
	rs_db_options so;
	rs_db *db;
	int nseg;

	(void)state;
	o.segment_bytes = 4096;
	so = o;
	so.flags = RS_DB_F_SALVAGE;
	db = dur_open(&o);
	put_n(db, 0, 0, 200);
	rs_db_close(db);
	nseg = dur_count_files(dir, "wal-");
	assert_true(nseg >= 4);
	db = dur_open(&o);
	assert_int_equal(dur_version(db, 0), 200);
	assert_value(db, 0, "k0199", "v0199");
	assert_int_equal(dur_stats(db).segments_read, (uint64_t)nseg);
	rs_db_close(db);
	/* A missing segment in the middle is corruption. */
	assert_int_equal(unlink(dur_seg(dir, 2)), 0);
	assert_int_equal(dur_open_rc(&o), RS_ECORRUPT);
	/* Salvage keeps what is before the gap. */
	db = dur_open(&so);
	assert_true(dur_version(db, 0) > 0);
	assert_true(dur_version(db, 0) < 200);
	assert_value(db, 0, "k0000", "v0000");
	rs_db_close(db);
	db = dur_open(&o);
	rs_db_close(db);
	dur_rmdir(dir);
}

static void recovery__oversized_record_gets_own_segment(void **state)
{
	char *dir = dur_tmpdir();
	rs_db_options o = dur_opts(dir, RS_DURABILITY_STRICT);
	rs_run_id run = dur_run(0);
	const size_t big = 3 * 4096;
	char *val = malloc(big), *got = malloc(big);
	size_t len = 0;
	rs_db *db;

	(void)state;
	memset(val, 'z', big);
	o.segment_bytes = 4096;
	db = dur_open(&o);
	dur_put(db, 0, "small", "1");
	assert_int_equal(rs_kv_put(db, &run, "big", 3, val, big), 0);
	dur_put(db, 0, "after", "2");
	rs_db_close(db);
	/* small | big (alone, past its preallocation) | after */
	assert_int_equal(dur_count_files(dir, "wal-"), 3);
	db = dur_open(&o);
	assert_int_equal(rs_kv_get(db, &run, "big", 3, got, big, &len), 0);
	assert_int_equal(len, big);
	assert_memory_equal(got, val, big);
	assert_value(db, 0, "after", "2");
	assert_int_equal(dur_version(db, 0), 3);
	rs_db_close(db);
	free(val);
	free(got);
	dur_rmdir(dir);
}

/* A RunIndex delete is one DROP_RUN record over two runs (the nil run's
 * registration, every key of the deleted run): both halves replay. */
static int delete_run(rs_db *db, const rs_run_id *id)
{
	rs_runindex_create_options co = RS_RUNINDEX_CREATE_OPTIONS_INIT;
	int rc;

	co.id = id;
	rc = rs_runindex_create(db, &co, NULL);
	if (rc < 0 && rc != RS_EEXIST)
		return rc;
	return rs_runindex_delete(db, id);
}

static void recovery__drop_run_replays(void **state)
{
	(void)state;
	for (size_t s = 0; s < 2; s++) {
		char *dir = dur_tmpdir();
		rs_db_options o = dur_opts(dir, RS_DURABILITY_STRICT);
		rs_run_id r0 = dur_run(0);
		rs_run_info info;
		rs_db *db;
		char *before, *after;

		o.storage = stores[s];
		db = dur_open(&o);
		put_n(db, 0, 0, 20);
		put_n(db, 1, 0, 5);
		assert_int_equal(delete_run(db, &r0), 0);
		assert_int_equal(dur_version(db, 0), 21);
		assert_value(db, 0, "k0005", NULL);
		assert_int_equal(rs_runindex_get(db, &r0, &info, NULL, 0, NULL),
				 RS_ENOTFOUND);
		dur_put(db, 0, "k0005", "again");
		before = dur_dump(db, 2);
		rs_db_close(db);

		db = dur_open(&o);
		after = dur_dump(db, 2);
		assert_string_equal(before, after);
		assert_value(db, 0, "k0000", NULL);
		assert_value(db, 0, "k0005", "again");
		assert_int_equal(dur_version(db, 0), 22);
		assert_value(db, 1, "k0004", "v0004");
		assert_int_equal(rs_runindex_get(db, &r0, &info, NULL, 0, NULL),
				 RS_ENOTFOUND);
		/* Through a checkpoint as well. */
		assert_int_equal(rs_db_checkpoint(db), 0);
		assert_int_equal(delete_run(db, &r0), 0);
		rs_db_close(db);
		db = dur_open(&o);
		assert_int_equal(dur_version(db, 0), 23);
		assert_value(db, 0, "k0005", NULL);
		assert_value(db, 1, "k0004", "v0004");
		assert_int_equal(rs_runindex_get(db, &r0, &info, NULL, 0, NULL),
				 RS_ENOTFOUND);
		rs_db_close(db);
		free(before);
		free(after);
		dur_rmdir(dir);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(recovery__reopen_keeps_data_and_versions),
		cmocka_unit_test(recovery__multi_key_txn_is_one_record),
		cmocka_unit_test(recovery__torn_tail_every_offset),
		cmocka_unit_test(recovery__bit_flips_in_every_field),
		cmocka_unit_test(recovery__damaged_headers),
		cmocka_unit_test(recovery__is_idempotent),
		cmocka_unit_test(
			recovery__segments_rotate_and_must_be_contiguous),
		cmocka_unit_test(recovery__oversized_record_gets_own_segment),
		cmocka_unit_test(recovery__drop_run_replays),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
