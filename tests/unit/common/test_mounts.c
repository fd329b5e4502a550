/* Unit tests for mounts: mountinfo parsing and API paths mapped into mounts. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mountinfo.h"
#include "mounts.h"

#define EXPORT "10.0.0.5:/share_7e4b2d90"

static const char MOUNTINFO[] =
	"22 27 0:21 / /proc rw,relatime - proc proc rw\n"
	"27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard\n"
	/* an NFS mount whose mount point has a space and a tab in it */
	"60 27 0:50 / /mnt/my\\040share\\011x rw,relatime shared:7 - nfs " EXPORT " rw,vers=3\n"
	/* the same export mounted again later: the first one wins */
	"61 27 0:50 / /srv/second rw,relatime - nfs " EXPORT " rw,vers=3\n"
	/* a bind mount of a subdirectory of it: not the export's root */
	"62 27 0:50 /sub /srv/bound rw,relatime - nfs " EXPORT " rw,vers=3\n"
	/* optional fields, a trailing '/' on the source, a backslash escaped */
	"63 27 0:51 / /srv/other rw master:1 propagation_from:2 - tmpfs 10.0.0.6:/exp/ rw\n"
	"64 27 0:52 / /srv/back\\134slash rw - nfs4 10.0.0.7:/b rw\n"
	"garbage line without fields\n"
	"65 27 0:53 / /srv/nul rw - nfs 10.0.0.8:/x\\000y rw\n"
	"66 27 0:54 / /srv/slash rw - nfs / rw";

static struct mount_table parsed(void)
{
	struct mount_table t;
	assert_int_equal(mounts_parse(MOUNTINFO, strlen(MOUNTINFO), &t), 0);
	return t;
}

static void test_parse_decodes_escapes_and_skips_what_cannot_match(void **state)
{
	(void)state;
	struct mount_table t = parsed();
	assert_int_equal(t.n, 6); /* not the bind mount, the garbage, NUL or "/" */
	assert_string_equal(t.items[0].point, "/proc");
	assert_string_equal(t.items[2].source, EXPORT);
	assert_string_equal(t.items[2].point, "/mnt/my share\tx");
	assert_string_equal(t.items[3].point, "/srv/second");
	assert_string_equal(t.items[4].source, "10.0.0.6:/exp");
	assert_string_equal(t.items[5].point, "/srv/back\\slash");
	mounts_table_free(&t);
}

static void test_parse_of_nothing_is_an_empty_table(void **state)
{
	(void)state;
	struct mount_table t;
	assert_int_equal(mounts_parse("", 0, &t), 0);
	assert_int_equal(t.n, 0);
	mounts_table_free(&t);
}

static int target(const struct mount_table *t, const char *path, const char *suffix, char *buf)
{
	return mounts_table_target(t, &path, 1, suffix, buf, PATH_MAX);
}

static void test_a_snapshot_path_maps_into_the_first_mount_of_its_export(void **state)
{
	(void)state;
	struct mount_table t = parsed();
	char buf[PATH_MAX];
	assert_int_equal(target(&t, EXPORT "/.snapshot/before-upgrade", NULL, buf), 0);
	assert_string_equal(buf, "/mnt/my share\tx/.snapshot/before-upgrade");
	assert_int_equal(target(&t, EXPORT, NULL, buf), 0);
	assert_string_equal(buf, "/mnt/my share\tx");
	assert_int_equal(target(&t, EXPORT "/", NULL, buf), 0); /* one trailing '/' is fine */
	assert_string_equal(buf, "/mnt/my share\tx");
	assert_int_equal(target(&t, "10.0.0.6:/exp/.snapshot/a b", NULL, buf), 0);
	assert_string_equal(buf, "/srv/other/.snapshot/a b");
	mounts_table_free(&t);
}

