/* SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L
#include "workload.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <setjmp.h>
#include <cmocka.h>

#include "dur_util.h"

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

unsigned wl_run(rs_db *db, unsigned seed, unsigned from, unsigned n)
{
	unsigned records = 0;

	for (unsigned i = from; i < from + n; i++) {
		uint64_t r = mix(((uint64_t)seed << 32) | i);
		rs_run_id run = dur_run((unsigned)(r % WL_RUNS));
		char k[32], v[48];
		unsigned kind = (unsigned)(r >> 8) % 10;

		snprintf(k, sizeof(k), "key%02u", (unsigned)(r >> 16) % 40);
		snprintf(v, sizeof(v), "val-%u-%u", seed, i);
		if (kind < 5) {
			assert_int_equal(
				rs_kv_put(db, &run, k, strlen(k), v, strlen(v)),
				0);
			records++;
		} else if (kind < 7) {
			bool existed = false;

			assert_int_equal(
				rs_kv_delete(db, &run, k, strlen(k), &existed),
				0);
			records += existed;
		} else {
			rs_txn *txn;
			unsigned m = 2 + (unsigned)(r >> 24) % 3;

			assert_int_equal(rs_txn_begin(&txn, db, &run, 0), 0);
			for (unsigned j = 0; j < m; j++) {
				snprintf(k, sizeof(k), "txn%02u",
					 (unsigned)(r >> (28 + 3 * j)) % 20);
				assert_int_equal(rs_txn_kv_put(txn, k,
							       strlen(k), v,
							       strlen(v)),
						 0);
			}
			if (kind == 9) {
				snprintf(k, sizeof(k), "key%02u",
					 (unsigned)(r >> 50) % 40);
				assert_int_equal(rs_txn_kv_delete(txn, k,
								  strlen(k),
								  NULL),
						 0);
			}
			assert_int_equal(rs_txn_commit(txn), 0);
			records++;
		}
	}
	return records;
}
