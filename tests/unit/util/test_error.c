/* SPDX-License-Identifier: MIT */
/* Error codes and messages, version, run ids. */
#include "common/rs_test.h"

#include <stdio.h>
#include <stdlib.h>

static const int all_codes[] = {
#define XX(name, msg) RS_##name,
	RS_ERROR_MAP(XX)
#undef XX
};
static const char *const all_names[] = {
#define XX(name, msg) "RS_" #name,
	RS_ERROR_MAP(XX)
#undef XX
};
static const char *const all_msgs[] = {
#define XX(name, msg) msg,
	RS_ERROR_MAP(XX)
#undef XX
};
#define NCODES (sizeof(all_codes) / sizeof(all_codes[0]))

static void error__codes_are_negative_row_indexes(void **state)
{
	(void)state;
	assert_int_equal(NCODES, RS__ERROR_COUNT);
	for (size_t i = 0; i < NCODES; i++)
		assert_int_equal(all_codes[i], -(int)(i + 1));
	/* ABI spot checks: append-only order. */
	assert_int_equal(RS_EINVAL, -1);
	assert_int_equal(RS_ECONFLICT, -5);
	assert_int_equal(RS_ERANGE, -20);
	assert_int_equal(RS_EFENCED, -21);
}

static void error__every_code_has_distinct_message_and_name(void **state)
{
	(void)state;
	for (size_t i = 0; i < NCODES; i++) {
		const char *m = rs_strerror(all_codes[i]);
		const char *n = rs_errname(all_codes[i]);

		assert_non_null(m);
		assert_non_null(n);
		assert_string_equal(m, all_msgs[i]);
		assert_string_equal(n, all_names[i]);
		assert_string_not_equal(m, "unknown error");
		assert_string_not_equal(n, "RS_UNKNOWN");
		for (size_t j = 0; j < i; j++) {
			assert_string_not_equal(m, rs_strerror(all_codes[j]));
			assert_string_not_equal(n, rs_errname(all_codes[j]));
		}
	}
}

static void error__strerror_of_ok_unknown_and_positive_is_sane(void **state)
{
	static const int unknown[] = {
		-(int)RS__ERROR_COUNT - 1, -1000, INT32_MIN, 1, 7, INT32_MAX
	};

	(void)state;
	assert_string_equal(rs_strerror(0), "success");
	assert_string_equal(rs_errname(0), "RS_OK");
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		assert_string_equal(rs_strerror(unknown[i]), "unknown error");
		assert_string_equal(rs_errname(unknown[i]), "RS_UNKNOWN");
	}
	/* The last real code is not "unknown". */
	assert_string_not_equal(rs_strerror(-(int)RS__ERROR_COUNT),
				"unknown error");
}

static void version__macros_match_functions(void **state)
{
	char expect[32];

	(void)state;
	assert_int_equal(rs_version(), RS_VERSION_NUMBER);
	assert_int_equal(RS_VERSION_NUMBER, RS_VERSION_MAJOR * 10000 +
						    RS_VERSION_MINOR * 100 +
						    RS_VERSION_PATCH);
	snprintf(expect, sizeof(expect), "%d.%d.%d", RS_VERSION_MAJOR,
		 RS_VERSION_MINOR, RS_VERSION_PATCH);
	assert_string_equal(rs_version_string(), expect);
	assert_string_equal(RS_VERSION_STRING, expect);
	assert_true(RS_VERSION_CHECK(RS_VERSION_MAJOR, RS_VERSION_MINOR,
				     RS_VERSION_PATCH));
	assert_true(RS_VERSION_CHECK(0, 0, 0));
	assert_false(RS_VERSION_CHECK(RS_VERSION_MAJOR + 1, 0, 0));
	assert_false(RS_VERSION_CHECK(RS_VERSION_MAJOR, RS_VERSION_MINOR,
				      RS_VERSION_PATCH + 1));
}

