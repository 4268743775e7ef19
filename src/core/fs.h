/* fs.h: the few file operations rlvr needs, done carefully: atomic replacement
 * (write a temp file, fsync, rename, fsync the directory), bounded whole-file reads
 * and mkdir -p. POSIX only. Every error message names the path and strerror. */
#ifndef RLVR_CORE_FS_H
#define RLVR_CORE_FS_H
#include <stddef.h>
#include "rlvr.h"

/* Replaces (or creates) path with data[0..n) atomically: readers see the old file
 * or the new one, never a mix, even across a crash. Writes "path.tmp.PID", fsyncs
 * it, renames it over path and fsyncs the directory. On failure the temp file is
 * removed and the old file is untouched. The new file gets mode 0644 & ~umask. */
int fs_write_atomic(const char *path, const void *data, size_t n, rlvr_err *err);

/* Streaming form of fs_write_atomic, for files too large to build in memory
 * (checkpoints). open creates the temp file ("path.tmp.PID"); write appends; commit
 * fsyncs, renames over path and fsyncs the directory; abort removes the temp file.
 * Both commit and abort free the handle, whatever happens: after a failed write call
 * commit (which then fails and cleans up) or abort. abort accepts NULL.
 * Two handles for one path in one process would share the temp name: don't. */
typedef struct fs_atomic fs_atomic;

/* NULL on failure (err says why). */
fs_atomic *fs_atomic_open(const char *path, rlvr_err *err);
int fs_atomic_write(fs_atomic *f, const void *data, size_t n, rlvr_err *err);
/* After a failure the old file at path is intact and no temp file is left, except
 * when only the final directory fsync failed: then the new file is already in place. */
int fs_atomic_commit(fs_atomic *f, rlvr_err *err);
void fs_atomic_abort(fs_atomic *f);

/* Reads the whole file into *out (malloc'd, caller frees, with a NUL byte after the
 * data that *n does not count; n may be NULL). Fails, naming the size, when the
 * file holds more than max_bytes. Works on pipes and /proc files (no size needed).
 * On failure *out is NULL. */
int fs_read_all(const char *path, size_t max_bytes, char **out, size_t *n, rlvr_err *err);

/* Creates path and any missing parents (mode 0755 & ~umask), like mkdir -p.
 * Succeeds when path is already a directory; fails when a component is a file. */
int fs_mkdir_p(const char *path, rlvr_err *err);

/* 1 when something (file, directory, ...) exists at path, else 0. */
int fs_exists(const char *path);

#endif
