/*
 * options: the ovhsnapfs command line.
 *
 * Owns the -o table (fuse_opt), --help, the strict reading of numbers
 * (fuse_opt's sscanf takes "nan", "-1", "5abc") and every check of a value
 * made before anything else: ranges, the description's text, SOURCE against
 * -o endpoint=, paths made absolute. Each refusal is one check_die line.
 */
#ifndef OVHSNAPFS_OPTIONS_H
#define OVHSNAPFS_OPTIONS_H

#include <stddef.h>

#include "fs.h"

struct options {
	char *config;
	char *endpoint;
	char *service;
	char *description;
	char *cafile;
	char *log_level;
	char *metrics_file;
	double cache_ttl;
	double wait;
	double metrics_refresh;
	double timeout;
	double request_timeout;
	double rate;
	double burst;
	int retries;
	int prefetch;
	char *cache_max; /* cache_parse_max */
	size_t cache_max_objects, cache_max_bytes;
	unsigned int umask;
	int read_only;
	int allow_revert;	 /* -o allow_revert: setfattr user.ovh.revert may revert a share */
	int allow_other;	 /* allow_other or allow_root */
	int default_permissions; /* given, or added for allow_other */
	int show_help;
	int show_version;
	int check;	   /* --check: run the start-up checks, report, do not mount */
	int insecure_http; /* http:// to a host not this one's loopback allowed */
	char *nonopt[2];
	int n_nonopt;
	const char *error; /* a refused option, reported after parsing */
	char bad_number[256];
};

/* Options into o; 0 to go on, 1 for a clean early exit, -1 for a usage error. */
int options_parse(struct fuse_args *args, struct options *o);
/* SOURCE and -o endpoint= name the same thing; either may be absent. */
int options_endpoint(const struct options *o, const char **endpoint, const char **source);
void options_free(struct options *o);

#endif
