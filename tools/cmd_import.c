/* SPDX-License-Identifier: MIT */
/*
 * runstate import: a portable run (runstate export) into a database.
 *
 * The whole file is read and checked first: its header, every line's
 * members, the counts of its end line, and its event chain, recomputed
 * from docs/eventlog-chain.md. Only then is the database opened and the
 * run written through the public API: all its data in one transaction
 * (so a failed import leaves nothing of it), then its RunIndex entry and
 * the transitions to its status. What the public API cannot set (commit
 * timestamps, hence event hashes; cell versions; created/updated times)
 * is new; docs/tool.md lists exactly what is kept.
 */
#define _GNU_SOURCE
#include "tool.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
	"usage: runstate import [OPTIONS] DIR < run.jsonl\n"
	"\n"
	"Read a portable run written by 'runstate export' from standard input\n"
	"and add it to the database in DIR. The file is checked completely\n"
	"before anything is written: its lines, its counts, and its event\n"
	"chain, recomputed from docs/eventlog-chain.md. Then the run's data "
	"is\n"
	"written in one transaction, its RunIndex entry created and moved to\n"
	"its status, and the new chain verified. Kept: the run id, KV "
	"entries,\n"
	"events (sequence, type, payload, order), StateCell names and values,\n"
	"traces (ids, parents, types, tags, payloads), and the RunIndex name,\n"
	"parent, tags, metadata and status. New: commit timestamps (so event\n"
	"hashes), StateCell versions (from 1) and RunIndex times. The target\n"
	"run must not exist there.\n"
	"\n"
	"Options:\n"
	"  --as RUN          import under the run id RUN instead\n"
	"  --create          create DIR as a new database if it is missing or\n"
	"                    empty\n"
	"  -h, --help        show this help\n"
	"\n"
	"Exit codes: 0 ok, 1 the file is refused (malformed, truncated, or "
	"its\n"
	"chain does not verify) or DIR is damaged, 2 usage, 3 cannot open, 4\n"
	"the run (or its name) exists in DIR, 5 other failure.\n";

/* The checked contents of the file. */
typedef struct portable {
	rs_run_id run;
	json_object *info; /* the "run" line, or NULL */
	json_object **kv, **events, **cells, **traces;
	size_t nkv, nevents, ncells, ntraces;
	size_t ckv, cevents, ccells, ctraces;
	uint8_t head[RS_HASH_LEN];
} portable;

static void portable_free(portable *p)
{
	json_object_put(p->info);
	for (size_t i = 0; i < p->nkv; i++)
		json_object_put(p->kv[i]);
	for (size_t i = 0; i < p->nevents; i++)
		json_object_put(p->events[i]);
	for (size_t i = 0; i < p->ncells; i++)
		json_object_put(p->cells[i]);
	for (size_t i = 0; i < p->ntraces; i++)
		json_object_put(p->traces[i]);
	free(p->kv);
	free(p->events);
	free(p->cells);
	free(p->traces);
}

static int push(json_object ***arr, size_t *n, size_t *cap, json_object *o)
{
	if (*n == *cap) {
		size_t ncap = *cap ? 2 * *cap : 64;
		json_object **a = realloc(*arr, ncap * sizeof(*a));

		if (!a)
			return -1;
		*arr = a;
		*cap = ncap;
	}
	(*arr)[(*n)++] = o;
	return 0;
}