static void test_an_access_path_plus_suffix(void **state)
{
	(void)state;
	struct mount_table t = parsed();
	char buf[PATH_MAX];
	const char *paths[] = {"10.9.9.9:/elsewhere", "10.0.0.7:/b/"};
	assert_int_equal(mounts_table_target(&t, paths, 2, ".snapshot/n", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/srv/back\\slash/.snapshot/n");
	assert_int_equal(mounts_table_target(&t, paths, 1, NULL, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(mounts_table_target(&t, paths, 0, NULL, buf, sizeof(buf)), -ENOENT);
	mounts_table_free(&t);
}

static void test_only_whole_segments_match(void **state)
{
	(void)state;
	struct mount_table t = parsed();
	char buf[PATH_MAX];
	assert_int_equal(target(&t, EXPORT "0/.snapshot/x", NULL, buf), -ENOENT);
	assert_int_equal(target(&t, "10.0.0.5:/share_7e4b2d9", NULL, buf), -ENOENT);
	assert_int_equal(target(&t, "x" EXPORT, NULL, buf), -ENOENT);
	assert_int_equal(target(&t, "", NULL, buf), -ENOENT);
	mounts_table_free(&t);
}

static void test_hostile_rests_never_leave_the_mount(void **state)
{
	(void)state;
	struct mount_table t = parsed();
	char buf[PATH_MAX];
	static const char *const bad[] = {
		EXPORT "/..",		EXPORT "/../../etc",	 EXPORT "/.snapshot/../../etc",
		EXPORT "/.snapshot/..", EXPORT "//etc",		 EXPORT "/.snapshot//x",
		EXPORT "/./x",		EXPORT "/.snapshot/x//", EXPORT "/.",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf[0] = '\0';
		assert_int_equal(target(&t, bad[i], NULL, buf), -EINVAL);
		assert_false(mounts_path_is_safe(bad[i], strlen(bad[i])));
	}
	assert_int_equal(target(&t, EXPORT, "../x", buf), -EINVAL);
	assert_int_equal(target(&t, EXPORT, "", buf), -EINVAL);
	assert_int_equal(target(&t, EXPORT, ".snapshot/..", buf), -EINVAL);
	mounts_table_free(&t);
}

static void test_safe_paths(void **state)
{
	(void)state;
	assert_true(mounts_path_is_safe(EXPORT "/.snapshot/n", strlen(EXPORT "/.snapshot/n")));
	assert_true(mounts_path_is_safe("opaque", 6)); /* safe, though it matches no mount */
	assert_true(mounts_path_is_safe(EXPORT "/...", strlen(EXPORT "/...")));
	assert_true(mounts_path_is_safe(EXPORT "/..x/.y", strlen(EXPORT "/..x/.y")));
	assert_false(mounts_path_is_safe("", 0));
	assert_false(mounts_path_is_safe(NULL, 0));
	/* a NUL inside: the API's JSON can carry \u0000 */
	assert_false(mounts_path_is_safe(EXPORT "/.snapshot/a\0/../..", sizeof(EXPORT) + 17));
	assert_false(mounts_path_is_safe(EXPORT "//x", strlen(EXPORT "//x")));
}

/* An API path matches only a remote mount: never /, /proc or a tmpfs by its source. */
static void test_a_local_source_never_matches_an_api_path(void **state)
{
	(void)state;
	static const char text[] = "1 1 0:1 / / rw - ext4 /dev/vda rw\n"
				   "2 1 0:2 / /run rw - tmpfs tmpfs rw\n"
				   "3 1 0:3 / /proc rw - proc proc rw\n"
				   "4 1 0:4 / /o rw - overlay overlay rw\n";
	static const char *const local[] = {"/dev/vda/etc", "/dev/vda", "tmpfs/secrets", "tmpfs",
					    "proc/self",    "overlay",	"opaque"};
	struct mount_table t;
	char buf[PATH_MAX];
	assert_int_equal(mounts_parse(text, strlen(text), &t), 0);
	for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++) {
		buf[0] = '\0';
		assert_int_equal(target(&t, local[i], NULL, buf), -ENOENT);
		assert_string_equal(buf, "");
	}
	mounts_table_free(&t);
}

static void test_a_mount_at_the_root_does_not_double_the_slash(void **state)
{
	(void)state;
	static const char text[] = "1 1 0:1 / / rw - nfs h:/e rw\n";
	struct mount_table t;
	char buf[PATH_MAX];
	assert_int_equal(mounts_parse(text, strlen(text), &t), 0);
	assert_int_equal(target(&t, "h:/e/.snapshot/s", NULL, buf), 0);
	assert_string_equal(buf, "/.snapshot/s");
	assert_int_equal(target(&t, "h:/e", NULL, buf), 0);
	assert_string_equal(buf, "/");
	mounts_table_free(&t);
}

static void test_a_target_too_long_is_enametoolong(void **state)
{
	(void)state;
	struct mount_table t = parsed();
	char buf[32];
	const char *path = EXPORT "/.snapshot/a-rather-long-name";
	assert_int_equal(mounts_table_target(&t, &path, 1, NULL, buf, sizeof(buf)), -ENAMETOOLONG);
	mounts_table_free(&t);
}

static void test_remote_means_an_nfs_style_source(void **state)
{
	(void)state;
	static const char local[] =
		"1 1 0:1 / / rw - ext4 /dev/vda rw\n"
		"2 1 0:2 / /t rw - tmpfs tmpfs rw\n"
		"3 1 0:3 / /u rw - tmpfs :/odd rw\n"
		"4 1 0:4 / /v rw - fuse.ovhsnapfs https://eu.api.ovh.com/1.0 rw\n";
	assert_true(mounts_is_remote("10.0.0.5:/share_x"));
	assert_true(mounts_is_remote("[fe80::1]:/export"));
	assert_true(mounts_is_remote("nfs.example:/"));
	assert_false(mounts_is_remote("http://127.0.0.1:8080/1.0")); /* an ovhsnapfs mount */
	assert_false(mounts_is_remote("/dev/vda"));
	assert_false(mounts_is_remote("a/b:/c"));
	assert_false(mounts_is_remote("tmpfs"));
	struct mount_table t = parsed();
	assert_true(mounts_table_has_remote(&t));
	mounts_table_free(&t);
	assert_int_equal(mounts_parse(local, strlen(local), &t), 0);
	assert_false(mounts_table_has_remote(&t));
	mounts_table_free(&t);
}

/*
 * A FUSE mount's source is whatever its maker chose (fusermount3 lets any
 * user set -o fsname=HOST:/EXPORT), and so is a mount a user made: neither
 * is ever followed, even when it comes first.
 */
static void test_a_fuse_or_user_mount_is_never_followed(void **state)
{
	(void)state;
	static const char text[] =
		"70 27 0:60 / /home/eve/a rw,nosuid,nodev - fuse.memfs " EXPORT
		" rw,user_id=1000,group_id=1000\n"
		"71 27 0:61 / /home/eve/b rw - fuse " EXPORT " rw,user_id=0,group_id=0\n"
		"72 27 0:62 / /home/eve/c rw - fuseblk " EXPORT " rw,user_id=0,group_id=0\n"
		"73 27 0:63 / /home/eve/d rw,user - tmpfs " EXPORT " rw\n"
		"74 27 0:64 / /home/eve/e rw,user=eve - tmpfs " EXPORT " rw\n"
		"75 27 0:65 / /home/eve/f rw - nfs " EXPORT " rw,user_id=1000\n";
	struct mount_table t;
	char buf[PATH_MAX];
	assert_int_equal(mounts_parse(text, strlen(text), &t), 0);
	assert_int_equal(t.n, 0);
	assert_int_equal(target(&t, EXPORT "/.snapshot/s", NULL, buf), -ENOENT);
	assert_false(mounts_table_has_remote(&t));
	mounts_table_free(&t);
}

/* root's tmpfs with that source (the tests' stand-in for NFS) still is; so is user_xattr. */
static void test_a_root_mount_after_a_fuse_one_is_followed(void **state)
{
	(void)state;
	static const char text[] = "70 27 0:60 / /home/eve/a rw - fuse.memfs " EXPORT
				   " rw,user_id=1000,group_id=1000\n"
				   "71 27 0:61 / /srv/standin rw - tmpfs " EXPORT " rw\n"
				   "72 27 0:62 / /srv/ext rw - ext4 10.0.0.9:/x rw,user_xattr\n";
	struct mount_table t;
	char buf[PATH_MAX];
	assert_int_equal(mounts_parse(text, strlen(text), &t), 0);
	assert_int_equal(t.n, 2);
	assert_int_equal(target(&t, EXPORT "/.snapshot/s", NULL, buf), 0);
	assert_string_equal(buf, "/srv/standin/.snapshot/s");
	assert_int_equal(target(&t, "10.0.0.9:/x", NULL, buf), 0);
	assert_string_equal(buf, "/srv/ext");
	mounts_table_free(&t);
}

/* user_id= of the super options tells who mounted a FUSE filesystem (versions trusts root's). */
static void test_user_id_is_who_mounted_it(void **state)
{
	(void)state;
	static const char text[] = "70 27 0:60 / /home/eve/a rw - fuse.ovhsnapfs ovhsnapfs"
				   " rw,user_id=1000,group_id=1000\n"
				   "71 27 0:61 / /mnt/efs rw - fuse.ovhsnapfs ovhsnapfs"
				   " rw,user_id=0,group_id=0,allow_other\n"
				   "72 27 0:62 / /srv/standin rw - tmpfs " EXPORT " rw\n"
				   "73 27 0:63 / /x rw - fuse.ovhsnapfs ovhsnapfs rw,user_id=x1\n";
	struct mount_table t;
	assert_int_equal(mounts_parse_all(text, strlen(text), &t), 0);
	assert_int_equal(t.n, 4);
	assert_int_equal(t.items[0].user_id, 1000);
	assert_int_equal(t.items[1].user_id, 0);
	assert_int_equal(t.items[2].user_id, -1);
	assert_int_equal(t.items[3].user_id, -1);
	mounts_table_free(&t);
}

/* A real NFS mount of the export wins over any other type, wherever it comes. */
static void test_nfs_wins_over_other_types(void **state)
{
	(void)state;
	static const char text[] = "70 27 0:60 / /srv/standin rw - tmpfs " EXPORT " rw\n"
				   "71 27 0:61 / /srv/nfs4 rw - nfs4 " EXPORT " rw,vers=4.2\n"
				   "72 27 0:62 / /srv/nfs rw - nfs " EXPORT " rw,vers=3\n";
	struct mount_table t;
	char buf[PATH_MAX];
	assert_int_equal(mounts_parse(text, strlen(text), &t), 0);
	assert_int_equal(target(&t, EXPORT "/.snapshot/s", NULL, buf), 0);
	assert_string_equal(buf, "/srv/nfs4/.snapshot/s"); /* then the first of those */
	mounts_table_free(&t);
}

/* Several access paths mounted: the earliest path (the preferred one, put first) wins. */
static void test_the_earliest_path_wins_among_mounts_of_one_rank(void **state)
{
	(void)state;
	static const char text[] = "70 27 0:60 / /srv/a rw - nfs 10.0.0.5:/a rw\n"
				   "71 27 0:61 / /srv/b rw - nfs 10.0.0.6:/b rw\n"
				   "72 27 0:62 / /srv/c rw - tmpfs 10.0.0.7:/c rw\n";
	const char *preferred_b[] = {"10.0.0.6:/b", "10.0.0.5:/a"};
	const char *preferred_c[] = {"10.0.0.7:/c", "10.0.0.6:/b"};
	struct mount_table t;
	char buf[PATH_MAX];
	assert_int_equal(mounts_parse(text, strlen(text), &t), 0);
	assert_int_equal(mounts_table_target(&t, preferred_b, 2, "x", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/srv/b/x");
	/* a preferred path mounted only by a stand-in: an NFS mount of another still wins */
	assert_int_equal(mounts_table_target(&t, preferred_c, 2, "x", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/srv/b/x");
	mounts_table_free(&t);
}

static void test_the_live_table_is_this_process_mounts(void **state)
{
	(void)state;
	char buf[PATH_MAX];
	struct mounts *m = mounts_new();
	assert_non_null(m);
	/* nothing here is mounted from this made-up export */
	const char *path = "203.0.113.1:/nowhere/.snapshot/x";
	assert_int_equal(mounts_target(m, &path, 1, NULL, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(mounts_start(m, NULL, NULL), 0);
	mounts_stop(m);
	assert_int_equal(mounts_start(m, NULL, NULL), 0); /* may start again */
	mounts_free(m);
	assert_int_equal(mounts_target(NULL, &path, 1, NULL, buf, sizeof(buf)), -ENOENT);
	assert_false(mounts_has_remote(NULL));
}

/* ---- mountinfo lines (the one parser mounts, mountwatch and ovhsnapfs-auto share) ---- */

static void test_mountinfo_line_fields_with_tags_and_escapes(void **state)
{
	char line[] = "96 29 0:57 /sub\\040dir /mnt/my\\040efs rw,nosuid shared:1 master:2 - "
		      "fuse.ovhsnapfs efs\\011x rw,user_id=0";
	struct mountinfo_line m;
	(void)state;
	assert_int_equal(mountinfo_parse(line, strlen(line), &m), 0);
	assert_int_equal(m.id, 96);
	assert_string_equal(m.dev, "0:57");
	assert_string_equal(m.root, "/sub dir");
	assert_string_equal(m.point, "/mnt/my efs");
	assert_string_equal(m.mount_opts, "rw,nosuid");
	assert_string_equal(m.fstype, "fuse.ovhsnapfs");
	assert_string_equal(m.source, "efs\tx");
	assert_string_equal(m.super_opts, "rw,user_id=0");
}

static void test_mountinfo_line_malformed_or_with_an_escaped_nul_is_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"96 29 0:57 / /mnt rw",			     /* no separator */
		"96 29 0:57 / /mnt rw - nfs4",		     /* no source */
		"x 29 0:57 / /mnt rw - nfs4 h:/e rw",	     /* no id */
		"96 29 0:57 / /mnt\\000x rw - nfs4 h:/e rw", /* NUL in a path */
	};
	struct mountinfo_line m;
	char line[128];
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "%s", bad[i]);
		assert_int_equal(mountinfo_parse(line, strlen(line), &m), -EINVAL);
	}
	char ok[] = "7 1 0:5 / /mnt rw - nfs4 h:/e"; /* no super options: "" */
	assert_int_equal(mountinfo_parse(ok, strlen(ok), &m), 0);
	assert_string_equal(m.super_opts, "");
}

static void test_a_mount_point_covers_itself_and_below_only(void **state)
{
	(void)state;
	assert_int_equal(mountinfo_covers("/", "/mnt/efs"), 0);
	assert_int_equal(mountinfo_covers("/mnt/efs", "/mnt/efs"), 8);
	assert_int_equal(mountinfo_covers("/mnt/efs", "/mnt/efs/svc/share"), 8);
	assert_int_equal(mountinfo_covers("/mnt/efs", "/mnt/efs2"), -1);
	assert_int_equal(mountinfo_covers("/mnt/efs", "/mnt"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_decodes_escapes_and_skips_what_cannot_match),
		cmocka_unit_test(test_parse_of_nothing_is_an_empty_table),
		cmocka_unit_test(test_mountinfo_line_fields_with_tags_and_escapes),
		cmocka_unit_test(test_mountinfo_line_malformed_or_with_an_escaped_nul_is_refused),
		cmocka_unit_test(test_a_snapshot_path_maps_into_the_first_mount_of_its_export),
		cmocka_unit_test(test_an_access_path_plus_suffix),
		cmocka_unit_test(test_only_whole_segments_match),
		cmocka_unit_test(test_hostile_rests_never_leave_the_mount),
		cmocka_unit_test(test_safe_paths),
		cmocka_unit_test(test_a_local_source_never_matches_an_api_path),
		cmocka_unit_test(test_a_mount_at_the_root_does_not_double_the_slash),
		cmocka_unit_test(test_a_target_too_long_is_enametoolong),
		cmocka_unit_test(test_remote_means_an_nfs_style_source),
		cmocka_unit_test(test_a_fuse_or_user_mount_is_never_followed),
		cmocka_unit_test(test_a_root_mount_after_a_fuse_one_is_followed),
		cmocka_unit_test(test_nfs_wins_over_other_types),
		cmocka_unit_test(test_user_id_is_who_mounted_it),
		cmocka_unit_test(test_the_earliest_path_wins_among_mounts_of_one_rank),
		cmocka_unit_test(test_the_live_table_is_this_process_mounts),
		cmocka_unit_test(test_a_mount_point_covers_itself_and_below_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
