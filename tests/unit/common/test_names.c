/* Unit tests for names: the naming rule and the checks on names users give. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "names.h"
#include "strindex.h"
#include "utf8.h"

/* A name of len bytes, all 'a' (buf must hold len + 1 bytes). */
static const char *repeat_a(char *buf, size_t len)
{
	memset(buf, 'a', len);
	buf[len] = '\0';
	return buf;
}

/* ---- names_check_new: length ---- */

static void test_mkdir_name_of_255_bytes_is_accepted(void **state)
{
	char buf[300];
	(void)state;
	assert_int_equal(names_check_new(repeat_a(buf, 255)), 0);
}

static void test_mkdir_name_over_255_bytes_is_enametoolong(void **state)
{
	char buf[300];
	(void)state;
	assert_int_equal(names_check_new(repeat_a(buf, 256)), -ENAMETOOLONG);
	assert_int_equal(names_check_new(repeat_a(buf, 299)), -ENAMETOOLONG);
}

static void test_mkdir_name_length_counts_bytes_not_characters(void **state)
{
	/* 85 x "日" (3 bytes each) = 255 bytes: fits; one more 'a' does not. */
	char buf[300] = "";
	(void)state;
	for (int i = 0; i < 85; i++)
		strcat(buf, "\xe6\x97\xa5");
	assert_int_equal(strlen(buf), 255);
	assert_int_equal(names_check_new(buf), 0);
	strcat(buf, "a");
	assert_int_equal(names_check_new(buf), -ENAMETOOLONG);
}

/* ---- names_check_new: control characters ---- */

static void test_mkdir_name_with_control_characters_is_einval(void **state)
{
	(void)state;
	assert_int_equal(names_check_new("a\nb"), -EINVAL);
	assert_int_equal(names_check_new("a\tb"), -EINVAL);
	assert_int_equal(names_check_new("\x01"), -EINVAL);
	assert_int_equal(names_check_new("a\x1f"), -EINVAL);
	assert_int_equal(names_check_new("del\x7f"), -EINVAL);
	assert_int_equal(names_check_new("\rcarriage"), -EINVAL);
	/* C1 controls are control characters too, though encoded in two bytes. */
	assert_int_equal(names_check_new("a\xc2\x85z"), -EINVAL);
	assert_int_equal(names_check_new("a\xc2\x9fz"), -EINVAL);
	assert_int_equal(names_check_new("a\xc2\xa0z"), 0);
}

/* ---- names_check_new: UTF-8 ---- */

static void test_mkdir_name_with_lone_continuation_byte_is_eilseq(void **state)
{
	(void)state;
	assert_int_equal(names_check_new("a\x80z"), -EILSEQ);
	assert_int_equal(names_check_new("\xbf"), -EILSEQ);
}

static void test_mkdir_name_with_overlong_encoding_is_eilseq(void **state)
{
	(void)state;
	assert_int_equal(names_check_new("\xc0\xaf"), -EILSEQ);	    /* '/' in 2 bytes */
	assert_int_equal(names_check_new("\xe0\x80\xaf"), -EILSEQ); /* '/' in 3 bytes */
	assert_int_equal(names_check_new("\xf0\x80\x80\xaf"), -EILSEQ);
}

static void test_mkdir_name_with_utf16_surrogate_is_eilseq(void **state)
{
	(void)state;
	assert_int_equal(names_check_new("\xed\xa0\x80"), -EILSEQ);   /* U+D800 */
	assert_int_equal(names_check_new("x\xed\xbf\xbfy"), -EILSEQ); /* U+DFFF */
}

static void test_mkdir_name_with_truncated_sequence_is_eilseq(void **state)
{
	(void)state;
	assert_int_equal(names_check_new("abc\xe6\x97"), -EILSEQ); /* 日 cut short */
	assert_int_equal(names_check_new("\xc3"), -EILSEQ);
	assert_int_equal(names_check_new("\xf0\x9f\x98"), -EILSEQ);
	assert_int_equal(names_check_new("\xe6z\xa5"), -EILSEQ); /* interrupted */
}

static void test_mkdir_name_beyond_u10ffff_is_eilseq(void **state)
{
	(void)state;
	assert_int_equal(names_check_new("\xf4\x90\x80\x80"), -EILSEQ);	    /* U+110000 */
	assert_int_equal(names_check_new("\xf8\x88\x80\x80\x80"), -EILSEQ); /* 5-byte form */
	assert_int_equal(names_check_new("\xff"), -EILSEQ);
}

