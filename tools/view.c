/* SPDX-License-Identifier: MIT */
/*
 * Reading a database directory without changing it.
 *
 * A view is an in-memory database filled from the directory's files by a
 * durability backend of the tool's own (rs_durability_ops): its recover
 * callback reads the newest checkpoint and the log after it, checking
 * every segment header, record and checkpoint with the library's format
 * functions (src/durability/wal_format.h), and hands them to the library
 * as records; its commit callback refuses every write. It follows the
 * recovery rules of docs/wal-format.md ("Recovery", "Reading a segment"):
 * the same records are replayed, a torn tail is left out (not cut), and
 * what an open would refuse as corrupt is reported with its place.
 *
 * A checkpoint's run is handed over as one COMMIT record at the run's
 * checkpoint version. The library takes a record whose version jumps
 * ahead only when salvaging, so the view opens with RS_DB_F_SALVAGE and
 * checks version order itself (a gap is corruption, as at open).
 *
 * While a view is open the tool holds a shared flock() on LOCK: an open
 * handle (which holds it exclusively) makes the view refuse, and an
 * rs_db_open() meanwhile fails with RS_EBUSY.
 */
#define _GNU_SOURCE
#include "tool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "durability/wal_format.h"
#include "util/endian.h"
#include "util/op.h"

#define SEG_PREFIX "wal-"
#define SEG_SUFFIX ".log"
#define CKPT_PREFIX "ckpt-"
#define CKPT_SUFFIX ".rsc"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- the holder of a lock ---- */

/*
 * The pid that holds an flock() on the file at `path`, from /proc/locks
 * (Linux: "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF", device in
 * hex, then the inode). 0 when unknown: no /proc, another pid namespace,
 * or the lock is gone.
 */
static long lock_holder(const char *path)
{
	struct stat st;
	char line[256];
	FILE *f;
	long pid = 0;

	if (stat(path, &st) != 0 || !(f = fopen("/proc/locks", "re")))
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char type[16], mode[16];
		unsigned maj, mnr;
		unsigned long ino;
		long p;

		/* Blocked waiters are listed as "1: -> FLOCK ..."; skip. */
		if (strstr(line, "->"))
			continue;
		if (sscanf(line, "%*d: %15s %*s %15s %ld %x:%x:%lu", type, mode,
			   &p, &maj, &mnr, &ino) != 6)
			continue;
		if (strcmp(type, "FLOCK") == 0 && ino == st.st_ino &&
		    maj == major(st.st_dev) && mnr == minor(st.st_dev) &&
		    p > 0) {
			pid = p;
			break;
		}
	}
	fclose(f);
	return pid;
}

int tool_busy(const char *cmd, const char *dir)
{
	char lock[PATH_MAX];
	long pid;

	snprintf(lock, sizeof(lock), "%s/LOCK", dir);
	pid = lock_holder(lock);
	if (pid > 0)
		return tool_err(TOOL_NOOPEN, cmd,
				"%s is in use by another process (pid %ld, "
				"holding %s)",
				dir, pid, lock);
	return tool_err(TOOL_NOOPEN, cmd,
			"%s is in use by another process (pid unknown: "
			"/proc/locks does not name it)",
			dir);
}

/* ---- the directory's files ---- */

static bool parse_name(const char *name, const char *prefix, const char *suffix,
		       uint64_t *seq)
{
	size_t pl = strlen(prefix), sl = strlen(suffix), n = strlen(name);
	uint64_t v = 0;

	if (n != pl + 16 + sl || strncmp(name, prefix, pl) != 0 ||
	    strcmp(name + pl + 16, suffix) != 0)
		return false;
	for (size_t i = pl; i < pl + 16; i++) {
		char c = name[i];

		if (c >= '0' && c <= '9')
			v = v * 16 + (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + (uint64_t)(c - 'a' + 10);
		else
			return false;
	}
	*seq = v;
	return true;
}

static int cmp_seg(const void *a, const void *b)
{
	uint64_t x = ((const tool_seg *)a)->seq, y = ((const tool_seg *)b)->seq;

	return (x > y) - (x < y);
}

static int cmp_ckpt(const void *a, const void *b)
{
	uint64_t x = ((const tool_ckpt *)a)->seq;
	uint64_t y = ((const tool_ckpt *)b)->seq;

	return (x > y) - (x < y);
}

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
	size_t ncap = *cap ? *cap : 8;
	void *q;

	if (need <= *cap)
		return p;
	while (ncap < need)
		ncap *= 2;
	if (!(q = realloc(p, ncap * size)))
		return NULL;
	*cap = ncap;
	return q;
}

