/*
 * utf8: the one UTF-8 decoder (names, the log's escaping, ovhsnapfs-auto's
 * output). Pure functions, thread-safe.
 */
#ifndef OVHSNAPFS_UTF8_H
#define OVHSNAPFS_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Bytes of the valid UTF-8 sequence at s (at most left of them; ASCII is 1),
 * with its code point in *cp; 0 when malformed: a stray or missing
 * continuation byte, an overlong form, a surrogate, beyond U+10FFFF.
 */
size_t utf8_sequence(const unsigned char *s, size_t left, uint32_t *cp);
/* C0, DEL and C1 control characters. */
bool utf8_is_control(uint32_t cp);

#endif
