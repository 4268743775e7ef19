/* tblog.c: TensorBoard event files by hand. An Event is encoded field by field as
 * proto3 does it (fields in number order, zero-valued plain fields left out), framed as
 * a TFRecord and written with one write(2). The field numbers come from
 * tensorboard/compat/proto/{event,summary}.proto:
 *   Event   { double wall_time = 1; int64 step = 2; string file_version = 3;
 *             Summary summary = 5; SourceMetadata source_metadata = 10; }
 *   Summary { repeated Value value = 1; }   Value { string tag = 1; float simple_value = 2; }
 *   SourceMetadata { string writer = 1; } */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "core/err.h"
#include "core/fs.h"
#include "train/tblog.h"
#include "core/utf8.h"

/* wire types and keys: (field << 3) | type */
enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };
#define KEY(field, type) (((field) << 3) | (type))

typedef struct {
    unsigned char *p;
    size_t n, cap;
} buf;

struct tblog {
    int fd;
    int failed;          /* first error's status; 0 while healthy */
    char failed_msg[sizeof(((rlvr_err *)0)->msg)];
    int open_event;      /* 1 between begin and end */
    long long step;
    double wall_time;
    int n_values;
    buf values;          /* the open event's Summary body: encoded Value fields */
    buf rec;             /* scratch: the whole record being written */
    char path[];
};

/* ---- CRC-32C ------------------------------------------------------------------------ */

/* Bit by bit: a logged event is ~100 bytes, so a table buys nothing, and this form is
 * checked against the standard vectors in tests/test_tblog.c. */
uint32_t tblog_crc32c(const void *data, size_t n) {
    const unsigned char *s = data;
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= s[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
    }
    return ~c;
}

