/* SPDX-License-Identifier: MIT */
/*
 * Misuse of every public function, table-driven (issue 8, deliver 6).
 *
 * The table `rows` has one row per RS_API function of the public headers.
 * misuse_api_names.h, generated at build time from the headers by
 * gen_api_names.cmake, lists them; misuse__every_function_has_a_row fails
 * when a declared function has no row or a row names no declared function.
 *
 * Each row makes the calls a careless or hostile caller would: every
 * required pointer NULL in turn, the nil run id, zero lengths where a
 * length must be >= 1, lengths one past each documented limit
 * (RS_KEY_MAX, RS_VALUE_MAX, RS_NAME_MAX, RS_TYPE_MAX, RS_TAG_MAX),
 * RS_TAGS_MAX + 1 tags and duplicate tags, malformed UTF-8 where text is
 * required (overlong forms, surrogates, 0xFF, truncated sequences, code
 * points past U+10FFFF), unknown flags, enums and struct versions, stale
 * cursors the header promises to reject. Every call must return exactly
 * the code the header documents for it, and change nothing: after each
 * call the whole database (RunIndex, and every run's version, KV, cells,
 * events and traces, through the public API) is dumped and compared with
 * the dump taken before; the open transactions of the row must still
 * commit without writing anything, and no callback may have been called.
 *
 * Not covered here, by design: calls through consumed handles (undefined
 * behaviour; RS_EDONE is best effort, see "Handle lifetime" in the
 * header), and calls from a thread that does not own a transaction (the
 * header makes that a precondition, not an error). Bad directories and
 * checkpoints: test_hostile_dir; a second opener: test_dirlock.
 */
#define _GNU_SOURCE
#include "common/rs_test.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <runstate/perf.h>

#define S(x) (x), strlen(x)

/* ---- the names the headers declare ---- */

static const char *const api_names[] = {
#define RS_MISUSE_API(fn) #fn,
#include "misuse_api_names.h"
#undef RS_MISUSE_API
};

/* ---- a growing text buffer ---- */

typedef struct text {
	char *p;
	size_t len, cap;
} text;

static void tx_printf(text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void tx_printf(text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->p ? t->p + t->len : NULL,
			      t->p ? t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		assert_true(n >= 0);
		if (t->p && (size_t)n < t->cap - t->len)
			break;
		t->cap = (t->cap + (size_t)n + 1) * 2;
		t->p = realloc(t->p, t->cap);
		assert_non_null(t->p);
	}
	t->len += (size_t)n;
}

static void tx_bytes(text *t, const void *p, size_t n)
{
	const unsigned char *b = p;

	tx_printf(t, "[%zu:", n);
	for (size_t i = 0; i < n; i++)
		tx_printf(t, "%02x", b[i]);
	tx_printf(t, "]");
}

/* ---- the row context ---- */

typedef struct mx {
	const char *row;
	rs_db *db;
	rs_run_id a, b;	 /* registered runs with data */
	rs_txn *tx, *ro; /* a read-write and a read-only txn on a */
	text base;	 /* the database before the row */
	unsigned calls, mismatches, changes, cb_calls;
} mx;

static mx *M;

/*
 * The outputs of the rows' calls, filled with 0xA5 before each row: a
 * rejected call writes no output ("Outputs are written only on success").
 */
static struct outs {
	uint64_t v, id, n, bad;
	size_t len, need;
	bool e;
	rs_cursor *c;
	rs_bytes val, tag, keys_out[2];
	rs_event ev;
	rs_trace tr;
	rs_run_info info;
	rs_event_receipt rcpt;
} OUT;
static unsigned total_calls; /* over every row */
static char *LONG;	     /* RS_VALUE_MAX + 1 bytes of 'a' */
static const rs_run_id NIL;

#define DB (M->db)
#define RA (&M->a)
#define RB (&M->b)
#define TX (M->tx)
#define RO (M->ro)

/* ---- the dump: everything visible through the public API ---- */

static int d_kv(rs_bytes k, rs_bytes v, void *ctx)
{
	tx_bytes(ctx, k.data, k.len);
	tx_bytes(ctx, v.data, v.len);
	return 0;
}

static int d_cell(rs_bytes n, rs_bytes v, uint64_t ver, void *ctx)
{
	tx_bytes(ctx, n.data, n.len);
	tx_bytes(ctx, v.data, v.len);
	tx_printf(ctx, "v%llu;", (unsigned long long)ver);
	return 0;
}

static int d_event(const rs_event *e, void *ctx)
{
	tx_printf(ctx, "e%llu@%llu/%x", (unsigned long long)e->seq,
		  (unsigned long long)e->timestamp_ns, e->flags);
	tx_bytes(ctx, e->type.data, e->type.len);
	tx_bytes(ctx, e->payload.data, e->payload.len);
	tx_bytes(ctx, e->prev_hash, RS_HASH_LEN);
	tx_bytes(ctx, e->hash, RS_HASH_LEN);
	return 0;
}

static int d_trace(const rs_trace *t, void *ctx)
{
	rs_bytes tag;

	tx_printf(ctx, "t%llu<%llu@%llu/%x", (unsigned long long)t->id,
		  (unsigned long long)t->parent,
		  (unsigned long long)t->timestamp_ns, t->flags);
	tx_bytes(ctx, t->type.data, t->type.len);
	tx_bytes(ctx, t->payload.data, t->payload.len);
	for (size_t i = 0; i < t->ntags; i++) {
		assert_ok(rs_trace_tag(t, i, &tag));
		tx_bytes(ctx, tag.data, tag.len);
	}
	return 0;
}

static int d_run(const rs_run_info *r, void *ctx)
{
	rs_bytes tag;

	tx_bytes(ctx, r->id.bytes, 16);
	tx_printf(ctx, "s%d p%d", (int)r->status, (int)r->has_parent);
	tx_bytes(ctx, r->parent.bytes, 16);
	tx_printf(ctx, "c%llu u%llu", (unsigned long long)r->created_ns,
		  (unsigned long long)r->updated_ns);
	tx_bytes(ctx, r->name.data, r->name.len);
	tx_bytes(ctx, r->metadata.data, r->metadata.len);
	for (size_t i = 0; i < r->ntags; i++) {
		assert_ok(rs_run_info_tag(r, i, &tag));
		tx_bytes(ctx, tag.data, tag.len);
	}
	tx_printf(ctx, "\n");
	return 0;
}

static void dump_run(text *t, const rs_run_id *run)
{
	uint64_t v = 0, len = 0, cur = 0;
	uint8_t head[RS_HASH_LEN];

	assert_ok(rs_db_run_version(DB, run, &v));
	tx_printf(t, "run version %llu\nkv ", (unsigned long long)v);
	assert_ok(rs_kv_list(DB, run, NULL, 0, NULL, 0, 0, NULL, d_kv, t));
	tx_printf(t, "\ncells ");
	assert_ok(rs_statecell_list(DB, run, NULL, 0, NULL, 0, 0, NULL, d_cell,
				    t));
	assert_ok(rs_eventlog_head(DB, run, &len, head));
	tx_printf(t, "\nevents %llu", (unsigned long long)len);
	tx_bytes(t, head, sizeof(head));
	assert_ok(rs_eventlog_read_range(DB, run, 0, UINT64_MAX, d_event, t));
	tx_printf(t, "\ntraces ");
	assert_ok(rs_tracestore_query_by_time(DB, run, 0, UINT64_MAX, &cur, 0,
					      NULL, d_trace, t));
	tx_printf(t, "\n");
}

static void dump_db(text *t)
{
	uint64_t cur = 0;

	t->len = 0;
	tx_printf(t, "runindex\n");
	assert_ok(rs_runindex_list(DB, &cur, 0, NULL, d_run, t));
	dump_run(t, RA);
	dump_run(t, RB);
}

/* ---- checking one call ---- */

static void check_unchanged(int line, const char *expr)
{
	text now = { 0 };

	dump_db(&now);
	if (now.len != M->base.len || memcmp(now.p, M->base.p, now.len)) {
		print_error("%s:%d: %s changed the database\n", M->row, line,
			    expr);
		M->changes++;
	}
	free(now.p);
}

static void expect_at(int got, int want, const char *expr, const char *what,
		      int line)
{
	M->calls++;
	total_calls++;
	if (got != want) {
		print_error("%s:%d: %s%s%s: got %s, expected %s\n", M->row,
			    line, expr, what ? " with " : "", what ? what : "",
			    rs_errname(got), rs_errname(want));
		M->mismatches++;
	}
	check_unchanged(line, expr);
}

/* Expect one call to return `code` and change nothing. */
#define EXPECT(expr, code) expect_at((expr), (code), #expr, NULL, __LINE__)
/* A condition of a call without an int result (static strings, bools). */
#define CHECK(cond) expect_at((cond) ? 0 : RS_EINVAL, 0, #cond, NULL, __LINE__)

/* ---- the bad-argument families ---- */

/* Text that must be 1..max bytes of UTF-8: T, TL in `call`. */
typedef struct bad_text {
	const char *what;
	const char *s; /* NULL: LONG, max + 1 bytes; "": the NULL pointer */
	size_t len;
	int rc;
} bad_text;

static const bad_text bad_texts[] = {
	{ "a NULL pointer", "", 1, RS_EINVAL },
	{ "zero length", "x", 0, RS_EINVAL },
	{ "max + 1 bytes", NULL, 0, RS_ETOOBIG },
	{ "overlong NUL C0 80", "\xC0\x80", 2, RS_EUTF8 },
	{ "overlong C1 BF", "\xC1\xBF", 2, RS_EUTF8 },
	{ "overlong 3-byte E0 80 AF", "\xE0\x80\xAF", 3, RS_EUTF8 },
	{ "overlong 4-byte F0 80 80 AF", "\xF0\x80\x80\xAF", 4, RS_EUTF8 },
	{ "surrogate ED A0 80", "\xED\xA0\x80", 3, RS_EUTF8 },
	{ "surrogate ED BF BF", "a\xED\xBF\xBF", 4, RS_EUTF8 },
	{ "byte FF", "a\xFF", 2, RS_EUTF8 },
	{ "byte FE", "\xFE", 1, RS_EUTF8 },
	{ "lone continuation 80", "\x80z", 2, RS_EUTF8 },
	{ "truncated E2 82", "a\xE2\x82", 3, RS_EUTF8 },
	{ "truncated F0 9F 98", "\xF0\x9F\x98", 3, RS_EUTF8 },
	{ "truncated C3", "ok\xC3", 3, RS_EUTF8 },
	{ "past U+10FFFF F4 90 80 80", "\xF4\x90\x80\x80", 4, RS_EUTF8 },
	{ "5-byte form F8 88 80 80 80", "\xF8\x88\x80\x80\x80", 5, RS_EUTF8 },
};

static void bad_text_at(size_t i, size_t max, const char **s, size_t *len)
{
	const bad_text *b = &bad_texts[i];

	*s = b->s ? (b->s[0] || b->len == 0 ? b->s : NULL) : LONG;
	*len = b->s ? b->len : max + 1;
}

#define FOR_BAD_TEXT(max, call)                                              \
	for (size_t bt_ = 0; bt_ < sizeof(bad_texts) / sizeof(bad_texts[0]); \
	     bt_++) {                                                        \
		const char *T;                                               \
		size_t TL;                                                   \
		bad_text_at(bt_, (max), &T, &TL);                            \
		expect_at((call), bad_texts[bt_].rc, #call,                  \
			  bad_texts[bt_].what, __LINE__);                    \
	}

