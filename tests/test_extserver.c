/* test_extserver.c: the long-running external reward server (src/rewards/extserver.c)
 * with examples/my_reward.py and small misbehaving Python servers: a batch of 50,
 * answers out of order, a server that crashes every 3 answers (restarted, all
 * answered), one that always crashes (restarts exhausted), one that hangs (timeout),
 * one that prints garbage (clear error), and process cleanup (no survivors). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "check.h"
#include "rewards/extserver.h"

#define PY "/usr/bin/python3"
static char dir[] = "/tmp/rlvr_extserver_XXXXXX";

static const char *script(const char *name, const char *body) {
    static char path[8][256];
    static int k;
    char *p = path[k++ % 8];
    snprintf(p, 256, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (f) { fputs(body, f); fclose(f); }
    return p;
}

static int available(void) {
    if (access(PY, X_OK) != 0 || access("examples/my_reward.py", R_OK) != 0) {
        printf("SKIP test_extserver: needs %s and examples/my_reward.py (run from the repo root)\n", PY);
        return 0;
    }
    return 1;
}

/* 1 when pid is gone or a zombie (exited, waiting for its parent). */
static int dead(pid_t pid) {
    char p[64], buf[512];
    snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(p, "r");
    if (!f) return 1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *c = strrchr(buf, ')');
    return c && c[1] == ' ' && (c[2] == 'Z' || c[2] == 'X');
}

static void test_example_batch(void) {
    const char *argv[] = {PY, "examples/my_reward.py", NULL};
    rlvr_err err;
    extserver *s = extserver_start(argv, NULL, &err);
    CHECK(s != NULL, "%s", err.msg);
    if (!s) return;
    enum { N = 50 };
    extserver_request r[N];
    char comp[N][64], ref[N][16];
    double rw[N];
    for (int i = 0; i < N; i++) {
        snprintf(ref[i], sizeof ref[i], "%d", 1000 + i);
        snprintf(comp[i], sizeof comp[i], "so the answer is %d \xff\xfe done", i % 3 ? 1000 + i : 7);
        r[i] = (extserver_request){.prompt = "What?", .prompt_n = 5, .completion = comp[i],
                                   .completion_n = strlen(comp[i]), .reference = ref[i],
                                   .reference_n = strlen(ref[i]), .data_source = "test",
                                   .extra_json = i == 3 ? "{\"k\": [1, 2]}" : NULL};
    }
    pid_t pid = extserver_pid(s);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < N; i++) rw[i] = -1;
        int rc = extserver_score_batch(s, r, N, rw, &err);
        CHECK(rc == RLVR_OK, "round %d: %s", round, err.msg);
        int bad = 0;
        for (int i = 0; i < N; i++) bad += rw[i] != (i % 3 ? 1.0 : 0.0);
        CHECK(bad == 0, "round %d: %d wrong rewards", round, bad);
    }
    CHECK(extserver_pid(s) == pid && extserver_restarts(s) == 0, "same process kept (restarts %d)", extserver_restarts(s));
    extserver_request badx = r[0];
    badx.extra_json = "[1]";
    CHECK(extserver_score_batch(s, &badx, 1, rw, &err) == RLVR_EARG, "bad extra_json: EARG");
    CHECK(extserver_score_batch(s, r, 0, rw, &err) == RLVR_OK, "empty batch");
    extserver_stop(s);
    CHECK(dead(pid), "server %d gone after stop", (int)pid);
}

static void test_out_of_order(void) {
    const char *py = script("rev.py",
        "import json, sys\n"
        "buf = []\n"
        "for line in iter(sys.stdin.readline, ''):\n"
        "    buf.append(json.loads(line))\n"
        "    if len(buf) == 5:\n"
        "        for q in reversed(buf):\n"
        "            print(json.dumps({'reward': q['id'] * 1.5, 'id': q['id'], 'x': 'y'}), flush=True)\n"
        "        buf = []\n");
    const char *argv[] = {PY, py, NULL};
    rlvr_err err;
    extserver *s = extserver_start(argv, NULL, &err);
    CHECK(s != NULL, "%s", err.msg);
    if (!s) return;
    extserver_request r[10];
    memset(r, 0, sizeof r);
    double rw[10];
    int rc = extserver_score_batch(s, r, 10, rw, &err);
    CHECK(rc == RLVR_OK, "%s", err.msg);
    for (int i = 0; rc == RLVR_OK && i < 10; i++) CHECK(rw[i] == i * 1.5, "reward %d: %g", i, rw[i]);
    extserver_stop(s);
}

