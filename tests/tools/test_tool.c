/* SPDX-License-Identifier: MIT */
/*
 * The runstate tool end to end (docs/tool.md): each test writes a known
 * workload through the library (runs in the RunIndex with names, tags,
 * parents and statuses; KV with binary keys and values; events; cells;
 * traces), runs the built binary (RS_TOOL_PATH) with posix_spawn, and
 * checks its exit code and output, parsing JSON with json-c. Covered: the
 * help of every command (and that the man page names every option it
 * lists), bad arguments, stat, runs and its filters, dump, verify on an
 * intact directory, a flipped byte in a segment, a damaged checkpoint, a
 * forged event (record checksum fixed up, chain broken), a torn tail, a
 * directory held by a running process (exit 3 naming its pid), checkpoint,
 * and export -> import into a second database, verified there, with the
 * refusals of a tampered or truncated file.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include <runstate.h>

#include "durability/dur_util.h"
#include "durability/wal_format.h"
#include "util/endian.h"

extern char **environ;

/* ---- running the tool ---- */

typedef struct result {
	int code;
	char *out, *err;
} result;

static char *slurp(const char *path)
{
	size_t len;
	unsigned char *p = dur_read(path, &len);
	char *s = malloc(len + 1);

	assert_non_null(s);
	if (len)
		memcpy(s, p, len);
	s[len] = 0;
	free(p);
	return s;
}

/* Run the tool with args (NULL-terminated), stdin from `in` (or
 * /dev/null). */
static result run_in(const char *in, const char *arg0, ...)
{
	char *argv[32], outp[64], errp[64];
	posix_spawn_file_actions_t fa;
	const char *tmp = getenv("TMPDIR");
	result r;
	va_list ap;
	pid_t pid;
	int n = 0, status, ofd, efd;

	if (!tmp || !*tmp)
		tmp = "/tmp";
	argv[n++] = RS_TOOL_PATH;
	va_start(ap, arg0);
	for (const char *a = arg0; a && n < 31; a = va_arg(ap, const char *))
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	snprintf(outp, sizeof(outp), "%s/rs-tool-out-XXXXXX", tmp);
	snprintf(errp, sizeof(errp), "%s/rs-tool-err-XXXXXX", tmp);
	assert_true((ofd = mkstemp(outp)) >= 0);
	assert_true((efd = mkstemp(errp)) >= 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, in ? in : "/dev/null",
					 O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, ofd, 1);
	posix_spawn_file_actions_adddup2(&fa, efd, 2);
	assert_int_equal(
		posix_spawn(&pid, RS_TOOL_PATH, &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	close(ofd);
	close(efd);
	assert_true(WIFEXITED(status));
	r.code = WEXITSTATUS(status);
	r.out = slurp(outp);
	r.err = slurp(errp);
	unlink(outp);
	unlink(errp);
	return r;
}

#define run(...) run_in(NULL, __VA_ARGS__, (const char *)NULL)
#define run_stdin(in, ...) run_in((in), __VA_ARGS__, (const char *)NULL)

static void result_free(result *r)
{
	free(r->out);
	free(r->err);
}

/* Fail with the tool's output when the exit code is not `code`. */
static void expect_code(const result *r, int code)
{
	if (r->code != code)
		fail_msg("exit %d, expected %d\nstdout:\n%s\nstderr:\n%s",
			 r->code, code, r->out, r->err);
}

static json_object *parse_json(const char *s)
{
	json_object *o = json_tokener_parse(s);

	if (!o)
		fail_msg("not JSON:\n%s", s);
	return o;
}

static json_object *get(json_object *o, const char *path)
{
	char buf[128], *save, *part;
	json_object *cur = o;

	snprintf(buf, sizeof(buf), "%s", path);
	for (part = strtok_r(buf, ".", &save); part;
	     part = strtok_r(NULL, ".", &save))
		if (!json_object_object_get_ex(cur, part, &cur))
			fail_msg("no member %s in %s", path,
				 json_object_to_json_string(o));
	return cur;
}

static int64_t get_int(json_object *o, const char *path)
{
	return json_object_get_int64(get(o, path));
}

static const char *get_str(json_object *o, const char *path)
{
	return json_object_get_string(get(o, path));
}

/* JSON lines: an array of the objects, in order. */
static json_object *parse_lines(const char *s)
{
	json_object *arr = json_object_new_array();
	char *copy = strdup(s), *save, *line;

	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		json_object_array_add(arr, parse_json(line));
	free(copy);
	return arr;
}

/* The lines of one kind. */
static json_object *of_kind(json_object *lines, const char *kind)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < json_object_array_length(lines); i++) {
		json_object *o = json_object_array_get_idx(lines, i);

		if (strcmp(get_str(o, "kind"), kind) == 0)
			json_object_array_add(arr, json_object_get(o));
	}
	return arr;
}

