/*
 * Shared by the libFuzzer targets in tests/fuzz: how a broken invariant is
 * reported.
 *
 * run.sh passes -close_fd_mask=2, so the target's own stderr (where the
 * modules under test log their errors) goes to /dev/null. The sanitizer
 * runtime keeps writing its reports to the real stderr, so the message goes
 * through it; abort() then makes libFuzzer print the stack and save the
 * input as a crash artifact.
 */
#ifndef OVHSNAPFS_FUZZ_UTIL_H
#define OVHSNAPFS_FUZZ_UTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* From the sanitizer runtime (sanitizer/common_interface_defs.h). */
void __sanitizer_report_error_summary(const char *error_summary) __attribute__((weak));

static inline void fuzz_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 3, 4)));

static inline void fuzz_fail(const char *file, int line, const char *fmt, ...)
{
	char what[1024], text[1200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(text, sizeof(text), "fuzz invariant violated at %s:%d: %s", file, line, what);
	if (__sanitizer_report_error_summary)
		__sanitizer_report_error_summary(text);
	else
		fprintf(stderr, "%s\n", text);
	abort();
}

/* FUZZ_CHECK(condition, printf-style explanation). */
#define FUZZ_CHECK(cond, ...)                                                                      \
	do {                                                                                       \
		if (!(cond))                                                                       \
			fuzz_fail(__FILE__, __LINE__, __VA_ARGS__);                                \
	} while (0)

#endif
