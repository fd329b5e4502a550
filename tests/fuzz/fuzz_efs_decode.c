/*
 * libFuzzer target: efs_decode_list and efs_decode_object on one API reply.
 *
 * The input is the reply body (not NUL-terminated: both take a length). On
 * success every decoded object must keep efs.h's promises: a non-NULL,
 * URL-safe id; json NUL-terminated, json_len == strlen(json), ending in
 * '\n', and still the same object (it parses back, with the same id). On
 * failure the list must be left empty. efs_object_copy must reproduce an
 * object exactly. Everything is freed, so a leak is reported by ASan.
 */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "efs.h"
#include "fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* jansson otherwise seeds its hash from /dev/urandom: keep runs reproducible. */
	json_object_seed(1);
	return 0;
}

/* efs.h: "never NULL; URL-safe (checked when decoded)". */
static void check_id(const char *id, const char *what, size_t i)
{
	FUZZ_CHECK(id != NULL, "%s item %zu: id is NULL", what, i);
	size_t len = strlen(id);
	FUZZ_CHECK(len > 0 && len <= 128, "%s item %zu: id length %zu", what, i, len);
	FUZZ_CHECK(strcmp(id, ".") != 0 && strcmp(id, "..") != 0,
		   "%s item %zu: id is a dot segment", what, i);
	for (const char *p = id; *p; p++)
		FUZZ_CHECK(isalnum((unsigned char)*p) || strchr("-._~", *p),
			   "%s item %zu: id has byte 0x%02x", what, i, (unsigned char)*p);
}

static void check_object(const struct efs_object *obj, const char *what, size_t i)
{
	check_id(obj->id, what, i);
	FUZZ_CHECK(obj->json != NULL, "%s item %zu: json is NULL", what, i);
	/* Under ASan, strlen on an unterminated buffer is itself reported. */
	size_t len = strlen(obj->json);
	FUZZ_CHECK(obj->json_len == len, "%s item %zu: json_len %zu but strlen(json) %zu", what, i,
		   obj->json_len, len);
	FUZZ_CHECK(len > 0 && obj->json[len - 1] == '\n', "%s item %zu: json does not end in \\n",
		   what, i);
	FUZZ_CHECK(obj->status >= EFS_ST_NONE && obj->status <= EFS_ST_OTHER,
		   "%s item %zu: status %d out of range", what, i, (int)obj->status);

	/* The text is the object the API gave: it parses back, with the same id. */
	json_t *back = json_loadb(obj->json, obj->json_len, 0, NULL);
	FUZZ_CHECK(json_is_object(back), "%s item %zu: json does not parse back to an object", what,
		   i);
	const char *id = json_string_value(json_object_get(back, "id"));
	FUZZ_CHECK(id && strcmp(id, obj->id) == 0, "%s item %zu: json's id differs from id '%s'",
		   what, i, obj->id);
	json_decref(back);

	struct efs_object copy;
	int rc = efs_object_copy(obj, &copy);
	FUZZ_CHECK(rc == 0 || rc == -ENOMEM, "%s item %zu: efs_object_copy returned %d", what, i,
		   rc);
	if (rc == 0) {
		FUZZ_CHECK(strcmp(copy.id, obj->id) == 0 && copy.json_len == obj->json_len &&
				   memcmp(copy.json, obj->json, obj->json_len + 1) == 0 &&
				   copy.created == obj->created && copy.status == obj->status &&
				   (copy.name ? obj->name && strcmp(copy.name, obj->name) == 0
					      : obj->name == NULL),
			   "%s item %zu: efs_object_copy differs from its source", what, i);
	}
	efs_object_free(&copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;

	struct efs_list list;
	memset(&list, 0xa5, sizeof(list)); /* efs_decode_list must set it either way */
	int rc = efs_decode_list(body, size, &list);
	FUZZ_CHECK(rc == 0 || rc == -EIO || rc == -ENOMEM, "efs_decode_list returned %d", rc);
	if (rc == 0) {
		FUZZ_CHECK(list.n == 0 || list.items != NULL, "list: %zu items but items is NULL",
			   list.n);
		for (size_t i = 0; i < list.n; i++)
			check_object(&list.items[i], "list", i);
	} else {
		FUZZ_CHECK(list.n == 0 && list.items == NULL, "list: failed (%d) but not empty",
			   rc);
	}
	efs_list_free(&list);

	/*
	 * efs_decode_object does not touch out when the body is not JSON at
	 * all, so start from zero and free unconditionally (efs_object_free
	 * accepts an all-zero object).
	 */
	struct efs_object obj;
	memset(&obj, 0, sizeof(obj));
	rc = efs_decode_object(body, size, &obj);
	FUZZ_CHECK(rc == 0 || rc == -EIO || rc == -ENOMEM, "efs_decode_object returned %d", rc);
	if (rc == 0)
		check_object(&obj, "object", 0);
	else
		FUZZ_CHECK(obj.id == NULL && obj.name == NULL && obj.json == NULL,
			   "object: failed (%d) but fields left allocated", rc);
	efs_object_free(&obj);
	return 0;
}