/* ---- the workload ---- */

static const unsigned char bin_key[] = { 0x00, 0xff, 0x10, 0x80 };
static const unsigned char bin_val[] = { 0xde, 0xad, 0xbe, 0xef, 0x00 };
static const unsigned char meta[] = { 0x01, 0x00, 0xfe };

typedef struct fixture {
	char *dir, *dir2;
	rs_run_id alpha, beta, gamma, delta;
	char alpha_s[RS_RUN_ID_STRLEN + 1], beta_s[RS_RUN_ID_STRLEN + 1];
	char gamma_s[RS_RUN_ID_STRLEN + 1];
} fixture;

static void add_events(rs_db *db, const rs_run_id *run, int n)
{
	for (int i = 0; i < n; i++) {
		char payload[64];
		int len = snprintf(payload, sizeof(payload),
				   "forge-me-payload-%04d", i);

		assert_int_equal(
			rs_eventlog_append(
				db, run, i % 2 ? "model_call" : "tool_call",
				i % 2 ? 10 : 9, payload, (size_t)len, NULL),
			0);
	}
}

static void write_workload(fixture *f)
{
	rs_db_options o = dur_opts(f->dir, RS_DURABILITY_BUFFERED);
	rs_runindex_create_options c = RS_RUNINDEX_CREATE_OPTIONS_INIT;
	rs_bytes tags_a[] = { { "prod", 4 }, { "gpu", 3 } };
	rs_bytes tags_b[] = { { "prod", 4 } };
	rs_bytes ttags[] = { { "a", 1 }, { "b", 1 } };
	uint64_t root, child, ver;
	rs_db *db = dur_open(&o);
	rs_run_id tmp;
	rs_txn *txn;

	c.name = "alpha";
	c.name_len = 5;
	c.tags = tags_a;
	c.ntags = 2;
	c.metadata = meta;
	c.metadata_len = sizeof(meta);
	assert_int_equal(rs_runindex_create(db, &c, &f->alpha), 0);
	c = (rs_runindex_create_options)RS_RUNINDEX_CREATE_OPTIONS_INIT;
	c.name = "beta";
	c.name_len = 4;
	c.parent = &f->alpha;
	c.tags = tags_b;
	c.ntags = 1;
	assert_int_equal(rs_runindex_create(db, &c, &f->beta), 0);
	c = (rs_runindex_create_options)RS_RUNINDEX_CREATE_OPTIONS_INIT;
	assert_int_equal(rs_runindex_create(db, &c, &f->delta), 0);
	assert_int_equal(rs_run_id_generate(&f->gamma), 0);

	/* alpha: every primitive, one transaction among them. */
	assert_int_equal(rs_kv_put(db, &f->alpha, "greeting", 8, "hello", 5),
			 0);
	assert_int_equal(rs_kv_put(db, &f->alpha, bin_key, sizeof(bin_key),
				   bin_val, sizeof(bin_val)),
			 0);
	add_events(db, &f->alpha, 6);
	assert_int_equal(rs_txn_begin(&txn, db, &f->alpha, 0), 0);
	assert_int_equal(rs_txn_kv_put(txn, "step", 4, "3", 1), 0);
	assert_int_equal(rs_txn_eventlog_append(txn, "checkpoint", 10, bin_val,
						sizeof(bin_val), NULL),
			 0);
	assert_int_equal(rs_txn_statecell_init(txn, "plan", 4, "v1", 2, NULL),
			 0);
	assert_int_equal(rs_txn_commit(txn), 0);
	assert_int_equal(
		rs_statecell_set(db, &f->alpha, "plan", 4, "v2", 2, &ver), 0);
	assert_int_equal(ver, 2);
	assert_int_equal(rs_statecell_init(db, &f->alpha, "blob", 4, bin_val,
					   sizeof(bin_val), NULL),
			 0);
	assert_int_equal(rs_tracestore_record(db, &f->alpha, "agent", 5, "{}",
					      2, ttags, 2, RS_TRACE_NONE,
					      &root),
			 0);
	assert_int_equal(rs_tracestore_record(db, &f->alpha, "tool", 4, bin_val,
					      sizeof(bin_val), NULL, 0, root,
					      &child),
			 0);
	assert_int_equal(rs_tracestore_record(db, &f->alpha, "io", 2, "", 0,
					      ttags, 1, child, NULL),
			 0);
	/* beta: completed; gamma: data only; delta: archived. */
	add_events(db, &f->beta, 3);
	assert_int_equal(
		rs_runindex_transition(db, &f->beta, RS_RUN_COMPLETED, NULL),
		0);
	assert_int_equal(rs_kv_put(db, &f->gamma, "k", 1, "v", 1), 0);
	assert_int_equal(rs_kv_put(db, &f->delta, "k", 1, "v", 1), 0);
	assert_int_equal(
		rs_runindex_transition(db, &f->delta, RS_RUN_FAILED, NULL), 0);
	assert_int_equal(
		rs_runindex_transition(db, &f->delta, RS_RUN_ARCHIVED, NULL),
		0);
	/* A deleted run: a DROP_RUN record, and history without data. */
	c = (rs_runindex_create_options)RS_RUNINDEX_CREATE_OPTIONS_INIT;
	assert_int_equal(rs_runindex_create(db, &c, &tmp), 0);
	assert_int_equal(rs_kv_put(db, &tmp, "gone", 4, "x", 1), 0);
	assert_int_equal(rs_runindex_delete(db, &tmp), 0);
	rs_db_close(db);
	rs_run_id_format(&f->alpha, f->alpha_s, sizeof(f->alpha_s));
	rs_run_id_format(&f->beta, f->beta_s, sizeof(f->beta_s));
	rs_run_id_format(&f->gamma, f->gamma_s, sizeof(f->gamma_s));
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	f->dir = dur_tmpdir();
	f->dir2 = dur_tmpdir();
	write_workload(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	dur_rmdir(f->dir);
	dur_rmdir(f->dir2);
	free(f);
	return 0;
}

/* A digest of every file of the directory: names, sizes and bytes. */
static char *snapshot(const char *dir)
{
	uint64_t h = 0;
	struct dirent *de;
	DIR *d = opendir(dir);
	char *out;

	assert_non_null(d);
	while ((de = readdir(d))) {
		unsigned char *b;
		size_t len;

		if (de->d_name[0] == '.')
			continue;
		b = dur_read(dur_path(dir, de->d_name), &len);
		/* Order-independent: readdir's order may change. */
		h += rs__wal_checksum(de->d_name, strlen(de->d_name)) ^
		     rs__wal_checksum(b, len) ^ len;
		free(b);
	}
	closedir(d);
	assert_true(asprintf(&out, "%016" PRIx64, h) > 0);
	return out;
}

/* ---- help and arguments ---- */

static const char *const commands[] = { "stat",	  "runs",	"dump",
					"verify", "checkpoint", "export",
					"import" };

static void tool__help_for_every_command(void **state)
{
	char *man = slurp(RS_TOOL_MAN);
	result r = run("--help");

	(void)state;
	expect_code(&r, 0);
	assert_non_null(strstr(r.out, "Exit codes"));
	result_free(&r);
	r = run("--version");
	expect_code(&r, 0);
	assert_non_null(strstr(r.out, rs_version_string()));
	result_free(&r);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		char want[64], *p, *save, *copy;

		r = run(commands[i], "--help");
		expect_code(&r, 0);
		snprintf(want, sizeof(want), "usage: runstate %s", commands[i]);
		assert_non_null(strstr(r.out, want));
		/* The man page names the command and each option. */
		snprintf(want, sizeof(want), ".SS %s", commands[i]);
		if (!strstr(man, want))
			fail_msg("runstate.1 has no '%s'", want);
		copy = strdup(r.out);
		for (p = strtok_r(copy, " \n,", &save); p;
		     p = strtok_r(NULL, " \n,", &save)) {
			char opt[128];
			size_t o = 0;

			if (strncmp(p, "--", 2) != 0 || strlen(p) < 3)
				continue;
			/* As roff writes it: every '-' as "\-". */
			for (const char *q = p;
			     *q && !strchr(")'.", *q) && o + 3 < sizeof(opt);
			     q++) {
				if (*q == '-')
					opt[o++] = '\\';
				opt[o++] = *q;
			}
			opt[o] = 0;
			if (!strstr(man, opt))
				fail_msg("runstate.1 does not name %s of %s",
					 opt, commands[i]);
		}
		free(copy);
		result_free(&r);
		r = run("help", commands[i]);
		expect_code(&r, 0);
		assert_non_null(strstr(r.out, "usage: runstate"));
		result_free(&r);
	}
	free(man);
}

