/* SPDX-License-Identifier: MIT */
/*
 * The driver of a fuzz target without libFuzzer: every argument is a file
 * or a directory, and every file (a directory's regular files, in name
 * order) is passed once to LLVMFuzzerTestOneInput(). ctest runs each
 * target this way over its seed corpus (tests/fuzz/corpus/<target>/,
 * label `fuzz`) in every build, so a reproducer added there is a
 * regression test. A finding aborts (fz_fail or a sanitizer); an empty
 * corpus is an error, so the test cannot pass by reading nothing.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz/fuzz_common.h"

static unsigned long n_inputs;

static void run_file(const char *path)
{
	size_t len;
	unsigned char *p = fz_read(path, &len);

	if (!p) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		exit(2);
	}
	if (getenv("RS_FUZZ_VERBOSE"))
		fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
	/* An exact-size copy, so that ASan sees a read past the end. */
	{
		unsigned char *q = malloc(len ? len : 1);

		if (!q)
			exit(2);
		memcpy(q, p, len);
		free(p);
		LLVMFuzzerTestOneInput(q, len);
		free(q);
	}
	n_inputs++;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static void run_dir(const char *dir)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, by_name);

	if (n < 0) {
		fprintf(stderr, "replay: cannot list %s\n", dir);
		exit(2);
	}
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		if (ents[i]->d_name[0] != '.' && stat(path, &st) == 0 &&
		    S_ISREG(st.st_mode))
			run_file(path);
		free(ents[i]);
	}
	free(ents);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: no such file %s\n", argv[i]);
			return 2;
		}
		if (S_ISDIR(st.st_mode))
			run_dir(argv[i]);
		else
			run_file(argv[i]);
	}
	printf("replay: %lu inputs, no finding\n", n_inputs);
	return n_inputs ? 0 : 1;
}
