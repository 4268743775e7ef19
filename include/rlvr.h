/* rlvr.h: the public C API of rlvr, reinforcement learning from verifiable rewards.
 *
 * Conventions (read these once):
 *  - Every fallible call returns an int status (RLVR_OK == 0) and fills an optional
 *    rlvr_err with a message naming the file, line, field or byte offset at fault.
 *    Library code never prints and never exits.
 *  - Objects are opaque handles made by rlvr_<object>_<verb> constructors and freed
 *    by rlvr_<object>_free, which accepts NULL. Parameter structs come from
 *    rlvr_<object>_default_params() and are then adjusted field by field.
 *  - Shapes in comments use: B sequences, T tokens of one sequence, N tokens of a
 *    packed batch (sum of the T's), C hidden size, V vocabulary, H heads.
 */
#ifndef RLVR_H
#define RLVR_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    RLVR_OK = 0,
    RLVR_EIO,          /* a file could not be opened, read or written */
    RLVR_EFORMAT,      /* a file's contents are malformed or hostile */
    RLVR_ECONFIG,      /* a configuration key or value is wrong */
    RLVR_ENOMEM,       /* an allocation failed or a size overflowed */
    RLVR_EARG,         /* a caller passed an invalid argument */
    RLVR_ENUMERIC,     /* a loss or gradient was NaN or infinite */
    RLVR_EUNSUPPORTED  /* valid input that rlvr does not handle (yet) */
};

typedef struct rlvr_err {
    int code;
    char msg[1024];
} rlvr_err;

/* A short English name for a status code ("bad file format"). */
const char *rlvr_status_str(int code);

#ifdef __cplusplus
}
#endif
#endif
