/* SPDX-License-Identifier: MIT */
/*
 * runstate stat, verify and checkpoint: the directory as files, and what
 * an open would make of them (docs/tool.md).
 */
#define _GNU_SOURCE
#include "tool.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char stat_help[] =
	"usage: runstate stat [OPTIONS] DIR\n"
	"\n"
	"Show what a database directory holds, read without changing it:\n"
	"  files     every log segment (size, bytes of records, records, "
	"start\n"
	"            LSN) and checkpoint (size, runs, entries, the LSN it\n"
	"            covers), and left-over *.tmp files;\n"
	"  log       records by kind, the end LSN, whether it ends in a clean\n"
	"            close, a torn tail an open would cut;\n"
	"  recovery  what an open would do: the checkpoint it loads, records\n"
	"            replayed and skipped, segments read, and how long this\n"
	"            tool took to do the same in memory;\n"
	"  data      runs (with data; registered), items per primitive (KV\n"
	"            keys and value bytes, events, StateCells, traces) and "
	"the\n"
	"            highest run version.\n"
	"A damaged directory shows its files and the first damage (exit 1).\n"
	"\n"
	"Options:\n"
	"  --per-run         also one line (or object) per run\n"
	"  --json            one JSON object\n"
	"  -h, --help        show this help\n"
	"\n"
	"Exit codes: 0 ok, 1 the directory is damaged, 2 usage, 3 cannot "
	"open,\n"
	"5 other failure.\n";

static const char verify_help[] =
	"usage: runstate verify [OPTIONS] DIR\n"
	"\n"
	"Check a database directory without changing it: every checkpoint\n"
	"(header, trailer and body checksums, item structure), every log\n"
	"segment header, every record (checksum, structure, version order per\n"
	"run, LSNs continuous across segments), then every run's event chain,\n"
	"recomputed from docs/eventlog-chain.md and checked by the library\n"
	"(rs_eventlog_verify_chain). Stops at the first damage and names it:\n"
	"the file and byte offset, or the run and event sequence. A torn tail\n"
	"(a crash during the last write, which an open cuts) is reported but\n"
	"is not damage.\n"
	"\n"
	"Options:\n"
	"  --json            one JSON object\n"
	"  -h, --help        show this help\n"
	"\n"
	"Exit codes: 0 no damage, 1 damage found, 2 usage, 3 cannot open,\n"
	"5 other failure.\n";

static const char checkpoint_help[] =
	"usage: runstate checkpoint DIR\n"
	"\n"
	"Open the database (rs_db_open: recovery, which cuts a torn tail),\n"
	"write a checkpoint (rs_db_checkpoint: the log it covers is removed),\n"
	"and close it (which appends a 64-byte CLOSE record to the log).\n"
	"\n"
	"Options:\n"
	"  -h, --help        show this help\n"
	"\n"
	"Exit codes: 0 ok, 1 the directory is damaged, 2 usage, 3 cannot open\n"
	"(busy: the holder's pid is named when known), 5 other failure.\n";