/* Lists segments, checkpoints and *.tmp files; whether any was found. */
static int list_dir(const char *dir, tool_scan *s, bool *any)
{
	size_t scap = 0, ccap = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	*any = false;
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		uint64_t seq;
		size_t n = strlen(de->d_name);

		if (parse_name(de->d_name, SEG_PREFIX, SEG_SUFFIX, &seq)) {
			tool_seg *g =
				grow(s->segs, &scap, s->nsegs + 1, sizeof(*g));
			if (!g)
				goto oom;
			s->segs = g;
			memset(&g[s->nsegs], 0, sizeof(*g));
			g[s->nsegs++].seq = seq;
		} else if (parse_name(de->d_name, CKPT_PREFIX, CKPT_SUFFIX,
				      &seq)) {
			tool_ckpt *c = grow(s->ckpts, &ccap, s->nckpts + 1,
					    sizeof(*c));
			if (!c)
				goto oom;
			s->ckpts = c;
			memset(&c[s->nckpts], 0, sizeof(*c));
			c[s->nckpts++].seq = seq;
		} else if (n > 4 && strcmp(de->d_name + n - 4, ".tmp") == 0 &&
			   (strncmp(de->d_name, SEG_PREFIX, 4) == 0 ||
			    strncmp(de->d_name, CKPT_PREFIX, 5) == 0)) {
			s->ntmp++;
		} else if (strcmp(de->d_name, "LOCK") == 0) {
			*any = true;
		}
	}
	closedir(d);
	if (s->nsegs)
		qsort(s->segs, s->nsegs, sizeof(*s->segs), cmp_seg);
	if (s->nckpts)
		qsort(s->ckpts, s->nckpts, sizeof(*s->ckpts), cmp_ckpt);
	*any = *any || s->nsegs || s->nckpts;
	return 0;
oom:
	closedir(d);
	errno = ENOMEM;
	return -1;
}

/* A whole file, mapped read-only; *p NULL for an empty one. */
static int map_file(const char *dir, const char *name, const unsigned char **p,
		    size_t *len)
{
	char path[PATH_MAX];
	struct stat st;
	int fd;
	void *m;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return -1;
	}
	*len = (size_t)st.st_size;
	*p = NULL;
	if (*len) {
		m = mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m == MAP_FAILED) {
			close(fd);
			return -1;
		}
		*p = m;
	}
	close(fd);
	return 0;
}

static void unmap_file(const unsigned char *p, size_t len)
{
	if (p)
		munmap((void *)p, len);
}

/* Record the first damage (later ones are not reported). */
__attribute__((format(printf, 5, 6))) static void
damage(tool_scan *s, bool fatal, const char *file, uint64_t off,
       const char *fmt, ...)
{
	va_list ap;

	/* A fatal one replaces a left-over's: it is what stops an open. */
	if (s->damage.found && (s->damage.fatal || !fatal))
		return;
	s->damage.found = true;
	s->damage.fatal = fatal;
	snprintf(s->damage.file, sizeof(s->damage.file), "%s", file);
	s->damage.offset = off;
	va_start(ap, fmt);
	vsnprintf(s->damage.what, sizeof(s->damage.what), fmt, ap);
	va_end(ap);
}

/* Map a file of the directory, or record why not (damage, fatal). */
static int map_or_damage(tool_scan *s, const char *dir, const char *name,
			 const unsigned char **p, size_t *len)
{
	if (map_file(dir, name, p, len) == 0)
		return 0;
	damage(s, true, name, 0, "cannot read: %s", strerror(errno));
	return RS_EIO;
}

/* A file header of a format version this tool does not know. */
static int newer_format(tool_scan *s, const char *name, const unsigned char *p)
{
	damage(s, true, name, 8,
	       "format version %" PRIu32 " is newer than this tool's (%u)",
	       rs__get_le32(p + 8), RS__WAL_FORMAT);
	return RS_EVERSION;
}

static void seg_name(char out[64], uint64_t seq)
{
	snprintf(out, 64, SEG_PREFIX "%016" PRIx64 SEG_SUFFIX, seq);
}

