/* Unit tests for hook: its environment, its status, and its time limit. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "hook.h"

static void test_hook_sees_the_variables_given_and_its_status_is_kept(void **state)
{
	char *env[] = {"OVHSNAPFS_SHARE=www", NULL};
	struct hook_result res;
	char buf[64];
	(void)state;
	assert_int_equal(hook_run("test \"$OVHSNAPFS_SHARE\" = www", env, 10, NULL, &res), 0);
	assert_true(hook_ok(&res));
	assert_null(getenv("OVHSNAPFS_SHARE")); /* only the child's */
	assert_int_equal(hook_run("exit 3", NULL, 10, NULL, &res), 0);
	assert_false(hook_ok(&res));
	hook_describe(&res, 10, buf, sizeof(buf));
	assert_string_equal(buf, "exit status 3");
	assert_int_equal(hook_run("kill -9 $$", NULL, 10, NULL, &res), 0);
	hook_describe(&res, 10, buf, sizeof(buf));
	assert_string_equal(buf, "killed by signal 9");
}

static void test_hook_past_its_limit_loses_its_whole_group(void **state)
{
	char path[] = "/tmp/test_hook_XXXXXX", cmd[256], buf[64];
	struct hook_result res;
	(void)state;
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(hook_init(), 0);
	/* A grandchild that ignores SIGTERM: only SIGKILL, after the grace, ends it. */
	snprintf(cmd, sizeof(cmd), "sh -c 'trap \"\" TERM; sleep 60' & echo $! >%s; wait", path);
	time_t t0 = time(NULL);
	assert_int_equal(hook_run(cmd, NULL, 1, NULL, &res), 0);
	time_t took = time(NULL) - t0;
	assert_true(took >= 1 && took <= 1 + HOOK_GRACE + 2);
	assert_true(res.timed_out);
	assert_false(hook_ok(&res));
	hook_describe(&res, 1, buf, sizeof(buf));
	assert_string_equal(buf, "timed out after 1 s");
	FILE *f = fopen(path, "r");
	int pid = 0;
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d", &pid), 1);
	fclose(f);
	unlink(path);
	assert_int_equal(kill(pid, 0), -1);
	assert_int_equal(errno, ESRCH);
}

/* The pid a hook wrote to path. */
static int read_pid(const char *path)
{
	FILE *f = fopen(path, "r");
	int pid = 0;
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d", &pid), 1);
	fclose(f);
	unlink(path);
	return pid;
}

static void test_what_a_hook_leaves_running_is_killed_at_its_limit(void **state)
{
	char path[] = "/tmp/test_hook_XXXXXX", cmd[256];
	struct hook_result res;
	(void)state;
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(hook_init(), 0);
	/* The shell exits 0 at once; its background child, in its group, would stay 300 s. */
	snprintf(cmd, sizeof(cmd), "(sleep 300 >&2 & echo $! >%s); true", path);
	assert_int_equal(hook_run(cmd, NULL, 1, NULL, &res), 0); /* not after 300 s */
	assert_true(hook_ok(&res));				 /* the shell's own status */
	assert_false(res.timed_out);
	int pid = read_pid(path);
	assert_int_equal(kill(pid, 0), -1);
	assert_int_equal(errno, ESRCH);
}

static volatile sig_atomic_t stop_flag;

static void on_alarm(int sig)
{
	stop_flag = sig;
}

static void test_a_stop_flag_ends_the_hook_and_its_group(void **state)
{
	char path[] = "/tmp/test_hook_XXXXXX", cmd[256], buf[64];
	struct hook_result res;
	struct sigaction sa = {.sa_handler = on_alarm};
	(void)state;
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(hook_init(), 0);
	sigaction(SIGALRM, &sa, NULL);
	stop_flag = 0;
	alarm(1);
	snprintf(cmd, sizeof(cmd), "sleep 300 & echo $! >%s; wait", path);
	assert_int_equal(hook_run(cmd, NULL, 120, &stop_flag, &res), 0);
	assert_int_equal(stop_flag, SIGALRM);
	assert_true(res.stopped);
	assert_false(hook_ok(&res));
	hook_describe(&res, 120, buf, sizeof(buf));
	assert_string_equal(buf, "interrupted");
	int pid = read_pid(path);
	assert_int_equal(kill(pid, 0), -1);
	assert_int_equal(errno, ESRCH);
}

static void test_without_a_stop_flag_a_signal_does_not_shorten_the_hook(void **state)
{
	struct hook_result res;
	struct sigaction sa = {.sa_handler = on_alarm};
	(void)state;
	sigaction(SIGALRM, &sa, NULL);
	stop_flag = 0;
	alarm(1);
	assert_int_equal(hook_run("sleep 2; exit 4", NULL, 120, NULL, &res), 0);
	assert_int_equal(stop_flag, SIGALRM);
	assert_false(res.stopped);
	assert_true(WIFEXITED(res.status) && WEXITSTATUS(res.status) == 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hook_sees_the_variables_given_and_its_status_is_kept),
		cmocka_unit_test(test_hook_past_its_limit_loses_its_whole_group),
		cmocka_unit_test(test_what_a_hook_leaves_running_is_killed_at_its_limit),
		cmocka_unit_test(test_a_stop_flag_ends_the_hook_and_its_group),
		cmocka_unit_test(test_without_a_stop_flag_a_signal_does_not_shorten_the_hook),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
