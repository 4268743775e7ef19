/* sandbox.h: run an untrusted program with bytes on stdin and capture its stdout and
 * stderr, inside bubblewrap (no network, private pid/ipc/uts/mount/user namespaces, a
 * read-only /usr, a size-capped tmpfs /tmp, a cleared environment, uid 65534) under
 * rlimits set by our own supervisor, a wall-clock timeout that SIGKILLs the process
 * group, and a hard output cap. It is not a seccomp filter and not a cgroup: see
 * docs/sandbox.md for what it stops and what it does not.
 *
 * Library code: no printing, no exit, no global state changed (SIGPIPE is blocked only
 * in the calling thread while writing stdin). Thread-safe apart from the shared rlimit
 * budget of the sandbox uid (RLIMIT_NPROC counts per real uid: give each concurrent
 * slot its own `uid`). */
#ifndef RLVR_REWARDS_SANDBOX_H
#define RLVR_REWARDS_SANDBOX_H
#include <stddef.h>
#include "rlvr.h"

/* A file placed read-only inside the sandbox (bwrap --ro-bind-data from a memfd). */
typedef struct {
    const char *path;   /* absolute path inside the sandbox, e.g. "/box/solution.py" */
    const char *data;   /* contents (not NUL-terminated) */
    size_t n;           /* bytes of data */
} sandbox_file;

typedef struct {
    int isolate;             /* 1: bubblewrap + uid drop (default); 0: plain subprocess with
                                timeout, output cap, CPU/FSIZE/CORE limits, the caller's env */
    const char *bwrap;       /* bubblewrap binary (default "/usr/bin/bwrap") */
    int cpu_s;               /* RLIMIT_CPU per process, seconds (soft; hard = soft + 1) */
    double wall_s;           /* wall-clock limit for the whole run, seconds */
    int mem_mb;              /* RLIMIT_AS per process, MiB (0: no limit) */
    int nproc;               /* RLIMIT_NPROC for the sandbox uid (0: no limit) */
    int fsize_mb;            /* RLIMIT_FSIZE, MiB */
    int nofile;              /* RLIMIT_NOFILE */
    int tmp_mb;              /* size of the sandbox's tmpfs /tmp, MiB */
    size_t out_cap;          /* stdout + stderr bytes kept; more kills the run */
    int uid, gid;            /* host ids the sandbox runs as when we are root (65534) */
    const char *const *ro_binds; /* NULL-terminated host paths bound read-only at the same
                                    place (after /tmp is mounted), or NULL */
    const sandbox_file *files;   /* n_files read-only files placed in the sandbox */
    int n_files;
    const char *chdir;       /* working directory inside the sandbox (default "/tmp") */
} sandbox_params;

/* cpu_s 5, wall_s 10, mem_mb 512, nproc 64, fsize_mb 16, nofile 64, tmp_mb 64,
 * out_cap 1 MiB, uid/gid 65534, isolate 1, bwrap "/usr/bin/bwrap", chdir "/tmp". */
sandbox_params sandbox_default_params(void);

typedef struct {
    int exited;            /* 1: the supervised process exited normally (exit_code valid) */
    int exit_code;         /* its exit status; bwrap reports a signal-killed child as 128+sig */
    int term_signal;       /* the signal that killed the supervised process itself, or 0 */
    int timed_out;         /* 1: wall_s passed and we killed the group */
    int mem_exceeded;      /* 1: best guess that the memory limit was hit (MemoryError,
                              "Cannot allocate memory", "out of memory" or std::bad_alloc in
                              stderr); a hint, not a verdict */
    int output_truncated;  /* 1: out_cap reached; we killed the group, output is partial */
    char *out; size_t n_out;   /* stdout (malloc'd, NUL-terminated for convenience) */
    char *err; size_t n_err;   /* stderr (malloc'd, NUL-terminated) */
    double wall_s;         /* seconds from fork to reap */
} sandbox_result;

/* Runs argv[0] (an absolute path as seen inside the sandbox) with argv, feeding
 * stdin_data (stdin_n bytes; a child that closes stdin early is not an error) and
 * capturing output into *res, which the caller frees with sandbox_result_free. Returns
 * RLVR_OK whenever the program ran, whatever it did (look at *res); an error only when
 * the supervisor itself failed (pipe, fork, memfd, bad params). On error *res is empty. */
int sandbox_run(const sandbox_params *p, const char *const *argv, const char *stdin_data,
                size_t stdin_n, sandbox_result *res, rlvr_err *err);

/* Frees the buffers; NULL-safe; leaves *res zeroed. */
void sandbox_result_free(sandbox_result *res);

/* RLVR_OK if bubblewrap runs a trivial program with our default flags here; otherwise
 * an error saying why (missing binary, user namespaces off, ...). */
int sandbox_available(rlvr_err *err);

#endif
