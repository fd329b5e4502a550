/* Unit tests for efs: decoding the API's JSON into objects, and times. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "efs.h"

#define ID1 "3fa85f64-5717-4562-b3fc-2c963f66afa6"
#define ID2 "b1f0c9a2-8e51-4c7d-9a53-0d6f2e4b7c18"

/* What GET .../snapshot?detail=true returns, plus a field from the future. */
static const char SNAPSHOT_LIST[] =
	"[\n"
	" {\"id\":\"" ID1 "\",\"name\":\"nightly\",\"description\":\"made by cron\","
	"  \"createdAt\":\"2026-11-25T03:00:12Z\","
	"  \"path\":\"10.1.2.3:/share_4a5b/.snapshot/nightly\",\"status\":\"available\","
	"  \"type\":\"manual\",\"futureField\":{\"nested\":[1,2,3]}},\n"
	" {\"id\":\"" ID2 "\",\"name\":null,\"description\":null,"
	"  \"createdAt\":\"2026-11-24T03:00:12+02:00\",\"path\":null,\"status\":\"creating\","
	"  \"type\":\"automatic\"}\n"
	"]\n";

#define CREATED1 ((time_t)1795575612) /* date -u -d 2026-11-25T03:00:12Z +%s */
#define CREATED2 ((time_t)1795482012) /* date -u -d 2026-11-24T03:00:12+02:00 +%s */

static int decode_list(const char *body, struct efs_list *out)
{
	return efs_decode_list(body, strlen(body), out);
}

static int decode_object(const char *body, struct efs_object *out)
{
	return efs_decode_object(body, strlen(body), out);
}

/* A one-item list built around the members given (JSON text without braces). */
static int decode_one(const char *members)
{
	char body[1024];
	struct efs_list list;
	snprintf(body, sizeof(body), "[{%s}]", members);
	int rc = decode_list(body, &list);
	if (rc == 0) {
		assert_int_equal(list.n, 1);
		efs_list_free(&list);
	} else {
		assert_int_equal(list.n, 0);
		assert_null(list.items);
	}
	return rc;
}

/* ---- efs_decode_list ---- */

static void test_list_decodes_id_name_status_and_created(void **state)
{
	struct efs_list list;
	(void)state;
	assert_int_equal(decode_list(SNAPSHOT_LIST, &list), 0);
	assert_int_equal(list.n, 2);
	assert_string_equal(list.items[0].id, ID1);
	assert_string_equal(list.items[0].name, "nightly");
	assert_int_equal(list.items[0].status, EFS_ST_AVAILABLE);
	assert_int_equal(list.items[0].created, CREATED1);
	assert_string_equal(list.items[1].id, ID2);
	assert_null(list.items[1].name);
	assert_int_equal(list.items[1].status, EFS_ST_CREATING);
	assert_int_equal(list.items[1].created, CREATED2);
	assert_string_equal(list.items[0].path, "10.1.2.3:/share_4a5b/.snapshot/nightly");
	assert_int_equal(list.items[0].path_len, strlen(list.items[0].path));
	assert_null(list.items[1].path);
	efs_list_free(&list);
	assert_int_equal(list.n, 0);
	assert_null(list.items);
}

static void test_list_keeps_every_field_in_info_json(void **state)
{
	struct efs_list list;
	json_error_t jerr;
	(void)state;
	assert_int_equal(decode_list(SNAPSHOT_LIST, &list), 0);
	json_t *given = json_loads(SNAPSHOT_LIST, 0, &jerr);
	assert_non_null(given);
	for (size_t i = 0; i < list.n; i++) {
		json_t *kept = json_loads(list.items[i].json, 0, &jerr);
		assert_non_null(kept);
		assert_true(json_equal(kept, json_array_get(given, i)));
		json_decref(kept);
	}
	const char *json = list.items[0].json;
	static const char *const fields[] = {"\"id\"",	      "\"name\"",	 "\"description\"",
					     "\"createdAt\"", "\"path\"",	 "\"status\"",
					     "\"type\"",      "\"futureField\"", "\"nested\""};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		assert_non_null(strstr(json, fields[i]));
	/* In the API's order. */
	assert_true(strstr(json, "\"id\"") < strstr(json, "\"name\""));
	assert_true(strstr(json, "\"type\"") < strstr(json, "\"futureField\""));
	json_decref(given);
	efs_list_free(&list);
}