static void test_mkdir_name_with_valid_unicode_is_accepted(void **state)
{
	(void)state;
	assert_int_equal(names_check_new("caf\xc3\xa9"), 0);		  /* café */
	assert_int_equal(names_check_new("\xe6\x97\xa5\xe6\x9c\xac"), 0); /* 日本 */
	assert_int_equal(names_check_new("snap-\xf0\x9f\x93\xb8"), 0);	  /* emoji */
	assert_int_equal(names_check_new("\xf4\x8f\xbf\xbf"), 0);	  /* U+10FFFF */
	assert_int_equal(names_check_new("\xef\xbf\xbd"), 0);		  /* U+FFFD */
	assert_int_equal(names_check_new("nightly 2026-11-25"), 0);
}

/* ---- names_check_new: reserved and special names ---- */

static void test_mkdir_dot_dotdot_empty_and_slash_are_einval(void **state)
{
	(void)state;
	assert_int_equal(names_check_new("."), -EINVAL);
	assert_int_equal(names_check_new(".."), -EINVAL);
	assert_int_equal(names_check_new(""), -EINVAL);
	assert_int_equal(names_check_new("a/b"), -EINVAL);
	assert_int_equal(names_check_new("/"), -EINVAL);
}

static void test_mkdir_reserved_names_are_einval(void **state)
{
	(void)state;
	assert_int_equal(names_check_new("info.json"), -EINVAL);
	assert_int_equal(names_check_new(".snapshots"), -EINVAL);
	assert_int_equal(names_check_new(".ovhsnapfs"), -EINVAL);
	/* Only the exact names are reserved. */
	assert_int_equal(names_check_new("info.json2"), 0);
	assert_int_equal(names_check_new(".snapshots."), 0);
	assert_int_equal(names_check_new("..."), 0);
	assert_int_equal(names_check_new(".hidden"), 0);
}

/* ---- names_is_listable ---- */

static void test_listable_rejects_null_empty_dots_slash_and_reserved(void **state)
{
	(void)state;
	assert_false(names_is_listable(NULL));
	assert_false(names_is_listable(""));
	assert_false(names_is_listable("."));
	assert_false(names_is_listable(".."));
	assert_false(names_is_listable("a/b"));
	assert_false(names_is_listable("/"));
	assert_false(names_is_listable("info.json"));
	assert_false(names_is_listable(".snapshots"));
	assert_false(names_is_listable(".ovhsnapfs")); /* MOUNT/.ovhsnapfs would hide it */
}

static void test_listable_length_limit_is_255_bytes(void **state)
{
	char buf[300];
	(void)state;
	assert_true(names_is_listable(repeat_a(buf, 255)));
	assert_false(names_is_listable(repeat_a(buf, 256)));
}

static void test_listable_accepts_ordinary_and_unusual_names(void **state)
{
	(void)state;
	assert_true(names_is_listable("a"));
	assert_true(names_is_listable("..."));
	assert_true(names_is_listable(".hidden"));
	assert_true(names_is_listable("with space"));
	assert_true(names_is_listable("caf\xc3\xa9"));
	assert_true(names_is_listable("INFO.JSON"));
}

static void test_reserved_names_are_exactly_info_json_snapshots_and_the_status_file(void **state)
{
	(void)state;
	assert_true(names_is_reserved("info.json"));
	assert_true(names_is_reserved(".snapshots"));
	assert_true(names_is_reserved(".ovhsnapfs"));
	assert_true(names_is_reserved(".policies"));
	assert_false(names_is_reserved(".ovhsnapfs2"));
	assert_false(names_is_reserved("info"));
	assert_false(names_is_reserved("snapshots"));
}

/* ---- names_assign ---- */

static void test_assign_unique_names_are_used(void **state)
{
	const char *names[] = {"daily", "weekly", "caf\xc3\xa9"};
	const char *ids[] = {"id-1", "id-2", "id-3"};
	const char *display[3];
	(void)state;
	names_assign(names, ids, 3, display);
	/* Pointers, not copies. */
	assert_ptr_equal(display[0], names[0]);
	assert_ptr_equal(display[1], names[1]);
	assert_ptr_equal(display[2], names[2]);
}

