/* cli.h: helpers shared by the CLI's command files (tools/). Only the CLI prints
 * and exits; each cmd_* returns the process exit status. */
#ifndef RLVR_CLI_H
#define RLVR_CLI_H
#include "rlvr.h"
#include "core/config.h"
#include "rollout/engine.h"

void die(const rlvr_err *e);                       /* prints "rlvr: error: ..." and exits 2 (config) or 1 */
cfg *load_cfg(int argc, char **argv, rlvr_err *e); /* argv after the command: [file.toml] key=value ... */
int wants_help(int argc, char **argv);

typedef struct { int tty; double t0; } gen_progress;
void engine_progress_print(const engine_stats *st, void *ud); /* ud: gen_progress */

int cmd_eval(int argc, char **argv);
int cmd_report(int argc, char **argv);
#endif
