/*
 * Unit tests for http: how far a transfer got, on real loopback sockets.
 * A tiny server thread plays each part: refusing, answering, dropping the
 * connection after reading the request, or saying nothing at all.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "http.h"

enum part { ANSWER_429, DROP_AFTER_REQUEST, SILENT };

struct server {
	int fd;
	int port;
	enum part part;
	pthread_t thread;
};

static void *serve(void *arg)
{
	struct server *s = arg;
	char buf[4096];
	int c = accept(s->fd, NULL, NULL);
	if (c < 0)
		return NULL;
	if (s->part != SILENT) {
		ssize_t n = read(c, buf, sizeof(buf)); /* the request's head */
		(void)n;
	}
	if (s->part == ANSWER_429) {
		static const char reply[] = "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\n"
					    "X-Ovh-QueryID: EU.test\r\nContent-Length: 2\r\n\r\n{}";
		ssize_t n = write(c, reply, sizeof(reply) - 1);
		(void)n;
	} else if (s->part == SILENT) {
		clock_sleep(2); /* connected (the kernel accepted it), never a byte back */
	}
	close(c);
	return NULL;
}

static void server_start(struct server *s, enum part part)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	s->part = part;
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->fd >= 0);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->fd, 4), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &len), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void server_stop(struct server *s)
{
	shutdown(s->fd, SHUT_RDWR);
	pthread_join(s->thread, NULL);
	close(s->fd);
}

static int post(struct http *http, int port, const struct op *op, double timeout,
		struct ovh_response *resp, struct try_outcome *out)
{
	char url[64], why[256];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/1.0/x", port);
	struct http_request rq = {.method = "POST",
				  .url = url,
				  .body = "{\"name\":\"n\"}",
				  .content_type = "application/json",
				  .timeout = timeout,
				  .op = op};
	memset(resp, 0, sizeof(*resp));
	return http_perform(http, &rq, resp, out, why, sizeof(why));
}

static int setup(void **state)
{
	struct http *http;
	assert_int_equal(http_global_init(), 0);
	assert_int_equal(http_new(NULL, &http), 0);
	*state = http;
	return 0;
}

static int teardown(void **state)
{
	http_free(*state);
	http_global_cleanup();
	return 0;
}

static void test_a_refused_connection_sent_nothing(void **state)
{
	struct ovh_response resp;
	struct try_outcome out;
	/* Port 9 (discard) on loopback: nothing listens. */
	assert_int_equal(post(*state, 9, NULL, 2, &resp, &out), -EIO);
	assert_int_equal(out.sent, TRY_NOT_SENT);
	assert_int_equal(out.abort_rc, 0);
	http_body_free(&resp, false);
}

static void test_a_reply_gives_its_status_retry_after_and_query_id(void **state)
{
	struct server s;
	struct ovh_response resp;
	struct try_outcome out;
	server_start(&s, ANSWER_429);
	assert_int_equal(post(*state, s.port, NULL, 5, &resp, &out), 0);
	assert_int_equal(out.sent, TRY_REPLY);
	assert_int_equal(out.status, 429);
	assert_true(out.retry_after == 3);
	assert_string_equal(resp.query_id, "EU.test");
	assert_string_equal(resp.body, "{}");
	http_body_free(&resp, true);
	assert_null(resp.body);
	server_stop(&s);
}

static void test_a_connection_dropped_after_the_request_may_have_been_acted_on(void **state)
{
	struct server s;
	struct ovh_response resp;
	struct try_outcome out;
	server_start(&s, DROP_AFTER_REQUEST);
	assert_int_equal(post(*state, s.port, NULL, 5, &resp, &out), -EIO);
	assert_int_equal(out.sent, TRY_MAYBE_SENT);
	http_body_free(&resp, false);
	server_stop(&s);
}

static void test_a_transfer_ends_at_its_timeout_as_maybe_sent(void **state)
{
	struct server s;
	struct ovh_response resp;
	struct try_outcome out;
	server_start(&s, SILENT);
	double t0 = clock_now();
	assert_int_equal(post(*state, s.port, NULL, 0.5, &resp, &out), -ETIMEDOUT);
	assert_true(clock_now() - t0 < 2);
	assert_int_equal(out.sent, TRY_MAYBE_SENT);
	http_body_free(&resp, false);
	server_stop(&s);
}

static bool after(void *ctx)
{
	return clock_now() >= *(double *)ctx;
}

static void test_an_interrupt_aborts_the_transfer_within_about_a_second(void **state)
{
	struct server s;
	struct ovh_response resp;
	struct try_outcome out;
	struct op op;
	server_start(&s, SILENT);
	double at = clock_now() + 0.3;
	op_start(&op, 0, after, &at);
	assert_int_equal(post(*state, s.port, &op, 30, &resp, &out), -EINTR);
	assert_true(clock_now() - at < 1.5); /* libcurl asks about once a second */
	assert_int_equal(out.abort_rc, -EINTR);
	assert_int_equal(out.sent, TRY_MAYBE_SENT); /* connected: its bytes may have left */
	http_body_free(&resp, false);
	server_stop(&s);
}

static void test_an_op_already_over_aborts_before_anything_is_sent(void **state)
{
	struct ovh_response resp;
	struct try_outcome out;
	struct op op;
	double at = 0;
	op_start(&op, 0, after, &at); /* interrupted from the start */
	/* A port nobody answers on quickly would do too; the abort comes first. */
	assert_int_equal(post(*state, 9, &op, 5, &resp, &out), -EINTR);
	assert_int_equal(out.sent, TRY_NOT_SENT);
	http_body_free(&resp, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_refused_connection_sent_nothing),
		cmocka_unit_test(test_a_reply_gives_its_status_retry_after_and_query_id),
		cmocka_unit_test(
			test_a_connection_dropped_after_the_request_may_have_been_acted_on),
		cmocka_unit_test(test_a_transfer_ends_at_its_timeout_as_maybe_sent),
		cmocka_unit_test(test_an_interrupt_aborts_the_transfer_within_about_a_second),
		cmocka_unit_test(test_an_op_already_over_aborts_before_anything_is_sent),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