static void test_assign_siblings_sharing_a_name_both_get_their_ids(void **state)
{
	const char *names[] = {"dup", "solo", "dup"};
	const char *ids[] = {"id-1", "id-2", "id-3"};
	const char *display[3];
	(void)state;
	names_assign(names, ids, 3, display);
	assert_ptr_equal(display[0], ids[0]);
	assert_string_equal(display[1], "solo");
	assert_ptr_equal(display[2], ids[2]);
}

static void test_assign_null_or_empty_name_gets_id(void **state)
{
	const char *names[] = {NULL, ""};
	const char *ids[] = {"id-1", "id-2"};
	const char *display[2];
	(void)state;
	names_assign(names, ids, 2, display);
	assert_ptr_equal(display[0], ids[0]);
	assert_ptr_equal(display[1], ids[1]);
}

static void test_assign_unusable_names_get_ids(void **state)
{
	char long_name[300];
	const char *names[] = {"a/b",	    "..",	  ".",
			       "info.json", ".snapshots", repeat_a(long_name, 256)};
	const char *ids[] = {"id-1", "id-2", "id-3", "id-4", "id-5", "id-6"};
	const char *display[6];
	(void)state;
	names_assign(names, ids, 6, display);
	for (size_t i = 0; i < 6; i++)
		assert_ptr_equal(display[i], ids[i]);
}

static void test_assign_name_equal_to_a_sibling_id_gets_id(void **state)
{
	/* "id-2" as a name would hide the sibling reachable by its id. */
	const char *names[] = {"id-2", "other"};
	const char *ids[] = {"id-1", "id-2"};
	const char *display[2];
	(void)state;
	names_assign(names, ids, 2, display);
	assert_ptr_equal(display[0], ids[0]);
	assert_ptr_equal(display[1], names[1]);
}

static void test_assign_name_equal_to_own_id_is_kept(void **state)
{
	/* Separate arrays: equal literals could share one address. */
	char name[] = "id-1", id[] = "id-1";
	const char *names[] = {name};
	const char *ids[] = {id};
	const char *display[1];
	(void)state;
	names_assign(names, ids, 1, display);
	assert_ptr_equal(display[0], name);
}

static void test_assign_duplicate_null_names_do_not_collide(void **state)
{
	const char *names[] = {NULL, NULL, "x"};
	const char *ids[] = {"id-1", "id-2", "id-3"};
	const char *display[3];
	(void)state;
	names_assign(names, ids, 3, display);
	assert_ptr_equal(display[0], ids[0]);
	assert_ptr_equal(display[1], ids[1]);
	assert_ptr_equal(display[2], names[2]);
}

static void test_assign_unicode_name_is_kept(void **state)
{
	const char *names[] = {"\xe6\x97\xa5\xe6\x9c\xac-\xf0\x9f\x93\xb8"};
	const char *ids[] = {"3fa85f64-5717-4562-b3fc-2c963f66afa6"};
	const char *display[1];
	(void)state;
	names_assign(names, ids, 1, display);
	assert_ptr_equal(display[0], names[0]);
}

static void test_assign_zero_siblings_touches_nothing(void **state)
{
	const char *display[1] = {"untouched"};
	(void)state;
	names_assign(NULL, NULL, 0, display);
	assert_string_equal(display[0], "untouched");
}

static void test_text_allows_what_names_refuse_but_not_control_characters(void **state)
{
	(void)state;
	assert_int_equal(names_check_text(""), 0);
	assert_int_equal(names_check_text("a/b . .. info.json"), 0);
	assert_int_equal(names_check_text("schema v42 \xe2\x86\x92 v43"), 0);
	assert_int_equal(names_check_text("line\nbreak"), -EINVAL);
	assert_int_equal(names_check_text("\xc3"), -EILSEQ);
	char long_text[257];
	memset(long_text, 'x', 256);
	long_text[256] = '\0';
	assert_int_equal(names_check_text(long_text), -ENAMETOOLONG);
	long_text[255] = '\0';
	assert_int_equal(names_check_text(long_text), 0);
}

/* ---- names_assign on large directories (hash index) and strindex ---- */

