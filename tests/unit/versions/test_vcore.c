/* Unit tests for vcore: versions, diff changes, snapshot order, escaping, restore names. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mounts.h"
#include "vcore.h"

static struct stat file(off_t size, time_t mtime, long nsec)
{
	struct stat st;
	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFREG | 0644;
	st.st_size = size;
	st.st_mtim.tv_sec = mtime;
	st.st_mtim.tv_nsec = nsec;
	return st;
}

static void test_same_version_is_type_size_and_mtime_to_the_nanosecond(void **state)
{
	(void)state;
	struct stat a = file(10, 1000, 5), b = a;
	b.st_mode = S_IFREG | 0600; /* a chmod is no new version */
	b.st_ino = 42;
	assert_true(vcore_same_version(&a, &b));
	b.st_mtim.tv_nsec = 6;
	assert_false(vcore_same_version(&a, &b));
	b = a;
	b.st_size = 11;
	assert_false(vcore_same_version(&a, &b));
	b = a;
	b.st_mode = S_IFLNK | 0777;
	assert_false(vcore_same_version(&a, &b));
}

static void test_unique_keeps_the_oldest_of_each_version_even_when_it_comes_back(void **state)
{
	(void)state;
	struct stat v[] = {file(1, 100, 0), file(1, 100, 0), file(2, 200, 0), file(1, 100, 0),
			   file(3, 300, 0)};
	bool keep[5];
	assert_int_equal(vcore_unique(v, 5, keep), 3);
	assert_true(keep[0]);
	assert_false(keep[1]);
	assert_true(keep[2]);
	assert_false(keep[3]); /* A, B, A again: the first A names it */
	assert_true(keep[4]);
}

static void test_modified_counts_mode_and_link_target_too(void **state)
{
	(void)state;
	struct stat a = file(5, 100, 0), b = a;
	assert_false(vcore_modified(&a, &b, NULL, NULL));
	b.st_mode = S_IFREG | 0600;
	assert_true(vcore_modified(&a, &b, NULL, NULL));
	a.st_mode = b.st_mode = S_IFLNK | 0777;
	assert_false(vcore_modified(&a, &b, "x", "x"));
	assert_true(vcore_modified(&a, &b, "x", "y"));
	b.st_uid = 1000; /* ownership is not in zfs diff's M either */
	assert_false(vcore_modified(&a, &b, "x", "x"));
}

static void test_snapshots_order_by_date_then_name_undated_last(void **state)
{
	(void)state;
	assert_true(vcore_snap_cmp(100, "b", 200, "a") < 0);
	assert_true(vcore_snap_cmp(100, "b", 100, "a") > 0);
	assert_true(vcore_snap_cmp(0, "a", 200, "z") > 0);
	assert_true(vcore_snap_cmp(0, "a", 0, "b") < 0);
}

static char *escaped(const char *s, bool keep_space, bool json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	if (json)
		vcore_put_json_string(f, s);
	else
		vcore_put_escaped(f, s, keep_space);
	fclose(f);
	return buf;
}

static void test_escape_is_zfs_diffs_four_digit_octal(void **state)
{
	(void)state;
	char *s = escaped("/a b\nc\\d\xff~", false, false);
	assert_string_equal(s, "/a\\0040b\\0012c\\0134d\\0377~");
	free(s);
	s = escaped("a b\t", true, false);
	assert_string_equal(s, "a b\\0011");
	free(s);
}

static void test_json_keeps_utf8_and_maps_invalid_bytes_to_surrogates(void **state)
{
	(void)state;
	char *s = escaped("caf\xc3\xa9 \"q\"\n\xff\xc3", false, true);
	assert_string_equal(s, "\"caf\xc3\xa9 \\\"q\\\"\\u000a\\udcff\\udcc3\"");
	free(s);
	s = escaped("\xe0\x80\x80", false, true); /* overlong: three bytes, each escaped */
	assert_string_equal(s, "\"\\udce0\\udc80\\udc80\"");
	free(s);
	s = escaped(NULL, false, true);
	assert_string_equal(s, "null");
	free(s);
}

static void test_restore_and_kept_names_start_with_the_path(void **state)
{
	(void)state;
	char buf[600], name[300];
	assert_int_equal(
		vcore_restore_name("/srv/www/app.conf", "before-upgrade", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/srv/www/app.conf.before-upgrade");
	assert_int_equal(vcore_kept_name("/srv/app.conf", 1764547200, 1, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/srv/app.conf.live-20251201T000000Z");
	assert_int_equal(vcore_kept_name("/srv/app.conf", 1764547200, 3, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/srv/app.conf.live-20251201T000000Z-3");
	memset(name, 'x', 250);
	name[250] = '\0';
	snprintf(buf, sizeof(buf), "/srv/%s", name);
	char out[600];
	assert_int_equal(vcore_restore_name(buf, "before-upgrade", out, sizeof(out)),
			 -ENAMETOOLONG);
	assert_int_equal(vcore_restore_name("/a", "b", out, 3), -ENAMETOOLONG);
}

static void test_parse_all_keeps_fuse_and_bind_mounts_untrusted(void **state)
{
	(void)state;
	static const char text[] = "27 1 254:0 / / rw - ext4 /dev/vda rw\n"
				   "60 27 0:50 / /srv/www rw - nfs 10.0.0.5:/share_a rw,vers=3\n"
				   "61 60 0:51 / /mnt/efs rw - fuse.ovhsnapfs ovh-eu rw,user_id=0\n"
				   "62 27 0:50 /sub /srv/bound rw - nfs 10.0.0.5:/share_a rw\n";
	struct mount_table t;
	assert_int_equal(mounts_parse_all(text, strlen(text), &t), 0);
	assert_int_equal(t.n, 4);
	assert_string_equal(t.items[2].fstype, "fuse.ovhsnapfs");
	assert_true(t.items[0].trusted && t.items[1].trusted);
	assert_false(t.items[2].trusted || t.items[3].trusted);
	mounts_table_free(&t);
	assert_int_equal(mounts_parse(text, strlen(text), &t), 0);
	assert_int_equal(t.n, 2); /* the table ovhsnapfs follows is unchanged */
	mounts_table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_version_is_type_size_and_mtime_to_the_nanosecond),
		cmocka_unit_test(
			test_unique_keeps_the_oldest_of_each_version_even_when_it_comes_back),
		cmocka_unit_test(test_modified_counts_mode_and_link_target_too),
		cmocka_unit_test(test_snapshots_order_by_date_then_name_undated_last),
		cmocka_unit_test(test_escape_is_zfs_diffs_four_digit_octal),
		cmocka_unit_test(test_json_keeps_utf8_and_maps_invalid_bytes_to_surrogates),
		cmocka_unit_test(test_restore_and_kept_names_start_with_the_path),
		cmocka_unit_test(test_parse_all_keeps_fuse_and_bind_mounts_untrusted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
