/*
 * auth: what proves each request comes from the account's owner.
 *
 * Owns the credentials, each kept once and wiped when freed: the
 * application key, secret and consumer key with the server's time delta
 * (signatures), or an OAuth2 service account and its current token.
 *
 * Token life: fetched when first needed and again shortly before it
 * expires (CLOCK_MONOTONIC), or after a 401. Concurrent callers share one
 * fetch, run in a thread of its own on its own bound (timeout=, cut at
 * shutdown), not on any caller's op: each caller waits only as long as its
 * own op lets it (no lock held during the fetch), and one caller leaving
 * fails no other. A fetch cut short (-ETIMEDOUT, -EINTR) is fetched again
 * by a waiter whose op goes on; a refusal is every waiter's answer.
 * auth_free waits for a fetch under way. Each token has a generation; a 401
 * forgets only the token it was answered to, so concurrent 401s fetch one
 * new token, not one each.
 *
 * The fetch itself (one HTTP POST) is done by the caller's fetch function
 * (ovh.c), so auth knows no HTTP. Thread-safe.
 *
 * Copies of a secret outside this struct are short-lived and wiped: the
 * header lines (auth_lines_wipe), the token form, the token reply (http.c
 * wipes its buffers, auth_parse_token jansson's string). Out of reach:
 * libcurl's own send buffer, which it frees unwiped.
 */
#ifndef OVHSNAPFS_AUTH_H
#define OVHSNAPFS_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "op.h"

struct auth;

/*
 * POST form to the token URL on behalf of op; on success *token is a new
 * malloc'd access token (taken over by auth) and *lifetime its seconds.
 * auth calls it with a NULL op: the fetch function sets its bound (ovh.c:
 * timeout=, as for one operation).
 */
typedef int (*auth_fetch_fn)(void *ctx, const struct op *op, unsigned flags, const char *form,
			     char **token, double *lifetime);

/* Copies what it needs of cfg. */
int auth_new(const struct ovh_config *cfg, auth_fetch_fn fetch, void *ctx, struct auth **out);
void auth_free(struct auth *auth);

bool auth_uses_oauth2(const struct auth *auth);
const char *auth_token_url(const struct auth *auth);

/* Server clock minus ours, in seconds, for signatures. */
void auth_set_time_delta(struct auth *auth, long delta);
long auth_time_delta(const struct auth *auth);

#define AUTH_LINES_MAX 4

/* The header lines of one request; holds secrets: auth_lines_wipe() it. */
struct auth_lines {
	const char *line[AUTH_LINES_MAX + 1]; /* NULL-terminated, into buf */
	char buf[4352];
	unsigned generation; /* of the token used; after a 401: auth_token_failed */
};

/*
 * The lines proving identity for one request (method, full url, body or
 * NULL). May fetch a token, waiting on behalf of op; negative errno when no
 * token can be had (the fetch function said why).
 */
int auth_lines(struct auth *auth, const struct op *op, unsigned flags, const char *method,
	       const char *url, const char *body, struct auth_lines *out);
void auth_lines_wipe(struct auth_lines *lines);

/* The token of that generation got a 401: forget it, unless a newer one replaced it. */
void auth_token_failed(struct auth *auth, unsigned generation);

/*
 * Pure, for ovh.c and the unit tests: take access_token and expires_in from
 * a token reply. -EIO when there is none, or when it holds a control
 * character (CR or LF would forge headers), with the reason in why.
 */
int auth_parse_token(const char *body, size_t len, char **token, double *lifetime, char *why,
		     size_t why_len);

#endif