static void ckpt_name(char out[64], uint64_t seq)
{
	snprintf(out, 64, CKPT_PREFIX "%016" PRIx64 CKPT_SUFFIX, seq);
}

/* ---- runs and their versions ---- */

static size_t run_slot(const tool_scan *s, const rs_run_id *id)
{
	size_t i = (size_t)rs__wal_checksum(id, sizeof(*id)) & (s->ncap - 1);

	while (s->runs[i].used && memcmp(&s->runs[i].id, id, sizeof(*id)))
		i = (i + 1) & (s->ncap - 1);
	return i;
}

bool tool_scan_has(const tool_scan *s, const rs_run_id *id)
{
	return s->ncap && s->runs[run_slot(s, id)].used;
}

/* The run's entry, created at version 0; NULL when out of memory. */
static tool_run *run_get(tool_scan *s, const rs_run_id *id)
{
	size_t i;

	if (2 * (s->nruns + 1) > s->ncap) {
		size_t ncap = s->ncap ? 2 * s->ncap : 64;
		tool_run *old = s->runs;
		size_t ocap = s->ncap;

		if (!(s->runs = calloc(ncap, sizeof(*s->runs)))) {
			s->runs = old;
			return NULL;
		}
		s->ncap = ncap;
		for (size_t j = 0; j < ocap; j++)
			if (old[j].used)
				s->runs[run_slot(s, &old[j].id)] = old[j];
		free(old);
	}
	i = run_slot(s, id);
	if (!s->runs[i].used) {
		s->runs[i].used = true;
		s->runs[i].id = *id;
		s->runs[i].version = 0;
		s->nruns++;
	}
	return &s->runs[i];
}

void tool_scan_free(tool_scan *s)
{
	free(s->segs);
	free(s->ckpts);
	free(s->runs);
	memset(s, 0, sizeof(*s));
}

/* ---- replaying into the view ---- */

typedef struct view_ctx {
	const char *dir;
	tool_scan *scan;
	rs_replay_fn replay;
	void *replay_ctx;
	rs_record_op *ops;
	size_t cap;
	int lock_fd;
	int rc; /* RS_E* code behind a failed open, or 0 */
} view_ctx;

static int ops_reserve(view_ctx *v, size_t n)
{
	rs_record_op *p = grow(v->ops, &v->cap, n, sizeof(*p));

	if (!p)
		return RS_ENOMEM;
	v->ops = p;
	return 0;
}

static void to_record_op(const rs__op *op, rs_record_op *out)
{
	out->tag = op->tag;
	out->is_delete = (op->flags & RS__OP_F_DELETE) != 0;
	out->key.data = op->key;
	out->key.len = op->klen;
	out->value.data = out->is_delete ? NULL : (op->vlen ? op->val : "");
	out->value.len = out->is_delete ? 0 : op->vlen;
}

#define VERSION_APPLY 0
#define VERSION_SKIP 1 /* the checkpoint holds it */
#define VERSION_GAP 2  /* a record before it is missing */

/* One half of a record against its run's version: VERSION_* or
 * RS_ENOMEM. */
static int version_check(tool_scan *s, const rs_run_id *id, uint64_t version,
			 uint64_t *have)
{
	tool_run *r = run_get(s, id);

	if (!r)
		return RS_ENOMEM;
	*have = r->version;
	if (version <= r->version)
		return VERSION_SKIP;
	if (version != r->version + 1)
		return VERSION_GAP;
	r->version = version;
	return VERSION_APPLY;
}

static bool has_base(const rs_record_op *ops, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ops[i].tag == RS__TAG_ENGINE && ops[i].key.len == 1 &&
		    *(const char *)ops[i].key.data == 'b')
			return true;
	return false;
}

