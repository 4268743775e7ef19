/* bytes.c: byte-level encode/decode for models trained from scratch. */
#include "tokenizer/bytes.h"

int bytes_encode(const char *text, size_t n, int *ids) {
    for (size_t i = 0; i < n; i++) ids[i] = (unsigned char)text[i];
    return (int)n;
}

size_t bytes_decode(const int *ids, size_t n, char *out, size_t cap) {
    size_t k = 0;
    if (!cap) return 0;
    for (size_t i = 0; i < n && k + 1 < cap; i++) {
        if (ids[i] == BYTES_BOS) continue;
        if (ids[i] < 0 || ids[i] >= 256) break;
        out[k++] = (char)ids[i];
    }
    out[k] = 0;
    return k;
}
