/* ckpt.h: training checkpoints that survive crashes and resume exactly. A checkpoint
 * is a directory OUT/checkpoints/step_NNNNNNNN/ holding model.safetensors (weights),
 * optim.safetensors (Adam moments), state.json (step counters) and, written last,
 * manifest.json (format version, config hash, each file's size and FNV-1a checksum).
 * The directory is built under a temporary name and renamed into place, so a reader
 * sees a whole checkpoint or none; resume takes the newest one whose manifest
 * verifies. Every random stream of the trainer is derived from (seed, step, ...),
 * so the step counter and the problem cursor are the whole data and RNG state. */
#ifndef RLVR_CKPT_H
#define RLVR_CKPT_H
#include <stdint.h>
#include "rlvr.h"
#include "model/model.h"

#define CKPT_FORMAT_VERSION 1

typedef struct {
    int step;          /* optimizer steps done (the next step to run is step) */
    int t_adam;        /* AdamW's bias-correction counter */
    int skipped;       /* refused steps so far */
    uint64_t seed;
    uint64_t cursor;   /* problems drawn so far (dynamic sampling draws a varying number per step) */
    char *extra;       /* NULL, or a JSON value saved with the state (the trainer's buffers);
                          ckpt_load returns a malloc'd copy the caller frees */
} ckpt_state;

/* Writes checkpoint `st->step` of m (params and Adam moments) and, when ref is not
 * NULL, the KL reference's weights (ref.safetensors) under out_dir, then deletes all
 * but the newest keep_last checkpoints (keep_last <= 0 keeps all). */
int ckpt_save(const char *out_dir, const model *m, const model *ref, const ckpt_state *st, uint64_t cfg_hash, int keep_last, rlvr_err *err);

/* Finds the newest checkpoint under out_dir whose manifest verifies (sizes and
 * checksums); writes its directory to path. Returns RLVR_OK with *found = 0 when there
 * is none. A checkpoint made with another config hash is an error unless force. */
int ckpt_find_latest(const char *out_dir, uint64_t cfg_hash, int force, char *path, size_t cap, int *found, rlvr_err *err);

/* Loads a verified checkpoint directory into m (which must have training buffers and
 * the same shapes), ref (when not NULL: the checkpoint must hold ref.safetensors) and st. */
int ckpt_load(const char *dir, model *m, model *ref, ckpt_state *st, rlvr_err *err);
#endif
