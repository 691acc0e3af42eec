/* SPDX-License-Identifier: MIT */
/*
 * Report 5, Redis competitiveness: runstate in process beside a live
 * redis-server, in the same run.
 *
 * The Redis side (compiled only when hiredis was found at build time,
 * registered only when redis-server is on PATH or named by
 * $RS_BENCH_REDIS_SERVER): the first Redis benchmark starts
 * `redis-server --port 0 --unixsocket DIR/redis.sock --save ''
 * --appendonly no --daemonize no` as a child process in a fresh temporary
 * directory (so no TCP port and nothing on disk), and connects to it with
 * hiredis over the unix socket. The server is killed at exit (atexit), on
 * SIGINT/SIGTERM/SIGHUP, and, should the bench die otherwise, by the
 * kernel (PR_SET_PDEATHSIG). Keys are the suite's 16-byte keys, values its
 * 100-byte values; every command is formatted before the timed loop
 * (redisFormatCommandArgv) and sent with redisAppendFormattedCommand;
 * replies are read with redisGetReply, checked (type, length, INCR's
 * value) and freed. hiredis allocates a reply object per reply: that is
 * part of what a Redis client pays, so it stays in the measurement.
 *
 *  peer_redis_<op>            unpipelined: one command, wait for its
 *                             reply, then the next (client-observed
 *                             latency of one request)
 *  peer_redis_<op>_pipelined  100 operations written, then their 100
 *                             replies read: one round trip per 100
 *                             (per-operation cost when pipelining)
 *
 *  op get       GET of the next of 1024 keys (shuffled order; all present)
 *     set       SET of the next of 1024 keys
 *     incr      INCR of one counter (each reply checked against the count)
 *     multi_exec_2set  MULTI, SET k_i, SET k_i+1, EXEC sent together, the
 *               four replies read (one round trip per transaction, as a
 *               client's transactional pipeline sends it)
 *     lpush     LPUSH of a 100-byte value onto one list (the timer is
 *               paused to DEL the list every 100,000 pushes)
 *     lpop      LPOP of one list (the timer is paused to refill it with
 *               100,000 values, pipelined, whenever it could run empty)
 *
 * The runstate side (public API, InMemory, sharded store): GET is
 * kvstore_get, SET is kvstore_put, LPUSH/LPOP would be eventlog_append /
 * eventlog_read (not yet implemented), and:
 *
 *  peer_runstate_incr_txn   rs_txn_begin, rs_txn_kv_get of an 8-byte
 *                           counter, rs_txn_kv_put of counter + 1,
 *                           rs_txn_commit (a read-modify-write txn); the
 *                           final counter is checked against the count
 *  peer_runstate_txn_2put   rs_txn_begin, rs_txn_kv_put of key i and key
 *                           i+1 (1024 keys, 100-byte values),
 *                           rs_txn_commit
 */
#define _GNU_SOURCE
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the runstate side ---- */

static void bm_rs_incr(rs_bench_state *st)
{
	rs_db *db = NULL;
	rs_run_id run;
	unsigned char key[RS_BENCH_KEY_LEN];
	uint64_t done = 0, ctr = 0;
	size_t len = 0;
	int rc, bad = 0;

	memcpy(key, "counter_________", RS_BENCH_KEY_LEN);
	rs_bench_run_id(&run, 5);
	if ((rc = rs_bench_db_open(&db, RS_STORAGE_SHARDED, false)) < 0) {
		rs_bench_skip_with_error(st, rs_strerror(rc));
		return;
	}
	for (int phase = 0; phase < 2; phase++) {
		size_t warm = rs_bench_warmup_ops(0);

		while (phase ? rs_bench_keep_running_batch(st, RS_BENCH_BATCH)
			     : warm-- > 0) {
			for (unsigned j = 0; j < (phase ? RS_BENCH_BATCH : 1u);
			     j++) {
				rs_txn *txn;
				rs_bytes v;
				uint64_t c = 0;

				if (RS_BENCH_UNLIKELY(
					    (rc = rs_txn_begin(&txn, db, &run,
							       0)) < 0)) {
					bad = rc;
					continue;
				}
				rc = rs_txn_kv_get(txn, key, sizeof(key), &v);
				if (rc == 0 && v.len == sizeof(c))
					memcpy(&c, v.data, sizeof(c));
				c++;
				rc = rs_txn_kv_put(txn, key, sizeof(key), &c,
						   sizeof(c));
				if (RS_BENCH_UNLIKELY(rc < 0)) {
					rs_txn_abort(txn);
					bad = rc;
					continue;
				}
				if (RS_BENCH_UNLIKELY(
					    (rc = rs_txn_commit(txn)) < 0))
					bad = rc;
				done++;
			}
		}
	}
	if (!bad && ((rc = rs_kv_get(db, &run, key, sizeof(key), &ctr,
				     sizeof(ctr), &len)) < 0 ||
		     ctr != done))
		bad = rc < 0 ? rc : RS_ECORRUPT;
	if (bad)
		rs_bench_skip_with_error(st, rs_strerror(bad));
	rs_bench_items_processed(st, rs_bench_iterations(st));
	rs_db_close(db);
}