/* The rule, sibling by sibling: what names_assign must agree with. */
static const char *reference_display(const char *const *names, const char *const *ids, size_t n,
				     size_t i)
{
	if (!names[i] || !names_is_listable(names[i]))
		return ids[i];
	for (size_t j = 0; j < n; j++)
		if (j != i && ((names[j] && strcmp(names[j], names[i]) == 0) ||
			       strcmp(ids[j], names[i]) == 0))
			return ids[i];
	return names[i];
}

#define MANY 20000

static void test_assign_many_siblings_agrees_with_the_rule(void **state)
{
	static char name_buf[MANY][24], id_buf[MANY][24];
	static const char *names[MANY], *ids[MANY], *display[MANY];
	(void)state;
	for (size_t i = 0; i < MANY; i++) {
		snprintf(id_buf[i], sizeof(id_buf[i]), "id-%zu", i);
		if (i % 7 == 0)
			snprintf(name_buf[i], sizeof(name_buf[i]), "dup-%zu", i % 70); /* shared */
		else if (i % 11 == 0)
			snprintf(name_buf[i], sizeof(name_buf[i]), "id-%zu", i + 1); /* an id */
		else if (i % 13 == 0)
			snprintf(name_buf[i], sizeof(name_buf[i]), "id-%zu", i); /* its own id */
		else
			snprintf(name_buf[i], sizeof(name_buf[i]), "daily-%zu", i);
		ids[i] = id_buf[i];
		names[i] = i % 17 == 0 ? NULL : name_buf[i];
	}
	names_assign(names, ids, MANY, display);
	/* A sample against the quadratic rule, and the shapes that matter by construction. */
	for (size_t i = 0; i < MANY; i += 97)
		assert_ptr_equal(display[i], reference_display(names, ids, MANY, i));
	assert_ptr_equal(display[1], names[1]);	  /* daily-1: unique */
	assert_ptr_equal(display[7], ids[7]);	  /* dup-7, shared with 77 and others */
	assert_ptr_equal(display[11], ids[11]);	  /* "id-12": sibling 12's id */
	assert_ptr_equal(display[13], names[13]); /* "id-13": its own id only */
	assert_ptr_equal(display[17], ids[17]);	  /* no name */
}

static void test_assign_ids_shared_by_two_siblings_hide_a_name_equal_to_them(void **state)
{
	/* A name equal to an id that two other siblings carry is not unique either. */
	char a[] = "x", b[] = "x";
	const char *names[] = {"x", NULL, NULL};
	const char *ids[] = {"id-1", a, b};
	const char *display[3];
	(void)state;
	names_assign(names, ids, 3, display);
	assert_ptr_equal(display[0], ids[0]);
}

static void test_strindex_finds_first_position_and_counts(void **state)
{
	struct strindex *x = strindex_new(4);
	(void)state;
	assert_non_null(x);
	strindex_add(x, "a", 0);
	strindex_add(x, "b", 1);
	strindex_add(x, "a", 2);
	assert_int_equal(strindex_find(x, "a"), 0);
	assert_int_equal(strindex_find(x, "b"), 1);
	assert_int_equal(strindex_find(x, "c"), (size_t)-1);
	assert_int_equal(strindex_count(x, "a"), 2);
	assert_int_equal(strindex_count(x, "b"), 1);
	assert_int_equal(strindex_count(x, ""), 0);
	strindex_add(x, "c", 3);
	strindex_add(x, "d", 4);
	strindex_add(x, "e", 5); /* past the 4 keys it was sized for: ignored */
	assert_int_equal(strindex_find(x, "d"), 4);
	assert_int_equal(strindex_find(x, "e"), (size_t)-1);
	assert_true(strindex_bytes(x) > 0);
	strindex_free(x);
	strindex_free(NULL);
}

static void test_strindex_of_many_keys_finds_each(void **state)
{
	static char keys[MANY][16];
	struct strindex *x = strindex_new(MANY);
	(void)state;
	assert_non_null(x);
	for (size_t i = 0; i < MANY; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%zu", i);
		strindex_add(x, keys[i], i);
	}
	for (size_t i = 0; i < MANY; i++)
		assert_int_equal(strindex_find(x, keys[i]), i);
	assert_int_equal(strindex_find(x, "k20000"), (size_t)-1);
	strindex_free(x);
}

/* ---- utf8: the one decoder ---- */

