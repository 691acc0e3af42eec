/* SPDX-License-Identifier: MIT */
/* runstate/durability.h must come first: it has to stand on its own. */
#include <runstate/durability.h>

#include <stdio.h>

struct seen {
	unsigned commits;
	unsigned kv_ops;
};

static int count_commit(void *ctx, const rs_commit_record *rec)
{
	struct seen *s = ctx;

	s->commits++;
	for (size_t i = 0; i < rec->nops; i++)
		s->kv_ops += rec->ops[i].tag == RS_TAG_KV;
	return 0;
}

int main(void)
{
	rs_durability_ops ops = RS_DURABILITY_OPS_INIT;
	rs_db_options o = RS_DB_OPTIONS_INIT;
	struct seen s = { 0, 0 };
	rs_run_id run;
	rs_db *db;
	int rc;

	ops.commit = count_commit;
	o.durability_ops = &ops;
	o.durability_ctx = &s;
	if ((rc = rs_db_open(&db, &o)) != 0) {
		fprintf(stderr, "rs_db_open: %s\n", rs_errname(rc));
		return 1;
	}
	rc = rs_run_id_generate(&run);
	if (rc == 0)
		rc = rs_kv_put(db, &run, "k", 1, "v", 1);
	rs_db_close(db);
	if (rc != 0 || s.commits != 1 || s.kv_ops != 1) {
		fprintf(stderr, "rc %s, %u commits, %u KV ops; want 1 and 1\n",
			rs_errname(rc), s.commits, s.kv_ops);
		return 1;
	}
	printf("C11: runstate/durability.h alone, backend saw 1 commit\n");
	return 0;
}