static void bm_rs_2put(rs_bench_state *st)
{
	rs_bench_keys k;
	rs_db *db = NULL;
	rs_run_id run;
	size_t pos = 0;
	int rc, bad = 0;

	rs_bench_run_id(&run, 6);
	if ((rc = rs_bench_keys_make(&k, RS_BENCH_HOT_KEYS)) < 0 ||
	    (rc = rs_bench_db_open(&db, RS_STORAGE_SHARDED, false)) < 0 ||
	    (rc = rs_bench_db_fill(db, &run, &k)) < 0) {
		rs_bench_skip_with_error(st, rs_strerror(rc));
		goto out;
	}
	for (int phase = 0; phase < 2; phase++) {
		size_t warm = rs_bench_warmup_ops(k.n);

		while (phase ? rs_bench_keep_running_batch(st, RS_BENCH_BATCH)
			     : warm-- > 0) {
			for (unsigned j = 0; j < (phase ? RS_BENCH_BATCH : 1u);
			     j++) {
				uint32_t a = k.order[pos],
					 b = k.order[(pos + 1) % k.n];
				rs_txn *txn;

				pos = (pos + 1) % k.n;
				if (RS_BENCH_UNLIKELY(
					    (rc = rs_txn_begin(&txn, db, &run,
							       0)) < 0)) {
					bad = rc;
					continue;
				}
				if (RS_BENCH_UNLIKELY(
					    (rc = rs_txn_kv_put(
						     txn, rs_bench_key(&k, a),
						     RS_BENCH_KEY_LEN,
						     rs_bench_val(&k, a + pos),
						     RS_BENCH_VAL_LEN)) < 0 ||
					    (rc = rs_txn_kv_put(
						     txn, rs_bench_key(&k, b),
						     RS_BENCH_KEY_LEN,
						     rs_bench_val(&k, b + pos),
						     RS_BENCH_VAL_LEN)) < 0)) {
					rs_txn_abort(txn);
					bad = rc;
					continue;
				}
				if (RS_BENCH_UNLIKELY(
					    (rc = rs_txn_commit(txn)) < 0))
					bad = rc;
			}
		}
	}
	if (bad)
		rs_bench_skip_with_error(st, rs_strerror(bad));
	rs_bench_items_processed(st, rs_bench_iterations(st));
out:
	rs_db_close(db);
	rs_bench_keys_free(&k);
}

#ifdef RS_HAVE_HIREDIS

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#define PIPE_OPS 100u
#define UNPIPE_BATCH 32u
#define LIST_CHUNK 100000u

/* The server: started once, by the first Redis benchmark. */
static struct {
	char path[512]; /* redis-server */
	char dir[256];
	char sock[320];
	volatile pid_t pid;
	redisContext *c;
	bool tried;
	char err[512];
} R;

static struct sigaction old_int, old_term, old_hup;

static void redis_kill_now(int sig)
{
	pid_t pid = R.pid;

	if (pid > 0)
		kill(pid, SIGKILL);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	raise(sig);
}

static void redis_stop(void)
{
	pid_t pid = R.pid;

	if (R.c) {
		redisFree(R.c);
		R.c = NULL;
	}
	if (pid > 0) {
		int status;

		kill(pid, SIGTERM);
		for (int i = 0; i < 200; i++) {
			if (waitpid(pid, &status, WNOHANG) == pid)
				goto reaped;
			usleep(10000);
		}
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
reaped:
		R.pid = 0;
	}
	rs_bench_rmdir(R.dir);
}