/* Bytes with a minimum length (1 for keys, 0 for prefixes) and a
 * maximum: B, BL in `call`. */
#define FOR_BAD_BYTES(min, max, call)                                      \
	do {                                                               \
		const void *B = NULL;                                      \
		size_t BL = 1;                                             \
		expect_at((call), RS_EINVAL, #call, "a NULL pointer",      \
			  __LINE__);                                       \
		if ((min) > 0) {                                           \
			B = "k";                                           \
			BL = 0;                                            \
			expect_at((call), RS_EINVAL, #call, "zero length", \
				  __LINE__);                               \
		}                                                          \
		B = LONG;                                                  \
		BL = (size_t)(max) + 1;                                    \
		expect_at((call), RS_ETOOBIG, #call, "max + 1 bytes",      \
			  __LINE__);                                       \
	} while (0)
#define FOR_BAD_KEY(call) FOR_BAD_BYTES(1, RS_KEY_MAX, call)
#define FOR_BAD_VALUE(call) FOR_BAD_BYTES(0, RS_VALUE_MAX, call)

/* A run argument: R in `call`. */
#define FOR_BAD_RUN(call)                                                     \
	do {                                                                  \
		const rs_run_id *R = NULL;                                    \
		expect_at((call), RS_EINVAL, #call, "a NULL run", __LINE__);  \
		R = &NIL;                                                     \
		expect_at((call), RS_EINVAL, #call, "the nil run", __LINE__); \
	} while (0)

/* A tag list of 0..RS_TAGS_MAX distinct tags of text: TG, NT in `call`. */
#define FOR_BAD_TAGS(call)                                                   \
	do {                                                                 \
		rs_bytes tg_[RS_TAGS_MAX + 1];                               \
		char tn_[RS_TAGS_MAX + 1][4];                                \
		const rs_bytes *TG = NULL;                                   \
		size_t NT = 1;                                               \
		for (size_t i_ = 0; i_ <= RS_TAGS_MAX; i_++) {               \
			snprintf(tn_[i_], sizeof(tn_[i_]), "g%zu", i_);      \
			tg_[i_] = (rs_bytes){ tn_[i_], strlen(tn_[i_]) };    \
		}                                                            \
		expect_at((call), RS_EINVAL, #call, "NULL tags", __LINE__);  \
		TG = tg_;                                                    \
		NT = RS_TAGS_MAX + 1;                                        \
		expect_at((call), RS_ETOOBIG, #call, "RS_TAGS_MAX + 1 tags", \
			  __LINE__);                                         \
		NT = 3;                                                      \
		tg_[2] = tg_[0];                                             \
		expect_at((call), RS_EINVAL, #call, "a duplicate tag",       \
			  __LINE__);                                         \
		NT = 2;                                                      \
		for (size_t b_ = 0;                                          \
		     b_ < sizeof(bad_texts) / sizeof(bad_texts[0]); b_++) {  \
			const char *s_;                                      \
			size_t l_;                                           \
			bad_text_at(b_, RS_TAG_MAX, &s_, &l_);               \
			tg_[1] = (rs_bytes){ s_, l_ };                       \
			expect_at((call), bad_texts[b_].rc, #call,           \
				  bad_texts[b_].what, __LINE__);             \
		}                                                            \
	} while (0)

/* ---- callbacks: none of them may run for a rejected call ---- */

static int cb_kv(rs_bytes k, rs_bytes v, void *ctx)
{
	(void)k, (void)v, (void)ctx;
	M->cb_calls++;
	return 0;
}

static int cb_cell(rs_bytes n, rs_bytes v, uint64_t ver, void *ctx)
{
	(void)n, (void)v, (void)ver, (void)ctx;
	M->cb_calls++;
	return 0;
}

static int cb_event(const rs_event *e, void *ctx)
{
	(void)e, (void)ctx;
	M->cb_calls++;
	return 0;
}

static int cb_trace(const rs_trace *t, void *ctx)
{
	(void)t, (void)ctx;
	M->cb_calls++;
	return 0;
}

static int cb_tree(const rs_trace *t, unsigned depth, void *ctx)
{
	(void)t, (void)depth, (void)ctx;
	M->cb_calls++;
	return 0;
}

static int cb_run(const rs_run_info *r, void *ctx)
{
	(void)r, (void)ctx;
	M->cb_calls++;
	return 0;
}

static int cb_txn(rs_txn *txn, void *ctx)
{
	(void)txn, (void)ctx;
	M->cb_calls++;
	return 0;
}

static int cb_transition(rs_bytes v, uint64_t ver, rs_bytes *out, void *ctx)
{
	(void)v, (void)ver, (void)ctx;
	M->cb_calls++;
	*out = (rs_bytes){ "new", 3 };
	return 0;
}

/* A transition whose new value is one byte too long (it is called). */
static int fn_too_big(rs_bytes v, uint64_t ver, rs_bytes *out, void *ctx)
{
	(void)v, (void)ver, (void)ctx;
	*out = (rs_bytes){ LONG, (size_t)RS_VALUE_MAX + 1 };
	return 0;
}

/* ---- rows: general ---- */

static void row_rs_version(void)
{
	CHECK(rs_version() == RS_VERSION_NUMBER);
}

static void row_rs_version_string(void)
{
	CHECK(strcmp(rs_version_string(), RS_VERSION_STRING) == 0);
}

static void row_rs_strerror(void)
{
	const int unknown[] = { 1, INT_MAX, INT_MIN, RS_EFENCED - 1, -1000 };

	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
		CHECK(strcmp(rs_strerror(unknown[i]), "unknown error") == 0);
}

static void row_rs_errname(void)
{
	const int unknown[] = { 1, INT_MAX, INT_MIN, RS_EFENCED - 1, -1000 };

	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
		CHECK(strcmp(rs_errname(unknown[i]), "RS_UNKNOWN") == 0);
}

/* ---- rows: run ids ---- */

static void row_rs_run_id_generate(void)
{
	EXPECT(rs_run_id_generate(NULL), RS_EINVAL);
}

static void row_rs_run_id_parse(void)
{
	static const char good[] = "0123abcd-4567-89ef-ABCD-0123456789ab";
	static const char *const bad[] = {
		"g123abcd-4567-89ef-ABCD-0123456789ab",
		"0123abcd04567-89ef-ABCD-0123456789ab",
		"0123abcd-4567-89ef-ABCD-0123456789a-",
		"0123abc-d4567-89ef-ABCD-0123456789ab",
		"0123abcd-4567-89ef-ABCD-0123456789\xFF\x62", /* ...\xFF b */
		"0123abcd-4567-89ef-ABCD-01234567 9ab",
	};
	rs_run_id out, keep;

	memset(&out, 0xAB, sizeof(out));
	keep = out;
	EXPECT(rs_run_id_parse(NULL, good, RS_RUN_ID_STRLEN), RS_EINVAL);
	EXPECT(rs_run_id_parse(&out, NULL, RS_RUN_ID_STRLEN), RS_EINVAL);
	EXPECT(rs_run_id_parse(&out, good, 0), RS_EINVAL);
	EXPECT(rs_run_id_parse(&out, good, RS_RUN_ID_STRLEN - 1), RS_EINVAL);
	EXPECT(rs_run_id_parse(&out, good, RS_RUN_ID_STRLEN + 1), RS_EINVAL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT(rs_run_id_parse(&out, bad[i], RS_RUN_ID_STRLEN),
		       RS_EINVAL);
	CHECK(memcmp(&out, &keep, sizeof(out)) == 0);
}

static void row_rs_run_id_format(void)
{
	char buf[RS_RUN_ID_STRLEN + 1];

	memset(buf, '#', sizeof(buf));
	EXPECT(rs_run_id_format(NULL, buf, sizeof(buf)), RS_EINVAL);
	EXPECT(rs_run_id_format(RA, NULL, sizeof(buf)), RS_EINVAL);
	EXPECT(rs_run_id_format(RA, buf, 0), RS_ENOSPC);
	EXPECT(rs_run_id_format(RA, buf, RS_RUN_ID_STRLEN), RS_ENOSPC);
	for (size_t i = 0; i < sizeof(buf); i++)
		CHECK(buf[i] == '#');
}

static void row_rs_run_id_is_nil(void)
{
	CHECK(rs_run_id_is_nil(NULL));
	CHECK(rs_run_id_is_nil(&NIL));
}

/* ---- rows: database ---- */

static void *only_malloc(void *ctx, size_t size)
{
	(void)ctx;
	return malloc(size);
}

static int ops_commit(void *ctx, const rs_commit_record *rec)
{
	(void)ctx, (void)rec;
	return 0;
}

static void row_rs_db_open(void)
{
	char dir[] = "/tmp/rs_misuse_XXXXXX";
	char path[64];
	rs_db *out = (rs_db *)&out, *keep = out;
	rs_db_options o;
	const rs_db_options init = RS_DB_OPTIONS_INIT;
	const rs_durability_ops ops0 = RS_DURABILITY_OPS_INIT;
	rs_durability_ops ops = ops0;
	struct stat st;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/db", dir);
	ops.commit = ops_commit;

	EXPECT(rs_db_open(NULL, NULL), RS_EINVAL);
	EXPECT(rs_db_open(NULL, &init), RS_EINVAL);
	o = init, o.version = 0;
	EXPECT(rs_db_open(&out, &o), RS_EVERSION);
	o = init, o.version = RS_DB_OPTIONS_VERSION + 1;
	EXPECT(rs_db_open(&out, &o), RS_EVERSION);

	/* The durable cases name a directory that must not appear. */
	o = init, o.durability = RS_DURABILITY_BUFFERED, o.path = path;
	o.flags = 0x4u;
	EXPECT(rs_db_open(&out, &o), RS_EINVAL);
	/* A follower needs a backend to follow. */
	o.flags = RS_DB_F_FOLLOWER;
	EXPECT(rs_db_open(&out, &o), RS_EINVAL);
	o.flags = 0, o.storage = (rs_storage)7;
	EXPECT(rs_db_open(&out, &o), RS_EINVAL);
	o.storage = RS_STORAGE_SHARDED, o.flush_interval_ms = 3600001u;
	EXPECT(rs_db_open(&out, &o), RS_EINVAL);
	o.flush_interval_ms = 0, o.segment_bytes = 4095;
	EXPECT(rs_db_open(&out, &o), RS_EINVAL);
	o.segment_bytes = (UINT64_C(1) << 40) + 1;
	EXPECT(rs_db_open(&out, &o), RS_EINVAL);
	o.segment_bytes = 0, o.allocator.malloc_fn = only_malloc;
	EXPECT(rs_db_open(&out, &o), RS_EINVAL);
	o.allocator.malloc_fn = NULL, o.durability_ops = &ops;
	EXPECT(rs_db_open(&out, &o), RS_EINVAL);
	o.durability_ops = NULL, o.durability = (rs_durability)3;
	EXPECT(rs_db_open(&out, &o), RS_EINVAL);
	o.durability = RS_DURABILITY_INMEMORY;
	EXPECT(rs_db_open(&out, &o), RS_EINVAL);
	CHECK(stat(path, &st) != 0);
	CHECK(rmdir(dir) == 0);

	o = init, o.durability = RS_DURABILITY_BUFFERED;
	EXPECT(rs_db_open(&out, &o), RS_EINVAL);
	o.path = "";
	EXPECT(rs_db_open(&out, &o), RS_EINVAL);
	o = init, o.durability = RS_DURABILITY_STRICT;
	EXPECT(rs_db_open(&out, &o), RS_EINVAL);
	o = init, ops.version = 0, o.durability_ops = &ops;
	EXPECT(rs_db_open(&out, &o), RS_EVERSION);
	ops.version = RS_DURABILITY_OPS_VERSION, ops.commit = NULL;
	EXPECT(rs_db_open(&out, &o), RS_EINVAL);
	CHECK(out == keep);
}

static void row_rs_db_close(void)
{
	rs_db_close(NULL);
	CHECK(true);
}

static void row_rs_db_flush(void)
{
	EXPECT(rs_db_flush(NULL), RS_EINVAL);
}

static void row_rs_db_checkpoint(void)
{
	EXPECT(rs_db_checkpoint(NULL), RS_EINVAL);
}

static void row_rs_db_apply(void)
{
	rs_commit_record rec;

	memset(&rec, 0, sizeof(rec));
	rec.kind = RS_RECORD_COMMIT;
	rec.run = *RA;
	rec.version = 1;
	EXPECT(rs_db_apply(NULL, &rec), RS_EINVAL);
	EXPECT(rs_db_apply(DB, NULL), RS_EINVAL);
	/* A database without durability_ops has no log to follow. */
	EXPECT(rs_db_apply(DB, &rec), RS_EINVAL);
}

static void row_rs_db_promote(void)
{
	EXPECT(rs_db_promote(NULL), RS_EINVAL);
	/* Not a follower. */
	EXPECT(rs_db_promote(DB), RS_EINVAL);
}

static void row_rs_db_stat(void)
{
	rs_db_stats s;

	memset(&s, 0x5A, sizeof(s));
	s.version = RS_DB_STATS_VERSION;
	EXPECT(rs_db_stat(NULL, &s), RS_EINVAL);
	EXPECT(rs_db_stat(DB, NULL), RS_EINVAL);
	s.version = 0;
	EXPECT(rs_db_stat(DB, &s), RS_EVERSION);
	s.version = RS_DB_STATS_VERSION + 1;
	EXPECT(rs_db_stat(DB, &s), RS_EVERSION);
	CHECK(s.records_replayed == UINT64_C(0x5A5A5A5A5A5A5A5A));
}

static void row_rs_db_run_version(void)
{
	EXPECT(rs_db_run_version(NULL, RA, &OUT.v), RS_EINVAL);
	FOR_BAD_RUN(rs_db_run_version(DB, R, &OUT.v));
	EXPECT(rs_db_run_version(DB, RA, NULL), RS_EINVAL);
}

/* ---- rows: per-phase timing (<runstate/perf.h>) ---- */

static void row_rs_perf_read(void)
{
	rs_perf_stats s;

	memset(&s, 0x5A, sizeof(s));
	EXPECT(rs_perf_read(NULL), RS_EINVAL);
	s.version = 0;
	EXPECT(rs_perf_read(&s), RS_EVERSION);
	s.version = RS_PERF_STATS_VERSION + 1;
	EXPECT(rs_perf_read(&s), RS_EVERSION);
	CHECK(s.threads == UINT64_C(0x5A5A5A5A5A5A5A5A));
}

static void row_rs_perf_reset(void)
{
	/* No argument to get wrong: 0, or RS_ENOTSUP without the option. */
	int rc = rs_perf_reset();

	CHECK(rc == 0 || rc == RS_ENOTSUP);
}

static void row_rs_perf_phase_name(void)
{
	const int unknown[] = { RS_PERF_PHASES, -1, INT_MAX, INT_MIN };

	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
		CHECK(strcmp(rs_perf_phase_name((rs_perf_phase)unknown[i]),
			     "unknown") == 0);
}

/* ---- rows: transactions ---- */

static void row_rs_txn_begin(void)
{
	rs_txn *out = (rs_txn *)&out, *keep = out;

	EXPECT(rs_txn_begin(NULL, DB, RA, 0), RS_EINVAL);
	EXPECT(rs_txn_begin(&out, NULL, RA, 0), RS_EINVAL);
	FOR_BAD_RUN(rs_txn_begin(&out, DB, R, 0));
	EXPECT(rs_txn_begin(&out, DB, RA, 0x2u), RS_EINVAL);
	EXPECT(rs_txn_begin(&out, DB, RA, 0x80000000u), RS_EINVAL);
	EXPECT(rs_txn_begin(&out, DB, RA, RS_TXN_F_READONLY | 0x4u), RS_EINVAL);
	CHECK(out == keep);
}

static void row_rs_txn_commit(void)
{
	EXPECT(rs_txn_commit(NULL), RS_EINVAL);
}

static void row_rs_txn_abort(void)
{
	rs_txn_abort(NULL);
	CHECK(true);
}

static void row_rs_txn_snapshot_version(void)
{
	EXPECT(rs_txn_snapshot_version(NULL, &OUT.v), RS_EINVAL);
	EXPECT(rs_txn_snapshot_version(TX, NULL), RS_EINVAL);
}

static void row_rs_txn_set_durability(void)
{
	EXPECT(rs_txn_set_durability(NULL, RS_DURABILITY_INMEMORY), RS_EINVAL);
	EXPECT(rs_txn_set_durability(TX, (rs_durability)3), RS_EINVAL);
	EXPECT(rs_txn_set_durability(TX, (rs_durability)-1), RS_EINVAL);
	/* A log asked for on an InMemory database. */
	EXPECT(rs_txn_set_durability(TX, RS_DURABILITY_BUFFERED), RS_EINVAL);
	EXPECT(rs_txn_set_durability(TX, RS_DURABILITY_STRICT), RS_EINVAL);
}

static void row_rs_txn_run(void)
{
	EXPECT(rs_txn_run(NULL, RA, 0, 0, cb_txn, NULL), RS_EINVAL);
	FOR_BAD_RUN(rs_txn_run(DB, R, 0, 0, cb_txn, NULL));
	EXPECT(rs_txn_run(DB, RA, 0x2u, 0, cb_txn, NULL), RS_EINVAL);
	EXPECT(rs_txn_run(DB, RA, 0, 0, NULL, NULL), RS_EINVAL);
}

/* ---- rows: KV ---- */

static void row_rs_kv_put(void)
{
	EXPECT(rs_kv_put(NULL, RA, "k", 1, "v", 1), RS_EINVAL);
	FOR_BAD_RUN(rs_kv_put(DB, R, "k", 1, "v", 1));
	FOR_BAD_KEY(rs_kv_put(DB, RA, B, BL, "v", 1));
	FOR_BAD_VALUE(rs_kv_put(DB, RA, "k", 1, B, BL));
}

static void row_rs_kv_get(void)
{
	char buf[8];

	EXPECT(rs_kv_get(NULL, RA, "a", 1, buf, sizeof(buf), &OUT.len),
	       RS_EINVAL);
	FOR_BAD_RUN(rs_kv_get(DB, R, "a", 1, buf, sizeof(buf), &OUT.len));
	FOR_BAD_KEY(rs_kv_get(DB, RA, B, BL, buf, sizeof(buf), &OUT.len));
	EXPECT(rs_kv_get(DB, RA, "a", 1, NULL, 8, &OUT.len), RS_EINVAL);
}

static void row_rs_kv_delete(void)
{
	EXPECT(rs_kv_delete(NULL, RA, "a", 1, &OUT.e), RS_EINVAL);
	FOR_BAD_RUN(rs_kv_delete(DB, R, "a", 1, &OUT.e));
	FOR_BAD_KEY(rs_kv_delete(DB, RA, B, BL, &OUT.e));
}

static void row_rs_kv_exists(void)
{
	EXPECT(rs_kv_exists(NULL, RA, "a", 1, &OUT.e), RS_EINVAL);
	FOR_BAD_RUN(rs_kv_exists(DB, R, "a", 1, &OUT.e));
	FOR_BAD_KEY(rs_kv_exists(DB, RA, B, BL, &OUT.e));
	EXPECT(rs_kv_exists(DB, RA, "a", 1, NULL), RS_EINVAL);
}

static void row_rs_kv_get_many(void)
{
	rs_bytes keys[2] = { { "a", 1 }, { "b", 1 } };
	char buf[16];

	EXPECT(rs_kv_get_many(NULL, RA, 2, keys, OUT.keys_out, buf, 16,
			      &OUT.need),
	       RS_EINVAL);
	FOR_BAD_RUN(rs_kv_get_many(DB, R, 2, keys, OUT.keys_out, buf, 16,
				   &OUT.need));
	EXPECT(rs_kv_get_many(DB, RA, 2, NULL, OUT.keys_out, buf, 16,
			      &OUT.need),
	       RS_EINVAL);
	EXPECT(rs_kv_get_many(DB, RA, 2, keys, NULL, buf, 16, &OUT.need),
	       RS_EINVAL);
	EXPECT(rs_kv_get_many(DB, RA, 2, keys, OUT.keys_out, NULL, 16,
			      &OUT.need),
	       RS_EINVAL);
	FOR_BAD_KEY((keys[1] = (rs_bytes){ B, BL },
		     rs_kv_get_many(DB, RA, 2, keys, OUT.keys_out, buf, 16,
				    &OUT.need)));
}

static void row_rs_kv_list(void)
{
	EXPECT(rs_kv_list(NULL, RA, NULL, 0, NULL, 0, 0, NULL, cb_kv, NULL),
	       RS_EINVAL);
	FOR_BAD_RUN(rs_kv_list(DB, R, NULL, 0, NULL, 0, 0, NULL, cb_kv, NULL));
	FOR_BAD_BYTES(0, RS_KEY_MAX,
		      rs_kv_list(DB, RA, B, BL, NULL, 0, 0, NULL, cb_kv, NULL));
	FOR_BAD_KEY(rs_kv_list(DB, RA, NULL, 0, B, BL, 0, NULL, cb_kv, NULL));
	EXPECT(rs_kv_list(DB, RA, NULL, 0, NULL, 0, 0, NULL, NULL, NULL),
	       RS_EINVAL);
}

static void row_rs_txn_kv_put(void)
{
	EXPECT(rs_txn_kv_put(NULL, "k", 1, "v", 1), RS_EINVAL);
	FOR_BAD_KEY(rs_txn_kv_put(TX, B, BL, "v", 1));
	FOR_BAD_VALUE(rs_txn_kv_put(TX, "k", 1, B, BL));
	EXPECT(rs_txn_kv_put(RO, "k", 1, "v", 1), RS_EREADONLY);
}

static void row_rs_txn_kv_get(void)
{
	EXPECT(rs_txn_kv_get(NULL, "a", 1, &OUT.val), RS_EINVAL);
	FOR_BAD_KEY(rs_txn_kv_get(TX, B, BL, &OUT.val));
	EXPECT(rs_txn_kv_get(TX, "a", 1, NULL), RS_EINVAL);
}

static void row_rs_txn_kv_delete(void)
{
	EXPECT(rs_txn_kv_delete(NULL, "a", 1, &OUT.e), RS_EINVAL);
	FOR_BAD_KEY(rs_txn_kv_delete(TX, B, BL, &OUT.e));
	EXPECT(rs_txn_kv_delete(RO, "a", 1, &OUT.e), RS_EREADONLY);
}

static void row_rs_txn_kv_exists(void)
{
	EXPECT(rs_txn_kv_exists(NULL, "a", 1, &OUT.e), RS_EINVAL);
	FOR_BAD_KEY(rs_txn_kv_exists(TX, B, BL, &OUT.e));
	EXPECT(rs_txn_kv_exists(TX, "a", 1, NULL), RS_EINVAL);
}

static void row_rs_txn_kv_get_many(void)
{
	rs_bytes keys[2] = { { "a", 1 }, { "b", 1 } };

	EXPECT(rs_txn_kv_get_many(NULL, 2, keys, OUT.keys_out), RS_EINVAL);
	EXPECT(rs_txn_kv_get_many(TX, 2, NULL, OUT.keys_out), RS_EINVAL);
	EXPECT(rs_txn_kv_get_many(TX, 2, keys, NULL), RS_EINVAL);
	FOR_BAD_KEY((keys[1] = (rs_bytes){ B, BL },
		     rs_txn_kv_get_many(TX, 2, keys, OUT.keys_out)));
}

static void row_rs_txn_kv_list(void)
{
	EXPECT(rs_txn_kv_list(NULL, NULL, 0, NULL, 0, 0, NULL, cb_kv, NULL),
	       RS_EINVAL);
	FOR_BAD_BYTES(0, RS_KEY_MAX,
		      rs_txn_kv_list(TX, B, BL, NULL, 0, 0, NULL, cb_kv, NULL));
	FOR_BAD_KEY(rs_txn_kv_list(TX, NULL, 0, B, BL, 0, NULL, cb_kv, NULL));
	EXPECT(rs_txn_kv_list(TX, NULL, 0, NULL, 0, 0, NULL, NULL, NULL),
	       RS_EINVAL);
}

/* Every bad rs_scan_options for keys of at most `max` bytes: the scan
 * call uses `opts` (O). */
#define FOR_BAD_SCAN(max, call)                                               \
	do {                                                                  \
		const rs_scan_options init_ = RS_SCAN_OPTIONS_INIT;           \
		rs_scan_options o_ = init_;                                   \
		const rs_scan_options *O = &o_;                               \
		o_.version = 0;                                               \
		EXPECT(call, RS_EINVAL);                                      \
		o_.version = RS_SCAN_OPTIONS_VERSION + 1;                     \
		EXPECT(call, RS_EINVAL);                                      \
		o_ = init_, o_.flags = 0x2u;                                  \
		EXPECT(call, RS_EINVAL);                                      \
		o_.flags = RS_SCAN_REVERSE | 0x100u;                          \
		EXPECT(call, RS_EINVAL);                                      \
		o_ = init_;                                                   \
		FOR_BAD_BYTES(0, (max),                                       \
			      (o_ = init_, o_.start = B, o_.start_len = BL,   \
			       (call)));                                      \
		FOR_BAD_BYTES(                                                \
			0, (max),                                             \
			(o_ = init_, o_.end = B, o_.end_len = BL, (call)));   \
		FOR_BAD_BYTES(0, (max),                                       \
			      (o_ = init_, o_.resume = B, o_.resume_len = BL, \
			       (call)));                                      \
	} while (0)

static void row_rs_kv_scan(void)
{
	EXPECT(rs_kv_scan(NULL, RA, NULL, NULL, cb_kv, NULL), RS_EINVAL);
	FOR_BAD_RUN(rs_kv_scan(DB, R, NULL, NULL, cb_kv, NULL));
	FOR_BAD_SCAN(RS_KEY_MAX, rs_kv_scan(DB, RA, O, NULL, cb_kv, NULL));
	EXPECT(rs_kv_scan(DB, RA, NULL, NULL, NULL, NULL), RS_EINVAL);
}

static void row_rs_txn_kv_scan(void)
{
	EXPECT(rs_txn_kv_scan(NULL, NULL, NULL, cb_kv, NULL), RS_EINVAL);
	FOR_BAD_SCAN(RS_KEY_MAX, rs_txn_kv_scan(TX, O, NULL, cb_kv, NULL));
	EXPECT(rs_txn_kv_scan(TX, NULL, NULL, NULL, NULL), RS_EINVAL);
}

static void row_rs_kv_cursor_open(void)
{
	EXPECT(rs_kv_cursor_open(NULL, RA, &OUT.c), RS_EINVAL);
	FOR_BAD_RUN(rs_kv_cursor_open(DB, R, &OUT.c));
	EXPECT(rs_kv_cursor_open(DB, RA, NULL), RS_EINVAL);
}

static void row_rs_txn_kv_cursor_open(void)
{
	EXPECT(rs_txn_kv_cursor_open(NULL, &OUT.c), RS_EINVAL);
	EXPECT(rs_txn_kv_cursor_open(TX, NULL), RS_EINVAL);
}

static void row_rs_cursor_close(void)
{
	rs_cursor_close(NULL);
	CHECK(true);
}

/* A one-shot cursor (C1) and a closed cursor of TX (CC) for `body`. */
#define WITH_CURSORS(body)                                 \
	do {                                               \
		rs_cursor *C1, *CC;                        \
		rs_bytes K, V;                             \
		assert_ok(rs_kv_cursor_open(DB, RA, &C1)); \
		assert_ok(rs_txn_kv_cursor_open(TX, &CC)); \
		rs_cursor_close(CC);                       \
		body;                                      \
		(void)K, (void)V;                          \
		rs_cursor_close(C1);                       \
	} while (0)

static void row_rs_cursor_seek(void)
{
	WITH_CURSORS({
		EXPECT(rs_cursor_seek(NULL, "a", 1, RS_SEEK_GE, &K, &V),
		       RS_EINVAL);
		FOR_BAD_BYTES(0, RS_KEY_MAX,
			      rs_cursor_seek(C1, B, BL, RS_SEEK_GE, &K, &V));
		EXPECT(rs_cursor_seek(C1, "a", 1, (rs_seek)2, &K, &V),
		       RS_EINVAL);
		EXPECT(rs_cursor_seek(C1, "a", 1, (rs_seek)-1, &K, &V),
		       RS_EINVAL);
		EXPECT(rs_cursor_seek(CC, "a", 1, RS_SEEK_GE, &K, &V),
		       RS_EINVAL);
	});
}

static void row_rs_cursor_first(void)
{
	WITH_CURSORS({
		EXPECT(rs_cursor_first(NULL, NULL, 0, &K, &V), RS_EINVAL);
		FOR_BAD_BYTES(0, RS_KEY_MAX,
			      rs_cursor_first(C1, B, BL, &K, &V));
		EXPECT(rs_cursor_first(CC, NULL, 0, &K, &V), RS_EINVAL);
	});
}

static void row_rs_cursor_last(void)
{
	WITH_CURSORS({
		EXPECT(rs_cursor_last(NULL, NULL, 0, &K, &V), RS_EINVAL);
		FOR_BAD_BYTES(0, RS_KEY_MAX, rs_cursor_last(C1, B, BL, &K, &V));
		EXPECT(rs_cursor_last(CC, NULL, 0, &K, &V), RS_EINVAL);
	});
}

static void row_rs_cursor_next(void)
{
	WITH_CURSORS({
		EXPECT(rs_cursor_next(NULL, &K, &V), RS_EINVAL);
		EXPECT(rs_cursor_next(CC, &K, &V), RS_EINVAL);
	});
}

static void row_rs_cursor_prev(void)
{
	WITH_CURSORS({
		EXPECT(rs_cursor_prev(NULL, &K, &V), RS_EINVAL);
		EXPECT(rs_cursor_prev(CC, &K, &V), RS_EINVAL);
	});
}

/* ---- rows: EventLog ---- */

static void row_rs_eventlog_append(void)
{
	EXPECT(rs_eventlog_append(NULL, RA, "t", 1, "p", 1, &OUT.rcpt),
	       RS_EINVAL);
	FOR_BAD_RUN(rs_eventlog_append(DB, R, "t", 1, "p", 1, &OUT.rcpt));
	FOR_BAD_TEXT(RS_TYPE_MAX,
		     rs_eventlog_append(DB, RA, T, TL, "p", 1, &OUT.rcpt));
	FOR_BAD_VALUE(rs_eventlog_append(DB, RA, "t", 1, B, BL, &OUT.rcpt));
}

/* A one-shot read of item `id` into a caller buffer, its view in *out:
 * fn(db, run, id, out, buf, cap, needed_out). */
#define FOR_BAD_BUF_READ(fn, out)                                              \
	do {                                                                   \
		char buf_[256];                                                \
		EXPECT(fn(NULL, RA, 0, (out), buf_, 256, &OUT.need),           \
		       RS_EINVAL);                                             \
		FOR_BAD_RUN(fn(DB, R, 0, (out), buf_, 256, &OUT.need));        \
		EXPECT(fn(DB, RA, 0, NULL, buf_, 256, &OUT.need), RS_EINVAL);  \
		EXPECT(fn(DB, RA, 0, (out), NULL, 256, &OUT.need), RS_EINVAL); \
	} while (0)

static void row_rs_eventlog_read(void)
{
	FOR_BAD_BUF_READ(rs_eventlog_read, &OUT.ev);
}

static void row_rs_eventlog_read_range(void)
{
	EXPECT(rs_eventlog_read_range(NULL, RA, 0, 9, cb_event, NULL),
	       RS_EINVAL);
	FOR_BAD_RUN(rs_eventlog_read_range(DB, R, 0, 9, cb_event, NULL));
	EXPECT(rs_eventlog_read_range(DB, RA, 2, 1, cb_event, NULL), RS_EINVAL);
	EXPECT(rs_eventlog_read_range(DB, RA, 0, 9, NULL, NULL), RS_EINVAL);
}

static void row_rs_eventlog_len(void)
{
	EXPECT(rs_eventlog_len(NULL, RA, &OUT.n), RS_EINVAL);
	FOR_BAD_RUN(rs_eventlog_len(DB, R, &OUT.n));
	EXPECT(rs_eventlog_len(DB, RA, NULL), RS_EINVAL);
}

static void row_rs_eventlog_head(void)
{
	uint8_t h[RS_HASH_LEN];

	EXPECT(rs_eventlog_head(NULL, RA, &OUT.n, h), RS_EINVAL);
	FOR_BAD_RUN(rs_eventlog_head(DB, R, &OUT.n, h));
}

static void row_rs_eventlog_read_by_type(void)
{
	uint64_t cur = 0;

	EXPECT(rs_eventlog_read_by_type(NULL, RA, "ev.x", 4, &cur, 0, NULL,
					cb_event, NULL),
	       RS_EINVAL);
	FOR_BAD_RUN(rs_eventlog_read_by_type(DB, R, "ev.x", 4, &cur, 0, NULL,
					     cb_event, NULL));
	FOR_BAD_TEXT(RS_TYPE_MAX,
		     rs_eventlog_read_by_type(DB, RA, T, TL, &cur, 0, NULL,
					      cb_event, NULL));
	EXPECT(rs_eventlog_read_by_type(DB, RA, "ev.x", 4, NULL, 0, NULL,
					cb_event, NULL),
	       RS_EINVAL);
	EXPECT(rs_eventlog_read_by_type(DB, RA, "ev.x", 4, &cur, 0, NULL, NULL,
					NULL),
	       RS_EINVAL);
	CHECK(cur == 0);
}

static void row_rs_eventlog_verify_chain(void)
{
	EXPECT(rs_eventlog_verify_chain(NULL, RA, &OUT.bad), RS_EINVAL);
	FOR_BAD_RUN(rs_eventlog_verify_chain(DB, R, &OUT.bad));
}

static void row_rs_txn_eventlog_append(void)
{
	EXPECT(rs_txn_eventlog_append(NULL, "t", 1, "p", 1, NULL), RS_EINVAL);
	FOR_BAD_TEXT(RS_TYPE_MAX,
		     rs_txn_eventlog_append(TX, T, TL, "p", 1, NULL));
	FOR_BAD_VALUE(rs_txn_eventlog_append(TX, "t", 1, B, BL, NULL));
	EXPECT(rs_txn_eventlog_append(RO, "t", 1, "p", 1, NULL), RS_EREADONLY);
}

static void row_rs_txn_eventlog_read(void)
{
	EXPECT(rs_txn_eventlog_read(NULL, 0, &OUT.ev), RS_EINVAL);
	EXPECT(rs_txn_eventlog_read(TX, 0, NULL), RS_EINVAL);
}

static void row_rs_txn_eventlog_read_range(void)
{
	EXPECT(rs_txn_eventlog_read_range(NULL, 0, 9, cb_event, NULL),
	       RS_EINVAL);
	EXPECT(rs_txn_eventlog_read_range(TX, 2, 1, cb_event, NULL), RS_EINVAL);
	EXPECT(rs_txn_eventlog_read_range(TX, 0, 9, NULL, NULL), RS_EINVAL);
}

static void row_rs_txn_eventlog_len(void)
{
	EXPECT(rs_txn_eventlog_len(NULL, &OUT.n), RS_EINVAL);
	EXPECT(rs_txn_eventlog_len(TX, NULL), RS_EINVAL);
}

static void row_rs_txn_eventlog_head(void)
{
	EXPECT(rs_txn_eventlog_head(NULL, &OUT.n, NULL), RS_EINVAL);
}

static void row_rs_txn_eventlog_read_by_type(void)
{
	uint64_t cur = 0;

	EXPECT(rs_txn_eventlog_read_by_type(NULL, "ev.x", 4, &cur, 0, NULL,
					    cb_event, NULL),
	       RS_EINVAL);
	FOR_BAD_TEXT(RS_TYPE_MAX,
		     rs_txn_eventlog_read_by_type(TX, T, TL, &cur, 0, NULL,
						  cb_event, NULL));
	EXPECT(rs_txn_eventlog_read_by_type(TX, "ev.x", 4, NULL, 0, NULL,
					    cb_event, NULL),
	       RS_EINVAL);
	EXPECT(rs_txn_eventlog_read_by_type(TX, "ev.x", 4, &cur, 0, NULL, NULL,
					    NULL),
	       RS_EINVAL);
	CHECK(cur == 0);
}

static void row_rs_txn_eventlog_verify_chain(void)
{
	EXPECT(rs_txn_eventlog_verify_chain(NULL, &OUT.bad), RS_EINVAL);
}

/* ---- rows: StateCell ---- */

static void row_rs_statecell_init(void)
{
	EXPECT(rs_statecell_init(NULL, RA, "n", 1, "v", 1, &OUT.v), RS_EINVAL);
	FOR_BAD_RUN(rs_statecell_init(DB, R, "n", 1, "v", 1, &OUT.v));
	FOR_BAD_TEXT(RS_NAME_MAX,
		     rs_statecell_init(DB, RA, T, TL, "v", 1, &OUT.v));
	FOR_BAD_VALUE(rs_statecell_init(DB, RA, "n", 1, B, BL, &OUT.v));
	EXPECT(rs_statecell_init(DB, RA, "c1", 2, "v", 1, &OUT.v), RS_EEXIST);
}

static void row_rs_statecell_read(void)
{
	char buf[8];

	EXPECT(rs_statecell_read(NULL, RA, "c1", 2, buf, 8, &OUT.len, &OUT.v),
	       RS_EINVAL);
	FOR_BAD_RUN(
		rs_statecell_read(DB, R, "c1", 2, buf, 8, &OUT.len, &OUT.v));
	FOR_BAD_TEXT(RS_NAME_MAX, rs_statecell_read(DB, RA, T, TL, buf, 8,
						    &OUT.len, &OUT.v));
	EXPECT(rs_statecell_read(DB, RA, "c1", 2, NULL, 8, &OUT.len, &OUT.v),
	       RS_EINVAL);
}

static void row_rs_statecell_set(void)
{
	EXPECT(rs_statecell_set(NULL, RA, "c1", 2, "v", 1, &OUT.v), RS_EINVAL);
	FOR_BAD_RUN(rs_statecell_set(DB, R, "c1", 2, "v", 1, &OUT.v));
	FOR_BAD_TEXT(RS_NAME_MAX,
		     rs_statecell_set(DB, RA, T, TL, "v", 1, &OUT.v));
	FOR_BAD_VALUE(rs_statecell_set(DB, RA, "c1", 2, B, BL, &OUT.v));
}

static void row_rs_statecell_cas(void)
{
	EXPECT(rs_statecell_cas(NULL, RA, "c1", 2, 2, "v", 1, &OUT.v),
	       RS_EINVAL);
	FOR_BAD_RUN(rs_statecell_cas(DB, R, "c1", 2, 2, "v", 1, &OUT.v));
	FOR_BAD_TEXT(RS_NAME_MAX,
		     rs_statecell_cas(DB, RA, T, TL, 2, "v", 1, &OUT.v));
	FOR_BAD_VALUE(rs_statecell_cas(DB, RA, "c1", 2, 2, B, BL, &OUT.v));
	EXPECT(rs_statecell_cas(DB, RA, "c1", 2, 1, "v", 1, &OUT.v),
	       RS_EMISMATCH);
}

static void row_rs_statecell_transition(void)
{
	EXPECT(rs_statecell_transition(NULL, RA, "c1", 2, 0, &OUT.v,
				       cb_transition, NULL),
	       RS_EINVAL);
	FOR_BAD_RUN(rs_statecell_transition(DB, R, "c1", 2, 0, &OUT.v,
					    cb_transition, NULL));
	FOR_BAD_TEXT(RS_NAME_MAX,
		     rs_statecell_transition(DB, RA, T, TL, 0, &OUT.v,
					     cb_transition, NULL));
	EXPECT(rs_statecell_transition(DB, RA, "c1", 2, 0, &OUT.v, NULL, NULL),
	       RS_EINVAL);
	EXPECT(rs_statecell_transition(DB, RA, "c1", 2, 0, &OUT.v, fn_too_big,
				       NULL),
	       RS_ETOOBIG);
}

static void row_rs_statecell_delete(void)
{
	EXPECT(rs_statecell_delete(NULL, RA, "c1", 2, &OUT.e), RS_EINVAL);
	FOR_BAD_RUN(rs_statecell_delete(DB, R, "c1", 2, &OUT.e));
	FOR_BAD_TEXT(RS_NAME_MAX, rs_statecell_delete(DB, RA, T, TL, &OUT.e));
}

static void row_rs_statecell_list(void)
{
	EXPECT(rs_statecell_list(NULL, RA, NULL, 0, NULL, 0, 0, NULL, cb_cell,
				 NULL),
	       RS_EINVAL);
	FOR_BAD_RUN(rs_statecell_list(DB, R, NULL, 0, NULL, 0, 0, NULL, cb_cell,
				      NULL));
	FOR_BAD_BYTES(0, RS_NAME_MAX,
		      rs_statecell_list(DB, RA, B, BL, NULL, 0, 0, NULL,
					cb_cell, NULL));
	FOR_BAD_BYTES(1, RS_NAME_MAX,
		      rs_statecell_list(DB, RA, NULL, 0, B, BL, 0, NULL,
					cb_cell, NULL));
	EXPECT(rs_statecell_list(DB, RA, NULL, 0, NULL, 0, 0, NULL, NULL, NULL),
	       RS_EINVAL);
}

static void row_rs_statecell_scan(void)
{
	EXPECT(rs_statecell_scan(NULL, RA, NULL, NULL, cb_cell, NULL),
	       RS_EINVAL);
	FOR_BAD_RUN(rs_statecell_scan(DB, R, NULL, NULL, cb_cell, NULL));
	FOR_BAD_SCAN(RS_NAME_MAX,
		     rs_statecell_scan(DB, RA, O, NULL, cb_cell, NULL));
	EXPECT(rs_statecell_scan(DB, RA, NULL, NULL, NULL, NULL), RS_EINVAL);
}

static void row_rs_txn_statecell_init(void)
{
	EXPECT(rs_txn_statecell_init(NULL, "n", 1, "v", 1, &OUT.v), RS_EINVAL);
	FOR_BAD_TEXT(RS_NAME_MAX,
		     rs_txn_statecell_init(TX, T, TL, "v", 1, &OUT.v));
	FOR_BAD_VALUE(rs_txn_statecell_init(TX, "n", 1, B, BL, &OUT.v));
	EXPECT(rs_txn_statecell_init(TX, "c1", 2, "v", 1, &OUT.v), RS_EEXIST);
	EXPECT(rs_txn_statecell_init(RO, "n", 1, "v", 1, &OUT.v), RS_EREADONLY);
}

static void row_rs_txn_statecell_read(void)
{
	EXPECT(rs_txn_statecell_read(NULL, "c1", 2, &OUT.val, &OUT.v),
	       RS_EINVAL);
	FOR_BAD_TEXT(RS_NAME_MAX,
		     rs_txn_statecell_read(TX, T, TL, &OUT.val, &OUT.v));
	EXPECT(rs_txn_statecell_read(TX, "c1", 2, NULL, &OUT.v), RS_EINVAL);
}

static void row_rs_txn_statecell_set(void)
{
	EXPECT(rs_txn_statecell_set(NULL, "c1", 2, "v", 1, &OUT.v), RS_EINVAL);
	FOR_BAD_TEXT(RS_NAME_MAX,
		     rs_txn_statecell_set(TX, T, TL, "v", 1, &OUT.v));
	FOR_BAD_VALUE(rs_txn_statecell_set(TX, "c1", 2, B, BL, &OUT.v));
	EXPECT(rs_txn_statecell_set(RO, "c1", 2, "v", 1, &OUT.v), RS_EREADONLY);
}

static void row_rs_txn_statecell_cas(void)
{
	EXPECT(rs_txn_statecell_cas(NULL, "c1", 2, 2, "v", 1, &OUT.v),
	       RS_EINVAL);
	FOR_BAD_TEXT(RS_NAME_MAX,
		     rs_txn_statecell_cas(TX, T, TL, 2, "v", 1, &OUT.v));
	FOR_BAD_VALUE(rs_txn_statecell_cas(TX, "c1", 2, 2, B, BL, &OUT.v));
	EXPECT(rs_txn_statecell_cas(TX, "c1", 2, 1, "v", 1, &OUT.v),
	       RS_EMISMATCH);
	EXPECT(rs_txn_statecell_cas(RO, "c1", 2, 2, "v", 1, &OUT.v),
	       RS_EREADONLY);
}

static void row_rs_txn_statecell_transition(void)
{
	EXPECT(rs_txn_statecell_transition(NULL, "c1", 2, &OUT.v, cb_transition,
					   NULL),
	       RS_EINVAL);
	FOR_BAD_TEXT(RS_NAME_MAX,
		     rs_txn_statecell_transition(TX, T, TL, &OUT.v,
						 cb_transition, NULL));
	EXPECT(rs_txn_statecell_transition(TX, "c1", 2, &OUT.v, NULL, NULL),
	       RS_EINVAL);
	EXPECT(rs_txn_statecell_transition(TX, "c1", 2, &OUT.v, fn_too_big,
					   NULL),
	       RS_ETOOBIG);
	EXPECT(rs_txn_statecell_transition(RO, "c1", 2, &OUT.v, cb_transition,
					   NULL),
	       RS_EREADONLY);
}

static void row_rs_txn_statecell_delete(void)
{
	EXPECT(rs_txn_statecell_delete(NULL, "c1", 2, &OUT.e), RS_EINVAL);
	FOR_BAD_TEXT(RS_NAME_MAX, rs_txn_statecell_delete(TX, T, TL, &OUT.e));
	EXPECT(rs_txn_statecell_delete(RO, "c1", 2, &OUT.e), RS_EREADONLY);
}

static void row_rs_txn_statecell_list(void)
{
	EXPECT(rs_txn_statecell_list(NULL, NULL, 0, NULL, 0, 0, NULL, cb_cell,
				     NULL),
	       RS_EINVAL);
	FOR_BAD_BYTES(0, RS_NAME_MAX,
		      rs_txn_statecell_list(TX, B, BL, NULL, 0, 0, NULL,
					    cb_cell, NULL));
	FOR_BAD_BYTES(1, RS_NAME_MAX,
		      rs_txn_statecell_list(TX, NULL, 0, B, BL, 0, NULL,
					    cb_cell, NULL));
	EXPECT(rs_txn_statecell_list(TX, NULL, 0, NULL, 0, 0, NULL, NULL, NULL),
	       RS_EINVAL);
}

static void row_rs_txn_statecell_scan(void)
{
	EXPECT(rs_txn_statecell_scan(NULL, NULL, NULL, cb_cell, NULL),
	       RS_EINVAL);
	FOR_BAD_SCAN(RS_NAME_MAX,
		     rs_txn_statecell_scan(TX, O, NULL, cb_cell, NULL));
	EXPECT(rs_txn_statecell_scan(TX, NULL, NULL, NULL, NULL), RS_EINVAL);
}

/* ---- rows: TraceStore ---- */

static void row_rs_trace_tag(void)
{
	char buf[256];
	rs_trace t;

	assert_ok(rs_tracestore_get(DB, RA, 1, &t, buf, sizeof(buf), NULL));
	assert_int_equal(t.ntags, 2);
	EXPECT(rs_trace_tag(NULL, 0, &OUT.tag), RS_EINVAL);
	EXPECT(rs_trace_tag(&t, 0, NULL), RS_EINVAL);
	EXPECT(rs_trace_tag(&t, 2, &OUT.tag), RS_EINVAL);
	EXPECT(rs_trace_tag(&t, SIZE_MAX, &OUT.tag), RS_EINVAL);
}

static void row_rs_tracestore_record(void)
{
	const rs_bytes one = { "t1", 2 };

	EXPECT(rs_tracestore_record(NULL, RA, "t", 1, "p", 1, &one, 1,
				    RS_TRACE_NONE, &OUT.id),
	       RS_EINVAL);
	FOR_BAD_RUN(rs_tracestore_record(DB, R, "t", 1, "p", 1, &one, 1,
					 RS_TRACE_NONE, &OUT.id));
	FOR_BAD_TEXT(RS_TYPE_MAX,
		     rs_tracestore_record(DB, RA, T, TL, "p", 1, &one, 1,
					  RS_TRACE_NONE, &OUT.id));
	FOR_BAD_VALUE(rs_tracestore_record(DB, RA, "t", 1, B, BL, &one, 1,
					   RS_TRACE_NONE, &OUT.id));
	FOR_BAD_TAGS(rs_tracestore_record(DB, RA, "t", 1, "p", 1, TG, NT,
					  RS_TRACE_NONE, &OUT.id));
	EXPECT(rs_tracestore_record(DB, RA, "t", 1, "p", 1, &one, 1, 99,
				    &OUT.id),
	       RS_ENOTFOUND);
	/* A pending handle means nothing outside its transaction. */
	EXPECT(rs_tracestore_record(DB, RA, "t", 1, "p", 1, &one, 1,
				    RS_TRACE_PENDING | 0, &OUT.id),
	       RS_ENOTFOUND);
}

static void row_rs_tracestore_get(void)
{
	FOR_BAD_BUF_READ(rs_tracestore_get, &OUT.tr);
}

/* A one-shot trace query on text (type or tag) of at most `max` bytes;
 * `q` is the query function. */
#define TRACE_TEXT_QUERY(q, max, good)                                         \
	do {                                                                   \
		uint64_t cur = 0;                                              \
		EXPECT(q(NULL, RA, S(good), &cur, 0, NULL, cb_trace, NULL),    \
		       RS_EINVAL);                                             \
		FOR_BAD_RUN(q(DB, R, S(good), &cur, 0, NULL, cb_trace, NULL)); \
		FOR_BAD_TEXT((max),                                            \
			     q(DB, RA, T, TL, &cur, 0, NULL, cb_trace, NULL)); \
		EXPECT(q(DB, RA, S(good), NULL, 0, NULL, cb_trace, NULL),      \
		       RS_EINVAL);                                             \
		EXPECT(q(DB, RA, S(good), &cur, 0, NULL, NULL, NULL),          \
		       RS_EINVAL);                                             \
		CHECK(cur == 0);                                               \
	} while (0)
static void row_rs_tracestore_query_by_type(void)
{
	TRACE_TEXT_QUERY(rs_tracestore_query_by_type, RS_TYPE_MAX, "tool");
}

static void row_rs_tracestore_query_by_tag(void)
{
	TRACE_TEXT_QUERY(rs_tracestore_query_by_tag, RS_TAG_MAX, "t1");
}

static void row_rs_tracestore_children(void)
{
	uint64_t cur = 0;

	EXPECT(rs_tracestore_children(NULL, RA, 0, &cur, 0, NULL, cb_trace,
				      NULL),
	       RS_EINVAL);
	FOR_BAD_RUN(rs_tracestore_children(DB, R, 0, &cur, 0, NULL, cb_trace,
					   NULL));
	EXPECT(rs_tracestore_children(DB, RA, RS_TRACE_NONE, &cur, 0, NULL,
				      cb_trace, NULL),
	       RS_EINVAL);
	EXPECT(rs_tracestore_children(DB, RA, RS_TRACE_PENDING | 0, &cur, 0,
				      NULL, cb_trace, NULL),
	       RS_EINVAL);
	EXPECT(rs_tracestore_children(DB, RA, 0, NULL, 0, NULL, cb_trace, NULL),
	       RS_EINVAL);
	EXPECT(rs_tracestore_children(DB, RA, 0, &cur, 0, NULL, NULL, NULL),
	       RS_EINVAL);
	CHECK(cur == 0);
}

static void row_rs_tracestore_query_by_time(void)
{
	uint64_t cur = 0;

	EXPECT(rs_tracestore_query_by_time(NULL, RA, 0, UINT64_MAX, &cur, 0,
					   NULL, cb_trace, NULL),
	       RS_EINVAL);
	FOR_BAD_RUN(rs_tracestore_query_by_time(DB, R, 0, UINT64_MAX, &cur, 0,
						NULL, cb_trace, NULL));
	EXPECT(rs_tracestore_query_by_time(DB, RA, 2, 1, &cur, 0, NULL,
					   cb_trace, NULL),
	       RS_EINVAL);
	EXPECT(rs_tracestore_query_by_time(DB, RA, 0, UINT64_MAX, NULL, 0, NULL,
					   cb_trace, NULL),
	       RS_EINVAL);
	EXPECT(rs_tracestore_query_by_time(DB, RA, 0, UINT64_MAX, &cur, 0, NULL,
					   NULL, NULL),
	       RS_EINVAL);
	CHECK(cur == 0);
}

static void row_rs_tracestore_get_tree(void)
{
	EXPECT(rs_tracestore_get_tree(NULL, RA, 0, 9, cb_tree, NULL),
	       RS_EINVAL);
	FOR_BAD_RUN(rs_tracestore_get_tree(DB, R, 0, 9, cb_tree, NULL));
	EXPECT(rs_tracestore_get_tree(DB, RA, RS_TRACE_NONE, 9, cb_tree, NULL),
	       RS_EINVAL);
	EXPECT(rs_tracestore_get_tree(DB, RA, RS_TRACE_PENDING, 9, cb_tree,
				      NULL),
	       RS_EINVAL);
	EXPECT(rs_tracestore_get_tree(DB, RA, 0, 9, NULL, NULL), RS_EINVAL);
}

static void row_rs_txn_tracestore_record(void)
{
	const rs_bytes one = { "t1", 2 };

	EXPECT(rs_txn_tracestore_record(NULL, "t", 1, "p", 1, &one, 1,
					RS_TRACE_NONE, &OUT.id),
	       RS_EINVAL);
	FOR_BAD_TEXT(RS_TYPE_MAX,
		     rs_txn_tracestore_record(TX, T, TL, "p", 1, &one, 1,
					      RS_TRACE_NONE, &OUT.id));
	FOR_BAD_VALUE(rs_txn_tracestore_record(TX, "t", 1, B, BL, &one, 1,
					       RS_TRACE_NONE, &OUT.id));
	FOR_BAD_TAGS(rs_txn_tracestore_record(TX, "t", 1, "p", 1, TG, NT,
					      RS_TRACE_NONE, &OUT.id));
	EXPECT(rs_txn_tracestore_record(TX, "t", 1, "p", 1, &one, 1, 99,
					&OUT.id),
	       RS_ENOTFOUND);
	EXPECT(rs_txn_tracestore_record(TX, "t", 1, "p", 1, &one, 1,
					RS_TRACE_PENDING | 5, &OUT.id),
	       RS_ENOTFOUND);
	EXPECT(rs_txn_tracestore_record(RO, "t", 1, "p", 1, &one, 1,
					RS_TRACE_NONE, &OUT.id),
	       RS_EREADONLY);
}

static void row_rs_txn_tracestore_get(void)
{
	EXPECT(rs_txn_tracestore_get(NULL, 0, &OUT.tr), RS_EINVAL);
	EXPECT(rs_txn_tracestore_get(TX, 0, NULL), RS_EINVAL);
}

#define TXN_TRACE_TEXT_QUERY(q, max, good)                                    \
	do {                                                                  \
		uint64_t cur = 0;                                             \
		EXPECT(q(NULL, S(good), &cur, 0, NULL, cb_trace, NULL),       \
		       RS_EINVAL);                                            \
		FOR_BAD_TEXT((max),                                           \
			     q(TX, T, TL, &cur, 0, NULL, cb_trace, NULL));    \
		EXPECT(q(TX, S(good), NULL, 0, NULL, cb_trace, NULL),         \
		       RS_EINVAL);                                            \
		EXPECT(q(TX, S(good), &cur, 0, NULL, NULL, NULL), RS_EINVAL); \
		CHECK(cur == 0);                                              \
	} while (0)

static void row_rs_txn_tracestore_query_by_type(void)
{
	TXN_TRACE_TEXT_QUERY(rs_txn_tracestore_query_by_type, RS_TYPE_MAX,
			     "tool");
}

static void row_rs_txn_tracestore_query_by_tag(void)
{
	TXN_TRACE_TEXT_QUERY(rs_txn_tracestore_query_by_tag, RS_TAG_MAX, "t1");
}

static void row_rs_txn_tracestore_children(void)
{
	uint64_t cur = 0;

	EXPECT(rs_txn_tracestore_children(NULL, 0, &cur, 0, NULL, cb_trace,
					  NULL),
	       RS_EINVAL);
	EXPECT(rs_txn_tracestore_children(TX, RS_TRACE_NONE, &cur, 0, NULL,
					  cb_trace, NULL),
	       RS_EINVAL);
	EXPECT(rs_txn_tracestore_children(TX, 0, NULL, 0, NULL, cb_trace, NULL),
	       RS_EINVAL);
	EXPECT(rs_txn_tracestore_children(TX, 0, &cur, 0, NULL, NULL, NULL),
	       RS_EINVAL);
	CHECK(cur == 0);
}

static void row_rs_txn_tracestore_query_by_time(void)
{
	uint64_t cur = 0;

	EXPECT(rs_txn_tracestore_query_by_time(NULL, 0, UINT64_MAX, &cur, 0,
					       NULL, cb_trace, NULL),
	       RS_EINVAL);
	EXPECT(rs_txn_tracestore_query_by_time(TX, 2, 1, &cur, 0, NULL,
					       cb_trace, NULL),
	       RS_EINVAL);
	EXPECT(rs_txn_tracestore_query_by_time(TX, 0, UINT64_MAX, NULL, 0, NULL,
					       cb_trace, NULL),
	       RS_EINVAL);
	EXPECT(rs_txn_tracestore_query_by_time(TX, 0, UINT64_MAX, &cur, 0, NULL,
					       NULL, NULL),
	       RS_EINVAL);
	CHECK(cur == 0);
}

static void row_rs_txn_tracestore_get_tree(void)
{
	EXPECT(rs_txn_tracestore_get_tree(NULL, 0, 9, cb_tree, NULL),
	       RS_EINVAL);
	EXPECT(rs_txn_tracestore_get_tree(TX, RS_TRACE_NONE, 9, cb_tree, NULL),
	       RS_EINVAL);
	EXPECT(rs_txn_tracestore_get_tree(TX, 0, 9, NULL, NULL), RS_EINVAL);
}

/* ---- rows: RunIndex ---- */

static void row_rs_run_status_name(void)
{
	CHECK(strcmp(rs_run_status_name((rs_run_status)6), "unknown") == 0);
	CHECK(strcmp(rs_run_status_name((rs_run_status)-1), "unknown") == 0);
	CHECK(strcmp(rs_run_status_name((rs_run_status)INT_MAX), "unknown") ==
	      0);
}

static void row_rs_runindex_transition_allowed(void)
{
	CHECK(!rs_runindex_transition_allowed((rs_run_status)6, RS_RUN_ACTIVE));
	CHECK(!rs_runindex_transition_allowed(RS_RUN_ACTIVE, (rs_run_status)6));
	CHECK(!rs_runindex_transition_allowed(RS_RUN_ACTIVE,
					      (rs_run_status)-1));
	CHECK(!rs_runindex_transition_allowed(RS_RUN_ACTIVE, RS_RUN_ACTIVE));
	CHECK(!rs_runindex_transition_allowed(RS_RUN_ARCHIVED, RS_RUN_ACTIVE));
}

static void row_rs_run_info_tag(void)
{
	char buf[256];
	rs_run_info r;

	assert_ok(rs_runindex_get(DB, RA, &r, buf, sizeof(buf), NULL));
	assert_int_equal(r.ntags, 2);
	EXPECT(rs_run_info_tag(NULL, 0, &OUT.tag), RS_EINVAL);
	EXPECT(rs_run_info_tag(&r, 0, NULL), RS_EINVAL);
	EXPECT(rs_run_info_tag(&r, 2, &OUT.tag), RS_EINVAL);
	EXPECT(rs_run_info_tag(&r, SIZE_MAX, &OUT.tag), RS_EINVAL);
}

static void row_rs_runindex_create(void)
{
	const rs_runindex_create_options init = RS_RUNINDEX_CREATE_OPTIONS_INIT;
	rs_runindex_create_options o = init;
	rs_run_id fresh = rs_t_run(), out, keep;

	memset(&out, 0xAB, sizeof(out));
	keep = out;
	EXPECT(rs_runindex_create(NULL, &init, &out), RS_EINVAL);
	o.version = 0;
	EXPECT(rs_runindex_create(DB, &o, &out), RS_EVERSION);
	o.version = RS_RUNINDEX_CREATE_OPTIONS_VERSION + 1;
	EXPECT(rs_runindex_create(DB, &o, &out), RS_EVERSION);
	o = init, o.id = &NIL;
	EXPECT(rs_runindex_create(DB, &o, &out), RS_EINVAL);
	o = init, o.id = RA;
	EXPECT(rs_runindex_create(DB, &o, &out), RS_EEXIST);
	o = init, o.name = "alpha", o.name_len = 5;
	EXPECT(rs_runindex_create(DB, &o, &out), RS_EEXIST);
	FOR_BAD_TEXT(RS_NAME_MAX,
		     (o = init, o.id = &fresh, o.name = T, o.name_len = TL,
		      rs_runindex_create(DB, &o, &out)));
	o = init, o.id = &fresh, o.parent = &NIL;
	EXPECT(rs_runindex_create(DB, &o, &out), RS_EINVAL);
	o.parent = &fresh;
	EXPECT(rs_runindex_create(DB, &o, &out), RS_EINVAL);
	FOR_BAD_TAGS((o = init, o.id = &fresh, o.tags = TG, o.ntags = NT,
		      rs_runindex_create(DB, &o, &out)));
	FOR_BAD_VALUE((o = init, o.id = &fresh, o.metadata = B,
		       o.metadata_len = BL, rs_runindex_create(DB, &o, &out)));
	CHECK(memcmp(&out, &keep, sizeof(out)) == 0);
}

static void row_rs_runindex_get(void)
{
	char buf[256];

	EXPECT(rs_runindex_get(NULL, RA, &OUT.info, buf, 256, &OUT.need),
	       RS_EINVAL);
	FOR_BAD_RUN(rs_runindex_get(DB, R, &OUT.info, buf, 256, &OUT.need));
	EXPECT(rs_runindex_get(DB, RA, NULL, buf, 256, &OUT.need), RS_EINVAL);
	EXPECT(rs_runindex_get(DB, RA, &OUT.info, NULL, 256, &OUT.need),
	       RS_EINVAL);
}

static void row_rs_runindex_get_by_name(void)
{
	char buf[256];

	EXPECT(rs_runindex_get_by_name(NULL, "alpha", 5, &OUT.info, buf, 256,
				       &OUT.need),
	       RS_EINVAL);
	FOR_BAD_TEXT(RS_NAME_MAX, rs_runindex_get_by_name(DB, T, TL, &OUT.info,
							  buf, 256, &OUT.need));
	EXPECT(rs_runindex_get_by_name(DB, "alpha", 5, NULL, buf, 256,
				       &OUT.need),
	       RS_EINVAL);
	EXPECT(rs_runindex_get_by_name(DB, "alpha", 5, &OUT.info, NULL, 256,
				       &OUT.need),
	       RS_EINVAL);
}

static void row_rs_runindex_list(void)
{
	uint64_t cur = 0;

	EXPECT(rs_runindex_list(NULL, &cur, 0, NULL, cb_run, NULL), RS_EINVAL);
	EXPECT(rs_runindex_list(DB, NULL, 0, NULL, cb_run, NULL), RS_EINVAL);
	EXPECT(rs_runindex_list(DB, &cur, 0, NULL, NULL, NULL), RS_EINVAL);
	CHECK(cur == 0);
}

static void row_rs_runindex_query_by_status(void)
{
	uint64_t cur = 0;

	EXPECT(rs_runindex_query_by_status(NULL, RS_RUN_ACTIVE, &cur, 0, NULL,
					   cb_run, NULL),
	       RS_EINVAL);
	EXPECT(rs_runindex_query_by_status(DB, (rs_run_status)6, &cur, 0, NULL,
					   cb_run, NULL),
	       RS_EINVAL);
	EXPECT(rs_runindex_query_by_status(DB, (rs_run_status)-1, &cur, 0, NULL,
					   cb_run, NULL),
	       RS_EINVAL);
	EXPECT(rs_runindex_query_by_status(DB, RS_RUN_ACTIVE, NULL, 0, NULL,
					   cb_run, NULL),
	       RS_EINVAL);
	EXPECT(rs_runindex_query_by_status(DB, RS_RUN_ACTIVE, &cur, 0, NULL,
					   NULL, NULL),
	       RS_EINVAL);
	CHECK(cur == 0);
}

static void row_rs_runindex_query_by_tag(void)
{
	uint64_t cur = 0;

	EXPECT(rs_runindex_query_by_tag(NULL, "t1", 2, &cur, 0, NULL, cb_run,
					NULL),
	       RS_EINVAL);
	FOR_BAD_TEXT(RS_TAG_MAX, rs_runindex_query_by_tag(DB, T, TL, &cur, 0,
							  NULL, cb_run, NULL));
	EXPECT(rs_runindex_query_by_tag(DB, "t1", 2, NULL, 0, NULL, cb_run,
					NULL),
	       RS_EINVAL);
	EXPECT(rs_runindex_query_by_tag(DB, "t1", 2, &cur, 0, NULL, NULL, NULL),
	       RS_EINVAL);
	CHECK(cur == 0);
}

static void row_rs_runindex_query_by_parent(void)
{
	uint64_t cur = 0;

	EXPECT(rs_runindex_query_by_parent(NULL, RB, &cur, 0, NULL, cb_run,
					   NULL),
	       RS_EINVAL);
	FOR_BAD_RUN(rs_runindex_query_by_parent(DB, R, &cur, 0, NULL, cb_run,
						NULL));
	EXPECT(rs_runindex_query_by_parent(DB, RB, NULL, 0, NULL, cb_run, NULL),
	       RS_EINVAL);
	EXPECT(rs_runindex_query_by_parent(DB, RB, &cur, 0, NULL, NULL, NULL),
	       RS_EINVAL);
	CHECK(cur == 0);
}

static void row_rs_runindex_transition(void)
{
	rs_run_status from = (rs_run_status)77;
	rs_run_id other = rs_t_run();

	EXPECT(rs_runindex_transition(NULL, RA, RS_RUN_PAUSED, &from),
	       RS_EINVAL);
	FOR_BAD_RUN(rs_runindex_transition(DB, R, RS_RUN_PAUSED, &from));
	EXPECT(rs_runindex_transition(DB, RA, (rs_run_status)6, &from),
	       RS_EINVAL);
	EXPECT(rs_runindex_transition(DB, RA, (rs_run_status)-1, &from),
	       RS_EINVAL);
	CHECK(from == (rs_run_status)77);
	EXPECT(rs_runindex_transition(DB, &other, RS_RUN_PAUSED, &from),
	       RS_ENOTFOUND);
	EXPECT(rs_runindex_transition(DB, RA, RS_RUN_ARCHIVED, &from),
	       RS_ETRANSITION);
	CHECK(from == RS_RUN_ACTIVE);
	EXPECT(rs_runindex_transition(DB, RA, RS_RUN_ACTIVE, &from),
	       RS_ETRANSITION);
}

static void row_rs_runindex_delete(void)
{
	rs_run_id other = rs_t_run();

	EXPECT(rs_runindex_delete(NULL, RA), RS_EINVAL);
	FOR_BAD_RUN(rs_runindex_delete(DB, R));
	EXPECT(rs_runindex_delete(DB, &other), RS_ENOTFOUND);
}

/* ---- the table ---- */

typedef struct row {
	const char *name;
	void (*fn)(void);
} row;

#define ROW(f)              \
	{                   \
#f, row_##f \
	}

static const row rows[] = {
	ROW(rs_version),
	ROW(rs_version_string),
	ROW(rs_strerror),
	ROW(rs_errname),
	ROW(rs_run_id_generate),
	ROW(rs_run_id_parse),
	ROW(rs_run_id_format),
	ROW(rs_run_id_is_nil),
	ROW(rs_db_open),
	ROW(rs_db_close),
	ROW(rs_db_flush),
	ROW(rs_db_checkpoint),
	ROW(rs_db_apply),
	ROW(rs_db_promote),
	ROW(rs_db_stat),
	ROW(rs_db_run_version),
	ROW(rs_perf_read),
	ROW(rs_perf_reset),
	ROW(rs_perf_phase_name),
	ROW(rs_txn_begin),
	ROW(rs_txn_commit),
	ROW(rs_txn_abort),
	ROW(rs_txn_snapshot_version),
	ROW(rs_txn_set_durability),
	ROW(rs_txn_run),
	ROW(rs_kv_put),
	ROW(rs_kv_get),
	ROW(rs_kv_delete),
	ROW(rs_kv_exists),
	ROW(rs_kv_get_many),
	ROW(rs_kv_list),
	ROW(rs_txn_kv_put),
	ROW(rs_txn_kv_get),
	ROW(rs_txn_kv_delete),
	ROW(rs_txn_kv_exists),
	ROW(rs_txn_kv_get_many),
	ROW(rs_txn_kv_list),
	ROW(rs_kv_scan),
	ROW(rs_txn_kv_scan),
	ROW(rs_kv_cursor_open),
	ROW(rs_txn_kv_cursor_open),
	ROW(rs_cursor_close),
	ROW(rs_cursor_seek),
	ROW(rs_cursor_first),
	ROW(rs_cursor_last),
	ROW(rs_cursor_next),
	ROW(rs_cursor_prev),
	ROW(rs_eventlog_append),
	ROW(rs_eventlog_read),
	ROW(rs_eventlog_read_range),
	ROW(rs_eventlog_len),
	ROW(rs_eventlog_head),
	ROW(rs_eventlog_read_by_type),
	ROW(rs_eventlog_verify_chain),
	ROW(rs_txn_eventlog_append),
	ROW(rs_txn_eventlog_read),
	ROW(rs_txn_eventlog_read_range),
	ROW(rs_txn_eventlog_len),
	ROW(rs_txn_eventlog_head),
	ROW(rs_txn_eventlog_read_by_type),
	ROW(rs_txn_eventlog_verify_chain),
	ROW(rs_statecell_init),
	ROW(rs_statecell_read),
	ROW(rs_statecell_set),
	ROW(rs_statecell_cas),
	ROW(rs_statecell_transition),
	ROW(rs_statecell_delete),
	ROW(rs_statecell_list),
	ROW(rs_statecell_scan),
	ROW(rs_txn_statecell_init),
	ROW(rs_txn_statecell_read),
	ROW(rs_txn_statecell_set),
	ROW(rs_txn_statecell_cas),
	ROW(rs_txn_statecell_transition),
	ROW(rs_txn_statecell_delete),
	ROW(rs_txn_statecell_list),
	ROW(rs_txn_statecell_scan),
	ROW(rs_trace_tag),
	ROW(rs_tracestore_record),
	ROW(rs_tracestore_get),
	ROW(rs_tracestore_query_by_type),
	ROW(rs_tracestore_query_by_tag),
	ROW(rs_tracestore_children),
	ROW(rs_tracestore_query_by_time),
	ROW(rs_tracestore_get_tree),
	ROW(rs_txn_tracestore_record),
	ROW(rs_txn_tracestore_get),
	ROW(rs_txn_tracestore_query_by_type),
	ROW(rs_txn_tracestore_query_by_tag),
	ROW(rs_txn_tracestore_children),
	ROW(rs_txn_tracestore_query_by_time),
	ROW(rs_txn_tracestore_get_tree),
	ROW(rs_run_status_name),
	ROW(rs_runindex_transition_allowed),
	ROW(rs_run_info_tag),
	ROW(rs_runindex_create),
	ROW(rs_runindex_get),
	ROW(rs_runindex_get_by_name),
	ROW(rs_runindex_list),
	ROW(rs_runindex_query_by_status),
	ROW(rs_runindex_query_by_tag),
	ROW(rs_runindex_query_by_parent),
	ROW(rs_runindex_transition),
	ROW(rs_runindex_delete),
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))
#define NNAMES (sizeof(api_names) / sizeof(api_names[0]))

static void misuse__every_function_has_a_row(void **state)
{
	unsigned missing = 0;

	(void)state;
	for (size_t i = 0; i < NNAMES; i++) {
		size_t j = 0;

		while (j < NROWS && strcmp(rows[j].name, api_names[i]) != 0)
			j++;
		if (j == NROWS) {
			print_error("%s is declared but has no row\n",
				    api_names[i]);
			missing++;
		}
	}
	for (size_t j = 0; j < NROWS; j++) {
		size_t i = 0;

		while (i < NNAMES && strcmp(rows[j].name, api_names[i]) != 0)
			i++;
		if (i == NNAMES) {
			print_error("row %s names no declared function\n",
				    rows[j].name);
			missing++;
		}
		for (size_t k = 0; k < j; k++)
			if (strcmp(rows[k].name, rows[j].name) == 0) {
				print_error("row %s twice\n", rows[j].name);
				missing++;
			}
	}
	assert_int_equal(missing, 0);
}

/* ---- the fixture: a database with every primitive in use ---- */

static void seed(void)
{
	rs_runindex_create_options o = RS_RUNINDEX_CREATE_OPTIONS_INIT;
	const rs_bytes tags[2] = { { "t1", 2 }, { "t2", 2 } };
	uint64_t v, id;

	M->a = rs_t_run();
	M->b = rs_t_run();
	o.id = RB, o.name = "beta", o.name_len = 4;
	assert_ok(rs_runindex_create(DB, &o, NULL));
	assert_ok(rs_runindex_transition(DB, RB, RS_RUN_COMPLETED, NULL));
	o.id = RA, o.name = "alpha", o.name_len = 5, o.parent = RB;
	o.tags = tags, o.ntags = 2, o.metadata = "meta", o.metadata_len = 4;
	assert_ok(rs_runindex_create(DB, &o, NULL));

	rs_t_put(DB, RA, "a", "1");
	rs_t_put(DB, RA, "b", "2");
	rs_t_put(DB, RA, "e", "");
	rs_t_put(DB, RB, "z", "26");
	assert_ok(rs_statecell_init(DB, RA, "c1", 2, "v1", 2, &v));
	assert_ok(rs_statecell_set(DB, RA, "c1", 2, "v2", 2, &v));
	assert_int_equal(v, 2);
	assert_ok(rs_statecell_init(DB, RA, "c2", 2, "", 0, NULL));
	assert_ok(rs_eventlog_append(DB, RA, "ev.x", 4, "p0", 2, NULL));
	assert_ok(rs_eventlog_append(DB, RA, "ev.y", 4, "p1", 2, NULL));
	assert_ok(rs_eventlog_append(DB, RA, "ev.x", 4, NULL, 0, NULL));
	assert_ok(rs_eventlog_append(DB, RB, "ev.b", 4, "q", 1, NULL));
	assert_ok(rs_tracestore_record(DB, RA, "tool", 4, "r", 1, tags, 1,
				       RS_TRACE_NONE, &id));
	assert_int_equal(id, 0);
	assert_ok(rs_tracestore_record(DB, RA, "model", 5, "c", 1, tags, 2, 0,
				       &id));
	assert_int_equal(id, 1);
	assert_ok(rs_tracestore_record(DB, RB, "tool", 4, NULL, 0, NULL, 0,
				       RS_TRACE_NONE, NULL));
}

static int row_setup(void **state)
{
	const row *r = *state;
	mx *m = calloc(1, sizeof(*m));

	assert_non_null(m);
	M = m;
	m->row = r->name;
	m->db = rs_t_open(RS_STORAGE_SHARDED, NULL);
	seed();
	dump_db(&m->base);
	assert_ok(rs_txn_begin(&m->tx, DB, RA, 0));
	assert_ok(rs_txn_begin(&m->ro, DB, RA, RS_TXN_F_READONLY));
	memset(&OUT, 0xA5, sizeof(OUT));
	*state = m;
	return 0;
}

static int row_teardown(void **state)
{
	mx *m = *state;

	rs_db_close(m->db);
	free(m->base.p);
	free(m);
	M = NULL;
	return 0;
}

static void misuse__row(void **state)
{
	mx *m = *state;
	const row *r = NULL;

	for (size_t i = 0; i < NROWS; i++)
		if (strcmp(rows[i].name, m->row) == 0)
			r = &rows[i];
	assert_non_null(r);
	struct outs untouched;

	r->fn();
	memset(&untouched, 0xA5, sizeof(untouched));
	if (memcmp(&OUT, &untouched, sizeof(OUT)) != 0) {
		print_error("%s: a rejected call wrote an output\n", m->row);
		m->changes++;
	}
	/* Nothing was staged: both transactions commit as write-free. */
	EXPECT(rs_txn_commit(m->ro), 0);
	EXPECT(rs_txn_commit(m->tx), 0);
	m->ro = m->tx = NULL;
	if (m->cb_calls)
		print_error("%s: a callback ran %u times\n", m->row,
			    m->cb_calls);
	if (m->mismatches || m->changes || m->cb_calls)
		fail_msg("%s: %u of %u calls returned another code, %u "
			 "changed the database",
			 m->row, m->mismatches, m->calls, m->changes);
}

int main(void)
{
	static struct CMUnitTest tests[NROWS + 1];
	int failed;

	LONG = malloc((size_t)RS_VALUE_MAX + 1);
	assert_non_null(LONG);
	memset(LONG, 'a', (size_t)RS_VALUE_MAX + 1);
	tests[0] = (struct CMUnitTest)cmocka_unit_test(
		misuse__every_function_has_a_row);
	for (size_t i = 0; i < NROWS; i++)
		tests[i + 1] = (struct CMUnitTest){
			.name = rows[i].name,
			.test_func = misuse__row,
			.setup_func = row_setup,
			.teardown_func = row_teardown,
			.initial_state = (void *)&rows[i],
		};
	failed = cmocka_run_group_tests_name("misuse", tests, NULL, NULL);
	printf("misuse: %zu functions, %u rejected calls checked\n", NROWS,
	       total_calls);
	free(LONG);
	return failed;
}