static void test_list_info_json_is_pretty_and_ends_in_newline(void **state)
{
	struct efs_list list;
	(void)state;
	assert_int_equal(decode_list(SNAPSHOT_LIST, &list), 0);
	for (size_t i = 0; i < list.n; i++) {
		const struct efs_object *o = &list.items[i];
		assert_non_null(strstr(o->json, "{\n  \"id\""));
		assert_int_equal(o->json_len, strlen(o->json));
		assert_true(o->json_len > 2);
		assert_int_equal(o->json[o->json_len - 1], '\n');
		assert_int_not_equal(o->json[o->json_len - 2], '\n');
	}
	assert_non_null(strstr(list.items[1].json, "\"name\": null"));
	efs_list_free(&list);
}

static void test_list_empty_array_is_no_objects(void **state)
{
	struct efs_list list;
	(void)state;
	assert_int_equal(decode_list("[]", &list), 0);
	assert_int_equal(list.n, 0);
	efs_list_free(&list);
}

static void test_list_reads_only_len_bytes(void **state)
{
	const char body[] = "[{\"id\":\"a\"}]trailing garbage";
	struct efs_list list;
	(void)state;
	assert_int_equal(efs_decode_list(body, strlen("[{\"id\":\"a\"}]"), &list), 0);
	assert_int_equal(list.n, 1);
	efs_list_free(&list);
}

static void test_list_malformed_json_is_eio(void **state)
{
	struct efs_list list;
	(void)state;
	assert_int_equal(decode_list("[{\"id\":\"a\"", &list), -EIO);
	assert_int_equal(list.n, 0);
	assert_int_equal(decode_list("<html>502 Bad Gateway</html>", &list), -EIO);
	assert_int_equal(decode_list("", &list), -EIO);
	assert_int_equal(efs_decode_list(NULL, 0, &list), -EIO);
}

static void test_list_that_is_not_an_array_is_eio(void **state)
{
	struct efs_list list;
	(void)state;
	assert_int_equal(decode_list("{\"id\":\"a\"}", &list), -EIO);
	assert_int_equal(decode_list("\"a\"", &list), -EIO);
	assert_int_equal(decode_list("null", &list), -EIO);
	assert_int_equal(decode_list("[\"" ID1 "\"]", &list), -EIO); /* ids only */
	assert_int_equal(decode_list("[null, 1]", &list), -EIO);     /* nothing usable */
	assert_int_equal(list.n, 0);
	assert_null(list.items);
}

static void test_one_unusable_item_is_left_out_and_the_rest_listed(void **state)
{
	struct efs_list list;
	(void)state;
	assert_int_equal(decode_list("[{\"id\":\"a\"},null,{\"id\":\"x/..\"},\"b\","
				     "{\"name\":\"no-id\"},{\"id\":\"c\",\"name\":\"cee\"}]",
				     &list),
			 0);
	assert_int_equal(list.n, 2);
	assert_string_equal(list.items[0].id, "a");
	assert_string_equal(list.items[1].id, "c");
	assert_string_equal(list.items[1].name, "cee");
	efs_list_free(&list);
}

static void test_list_item_without_string_id_is_eio(void **state)
{
	(void)state;
	assert_int_equal(decode_one("\"name\":\"x\""), -EIO);
	assert_int_equal(decode_one("\"id\":null"), -EIO);
	assert_int_equal(decode_one("\"id\":42"), -EIO);
	assert_int_equal(decode_one("\"id\":[\"a\"]"), -EIO);
}

