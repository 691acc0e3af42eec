/* SPDX-License-Identifier: MIT */
/*
 * Public entry points: version, run ids, database open/close and
 * transactions. Argument checks live here; the work is in txn/.
 */
#include <stddef.h>
#include <string.h>

#include "durability/durability.h"
#include "durability/wal_format.h"
#include "primitives/prim.h"
#include "storage/store.h"
#include "txn/txn.h"
#include "util/error.h"
#include "util/perf.h"
#include "util/random.h"
#include "util/rcu.h"

unsigned rs_version(void)
{
	return RS_VERSION_NUMBER;
}

const char *rs_version_string(void)
{
	return RS_VERSION_STRING;
}

/* ---- database ---- */

#define FLUSH_INTERVAL_MAX_MS 3600000u
#define SEGMENT_MIN 4096u
#define SEGMENT_MAX (1ull << 40)

static bool mode_valid(rs_durability m)
{
	return m == RS_DURABILITY_INMEMORY || m == RS_DURABILITY_BUFFERED ||
	       m == RS_DURABILITY_STRICT;
}

static int check_options(const rs_db_options *o)
{
	if (o->version != RS_DB_OPTIONS_VERSION)
		return RS_EVERSION;
	RS_CHECK_ARG((o->flags & ~(RS_DB_F_SALVAGE | RS_DB_F_FOLLOWER)) == 0);
	RS_CHECK_ARG(!(o->flags & RS_DB_F_FOLLOWER) || o->durability_ops);
	RS_CHECK_ARG(o->storage == RS_STORAGE_SHARDED ||
		     o->storage == RS_STORAGE_UNIFIED);
	RS_CHECK_ARG(mode_valid(o->durability));
	RS_CHECK_ARG(o->flush_interval_ms <= FLUSH_INTERVAL_MAX_MS);
	RS_CHECK_ARG(o->segment_bytes == 0 ||
		     (o->segment_bytes >= SEGMENT_MIN &&
		      o->segment_bytes <= SEGMENT_MAX));
	if (o->durability_ops) {
		/* Version 1 has the fields up to close (custom.c). */
		if (o->durability_ops->version != 1 &&
		    o->durability_ops->version != RS_DURABILITY_OPS_VERSION)
			return RS_EVERSION;
		RS_CHECK_ARG(o->durability_ops->commit);
		RS_CHECK_ARG(o->path == NULL);
		return 0;
	}
	if (o->durability == RS_DURABILITY_INMEMORY)
		RS_CHECK_ARG(o->path == NULL);
	else
		RS_CHECK_ARG(o->path != NULL && o->path[0] != '\0');
	return 0;
}

static uint64_t or_default(uint64_t v, uint64_t def)
{
	return v ? v : def;
}

static void wal_config(const rs_db_options *o, const rs__io *io,
		       rs__wal_config *cfg)
{
	cfg->path = o->path;
	cfg->io = io;
	cfg->mode = o->durability;
	cfg->flush_interval_ns =
		or_default(o->flush_interval_ms, RS_FLUSH_INTERVAL_DEFAULT_MS) *
		1000000u;
	cfg->flush_batch_commits = or_default(o->flush_batch_commits,
					      RS_FLUSH_BATCH_COMMITS_DEFAULT);
	cfg->flush_batch_bytes =
		or_default(o->flush_batch_bytes, RS_FLUSH_BATCH_BYTES_DEFAULT);
	cfg->checkpoint_bytes = or_default(o->checkpoint_wal_bytes,
					   RS_CHECKPOINT_WAL_BYTES_DEFAULT);
	cfg->segment_bytes =
		or_default(o->segment_bytes, RS_SEGMENT_BYTES_DEFAULT);
	cfg->salvage = (o->flags & RS_DB_F_SALVAGE) != 0;
}

/*
 * Open unwinds through one exit. What has been built is told by what is
 * set: the store, the registration (registered), the backend (dur.ops,
 * which owns the lock from the moment open_durability() is called).
 */
static void db_free(rs_db *db, bool registered)
{
	rs__alloc alloc = db->alloc;

	/* Deferred work must finish first: liburcu's own (the run map), and
	 * the batches this database's commits handed to its reclaimer,
	 * which free through db->alloc (rs__db_fini stops the reclaimer). */
	rs__rcu_barrier();
	if (registered)
		rs__db_fini(db);
	if (db->store)
		db->store->ops->destroy(db->store);
	rs__rcu_barrier();
	rs__free(&alloc, db);
}

static int open_durability(rs_db *db, const rs_db_options *o, const rs__io *io,
			   rs__dirlock *lock)
{
	rs__wal_config cfg;
	int rc;

	if (o->durability_ops) {
		RS_TRY(rs__durability_custom_open(&db->dur, &db->alloc,
						  o->durability_ops,
						  o->durability_ctx));
		rc = db->dur.ops->recover(db->dur.state, &db->host);
		if (rc < 0) {
			db->dur.ops->close(db->dur.state);
			db->dur.ops = NULL;
		}
		return rc;
	}
	if (o->durability == RS_DURABILITY_INMEMORY)
		return rs__durability_mem_open(&db->dur, &db->alloc);
	wal_config(o, io, &cfg);
	return rs__durability_wal_open(&db->dur, &db->alloc, &cfg, lock,
				       &db->host);
}