uint32_t tblog_masked_crc32c(const void *data, size_t n) {
    uint32_t c = tblog_crc32c(data, n);
    return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

/* ---- encoding ----------------------------------------------------------------------- */

static int buf_reserve(buf *b, size_t more) {
    if (more > SIZE_MAX - b->n) return -1;
    if (b->n + more <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + more) {
        if (cap > SIZE_MAX / 2) return -1;
        cap *= 2;
    }
    unsigned char *p = realloc(b->p, cap);
    if (!p) return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

/* The put_* helpers assume room was reserved; sizes are computed first. */
static void put_bytes(buf *b, const void *s, size_t n) {
    if (n) memcpy(b->p + b->n, s, n);
    b->n += n;
}

static size_t varint_len(uint64_t v) {
    size_t k = 1;
    while (v >= 0x80) { v >>= 7; k++; }
    return k;
}

static void put_varint(buf *b, uint64_t v) {
    while (v >= 0x80) { b->p[b->n++] = (unsigned char)(v | 0x80); v >>= 7; }
    b->p[b->n++] = (unsigned char)v;
}

static void put_le(buf *b, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; i++) b->p[b->n++] = (unsigned char)(v >> (8 * i));
}

static uint64_t double_bits(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }
static uint32_t float_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

/* Length of a length-delimited field with an n-byte payload (one-byte key). */
static size_t len_field(size_t n) { return 1 + varint_len(n) + n; }

/* ---- writing ------------------------------------------------------------------------ */

/* Marks t failed with "PATH: what failed: why" (RLVR_EIO) and returns that error. */
static int fail(tblog *t, rlvr_err *err, const char *what, const char *why) {
    t->failed = RLVR_EIO;
    snprintf(t->failed_msg, sizeof t->failed_msg, "%s: %s failed: %s", t->path, what, why);
    return errf(err, RLVR_EIO, "%s", t->failed_msg);
}

static int refuse_failed(const tblog *t, rlvr_err *err) {
    return errf(err, t->failed, "%s (an earlier write failed; nothing more is written)", t->failed_msg);
}

/* Frames event[0..n) as a TFRecord and writes it with one write(2) (retried for EINTR
 * and short writes). */
static int write_record(tblog *t, const unsigned char *event, size_t n, rlvr_err *err) {
    buf *r = &t->rec;
    r->n = 0;
    if (buf_reserve(r, n + 16)) return errf(err, RLVR_ENOMEM, "%s: out of memory for a record", t->path);
    put_le(r, (uint64_t)n, 8);
    put_le(r, tblog_masked_crc32c(r->p, 8), 4);
    put_bytes(r, event, n);
    put_le(r, tblog_masked_crc32c(event, n), 4);
    for (size_t off = 0; off < r->n;) {
        ssize_t k = write(t->fd, r->p + off, r->n - off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return fail(t, err, "write", k < 0 ? strerror(errno) : "no progress");
        off += (size_t)k;
    }
    return RLVR_OK;
}

/* Encodes the Event header fields shared by both kinds of event: wall_time and step,
 * each left out when zero (proto3 implicit presence: all-zero bits). */
static size_t header_len(double wall_time, long long step) {
    return (double_bits(wall_time) ? 9 : 0) + (step ? 1 + varint_len((uint64_t)step) : 0);
}

static void put_header(buf *b, double wall_time, long long step) {
    if (double_bits(wall_time)) { put_varint(b, KEY(1, WT_I64)); put_le(b, double_bits(wall_time), 8); }
    if (step) { put_varint(b, KEY(2, WT_VARINT)); put_varint(b, (uint64_t)step); }
}

/* The first event: wall_time, file_version "brain.Event:2", source_metadata {writer}. */
static int write_version(tblog *t, double wall_time, rlvr_err *err) {
    static const char version[] = "brain.Event:2", writer[] = "rlvr";
    size_t nv = sizeof version - 1, nw = sizeof writer - 1;
    unsigned char mem[64];
    buf b = { mem, 0, sizeof mem };
    put_header(&b, wall_time, 0);
    put_varint(&b, KEY(3, WT_LEN)); put_varint(&b, nv); put_bytes(&b, version, nv);
    put_varint(&b, KEY(10, WT_LEN)); put_varint(&b, len_field(nw));
    put_varint(&b, KEY(1, WT_LEN)); put_varint(&b, nw); put_bytes(&b, writer, nw);
    return write_record(t, b.p, b.n, err);
}

/* Creates path (excl: only if new, else *exists = 1 and NULL without an error) and
 * writes the first event. When that fails, the file is removed only in excl mode,
 * where we know we made it: a path given to tblog_open_file may be someone else's
 * (a device, say) and is never unlinked. */
static tblog *open_path(const char *path, int excl, int *exists, double wall_time, rlvr_err *err) {
    size_t np = strlen(path);
    tblog *t = calloc(1, sizeof *t + np + 1);
    if (!t) { errf(err, RLVR_ENOMEM, "%s: out of memory", path); return NULL; }
    memcpy(t->path, path, np + 1);
    t->fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (excl ? O_EXCL : O_TRUNC), 0644);
    if (t->fd < 0) {
        int e = errno;
        free(t);
        if (excl && e == EEXIST) *exists = 1;
        else errf(err, RLVR_EIO, "%s: cannot create: %s", path, strerror(e));
        return NULL;
    }
    if (write_version(t, wall_time, err)) {
        close(t->fd);
        if (excl) unlink(path);
        free(t->rec.p);
        free(t);
        return NULL;
    }
    return t;
}

double tblog_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

tblog *tblog_open_file(const char *path, double wall_time, rlvr_err *err) {
    if (!path || !path[0]) { errf(err, RLVR_EARG, "tblog_open_file: no path"); return NULL; }
    int exists = 0;
    return open_path(path, 0, &exists, wall_time, err);
}

tblog *tblog_open(const char *dir, rlvr_err *err) {
    if (!dir || !dir[0]) { errf(err, RLVR_EARG, "tblog_open: no directory"); return NULL; }
    if (fs_mkdir_p(dir, err)) return NULL;
    char host[256] = "localhost";
    if (gethostname(host, sizeof host) != 0 || !host[0]) snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = 0;
    for (char *c = host; *c; c++)
        if (*c == '/') *c = '_';
    double now = tblog_now();
    size_t cap = strlen(dir) + strlen(host) + 64;
    char *path = malloc(cap);
    if (!path) { errf(err, RLVR_ENOMEM, "%s: out of memory", dir); return NULL; }
    tblog *t = NULL;
    int exists = 1;
    for (int k = 0; k < 100 && exists; k++) {
        int w = snprintf(path, cap, "%s/events.out.tfevents.%010lld.%s", dir, (long long)now, host);
        if (k) snprintf(path + w, cap - (size_t)w, ".%d", k);
        exists = 0;
        t = open_path(path, 1, &exists, now, err);
    }
    if (exists) errf(err, RLVR_EIO, "%s: 100 event files of this second already exist", path);
    free(path);
    return t;
}

const char *tblog_path(const tblog *t) { return t ? t->path : NULL; }

int tblog_begin(tblog *t, long long step, double wall_time, rlvr_err *err) {
    if (!t) return errf(err, RLVR_EARG, "tblog_begin: no writer");
    if (t->failed) return refuse_failed(t, err);
    if (t->open_event) return errf(err, RLVR_EARG, "%s: tblog_begin(step %lld) while the event of step %lld is open", t->path, step, t->step);
    t->open_event = 1;
    t->step = step;
    t->wall_time = wall_time;
    t->n_values = 0;
    t->values.n = 0;
    return RLVR_OK;
}

int tblog_add(tblog *t, const char *tag, double value, rlvr_err *err) {
    if (!t) return errf(err, RLVR_EARG, "tblog_add: no writer");
    if (t->failed) return refuse_failed(t, err);
    if (!t->open_event) return errf(err, RLVR_EARG, "%s: tblog_add(%.64s) outside tblog_begin/tblog_end", t->path, tag ? tag : "(null)");
    size_t nt = tag ? strnlen(tag, TBLOG_TAG_MAX + 1) : 0;
    if (nt == 0 || nt > TBLOG_TAG_MAX)
        return errf(err, RLVR_EARG, "%s: tag must be 1..%d bytes", t->path, TBLOG_TAG_MAX);
    size_t bad = utf8_valid_prefix(tag, nt);
    if (bad != nt) return errf(err, RLVR_EARG, "%s: tag '%.64s' is not valid UTF-8 at byte %zu", t->path, tag, bad);
    size_t body = len_field(nt) + 5; /* tag, simple_value */
    if (buf_reserve(&t->values, len_field(body))) return errf(err, RLVR_ENOMEM, "%s: out of memory", t->path);
    buf *b = &t->values;
    put_varint(b, KEY(1, WT_LEN)); put_varint(b, body);              /* Summary.value */
    put_varint(b, KEY(1, WT_LEN)); put_varint(b, nt); put_bytes(b, tag, nt); /* Value.tag */
    put_varint(b, KEY(2, WT_I32)); put_le(b, float_bits((float)value), 4);  /* Value.simple_value */
    t->n_values++;
    return RLVR_OK;
}

int tblog_end(tblog *t, rlvr_err *err) {
    if (!t) return errf(err, RLVR_EARG, "tblog_end: no writer");
    if (t->failed) return refuse_failed(t, err);
    if (!t->open_event) return errf(err, RLVR_EARG, "%s: tblog_end without tblog_begin", t->path);
    t->open_event = 0;
    if (t->n_values == 0) return RLVR_OK;
    size_t n = header_len(t->wall_time, t->step) + len_field(t->values.n);
    buf ev = { NULL, 0, 0 };
    if (buf_reserve(&ev, n)) return errf(err, RLVR_ENOMEM, "%s: out of memory", t->path);
    put_header(&ev, t->wall_time, t->step);
    put_varint(&ev, KEY(5, WT_LEN)); put_varint(&ev, t->values.n); put_bytes(&ev, t->values.p, t->values.n);
    int rc = write_record(t, ev.p, ev.n, err);
    free(ev.p);
    return rc;
}

int tblog_scalar(tblog *t, const char *tag, long long step, double value, double wall_time, rlvr_err *err) {
    int rc = tblog_begin(t, step, wall_time, err);
    if (rc) return rc;
    if ((rc = tblog_add(t, tag, value, err))) { t->open_event = 0; return rc; }
    return tblog_end(t, err);
}

int tblog_flush(tblog *t, rlvr_err *err) {
    if (!t) return errf(err, RLVR_EARG, "tblog_flush: no writer");
    if (t->failed) return refuse_failed(t, err);
    if (fsync(t->fd) != 0) return fail(t, err, "fsync", strerror(errno));
    return RLVR_OK;
}

int tblog_close(tblog *t, rlvr_err *err) {
    if (!t) return RLVR_OK;
    int rc = t->failed ? errf(err, t->failed, "%s", t->failed_msg) : RLVR_OK;
    if (close(t->fd) != 0 && !rc) rc = errf(err, RLVR_EIO, "%s: close failed: %s", t->path, strerror(errno));
    free(t->values.p);
    free(t->rec.p);
    free(t);
    return rc;
}
