/* err.c: filling rlvr_err records. No printing here: only the CLI prints. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "core/err.h"

int errf(rlvr_err *err, int code, const char *fmt, ...) {
    if (!err) return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->code = code;
    return code;
}

int err_wrap(rlvr_err *err, int code, const char *fmt, ...) {
    if (!err) return code;
    char prefix[256], old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    size_t np = strlen(prefix), cap = sizeof err->msg - 1;
    if (np > cap - 2) np = cap - 2;
    memcpy(err->msg, prefix, np);
    memcpy(err->msg + np, ": ", 2);
    size_t no = strnlen(old, sizeof old);
    if (no > cap - np - 2) no = cap - np - 2;
    memcpy(err->msg + np + 2, old, no);
    err->msg[np + 2 + no] = 0;
    err->code = code;
    return code;
}

const char *rlvr_status_str(int code) {
    switch (code) {
    case RLVR_OK: return "ok";
    case RLVR_EIO: return "I/O error";
    case RLVR_EFORMAT: return "bad file format";
    case RLVR_ECONFIG: return "bad configuration";
    case RLVR_ENOMEM: return "out of memory";
    case RLVR_EARG: return "bad argument";
    case RLVR_ENUMERIC: return "non-finite value";
    case RLVR_EUNSUPPORTED: return "unsupported";
    default: return "unknown error";
    }
}
