/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "fuzz/fuzz_common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "durability/wal_format.h"
#include "util/endian.h"

const char *const fz_dir_names[FZ_DIR_NNAMES] = {
	"wal-0000000000000001.log",
	"wal-0000000000000002.log",
	"wal-0000000000000003.log",
	"wal-0000000000000004.log",
	"ckpt-0000000000000001.rsc",
	"ckpt-0000000000000002.rsc",
	"ckpt-0000000000000003.rsc",
	"wal-0000000000000002.tmp",
	"ckpt-0000000000000003.tmp",
	"LOCK",
	"junk",
	"wal-00000000000000ff.log",
	"wal-ffffffffffffffff.log",
	"ckpt-0000000000000000.rsc",
	"wal-0000000000000000.log",
	"WAL-0000000000000001.log",
};

/* ---- the fuzzer's bytes ---- */

static uint64_t take_le(fz_in *in, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n && in->n; i++, in->p++, in->n--)
		v |= (uint64_t)in->p[0] << (8 * i);
	return v;
}

uint8_t fz_u8(fz_in *in)
{
	return (uint8_t)take_le(in, 1);
}

uint16_t fz_u16(fz_in *in)
{
	return (uint16_t)take_le(in, 2);
}

uint32_t fz_u32(fz_in *in)
{
	return (uint32_t)take_le(in, 4);
}

uint64_t fz_u64(fz_in *in)
{
	return take_le(in, 8);
}

const uint8_t *fz_bytes(fz_in *in, size_t n, size_t *got)
{
	const uint8_t *p = in->p;

	if (n > in->n)
		n = in->n;
	in->p += n;
	in->n -= n;
	*got = n;
	return p;
}

const uint8_t *fz_str(fz_in *in, size_t max, size_t *len)
{
	size_t n = fz_u8(in);

	if (n > max)
		n = max;
	return fz_bytes(in, n, len);
}

/* ---- findings ---- */

void fz_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz: %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

bool fz_rc_in(int rc, ...)
{
	va_list ap;
	bool found = false;

	va_start(ap, rc);
	for (;;) {
		int want = va_arg(ap, int);

		if (want == FZ_RC_END)
			break;
		if (want == rc)
			found = true;
	}
	va_end(ap);
	return found;
}

/* ---- files ---- */

static char scratch[512];

static void rm_scratch(void)
{
	if (!scratch[0])
		return;
	fz_clear();
	rmdir(scratch);
}

static bool try_base(const char *base)
{
	if (!base || !*base || access(base, W_OK) != 0)
		return false;
	snprintf(scratch, sizeof(scratch), "%s/rs-fuzz-XXXXXX", base);
	if (mkdtemp(scratch))
		return true;
	scratch[0] = '\0';
	return false;
}

const char *fz_scratch(void)
{
	if (scratch[0])
		return scratch;
	if (!try_base(getenv("RS_FUZZ_TMPDIR")) && !try_base("/dev/shm") &&
	    !try_base(getenv("TMPDIR")) && !try_base("/tmp"))
		fz_fail(__FILE__, __LINE__, "no scratch directory: %s",
			strerror(errno));
	atexit(rm_scratch);
	return scratch;
}

static void clear_dir(const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		char p[1024];

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (unlink(p) != 0 && depth > 0) {
			clear_dir(p, depth - 1);
			rmdir(p);
		}
	}
	closedir(d);
}

void fz_clear(void)
{
	clear_dir(fz_scratch(), 1);
}

void fz_clear_entry(const char *name)
{
	char p[1024];

	snprintf(p, sizeof(p), "%s", fz_path(name));
	if (unlink(p) != 0 && errno == EISDIR) {
		clear_dir(p, 0);
		rmdir(p);
	}
}

const char *fz_path(const char *name)
{
	static char buf[1024];

	snprintf(buf, sizeof(buf), "%s/%s", fz_scratch(), name);
	return buf;
}

