/* SPDX-License-Identifier: MIT */
#include "primitives/prim.h"

#include <assert.h>
#include <pthread.h>
#include <sodium.h>
#include <string.h>

#include "util/error.h"
#include "util/utf8.h"

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_rc;

static void sodium_setup(void)
{
	sodium_rc = sodium_init() < 0 ? RS_EIO : 0;
}

int rs__prim_global_init(void)
{
	pthread_once(&sodium_once, sodium_setup);
	return sodium_rc;
}

int rs__prim_check_db_run(const rs_db *db, const rs_run_id *run)
{
	RS_CHECK_ARG(db && run);
	RS_CHECK_ARG(!rs_run_id_is_nil(run));
	return 0;
}

int rs__prim_check_key(const void *key, size_t klen)
{
	RS_CHECK_ARG(key && klen > 0);
	return klen > RS_KEY_MAX ? RS_ETOOBIG : 0;
}

int rs__prim_check_text(const char *s, size_t len, size_t max)
{
	RS_CHECK_ARG(s && len > 0);
	if (len > max)
		return RS_ETOOBIG;
	return rs__utf8_valid(s, len) ? 0 : RS_EUTF8;
}

int rs__prim_check_bytes(const void *p, size_t len)
{
	RS_CHECK_ARG(p || len == 0);
	return len > RS_VALUE_MAX ? RS_ETOOBIG : 0;
}

int rs__prim_check_scan(const rs_scan_options **o)
{
	static const rs_scan_options every = RS_SCAN_OPTIONS_INIT;

	if (!*o)
		*o = &every;
	RS_CHECK_ARG((*o)->version == RS_SCAN_OPTIONS_VERSION);
	RS_CHECK_ARG(((*o)->flags & ~RS_SCAN_REVERSE) == 0);
	return 0;
}

int rs__prim_check_tags(const rs_bytes *tags, size_t n)
{
	RS_CHECK_ARG(tags || n == 0);
	if (n > RS_TAGS_MAX)
		return RS_ETOOBIG;
	for (size_t i = 0; i < n; i++) {
		RS_TRY(rs__prim_check_text(tags[i].data, tags[i].len,
					   RS_TAG_MAX));
		for (size_t j = 0; j < i; j++)
			RS_CHECK_ARG(tags[j].len != tags[i].len ||
				     memcmp(tags[j].data, tags[i].data,
					    tags[i].len) != 0);
	}
	return 0;
}

size_t rs__tags_size(const rs_bytes *tags, size_t n)
{
	size_t size = 0;

	for (size_t i = 0; i < n; i++)
		size += 4 + tags[i].len;
	return size;
}

unsigned char *rs__tags_put(unsigned char *p, const rs_bytes *tags, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		rs__put_u32(p, (uint32_t)tags[i].len);
		memcpy(p + 4, tags[i].data, tags[i].len);
		p += 4 + tags[i].len;
	}
	return p;
}

/* The size of n encoded tags within avail bytes, or SIZE_MAX. */
static size_t tags_scan(const unsigned char *p, size_t avail, size_t n)
{
	size_t off = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t len;

		if (avail - off < 4)
			return SIZE_MAX;
		len = rs__get_u32(p + off);
		if (avail - off - 4 < len)
			return SIZE_MAX;
		off += 4 + len;
	}
	return off;
}

size_t rs__tags_read(const unsigned char *p, size_t avail, size_t *n_out,
		     const unsigned char **enc_out)
{
	size_t n, size;

	if (avail < 4 || (n = rs__get_u32(p)) > RS_TAGS_MAX)
		return 0;
	if ((size = tags_scan(p + 4, avail - 4, n)) == SIZE_MAX)
		return 0;
	*n_out = n;
	*enc_out = p + 4;
	return 4 + size;
}

int rs__tags_at(const void *enc, size_t n, size_t i, rs_bytes *out)
{
	const unsigned char *p = enc;

	RS_CHECK_ARG(out && (enc || n == 0) && i < n);
	/* The list was checked by rs__tags_read() when it was read. */
	while (i-- > 0)
		p += 4 + rs__get_u32(p);
	out->len = rs__get_u32(p);
	out->data = p + 4;
	return 0;
}

size_t rs__ol_prefix(unsigned char *out, uint8_t kind, const void *name,
		     size_t len)
{
	assert(len <= RS__OL_PREFIX_MAX - 5);
	out[0] = kind;
	rs__put_u32(out + 1, (uint32_t)len);
	memcpy(out + 5, name, len);
	return 5 + len;
}

unsigned char *rs__cc_u64(rs__cc *cc, uint64_t v)
{
	unsigned char *p = rs__cc_alloc(cc, 8);

	if (p)
		rs__put_u64(p, v);
	return p;
}

int rs__prim_read_u64(int rc, rs_bytes v, uint64_t *len_out)
{
	if (rc == RS_ENOTFOUND) {
		*len_out = 0;
		return 0;
	}
	RS_TRY(rc);
	if (v.len != 8)
		return RS_ECORRUPT;
	*len_out = rs__get_u64(v.data);
	return 0;
}

int rs__ol_append(rs__cc *cc, uint8_t tag, const unsigned char *prefix,
		  size_t plen, const void *val, size_t vlen, uint64_t *ord_out)
{
	unsigned char key[RS__OL_KEY_MAX];
	unsigned char *len;
	rs_bytes v;
	uint64_t n;

	assert(plen <= RS__OL_PREFIX_MAX);
	RS_TRY(rs__prim_read_u64(rs__cc_read(cc, tag, prefix, plen, &v), v,
				 &n));
	if (!(len = rs__cc_u64(cc, n + 1)))
		return RS_ENOMEM;
	memcpy(key, prefix, plen);
	rs__put_u64(key + plen, n);
	RS_TRY(rs__cc_write(cc, tag, key, plen + 8, val, vlen, 0));
	RS_TRY(rs__cc_write(cc, tag, prefix, plen, len, 8, 0));
	if (ord_out)
		*ord_out = n;
	return 0;
}

int rs__ol_len(rs_txn *txn, uint8_t tag, const unsigned char *prefix,
	       size_t plen, uint64_t *len_out)
{
	rs_bytes v;

	return rs__prim_read_u64(rs__txn_read(txn, tag, prefix, plen, &v), v,
				 len_out);
}

int rs__ol_get(rs_txn *txn, uint8_t tag, const unsigned char *prefix,
	       size_t plen, uint64_t ord, rs_bytes *out)
{
	unsigned char key[RS__OL_KEY_MAX];

	assert(plen <= RS__OL_PREFIX_MAX);
	int rc;

	memcpy(key, prefix, plen);
	rs__put_u64(key + plen, ord);
	rc = rs__txn_read(txn, tag, key, plen + 8, out);
	/* Lists have no holes: the length says this entry exists. */
	return rc == RS_ENOTFOUND ? RS_ECORRUPT : rc;
}