static void test_list_item_with_unsafe_id_is_eio(void **state)
{
	char members[256];
	(void)state;
	assert_int_equal(decode_one("\"id\":\"\""), -EIO);
	assert_int_equal(decode_one("\"id\":\"a/b\""), -EIO);
	assert_int_equal(decode_one("\"id\":\"a?detail=true\""), -EIO);
	assert_int_equal(decode_one("\"id\":\"a?b\""), -EIO);
	assert_int_equal(decode_one("\"id\":\"a&b=c\""), -EIO);
	assert_int_equal(decode_one("\"id\":\"a#b\""), -EIO);
	assert_int_equal(decode_one("\"id\":\"a%2Fb\""), -EIO);
	assert_int_equal(decode_one("\"id\":\"a b\""), -EIO);
	assert_int_equal(decode_one("\"id\":\"caf\\u00e9\""), -EIO);
	/* Dot segments and reserved names: libcurl would resolve "snapshot/.." upwards. */
	assert_int_equal(decode_one("\"id\":\"..\""), -EIO);
	assert_int_equal(decode_one("\"id\":\".\""), -EIO);
	assert_int_equal(decode_one("\"id\":\"info.json\""), -EIO);
	assert_int_equal(decode_one("\"id\":\".snapshots\""), -EIO);
	/* 128 characters are accepted, 129 are not. */
	snprintf(members, sizeof(members), "\"id\":\"%0128d\"", 7);
	assert_int_equal(decode_one(members), 0);
	snprintf(members, sizeof(members), "\"id\":\"%0129d\"", 7);
	assert_int_equal(decode_one(members), -EIO);
}

static void test_list_item_with_url_safe_id_is_accepted(void **state)
{
	(void)state;
	assert_int_equal(decode_one("\"id\":\"" ID1 "\""), 0);
	assert_int_equal(decode_one("\"id\":\"A-z_0.9~\""), 0);
}

/* One item, decoded: the test frees it. */
static void decode_item(const char *members, struct efs_object *out)
{
	char body[1024];
	struct efs_list list;
	snprintf(body, sizeof(body), "[{%s}]", members);
	assert_int_equal(decode_list(body, &list), 0);
	assert_int_equal(list.n, 1);
	*out = list.items[0];
	memset(&list.items[0], 0, sizeof(list.items[0]));
	efs_list_free(&list);
}

static void test_list_item_with_mistyped_fields_keeps_what_decodes(void **state)
{
	struct efs_object o;
	(void)state;
	/* A number where a string belongs: that field is dropped, the object kept. */
	decode_item("\"id\":\"a\",\"name\":42,\"status\":\"available\","
		    "\"createdAt\":\"2026-11-25T03:00:12Z\"",
		    &o);
	assert_string_equal(o.id, "a");
	assert_null(o.name); /* listed by its id */
	assert_int_equal(o.status, EFS_ST_AVAILABLE);
	assert_int_equal(o.created, CREATED1);
	assert_non_null(strstr(o.json, "\"name\": 42")); /* info.json: the API's text */
	efs_object_free(&o);
	decode_item("\"id\":\"a\",\"name\":{},\"status\":1,\"createdAt\":1795575612", &o);
	assert_null(o.name);
	assert_int_equal(o.status, EFS_ST_OTHER);
	assert_int_equal(o.created, 0);
	efs_object_free(&o);
}

static void test_list_item_with_non_rfc3339_created_at_has_no_date(void **state)
{
	static const char *const dates[] = {"yesterday", "2026-11-25", "2026-11-25T03:00:12", ""};
	char members[256];
	struct efs_object o;
	(void)state;
	for (size_t i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
		snprintf(members, sizeof(members),
			 "\"id\":\"a\",\"name\":\"n\",\"createdAt\":\"%s\"", dates[i]);
		decode_item(members, &o);
		assert_int_equal(o.created, 0);
		assert_string_equal(o.name, "n");
		efs_object_free(&o);
	}
}

