/* fs.c: atomic file replacement, bounded reads and mkdir -p on POSIX. No buffering
 * layer and no path manipulation beyond finding a file's directory; nothing here
 * prints or retries beyond EINTR. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include "core/err.h"
#include "core/fs.h"

struct fs_atomic {
    int fd;
    int failed; /* a write failed: commit must not publish a partial file */
    char *path;
    char *tmp;
};

static int atomic_open(const char *path, fs_atomic **out, rlvr_err *err) {
    *out = NULL;
    if (!path || !*path) return errf(err, RLVR_EARG, "fs_atomic_open: empty path");
    size_t n = strlen(path);
    fs_atomic *f = calloc(1, sizeof *f);
    char *p = malloc(n + 1), *tmp = malloc(n + 32);
    if (!f || !p || !tmp) {
        free(f), free(p), free(tmp);
        return errf(err, RLVR_ENOMEM, "%s: out of memory", path);
    }
    memcpy(p, path, n + 1);
    snprintf(tmp, n + 32, "%s.tmp.%ld", path, (long)getpid());
    int fd;
    do fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        int rc = errf(err, RLVR_EIO, "%s: cannot create temp file '%s': %s", path, tmp, strerror(errno));
        free(f), free(p), free(tmp);
        return rc;
    }
    f->fd = fd;
    f->path = p;
    f->tmp = tmp;
    *out = f;
    return RLVR_OK;
}

fs_atomic *fs_atomic_open(const char *path, rlvr_err *err) {
    fs_atomic *f;
    atomic_open(path, &f, err);
    return f;
}

int fs_atomic_write(fs_atomic *f, const void *data, size_t n, rlvr_err *err) {
    if (!f || (!data && n)) return errf(err, RLVR_EARG, "fs_atomic_write: NULL argument");
    if (f->failed) return errf(err, RLVR_EIO, "%s: an earlier write failed", f->path);
    const char *p = data;
    while (n) {
        size_t chunk = n < ((size_t)1 << 30) ? n : ((size_t)1 << 30);
        ssize_t w = write(f->fd, p, chunk);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            f->failed = 1;
            return errf(err, RLVR_EIO, "%s: write to '%s' failed: %s", f->path, f->tmp,
                        w < 0 ? strerror(errno) : "wrote nothing");
        }
        p += w;
        n -= (size_t)w;
    }
    return RLVR_OK;
}

static void atomic_free(fs_atomic *f) {
    free(f->path);
    free(f->tmp);
    free(f);
}

void fs_atomic_abort(fs_atomic *f) {
    if (!f) return;
    if (f->fd >= 0) close(f->fd);
    unlink(f->tmp);
    atomic_free(f);
}

/* fsync the directory holding path, so the rename itself survives a crash. */
static int fsync_dir(const char *path, rlvr_err *err) {
    const char *slash = strrchr(path, '/');
    char *dir;
    if (!slash) dir = strdup(".");
    else if (slash == path) dir = strdup("/");
    else dir = strndup(path, (size_t)(slash - path));
    if (!dir) return errf(err, RLVR_ENOMEM, "%s: out of memory", path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        int rc = errf(err, RLVR_EIO, "%s: cannot open directory '%s' to fsync it: %s", path, dir,
                      strerror(errno));
        free(dir);
        return rc;
    }
    int rc = RLVR_OK;
    /* Some file systems cannot fsync a directory; that is not our failure to report. */
    if (fsync(fd) != 0 && errno != EINVAL && errno != ENOTSUP)
        rc = errf(err, RLVR_EIO, "%s: fsync of directory '%s' failed: %s", path, dir, strerror(errno));
    close(fd);
    free(dir);
    return rc;
}

int fs_atomic_commit(fs_atomic *f, rlvr_err *err) {
    if (!f) return errf(err, RLVR_EARG, "fs_atomic_commit: NULL handle");
    int rc = RLVR_OK;
    if (f->failed) {
        rc = errf(err, RLVR_EIO, "%s: not committed because an earlier write failed", f->path);
    } else if (fsync(f->fd) != 0) {
        rc = errf(err, RLVR_EIO, "%s: fsync of '%s' failed: %s", f->path, f->tmp, strerror(errno));
    }
    int fd = f->fd;
    f->fd = -1;
    if (close(fd) != 0 && !rc)
        rc = errf(err, RLVR_EIO, "%s: close of '%s' failed: %s", f->path, f->tmp, strerror(errno));
    if (!rc && rename(f->tmp, f->path) != 0)
        rc = errf(err, RLVR_EIO, "%s: rename from '%s' failed: %s", f->path, f->tmp, strerror(errno));
    if (rc) {
        fs_atomic_abort(f);
        return rc;
    }
    rc = fsync_dir(f->path, err);
    atomic_free(f);
    return rc;
}