static void tool__bad_arguments_exit_2(void **state)
{
	fixture *f = *state;
	struct {
		result r;
		const char *why;
	} cases[] = {
		{ run("frobnicate"), "unknown command" },
		{ run("stat"), "stat without DIR" },
		{ run("stat", f->dir, f->dir), "stat with two DIRs" },
		{ run("stat", "--bogus", f->dir), "unknown option" },
		{ run("runs", "--status", "sleeping", f->dir), "bad status" },
		{ run("runs", "--limit", "-3", f->dir), "bad limit" },
		{ run("runs", "--parent", "not-an-id", f->dir), "bad parent" },
		{ run("dump", f->dir), "dump without RUN" },
		{ run("export", f->dir), "export without RUN" },
		{ run("import"), "import without DIR" },
		{ run("import", "--as", "x", f->dir), "bad --as" },
		{ run("verify", "--per-run", f->dir), "stat's option" },
		{ run("checkpoint", "-x", f->dir), "unknown option" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].r.code != 2 || !strstr(cases[i].r.err, "--help"))
			fail_msg("%s: exit %d, stderr: %s", cases[i].why,
				 cases[i].r.code, cases[i].r.err);
		result_free(&cases[i].r);
	}
	{
		result r = run_in(NULL, (const char *)NULL);

		expect_code(&r, 2);
		result_free(&r);
	}
}