static void test_list_item_name_with_nul_is_unusable_never_truncated(void **state)
{
	/* A file name cannot hold NUL: the object is listed by its id. */
	struct efs_object o;
	(void)state;
	decode_item("\"id\":\"a\",\"name\":\"x\\u0000y\"", &o);
	assert_null(o.name);
	assert_non_null(strstr(o.json, "x\\u0000y"));
	efs_object_free(&o);
}

static void test_list_item_id_with_nul_is_eio_status_or_date_dropped(void **state)
{
	struct efs_object o;
	(void)state;
	assert_int_equal(decode_one("\"id\":\"a\\u0000/..\""), -EIO);
	decode_item("\"id\":\"a\",\"status\":\"available\\u0000\"", &o);
	assert_int_equal(o.status, EFS_ST_OTHER);
	efs_object_free(&o);
	decode_item("\"id\":\"a\",\"createdAt\":\"2026-11-25T03:00:12Z\\u0000\"", &o);
	assert_int_equal(o.created, 0);
	efs_object_free(&o);
}

static void test_list_item_path_is_kept_whole_nul_included(void **state)
{
	struct efs_list list;
	struct efs_object o;
	(void)state;
	assert_int_equal(decode_list("[{\"id\":\"a\",\"path\":\"h:/e/.snapshot/x\\u0000/..\"},"
				     "{\"id\":\"b\",\"path\":null},{\"id\":\"c\"}]",
				     &list),
			 0);
	assert_int_equal(list.n, 3);
	assert_int_equal(list.items[0].path_len, 20);
	assert_memory_equal(list.items[0].path, "h:/e/.snapshot/x\0/..", 21);
	assert_null(list.items[1].path);
	assert_null(list.items[2].path);
	struct efs_object copy;
	assert_int_equal(efs_object_copy(&list.items[0], &copy), 0);
	assert_int_equal(copy.path_len, 20);
	assert_memory_equal(copy.path, "h:/e/.snapshot/x\0/..", 21);
	efs_object_free(&copy);
	efs_list_free(&list);
	decode_item("\"id\":\"a\",\"path\":7", &o);
	assert_null(o.path);
	efs_object_free(&o);
}

static void test_list_item_null_or_missing_fields_are_unknown(void **state)
{
	struct efs_list list;
	(void)state;
	assert_int_equal(decode_list("[{\"id\":\"a\",\"name\":null,\"createdAt\":null,"
				     "\"status\":null},{\"id\":\"b\"}]",
				     &list),
			 0);
	assert_int_equal(list.n, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_null(list.items[i].name);
		assert_int_equal(list.items[i].created, 0);
		assert_int_equal(list.items[i].status, EFS_ST_NONE);
	}
	efs_list_free(&list);
}

static void test_list_item_every_schema_status_is_known_others_unknown(void **state)
{
	static const struct {
		const char *text;
		enum efs_status status;
	} all[] = {
		{"available", EFS_ST_AVAILABLE},
		{"creating", EFS_ST_CREATING},
		{"deleting", EFS_ST_DELETING},
		{"error", EFS_ST_ERROR},
		{"error_deleting", EFS_ST_ERROR_DELETING},
		{"manage_error", EFS_ST_MANAGE_ERROR},
		{"manage_starting", EFS_ST_MANAGE_STARTING},
		{"restoring", EFS_ST_RESTORING},
		{"unmanage_error", EFS_ST_UNMANAGE_ERROR},
		{"unmanage_starting", EFS_ST_UNMANAGE_STARTING},
		{"AVAILABLE", EFS_ST_OTHER},
		{"frozen", EFS_ST_OTHER},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		struct efs_object o;
		char members[128], buf[64];
		snprintf(members, sizeof(members), "\"id\":\"a\",\"status\":\"%s\"", all[i].text);
		decode_item(members, &o);
		assert_int_equal(o.status, all[i].status);
		/* Logged by its text, never as "other". */
		assert_string_equal(efs_status_text(&o, buf, sizeof(buf)), all[i].text);
		efs_object_free(&o);
	}
}

