/* SPDX-License-Identifier: MIT */
/* runstate runs: the RunIndex, with filters (docs/tool.md). */
#define _GNU_SOURCE
#include "tool.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
	"usage: runstate runs [OPTIONS] DIR\n"
	"\n"
	"List the runs registered in the RunIndex, in registration order:\n"
	"id, status, version (commits of the run), name, parent and tags.\n"
	"The directory is read without being changed.\n"
	"\n"
	"Options:\n"
	"  --status STATUS   only runs in STATUS (active, paused, completed,\n"
	"                    failed, cancelled, archived)\n"
	"  --tag TAG         only runs carrying TAG\n"
	"  --parent RUN      only children of the run with id RUN\n"
	"  --name NAME       only the run named NAME\n"
	"  --limit N         at most N runs\n"
	"  --json            one JSON array of run objects\n"
	"  -h, --help        show this help\n"
	"\n"
	"Filters combine (all must hold). Exit codes: 0 ok, 1 the directory\n"
	"is damaged, 2 usage, 3 cannot open, 5 other failure.\n";

json_object *tool_run_json(const char *kind, const rs_run_info *info,
			   uint64_t version)
{
	json_object *o = json_object_new_object();
	rs_bytes *tags = NULL;
	int rc = 0;

	if (!o)
		return NULL;
	if (kind)
		rc |= tj_add_str(o, "kind", kind);
	if (info->ntags && !(tags = calloc(info->ntags, sizeof(*tags))))
		goto fail;
	for (size_t i = 0; i < info->ntags; i++)
		rs_run_info_tag(info, i, &tags[i]);
	rc |= tj_add_run_id(o, "id", &info->id);
	rc |= tj_add_str(o, "status", rs_run_status_name(info->status));
	rc |= tj_add_u64(o, "version", version);
	if (info->name.data)
		rc |= json_object_object_add(
			o, "name",
			json_object_new_string_len(info->name.data,
						   (int)info->name.len));
	else
		rc |= json_object_object_add(o, "name", NULL);
	if (info->has_parent)
		rc |= tj_add_run_id(o, "parent", &info->parent);
	else
		rc |= json_object_object_add(o, "parent", NULL);
	rc |= tj_add_tags(o, "tags", tags, info->ntags);
	rc |= tj_add_bytes(o, "metadata", info->metadata.data,
			   info->metadata.len);
	rc |= tj_add_u64(o, "created_ns", info->created_ns);
	rc |= tj_add_u64(o, "updated_ns", info->updated_ns);
	free(tags);
	if (rc == 0)
		return o;
fail:
	json_object_put(o);
	return NULL;
}

typedef struct runs_ctx {
	rs_db *db;
	bool json;
	json_object *arr;
	int status; /* -1: any */
	const char *tag, *name;
	bool has_parent;
	rs_run_id parent;
	size_t limit, n;
	int err;
} runs_ctx;

static bool has_tag(const rs_run_info *info, const char *tag)
{
	for (size_t i = 0; i < info->ntags; i++) {
		rs_bytes t;

		if (rs_run_info_tag(info, i, &t) == 0 && t.len == strlen(tag) &&
		    memcmp(t.data, tag, t.len) == 0)
			return true;
	}
	return false;
}

static void print_row(const rs_run_info *info, uint64_t version)
{
	char id[RS_RUN_ID_STRLEN + 1], parent[RS_RUN_ID_STRLEN + 1] = "-";

	tool_fmt_run(&info->id, id);
	if (info->has_parent)
		tool_fmt_run(&info->parent, parent);
	printf("%-36s  %-9s  %7" PRIu64 "  %-36s  ", id,
	       rs_run_status_name(info->status), version, parent);
	if (info->name.data)
		printf("%.*s", (int)info->name.len,
		       (const char *)info->name.data);
	else
		fputs("-", stdout);
	for (size_t i = 0; i < info->ntags; i++) {
		rs_bytes t;

		rs_run_info_tag(info, i, &t);
		printf("%s%.*s", i ? "," : "  [", (int)t.len,
		       (const char *)t.data);
	}
	fputs(info->ntags ? "]\n" : "\n", stdout);
}

