/* cli.c: what every command of the CLI shares: fatal errors, the config loader
 * (one optional TOML file, then key=value overrides), --help detection, and the
 * engine's progress line on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

void die(const rlvr_err *e) {
    fprintf(stderr, "rlvr: error: %s\n", e->msg[0] ? e->msg : rlvr_status_str(e->code));
    exit(e->code == RLVR_ECONFIG || e->code == RLVR_EARG ? 2 : 1);
}

/* argv after the command: one optional config file, then key=value pairs */
cfg *load_cfg(int argc, char **argv, rlvr_err *e) {
    cfg *c = cfg_new();
    if (!c) { e->code = RLVR_ENOMEM; snprintf(e->msg, sizeof e->msg, "out of memory"); die(e); }
    for (int i = 0; i < argc; i++) {
        if (strchr(argv[i], '=')) {
            if (cfg_set_override(c, argv[i], e)) die(e);
        } else if (i == 0) {
            if (cfg_load_file(c, argv[i], e)) die(e);
        } else {
            e->code = RLVR_EARG;
            snprintf(e->msg, sizeof e->msg, "argument '%s': expected key=value (only the first argument may be a config file)", argv[i]);
            die(e);
        }
    }
    return c;
}

int wants_help(int argc, char **argv) {
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return 1;
    return 0;
}


void engine_progress_print(const engine_stats *st, void *ud) {
    gen_progress *g = ud;
    double el = st->total_s, eta = st->samples_done ? el / st->samples_done * (st->samples_total - st->samples_done) : 0;
    fprintf(stderr, "%ssamples %d/%d  %.0f tok/s  %.0fs  eta %.0fs%s", g->tty ? "\r" : "", st->samples_done, st->samples_total,
            st->tokens_per_s, el, eta, g->tty ? "" : "\n");
    fflush(stderr);
}

