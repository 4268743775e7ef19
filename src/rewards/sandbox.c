/* sandbox.c: the supervisor. fork -> (child: own process group, pipes on 0/1/2, every
 * other fd closed, rlimits, uid drop when root, exec bwrap) -> parent pumps stdin/stdout/
 * stderr through nonblocking pipes with poll(), enforces the wall clock and the output
 * cap by SIGKILLing the process group, and reaps. Killing the outer bwrap kills the
 * sandbox's pid 1 (--die-with-parent), which tears down the whole pid namespace, so
 * setsid'd daemons and fork bombs die with it. Everything the child does between fork
 * and exec is async-signal-safe: the argv is built before fork. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "core/err.h"
#include "rewards/sandbox.h"

extern char **environ;

#define SB_MAX_ARGS 512

sandbox_params sandbox_default_params(void) {
    sandbox_params p;
    memset(&p, 0, sizeof p);
    p.isolate = 1;
    p.bwrap = "/usr/bin/bwrap";
    p.cpu_s = 5;
    p.wall_s = 10;
    p.mem_mb = 512;
    p.nproc = 64;
    p.fsize_mb = 16;
    p.nofile = 64;
    p.tmp_mb = 64;
    p.out_cap = 1u << 20;
    p.uid = 65534;
    p.gid = 65534;
    p.chdir = "/tmp";
    return p;
}

void sandbox_result_free(sandbox_result *res) {
    if (!res) return;
    free(res->out);
    free(res->err);
    memset(res, 0, sizeof *res);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* argv under construction: pointers into caller strings or into `store` (numbers). */
typedef struct {
    const char *v[SB_MAX_ARGS + 1];
    int n;
    char store[64][24];
    int n_store;
} argv_buf;

static int ab_push(argv_buf *a, const char *s) {
    if (a->n >= SB_MAX_ARGS) return -1;
    a->v[a->n++] = s;
    a->v[a->n] = NULL;
    return 0;
}

static int ab_num(argv_buf *a, long long x) {
    if (a->n_store >= 64) return -1;
    char *s = a->store[a->n_store++];
    snprintf(s, 24, "%lld", x);
    return ab_push(a, s);
}

/* /lib, /lib64, /bin, /sbin: a symlink on the host becomes the same symlink inside,
 * a real directory a read-only bind; absent ones are skipped. */
static int ab_mirror(argv_buf *a, const char *path, char *linkbuf, size_t cap) {
    struct stat st;
    if (lstat(path, &st) != 0) return 0;
    if (S_ISLNK(st.st_mode)) {
        ssize_t k = readlink(path, linkbuf, cap - 1);
        if (k <= 0) return 0;
        linkbuf[k] = 0;
        return ab_push(a, "--symlink") || ab_push(a, linkbuf) || ab_push(a, path);
    }
    if (S_ISDIR(st.st_mode)) return ab_push(a, "--ro-bind") || ab_push(a, path) || ab_push(a, path);
    return 0;
}

/* The child side of fork: only async-signal-safe calls from here to exec. */
static void child_fail(const char *what) {
    int e = errno;
    (void)!write(2, "sandbox: ", 9);
    (void)!write(2, what, strlen(what));
    (void)!write(2, ": ", 2);
    const char *m = strerror(e); /* not formally safe; glibc returns static strings */
    (void)!write(2, m, strlen(m));
    (void)!write(2, "\n", 1);
    _exit(127);
}

static void set_lim(int res, rlim_t soft, rlim_t hard, const char *what) {
    struct rlimit r = { soft, hard };
    if (setrlimit(res, &r) != 0) child_fail(what);
}

