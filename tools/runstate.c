/* SPDX-License-Identifier: MIT */
/*
 * runstate: inspect, verify and move the data of runstate databases
 * (docs/tool.md). One command per invocation, as mdb_stat and mdb_dump;
 * each command parses its own options (cmd_*.c).
 */
#define _GNU_SOURCE
#include "tool.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const char *tool_prog = "runstate";

static const char usage[] =
	"usage: runstate COMMAND [OPTIONS] ARGS\n"
	"\n"
	"Inspect, verify and move the data of a runstate database directory.\n"
	"\n"
	"Commands:\n"
	"  stat DIR          what the directory holds: files, log, recovery, "
	"data\n"
	"  runs DIR          the runs of the RunIndex, with filters\n"
	"  dump DIR RUN      one run's data as JSON lines\n"
	"  verify DIR        check every log record, checkpoint and event "
	"chain\n"
	"  checkpoint DIR    write a checkpoint (opens the database)\n"
	"  export DIR RUN    write one run as a portable file (JSON lines)\n"
	"  import DIR        read a portable run from standard input\n"
	"  help [COMMAND]    this help, or a command's\n"
	"\n"
	"Options:\n"
	"  -h, --help        show this help\n"
	"  -V, --version     show the library's version\n"
	"\n"
	"Every command takes --help. Reading commands (stat, runs, dump,\n"
	"verify, export) never change the directory; checkpoint and import\n"
	"open it with rs_db_open(). A directory in use by another process is\n"
	"refused (exit 3), naming its pid when /proc/locks tells it.\n"
	"\n"
	"Exit codes: 0 ok, 1 damage found, 2 usage, 3 cannot open (busy,\n"
	"missing, not a database), 4 no such run (or the import target\n"
	"exists), 5 other failure.\n";

int tool_err(int code, const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s%s%s: ", tool_prog, cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

int tool_usage_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s%s%s: ", tool_prog, cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s%s%s --help'.\n", tool_prog, cmd ? " " : "",
		cmd ? cmd : "");
	return TOOL_USAGE;
}

int tool_bad_option(const char *cmd, const char *arg)
{
	return tool_usage_err(cmd,
			      "unknown option, or one missing its value: "
			      "'%s'",
			      arg);
}

int tool_finish_stdout(const char *cmd, int code)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		return tool_err(TOOL_FAIL, cmd, "writing standard output: %s",
				strerror(errno));
	return code;
}

void tool_fmt_run(const rs_run_id *id, char out[RS_RUN_ID_STRLEN + 1])
{
	if (rs_run_id_format(id, out, RS_RUN_ID_STRLEN + 1) != 0)
		out[0] = 0;
}

int tool_resolve_run(const char *cmd, rs_db *db, const char *arg,
		     rs_run_id *out)
{
	rs_run_info info;
	char buf[64];
	size_t need;
	int rc;

	if (rs_run_id_parse(out, arg, strlen(arg)) == 0) {
		if (rs_run_id_is_nil(out))
			return tool_err(TOOL_NOTFOUND, cmd,
					"the nil run holds the RunIndex, not a "
					"run's data");
		return TOOL_OK;
	}
	/* Not an id: the name of a registered run. */
	rc = rs_runindex_get_by_name(db, arg, strlen(arg), &info, buf,
				     sizeof(buf), &need);
	if (rc == RS_ENOSPC) {
		char *big = malloc(need);

		if (!big)
			return tool_err(TOOL_FAIL, cmd, "out of memory");
		rc = rs_runindex_get_by_name(db, arg, strlen(arg), &info, big,
					     need, &need);
		free(big);
	}
	if (rc == 0) {
		*out = info.id;
		return TOOL_OK;
	}
	if (rc == RS_ENOTFOUND || rc == RS_EINVAL || rc == RS_ETOOBIG ||
	    rc == RS_EUTF8)
		return tool_err(TOOL_NOTFOUND, cmd,
				"'%s' is neither a run id nor the name of a "
				"registered run",
				arg);
	return tool_err(TOOL_FAIL, cmd, "looking up '%s': %s", arg,
			rs_strerror(rc));
}

int tool_parse_status(const char *s)
{
	for (int i = RS_RUN_ACTIVE; i <= RS_RUN_ARCHIVED; i++)
		if (strcmp(s, rs_run_status_name((rs_run_status)i)) == 0)
			return i;
	return -1;
}

const struct option tool_help_only[] = {
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int tool_next_opt(const char *cmd, const char *help, int argc, char **argv,
		  const struct option *longs, int *code)
{
	int opt;

	opterr = 0; /* the message is ours */
	opt = getopt_long(argc, argv, "h", longs, NULL);
	if (opt == -1)
		return 0;
	if (opt == 'h') {
		fputs(help, stdout);
		*code = tool_finish_stdout(cmd, TOOL_OK);
		return -1;
	}
	if (opt == '?' || opt == ':') {
		*code = tool_bad_option(cmd, argv[optind - 1]);
		return -1;
	}
	return opt;
}

static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{ "stat", cmd_stat },
	{ "runs", cmd_runs },
	{ "dump", cmd_dump },
	{ "verify", cmd_verify },
	{ "checkpoint", cmd_checkpoint },
	{ "export", cmd_export },
	{ "import", cmd_import },
};

static const struct command *find(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const struct command *c;

	if (argc < 2)
		return tool_usage_err(NULL, "no command given");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		fputs(usage, stdout);
		return tool_finish_stdout(NULL, TOOL_OK);
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("runstate %s (library %s, format version 1)\n",
		       RS_VERSION_STRING, rs_version_string());
		return tool_finish_stdout(NULL, TOOL_OK);
	}
	if (strcmp(argv[1], "help") == 0) {
		if (argc == 2) {
			fputs(usage, stdout);
			return tool_finish_stdout(NULL, TOOL_OK);
		}
		if (!(c = find(argv[2])))
			return tool_usage_err(NULL, "no command '%s'", argv[2]);
		{
			char *hargv[] = { argv[2], "--help", NULL };

			return c->fn(2, hargv);
		}
	}
	if (!(c = find(argv[1])))
		return tool_usage_err(NULL, "no command '%s'", argv[1]);
	return c->fn(argc - 1, argv + 1);
}
