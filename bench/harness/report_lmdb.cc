// SPDX-License-Identifier: MIT
//
// Report 6, the embedded peer: the same KV workloads on LMDB.

#include "gates.h"

#include "format.h"

const std::vector<PeerRow> kLmdbRows = {
	{ "get, hot key (10k-key database)", "cache_hot_key",
	  "peer_lmdb_get_hot", "vs LMDB: kvstore_get, hot key (cache_hot_key)",
	  false },
	{ "get, uniform over 10k keys", "cache_uniform_10k",
	  "peer_lmdb_get_10k",
	  "vs LMDB: kvstore_get, 10k keys (cache_uniform_10k)", false },
	{ "put + commit, non-durable (LMDB: WRITEMAP + NOSYNC)", "kvstore_put",
	  "peer_lmdb_put_nosync",
	  "vs LMDB: kvstore_put vs put+commit (WRITEMAP, NOSYNC)", false },
	{ "put + commit, durable (LMDB: default flags)", "kvstore_put_strict",
	  "peer_lmdb_put_durable",
	  "vs LMDB: kvstore_put_strict / durable put+commit (time)", true },
	{ "seek + read one entry, 1M keys (LMDB: MDB_SET_RANGE)",
	  "kvstore_seek/1M", "peer_lmdb_seek_1m",
	  "vs LMDB: kvstore_seek/1M vs MDB_SET_RANGE", false },
	{ "seek + 100 entries (LMDB: MDB_SET_RANGE + 99 MDB_NEXT)",
	  "kvstore_scan/100", "peer_lmdb_scan_100",
	  "vs LMDB: kvstore_scan/100 vs SET_RANGE + 99 NEXT", false },
	{ "seek + 100 entries, reverse (LMDB: + 99 MDB_PREV)",
	  "kvstore_scan_reverse/100", "peer_lmdb_scan_reverse_100",
	  "vs LMDB: kvstore_scan_reverse/100 vs SET_RANGE + 99 PREV", false },
};

std::string Reports::lmdb() const
{
	std::string out = "## 6. Embedded peer: LMDB (same run)\n\n";
	std::string status = note("lmdb.status");
	if (!status.empty())
		return out + "LMDB: " + status + ".\n";
	out += "LMDB " + note("lmdb.version") +
	       "; environments in a "
	       "temporary directory on " +
	       (note("lmdb.fs").empty() ? std::string("?") : note("lmdb.fs")) +
	       ".\n\n";
	const Bound &durable = gate(kLmdbRows[3].gate).goal;
	const std::string durable_goal = durable.cmp_text() + " of LMDB's time";
	Table t;
	t.head = { "workload", "runstate", "LMDB", "runstate vs LMDB", "goal" };
	for (const PeerRow &r : kLmdbRows) {
		const Bound &goal = gate(r.gate).goal,
			    &seed = gate(r.gate).seed;
		Val rs = bench(r.rs), lm = peer(r.peer, "lmdb");
		Val x = rs.kind == Val::NOT_IMPL ? Val::not_run("—")
						 : ratio(lm, rs);
		std::string g =
			r.inverse ? durable_goal : goal.cmp_text() + " faster";
		if (x.kind == Val::OK)
			g += goal.pass(Unit::X, r.inverse ? 1 / x.v : x.v)
				     ? ": PASS"
				     : ": FAIL";
		// A seed target too (at least as fast): judged beside.
		if (seed.judged()) {
			g += "; seed " + seed.cmp_text();
			if (x.kind == Val::OK)
				g += seed.pass(Unit::X, x.v) ? ": PASS"
							     : ": FAIL";
		}
		t.add({ r.what,
			rs.kind == Val::NOT_IMPL
				? "not yet implemented (" + std::string(r.rs) +
					  ")"
				: std::string(r.rs) + " " +
					  val_text(rs, Unit::NS),
			std::string(r.peer) + " " + val_text(lm, Unit::NS),
			val_text(x, Unit::X), g });
	}
	out += t.str() +
	       "\nRatios: LMDB time / runstate time (above 1×: "
	       "runstate is faster). LMDB reads renew and reset one "
	       "read transaction per get and copy the value out, as "
	       "rs_kv_get does. Seeks and scans: 1M keys, one read "
	       "transaction and cursor kept for the loop (runstate: one "
	       "one-shot cursor), every value copied out. Durable put: "
	       "kvstore_put_strict (one "
	       "fdatasync per put) against LMDB's default, synced "
	       "commit, both on " +
	       (note("dur.fs").empty() ? std::string("?") : note("dur.fs")) +
	       "; the goal (" + durable_goal + ") holds when the ratio is ≥ " +
	       fmt("%g×", 1 / durable.value(Unit::X)) + ".\n";
	return out;
}
