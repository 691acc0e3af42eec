/* SPDX-License-Identifier: MIT */
/*
 * runstate dump and runstate export: one run's data as JSON lines
 * (docs/tool.md, "The JSON lines of a run"). export writes the same lines
 * as dump, all of them, between a header line and an end line that make
 * the file a portable run for runstate import.
 */
#define _GNU_SOURCE
#include "tool.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char dump_help[] =
	"usage: runstate dump [OPTIONS] DIR RUN\n"
	"\n"
	"Print one run's data as JSON lines, one object per line: its "
	"RunIndex\n"
	"entry (\"kind\":\"run\"), then its KV entries (\"kv\") in key order,\n"
	"events (\"event\") in sequence order, StateCells (\"cell\") in name\n"
	"order and traces (\"trace\") in id order. Text that is valid UTF-8 "
	"is\n"
	"a JSON string; other bytes are base64, in a member whose name ends\n"
	"in _b64. RUN is a run id or the name of a registered run. The\n"
	"directory is read without being changed.\n"
	"\n"
	"Options:\n"
	"  --kv              KV entries only (combine with the next three)\n"
	"  --events          events only\n"
	"  --cells           StateCells only\n"
	"  --traces          traces only\n"
	"  -h, --help        show this help\n"
	"\n"
	"Exit codes: 0 ok, 1 the directory is damaged, 2 usage, 3 cannot "
	"open,\n"
	"4 no such run, 5 other failure.\n";

static const char export_help[] =
	"usage: runstate export DIR RUN > run.jsonl\n"
	"\n"
	"Write one run as a portable file on standard output: a header line,\n"
	"the lines of 'runstate dump' (all of them), and an end line with the\n"
	"counts and the event chain's head. 'runstate import' reads it into\n"
	"another database, verifying the chain first. RUN is a run id or the\n"
	"name of a registered run. The directory is read without being\n"
	"changed.\n"
	"\n"
	"Options:\n"
	"  -h, --help        show this help\n"
	"\n"
	"Exit codes: 0 ok, 1 the directory is damaged, 2 usage, 3 cannot "
	"open,\n"
	"4 no such run, 5 other failure.\n";

enum {
	S_RUN = 1,
	S_KV = 2,
	S_EVENTS = 4,
	S_CELLS = 8,
	S_TRACES = 16
};

typedef struct dump_ctx {
	rs_db *db;
	rs_run_id run;
	uint64_t kv, events, cells, traces;
	int err; /* -1: out of memory or a write error */
} dump_ctx;

