/* extserver.c: the long-running user-program reward: spawns the server with three pipes
 * in its own process group, streams request lines in and answer lines out with poll(),
 * restarts it when it dies mid-batch and resends what is unanswered. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cjson/cJSON.h>
#include "core/err.h"
#include "rewards/external.h"
#include "rewards/extserver.h"

enum { ERR_TAIL = 1024, READ_CHUNK = 65536 };

struct extserver {
    char **argv;               /* our copy, NULL-terminated */
    extserver_params p;
    pid_t pid;                 /* 0: not running */
    int in_fd, out_fd, err_fd; /* -1 when closed */
    char tail[ERR_TAIL];       /* last bytes of stderr */
    size_t tail_n;
    char *line;                /* partial stdout line */
    size_t line_n, line_cap;
    long lines_read;           /* stdout lines from the current process */
    int restarts;
    int started;
};

extserver_params extserver_default_params(void) {
    extserver_params p;
    memset(&p, 0, sizeof p);
    p.timeout_s = 30;
    p.max_restarts = 3;
    p.max_line = (size_t)1 << 20;
    p.stop_grace_s = 1;
    return p;
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* ---- requests -------------------------------------------------------------------- */

/* One newline-terminated request line (malloc'd, length in *len), or NULL with err. */
static char *request_line(const extserver_request *r, int id, size_t *len, rlvr_err *err) {
    cJSON *req = cJSON_CreateObject(), *extra = NULL;
    if (!req) { errf(err, RLVR_ENOMEM, "external reward server: out of memory"); return NULL; }
    if (r->extra_json) {
        extra = cJSON_Parse(r->extra_json);
        if (!cJSON_IsObject(extra)) {
            cJSON_Delete(extra);
            cJSON_Delete(req);
            errf(err, RLVR_EARG, "external reward server: request %d: extra is not a JSON object", id);
            return NULL;
        }
    } else {
        extra = cJSON_CreateObject();
    }
    if (!extra || !cJSON_AddNumberToObject(req, "id", id) ||
        external_json_add_str(req, "prompt", r->prompt, r->prompt_n) ||
        external_json_add_str(req, "completion", r->completion, r->completion_n) ||
        external_json_add_str(req, "reference", r->reference, r->reference_n) ||
        external_json_add_str(req, "data_source", r->data_source, r->data_source ? strlen(r->data_source) : 0) ||
        !cJSON_AddItemToObject(req, "extra", extra)) {
        if (extra && !cJSON_GetObjectItemCaseSensitive(req, "extra")) cJSON_Delete(extra);
        cJSON_Delete(req);
        errf(err, RLVR_ENOMEM, "external reward server: out of memory building request %d", id);
        return NULL;
    }
    char *text = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    if (!text) { errf(err, RLVR_ENOMEM, "external reward server: out of memory"); return NULL; }
    size_t n = strlen(text);
    text[n] = '\n'; /* overwrite the NUL: the length is carried */
    *len = n + 1;
    return text;
}

/* ---- the process ----------------------------------------------------------------- */

static void close_fd(int *fd) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

static void tail_add(extserver *s, const char *b, size_t n) {
    if (n >= ERR_TAIL) { memcpy(s->tail, b + n - ERR_TAIL, ERR_TAIL); s->tail_n = ERR_TAIL; return; }
    if (s->tail_n + n > ERR_TAIL) {
        size_t drop = s->tail_n + n - ERR_TAIL;
        memmove(s->tail, s->tail + drop, s->tail_n - drop);
        s->tail_n -= drop;
    }
    memcpy(s->tail + s->tail_n, b, n);
    s->tail_n += n;
}

/* Reads what stderr has now (non-blocking); closes it on EOF. */
static void drain_err(extserver *s) {
    char buf[4096];
    while (s->err_fd >= 0) {
        ssize_t k = read(s->err_fd, buf, sizeof buf);
        if (k > 0) { tail_add(s, buf, (size_t)k); continue; }
        if (k < 0 && errno == EINTR) continue;
        if (k == 0) close_fd(&s->err_fd);
        break;
    }
}

/* Kills the group and reaps the leader; *status gets its wait status (or -1). */
static void kill_server(extserver *s, int *status) {
    int st = -1;
    if (s->pid > 0) {
        close_fd(&s->in_fd);
        close_fd(&s->out_fd);
        kill(-s->pid, SIGKILL);
        kill(s->pid, SIGKILL);
        while (waitpid(s->pid, &st, 0) < 0 && errno == EINTR) {}
        kill(-s->pid, SIGKILL); /* anything it forked in the meantime */
    }
    close_fd(&s->in_fd);
    close_fd(&s->out_fd);
    close_fd(&s->err_fd);
    s->pid = 0;
    s->line_n = 0;
    if (status) *status = st;
}

/* Like kill_server, but first collects the rest of stderr and the exit status of a
 * process that is exiting by itself (up to 0.2 s). */
static void reap_dead(extserver *s, int *status) {
    double t_end = now_s() + 0.2;
    int st = -1;
    pid_t r = 0;
    close_fd(&s->in_fd);
    while (s->pid > 0 && (r = waitpid(s->pid, &st, WNOHANG)) == 0 && now_s() < t_end) {
        struct pollfd pf = {.fd = s->err_fd, .events = POLLIN};
        if (s->err_fd >= 0 && poll(&pf, 1, 10) > 0) drain_err(s);
        else if (s->err_fd < 0) { struct timespec ts = {0, 5000000}; nanosleep(&ts, NULL); }
    }
    drain_err(s);
    if (r == s->pid && s->pid > 0) {
        kill(-s->pid, SIGKILL);
        s->pid = 0;
        kill_server(s, NULL);
        if (status) *status = st;
    } else {
        kill_server(s, status);
    }
}

static void describe_status(int st, char *buf, size_t cap) {
    if (st == -1) snprintf(buf, cap, "died");
    else if (WIFEXITED(st)) snprintf(buf, cap, "exited with status %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st)) snprintf(buf, cap, "was killed by signal %d", WTERMSIG(st));
    else snprintf(buf, cap, "stopped");
}

/* errf with " (stderr: <tail>)" appended. */
static int fail(extserver *s, rlvr_err *err, int code, const char *what) {
    drain_err(s);
    size_t n = s->tail_n > 400 ? 400 : s->tail_n;
    return errf(err, code, "external reward server %s: %s (stderr: %.*s)", s->argv[0], what, (int)n,
                s->tail + (s->tail_n - n));
}

static int spawn(extserver *s, rlvr_err *err) {
    int in[2] = {-1, -1}, out[2] = {-1, -1}, er[2] = {-1, -1}, ex[2] = {-1, -1};
    if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(er, O_CLOEXEC) || pipe2(ex, O_CLOEXEC)) {
        int e = errno;
        int *all[] = {in, out, er, ex};
        for (int i = 0; i < 4; i++) { close_fd(&all[i][0]); close_fd(&all[i][1]); }
        return errf(err, RLVR_EIO, "external reward server: pipe: %s", strerror(e));
    }
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        int *all[] = {in, out, er, ex};
        for (int i = 0; i < 4; i++) { close_fd(&all[i][0]); close_fd(&all[i][1]); }
        return errf(err, RLVR_EIO, "external reward server: fork: %s", strerror(e));
    }
    if (pid == 0) {
        setpgid(0, 0);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        sigaction(SIGPIPE, &dfl, NULL);
        /* dup2 clears close-on-exec on the copies; the originals close at exec */
        if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(er[1], 2) < 0) _exit(127);
        execvp(s->argv[0], s->argv);
        int e = errno;
        ssize_t w = write(ex[1], &e, sizeof e);
        (void)w;
        _exit(127);
    }
    setpgid(pid, pid); /* also here, so a kill(-pid) right away cannot miss */
    close(in[0]); close(out[1]); close(er[1]); close(ex[1]);
    int e = 0;
    ssize_t k;
    while ((k = read(ex[0], &e, sizeof e)) < 0 && errno == EINTR) {}
    close(ex[0]);
    s->pid = pid;
    s->in_fd = in[1];
    s->out_fd = out[0];
    s->err_fd = er[0];
    s->line_n = 0;
    s->lines_read = 0;
    if (k == (ssize_t)sizeof e) {
        kill_server(s, NULL);
        return errf(err, RLVR_EIO, "external reward server: cannot run %s: %s", s->argv[0], strerror(e));
    }
    fcntl(s->in_fd, F_SETFL, fcntl(s->in_fd, F_GETFL) | O_NONBLOCK);
    fcntl(s->out_fd, F_SETFL, fcntl(s->out_fd, F_GETFL) | O_NONBLOCK);
    fcntl(s->err_fd, F_SETFL, fcntl(s->err_fd, F_GETFL) | O_NONBLOCK);
    if (s->started) s->restarts++;
    s->started = 1;
    return RLVR_OK;
}

