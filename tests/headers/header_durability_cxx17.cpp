/* SPDX-License-Identifier: MIT */
/* runstate/durability.h must come first: it has to stand on its own. */
#include <runstate/durability.h>

#include <cstdio>

namespace
{

unsigned g_commits;

int count_commit(void *, const rs_commit_record *rec)
{
	g_commits += rec->kind == RS_RECORD_COMMIT;
	return 0;
}

} // namespace

int main()
{
	rs_durability_ops ops = RS_DURABILITY_OPS_INIT;
	rs_db_options o = RS_DB_OPTIONS_INIT;
	rs_run_id run;
	rs_db *db;
	int rc;

	ops.commit = count_commit;
	o.durability_ops = &ops;
	if ((rc = rs_db_open(&db, &o)) != 0) {
		std::fprintf(stderr, "rs_db_open: %s\n", rs_errname(rc));
		return 1;
	}
	rc = rs_run_id_generate(&run);
	if (rc == 0)
		rc = rs_kv_put(db, &run, "k", 1, "v", 1);
	rs_db_close(db);
	if (rc != 0 || g_commits != 1) {
		std::fprintf(stderr, "rc %s, %u commits; want 1\n",
			     rs_errname(rc), g_commits);
		return 1;
	}
	/* Version 2: an image sink, a follower, rs_db_apply(). */
	rs_image_sink sink = { nullptr, nullptr, nullptr };
	(void)sink;
	o.flags = RS_DB_F_FOLLOWER;
	if ((rc = rs_db_open(&db, &o)) == 0) {
		rs_commit_record rec = {};

		rec.kind = RS_RECORD_COMMIT;
		rec.run = run;
		rec.version = 1;
		if (rs_kv_put(db, &run, "k", 1, "v", 1) != RS_EREADONLY ||
		    rs_db_apply(db, &rec) != 0 ||
		    rs_db_promote(db) != RS_ENOTSUP)
			rc = RS_EINVAL;
		rs_db_close(db);
	}
	if (rc != 0 || g_commits != 1) {
		std::fprintf(stderr, "follower: rc %s\n", rs_errname(rc));
		return 1;
	}
	std::printf("C++17: runstate/durability.h alone, 1 commit\n");
	return 0;
}
