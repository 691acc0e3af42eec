/* SPDX-License-Identifier: MIT */
/*
 * The runstate command-line tool (docs/tool.md): what its files share.
 *
 * The tool lives above every layer of the library: it links the static
 * library and uses, besides the public API, the format functions of
 * src/durability/wal_format.h to read a database directory's files
 * without changing them (view.c). Commands that write (checkpoint,
 * import) open the directory with rs_db_open() like any program.
 */
#ifndef RS_TOOLS_TOOL_H
#define RS_TOOLS_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <getopt.h>

#include <json-c/json.h>

#include <runstate.h>

/* Exit codes (docs/tool.md, "Exit codes"). */
enum {
	TOOL_OK = 0,
	TOOL_DAMAGE = 1,   /* damage found, or an import file refused */
	TOOL_USAGE = 2,	   /* bad command line */
	TOOL_NOOPEN = 3,   /* cannot open: busy, missing, not a database */
	TOOL_NOTFOUND = 4, /* no such run; or an import target exists */
	TOOL_FAIL = 5	   /* anything else: I/O, memory, library error */
};

extern const char *tool_prog; /* "runstate" */

/* "runstate CMD: message" on stderr; returns `code`. */
int tool_err(int code, const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A usage error: the message, then "try 'runstate CMD --help'". */
int tool_usage_err(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* An unknown option or one missing its value (getopt's '?'). */
int tool_bad_option(const char *cmd, const char *arg);
/* Flush stdout; TOOL_FAIL (with a message) when writing it failed. */
int tool_finish_stdout(const char *cmd, int code);

/* ---- commands (argv[0] is the command's name) ---- */

int cmd_stat(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_checkpoint(int argc, char **argv);
int cmd_runs(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import(int argc, char **argv);

/* ---- the database directory (view.c) ---- */

/* The first bad place found in a directory. */
typedef struct tool_damage {
	bool found;
	bool fatal; /* rs_db_open() would refuse the directory too */
	bool chain; /* in an event chain: run and seq, not file and offset */
	char file[64];
	uint64_t offset;
	rs_run_id run;
	uint64_t seq;
	char what[192];
} tool_damage;

typedef struct tool_seg {
	uint64_t seq;
	uint64_t size;	    /* bytes of the file */
	uint64_t used;	    /* header and valid records */
	uint64_t start_lsn; /* from its header */
	uint64_t records;   /* valid records, CLOSE included */
	bool read;	    /* read by recovery (not a left-over) */
} tool_seg;

typedef struct tool_ckpt {
	uint64_t seq;
	uint64_t size;
	bool valid;
	uint64_t wal_lsn, created_ns, nruns, nentries;
} tool_ckpt;

/* A run seen in the files, and its version after recovery. */
typedef struct tool_run {
	rs_run_id id;
	uint64_t version;
	bool used;
} tool_run;

/* What reading a directory's files found (tool_view_open()). */
typedef struct tool_scan {
	tool_seg *segs;
	size_t nsegs;
	tool_ckpt *ckpts;
	size_t nckpts;
	size_t ntmp;	      /* *.tmp files an open would remove */
	size_t ckpt_used;     /* index into ckpts, or SIZE_MAX */
	uint64_t rec_kind[4]; /* valid records by kind (1 COMMIT, 2 DROP,
				 3 CLOSE) in the segments read */
	uint64_t end_lsn;     /* after the last valid record */
	uint64_t replayed, skipped, segments_read;
	uint64_t torn_bytes; /* a torn tail an open would cut */
	char torn_file[64];
	uint64_t torn_offset;
	uint64_t load_ns; /* reading and replaying everything */
	bool last_close;  /* the log ends in a CLOSE record */
	tool_run *runs;	  /* open addressing, ncap slots */
	size_t nruns, ncap;
	tool_damage damage;
} tool_scan;

void tool_scan_free(tool_scan *s);
/* Whether the files hold anything of run `id` (data, or its history). */
bool tool_scan_has(const tool_scan *s, const rs_run_id *id);

/*
 * Open a read-only view of the database in `dir`: take a shared lock on
 * its LOCK file (refusing a directory an open handle holds), read its
 * checkpoint and log with the library's format functions, and replay them
 * into an in-memory database whose every commit is refused. Nothing in
 * the directory is changed. Fills *scan either way (damage in
 * scan->damage). Returns TOOL_OK with *db_out set, or an exit code after
 * printing why (TOOL_DAMAGE: scan->damage says where).
 */
int tool_view_open(const char *cmd, const char *dir, rs_db **db_out,
		   tool_scan *scan);
/* The same without printing the damage that stops it (verify reports it
 * in its own form). */
int tool_view_open_quiet(const char *cmd, const char *dir, rs_db **db_out,
			 tool_scan *scan);
/* Close the view and release the lock. */
void tool_view_close(rs_db *db);

/*
 * Open `dir` read-write with rs_db_open() (Buffered, the directory's own
 * segment size). `create`: a missing or empty directory becomes a new
 * database; otherwise it must hold one. Returns TOOL_OK or an exit code
 * after printing why (a busy directory names the holder's pid when
 * /proc/locks tells it).
 */
int tool_db_open_rw(const char *cmd, const char *dir, bool create,
		    rs_db **db_out);

/* Print "DIR is in use by another process (pid N)" and return
 * TOOL_NOOPEN. */
int tool_busy(const char *cmd, const char *dir);

/* ---- JSON (jsonio.c) ---- */

/*
 * Bytes as a JSON member: `name` holding a string when they are valid
 * UTF-8 without NUL bytes, else `name`_b64 holding standard base64
 * (RFC 4648, padded). Returns 0 or -1 (out of memory).
 */
int tj_add_bytes(json_object *o, const char *name, const void *p, size_t len);
/*
 * Read back what tj_add_bytes wrote: exactly one of `name` (a string) or
 * `name`_b64. *out is malloc'd (free()), NUL-terminated beyond *len.
 * Returns 0, or -1 with a message in err.
 */
int tj_get_bytes(json_object *o, const char *name, unsigned char **out,
		 size_t *len, char *err, size_t errcap);
int tj_add_hex(json_object *o, const char *name, const uint8_t *p, size_t n);
int tj_get_hex(json_object *o, const char *name, uint8_t *out, size_t n);
int tj_add_run_id(json_object *o, const char *name, const rs_run_id *id);
int tj_get_run_id(json_object *o, const char *name, rs_run_id *out);
int tj_add_u64(json_object *o, const char *name, uint64_t v);
int tj_get_u64(json_object *o, const char *name, uint64_t *out);
int tj_add_str(json_object *o, const char *name, const char *s);
/* A tag list: an array of strings. */
int tj_add_tags(json_object *o, const char *name, const rs_bytes *tags,
		size_t n);
/* Print as one line on `f`; frees o. Returns 0 or -1. */
int tj_print_line(FILE *f, json_object *o);
/* Print indented on `f`; frees o. */
int tj_print_pretty(FILE *f, json_object *o);

/* ---- small shared helpers ---- */

/* RS_RUN_ID_STRLEN + 1 bytes. */
void tool_fmt_run(const rs_run_id *id, char out[RS_RUN_ID_STRLEN + 1]);
/*
 * A run named on the command line: its id, or (when `arg` is no id) the
 * name of a registered run. Returns TOOL_OK or TOOL_NOTFOUND (printed).
 */
int tool_resolve_run(const char *cmd, rs_db *db, const char *arg,
		     rs_run_id *out);
/* A registered run as a JSON object (runs, dump, export), with a "kind"
 * member first unless kind is NULL; NULL when out of memory. */
json_object *tool_run_json(const char *kind, const rs_run_info *info,
			   uint64_t version);
/*
 * An event's hash, recomputed from its fields as docs/eventlog-chain.md
 * specifies (BLAKE2b-256 of "runstate.event.1" and the fields).
 */
void tool_event_hash(uint64_t seq, const void *type, size_t type_len,
		     const void *payload, size_t payload_len,
		     uint64_t timestamp_ns, const uint8_t prev[RS_HASH_LEN],
		     uint8_t out[RS_HASH_LEN]);
/* Parse a status name; -1 when unknown. */
int tool_parse_status(const char *s);
/*
 * The next option of a command (getopt_long over `longs`, plus -h): its
 * value, 0 after the last one, or -1 when the command must exit with
 * *code: its help was printed (TOOL_OK), or an option is unknown or lacks
 * its value (TOOL_USAGE, printed). Options may follow the arguments.
 */
int tool_next_opt(const char *cmd, const char *help, int argc, char **argv,
		  const struct option *longs, int *code);
/* The options of a command that has only --help. */
extern const struct option tool_help_only[];

#endif