static void log_tail(char *out, size_t cap)
{
	char p[300], buf[2048];
	FILE *f;
	size_t n;

	snprintf(p, sizeof(p), "%s/redis.log", R.dir);
	if (!(f = fopen(p, "r")))
		return;
	fseek(f, 0, SEEK_END);
	if (ftell(f) > (long)sizeof(buf) - 1)
		fseek(f, -(long)sizeof(buf) + 1, SEEK_END);
	else
		fseek(f, 0, SEEK_SET);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	for (size_t i = 0; i < n; i++)
		if (buf[i] == '\n' || buf[i] == '\r')
			buf[i] = ' ';
	snprintf(out, cap, "%.300s", n > 300 ? buf + n - 300 : buf);
}

static int redis_start(void)
{
	const char *tmp = getenv("TMPDIR");
	pid_t parent = getpid(), pid;
	struct sigaction sa;
	redisReply *rep;

	if (R.c)
		return 0;
	if (R.tried)
		return -1;
	R.tried = true;
	if (rs_bench_mkdtemp(R.dir, sizeof(R.dir), "redis", NULL) < 0) {
		snprintf(R.err, sizeof(R.err), "mkdtemp under %s: %s",
			 tmp && *tmp ? tmp : "/tmp", strerror(errno));
		return -1;
	}
	snprintf(R.sock, sizeof(R.sock), "%s/redis.sock", R.dir);
	atexit(redis_stop);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = redis_kill_now;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		snprintf(R.err, sizeof(R.err), "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		char logp[300];
		int fd;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		snprintf(logp, sizeof(logp), "%s/redis.log", R.dir);
		fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0)
			dup2(fd, 0);
		for (int i = 3; i < 1024; i++)
			close(i);
		execl(R.path, "redis-server", "--port", "0", "--unixsocket",
		      R.sock, "--unixsocketperm", "700", "--save", "",
		      "--appendonly", "no", "--daemonize", "no", "--dir", R.dir,
		      "--databases", "1", (char *)NULL);
		_exit(127);
	}
	R.pid = pid;
	/* Up to 10 s for the socket to accept. */
	for (int i = 0; i < 500; i++) {
		struct timeval tv = { 1, 0 };
		int status;

		if (waitpid(pid, &status, WNOHANG) == pid) {
			char tail[400] = "";

			R.pid = 0;
			log_tail(tail, sizeof(tail));
			snprintf(R.err, sizeof(R.err),
				 "redis-server exited at start (status %d): %s",
				 WIFEXITED(status) ? WEXITSTATUS(status) : -1,
				 tail);
			return -1;
		}
		R.c = redisConnectUnixWithTimeout(R.sock, tv);
		if (R.c && !R.c->err)
			break;
		if (R.c)
			redisFree(R.c);
		R.c = NULL;
		usleep(20000);
	}
	if (!R.c) {
		snprintf(R.err, sizeof(R.err),
			 "could not connect to redis-server on %s", R.sock);
		return -1;
	}
	rep = redisCommand(R.c, "INFO server");
	if (rep && rep->type == REDIS_REPLY_STRING) {
		const char *v = strstr(rep->str, "redis_version:");

		if (v) {
			char ver[64];

			sscanf(v + 14, "%63[^\r\n]", ver);
			rs_bench_note_set("redis.version", ver);
		}
	}
	if (rep)
		freeReplyObject(rep);
	rs_bench_note_set("redis.socket", R.sock);
	return 0;
}

enum rop {
	R_GET,
	R_SET,
	R_INCR,
	R_MULTI,
	R_LPUSH,
	R_LPOP
};

typedef struct rcfg {
	enum rop op;
	bool pipelined;
} rcfg;

/* Preformatted commands: one per key (GET, SET, MULTI) or just one. */
typedef struct rcmds {
	size_t n;
	char **cmd;
	size_t *len;
	unsigned replies; /* per operation */
} rcmds;

static void cmds_free(rcmds *c)
{
	for (size_t i = 0; c->cmd && i < c->n; i++)
		free(c->cmd[i]);
	free(c->cmd);
	free(c->len);
	memset(c, 0, sizeof(*c));
}

