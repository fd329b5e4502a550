/*
 * libFuzzer target: ovh_parse_error and ovh_status_to_errno.
 *
 * Input layout: byte 0 picks a small class buffer size (0..7), byte 1 a small
 * message buffer size (0..15); the rest is the error body (not
 * NUL-terminated). The body is parsed into buffers of the sizes struct
 * ovh_response uses (96, 256) and into the small ones; all are heap
 * allocations of exactly that size, so ASan reports any write past them.
 * Each output must be NUL-terminated within its length, empty when the body
 * is not an OVH error, and the small outputs must be prefixes of the normal
 * ones. The first 8 bytes (zero-padded) are also read as a long status.
 */
#include <errno.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "ovh.h"

#define CLS_NORMAL 96  /* sizeof(((struct ovh_response *)0)->error_class) */
#define MSG_NORMAL 256 /* sizeof(((struct ovh_response *)0)->error_message) */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	json_object_seed(1); /* no /dev/urandom: reproducible runs */
	return 0;
}

static void check_status(long status)
{
	int e = ovh_status_to_errno(status);
	bool ok = status >= 200 && status < 300;
	FUZZ_CHECK(ok == (e == 0), "ovh_status_to_errno(%ld) = %d", status, e);
	FUZZ_CHECK(e == 0 || e == -EINVAL || e == -EACCES || e == -ENOENT || e == -EBUSY ||
			   e == -ETIMEDOUT || e == -EIO,
		   "ovh_status_to_errno(%ld) = %d, not one of the documented errors", status, e);
}

/* Exactly len bytes of garbage: the function must write the terminator. */
static char *garbage(size_t len)
{
	char *p = malloc(len ? len : 1);
	if (!p)
		abort();
	memset(p, 0xaa, len ? len : 1);
	return p;
}

static void check_terminated(const char *buf, size_t len, const char *what)
{
	if (len)
		FUZZ_CHECK(memchr(buf, '\0', len) != NULL, "%s (size %zu) is not NUL-terminated",
			   what, len);
}

/*
 * small (size len) must hold the first len - 1 bytes of full, less the
 * start of a UTF-8 sequence that would not fit whole.
 */
static void check_prefix(const char *small, size_t len, const char *full, const char *what)
{
	if (!len)
		return;
	size_t want = strlen(full);
	if (want > len - 1) {
		want = len - 1;
		while (want > 0 && ((unsigned char)full[want] & 0xC0) == 0x80)
			want--;
	}
	FUZZ_CHECK(strlen(small) == want && memcmp(small, full, want) == 0,
		   "%s in %zu bytes is not the prefix of the full one", what, len);
}

static void parse(const char *body, size_t len, size_t cls_small, size_t msg_small)
{
	char *cls = garbage(CLS_NORMAL), *msg = garbage(MSG_NORMAL);
	int rc = ovh_parse_error(body, len, cls, CLS_NORMAL, msg, MSG_NORMAL);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL, "ovh_parse_error returned %d", rc);
	check_terminated(cls, CLS_NORMAL, "class");
	check_terminated(msg, MSG_NORMAL, "message");
	if (rc != 0)
		FUZZ_CHECK(cls[0] == '\0' && msg[0] == '\0', "not an OVH error, yet outputs set");

	/* Small (even zero) sizes: the size given is a promise the buffer has. */
	char *scls = garbage(cls_small), *smsg = garbage(msg_small);
	char *cls_arg = cls_small ? scls : NULL, *msg_arg = msg_small ? smsg : NULL;
	int rc2 = ovh_parse_error(body, len, cls_arg, cls_small, msg_arg, msg_small);
	FUZZ_CHECK(rc2 == rc, "ovh_parse_error returned %d with small buffers, %d otherwise", rc2,
		   rc);
	check_terminated(scls, cls_small, "small class");
	check_terminated(smsg, msg_small, "small message");
	check_prefix(scls, cls_small, cls, "class");
	check_prefix(smsg, msg_small, msg, "message");

	free(scls);
	free(smsg);
	free(cls);
	free(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long status = 0;
	if (size)
		memcpy(&status, data, size < sizeof(status) ? size : sizeof(status));
	check_status(status);
	check_status((long)(int16_t)status); /* the neighbourhood of real HTTP codes */

	size_t cls_small = size > 0 ? data[0] % 8 : 0;
	size_t msg_small = size > 1 ? data[1] % 16 : 0;
	const char *body = size > 2 ? (const char *)data + 2 : NULL;
	size_t len = size > 2 ? size - 2 : 0;
	parse(body, len, cls_small, msg_small);
	/* The whole input as a body too, so plain seed files are errors as they stand. */
	parse((const char *)data, size, cls_small, msg_small);
	return 0;
}
