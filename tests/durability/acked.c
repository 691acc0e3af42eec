/* SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L
#include "acked.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dur_util.h"

static void value(char *buf, size_t n, char which, unsigned r, unsigned i)
{
	/* Long enough that a dozen records fill a 4 KiB segment. */
	snprintf(buf, n,
		 "%c-run%u-commit%04u-................................"
		 "........................................",
		 which, r, i);
}

rs_db_options ack_opts(const char *path, rs_durability mode)
{
	rs_db_options o = RS_DB_OPTIONS_INIT;

	o.durability = mode;
	o.path = path;
	o.segment_bytes = 4096;
	o.checkpoint_wal_bytes = RS_CHECKPOINT_NEVER;
	o.flush_interval_ms = 3600000;
	return o;
}

int ack_open(const rs__io *io, const rs_db_options *o, rs_db **out)
{
	int rc;

	rs__test_io(io);
	if ((rc = rs_db_open(out, o)) != 0)
		rs__test_io(NULL);
	return rc;
}

void ack_close(rs_db *db)
{
	rs_db_close(db);
	rs__test_io(NULL);
}

int ack_commit(rs_db *db, ack_model *m, unsigned r, rs_durability mode)
{
	ack_run *ar = &m->run[r];
	rs_run_id id = dur_run(r);
	unsigned i = ar->called + 1;
	char k[16], v[160], n[16];
	rs_txn *txn;
	int rc;

	if ((rc = rs_txn_begin(&txn, db, &id, 0)) < 0)
		return rc;
	rs_txn_set_durability(txn, mode);
	snprintf(n, sizeof(n), "%u", i);
	snprintf(k, sizeof(k), "a%04u", i);
	value(v, sizeof(v), 'a', r, i);
	if ((rc = rs_txn_kv_put(txn, k, strlen(k), v, strlen(v))) == 0) {
		snprintf(k, sizeof(k), "b%04u", i);
		value(v, sizeof(v), 'b', r, i);
		rc = rs_txn_kv_put(txn, k, strlen(k), v, strlen(v));
	}
	if (rc == 0)
		rc = rs_txn_kv_put(txn, "n", 1, n, strlen(n));
	if (rc < 0) {
		rs_txn_abort(txn);
		return rc;
	}
	ar->called = i;
	rc = rs_txn_commit(txn);
	if (rc == 0)
		ar->acked = i;
	else if (ar->err == 0)
		ar->err = rc;
	return rc;
}

void ack_flushed(ack_model *m)
{
	for (unsigned r = 0; r < ACK_RUNS; r++)
		m->run[r].durable = m->run[r].acked;
}

/* The value of key in run r: 1 (equal to want), 0 (absent), -1 (else). */
static int probe(rs_db *db, unsigned r, const char *key, const char *want)
{
	char *got = dur_get(db, r, key);
	int rc = !got ? 0 : strcmp(got, want) == 0 ? 1 : -1;

	free(got);
	return rc;
}

bool ack_check(rs_db *db, const ack_model *m, bool strict, unsigned extra,
	       char *msg, size_t msglen, unsigned *lost_out)
{
	unsigned lost = 0;
	bool ok = true;

	msg[0] = '\0';
	for (unsigned r = 0; r < ACK_RUNS && ok; r++) {
		const ack_run *ar = &m->run[r];
		unsigned min = strict ? ar->acked : ar->durable, got = 0;
		rs_run_id id = dur_run(r);
		uint64_t version = 0;
		char buf[32], k[16], v[160];
		size_t len = 0;
		int rc;

		rc = rs_kv_get(db, &id, "n", 1, buf, sizeof(buf) - 1, &len);
		if (rc == 0) {
			buf[len] = '\0';
			got = (unsigned)strtoul(buf, NULL, 10);
		} else if (rc != RS_ENOTFOUND) {
			snprintf(msg, msglen, "run %u: get n: %s", r,
				 rs_errname(rc));
			return false;
		}
		if (got < min)
			lost += min - got;
		if (got < min || got > ar->called || got > ar->acked + extra) {
			snprintf(msg, msglen,
				 "run %u: %u commits survive; acknowledged %u "
				 "(durable %u), attempted %u",
				 r, got, ar->acked, ar->durable, ar->called);
			ok = false;
			break;
		}
		if (rs_db_run_version(db, &id, &version) != 0 ||
		    version != got) {
			snprintf(msg, msglen, "run %u: version %llu, n %u", r,
				 (unsigned long long)version, got);
			ok = false;
			break;
		}
		/* Whole commits 1..got, nothing of any later one. */
		for (unsigned i = 1; i <= ar->called && ok; i++) {
			for (char w = 'a'; w <= 'b'; w++) {
				int p;

				snprintf(k, sizeof(k), "%c%04u", w, i);
				value(v, sizeof(v), w, r, i);
				p = probe(db, r, k, v);
				if (p != (i <= got)) {
					snprintf(msg, msglen,
						 "run %u: commit %u key %s %s "
						 "(n = %u): part of a "
						 "transaction",
						 r, i, k,
						 p < 0	 ? "wrong"
						 : p > 0 ? "present"
							 : "missing",
						 got);
					ok = false;
					break;
				}
			}
		}
	}
	if (lost_out)
		*lost_out = lost;
	return ok;
}
