/* SPDX-License-Identifier: MIT */
/* The README's example: one transaction over KV, EventLog and StateCell. */
#include <runstate.h>
#include <stdio.h>

int main(void)
{
	rs_db *db;
	rs_run_id run;
	rs_txn *txn;
	uint64_t cell_version, len;
	int rc;

	if ((rc = rs_db_open(&db, NULL)) != 0) /* in-memory, sharded store */
		return fprintf(stderr, "open: %s\n", rs_strerror(rc)), 1;
	rs_run_id_generate(&run);

	/* One atomic step of an agent: the plan, what happened, the phase. */
	rs_txn_begin(&txn, db, &run, 0);
	rs_txn_kv_put(txn, "plan", 4, "search, then answer", 19);
	rs_txn_eventlog_append(txn, "tool_call", 9, "{\"tool\":\"search\"}", 17,
			       NULL);
	rs_txn_statecell_init(txn, "phase", 5, "searching", 9, NULL);
	rc = rs_txn_commit(txn); /* all three, or none; RS_ECONFLICT if raced */
	printf("commit: %s\n", rs_strerror(rc));

	char buf[64];
	size_t n;
	rs_statecell_read(db, &run, "phase", 5, buf, sizeof buf, &n,
			  &cell_version);
	rs_eventlog_len(db, &run, &len);
	printf("phase %.*s (version %llu), %llu event(s)\n", (int)n, buf,
	       (unsigned long long)cell_version, (unsigned long long)len);
	rs_db_close(db);
	return rc == 0 ? 0 : 1;
}
