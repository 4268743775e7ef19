/* test_sandbox.c: the sandbox supervisor, the code reward and the external reward.
 * Every hostile program from docs/reference "Bad inputs" 16-24 runs here and must end
 * inside its time bound with nothing left behind: each hostile program carries a
 * marker in its argv, and /proc is scanned for it after the run. Skips (exit 0, with a
 * visible SKIP line) when bubblewrap cannot run here. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "rewards/sandbox.h"
#include "rewards/code.h"
#include "rewards/reward.h"
#include "rewards/external.h"

#define MARK "# rlvr-hostile-marker\n"

/* Processes whose command line holds the marker (ours never does). */
static int count_marked(void) {
    DIR *d = opendir("/proc");
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        char path[300], buf[8192];
        snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
        int fd = open(path, O_RDONLY);
        if (fd < 0) continue;
        ssize_t k = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (k <= 0) continue;
        for (ssize_t i = 0; i < k; i++) if (!buf[i]) buf[i] = ' ';
        buf[k] = 0;
        if (strstr(buf, "rlvr-hostile-marker")) n++;
    }
    closedir(d);
    return n;
}

/* Waits up to 2 s for marked processes to vanish (namespace teardown is async). */
static int survivors(void) {
    int n = 0;
    for (int i = 0; i < 200; i++) {
        n = count_marked();
        if (n == 0) return 0;
        usleep(10000);
    }
    return n;
}

static sandbox_result run_py(sandbox_params p, const char *code, const char *in) {
    char *src = malloc(strlen(code) + sizeof MARK);
    strcpy(src, MARK);
    strcat(src, code);
    const char *argv[] = { "/usr/bin/python3", "-I", "-S", "-B", "-c", src, NULL };
    sandbox_result r;
    rlvr_err e = { 0 };
    int rc = sandbox_run(&p, argv, in, in ? strlen(in) : 0, &r, &e);
    CHECK(rc == RLVR_OK, "sandbox_run: %s", e.msg);
    free(src);
    return r;
}

static void test_basic(void) {
    sandbox_params p = sandbox_default_params();
    sandbox_result r = run_py(p, "import sys,os\nprint(sys.stdin.read().upper(), end='')\n"
                                 "print(os.getuid(), sorted(os.environ))\nsys.stderr.write('e')\n", "hi\n");
    CHECK(r.exited && r.exit_code == 0, "exit %d sig %d err %s", r.exit_code, r.term_signal, r.err);
    CHECK(strcmp(r.out, "HI\n65534 ['HOME', 'LANG', 'PATH', 'PWD']\n") == 0, "out: %s", r.out);
    CHECK(r.n_err == 1 && r.err[0] == 'e', "err: %s", r.err);
    sandbox_result_free(&r);
    /* a child that never reads a large stdin: no deadlock, no SIGPIPE */
    char *big = malloc(4 << 20);
    memset(big, 'a', 4 << 20);
    big[(4 << 20) - 1] = 0;
    r = run_py(p, "print('ignored')", big);
    CHECK(r.exited && r.exit_code == 0 && strcmp(r.out, "ignored\n") == 0, "big stdin: %d %s", r.exit_code, r.out);
    sandbox_result_free(&r);
    free(big);
    sandbox_result_free(NULL);
}

static void test_fork_bomb(void) {
    sandbox_params p = sandbox_default_params();
    p.wall_s = 2;
    sandbox_result r = run_py(p, "import os\nwhile True:\n    try: os.fork()\n    except OSError: pass\n", NULL);
    CHECK(r.timed_out && r.wall_s < 4, "fork bomb: timed_out %d wall %.2f", r.timed_out, r.wall_s);
    CHECK(survivors() == 0, "fork bomb left processes");
    sandbox_result_free(&r);
}