static void tool__not_a_database_exit_3(void **state)
{
	fixture *f = *state;
	char missing[4096];
	result r;

	snprintf(missing, sizeof(missing), "%s/nope", f->dir2);
	r = run("stat", f->dir2); /* empty directory */
	expect_code(&r, 3);
	assert_non_null(strstr(r.err, "not a runstate database"));
	result_free(&r);
	r = run("verify", missing);
	expect_code(&r, 3);
	result_free(&r);
	r = run("checkpoint", missing);
	expect_code(&r, 3);
	result_free(&r);
	/* Nothing was created. */
	assert_false(dur_exists(missing));
	assert_false(dur_exists(dur_path(f->dir2, "LOCK")));
}

/* ---- reading ---- */

static void tool__stat_counts_the_workload(void **state)
{
	fixture *f = *state;
	char *before = snapshot(f->dir), *after;
	json_object *o;
	result r = run("stat", "--json", "--per-run", f->dir);

	expect_code(&r, 0);
	o = parse_json(r.out);
	/* alpha, beta, gamma, delta and the deleted one (history only) */
	assert_int_equal(get_int(o, "data.runs"), 5);
	assert_int_equal(get_int(o, "data.runs_registered"), 3);
	/* alpha 3, gamma 1, delta 1 */
	assert_int_equal(get_int(o, "data.kv_keys"), 5);
	assert_int_equal(get_int(o, "data.events"), 7 + 3);
	assert_int_equal(get_int(o, "data.cells"), 2);
	assert_int_equal(get_int(o, "data.traces"), 3);
	assert_int_equal(json_object_array_length(get(o, "runs")), 5);
	assert_int_equal(get_int(o, "log.drop_run_records"), 1);
	assert_true(json_object_array_length(get(o, "files.segments")) >= 1);
	assert_int_equal(get_int(o, "log.close_records"), 1);
	assert_true(json_object_get_boolean(get(o, "log.ends_in_close")));
	assert_true(get_int(o, "recovery.records_replayed") > 10);
	json_object_put(o);
	result_free(&r);
	r = run("stat", f->dir);
	expect_code(&r, 0);
	assert_non_null(strstr(r.out, "wal-0000000000000001.log"));
	assert_non_null(strstr(r.out, "3 registered"));
	result_free(&r);
	/* Reading changed no byte. */
	after = snapshot(f->dir);
	assert_string_equal(before, after);
	free(before);
	free(after);
}

