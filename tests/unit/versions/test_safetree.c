/*
 * Unit tests for safetree: resolution beneath a directory that never follows
 * a link nor leaves it (with openat2 and with the component walk), private
 * directories, removal through descriptors, and places that never replace.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "safetree.h"

struct fixture {
	char top[64];
	int fd; /* top/root */
};

static void make(const char *path, const char *data)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(data, f);
	fclose(f);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char path[256];
	strcpy(f->top, "/tmp/safetree-XXXXXX");
	assert_non_null(mkdtemp(f->top));
	snprintf(path, sizeof(path), "%s/outside", f->top);
	make(path, "outside\n");
	snprintf(path, sizeof(path), "%s/root", f->top);
	assert_int_equal(mkdir(path, 0755), 0);
	f->fd = open(path, O_RDONLY | O_DIRECTORY);
	assert_true(f->fd >= 0);
	assert_int_equal(mkdirat(f->fd, "a", 0755), 0);
	assert_int_equal(mkdirat(f->fd, "a/b", 0755), 0);
	snprintf(path, sizeof(path), "%s/root/a/b/file", f->top);
	make(path, "inside\n");
	assert_int_equal(symlinkat("..", f->fd, "a/up"), 0);
	assert_int_equal(symlinkat("b", f->fd, "a/sideways"), 0);
	assert_int_equal(symlinkat("/etc", f->fd, "etc"), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];
	close(f->fd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->top);
	assert_int_equal(system(cmd), 0);
	safetree_set_openat2(true);
	free(f);
	return 0;
}

static void resolves_beneath(int fd)
{
	int got = safetree_open(fd, "a/b/file", O_RDONLY, 0);
	char buf[16] = {0};
	assert_true(got >= 0);
	assert_int_equal(read(got, buf, sizeof(buf) - 1), 7);
	assert_string_equal(buf, "inside\n");
	close(got);
	/* a link anywhere on the way: refused, never followed */
	assert_int_equal(safetree_open(fd, "a/sideways/file", O_RDONLY, 0), -ELOOP);
	assert_int_equal(safetree_open(fd, "etc/hostname", O_RDONLY, 0), -ELOOP);
	assert_int_equal(safetree_open(fd, "a/up", O_RDONLY, 0), -ELOOP);
	/* out of the root: refused */
	assert_int_equal(safetree_open(fd, "../outside", O_RDONLY, 0), -EXDEV);
	assert_int_equal(safetree_open(fd, "/etc/hostname", O_RDONLY, 0), -EXDEV);
	struct stat st;
	assert_int_equal(safetree_stat(fd, "etc", &st), 0); /* the link itself */
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(safetree_stat(fd, "etc/passwd", &st), -ELOOP);
	got = safetree_open(fd, "", O_RDONLY | O_DIRECTORY, 0);
	assert_true(got >= 0);
	close(got);
}

static void test_open_never_follows_a_link_nor_leaves_the_root(void **state)
{
	struct fixture *f = *state;
	resolves_beneath(f->fd);
}

static void test_the_component_walk_does_the_same(void **state)
{
	struct fixture *f = *state;
	safetree_set_openat2(false);
	resolves_beneath(f->fd);
	assert_int_equal(safetree_open(f->fd, "a/../a/b/file", O_RDONLY, 0), -EXDEV);
}

static void test_a_private_directory_and_a_place_that_never_replaces(void **state)
{
	struct fixture *f = *state;
	int d = safetree_mkdir(f->fd, "tmp");
	struct stat st;
	assert_true(d >= 0);
	assert_int_equal(fstat(d, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(safetree_mkdir(f->fd, "tmp"), -EEXIST);
	assert_int_equal(mkdirat(f->fd, "taken", 0755), 0);
	assert_int_equal(safetree_place(f->fd, "tmp", f->fd, "taken"), -EEXIST);
	assert_int_equal(safetree_place(f->fd, "tmp", f->fd, "free"), 0);
	assert_true(safetree_is(f->fd, "free", &st));
	assert_false(safetree_is(f->fd, "taken", &st));
	close(d);
}

/* NFS has no RENAME_NOREPLACE: a file is linked, a directory replaces only our placeholder. */
static void test_without_noreplace_nothing_is_replaced_either(void **state)
{
	struct fixture *f = *state;
	struct stat st;
	safetree_set_noreplace(false);
	int d = safetree_mkdir(f->fd, "newdir");
	assert_true(d >= 0);
	close(d);
	assert_int_equal(mkdirat(f->fd, "empty", 0755), 0); /* made in between by someone */
	assert_int_equal(safetree_place(f->fd, "newdir", f->fd, "empty"), -EEXIST);
	assert_int_equal(fstatat(f->fd, "newdir", &st, 0), 0); /* nothing moved */
	assert_int_equal(safetree_place(f->fd, "newdir", f->fd, "placed"), 0);
	assert_int_equal(fstatat(f->fd, "placed", &st, 0), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(fstatat(f->fd, "newdir", &st, 0), -1);
	int fd = openat(f->fd, "newfile", O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(safetree_place(f->fd, "newfile", f->fd, "empty"), -EEXIST);
	assert_int_equal(safetree_place(f->fd, "newfile", f->fd, "filed"), 0);
	assert_int_equal(fstatat(f->fd, "newfile", &st, 0), -1);
	assert_int_equal(fstatat(f->fd, "empty", &st, 0), 0);
	assert_true(S_ISDIR(st.st_mode)); /* still the empty directory made in between */
	safetree_set_noreplace(true);
}

static void test_remove_goes_through_descriptors_and_never_follows(void **state)
{
	struct fixture *f = *state;
	char path[256];
	struct stat st;
	assert_int_equal(mkdirat(f->fd, "gone", 0700), 0);
	assert_int_equal(symlinkat(f->top, f->fd, "gone/to-top"), 0);
	assert_int_equal(mkdirat(f->fd, "gone/deeper", 0700), 0);
	assert_int_equal(symlinkat("../../../outside", f->fd, "gone/deeper/out"), 0);
	assert_int_equal(fstatat(f->fd, "a", &st, 0), 0);
	assert_int_equal(safetree_remove(f->fd, "gone", &st), -ESTALE); /* not what was made */
	assert_int_equal(safetree_remove(f->fd, "gone", NULL), 0);
	assert_int_equal(fstatat(f->fd, "gone", &st, AT_SYMLINK_NOFOLLOW), -1);
	snprintf(path, sizeof(path), "%s/outside", f->top);
	assert_int_equal(access(path, F_OK), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_never_follows_a_link_nor_leaves_the_root,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_the_component_walk_does_the_same, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_a_private_directory_and_a_place_that_never_replaces, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_remove_goes_through_descriptors_and_never_follows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_without_noreplace_nothing_is_replaced_either,
						setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
