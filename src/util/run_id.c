/* SPDX-License-Identifier: MIT */
/*
 * Run ids: RFC 4122 version-4 UUIDs, generated from the OS random source,
 * in the canonical 8-4-4-4-12 text form.
 */
#include "util/run_id.h"

#include "util/error.h"
#include "util/random.h"

const rs_run_id rs__nil_run = { { 0 } };

int rs_run_id_generate(rs_run_id *out)
{
	rs_run_id id;

	RS_CHECK_ARG(out);
	RS_TRY(rs__random_bytes(id.bytes, sizeof(id.bytes)));
	id.bytes[6] = (uint8_t)((id.bytes[6] & 0x0f) | 0x40); /* version 4 */
	id.bytes[8] = (uint8_t)((id.bytes[8] & 0x3f) | 0x80); /* RFC 4122 */
	*out = id;
	return 0;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool is_hyphen_pos(size_t i)
{
	return i == 8 || i == 13 || i == 18 || i == 23;
}

int rs_run_id_parse(rs_run_id *out, const char *str, size_t len)
{
	rs_run_id id;
	size_t b = 0;

	RS_CHECK_ARG(out && str);
	RS_CHECK_ARG(len == RS_RUN_ID_STRLEN);
	for (size_t i = 0; i < len;) {
		int hi, lo;

		if (is_hyphen_pos(i)) {
			RS_CHECK_ARG(str[i] == '-');
			i++;
			continue;
		}
		hi = hex_value(str[i]);
		lo = hex_value(str[i + 1]);
		RS_CHECK_ARG(hi >= 0 && lo >= 0 && !is_hyphen_pos(i + 1));
		id.bytes[b++] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	*out = id;
	return 0;
}

int rs_run_id_format(const rs_run_id *id, char *buf, size_t cap)
{
	static const char digits[] = "0123456789abcdef";
	size_t o = 0;

	RS_CHECK_ARG(id && buf);
	if (cap < RS_RUN_ID_STRLEN + 1)
		return RS_ENOSPC;
	for (size_t b = 0; b < 16; b++) {
		if (b == 4 || b == 6 || b == 8 || b == 10)
			buf[o++] = '-';
		buf[o++] = digits[id->bytes[b] >> 4];
		buf[o++] = digits[id->bytes[b] & 15];
	}
	buf[o] = '\0';
	return 0;
}

bool rs_run_id_is_nil(const rs_run_id *id)
{
	return !id || rs__run_id_eq(id, &rs__nil_run);
}
