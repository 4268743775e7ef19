#!/bin/sh
# make demo: the built-in default job. Until the RL trainer lands this is the SFT
# demo: a fresh byte-level model learns single-step arithmetic from scratch
# (configs/demo_sft.toml), then is scored on held-out 1-, 2- and 3-step problems.
# Outputs go to runs/demo_sft/ (resolved config, metrics.jsonl, model/).
set -e
bin=${1:-build/rlvr}
echo "rlvr demo: supervised training from scratch on the arith task (about 2-4 minutes on 2 cores)"
"$bin" sft configs/demo_sft.toml
