/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: recovery of arbitrary directory contents (rs_db_open() of
 * a Buffered or Strict database; durability/recovery.c, checkpoint.c,
 * wal_file.c, and the database's replay and load callbacks).
 *
 * Input (fuzz_common.h, FZ_DIR_*): a flags byte (salvage, Strict, a
 * checkpoint before close, the segment size), then up to MAX_FILES
 * entries, each a name from fz_dir_names (segments 0..4, 0xff and the
 * last number, checkpoints 0..3, temporaries, LOCK, a foreign file, a
 * name in the wrong case), a kind (a file, a zero-length file, a
 * directory, or a file with a hole after its bytes: oversized and
 * sparse), fix-ups (recompute the header checksum, each record's
 * checksum, a checkpoint's counts and body checksum, pad a segment with
 * zeros to its preallocated size) and the file's bytes. The seeds
 * (fuzz_seeds) are the directories of real workloads, so mutations start
 * from valid logs and checkpoints: truncated, with wrong magic or
 * version, flipped bytes, files missing or repeated.
 *
 * Checked (fz_db_cycle): rs_db_open() returns 0 or a documented error
 * and never crashes, leaks or hangs; when it opens, every read of every
 * primitive returns a documented code, a commit succeeds (or the run is
 * archived), and after close the directory opens again without salvage
 * and reads the same.
 */
#include <string.h>
#include <sys/stat.h>

#include "durability/wal_format.h"
#include "fuzz/fuzz_common.h"
#include "util/endian.h"

#define MAX_FILES 8
#define FILE_MAX 65535u

/* Recompute every record checksum of a segment image, following the
 * length fields from the header on, up to the first zero length. */
static void seal_records(unsigned char *p, size_t n)
{
	size_t pos = RS__SEG_HDR;

	while (pos < n) {
		size_t len = fz_seal_record(p + pos, n - pos);

		if (len == 0)
			return;
		pos += len;
	}
}

static void seal_ckpt(unsigned char *p, size_t n)
{
	fz_ckpt_fix_counts(p, n);
	fz_seal_ckpt_body(p, n);
}

static void make_entry(fz_in *in, uint64_t seg_bytes)
{
	const char *name = fz_dir_names[fz_u8(in) % FZ_DIR_NNAMES];
	unsigned kind = fz_u8(in);
	size_t len = fz_u16(in), got;
	const uint8_t *bytes = fz_bytes(in, len, &got);
	uint64_t size = got;
	unsigned char buf[FILE_MAX];
	bool is_seg = name[0] == 'w';

	memcpy(buf, bytes, got);
	switch (kind & FZ_K_MASK) {
	case FZ_K_EMPTY:
		got = size = 0;
		break;
	case FZ_K_DIR:
		fz_clear_entry(name);
		(void)mkdir(fz_path(name), 0755);
		return;
	case FZ_K_SPARSE:
		size = got + (uint64_t)(fz_u8(in) + 1) * 65536u;
		break;
	default:
		break;
	}
	/* Counts and records first: the header checksum covers them. */
	if (kind & FZ_K_SEAL_CKPT)
		seal_ckpt(buf, got);
	if ((kind & FZ_K_SEAL_RECS) && is_seg)
		seal_records(buf, got);
	if ((kind & FZ_K_SEAL_HDR) && is_seg && got >= RS__SEG_HDR)
		fz_seal_header(buf, RS__SEG_HDR);
	else if ((kind & FZ_K_SEAL_HDR) && got >= RS__CKPT_HDR)
		fz_seal_header(buf, RS__CKPT_HDR);
	if ((kind & FZ_K_PAD) && size < seg_bytes)
		size = seg_bytes;
	fz_clear_entry(name);
	fz_write(name, buf, got, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_in in = { data, size };
	unsigned flags = fz_u8(&in);
	uint64_t seg_bytes = FZ_DIR_SEG_BYTES(flags);

	fz_clear();
	for (int i = 0; i < MAX_FILES && in.n > 0; i++)
		make_entry(&in, seg_bytes);
	(void)fz_db_cycle(flags & FZ_DIR_F_SALVAGE, flags & FZ_DIR_F_STRICT,
			  seg_bytes, flags & FZ_DIR_F_CHECKPOINT);
	return 0;
}