static void tool__runs_lists_and_filters(void **state)
{
	fixture *f = *state;
	json_object *a, *b;
	result r = run("runs", "--json", f->dir);

	expect_code(&r, 0);
	a = parse_json(r.out);
	assert_int_equal(json_object_array_length(a), 3);
	b = json_object_array_get_idx(a, 0);
	assert_string_equal(get_str(b, "name"), "alpha");
	assert_string_equal(get_str(b, "status"), "active");
	assert_string_equal(get_str(b, "id"), f->alpha_s);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(
				    get(b, "tags"), 1)),
			    "gpu");
	assert_string_equal(get_str(b, "metadata_b64"), "AQD+");
	b = json_object_array_get_idx(a, 1);
	assert_string_equal(get_str(b, "parent"), f->alpha_s);
	assert_string_equal(get_str(b, "status"), "completed");
	json_object_put(a);
	result_free(&r);

	r = run("runs", "--json", "--status", "completed", f->dir);
	expect_code(&r, 0);
	a = parse_json(r.out);
	assert_int_equal(json_object_array_length(a), 1);
	assert_string_equal(get_str(json_object_array_get_idx(a, 0), "name"),
			    "beta");
	json_object_put(a);
	result_free(&r);

	r = run("runs", "--json", "--tag", "prod", "--parent", f->alpha_s,
		f->dir);
	expect_code(&r, 0);
	a = parse_json(r.out);
	assert_int_equal(json_object_array_length(a), 1);
	json_object_put(a);
	result_free(&r);

	r = run("runs", "--json", "--tag", "gpu", "--limit", "5", f->dir);
	expect_code(&r, 0);
	a = parse_json(r.out);
	assert_int_equal(json_object_array_length(a), 1);
	json_object_put(a);
	result_free(&r);

	r = run("runs", "--status", "archived", f->dir);
	expect_code(&r, 0);
	assert_non_null(strstr(r.out, "archived"));
	assert_null(strstr(r.out, "alpha"));
	result_free(&r);
}

static void tool__dump_prints_every_primitive(void **state)
{
	fixture *f = *state;
	json_object *lines, *kv, *ev, *cells, *traces, *o;
	unsigned char buf[256];
	size_t need;
	rs_event e;
	rs_db *db;
	rs_db_options opts = dur_opts(f->dir, RS_DURABILITY_BUFFERED);
	result r = run("dump", f->dir, "alpha"); /* by name */
	char hex[65];

	expect_code(&r, 0);
	lines = parse_lines(r.out);
	assert_string_equal(
		get_str(json_object_array_get_idx(lines, 0), "kind"), "run");
	kv = of_kind(lines, "kv");
	ev = of_kind(lines, "event");
	cells = of_kind(lines, "cell");
	traces = of_kind(lines, "trace");
	assert_int_equal(json_object_array_length(kv), 3);
	/* Key order: the binary key (0x00...) first; base64 both. */
	o = json_object_array_get_idx(kv, 0);
	assert_string_equal(get_str(o, "key_b64"), "AP8QgA==");
	assert_string_equal(get_str(o, "value_b64"), "3q2+7wA=");
	o = json_object_array_get_idx(kv, 1);
	assert_string_equal(get_str(o, "key"), "greeting");
	assert_string_equal(get_str(o, "value"), "hello");
	assert_int_equal(json_object_array_length(ev), 7);
	assert_int_equal(json_object_array_length(cells), 2);
	o = json_object_array_get_idx(cells, 1);
	assert_string_equal(get_str(o, "name"), "plan");
	assert_int_equal(get_int(o, "version"), 2);
	assert_int_equal(json_object_array_length(traces), 3);
	o = json_object_array_get_idx(traces, 2);
	assert_int_equal(get_int(o, "parent"), 1);
	assert_string_equal(get_str(o, "type"), "io");
	/* The hashes are the library's. */
	db = dur_open(&opts);
	assert_int_equal(
		rs_eventlog_read(db, &f->alpha, 6, &e, buf, sizeof(buf), &need),
		0);
	rs_db_close(db);
	o = json_object_array_get_idx(ev, 6);
	assert_int_equal(get_int(o, "seq"), 6);
	assert_string_equal(get_str(o, "type"), "checkpoint");
	assert_string_equal(get_str(o, "payload_b64"), "3q2+7wA=");
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", e.hash[i]);
	assert_string_equal(get_str(o, "hash"), hex);
	json_object_put(kv);
	json_object_put(ev);
	json_object_put(cells);
	json_object_put(traces);
	json_object_put(lines);
	result_free(&r);

	r = run("dump", "--events", f->dir, f->beta_s);
	expect_code(&r, 0);
	lines = parse_lines(r.out);
	assert_int_equal(json_object_array_length(lines), 3);
	json_object_put(lines);
	result_free(&r);

	r = run("dump", f->dir, "no-such-run");
	expect_code(&r, 4);
	result_free(&r);
	r = run("dump", f->dir, "00000000-0000-4000-8000-000000000001");
	expect_code(&r, 4);
	result_free(&r);
}