static void test_memory(void) {
    sandbox_params p = sandbox_default_params();
    sandbox_result r = run_py(p, "x = bytearray(4 << 30)\nprint('allocated')\n", NULL);
    CHECK(!(r.exited && r.exit_code == 0) && r.mem_exceeded && !strstr(r.out, "allocated"),
          "4 GB: exit %d mem %d", r.exit_code, r.mem_exceeded);
    sandbox_result_free(&r);
    r = run_py(p, "l = []\nwhile True: l.append(bytearray(1 << 24))\n", NULL);
    CHECK(!(r.exited && r.exit_code == 0) && r.wall_s < 5, "touch loop: exit %d wall %.2f", r.exit_code, r.wall_s);
    sandbox_result_free(&r);
    r = run_py(p, "import mmap\nm = mmap.mmap(-1, 100 << 30)\nprint('mapped')\n", NULL);
    CHECK(!(r.exited && r.exit_code == 0) && !strstr(r.out, "mapped"), "100 GB mmap: exit %d", r.exit_code);
    sandbox_result_free(&r);
    CHECK(survivors() == 0, "memory hog left processes");
}

static void test_cpu_loop(void) {
    sandbox_params p = sandbox_default_params();
    p.cpu_s = 1;
    p.wall_s = 8;
    sandbox_result r = run_py(p, "while True: pass\n", NULL);
    CHECK(!r.timed_out && r.exited && r.exit_code > 128 && r.wall_s < 4,
          "cpu loop: timed_out %d exit %d wall %.2f", r.timed_out, r.exit_code, r.wall_s);
    sandbox_result_free(&r);
    CHECK(survivors() == 0, "cpu loop left processes");
}

static void test_output_flood(void) {
    sandbox_params p = sandbox_default_params();
    sandbox_result r = run_py(p, "import sys\nwhile True:\n    print('x' * 10000)\n    sys.stderr.write('y' * 10000)\n", NULL);
    CHECK(r.output_truncated && r.n_out + r.n_err == p.out_cap && r.wall_s < 3,
          "flood: trunc %d n %zu wall %.2f", r.output_truncated, r.n_out + r.n_err, r.wall_s);
    sandbox_result_free(&r);
    CHECK(survivors() == 0, "flood left processes");
}

static void test_filesystem(void) {
    char canary[] = "/tmp/rlvr_canary_XXXXXX";
    int fd = mkstemp(canary);
    CHECK(fd >= 0, "mkstemp");
    CHECK(write(fd, "original", 8) == 8, "write canary");
    close(fd);
    char cwd[1024];
    CHECK(getcwd(cwd, sizeof cwd) != NULL, "getcwd");
    char code[4096];
    snprintf(code, sizeof code,
             "import os\n"
             "def w(path):\n"
             "    try:\n"
             "        with open(path, 'w') as f: f.write('pwned')\n"
             "        return 'wrote'\n"
             "    except OSError: return 'denied'\n"
             "def r(path):\n"
             "    try:\n"
             "        with open(path) as f: f.read(); return 'read'\n"
             "    except OSError: return 'denied'\n"
             "print(w('%s'))\n"                     /* lands on the private tmpfs */
             "print(w('/usr/bin/python3'), w('/usr/lib/evil'), w('/etc/evil'), w('%s/evil'), w('/root/evil'))\n"
             "print(r('/etc/shadow'), r('/root/.ssh/id_rsa'), r('%s/Makefile'), os.path.exists('/home'))\n"
             "print(sorted(os.listdir('/')))\n"
             "print(open('/proc/1/environ','rb').read().count(b'='))\n"
             "with open('/tmp/big', 'wb') as f:\n"
             "    try:\n"
             "        f.write(b'x' * (100 << 20)); print('big')\n"
             "    except OSError: print('big-denied')\n",
             canary, cwd, cwd);
    sandbox_params p = sandbox_default_params();
    sandbox_result r = run_py(p, code, NULL);
    CHECK(r.exited, "fs: not exited");
    CHECK(strstr(r.out, "denied denied denied denied denied\n") != NULL, "fs writes: %s", r.out);
    CHECK(strstr(r.out, "denied denied denied False\n") != NULL, "fs reads: %s", r.out);
    CHECK(strstr(r.out, "['bin', 'dev', 'lib', 'lib64', 'proc', 'sbin', 'tmp', 'usr']") != NULL, "root: %s", r.out);
    CHECK(strstr(r.out, "\n0\n") != NULL, "/proc/1/environ not empty: %s", r.out);
    CHECK(strstr(r.out, "\nbig\n") == NULL, "16 MiB FSIZE did not stop a 100 MiB file: %s", r.out);
    char buf[32] = { 0 };
    fd = open(canary, O_RDONLY);
    CHECK(fd >= 0 && read(fd, buf, sizeof buf - 1) == 8 && strcmp(buf, "original") == 0, "canary changed: %s", buf);
    if (fd >= 0) close(fd);
    unlink(canary);
    struct stat st;
    CHECK(stat("/usr/lib/evil", &st) != 0 && stat("/etc/evil", &st) != 0, "host file created");
    sandbox_result_free(&r);
}