extserver *extserver_start(const char *const *argv, const extserver_params *p, rlvr_err *err) {
    extserver_params d = extserver_default_params();
    if (!p) p = &d;
    if (!argv || !argv[0] || !argv[0][0]) { errf(err, RLVR_EARG, "external reward server: no command configured"); return NULL; }
    if (!(p->timeout_s > 0) || p->max_restarts < 0 || p->max_line < 16 || !(p->stop_grace_s >= 0)) {
        errf(err, RLVR_EARG, "external reward server: bad params (timeout_s > 0, max_restarts >= 0, max_line >= 16)");
        return NULL;
    }
    extserver *s = calloc(1, sizeof *s);
    int argc = 0;
    while (argv[argc]) argc++;
    if (s) s->argv = calloc((size_t)argc + 1, sizeof *s->argv);
    for (int i = 0; s && s->argv && i < argc; i++) {
        if (!(s->argv[i] = strdup(argv[i]))) { errf(err, RLVR_ENOMEM, "external reward server: out of memory"); extserver_stop(s); return NULL; }
    }
    if (!s || !s->argv) { free(s); errf(err, RLVR_ENOMEM, "external reward server: out of memory"); return NULL; }
    s->p = *p;
    s->in_fd = s->out_fd = s->err_fd = -1;
    if (spawn(s, err)) { extserver_stop(s); return NULL; }
    return s;
}

