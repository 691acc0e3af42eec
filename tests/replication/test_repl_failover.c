/* SPDX-License-Identifier: MIT */
/*
 * Failover against a 3-node cluster, with a writer process (repl_child,
 * fork and exec) committing Strict transactions (a KV put and an EventLog
 * append each) and reporting every acknowledged one through a pipe:
 *
 * - kill -9 of the writer: the standby (a follower opened before) is
 *   promoted and has every acknowledged commit; the EventLog chain
 *   verifies;
 * - a zombie writer (SIGSTOP, promotion of the standby, SIGCONT): its next
 *   commit returns RS_EFENCED, the rejected key is in neither database
 *   nor in a fresh open of the stream, and every commit it had
 *   acknowledged is in both.

 *
 * RS_REPL_COMMITS (default 200): acknowledged commits before the fault.
 */
#include "common/rs_test.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "repl_util.h"

#define MAX_KEYS 200000

typedef struct acks {
	bool *acked;
	long n;
	long fenced_at; /* -1: none */
	bool fenced_present;
} acks;

/* Reads one line of the child; records "A i" and "F i". */
static int read_line(rt_child *c, acks *a, int timeout_ms)
{
	char line[128];
	long i;
	int r = rt_child_line(c, line, sizeof(line), timeout_ms);

	if (r != 1)
		return r;
	if (sscanf(line, "A %ld", &i) == 1 && i >= 0 && i < MAX_KEYS) {
		a->acked[i] = true;
		a->n++;
	} else if (line[0] == 'F' && sscanf(line, "F %ld", &i) == 1) {
		a->fenced_at = i;
		a->fenced_present = strstr(line, "present") != NULL;
	}
	return 1;
}

static void start_writer(rt_child *c, acks *a, const char *name, long want)
{
	const char *argv[] = { "repl_child", rt_cluster.urls, name,
			       "3",	     "1000000",	      NULL };
	char line[128];
	double end;

	a->acked = calloc(MAX_KEYS, 1);
	a->n = 0;
	a->fenced_at = -1;
	assert_non_null(a->acked);
	assert_int_equal(rt_child_start(c, argv), 0);
	assert_int_equal(rt_child_line(c, line, sizeof(line), 30000), 1);
	assert_string_equal(line, "READY");
	end = rt_now() + 120;
	while (a->n < want && rt_now() < end)
		assert_int_equal(read_line(c, a, 10000), 1);
	assert_true(a->n >= want);
}

/* Every acknowledged key is in db, the chain verifies, the log has at
 * least one event per acknowledged commit. */
static void check_db(rs_db *db, const acks *a, const char *who)
{
	rs_run_id run = rt_run();
	uint64_t len = 0, bad = 0;
	long lost = 0;

	for (long i = 0; i < MAX_KEYS; i++)
		if (a->acked[i] && !rt_has(db, i))
			lost++;
	assert_ok(rs_eventlog_len(db, &run, &len));
	print_message("%s: %ld commits acknowledged by the writer, %ld "
		      "lost; %llu events, chain ",
		      who, a->n, lost, (unsigned long long)len);
	assert_int_equal(lost, 0);
	assert_true(len >= (uint64_t)a->n);
	assert_ok(rs_eventlog_verify_chain(db, &run, &bad));
	print_message("verifies\n");
}

/* The standby: a follower opened before the fault. */
static void open_standby(rs_nats **n, rs_db **db, const char *name)
{
	assert_ok(rt_open(n, db, rt_cluster.urls, name, 3, RS_NATS_F_FOLLOWER,
			  RS_DURABILITY_STRICT, 0));
}

/* Promotes the standby. Returns the seconds from t_fault until it
 * accepted a commit. */
static double take_over(rs_nats *n, rs_db *db, double t_fault)
{
	rs_run_id run;

	/* Another run than the old writer's: a record it might still get
	 * stored must not hide behind a version the new writer took. */
	assert_ok(rs_run_id_generate(&run));
	assert_ok(rs_nats_promote(n));
	assert_ok(rs_kv_put(db, &run, "takeover", 8, "1", 1));
	return rt_now() - t_fault;
}

static void repl__writer_killed_standby_has_every_acked_commit(void **state)
{
	long want = rt_env_long("RS_REPL_COMMITS", 200);
	rs_nats *n = NULL;
	rs_db *db = NULL;
	rt_child c;
	acks a;
	double t_kill, took;

	(void)state;
	RT_NEED_CLUSTER();
	open_standby(&n, &db, "fo_kill");
	start_writer(&c, &a, "fo_kill", want);
	rt_child_signal(&c, SIGKILL);
	t_kill = rt_now();
	/* Lines written before it died are acknowledgements too. */
	while (read_line(&c, &a, 2000) == 1)
		;
	rt_child_reap(&c, 5000);
	took = take_over(n, db, t_kill);
	print_message("writer killed after %ld acknowledged commits; the "
		      "standby accepted a commit %.3f s later\n",
		      a.n, took);
	check_db(db, &a, "standby");
	rs_nats_close(n);
	free(a.acked);
}

static void repl__zombie_writer_is_fenced(void **state)
{
	rs_nats *n = NULL, *n2 = NULL;
	rs_db *db = NULL, *d2 = NULL;
	rt_child c;
	acks a;
	double end;
	int st;

	(void)state;
	RT_NEED_CLUSTER();
	open_standby(&n, &db, "fo_zombie");
	start_writer(&c, &a, "fo_zombie", 30);
	rt_child_signal(&c, SIGSTOP);
	while (read_line(&c, &a, 300) == 1)
		;
	take_over(n, db, rt_now());
	rt_child_signal(&c, SIGCONT);
	end = rt_now() + 30;
	while (a.fenced_at < 0 && rt_now() < end)
		if (read_line(&c, &a, 5000) < 0)
			break;
	st = rt_child_reap(&c, 10000);
	print_message("zombie: %ld commits acknowledged, then RS_EFENCED at "
		      "commit %ld (exit %d)\n",
		      a.n, a.fenced_at, st);
	assert_true(a.fenced_at >= 0);
	assert_int_equal(st, 3);
	/* Not applied in the zombie, nor anywhere else. */
	assert_false(a.fenced_present);
	assert_false(a.acked[a.fenced_at]);
	assert_false(rt_has(db, a.fenced_at));
	check_db(db, &a, "new writer");
	rs_nats_close(n);
	assert_ok(rt_open(&n2, &d2, rt_cluster.urls, "fo_zombie", 3, 0,
			  RS_DURABILITY_STRICT, 0));
	assert_false(rt_has(d2, a.fenced_at));
	check_db(d2, &a, "fresh open of the stream");
	rs_nats_close(n2);
	free(a.acked);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			repl__writer_killed_standby_has_every_acked_commit),
		cmocka_unit_test(repl__zombie_writer_is_fenced),
	};

	return cmocka_run_group_tests_name("repl_failover", tests,
					   rt_group_setup, rt_group_teardown);
}