/* A nonzero return stops the listing; 1 is "limit reached". */
static int on_run(const rs_run_info *info, void *arg)
{
	runs_ctx *c = arg;
	uint64_t version = 0;

	if (c->status >= 0 && (int)info->status != c->status)
		return 0;
	if (c->tag && !has_tag(info, c->tag))
		return 0;
	if (c->has_parent &&
	    (!info->has_parent ||
	     memcmp(&info->parent, &c->parent, sizeof(c->parent)) != 0))
		return 0;
	if (c->name && (!info->name.data || info->name.len != strlen(c->name) ||
			memcmp(info->name.data, c->name, info->name.len)))
		return 0;
	if (c->limit && c->n == c->limit)
		return 1;
	rs_db_run_version(c->db, &info->id, &version);
	c->n++;
	if (c->json) {
		json_object *o = tool_run_json(NULL, info, version);

		if (!o || json_object_array_add(c->arr, o) != 0) {
			json_object_put(o);
			c->err = RS_ENOMEM;
			return RS_ENOMEM;
		}
		return 0;
	}
	print_row(info, version);
	return 0;
}

int cmd_runs(int argc, char **argv)
{
	enum {
		O_STATUS = 256,
		O_TAG,
		O_PARENT,
		O_NAME,
		O_LIMIT,
		O_JSON
	};
	static const struct option longs[] = {
		{ "status", required_argument, NULL, O_STATUS },
		{ "tag", required_argument, NULL, O_TAG },
		{ "parent", required_argument, NULL, O_PARENT },
		{ "name", required_argument, NULL, O_NAME },
		{ "limit", required_argument, NULL, O_LIMIT },
		{ "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	runs_ctx c = { .status = -1 };
	tool_scan scan;
	uint64_t cursor = 0;
	rs_db *db;
	char *end;
	int opt, rc;

	while ((opt = tool_next_opt("runs", help, argc, argv, longs, &rc)) >
	       0) {
		switch (opt) {
		case O_STATUS:
			if ((c.status = tool_parse_status(optarg)) < 0)
				return tool_usage_err(
					"runs", "unknown status '%s'", optarg);
			break;
		case O_TAG:
			c.tag = optarg;
			break;
		case O_PARENT:
			if (rs_run_id_parse(&c.parent, optarg,
					    strlen(optarg)) != 0)
				return tool_usage_err("runs",
						      "--parent: '%s' is not a "
						      "run id",
						      optarg);
			c.has_parent = true;
			break;
		case O_NAME:
			c.name = optarg;
			break;
		case O_LIMIT:
			c.limit = (size_t)strtoull(optarg, &end, 10);
			if (!*optarg || *end || optarg[0] == '-' || !c.limit)
				return tool_usage_err("runs",
						      "--limit: '%s' is not a "
						      "positive number",
						      optarg);
			break;
		case O_JSON:
			c.json = true;
			break;
		}
	}
	if (opt < 0)
		return rc;
	if (argc - optind != 1)
		return tool_usage_err("runs", "needs exactly one DIR");
	if ((rc = tool_view_open("runs", argv[optind], &db, &scan)) != 0) {
		tool_scan_free(&scan);
		return rc;
	}
	c.db = db;
	if (c.json && !(c.arr = json_object_new_array())) {
		rc = tool_err(TOOL_FAIL, "runs", "out of memory");
		goto out;
	}
	if (!c.json)
		printf("%-36s  %-9s  %7s  %-36s  %s\n", "ID", "STATUS",
		       "VERSION", "PARENT", "NAME  [TAGS]");
	/* The narrowest index that the filters allow. */
	if (c.status >= 0)
		rc = rs_runindex_query_by_status(db, (rs_run_status)c.status,
						 &cursor, 0, NULL, on_run, &c);
	else if (c.tag)
		rc = rs_runindex_query_by_tag(db, c.tag, strlen(c.tag), &cursor,
					      0, NULL, on_run, &c);
	else if (c.has_parent)
		rc = rs_runindex_query_by_parent(db, &c.parent, &cursor, 0,
						 NULL, on_run, &c);
	else
		rc = rs_runindex_list(db, &cursor, 0, NULL, on_run, &c);
	if (rc == 1)
		rc = 0;
	if (rc == RS_EINVAL || rc == RS_ETOOBIG || rc == RS_EUTF8)
		rc = 0; /* a tag no run can carry: nothing matches */
	if (rc < 0) {
		rc = tool_err(rc == RS_ECORRUPT ? TOOL_DAMAGE : TOOL_FAIL,
			      "runs", "listing runs: %s", rs_strerror(rc));
		goto out;
	}
	if (c.json) {
		tj_print_pretty(stdout, c.arr);
		c.arr = NULL;
	}
	rc = tool_finish_stdout("runs", TOOL_OK);
out:
	json_object_put(c.arr);
	tool_view_close(db);
	tool_scan_free(&scan);
	return rc;
}