static void test_crash_restart(void) {
    const char *py = script("crash3.py",
        "import json, os, sys\n"
        "for k in range(3):\n"
        "    q = json.loads(sys.stdin.readline())\n"
        "    print(json.dumps({'id': q['id'], 'reward': 2.0 + q['id']}), flush=True)\n"
        "sys.stderr.write('crashing now\\n'); sys.stderr.flush()\n"
        "os._exit(3)\n");
    const char *argv[] = {PY, py, NULL};
    rlvr_err err;
    extserver *s = extserver_start(argv, NULL, &err);
    CHECK(s != NULL, "%s", err.msg);
    if (!s) return;
    extserver_request r[10];
    memset(r, 0, sizeof r);
    double rw[10];
    int rc = extserver_score_batch(s, r, 10, rw, &err);
    CHECK(rc == RLVR_OK, "%s", err.msg);
    for (int i = 0; rc == RLVR_OK && i < 10; i++) CHECK(rw[i] == 2.0 + i, "reward %d: %g", i, rw[i]);
    CHECK(extserver_restarts(s) == 3, "restarts %d, want 3", extserver_restarts(s));
    /* the 4th process answered 1 and is still waiting: a second batch goes on */
    rc = extserver_score_batch(s, r, 2, rw, &err);
    CHECK(rc == RLVR_OK && rw[0] == 2.0 && rw[1] == 3.0, "second batch: %s", err.msg);
    extserver_stop(s);

    /* a server that dies before answering anything: restarts run out */
    const char *py2 = script("die.py", "import sys\nsys.stderr.write('boom: no model file\\n')\nsys.exit(2)\n");
    const char *argv2[] = {PY, py2, NULL};
    extserver_params p = extserver_default_params();
    p.max_restarts = 2;
    s = extserver_start(argv2, &p, &err);
    CHECK(s != NULL, "%s", err.msg);
    if (!s) return;
    rc = extserver_score_batch(s, r, 3, rw, &err);
    CHECK(rc == RLVR_EIO, "always crashing: EIO (got %d)", rc);
    CHECK(strstr(err.msg, "exited with status 2") && strstr(err.msg, "boom: no model file") &&
          strstr(err.msg, "2 restarts"), "message: %s", err.msg);
    CHECK(extserver_restarts(s) == 2, "restarts %d", extserver_restarts(s));
    extserver_stop(s);
}