static int replay_checkpoint_run(view_ctx *v, const rs_run_id *run,
				 uint64_t version, size_t nops,
				 const char *file)
{
	rs_commit_record rec;
	tool_run *r = run_get(v->scan, run);
	char id[RS_RUN_ID_STRLEN + 1];

	if (!r)
		return RS_ENOMEM;
	r->version = version;
	if (version == 0) {
		if (nops == 0)
			return 0;
		tool_fmt_run(run, id);
		damage(v->scan, true, file, 0,
		       "checkpoint holds keys of run %s at version 0", id);
		return RS_ECORRUPT;
	}
	/* A run's base travels as an engine entry ("b", docs/primitives.md,
	 * "Lives of a run id"), which an image leaves out when it is 0; a
	 * record at `version` with none would start the run's life at
	 * version - 1, so say 0 explicitly. */
	if (!has_base(v->ops, nops)) {
		static const unsigned char zero[8];
		int rc = ops_reserve(v, nops + 1);

		if (rc < 0)
			return rc;
		memset(&v->ops[nops], 0, sizeof(v->ops[nops]));
		v->ops[nops].tag = RS__TAG_ENGINE;
		v->ops[nops].key = (rs_bytes){ "b", 1 };
		v->ops[nops].value = (rs_bytes){ zero, sizeof(zero) };
		nops++;
	}
	memset(&rec, 0, sizeof(rec));
	rec.kind = RS_RECORD_COMMIT;
	rec.mode = RS_DURABILITY_BUFFERED;
	rec.run = *run;
	rec.version = version;
	rec.ops = v->ops;
	rec.nops = nops;
	return v->replay(&rec, v->replay_ctx);
}

