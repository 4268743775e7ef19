/* math_lex.h: tokens shared by math_lex.c (which makes them) and math_parse.c (which
 * reads them). Internal to the math verifier. */
#ifndef RLVR_REWARDS_MATH_LEX_H
#define RLVR_REWARDS_MATH_LEX_H
#include "rewards/math_int.h"

enum {
    T_END, T_NUM, T_QVAL, T_WORD, T_SYM, T_CONST, T_TEXT, T_FUNC,
    T_PLUS, T_MINUS, T_PM, T_MUL, T_DIV, T_POW, T_UNDER, T_BANG, T_PCT,
    T_LP, T_RP, T_LB, T_RB, T_LC, T_RC, T_LSET, T_RSET, T_LANG, T_RANG,
    T_PIPE, T_LFLOOR, T_RFLOOR, T_LCEIL, T_RCEIL,
    T_COMMA, T_REL, T_COLON, T_CUP, T_CAP, T_SETMINUS,
    T_FRAC, T_SQRT, T_BINOM, T_BEGIN_MAT, T_END_MAT, T_AMP, T_ROWSEP,
    T_REALS, T_EMPTY, T_ERR
};

typedef struct {
    unsigned char t, aux, adj, raw; /* adj: no space before; raw: NUM is plain digits */
    short dec;
    int s, n;                       /* pool slice (NUM, QVAL, WORD, SYM, TEXT) */
} mtok;

/* Tokenizes s[0..n) (an answer already cleaned by mnorm_answer). *toks is malloc'd (the
 * caller frees it, also on failure). Returns 0, or -1 when a character or command is not
 * understood, the input nests too deep or the budget ran out. */
int mlex(mctx *c, const char *s, size_t n, mtok **toks, int *nt);

#endif
