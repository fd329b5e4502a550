/* metrics: the Prometheus text file, rewritten atomically by one thread. */
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

struct metrics {
	struct status *status;
	char *path;
	pthread_mutex_t lock;
	pthread_cond_t wake; /* CLOCK_MONOTONIC */
	bool stopping, started, failing;
	pthread_t thread;
};

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * A new temporary file beside path (mkstemp: O_EXCL, a name nobody could
 * have planted a link or a file under), then rename: readers see the old
 * file or the new one. 0644, as a textfile collector reads it.
 */
static int write_file(const char *path, const char *data, size_t len)
{
	char tmp[4200];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fchmod(fd, 0644) != 0 ? -errno : write_all(fd, data, len);
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc)
		unlink(tmp);
	return rc;
}

static int write_now(struct metrics *m)
{
	size_t len;
	json_t *doc = status_collect(m->status);
	char *text = doc ? status_prometheus(doc, &len) : NULL;
	json_decref(doc);
	int rc = text ? write_file(m->path, text, len) : -ENOMEM;
	free(text);
	return rc;
}

/* One log line when writing starts failing, one when it works again. */
static void write_logged(struct metrics *m)
{
	int rc = write_now(m);
	if (rc && !m->failing)
		log_warn("metrics_file=%s: cannot write: %s", m->path, strerror(-rc));
	else if (!rc && m->failing)
		log_warn("metrics_file=%s: written again", m->path);
	m->failing = rc != 0;
}

static char *absolute(const char *path)
{
	char cwd[4096];
	char *abs = NULL;
	if (path[0] == '/')
		return strdup(path);
	if (!getcwd(cwd, sizeof(cwd)) || asprintf(&abs, "%s/%s", cwd, path) < 0)
		return NULL;
	return abs;
}

int metrics_open(struct status *status, const char *path, struct metrics **out)
{
	struct metrics *m = calloc(1, sizeof(*m));
	pthread_condattr_t attr;
	if (!m || !(m->path = absolute(path))) {
		free(m);
		return -ENOMEM;
	}
	m->status = status;
	int rc = write_now(m);
	if (rc) {
		free(m->path);
		free(m);
		return rc;
	}
	pthread_mutex_init(&m->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&m->wake, &attr);
	pthread_condattr_destroy(&attr);
	*out = m;
	return 0;
}

const char *metrics_path(const struct metrics *m)
{
	return m->path;
}

static void *writer(void *arg)
{
	struct metrics *m = arg;
	struct timespec at;
	pthread_mutex_lock(&m->lock);
	while (!m->stopping) {
		clock_gettime(CLOCK_MONOTONIC, &at);
		at.tv_sec += (time_t)METRICS_INTERVAL;
		while (!m->stopping && pthread_cond_timedwait(&m->wake, &m->lock, &at) != ETIMEDOUT)
			;
		if (m->stopping)
			break;
		pthread_mutex_unlock(&m->lock);
		write_logged(m);
		pthread_mutex_lock(&m->lock);
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

int metrics_start(struct metrics *m)
{
	int rc = pthread_create(&m->thread, NULL, writer, m);
	m->started = rc == 0;
	return -rc;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	if (m->started) {
		pthread_mutex_lock(&m->lock);
		m->stopping = true;
		pthread_cond_signal(&m->wake);
		pthread_mutex_unlock(&m->lock);
		pthread_join(m->thread, NULL);
	}
	write_logged(m); /* the final counters */
	pthread_cond_destroy(&m->wake);
	pthread_mutex_destroy(&m->lock);
	free(m->path);
	free(m);
}
