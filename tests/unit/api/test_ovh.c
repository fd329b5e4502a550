/* Unit tests for ovh: request signing, status mapping and error bodies. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curlver.h>
#include <openssl/sha.h>

#include "ovh.h"

/* The example credentials of the OVH "first steps" guide: not secrets. */
#define AS	 "EXEgWIz07P0HYwtQDs7cNIqCiQaWSuHF"
#define CK	 "MtSwSrPpNjqfVSmJhLbPyr2i45lSwPU1"
#define LIST_URL "https://eu.api.ovh.com/1.0/storage/netapp?detail=true"
#define POST_URL "https://eu.api.ovh.com/1.0/storage/netapp/svc/share/shr/snapshot"
#define TS	 1457018875L

/* clang-format off */
/*
 * Computed once in a shell, independently of ovh.c:
 *   printf '%s' 'EXEgWIz07P0HYwtQDs7cNIqCiQaWSuHF+MtSwSrPpNjqfVSmJhLbPyr2i45lSwPU1+GET+https://eu.api.ovh.com/1.0/storage/netapp?detail=true++1457018875' | sha1sum
 */
#define GET_SIG "$1$415d2f7b4012625ae19183169872f3ac66902303"
/*
 *   printf '%s' 'EXEgWIz07P0HYwtQDs7cNIqCiQaWSuHF+MtSwSrPpNjqfVSmJhLbPyr2i45lSwPU1+POST+https://eu.api.ovh.com/1.0/storage/netapp/svc/share/shr/snapshot+{"name":"nightly"}+1457018875' | sha1sum
 */
#define POST_SIG "$1$d088d67328972f7e44a6b37c25a51546ad8f63f1"
/* clang-format on */

/* "$1$" + lowercase hex SHA1 of the '+'-joined parts, computed here. */
static void expected_signature(const char *method, const char *url, const char *body, long ts,
			       char out[45])
{
	char text[1024];
	unsigned char digest[SHA_DIGEST_LENGTH];
	int n = snprintf(text, sizeof(text), "%s+%s+%s+%s+%s+%ld", AS, CK, method, url, body, ts);
	assert_in_range(n, 1, sizeof(text) - 1);
	SHA1((const unsigned char *)text, (size_t)n, digest);
	strcpy(out, "$1$");
	for (int i = 0; i < SHA_DIGEST_LENGTH; i++)
		sprintf(out + 3 + 2 * i, "%02x", digest[i]);
}

/* ---- ovh_sign ---- */

static void test_sign_get_matches_openssl_sha1_of_joined_parts(void **state)
{
	char got[45], want[45];
	(void)state;
	ovh_sign(AS, CK, "GET", LIST_URL, "", TS, got);
	expected_signature("GET", LIST_URL, "", TS, want);
	assert_string_equal(got, want);
}

static void test_sign_get_matches_fixed_vector(void **state)
{
	char got[45];
	(void)state;
	ovh_sign(AS, CK, "GET", LIST_URL, "", TS, got);
	assert_string_equal(got, GET_SIG);
}

static void test_sign_null_body_is_signed_as_empty(void **state)
{
	char got[45];
	(void)state;
	ovh_sign(AS, CK, "GET", LIST_URL, NULL, TS, got);
	assert_string_equal(got, GET_SIG);
}

static void test_sign_is_dollar_one_dollar_and_40_lowercase_hex(void **state)
{
	char got[45];
	(void)state;
	memset(got, 'X', sizeof(got));
	ovh_sign(AS, CK, "GET", LIST_URL, "", TS, got);
	assert_int_equal(strlen(got), 43);
	assert_memory_equal(got, "$1$", 3);
	for (size_t i = 3; i < 43; i++)
		assert_non_null(strchr("0123456789abcdef", got[i]));
}

static void test_sign_post_body_is_part_of_the_signature(void **state)
{
	char get[45], post_empty[45], post[45], want[45];
	const char *body = "{\"name\":\"nightly\"}";
	(void)state;
	ovh_sign(AS, CK, "GET", LIST_URL, "", TS, get);
	ovh_sign(AS, CK, "POST", POST_URL, "", TS, post_empty);
	ovh_sign(AS, CK, "POST", POST_URL, body, TS, post);
	assert_string_not_equal(post, post_empty);
	assert_string_not_equal(post, get);
	expected_signature("POST", POST_URL, body, TS, want);
	assert_string_equal(post, want);
	assert_string_equal(post, POST_SIG);
}