int rs_db_open(rs_db **out, const rs_db_options *opts)
{
	static const rs_db_options defaults = RS_DB_OPTIONS_INIT;
	rs__alloc alloc;
	uint64_t seed;
	rs_db *db;
	bool registered = false;
	const rs__io *io = rs__io_for_open();
	rs__dirlock *lock = NULL;
	int rc;

	RS_CHECK_ARG(out);
	if (!opts)
		opts = &defaults;
	RS_TRY(check_options(opts));
	RS_TRY(rs__alloc_init(&alloc, &opts->allocator));
	RS_TRY(rs__prim_global_init());
	seed = opts->hash_seed;
	while (seed == 0)
		RS_TRY(rs__random_bytes(&seed, sizeof(seed)));
	/* A busy directory is reported before anything else is touched. */
	if (!opts->durability_ops && opts->durability != RS_DURABILITY_INMEMORY)
		RS_TRY(rs__wal_lock_dir(&alloc, io, opts->path, &lock));

	rs__rcu_thread_ensure();
	db = rs__calloc(&alloc, 1, sizeof(*db));
	if (!db) {
		rs__wal_unlock_dir(&alloc, lock);
		return RS_ENOMEM;
	}
	db->alloc = alloc;
	db->mode = opts->durability;
	db->flags = opts->flags;
	atomic_init(&db->follower, (opts->flags & RS_DB_F_FOLLOWER) != 0);
	atomic_init(&db->records_applied, 0);
	rc = opts->storage == RS_STORAGE_UNIFIED
		     ? rs__store_unified_new(&db->store, &db->alloc, seed)
		     : rs__store_sharded_new(&db->store, &db->alloc, seed);
	if (rc < 0)
		goto fail;
	if ((rc = rs__db_init(db)) < 0)
		goto fail;
	registered = true;
	rs__db_host_init(db, &db->host);
	/* Takes over the lock, also on failure (dur.ops stays NULL then). */
	rc = open_durability(db, opts, io, lock);
	lock = NULL;
	if (rc < 0)
		goto fail;
	/* After recovery: rebuilds state derived from the data. */
	if ((rc = rs__runindex_open(db)) < 0)
		goto fail;
	*out = db;
	return 0;
fail:
	if (db->dur.ops && db->dur.ops->close)
		db->dur.ops->close(db->dur.state);
	rs__wal_unlock_dir(&alloc, lock);
	db_free(db, registered);
	return rc;
}

void rs_db_close(rs_db *db)
{
	if (!db)
		return;
	rs__rcu_thread_ensure();
	/* Flushes the log and joins its threads first: they use the
	 * database (checkpoint images) until then. */
	if (db->dur.ops->close)
		db->dur.ops->close(db->dur.state);
	db_free(db, true);
}

int rs_db_flush(rs_db *db)
{
	RS_CHECK_ARG(db);
	if (!db->dur.ops->flush)
		return 0;
	return db->dur.ops->flush(db->dur.state);
}

int rs_db_checkpoint(rs_db *db)
{
	RS_CHECK_ARG(db);
	if (atomic_load(&db->follower))
		return RS_EREADONLY;
	if (!db->dur.ops->checkpoint)
		return RS_ENOTSUP;
	rs__rcu_thread_ensure();
	return db->dur.ops->checkpoint(db->dur.state);
}

/* The layout of version 1: everything up to wal_bytes_since_checkpoint. */
#define STATS_V1_SIZE \
	(offsetof(rs_db_stats, wal_bytes_since_checkpoint) + sizeof(uint64_t))

int rs_db_stat(rs_db *db, rs_db_stats *stats_out)
{
	rs_db_stats all;

	RS_CHECK_ARG(db && stats_out);
	if (stats_out->version != 1 &&
	    stats_out->version != RS_DB_STATS_VERSION)
		return RS_EVERSION;
	/* Filled whole, then copied as far as the caller's version goes. */
	memset(&all, 0, sizeof(all));
	all.version = stats_out->version;
	all.follower = atomic_load(&db->follower);
	all.records_applied = atomic_load(&db->records_applied);
	if (db->dur.ops->stats)
		db->dur.ops->stats(db->dur.state, &all);
	all.version = stats_out->version;
	memcpy(stats_out, &all, all.version == 1 ? STATS_V1_SIZE : sizeof(all));
	return 0;
}

/* ---- replication (runstate/durability.h) ---- */

