/* SPDX-License-Identifier: MIT */
/*
 * Shared by the fuzz targets (tests/fuzz/, docs/testing.md "Fuzzing"):
 * reading typed values from the fuzzer's bytes, a scratch directory per
 * process, files, the checksum fix-ups that let a mutated image past its
 * checksums, and a check that ends the process (a finding) with a message.
 *
 * Each target defines LLVMFuzzerTestOneInput(); it is linked either with
 * libFuzzer (RS_BUILD_FUZZERS) or with replay_main.c, which runs every
 * file of a corpus directory through it (ctest label `fuzz`). No CMocka:
 * a finding aborts, which both drivers report.
 */
#ifndef RS_TESTS_FUZZ_COMMON_H
#define RS_TESTS_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <runstate.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- the fuzzer's bytes ---- */

typedef struct fz_in {
	const uint8_t *p;
	size_t n;
} fz_in;

/* Past the end every value reads as 0 and every byte string as empty. */
uint8_t fz_u8(fz_in *in);
uint16_t fz_u16(fz_in *in);
uint32_t fz_u32(fz_in *in);
uint64_t fz_u64(fz_in *in);
/* Up to n bytes (fewer at the end): a view into the input. */
const uint8_t *fz_bytes(fz_in *in, size_t n, size_t *got);
/* A length-prefixed (one byte) string of at most max bytes. */
const uint8_t *fz_str(fz_in *in, size_t max, size_t *len);

/* ---- findings ---- */

/* Print "fuzz: <file>:<line>: <message>" and abort() (a finding). */
void fz_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));
#define FZ_CHECK(cond, ...)                                       \
	do {                                                      \
		if (!(cond))                                      \
			fz_fail(__FILE__, __LINE__, __VA_ARGS__); \
	} while (0)