/* Check every checkpoint; load the newest into the view. */
static int load_checkpoints(view_ctx *v, uint64_t *first_seq)
{
	tool_scan *s = v->scan;
	int rc = 0;

	*first_seq = 0;
	s->ckpt_used = SIZE_MAX;
	for (size_t i = 0; i < s->nckpts; i++) {
		tool_ckpt *c = &s->ckpts[i];
		bool newest = i + 1 == s->nckpts;
		const unsigned char *p;
		rs__ckpt_header h;
		char name[64];
		size_t len;

		ckpt_name(name, c->seq);
		if ((rc = map_or_damage(s, v->dir, name, &p, &len)) < 0)
			return rc;
		c->size = len;
		rc = p ? rs__ckpt_check(p, len, &h) : RS_ECORRUPT;
		if (rc == RS_EVERSION) {
			rc = newer_format(s, name, p);
			unmap_file(p, len);
			return rc;
		}
		if (rc < 0) {
			/* An older one is a left-over an open removes. */
			damage(s, newest, name, 0,
			       "checkpoint does not verify (header, trailer "
			       "or body checksum, or item structure)%s",
			       newest ? "" : "; an older left-over");
			unmap_file(p, len);
			if (newest)
				return RS_ECORRUPT;
			rc = 0;
			continue;
		}
		c->valid = true;
		c->wal_lsn = h.wal_lsn;
		c->created_ns = h.created_ns;
		c->nruns = h.nruns;
		c->nentries = h.nentries;
		if (newest) {
			size_t off = RS__CKPT_HDR, n = 0;
			rs__ckpt_item it;
			rs_run_id run;
			uint64_t ver = 0;
			bool have = false;

			s->ckpt_used = i;
			*first_seq = h.wal_seq;
			while (rc == 0 && rs__ckpt_next(p, len, &off, &it)) {
				if (it.type == RS__CKPT_ITEM_RUN) {
					if (have)
						rc = replay_checkpoint_run(
							v, &run, ver, n, name);
					run = it.run;
					ver = it.version;
					have = true;
					n = 0;
					continue;
				}
				if ((rc = ops_reserve(v, n + 1)) < 0)
					break;
				to_record_op(&it.op, &v->ops[n++]);
			}
			if (rc == 0 && have)
				rc = replay_checkpoint_run(v, &run, ver, n,
							   name);
		}
		unmap_file(p, len);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Offset after the last non-zero byte of p[from, size). */
/* What is wrong with the record bytes at p (for the message). */
static void describe_bad(const unsigned char *p, size_t avail, char *out,
			 size_t cap)
{
	uint32_t len;

	if (avail < RS__REC_HDR) {
		snprintf(out, cap, "%zu stray bytes (shorter than a record)",
			 avail);
		return;
	}
	len = rs__get_le32(p + 8);
	if (len < RS__REC_HDR || len > avail) {
		snprintf(out, cap,
			 "record length %" PRIu32 " is impossible here", len);
		return;
	}
	if (rs__get_le64(p) != rs__wal_checksum(p + 8, len - 8)) {
		snprintf(out, cap,
			 "record checksum mismatch (stored %016" PRIx64
			 ", computed %016" PRIx64 ")",
			 rs__get_le64(p), rs__wal_checksum(p + 8, len - 8));
		return;
	}
	snprintf(out, cap, "malformed record (kind %u, %u ops)",
		 (unsigned)rs__get_le16(p + 12), rs__get_le32(p + 56));
}

static int replay_record(view_ctx *v, const rs__rec_view *rv, const char *file,
			 uint64_t off)
{
	tool_scan *s = v->scan;
	const unsigned char *cur = rv->ops;
	char id[RS_RUN_ID_STRLEN + 1];
	rs_commit_record rec;
	uint64_t have;
	int c1, c2 = VERSION_SKIP;

	c1 = version_check(s, &rv->run, rv->version, &have);
	if (c1 == VERSION_GAP) {
		tool_fmt_run(&rv->run, id);
		damage(s, true, file, off,
		       "run %s: record of version %" PRIu64
		       " follows version %" PRIu64 " (a record is missing)",
		       id, rv->version, have);
		return RS_ECORRUPT;
	}
	if (c1 >= 0 && rv->kind == RS__REC_DROP_RUN) {
		c2 = version_check(s, &rv->drop_run, rv->drop_version, &have);
		if (c2 == VERSION_GAP) {
			tool_fmt_run(&rv->drop_run, id);
			damage(s, true, file, off,
			       "run %s: drop at version %" PRIu64
			       " follows version %" PRIu64,
			       id, rv->drop_version, have);
			return RS_ECORRUPT;
		}
	}
	if (c1 < 0)
		return c1;
	if (c2 < 0)
		return c2;
	if (c1 == VERSION_SKIP && c2 == VERSION_SKIP) {
		s->skipped++;
		return 0;
	}
	s->replayed++;
	if (ops_reserve(v, rv->nops + 1) < 0)
		return RS_ENOMEM;
	for (uint32_t i = 0; i < rv->nops; i++) {
		rs__op op;

		rs__rec_next_op(&cur, &op);
		to_record_op(&op, &v->ops[i]);
	}
	memset(&rec, 0, sizeof(rec));
	rec.kind = rv->kind;
	rec.mode = RS_DURABILITY_BUFFERED;
	rec.run = rv->run;
	rec.version = rv->version;
	rec.timestamp_ns = rv->timestamp_ns;
	rec.ops = v->ops;
	rec.nops = rv->nops;
	if (rv->kind == RS__REC_DROP_RUN) {
		rec.drop_run = rv->drop_run;
		rec.drop_version = rv->drop_version;
	}
	return v->replay(&rec, v->replay_ctx);
}

/* Read segment i; *lsn: in, where it must start (UINT64_MAX: anywhere);
 * out, the LSN after its last valid record. */
static int read_segment(view_ctx *v, size_t i, bool last, uint64_t *lsn)
{
	tool_scan *s = v->scan;
	tool_seg *g = &s->segs[i];
	const unsigned char *p;
	rs__seg_header h;
	size_t size, pos = RS__SEG_HDR;
	char name[64];
	int rc;

	seg_name(name, g->seq);
	if ((rc = map_or_damage(s, v->dir, name, &p, &size)) < 0)
		return rc;
	g->size = size;
	g->read = true;
	s->segments_read++;
	rc = p ? rs__seg_header_decode(p, size, &h) : RS_ECORRUPT;
	if (rc == RS_EVERSION) {
		rc = newer_format(s, name, p);
		goto out;
	}
	if (rc < 0) {
		damage(s, true, name, 0,
		       "segment header does not verify (magic or checksum)");
		goto out;
	}
	if (h.seq != g->seq || (*lsn != UINT64_MAX && h.start_lsn != *lsn)) {
		damage(s, true, name, 16,
		       h.seq != g->seq ? "segment header names segment %" PRIu64
				       : "segment starts at LSN %" PRIu64
					 ", not where the one before ends",
		       h.seq != g->seq ? h.seq : h.start_lsn);
		rc = RS_ECORRUPT;
		goto out;
	}
	g->start_lsn = h.start_lsn;
	for (;;) {
		rs__rec_view rv;
		char what[128];
		uint64_t bad_lsn;

		rc = rs__rec_check(p + pos, size - pos, &rv);
		if (rc == RS__REC_END) {
			rc = 0;
			break;
		}
		if (rc == 0) {
			s->rec_kind[rv.kind < 4 ? rv.kind : 0]++;
			g->records++;
			s->last_close = rv.kind == RS__WAL_REC_CLOSE;
			if (!s->last_close &&
			    (rc = replay_record(v, &rv, name, pos)) < 0)
				goto out;
			pos += rv.len;
			continue;
		}
		bad_lsn = h.start_lsn + (pos - RS__SEG_HDR);
		/* The library's own rule (docs/wal-format.md). */
		if (last && rs__wal_is_torn(p, size, pos, bad_lsn)) {
			s->torn_bytes = rs__wal_data_end(p, pos, size) - pos;
			snprintf(s->torn_file, sizeof(s->torn_file), "%s",
				 name);
			s->torn_offset = pos;
			rc = 0;
			break;
		}
		describe_bad(p + pos, size - pos, what, sizeof(what));
		damage(s, true, name, pos, "%s%s", what,
		       last ? "; a later record proves it was synced, so it "
			      "is damage, not a torn write"
			    : "");
		rc = RS_ECORRUPT;
		goto out;
	}
	g->used = pos;
	*lsn = h.start_lsn + (pos - RS__SEG_HDR);
out:
	unmap_file(p, size);
	return rc;
}

static int view_recover(void *ctx, rs_replay_fn replay, void *replay_ctx)
{
	view_ctx *v = ctx;
	tool_scan *s = v->scan;
	uint64_t first_seq, lsn;
	size_t i = 0;
	char name[64];
	int rc;

	v->replay = replay;
	v->replay_ctx = replay_ctx;
	if ((rc = load_checkpoints(v, &first_seq)) < 0)
		return rc;
	/* Segments the checkpoint covers: left-overs an open removes. */
	while (i < s->nsegs && s->segs[i].seq < first_seq)
		i++;
	if (first_seq && i == s->nsegs) {
		seg_name(name, first_seq);
		damage(s, true, name, 0,
		       "missing: the log after the checkpoint starts there");
		return RS_ECORRUPT;
	}
	if (i < s->nsegs && s->segs[i].seq != (first_seq ? first_seq : 1)) {
		seg_name(name, first_seq ? first_seq : 1);
		damage(s, true, name, 0, "missing: the log starts there");
		return RS_ECORRUPT;
	}
	lsn = first_seq ? UINT64_MAX : 0;
	for (size_t j = i; j < s->nsegs; j++) {
		if (j > i && s->segs[j].seq != s->segs[j - 1].seq + 1) {
			seg_name(name, s->segs[j - 1].seq + 1);
			damage(s, true, name, 0,
			       "missing: later segments exist");
			return RS_ECORRUPT;
		}
		if ((rc = read_segment(v, j, j + 1 == s->nsegs, &lsn)) < 0)
			return rc;
	}
	s->end_lsn = lsn == UINT64_MAX ? 0 : lsn;
	return 0;
}

static int view_commit(void *ctx, const rs_commit_record *rec)
{
	(void)ctx;
	(void)rec;
	return RS_EREADONLY;
}

static const rs_durability_ops view_ops = {
	.version = RS_DURABILITY_OPS_VERSION,
	.commit = view_commit,
	.recover = view_recover,
};

/* The views open at once (the tool opens one at a time). */
static view_ctx g_view = { .lock_fd = -1 };

/* Sets errno when it is not one. */
static bool is_dir(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) != 0)
		return false;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return false;
	}
	return true;
}