static void test_sign_depends_on_method_url_timestamp_and_keys(void **state)
{
	char base[45], other[45];
	(void)state;
	ovh_sign(AS, CK, "GET", LIST_URL, "", TS, base);
	ovh_sign(AS, CK, "DELETE", LIST_URL, "", TS, other);
	assert_string_not_equal(base, other);
	ovh_sign(AS, CK, "GET", "https://eu.api.ovh.com/1.0/storage/netapp", "", TS, other);
	assert_string_not_equal(base, other); /* the query string is signed */
	ovh_sign(AS, CK, "GET", LIST_URL, "", TS + 1, other);
	assert_string_not_equal(base, other);
	ovh_sign("other-secret", CK, "GET", LIST_URL, "", TS, other);
	assert_string_not_equal(base, other);
	ovh_sign(AS, "other-ck", "GET", LIST_URL, "", TS, other);
	assert_string_not_equal(base, other);
}

/* ---- ovh_status_to_errno ---- */

static void test_status_2xx_is_success(void **state)
{
	(void)state;
	assert_int_equal(ovh_status_to_errno(200), 0);
	assert_int_equal(ovh_status_to_errno(201), 0);
	assert_int_equal(ovh_status_to_errno(202), 0);
	assert_int_equal(ovh_status_to_errno(204), 0);
}

static void test_status_client_errors_map_to_errno(void **state)
{
	(void)state;
	assert_int_equal(ovh_status_to_errno(400), -EINVAL);
	assert_int_equal(ovh_status_to_errno(401), -EACCES);
	assert_int_equal(ovh_status_to_errno(403), -EACCES);
	assert_int_equal(ovh_status_to_errno(404), -ENOENT);
	assert_int_equal(ovh_status_to_errno(409), -EBUSY);
}

static void test_status_throttling_and_server_errors_are_eio(void **state)
{
	(void)state;
	assert_int_equal(ovh_status_to_errno(429), -EIO);
	assert_int_equal(ovh_status_to_errno(500), -EIO);
	assert_int_equal(ovh_status_to_errno(502), -EIO);
	assert_int_equal(ovh_status_to_errno(503), -EIO);
	assert_int_equal(ovh_status_to_errno(460), -EIO);
	assert_int_equal(ovh_status_to_errno(301), -EIO);
}

static void test_status_no_reply_and_gateway_timeout_are_etimedout(void **state)
{
	(void)state;
	assert_int_equal(ovh_status_to_errno(0), -ETIMEDOUT);
	assert_int_equal(ovh_status_to_errno(504), -ETIMEDOUT);
}

/* ---- ovh_parse_error ---- */

static int parse(const char *body, char *cls, size_t cls_len, char *msg, size_t msg_len)
{
	return ovh_parse_error(body, strlen(body), cls, cls_len, msg, msg_len);
}

static void test_parse_error_reads_class_and_message(void **state)
{
	char cls[96], msg[256];
	(void)state;
	assert_int_equal(parse("{\"class\":\"Client::NotFound\",\"message\":\"x\"}", cls,
			       sizeof(cls), msg, sizeof(msg)),
			 0);
	assert_string_equal(cls, "Client::NotFound");
	assert_string_equal(msg, "x");
}

static void test_parse_error_reads_auth_layer_error_code(void **state)
{
	char cls[96], msg[256];
	(void)state;
	assert_int_equal(parse("{\"errorCode\":\"INVALID_SIGNATURE\",\"httpCode\":\"400 Bad "
			       "Request\",\"message\":\"Invalid signature\"}",
			       cls, sizeof(cls), msg, sizeof(msg)),
			 0);
	assert_string_equal(cls, "INVALID_SIGNATURE");
	assert_string_equal(msg, "Invalid signature");
}

static void test_parse_error_message_without_class_leaves_class_empty(void **state)
{
	char cls[96] = "stale", msg[256] = "stale";
	(void)state;
	assert_int_equal(parse("{\"message\":\"This call has not been granted\"}", cls, sizeof(cls),
			       msg, sizeof(msg)),
			 0);
	assert_string_equal(cls, "");
	assert_string_equal(msg, "This call has not been granted");
}

static void test_parse_error_html_body_is_not_an_error_object(void **state)
{
	char cls[96] = "stale", msg[256] = "stale";
	(void)state;
	assert_int_not_equal(parse("<html><body>502 Bad Gateway</body></html>", cls, sizeof(cls),
				   msg, sizeof(msg)),
			     0);
	assert_string_equal(cls, "");
	assert_string_equal(msg, "");
}