static int fmt(char **out, size_t *len, int argc, const char **argv,
	       const size_t *argl)
{
	char *s = NULL;
	int n = redisFormatCommandArgv(&s, argc, argv, argl);

	if (n < 0 || !s)
		return -1;
	/* Copy into malloc'd memory we own (hiredis may use its own
	 * allocator for the buffer). */
	*out = malloc((size_t)n);
	if (!*out) {
		redisFreeCommand(s);
		return -1;
	}
	memcpy(*out, s, (size_t)n);
	*len = (size_t)n;
	redisFreeCommand(s);
	return 0;
}

static int cmds_make(rcmds *c, enum rop op, const rs_bench_keys *k)
{
	size_t n = (op == R_GET || op == R_SET || op == R_MULTI) ? k->n : 1;

	memset(c, 0, sizeof(*c));
	c->cmd = calloc(n, sizeof(*c->cmd));
	c->len = calloc(n, sizeof(*c->len));
	if (!c->cmd || !c->len)
		return -1;
	c->n = n;
	c->replies = op == R_MULTI ? 4 : 1;
	for (size_t i = 0; i < n; i++) {
		uint32_t a = k->order[i], b = k->order[(i + 1) % k->n];
		const char *key = (const char *)rs_bench_key(k, a);
		const char *val = (const char *)rs_bench_val(k, a + i);
		const char *av[4];
		size_t al[4];

		switch (op) {
		case R_GET:
			av[0] = "GET", al[0] = 3;
			av[1] = key, al[1] = RS_BENCH_KEY_LEN;
			if (fmt(&c->cmd[i], &c->len[i], 2, av, al))
				return -1;
			break;
		case R_SET:
			av[0] = "SET", al[0] = 3;
			av[1] = key, al[1] = RS_BENCH_KEY_LEN;
			av[2] = val, al[2] = RS_BENCH_VAL_LEN;
			if (fmt(&c->cmd[i], &c->len[i], 3, av, al))
				return -1;
			break;
		case R_INCR:
			av[0] = "INCR", al[0] = 4;
			av[1] = "counter", al[1] = 7;
			if (fmt(&c->cmd[i], &c->len[i], 2, av, al))
				return -1;
			break;
		case R_MULTI: {
			char *part[4] = { NULL };
			size_t pl[4] = { 0 }, tot = 0;
			int err = 0;

			av[0] = "MULTI", al[0] = 5;
			err |= fmt(&part[0], &pl[0], 1, av, al);
			av[0] = "SET", al[0] = 3;
			av[1] = key, al[1] = RS_BENCH_KEY_LEN;
			av[2] = val, al[2] = RS_BENCH_VAL_LEN;
			err |= fmt(&part[1], &pl[1], 3, av, al);
			av[1] = (const char *)rs_bench_key(k, b);
			av[2] = (const char *)rs_bench_val(k, b + i);
			err |= fmt(&part[2], &pl[2], 3, av, al);
			av[0] = "EXEC", al[0] = 4;
			err |= fmt(&part[3], &pl[3], 1, av, al);
			for (int p = 0; p < 4; p++)
				tot += pl[p];
			if (!err && (c->cmd[i] = malloc(tot))) {
				c->len[i] = 0;
				for (int p = 0; p < 4; p++) {
					memcpy(c->cmd[i] + c->len[i], part[p],
					       pl[p]);
					c->len[i] += pl[p];
				}
			}
			for (int p = 0; p < 4; p++)
				free(part[p]);
			if (err || !c->cmd[i])
				return -1;
			break;
		}
		case R_LPUSH:
			av[0] = "LPUSH", al[0] = 5;
			av[1] = "list", al[1] = 4;
			av[2] = val, al[2] = RS_BENCH_VAL_LEN;
			if (fmt(&c->cmd[i], &c->len[i], 3, av, al))
				return -1;
			break;
		case R_LPOP:
			av[0] = "LPOP", al[0] = 4;
			av[1] = "list", al[1] = 4;
			if (fmt(&c->cmd[i], &c->len[i], 2, av, al))
				return -1;
			break;
		}
	}
	return 0;
}

/* Untimed helper: run one command, check for an error reply. */
static int redis_do(const char *what)
{
	redisReply *r = redisCommand(R.c, what);
	int ok = r && r->type != REDIS_REPLY_ERROR;

	if (r)
		freeReplyObject(r);
	return ok ? 0 : -1;
}

