/*
 * umount.fuse.ovhsnapfs: the unmount helper umount(8) runs for type
 * fuse.ovhsnapfs (libmount looks for /sbin/umount.TYPE), as
 * "umount.fuse.ovhsnapfs DIR [-nlfvr] [-t TYPE] [-N NAMESPACE]".
 *
 * The kernel's unmount of a FUSE filesystem never waits for its daemon; this
 * helper does: it asks the mount which process serves it (MOUNT/.ovhsnapfs,
 * "pid", read by a child process killed after READ_BOUND_MS), checks that
 * process (a pidfd; comm "ovhsnapfs"; its real uid is the mount's user_id),
 * unmounts (umount2: -l MNT_DETACH, -f MNT_FORCE) and waits on the pidfd
 * until the daemon exits, at most WAIT_BOUND_MS. So whoever ran umount (systemd
 * stopping a .mount unit, which then looks for processes left in the unit)
 * finds the daemon gone. It never signals the daemon.
 *
 * Exit codes as umount(8)'s: 0 unmounted (also when the daemon outlived the
 * wait: one line on stderr), 1 usage, 2 system error, 32 the unmount failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "mountinfo.h"

#define PROG	      "umount.fuse.ovhsnapfs"
#define FSTYPE	      "fuse.ovhsnapfs"
#define READ_BOUND_MS 3000
#define WAIT_BOUND_MS 10000
#define STATUS_MAX    (256 * 1024)

enum { EX_OK = 0, EX_USAGE_ = 1, EX_SYS = 2, EX_FAIL = 32 };

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The mount at dir (the last listed: the one on top): its type and user_id=; 0 if found. */
static int find_mount(const char *dir, char *fstype, size_t fsz, long *uid)
{
	FILE *f = fopen(MOUNTINFO_PATH, "re");
	if (!f)
		return -errno;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int found = -ENOENT;
	while ((n = getline(&line, &cap, f)) > 0) {
		struct mountinfo_line mi;
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (mountinfo_parse(line, (size_t)n, &mi) < 0 || strcmp(mi.point, dir) != 0)
			continue;
		snprintf(fstype, fsz, "%s", mi.fstype);
		const char *u = strstr(mi.super_opts, "user_id=");
		*uid = u && (u == mi.super_opts || u[-1] == ',') ? strtol(u + 8, NULL, 10) : -1;
		found = 0;
	}
	free(line);
	fclose(f);
	return found;
}

/* In a child: DIR/.ovhsnapfs into fd; never returns. */
static void read_status_child(const char *dir, int fd)
{
	char path[4096];
	static char buf[STATUS_MAX];
	if (snprintf(path, sizeof(path), "%s/.ovhsnapfs", dir) >= (int)sizeof(path))
		_exit(1);
	int in = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (in < 0)
		_exit(1);
	ssize_t n, len = 0;
	while (len < STATUS_MAX && (n = read(in, buf + len, STATUS_MAX - len)) > 0)
		len += n;
	close(in);
	for (ssize_t off = 0; off < len && (n = write(fd, buf + off, len - off)) > 0;)
		off += n;
	_exit(0);
}

/* The "pid" of the status file, read with a bound (a hung daemon never answers); -1 if none. */
static long status_pid(const char *dir)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid_t child = fork();
	if (child == 0) {
		close(p[0]);
		read_status_child(dir, p[1]);
	}
	close(p[1]);
	if (child < 0) {
		close(p[0]);
		return -1;
	}
	static char buf[STATUS_MAX + 1];
	size_t len = 0;
	long deadline = now_ms() + READ_BOUND_MS, left;
	while ((left = deadline - now_ms()) > 0 && len < STATUS_MAX) {
		struct pollfd pfd = {.fd = p[0], .events = POLLIN};
		int r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		ssize_t n = read(p[0], buf + len, STATUS_MAX - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(p[0]);
	kill(child, SIGKILL); /* gone already, or stuck in a request of a hung daemon */
	for (int i = 0; i < 100 && waitpid(child, NULL, WNOHANG) == 0; i++)
		usleep(10000);
	buf[len] = '\0';
	json_t *doc = json_loads(buf, 0, NULL);
	json_t *pid = json_object_get(doc, "pid");
	long out = json_is_integer(pid) ? (long)json_integer_value(pid) : -1;
	json_decref(doc);
	return out;
}

/* /proc/PID/FILE into buf, NUL-ended (its first size - 1 bytes). */
static bool proc_read(long pid, const char *file, char *buf, size_t size)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%ld/%s", pid, file);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return true;
}

