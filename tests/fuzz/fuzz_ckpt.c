/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: checkpoint decoding (rs__ckpt_check() and rs__ckpt_next()
 * in durability/wal_format.c) and loading (durability/checkpoint.c,
 * txn/replay.c's load callback) of a hostile image.
 *
 * Input: one flags byte, then a checkpoint file image.
 *  bit 0: recompute the header checksum; bit 1: the body checksum in the
 *  trailer; bit 2: write the item counts the body holds into the header
 *  (before bit 0's checksum), so that mutated bodies reach the item checks;
 *  bit 3: also open it: the image becomes ckpt-<wal seq>.rsc beside an
 *  empty segment that starts where it says the log continues, and the
 *  directory goes through fz_db_cycle() (open, read everything, commit,
 *  close, reopen, same state); bit 4: open with RS_DB_F_SALVAGE; bit 5:
 *  write a checkpoint before closing (the hostile state imaged again).
 *
 * Checked: the decoder reads nothing outside the image; an accepted image
 * has items within bounds whose counts match its header, each re-encodes
 * to its bytes, and the walk ends exactly at the trailer; opening it
 * returns 0 or a documented error, never crashes or leaks, and a
 * database opened from it survives a clean close and reopen.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "durability/wal_format.h"
#include "fuzz/fuzz_common.h"
#include "util/endian.h"

#define F_SEAL_HDR 0x1u
#define F_SEAL_BODY 0x2u
#define F_COUNTS 0x4u
#define F_OPEN 0x8u
#define F_SALVAGE 0x10u
#define F_CHECKPOINT 0x20u

static void check_image(const unsigned char *p, size_t n)
{
	rs__ckpt_header h;
	rs__ckpt_item it;
	unsigned char again[RS__CKPT_HDR];
	uint64_t nruns = 0, nentries = 0;
	size_t off = RS__CKPT_HDR;
	int rc = rs__ckpt_check(p, n, &h);

	FZ_EXPECT_RC(rc, 0, RS_ECORRUPT, RS_EVERSION);
	if (rc != 0)
		return;
	FZ_CHECK(n >= RS__CKPT_HDR + RS__CKPT_TRAILER,
		 "an image of %zu bytes accepted", n);
	rs__ckpt_header_encode(again, &h);
	FZ_CHECK(memcmp(again, p, RS__CKPT_HDR) == 0,
		 "an accepted checkpoint header does not re-encode");
	while (rs__ckpt_next(p, n, &off, &it)) {
		FZ_CHECK(off <= n - RS__CKPT_TRAILER, "an item past the body");
		if (it.type == RS__CKPT_ITEM_RUN) {
			unsigned char item[RS__CKPT_RUN_ITEM];

			rs__ckpt_run_encode(item, &it.run, it.version);
			FZ_CHECK(memcmp(item, p + off - sizeof(item),
					sizeof(item)) == 0,
				 "a RUN item does not re-encode");
			nruns++;
			continue;
		}
		FZ_CHECK(it.type == RS__CKPT_ITEM_ENTRY, "item type %u",
			 it.type);
		FZ_CHECK(nruns > 0, "an entry before any run accepted");
		FZ_CHECK(it.op.tag != 0 && it.op.klen >= 1 &&
				 it.op.klen <= RS_KEY_MAX &&
				 it.op.vlen <= RS_VALUE_MAX,
			 "entry out of bounds: tag %u, %u, %u", it.op.tag,
			 it.op.klen, it.op.vlen);
		{
			unsigned char hdr[RS__OP_HDR];
			const unsigned char *at =
				p + off - RS__OP_HDR - it.op.klen - it.op.vlen;

			rs__ckpt_entry_encode(hdr, it.op.tag, it.op.klen,
					      it.op.vlen);
			FZ_CHECK(memcmp(hdr, at, RS__OP_HDR) == 0 &&
					 (const unsigned char *)it.op.key ==
						 at + RS__OP_HDR,
				 "an ENTRY item does not re-encode");
		}
		nentries++;
	}
	FZ_CHECK(off == n - RS__CKPT_TRAILER, "the walk stopped at %zu of %zu",
		 off, n - RS__CKPT_TRAILER);
	FZ_CHECK(nruns == h.nruns && nentries == h.nentries,
		 "counts %llu/%llu, header %llu/%llu",
		 (unsigned long long)nruns, (unsigned long long)nentries,
		 (unsigned long long)h.nruns, (unsigned long long)h.nentries);
}

static void open_image(const unsigned char *p, size_t n, unsigned flags)
{
	uint64_t seq = 1, lsn = 0;
	unsigned char seg[RS__SEG_HDR];
	rs__seg_header sh;
	char name[64];

	if (n >= RS__CKPT_HDR) {
		seq = rs__get_le64(p + 16);
		lsn = rs__get_le64(p + 24);
	}
	fz_clear();
	snprintf(name, sizeof(name), "ckpt-%016llx.rsc",
		 (unsigned long long)seq);
	fz_write(name, p, n, 0);
	sh.seq = seq;
	sh.start_lsn = lsn;
	sh.created_ns = 1;
	rs__seg_header_encode(seg, &sh);
	snprintf(name, sizeof(name), "wal-%016llx.log",
		 (unsigned long long)seq);
	fz_write(name, seg, sizeof(seg), 4096);
	(void)fz_db_cycle(flags & F_SALVAGE, false, 4096, flags & F_CHECKPOINT);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned flags = 0;
	size_t n = 0;
	unsigned char *p = fz_flags_and_copy(data, size, &flags, &n);

	if (!p)
		return 0;
	if (n >= RS__CKPT_HDR) {
		if (flags & F_COUNTS)
			fz_ckpt_fix_counts(p, n);
		if (flags & F_SEAL_HDR)
			fz_seal_header(p, RS__CKPT_HDR);
	}
	if (flags & F_SEAL_BODY)
		fz_seal_ckpt_body(p, n);
	check_image(p, n);
	if (flags & F_OPEN)
		open_image(p, n, flags);
	free(p);
	return 0;
}