static void test_utf8_sequence_lengths_code_points_and_bounds(void **state)
{
	uint32_t cp;
	(void)state;
	assert_int_equal(utf8_sequence((const unsigned char *)"a", 1, &cp), 1);
	assert_int_equal(cp, 'a');
	assert_int_equal(utf8_sequence((const unsigned char *)"\xc3\xa9", 2, &cp), 2);
	assert_int_equal(cp, 0xe9);
	assert_int_equal(utf8_sequence((const unsigned char *)"\xf0\x9f\x93\xb8", 4, &cp), 4);
	assert_int_equal(cp, 0x1f4f8);
	/* Cut short by left, even when the bytes are there. */
	assert_int_equal(utf8_sequence((const unsigned char *)"\xc3\xa9", 1, &cp), 0);
	assert_int_equal(utf8_sequence((const unsigned char *)"a", 0, &cp), 0);
	/* Overlong, surrogate, beyond U+10FFFF, stray continuation, NUL inside. */
	assert_int_equal(utf8_sequence((const unsigned char *)"\xc0\xaf", 2, &cp), 0);
	assert_int_equal(utf8_sequence((const unsigned char *)"\xed\xa0\x80", 3, &cp), 0);
	assert_int_equal(utf8_sequence((const unsigned char *)"\xf4\x90\x80\x80", 4, &cp), 0);
	assert_int_equal(utf8_sequence((const unsigned char *)"\x80", 1, &cp), 0);
	assert_int_equal(utf8_sequence((const unsigned char *)"\xe2\0\0", 3, &cp), 0);
	assert_true(utf8_is_control(0x1f) && utf8_is_control(0x7f) && utf8_is_control(0x85));
	assert_false(utf8_is_control(' ') || utf8_is_control(0xa0) || utf8_is_control(0xe9));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mkdir_name_of_255_bytes_is_accepted),
		cmocka_unit_test(test_text_allows_what_names_refuse_but_not_control_characters),
		cmocka_unit_test(test_mkdir_name_over_255_bytes_is_enametoolong),
		cmocka_unit_test(test_mkdir_name_length_counts_bytes_not_characters),
		cmocka_unit_test(test_mkdir_name_with_control_characters_is_einval),
		cmocka_unit_test(test_mkdir_name_with_lone_continuation_byte_is_eilseq),
		cmocka_unit_test(test_mkdir_name_with_overlong_encoding_is_eilseq),
		cmocka_unit_test(test_mkdir_name_with_utf16_surrogate_is_eilseq),
		cmocka_unit_test(test_mkdir_name_with_truncated_sequence_is_eilseq),
		cmocka_unit_test(test_mkdir_name_beyond_u10ffff_is_eilseq),
		cmocka_unit_test(test_mkdir_name_with_valid_unicode_is_accepted),
		cmocka_unit_test(test_mkdir_dot_dotdot_empty_and_slash_are_einval),
		cmocka_unit_test(test_mkdir_reserved_names_are_einval),
		cmocka_unit_test(test_listable_rejects_null_empty_dots_slash_and_reserved),
		cmocka_unit_test(test_listable_length_limit_is_255_bytes),
		cmocka_unit_test(test_listable_accepts_ordinary_and_unusual_names),
		cmocka_unit_test(
			test_reserved_names_are_exactly_info_json_snapshots_and_the_status_file),
		cmocka_unit_test(test_assign_unique_names_are_used),
		cmocka_unit_test(test_assign_siblings_sharing_a_name_both_get_their_ids),
		cmocka_unit_test(test_assign_null_or_empty_name_gets_id),
		cmocka_unit_test(test_assign_unusable_names_get_ids),
		cmocka_unit_test(test_assign_name_equal_to_a_sibling_id_gets_id),
		cmocka_unit_test(test_assign_name_equal_to_own_id_is_kept),
		cmocka_unit_test(test_assign_duplicate_null_names_do_not_collide),
		cmocka_unit_test(test_assign_unicode_name_is_kept),
		cmocka_unit_test(test_assign_zero_siblings_touches_nothing),
		cmocka_unit_test(test_assign_many_siblings_agrees_with_the_rule),
		cmocka_unit_test(test_assign_ids_shared_by_two_siblings_hide_a_name_equal_to_them),
		cmocka_unit_test(test_strindex_finds_first_position_and_counts),
		cmocka_unit_test(test_strindex_of_many_keys_finds_each),
		cmocka_unit_test(test_utf8_sequence_lengths_code_points_and_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
