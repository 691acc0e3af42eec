/* SPDX-License-Identifier: MIT */
/*
 * A simulated agent run, end to end, on a Strict database:
 *
 *  1. An agent process registers its run in the RunIndex and takes steps.
 *     Each step is one transaction over every primitive: it reads the
 *     phase (StateCell), stores an observation (KV), appends the step to
 *     the run's EventLog, records a tool-call span under the episode's root
 *     trace (TraceStore) and moves the phase on. After each commit returns
 *     it tells the supervisor, through a pipe, which step is durable.
 *  2. The supervisor kills the agent with SIGKILL in the middle of the run.
 *  3. The supervisor opens the database (recovery), checks that every step
 *     the agent reported is there, verifies the event chain, finishes the
 *     run from where it stopped and marks it completed.
 *
 * Usage: agent_loop [DIR]   (default: a new directory under $TMPDIR,
 * removed at the end; a DIR given is kept, e.g. for `runstate dump`).
 * agent_loop_export.sh goes on with the runstate tool: it verifies DIR,
 * exports the run (`runstate export DIR RUN > run.jsonl`), imports it
 * into a new database and verifies that one too.
 * Exit status 0 when every check passed.
 *
 * The supervisor calls the library only after the agent is gone: a process
 * must not use a database across fork() (see runstate.h), so the agent is
 * forked before anything is opened.
 */
#define _GNU_SOURCE
#include <runstate.h>

#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define STEPS 40u
#define KILL_AFTER 15u /* steps acknowledged before the crash */

static const char *const phases[] = { "plan", "act", "observe", "reflect" };

typedef struct agent {
	rs_db *db;
	rs_run_id run;
	uint64_t root; /* the episode's root trace */
	unsigned step;
} agent;

static int fail(const char *what, int rc)
{
	fprintf(stderr, "agent_loop: %s: %s\n", what, rs_strerror(rc));
	return rc < 0 ? rc : -1;
}

static void die(const char *what, int rc)
{
	fail(what, rc);
	_exit(1);
}

/* One step, in one transaction (rs_txn_run retries it on conflict). */
static int take_step(rs_txn *txn, void *ctx)
{
	agent *a = ctx;
	const char *next = phases[(a->step + 1) % 4];
	char key[32], obs[96];
	rs_bytes phase, tag = { "tool:search", 11 };
	uint64_t version;
	int rc, n;

	if ((rc = rs_txn_statecell_read(txn, "phase", 5, &phase, &version)))
		return rc;
	snprintf(key, sizeof(key), "obs/%04u", a->step);
	n = snprintf(obs, sizeof(obs),
		     "{\"step\":%u,\"phase\":\"%.*s\",\"result\":\"ok\"}",
		     a->step, (int)phase.len, (const char *)phase.data);
	if ((rc = rs_txn_kv_put(txn, key, strlen(key), obs, (size_t)n)) ||
	    (rc = rs_txn_eventlog_append(txn, "step", 4, obs, (size_t)n,
					 NULL)) ||
	    (rc = rs_txn_tracestore_record(txn, "tool_call", 9, key,
					   strlen(key), &tag, 1, a->root,
					   NULL)))
		return rc;
	return rs_txn_statecell_set(txn, "phase", 5, next, strlen(next), NULL);
}

static int steps(agent *a, unsigned from, unsigned to, int ack_fd)
{
	for (a->step = from; a->step < to; a->step++) {
		int rc = rs_txn_run(a->db, &a->run, 0, 0, take_step, a);

		if (rc != 0)
			return fail("step", rc);
		/* Strict: the step is on stable storage now. */
		if (ack_fd >= 0 &&
		    write(ack_fd, &a->step, sizeof(a->step)) != sizeof(a->step))
			return -1;
	}
	return 0;
}

static rs_db_options options(const char *dir)
{
	rs_db_options o = RS_DB_OPTIONS_INIT;

	o.durability = RS_DURABILITY_STRICT;
	o.path = dir;
	return o;
}

/* The agent process: never returns. */
static void agent_main(const char *dir, const rs_run_id *run, int ack_fd)
{
	rs_db_options o = options(dir);
	rs_runindex_create_options ro = RS_RUNINDEX_CREATE_OPTIONS_INIT;
	rs_bytes tags[1] = { { "example", 7 } };
	char root[16];
	agent a;
	int rc;

	memset(&a, 0, sizeof(a));
	a.run = *run;
	if ((rc = rs_db_open(&a.db, &o)))
		die("open", rc);
	ro.id = run;
	ro.name = "demo-agent";
	ro.name_len = 10;
	ro.tags = tags;
	ro.ntags = 1;
	if ((rc = rs_runindex_create(a.db, &ro, NULL)) ||
	    (rc = rs_statecell_init(a.db, run, "phase", 5, "plan", 4, NULL)) ||
	    (rc = rs_tracestore_record(a.db, run, "episode", 7, NULL, 0, NULL,
				       0, RS_TRACE_NONE, &a.root)))
		die("set-up", rc);
	snprintf(root, sizeof(root), "%llu", (unsigned long long)a.root);
	if ((rc = rs_kv_put(a.db, run, "root", 4, root, strlen(root))))
		die("set-up", rc);
	steps(&a, 0, STEPS, ack_fd);
	/* Not reached in this example: the supervisor kills it first. */
	pause();
	_exit(0);
}