static void test_network(void) {
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof a;
    CHECK(s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0 && listen(s, 4) == 0 &&
          getsockname(s, (struct sockaddr *)&a, &al) == 0, "host listener");
    char code[1024];
    snprintf(code, sizeof code,
             "import socket\n"
             "try:\n"
             "    socket.create_connection(('127.0.0.1', %d), timeout=1); print('connected')\n"
             "except OSError: print('net-denied')\n"
             "try:\n"
             "    socket.getaddrinfo('example.com', 80); print('resolved')\n"
             "except OSError: print('dns-denied')\n", ntohs(a.sin_port));
    sandbox_result r = run_py(sandbox_default_params(), code, NULL);
    CHECK(strcmp(r.out, "net-denied\ndns-denied\n") == 0, "network: %s %s", r.out, r.err);
    int c = accept(s, NULL, NULL);
    CHECK(c < 0, "the sandbox reached the host listener");
    if (c >= 0) close(c);
    close(s);
    sandbox_result_free(&r);
}

static void test_sleep_and_signals(void) {
    sandbox_params p = sandbox_default_params();
    p.wall_s = 1.5;
    sandbox_result r = run_py(p, "import signal, time\nsignal.pthread_sigmask(signal.SIG_BLOCK, range(1, 65))\n"
                                 "signal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(3600)\n", NULL);
    CHECK(r.timed_out && r.wall_s < 3, "sleep: timed_out %d wall %.2f", r.timed_out, r.wall_s);
    sandbox_result_free(&r);
    CHECK(survivors() == 0, "sleeper survived");
    /* kill the parent, the init and everyone it can see: only the sandbox dies */
    r = run_py(sandbox_default_params(), "import os\nfor pid in (os.getppid(), 1, -1):\n"
                                         "    try: os.kill(pid, 9)\n    except OSError: pass\nprint('alive')\n", NULL);
    CHECK(!strstr(r.out, "alive") || r.exited, "kill-parent: strange result");
    sandbox_result_free(&r);
    CHECK(survivors() == 0, "kill-parent left processes");
}

static void test_daemon(void) {
    sandbox_params p = sandbox_default_params();
    sandbox_result r = run_py(p, "import os, time\n"
                                 "if os.fork() == 0:\n"
                                 "    os.setsid()\n"
                                 "    if os.fork() == 0:\n"
                                 "        os.close(1); os.close(2); time.sleep(3600)\n"
                                 "    os._exit(0)\n"
                                 "time.sleep(0.2)\nprint('main done')\n", NULL);
    CHECK(r.exited && r.exit_code == 0 && strcmp(r.out, "main done\n") == 0 && r.wall_s < 3,
          "daemon: exit %d out %s wall %.2f", r.exit_code, r.out, r.wall_s);
    sandbox_result_free(&r);
    CHECK(survivors() == 0, "background daemon outlived the run");
}

static double score(const char *completion, const char *ref, int *np, int *nt) {
    code_params p = code_default_params();
    double rw = -1;
    rlvr_err e = { 0 };
    int rc = code_score(&p, completion, strlen(completion), ref, strlen(ref), &rw, np, nt, &e);
    CHECK(rc == RLVR_OK, "code_score: %s", e.msg);
    return rw;
}

