/* SPDX-License-Identifier: MIT */
/*
 * JSON members of the tool's output and of the portable run format
 * (docs/tool.md), written and read with json-c. Bytes that are UTF-8 text
 * go out as strings (json-c escapes them); any other bytes as base64
 * (libsodium), under the member's name with "_b64" appended, so that a
 * reader always knows which form it has.
 */
#define _GNU_SOURCE
#include "tool.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "util/utf8.h"

static bool is_text(const void *p, size_t len)
{
	return memchr(p, 0, len) == NULL && rs__utf8_valid(p, len);
}

static int add(json_object *o, const char *name, json_object *v)
{
	if (!v)
		return -1;
	if (json_object_object_add(o, name, v) != 0) {
		json_object_put(v);
		return -1;
	}
	return 0;
}

int tj_add_bytes(json_object *o, const char *name, const void *p, size_t len)
{
	char key[96];
	char *b64;
	size_t cap;
	int rc;

	if (!p)
		p = "";
	if (is_text(p, len))
		return add(o, name, json_object_new_string_len(p, (int)len));
	snprintf(key, sizeof(key), "%s_b64", name);
	cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	if (!(b64 = malloc(cap)))
		return -1;
	sodium_bin2base64(b64, cap, p, len, sodium_base64_VARIANT_ORIGINAL);
	rc = add(o, key, json_object_new_string(b64));
	free(b64);
	return rc;
}

int tj_get_bytes(json_object *o, const char *name, unsigned char **out,
		 size_t *len, char *err, size_t errcap)
{
	json_object *t = NULL, *b = NULL;
	char key[96];
	const char *s;
	size_t n;
	unsigned char *p;

	snprintf(key, sizeof(key), "%s_b64", name);
	json_object_object_get_ex(o, name, &t);
	json_object_object_get_ex(o, key, &b);
	if ((t == NULL) == (b == NULL)) {
		snprintf(err, errcap, "needs exactly one of \"%s\" and \"%s\"",
			 name, key);
		return -1;
	}
	if (!json_object_is_type(t ? t : b, json_type_string)) {
		snprintf(err, errcap, "\"%s\" is not a string", t ? name : key);
		return -1;
	}
	s = json_object_get_string(t ? t : b);
	n = (size_t)json_object_get_string_len(t ? t : b);
	if (!(p = malloc(n + 1))) {
		snprintf(err, errcap, "out of memory");
		return -1;
	}
	if (t) {
		memcpy(p, s, n);
		*len = n;
	} else if (sodium_base642bin(p, n + 1, s, n, NULL, len, NULL,
				     sodium_base64_VARIANT_ORIGINAL) != 0) {
		free(p);
		snprintf(err, errcap, "\"%s\" is not valid base64", key);
		return -1;
	}
	p[*len] = 0;
	*out = p;
	return 0;
}

int tj_add_hex(json_object *o, const char *name, const uint8_t *p, size_t n)
{
	char hex[2 * RS_HASH_LEN + 1];

	if (n > RS_HASH_LEN)
		return -1;
	sodium_bin2hex(hex, sizeof(hex), p, n);
	return add(o, name, json_object_new_string(hex));
}

int tj_get_hex(json_object *o, const char *name, uint8_t *out, size_t n)
{
	json_object *v;
	const char *s;
	size_t got;

	if (!json_object_object_get_ex(o, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return -1;
	s = json_object_get_string(v);
	if (strlen(s) != 2 * n ||
	    sodium_hex2bin(out, n, s, 2 * n, NULL, &got, NULL) != 0 || got != n)
		return -1;
	return 0;
}

int tj_add_run_id(json_object *o, const char *name, const rs_run_id *id)
{
	char s[RS_RUN_ID_STRLEN + 1];

	tool_fmt_run(id, s);
	return add(o, name, json_object_new_string(s));
}

int tj_get_run_id(json_object *o, const char *name, rs_run_id *out)
{
	json_object *v;
	const char *s;

	if (!json_object_object_get_ex(o, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return -1;
	s = json_object_get_string(v);
	return rs_run_id_parse(out, s, strlen(s)) == 0 ? 0 : -1;
}

int tj_add_u64(json_object *o, const char *name, uint64_t v)
{
	return add(o, name, json_object_new_uint64(v));
}

int tj_get_u64(json_object *o, const char *name, uint64_t *out)
{
	json_object *v;

	if (!json_object_object_get_ex(o, name, &v) ||
	    !json_object_is_type(v, json_type_int))
		return -1;
	/* json-c keeps integers as int64 or uint64; a negative one is no
	 * u64. */
	if (json_object_get_int64(v) < 0)
		return -1;
	*out = json_object_get_uint64(v);
	return 0;
}

int tj_add_str(json_object *o, const char *name, const char *s)
{
	return add(o, name, json_object_new_string(s));
}

int tj_add_tags(json_object *o, const char *name, const rs_bytes *tags,
		size_t n)
{
	json_object *a = json_object_new_array();

	if (!a)
		return -1;
	for (size_t i = 0; i < n; i++) {
		json_object *t = json_object_new_string_len(tags[i].data,
							    (int)tags[i].len);

		if (!t || json_object_array_add(a, t) != 0) {
			json_object_put(t);
			json_object_put(a);
			return -1;
		}
	}
	return add(o, name, a);
}

static int print(FILE *f, json_object *o, int flags)
{
	const char *s;
	int rc = -1;

	if (!o)
		return -1;
	s = json_object_to_json_string_ext(
		o, flags | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s && fputs(s, f) >= 0 && fputc('\n', f) != EOF)
		rc = 0;
	json_object_put(o);
	return rc;
}

int tj_print_line(FILE *f, json_object *o)
{
	return print(f, o, JSON_C_TO_STRING_PLAIN);
}

int tj_print_pretty(FILE *f, json_object *o)
{
	return print(f, o, JSON_C_TO_STRING_PRETTY);
}
