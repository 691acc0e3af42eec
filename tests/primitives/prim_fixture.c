/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "prim_fixture.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

static rs_storage g_storage;

int fx_setup(void **state)
{
	rs_db_options o = RS_DB_OPTIONS_INIT;
	fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	o.storage = g_storage;
	f->storage = g_storage;
	if (rs_db_open(&f->db, &o) != 0 || rs_run_id_generate(&f->run) != 0) {
		rs_db_close(f->db);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

int fx_teardown(void **state)
{
	fx *f = *state;

	rs_db_close(f->db);
	free(f);
	return 0;
}

int fx_open_dir(rs_db **db, rs_durability mode, rs_storage storage,
		const char *path)
{
	rs_db_options o = RS_DB_OPTIONS_INIT;

	o.durability = mode;
	o.path = path;
	o.storage = storage;
	return rs_db_open(db, &o);
}

static int rm_entry(const char *path, const struct stat *sb, int flag,
		    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int fx_remove_dir(const char *path)
{
	return nftw(path, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static int run_group(const char *name, const char *store,
		     const struct CMUnitTest *tests, size_t n)
{
	char title[128];

	snprintf(title, sizeof(title), "%s/%s", name, store);
	return _cmocka_run_group_tests(title, tests, n, NULL, NULL);
}

int fx_run_both(const char *name, const struct CMUnitTest *tests, size_t n)
{
	int failed;

	g_storage = RS_STORAGE_SHARDED;
	failed = run_group(name, "sharded", tests, n);
	g_storage = RS_STORAGE_UNIFIED;
	failed += run_group(name, "unified", tests, n);
	return failed;
}