static void test_code_reward(void) {
    const char *ref = "[{\"input\": \"1 2\\n\", \"output\": \"3\\n\"},"
                      " {\"input\": \"5 7\\n\", \"output\": \"12\"},"
                      " {\"input\": \"40 2\\n\", \"output\": \"42  \\n\\n\"}]";
    int np = -1, nt = -1;
    const char *good = "Here:\n```python\nprint('wrong')\n```\nFixed:\n```python\n"
                       "a, b = map(int, input().split())\nprint(a + b)\n```\nDone.";
    CHECK_CLOSE(score(good, ref, &np, &nt), 1.0, 0, 0, "correct");
    CHECK(np == 3 && nt == 3, "np %d nt %d", np, nt);
    CHECK_CLOSE(score("```py\nprint(0)\n```", ref, &np, &nt), 0.0, 0, 0, "wrong");
    const char *partial = "```python\na, b = map(int, input().split())\nprint(a + b if a < 10 else 0)\n```";
    CHECK_CLOSE(score(partial, ref, &np, &nt), 2.0 / 3, 1e-12, 0, "partial");
    CHECK(np == 2, "np %d", np);
    CHECK_CLOSE(score("a,b=map(int,input().split());print(a+b)", ref, NULL, NULL), 1.0, 0, 0, "unfenced");
    /* claims and exit codes earn nothing */
    CHECK_CLOSE(score("print('all tests passed')", ref, NULL, NULL), 0.0, 0, 0, "all tests passed");
    CHECK_CLOSE(score("import sys\nprint(3)\nsys.exit(1)", "[{\"input\":\"\",\"output\":\"3\"}]", NULL, NULL), 0.0, 0, 0, "exit 1");
    CHECK_CLOSE(score("raise ValueError()", "[{\"input\":\"\",\"output\":\"\"}]", NULL, NULL), 0.0, 0, 0, "raise, empty expected");
    CHECK_CLOSE(score("pass", "{\"inputs\":[\"\"],\"outputs\":[\"\"]}", NULL, NULL), 1.0, 0, 0, "inputs/outputs form");
    CHECK_CLOSE(score("open('reward.txt','w').write('1.0')\nprint('all tests passed')", ref, NULL, NULL), 0.0, 0, 0, "reward.txt");
    CHECK_CLOSE(score("import os\nos._exit(0)", ref, NULL, NULL), 0.0, 0, 0, "os._exit(0)");
    CHECK_CLOSE(score("```python\nwhile True: pass\n", "[{\"input\":\"\",\"output\":\"1\"}]", NULL, NULL), 0.0, 0, 0, "unclosed fence, loop");
    /* malformed references are errors, not zero rewards */
    code_params p = code_default_params();
    double rw;
    rlvr_err e = { 0 };
    const char *bad[] = { "", "{", "[]", "[{\"input\": 1, \"output\": \"x\"}]", "{\"inputs\":[\"a\"],\"outputs\":[]}", "7" };
    for (int i = 0; i < 6; i++)
        CHECK(code_score(&p, "pass", 4, bad[i], strlen(bad[i]), &rw, NULL, NULL, &e) == RLVR_EFORMAT, "bad ref %d", i);
    code_params nob = code_default_params();
    nob.sb.bwrap = "/nonexistent/bwrap";
    CHECK(code_score(&nob, "pass", 4, bad[5], 1, &rw, NULL, NULL, &e) == RLVR_EFORMAT, "ref checked first");
    const char *one = "[{\"input\":\"\",\"output\":\"\"}]";
    CHECK(code_score(&nob, "pass", 4, one, strlen(one), &rw, NULL, NULL, &e) == RLVR_EUNSUPPORTED,
          "missing bwrap must be an error, not a 0: %s", e.msg);
    CHECK(code_output_equal("a \r\nb\n\n", 7, "a\nb", 3) == 1, "trailing ws");
    CHECK(code_output_equal("a\n\nb", 4, "a\nb", 3) == 0, "inner blank line");
    CHECK(code_output_equal(" a", 2, "a", 1) == 0, "leading ws");
    CHECK(code_output_equal("", 0, "\n \n", 3) == 1, "empty");
    CHECK(code_output_equal("ab", 2, "a", 1) == 0 && code_output_equal("a", 1, "a\nb", 3) == 0, "prefix");
    CHECK(survivors() == 0, "code reward left processes");
}

static char tmpdir[] = "/tmp/rlvr_ext_XXXXXX";

static const char *script(const char *name, const char *body) {
    static char path[8][256];
    static int k;
    char *s = path[k++ % 8];
    snprintf(s, 256, "%s/%s", tmpdir, name);
    FILE *f = fopen(s, "w");
    CHECK(f != NULL, "create %s", s);
    if (f) { fputs(body, f); fclose(f); }
    chmod(s, 0755);
    return s;
}

