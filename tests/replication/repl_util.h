/* SPDX-License-Identifier: MIT */
/*
 * Shared by the replication tests (tests/replication/): opening a database
 * on the JetStream backend, the helper process (repl_child.c) started with
 * fork and exec and read line by line through a pipe, bounded waits.
 * Plain C; the tests add CMocka.
 */
#ifndef RS_TESTS_REPL_UTIL_H
#define RS_TESTS_REPL_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <runstate/nats.h>

#include "common/natscluster.h"

/* The run every helper writes to. */
#define RT_RUN_TEXT "5b0e7a2c-1d3f-4a6b-8c9d-0e1f2a3b4c5d"

/* The test program's cluster (rt_group_setup() starts it: 3 nodes). */
extern rs_ncluster rt_cluster;
extern bool rt_have_cluster;
/* CMocka group setup and teardown: start (without a server binary the
 * tests skip: RT_NEED_CLUSTER) and stop rt_cluster. */
int rt_group_setup(void **state);
int rt_group_teardown(void **state);
/* In a CMocka test: skip it, saying why, without a cluster. */
#define RT_NEED_CLUSTER()                                                   \
	do {                                                                \
		if (!rt_have_cluster) {                                     \
			print_message("no nats-server cluster: skipped\n"); \
			skip();                                             \
		}                                                           \
	} while (0)

rs_run_id rt_run(void);
double rt_now(void);
/* The environment variable `name` as a number, or def. */
long rt_env_long(const char *name, long def);
void rt_sleep_ms(int ms);

/* rs_nats_open() with the usual test options: ack timeout ack_ms (0:
 * 2000), `flags` RS_NATS_F_*. */
int rt_open(rs_nats **n, rs_db **db, const char *urls, const char *name,
	    int replicas, uint32_t flags, rs_durability mode, uint32_t ack_ms);

/* rt_open() retried while it fails with RS_EIO (a stream electing a
 * leader after a server came back), for at most timeout_s. */
int rt_open_retry(rs_nats **n, rs_db **db, const char *urls, const char *name,
		  uint32_t flags, double timeout_s);

/* Keys of the helper's writes: "k000042", values "v000042". */
void rt_key(char *out, size_t cap, long i);
void rt_val(char *out, size_t cap, long i);
/* One-shot put of rt_key(i) = rt_val(i) on the run RT_RUN_TEXT. */
int rt_put(rs_db *db, long i);
/* Whether db has key i with its value. */
bool rt_has(rs_db *db, long i);

/* A helper process (repl_child) with its stdout on a pipe. */
typedef struct rt_child {
	pid_t pid;
	int fd;
	char buf[4096];
	size_t len;
} rt_child;

/* Starts the helper with argv (argv[0] is ignored: RT_CHILD_BIN). */
int rt_child_start(rt_child *c, const char *const *argv);
/* The next line (without '\n') within timeout_ms: 1, 0 on timeout, -1 at
 * end of file. */
int rt_child_line(rt_child *c, char *out, size_t cap, int timeout_ms);
void rt_child_signal(rt_child *c, int sig);
/* Waits (bounded, then SIGKILL) and reaps; the exit status or -1. */
int rt_child_reap(rt_child *c, int timeout_ms);

#endif /* RS_TESTS_REPL_UTIL_H */