void fz_write(const char *name, const void *p, size_t len, uint64_t size)
{
	const char *path = fz_path(name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	const unsigned char *b = p;

	FZ_CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
	while (len) {
		ssize_t n = write(fd, b, len);

		FZ_CHECK(n > 0, "write %s: %s", path, strerror(errno));
		b += n;
		len -= (size_t)n;
	}
	if (size > (uint64_t)(b - (const unsigned char *)p))
		FZ_CHECK(ftruncate(fd, (off_t)size) == 0, "ftruncate %s: %s",
			 path, strerror(errno));
	close(fd);
}

unsigned char *fz_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *p = NULL;
	long n;

	*len = 0;
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		p = malloc((size_t)n + 1);
		if (p && fread(p, 1, (size_t)n, f) == (size_t)n) {
			*len = (size_t)n;
		} else {
			free(p);
			p = NULL;
		}
	}
	fclose(f);
	return p;
}

/* ---- checksum fix-ups ---- */

void fz_seal_header(unsigned char *hdr, size_t hdr_size)
{
	rs__put_le64(hdr + hdr_size - 8, rs__wal_checksum(hdr, hdr_size - 8));
}

size_t fz_seal_record(unsigned char *p, size_t avail)
{
	uint32_t len;

	if (avail < RS__REC_HDR)
		return 0;
	len = rs__get_le32(p + 8);
	if (len < RS__REC_HDR || len > avail)
		return 0;
	rs__put_le64(p, rs__wal_checksum(p + 8, len - 8));
	return len;
}

void fz_seal_ckpt_body(unsigned char *p, size_t len)
{
	size_t end;

	if (len < RS__CKPT_HDR + RS__CKPT_TRAILER)
		return;
	end = len - RS__CKPT_TRAILER;
	memcpy(p + end, RS__CKPT_END_MAGIC, 8);
	rs__put_le64(p + end + 8,
		     rs__wal_checksum(p + RS__CKPT_HDR, end - RS__CKPT_HDR));
}

void fz_ckpt_fix_counts(unsigned char *p, size_t n)
{
	uint64_t nruns = 0, nentries = 0;
	size_t off = RS__CKPT_HDR, end;

	if (n < RS__CKPT_HDR + RS__CKPT_TRAILER)
		return;
	end = n - RS__CKPT_TRAILER;
	while (off < end) {
		if (p[off] == RS__CKPT_ITEM_RUN && end - off >= 32) {
			nruns++;
			off += 32;
		} else if (p[off] == RS__CKPT_ITEM_ENTRY && end - off >= 12) {
			uint64_t kv = (uint64_t)rs__get_le32(p + off + 4) +
				      rs__get_le32(p + off + 8);

			if (end - off - 12 < kv)
				break;
			nentries++;
			off += 12 + (size_t)kv;
		} else {
			break;
		}
	}
	rs__put_le64(p + 40, nruns);
	rs__put_le64(p + 48, nentries);
}

unsigned char *fz_flags_and_copy(const uint8_t *data, size_t size,
				 unsigned *flags, size_t *n)
{
	unsigned char *p;

	if (size < 1)
		return NULL;
	*flags = data[0];
	*n = size - 1;
	p = malloc(*n ? *n : 1);
	FZ_CHECK(p, "out of memory");
	memcpy(p, data + 1, *n);
	return p;
}

/* ---- reading a whole database ---- */

rs_run_id fz_run(unsigned i)
{
	rs_run_id id;

	memset(&id, 0, sizeof(id));
	id.bytes[0] = 0xf0;
	id.bytes[6] = 0x40; /* a version 4 UUID */
	id.bytes[8] = 0x80;
	id.bytes[15] = (uint8_t)(i + 1);
	return id;
}

/* Work bounds: a hostile directory may hold many entries. */
#define READ_MAX 2048u
#define RUNS_MAX 8u

typedef struct dump {
	char *p;
	size_t len, cap;
	bool on;
} dump;

static void dprintf_(dump *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void dprintf_(dump *d, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!d->on)
		return;
	for (;;) {
		size_t room = d->cap - d->len;

		va_start(ap, fmt);
		n = vsnprintf(d->p ? d->p + d->len : NULL, room, fmt, ap);
		va_end(ap);
		FZ_CHECK(n >= 0, "vsnprintf");
		if ((size_t)n < room) {
			d->len += (size_t)n;
			return;
		}
		d->cap = d->cap ? d->cap * 2 : 4096;
		while (d->cap - d->len <= (size_t)n)
			d->cap *= 2;
		d->p = realloc(d->p, d->cap);
		FZ_CHECK(d->p, "out of memory");
	}
}