static void runid__generate_sets_v4_bits_and_is_unique(void **state)
{
	enum {
		N = 1000
	};
	rs_run_id *ids = calloc(N, sizeof(*ids));

	(void)state;
	assert_non_null(ids);
	for (size_t i = 0; i < N; i++) {
		assert_ok(rs_run_id_generate(&ids[i]));
		assert_int_equal(ids[i].bytes[6] >> 4, 4);
		assert_int_equal(ids[i].bytes[8] & 0xc0, 0x80);
		assert_false(rs_run_id_is_nil(&ids[i]));
		for (size_t j = 0; j < i; j++)
			assert_memory_not_equal(ids[i].bytes, ids[j].bytes, 16);
	}
	free(ids);
	assert_rc(rs_run_id_generate(NULL), RS_EINVAL);
}

static void runid__format_parse_round_trip(void **state)
{
	char buf[RS_RUN_ID_STRLEN + 1];
	char upper[RS_RUN_ID_STRLEN + 1];
	rs_run_id id, back;
	uint64_t seed = 42;

	(void)state;
	for (int i = 0; i < 200; i++) {
		for (int b = 0; b < 16; b += 8) {
			uint64_t r = rs_t_rand(&seed);
			memcpy(id.bytes + b, &r, 8);
		}
		memset(buf, 'x', sizeof(buf));
		assert_ok(rs_run_id_format(&id, buf, sizeof(buf)));
		assert_int_equal(strlen(buf), RS_RUN_ID_STRLEN);
		for (size_t c = 0; c < RS_RUN_ID_STRLEN; c++) {
			if (c == 8 || c == 13 || c == 18 || c == 23)
				assert_int_equal(buf[c], '-');
			else
				assert_non_null(
					strchr("0123456789abcdef", buf[c]));
		}
		memset(&back, 0, sizeof(back));
		assert_ok(rs_run_id_parse(&back, buf, RS_RUN_ID_STRLEN));
		assert_memory_equal(back.bytes, id.bytes, 16);
		/* Upper case parses to the same id. */
		for (size_t c = 0; c <= RS_RUN_ID_STRLEN; c++)
			upper[c] = (char)(buf[c] >= 'a' && buf[c] <= 'f'
						  ? buf[c] - 32
						  : buf[c]);
		memset(&back, 0, sizeof(back));
		assert_ok(rs_run_id_parse(&back, upper, RS_RUN_ID_STRLEN));
		assert_memory_equal(back.bytes, id.bytes, 16);
	}
}

static void runid__parse_known_text(void **state)
{
	static const char txt[] = "00112233-4455-6677-8899-AaBbCcDdEeFf";
	static const uint8_t want[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
					  0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
					  0xcc, 0xdd, 0xee, 0xff };
	rs_run_id id;
	char buf[RS_RUN_ID_STRLEN + 1];

	(void)state;
	assert_ok(rs_run_id_parse(&id, txt, RS_RUN_ID_STRLEN));
	assert_memory_equal(id.bytes, want, 16);
	assert_ok(rs_run_id_format(&id, buf, sizeof(buf)));
	assert_string_equal(buf, "00112233-4455-6677-8899-aabbccddeeff");
	/* Not NUL-terminated input is fine. */
	{
		char raw[RS_RUN_ID_STRLEN + 4];
		memcpy(raw, txt, RS_RUN_ID_STRLEN);
		memcpy(raw + RS_RUN_ID_STRLEN, "zzzz", 4);
		assert_ok(rs_run_id_parse(&id, raw, RS_RUN_ID_STRLEN));
		assert_memory_equal(id.bytes, want, 16);
	}
	/* The nil id parses and is nil. */
	assert_ok(rs_run_id_parse(&id, "00000000-0000-0000-0000-000000000000",
				  RS_RUN_ID_STRLEN));
	assert_true(rs_run_id_is_nil(&id));
	assert_true(rs_run_id_is_nil(NULL));
}

