/* SPDX-License-Identifier: MIT */
/*
 * A JetStream cluster of nats-server processes on 127.0.0.1 for the
 * replication tests and benchmarks: free ports (bound and closed, retried
 * on a collision), one temporary directory per server, every server
 * stopped by its pid (SIGTERM, then SIGKILL after a bounded wait). Every
 * wait here is bounded in time. Plain C (no CMocka): the helper processes
 * and the benchmark use it too.
 *
 * The server binary: $RS_NATS_SERVER, else nats-server on PATH, else
 * /usr/sbin/nats-server.
 */
#ifndef RS_TESTS_COMMON_NATSCLUSTER_H
#define RS_TESTS_COMMON_NATSCLUSTER_H

#include <stdbool.h>
#include <sys/types.h>

#define RS_NC_MAX 5

typedef struct rs_nc_node {
	pid_t pid; /* 0: not running */
	int port;  /* client port */
	int cport; /* cluster (route) port */
	char dir[256];
} rs_nc_node;

typedef struct rs_ncluster {
	int n;
	rs_nc_node node[RS_NC_MAX];
	char root[200];
	/* "nats://127.0.0.1:p1,nats://127.0.0.1:p2,..." */
	char urls[RS_NC_MAX * 32];
} rs_ncluster;

/* The server binary, or NULL when there is none. */
const char *rs_nc_server_bin(void);

/*
 * Starts `nodes` (1..RS_NC_MAX) servers with JetStream, clustered when
 * nodes > 1, and waits (at most ~30 s) until every one answers a
 * JetStream request. 0, or -1 with a message on stderr (no server binary:
 * -2).
 */
int rs_nc_start(rs_ncluster *c, int nodes);
/* Stops node i: SIGTERM, SIGKILL after 5 s. */
void rs_nc_stop_node(rs_ncluster *c, int i);
/* kill -9 of node i (reaped). */
void rs_nc_kill_node(rs_ncluster *c, int i);
/* Starts node i again on its ports and directory; waits until it
 * answers (bounded). 0 or -1. */
int rs_nc_restart_node(rs_ncluster *c, int i);
/* Stops every node and removes the directories. */
void rs_nc_stop(rs_ncluster *c);
/* "nats://127.0.0.1:<port of node i>". */
void rs_nc_url(const rs_ncluster *c, int i, char *out, size_t cap);

#endif /* RS_TESTS_COMMON_NATSCLUSTER_H */
