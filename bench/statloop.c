/*
 * statloop: stat(2) every path of a list, over and over, for a given time.
 *
 *     statloop PATHLIST SECONDS
 *
 * PATHLIST has one path per line. Prints one line:
 *     stats=N seconds=S errors=E
 * The clock is read every 64 stats, so the loop costs little beyond stat().
 *
 * Build: cc -O2 statloop.c -o statloop
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char *argv[])
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s PATHLIST SECONDS\n", argv[0]);
		return 2;
	}
	FILE *f = fopen(argv[1], "r");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	double seconds = atof(argv[2]);
	char **paths = NULL, *line = NULL;
	size_t n = 0, cap = 0, lcap = 0;
	ssize_t len;
	while ((len = getline(&line, &lcap, f)) > 0) {
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (!len)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 1024;
			paths = realloc(paths, cap * sizeof(*paths));
			if (!paths)
				return 1;
		}
		paths[n++] = strdup(line);
	}
	fclose(f);
	free(line);
	if (n == 0) {
		fprintf(stderr, "statloop: no paths\n");
		return 1;
	}

	unsigned long long stats = 0, errors = 0;
	struct stat st;
	size_t i = 0;
	double start = now(), elapsed = 0;
	for (;;) {
		for (int k = 0; k < 64; k++) {
			if (stat(paths[i], &st) != 0)
				errors++;
			stats++;
			if (++i == n)
				i = 0;
		}
		elapsed = now() - start;
		if (elapsed >= seconds)
			break;
	}
	printf("stats=%llu seconds=%.6f errors=%llu\n", stats, elapsed, errors);
	return 0;
}