static void child_main(const sandbox_params *p, int in_r, int out_w, int err_w,
                       const int *memfds, int n_files, int drop_uid,
                       const char *path, char *const *argv, char *const *envp) {
    setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGPIPE, &dfl, NULL);
    if (dup2(in_r, 0) < 0 || dup2(out_w, 1) < 0 || dup2(err_w, 2) < 0) _exit(127);
    if (close_range(3, ~0u, CLOSE_RANGE_CLOEXEC) != 0)
        for (int fd = 3; fd < 4096; fd++) fcntl(fd, F_SETFD, FD_CLOEXEC);
    for (int i = 0; i < n_files; i++)
        if (fcntl(memfds[i], F_SETFD, 0) != 0) child_fail("fcntl memfd");
    rlim_t mb = 1024 * 1024;
    if (p->cpu_s > 0) set_lim(RLIMIT_CPU, (rlim_t)p->cpu_s, (rlim_t)p->cpu_s + 1, "RLIMIT_CPU");
    if (p->fsize_mb > 0) set_lim(RLIMIT_FSIZE, (rlim_t)p->fsize_mb * mb, (rlim_t)p->fsize_mb * mb, "RLIMIT_FSIZE");
    set_lim(RLIMIT_CORE, 0, 0, "RLIMIT_CORE");
    if (p->isolate) {
        if (p->mem_mb > 0) set_lim(RLIMIT_AS, (rlim_t)p->mem_mb * mb, (rlim_t)p->mem_mb * mb, "RLIMIT_AS");
        if (p->nofile > 0) set_lim(RLIMIT_NOFILE, (rlim_t)p->nofile, (rlim_t)p->nofile, "RLIMIT_NOFILE");
        if (p->nproc > 0 && drop_uid) set_lim(RLIMIT_NPROC, (rlim_t)p->nproc, (rlim_t)p->nproc, "RLIMIT_NPROC");
        if (drop_uid) {
            if (setgroups(0, NULL) != 0) child_fail("setgroups");
            if (setresgid((gid_t)p->gid, (gid_t)p->gid, (gid_t)p->gid) != 0) child_fail("setresgid");
            if (setresuid((uid_t)p->uid, (uid_t)p->uid, (uid_t)p->uid) != 0) child_fail("setresuid");
        }
    }
    execve(path, argv, envp);
    child_fail(path);
}

static int set_nonblock(int fd) {
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Appends up to what the cap allows; returns 1 when the cap was hit. */
static int drain(int fd, char **buf, size_t *n, size_t *cap_buf, size_t *total, size_t out_cap, int *eof) {
    char tmp[65536];
    for (;;) {
        ssize_t k = read(fd, tmp, sizeof tmp);
        if (k == 0) { *eof = 1; return 0; }
        if (k < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) *eof = 1;
            return 0;
        }
        size_t take = (size_t)k, hit = 0;
        if (*total + take > out_cap) { take = out_cap - *total; hit = 1; }
        if (*n + take + 1 > *cap_buf) {
            size_t nc = *cap_buf ? *cap_buf : 4096;
            while (nc < *n + take + 1) nc *= 2;
            char *nb = realloc(*buf, nc);
            if (!nb) return 1; /* treat as overflow: stop and kill */
            *buf = nb;
            *cap_buf = nc;
        }
        memcpy(*buf + *n, tmp, take);
        *n += take;
        *total += take;
        (*buf)[*n] = 0;
        if (hit) return 1;
    }
}

static int mem_hint(const sandbox_result *r) {
    if (!r->err) return 0;
    return strstr(r->err, "MemoryError") || strstr(r->err, "Cannot allocate memory") ||
           strstr(r->err, "std::bad_alloc") || strstr(r->err, "out of memory");
}