int rs_db_apply(rs_db *db, const rs_commit_record *rec)
{
	rs__commit_record irec;
	rs__op *ops;
	rs_txn *txn;
	int rc;

	RS_CHECK_ARG(db && rec);
	RS_CHECK_ARG(rs__durability_is_custom(&db->dur));
	/* A drop is a commit of the nil run (txn/commit.c, two runs). */
	RS_CHECK_ARG(rec->kind != RS_RECORD_DROP_RUN ||
		     rs_run_id_is_nil(&rec->run));
	RS_CHECK_ARG(rec->kind != RS_RECORD_DROP_RUN ||
		     memcmp(&rec->run, &rec->drop_run, sizeof(rec->run)) != 0);
	RS_TRY(rs__record_from_public(&db->alloc, rec, true, &irec, &ops));
	/* What no log may hold (durability/wal_format.h). */
	if (rec->version > RS__VERSION_MAX ||
	    (rec->kind == RS_RECORD_DROP_RUN &&
	     rec->drop_version > RS__VERSION_MAX)) {
		rs__free(&db->alloc, ops);
		return RS_ERANGE;
	}
	rs__rcu_thread_ensure();
	rc = rs__txn_apply_begin(&txn, db, &irec);
	if (rc == 0 && (rc = rs__runindex_stage_applied(txn, &irec)) < 0)
		rs__txn_abort(txn);
	if (rc == 0)
		rc = rs__txn_commit_applied(txn, &irec);
	rs__free(&db->alloc, ops);
	return rc;
}

int rs_db_promote(rs_db *db)
{
	RS_CHECK_ARG(db && atomic_load(&db->follower));
	rs__rcu_thread_ensure();
	RS_TRY(db->dur.ops->promote ? db->dur.ops->promote(db->dur.state)
				    : RS_ENOTSUP);
	atomic_store(&db->follower, false);
	return 0;
}

int rs_db_run_version(rs_db *db, const rs_run_id *run, uint64_t *version_out)
{
	rs__run *r;
	int rc;

	RS_CHECK_ARG(db && run && version_out);
	RS_CHECK_ARG(!rs_run_id_is_nil(run));
	rs__rcu_thread_ensure();
	/* The run stays allocated inside the section (a delete may kill it
	 * meanwhile). A run not written (since its delete) reads as the
	 * version it would start at. */
	rs__rcu_read_lock();
	rc = db->store->ops->run_find(db->store, run, false, &r);
	if (rc == 0)
		*version_out = db->store->ops->visible(r);
	else if (rc == RS_ENOTFOUND)
		*version_out = atomic_load(&db->store->run_base);
	rs__rcu_read_unlock();
	return rc == RS_ENOTFOUND ? 0 : rc;
}

/* ---- per-phase timing (RS_PERF_TRACE builds; util/perf.h) ---- */

int rs_perf_read(rs_perf_stats *stats_out)
{
	RS_CHECK_ARG(stats_out);
	if (stats_out->version != RS_PERF_STATS_VERSION)
		return RS_EVERSION;
	return rs__perf_read(stats_out);
}

int rs_perf_reset(void)
{
	return rs__perf_reset();
}

const char *rs_perf_phase_name(rs_perf_phase phase)
{
	return rs__perf_phase_name(phase);
}

/* ---- transactions ---- */

int rs_txn_begin(rs_txn **out, rs_db *db, const rs_run_id *run, uint32_t flags)
{
	RS_CHECK_ARG(out && db && run);
	RS_CHECK_ARG(!rs_run_id_is_nil(run));
	RS_CHECK_ARG((flags & ~RS_TXN_F_READONLY) == 0);
	return rs__txn_begin(out, db, run, flags);
}

int rs_txn_commit(rs_txn *txn)
{
	RS_CHECK_ARG(txn);
	if (txn->state != RS__TXN_ACTIVE)
		return RS_EDONE;
	return rs__txn_commit(txn);
}

void rs_txn_abort(rs_txn *txn)
{
	if (txn && txn->state == RS__TXN_ACTIVE)
		rs__txn_abort(txn);
}

int rs_txn_set_durability(rs_txn *txn, rs_durability mode)
{
	bool logged;

	RS_CHECK_ARG(txn && mode_valid(mode));
	if (txn->state != RS__TXN_ACTIVE)
		return RS_EDONE;
	/* The log must see every version of a durable database, and an
	 * in-memory one has no log to ask for. */
	logged = txn->db->mode != RS_DURABILITY_INMEMORY;
	RS_CHECK_ARG(logged == (mode != RS_DURABILITY_INMEMORY));
	txn->dur_mode = mode;
	return 0;
}

int rs_txn_snapshot_version(const rs_txn *txn, uint64_t *version_out)
{
	RS_CHECK_ARG(txn && version_out);
	if (txn->state != RS__TXN_ACTIVE)
		return RS_EDONE;
	/* A run with no commit yet reads at its base, as rs_db_run_version()
	 * says (the snapshot of a run not created reads nothing at 0). */
	*version_out =
		txn->snap.ver > txn->snap.base ? txn->snap.ver : txn->snap.base;
	return 0;
}

int rs_txn_run(rs_db *db, const rs_run_id *run, uint32_t flags,
	       unsigned max_attempts, rs_txn_fn fn, void *ctx)
{
	RS_CHECK_ARG(db && run && fn);
	RS_CHECK_ARG(!rs_run_id_is_nil(run));
	RS_CHECK_ARG((flags & ~RS_TXN_F_READONLY) == 0);
	return rs__txn_run(db, run, flags, max_attempts, fn, ctx);
}