static const char *str_member(json_object *o, const char *name)
{
	json_object *v;

	if (!json_object_object_get_ex(o, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* A text member: its bytes and length, or NULL. */
static const char *text_member(json_object *o, const char *name, size_t *len)
{
	json_object *v;

	*len = 0;
	if (!json_object_object_get_ex(o, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	*len = (size_t)json_object_get_string_len(v);
	return json_object_get_string(v);
}

/* Check an event line against the chain so far (docs/eventlog-chain.md). */
static int check_event(json_object *o, uint64_t seq, uint8_t prev[RS_HASH_LEN],
		       char *err, size_t cap)
{
	uint8_t ph[RS_HASH_LEN], h[RS_HASH_LEN], want[RS_HASH_LEN];
	unsigned char *payload;
	const char *type;
	size_t tlen, plen;
	uint64_t s, ts;

	if (tj_get_u64(o, "seq", &s) != 0 ||
	    tj_get_u64(o, "timestamp_ns", &ts) != 0 ||
	    !(type = text_member(o, "type", &tlen)) ||
	    tj_get_hex(o, "prev_hash", ph, RS_HASH_LEN) != 0 ||
	    tj_get_hex(o, "hash", h, RS_HASH_LEN) != 0) {
		snprintf(err, cap,
			 "an event needs seq, type, timestamp_ns, prev_hash "
			 "and hash");
		return -1;
	}
	if (tj_get_bytes(o, "payload", &payload, &plen, err, cap) != 0)
		return -1;
	tool_event_hash(s, type, tlen, payload, plen, ts, ph, want);
	free(payload);
	if (s != seq)
		snprintf(err, cap,
			 "event chain: seq %" PRIu64 " where %" PRIu64
			 " belongs",
			 s, seq);
	else if (memcmp(ph, prev, RS_HASH_LEN) != 0)
		snprintf(err, cap,
			 "event chain: event %" PRIu64
			 ": prev_hash is not the hash of the event before",
			 s);
	else if (memcmp(h, want, RS_HASH_LEN) != 0)
		snprintf(err, cap,
			 "event chain: event %" PRIu64
			 ": hash does not recompute from its fields",
			 s);
	else {
		memcpy(prev, h, RS_HASH_LEN);
		return 0;
	}
	return -1;
}

static int check_end(json_object *o, const portable *p, uint64_t head_len,
		     char *err, size_t cap)
{
	uint64_t kv, ev, ce, tr, hl;
	uint8_t hh[RS_HASH_LEN];

	if (tj_get_u64(o, "kv", &kv) || tj_get_u64(o, "events", &ev) ||
	    tj_get_u64(o, "cells", &ce) || tj_get_u64(o, "traces", &tr) ||
	    tj_get_u64(o, "head_len", &hl) ||
	    tj_get_hex(o, "head_hash", hh, RS_HASH_LEN)) {
		snprintf(err, cap,
			 "the end line needs kv, events, cells, "
			 "traces, head_len and head_hash");
		return -1;
	}
	if (kv != p->nkv || ev != p->nevents || ce != p->ncells ||
	    tr != p->ntraces) {
		snprintf(err, cap,
			 "the end line counts %" PRIu64 " kv, %" PRIu64
			 " events, %" PRIu64 " cells, %" PRIu64
			 " traces; the file holds %zu, %zu, %zu, %zu",
			 kv, ev, ce, tr, p->nkv, p->nevents, p->ncells,
			 p->ntraces);
		return -1;
	}
	if (hl != head_len || memcmp(hh, p->head, RS_HASH_LEN) != 0) {
		snprintf(err, cap,
			 "event chain: the end line's head does not match the "
			 "last event");
		return -1;
	}
	return 0;
}

/* Traces in id order, each parent an earlier trace (or null). */
static int check_trace(json_object *o, uint64_t *last, bool first, char *err,
		       size_t cap)
{
	json_object *pv;
	uint64_t id, parent;

	if (tj_get_u64(o, "id", &id) != 0 ||
	    !json_object_object_get_ex(o, "parent", &pv) ||
	    !str_member(o, "type")) {
		snprintf(err, cap, "a trace needs id, parent and type");
		return -1;
	}
	if (!first && id <= *last) {
		snprintf(err, cap, "trace %" PRIu64 " is out of id order", id);
		return -1;
	}
	if (pv && (tj_get_u64(o, "parent", &parent) != 0 || parent >= id)) {
		snprintf(err, cap,
			 "trace %" PRIu64 ": parent is not an earlier trace",
			 id);
		return -1;
	}
	*last = id;
	return 0;
}

/* Read and check the whole file: 0, or -1 with err ("line N: ..."). */
static int read_portable(FILE *in, portable *p, char *err, size_t cap)
{
	char *buf = NULL, msg[256];
	size_t bcap = 0, lineno = 0;
	uint8_t prev[RS_HASH_LEN] = { 0 };
	uint64_t last_trace = 0;
	bool header = false, end = false;
	ssize_t n;
	int rc = -1;

	msg[0] = 0;
	while ((n = getline(&buf, &bcap, in)) >= 0) {
		enum json_tokener_error jerr;
		json_object *o;
		const char *kind;

		lineno++;
		if (n == 0 || (n == 1 && buf[0] == '\n'))
			continue;
		if (end) {
			snprintf(msg, sizeof(msg), "a line after the end line");
			goto out;
		}
		o = json_tokener_parse_verbose(buf, &jerr);
		if (!o || !json_object_is_type(o, json_type_object)) {
			snprintf(msg, sizeof(msg), "not a JSON object (%s)",
				 o ? "another JSON value"
				   : json_tokener_error_desc(jerr));
			json_object_put(o);
			goto out;
		}
		if (!(kind = str_member(o, "kind"))) {
			snprintf(msg, sizeof(msg), "no \"kind\" member");
			json_object_put(o);
			goto out;
		}
		if (!header) {
			const char *fmt = str_member(o, "format");
			uint64_t ver = 0;

			if (strcmp(kind, "header") != 0 || !fmt ||
			    strcmp(fmt, "runstate-run") != 0 ||
			    tj_get_u64(o, "format_version", &ver) != 0 ||
			    ver != 1 || tj_get_run_id(o, "run", &p->run) != 0) {
				snprintf(msg, sizeof(msg),
					 "not the header of a portable run "
					 "(format runstate-run, version 1)");
				json_object_put(o);
				goto out;
			}
			header = true;
			json_object_put(o);
			continue;
		}
		if (strcmp(kind, "run") == 0 && !p->info && !p->nkv &&
		    !p->nevents && !p->ncells && !p->ntraces) {
			rs_run_id id;

			if (tj_get_run_id(o, "id", &id) != 0 ||
			    memcmp(&id, &p->run, sizeof(id)) != 0 ||
			    !str_member(o, "status")) {
				snprintf(msg, sizeof(msg),
					 "the run line names another run, or "
					 "has no status");
				json_object_put(o);
				goto out;
			}
			p->info = o;
		} else if (strcmp(kind, "kv") == 0) {
			if (push(&p->kv, &p->nkv, &p->ckv, o) != 0) {
				json_object_put(o);
				goto oom;
			}
		} else if (strcmp(kind, "event") == 0) {
			if (check_event(o, p->nevents, prev, msg,
					sizeof(msg)) != 0 ||
			    push(&p->events, &p->nevents, &p->cevents, o) !=
				    0) {
				json_object_put(o);
				goto out;
			}
		} else if (strcmp(kind, "cell") == 0) {
			if (!str_member(o, "name")) {
				snprintf(msg, sizeof(msg), "a cell needs name");
				json_object_put(o);
				goto out;
			}
			if (push(&p->cells, &p->ncells, &p->ccells, o) != 0) {
				json_object_put(o);
				goto oom;
			}
		} else if (strcmp(kind, "trace") == 0) {
			if (check_trace(o, &last_trace, p->ntraces == 0, msg,
					sizeof(msg)) != 0 ||
			    push(&p->traces, &p->ntraces, &p->ctraces, o) !=
				    0) {
				json_object_put(o);
				goto out;
			}
		} else if (strcmp(kind, "end") == 0) {
			memcpy(p->head, prev, RS_HASH_LEN);
			if (check_end(o, p, p->nevents, msg, sizeof(msg)) !=
			    0) {
				json_object_put(o);
				goto out;
			}
			json_object_put(o);
			end = true;
		} else {
			snprintf(msg, sizeof(msg), "unknown kind \"%s\"", kind);
			json_object_put(o);
			goto out;
		}
	}
	if (!header || !end) {
		snprintf(msg, sizeof(msg),
			 header ? "no end line: the file is truncated"
				: "empty input");
		lineno++;
		goto out;
	}
	rc = 0;
	goto out;
oom:
	snprintf(msg, sizeof(msg), "out of memory");
out:
	free(buf);
	if (rc != 0)
		snprintf(err, cap, "line %zu: %s", lineno, msg);
	return rc;
}

/* ---- writing ---- */

static int any_kv(rs_bytes key, rs_bytes value, void *arg)
{
	(void)key;
	(void)value;
	*(bool *)arg = true;
	return 1;
}

static int any_cell(rs_bytes name, rs_bytes value, uint64_t version, void *arg)
{
	(void)name;
	(void)value;
	(void)version;
	*(bool *)arg = true;
	return 1;
}

/* Whether the run has any item (a dropped run's id counts as free). */
static bool run_has_data(rs_db *db, const rs_run_id *run)
{
	rs_trace t;
	uint64_t len = 0;
	bool any = false;
	size_t need;

	rs_kv_scan(db, run, NULL, NULL, any_kv, &any);
	rs_statecell_scan(db, run, NULL, NULL, any_cell, &any);
	rs_eventlog_len(db, run, &len);
	return any || len ||
	       rs_tracestore_get(db, run, 0, &t, NULL, 0, &need) !=
		       RS_ENOTFOUND;
}

static int tags_of(json_object *o, rs_bytes *tags, size_t *n)
{
	json_object *a;

	*n = 0;
	if (!json_object_object_get_ex(o, "tags", &a))
		return 0;
	if (!json_object_is_type(a, json_type_array) ||
	    json_object_array_length(a) > RS_TAGS_MAX)
		return -1;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *t = json_object_array_get_idx(a, i);

		if (!json_object_is_type(t, json_type_string))
			return -1;
		tags[i].data = json_object_get_string(t);
		tags[i].len = (size_t)json_object_get_string_len(t);
	}
	*n = json_object_array_length(a);
	return 0;
}

typedef struct stage {
	const portable *p;
	rs_event_receipt *receipts;
	uint64_t *trace_ids; /* real ids after commit */
	uint64_t *handles;   /* pending handles, by trace index */
	char err[256];
} stage;

/*
 * Stages line i; `b` is its bytes member (value or payload), decoded.
 * Returns 0 or an RS_E* code, with s->err set or left empty.
 */
typedef int (*stage_fn)(rs_txn *txn, stage *s, size_t i, json_object *o,
			const unsigned char *b, size_t blen);

static int stage_all(rs_txn *txn, stage *s, json_object *const *lines, size_t n,
		     const char *member, const char *what, stage_fn fn)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char *b;
		size_t blen;
		int rc;

		if (tj_get_bytes(lines[i], member, &b, &blen, s->err,
				 sizeof(s->err)) != 0)
			return RS_EINVAL;
		rc = fn(txn, s, i, lines[i], b, blen);
		free(b);
		if (rc < 0) {
			if (!s->err[0])
				snprintf(s->err, sizeof(s->err), "%s %zu: %s",
					 what, i, rs_strerror(rc));
			return rc;
		}
	}
	return 0;
}

static int stage_kv(rs_txn *txn, stage *s, size_t i, json_object *o,
		    const unsigned char *b, size_t blen)
{
	unsigned char *k;
	size_t kl;
	int rc;

	(void)i;
	if (tj_get_bytes(o, "key", &k, &kl, s->err, sizeof(s->err)) != 0)
		return RS_EINVAL;
	rc = rs_txn_kv_put(txn, k, kl, b, blen);
	free(k);
	return rc;
}

static int stage_event(rs_txn *txn, stage *s, size_t i, json_object *o,
		       const unsigned char *b, size_t blen)
{
	size_t tl;
	const char *type = text_member(o, "type", &tl);

	return rs_txn_eventlog_append(txn, type, tl, b, blen, &s->receipts[i]);
}

static int stage_cell(rs_txn *txn, stage *s, size_t i, json_object *o,
		      const unsigned char *b, size_t blen)
{
	size_t nl;
	const char *name = text_member(o, "name", &nl);

	(void)s;
	(void)i;
	return rs_txn_statecell_init(txn, name, nl, b, blen, NULL);
}

/* The index of the trace with id `id` (traces are in id order). */
static size_t trace_index(const portable *p, uint64_t id)
{
	size_t lo = 0, hi = p->ntraces;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t v = 0;

		tj_get_u64(p->traces[mid], "id", &v);
		if (v < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int stage_trace(rs_txn *txn, stage *s, size_t i, json_object *o,
		       const unsigned char *b, size_t blen)
{
	json_object *pv = NULL;
	rs_bytes tags[RS_TAGS_MAX];
	uint64_t parent = RS_TRACE_NONE, pid = 0;
	const char *type;
	size_t tl, ntags;
	int rc;

	type = text_member(o, "type", &tl);
	json_object_object_get_ex(o, "parent", &pv);
	if (pv) {
		size_t j;

		tj_get_u64(o, "parent", &pid);
		if ((j = trace_index(s->p, pid)) >= i) {
			snprintf(s->err, sizeof(s->err),
				 "trace %zu: parent %" PRIu64
				 " is not in the file",
				 i, pid);
			return RS_EINVAL;
		}
		parent = s->handles[j];
	}
	if (tags_of(o, tags, &ntags) != 0) {
		snprintf(s->err, sizeof(s->err),
			 "trace %zu: tags must be an array of at most %u "
			 "strings",
			 i, RS_TAGS_MAX);
		return RS_EINVAL;
	}
	rc = rs_txn_tracestore_record(txn, type, tl, b, blen, tags, ntags,
				      parent, &s->trace_ids[i]);
	s->handles[i] = s->trace_ids[i];
	return rc;
}

/* Register the run as the file describes it, then walk it to its status. */
static int register_run(rs_db *db, const rs_run_id *run, json_object *info,
			char *err, size_t cap)
{
	rs_runindex_create_options o = RS_RUNINDEX_CREATE_OPTIONS_INIT;
	rs_bytes tags[RS_TAGS_MAX];
	unsigned char *meta = NULL;
	json_object *nv = NULL, *pv = NULL;
	rs_run_id parent;
	int status, rc;

	status = tool_parse_status(str_member(info, "status"));
	if (status < 0) {
		snprintf(err, cap, "unknown status \"%s\"",
			 str_member(info, "status"));
		return RS_EINVAL;
	}
	o.id = run;
	json_object_object_get_ex(info, "name", &nv);
	if (nv)
		o.name = text_member(info, "name", &o.name_len);
	json_object_object_get_ex(info, "parent", &pv);
	if (pv) {
		if (tj_get_run_id(info, "parent", &parent) != 0) {
			snprintf(err, cap, "the run's parent is not a run id");
			return RS_EINVAL;
		}
		o.parent = &parent;
	}
	if (tags_of(info, tags, &o.ntags) != 0) {
		snprintf(err, cap, "the run's tags are not a list of strings");
		return RS_EINVAL;
	}
	o.tags = tags;
	if (tj_get_bytes(info, "metadata", &meta, &o.metadata_len, err, cap) !=
	    0)
		return RS_EINVAL;
	o.metadata = meta;
	rc = rs_runindex_create(db, &o, NULL);
	free(meta);
	if (rc < 0) {
		snprintf(err, cap, "registering the run: %s", rs_strerror(rc));
		return rc;
	}
	/* Archived is reached through Completed: the file keeps only the
	 * final status. */
	if (status == RS_RUN_ARCHIVED &&
	    (rc = rs_runindex_transition(db, run, RS_RUN_COMPLETED, NULL)) < 0)
		goto fail;
	if (status != RS_RUN_ACTIVE &&
	    (rc = rs_runindex_transition(db, run, (rs_run_status)status,
					 NULL)) < 0)
		goto fail;
	return 0;
fail:
	snprintf(err, cap, "moving the run to %s: %s",
		 rs_run_status_name((rs_run_status)status), rs_strerror(rc));
	return rc;
}

static int write_data(rs_db *db, const rs_run_id *run, stage *s)
{
	rs_txn *txn;
	int rc;

	if ((rc = rs_txn_begin(&txn, db, run, 0)) < 0) {
		snprintf(s->err, sizeof(s->err), "%s", rs_strerror(rc));
		return rc;
	}
	if ((rc = stage_all(txn, s, s->p->kv, s->p->nkv, "value", "KV entry",
			    stage_kv)) < 0 ||
	    (rc = stage_all(txn, s, s->p->events, s->p->nevents, "payload",
			    "event", stage_event)) < 0 ||
	    (rc = stage_all(txn, s, s->p->cells, s->p->ncells, "value", "cell",
			    stage_cell)) < 0 ||
	    (rc = stage_all(txn, s, s->p->traces, s->p->ntraces, "payload",
			    "trace", stage_trace)) < 0) {
		rs_txn_abort(txn);
		return rc;
	}
	if ((rc = rs_txn_commit(txn)) < 0)
		snprintf(s->err, sizeof(s->err), "committing the run: %s",
			 rs_strerror(rc));
	return rc;
}

/* The name the file gives the run, when it has one, must be free. */
static bool name_taken(rs_db *db, json_object *info)
{
	rs_run_info ri;
	const char *name;
	size_t len, need;
	int rc;

	if (!info || !(name = text_member(info, "name", &len)))
		return false;
	rc = rs_runindex_get_by_name(db, name, len, &ri, NULL, 0, &need);
	return rc == 0 || rc == RS_ENOSPC;
}

static int import_into(const char *dir, bool create, const rs_run_id *run,
		       portable *p)
{
	char id[RS_RUN_ID_STRLEN + 1];
	stage s;
	uint64_t bad = 0;
	rs_run_info ri;
	size_t need;
	rs_db *db;
	int rc, ret;

	tool_fmt_run(run, id);
	if ((ret = tool_db_open_rw("import", dir, create, &db)) != 0)
		return ret;
	rc = rs_runindex_get(db, run, &ri, NULL, 0, &need);
	if (rc == 0 || rc == RS_ENOSPC || run_has_data(db, run)) {
		ret = tool_err(TOOL_NOTFOUND, "import",
			       "run %s exists in %s (import it under another "
			       "id with --as)",
			       id, dir);
		goto out;
	}
	if (name_taken(db, p->info)) {
		ret = tool_err(TOOL_NOTFOUND, "import",
			       "a run named \"%s\" exists in %s",
			       str_member(p->info, "name"), dir);
		goto out;
	}
	memset(&s, 0, sizeof(s));
	s.p = p;
	s.receipts = calloc(p->nevents + 1, sizeof(*s.receipts));
	s.trace_ids = calloc(p->ntraces + 1, sizeof(*s.trace_ids));
	s.handles = calloc(p->ntraces + 1, sizeof(*s.handles));
	if (!s.receipts || !s.trace_ids || !s.handles) {
		ret = tool_err(TOOL_FAIL, "import", "out of memory");
		goto free_stage;
	}
	if ((rc = write_data(db, run, &s)) < 0) {
		ret = tool_err(rc == RS_EINVAL ? TOOL_DAMAGE : TOOL_FAIL,
			       "import", "%s; nothing was written", s.err);
		goto free_stage;
	}
	if (p->info &&
	    (rc = register_run(db, run, p->info, s.err, sizeof(s.err))) < 0) {
		/* Take the data back out: the import is all or nothing. */
		int drc = rs_runindex_delete(db, run);

		ret = tool_err(rc == RS_EINVAL ? TOOL_DAMAGE : TOOL_FAIL,
			       "import", "%s; %s", s.err,
			       drc == 0 ? "the run was removed again"
					: "the run's data is left in place");
		goto free_stage;
	}
	if ((rc = rs_eventlog_verify_chain(db, run, &bad)) != 0) {
		ret = tool_err(TOOL_FAIL, "import",
			       "the imported chain does not verify at event "
			       "%" PRIu64 ": %s",
			       bad, rs_strerror(rc));
		goto free_stage;
	}
	if ((rc = rs_db_flush(db)) != 0) {
		ret = tool_err(TOOL_FAIL, "import", "flushing %s: %s", dir,
			       rs_strerror(rc));
		goto free_stage;
	}
	printf("imported run %s into %s: %zu KV entries, %zu events (chain "
	       "verified in the file and in %s), %zu StateCells, %zu "
	       "traces%s%s\n",
	       id, dir, p->nkv, p->nevents, dir, p->ncells, p->ntraces,
	       p->info ? ", status " : " (not registered)",
	       p->info ? str_member(p->info, "status") : "");
	ret = tool_finish_stdout("import", TOOL_OK);
free_stage:
	free(s.receipts);
	free(s.trace_ids);
	free(s.handles);
out:
	rs_db_close(db);
	return ret;
}

int cmd_import(int argc, char **argv)
{
	enum {
		O_AS = 256,
		O_CREATE
	};
	static const struct option longs[] = {
		{ "as", required_argument, NULL, O_AS },
		{ "create", no_argument, NULL, O_CREATE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	portable p;
	rs_run_id as;
	bool have_as = false, create = false;
	char err[320];
	int opt, rc;

	while ((opt = tool_next_opt("import", help, argc, argv, longs, &rc)) >
	       0) {
		switch (opt) {
		case O_AS:
			if (rs_run_id_parse(&as, optarg, strlen(optarg)) != 0 ||
			    rs_run_id_is_nil(&as))
				return tool_usage_err("import",
						      "--as: '%s' is not a "
						      "run id",
						      optarg);
			have_as = true;
			break;
		case O_CREATE:
			create = true;
			break;
		}
	}
	if (opt < 0)
		return rc;
	if (argc - optind != 1)
		return tool_usage_err("import", "needs exactly one DIR");
	memset(&p, 0, sizeof(p));
	if (read_portable(stdin, &p, err, sizeof(err)) != 0) {
		portable_free(&p);
		return tool_err(TOOL_DAMAGE, "import",
				"standard input refused, nothing written: %s",
				err);
	}
	rc = import_into(argv[optind], create, have_as ? &as : &p.run, &p);
	portable_free(&p);
	return rc;
}
