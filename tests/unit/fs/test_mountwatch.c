/* Unit tests for mountwatch: finding this process's FUSE mount in mountinfo's text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mountwatch.h"

/* Lines as Linux 6.x writes them (proc_pid_mountinfo(5)). */
#define ROOT "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
#define PROC "23 22 0:21 / /proc rw,nosuid shared:12 - proc proc rw\n"
#define OURS                                                                                       \
	"96 22 0:52 / /mnt/efs rw,nosuid,nodev,relatime shared:300 - fuse.ovhsnapfs ovh-eu "       \
	"rw,user_id=0,group_id=0\n"
#define NFS "97 22 0:53 / /mnt/nfs rw,relatime shared:301 - nfs4 10.0.0.1:/share_1 rw\n"

static void test_finds_the_fuse_mount_on_the_path(void **state)
{
	(void)state;
	assert_int_equal(mountwatch_find(ROOT PROC OURS NFS, "/mnt/efs"), 96);
}

static void test_other_paths_and_filesystems_are_not_it(void **state)
{
	(void)state;
	assert_int_equal(mountwatch_find(ROOT PROC OURS NFS, "/mnt/nfs"), -1); /* not FUSE */
	assert_int_equal(mountwatch_find(ROOT PROC OURS NFS, "/mnt"), -1);
	assert_int_equal(mountwatch_find(ROOT PROC OURS NFS, "/mnt/efs/x"), -1);
	assert_int_equal(mountwatch_find(ROOT PROC, "/mnt/efs"), -1); /* unmounted */
	assert_int_equal(mountwatch_find("", "/mnt/efs"), -1);
}

static void test_the_newest_of_stacked_mounts_wins(void **state)
{
	(void)state;
	const char *stacked = ROOT OURS
		"140 96 0:60 / /mnt/efs rw,relatime shared:400 - fuse.ovhsnapfs ovh-ca rw\n";
	assert_int_equal(mountwatch_find(stacked, "/mnt/efs"), 140);
}

static void test_escaped_mount_points_match_their_real_path(void **state)
{
	(void)state;
	const char *text = ROOT "98 22 0:54 / /mnt/my\\040efs\\011tab\\134x rw shared:5 - fuse "
				"ovh-eu rw\n";
	assert_int_equal(mountwatch_find(text, "/mnt/my efs\ttab\\x"), 98);
	assert_int_equal(mountwatch_find(text, "/mnt/my\\040efs\\011tab\\134x"), -1);
}

static void test_lines_without_optional_fields_or_newline_end(void **state)
{
	(void)state;
	assert_int_equal(mountwatch_find(ROOT "99 22 0:55 / /m rw - fuse.x src rw", "/m"), 99);
	assert_int_equal(mountwatch_find("99 22 0:55 / /m\n", "/m"), -1); /* truncated line */
	assert_int_equal(mountwatch_find("garbage\n\n \n", "/m"), -1);
}

/* mount --bind /mnt/efs /srv/efs: the same connection (0:52) under another mount id. */
#define BOUND                                                                                      \
	"98 22 0:52 / /srv/efs rw,nosuid,nodev,relatime shared:300 - fuse.ovhsnapfs ovh-eu "       \
	"rw,user_id=0,group_id=0\n"

static void test_a_bind_mount_keeps_the_connection_listed(void **state)
{
	(void)state;
	assert_true(mountwatch_dev_listed(ROOT PROC OURS NFS, "0:52"));
	assert_true(mountwatch_dev_listed(ROOT PROC BOUND NFS, "0:52")); /* umount /mnt/efs */
	assert_false(mountwatch_dev_listed(ROOT PROC NFS, "0:52"));	 /* both gone */
	assert_false(mountwatch_dev_listed(ROOT PROC OURS, "0:5"));	 /* whole fields only */
	assert_false(mountwatch_dev_listed(ROOT PROC OURS, "52"));
	assert_false(mountwatch_dev_listed("", "0:52"));
	assert_true(mountwatch_dev_listed("98 22 0:52 / /x rw - fuse.ovhsnapfs s rw", "0:52"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_finds_the_fuse_mount_on_the_path),
		cmocka_unit_test(test_a_bind_mount_keeps_the_connection_listed),
		cmocka_unit_test(test_other_paths_and_filesystems_are_not_it),
		cmocka_unit_test(test_the_newest_of_stacked_mounts_wins),
		cmocka_unit_test(test_escaped_mount_points_match_their_real_path),
		cmocka_unit_test(test_lines_without_optional_fields_or_newline_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
