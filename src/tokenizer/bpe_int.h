/* bpe_int.h: the inside of a bpe, shared by bpe_core.c (tables, builder,
 * accessors), bpe_json.c (tokenizer.json and GGUF parts), bpe_encode.c and
 * bpe_decode.c. Not part of the API. */
#ifndef RLVR_TOKENIZER_BPE_INT_H
#define RLVR_TOKENIZER_BPE_INT_H
#include <stdint.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include "tokenizer/bpe.h"

enum { BPE_MAX_IDS = 1 << 24, BPE_MAX_STEPS = 16 };
enum { BPE_ATTR_USED = 1, BPE_ATTR_ADDED = 2, BPE_ATTR_SPECIAL = 4 };

/* HF SplitDelimiterBehavior */
enum { BPE_SPLIT_REMOVED, BPE_SPLIT_ISOLATED, BPE_SPLIT_MERGED_PREV, BPE_SPLIT_MERGED_NEXT,
       BPE_SPLIT_CONTIGUOUS };
enum { BPE_STEP_SPLIT, BPE_STEP_PREFIX_SPACE };

typedef struct bpe_step {
    int kind;
    pcre2_code *re;     /* BPE_STEP_SPLIT */
    int behavior, invert;
} bpe_step;

struct bpe {
    int n_ids;                  /* table size: max id + 1 */
    char *arena;                /* token strings, then decoded bytes, NUL-separated */
    size_t arena_len, arena_cap;
    uint32_t *str_off, *str_len;   /* per id; str_off == UINT32_MAX: unused id */
    uint32_t *byt_off, *byt_len;   /* decoded bytes per id */
    uint8_t *attr;

    uint32_t *vh;               /* string -> id+1, open addressing, vh_cap a power of 2 */
    uint32_t vh_cap;

    int n_merges, m_cap_list;
    int32_t *merge_l, *merge_r; /* by rank */
    uint64_t *mk;               /* pair -> (rank, merged id) hash; mrank -1: empty */
    int32_t *mrank, *mid;
    uint32_t m_cap;

    int byte_id[256];           /* id of the one-byte token, -1 if missing */
    uint16_t b2u[256];          /* GPT-2 byte -> code point */
    int16_t u2b[324];           /* code point -> byte, -1 if none */

    int *added;                 /* added token ids, longest text first */
    int n_added;
    uint8_t first_any[256], first_plain[256]; /* first bytes of added (any / non-special) */

    bpe_step steps[BPE_MAX_STEPS];
    int n_steps, has_bytelevel;
    int nfc, ignore_merges, unk_id, bos_id, eos_id;
};

/* bpe_core.c: building */
bpe *bpe_alloc(void);
int bpe_table_init(bpe *b, int n_ids, rlvr_err *err);
/* Sets token id to s[0..n) (valid UTF-8, no NUL); errors name `where`. */
int bpe_set_token(bpe *b, int id, const char *s, size_t n, int attr, const char *where, rlvr_err *err);
int bpe_build_vocab_hash(bpe *b, rlvr_err *err);
int bpe_merges_reserve(bpe *b, int n, rlvr_err *err);
int bpe_add_merge(bpe *b, const char *l, size_t nl, const char *r, size_t nr, const char *where,
                  rlvr_err *err);
int bpe_finish(bpe *b, rlvr_err *err);
/* Appends a Split step; pattern is a PCRE2 regex or (literal) a plain string. */
int bpe_add_split(bpe *b, const char *pat, size_t n, int literal, int behavior, int invert,
                  const char *where, rlvr_err *err);
int bpe_add_prefix_space(bpe *b, const char *where, rlvr_err *err);
int bpe_lookup(const bpe *b, const char *s, size_t n);
/* (rank, merged id) of a pair, rank -1 when there is no such merge. */
int bpe_merge_rank(const bpe *b, int l, int r, int *merged);
/* Length of the valid UTF-8 prefix of s[0..n). */
size_t bpe_utf8_valid(const unsigned char *s, size_t n);

extern const char BPE_PAT_GPT2[], BPE_PAT_LLAMA3[], BPE_PAT_QWEN2[];
#endif
