// SPDX-License-Identifier: MIT
//
// Embedding runstate in C++17: the C API as it is, with RAII owners for
// the handles, an exception for error codes, and a lambda as the body of a
// retried transaction (rs_txn_run takes a plain function pointer and a
// context, so a capture-less trampoline forwards to the lambda).
#include <runstate.h>

#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace
{

struct error : std::runtime_error {
	int code;
	error(const char *what, int rc)
	    : std::runtime_error(std::string(what) + ": " + rs_strerror(rc)),
	      code(rc)
	{
	}
};

void check(const char *what, int rc)
{
	if (rc != 0)
		throw error(what, rc);
}

struct db_closer {
	void operator()(rs_db *db) const
	{
		rs_db_close(db);
	}
};
using db_ptr = std::unique_ptr<rs_db, db_closer>;

db_ptr open_in_memory()
{
	rs_db *db = nullptr;

	check("rs_db_open", rs_db_open(&db, nullptr));
	return db_ptr(db);
}

// Run `body(txn)` in a transaction on `run`, retried on conflict. An
// exception inside the body aborts the attempt and is rethrown here.
template <class F> void transact(rs_db *db, const rs_run_id &run, F &&body)
{
	struct ctx_t {
		F *body;
		std::exception_ptr thrown;
	} ctx{ &body, nullptr };
	auto trampoline = [](rs_txn *txn, void *p) -> int {
		auto *c = static_cast<ctx_t *>(p);
		try {
			(*c->body)(txn);
			return 0;
		} catch (const error &e) {
			return e.code; // RS_ECONFLICT retries, others stop
		} catch (...) {
			c->thrown = std::current_exception();
			return RS_EINVAL;
		}
	};
	int rc = rs_txn_run(db, &run, 0, 0, trampoline, &ctx);
	if (ctx.thrown)
		std::rethrow_exception(ctx.thrown);
	check("rs_txn_run", rc);
}

std::string_view view(rs_bytes b)
{
	return { static_cast<const char *>(b.data), b.len };
}

} // namespace

int main()
{
	try {
		db_ptr db = open_in_memory();
		rs_run_id run;
		check("rs_run_id_generate", rs_run_id_generate(&run));

		transact(db.get(), run, [](rs_txn *txn) {
			std::string_view plan = "summarize the thread";
			check("put", rs_txn_kv_put(txn, "plan", 4, plan.data(),
						   plan.size()));
			check("append",
			      rs_txn_eventlog_append(txn, "user_message", 12,
						     "hi", 2, nullptr));
		});

		std::string seen;
		transact(db.get(), run, [&](rs_txn *txn) {
			rs_bytes v;
			check("get", rs_txn_kv_get(txn, "plan", 4, &v));
			seen = std::string(
				view(v)); // copy out: v dies with txn
		});

		uint64_t events = 0;
		rs_db_stats st = RS_DB_STATS_INIT;
		check("len", rs_eventlog_len(db.get(), &run, &events));
		check("stat", rs_db_stat(db.get(), &st));
		std::printf("plan: %s; %llu event(s); runstate %s\n",
			    seen.c_str(),
			    static_cast<unsigned long long>(events),
			    rs_version_string());
		return seen == "summarize the thread" && events == 1 ? 0 : 1;
	} catch (const std::exception &e) {
		std::fprintf(stderr, "cpp_consumer: %s\n", e.what());
		return 1;
	}
}
