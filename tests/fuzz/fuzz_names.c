/*
 * libFuzzer target: the naming rule (names.h).
 *
 * 1. names_check_new and names_is_listable on the input as a C string (its
 *    first 600 bytes, up to any NUL), in a heap buffer of exactly that
 *    length, so ASan reports a read past the terminator.
 * 2. names_assign on sibling names split from the input at '\n' (at most
 *    MAX_SIBLINGS; an empty line is a NULL name), with ids "id0".."idN".
 *    The rule's promises: display[i] is names[i] or ids[i] (the pointer);
 *    no two display names are equal; a name is shown only if listable; and
 *    a listable name unique among the other names and ids is shown.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "names.h"

#define MAX_CHECKED  600 /* bytes given to names_check_new */
#define MAX_SIBLINGS 256 /* > EFS_MAX_SNAPSHOTS; names_assign is quadratic */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *copy_string(const uint8_t *data, size_t len)
{
	char *s = malloc(len + 1);
	if (!s)
		abort();
	memcpy(s, data, len);
	s[len] = '\0';
	return s;
}

static void fuzz_check_new(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size < MAX_CHECKED ? size : MAX_CHECKED);
	size_t len = nul ? (size_t)(nul - data) : (size < MAX_CHECKED ? size : MAX_CHECKED);
	char *name = copy_string(data, len);

	int rc = names_check_new(name);
	FUZZ_CHECK(rc == 0 || rc == -ENAMETOOLONG || rc == -EILSEQ || rc == -EINVAL,
		   "names_check_new returned %d", rc);
	FUZZ_CHECK((len > NAME_MAX_BYTES) == (rc == -ENAMETOOLONG),
		   "names_check_new returned %d for %zu bytes", rc, len);
	bool listable = names_is_listable(name);
	/* A name users may give must be one the tree can list. */
	FUZZ_CHECK(rc != 0 || listable, "names_check_new accepts a name that is not listable");
	if (listable)
		FUZZ_CHECK(len > 0 && len <= NAME_MAX_BYTES && !strchr(name, '/') &&
				   strcmp(name, ".") != 0 && strcmp(name, "..") != 0 &&
				   !names_is_reserved(name),
			   "names_is_listable accepts a name that breaks its rule");
	free(name);
}

/* True when name is listable and no other entry has it as name or id. */
static bool deserves_name(const char *const *names, const char *const *ids, size_t n, size_t i)
{
	if (!names[i] || !names_is_listable(names[i]))
		return false;
	for (size_t j = 0; j < n; j++)
		if (j != i && ((names[j] && strcmp(names[j], names[i]) == 0) ||
			       strcmp(ids[j], names[i]) == 0))
			return false;
	return true;
}

static void fuzz_assign(const uint8_t *data, size_t size)
{
	const char *names[MAX_SIBLINGS], *ids[MAX_SIBLINGS], *display[MAX_SIBLINGS];
	size_t n = 0;

	for (size_t start = 0; n < MAX_SIBLINGS;) {
		const uint8_t *nl = memchr(data + start, '\n', size - start);
		size_t end = nl ? (size_t)(nl - data) : size;
		names[n] = end > start ? copy_string(data + start, end - start) : NULL;
		char id[32];
		snprintf(id, sizeof(id), "id%zu", n);
		ids[n] = copy_string((const uint8_t *)id, strlen(id));
		display[n] = NULL;
		n++;
		if (!nl)
			break;
		start = end + 1;
	}

	names_assign(names, ids, n, display);

	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(display[i] && (display[i] == names[i] || display[i] == ids[i]),
			   "display[%zu] is neither names[%zu] nor ids[%zu]", i, i, i);
		if (display[i] == names[i])
			FUZZ_CHECK(names_is_listable(names[i]),
				   "display[%zu] is a name that is not listable", i);
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(display[i], display[j]) != 0,
				   "siblings %zu and %zu are both shown as '%s'", j, i, display[i]);
		FUZZ_CHECK(deserves_name(names, ids, n, i) == (display[i] == names[i]),
			   "entry %zu is shown by its %s, against the rule", i,
			   display[i] == names[i] ? "name" : "id");
	}

	for (size_t i = 0; i < n; i++) {
		free((char *)names[i]);
		free((char *)ids[i]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_check_new(data, size);
	fuzz_assign(data, size);
	return 0;
}