pid_t extserver_pid(const extserver *s) { return s ? s->pid : 0; }
int extserver_restarts(const extserver *s) { return s ? s->restarts : 0; }

void extserver_stop(extserver *s) {
    if (!s) return;
    if (s->pid > 0) {
        close_fd(&s->in_fd);
        close_fd(&s->out_fd);
        close_fd(&s->err_fd);
        double t_end = now_s() + s->p.stop_grace_s;
        int st;
        pid_t r;
        while ((r = waitpid(s->pid, &st, WNOHANG)) == 0 && now_s() < t_end) {
            struct timespec ts = {0, 5000000};
            nanosleep(&ts, NULL);
        }
        kill(-s->pid, SIGKILL); /* stragglers in the group, or the server itself */
        if (r == s->pid) s->pid = 0;
        kill_server(s, NULL);
    }
    for (int i = 0; s->argv && s->argv[i]; i++) free(s->argv[i]);
    free(s->argv);
    free(s->line);
    free(s);
}

/* ---- a batch --------------------------------------------------------------------- */

typedef struct {
    int n, n_left;
    char **lines;
    size_t *lens;
    unsigned char *done;
    double *rewards;
    int *queue;            /* request indices still to write */
    int q_n, q_pos;
    size_t q_off;          /* bytes of lines[queue[q_pos]] already written */
} batch;

static void requeue(batch *b) {
    b->q_n = b->q_pos = 0;
    b->q_off = 0;
    for (int i = 0; i < b->n; i++)
        if (!b->done[i]) b->queue[b->q_n++] = i;
}

