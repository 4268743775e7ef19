#!/bin/sh
# test_kill_resume: `rlvr train` killed with SIGKILL at a random moment (mid-step or
# mid-checkpoint), then rerun with resume=true, ends with weights bit-identical to a run
# that was never interrupted, and its last metrics line for every step (losses, rewards,
# sample lengths; timings aside) equals the straight run's. Also: a flipped byte in the
# newest checkpoint is detected and the one before it used.
# Env: RLVR_BIN (default build/rlvr), RLVR_KEEP=1 keeps the temp directory.
set -u
bin=${RLVR_BIN:-build/rlvr}
[ -x "$bin" ] || { echo "FAIL test_kill_resume: no $bin (run make first)"; exit 1; }
tmp=$(mktemp -d /tmp/rlvr_kill_XXXXXX) || exit 1
cleanup() { [ "${RLVR_KEEP:-0}" = 1 ] && echo "kept $tmp" || rm -rf "$tmp"; }
trap cleanup EXIT
fails=0
fail() { echo "  FAIL $*"; fails=$((fails + 1)); }
"$bin" sft out_dir="$tmp/sft" task.ops=+- task.max_val=9 task.max_result=18 model.dim=32 model.n_layers=2 model.hidden_dim=64 \
  model.max_seq_len=64 train.steps=60 train.lr=5e-3 train.warmup_steps=10 eval.n=0 threads=1 > "$tmp/sft.log" 2>&1 || { echo "FAIL test_kill_resume: sft"; exit 1; }
args="model=$tmp/sft/model task.ops=+- task.max_val=9 task.max_result=18 task.difficulties=[1,2] train.steps=30 rollout.prompts_per_step=8 \
  rollout.n=4 rollout.max_new_tokens=16 eval.n=0 train.lr=1e-3 train.save_every=1 algo.kl_coef=0.05 algo.dynamic_sampling=true \
  sft.every=3 threads=1"
t0=$(date +%s%N)
"$bin" train $args out_dir="$tmp/straight" > "$tmp/straight.log" 2>&1 || { echo "FAIL test_kill_resume: straight run"; exit 1; }
dur_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
# kill -9 at a random moment of a second run, several times, resuming in between
seed=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
kills=0
for round in 1 2 3; do
  "$bin" train $args out_dir="$tmp/killed" resume=true > "$tmp/killed.$round.log" 2>&1 &
  pid=$!
  ms=$(( (seed * round * 7919) % (dur_ms / 3 + 1) + 20 ))  # each round gets about a third of the run
  sleep "$(awk "BEGIN{print $ms/1000}")"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  grep -q "train done" "$tmp/killed.$round.log" || kills=$((kills + 1))
done
"$bin" train $args out_dir="$tmp/killed" resume=true > "$tmp/killed.final.log" 2>&1 || fail "the final resume failed: $(tail -2 "$tmp/killed.final.log")"
cmp -s "$tmp/straight/model/model.safetensors" "$tmp/killed/model/model.safetensors" ||
  fail "weights after $kills kills (seed $seed) differ from the straight run"
# the last line per step, without the timing fields
norm() { grep '"reward_mean"' "$1" | sed -E 's/"(sample_s|score_s|ref_s|train_s|sample_tok_s|train_tok_s|elapsed_s)":[^,}]*,?//g' |
  awk -F'"step":' '{split($2, a, ","); last[a[1]] = $0} END {for (s in last) print s "\t" last[s]}' | sort -n; }
norm "$tmp/straight/metrics.jsonl" > "$tmp/a.txt"
norm "$tmp/killed/metrics.jsonl" > "$tmp/b.txt"
[ "$(wc -l < "$tmp/a.txt")" -eq 30 ] || fail "straight run: $(wc -l < "$tmp/a.txt") step lines, want 30"
[ "$kills" -ge 1 ] || fail "no run was killed before it finished (run time ${dur_ms} ms)"
cmp -s "$tmp/a.txt" "$tmp/b.txt" || fail "metrics of the resumed run differ: $(diff "$tmp/a.txt" "$tmp/b.txt" | head -3)"
# a flipped byte in the newest checkpoint: detected, the previous one is used
ck=$(ls -d "$tmp"/killed/checkpoints/step_* | tail -n 1)
prev=$(ls -d "$tmp"/killed/checkpoints/step_* | tail -n 2 | head -n 1)
printf 'X' | dd of="$ck/model.safetensors" bs=1 seek=200 conv=notrunc 2>/dev/null
"$bin" train $args out_dir="$tmp/killed" resume=true > "$tmp/flip.log" 2>&1 || fail "resume after a flipped byte: $(tail -2 "$tmp/flip.log")"
cmp -s "$tmp/straight/model/model.safetensors" "$tmp/killed/model/model.safetensors" || fail "rerunning the last step from the checkpoint before it differs"
grep -q "resumed from the checkpoint of step $(basename "$prev" | sed 's/step_0*//')" "$tmp/flip.log" ||
  fail "a flipped byte must send resume to $(basename "$prev"): $(grep -i resumed "$tmp/flip.log")"
if [ "$fails" -eq 0 ]; then echo "ok   test_kill_resume ($kills kills at random moments, seed $seed)"; exit 0; fi
echo "FAIL test_kill_resume: $fails failed"
exit 1