static int sandbox_run_once(const sandbox_params *p, const char *const *argv, const char *stdin_data,
                            size_t stdin_n, sandbox_result *res, rlvr_err *err) {
    if (!res) return errf(err, RLVR_EARG, "sandbox_run: res is NULL");
    memset(res, 0, sizeof *res);
    if (!p || !argv || !argv[0]) return errf(err, RLVR_EARG, "sandbox_run: no params or empty argv");
    if (p->n_files < 0 || p->n_files > 16 || (p->n_files && !p->files))
        return errf(err, RLVR_EARG, "sandbox_run: n_files %d (at most 16)", p->n_files);
    if (p->out_cap == 0 || p->wall_s <= 0) return errf(err, RLVR_EARG, "sandbox_run: out_cap and wall_s must be > 0");
    if (stdin_n && !stdin_data) return errf(err, RLVR_EARG, "sandbox_run: stdin_n > 0 with no data");

    argv_buf *a = calloc(1, sizeof *a);
    char (*links)[4096] = calloc(4, sizeof *links);
    int memfds[16], n_mem = 0, pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 };
    int rc = RLVR_OK, drop_uid = p->isolate && geteuid() == 0;
    pid_t pid = -1;
    if (!a || !links) { rc = errf(err, RLVR_ENOMEM, "sandbox_run: out of memory"); goto out; }

    for (int i = 0; i < p->n_files; i++) {
        const sandbox_file *f = &p->files[i];
        if (!f->path || f->path[0] != '/' || (f->n && !f->data)) {
            rc = errf(err, RLVR_EARG, "sandbox_run: file %d needs an absolute path and data", i);
            goto out;
        }
        int fd = memfd_create("rlvr-sandbox-file", MFD_CLOEXEC);
        if (fd < 0) { rc = errf(err, RLVR_EIO, "sandbox_run: memfd_create: %s", strerror(errno)); goto out; }
        memfds[n_mem++] = fd;
        for (size_t off = 0; off < f->n;) {
            ssize_t k = write(fd, f->data + off, f->n - off);
            if (k < 0 && errno == EINTR) continue;
            if (k <= 0) { rc = errf(err, RLVR_EIO, "sandbox_run: writing %s: %s", f->path, strerror(errno)); goto out; }
            off += (size_t)k;
        }
        lseek(fd, 0, SEEK_SET);
    }

    const char *path;
    int bad = 0;
    if (p->isolate) {
        path = p->bwrap ? p->bwrap : "/usr/bin/bwrap";
        const char *fixed[] = { path, "--unshare-all", "--unshare-user", "--disable-userns",
                                "--die-with-parent", "--new-session", "--clearenv",
                                "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "LANG", "C.UTF-8",
                                "--setenv", "HOME", "/tmp", "--ro-bind", "/usr", "/usr", NULL };
        for (int i = 0; fixed[i]; i++) bad |= ab_push(a, fixed[i]);
        const char *mir[] = { "/lib", "/lib64", "/bin", "/sbin" };
        for (int i = 0; i < 4; i++) bad |= ab_mirror(a, mir[i], links[i], sizeof links[i]);
        bad |= ab_push(a, "--proc") || ab_push(a, "/proc") || ab_push(a, "--dev") || ab_push(a, "/dev");
        bad |= ab_push(a, "--size") || ab_num(a, (long long)(p->tmp_mb > 0 ? p->tmp_mb : 64) * 1024 * 1024);
        bad |= ab_push(a, "--perms") || ab_push(a, "1777") || ab_push(a, "--tmpfs") || ab_push(a, "/tmp");
        for (int i = 0; p->ro_binds && p->ro_binds[i]; i++)
            bad |= ab_push(a, "--ro-bind") || ab_push(a, p->ro_binds[i]) || ab_push(a, p->ro_binds[i]);
        for (int i = 0; i < p->n_files; i++)
            bad |= ab_push(a, "--ro-bind-data") || ab_num(a, memfds[i]) || ab_push(a, p->files[i].path);
        bad |= ab_push(a, "--uid") || ab_num(a, 65534) || ab_push(a, "--gid") || ab_num(a, 65534);
        bad |= ab_push(a, "--cap-drop") || ab_push(a, "ALL");
        bad |= ab_push(a, "--chdir") || ab_push(a, p->chdir ? p->chdir : "/tmp") || ab_push(a, "--");
    } else {
        if (p->n_files || p->ro_binds) {
            rc = errf(err, RLVR_EARG, "sandbox_run: files and ro_binds need isolate=1");
            goto out;
        }
        path = argv[0];
    }
    if (access(path, X_OK) != 0) { /* caught here, not as a silent exit 127 from the child */
        rc = errf(err, p->isolate ? RLVR_EUNSUPPORTED : RLVR_EIO, "sandbox_run: cannot execute %s: %s%s", path,
                  strerror(errno), p->isolate ? " (install bubblewrap)" : "");
        goto out;
    }
    for (int i = 0; argv[i]; i++) bad |= ab_push(a, argv[i]);
    if (bad) { rc = errf(err, RLVR_EARG, "sandbox_run: too many arguments (max %d)", SB_MAX_ARGS); goto out; }

    if (pipe2(pin, O_CLOEXEC) || pipe2(pout, O_CLOEXEC) || pipe2(perr, O_CLOEXEC)) {
        rc = errf(err, RLVR_EIO, "sandbox_run: pipe: %s", strerror(errno));
        goto out;
    }
    char *empty_env[] = { NULL };
    double t0 = now_s();
    pid = fork();
    if (pid < 0) { rc = errf(err, RLVR_EIO, "sandbox_run: fork: %s", strerror(errno)); goto out; }
    if (pid == 0)
        child_main(p, pin[0], pout[1], perr[1], memfds, n_mem, drop_uid, path,
                   (char *const *)a->v, p->isolate ? empty_env : environ);
    setpgid(pid, pid); /* both sides set it: no race with an early kill */
    close(pin[0]); close(pout[1]); close(perr[1]);
    pin[0] = pout[1] = perr[1] = -1;
    set_nonblock(pin[1]); set_nonblock(pout[0]); set_nonblock(perr[0]);
    if (stdin_n == 0) { close(pin[1]); pin[1] = -1; }

    /* SIGPIPE blocked in this thread only while we write; a pending one we caused is
     * consumed below so it is never delivered. */
    sigset_t pipeset, oldset, pend;
    sigemptyset(&pipeset);
    sigaddset(&pipeset, SIGPIPE);
    sigpending(&pend);
    int was_pending = sigismember(&pend, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipeset, &oldset);

    size_t in_off = 0, total = 0, cap_out = 0, cap_err = 0;
    int eof_out = 0, eof_err = 0, killed = 0, status = 0, reaped = 0;
    double deadline = t0 + p->wall_s;
    for (;;) {
        siginfo_t si;
        memset(&si, 0, sizeof si);
        if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid) {
            kill(-pid, SIGKILL); /* group still exists until we reap: no pid reuse */
            int e1 = 0, e2 = 0;
            if (!eof_out && drain(pout[0], &res->out, &res->n_out, &cap_out, &total, p->out_cap, &e1)) res->output_truncated = 1;
            if (!eof_err && drain(perr[0], &res->err, &res->n_err, &cap_err, &total, p->out_cap, &e2)) res->output_truncated = 1;
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
            reaped = 1;
            break;
        }
        double left = deadline - now_s();
        if (left <= 0) {
            res->timed_out = 1;
            kill(-pid, SIGKILL);
            killed = 1;
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
            reaped = 1;
            break;
        }
        struct pollfd fds[3];
        int nf = 0, i_in = -1, i_out = -1, i_err = -1;
        if (pin[1] >= 0) { i_in = nf; fds[nf].fd = pin[1]; fds[nf++].events = POLLOUT; }
        if (!eof_out) { i_out = nf; fds[nf].fd = pout[0]; fds[nf++].events = POLLIN; }
        if (!eof_err) { i_err = nf; fds[nf].fd = perr[0]; fds[nf++].events = POLLIN; }
        int ms = (int)(left * 1000) + 1;
        if (ms > 20) ms = 20; /* also poll for exit: a child may close its pipes and run on */
        int k = poll(fds, (nfds_t)nf, ms);
        if (k < 0 && errno != EINTR) { kill(-pid, SIGKILL); killed = 1; }
        if (k <= 0) continue;
        if (i_in >= 0 && fds[i_in].revents) {
            ssize_t w = write(pin[1], stdin_data + in_off, stdin_n - in_off);
            if (w > 0) in_off += (size_t)w;
            if ((w < 0 && errno != EAGAIN && errno != EINTR) || in_off == stdin_n) {
                close(pin[1]); /* done, or the child closed stdin (EPIPE): not an error */
                pin[1] = -1;
            }
        }
        int hit = 0;
        if (i_out >= 0 && fds[i_out].revents)
            hit |= drain(pout[0], &res->out, &res->n_out, &cap_out, &total, p->out_cap, &eof_out);
        if (i_err >= 0 && fds[i_err].revents)
            hit |= drain(perr[0], &res->err, &res->n_err, &cap_err, &total, p->out_cap, &eof_err);
        if (hit && !res->output_truncated) {
            res->output_truncated = 1;
            kill(-pid, SIGKILL);
            killed = 1;
            eof_out = eof_err = 1; /* stop reading; the reap path kills and waits */
        }
    }
    (void)killed;

    if (!was_pending) {
        struct timespec zero = { 0, 0 };
        sigpending(&pend);
        if (sigismember(&pend, SIGPIPE)) sigtimedwait(&pipeset, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &oldset, NULL);

    res->wall_s = now_s() - t0;
    if (reaped) {
        if (WIFEXITED(status)) { res->exited = 1; res->exit_code = WEXITSTATUS(status); }
        else if (WIFSIGNALED(status)) res->term_signal = WTERMSIG(status);
    }
    if (!res->out) res->out = calloc(1, 1);
    if (!res->err) res->err = calloc(1, 1);
    if (!res->out || !res->err) { sandbox_result_free(res); rc = errf(err, RLVR_ENOMEM, "sandbox_run: out of memory"); goto out; }
    res->mem_exceeded = mem_hint(res);

out:
    for (int i = 0; i < n_mem; i++) close(memfds[i]);
    int fdl[] = { pin[0], pin[1], pout[0], pout[1], perr[0], perr[1] };
    for (int i = 0; i < 6; i++) if (fdl[i] >= 0) close(fdl[i]);
    free(a);
    free(links);
    return rc;
}

