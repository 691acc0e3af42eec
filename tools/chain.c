/* SPDX-License-Identifier: MIT */
/*
 * The event hash of docs/eventlog-chain.md, computed from that page and
 * not from the library's code, so that verify and import check a chain
 * the way any outside reader would.
 */
#include "tool.h"

#include <sodium.h>

static void put_be64(crypto_generichash_state *st, uint64_t v)
{
	unsigned char b[8];

	for (int i = 7; i >= 0; i--) {
		b[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
	crypto_generichash_update(st, b, sizeof(b));
}

void tool_event_hash(uint64_t seq, const void *type, size_t type_len,
		     const void *payload, size_t payload_len,
		     uint64_t timestamp_ns, const uint8_t prev[RS_HASH_LEN],
		     uint8_t out[RS_HASH_LEN])
{
	static const char domain[16] = "runstate.event.1";
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, RS_HASH_LEN);
	crypto_generichash_update(&st, (const unsigned char *)domain,
				  sizeof(domain));
	put_be64(&st, seq);
	put_be64(&st, type_len);
	if (type_len)
		crypto_generichash_update(&st, type, type_len);
	put_be64(&st, payload_len);
	if (payload_len)
		crypto_generichash_update(&st, payload, payload_len);
	put_be64(&st, timestamp_ns);
	crypto_generichash_update(&st, prev, RS_HASH_LEN);
	crypto_generichash_final(&st, out, RS_HASH_LEN);
}
