/* code.h: the code reward. Takes a Python solution out of a completion (the last
 * ```python / ```py / ```python3 fenced block, else the whole text), runs it once per
 * test case in the sandbox (sandbox.h) with the case's input on stdin, and scores the
 * fraction of cases whose stdout matches the expected output after trailing whitespace
 * is stripped from every line and trailing empty lines are dropped. A case passes only
 * on exit status 0, no timeout, no truncation and matching output: nothing the program
 * prints about itself, and no file it writes, counts. Not a judge for interactive or
 * special-checker problems.
 *
 * sb.isolate = 1 (the default) runs each case in the bubblewrap sandbox. sb.isolate = 0
 * is the unisolated mode, for hosts where bubblewrap cannot run (containers without
 * user namespaces) and the code is trusted enough: a plain subprocess with the
 * caller's uid, environment and working directory, the wall clock, the output cap and
 * CPU/FSIZE/CORE rlimits only (no memory limit, no filesystem or network isolation);
 * the solution is a private read-only temp file under $TMPDIR (else /tmp), removed
 * after the last case. */
#ifndef RLVR_REWARDS_CODE_H
#define RLVR_REWARDS_CODE_H
#include <stddef.h>
#include "rlvr.h"
#include "rewards/sandbox.h"

typedef struct {
    sandbox_params sb;    /* limits per test case; isolate 1 sandboxed, 0 unisolated (above) */
    const char *python;   /* interpreter, an absolute path ("/usr/bin/python3"); inside the
                             sandbox when isolated, on the host when not */
    size_t max_code;      /* longest solution accepted, bytes (256 KiB); longer scores 0 */
    int max_tests;        /* cases run at most; later ones are ignored (64) */
    int stop_on_fail;     /* 1: stop at the first failing case (rest count as failed) (0) */
} code_params;

/* sb = sandbox_default_params() with wall_s 6, python "/usr/bin/python3", max_code
 * 256 KiB, max_tests 64, stop_on_fail 0. */
code_params code_default_params(void);

/* Where the solution is: [*off, *off + *len) of text (the last python fence's body, an
 * unclosed final fence running to the end; else the whole text). */
void code_extract(const char *text, size_t n, size_t *off, size_t *len);

/* 1 if a and b are equal after per-line trailing-whitespace stripping and dropping
 * trailing empty lines (CRLF counts as whitespace), else 0. */
int code_output_equal(const char *a, size_t na, const char *b, size_t nb);

/* Scores completion (n bytes) against reference, a JSON test list:
 *   [{"input": "...", "output": "..."}, ...]  or  {"inputs": [...], "outputs": [...]}
 * *reward = n_pass / n_tests (tests counted after max_tests). Returns RLVR_EFORMAT for a
 * malformed reference (the data's fault, not the model's), a sandbox error when the
 * supervisor itself fails (RLVR_EIO when the unisolated temp file cannot be written);
 * a failing solution is RLVR_OK with a low reward.
 * n_pass / n_tests may be NULL. */
int code_score(const code_params *p, const char *completion, size_t n, const char *reference,
               size_t ref_n, double *reward, int *n_pass, int *n_tests, rlvr_err *err);
#endif
