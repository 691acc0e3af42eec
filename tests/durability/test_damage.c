/* SPDX-License-Identifier: MIT */
/*
 * Damage against torn writes, at every record of a log, and salvage over a
 * damaged checkpoint.
 *
 *  - A cleanly closed log ends in a CLOSE record that proves every record
 *    before it was synced: one flipped byte in any record, Buffered or a
 *    Strict group-commit batch, is RS_ECORRUPT (nothing is silently cut),
 *    and salvage then keeps exactly the commits before it.
 *  - A log cut inside any record, with nothing after it (a crash during
 *    that write), is a torn tail: the open cuts it and keeps exactly the
 *    commits before it.
 *  - Salvage over a damaged checkpoint keeps a real prefix of history or
 *    refuses: with the whole log still there it replays it; with an older
 *    checkpoint left by an interrupted cleanup it uses that one; with
 *    neither it fails with RS_ECORRUPT and changes no file.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <cmocka.h>

#include "dur_util.h"
#include "durability/wal_format.h"

#define NCOMMITS 200u

static void put_i(rs_db *db, unsigned run, unsigned i)
{
	char k[16], v[16];

	snprintf(k, sizeof(k), "k%04u", i);
	snprintf(v, sizeof(v), "v%04u", i);
	dur_put(db, run, k, v);
}

/* The records of segment 1 (the tests keep every record in it). */
static unsigned char *read_log(const char *dir, size_t *len, size_t *off,
			       size_t *rl, size_t *n, size_t max)
{
	unsigned char *img = dur_read(dur_seg(dir, 1), len);

	assert_int_equal(dur_count_files(dir, "wal-"), 1);
	*n = dur_records(img, *len, off, rl, max);
	return img;
}

static void assert_file(const char *path, const unsigned char *want, size_t len)
{
	size_t l2;
	unsigned char *now = dur_read(path, &l2);

	assert_int_equal(l2, len);
	assert_memory_equal(now, want, len);
	free(now);
}

/*
 * Flip one byte in each record in turn: RS_ECORRUPT without changing the
 * file; with salvage, exactly the commits before it (`commits_before`
 * maps a record index to the commits of run `run` before it).
 */
static void flip_every_record(const char *dir, const rs_db_options *o,
			      const unsigned *commits_before, unsigned run)
{
	size_t len, n, off[NCOMMITS + 2], rl[NCOMMITS + 2];
	unsigned char *img = read_log(dir, &len, off, rl, &n, NCOMMITS + 2);
	rs_db_options so = *o;

	so.flags = RS_DB_F_SALVAGE;
	for (size_t i = 0; i + 1 < n; i++) {
		/* A different byte of each record, header and body alike. */
		size_t at = off[i] + (i * 37) % rl[i];
		rs_db *db;

		img[at] ^= 0x40;
		dur_write(dur_seg(dir, 1), img, len);
		assert_int_equal(dur_open_rc(o), RS_ECORRUPT);
		assert_file(dur_seg(dir, 1), img, len);
		if (i == 0) {
			/* Nothing valid before it: salvage would leave an
			 * empty database, and refuses. */
			assert_int_equal(dur_open_rc(&so), RS_ECORRUPT);
			assert_file(dur_seg(dir, 1), img, len);
			img[at] ^= 0x40;
			continue;
		}
		db = dur_open(&so);
		assert_true(dur_stats(db).bytes_salvaged > 0);
		assert_int_equal(dur_version(db, run), commits_before[i]);
		rs_db_close(db);
		img[at] ^= 0x40;
	}
	dur_write(dur_seg(dir, 1), img, len);
	free(img);
}

/*
 * A Buffered database, NCOMMITS commits, flushed and closed: a flipped
 * byte in any record is corruption. (Before the CLOSE record, the open
 * succeeded and dropped every commit from the damaged one on.)
 */
