/* SPDX-License-Identifier: MIT */
/*
 * The seed generator: writes the generated seeds of the fuzz corpora.
 *
 *   fuzz_seeds <dir>    (dir: tests/fuzz/corpus)
 *
 * It runs fz_workload() on Buffered databases with 4 KiB segments in the
 * scratch directory and writes, as gen-* files:
 *  - <dir>/fuzz_recovery/: each resulting directory in fuzz_recovery's
 *    input format (segments trimmed of their zero tail and padded again
 *    on replay): a log over several segments; a checkpoint and the log
 *    after it; a torn last record; a checkpoint with a stale temporary,
 *    and a foreign file; salvage and Strict variants;
 *  - <dir>/fuzz_wal/: every segment of the log, torn and checkpoint
 *    directories, as is and as a stream of records;
 *  - <dir>/fuzz_ckpt/: the checkpoint, decoded only and also opened;
 *  - <dir>/fuzz_api/: a few pseudo-random operation streams.
 * The rest of each corpus is what libFuzzer found, minimized with
 * -merge=1 (docs/testing.md, "Fuzzing"). Deterministic except for the
 * timestamps inside records and checkpoints.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "durability/wal_format.h"
#include "fuzz/fuzz_common.h"

#define SEG_BYTES 4096u

static const char *out_root;

static void save(const char *target, const char *name, const void *p,
		 size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", out_root, target);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/gen-%s", out_root, target, name);
	f = fopen(path, "wb");
	FZ_CHECK(f && fwrite(p, 1, len, f) == len && fclose(f) == 0,
		 "cannot write %s", path);
}

static size_t trimmed(const unsigned char *p, size_t len)
{
	while (len && p[len - 1] == 0)
		len--;
	return len;
}

typedef struct buf {
	unsigned char *p;
	size_t len;
} buf;

static void put(buf *b, const void *p, size_t n)
{
	b->p = realloc(b->p, b->len + n);
	FZ_CHECK(b->p, "out of memory");
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void put_entry(buf *b, unsigned name, unsigned kind,
		      const unsigned char *p, size_t n)
{
	unsigned char h[4] = { (unsigned char)name, (unsigned char)kind,
			       (unsigned char)(n & 0xff),
			       (unsigned char)(n >> 8) };

	FZ_CHECK(n <= 0xffff, "a seed file of %zu bytes", n);
	put(b, h, sizeof(h));
	put(b, p, n);
}

/* The scratch directory as a fuzz_recovery input (and its files as
 * fuzz_wal and fuzz_ckpt seeds), named `tag`. */
static void save_dir(const char *tag, unsigned flags, bool files)
{
	buf b = { NULL, 0 };
	unsigned char f = (unsigned char)flags;

	put(&b, &f, 1);
	for (unsigned i = 0; i < FZ_DIR_NNAMES; i++) {
		const char *name = fz_dir_names[i];
		size_t len;
		unsigned char *p = fz_read(fz_path(name), &len);
		char seed[128];

		if (!p)
			continue;
		len = trimmed(p, len);
		put_entry(&b, i,
			  name[0] == 'w' ? FZ_K_FILE | FZ_K_PAD : FZ_K_FILE, p,
			  len);
		if (!files) {
			/* its files are another directory's seeds */
		} else if (name[0] == 'w' && !strstr(name, ".tmp")) {
			unsigned char *s = malloc(len + 1);

			FZ_CHECK(s, "out of memory");
			s[0] = 0;
			memcpy(s + 1, p, len);
			snprintf(seed, sizeof(seed), "%s-%u", tag, i);
			save("fuzz_wal", seed, s, len + 1);
			if (len > RS__SEG_HDR) {
				s[RS__SEG_HDR] = 0x4; /* records only */
				save("fuzz_wal", strcat(seed, "-recs"),
				     s + RS__SEG_HDR, len + 1 - RS__SEG_HDR);
			}
			free(s);
		} else if (name[0] == 'c' && strstr(name, ".rsc")) {
			unsigned char *s = malloc(len + 1);

			FZ_CHECK(s, "out of memory");
			memcpy(s + 1, p, len);
			s[0] = 0;
			snprintf(seed, sizeof(seed), "%s-%u", tag, i);
			save("fuzz_ckpt", seed, s, len + 1);
			s[0] = 0x8 | 0x20; /* open it, checkpoint again */
			save("fuzz_ckpt", strcat(seed, "-open"), s, len + 1);
			free(s);
		}
		free(p);
	}
	save("fuzz_recovery", tag, b.p, b.len);
	free(b.p);
}

static rs_db *open_db(void)
{
	rs_db_options o = RS_DB_OPTIONS_INIT;
	rs_db *db;
	int rc;

	o.durability = RS_DURABILITY_BUFFERED;
	o.path = fz_scratch();
	o.hash_seed = FZ_HASH_SEED;
	o.segment_bytes = SEG_BYTES;
	o.checkpoint_wal_bytes = RS_CHECKPOINT_NEVER;
	rc = rs_db_open(&db, &o);
	FZ_CHECK(rc == 0, "open: %s", rs_errname(rc));
	return db;
}

