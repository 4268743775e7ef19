/* config.h: run settings. A TOML-subset file plus `key=value` command-line overrides
 * go in; typed getters take them out, and record the default of every key that was
 * absent, so the resolved config (cfg_write) lists every setting a run used.
 * docs/config.md is the user-facing grammar; this header is the API contract.
 *
 *     cfg *c = cfg_new();
 *     cfg_load_file(c, "configs/grpo.toml", &err);           // "FILE:LINE: what"
 *     for (i...) cfg_set_override(c, argv[i], &err);         // "train.lr=1e-5"
 *     cfg_float(c, "train.lr", 1e-6, &lr, &err);             // default recorded
 *     if (!(lr > 0)) return cfg_errf(c, "train.lr", &err, "must be > 0, got %g", lr);
 *     cfg_check_unused(c, &err);                             // catches typos
 *     cfg_write(c, "runs/x/config.toml", &err);              // the resolved config
 *
 * Keys are dotted bare words ("train.lr"): each part is [A-Za-z0-9_-]+. A section
 * header [train] prefixes the keys under it with "train.". Every error message starts
 * with the origin of the offending value: "FILE:LINE", "command line" or "default".
 * Not thread-safe: one thread builds and reads a cfg (reads mark keys as used). */
#ifndef RLVR_CORE_CONFIG_H
#define RLVR_CORE_CONFIG_H
#include <stddef.h>
#include <stdint.h>
#include "rlvr.h"

typedef struct cfg cfg;

/* cfg_load_file refuses larger files (a config is never this big; a wrong path is). */
#define CFG_MAX_FILE_BYTES ((size_t)256 << 20)
/* Bounds on a full dotted key (section prefix included); longer keys are errors. */
#define CFG_MAX_KEY_LEN 512
#define CFG_MAX_KEY_PARTS 32

/* ---- lifecycle and input ------------------------------------------------------ */

/* An empty config, or NULL when out of memory. Free with cfg_free (accepts NULL). */
cfg *cfg_new(void);
void cfg_free(cfg *c);

/* Parses a TOML-subset file into c. Errors are RLVR_EIO (unreadable, or larger than
 * CFG_MAX_FILE_BYTES) or RLVR_ECONFIG with "PATH:LINE: what is wrong". A key set twice
 * in one file is an error; a key set by an earlier load or override is replaced
 * (later wins), so files can be layered. On error c holds whatever came before the
 * bad line; the caller usually frees it. */
int cfg_load_file(cfg *c, const char *path, rlvr_err *err);

/* As cfg_load_file for NUL-terminated text; name is used in messages ("NAME:LINE: ..."),
 * "<string>" when NULL. */
int cfg_load_string(cfg *c, const char *text, const char *name, rlvr_err *err);

/* As cfg_load_string for n bytes that may contain NULs (which are then errors). */
int cfg_load_buffer(cfg *c, const char *text, size_t n, const char *name, rlvr_err *err);

/* Applies one "key=value" override; it replaces any value of key, and later
 * overrides replace earlier ones. The value uses the file grammar, except that a
 * value that does not start with " ' [ { and is not an integer, float or boolean is
 * taken verbatim as a string (surrounding blanks trimmed): "model=path/to/dir" works.
 * The origin becomes "command line". Errors start "command line: 'KEY=VALUE': ". */
int cfg_set_override(cfg *c, const char *key_eq_value, rlvr_err *err);

/* ---- typed getters -------------------------------------------------------------
 * Each looks key up and marks it used. When key is absent, def is recorded as its
 * value (origin "default") and returned, so a later cfg_write shows it. A value of
 * the wrong type is RLVR_ECONFIG: "ORIGIN: key 'K' must be WHAT, got TYPE VALUE".
 * key must be a valid dotted key (else RLVR_EARG). On error *out is unchanged. */

/* Integers only: 1.0 is a float and is refused (the message says so). */
int cfg_int(cfg *c, const char *key, long long def, long long *out, rlvr_err *err);

/* As cfg_int, then fails with "ORIGIN: key 'K' must be in [lo, hi], got V" outside. */
int cfg_int_range(cfg *c, const char *key, long long def, long long lo, long long hi,
                  long long *out, rlvr_err *err);