/* Whether rc is one of the codes listed (FZ_RC_END ends the list). */
#define FZ_RC_END INT32_MIN
bool fz_rc_in(int rc, ...);
#define FZ_EXPECT_RC(rc, ...)                            \
	FZ_CHECK(fz_rc_in((rc), __VA_ARGS__, FZ_RC_END), \
		 "%s returned %s (%d)", #rc, rs_errname(rc), (rc))

/*
 * Whether the check named `check` is listed in $RS_FUZZ_SKIP (a comma
 * list): for a long exploratory run past a known finding whose fix is
 * pending (docs/testing.md, "Fuzzing"). ctest never sets it. Names:
 *  salvage-reopen  fz_db_cycle: a database opened with RS_DB_F_SALVAGE
 *                  and closed cleanly must open again without it.
 *  reopen-same     fz_db_cycle: the reopened database reads the same.
 */
bool fz_skip(const char *check);

/* ---- files ---- */

/* A scratch directory for this process, created on first use (under
 * $RS_FUZZ_TMPDIR, else /dev/shm when writable, else $TMPDIR or /tmp)
 * and removed at exit. */
const char *fz_scratch(void);
/* Remove every entry of the scratch directory (one level of
 * subdirectories included). */
void fz_clear(void);
/* Remove <scratch>/<name>, a file or an (emptied) directory, if any. */
void fz_clear_entry(const char *name);
/* "<scratch>/<name>" in a static buffer. */
const char *fz_path(const char *name);
/* Create or replace <scratch>/<name>: len bytes, then, when size > len,
 * a hole up to size (a sparse file). */
void fz_write(const char *name, const void *p, size_t len, uint64_t size);
/* Whole file into malloc'd memory (NULL when unreadable). */
unsigned char *fz_read(const char *path, size_t *len);

/* ---- checksum fix-ups (the formats of docs/wal-format.md) ---- */

/* Recompute a 48-byte segment header's or a 64-byte checkpoint header's
 * checksum (its last 8 bytes). */
void fz_seal_header(unsigned char *hdr, size_t hdr_size);
/* Recompute the checksum of the record at p when its length field fits
 * in avail bytes; returns that length, or 0. */
size_t fz_seal_record(unsigned char *p, size_t avail);
/* Recompute the body checksum in a checkpoint image's trailer. */
void fz_seal_ckpt_body(unsigned char *p, size_t len);
/* Write the item counts a checkpoint body holds into its header, counting
 * items the way the format lays them out up to the first that does not
 * fit (the decoder judges the rest); the header checksum is left alone. */
void fz_ckpt_fix_counts(unsigned char *p, size_t len);

/* The inputs that start with a flags byte: *flags gets it, and the rest
 * is returned as a malloc'd copy of *n bytes (fixed up in place, then
 * freed by the caller); NULL for an empty input. */
unsigned char *fz_flags_and_copy(const uint8_t *data, size_t size,
				 unsigned *flags, size_t *n);

/* ---- a database, and reading all of it ---- */

/* A fixed hash seed and the fuzzers' run ids: run i for i < FZ_NRUNS. */
#define FZ_HASH_SEED 0x5eedf00dULL
#define FZ_NRUNS 3
rs_run_id fz_run(unsigned i);

/*
 * Read everything a client can reach in the runs fz_run(0..FZ_NRUNS-1)
 * and in every registered run, through every reading function, checking
 * that each returns a documented code and that what it returns is
 * self-consistent (lengths within bounds, sequences in order). Appends a
 * canonical text form of what it read to *dump (malloc'd, may be NULL to
 * skip it) so that two opens of one directory can be compared. Stops
 * after a bounded amount of work.
 */
void fz_read_all(rs_db *db, char **dump, size_t *dump_len);

/*
 * Open the scratch directory as a database (Buffered unless `strict`,
 * segments of seg_bytes, no automatic checkpoints, RS_DB_F_SALVAGE when
 * `salvage`); the open must return 0 or a documented error (RS_ECORRUPT,
 * RS_EVERSION, RS_EIO, RS_ENOMEM), which is returned. When it opens:
 * read everything (fz_read_all), commit once, checkpoint when asked,
 * read everything again, close, and reopen without salvage: that open
 * must succeed and read the same.
 */
int fz_db_cycle(bool salvage, bool strict, uint64_t seg_bytes, bool checkpoint);

/*
 * A deterministic workload over every primitive on fz_run(0..2) (KV puts
 * and deletes, events, cells, traces with tags and parents, RunIndex
 * registrations, transitions, an archive and a delete, a multi-op
 * transaction): `steps` rounds. The seed generator (fuzz_seeds.c) runs
 * it to produce valid logs and checkpoints to mutate.
 */
void fz_workload(rs_db *db, unsigned steps);

/*
 * fuzz_recovery's input describes a directory (fuzz_recovery.c): a flags
 * byte, then entries. Shared with the seed generator.
 */
#define FZ_DIR_F_SALVAGE 0x1u
#define FZ_DIR_F_STRICT 0x2u
#define FZ_DIR_F_CHECKPOINT 0x4u
/* Bits 3-4 of the flags: segment_bytes = 4096 << (2 * v). */
#define FZ_DIR_SEG_SHIFT 3
#define FZ_DIR_SEG_BYTES(flags) (4096u << (2u * (((flags) >> 3) & 3u)))
/* Entry: name index (mod FZ_DIR_NNAMES), kind, u16 length, the bytes,
 * and for FZ_K_SPARSE one more byte m: the file is then (m + 1) * 64 KiB
 * larger, as a hole. */
#define FZ_DIR_NNAMES 16
extern const char *const fz_dir_names[FZ_DIR_NNAMES];
#define FZ_K_FILE 0u
#define FZ_K_EMPTY 1u  /* zero-length, whatever the bytes */
#define FZ_K_DIR 2u    /* a directory of that name */
#define FZ_K_SPARSE 3u /* the bytes, then a hole */
#define FZ_K_MASK 3u
#define FZ_K_SEAL_HDR 0x08u  /* recompute the file header's checksum */
#define FZ_K_SEAL_RECS 0x10u /* recompute each record's checksum */
#define FZ_K_SEAL_CKPT 0x20u /* a checkpoint's counts and body checksum */
#define FZ_K_PAD 0x40u	     /* zeros up to segment_bytes (preallocated) */

#endif