static uint64_t fnv(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static void run_hex(const rs_run_id *id, char out[33])
{
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", id->bytes[i]);
}

typedef struct reader {
	rs_db *db;
	const rs_run_id *run;
	dump *d;
	unsigned n;
	/* Seen while walking, to read again by other paths. */
	uint64_t last_seq;
	bool have_seq;
	char type[RS_TYPE_MAX];
	size_t type_len;
} reader;

#define STOP 4242 /* a callback's "enough" */

static int kv_cb(rs_bytes key, rs_bytes value, void *ctx)
{
	reader *r = ctx;

	FZ_CHECK(key.data && key.len >= 1 && key.len <= RS_KEY_MAX,
		 "scan passed a key of %zu bytes", key.len);
	FZ_CHECK(value.data || value.len == 0, "scan: NULL value view");
	FZ_CHECK(value.len <= RS_VALUE_MAX, "scan: value of %zu bytes",
		 value.len);
	dprintf_(r->d, " k%016" PRIx64 "=%016" PRIx64, fnv(key.data, key.len),
		 fnv(value.data, value.len));
	return ++r->n >= READ_MAX ? STOP : 0;
}

static void read_kv(reader *r)
{
	rs_cursor *cur;
	rs_bytes k, v;
	bool more = false;
	unsigned fwd = 0, back = 0;
	int rc;

	r->n = 0;
	dprintf_(r->d, " kv:");
	rc = rs_kv_scan(r->db, r->run, NULL, &more, kv_cb, r);
	FZ_EXPECT_RC(rc, 0, STOP, RS_ENOMEM);
	dprintf_(r->d, "\n");

	rc = rs_kv_cursor_open(r->db, r->run, &cur);
	FZ_EXPECT_RC(rc, 0, RS_ENOMEM);
	if (rc)
		return;
	for (rc = rs_cursor_first(cur, NULL, 0, &k, &v); rc == 0 && fwd < 64;
	     rc = rs_cursor_next(cur, &k, &v))
		fwd++;
	FZ_EXPECT_RC(rc, 0, RS_ENOTFOUND, RS_ENOMEM);
	for (rc = rs_cursor_last(cur, NULL, 0, &k, &v); rc == 0 && back < 64;
	     rc = rs_cursor_prev(cur, &k, &v))
		back++;
	FZ_EXPECT_RC(rc, 0, RS_ENOTFOUND, RS_ENOMEM);
	FZ_CHECK(fwd == back || fwd == 64 || back == 64,
		 "cursor: %u forward, %u backward", fwd, back);
	rs_cursor_close(cur);
}

static int ev_cb(const rs_event *ev, void *ctx)
{
	reader *r = ctx;

	FZ_CHECK(!r->have_seq || ev->seq == r->last_seq + 1,
		 "events out of order: %" PRIu64 " after %" PRIu64, ev->seq,
		 r->last_seq);
	FZ_CHECK(ev->type.data && ev->type.len >= 1 &&
			 ev->type.len <= RS_TYPE_MAX,
		 "event type of %zu bytes", ev->type.len);
	r->have_seq = true;
	r->last_seq = ev->seq;
	if (r->type_len == 0) {
		memcpy(r->type, ev->type.data, ev->type.len);
		r->type_len = ev->type.len;
	}
	dprintf_(r->d, " e%" PRIu64 ":%016" PRIx64, ev->seq,
		 fnv(ev->payload.data, ev->payload.len) ^
			 fnv(ev->hash, RS_HASH_LEN));
	return ++r->n >= READ_MAX ? STOP : 0;
}

static int ev_count_cb(const rs_event *ev, void *ctx)
{
	reader *r = ctx;

	(void)ev;
	return ++r->n >= 64 ? STOP : 0;
}

static void read_eventlog(reader *r)
{
	uint8_t hash[RS_HASH_LEN];
	uint64_t len = 0, hlen = 0, bad = 0, cursor = 0;
	unsigned char buf[512];
	size_t needed = 0;
	rs_event ev;
	bool more;
	int rc;

	rc = rs_eventlog_len(r->db, r->run, &len);
	FZ_EXPECT_RC(rc, 0, RS_ECORRUPT);
	rc = rs_eventlog_head(r->db, r->run, &hlen, hash);
	FZ_EXPECT_RC(rc, 0, RS_ECORRUPT);
	dprintf_(r->d, " log: len %" PRIu64 " rc %d", len, rc);
	r->n = 0;
	r->have_seq = false;
	r->type_len = 0;
	rc = rs_eventlog_read_range(r->db, r->run, 0, UINT64_MAX, ev_cb, r);
	FZ_EXPECT_RC(rc, 0, STOP, RS_ECORRUPT, RS_ENOMEM);
	rc = rs_eventlog_verify_chain(r->db, r->run, &bad);
	FZ_EXPECT_RC(rc, 0, RS_ECORRUPT, RS_ENOMEM);
	dprintf_(r->d, " verify %d\n", rc);
	rc = rs_eventlog_read(r->db, r->run, 0, &ev, buf, sizeof(buf), &needed);
	FZ_EXPECT_RC(rc, 0, RS_ENOTFOUND, RS_ENOSPC, RS_ECORRUPT);
	if (len)
		FZ_EXPECT_RC(rs_eventlog_read(r->db, r->run, len - 1, &ev, buf,
					      sizeof(buf), &needed),
			     0, RS_ENOTFOUND, RS_ENOSPC, RS_ECORRUPT);
	if (r->type_len) {
		r->n = 0;
		rc = rs_eventlog_read_by_type(r->db, r->run, r->type,
					      r->type_len, &cursor, 16, &more,
					      ev_count_cb, r);
		FZ_EXPECT_RC(rc, 0, STOP, RS_ECORRUPT, RS_ENOMEM, RS_EUTF8);
	}
}

static int cell_cb(rs_bytes name, rs_bytes value, uint64_t version, void *ctx)
{
	reader *r = ctx;
	char buf[64];
	size_t len = 0;
	uint64_t ver = 0;
	int rc;

	FZ_CHECK(name.data && name.len >= 1, "cell name of %zu bytes",
		 name.len);
	dprintf_(r->d, " c%016" PRIx64 "@%" PRIu64 "=%016" PRIx64,
		 fnv(name.data, name.len), version, fnv(value.data, value.len));
	if (r->n < 16 && name.len <= RS_NAME_MAX) {
		rc = rs_statecell_read(r->db, r->run, name.data, name.len, buf,
				       sizeof(buf), &len, &ver);
		FZ_EXPECT_RC(rc, 0, RS_ENOSPC, RS_ENOTFOUND, RS_ECORRUPT,
			     RS_EUTF8, RS_ETOOBIG);
	}
	return ++r->n >= READ_MAX ? STOP : 0;
}

static void read_cells(reader *r)
{
	bool more;
	int rc;

	r->n = 0;
	dprintf_(r->d, " cells:");
	rc = rs_statecell_scan(r->db, r->run, NULL, &more, cell_cb, r);
	FZ_EXPECT_RC(rc, 0, STOP, RS_ECORRUPT, RS_ENOMEM);
	dprintf_(r->d, " rc %d\n", rc);
}

static int trace_cb(const rs_trace *t, void *ctx)
{
	reader *r = ctx;
	rs_bytes tag;

	for (size_t i = 0; i < t->ntags && i < RS_TAGS_MAX; i++)
		FZ_EXPECT_RC(rs_trace_tag(t, i, &tag), 0);
	dprintf_(r->d, " t%" PRIu64 "<%" PRIu64 ":%016" PRIx64, t->id,
		 t->parent, fnv(t->payload.data, t->payload.len));
	if (r->n == 0) {
		r->last_seq = t->id;
		r->have_seq = true;
	}
	return ++r->n >= READ_MAX ? STOP : 0;
}

static int tree_cb(const rs_trace *t, unsigned depth, void *ctx)
{
	reader *r = ctx;

	(void)t;
	(void)depth;
	return ++r->n >= 256 ? STOP : 0;
}

static void read_traces(reader *r)
{
	unsigned char buf[256];
	uint64_t cursor = 0;
	size_t needed;
	rs_trace t;
	bool more;
	int rc;

	r->n = 0;
	r->have_seq = false;
	dprintf_(r->d, " traces:");
	rc = rs_tracestore_query_by_time(r->db, r->run, 0, UINT64_MAX, &cursor,
					 0, &more, trace_cb, r);
	FZ_EXPECT_RC(rc, 0, STOP, RS_ECORRUPT, RS_ENOMEM);
	dprintf_(r->d, " rc %d\n", rc);
	if (!r->have_seq)
		return;
	rc = rs_tracestore_get(r->db, r->run, r->last_seq, &t, buf, sizeof(buf),
			       &needed);
	FZ_EXPECT_RC(rc, 0, RS_ENOSPC, RS_ENOTFOUND, RS_ECORRUPT);
	r->n = 0;
	rc = rs_tracestore_get_tree(r->db, r->run, r->last_seq, 8, tree_cb, r);
	FZ_EXPECT_RC(rc, 0, STOP, RS_ENOTFOUND, RS_ECORRUPT, RS_ENOMEM);
	r->n = 0;
	cursor = 0;
	rc = rs_tracestore_children(r->db, r->run, r->last_seq, &cursor, 16,
				    &more, trace_cb, r);
	FZ_EXPECT_RC(rc, 0, STOP, RS_ECORRUPT, RS_ENOMEM);
	dprintf_(r->d, " rc %d\n", rc);
}

typedef struct runs {
	rs_run_id ids[RUNS_MAX];
	size_t n;
	dump *d;
	rs_db *db;
	unsigned seen;
} runs;

static int run_cb(const rs_run_info *info, void *ctx)
{
	runs *rs = ctx;
	unsigned char buf[1024];
	char hex[33];
	size_t needed;
	rs_run_info again;
	rs_bytes tag;
	int rc;

	FZ_CHECK(!rs_run_id_is_nil(&info->id), "a registered nil run");
	FZ_CHECK(info->ntags <= RS_TAGS_MAX, "a run with %zu tags",
		 info->ntags);
	for (size_t i = 0; i < info->ntags; i++)
		FZ_EXPECT_RC(rs_run_info_tag(info, i, &tag), 0);
	run_hex(&info->id, hex);
	dprintf_(rs->d, "reg %s %s %016" PRIx64 "\n", hex,
		 rs_run_status_name(info->status),
		 fnv(info->metadata.data, info->metadata.len));
	if (rs->n < RUNS_MAX)
		rs->ids[rs->n++] = info->id;
	if (rs->seen < 16) {
		rc = rs_runindex_get(rs->db, &info->id, &again, buf,
				     sizeof(buf), &needed);
		FZ_EXPECT_RC(rc, 0, RS_ENOSPC, RS_ECORRUPT);
		if (info->name.data && info->name.len <= RS_NAME_MAX) {
			rc = rs_runindex_get_by_name(rs->db, info->name.data,
						     info->name.len, &again,
						     buf, sizeof(buf), &needed);
			FZ_EXPECT_RC(rc, 0, RS_ENOSPC, RS_ENOTFOUND,
				     RS_ECORRUPT, RS_EUTF8, RS_EINVAL);
		}
	}
	return ++rs->seen >= READ_MAX ? STOP : 0;
}

static int count_run_cb(const rs_run_info *info, void *ctx)
{
	(void)info;
	return ++*(unsigned *)ctx >= 256 ? STOP : 0;
}

static void read_runindex(rs_db *db, runs *rs)
{
	uint64_t cursor = 0;
	bool more;
	int rc;

	rc = rs_runindex_list(db, &cursor, 0, &more, run_cb, rs);
	FZ_EXPECT_RC(rc, 0, STOP, RS_ECORRUPT, RS_ENOMEM);
	dprintf_(rs->d, "runindex rc %d\n", rc);
	for (int s = RS_RUN_ACTIVE; s <= RS_RUN_ARCHIVED; s++) {
		unsigned n = 0;

		cursor = 0;
		rc = rs_runindex_query_by_status(db, (rs_run_status)s, &cursor,
						 0, &more, count_run_cb, &n);
		FZ_EXPECT_RC(rc, 0, STOP, RS_ECORRUPT, RS_ENOMEM);
		dprintf_(rs->d, "status %d: %u\n", s, n);
	}
	for (size_t i = 0; i < rs->n && i < 4; i++) {
		unsigned n = 0;

		cursor = 0;
		rc = rs_runindex_query_by_parent(db, &rs->ids[i], &cursor, 0,
						 &more, count_run_cb, &n);
		FZ_EXPECT_RC(rc, 0, STOP, RS_ECORRUPT, RS_ENOMEM);
	}
}

void fz_read_all(rs_db *db, char **out, size_t *out_len)
{
	dump d = { NULL, 0, 0, out != NULL };
	runs rs;
	rs_db_stats st;

	memset(&rs, 0, sizeof(rs));
	rs.d = &d;
	rs.db = db;
	st.version = RS_DB_STATS_VERSION;
	FZ_EXPECT_RC(rs_db_stat(db, &st), 0);
	read_runindex(db, &rs);
	for (size_t i = 0; i < FZ_NRUNS + rs.n; i++) {
		rs_run_id id = i < FZ_NRUNS ? fz_run((unsigned)i)
					    : rs.ids[i - FZ_NRUNS];
		reader r;
		uint64_t ver = 0;
		char hex[33];

		memset(&r, 0, sizeof(r));
		r.db = db;
		r.run = &id;
		r.d = &d;
		FZ_EXPECT_RC(rs_db_run_version(db, &id, &ver), 0);
		run_hex(&id, hex);
		dprintf_(&d, "run %s v%" PRIu64 "\n", hex, ver);
		read_kv(&r);
		read_eventlog(&r);
		read_cells(&r);
		read_traces(&r);
	}
	if (out) {
		*out = d.p;
		*out_len = d.len;
	}
}

/* RS_FUZZ_VERBOSE: what the directory holds after the first close. */
static void list_scratch(void)
{
	DIR *d = opendir(fz_scratch());
	struct dirent *de;

	while (d && (de = readdir(d)) != NULL) {
		struct stat st;

		if (de->d_name[0] != '.' && stat(fz_path(de->d_name), &st) == 0)
			fprintf(stderr, "fuzz: file %s, %lld bytes\n",
				de->d_name, (long long)st.st_size);
	}
	if (d)
		closedir(d);
}

bool fz_skip(const char *check)
{
	const char *s = getenv("RS_FUZZ_SKIP");
	size_t n = strlen(check);

	for (; s && *s; s += strcspn(s, ","), s += *s == ',') {
		if (strncmp(s, check, n) == 0 && (s[n] == ',' || !s[n]))
			return true;
	}
	return false;
}

static rs_db_options cycle_opts(bool salvage, bool strict, uint64_t seg_bytes)
{
	rs_db_options o = RS_DB_OPTIONS_INIT;

	o.durability = strict ? RS_DURABILITY_STRICT : RS_DURABILITY_BUFFERED;
	o.path = fz_scratch();
	o.flags = salvage ? RS_DB_F_SALVAGE : 0;
	o.hash_seed = FZ_HASH_SEED;
	o.segment_bytes = seg_bytes;
	o.checkpoint_wal_bytes = RS_CHECKPOINT_NEVER;
	return o;
}

int fz_db_cycle(bool salvage, bool strict, uint64_t seg_bytes, bool checkpoint)
{
	rs_db_options o = cycle_opts(salvage, strict, seg_bytes);
	rs_run_id run = fz_run(0);
	char *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;
	rs_db *db;
	int rc;

	rc = rs_db_open(&db, &o);
	if (getenv("RS_FUZZ_VERBOSE"))
		fprintf(stderr, "fuzz: open: %s\n", rs_errname(rc));
	FZ_EXPECT_RC(rc, 0, RS_ECORRUPT, RS_EVERSION, RS_EIO, RS_ENOMEM);
	if (rc != 0)
		return rc;
	fz_read_all(db, NULL, NULL);
	/* RS_ERANGE: the run stands at the largest version a log may hold
	 * (2^63, durability/wal_format.h), so its next commit is refused. */
	rc = rs_kv_put(db, &run, "fuzz-commit", 11, "v", 1);
	FZ_EXPECT_RC(rc, 0, RS_EARCHIVED, RS_ERANGE);
	if (checkpoint)
		FZ_EXPECT_RC(rs_db_checkpoint(db), 0);
	fz_read_all(db, &a, &alen);
	rs_db_close(db);
	if (getenv("RS_FUZZ_VERBOSE"))
		list_scratch();

	o = cycle_opts(false, strict, seg_bytes);
	rc = rs_db_open(&db, &o);
	if (rc != 0 && salvage && fz_skip("salvage-reopen")) {
		free(a);
		return 0;
	}
	FZ_CHECK(rc == 0,
		 "reopen after a successful open%s and a clean close: %s",
		 salvage ? " (salvage)" : "", rs_errname(rc));
	fz_read_all(db, &b, &blen);
	rs_db_close(db);
	if (getenv("RS_FUZZ_VERBOSE"))
		fprintf(stderr, "fuzz: reopened, %zu bytes read:\n%.*s", blen,
			(int)blen, b);
	FZ_CHECK((alen == blen && memcmp(a, b, alen) == 0) ||
			 fz_skip("reopen-same"),
		 "the reopened database reads differently:\n--- before\n%.*s"
		 "--- after\n%.*s",
		 (int)alen, a, (int)blen, b);
	free(a);
	free(b);
	return 0;
}

#define OK(expr)                                                            \
	do {                                                                \
		int fz_rc_ = (expr);                                        \
		FZ_CHECK(fz_rc_ == 0, "%s: %s", #expr, rs_errname(fz_rc_)); \
	} while (0)

static void register_runs(rs_db *db, const rs_run_id *r)
{
	rs_runindex_create_options co = RS_RUNINDEX_CREATE_OPTIONS_INIT;
	rs_bytes tags[2] = { { "team", 4 }, { "\xc3\xa9t\xc3\xa9", 6 } };

	co.id = &r[0];
	co.name = "first";
	co.name_len = 5;
	co.tags = tags;
	co.ntags = 2;
	co.metadata = "meta";
	co.metadata_len = 4;
	OK(rs_runindex_create(db, &co, NULL));
	co = (rs_runindex_create_options)RS_RUNINDEX_CREATE_OPTIONS_INIT;
	co.id = &r[1];
	co.parent = &r[0];
	co.tags = tags;
	co.ntags = 1;
	OK(rs_runindex_create(db, &co, NULL));
	co = (rs_runindex_create_options)RS_RUNINDEX_CREATE_OPTIONS_INIT;
	co.id = &r[2];
	co.name = "third";
	co.name_len = 5;
	OK(rs_runindex_create(db, &co, NULL));
}

void fz_workload(rs_db *db, unsigned steps)
{
	rs_run_id r[FZ_NRUNS];
	uint64_t parent = RS_TRACE_NONE, ver;
	rs_txn *txn;

	for (unsigned i = 0; i < FZ_NRUNS; i++)
		r[i] = fz_run(i);
	register_runs(db, r);
	for (unsigned i = 0; i < steps; i++) {
		const rs_run_id *run = &r[i % FZ_NRUNS];
		char key[16], val[32], cell[8];
		rs_bytes tag = { i % 2 ? "odd" : "even", i % 2 ? 3u : 4u };
		uint64_t id;

		snprintf(key, sizeof(key), "k%u", i % 7);
		snprintf(val, sizeof(val), "value-%u", i);
		snprintf(cell, sizeof(cell), "c%u", i % 2);
		OK(rs_kv_put(db, run, key, strlen(key), val, strlen(val)));
		OK(rs_eventlog_append(db, run, i % 3 ? "step" : "tool", 4, val,
				      strlen(val), NULL));
		if (rs_statecell_init(db, run, cell, 2, val, 3, &ver) ==
		    RS_EEXIST)
			OK(rs_statecell_set(db, run, cell, 2, val, strlen(val),
					    &ver));
		if (i % 4 == 3)
			OK(rs_statecell_cas(db, run, cell, 2, ver, "cas", 3,
					    NULL));
		OK(rs_tracestore_record(
			db, run, "span", 4, val, strlen(val), &tag, 1,
			i % 3 == 0 ? parent : RS_TRACE_NONE, &id));
		if (run == &r[0])
			parent = id;
		if (i % 5 == 4)
			OK(rs_kv_delete(db, run, "k1", 2, NULL));
	}
	OK(rs_txn_begin(&txn, db, &r[0], 0));
	OK(rs_txn_kv_put(txn, "tx-a", 4, "1", 1));
	OK(rs_txn_kv_put(txn, "tx-b", 4, "", 0));
	OK(rs_txn_eventlog_append(txn, "tx", 2, "p", 1, NULL));
	OK(rs_txn_kv_delete(txn, "k2", 2, NULL));
	OK(rs_txn_commit(txn));
	OK(rs_statecell_delete(db, &r[0], "c1", 2, NULL));
	OK(rs_runindex_transition(db, &r[1], RS_RUN_PAUSED, NULL));
	OK(rs_runindex_transition(db, &r[1], RS_RUN_CANCELLED, NULL));
	OK(rs_runindex_transition(db, &r[1], RS_RUN_ARCHIVED, NULL));
	OK(rs_runindex_delete(db, &r[2]));
	OK(rs_kv_put(db, &r[2], "after-delete", 12, "x", 1));
}