static void test_status_text_of_unknown_value_is_cut_and_sanitized(void **state)
{
	struct efs_object o;
	char buf[8];
	(void)state;
	decode_item("\"id\":\"a\",\"status\":\"new\\nvalue-long\"", &o);
	assert_int_equal(o.status, EFS_ST_OTHER);
	assert_string_equal(efs_status_text(&o, buf, sizeof(buf)), "new?val");
	efs_object_free(&o);
	decode_item("\"id\":\"a\",\"status\":null", &o);
	assert_string_equal(efs_status_text(&o, buf, sizeof(buf)), "null");
	efs_object_free(&o);
}

static void test_transitional_and_failure_statuses(void **state)
{
	(void)state;
	for (enum efs_status s = EFS_ST_NONE; s <= EFS_ST_OTHER; s++) {
		bool passing = s == EFS_ST_CREATING || s == EFS_ST_MANAGE_STARTING ||
			       s == EFS_ST_UNMANAGE_STARTING || s == EFS_ST_RESTORING;
		bool failed = s == EFS_ST_ERROR || s == EFS_ST_ERROR_DELETING ||
			      s == EFS_ST_MANAGE_ERROR || s == EFS_ST_UNMANAGE_ERROR;
		assert_int_equal(efs_status_is_transitional(s), passing);
		assert_int_equal(efs_status_is_failure(s), failed);
	}
}

static int refusal(enum efs_kind kind, const char *status)
{
	struct efs_object o;
	char members[128];
	snprintf(members, sizeof(members), "\"id\":\"a\",\"status\":%s", status);
	decode_item(members, &o);
	int rc = efs_change_refusal(kind, &o);
	efs_object_free(&o);
	return rc;
}

static void test_share_and_service_statuses_that_refuse_changes(void **state)
{
	(void)state;
	assert_int_equal(refusal(EFS_SHARE, "\"available\""), 0);
	assert_int_equal(refusal(EFS_SHARE, "null"), 0);
	assert_int_equal(refusal(EFS_SHARE, "\"some_new_value\""), 0); /* the API decides */
	assert_int_equal(refusal(EFS_SHARE, "\"reverting\""), -EBUSY);
	assert_int_equal(refusal(EFS_SHARE, "\"awaiting_replication\""), -EBUSY);
	assert_int_equal(refusal(EFS_SHARE, "\"extending\""), -EBUSY);
	assert_int_equal(refusal(EFS_SHARE, "\"deleted\""), -EROFS);
	assert_int_equal(refusal(EFS_SHARE, "\"reverting_error\""), -EROFS);
	assert_int_equal(refusal(EFS_SERVICE, "\"running\""), 0);
	assert_int_equal(refusal(EFS_SERVICE, "\"suspending\""), -EBUSY);
	assert_int_equal(refusal(EFS_SERVICE, "\"reopening\""), -EBUSY);
	assert_int_equal(refusal(EFS_SERVICE, "\"suspended\""), -EROFS);
	assert_int_equal(refusal(EFS_SERVICE, "\"deleted\""), -EROFS);
	assert_int_equal(refusal(EFS_SNAPSHOT, "\"error\""), 0);
}

static void test_status_names_round_trip(void **state)
{
	(void)state;
	assert_string_equal(efs_status_name(EFS_ST_AVAILABLE), "available");
	assert_string_equal(efs_status_name(EFS_ST_CREATING), "creating");
	assert_string_equal(efs_status_name(EFS_ST_DELETING), "deleting");
	assert_string_equal(efs_status_name(EFS_ST_ERROR), "error");
	assert_string_equal(efs_status_name(EFS_ST_ERROR_DELETING), "error_deleting");
	assert_string_equal(efs_status_name(EFS_ST_MANAGE_STARTING), "manage_starting");
	assert_string_equal(efs_status_name(EFS_ST_NONE), "null");
	assert_string_equal(efs_status_name(EFS_ST_OTHER), "unknown");
}

/* ---- efs_parse_time ---- */

