/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE

#include "repl_util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

rs_ncluster rt_cluster;
bool rt_have_cluster;

int rt_group_setup(void **state)
{
	(void)state;
	rt_have_cluster = rs_nc_start(&rt_cluster, 3) == 0;
	return 0;
}

int rt_group_teardown(void **state)
{
	(void)state;
	if (rt_have_cluster)
		rs_nc_stop(&rt_cluster);
	return 0;
}

rs_run_id rt_run(void)
{
	rs_run_id r;

	rs_run_id_parse(&r, RT_RUN_TEXT, strlen(RT_RUN_TEXT));
	return r;
}

double rt_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

long rt_env_long(const char *name, long def)
{
	const char *s = getenv(name);

	return s && *s ? atol(s) : def;
}

void rt_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int rt_open(rs_nats **n, rs_db **db, const char *urls, const char *name,
	    int replicas, uint32_t flags, rs_durability mode, uint32_t ack_ms)
{
	rs_nats_options no = RS_NATS_OPTIONS_INIT;
	rs_db_options o = RS_DB_OPTIONS_INIT;

	no.servers = urls;
	no.name = name;
	no.replicas = replicas;
	no.flags = flags;
	no.ack_timeout_ms = ack_ms;
	o.durability = mode;
	return rs_nats_open(n, db, &no, &o);
}

int rt_open_retry(rs_nats **n, rs_db **db, const char *urls, const char *name,
		  uint32_t flags, double timeout_s)
{
	double end = rt_now() + timeout_s;
	int rc;

	while ((rc = rt_open(n, db, urls, name, 3, flags, RS_DURABILITY_STRICT,
			     0)) == RS_EIO &&
	       rt_now() < end)
		rt_sleep_ms(200);
	return rc;
}

void rt_key(char *out, size_t cap, long i)
{
	snprintf(out, cap, "k%06ld", i);
}

void rt_val(char *out, size_t cap, long i)
{
	snprintf(out, cap, "v%06ld", i);
}

int rt_put(rs_db *db, long i)
{
	rs_run_id run = rt_run();
	char k[24], v[24];

	rt_key(k, sizeof(k), i);
	rt_val(v, sizeof(v), i);
	return rs_kv_put(db, &run, k, strlen(k), v, strlen(v));
}

bool rt_has(rs_db *db, long i)
{
	rs_run_id run = rt_run();
	char k[24], v[24], got[32];
	size_t len = 0;

	rt_key(k, sizeof(k), i);
	rt_val(v, sizeof(v), i);
	if (rs_kv_get(db, &run, k, strlen(k), got, sizeof(got), &len) != 0)
		return false;
	return len == strlen(v) && memcmp(got, v, len) == 0;
}

int rt_child_start(rt_child *c, const char *const *argv)
{
	int p[2];
	pid_t pid;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (pipe(p) != 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execv(RT_CHILD_BIN, (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	c->pid = pid;
	c->fd = p[0];
	return 0;
}

int rt_child_line(rt_child *c, char *out, size_t cap, int timeout_ms)
{
	double end = rt_now() + timeout_ms / 1000.0;

	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		struct pollfd pf = { c->fd, POLLIN, 0 };
		int left;
		ssize_t r;

		if (nl) {
			size_t l = (size_t)(nl - c->buf);

			snprintf(out, cap, "%.*s", (int)l, c->buf);
			memmove(c->buf, nl + 1, c->len - l - 1);
			c->len -= l + 1;
			return 1;
		}
		left = (int)((end - rt_now()) * 1000);
		if (left <= 0)
			return 0;
		if (poll(&pf, 1, left) <= 0)
			continue;
		r = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
		if (r == 0)
			return -1;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c->len += (size_t)r;
	}
}

void rt_child_signal(rt_child *c, int sig)
{
	if (c->pid > 0)
		kill(c->pid, sig);
}

int rt_child_reap(rt_child *c, int timeout_ms)
{
	double end = rt_now() + timeout_ms / 1000.0;
	int st = 0;

	if (c->pid <= 0)
		return -1;
	while (waitpid(c->pid, &st, WNOHANG) == 0) {
		if (rt_now() > end) {
			kill(c->pid, SIGKILL);
			waitpid(c->pid, &st, 0);
			break;
		}
		rt_sleep_ms(20);
	}
	c->pid = 0;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