/* Parses one answer line; 1 when it answered a request, 0 for a blank line, or an error. */
static int take_line(extserver *s, batch *b, const char *l, size_t n, rlvr_err *err) {
    s->lines_read++;
    while (n > 0 && (l[n - 1] == '\r' || l[n - 1] == ' ' || l[n - 1] == '\t')) n--;
    size_t i = 0;
    while (i < n && (l[i] == ' ' || l[i] == '\t')) i++;
    if (i == n) return 0;
    char what[320];
    int k = n > 120 ? 120 : (int)n;
    cJSON *o = cJSON_ParseWithLength(l, n);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        snprintf(what, sizeof what, "stdout line %ld is not a JSON object: %.*s%s", s->lines_read, k, l,
                 n > 120 ? "..." : "");
        return -fail(s, err, RLVR_EFORMAT, what);
    }
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
    const cJSON *rw = cJSON_GetObjectItemCaseSensitive(o, "reward");
    const char *why = NULL;
    double v = cJSON_IsNumber(id) ? id->valuedouble : -1;
    if (!cJSON_IsNumber(id) || v != floor(v) || v < 0 || v >= b->n) why = "\"id\" missing or not the id of a request in this batch";
    else if (b->done[(int)v]) why = "answers an id twice";
    else if (!cJSON_IsNumber(rw) || !isfinite(rw->valuedouble)) why = "\"reward\" missing, not a number or not finite";
    if (why) {
        cJSON_Delete(o);
        snprintf(what, sizeof what, "stdout line %ld: %s: %.*s%s", s->lines_read, why, k, l, n > 120 ? "..." : "");
        return -fail(s, err, RLVR_EFORMAT, what);
    }
    int j = (int)v;
    b->done[j] = 1;
    b->rewards[j] = rw->valuedouble;
    b->n_left--;
    cJSON_Delete(o);
    return 1;
}

/* Reads what stdout has. Returns the answers taken (>= 0), -1 on EOF, or -2 with err. */
static int read_answers(extserver *s, batch *b, rlvr_err *err) {
    int got = 0;
    char buf[READ_CHUNK];
    for (;;) {
        ssize_t k = read(s->out_fd, buf, sizeof buf);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) return got;      /* EAGAIN: nothing more now */
        if (k == 0) return -1;
        size_t start = 0;
        for (size_t i = 0; i < (size_t)k; i++) {
            if (buf[i] != '\n') continue;
            const char *l = buf + start;
            size_t ln = i - start;
            if (s->line_n) { /* completes a partial line */
                if (s->line_n + ln > s->p.max_line) goto too_long;
                memcpy(s->line + s->line_n, l, ln);
                l = s->line;
                ln += s->line_n;
                s->line_n = 0;
            }
            if (ln > s->p.max_line) goto too_long;
            int r = take_line(s, b, l, ln, err);
            if (r < 0) return -2;
            got += r;
            start = i + 1;
        }
        size_t rest = (size_t)k - start;
        if (rest) {
            if (s->line_n + rest > s->p.max_line) goto too_long;
            if (!s->line) {
                if (!(s->line = malloc(s->p.max_line))) { errf(err, RLVR_ENOMEM, "external reward server: out of memory"); return -2; }
                s->line_cap = s->p.max_line;
            }
            memcpy(s->line + s->line_n, buf + start, rest);
            s->line_n += rest;
        }
    }
too_long: {
        char what[160];
        snprintf(what, sizeof what, "stdout line %ld is longer than %zu bytes", s->lines_read + 1, s->p.max_line);
        fail(s, err, RLVR_EFORMAT, what);
        return -2;
    }
}

/* Writes queued requests until the pipe is full. Returns 0, or -1 when the server closed
 * its stdin (stop writing; its stdout EOF or the timeout decides what happens). */
static int write_requests(extserver *s, batch *b) {
    while (b->q_pos < b->q_n) {
        int j = b->queue[b->q_pos];
        ssize_t k = write(s->in_fd, b->lines[j] + b->q_off, b->lens[j] - b->q_off);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0 && errno == EAGAIN) return 0;
        if (k < 0) { close_fd(&s->in_fd); return -1; }
        b->q_off += (size_t)k;
        if (b->q_off == b->lens[j]) { b->q_pos++; b->q_off = 0; }
    }
    return 0;
}