static void damage__flip_in_every_record_of_a_closed_buffered_log(void **state)
{
	char *dir = dur_tmpdir();
	rs_db_options o = dur_opts(dir, RS_DURABILITY_BUFFERED);
	unsigned before[NCOMMITS + 1];
	rs_db *db;

	(void)state;
	o.segment_bytes = 1u << 20;
	o.flush_interval_ms = 3600000; /* one batch: every record unsynced */
	db = dur_open(&o);
	for (unsigned i = 0; i < NCOMMITS; i++) {
		put_i(db, 0, i);
		before[i] = i;
	}
	assert_int_equal(rs_db_flush(db), 0);
	rs_db_close(db);
	flip_every_record(dir, &o, before, 0);
	db = dur_open(&o);
	assert_int_equal(dur_version(db, 0), NCOMMITS);
	rs_db_close(db);
	dur_rmdir(dir);
}

typedef struct committer {
	rs_db *db;
	unsigned run, n;
	pthread_barrier_t *start;
} committer;

static void *commit_main(void *arg)
{
	committer *c = arg;

	pthread_barrier_wait(c->start);
	for (unsigned i = 0; i < c->n; i++)
		put_i(c->db, c->run, i);
	return NULL;
}

/* Several Strict committers (group-commit batches), closed: the same. */
static void damage__flip_in_every_record_of_strict_group_commits(void **state)
{
	enum {
		NT = 4,
		PER = 40
	};
	char *dir = dur_tmpdir();
	rs_db_options o = dur_opts(dir, RS_DURABILITY_STRICT);
	size_t len, n, off[NT * PER + 2], rl[NT * PER + 2];
	unsigned before[NT * PER + 1], seen = 0;
	pthread_barrier_t start;
	pthread_t th[NT];
	committer c[NT];
	unsigned char *img;
	rs_db *db;

	(void)state;
	o.segment_bytes = 1u << 20;
	db = dur_open(&o);
	pthread_barrier_init(&start, NULL, NT);
	for (unsigned t = 0; t < NT; t++) {
		c[t] = (committer){ db, t, PER, &start };
		assert_int_equal(
			pthread_create(&th[t], NULL, commit_main, &c[t]), 0);
	}
	for (unsigned t = 0; t < NT; t++)
		pthread_join(th[t], NULL);
	pthread_barrier_destroy(&start);
	assert_true(dur_stats(db).wal_syncs <= NT * PER);
	rs_db_close(db);
	/* Commits of run 0 before each record, from the records' run ids
	 * (bytes 24..39 of the header). */
	img = read_log(dir, &len, off, rl, &n, NT * PER + 2);
	assert_int_equal(n, NT * PER + 1);
	{
		rs_run_id r0 = dur_run(0);

		for (size_t i = 0; i < n; i++) {
			before[i] = seen;
			if (memcmp(img + off[i] + 24, r0.bytes, 16) == 0)
				seen++;
		}
	}
	assert_int_equal(seen, PER);
	free(img);
	flip_every_record(dir, &o, before, 0);
	dur_rmdir(dir);
}

/*
 * A crash inside any record's write: the log ends inside it, the rest
 * reads as zeros and no CLOSE follows. A torn tail: cut, and the commits
 * before it are all there.
 */
static void damage__torn_inside_every_record(void **state)
{
	char *dir = dur_tmpdir();
	rs_db_options o = dur_opts(dir, RS_DURABILITY_BUFFERED);
	size_t len, n, off[NCOMMITS + 2], rl[NCOMMITS + 2];
	unsigned char *img, *copy;
	rs_db *db;

	(void)state;
	o.segment_bytes = 1u << 20;
	db = dur_open(&o);
	for (unsigned i = 0; i < NCOMMITS; i++)
		put_i(db, 0, i);
	rs_db_close(db);
	img = read_log(dir, &len, off, rl, &n, NCOMMITS + 2);
	assert_int_equal(n, NCOMMITS + 1);
	copy = malloc(len);
	for (size_t i = 0; i < NCOMMITS; i++) {
		size_t keep = 1 + (i * 13) % (rl[i] - 1);

		memcpy(copy, img, len);
		memset(copy + off[i] + keep, 0, len - off[i] - keep);
		dur_write(dur_seg(dir, 1), copy, len);
		db = dur_open(&o);
		assert_true(dur_stats(db).bytes_truncated > 0);
		assert_int_equal(dur_version(db, 0), i);
		rs_db_close(db);
	}
	free(copy);
	free(img);
	dur_rmdir(dir);
}