static void test_parse_error_json_without_message_is_not_an_error_object(void **state)
{
	char cls[96], msg[256];
	(void)state;
	assert_int_not_equal(
		parse("{\"class\":\"Client::NotFound\"}", cls, sizeof(cls), msg, sizeof(msg)), 0);
	assert_int_not_equal(
		parse("{\"class\":\"X\",\"message\":42}", cls, sizeof(cls), msg, sizeof(msg)), 0);
	assert_int_not_equal(parse("[\"message\"]", cls, sizeof(cls), msg, sizeof(msg)), 0);
	assert_int_not_equal(parse("\"message\"", cls, sizeof(cls), msg, sizeof(msg)), 0);
	assert_int_not_equal(parse("", cls, sizeof(cls), msg, sizeof(msg)), 0);
	assert_int_not_equal(ovh_parse_error(NULL, 0, cls, sizeof(cls), msg, sizeof(msg)), 0);
}

static void test_parse_error_truncates_into_small_buffers_nul_terminated(void **state)
{
	char cls[8], msg[5];
	(void)state;
	memset(cls, 'X', sizeof(cls));
	memset(msg, 'X', sizeof(msg));
	assert_int_equal(parse("{\"class\":\"Client::NotFound\",\"message\":\"Resource not "
			       "found\"}",
			       cls, 5, msg, 4),
			 0);
	assert_string_equal(cls, "Clie");
	assert_string_equal(msg, "Res");
	/* Nothing written past the lengths given. */
	assert_int_equal(cls[5], 'X');
	assert_int_equal(msg[4], 'X');
}

static void test_parse_error_never_cuts_a_utf8_character(void **state)
{
	char cls[4], msg[5];
	(void)state;
	/* "abc\xc3\xa9" into 5 bytes: "abc\xc3" would not be UTF-8 (jansson refuses it). */
	assert_int_equal(parse("{\"class\":\"a\u20acb\",\"message\":\"abc\u00e9\"}", cls,
			       sizeof(cls), msg, sizeof(msg)),
			 0);
	assert_string_equal(msg, "abc");
	assert_string_equal(cls, "a");
	assert_int_equal(parse("{\"message\":\"ab\u00e9\"}", cls, sizeof(cls), msg, sizeof(msg)),
			 0);
	assert_string_equal(msg, "ab\xc3\xa9");
}

static void test_parse_error_one_byte_buffers_hold_empty_strings(void **state)
{
	char cls[1] = {'X'}, msg[1] = {'X'};
	(void)state;
	assert_int_equal(parse("{\"class\":\"C\",\"message\":\"m\"}", cls, 1, msg, 1), 0);
	assert_int_equal(cls[0], '\0');
	assert_int_equal(msg[0], '\0');
}

static void test_parse_error_reads_only_len_bytes(void **state)
{
	/* A body that is not NUL-terminated where len ends. */
	const char buf[] = "{\"message\":\"m\"}GARBAGE";
	char cls[16], msg[16];
	(void)state;
	assert_int_equal(ovh_parse_error(buf, strlen("{\"message\":\"m\"}"), cls, sizeof(cls), msg,
					 sizeof(msg)),
			 0);
	assert_string_equal(msg, "m");
	assert_int_not_equal(ovh_parse_error(buf, 10, cls, sizeof(cls), msg, sizeof(msg)), 0);
}

/* ---- client life cycle (no network) ---- */

static void test_client_copies_the_configuration(void **state)
{
	char base[] = "http://127.0.0.1:9/1.0";
	char ak[] = "ak", as[] = "as", ck[] = "ck";
	struct ovh_config cfg = {.base_url = base,
				 .application_key = ak,
				 .application_secret = as,
				 .consumer_key = ck};
	struct ovh_client_opts opts = {.cfg = &cfg, .timeout = 1, .retries = 1};
	struct ovh_client *client = NULL;
	(void)state;
	assert_int_equal(ovh_client_new(&opts, &client), 0);
	assert_non_null(client);
	strcpy(base, "XXXXXXXXXXXXXXXXXXXXXX"); /* the caller may reuse its copy */
	assert_string_equal(ovh_base_url(client), "http://127.0.0.1:9/1.0");
	assert_int_equal(ovh_time_delta(client), 0);
	ovh_client_free(client);
	ovh_client_free(NULL);
}

