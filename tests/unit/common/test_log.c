/* Unit tests for log: what reaches a terminal or syslog is escaped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"

static const char *esc(const char *in)
{
	static char out[256];
	log_escape(in, out, sizeof(out));
	return out;
}

static void test_plain_text_and_utf8_pass_unchanged(void **state)
{
	(void)state;
	assert_string_equal(esc("mkdir nightly: created"), "mkdir nightly: created");
	assert_string_equal(esc("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xb8 \xc2\xa0"),
			    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xb8 \xc2\xa0");
}

static void test_control_bytes_newlines_and_escape_sequences_are_hex(void **state)
{
	(void)state;
	assert_string_equal(esc("a\nb\r\tc"), "a\\x0ab\\x0d\\x09c");
	assert_string_equal(esc("\x1b[31mred\x1b[0m"), "\\x1b[31mred\\x1b[0m");
	assert_string_equal(esc("del\x7f"), "del\\x7f");
}

static void test_c1_controls_in_utf8_are_hex(void **state)
{
	(void)state;
	/* U+009B is CSI for terminals that honour C1: both bytes shown. */
	assert_string_equal(esc("x\xc2\x9b"
				"31m"),
			    "x\\xc2\\x9b31m");
	assert_string_equal(esc("\xc2\x80\xc2\x9f"), "\\xc2\\x80\\xc2\\x9f");
}

static void test_invalid_utf8_is_escaped(void **state)
{
	(void)state;
	assert_string_equal(esc("\x9b\xff"), "\\x9b\\xff");
	assert_string_equal(esc("\xc3"), "\\xc3");		     /* truncated */
	assert_string_equal(esc("\xc0\xaf"), "\\xc0\\xaf");	     /* overlong '/' */
	assert_string_equal(esc("\xed\xa0\x80"), "\\xed\\xa0\\x80"); /* surrogate */
	assert_string_equal(esc("a\\b"), "a\\b");		     /* a backslash is no control */
}

static void test_output_is_cut_at_a_whole_character(void **state)
{
	char out[8];
	(void)state;
	assert_int_equal(log_escape("abc\ndef", out, sizeof(out)), 7);
	assert_string_equal(out, "abc\\x0a");
	assert_int_equal(log_escape("\n\n", out, 6), 4);
	assert_string_equal(out, "\\x0a");
	assert_int_equal(log_escape("ab\xc3\xa9", out, 4), 2);
	assert_string_equal(out, "ab");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_text_and_utf8_pass_unchanged),
		cmocka_unit_test(test_control_bytes_newlines_and_escape_sequences_are_hex),
		cmocka_unit_test(test_c1_controls_in_utf8_are_hex),
		cmocka_unit_test(test_invalid_utf8_is_escaped),
		cmocka_unit_test(test_output_is_cut_at_a_whole_character),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