static void cut_last_bytes(const char *name, size_t n)
{
	size_t len;
	unsigned char *p = fz_read(fz_path(name), &len);

	FZ_CHECK(p, "no %s", name);
	len = trimmed(p, len);
	fz_write(name, p, len > n ? len - n : 0, 0);
	free(p);
}

static const char *last_segment(void)
{
	const char *last = NULL;

	for (unsigned i = 0; i < 4; i++) {
		struct stat st;

		if (stat(fz_path(fz_dir_names[i]), &st) == 0)
			last = fz_dir_names[i];
	}
	FZ_CHECK(last, "no segment");
	return last;
}

/*
 * fuzz_wal seeds: the first record of a segment with one field of its
 * header or first op made invalid, checksums recomputed (flags 0x6): each
 * must be rejected, so a decoder that stopped checking that field fails
 * the re-encoding check on replay.
 */
static void reject_seeds(const char *seg_name)
{
	static const struct {
		const char *name;
		size_t off; /* in the record */
		unsigned char val;
	} bad[] = {
		{ "rec-flags", 14, 1 },	      { "rec-reserved", 60, 1 },
		{ "rec-kind", 12, 3 },	      { "op-tag", 64, 0 },
		{ "op-flags", 65, 2 },	      { "op-reserved", 66, 1 },
		{ "op-klen0", 68, 0 },	      { "op-klen-big", 69, 4 },
		{ "op-delete-value", 65, 1 },
	};
	size_t len;
	unsigned char *p = fz_read(fz_path(seg_name), &len);

	FZ_CHECK(p && len > RS__SEG_HDR + RS__REC_HDR + RS__OP_HDR, "no %s",
		 seg_name);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t rlen = rs__rec_len(p + RS__SEG_HDR);
		unsigned char *s = malloc(rlen + 1);

		FZ_CHECK(s, "out of memory");
		s[0] = 0x6; /* records, checksums recomputed */
		memcpy(s + 1, p + RS__SEG_HDR, rlen);
		s[1 + bad[i].off] = bad[i].val;
		if (bad[i].off == 68) /* klen 0: all four bytes */
			memset(s + 1 + 68, 0, 4);
		save("fuzz_wal", bad[i].name, s, rlen + 1);
		free(s);
	}
	free(p);
}

static void api_seeds(void)
{
	uint64_t s = 42;

	for (unsigned i = 0; i < 4; i++) {
		unsigned char p[512];
		char name[16];

		for (size_t j = 0; j < sizeof(p); j++) {
			s = s * 6364136223846793005ull + 1442695040888963407ull;
			p[j] = (unsigned char)(s >> 56);
		}
		snprintf(name, sizeof(name), "random-%u", i);
		save("fuzz_api", name, p, 128u << (i % 3));
	}
}

int main(int argc, char **argv)
{
	const unsigned seg4k = 0; /* FZ_DIR_SEG_BYTES(0) == SEG_BYTES */
	rs_db *db;

	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_seeds <corpus dir>\n");
		return 2;
	}
	out_root = argv[1];
	FZ_CHECK(FZ_DIR_SEG_BYTES(seg4k) == SEG_BYTES, "segment size");

	/* A log over several segments. */
	fz_clear();
	db = open_db();
	fz_workload(db, 12);
	rs_db_close(db);
	save_dir("log", seg4k, true);
	reject_seeds(fz_dir_names[0]);
	save_dir("log-strict-ckpt",
		 seg4k | FZ_DIR_F_STRICT | FZ_DIR_F_CHECKPOINT, false);
	/* Its last record torn. */
	cut_last_bytes(last_segment(), 9);
	save_dir("torn", seg4k, true);

	/* A checkpoint and the log after it. */
	fz_clear();
	db = open_db();
	fz_workload(db, 8);
	FZ_CHECK(rs_db_checkpoint(db) == 0, "checkpoint");
	FZ_CHECK(rs_kv_put(db, &(rs_run_id){ { 0 } }, "x", 1, "", 0) ==
			 RS_EINVAL,
		 "nil run accepted");
	{
		rs_run_id r = fz_run(0);

		FZ_CHECK(rs_kv_put(db, &r, "post", 4, "ckpt", 4) == 0, "put");
	}
	rs_db_close(db);
	save_dir("ckpt", seg4k, true);
	save_dir("ckpt-salvage", seg4k | FZ_DIR_F_SALVAGE, false);
	/* Left-overs: a temporary and a foreign file. */
	fz_write("wal-0000000000000002.tmp", "partial", 7, 0);
	fz_write("junk", "not ours", 8, 0);
	save_dir("ckpt-leftovers", seg4k, false);

	api_seeds();
	fz_clear();
	printf("fuzz_seeds: written under %s\n", out_root);
	return 0;
}
