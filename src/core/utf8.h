/* utf8.h: UTF-8 validity, for every writer of text that came from a model or a user
 * (a byte-level model can emit any byte; JSON and HTML must stay valid UTF-8). */
#ifndef RLVR_CORE_UTF8_H
#define RLVR_CORE_UTF8_H
#include <stddef.h>

/* Length of the valid UTF-8 sequence at s (n >= 1 bytes left), 0 when invalid:
 * bad lead or continuation bytes, truncated sequences, overlong forms, surrogates
 * and code points past U+10FFFF. */
size_t utf8_seq_len(const unsigned char *s, size_t n);

/* Bytes of s[0..n) before the first one that does not start a valid sequence (n when
 * all of it is valid UTF-8): the offset an error message names. */
size_t utf8_valid_prefix(const char *s, size_t n);

/* A NUL-terminated copy of s[0..n) in which every byte that does not start a valid
 * sequence (and every NUL) becomes U+FFFD; valid text is copied unchanged. malloc'd;
 * NULL when out of memory. s may be NULL when n is 0. */
char *utf8_sanitize(const char *s, size_t n);
#endif
