#!/bin/sh
# test_demo: a smaller `make demo` must still show the RL gain. The demo's SFT stage as
# configured (configs/demo_sft.toml), then 100 GRPO steps (configs/demo_grpo.toml) with
# the before/after evaluation only; the change of held-out pass@1 on 2-step problems
# must be positive with a paired 95% bootstrap interval that excludes 0 (the '*' of
# rlvr train's table). Runs are bit-reproducible for the seed, whatever the thread count.
# Env: RLVR_BIN (default build/rlvr), RLVR_KEEP=1 keeps the temp directory.
set -u
bin=${RLVR_BIN:-build/rlvr}
[ -x "$bin" ] || { echo "FAIL test_demo: no $bin (run make first)"; exit 1; }
tmp=$(mktemp -d /tmp/rlvr_demo_XXXXXX) || exit 1
cleanup() { [ "${RLVR_KEEP:-0}" = 1 ] && echo "kept $tmp" || rm -rf "$tmp"; }
trap cleanup EXIT
t0=$(date +%s)
if ! "$bin" sft configs/demo_sft.toml out_dir="$tmp/sft" eval.n=0 > "$tmp/sft.log" 2>&1; then
  echo "FAIL test_demo: rlvr sft"; tail -5 "$tmp/sft.log"; exit 1
fi
if ! "$bin" train configs/demo_grpo.toml model="$tmp/sft/model" out_dir="$tmp/grpo" train.steps=100 eval.every=0 > "$tmp/train.log" 2>&1; then
  echo "FAIL test_demo: rlvr train"; tail -5 "$tmp/train.log"; exit 1
fi
grep -E '^  (group|arith/)' "$tmp/train.log"
row=$(grep -E '^  arith/2 +pass@1 ' "$tmp/train.log")
case "$row" in
  *" +"*" pts "*"*") echo "ok   test_demo: 2-step pass@1 rose, interval excludes 0 ($(( $(date +%s) - t0 ))s)"; exit 0 ;;
esac
echo "FAIL test_demo: 2-step pass@1 did not rise significantly: $row"
exit 1
