/* err.h: status codes and the error record library code fills instead of printing.
 * Every fallible function takes an `rlvr_err *` (may be NULL) and returns a status;
 * the message names the file, line, field or byte offset at fault. */
#ifndef RLVR_CORE_ERR_H
#define RLVR_CORE_ERR_H
#include "rlvr.h"

/* Sets err (when non-NULL) to code and a printf-formatted message; returns code,
 * so callers can write `return errf(err, RLVR_EFORMAT, "...")`. */
int errf(rlvr_err *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prepends "prefix: " to an existing message (adds context while unwinding). */
int err_wrap(rlvr_err *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