static void test_timeout(void) {
    const char *py = script("hang.py",
        "import sys, time\n"
        "sys.stdin.readline()\n"
        "sys.stderr.write('thinking...\\n'); sys.stderr.flush()\n"
        "time.sleep(60)\n");
    const char *argv[] = {PY, py, NULL};
    extserver_params p = extserver_default_params();
    p.timeout_s = 1;
    rlvr_err err;
    extserver *s = extserver_start(argv, &p, &err);
    CHECK(s != NULL, "%s", err.msg);
    if (!s) return;
    extserver_request r[2];
    memset(r, 0, sizeof r);
    double rw[2];
    pid_t pid = extserver_pid(s);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = extserver_score_batch(s, r, 2, rw, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double dt = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    CHECK(rc == RLVR_EIO, "timeout: EIO (got %d)", rc);
    CHECK(strstr(err.msg, "no answer within 1.0 s") && strstr(err.msg, "thinking..."), "message: %s", err.msg);
    CHECK(dt >= 0.9 && dt < 5, "took %.2f s", dt);
    CHECK(extserver_pid(s) == 0 && dead(pid), "hung server killed");
    extserver_stop(s);
}

static void test_garbage(void) {
    const char *py = script("garbage.py",
        "import sys\n"
        "sys.stdin.readline()\n"
        "sys.stderr.write('debug: loaded\\n'); sys.stderr.flush()\n"
        "print('hello world', flush=True)\n"
        "sys.stdin.readline()\n");
    const char *argv[] = {PY, py, NULL};
    rlvr_err err;
    extserver *s = extserver_start(argv, NULL, &err);
    CHECK(s != NULL, "%s", err.msg);
    if (!s) return;
    extserver_request r[1];
    memset(r, 0, sizeof r);
    double rw[1];
    int rc = extserver_score_batch(s, r, 1, rw, &err);
    CHECK(rc == RLVR_EFORMAT, "garbage: EFORMAT (got %d)", rc);
    CHECK(strstr(err.msg, "stdout line 1 is not a JSON object: hello world") && strstr(err.msg, "debug: loaded"),
          "message: %s", err.msg);
    extserver_stop(s);

    /* valid JSON, bad content: no reward / unknown id / NaN */
    static const char *bodies[][2] = {
        {"{\"id\": 0}", "\"reward\" missing"},
        {"{\"id\": 5, \"reward\": 1}", "\"id\" missing or not the id"},
        {"{\"id\": 0, \"reward\": \"1\"}", "\"reward\" missing"},
        {"{\"id\": 0.5, \"reward\": 1}", "\"id\" missing or not the id"},
    };
    for (int i = 0; i < 4; i++) {
        char body[512];
        snprintf(body, sizeof body, "import sys\nsys.stdin.readline()\nprint('%s', flush=True)\nsys.stdin.readline()\n", bodies[i][0]);
        const char *argv2[] = {PY, script("bad.py", body), NULL};
        s = extserver_start(argv2, NULL, &err);
        CHECK(s != NULL, "%s", err.msg);
        if (!s) continue;
        rc = extserver_score_batch(s, r, 1, rw, &err);
        CHECK(rc == RLVR_EFORMAT && strstr(err.msg, bodies[i][1]), "%s: rc %d, %s", bodies[i][0], rc, err.msg);
        extserver_stop(s);
    }
}

static void test_cleanup(void) {
    char pidfile[300];
    snprintf(pidfile, sizeof pidfile, "%s/child.pid", dir);
    char body[1024];
    snprintf(body, sizeof body,
        "import json, subprocess, sys\n"
        "c = subprocess.Popen(['sleep', '100'])\n"
        "open('%s', 'w').write(str(c.pid))\n"
        "for line in iter(sys.stdin.readline, ''):\n"
        "    q = json.loads(line)\n"
        "    print(json.dumps({'id': q['id'], 'reward': 0}), flush=True)\n"
        "c.wait()\n", pidfile);   /* ignores stdin EOF: stop must kill it and its child */
    const char *argv[] = {PY, script("forker.py", body), NULL};
    extserver_params p = extserver_default_params();
    p.stop_grace_s = 0.3;
    rlvr_err err;
    extserver *s = extserver_start(argv, &p, &err);
    CHECK(s != NULL, "%s", err.msg);
    if (!s) return;
    extserver_request r[3];
    memset(r, 0, sizeof r);
    double rw[3];
    CHECK(extserver_score_batch(s, r, 3, rw, &err) == RLVR_OK, "%s", err.msg);
    pid_t pid = extserver_pid(s), child = 0;
    FILE *f = fopen(pidfile, "r");
    if (f) { int c; if (fscanf(f, "%d", &c) == 1) child = c; fclose(f); }
    CHECK(child > 0 && !dead(child), "grandchild running");
    extserver_stop(s);
    for (int i = 0; i < 100 && child > 0 && !dead(child); i++) usleep(10000);
    CHECK(dead(pid), "server gone");
    CHECK(child > 0 && dead(child), "grandchild %d gone", (int)child);

    const char *nope[] = {"/nonexistent/reward-server", NULL};
    s = extserver_start(nope, NULL, &err);
    CHECK(s == NULL && err.code == RLVR_EIO && strstr(err.msg, "cannot run"), "missing program: %s", err.msg);
    extserver_stop(s);
    const char *empty[] = {NULL};
    CHECK(extserver_start(empty, NULL, &err) == NULL && err.code == RLVR_EARG, "no command");
}

int main(void) {
    if (!available()) return 0;
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    RUN(test_example_batch);
    RUN(test_out_of_order);
    RUN(test_crash_restart);
    RUN(test_timeout);
    RUN(test_garbage);
    RUN(test_cleanup);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return check_finish("test_extserver");
}
