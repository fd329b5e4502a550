/* confine: Landlock through syscall() (see confine.h). */
#include "confine.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef __has_include
#if __has_include(<linux/landlock.h>)
#include <linux/landlock.h>
#define HAVE_LANDLOCK_H 1
#endif
#endif

#define PROG "ovhsnapfs-versions"

/*
 * A sanitizer build writes its reports to log_path= files and LeakSanitizer
 * reads /proc/PID/task at exit: confined, it would hang or fail. Such a
 * build (tests only) runs unconfined and says so.
 */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZER_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZER_BUILD 1
#endif
#endif

#if defined(HAVE_LANDLOCK_H) && defined(SYS_landlock_create_ruleset)

#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif

#define FS_READ (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)

/* The rights ABI abi knows. */
static uint64_t fs_rights(int abi)
{
	uint64_t all = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1: bits 0 to 12 */
	if (abi >= 2)
		all |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		all |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		all |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return all;
}

static int add_beneath(int ruleset, int dirfd, uint64_t rights)
{
	struct landlock_path_beneath_attr attr = {.allowed_access = rights, .parent_fd = dirfd};
	if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &attr, 0) < 0)
		return -errno;
	return 0;
}

static int apply(int abi, const int *read_fds, size_t nr, const int *write_fds, size_t nw)
{
	uint64_t all = fs_rights(abi);
	uint64_t handled = read_fds ? all : all & ~FS_READ;
	struct landlock_ruleset_attr attr = {.handled_access_fs = handled};
	int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (ruleset < 0)
		return -errno;
	int rc = 0;
	for (size_t i = 0; rc == 0 && read_fds && i < nr; i++)
		rc = add_beneath(ruleset, read_fds[i], FS_READ);
	for (size_t i = 0; rc == 0 && i < nw; i++)
		rc = add_beneath(ruleset, write_fds[i], handled & ~LANDLOCK_ACCESS_FS_EXECUTE);
	if (rc == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		rc = -errno;
	if (rc == 0 && syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
		rc = -errno;
	close(ruleset);
	return rc;
}

int confine_paths(const int *read_fds, size_t nr, const int *write_fds, size_t nw, bool verbose)
{
#ifdef SANITIZER_BUILD
	(void)read_fds, (void)nr, (void)write_fds, (void)nw;
	if (verbose)
		fprintf(stderr, "%s: landlock: skipped in a sanitizer build: running unconfined\n",
			PROG);
	return 0;
#endif
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	/* EPERM: a seccomp filter (a container's) that does not know the call */
	if (abi < 0 && (errno == ENOSYS || errno == EOPNOTSUPP || errno == EPERM)) {
		if (verbose)
			fprintf(stderr, "%s: landlock: not available (%s): running unconfined\n",
				PROG, strerror(errno));
		return 0;
	}
	if (abi < 0)
		return -errno;
	int rc = apply((int)abi, read_fds, nr, write_fds, nw);
	if (rc < 0)
		fprintf(stderr, "%s: landlock: %s\n", PROG, strerror(-rc));
	else if (verbose)
		fprintf(stderr, "%s: landlock: enforced (ABI %ld)\n", PROG, abi);
	return rc < 0 ? rc : (int)abi;
}

#else

int confine_paths(const int *read_fds, size_t nr, const int *write_fds, size_t nw, bool verbose)
{
	(void)read_fds, (void)nr, (void)write_fds, (void)nw;
	if (verbose)
		fprintf(stderr, "%s: landlock: not built in: running unconfined\n", PROG);
	return 0;
}

#endif
