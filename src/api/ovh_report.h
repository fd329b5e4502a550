/*
 * ovh_report: what the OVH client's calls tell, and the client's state.
 *
 * Private to the client (ovh.c, ovh_report.c); the rest of ovhsnapfs uses
 * ovh.h, where the public functions of ovh_report.c are declared
 * (ovh_status_to_errno, ovh_parse_error, ovh_set_quiet, ovh_last_error,
 * ovh_status_json). ovh.c owns the call and its tries; ovh_report.c owns
 * the errno of an HTTP status, the API's error bodies (OVH's and OAuth2's),
 * the latest failure (logged unless quiet) and the counters, and their JSON
 * for the status file. Thread-safe: counters are atomic, the failure is
 * under err_lock.
 */
#ifndef OVHSNAPFS_OVH_REPORT_H
#define OVHSNAPFS_OVH_REPORT_H

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "guard.h"
#include "ovh.h"

/* The latest failure, as the status file shows it. */
struct failure {
	time_t time; /* 0: none yet */
	char method[16];
	char path[256];
	long status;
	char error_class[96];
	char message[256];
	char query_id[128];
};

#define N_STATUS  600 /* by_status counts 0 (no reply) and 100..599 */
#define N_METHODS 5   /* by_method: GET, POST, PUT, DELETE, other */

/* What the status file counts; updated without a lock. */
struct counters {
	atomic_ulong calls; /* HTTP requests sent, /auth/time and tokens included */
	atomic_ulong by_method[N_METHODS];
	atomic_ulong by_status[N_STATUS];
	atomic_ulong retries; /* requests sent again */
	atomic_ulong errors;  /* failures reported (a 404 is not one) */
};

struct ovh_client {
	char *base_url;
	double timeout;
	double try_timeout; /* request_timeout=, at most timeout= */
	int retries;
	struct http *http;
	struct auth *auth;

	_Atomic int quiet;	  /* start-up checks report failures themselves */
	pthread_mutex_t err_lock; /* guards last_error and failure */
	char last_error[512];
	struct failure failure; /* the same, field by field, for the status file */
	struct counters counters;

	struct breaker breaker;	    /* fails fast while the API is down */
	struct ratelimit ratelimit; /* rate=, burst= */
};

/* A failed reply's error_class and error_message, from its body (JSON, or a printable prefix). */
void ovh_fill_error_fields(struct ovh_response *resp);

/*
 * Keep the last failure (of method path, with what resp says of it) for
 * start-up reports and the status file, and log it unless quiet.
 */
void ovh_record_error(struct ovh_client *c, const char *method, const char *path,
		      const struct ovh_response *resp, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* An OAuth2 token endpoint's refusal (its "error" and "error_description"), recorded. */
void ovh_token_refused(struct ovh_client *c, const char *url, struct ovh_response *resp);

/* Count a try's n requests (n <= 0: none was written); the last one got status (0: no reply). */
void ovh_count_requests(struct ovh_client *c, const char *method, long status, int n);

#endif
