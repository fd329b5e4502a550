/* Unit tests for auth: token replies, one fetch for many callers, generations. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth.h"
#include "clock.h"

/* ---- auth_parse_token ---- */

static int parse(const char *body, char **token, double *lifetime, char *why)
{
	return auth_parse_token(body, strlen(body), token, lifetime, why, 128);
}

static void test_a_token_reply_gives_the_token_and_its_lifetime(void **state)
{
	char *token, why[128];
	double lifetime = 0;
	(void)state;
	assert_int_equal(parse("{\"access_token\":\"eyJ.abc-_~+/=\",\"token_type\":\"Bearer\","
			       "\"expires_in\":120}",
			       &token, &lifetime, why),
			 0);
	assert_string_equal(token, "eyJ.abc-_~+/=");
	assert_true(lifetime == 120);
	free(token);
}

static void test_a_token_reply_without_expires_in_lives_an_hour(void **state)
{
	char *token, why[128];
	double lifetime = 0;
	(void)state;
	assert_int_equal(parse("{\"access_token\":\"t\"}", &token, &lifetime, why), 0);
	assert_true(lifetime == 3600);
	free(token);
}

static void test_a_token_holding_cr_lf_or_a_control_character_is_refused(void **state)
{
	static const char *const bodies[] = {
		"{\"access_token\":\"abc\\r\\nX-Ovh-Consumer: forged\"}",
		"{\"access_token\":\"abc\\ndef\"}",
		"{\"access_token\":\"abc\\tdef\"}",
		"{\"access_token\":\"abc\\u001bdef\"}",
		"{\"access_token\":\"abc def\"}",
		"{\"access_token\":\"caf\\u00e9\"}",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		char *token = (char *)1, why[128] = "";
		double lifetime;
		assert_int_equal(parse(bodies[i], &token, &lifetime, why), -EIO);
		assert_null(token);
		assert_non_null(strstr(why, "refused"));
	}
}

static void test_a_reply_without_a_usable_token_is_eio(void **state)
{
	static const char *const bodies[] = {
		"", "not json", "[]", "{}", "{\"access_token\":7}", "{\"access_token\":\"\"}"};
	(void)state;
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		char *token, why[128] = "";
		double lifetime;
		assert_int_equal(parse(bodies[i], &token, &lifetime, why), -EIO);
		assert_non_null(strstr(why, "no usable access_token"));
	}
}

/* ---- one fetch for many callers ---- */

struct fixture {
	struct auth *auth;
	atomic_int fetches;
	double fetch_seconds; /* how long a fetch takes */
	int fail;	      /* the error the fetches return; 0: a token */
	int fail_first;	      /* the error the first fetch returns; 0: as the others */
};

static int fake_fetch(void *ctx, const struct op *op, unsigned flags, const char *form,
		      char **token, double *lifetime)
{
	struct fixture *f = ctx;
	char text[32];
	(void)flags;
	assert_non_null(strstr(form, "client_secret=s%2Bcr%26t")); /* form-encoded */
	int n = atomic_fetch_add(&f->fetches, 1) + 1;
	int rc = op_sleep(op, f->fetch_seconds); /* as a transfer: bounded by its op */
	if (rc)
		return rc;
	if (n == 1 && f->fail_first)
		return f->fail_first;
	if (f->fail)
		return f->fail;
	snprintf(text, sizeof(text), "token-%d", n);
	*token = strdup(text);
	*lifetime = 3600;
	return 0;
}

static void fixture_new(struct fixture *f, double fetch_seconds)
{
	char id[] = "id", secret[] = "s+cr&t", url[] = "http://127.0.0.1:9/auth/oauth2/token";
	struct ovh_config cfg = {.client_id = id, .client_secret = secret, .token_url = url};
	memset(f, 0, sizeof(*f));
	f->fetch_seconds = fetch_seconds;
	assert_int_equal(auth_new(&cfg, fake_fetch, f, &f->auth), 0);
}

struct caller {
	struct fixture *f;
	pthread_t thread;
	int rc;
	unsigned generation;
	char line[64];
};