int sandbox_available(rlvr_err *err) {
    sandbox_params p = sandbox_default_params();
    if (access(p.bwrap, X_OK) != 0)
        return errf(err, RLVR_EUNSUPPORTED, "sandbox: %s not found or not executable (install bubblewrap)", p.bwrap);
    p.wall_s = 5;
    const char *argv[] = { "/usr/bin/true", NULL };
    sandbox_result r;
    int rc = sandbox_run(&p, argv, NULL, 0, &r, err);
    if (rc) return rc;
    if (!r.exited || r.exit_code != 0) {
        size_t n = r.n_err > 300 ? 300 : r.n_err;
        errf(err, RLVR_EUNSUPPORTED, "sandbox: bubblewrap cannot start here (exit %d, signal %d%s): %.*s",
             r.exit_code, r.term_signal, r.timed_out ? ", timed out" : "", (int)n, r.err + (r.n_err - n));
        sandbox_result_free(&r);
        return RLVR_EUNSUPPORTED;
    }
    sandbox_result_free(&r);
    return RLVR_OK;
}

/* bwrap sometimes cannot fork the sandbox's pid 1 right after many quick runs
 * (EAGAIN under RLIMIT_NPROC while the kernel still counts exited sandboxes). That is
 * a failure to start, not the program's verdict: retry with backoff (about 1.3 s in
 * all). A program that prints the same message itself only gains a delay: after the
 * retries its last result is returned as an ordinary run. */
static int bwrap_could_not_start(const sandbox_params *p, const sandbox_result *r) {
    return p->isolate && r->exited && r->exit_code == 1 && r->err && r->n_err < 300 &&
           !strncmp(r->err, "bwrap: Can't fork", 17);
}

int sandbox_run(const sandbox_params *p, const char *const *argv, const char *stdin_data,
                size_t stdin_n, sandbox_result *res, rlvr_err *err) {
    int rc = RLVR_OK;
    for (int attempt = 0; attempt < 8; attempt++) {
        if (attempt) {
            sandbox_result_free(res);
            struct timespec ts = {0, (long)10000000 << (attempt - 1)}; /* 10 ms, 20 ms, ... 640 ms */
            if (ts.tv_nsec >= 1000000000L) ts.tv_sec = ts.tv_nsec / 1000000000L, ts.tv_nsec %= 1000000000L;
            nanosleep(&ts, NULL);
        }
        rc = sandbox_run_once(p, argv, stdin_data, stdin_n, res, err);
        if (rc || !bwrap_could_not_start(p, res)) break;
    }
    return rc;
}
