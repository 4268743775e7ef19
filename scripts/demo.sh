#!/bin/sh
# make demo: the built-in default job, from nothing to a measured RL gain.
#   1. rlvr sft: a fresh byte-level model learns the atomic steps of the arith task
#      (configs/demo_sft.toml);
#   2. rlvr train: GRPO from that model (configs/demo_grpo.toml); held-out pass@1 and
#      pass@8 on 1-, 2- and 3-step problems before, during and after, with a paired
#      before/after table;
#   3. rlvr report: runs/demo/grpo/report.html (curves, pass@k, per-difficulty bars,
#      example completions; no network needed to view it).
# Outputs: runs/demo/{sft,grpo}/. About 4-6 minutes on 2 cores.
set -e
bin=${1:-build/rlvr}
t0=$(date +%s)
echo "== rlvr demo 1/3: supervised training on the atomic steps of arith (about 1 minute)"
"$bin" sft configs/demo_sft.toml
echo "== rlvr demo 2/3: GRPO from the SFT model, outcome reward only (about 3 minutes)"
"$bin" train configs/demo_grpo.toml model=runs/demo/sft/model
first=$(ls runs/demo/grpo/eval/step_*.json | head -n 1)
last=$(ls runs/demo/grpo/eval/step_*.json | tail -n 1)
echo "== rlvr demo 3/3: report"
"$bin" report runs/demo/grpo "eval=[$first,$last]" "labels=[before RL,after RL]" title="rlvr demo: SFT then GRPO on arith"
echo "demo done in $(( $(date +%s) - t0 ))s; open runs/demo/grpo/report.html in a browser"