/* ---- salvage over a damaged checkpoint ---- */

/* Commit i: a KV put and an event append, in one transaction. */
static void commit_kv_event(rs_db *db, unsigned i)
{
	rs_run_id run = dur_run(1);
	char k[16], v[48];
	rs_txn *txn;

	snprintf(k, sizeof(k), "k%04u", i);
	snprintf(v, sizeof(v), "event %u of the run, with some payload", i);
	assert_int_equal(rs_txn_begin(&txn, db, &run, 0), 0);
	assert_int_equal(rs_txn_kv_put(txn, k, strlen(k), v, strlen(v)), 0);
	assert_int_equal(
		rs_txn_eventlog_append(txn, "step", 4, v, strlen(v), NULL), 0);
	assert_int_equal(rs_txn_commit(txn), 0);
}

/* All 200 commits are there and the chain verifies. */
static void assert_full_history(rs_db *db)
{
	rs_run_id run = dur_run(1);
	uint64_t n = 0, bad = 0;
	char *v;

	assert_int_equal(rs_eventlog_len(db, &run, &n), 0);
	assert_int_equal(n, NCOMMITS);
	assert_int_equal(rs_eventlog_verify_chain(db, &run, &bad), 0);
	assert_int_equal(dur_version(db, 1), NCOMMITS);
	v = dur_get(db, 1, "k0000");
	assert_non_null(v);
	free(v);
}

/*
 * Strict options for `dir` with segments of `segment_bytes` (*o) and the
 * same with salvage (*so); then 150 commits, checkpoint, 50 more, close.
 * Returns the checkpoint's seq.
 */
static uint64_t history_with_checkpoint(const char *dir, uint64_t segment_bytes,
					rs_db_options *o, rs_db_options *so)
{
	rs_db *db;

	*o = dur_opts(dir, RS_DURABILITY_STRICT);
	o->segment_bytes = segment_bytes;
	*so = *o;
	so->flags = RS_DB_F_SALVAGE;
	db = dur_open(o);

	for (unsigned i = 0; i < 150; i++)
		commit_kv_event(db, i);
	assert_int_equal(rs_db_checkpoint(db), 0);
	for (unsigned i = 150; i < NCOMMITS; i++)
		commit_kv_event(db, i);
	rs_db_close(db);
	assert_int_equal(dur_count_files(o->path, "ckpt-"), 1);
	for (uint64_t s = 1; s < 1000; s++)
		if (dur_exists(dur_ckpt(o->path, s)))
			return s;
	fail_msg("no checkpoint file");
	return 0;
}

/* Every file of the directory, to compare before and after. */
typedef struct dir_image {
	char *names[64];
	unsigned char *data[64];
	size_t len[64], n;
} dir_image;

static void snap_dir(const char *dir, dir_image *im)
{
	im->n = 0;
	for (uint64_t s = 1; s < 200; s++) {
		const char *paths[2] = { dur_seg(dir, s), NULL };
		char seg[512];

		snprintf(seg, sizeof(seg), "%s", paths[0]);
		paths[0] = seg;
		paths[1] = dur_ckpt(dir, s);
		for (int k = 0; k < 2; k++) {
			if (!dur_exists(paths[k]))
				continue;
			assert_true(im->n < 64);
			im->names[im->n] = strdup(paths[k]);
			im->data[im->n] = dur_read(paths[k], &im->len[im->n]);
			im->n++;
		}
	}
}

static void free_dir_image(dir_image *im)
{
	for (size_t i = 0; i < im->n; i++) {
		free(im->names[i]);
		free(im->data[i]);
	}
	im->n = 0;
}

