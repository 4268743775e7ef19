/* tblog.h: a TensorBoard event-file writer for scalars, libc only (no protobuf, no
 * TensorFlow). Writes what TensorBoard's scalar dashboard reads: TFRecord-framed
 * `Event` protobufs, hand-encoded. Not a reader, and no images, histograms or text.
 * docs/tensorboard.md describes the bytes; tests/ref/make_tb_golden.py checks them
 * against tensorboard's own writer and reader.
 *
 *     tblog *tb = tblog_open("runs/demo", &err);          // runs/demo/events.out.tfevents.<secs>.<host>
 *     tblog_begin(tb, step, tblog_now(), &err);            // one Event per step ...
 *     tblog_add(tb, "reward/mean", 0.42, &err);            // ... holding several scalars
 *     tblog_add(tb, "loss", 1.7, &err);
 *     tblog_end(tb, &err);                                 // the record reaches the file here
 *     tblog_close(tb, &err);                               // open: tensorboard --logdir runs/demo
 *
 * Each tblog_end writes one whole record with one write(2), so TensorBoard sees every
 * finished step at once, and a crash loses only the event still being built. After a
 * failed write the writer refuses everything (a torn record must stay the last one):
 * every later call returns the first error again. Resuming a run opens a new file in
 * the same directory, as TensorBoard expects; where the new file repeats steps, its
 * reader drops the old file's values for them.
 *
 * Ownership: tblog_open* returns a handle the caller closes with tblog_close (NULL-safe).
 * One handle is used by one thread at a time. Library code: returns statuses, never
 * prints. */
#ifndef RLVR_TRAIN_TBLOG_H
#define RLVR_TRAIN_TBLOG_H
#include <stddef.h>
#include <stdint.h>
#include "rlvr.h"

#define TBLOG_TAG_MAX 1024   /* bytes of a tag, NUL not counted */

typedef struct tblog tblog;

/* Creates dir (mkdir -p) and a new file dir/events.out.tfevents.<%010 unix seconds>.
 * <hostname> in it (".1", ".2", ... appended when that name exists: never appends to
 * or replaces another writer's file), and writes the first event: wall_time now,
 * file_version "brain.Event:2", source_metadata.writer "rlvr". NULL on failure, err
 * naming the path. */
tblog *tblog_open(const char *dir, rlvr_err *err);

/* As tblog_open, but at exactly path (created or truncated; left in place, never
 * unlinked, when the first write fails) and with the given wall time on the first
 * event: for tests and golden files, where the bytes must not depend on the clock or
 * the host. */
tblog *tblog_open_file(const char *path, double wall_time, rlvr_err *err);

/* The file being written (owned by t). */
const char *tblog_path(const tblog *t);

/* Seconds since the Unix epoch, with sub-second precision: TensorBoard's wall time. */
double tblog_now(void);

/* Starts the event of one step. wall_time is seconds since the epoch (tblog_now()).
 * RLVR_EARG when an event is already open. */
int tblog_begin(tblog *t, long long step, double wall_time, rlvr_err *err);

/* Adds one scalar to the open event. value is stored as a float (simple_value), NaN
 * and infinities included. tag: 1..TBLOG_TAG_MAX bytes of valid UTF-8 (protobuf
 * strings must be), '/' groups charts in TensorBoard ("reward/mean"). RLVR_EARG for a
 * bad tag or no open event; the event stays open either way. */
int tblog_add(tblog *t, const char *tag, double value, rlvr_err *err);

/* Closes the open event and writes it as one record. An event with no scalars writes
 * nothing. RLVR_EARG when no event is open; RLVR_EIO (naming the path) when the write
 * fails. */
int tblog_end(tblog *t, rlvr_err *err);

/* One event holding one scalar: begin + add + end. */
int tblog_scalar(tblog *t, const char *tag, long long step, double value, double wall_time, rlvr_err *err);

/* fsync: the records written so far survive a machine crash, not only a process
 * crash. Not needed for TensorBoard to see them. */
int tblog_flush(tblog *t, rlvr_err *err);

/* Drops an unfinished event, closes the file and frees t (always; NULL-safe). Returns
 * the writer's first error if it ever had one (so a failed run is not reported as
 * logged), else the status of close(2). */
int tblog_close(tblog *t, rlvr_err *err);

/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) of data[0..n), and the
 * masked form TFRecord stores: ((crc >> 15) | (crc << 17)) + 0xa282ead8. */
uint32_t tblog_crc32c(const void *data, size_t n);
uint32_t tblog_masked_crc32c(const void *data, size_t n);

#endif
