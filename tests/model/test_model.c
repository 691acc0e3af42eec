/* SPDX-License-Identifier: MIT */
/*
 * Model-based test (issue 8, deliver item 1): random steps over several
 * runs (tests/model/driver.h lists them), applied to runstate and to a
 * plain reference model, comparing every return code and value read, then
 * the final state, under each durability mode: InMemory (both storage
 * engines; no reopen), Buffered (reopen after close, which flushes),
 * Strict, and Strict with small segments and automatic checkpoints.
 * Durable modes also reopen at random steps and at the end.
 *
 * Seeded and reproducible. It prints the seed and the steps executed per
 * mode; on a mismatch it prints the failing seed and the shortest failing
 * prefix (found by re-running prefixes on fresh databases), which replay
 * with
 *   RS_MODEL_SEED=<seed> RS_MODEL_OPS=<steps> [RS_MODEL_MODE=<name>]
 *   [RS_MODEL_TRACE=1] test_model
 * (RS_MODEL_TRACE prints every step). The default run is short (ctest
 * label model); `--long` (label slow) runs RS_MODEL_OPS (default 40000)
 * steps per mode from a fresh seed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/rs_test.h"
#include "durability/dur_util.h"
#include "model/driver.h"

typedef struct mode {
	const char *name;
	md_cfg cfg;
} mode;

static const mode modes[] = {
	{ "inmemory",
	  { RS_DURABILITY_INMEMORY, RS_STORAGE_SHARDED, 0, 0, 0, false,
	    false } },
	{ "inmemory-unified",
	  { RS_DURABILITY_INMEMORY, RS_STORAGE_UNIFIED, 0, 0, 0, false,
	    false } },
	{ "buffered",
	  { RS_DURABILITY_BUFFERED, RS_STORAGE_SHARDED, 0, 0, 0, false,
	    false } },
	{ "strict",
	  { RS_DURABILITY_STRICT, RS_STORAGE_SHARDED, 0, 0, 0, false, false } },
	{ "strict-checkpoints",
	  { RS_DURABILITY_STRICT, RS_STORAGE_SHARDED, 16384, 4096, 0, false,
	    false } },
};

static uint64_t g_seed;
static long g_steps = 8000;
static const char *g_mode;
static uint64_t g_total;

/* Run `steps` steps of seed on a fresh database, then check the final
 * state (and again after a reopen). Returns the failing step (1-based; 0
 * for the final checks), or -1 when everything matched. */
static long run_model(const mode *md_mode, uint64_t seed, long steps, char *why,
		      size_t cap, uint64_t *calls, md *stats)
{
	char *dir = md_mode->cfg.mode == RS_DURABILITY_INMEMORY ? NULL
								: dur_tmpdir();
	rs_db_options o = md_options(&md_mode->cfg, dir);
	rs_db *db = NULL;
	long failed = -1;
	md m;
	int rc = rs_db_open(&db, &o);

	if (rc) {
		snprintf(why, cap, "open: %s", rs_errname(rc));
		dur_rmdir(dir);
		return 0;
	}
	md_init(&m, &md_mode->cfg, &db, dir, seed);
	for (long i = 0; i < steps; i++)
		if (!md_step(&m)) {
			failed = m.step;
			break;
		}
	if (failed < 0 && (!md_check_all(&m) || !md_reopen(&m)))
		failed = 0;
	if (failed >= 0)
		snprintf(why, cap, "%s", m.why);
	*calls = m.calls;
	if (stats)
		*stats = m;
	md_free(&m);
	rs_db_close(db);
	dur_rmdir(dir);
	return failed;
}

static void model_mode(const mode *md_mode)
{
	char why[2048], first[2048];
	uint64_t calls = 0;
	md st;
	long at = run_model(md_mode, g_seed, g_steps, first, sizeof(first),
			    &calls, &st);
	long lo = 1, hi = g_steps;

	printf("model %s: seed %" PRIu64 ", %ld steps, %" PRIu64
	       " library calls compared: %s\n"
	       "  (transactions: %" PRIu64 " committed, %" PRIu64
	       " aborted, %" PRIu64 " conflicted, %" PRIu64
	       " refused as archived; %" PRIu64 " reopens, %" PRIu64
	       " checkpoints, %" PRIu64 " runs deleted, %" PRIu64
	       " of their ids lived again; bases up to %" PRIu64 ")\n",
	       md_mode->name, g_seed, g_steps, calls, at < 0 ? "ok" : "FAILED",
	       st.commits, st.aborts, st.conflicts, st.archived, st.reopens,
	       st.checkpoints, st.deletes, st.relived, st.top_base);
	fflush(stdout);
	g_total += calls;
	if (at < 0)
		return;
	/* Shrink: the shortest prefix whose steps (and final checks) fail. */
	if (at > 0)
		hi = at;
	while (lo < hi) {
		long mid = lo + (hi - lo) / 2;
		uint64_t c;

		if (run_model(md_mode, g_seed, mid, why, sizeof(why), &c,
			      NULL) >= 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	run_model(md_mode, g_seed, hi, why, sizeof(why), &calls, NULL);
	fail_msg("model %s: seed %" PRIu64 " fails: %s\n"
		 "shortest failing prefix: %ld steps: %s\n"
		 "replay: RS_MODEL_SEED=%" PRIu64
		 " RS_MODEL_OPS=%ld RS_MODEL_MODE=%s RS_MODEL_TRACE=1",
		 md_mode->name, g_seed, first, hi, why, g_seed, hi,
		 md_mode->name);
}

static void model__every_mode_matches_the_reference(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!g_mode || !strcmp(g_mode, modes[i].name))
			model_mode(&modes[i]);
	printf("model: %" PRIu64 " library calls compared in all\n", g_total);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(model__every_mode_matches_the_reference),
	};
	const char *s = getenv("RS_MODEL_SEED"), *n = getenv("RS_MODEL_OPS");
	bool lng = argc > 1 && !strcmp(argv[1], "--long");

	g_seed = 0x6d6f64656cull;
	if (lng) {
		g_seed = (uint64_t)time(NULL) ^ ((uint64_t)clock() << 32);
		g_steps = 40000;
	}
	if (s)
		g_seed = strtoull(s, NULL, 0);
	if (n)
		g_steps = strtol(n, NULL, 0);
	g_mode = getenv("RS_MODEL_MODE");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