static void *call_once(void *arg)
{
	struct caller *c = arg;
	struct auth_lines lines;
	c->rc = auth_lines(c->f->auth, NULL, 0, "GET", "http://x/1.0/me", NULL, &lines);
	if (c->rc == 0) {
		snprintf(c->line, sizeof(c->line), "%s", lines.line[0]);
		c->generation = lines.generation;
	}
	auth_lines_wipe(&lines);
	return NULL;
}

static void run_callers(struct fixture *f, struct caller *callers, int n)
{
	for (int i = 0; i < n; i++) {
		callers[i].f = f;
		assert_int_equal(pthread_create(&callers[i].thread, NULL, call_once, &callers[i]),
				 0);
	}
	for (int i = 0; i < n; i++)
		pthread_join(callers[i].thread, NULL);
}

static void test_concurrent_callers_share_one_token_fetch(void **state)
{
	struct fixture f;
	struct caller callers[8];
	(void)state;
	fixture_new(&f, 0.2);
	run_callers(&f, callers, 8);
	assert_int_equal(f.fetches, 1);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(callers[i].rc, 0);
		assert_string_equal(callers[i].line, "Authorization: Bearer token-1");
	}
	auth_free(f.auth);
}

static void test_concurrent_401s_with_one_token_fetch_one_new_token(void **state)
{
	struct fixture f;
	struct caller callers[8];
	(void)state;
	fixture_new(&f, 0.05);
	run_callers(&f, callers, 8);
	unsigned generation = callers[0].generation;
	/* Each caller got a 401 with token-1 and says so; one forgetting is enough. */
	for (int i = 0; i < 8; i++)
		auth_token_failed(f.auth, generation);
	run_callers(&f, callers, 8);
	assert_int_equal(f.fetches, 2);
	for (int i = 0; i < 8; i++)
		assert_string_equal(callers[i].line, "Authorization: Bearer token-2");
	/* A late 401 about token-1 does not forget token-2. */
	auth_token_failed(f.auth, generation);
	run_callers(&f, callers, 1);
	assert_int_equal(f.fetches, 2);
	auth_free(f.auth);
}

static void test_callers_waiting_on_a_failed_fetch_get_its_error(void **state)
{
	struct fixture f;
	struct caller callers[6];
	(void)state;
	fixture_new(&f, 0.2);
	f.fail = -EACCES;
	run_callers(&f, callers, 6);
	assert_true(f.fetches < 6); /* the waiters took the fetch's answer, not a fetch each */
	for (int i = 0; i < 6; i++)
		assert_int_equal(callers[i].rc, -EACCES);
	auth_free(f.auth);
}

static bool always(void *ctx)
{
	(void)ctx;
	return true;
}

static void *fetch_in_background(void *arg)
{
	return call_once(arg);
}

static void test_a_wait_for_another_fetch_ends_with_its_op(void **state)
{
	struct fixture f;
	struct caller first = {0};
	struct auth_lines lines;
	struct op op;
	(void)state;
	fixture_new(&f, 1.0);
	first.f = &f;
	assert_int_equal(pthread_create(&first.thread, NULL, fetch_in_background, &first), 0);
	clock_sleep(0.1); /* first is fetching */
	op_start(&op, 0, always, NULL);
	double t0 = clock_now();
	assert_int_equal(auth_lines(f.auth, &op, 0, "GET", "http://x/", NULL, &lines), -EINTR);
	assert_true(clock_now() - t0 < 0.5);
	pthread_join(first.thread, NULL);
	assert_int_equal(first.rc, 0);
	auth_free(f.auth);
}

/* A fetch cut short (its own bound, shutdown) is not the answer of a waiter whose op goes on. */
static void test_a_fetch_cut_short_is_not_the_answer_of_its_waiters(void **state)
{
	struct fixture f;
	struct caller first = {0};
	struct auth_lines lines;
	(void)state;
	fixture_new(&f, 0.3);
	f.fail_first = -ETIMEDOUT; /* the fetch ran out of its own time */
	first.f = &f;
	assert_int_equal(pthread_create(&first.thread, NULL, fetch_in_background, &first), 0);
	clock_sleep(0.1); /* first is waiting on the fetch */
	assert_int_equal(auth_lines(f.auth, NULL, 0, "GET", "http://x/", NULL, &lines), 0);
	assert_string_equal(lines.line[0], "Authorization: Bearer token-2");
	auth_lines_wipe(&lines);
	pthread_join(first.thread, NULL);
	assert_int_equal(first.rc, 0);
	assert_string_equal(first.line, "Authorization: Bearer token-2");
	assert_int_equal(f.fetches, 2);
	auth_free(f.auth);
}