/* Port 9 (discard) on loopback: nothing listens, the connection is refused at once. */
static void test_status_counts_no_request_for_a_refused_connection_and_keeps_its_error(void **state)
{
	char base[] = "http://127.0.0.1:9/1.0";
	char ak[] = "ak", as[] = "as", ck[] = "ck";
	struct ovh_config cfg = {.base_url = base,
				 .application_key = ak,
				 .application_secret = as,
				 .consumer_key = ck};
	struct ovh_client_opts opts = {.cfg = &cfg, .timeout = 2, .retries = 1, .rate = 5};
	struct ovh_client *client = NULL;
	struct ovh_response resp;
	(void)state;
	assert_int_equal(ovh_client_new(&opts, &client), 0);
	json_t *st = ovh_status_json(client);
	assert_int_equal(json_integer_value(json_object_get(st, "calls")), 0);
	assert_true(json_is_null(json_object_get(st, "last_error")));
	json_decref(st);

	ovh_set_quiet(client, true);
	assert_int_not_equal(
		ovh_call_ex(client, NULL, "GET", "/storage/netapp", NULL, OVH_ONCE, &resp), 0);
	ovh_response_free(&resp);
	st = ovh_status_json(client);
#if LIBCURL_VERSION_NUM >= 0x075000
	/* Nothing was written on a connection that never opened: not a request. */
	assert_int_equal(json_integer_value(json_object_get(st, "calls")), 0);
	assert_int_equal(json_object_size(json_object_get(st, "by_method")), 0);
	assert_int_equal(json_object_size(json_object_get(st, "by_status")), 0);
#else
	assert_int_equal(json_integer_value(json_object_get(st, "calls")), 1);
	json_t *m = json_object_get(st, "by_method");
	assert_int_equal(json_integer_value(json_object_get(m, "GET")), 1);
	assert_int_equal(json_object_size(m), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "by_status"), "0")),
			 1);
#endif
	assert_int_equal(json_integer_value(json_object_get(st, "errors")), 1);
	json_t *e = json_object_get(st, "last_error");
	assert_string_equal(json_string_value(json_object_get(e, "method")), "GET");
	assert_string_equal(json_string_value(json_object_get(e, "path")), "/storage/netapp");
	assert_string_equal(json_string_value(json_object_get(e, "class")), "network");
	assert_int_equal(json_integer_value(json_object_get(e, "status")), 0);
	assert_int_equal(strlen(json_string_value(json_object_get(e, "time"))), 20);
	json_t *r = json_object_get(st, "rate");
	assert_true(json_real_value(json_object_get(r, "limit")) == 5);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(st, "breaker"), "state")),
		"closed");
	/* Nothing secret: neither the secret nor the consumer key appear. */
	char *text = json_dumps(st, 0);
	assert_null(strstr(text, "\"as\""));
	assert_null(strstr(text, "\"ck\""));
	free(text);
	json_decref(st);
	ovh_client_free(client);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_get_matches_openssl_sha1_of_joined_parts),
		cmocka_unit_test(test_sign_get_matches_fixed_vector),
		cmocka_unit_test(test_sign_null_body_is_signed_as_empty),
		cmocka_unit_test(test_sign_is_dollar_one_dollar_and_40_lowercase_hex),
		cmocka_unit_test(test_sign_post_body_is_part_of_the_signature),
		cmocka_unit_test(test_sign_depends_on_method_url_timestamp_and_keys),
		cmocka_unit_test(test_status_2xx_is_success),
		cmocka_unit_test(test_status_client_errors_map_to_errno),
		cmocka_unit_test(test_status_throttling_and_server_errors_are_eio),
		cmocka_unit_test(test_status_no_reply_and_gateway_timeout_are_etimedout),
		cmocka_unit_test(test_parse_error_reads_class_and_message),
		cmocka_unit_test(test_parse_error_reads_auth_layer_error_code),
		cmocka_unit_test(test_parse_error_message_without_class_leaves_class_empty),
		cmocka_unit_test(test_parse_error_html_body_is_not_an_error_object),
		cmocka_unit_test(test_parse_error_json_without_message_is_not_an_error_object),
		cmocka_unit_test(test_parse_error_truncates_into_small_buffers_nul_terminated),
		cmocka_unit_test(test_parse_error_never_cuts_a_utf8_character),
		cmocka_unit_test(test_parse_error_one_byte_buffers_hold_empty_strings),
		cmocka_unit_test(test_parse_error_reads_only_len_bytes),
		cmocka_unit_test(test_client_copies_the_configuration),
		cmocka_unit_test(
			test_status_counts_no_request_for_a_refused_connection_and_keeps_its_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
