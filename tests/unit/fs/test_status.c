/* Unit tests for status: the Prometheus text made from a status document, the key prefix. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "status.h"

static const char DOC[] =
	"{\"version\": \"1.2\", \"endpoint\": \"http://h/\\\"q\\\"\\\\x\\n\","
	" \"auth\": {\"method\": \"oauth2\", \"key_prefix\": \"abcd\"},"
	" \"time_delta\": -3, \"uptime_seconds\": 42,"
	" \"api\": {\"calls\": 7, \"by_method\": {\"GET\": 6, \"POST\": 1},"
	"  \"by_status\": {\"200\": 5, \"0\": 2}, \"retries\": 2, \"errors\": 1,"
	"  \"last_error\": null},"
	" \"breaker\": {\"state\": \"open\", \"opened\": 1},"
	" \"rate\": {\"limit\": 10.0, \"burst\": 10.0, \"waits\": 3, \"waited_seconds\": 0.25},"
	" \"cache\": {\"listings\": 2, \"objects\": 9, \"hits\": 4, \"misses\": 2, \"loads\": 2}}";

static char *render(void)
{
	size_t len;
	json_t *doc = json_loads(DOC, 0, NULL);
	assert_non_null(doc);
	char *text = status_prometheus(doc, &len);
	json_decref(doc);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	return text;
}

static void test_prometheus_has_every_counter_with_help_and_type(void **state)
{
	(void)state;
	char *text = render();
	static const char *const lines[] = {
		"ovhsnapfs_api_calls_total 7\n",
		"ovhsnapfs_api_retries_total 2\n",
		"ovhsnapfs_api_errors_total 1\n",
		"ovhsnapfs_api_calls_by_method_total{method=\"GET\"} 6\n",
		"ovhsnapfs_api_calls_by_method_total{method=\"POST\"} 1\n",
		"ovhsnapfs_api_calls_by_status_total{status=\"0\"} 2\n",
		"ovhsnapfs_breaker_open 1\n",
		"ovhsnapfs_breaker_opened_total 1\n",
		"ovhsnapfs_rate_limit 10\n",
		"ovhsnapfs_rate_waited_seconds_total 0.25\n",
		"ovhsnapfs_cache_objects 9\n",
		"ovhsnapfs_cache_loads_total 2\n",
		"ovhsnapfs_time_delta_seconds -3\n",
		"ovhsnapfs_uptime_seconds 42\n",
		"# TYPE ovhsnapfs_api_calls_total counter\n",
		"# TYPE ovhsnapfs_cache_listings gauge\n",
		"# HELP ovhsnapfs_cache_hits_total ",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		if (!strstr(text, lines[i]))
			fail_msg("missing: %s", lines[i]);
	free(text);
}

static void test_prometheus_label_values_are_escaped(void **state)
{
	(void)state;
	char *text = render();
	assert_non_null(strstr(text, "ovhsnapfs_info{version=\"1.2\","
				     "endpoint=\"http://h/\\\"q\\\"\\\\x\\n\","
				     "auth=\"oauth2\"} 1\n"));
	free(text);
}

static void test_prometheus_of_an_empty_document_has_no_samples_but_the_breaker(void **state)
{
	size_t len;
	(void)state;
	json_t *doc = json_object();
	char *text = status_prometheus(doc, &len);
	json_decref(doc);
	assert_non_null(text);
	assert_null(strstr(text, "\novhsnapfs_api_calls_total "));
	assert_null(strstr(text, "{method="));
	assert_non_null(strstr(text, "ovhsnapfs_breaker_open 0\n"));
	free(text);
}

static void test_prometheus_share_gauges_by_name_without_snapshot_names(void **state)
{
	size_t len;
	(void)state;
	json_t *doc = json_loads(
		"{\"shares\": [{\"service\": \"efs-prod\", \"service_id\": \"s1\", "
		"\"share\": \"www\", \"share_id\": \"h1\", \"snapshots\": {\"automatic\": 2, "
		"\"manual\": 4, \"system\": 0}, \"newest_snapshot\": \"2026-11-26T08:05:00Z\", "
		"\"newest_snapshot_timestamp\": 1795680300}]}",
		0, NULL);
	assert_non_null(doc);
	char *text = status_prometheus(doc, &len);
	json_decref(doc);
	assert_non_null(text);
	static const char *const lines[] = {
		"# TYPE ovhsnapfs_share_snapshots gauge\n",
		"ovhsnapfs_share_snapshots{service=\"efs-prod\",share=\"www\",type=\"automatic\"} "
		"2\n",
		"ovhsnapfs_share_snapshots{service=\"efs-prod\",share=\"www\",type=\"manual\"} 4\n",
		"ovhsnapfs_share_snapshots{service=\"efs-prod\",share=\"www\",type=\"system\"} 0\n",
		"# TYPE ovhsnapfs_share_newest_snapshot_timestamp_seconds gauge\n",
		"ovhsnapfs_share_newest_snapshot_timestamp_seconds{service=\"efs-prod\",share="
		"\"www\"} "
		"1795680300\n",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		if (!strstr(text, lines[i]))
			fail_msg("missing: %s", lines[i]);
	free(text);
}

static void test_key_prefix_is_four_whole_characters_json_can_hold(void **state)
{
	static const struct {
		const char *key, *prefix;
	} cases[] = {
		{"AKpublic42", "AKpu"},
		{"ab", "ab"},
		{"", ""},
		/* "abcé": é is two bytes */
		{"abc\xc3\xa9xyz", "abc\xc3\xa9"},
		/* é five times: four of them */
		{"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"},
		/* four characters of four bytes */
		{"\xf0\x9f\x94\x91\xf0\x9f\x94\x91\xf0\x9f\x94\x91\xf0\x9f\x94\x91!",
		 "\xf0\x9f\x94\x91\xf0\x9f\x94\x91\xf0\x9f\x94\x91\xf0\x9f\x94\x91"},
		/* a character cut by the key's own end, bytes that are not UTF-8, an overlong */
		{"abc\xe2\x86", ""},
		{"\377\376abcd", ""},
		{"ab\300\257cd", ""},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[STATUS_KEY_PREFIX_SIZE];
		memset(out, 'X', sizeof(out));
		status_key_prefix(cases[i].key, out);
		assert_string_equal(out, cases[i].prefix);
		/* as status_collect packs it */
		json_t *doc = json_pack("{s:s}", "key_prefix", out);
		assert_non_null(doc);
		json_decref(doc);
	}
	char out[STATUS_KEY_PREFIX_SIZE] = "X";
	status_key_prefix(NULL, out);
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prometheus_has_every_counter_with_help_and_type),
		cmocka_unit_test(test_prometheus_label_values_are_escaped),
		cmocka_unit_test(
			test_prometheus_of_an_empty_document_has_no_samples_but_the_breaker),
		cmocka_unit_test(test_key_prefix_is_four_whole_characters_json_can_hold),
		cmocka_unit_test(test_prometheus_share_gauges_by_name_without_snapshot_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