/* A pidfd on the mount's daemon, checked: comm "ovhsnapfs", real uid the mount's; -1 if not. */
static int daemon_pidfd(long pid, long uid)
{
	char buf[4096];
	if (pid <= 1 || uid < 0)
		return -1;
	int fd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
	if (fd < 0)
		return -1;
	const char *u;
	bool ok = proc_read(pid, "comm", buf, sizeof(buf)) && strcmp(buf, "ovhsnapfs\n") == 0 &&
		  proc_read(pid, "status", buf, sizeof(buf)) && (u = strstr(buf, "\nUid:")) &&
		  strtol(u + 5, NULL, 10) == uid;
	/* Still alive: /proc/PID was the process the pidfd holds, not a reuse of its PID. */
	if (!ok || syscall(SYS_pidfd_send_signal, fd, 0, NULL, 0) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Until the process exits or WAIT_BOUND_MS pass: true if it exited. */
static bool wait_exit(int pidfd)
{
	long deadline = now_ms() + WAIT_BOUND_MS, left;
	while ((left = deadline - now_ms()) > 0) {
		struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
		int r = poll(&pfd, 1, (int)left);
		if (r > 0)
			return true;
		if (r < 0 && errno != EINTR)
			return false;
	}
	return false;
}

static int usage(void)
{
	fprintf(stderr, "usage: %s DIR [-nlfvr] [-t TYPE] [-N NAMESPACE]\n", PROG);
	return EX_USAGE_;
}

int main(int argc, char **argv)
{
	int flags = 0, c;
	bool verbose = false;
	const char *ns = NULL, *dir = NULL;
	if (argc > 1 &&
	    argv[1][0] != '-') { /* umount(8) puts DIR first: even with POSIXLY_CORRECT */
		dir = argv[1];
		argv[1] = argv[0];
		argv++;
		argc--;
	}
	while ((c = getopt(argc, argv, "nlfvrt:N:h")) != -1) {
		switch (c) {
		case 'l':
			flags |= MNT_DETACH;
			break;
		case 'f':
			flags |= MNT_FORCE;
			break;
		case 'v':
			verbose = true;
			break;
		case 'n': /* no mtab to skip */
		case 'r': /* no read-only remount: a FUSE mount that is busy stays busy */
		case 't':
			break;
		case 'N':
			ns = optarg;
			break;
		default:
			return usage();
		}
	}
	if (!dir && optind < argc)
		dir = argv[optind++];
	if (!dir || optind != argc)
		return usage();
	if (ns) {
		int fd = open(ns, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNS) < 0) {
			fprintf(stderr, "%s: %s: %s\n", PROG, ns, strerror(errno));
			return EX_SYS;
		}
		close(fd);
	}
	char fstype[64] = "";
	long uid = -1;
	int pidfd = -1;
	if (find_mount(dir, fstype, sizeof(fstype), &uid) == 0 && strcmp(fstype, FSTYPE) == 0)
		pidfd = daemon_pidfd(status_pid(dir), uid);
	if (umount2(dir, flags) < 0) {
		int err = errno;
		fprintf(stderr, "%s: %s: %s\n", PROG, dir,
			err == EBUSY ? "target is busy" : strerror(err));
		return EX_FAIL;
	}
	if (verbose)
		printf("%s: %s unmounted\n", PROG, dir);
	if (pidfd >= 0 && !wait_exit(pidfd))
		fprintf(stderr, "%s: %s unmounted; its daemon still runs after %d s\n", PROG, dir,
			WAIT_BOUND_MS / 1000);
	return EX_OK;
}