static void
runid__parse_rejects_bad_input_and_leaves_out_unchanged(void **state)
{
	static const char good[] = "00112233-4455-6677-8899-aabbccddeeff";
	static const char *const bad[] = {
		"00112233-4455-6677-8899-aabbccddeefg", /* bad hex */
		"0011223g-4455-6677-8899-aabbccddeeff",
		"00112233 4455-6677-8899-aabbccddeeff", /* not a hyphen */
		"001122334-455-6677-8899-aabbccddeeff", /* hyphen moved */
		"00112233-44556-677-8899-aabbccddeeff",
		"00112233-4455-66778-899-aabbccddeeff",
		"00112233-4455-6677-88990aabbccddeeff",
		"-0112233-4455-6677-8899-aabbccddeeff",
		"00112233-4455-6677-8899-aabbccddeef-",
		"0011223-34455-6677-8899-aabbccddeeff",
		"00112233-4455-6677-8899-aab ccddeeff",
		("00112233-4455-6677-8899-aabbccddee\xff"
		 "f"),
		"0x112233-4455-6677-8899-aabbccddeeff",
		"+0112233-4455-6677-8899-aabbccddeeff",
	};
	rs_run_id id, sentinel;

	(void)state;
	memset(sentinel.bytes, 0xa5, 16);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(strlen(bad[i]), RS_RUN_ID_STRLEN);
		id = sentinel;
		assert_rc(rs_run_id_parse(&id, bad[i], RS_RUN_ID_STRLEN),
			  RS_EINVAL);
		assert_memory_equal(id.bytes, sentinel.bytes, 16);
	}
	/* Wrong lengths, of a prefix or a longer buffer. */
	id = sentinel;
	assert_rc(rs_run_id_parse(&id, good, RS_RUN_ID_STRLEN - 1), RS_EINVAL);
	assert_rc(rs_run_id_parse(&id, good, 0), RS_EINVAL);
	assert_rc(rs_run_id_parse(&id, "00112233445566778899aabbccddeeff", 32),
		  RS_EINVAL);
	{
		char longer[RS_RUN_ID_STRLEN + 2];
		memcpy(longer, good, RS_RUN_ID_STRLEN);
		longer[RS_RUN_ID_STRLEN] = 'a';
		longer[RS_RUN_ID_STRLEN + 1] = '\0';
		assert_rc(rs_run_id_parse(&id, longer, RS_RUN_ID_STRLEN + 1),
			  RS_EINVAL);
	}
	assert_memory_equal(id.bytes, sentinel.bytes, 16);
	/* NULLs. */
	assert_rc(rs_run_id_parse(NULL, good, RS_RUN_ID_STRLEN), RS_EINVAL);
	assert_rc(rs_run_id_parse(&id, NULL, RS_RUN_ID_STRLEN), RS_EINVAL);
	assert_memory_equal(id.bytes, sentinel.bytes, 16);
	/* The good one does parse (the loop above is not vacuous). */
	assert_ok(rs_run_id_parse(&id, good, RS_RUN_ID_STRLEN));
	assert_memory_not_equal(id.bytes, sentinel.bytes, 16);
}

static void
runid__format_small_buffer_is_enospc_and_writes_nothing(void **state)
{
	char buf[RS_RUN_ID_STRLEN + 8];
	rs_run_id id;

	(void)state;
	assert_ok(rs_run_id_generate(&id));
	for (size_t cap = 0; cap <= RS_RUN_ID_STRLEN; cap++) {
		memset(buf, '#', sizeof(buf));
		assert_rc(rs_run_id_format(&id, buf, cap), RS_ENOSPC);
		for (size_t i = 0; i < sizeof(buf); i++)
			assert_int_equal(buf[i], '#');
	}
	assert_ok(rs_run_id_format(&id, buf, RS_RUN_ID_STRLEN + 1));
	assert_int_equal(buf[RS_RUN_ID_STRLEN], '\0');
	assert_rc(rs_run_id_format(NULL, buf, sizeof(buf)), RS_EINVAL);
	assert_rc(rs_run_id_format(&id, NULL, sizeof(buf)), RS_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(error__codes_are_negative_row_indexes),
		cmocka_unit_test(
			error__every_code_has_distinct_message_and_name),
		cmocka_unit_test(
			error__strerror_of_ok_unknown_and_positive_is_sane),
		cmocka_unit_test(version__macros_match_functions),
		cmocka_unit_test(runid__generate_sets_v4_bits_and_is_unique),
		cmocka_unit_test(runid__format_parse_round_trip),
		cmocka_unit_test(runid__parse_known_text),
		cmocka_unit_test(
			runid__parse_rejects_bad_input_and_leaves_out_unchanged),
		cmocka_unit_test(
			runid__format_small_buffer_is_enospc_and_writes_nothing),
	};

	return cmocka_run_group_tests_name("error", tests, NULL, NULL);
}