static void test_time_utc_z(void **state)
{
	time_t t = -1;
	(void)state;
	assert_int_equal(efs_parse_time("2026-11-25T03:00:12Z", &t), 0);
	assert_int_equal(t, CREATED1);
	t = -1;
	assert_int_equal(efs_parse_time("2026-11-25T03:00:12z", &t), 0);
	assert_int_equal(t, CREATED1);
}

static void test_time_positive_and_negative_offsets(void **state)
{
	time_t t = -1;
	(void)state;
	assert_int_equal(efs_parse_time("2026-11-24T03:00:12+02:00", &t), 0);
	assert_int_equal(t, CREATED2);
	assert_int_equal(efs_parse_time("2026-11-24T03:00:12-05:30", &t), 0);
	assert_int_equal(t, (time_t)1795509012); /* date -u -d ...-05:30 +%s */
	assert_int_equal(efs_parse_time("2026-11-25T03:00:12+00:00", &t), 0);
	assert_int_equal(t, CREATED1);
}

static void test_time_fractional_seconds_are_ignored(void **state)
{
	time_t t = -1;
	(void)state;
	assert_int_equal(efs_parse_time("2026-11-25T03:00:12.123456Z", &t), 0);
	assert_int_equal(t, CREATED1);
	assert_int_equal(efs_parse_time("2026-11-24T03:00:12.5+02:00", &t), 0);
	assert_int_equal(t, CREATED2);
}

static void test_time_leap_day(void **state)
{
	time_t t = -1;
	(void)state;
	assert_int_equal(efs_parse_time("2024-02-29T23:59:59Z", &t), 0);
	assert_int_equal(t, (time_t)1709251199);
}

static void test_time_lenient_forms_are_einval(void **state)
{
	time_t t = 7;
	(void)state;
	static const char *const bad[] = {
		"+026-11-25T03:00:12Z", "2026-11- 5T03:00:12Z",	     "2026-11-25T03:00:12.Z",
		"2026-02-31T03:00:12Z", "2026-11-25T03:00:12+99:99", "2026-11-25T24:00:00Z",
		"2026-13-01T00:00:00Z", "2026-11-25T03:00:12Zjunk",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(efs_parse_time(bad[i], &t), -EINVAL);
	assert_int_equal(t, 7);
	assert_int_equal(efs_parse_time("2026-11-25t03:00:12z", &t), 0);
	assert_int_equal(t, 1795575612);
}

static void test_time_garbage_is_einval(void **state)
{
	static const char *const bad[] = {
		"",
		"garbage",
		"2026-11-25",
		"2026-11-25T03:00:12",	    /* no zone */
		"2026-11-25T03:00:12Zjunk", /* trailing text */
		"2026-11-25T03:00:12+0200", /* offset without colon */
		"2026-11-25T03:00:12+02",
		"2026-11-25T3:00:12Z",	/* not two digits */
		"2026-13-01T00:00:00Z", /* month 13 */
		"2026-00-10T00:00:00Z",
		"2026-11-00T00:00:00Z",
		"2026-11-25T24:00:00Z",
		"2026-11-25T03:60:00Z",
		"2026/11/25T03:00:12Z",
	};
	time_t t = 42;
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (efs_parse_time(bad[i], &t) != -EINVAL) {
			print_error("accepted: \"%s\"\n", bad[i]);
			fail();
		}
	}
	assert_int_equal(t, 42); /* untouched on failure */
}

/* ---- efs_decode_object ---- */

static void test_object_decodes_one_snapshot(void **state)
{
	struct efs_object o;
	(void)state;
	assert_int_equal(decode_object("{\"id\":\"" ID1 "\",\"name\":\"manual-1\",\"status\":"
				       "\"creating\",\"createdAt\":\"2026-11-25T03:00:12Z\","
				       "\"futureField\":true}",
				       &o),
			 0);
	assert_string_equal(o.id, ID1);
	assert_string_equal(o.name, "manual-1");
	assert_int_equal(o.status, EFS_ST_CREATING);
	assert_int_equal(o.created, CREATED1);
	assert_non_null(strstr(o.json, "\"futureField\": true"));
	assert_int_equal(o.json_len, strlen(o.json));
	assert_int_equal(o.json[o.json_len - 1], '\n');
	efs_object_free(&o);
	assert_null(o.id);
	assert_null(o.json);
}

