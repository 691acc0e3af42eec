/* SPDX-License-Identifier: MIT */
/*
 * An in-process replicated log for tests of the replication interface
 * (<runstate/durability.h>, version 2): a "shipping" durability backend.
 *
 * One ship_log is the shared history: the records every writer's commit
 * appended (deep copies, in hand-off order), and the newest checkpoint
 * image with the log position it covers. Each database opened on it has
 * its own ship_node (its durability_ctx):
 *  - a writer (ship_open_writer): `commit` appends under the log's lock,
 *    or returns RS_EFENCED once another node was promoted (its epoch is
 *    no longer the log's); `checkpoint` stores the image;
 *  - a follower (ship_open_follower, RS_DB_F_FOLLOWER): at open it loads
 *    the newest image and replays the records after its position, then a
 *    tail thread rs_db_apply()s every record appended later, in order;
 *    `promote` fences the log (epoch + 1), waits for the tail to apply
 *    everything, stops it, and the node becomes the log's writer.
 *
 * ship_dump() is a canonical text of a database's whole state (every
 * run's version, base, flags and entries of every tag, the drop mark),
 * read through the library's own image (internal API: tests that use it
 * link the static library), to compare two databases byte for byte.
 *
 * Plain C, no CMocka: failures of the tail thread are kept in the node
 * (ship_node.tail_err) for the test thread to assert.
 */
#ifndef RS_TESTS_COMMON_RS_SHIP_H
#define RS_TESTS_COMMON_RS_SHIP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <runstate.h>

typedef struct ship_rec ship_rec;
typedef struct ship_image ship_image;

typedef struct ship_log {
	pthread_mutex_t mu;
	pthread_cond_t cv; /* a record appended */
	ship_rec **recs;   /* position i+1 is recs[i] */
	size_t n, cap;
	uint64_t epoch;	  /* the writer's; promote moves it */
	ship_image *img;  /* the newest checkpoint, or NULL */
	size_t img_pos;	  /* the log position it covers */
	uint64_t fenced;  /* commits refused with RS_EFENCED */
	uint64_t commits; /* commits appended */
} ship_log;

typedef struct ship_node {
	ship_log *log;
	rs_db *db;
	uint64_t epoch; /* as a writer: the log's when it became one */
	_Atomic bool follower;
	/* Recovery: records replayed (applied or skipped) and whether an
	 * image was loaded. */
	size_t replayed;
	bool loaded_image;
	/* The follower's position: records applied (or skipped) so far. */
	_Atomic size_t applied;
	_Atomic uint64_t applied_ts; /* the newest applied record's time */
	pthread_t tail;
	bool tail_running;
	_Atomic bool stop;
	_Atomic int tail_err; /* the first failure of rs_db_apply, or 0 */
	/* Calls of each callback. */
	_Atomic unsigned commits, checkpoints, promotes;
} ship_node;

void ship_log_init(ship_log *log);
void ship_log_free(ship_log *log);
/* Records in the log now. */
size_t ship_log_len(ship_log *log);

/* The backend (version 2, every callback set). */
const rs_durability_ops *ship_ops(void);

/* Open a database on the log: 0 or rs_db_open()'s error. `storage`:
 * RS_STORAGE_SHARDED or (experimental) RS_STORAGE_UNIFIED. */
int ship_open_writer(ship_log *log, ship_node *node, rs_storage storage);
int ship_open_follower(ship_log *log, ship_node *node, rs_storage storage);
/* Stop the tail thread (if any) and close the database. */
void ship_close(ship_node *node);
/* Wait (bounded: 20 s) until the follower applied every record of the
 * log; false on a timeout or a tail failure. */
bool ship_wait_caught_up(ship_node *node);

/* The whole state of db as canonical text (malloc'd; free()). */
char *ship_dump(rs_db *db);

#endif
