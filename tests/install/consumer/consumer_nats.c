/* SPDX-License-Identifier: MIT */
/*
 * A consumer of the installed JetStream backend (runstate_nats): it links
 * librunstate_nats.a and libnats through the package and checks the
 * backend's argument validation and a refused connection, without a
 * server.
 */
#include <runstate.h>
#include <runstate/nats.h>

#include <stdio.h>

int main(void)
{
	rs_nats_options o = RS_NATS_OPTIONS_INIT;
	rs_nats_stats s = RS_NATS_STATS_INIT;
	rs_nats *n = NULL;
	rs_db *db = NULL;
	int rc;

	if (rs_nats_open(&n, &db, NULL, NULL) != RS_EINVAL || n || db)
		return 1;
	o.servers = "nats://127.0.0.1:1";
	o.name = "bad name";
	if (rs_nats_open(&n, &db, &o, NULL) != RS_EINVAL)
		return 2;
	if (rs_nats_stat(NULL, &s) != RS_EINVAL || rs_nats_db(NULL))
		return 3;
	rs_nats_close(NULL);
	/* Port 1 on loopback refuses: the client library runs, and the
	 * backend reports the failure as RS_EIO, leaving nothing open. */
	o.name = "consumer";
	o.ack_timeout_ms = 500;
	rc = rs_nats_open(&n, &db, &o, NULL);
	if (rc != RS_EIO || n || db)
		return 4;
	printf("nats consumer: runstate %s, refused connection: %s\n",
	       rs_version_string(), rs_strerror(rc));
	return 0;
}
