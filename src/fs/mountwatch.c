/* mountwatch: a thread that sees the mount vanish from /proc/self/mountinfo. */
#include "mountwatch.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mountinfo.h"

#define GONE_REPEAT_MS 100

struct mountwatch {
	char dev[32]; /* the FUSE connection's major:minor, as mountinfo lists it */
	void (*gone)(void *ctx);
	void *ctx;
	int info_fd;	/* polled: POLLPRI on every mount change */
	int stop_fd[2]; /* a pipe: mountwatch_stop writes to it */
	pthread_t thread;
};

/*
 * A line's mount id when it is a FUSE mount on mountpoint (its major:minor
 * in dev, when dev is not NULL), else -1. line is changed.
 */
static long fuse_mount_on(char *line, const char *mountpoint, char *dev, size_t dev_len)
{
	struct mountinfo_line m;
	if (mountinfo_parse(line, strlen(line), &m) != 0 || strncmp(m.fstype, "fuse", 4) != 0 ||
	    strcmp(m.point, mountpoint) != 0)
		return -1;
	if (dev)
		snprintf(dev, dev_len, "%s", m.dev);
	return m.id;
}

/* The newest FUSE mount on mountpoint: its id (dev: its major:minor), or -1. */
static long find_mount(const char *text, const char *mountpoint, char *dev, size_t dev_len)
{
	long id = -1;
	while (*text) {
		size_t n = strcspn(text, "\n");
		char *line = strndup(text, n);
		long found = line ? fuse_mount_on(line, mountpoint, dev, dev_len) : -1;
		if (found >= 0)
			id = found; /* a later line is a mount made on top */
		free(line);
		text += n + (text[n] == '\n');
	}
	return id;
}

long mountwatch_find(const char *text, const char *mountpoint)
{
	return find_mount(text, mountpoint, NULL, 0);
}

bool mountwatch_dev_listed(const char *text, const char *dev)
{
	bool listed = false;
	while (*text && !listed) {
		size_t n = strcspn(text, "\n");
		struct mountinfo_line m;
		char *line = strndup(text, n);
		listed = line && mountinfo_parse(line, n, &m) == 0 && strcmp(m.dev, dev) == 0;
		free(line);
		text += n + (text[n] == '\n');
	}
	return listed;
}

/* /proc/self/mountinfo's text, malloc'ed; NULL if it cannot be read. */
static char *read_mountinfo(void)
{
	FILE *f = fopen(MOUNTINFO_PATH, "re");
	char *text = NULL;
	size_t len = 0;
	if (!f)
		return NULL;
	FILE *out = open_memstream(&text, &len);
	char buf[4096];
	size_t n;
	while (out && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, out);
	if (out)
		fclose(out);
	fclose(f);
	return text;
}

/*
 * Any mount of this connection left: the one made, or a bind mount of it
 * (mount --bind A B; umount A leaves B, which must go on answering).
 */
static bool still_mounted(const char *dev)
{
	char *text = read_mountinfo();
	if (!text)
		return true; /* cannot tell: assume it is */
	bool listed = mountwatch_dev_listed(text, dev);
	free(text);
	return listed;
}

/* Once gone: gone() again every GONE_REPEAT_MS until stopped (a wake-up can be lost to a race). */
static void repeat_gone(struct mountwatch *w)
{
	struct pollfd stop = {.fd = w->stop_fd[0], .events = POLLIN};
	int n;
	while ((n = poll(&stop, 1, GONE_REPEAT_MS)) == 0 || (n < 0 && errno == EINTR))
		w->gone(w->ctx);
}

static void *watch_main(void *arg)
{
	struct mountwatch *w = arg;
	struct pollfd fds[2] = {{.fd = w->info_fd, .events = POLLPRI},
				{.fd = w->stop_fd[0], .events = POLLIN}};
	for (;;) {
		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			break;
		if (fds[1].revents)
			break;
		if ((fds[0].revents & (POLLPRI | POLLERR)) && !still_mounted(w->dev)) {
			w->gone(w->ctx);
			repeat_gone(w);
			break;
		}
	}
	return NULL;
}

/* The thread must not take SIGINT/SIGTERM/SIGHUP: libfuse's loop wakes on the main thread's. */
static int start_thread(struct mountwatch *w)
{
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	int rc = pthread_create(&w->thread, NULL, watch_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

struct mountwatch *mountwatch_start(const char *mountpoint, void (*gone)(void *ctx), void *ctx)
{
	struct mountwatch *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->gone = gone;
	w->ctx = ctx;
	w->stop_fd[0] = w->stop_fd[1] = -1;
	w->info_fd = open(MOUNTINFO_PATH, O_RDONLY | O_CLOEXEC); /* poll: changes after this */
	char *text = w->info_fd >= 0 ? read_mountinfo() : NULL;
	long id = text ? find_mount(text, mountpoint, w->dev, sizeof(w->dev)) : -1;
	free(text);
	if (w->info_fd < 0 || id < 0 || pipe2(w->stop_fd, O_CLOEXEC) != 0 || start_thread(w) != 0) {
		log_info("%s: not watching for a lazy unmount", mountpoint);
		if (w->stop_fd[0] >= 0) {
			close(w->stop_fd[0]);
			close(w->stop_fd[1]);
		}
		if (w->info_fd >= 0)
			close(w->info_fd);
		free(w);
		return NULL;
	}
	return w;
}

void mountwatch_stop(struct mountwatch *w)
{
	if (!w)
		return;
	ssize_t n = write(w->stop_fd[1], "x", 1);
	(void)n; /* a full pipe wakes the thread as well */
	pthread_join(w->thread, NULL);
	close(w->stop_fd[0]);
	close(w->stop_fd[1]);
	close(w->info_fd);
	free(w);
}