static void assert_dir_is(const char *dir, const dir_image *im)
{
	dir_image now;

	snap_dir(dir, &now);
	assert_int_equal(now.n, im->n);
	for (size_t i = 0; i < im->n; i++) {
		assert_string_equal(now.names[i], im->names[i]);
		assert_int_equal(now.len[i], im->len[i]);
		assert_memory_equal(now.data[i], im->data[i], im->len[i]);
	}
	free_dir_image(&now);
}

static size_t file_len(const char *path)
{
	size_t len;

	free(dur_read(path, &len));
	return len;
}

static void flip_byte(const char *path, size_t at)
{
	size_t len;
	unsigned char *p = dur_read(path, &len);

	assert_true(at < len);
	p[at] ^= 0x01;
	dur_write(path, p, len);
	free(p);
}

/*
 * The log before the checkpoint is gone (small segments, removed by the
 * checkpoint): salvage cannot build a real prefix and refuses, changing
 * nothing. (Before, it opened with commits 146..199 only, an EventLog of
 * length 200 missing events 0..145, bytes_salvaged 0.)
 */
static void
damage__salvage_refuses_without_the_log_before_a_bad_checkpoint(void **state)
{
	char *dir = dur_tmpdir();
	rs_db_options o, so;
	dir_image im;
	uint64_t seq = history_with_checkpoint(dir, 4096, &o, &so);
	size_t len = file_len(dur_ckpt(dir, seq));
	rs_db *db;

	(void)state;
	assert_true(seq > 1);
	assert_false(dur_exists(dur_seg(dir, 1)));
	flip_byte(dur_ckpt(dir, seq), len / 2);
	snap_dir(dir, &im);
	assert_int_equal(dur_open_rc(&so), RS_ECORRUPT);
	assert_dir_is(dir, &im);
	assert_int_equal(dur_open_rc(&o), RS_ECORRUPT);
	assert_dir_is(dir, &im);
	/* Repaired by hand, the database is whole again. */
	flip_byte(dur_ckpt(dir, seq), len / 2);
	db = dur_open(&o);
	assert_full_history(db);
	rs_db_close(db);
	free_dir_image(&im);
	dur_rmdir(dir);
}

/* The whole log is there: salvage drops the checkpoint and replays it. */
static void
damage__salvage_replays_the_whole_log_past_a_bad_checkpoint(void **state)
{
	char *dir = dur_tmpdir();
	rs_db_options o, so;
	uint64_t seq = history_with_checkpoint(dir, 1u << 20, &o, &so);
	size_t len = file_len(dur_ckpt(dir, seq));
	rs_db *db;
	rs_db_stats st;

	(void)state;
	assert_int_equal(seq, 1);
	flip_byte(dur_ckpt(dir, seq), 70);
	db = dur_open(&so);
	st = dur_stats(db);
	assert_false(st.checkpoint_used);
	assert_int_equal(st.bytes_salvaged, len);
	assert_full_history(db);
	rs_db_close(db);
	db = dur_open(&o);
	assert_full_history(db);
	rs_db_close(db);
	dur_rmdir(dir);
}

/*
 * A crash between writing a checkpoint and removing what it covers left
 * the older checkpoint and its log: salvage over the newer, damaged one
 * uses them.
 */