/* ---- verify ---- */

static void tool__verify_passes_an_intact_directory(void **state)
{
	fixture *f = *state;
	json_object *o;
	result r = run("verify", "--json", f->dir);

	expect_code(&r, 0);
	o = parse_json(r.out);
	assert_true(json_object_get_boolean(get(o, "ok")));
	assert_int_equal(get_int(o, "chains"), 2);
	assert_int_equal(get_int(o, "events"), 10);
	json_object_put(o);
	result_free(&r);
	r = run("verify", f->dir);
	expect_code(&r, 0);
	assert_non_null(strstr(r.out, "ok:"));
	result_free(&r);
}

/* The offset of the record that holds `needle` in segment 1. */
static size_t record_with(const unsigned char *seg, size_t len,
			  const char *needle, size_t *at)
{
	size_t off[512], rlen[512];
	size_t n = dur_records(seg, len, off, rlen, 512);
	const unsigned char *hit = memmem(seg, len, needle, strlen(needle));

	assert_non_null(hit);
	*at = (size_t)(hit - seg);
	for (size_t i = 0; i < n; i++)
		if (*at >= off[i] && *at < off[i] + rlen[i])
			return off[i];
	fail_msg("no record holds %s", needle);
	return 0;
}

static void tool__verify_names_a_flipped_byte(void **state)
{
	fixture *f = *state;
	const char *seg = dur_seg(f->dir, 1);
	char want[128];
	unsigned char *p;
	size_t len, at, rec;
	json_object *o;
	result r;

	p = dur_read(seg, &len);
	rec = record_with(p, len, "forge-me-payload-0002", &at);
	p[at] ^= 0x20;
	dur_write(dur_seg(f->dir, 1), p, len);
	free(p);

	r = run("verify", "--json", f->dir);
	expect_code(&r, 1);
	o = parse_json(r.out);
	assert_false(json_object_get_boolean(get(o, "ok")));
	assert_string_equal(get_str(o, "damage.file"),
			    "wal-0000000000000001.log");
	assert_int_equal(get_int(o, "damage.offset"), (int64_t)rec);
	assert_non_null(strstr(get_str(o, "damage.what"), "checksum"));
	json_object_put(o);
	result_free(&r);
	r = run("verify", f->dir);
	expect_code(&r, 1);
	snprintf(want, sizeof(want), "wal-0000000000000001.log, offset %zu",
		 rec);
	assert_non_null(strstr(r.out, want));
	result_free(&r);
	/* The reading commands refuse it too, naming the place. */
	r = run("dump", f->dir, "alpha");
	expect_code(&r, 1);
	assert_non_null(strstr(r.err, want));
	result_free(&r);
	r = run("stat", f->dir);
	expect_code(&r, 1);
	result_free(&r);
}