/* A caller with a deadline of 0.2 s. */
static void *call_with_deadline(void *arg)
{
	struct caller *c = arg;
	struct auth_lines lines;
	struct op op;
	op_start(&op, 0.2, NULL, NULL);
	c->rc = auth_lines(c->f->auth, &op, 0, "GET", "http://x/1.0/me", NULL, &lines);
	auth_lines_wipe(&lines);
	return NULL;
}

/*
 * The caller that started a fetch reaches its deadline: it alone gives up;
 * the fetch runs on its own bound and its waiters get the token.
 */
static void test_a_caller_at_its_deadline_leaves_the_fetch_to_its_waiters(void **state)
{
	struct fixture f;
	struct caller first = {0};
	struct auth_lines lines;
	(void)state;
	fixture_new(&f, 0.6);
	first.f = &f;
	assert_int_equal(pthread_create(&first.thread, NULL, call_with_deadline, &first), 0);
	clock_sleep(0.05); /* first has started the fetch */
	assert_int_equal(auth_lines(f.auth, NULL, 0, "GET", "http://x/", NULL, &lines), 0);
	assert_string_equal(lines.line[0], "Authorization: Bearer token-1");
	auth_lines_wipe(&lines);
	pthread_join(first.thread, NULL);
	assert_int_equal(first.rc, -ETIMEDOUT);
	assert_int_equal(f.fetches, 1);
	auth_free(f.auth);
}

/* ---- signatures ---- */

static void test_signed_requests_carry_the_four_ovh_headers(void **state)
{
	char ak[] = "ak", as[] = "as", ck[] = "ck";
	struct ovh_config cfg = {
		.application_key = ak, .application_secret = as, .consumer_key = ck};
	struct auth *auth;
	struct auth_lines lines;
	(void)state;
	assert_int_equal(auth_new(&cfg, NULL, NULL, &auth), 0);
	auth_set_time_delta(auth, 0);
	assert_int_equal(auth_lines(auth, NULL, 0, "GET", "http://x/1.0/me", NULL, &lines), 0);
	assert_string_equal(lines.line[0], "X-Ovh-Application: ak");
	assert_string_equal(lines.line[1], "X-Ovh-Consumer: ck");
	assert_non_null(strstr(lines.line[2], "X-Ovh-Timestamp: "));
	assert_non_null(strstr(lines.line[3], "X-Ovh-Signature: $1$"));
	assert_null(lines.line[4]);
	auth_lines_wipe(&lines);
	assert_null(lines.line[0]);
	assert_int_equal(lines.buf[0], 0);
	auth_free(auth);
}

static void test_missing_credentials_are_refused(void **state)
{
	char ak[] = "ak";
	struct ovh_config cfg = {.application_key = ak};
	struct auth *auth = NULL;
	(void)state;
	assert_int_equal(auth_new(&cfg, NULL, NULL, &auth), -EINVAL);
	assert_null(auth);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_token_reply_gives_the_token_and_its_lifetime),
		cmocka_unit_test(test_a_token_reply_without_expires_in_lives_an_hour),
		cmocka_unit_test(test_a_token_holding_cr_lf_or_a_control_character_is_refused),
		cmocka_unit_test(test_a_reply_without_a_usable_token_is_eio),
		cmocka_unit_test(test_concurrent_callers_share_one_token_fetch),
		cmocka_unit_test(test_concurrent_401s_with_one_token_fetch_one_new_token),
		cmocka_unit_test(test_a_fetch_cut_short_is_not_the_answer_of_its_waiters),
		cmocka_unit_test(test_a_caller_at_its_deadline_leaves_the_fetch_to_its_waiters),
		cmocka_unit_test(test_callers_waiting_on_a_failed_fetch_get_its_error),
		cmocka_unit_test(test_a_wait_for_another_fetch_ends_with_its_op),
		cmocka_unit_test(test_signed_requests_carry_the_four_ovh_headers),
		cmocka_unit_test(test_missing_credentials_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