static int view_open(const char *cmd, const char *dir, rs_db **db_out,
		     tool_scan *scan, bool quiet)
{
	rs_db_options o = RS_DB_OPTIONS_INIT;
	char lock[PATH_MAX];
	uint64_t t0;
	bool any;
	int rc;

	memset(scan, 0, sizeof(*scan));
	scan->ckpt_used = SIZE_MAX;
	if (!is_dir(dir))
		return tool_err(TOOL_NOOPEN, cmd, "%s: %s", dir,
				strerror(errno));
	snprintf(lock, sizeof(lock), "%s/LOCK", dir);
	g_view.lock_fd = open(lock, O_RDONLY | O_CLOEXEC);
	if (g_view.lock_fd >= 0 &&
	    flock(g_view.lock_fd, LOCK_SH | LOCK_NB) != 0) {
		int e = errno;

		close(g_view.lock_fd);
		g_view.lock_fd = -1;
		if (e == EWOULDBLOCK)
			return tool_busy(cmd, dir);
		return tool_err(TOOL_NOOPEN, cmd, "%s: %s", lock, strerror(e));
	}
	if (list_dir(dir, scan, &any) != 0) {
		rc = tool_err(TOOL_NOOPEN, cmd, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	if (!any) {
		rc = tool_err(TOOL_NOOPEN, cmd,
			      "%s is not a runstate database (no LOCK, log "
			      "or checkpoint file)",
			      dir);
		goto fail;
	}
	g_view.dir = dir;
	g_view.scan = scan;
	o.durability = RS_DURABILITY_BUFFERED;
	o.durability_ops = &view_ops;
	o.durability_ctx = &g_view;
	o.flags = RS_DB_F_SALVAGE; /* version order is checked above */
	t0 = now_ns();
	rc = rs_db_open(db_out, &o);
	scan->load_ns = now_ns() - t0;
	free(g_view.ops);
	g_view.ops = NULL;
	g_view.cap = 0;
	if (rc == 0)
		return TOOL_OK;
	if (scan->damage.found && scan->damage.fatal) {
		rc = rc == RS_EVERSION ? TOOL_NOOPEN : TOOL_DAMAGE;
		if (!quiet || rc == TOOL_NOOPEN)
			tool_err(rc, cmd,
				 "%s/%s, offset %" PRIu64 ": %s (run "
				 "'runstate verify %s')",
				 dir, scan->damage.file, scan->damage.offset,
				 scan->damage.what, dir);
		goto fail;
	}
	rc = tool_err(rc == RS_ENOMEM ? TOOL_FAIL : TOOL_NOOPEN, cmd,
		      "%s: reading the database failed: %s", dir,
		      rs_strerror(rc));
fail:
	if (g_view.lock_fd >= 0)
		close(g_view.lock_fd);
	g_view.lock_fd = -1;
	return rc;
}

int tool_view_open(const char *cmd, const char *dir, rs_db **db_out,
		   tool_scan *scan)
{
	return view_open(cmd, dir, db_out, scan, false);
}

int tool_view_open_quiet(const char *cmd, const char *dir, rs_db **db_out,
			 tool_scan *scan)
{
	return view_open(cmd, dir, db_out, scan, true);
}

void tool_view_close(rs_db *db)
{
	rs_db_close(db);
	if (g_view.lock_fd >= 0)
		close(g_view.lock_fd);
	g_view.lock_fd = -1;
}

/* ---- read-write opens ---- */

/* The size of the newest segment, so that an open keeps the directory's
 * own preallocation (0: none, the library's default). */
static uint64_t dir_segment_bytes(const char *dir, bool *any)
{
	tool_scan s;
	uint64_t bytes = 0;

	memset(&s, 0, sizeof(s));
	*any = false;
	if (list_dir(dir, &s, any) == 0 && s.nsegs) {
		char path[PATH_MAX], name[64];
		struct stat st;

		seg_name(name, s.segs[s.nsegs - 1].seq);
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		if (stat(path, &st) == 0)
			bytes = (uint64_t)st.st_size;
	}
	tool_scan_free(&s);
	if (bytes < 4096 || bytes > RS_SEGMENT_BYTES_DEFAULT)
		bytes = 0;
	return bytes;
}

int tool_db_open_rw(const char *cmd, const char *dir, bool create,
		    rs_db **db_out)
{
	rs_db_options o = RS_DB_OPTIONS_INIT;
	bool any = false;
	int rc;

	if (is_dir(dir)) {
		o.segment_bytes = dir_segment_bytes(dir, &any);
	} else if (!create || errno != ENOENT) {
		return tool_err(TOOL_NOOPEN, cmd, "%s: %s", dir,
				strerror(errno));
	}
	if (!any && !create)
		return tool_err(TOOL_NOOPEN, cmd,
				"%s is not a runstate database (no LOCK, log "
				"or checkpoint file)",
				dir);
	o.durability = RS_DURABILITY_BUFFERED;
	o.path = dir;
	o.checkpoint_wal_bytes = RS_CHECKPOINT_NEVER;
	rc = rs_db_open(db_out, &o);
	if (rc == 0)
		return TOOL_OK;
	if (rc == RS_EBUSY)
		return tool_busy(cmd, dir);
	if (rc == RS_ECORRUPT)
		return tool_err(TOOL_DAMAGE, cmd,
				"%s: %s (run 'runstate verify %s')", dir,
				rs_strerror(rc), dir);
	return tool_err(rc == RS_ENOMEM ? TOOL_FAIL : TOOL_NOOPEN, cmd,
			"%s: %s", dir, rs_strerror(rc));
}
