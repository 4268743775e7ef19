/* external.h: a reward computed by the user's own program. We run argv with one JSON
 * object on stdin
 *   {"prompt": "...", "completion": "...", "reference": "...", "data_source": "...",
 *    "extra": {...}}
 * and read the last non-empty line of its stdout as a JSON object {"reward": number,
 * ...}; other finite numeric fields come back by name (logged as metrics). Strings are
 * sent as valid UTF-8: invalid bytes and NULs become U+FFFD. Timeouts, non-zero exits,
 * non-JSON, a missing or non-finite reward are errors whose message ends with the tail
 * of the program's stderr. */
#ifndef RLVR_REWARDS_EXTERNAL_H
#define RLVR_REWARDS_EXTERNAL_H
#include <stddef.h>
#include "rlvr.h"
#include "rewards/sandbox.h"

#define EXTERNAL_MAX_FIELDS 16

typedef struct {
    const char *const *argv; /* NULL-terminated command; argv[0] an absolute path */
    sandbox_params sb;       /* limits; sb.isolate 0 (default): plain subprocess with the
                                caller's environment, timeout and output cap; 1: inside
                                bubblewrap, where the program and anything it reads must
                                be under /usr or in sb.ro_binds and readable by uid 65534 */
} external_params;

/* argv NULL, sb = sandbox_default_params() with isolate 0, wall_s 30, out_cap 64 KiB. */
external_params external_default_params(void);

typedef struct {
    double reward;
    int n_fields;                            /* other numeric fields, in output order */
    char name[EXTERNAL_MAX_FIELDS][64];      /* truncated names */
    double value[EXTERNAL_MAX_FIELDS];
} external_result;

/* Runs the program once. completion is n bytes, reference ref_n bytes; prompt and
 * data_source are NUL-terminated or NULL (sent as ""); extra_json is a JSON object text
 * or NULL ({}). Returns RLVR_OK and fills *out, or RLVR_EARG (bad params / extra_json),
 * RLVR_EIO (could not run, timeout, output cap, non-zero exit), RLVR_EFORMAT (bad
 * output), each with a message. */
int external_score(const external_params *p, const char *prompt, const char *completion,
                   size_t n, const char *reference, size_t ref_n, const char *data_source,
                   const char *extra_json, external_result *out, rlvr_err *err);
/* Adds key: s[0..n) to a cJSON object as a valid UTF-8 string (bad bytes and NULs
 * become U+FFFD): how every request to a reward program is built. 0, or -1 on
 * allocation failure. */
struct cJSON;
int external_json_add_str(struct cJSON *obj, const char *key, const char *s, size_t n);

#endif