static void test_object_that_is_not_an_object_is_eio(void **state)
{
	struct efs_object o;
	(void)state;
	/* PUT may answer null: the caller then applies its change to the object it had. */
	assert_int_equal(decode_object("null", &o), -EIO);
	assert_null(o.id);
	assert_int_equal(decode_object("[{\"id\":\"a\"}]", &o), -EIO);
	assert_int_equal(decode_object("\"a\"", &o), -EIO);
	assert_int_equal(decode_object("{\"id\":", &o), -EIO);
	assert_int_equal(decode_object("{\"id\":\"a/b\"}", &o), -EIO);
	assert_null(o.id);
	assert_null(o.json);
}

/* ---- efs_object_copy ---- */

static void test_object_field_reads_the_api_text(void **state)
{
	struct efs_list list;
	(void)state;
	assert_int_equal(decode_list(SNAPSHOT_LIST, &list), 0);
	char *type = efs_object_field(&list.items[0], EFS_FIELD_TYPE);
	char *created = efs_object_field(&list.items[1], EFS_FIELD_CREATED);
	char *path = efs_object_field(&list.items[0], EFS_FIELD_PATH);
	assert_string_equal(type, "manual");
	assert_string_equal(created, "2026-11-24T03:00:12+02:00");
	assert_string_equal(path, "10.1.2.3:/share_4a5b/.snapshot/nightly");
	free(type);
	free(created);
	free(path);
	assert_false(efs_is_automatic(&list.items[0]));
	assert_true(efs_is_automatic(&list.items[1]));
	efs_list_free(&list);
}

static void test_object_field_null_or_missing_is_null(void **state)
{
	struct efs_object obj;
	(void)state;
	assert_int_equal(decode_object("{\"id\":\"" ID1 "\",\"description\":null,"
				       "\"type\":5}",
				       &obj),
			 0);
	assert_null(efs_object_field(&obj, EFS_FIELD_DESCRIPTION));
	assert_null(efs_object_field(&obj, EFS_FIELD_PATH));
	assert_null(efs_object_field(&obj, EFS_FIELD_TYPE)); /* not a string */
	assert_false(efs_is_automatic(&obj));
	efs_object_free(&obj);
}

static void test_only_a_true_preferred_is_preferred(void **state)
{
	static const char *const not_preferred[] = {
		"{\"id\":\"" ID1 "\",\"path\":\"h:/e\",\"preferred\":false}",
		"{\"id\":\"" ID1 "\",\"path\":\"h:/e\",\"preferred\":\"true\"}",
		"{\"id\":\"" ID1 "\",\"path\":\"h:/e\",\"preferred\":null}",
		"{\"id\":\"" ID1 "\",\"path\":\"h:/e\"}",
	};
	struct efs_object obj;
	(void)state;
	assert_int_equal(
		decode_object("{\"id\":\"" ID1 "\",\"path\":\"h:/e\",\"preferred\":true}", &obj),
		0);
	assert_true(efs_is_preferred(&obj));
	efs_object_free(&obj);
	for (size_t i = 0; i < sizeof(not_preferred) / sizeof(not_preferred[0]); i++) {
		assert_int_equal(decode_object(not_preferred[i], &obj), 0);
		assert_false(efs_is_preferred(&obj));
		efs_object_free(&obj);
	}
}