static void tool__verify_names_a_damaged_checkpoint(void **state)
{
	fixture *f = *state;
	const char *ck;
	unsigned char *p;
	size_t len;
	json_object *o;
	result r = run("checkpoint", f->dir);

	expect_code(&r, 0);
	result_free(&r);
	r = run("stat", "--json", f->dir);
	expect_code(&r, 0);
	o = parse_json(r.out);
	assert_true(
		json_object_get_boolean(get(o, "recovery.checkpoint_used")));
	assert_int_equal(get_int(o, "data.kv_keys"), 5);
	json_object_put(o);
	result_free(&r);
	r = run("verify", f->dir);
	expect_code(&r, 0);
	result_free(&r);

	ck = dur_ckpt(f->dir, 1);
	if (!dur_exists(ck))
		ck = dur_ckpt(f->dir, 2);
	assert_true(dur_exists(ck));
	p = dur_read(ck, &len);
	p[len / 2] ^= 0x01;
	dur_write(ck, p, len);
	free(p);
	r = run("verify", "--json", f->dir);
	expect_code(&r, 1);
	o = parse_json(r.out);
	assert_non_null(strstr(get_str(o, "damage.file"), "ckpt-"));
	json_object_put(o);
	result_free(&r);
}

/*
 * An event's payload changed and its record's checksum recomputed: every
 * file check passes, the chain does not.
 */
static void tool__verify_names_a_forged_event(void **state)
{
	fixture *f = *state;
	const char *seg = dur_seg(f->dir, 1);
	unsigned char *p;
	size_t len, at, rec;
	json_object *o;
	char want[128];
	result r;

	p = dur_read(seg, &len);
	rec = record_with(p, len, "forge-me-payload-0003", &at);
	p[at] ^= 0x20;
	rs__put_le64(p + rec, rs__wal_checksum(p + rec + 8,
					       rs__get_le32(p + rec + 8) - 8));
	dur_write(dur_seg(f->dir, 1), p, len);
	free(p);
	r = run("verify", "--json", f->dir);
	expect_code(&r, 1);
	o = parse_json(r.out);
	assert_string_equal(get_str(o, "damage.run"), f->alpha_s);
	assert_int_equal(get_int(o, "damage.seq"), 3);
	json_object_put(o);
	result_free(&r);
	r = run("verify", f->dir);
	expect_code(&r, 1);
	snprintf(want, sizeof(want), "run %s, event 3", f->alpha_s);
	assert_non_null(strstr(r.out, want));
	result_free(&r);
}

static void tool__verify_reports_a_torn_tail_as_no_damage(void **state)
{
	fixture *f = *state;
	const char *seg = dur_seg(f->dir, 1);
	size_t off[512], rlen[512], len, n;
	unsigned char *p = dur_read(seg, &len);
	json_object *o;
	result r;

	n = dur_records(p, len, off, rlen, 512);
	assert_true(n > 2 && n < 512);
	/* Half a record after the CLOSE: a crash during a later write. */
	memcpy(p + off[n - 1] + rlen[n - 1], p + off[1], rlen[1] / 2);
	dur_write(dur_seg(f->dir, 1), p, len);
	free(p);
	r = run("verify", "--json", f->dir);
	expect_code(&r, 0);
	o = parse_json(r.out);
	assert_true(get_int(o, "torn_bytes") > 0);
	json_object_put(o);
	result_free(&r);
	r = run("verify", f->dir);
	expect_code(&r, 0);
	assert_non_null(strstr(r.out, "torn tail"));
	result_free(&r);
}

static void tool__locked_directory_names_the_pid(void **state)
{
	fixture *f = *state;
	rs_db_options o = dur_opts(f->dir, RS_DURABILITY_BUFFERED);
	rs_db *db = dur_open(&o);
	const char *cmds[] = { "stat", "verify", "runs", "checkpoint" };
	char pid[32];

	snprintf(pid, sizeof(pid), "pid %ld", (long)getpid());
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		result r = run(cmds[i], f->dir);

		expect_code(&r, 3);
		if (!strstr(r.err, pid))
			fail_msg("%s: no '%s' in: %s", cmds[i], pid, r.err);
		result_free(&r);
	}
	rs_db_close(db);
}

/* ---- export and import ---- */

static char *write_file(const char *dir, const char *name, const char *s)
{
	char *path;

	assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
	dur_write(path, s, strlen(s));
	return path;
}

/* The lines of a dump without what an import makes new. */
static json_object *portable_lines(const char *out)
{
	static const char *const new_members[] = { "timestamp_ns", "prev_hash",
						   "hash",	   "created_ns",
						   "updated_ns",   "version" };
	json_object *lines = parse_lines(out);

	for (size_t i = 0; i < json_object_array_length(lines); i++)
		for (size_t j = 0; j < sizeof(new_members) / sizeof(char *);
		     j++)
			json_object_object_del(
				json_object_array_get_idx(lines, i),
				new_members[j]);
	return lines;
}

