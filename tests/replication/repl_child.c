/* SPDX-License-Identifier: MIT */
/*
 * The replication tests' writer process (started by fork and exec, so the
 * NATS client starts fresh in it):
 *
 *   repl_child <servers> <name> <replicas> <count>
 *
 * Opens <name> as the writer (Strict), prints "READY", then commits count
 * transactions on the run RT_RUN_TEXT, each a KV put (rt_key(i) =
 * rt_val(i)) and an EventLog append ("step", i) together, printing
 * "A <i>" after each acknowledged commit and "E <i> <error>" after a
 * failed one. On RS_EFENCED it prints "F <i> absent" (or "present": a
 * bug) after checking its own database for the rejected key, and exits
 * 3. Exits 0 after count commits, 2 when the open fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "repl_util.h"

int main(int argc, char **argv)
{
	rs_run_id run = rt_run();
	rs_nats *n = NULL;
	rs_db *db = NULL;
	long count;
	int rc;

	if (argc != 5)
		return 64;
	count = atol(argv[4]);
	rc = rt_open(&n, &db, argv[1], argv[2], atoi(argv[3]), 0,
		     RS_DURABILITY_STRICT, 2000);
	if (rc < 0) {
		printf("OPEN %s\n", rs_errname(rc));
		return 2;
	}
	printf("READY\n");
	fflush(stdout);
	for (long i = 0; i < count; i++) {
		char k[24], v[24], pl[24];
		rs_txn *txn = NULL;

		rt_key(k, sizeof(k), i);
		rt_val(v, sizeof(v), i);
		snprintf(pl, sizeof(pl), "%ld", i);
		rc = rs_txn_begin(&txn, db, &run, 0);
		if (rc == 0)
			rc = rs_txn_kv_put(txn, k, strlen(k), v, strlen(v));
		if (rc == 0)
			rc = rs_txn_eventlog_append(txn, "step", 4, pl,
						    strlen(pl), NULL);
		if (rc == 0)
			rc = rs_txn_commit(txn);
		else
			rs_txn_abort(txn);
		if (rc == 0) {
			printf("A %ld\n", i);
		} else if (rc == RS_EFENCED) {
			printf("F %ld %s\n", i,
			       rt_has(db, i) ? "present" : "absent");
			fflush(stdout);
			rs_nats_close(n);
			return 3;
		} else {
			printf("E %ld %s\n", i, rs_errname(rc));
		}
		fflush(stdout);
	}
	rs_nats_close(n);
	return 0;
}