/* Everything the agent acknowledged is there; the chain verifies. */
static int check_recovered(agent *a, unsigned acked, unsigned *done_out)
{
	uint64_t len = 0, bad = 0;
	char key[32], buf[128], root[24];
	size_t n;
	rs_db_stats st = RS_DB_STATS_INIT;
	int rc;

	if ((rc = rs_db_stat(a->db, &st)) ||
	    (rc = rs_eventlog_len(a->db, &a->run, &len)))
		return fail("stat", rc);
	printf("recovered: %llu log records replayed, %llu bytes of torn "
	       "tail cut, %llu steps in the event log (%u acknowledged)\n",
	       (unsigned long long)st.records_replayed,
	       (unsigned long long)st.bytes_truncated, (unsigned long long)len,
	       acked);
	if (len < acked || len > acked + 1) {
		fprintf(stderr,
			"agent_loop: %llu steps after recovery, %u "
			"acknowledged\n",
			(unsigned long long)len, acked);
		return -1;
	}
	for (unsigned i = 0; i < len; i++) {
		snprintf(key, sizeof(key), "obs/%04u", i);
		if ((rc = rs_kv_get(a->db, &a->run, key, strlen(key), buf,
				    sizeof(buf), &n)))
			return fail(key, rc);
	}
	if ((rc = rs_eventlog_verify_chain(a->db, &a->run, &bad)))
		return fail("verify_chain", rc);
	if ((rc = rs_kv_get(a->db, &a->run, "root", 4, root, sizeof(root) - 1,
			    &n)))
		return fail("root", rc);
	root[n] = '\0';
	a->root = strtoull(root, NULL, 10);
	*done_out = (unsigned)len;
	return 0;
}

static int supervise(const char *dir, const rs_run_id *run, int ack_fd,
		     pid_t pid)
{
	rs_db_options o = options(dir);
	unsigned acked = 0, step, done = 0;
	rs_run_status from;
	uint64_t len = 0, bad = 0;
	char id[RS_RUN_ID_STRLEN + 1];
	agent a;
	int rc, status;

	while (acked < KILL_AFTER &&
	       read(ack_fd, &step, sizeof(step)) == sizeof(step))
		acked = step + 1;
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	/* Steps acknowledged while we were killing it count too. */
	while (read(ack_fd, &step, sizeof(step)) == sizeof(step))
		acked = step + 1;
	printf("agent killed after %u acknowledged steps\n", acked);
	if (acked < KILL_AFTER)
		return fprintf(stderr, "agent_loop: agent died early\n"), -1;

	memset(&a, 0, sizeof(a));
	a.run = *run;
	if ((rc = rs_db_open(&a.db, &o)))
		return fail("reopen", rc);
	if ((rc = check_recovered(&a, acked, &done)) == 0 &&
	    (rc = steps(&a, done, STEPS, -1)) == 0 &&
	    (rc = rs_runindex_transition(a.db, run, RS_RUN_COMPLETED, &from)) ==
		    0 &&
	    (rc = rs_eventlog_len(a.db, run, &len)) == 0 &&
	    (rc = rs_eventlog_verify_chain(a.db, run, &bad)) == 0) {
		rs_run_id_format(run, id, sizeof(id));
		printf("run %s: %s -> %s, %llu steps, event chain verified\n",
		       id, rs_run_status_name(from),
		       rs_run_status_name(RS_RUN_COMPLETED),
		       (unsigned long long)len);
	} else if (rc > 0) {
		rc = -1;
	}
	rs_db_close(a.db);
	return rc == 0 && len == STEPS ? 0 : -1;
}

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int main(int argc, char **argv)
{
	char tmpl[256];
	const char *dir;
	rs_run_id run;
	int ack[2], rc;
	pid_t pid;

	if (argc > 2) {
		fprintf(stderr, "usage: agent_loop [DIR]\n");
		return 2;
	}
	if (argc == 2) {
		dir = argv[1];
	} else {
		const char *t = getenv("TMPDIR");

		snprintf(tmpl, sizeof(tmpl), "%s/agent_loop.XXXXXX",
			 t && *t ? t : "/tmp");
		if (!(dir = mkdtemp(tmpl)))
			return perror("mkdtemp"), 1;
	}
	if (rs_run_id_generate(&run) != 0 || pipe(ack) != 0)
		return 1;
	pid = fork();
	if (pid < 0)
		return perror("fork"), 1;
	if (pid == 0) {
		close(ack[0]);
		agent_main(dir, &run, ack[1]);
	}
	close(ack[1]);
	rc = supervise(dir, &run, ack[0], pid);
	close(ack[0]);
	if (argc < 2 && nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "agent_loop: could not remove %s\n", dir);
	printf("agent_loop: %s\n", rc == 0 ? "ok" : "FAILED");
	return rc == 0 ? 0 : 1;
}