static void tool__export_import_round_trip(void **state)
{
	fixture *f = *state;
	char target[4096], *file, *bad, *p;
	json_object *a, *b;
	result r = run("export", f->dir, f->alpha_s);
	result d1, d2;

	expect_code(&r, 0);
	snprintf(target, sizeof(target), "%s/db2", f->dir2);
	file = write_file(f->dir2, "run.jsonl", r.out);

	/* Without --create a missing directory is refused. */
	d1 = run_stdin(file, "import", target);
	expect_code(&d1, 3);
	result_free(&d1);
	d1 = run_stdin(file, "import", "--create", target);
	expect_code(&d1, 0);
	result_free(&d1);
	d1 = run("verify", target);
	expect_code(&d1, 0);
	result_free(&d1);

	d1 = run("dump", f->dir, f->alpha_s);
	d2 = run("dump", target, f->alpha_s);
	expect_code(&d1, 0);
	expect_code(&d2, 0);
	a = portable_lines(d1.out);
	b = portable_lines(d2.out);
	if (!json_object_equal(a, b))
		fail_msg("dumps differ:\n%s\n%s", d1.out, d2.out);
	json_object_put(a);
	json_object_put(b);
	result_free(&d1);
	result_free(&d2);

	/* A second import finds the run there. */
	d1 = run_stdin(file, "import", target);
	expect_code(&d1, 4);
	result_free(&d1);
	/* Under another id the name is still taken. */
	d1 = run_stdin(file, "import", "--as",
		       "11111111-2222-4333-8444-555555555555", target);
	expect_code(&d1, 4);
	assert_non_null(strstr(d1.err, "alpha"));
	result_free(&d1);

	/* A tampered payload breaks the chain: refused, nothing written. */
	bad = strdup(r.out);
	assert_non_null(p = strstr(bad, "forge-me-payload-0004"));
	p[0] = 'F';
	free(file);
	file = write_file(f->dir2, "bad.jsonl", bad);
	free(bad);
	d1 = run_stdin(file, "import", "--create", f->dir2);
	expect_code(&d1, 1);
	assert_non_null(strstr(d1.err, "event chain"));
	result_free(&d1);
	assert_false(dur_exists(dur_path(f->dir2, "LOCK")));

	/* A truncated file (no end line) is refused. */
	bad = strdup(r.out);
	p = bad + strlen(bad) - 1;
	*p = 0;
	*(strrchr(bad, '\n') + 1) = 0;
	free(file);
	file = write_file(f->dir2, "cut.jsonl", bad);
	free(bad);
	d1 = run_stdin(file, "import", target);
	expect_code(&d1, 1);
	assert_non_null(strstr(d1.err, "truncated"));
	result_free(&d1);

	/* A completed child run moves with its status and parent. */
	result_free(&r);
	r = run("export", f->dir, "beta");
	expect_code(&r, 0);
	free(file);
	file = write_file(f->dir2, "beta.jsonl", r.out);
	d1 = run_stdin(file, "import", target);
	expect_code(&d1, 0);
	result_free(&d1);
	d1 = run("runs", "--json", "--status", "completed", target);
	expect_code(&d1, 0);
	a = parse_json(d1.out);
	assert_int_equal(json_object_array_length(a), 1);
	assert_string_equal(get_str(json_object_array_get_idx(a, 0), "parent"),
			    f->alpha_s);
	json_object_put(a);
	result_free(&d1);
	free(file);
	result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(tool__help_for_every_command),
		T(tool__bad_arguments_exit_2),
		T(tool__not_a_database_exit_3),
		T(tool__stat_counts_the_workload),
		T(tool__runs_lists_and_filters),
		T(tool__dump_prints_every_primitive),
		T(tool__verify_passes_an_intact_directory),
		T(tool__verify_names_a_flipped_byte),
		T(tool__verify_names_a_damaged_checkpoint),
		T(tool__verify_names_a_forged_event),
		T(tool__verify_reports_a_torn_tail_as_no_damage),
		T(tool__locked_directory_names_the_pid),
		T(tool__export_import_round_trip),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
