// SPDX-License-Identifier: MIT
//
// Report 5, Redis competitiveness: runstate in process beside a live
// Redis on a unix socket, unpipelined and pipelined.

#include "gates.h"

#include "format.h"

namespace
{

const Gate &unpipelined(const std::string &op)
{
	return gate("vs Redis (unix socket): " + op + ", unpipelined");
}

const Gate &pipelined(const std::string &op)
{
	return gate("vs Redis (unix socket): " + op + ", pipelined");
}

} // namespace

const std::vector<PeerRow> kRedisRows = {
	{ "GET", "kvstore_get", "peer_redis_get", nullptr, false },
	{ "SET", "kvstore_put", "peer_redis_set", nullptr, false },
	{ "INCR", "peer_runstate_incr_txn", "peer_redis_incr", nullptr, false },
	{ "MULTI/EXEC, 2 SETs", "peer_runstate_txn_2put",
	  "peer_redis_multi_exec_2set", nullptr, false },
	{ "LPUSH", "eventlog_append", "peer_redis_lpush", nullptr, false },
	{ "LPOP", "eventlog_read", "peer_redis_lpop", nullptr, false },
};

std::string Reports::redis() const
{
	std::string out = "## 5. Redis competitiveness (same run)\n\n";
	std::string status = note("redis.status");
	if (!status.empty())
		out += "Redis: " + status + ".\n";
	else
		out += "Redis " +
		       (note("redis.version").empty()
				? std::string("(version unknown)")
				: note("redis.version")) +
		       " (" + note("redis.server") +
		       "), started by the bench on a unix socket, --save '' "
		       "--appendonly no; client " +
		       note("redis.client") +
		       ". Unpipelined: one request, wait for its reply "
		       "(client-observed latency). Pipelined: 100 operations "
		       "per round trip, cost per operation. An unpipelined "
		       "round trip depends on how fast an idle CPU wakes up "
		       "(notably in virtual machines) and can vary severalfold "
		       "between runs: compare with --benchmark_repetitions.\n";
	Table t;
	t.head = { "op",
		   "runstate (in process)",
		   "Redis unpipelined",
		   "Redis pipelined",
		   "runstate vs unpipelined",
		   "vs pipelined" };
	std::string goals;
	for (const PeerRow &r : kRedisRows) {
		Val rs = bench(r.rs);
		std::string rn = r.peer;
		Val un = peer(rn, "redis"),
		    pi = peer(rn + "_pipelined", "redis");
		std::string rst = rs.kind == Val::NOT_IMPL
					  ? "not yet implemented (" +
						    std::string(r.rs) + ")"
					  : std::string(r.rs) + " " +
						    val_text(rs, Unit::NS);
		Val x1 = rs.kind == Val::NOT_IMPL ? Val::not_run("—")
						  : ratio(un, rs);
		Val x2 = rs.kind == Val::NOT_IMPL ? Val::not_run("—")
						  : ratio(pi, rs);
		t.add({ r.what, rst, val_text(un, Unit::NS),
			val_text(pi, Unit::NS), val_text(x1, Unit::X),
			val_text(x2, Unit::X) });
		if (std::string(r.what) == "GET" ||
		    std::string(r.what) == "SET") {
			const Bound &gu = unpipelined(r.what).goal,
				    &gp = pipelined(r.what).goal;
			auto j = [](const Val &v, const Bound &g) {
				return v.kind != Val::OK ? val_text(v, Unit::X)
				       : g.pass(Unit::X, v.v)
					       ? fmt_x(v.v) + " PASS"
					       : fmt_x(v.v) + " FAIL";
			};
			goals += std::string(goals.empty() ? "" : "; ") +
				 r.what + ": " + j(x1, gu) + " (" +
				 gu.cmp_text() + " unpipelined), " + j(x2, gp) +
				 " (" + gp.cmp_text() + " pipelined)";
		}
	}
	out += "\n" + t.str() + "\n";
	out += "Ratios: Redis time / runstate time (above 1×: runstate is "
	       "faster). Goal \"" +
	       unpipelined("GET").goal.cmp_text() +
	       " faster than Redis unpipelined, " +
	       pipelined("GET").goal.cmp_text() +
	       " faster than pipelined\" (GET, SET): " + goals + ".\n";
	return out;
}