static void
damage__salvage_uses_an_older_checkpoint_left_by_cleanup(void **state)
{
	char *dir = dur_tmpdir();
	rs_db_options o, so;
	dir_image old;
	uint64_t seq_a = history_with_checkpoint(dir, 4096, &o, &so), seq_b = 0;
	rs_db *db;
	rs_db_stats st;

	(void)state;
	snap_dir(dir, &old);
	db = dur_open(&o);
	assert_int_equal(rs_db_checkpoint(db), 0);
	rs_db_close(db);
	for (uint64_t s = seq_a + 1; s < 1000 && !seq_b; s++)
		if (dur_exists(dur_ckpt(dir, s)))
			seq_b = s;
	assert_true(seq_b > seq_a);
	/* Put back what the second checkpoint's cleanup removed. */
	for (size_t i = 0; i < old.n; i++)
		if (!dur_exists(old.names[i]))
			dur_write(old.names[i], old.data[i], old.len[i]);
	assert_true(dur_exists(dur_ckpt(dir, seq_a)));
	flip_byte(dur_ckpt(dir, seq_b), 100);
	assert_int_equal(dur_open_rc(&o), RS_ECORRUPT);
	db = dur_open(&so);
	st = dur_stats(db);
	assert_true(st.checkpoint_used);
	assert_true(st.bytes_salvaged > 0);
	assert_full_history(db);
	rs_db_close(db);
	assert_false(dur_exists(dur_ckpt(dir, seq_b)));
	db = dur_open(&o);
	assert_full_history(db);
	rs_db_close(db);
	free_dir_image(&old);
	dur_rmdir(dir);
}

/*
 * A record naming one key twice (never written by the library: a write set
 * is a set) is corruption. Applied as it was, the store got two nodes for
 * the key, and the next checkpoint wrote both, in an order that gave
 * another value after a reopen (found by fuzz_ckpt on a checkpoint image).
 */
static void damage__a_key_twice_in_one_record_is_corrupt(void **state)
{
	char *dir = dur_tmpdir();
	rs_db_options o = dur_opts(dir, RS_DURABILITY_STRICT), so = o;
	rs_run_id run = dur_run(1);
	unsigned char img[4096];
	rs__seg_header h = { 1, 0, 0 };
	rs__op ops[2];
	rs__commit_record rec;
	uint64_t size;

	(void)state;
	memset(img, 0, sizeof(img));
	memset(ops, 0, sizeof(ops));
	for (int i = 0; i < 2; i++) {
		ops[i].tag = RS_TAG_KV;
		ops[i].key = "k";
		ops[i].klen = 1;
		ops[i].val = i ? "second" : "first";
		ops[i].vlen = i ? 6 : 5;
	}
	memset(&rec, 0, sizeof(rec));
	rec.kind = RS__REC_COMMIT;
	rec.run = &run;
	rec.version = 1;
	rec.ops = ops;
	rec.nops = 2;
	rs__seg_header_encode(img, &h);
	size = rs__rec_size(&rec);
	rs__rec_encode(img + RS__SEG_HDR, &rec, 1);
	rs__rec_seal(img + RS__SEG_HDR, 0);
	/* A CLOSE after it: not a torn tail. */
	rs__rec_encode_close(img + RS__SEG_HDR + size, 2);
	rs__rec_seal(img + RS__SEG_HDR + size, size);
	dur_write(dur_seg(dir, 1), img, sizeof(img));
	assert_int_equal(dur_open_rc(&o), RS_ECORRUPT);
	/* Salvage keeps what precedes it: nothing, so it refuses. */
	so.flags = RS_DB_F_SALVAGE;
	assert_int_equal(dur_open_rc(&so), RS_ECORRUPT);
	/* The same record with two keys opens. */
	ops[1].key = "l";
	rs__rec_encode(img + RS__SEG_HDR, &rec, 1);
	rs__rec_seal(img + RS__SEG_HDR, 0);
	dur_write(dur_seg(dir, 1), img, sizeof(img));
	assert_int_equal(dur_open_rc(&o), 0);
	dur_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			damage__flip_in_every_record_of_a_closed_buffered_log),
		cmocka_unit_test(
			damage__flip_in_every_record_of_strict_group_commits),
		cmocka_unit_test(damage__torn_inside_every_record),
		cmocka_unit_test(
			damage__salvage_refuses_without_the_log_before_a_bad_checkpoint),
		cmocka_unit_test(
			damage__salvage_replays_the_whole_log_past_a_bad_checkpoint),
		cmocka_unit_test(
			damage__salvage_uses_an_older_checkpoint_left_by_cleanup),
		cmocka_unit_test(damage__a_key_twice_in_one_record_is_corrupt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