static json_object *line(const char *kind)
{
	json_object *o = json_object_new_object();

	if (o && tj_add_str(o, "kind", kind) != 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* Print and free o; 0, or -1 (remembered) on failure. */
static int emit(dump_ctx *c, json_object *o, int rc)
{
	if (!o || rc != 0) {
		json_object_put(o);
		c->err = -1;
		return -1;
	}
	if (tj_print_line(stdout, o) != 0) {
		c->err = -1;
		return -1;
	}
	return 0;
}

static int add_text(json_object *o, const char *name, rs_bytes t)
{
	json_object *v =
		json_object_new_string_len(t.data ? t.data : "", (int)t.len);

	if (!v || json_object_object_add(o, name, v) != 0) {
		json_object_put(v);
		return -1;
	}
	return 0;
}

static int on_kv(rs_bytes key, rs_bytes value, void *arg)
{
	dump_ctx *c = arg;
	json_object *o = line("kv");
	int rc = 0;

	if (o) {
		rc |= tj_add_bytes(o, "key", key.data, key.len);
		rc |= tj_add_bytes(o, "value", value.data, value.len);
	}
	c->kv++;
	return emit(c, o, rc);
}

static int on_event(const rs_event *ev, void *arg)
{
	dump_ctx *c = arg;
	json_object *o = line("event");
	int rc = 0;

	if (o) {
		rc |= tj_add_u64(o, "seq", ev->seq);
		rc |= add_text(o, "type", ev->type);
		rc |= tj_add_bytes(o, "payload", ev->payload.data,
				   ev->payload.len);
		rc |= tj_add_u64(o, "timestamp_ns", ev->timestamp_ns);
		rc |= tj_add_hex(o, "prev_hash", ev->prev_hash, RS_HASH_LEN);
		rc |= tj_add_hex(o, "hash", ev->hash, RS_HASH_LEN);
	}
	c->events++;
	return emit(c, o, rc);
}

static int on_cell(rs_bytes name, rs_bytes value, uint64_t version, void *arg)
{
	dump_ctx *c = arg;
	json_object *o = line("cell");
	int rc = 0;

	if (o) {
		rc |= add_text(o, "name", name);
		rc |= tj_add_bytes(o, "value", value.data, value.len);
		rc |= tj_add_u64(o, "version", version);
	}
	c->cells++;
	return emit(c, o, rc);
}

static int on_trace(const rs_trace *t, void *arg)
{
	dump_ctx *c = arg;
	json_object *o = line("trace");
	rs_bytes tags[RS_TAGS_MAX];
	size_t n = t->ntags < RS_TAGS_MAX ? t->ntags : RS_TAGS_MAX;
	int rc = 0;

	for (size_t i = 0; i < n; i++)
		rs_trace_tag(t, i, &tags[i]);
	if (o) {
		rc |= tj_add_u64(o, "id", t->id);
		if (t->parent == RS_TRACE_NONE)
			rc |= json_object_object_add(o, "parent", NULL);
		else
			rc |= tj_add_u64(o, "parent", t->parent);
		rc |= add_text(o, "type", t->type);
		rc |= tj_add_tags(o, "tags", tags, n);
		rc |= tj_add_bytes(o, "payload", t->payload.data,
				   t->payload.len);
		rc |= tj_add_u64(o, "timestamp_ns", t->timestamp_ns);
	}
	c->traces++;
	return emit(c, o, rc);
}

/* The run's RunIndex entry as a "run" line; *registered says if any. */
static int emit_run(dump_ctx *c, bool *registered)
{
	rs_run_info info;
	unsigned char small[512], *buf = small;
	size_t need;
	uint64_t version = 0;
	json_object *o;
	int rc;

	rc = rs_runindex_get(c->db, &c->run, &info, buf, sizeof(small), &need);
	if (rc == RS_ENOSPC) {
		if (!(buf = malloc(need)))
			return RS_ENOMEM;
		rc = rs_runindex_get(c->db, &c->run, &info, buf, need, &need);
	}
	*registered = rc == 0;
	if (rc == 0) {
		rs_db_run_version(c->db, &c->run, &version);
		o = tool_run_json("run", &info, version);
		rc = emit(c, o, 0) == 0 ? 0 : RS_ENOMEM;
	} else if (rc == RS_ENOTFOUND) {
		rc = 0;
	}
	if (buf != small)
		free(buf);
	return rc;
}

/* Write the sections asked for; an RS_E* code of the library, or -1. */
static int dump_run(dump_ctx *c, unsigned sections)
{
	uint64_t cursor = 0;
	bool registered;
	int rc = 0;

	if (sections & S_RUN)
		rc = emit_run(c, &registered);
	if (rc == 0 && (sections & S_KV))
		rc = rs_kv_scan(c->db, &c->run, NULL, NULL, on_kv, c);
	if (rc == 0 && (sections & S_EVENTS))
		rc = rs_eventlog_read_range(c->db, &c->run, 0, UINT64_MAX,
					    on_event, c);
	if (rc == 0 && (sections & S_CELLS))
		rc = rs_statecell_scan(c->db, &c->run, NULL, NULL, on_cell, c);
	if (rc == 0 && (sections & S_TRACES))
		rc = rs_tracestore_query_by_time(c->db, &c->run, 0, UINT64_MAX,
						 &cursor, 0, NULL, on_trace, c);
	return c->err ? -1 : rc;
}

/* Whether the files hold the run (data or history) or it is registered.
 * (Not its version: a run never written has its life's base, above 0
 * once any run was deleted.) */
static bool run_exists(rs_db *db, const tool_scan *scan, const rs_run_id *run)
{
	rs_run_info info;
	size_t need;
	int rc;

	if (tool_scan_has(scan, run))
		return true;
	rc = rs_runindex_get(db, run, &info, NULL, 0, &need);
	return rc == 0 || rc == RS_ENOSPC;
}

static int fail(const char *cmd, int rc)
{
	if (rc == -1)
		return tool_err(TOOL_FAIL, cmd,
				"writing standard output failed, or out of "
				"memory");
	return tool_err(rc == RS_ECORRUPT ? TOOL_DAMAGE : TOOL_FAIL, cmd,
			"reading the run: %s", rs_strerror(rc));
}

/* Open the view and find RUN: TOOL_OK with *db_out set, or an exit
 * code (printed). */
static int open_run(const char *cmd, const char *dir, const char *arg,
		    rs_db **db_out, tool_scan *scan, rs_run_id *run)
{
	char id[RS_RUN_ID_STRLEN + 1];
	int rc;

	if ((rc = tool_view_open(cmd, dir, db_out, scan)) != 0)
		return rc;
	rc = tool_resolve_run(cmd, *db_out, arg, run);
	if (rc == 0 && !run_exists(*db_out, scan, run)) {
		tool_fmt_run(run, id);
		rc = tool_err(TOOL_NOTFOUND, cmd,
			      "run %s has no data and no RunIndex entry", id);
	}
	if (rc != 0)
		tool_view_close(*db_out);
	return rc;
}

int cmd_dump(int argc, char **argv)
{
	enum {
		O_KV = 256,
		O_EVENTS,
		O_CELLS,
		O_TRACES
	};
	static const struct option longs[] = {
		{ "kv", no_argument, NULL, O_KV },
		{ "events", no_argument, NULL, O_EVENTS },
		{ "cells", no_argument, NULL, O_CELLS },
		{ "traces", no_argument, NULL, O_TRACES },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	dump_ctx c;
	tool_scan scan;
	unsigned sections = 0;
	int opt, rc;

	memset(&c, 0, sizeof(c));
	while ((opt = tool_next_opt("dump", dump_help, argc, argv, longs,
				    &rc)) > 0) {
		switch (opt) {
		case O_KV:
			sections |= S_KV;
			break;
		case O_EVENTS:
			sections |= S_EVENTS;
			break;
		case O_CELLS:
			sections |= S_CELLS;
			break;
		case O_TRACES:
			sections |= S_TRACES;
			break;
		}
	}
	if (opt < 0)
		return rc;
	if (argc - optind != 2)
		return tool_usage_err("dump", "needs DIR and RUN");
	if (!sections)
		sections = S_RUN | S_KV | S_EVENTS | S_CELLS | S_TRACES;
	rc = open_run("dump", argv[optind], argv[optind + 1], &c.db, &scan,
		      &c.run);
	if (rc != 0) {
		tool_scan_free(&scan);
		return rc;
	}
	rc = dump_run(&c, sections);
	rc = rc ? fail("dump", rc) : tool_finish_stdout("dump", TOOL_OK);
	tool_view_close(c.db);
	tool_scan_free(&scan);
	return rc;
}

int cmd_export(int argc, char **argv)
{
	dump_ctx c;
	tool_scan scan;
	json_object *o;
	uint8_t head[RS_HASH_LEN];
	uint64_t head_len = 0, version = 0;
	int opt, rc, jrc = 0;

	memset(&c, 0, sizeof(c));
	while ((opt = tool_next_opt("export", export_help, argc, argv,
				    tool_help_only, &rc)) > 0)
		;
	if (opt < 0)
		return rc;
	if (argc - optind != 2)
		return tool_usage_err("export", "needs DIR and RUN");
	rc = open_run("export", argv[optind], argv[optind + 1], &c.db, &scan,
		      &c.run);
	if (rc != 0) {
		tool_scan_free(&scan);
		return rc;
	}
	rs_db_run_version(c.db, &c.run, &version);
	if ((o = line("header"))) {
		jrc |= tj_add_str(o, "format", "runstate-run");
		jrc |= tj_add_u64(o, "format_version", 1);
		jrc |= tj_add_run_id(o, "run", &c.run);
		jrc |= tj_add_u64(o, "run_version", version);
		jrc |= tj_add_str(o, "library", rs_version_string());
	}
	rc = emit(&c, o, jrc);
	if (rc == 0)
		rc = dump_run(&c, S_RUN | S_KV | S_EVENTS | S_CELLS | S_TRACES);
	if (rc == 0)
		rc = rs_eventlog_head(c.db, &c.run, &head_len, head);
	if (rc == 0 && (o = line("end"))) {
		jrc = tj_add_u64(o, "kv", c.kv);
		jrc |= tj_add_u64(o, "events", c.events);
		jrc |= tj_add_u64(o, "cells", c.cells);
		jrc |= tj_add_u64(o, "traces", c.traces);
		jrc |= tj_add_u64(o, "head_len", head_len);
		jrc |= tj_add_hex(o, "head_hash", head, RS_HASH_LEN);
		rc = emit(&c, o, jrc);
	} else if (rc == 0) {
		rc = -1;
	}
	rc = rc ? fail("export", rc) : tool_finish_stdout("export", TOOL_OK);
	tool_view_close(c.db);
	tool_scan_free(&scan);
	return rc;
}
