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
	/* A follower: writes refused, records applied (version 2). */
	o.flags = RS_DB_F_FOLLOWER;
	if ((rc = rs_db_open(&db, &o)) == 0) {
		rs_record_op op = { RS_TAG_KV, false, { "k", 1 }, { "v", 1 } };
		rs_commit_record rec = { 0 };
		rs_db_stats st = RS_DB_STATS_INIT;

		rec.kind = RS_RECORD_COMMIT;
		rec.run = run;
		rec.version = 1;
		rec.ops = &op;
		rec.nops = 1;
		if (rs_kv_put(db, &run, "k", 1, "v", 1) != RS_EREADONLY ||
		    rs_db_apply(db, &rec) != 0 || rs_db_stat(db, &st) != 0 ||
		    !st.follower || st.records_applied != 1 ||
		    rs_db_promote(db) != RS_ENOTSUP)
			rc = RS_EINVAL;
		rs_db_close(db);
	}
	if (rc != 0 || s.commits != 1) {
		fprintf(stderr, "follower: rc %s, %u commits\n", rs_errname(rc),
			s.commits);
		return 1;
	}
	printf("C11: runstate/durability.h alone, backend saw 1 commit\n");
	return 0;
}
