/* extserver.h: a reward computed by the user's own long-running program. We start argv
 * once (fork + exec, its own process group, the caller's environment, PATH searched),
 * then for each batch write one JSON request per line on its stdin
 *   {"id": i, "prompt": "...", "completion": "...", "reference": "...",
 *    "data_source": "...", "extra": {...}}
 * and read one JSON answer per line on its stdout, in any order, matched by id:
 *   {"id": i, "reward": number, ...}            (other fields are ignored)
 * Ids are 0..n-1 within each batch. Strings are sent as valid UTF-8 (bad bytes and NULs
 * become U+FFFD). Requests and answers are streamed (a server may answer before it has
 * read the whole batch). The program's stderr is kept as a tail for error messages;
 * debug prints belong there, never on stdout.
 *
 * Failures. A server that exits or closes stdout mid-batch is restarted and sent the
 * requests still unanswered, up to max_restarts times in a row without an answer in
 * between. No answer for timeout_s seconds -> RLVR_EIO. A line that is not a JSON
 * object, lacks an integer id of an unanswered request, or a finite numeric "reward"
 * -> RLVR_EFORMAT naming the line. Every error message ends with the stderr tail, and
 * after any error the process group is killed; the next batch starts a fresh one.
 *
 * Library code: no printing, no exit, no global state changed (SIGPIPE is blocked only
 * in the calling thread while we talk to the server). One extserver serves one thread
 * at a time; use one per worker thread for parallel scoring. */
#ifndef RLVR_REWARDS_EXTSERVER_H
#define RLVR_REWARDS_EXTSERVER_H
#include <stddef.h>
#include <sys/types.h>
#include "rlvr.h"

typedef struct {
    double timeout_s;      /* longest wait for the next answer of a batch (30) */
    int max_restarts;      /* restarts in a row without an answer in between (3) */
    size_t max_line;       /* longest answer line accepted, bytes (1 MiB) */
    double stop_grace_s;   /* extserver_stop: wait this long after closing stdin (1) */
} extserver_params;

/* timeout_s 30, max_restarts 3, max_line 1 MiB, stop_grace_s 1. */
extserver_params extserver_default_params(void);

typedef struct {
    const char *prompt;      size_t prompt_n;      /* may be NULL (sent as "") */
    const char *completion;  size_t completion_n;  /* may be NULL (sent as "") */
    const char *reference;   size_t reference_n;   /* may be NULL (sent as "") */
    const char *data_source;                       /* NUL-terminated or NULL */
    const char *extra_json;                        /* a JSON object text, or NULL ({}) */
} extserver_request;

typedef struct extserver extserver;

/* Starts argv (NULL-terminated; argv[0] a path or a name looked up in PATH). p may be
 * NULL for the defaults. Returns NULL with err set (RLVR_EARG bad params, RLVR_EIO the
 * program could not be executed, RLVR_ENOMEM). */
extserver *extserver_start(const char *const *argv, const extserver_params *p, rlvr_err *err);

/* Scores n requests, writing rewards[0..n). Returns RLVR_OK, RLVR_EARG (bad arguments or
 * extra_json), RLVR_EIO (could not restart, restarts exhausted, timeout), RLVR_EFORMAT
 * (a bad answer line) or RLVR_ENOMEM, each with a message. On error rewards are
 * unspecified. n == 0 is a no-op. */
int extserver_score_batch(extserver *s, const extserver_request *reqs, int n, double *rewards,
                          rlvr_err *err);

/* The current server's pid (0 when none is running) and the restarts so far (crashes
 * and restarts after errors). */
pid_t extserver_pid(const extserver *s);
int extserver_restarts(const extserver *s);

/* Closes the server's stdin, waits up to stop_grace_s for it to exit, then SIGKILLs its
 * process group and reaps it. NULL-safe. */
void extserver_stop(extserver *s);
#endif