/* Untimed: send `count` copies of one command, pipelined, read replies. */
static int redis_bulk(const rcmds *c, size_t count)
{
	for (size_t done = 0; done < count;) {
		size_t n = count - done < 1000 ? count - done : 1000;

		for (size_t i = 0; i < n; i++)
			if (redisAppendFormattedCommand(
				    R.c, c->cmd[(done + i) % c->n],
				    c->len[(done + i) % c->n]) != REDIS_OK)
				return -1;
		for (size_t i = 0; i < n * c->replies; i++) {
			void *r = NULL;

			if (redisGetReply(R.c, &r) != REDIS_OK || !r)
				return -1;
			freeReplyObject(r);
		}
		done += n;
	}
	return 0;
}

static inline bool reply_ok(const redisReply *r, enum rop op, unsigned idx,
			    long long *ctr)
{
	switch (op) {
	case R_GET:
	case R_LPOP:
		return r->type == REDIS_REPLY_STRING &&
		       r->len == RS_BENCH_VAL_LEN;
	case R_SET:
		return r->type == REDIS_REPLY_STATUS && r->len == 2;
	case R_INCR:
		return r->type == REDIS_REPLY_INTEGER && r->integer == ++*ctr;
	case R_MULTI:
		return idx == 3 ? r->type == REDIS_REPLY_ARRAY &&
					  r->elements == 2
				: r->type == REDIS_REPLY_STATUS;
	case R_LPUSH:
		return r->type == REDIS_REPLY_INTEGER && r->integer >= 1;
	}
	return false;
}

static void bm_redis(rs_bench_state *st)
{
	const rcfg *cfg = rs_bench_arg(st);
	unsigned batch = cfg->pipelined ? PIPE_OPS : UNPIPE_BATCH;
	rs_bench_keys k;
	rcmds c, set, push;
	size_t pos = 0, list = 0;
	long long ctr = 0;
	const char *bad = NULL;

	memset(&c, 0, sizeof(c));
	memset(&set, 0, sizeof(set));
	memset(&push, 0, sizeof(push));
	if (redis_start() < 0) {
		rs_bench_skip_with_error(st, R.err);
		return;
	}
	if (rs_bench_keys_make(&k, RS_BENCH_HOT_KEYS) < 0 ||
	    cmds_make(&c, cfg->op, &k) < 0 || cmds_make(&set, R_SET, &k) < 0 ||
	    cmds_make(&push, R_LPUSH, &k) < 0) {
		bad = "could not prepare the commands";
		goto out;
	}
	/* Untimed state: every key present, counter at 0, list empty or
	 * full; then a warm-up of 4096 operations. */
	if (redis_bulk(&set, set.n) < 0 || redis_do("SET counter 0") < 0 ||
	    redis_do("DEL list") < 0 ||
	    (cfg->op == R_LPOP && redis_bulk(&push, LIST_CHUNK) < 0)) {
		bad = "could not set up the keys";
		goto out;
	}
	list = cfg->op == R_LPOP ? LIST_CHUNK : 0;
	if (cfg->op == R_LPOP) {
		list -= 4096;
		if (redis_bulk(&c, 4096) < 0)
			bad = "warm-up failed";
	} else if (cfg->op == R_INCR) {
		if (redis_bulk(&c, 4096) < 0)
			bad = "warm-up failed";
		ctr = 4096;
	} else {
		if (redis_bulk(&c, 4096) < 0)
			bad = "warm-up failed";
		if (cfg->op == R_LPUSH)
			list = 4096;
	}
	while (!bad && rs_bench_keep_running_batch(st, batch)) {
		if (cfg->op == R_LPUSH && list + batch > LIST_CHUNK) {
			rs_bench_pause(st);
			if (redis_do("DEL list") < 0)
				bad = "DEL failed";
			list = 0;
			rs_bench_resume(st);
		} else if (cfg->op == R_LPOP && list < batch) {
			rs_bench_pause(st);
			if (redis_bulk(&push, LIST_CHUNK) < 0)
				bad = "refill failed";
			list += LIST_CHUNK;
			rs_bench_resume(st);
		}
		if (cfg->op == R_LPUSH)
			list += batch;
		else if (cfg->op == R_LPOP)
			list -= batch;
		if (cfg->pipelined) {
			for (unsigned j = 0; j < batch; j++)
				redisAppendFormattedCommand(
					R.c, c.cmd[(pos + j) % c.n],
					c.len[(pos + j) % c.n]);
			pos += batch;
			for (unsigned j = 0; j < batch * c.replies; j++) {
				void *r = NULL;

				if (RS_BENCH_UNLIKELY(redisGetReply(R.c, &r) !=
							      REDIS_OK ||
						      !r)) {
					bad = "connection error";
					break;
				}
				if (RS_BENCH_UNLIKELY(!reply_ok(
					    r, cfg->op, j % c.replies, &ctr)))
					bad = "unexpected reply";
				freeReplyObject(r);
			}
			continue;
		}
		for (unsigned j = 0; j < batch && !bad; j++, pos++) {
			redisAppendFormattedCommand(R.c, c.cmd[pos % c.n],
						    c.len[pos % c.n]);
			for (unsigned q = 0; q < c.replies; q++) {
				void *r = NULL;

				if (RS_BENCH_UNLIKELY(redisGetReply(R.c, &r) !=
							      REDIS_OK ||
						      !r)) {
					bad = "connection error";
					break;
				}
				if (RS_BENCH_UNLIKELY(
					    !reply_ok(r, cfg->op, q, &ctr)))
					bad = "unexpected reply";
				freeReplyObject(r);
			}
		}
	}
out:
	if (bad)
		rs_bench_skip_with_error(st, bad);
	rs_bench_items_processed(st, rs_bench_iterations(st));
	cmds_free(&c);
	cmds_free(&set);
	cmds_free(&push);
	rs_bench_keys_free(&k);
}