static int run_batch(extserver *s, batch *b, rlvr_err *err) {
    char what[256];
    int in_a_row = 0; /* restarts since the last answer */
    if (s->pid <= 0 && spawn(s, err)) return err->code;
    requeue(b);
    double deadline = now_s() + s->p.timeout_s;
    while (b->n_left > 0) {
        double left = deadline - now_s();
        if (left <= 0) {
            snprintf(what, sizeof what, "no answer within %.1f s (%d of %d requests unanswered)", s->p.timeout_s,
                     b->n_left, b->n);
            return fail(s, err, RLVR_EIO, what);
        }
        struct pollfd pf[3];
        int np = 0, i_out = -1, i_err = -1, i_in = -1;
        if (s->out_fd >= 0) { pf[np] = (struct pollfd){.fd = s->out_fd, .events = POLLIN}; i_out = np++; }
        if (s->err_fd >= 0) { pf[np] = (struct pollfd){.fd = s->err_fd, .events = POLLIN}; i_err = np++; }
        if (s->in_fd >= 0 && b->q_pos < b->q_n) { pf[np] = (struct pollfd){.fd = s->in_fd, .events = POLLOUT}; i_in = np++; }
        int ms = (int)(left * 1000) + 1;
        int r = poll(pf, (nfds_t)np, ms);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return errf(err, RLVR_EIO, "external reward server: poll: %s", strerror(errno));
        if (i_err >= 0 && pf[i_err].revents) drain_err(s);
        if (i_in >= 0 && pf[i_in].revents) write_requests(s, b);
        int eof = 0;
        if (i_out >= 0 && pf[i_out].revents) {
            int before = b->n_left;
            int got = read_answers(s, b, err);
            if (got == -2) return err->code;
            if (got == -1) eof = 1;
            if (b->n_left < before) { in_a_row = 0; deadline = now_s() + s->p.timeout_s; }
        }
        if (!eof || b->n_left == 0) continue;
        /* the server closed stdout: it died or is dying; restart and resend */
        int st;
        reap_dead(s, &st);
        char how[64];
        describe_status(st, how, sizeof how);
        if (in_a_row >= s->p.max_restarts) {
            snprintf(what, sizeof what, "%s with %d of %d requests unanswered, after %d restart%s without an answer",
                     how, b->n_left, b->n, in_a_row, in_a_row == 1 ? "" : "s");
            return fail(s, err, RLVR_EIO, what);
        }
        in_a_row++;
        s->tail_n = 0;
        if (spawn(s, err)) return err->code;
        requeue(b);
        deadline = now_s() + s->p.timeout_s;
    }
    return RLVR_OK;
}

int extserver_score_batch(extserver *s, const extserver_request *reqs, int n, double *rewards,
                          rlvr_err *err) {
    if (!s || n < 0 || (n > 0 && (!reqs || !rewards))) return errf(err, RLVR_EARG, "external reward server: bad arguments");
    if (n == 0) return RLVR_OK;
    batch b;
    memset(&b, 0, sizeof b);
    b.n = b.n_left = n;
    b.rewards = rewards;
    b.lines = calloc((size_t)n, sizeof *b.lines);
    b.lens = calloc((size_t)n, sizeof *b.lens);
    b.done = calloc((size_t)n, 1);
    b.queue = calloc((size_t)n, sizeof *b.queue);
    int rc = RLVR_OK;
    if (!b.lines || !b.lens || !b.done || !b.queue) rc = errf(err, RLVR_ENOMEM, "external reward server: out of memory");
    for (int i = 0; rc == RLVR_OK && i < n; i++)
        if (!(b.lines[i] = request_line(&reqs[i], i, &b.lens[i], err))) rc = err->code;
    if (rc == RLVR_OK) {
        /* SIGPIPE blocked in this thread only while we talk to the server; one we caused
         * is consumed before the mask is restored, so it is never delivered. */
        sigset_t pipeset, oldset, pend;
        sigemptyset(&pipeset);
        sigaddset(&pipeset, SIGPIPE);
        sigpending(&pend);
        int was_pending = sigismember(&pend, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipeset, &oldset);
        rc = run_batch(s, &b, err);
        if (rc) kill_server(s, NULL); /* unknown state: the next batch starts afresh */
        if (!was_pending && !sigismember(&oldset, SIGPIPE)) {
            struct timespec zero = {0, 0};
            sigpending(&pend);
            if (sigismember(&pend, SIGPIPE)) sigtimedwait(&pipeset, NULL, &zero);
        }
        pthread_sigmask(SIG_SETMASK, &oldset, NULL);
    }
    for (int i = 0; b.lines && i < n; i++) free(b.lines[i]);
    free(b.lines);
    free(b.lens);
    free(b.done);
    free(b.queue);
    return rc;
}