int fs_write_atomic(const char *path, const void *data, size_t n, rlvr_err *err) {
    fs_atomic *f;
    int rc = atomic_open(path, &f, err);
    if (rc) return rc;
    rc = fs_atomic_write(f, data, n, err);
    if (rc) {
        fs_atomic_abort(f);
        return rc;
    }
    return fs_atomic_commit(f, err);
}

int fs_read_all(const char *path, size_t max_bytes, char **out, size_t *n, rlvr_err *err) {
    if (!out) return errf(err, RLVR_EARG, "fs_read_all: NULL output");
    *out = NULL;
    if (n) *n = 0;
    if (!path || !*path) return errf(err, RLVR_EARG, "fs_read_all: empty path");
    if (max_bytes >= SIZE_MAX - 1) max_bytes = SIZE_MAX - 2;
    int fd;
    do fd = open(path, O_RDONLY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) return errf(err, RLVR_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int rc = errf(err, RLVR_EIO, "%s: cannot stat: %s", path, strerror(errno));
        close(fd);
        return rc;
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return errf(err, RLVR_EIO, "%s: cannot read: %s", path, strerror(EISDIR));
    }
    if (S_ISREG(st.st_mode) && (unsigned long long)st.st_size > max_bytes) {
        close(fd);
        return errf(err, RLVR_EIO, "%s: file is %lld bytes, more than the limit of %zu bytes", path,
                    (long long)st.st_size, max_bytes);
    }
    /* Size the buffer from st_size when there is one, but trust only what read returns. */
    size_t cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 4096, len = 0;
    if (cap > max_bytes + 1) cap = max_bytes + 1;
    if (cap < 64) cap = 64;
    char *buf = malloc(cap + 1);
    if (!buf) {
        close(fd);
        return errf(err, RLVR_ENOMEM, "%s: out of memory for %zu bytes", path, cap);
    }
    for (;;) {
        if (len == cap) {
            if (cap > max_bytes) break; /* read max_bytes + 1: too large */
            size_t ncap = cap > (SIZE_MAX - 1) / 2 ? SIZE_MAX - 2 : cap * 2;
            if (ncap > max_bytes + 1) ncap = max_bytes + 1;
            char *nb = realloc(buf, ncap + 1);
            if (!nb) {
                free(buf);
                close(fd);
                return errf(err, RLVR_ENOMEM, "%s: out of memory for %zu bytes", path, ncap);
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int rc = errf(err, RLVR_EIO, "%s: read failed: %s", path, strerror(errno));
            free(buf);
            close(fd);
            return rc;
        }
        if (r == 0) break;
        len += (size_t)r;
    }
    close(fd);
    if (len > max_bytes) {
        free(buf);
        return errf(err, RLVR_EIO, "%s: file is more than the limit of %zu bytes", path, max_bytes);
    }
    buf[len] = 0;
    *out = buf;
    if (n) *n = len;
    return RLVR_OK;
}

int fs_mkdir_p(const char *path, rlvr_err *err) {
    if (!path || !*path) return errf(err, RLVR_EARG, "fs_mkdir_p: empty path");
    char *buf = strdup(path);
    if (!buf) return errf(err, RLVR_ENOMEM, "%s: out of memory", path);
    int rc = RLVR_OK;
    size_t n = strlen(buf);
    for (size_t i = 1; i <= n && !rc; i++) {
        if (buf[i] != '/' && buf[i] != 0) continue;
        if (buf[i - 1] == '/') continue; /* "a//b" or a trailing slash */
        char save = buf[i];
        buf[i] = 0;
        if (mkdir(buf, 0755) != 0) {
            int e = errno;
            struct stat st;
            if (e != EEXIST)
                rc = errf(err, RLVR_EIO, "%s: cannot create directory '%s': %s", path, buf, strerror(e));
            else if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
                rc = errf(err, RLVR_EIO, "%s: cannot create directory '%s': %s", path, buf,
                          strerror(ENOTDIR));
        }
        buf[i] = save;
    }
    free(buf);
    return rc;
}

int fs_exists(const char *path) {
    struct stat st;
    return path && stat(path, &st) == 0;
}