static void test_object_copy_is_deep(void **state)
{
	struct efs_object src, dst;
	(void)state;
	assert_int_equal(decode_object("{\"id\":\"" ID1 "\",\"name\":\"n\",\"status\":\"error\","
				       "\"createdAt\":\"2026-11-25T03:00:12Z\"}",
				       &src),
			 0);
	assert_int_equal(efs_object_copy(&src, &dst), 0);
	assert_ptr_not_equal(dst.id, src.id);
	assert_ptr_not_equal(dst.name, src.name);
	assert_ptr_not_equal(dst.json, src.json);
	size_t json_len = src.json_len;
	char *json = strdup(src.json);
	assert_non_null(json);
	/* The copy outlives its source (ASan would see a use after free). */
	efs_object_free(&src);
	assert_string_equal(dst.id, ID1);
	assert_string_equal(dst.name, "n");
	assert_int_equal(dst.status, EFS_ST_ERROR);
	assert_int_equal(dst.created, CREATED1);
	assert_int_equal(dst.json_len, json_len);
	assert_string_equal(dst.json, json);
	free(json);
	efs_object_free(&dst);
}

static void test_object_copy_keeps_null_name(void **state)
{
	struct efs_object src, dst;
	(void)state;
	assert_int_equal(decode_object("{\"id\":\"a\",\"name\":null}", &src), 0);
	assert_int_equal(efs_object_copy(&src, &dst), 0);
	assert_null(dst.name);
	assert_string_equal(dst.id, "a");
	assert_string_equal(dst.json, src.json);
	efs_object_free(&src);
	efs_object_free(&dst);
}

int main(void)
{
	/* Local time must not leak into the conversions: run far from UTC. */
	setenv("TZ", "XST+5", 1);
	tzset();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_decodes_id_name_status_and_created),
		cmocka_unit_test(test_object_field_reads_the_api_text),
		cmocka_unit_test(test_object_field_null_or_missing_is_null),
		cmocka_unit_test(test_list_keeps_every_field_in_info_json),
		cmocka_unit_test(test_list_info_json_is_pretty_and_ends_in_newline),
		cmocka_unit_test(test_list_empty_array_is_no_objects),
		cmocka_unit_test(test_list_reads_only_len_bytes),
		cmocka_unit_test(test_list_malformed_json_is_eio),
		cmocka_unit_test(test_list_that_is_not_an_array_is_eio),
		cmocka_unit_test(test_one_unusable_item_is_left_out_and_the_rest_listed),
		cmocka_unit_test(test_list_item_without_string_id_is_eio),
		cmocka_unit_test(test_list_item_with_unsafe_id_is_eio),
		cmocka_unit_test(test_list_item_with_url_safe_id_is_accepted),
		cmocka_unit_test(test_list_item_with_mistyped_fields_keeps_what_decodes),
		cmocka_unit_test(test_list_item_with_non_rfc3339_created_at_has_no_date),
		cmocka_unit_test(test_list_item_name_with_nul_is_unusable_never_truncated),
		cmocka_unit_test(test_list_item_id_with_nul_is_eio_status_or_date_dropped),
		cmocka_unit_test(test_list_item_path_is_kept_whole_nul_included),
		cmocka_unit_test(test_list_item_null_or_missing_fields_are_unknown),
		cmocka_unit_test(test_list_item_every_schema_status_is_known_others_unknown),
		cmocka_unit_test(test_status_text_of_unknown_value_is_cut_and_sanitized),
		cmocka_unit_test(test_transitional_and_failure_statuses),
		cmocka_unit_test(test_share_and_service_statuses_that_refuse_changes),
		cmocka_unit_test(test_status_names_round_trip),
		cmocka_unit_test(test_time_utc_z),
		cmocka_unit_test(test_time_positive_and_negative_offsets),
		cmocka_unit_test(test_time_fractional_seconds_are_ignored),
		cmocka_unit_test(test_time_leap_day),
		cmocka_unit_test(test_time_garbage_is_einval),
		cmocka_unit_test(test_time_lenient_forms_are_einval),
		cmocka_unit_test(test_object_decodes_one_snapshot),
		cmocka_unit_test(test_object_that_is_not_an_object_is_eio),
		cmocka_unit_test(test_only_a_true_preferred_is_preferred),
		cmocka_unit_test(test_object_copy_is_deep),
		cmocka_unit_test(test_object_copy_keeps_null_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