static int ext(int isolate, const char *path, double wall, external_result *out, rlvr_err *e,
               const char *completion, size_t n) {
    external_params p = external_default_params();
    const char *argv[] = { path, NULL };
    const char *pyargv[] = { "/usr/bin/python3", path, NULL };
    const char *binds[] = { tmpdir, NULL };
    size_t len = strlen(path);
    p.argv = len > 3 && strcmp(path + len - 3, ".py") == 0 ? pyargv : argv;
    p.sb.isolate = isolate;
    p.sb.wall_s = wall;
    if (isolate) p.sb.ro_binds = binds;
    memset(e, 0, sizeof *e);
    return external_score(&p, "What is 2+2?", completion, n, "4", 1, "test", "{\"k\": 1}", out, e);
}

static void test_external(void) {
    CHECK(mkdtemp(tmpdir) != NULL, "mkdtemp");
    chmod(tmpdir, 0755);
    const char *good = script("good.py",
        "import sys, json\nd = json.loads(sys.stdin.readline())\nprint('log line')\n"
        "print(json.dumps({'reward': 0.5, 'len': len(d['completion']), 'k': d['extra']['k'], 'src': d['data_source'],"
         " 'ok': int(d['prompt'] == 'What is 2+2?' and d['reference'] == '4')}))\n");
    const char *sh = script("r.sh", "#!/bin/sh\ncat >/dev/null\necho '{\"reward\": 0.5}'\n");
    external_result r;
    rlvr_err e;
    for (int iso = 0; iso < 2; iso++) {
        int rc = ext(iso, good, 10, &r, &e, "ab\xff\0c", 5);
        CHECK(rc == RLVR_OK && r.reward == 0.5, "good.py isolate=%d: rc %d %s", iso, rc, e.msg);
        CHECK(r.n_fields == 3 && strcmp(r.name[0], "len") == 0 && r.value[0] == 5 && r.value[1] == 1 &&
              strcmp(r.name[2], "ok") == 0 && r.value[2] == 1, "fields: n %d", r.n_fields);
        rc = ext(iso, sh, 10, &r, &e, "x", 1);
        CHECK(rc == RLVR_OK && r.reward == 0.5, "r.sh isolate=%d: rc %d %s", iso, rc, e.msg);
    }
    struct { const char *name, *body, *msg; int code; double wall; } bad[] = {
        { "nojson.sh", "#!/bin/sh\necho hello\n", "not a JSON object", RLVR_EFORMAT, 10 },
        { "noreward.sh", "#!/bin/sh\necho '{\"score\": 1}'\n", "\"reward\" missing", RLVR_EFORMAT, 10 },
        { "inf.sh", "#!/bin/sh\necho '{\"reward\": 1e999}'\n", "not finite", RLVR_EFORMAT, 10 },
        { "str.sh", "#!/bin/sh\necho '{\"reward\": \"1\"}'\n", "not a number", RLVR_EFORMAT, 10 },
        { "empty.sh", "#!/bin/sh\necho oops >&2\n", "oops", RLVR_EFORMAT, 10 },
        { "fail.sh", "#!/bin/sh\necho boom-on-stderr >&2\necho '{\"reward\": 1}'\nexit 3\n", "boom-on-stderr", RLVR_EIO, 10 },
        { "slow.sh", "#!/bin/sh\necho sleeping >&2\nexec sleep 30\n", "timed out", RLVR_EIO, 1 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *path = script(bad[i].name, bad[i].body);
        int rc = ext(0, path, bad[i].wall, &r, &e, "x", 1);
        CHECK(rc == bad[i].code && strstr(e.msg, bad[i].msg), "%s: rc %d msg %s", bad[i].name, rc, e.msg);
    }
    external_params p = external_default_params();
    CHECK(external_score(&p, "", "", 0, "", 0, "", NULL, &r, &e) == RLVR_EARG, "no argv");
    const char *missing[] = { "/nonexistent/reward", NULL };
    p.argv = missing;
    CHECK(external_score(&p, "", "", 0, "", 0, "", NULL, &r, &e) == RLVR_EIO && strstr(e.msg, "cannot execute"),
          "missing program: %s", e.msg);
    const char *argv[] = { sh, NULL };
    p.argv = argv;
    CHECK(external_score(&p, "", "", 0, "", 0, "", "[1]", &r, &e) == RLVR_EARG, "extra not an object");
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    CHECK(system(cmd) == 0, "cleanup");
}

/* the "code" reward of the registry is this sandboxed scorer */
static void test_code_via_registry(void) {
    const reward_fn *f = reward_registry_find("code");
    CHECK(f != NULL, "code reward not registered");
    if (!f) return;
    const char *ref = "[{\"input\": \"2 3\\n\", \"output\": \"5\\n\"}, {\"input\": \"10 -4\\n\", \"output\": \"6\\n\"}]";
    const char *good = "```python\na, b = map(int, input().split())\nprint(a + b)\n```";
    const char *bad = "```python\nprint('all tests passed')\n```";
    reward_input in = {0};
    in.reference = ref, in.reference_n = strlen(ref), in.n_tokens = -1;
    reward_output out;
    rlvr_err e = {0};
    in.completion = good, in.completion_n = strlen(good);
    CHECK(reward_score(f, &in, &out, &e) == 0 && out.reward == 1.0, "correct solution: %s reward %g", e.msg, out.reward);
    in.completion = bad, in.completion_n = strlen(bad);
    CHECK(reward_score(f, &in, &out, &e) == 0 && out.reward == 0.0, "cheating solution: %s reward %g", e.msg, out.reward);
    /* parameters keep the sandbox unless isolate=0 is asked for: inside it the program
     * runs in /tmp as uid 65534 and sees no /home */
    const char *where = "import os\nprint(os.getcwd(), os.getuid() == 65534, os.path.exists('/home'))";
    const char *wref = "[{\"input\": \"\", \"output\": \"/tmp True False\"}]";
    in.completion = where, in.completion_n = strlen(where);
    in.reference = wref, in.reference_n = strlen(wref);
    reward_fn *g = NULL;
    CHECK(reward_create("code[timeout=5,memory_mb=256,max_tests=4]", &g, &e) == 0, "%s", e.msg);
    CHECK(g && reward_score(g, &in, &out, &e) == 0 && out.reward == 1.0, "parameterised code reward is sandboxed: %s reward %g", e.msg, out.reward);
    reward_free(g);
    g = NULL;
    CHECK(reward_create("code[isolate=0]", &g, &e) == 0, "%s", e.msg);
    CHECK(g && reward_score(g, &in, &out, &e) == 0 && out.reward == 0.0, "isolate=0 is outside the sandbox: %s reward %g", e.msg, out.reward);
    reward_free(g);
}

/* many quick sandboxes in a row: a correct program must score 1 every time (bwrap
 * failing to start is retried, never scored as a failed test) */
static void test_rapid_runs_score_right(void) {
    const reward_fn *f = reward_registry_find("code");
    const char *ref = "[{\"input\": \"1\\n\", \"output\": \"2\\n\"}, {\"input\": \"5\\n\", \"output\": \"6\\n\"}, "
                      "{\"input\": \"9\\n\", \"output\": \"10\\n\"}]";
    const char *good = "print(int(input()) + 1)";
    reward_input in = {0};
    in.reference = ref, in.reference_n = strlen(ref), in.completion = good, in.completion_n = strlen(good), in.n_tokens = -1;
    int wrong = 0;
    for (int i = 0; i < 40; i++) {
        reward_output out;
        rlvr_err e = {0};
        if (reward_score(f, &in, &out, &e) || out.reward != 1.0) wrong++;
    }
    CHECK(wrong == 0, "%d of 40 quick runs of a correct program did not score 1", wrong);
}

int main(void) {
    rlvr_err e = { 0 };
    if (sandbox_available(&e) != RLVR_OK) {
        printf("SKIP: bubblewrap unavailable: %s\n", e.msg);
        return 0;
    }
    CHECK(count_marked() == 0, "marked processes before the tests");
    RUN(test_basic);
    RUN(test_fork_bomb);
    RUN(test_memory);
    RUN(test_cpu_loop);
    RUN(test_output_flood);
    RUN(test_filesystem);
    RUN(test_network);
    RUN(test_sleep_and_signals);
    RUN(test_daemon);
    RUN(test_code_reward);
    RUN(test_external);
    RUN(test_code_via_registry);
    RUN(test_rapid_runs_score_right);
    return check_finish("test_sandbox");
}
