/* SPDX-License-Identifier: MIT */
/* A nats-server JetStream cluster on 127.0.0.1 (natscluster.h). */
#define _GNU_SOURCE

#include "common/natscluster.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

const char *rs_nc_server_bin(void)
{
	static char found[512];
	const char *env = getenv("RS_NATS_SERVER"), *path;

	if (env && *env)
		return access(env, X_OK) == 0 ? env : NULL;
	path = getenv("PATH");
	if (path) {
		char *copy = strdup(path), *save = NULL;

		for (char *d = copy ? strtok_r(copy, ":", &save) : NULL; d;
		     d = strtok_r(NULL, ":", &save)) {
			snprintf(found, sizeof(found), "%s/nats-server", d);
			if (access(found, X_OK) == 0) {
				free(copy);
				return found;
			}
		}
		free(copy);
	}
	return access("/usr/sbin/nats-server", X_OK) == 0
		       ? "/usr/sbin/nats-server"
		       : NULL;
}

/* A port nobody listens on right now (it may be taken before we use it:
 * rs_nc_start() retries). */
static int free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

void rs_nc_url(const rs_ncluster *c, int i, char *out, size_t cap)
{
	snprintf(out, cap, "nats://127.0.0.1:%d", c->node[i].port);
}

static int spawn(rs_ncluster *c, int i)
{
	const char *bin = rs_nc_server_bin();
	rs_nc_node *nd = &c->node[i];
	const char *tag = strrchr(c->root, '-') + 1;
	char port[16], name[32], cname[32], cl[64], routes[RS_NC_MAX * 40];
	char log[300];
	const char *argv[24];
	int k = 0;
	pid_t pid;

	if (!bin)
		return -2;
	snprintf(port, sizeof(port), "%d", nd->port);
	/* Names of this cluster alone (mkdtemp's suffix of its directory):
	 * a route to a port another test's cluster has taken meanwhile (a
	 * node restarted on its old port, ctest running programs side by
	 * side) is refused for its cluster name, where two clusters both
	 * named "rs", with servers both named n1..n3, merged and refused
	 * every replicated stream. */
	snprintf(name, sizeof(name), "n%d-%s", i + 1, tag);
	snprintf(cname, sizeof(cname), "rs-%s", tag);
	snprintf(cl, sizeof(cl), "nats://127.0.0.1:%d", nd->cport);
	snprintf(log, sizeof(log), "%s/server.log", nd->dir);
	routes[0] = '\0';
	for (int j = 0; j < c->n; j++) {
		char r[40];

		if (j == i)
			continue;
		snprintf(r, sizeof(r), "%snats://127.0.0.1:%d",
			 routes[0] ? "," : "", c->node[j].cport);
		strncat(routes, r, sizeof(routes) - strlen(routes) - 1);
	}
	argv[k++] = bin;
	argv[k++] = "-a";
	argv[k++] = "127.0.0.1";
	argv[k++] = "-p";
	argv[k++] = port;
	argv[k++] = "-n";
	argv[k++] = name;
	argv[k++] = "-js";
	argv[k++] = "-sd";
	argv[k++] = nd->dir;
	argv[k++] = "-l";
	argv[k++] = log;
	if (c->n > 1) {
		argv[k++] = "--cluster_name";
		argv[k++] = cname;
		argv[k++] = "--cluster";
		argv[k++] = cl;
		argv[k++] = "--routes";
		argv[k++] = routes;
	}
	argv[k] = NULL;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		/* Never outlive the test process. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	nd->pid = pid;
	return 0;
}

/* A connection to node i without reconnects and its JetStream context,
 * each request waiting about wait_ms: true, or false with nothing left
 * open. js_close() closes both. */
static bool js_open(const rs_ncluster *c, int i, int wait_ms,
		    natsConnection **nc, jsCtx **js, jsOptions *jo)
{
	natsOptions *o = NULL;
	char url[64];
	bool ok = false;

	*nc = NULL;
	*js = NULL;
	rs_nc_url(c, i, url, sizeof(url));
	if (natsOptions_Create(&o) != NATS_OK)
		return false;
	natsOptions_SetURL(o, url);
	natsOptions_SetTimeout(o, wait_ms);
	natsOptions_SetAllowReconnect(o, false);
	if (natsConnection_Connect(nc, o) == NATS_OK) {
		jsOptions_Init(jo);
		jo->Wait = wait_ms;
		ok = natsConnection_JetStream(js, *nc, jo) == NATS_OK;
		if (!ok) {
			natsConnection_Destroy(*nc);
			*nc = NULL;
		}
	}
	natsOptions_Destroy(o);
	return ok;
}

static void js_close(natsConnection *nc, jsCtx *js)
{
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
}

/* Whether node i answers a JetStream request (its cluster has a meta
 * leader) within about wait_ms. */
static bool js_ready(const rs_ncluster *c, int i, int wait_ms)
{
	natsConnection *nc;
	jsCtx *js;
	jsAccountInfo *ai = NULL;
	jsErrCode jerr = 0;
	jsOptions jo;
	bool ok;

	if (!js_open(c, i, wait_ms, &nc, &js, &jo))
		return false;
	ok = js_GetAccountInfo(&ai, js, &jo, &jerr) == NATS_OK;
	if (ok)
		jsAccountInfo_Destroy(ai);
	js_close(nc, js);
	return ok;
}

static bool alive(rs_nc_node *nd)
{
	int st;

	if (nd->pid <= 0)
		return false;
	if (waitpid(nd->pid, &st, WNOHANG) == nd->pid) {
		nd->pid = 0;
		return false;
	}
	return true;
}

/* Waits until every running node answers; false on a dead node or after
 * timeout_s. */
static bool wait_ready(rs_ncluster *c, double timeout_s)
{
	double end = mono_s() + timeout_s;

	for (int i = 0; i < c->n; i++) {
		if (c->node[i].pid <= 0)
			continue;
		while (!js_ready(c, i, 500)) {
			if (!alive(&c->node[i]) || mono_s() > end)
				return false;
			sleep_ms(100);
		}
	}
	return true;
}

/* Whether the cluster places a stream on all its nodes: created and
 * deleted again through node 0. A cluster answers account requests (a meta
 * leader) a moment before its leader knows every peer, and a replicated
 * stream asked for in that moment is refused. */
static bool placement_ready(const rs_ncluster *c, int wait_ms)
{
	natsConnection *nc;
	jsCtx *js;
	jsStreamInfo *si = NULL;
	jsStreamConfig sc;
	jsErrCode jerr = 0;
	jsOptions jo;
	const char *subs[1] = { "rs-nc-probe" };
	bool ok = false;

	if (!js_open(c, 0, wait_ms, &nc, &js, &jo))
		return false;
	jsStreamConfig_Init(&sc);
	sc.Name = "RS_NC_PROBE";
	sc.Subjects = subs;
	sc.SubjectsLen = 1;
	sc.Storage = js_MemoryStorage;
	sc.Replicas = c->n;
	if (js_AddStream(&si, js, &sc, &jo, &jerr) == NATS_OK) {
		jsStreamInfo_Destroy(si);
		ok = js_DeleteStream(js, sc.Name, &jo, &jerr) == NATS_OK;
	}
	js_close(nc, js);
	return ok;
}

static bool wait_placement(const rs_ncluster *c, double timeout_s)
{
	double end = mono_s() + timeout_s;

	while (!placement_ready(c, 1000)) {
		if (mono_s() > end)
			return false;
		sleep_ms(100);
	}
	return true;
}

int rs_nc_start(rs_ncluster *c, int nodes)
{
	const char *tmp = getenv("TMPDIR");

	if (nodes < 1 || nodes > RS_NC_MAX)
		return -1;
	if (!rs_nc_server_bin()) {
		fprintf(stderr, "natscluster: no nats-server (set "
				"RS_NATS_SERVER or install nats-server)\n");
		return -2;
	}
	memset(c, 0, sizeof(*c));
	c->n = nodes;
	snprintf(c->root, sizeof(c->root), "%s/rs-nats-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(c->root)) {
		perror("natscluster: mkdtemp");
		return -1;
	}
	for (int attempt = 0; attempt < 5; attempt++) {
		bool ok = true;

		c->urls[0] = '\0';
		for (int i = 0; i < nodes; i++) {
			rs_nc_node *nd = &c->node[i];
			char u[40];

			nd->port = free_port();
			nd->cport = free_port();
			snprintf(nd->dir, sizeof(nd->dir), "%s/n%d", c->root,
				 i + 1);
			mkdir(nd->dir, 0700);
			snprintf(u, sizeof(u), "%snats://127.0.0.1:%d",
				 i ? "," : "", nd->port);
			strncat(c->urls, u,
				sizeof(c->urls) - strlen(c->urls) - 1);
		}
		for (int i = 0; i < nodes && ok; i++)
			ok = spawn(c, i) == 0;
		if (ok && wait_ready(c, 30.0) && wait_placement(c, 30.0))
			return 0;
		/* A port was taken meanwhile, or the cluster did not form:
		 * start over on new ports. */
		for (int i = 0; i < nodes; i++)
			rs_nc_kill_node(c, i);
		fprintf(stderr, "natscluster: attempt %d failed, retrying\n",
			attempt + 1);
	}
	rs_nc_stop(c);
	return -1;
}

void rs_nc_kill_node(rs_ncluster *c, int i)
{
	rs_nc_node *nd = &c->node[i];

	if (nd->pid > 0) {
		kill(nd->pid, SIGKILL);
		waitpid(nd->pid, NULL, 0);
		nd->pid = 0;
	}
}

void rs_nc_stop_node(rs_ncluster *c, int i)
{
	rs_nc_node *nd = &c->node[i];
	double end;

	if (nd->pid <= 0)
		return;
	kill(nd->pid, SIGTERM);
	end = mono_s() + 5.0;
	while (mono_s() < end) {
		if (waitpid(nd->pid, NULL, WNOHANG) == nd->pid) {
			nd->pid = 0;
			return;
		}
		sleep_ms(20);
	}
	rs_nc_kill_node(c, i);
}

int rs_nc_restart_node(rs_ncluster *c, int i)
{
	double end = mono_s() + 30.0;

	if (c->node[i].pid > 0)
		return 0;
	if (spawn(c, i) != 0)
		return -1;
	while (!js_ready(c, i, 500)) {
		if (!alive(&c->node[i]) || mono_s() > end)
			return -1;
		sleep_ms(100);
	}
	return 0;
}

static void rmtree(const char *dir)
{
	char cmd[300];

	/* The directories are ours (mkdtemp); rm is the shortest correct
	 * recursive delete. */
	if (!dir[0] || strstr(dir, "rs-nats-") == NULL)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "natscluster: could not remove %s\n", dir);
}

void rs_nc_stop(rs_ncluster *c)
{
	for (int i = 0; i < c->n; i++)
		rs_nc_stop_node(c, i);
	if (!getenv("RS_NATS_KEEP"))
		rmtree(c->root);
	c->root[0] = '\0';
}