static uint64_t clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Options of stat and verify: --json, --per-run (stat only), DIR. */
static int parse(const char *cmd, const char *help, bool allow_per_run,
		 int argc, char **argv, bool *json, bool *per_run)
{
	enum {
		O_JSON = 256,
		O_PER_RUN
	};
	static const struct option longs[] = {
		{ "json", no_argument, NULL, O_JSON },
		{ "per-run", no_argument, NULL, O_PER_RUN },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, code;

	while ((opt = tool_next_opt(cmd, help, argc, argv, longs, &code)) > 0) {
		if (opt == O_JSON)
			*json = true;
		else if (opt == O_PER_RUN && allow_per_run)
			*per_run = true;
		else
			return tool_bad_option(cmd, argv[optind - 1]);
	}
	if (opt < 0)
		return code == TOOL_OK ? -1 : code;
	if (argc - optind != 1)
		return tool_usage_err(cmd, "needs exactly one DIR");
	return 0;
}

static void seg_file(char out[64], uint64_t seq)
{
	snprintf(out, 64, "wal-%016" PRIx64 ".log", seq);
}

static void ckpt_file(char out[64], uint64_t seq)
{
	snprintf(out, 64, "ckpt-%016" PRIx64 ".rsc", seq);
}

/* ---- stat ---- */

typedef struct counts {
	uint64_t kv, kv_bytes, events, cells, traces;
} counts;

static int count_kv(rs_bytes key, rs_bytes value, void *arg)
{
	counts *c = arg;

	(void)key;
	c->kv++;
	c->kv_bytes += value.len;
	return 0;
}

static int count_cell(rs_bytes name, rs_bytes value, uint64_t version,
		      void *arg)
{
	(void)name;
	(void)value;
	(void)version;
	((counts *)arg)->cells++;
	return 0;
}

static int count_trace(const rs_trace *t, void *arg)
{
	(void)t;
	((counts *)arg)->traces++;
	return 0;
}

static int count_registered(const rs_run_info *info, void *arg)
{
	(void)info;
	(*(uint64_t *)arg)++;
	return 0;
}

static int first_seq_cb(const rs_event *ev, void *arg)
{
	*(uint64_t *)arg = ev->seq;
	return 1; /* the first is enough */
}

/*
 * Events in a run's log: its length less its first sequence, the base of
 * the run's life (docs/primitives.md, "Lives of a run id").
 */
static int count_events(rs_db *db, const rs_run_id *run, uint64_t *n)
{
	uint64_t len, first;
	int rc = rs_eventlog_len(db, run, &len);

	if (rc < 0)
		return rc;
	first = len;
	rc = rs_eventlog_read_range(db, run, 0, UINT64_MAX, first_seq_cb,
				    &first);
	if (rc < 0)
		return rc;
	*n = len - first;
	return 0;
}

static int count_run(rs_db *db, const rs_run_id *run, counts *c)
{
	uint64_t cursor = 0;
	int rc;

	memset(c, 0, sizeof(*c));
	if ((rc = rs_kv_scan(db, run, NULL, NULL, count_kv, c)) < 0 ||
	    (rc = count_events(db, run, &c->events)) < 0 ||
	    (rc = rs_statecell_scan(db, run, NULL, NULL, count_cell, c)) < 0)
		return rc;
	return rs_tracestore_query_by_time(db, run, 0, UINT64_MAX, &cursor, 0,
					   NULL, count_trace, c);
}

/* {"file": name, "size": size}, for more members. */
static json_object *file_entry(const char *name, uint64_t size)
{
	json_object *e = json_object_new_object();

	tj_add_str(e, "file", name);
	tj_add_u64(e, "size", size);
	return e;
}

static json_object *files_json(const tool_scan *s)
{
	json_object *segs = json_object_new_array();
	json_object *ckpts = json_object_new_array();
	json_object *o = json_object_new_object();
	char name[64];

	if (!segs || !ckpts || !o) {
		json_object_put(segs);
		json_object_put(ckpts);
		json_object_put(o);
		return NULL;
	}
	for (size_t i = 0; i < s->nsegs; i++) {
		const tool_seg *g = &s->segs[i];
		json_object *e;

		seg_file(name, g->seq);
		e = file_entry(name, g->size);
		json_object_object_add(e, "read",
				       json_object_new_boolean(g->read));
		tj_add_u64(e, "used", g->used);
		tj_add_u64(e, "records", g->records);
		tj_add_u64(e, "start_lsn", g->start_lsn);
		json_object_array_add(segs, e);
	}
	for (size_t i = 0; i < s->nckpts; i++) {
		const tool_ckpt *c = &s->ckpts[i];
		json_object *e;

		ckpt_file(name, c->seq);
		e = file_entry(name, c->size);
		json_object_object_add(e, "valid",
				       json_object_new_boolean(c->valid));
		json_object_object_add(
			e, "used", json_object_new_boolean(s->ckpt_used == i));
		tj_add_u64(e, "runs", c->nruns);
		tj_add_u64(e, "entries", c->nentries);
		tj_add_u64(e, "wal_lsn", c->wal_lsn);
		tj_add_u64(e, "created_ns", c->created_ns);
		json_object_array_add(ckpts, e);
	}
	json_object_object_add(o, "segments", segs);
	json_object_object_add(o, "checkpoints", ckpts);
	tj_add_u64(o, "tmp_files", s->ntmp);
	return o;
}

static json_object *log_json(const tool_scan *s)
{
	json_object *o = json_object_new_object();

	tj_add_u64(o, "commit_records", s->rec_kind[1]);
	tj_add_u64(o, "drop_run_records", s->rec_kind[2]);
	tj_add_u64(o, "close_records", s->rec_kind[3]);
	tj_add_u64(o, "end_lsn", s->end_lsn);
	json_object_object_add(o, "ends_in_close",
			       json_object_new_boolean(s->last_close));
	tj_add_u64(o, "torn_bytes", s->torn_bytes);
	if (s->torn_bytes) {
		tj_add_str(o, "torn_file", s->torn_file);
		tj_add_u64(o, "torn_offset", s->torn_offset);
	}
	return o;
}

static json_object *recovery_json(const tool_scan *s)
{
	json_object *o = json_object_new_object();
	bool used = s->ckpt_used != SIZE_MAX;

	json_object_object_add(o, "checkpoint_used",
			       json_object_new_boolean(used));
	tj_add_u64(o, "checkpoint_runs",
		   used ? s->ckpts[s->ckpt_used].nruns : 0);
	tj_add_u64(o, "checkpoint_entries",
		   used ? s->ckpts[s->ckpt_used].nentries : 0);
	tj_add_u64(o, "records_replayed", s->replayed);
	tj_add_u64(o, "records_skipped", s->skipped);
	tj_add_u64(o, "segments_read", s->segments_read);
	tj_add_u64(o, "load_ns", s->load_ns);
	return o;
}

static void print_files(const tool_scan *s)
{
	char name[64];

	printf("files\n");
	for (size_t i = 0; i < s->nsegs; i++) {
		const tool_seg *g = &s->segs[i];

		seg_file(name, g->seq);
		if (g->read)
			printf("  %s  %" PRIu64 " bytes (%" PRIu64
			       " used by the header and records), %" PRIu64
			       " records, from LSN %" PRIu64 "\n",
			       name, g->size, g->used, g->records,
			       g->start_lsn);
		else
			printf("  %s  not read (%s)\n", name,
			       s->damage.found ? "after the damage"
					       : "covered by the checkpoint");
	}
	for (size_t i = 0; i < s->nckpts; i++) {
		const tool_ckpt *c = &s->ckpts[i];

		ckpt_file(name, c->seq);
		if (c->valid)
			printf("  %s  %" PRIu64 " bytes, %" PRIu64
			       " runs, %" PRIu64
			       " entries, covers LSN < %" PRIu64 "%s\n",
			       name, c->size, c->nruns, c->nentries, c->wal_lsn,
			       s->ckpt_used == i ? " (loaded)"
						 : " (left-over)");
		else
			printf("  %s  %" PRIu64 " bytes, does not verify\n",
			       name, c->size);
	}
	if (!s->nsegs && !s->nckpts)
		printf("  no log segment or checkpoint (an empty database)\n");
	if (s->ntmp)
		printf("  %zu *.tmp files (an open removes them)\n", s->ntmp);
}

static void print_log(const tool_scan *s)
{
	printf("log\n  %" PRIu64 " commit, %" PRIu64 " drop-run, %" PRIu64
	       " close records; ends at LSN %" PRIu64 "%s\n",
	       s->rec_kind[1], s->rec_kind[2], s->rec_kind[3], s->end_lsn,
	       s->last_close ? ", in a clean close" : "");
	if (s->torn_bytes)
		printf("  torn tail: %" PRIu64 " bytes at %s offset %" PRIu64
		       " (an open cuts them)\n",
		       s->torn_bytes, s->torn_file, s->torn_offset);
}

static void print_recovery(const tool_scan *s)
{
	char name[64];

	printf("recovery (what an open does)\n");
	if (s->ckpt_used != SIZE_MAX) {
		ckpt_file(name, s->ckpts[s->ckpt_used].seq);
		printf("  loads %s: %" PRIu64 " runs, %" PRIu64 " entries\n",
		       name, s->ckpts[s->ckpt_used].nruns,
		       s->ckpts[s->ckpt_used].nentries);
	} else {
		printf("  no checkpoint: the whole log\n");
	}
	printf("  replays %" PRIu64 " records, skips %" PRIu64
	       " (in the checkpoint), reads %" PRIu64
	       " segments; %.3f ms here, in memory\n",
	       s->replayed, s->skipped, s->segments_read,
	       (double)s->load_ns / 1e6);
}

int cmd_stat(int argc, char **argv)
{
	bool json = false, per_run = false;
	json_object *top = NULL, *runs = NULL, *data;
	counts sum, c;
	tool_scan scan;
	uint64_t registered = 0, cursor = 0, max_version = 0, nruns = 0;
	rs_db *db = NULL;
	int rc, vrc;

	if ((rc = parse("stat", stat_help, true, argc, argv, &json,
			&per_run)) != 0)
		return rc < 0 ? tool_finish_stdout("stat", TOOL_OK) : rc;
	vrc = tool_view_open("stat", argv[optind], &db, &scan);
	if (vrc != 0 && vrc != TOOL_DAMAGE) {
		tool_scan_free(&scan);
		return vrc;
	}
	memset(&sum, 0, sizeof(sum));
	if (json) {
		top = json_object_new_object();
		tj_add_str(top, "directory", argv[optind]);
		json_object_object_add(top, "files", files_json(&scan));
		json_object_object_add(top, "log", log_json(&scan));
		json_object_object_add(top, "recovery", recovery_json(&scan));
		if (per_run)
			runs = json_object_new_array();
	} else {
		printf("directory %s\n", argv[optind]);
		print_files(&scan);
		print_log(&scan);
		if (vrc == 0)
			print_recovery(&scan);
		if (per_run && vrc == 0)
			printf("runs\n  %-36s  %7s  %8s  %8s  %8s  %8s\n", "ID",
			       "VERSION", "KV", "EVENTS", "CELLS", "TRACES");
	}
	rc = 0;
	for (size_t i = 0; vrc == 0 && i < scan.ncap && rc == 0; i++) {
		const tool_run *r = &scan.runs[i];
		char id[RS_RUN_ID_STRLEN + 1];

		if (!r->used || rs_run_id_is_nil(&r->id))
			continue;
		if ((rc = count_run(db, &r->id, &c)) < 0)
			break;
		nruns++;
		max_version =
			r->version > max_version ? r->version : max_version;
		sum.kv += c.kv;
		sum.kv_bytes += c.kv_bytes;
		sum.events += c.events;
		sum.cells += c.cells;
		sum.traces += c.traces;
		if (!per_run)
			continue;
		tool_fmt_run(&r->id, id);
		if (json) {
			json_object *e = json_object_new_object();

			tj_add_str(e, "id", id);
			tj_add_u64(e, "version", r->version);
			tj_add_u64(e, "kv_keys", c.kv);
			tj_add_u64(e, "kv_bytes", c.kv_bytes);
			tj_add_u64(e, "events", c.events);
			tj_add_u64(e, "cells", c.cells);
			tj_add_u64(e, "traces", c.traces);
			json_object_array_add(runs, e);
		} else {
			printf("  %-36s  %7" PRIu64 "  %8" PRIu64 "  %8" PRIu64
			       "  %8" PRIu64 "  %8" PRIu64 "\n",
			       id, r->version, c.kv, c.events, c.cells,
			       c.traces);
		}
	}
	if (rc == 0 && vrc == 0)
		rc = rs_runindex_list(db, &cursor, 0, NULL, count_registered,
				      &registered);
	if (rc < 0) {
		json_object_put(top);
		json_object_put(runs);
		tool_view_close(db);
		tool_scan_free(&scan);
		return tool_err(rc == RS_ECORRUPT ? TOOL_DAMAGE : TOOL_FAIL,
				"stat", "reading the data: %s",
				rs_strerror(rc));
	}
	if (json) {
		if (vrc == 0) {
			data = json_object_new_object();
			tj_add_u64(data, "runs", nruns);
			tj_add_u64(data, "runs_registered", registered);
			tj_add_u64(data, "kv_keys", sum.kv);
			tj_add_u64(data, "kv_bytes", sum.kv_bytes);
			tj_add_u64(data, "events", sum.events);
			tj_add_u64(data, "cells", sum.cells);
			tj_add_u64(data, "traces", sum.traces);
			tj_add_u64(data, "max_version", max_version);
			json_object_object_add(top, "data", data);
			if (runs)
				json_object_object_add(top, "runs", runs);
		} else {
			json_object *d = json_object_new_object();

			json_object_put(runs);
			tj_add_str(d, "file", scan.damage.file);
			tj_add_u64(d, "offset", scan.damage.offset);
			tj_add_str(d, "what", scan.damage.what);
			json_object_object_add(top, "damage", d);
		}
		tj_print_pretty(stdout, top);
	} else if (vrc == 0) {
		printf("data\n  %" PRIu64 " runs with data or history (%" PRIu64
		       " registered), highest version %" PRIu64 "\n"
		       "  %" PRIu64 " KV keys (%" PRIu64
		       " value bytes), %" PRIu64 " events, %" PRIu64
		       " StateCells, %" PRIu64 " traces\n",
		       nruns, registered, max_version, sum.kv, sum.kv_bytes,
		       sum.events, sum.cells, sum.traces);
	}
	if (db)
		tool_view_close(db);
	tool_scan_free(&scan);
	return tool_finish_stdout("stat", vrc);
}

/* ---- verify ---- */

typedef struct chain_ctx {
	uint64_t base; /* the first event's sequence: the life's base */
	uint64_t n;    /* events seen */
	uint64_t next;
	uint8_t prev[RS_HASH_LEN];
	uint64_t bad_seq;
	const char *why;
} chain_ctx;

static int check_event(const rs_event *ev, void *arg)
{
	chain_ctx *c = arg;
	uint8_t h[RS_HASH_LEN];

	if (c->n == 0)
		c->base = c->next = ev->seq; /* dense from the base */
	if (ev->seq != c->next) {
		c->why = "sequence out of order";
		goto bad;
	}
	if (memcmp(ev->prev_hash, c->prev, RS_HASH_LEN) != 0) {
		c->why = "previous hash is not the hash of the event before";
		goto bad;
	}
	tool_event_hash(ev->seq, ev->type.data, ev->type.len, ev->payload.data,
			ev->payload.len, ev->timestamp_ns, ev->prev_hash, h);
	if (memcmp(h, ev->hash, RS_HASH_LEN) != 0) {
		c->why = "hash does not recompute from the event's fields";
		goto bad;
	}
	memcpy(c->prev, ev->hash, RS_HASH_LEN);
	c->next++;
	c->n++;
	return 0;
bad:
	c->bad_seq = c->next;
	return 1;
}

/*
 * One run's chain: recomputed here, then by the library. 0, 1 (damage:
 * s->damage filled) or an RS_E* code.
 */
static int verify_chain(rs_db *db, const rs_run_id *run, tool_scan *s,
			uint64_t *events)
{
	chain_ctx c;
	uint8_t head[RS_HASH_LEN];
	uint64_t len, bad = 0;
	int rc;

	memset(&c, 0, sizeof(c));
	rc = rs_eventlog_read_range(db, run, 0, UINT64_MAX, check_event, &c);
	if (rc < 0 && rc != RS_ECORRUPT)
		return rc;
	if (rc == 0 && (rc = rs_eventlog_head(db, run, &len, head)) == 0 &&
	    c.n == 0)
		c.next = len; /* an empty log's length is its base */
	if (rc == 0 &&
	    (len != c.next || memcmp(head, c.prev, RS_HASH_LEN) != 0)) {
		c.why = "the log's head does not match its last event";
		c.bad_seq = c.next;
		rc = 1;
	}
	if (rc == 0 && rs_eventlog_verify_chain(db, run, &bad) != 0) {
		c.why = "rs_eventlog_verify_chain() refuses it";
		c.bad_seq = bad;
		rc = 1;
	}
	*events += c.n;
	if (rc == 0)
		return 0;
	if (rc == RS_ECORRUPT)
		c.why = "a stored event is malformed";
	s->damage.found = true;
	s->damage.chain = true;
	s->damage.run = *run;
	s->damage.seq = c.bad_seq;
	snprintf(s->damage.what, sizeof(s->damage.what), "%s", c.why);
	return 1;
}

static void print_damage(const char *dir, const tool_damage *d, bool json,
			 json_object *o)
{
	char id[RS_RUN_ID_STRLEN + 1];

	if (d->chain)
		tool_fmt_run(&d->run, id);
	if (json) {
		json_object *e = json_object_new_object();

		if (d->chain) {
			tj_add_str(e, "run", id);
			tj_add_u64(e, "seq", d->seq);
		} else {
			tj_add_str(e, "file", d->file);
			tj_add_u64(e, "offset", d->offset);
		}
		tj_add_str(e, "what", d->what);
		json_object_object_add(o, "damage", e);
		return;
	}
	if (d->chain)
		printf("damage: run %s, event %" PRIu64 ": %s\n", id, d->seq,
		       d->what);
	else
		printf("damage: %s/%s, offset %" PRIu64 ": %s\n", dir, d->file,
		       d->offset, d->what);
}

int cmd_verify(int argc, char **argv)
{
	bool json = false, per_run = false;
	uint64_t t0 = clock_ns(), events = 0, chains = 0, records;
	json_object *o = NULL;
	tool_scan scan;
	rs_db *db = NULL;
	const char *dir;
	int rc, vrc;

	if ((rc = parse("verify", verify_help, false, argc, argv, &json,
			&per_run)) != 0)
		return rc < 0 ? tool_finish_stdout("verify", TOOL_OK) : rc;
	dir = argv[optind];
	vrc = tool_view_open_quiet("verify", dir, &db, &scan);
	if (vrc != 0 && vrc != TOOL_DAMAGE) {
		tool_scan_free(&scan);
		return vrc;
	}
	rc = 0;
	for (size_t i = 0; vrc == 0 && i < scan.ncap; i++) {
		const tool_run *r = &scan.runs[i];
		uint64_t n = 0;

		if (!r->used || rs_run_id_is_nil(&r->id) ||
		    count_events(db, &r->id, &n) != 0 || n == 0)
			continue;
		chains++;
		if ((rc = verify_chain(db, &r->id, &scan, &events)) != 0)
			break;
	}
	if (rc < 0) {
		tool_view_close(db);
		tool_scan_free(&scan);
		return tool_err(TOOL_FAIL, "verify", "reading events: %s",
				rs_strerror(rc));
	}
	records = scan.rec_kind[1] + scan.rec_kind[2] + scan.rec_kind[3];
	if (json) {
		o = json_object_new_object();
		tj_add_str(o, "directory", dir);
		json_object_object_add(
			o, "ok", json_object_new_boolean(!scan.damage.found));
		tj_add_u64(o, "segments", scan.segments_read);
		tj_add_u64(o, "records", records);
		tj_add_u64(o, "checkpoints", scan.nckpts);
		tj_add_u64(o, "chains", chains);
		tj_add_u64(o, "events", events);
		tj_add_u64(o, "torn_bytes", scan.torn_bytes);
		tj_add_u64(o, "elapsed_ns", clock_ns() - t0);
	}
	if (scan.damage.found) {
		print_damage(dir, &scan.damage, json, o);
	} else if (!json) {
		printf("ok: %s: %zu checkpoints, %" PRIu64 " segments, %" PRIu64
		       " records, %" PRIu64 " event chains (%" PRIu64
		       " events)\n",
		       dir, scan.nckpts, scan.segments_read, records, chains,
		       events);
	}
	if (!json && scan.torn_bytes)
		printf("note: torn tail of %" PRIu64
		       " bytes at %s/%s offset %" PRIu64
		       " (a crash during the last write; an open cuts it)\n",
		       scan.torn_bytes, dir, scan.torn_file, scan.torn_offset);
	if (json)
		tj_print_pretty(stdout, o);
	if (db)
		tool_view_close(db);
	rc = scan.damage.found ? TOOL_DAMAGE : TOOL_OK;
	tool_scan_free(&scan);
	return tool_finish_stdout("verify", rc);
}

/* ---- checkpoint ---- */

int cmd_checkpoint(int argc, char **argv)
{
	rs_db_stats st = { .version = RS_DB_STATS_VERSION };
	const char *dir;
	rs_db *db;
	int opt, rc;

	while ((opt = tool_next_opt("checkpoint", checkpoint_help, argc, argv,
				    tool_help_only, &rc)) > 0)
		;
	if (opt < 0)
		return rc;
	if (argc - optind != 1)
		return tool_usage_err("checkpoint", "needs exactly one DIR");
	dir = argv[optind];
	if ((rc = tool_db_open_rw("checkpoint", dir, false, &db)) != 0)
		return rc;
	rs_db_stat(db, &st);
	rc = rs_db_checkpoint(db);
	if (rc == 0) {
		printf("checkpoint written in %s (the open replayed %" PRIu64
		       " records and cut %" PRIu64 " torn bytes)\n",
		       dir, st.records_replayed, st.bytes_truncated);
	} else {
		rc = tool_err(TOOL_FAIL, "checkpoint", "%s: %s", dir,
			      rs_strerror(rc));
	}
	rs_db_close(db);
	return tool_finish_stdout("checkpoint", rc);
}