/* Floats and integers (converted). def must be finite (else RLVR_EARG). */
int cfg_float(cfg *c, const char *key, double def, double *out, rlvr_err *err);

/* As cfg_float, then fails with "ORIGIN: key 'K' must be in [lo, hi], got V" outside. */
int cfg_float_range(cfg *c, const char *key, double def, double lo, double hi, double *out,
                    rlvr_err *err);

/* true/false only; *out is 1 or 0. */
int cfg_bool(cfg *c, const char *key, int def, int *out, rlvr_err *err);

/* Strings. *out points into c: valid until key is set again or cfg_free. def NULL
 * makes the key required: absent is RLVR_ECONFIG "missing required key 'K'". def must
 * be valid UTF-8 (else RLVR_EARG). */
int cfg_str(cfg *c, const char *key, const char *def, const char **out, rlvr_err *err);

/* Arrays. Copies at most max elements into out and sets *n; an array longer than max
 * is an error naming its length. When absent, def[0..n_def) is recorded and copied
 * (n_def <= max). Every element must have the right type (float lists accept
 * integers); the message names the element's index. cfg_str_list's pointers point
 * into c, valid until key is set again or cfg_free. */
int cfg_int_list(cfg *c, const char *key, const long long *def, int n_def, long long *out,
                 int max, int *n, rlvr_err *err);
int cfg_float_list(cfg *c, const char *key, const double *def, int n_def, double *out, int max,
                   int *n, rlvr_err *err);
int cfg_str_list(cfg *c, const char *key, const char *const *def, int n_def, const char **out,
                 int max, int *n, rlvr_err *err);

/* ---- origins, messages, checks ------------------------------------------------ */

/* 1 when key holds a value (from any origin), else 0. Does not mark it used. */
int cfg_has(const cfg *c, const char *key);

/* Where key's value came from: "FILE:LINE", "command line" or "default"; NULL when
 * key is absent. The string belongs to c, valid until key is set again or cfg_free. */
const char *cfg_origin(cfg *c, const char *key);

/* For checks the getters cannot do: fills err with "ORIGIN: key 'KEY' " followed by
 * the formatted text, and returns RLVR_ECONFIG. ORIGIN is "unset" for an absent key.
 *     return cfg_errf(c, "train.lr", err, "must be > 0, got %g", lr);  */
int cfg_errf(cfg *c, const char *key, rlvr_err *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Typo protection, called once every getter has run: RLVR_ECONFIG when some key was
 * set (by file or override) but never read, listing them in the order they were set:
 * "unknown key 'trian.lr' (a.toml:3, did you mean 'train.lr'?)". The suggestion is
 * the closest key that was read, by edit distance, or one with the same last part;
 * the search has a fixed work budget, so huge configs may get no suggestion. At most
 * 8 keys are named, then "and N more". */
int cfg_check_unused(cfg *c, rlvr_err *err);

/* ---- output ------------------------------------------------------------------- */

/* The resolved config as TOML of the accepted subset: top-level keys first, then one
 * [section] per key prefix, keys sorted within each; floats in shortest round-trip
 * form. Loading it back gives the same values, and the same string. Malloc'd (caller
 * frees); NULL when out of memory. Origins and the used marks are not included. */
char *cfg_to_string(const cfg *c);

/* 64-bit FNV-1a of cfg_to_string: identifies a run's settings (checkpoint manifests).
 * 0 when out of memory. */
uint64_t cfg_hash(const cfg *c);

/* Writes cfg_to_string atomically to path (fs_write_atomic). */
int cfg_write(const cfg *c, const char *path, rlvr_err *err);

/* For the *_params_from_cfg readers, whose locals are cfg *c, rlvr_err *err, int rc,
 * long long v and double d: read an integer or a float setting within [lo, hi] into dst
 * (int or float), returning the status from the enclosing function on error. */
#define CFG_READ_INT(key, def, lo, hi, dst) \
    do { if ((rc = cfg_int_range(c, key, def, lo, hi, &v, err))) return rc; dst = (int)v; } while (0)
#define CFG_READ_FLOAT(key, def, lo, hi, dst) \
    do { if ((rc = cfg_float_range(c, key, def, lo, hi, &d, err))) return rc; dst = (float)d; } while (0)

#endif
