/* SPDX-License-Identifier: MIT */
/*
 * One owner per directory across processes: while a child holds a
 * database open, the parent's open fails with RS_EBUSY (and touches
 * nothing); once the child exits, or is killed, the parent can open it;
 * while the parent holds it, a child's open fails with RS_EBUSY; and a
 * child forked while the parent holds it does not keep the lock.
 *
 * Order matters: the parent uses the library only in the last test, so
 * the earlier children are forked from a process without library threads.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "dur_util.h"

/* Child: open, say so on `ready`, wait for a byte on `go`, close. */
static pid_t spawn_holder(const char *dir, bool wait_go, int *ready_fd,
			  int *go_fd)
{
	int ready[2], go[2];
	pid_t pid;

	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		rs_db_options o = dur_opts(dir, RS_DURABILITY_STRICT);
		rs_db *db;
		char c = 'r';

		close(ready[0]);
		close(go[1]);
		if (rs_db_open(&db, &o) != 0)
			_exit(1);
		dur_put(db, 0, "child", "1");
		if (write(ready[1], &c, 1) != 1)
			_exit(2);
		if (wait_go && read(go[0], &c, 1) != 1)
			_exit(3);
		if (!wait_go)
			pause(); /* until killed */
		rs_db_close(db);
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	*ready_fd = ready[0];
	*go_fd = go[1];
	return pid;
}

static void dirlock__child_holds_parent_is_busy(void **state)
{
	char *dir = dur_tmpdir();
	rs_db_options o = dur_opts(dir, RS_DURABILITY_STRICT);
	int ready, go, status;
	rs_db *db = NULL;
	char c;
	pid_t pid;

	(void)state;
	/* Released by a clean exit. */
	pid = spawn_holder(dir, true, &ready, &go);
	assert_int_equal(read(ready, &c, 1), 1);
	assert_int_equal(rs_db_open(&db, &o), RS_EBUSY);
	o.durability = RS_DURABILITY_BUFFERED;
	assert_int_equal(rs_db_open(&db, &o), RS_EBUSY);
	assert_null(db);
	assert_int_equal(write(go, "g", 1), 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(ready);
	close(go);

	/* Released by SIGKILL too. */
	pid = spawn_holder(dir, false, &ready, &go);
	assert_int_equal(read(ready, &c, 1), 1);
	assert_int_equal(rs_db_open(&db, &o), RS_EBUSY);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	close(ready);
	close(go);
	dur_rmdir(dir);
}

static void dirlock__parent_holds_child_is_busy(void **state)
{
	char *dir = dur_tmpdir();
	rs_db_options o = dur_opts(dir, RS_DURABILITY_STRICT);
	rs_db *db = NULL;
	int status;
	char *v;
	pid_t pid;

	(void)state;
	/* A child held it before: its commit is there. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		rs_db *cdb;

		if (rs_db_open(&cdb, &o) != 0)
			_exit(1);
		dur_put(cdb, 0, "child", "1");
		rs_db_close(cdb);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	db = dur_open(&o);
	v = dur_get(db, 0, "child");
	assert_non_null(v);
	assert_string_equal(v, "1");
	free(v);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		rs_db *cdb = NULL;

		/* Fails before touching anything of the library. */
		_exit(rs_db_open(&cdb, &o) == RS_EBUSY ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	rs_db_close(db);
	dur_rmdir(dir);
}

/*
 * A child fork()ed while the parent holds the database (and never uses
 * it) does not keep the directory locked: once the parent closes, it can
 * open the directory again while the child still runs. With raw_fork the
 * child comes from the fork system call, which runs no pthread_atfork()
 * handler, so it holds its copy of the lock's descriptor throughout, as a
 * child scheduled after its parent has not run that handler yet: the
 * parent's close must unlock the description itself.
 */
static void reopen_while_a_child_waits(bool raw_fork)
{
	char *dir = dur_tmpdir();
	rs_db_options o = dur_opts(dir, RS_DURABILITY_STRICT);
	int go[2], status;
	rs_db *db;
	char c;
	pid_t pid;

	db = dur_open(&o);
	dur_put(db, 0, "k", "1");
	assert_int_equal(pipe(go), 0);
	pid = raw_fork ? (pid_t)syscall(SYS_fork) : fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* No library call here: only wait to be told to go. */
		close(go[1]);
		_exit(read(go[0], &c, 1) == 1 ? 0 : 1);
	}
	close(go[0]);
	rs_db_close(db);
	db = dur_open(&o); /* RS_EBUSY without the unlock at close */
	dur_put(db, 0, "k", "2");
	rs_db_close(db);
	assert_int_equal(write(go[1], "g", 1), 1);
	close(go[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	dur_rmdir(dir);
}

static void dirlock__forked_child_does_not_keep_the_lock(void **state)
{
	(void)state;
	reopen_while_a_child_waits(false);
}

static void dirlock__close_unlocks_what_a_child_still_holds(void **state)
{
	(void)state;
	reopen_while_a_child_waits(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dirlock__child_holds_parent_is_busy),
		cmocka_unit_test(dirlock__parent_holds_child_is_busy),
		cmocka_unit_test(dirlock__forked_child_does_not_keep_the_lock),
		cmocka_unit_test(
			dirlock__close_unlocks_what_a_child_still_holds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