/* redis-server: $RS_BENCH_REDIS_SERVER, or the first on PATH. */
static bool find_server(void)
{
	const char *env = getenv("RS_BENCH_REDIS_SERVER");
	const char *path = getenv("PATH");

	if (env && *env) {
		snprintf(R.path, sizeof(R.path), "%s", env);
		return access(R.path, X_OK) == 0;
	}
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		const char *end = strchr(path, ':');
		size_t n = end ? (size_t)(end - path) : strlen(path);

		if (n) {
			snprintf(R.path, sizeof(R.path), "%.*s/redis-server",
				 (int)n, path);
			if (access(R.path, X_OK) == 0)
				return true;
		}
		path += n + (end ? 1 : 0);
	}
	R.path[0] = 0;
	return false;
}

static void register_redis(void)
{
	static const struct {
		const char *name;
		enum rop op;
	} ops[] = {
		{ "get", R_GET },     { "set", R_SET },
		{ "incr", R_INCR },   { "multi_exec_2set", R_MULTI },
		{ "lpush", R_LPUSH }, { "lpop", R_LPOP },
	};
	static rcfg cfgs[2 * sizeof(ops) / sizeof(ops[0])];
	char name[96];

	if (!find_server()) {
		rs_bench_note_set("redis.status",
				  "redis-server is not installed (not found on "
				  "PATH; set RS_BENCH_REDIS_SERVER to name "
				  "one): no Redis numbers");
		return;
	}
	rs_bench_note_set("redis.server", R.path);
	rs_bench_note_set("redis.client",
			  "hiredis " RS__STR(HIREDIS_MAJOR) "." RS__STR(
				  HIREDIS_MINOR) "." RS__STR(HIREDIS_PATCH));
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		for (int p = 0; p < 2; p++) {
			rcfg *c = &cfgs[2 * i + (size_t)p];

			c->op = ops[i].op;
			c->pipelined = p;
			snprintf(name, sizeof(name), "peer_redis_%s%s",
				 ops[i].name, p ? "_pipelined" : "");
			RS_BENCH(name, bm_redis, c);
		}
}

#endif /* RS_HAVE_HIREDIS */

void rs_bench_suite_redis(void)
{
	RS_BENCH("peer_runstate_incr_txn", bm_rs_incr, NULL);
	RS_BENCH("peer_runstate_txn_2put", bm_rs_2put, NULL);
#ifdef RS_HAVE_HIREDIS
	register_redis();
#else
	rs_bench_note_set("redis.status",
			  "hiredis (libhiredis-dev) was not installed when "
			  "this bench was built: no Redis numbers");
#endif
}
