#!/bin/sh
# bench_rl (issue #6): seconds per GRPO step of `rlvr train` on SmolLM2-135M-Instruct,
# 8 prompts x 8 samples x 256 new tokens, split into sampling, scoring, reference/old
# log-probs and training, then TRL's GRPOTrainer (bench/trl_peer.py) with the same
# weights, prompts, reward and settings in the same run, and the ratio TRL / rlvr.
# It does not tune either side; it only runs and reads them.
#
#   sh bench/bench_rl.sh [BUILD_DIR]          (make bench calls it with build/)
#
# Knobs (environment): THREADS (nproc), RL_PROMPTS (8), RL_N (8), RL_NEW_TOKENS (256,
# every sample forced to exactly this length on both sides), RL_STEPS (3 rlvr steps, the
# first untimed), RL_PEER_STEPS (2 TRL steps, the first untimed: one TRL step takes
# minutes on 2 cores), RL_OMP_WAIT (PASSIVE, see below), RL_WORK (scratch dir, default
# $TMPDIR/rlvr_bench_rl), RLVR_SMOLLM2 (the GGUF; scripts/fetch_models.sh fetches it).
build=${1:-build}
threads=${THREADS:-$(nproc)}
export OMP_NUM_THREADS=$threads
# Both sides run with passive OpenMP waits (RL_OMP_WAIT, default PASSIVE; "default"
# leaves OMP_WAIT_POLICY unset): on a loaded machine torch's spinning workers (libgomp's
# default) made TRL's batched decode ~6x slower at 2 threads; rlvr moves within noise.
wait_policy=${RL_OMP_WAIT:-PASSIVE}
if [ "$wait_policy" = default ]; then unset OMP_WAIT_POLICY; else export OMP_WAIT_POLICY=$wait_policy; fi
prompts=${RL_PROMPTS:-8}
n=${RL_N:-8}
new=${RL_NEW_TOKENS:-256}
steps=${RL_STEPS:-3}
peer_steps=${RL_PEER_STEPS:-2}
work=${RL_WORK:-${TMPDIR:-/tmp}/rlvr_bench_rl}
gguf=${RLVR_SMOLLM2:-$HOME/.cache/rlvr/models/SmolLM2-135M-Instruct.Q4_1.gguf}
here=$(dirname "$0")

if [ ! -f "$gguf" ]; then
  echo "bench_rl skipped: $gguf is missing (sh scripts/fetch_models.sh fetches it)"
  exit 0
fi
[ "$steps" -ge 2 ] && [ "$peer_steps" -ge 2 ] || { echo "bench_rl: RL_STEPS and RL_PEER_STEPS must be >= 2 (the first step is a warm-up)"; exit 1; }
mkdir -p "$work" || exit 1

# Both sides start from the same fp32 weights and tokenizer: the GGUF dequantized
# once into an HF directory (rlvr reads it too, so neither side gets the GGUF path).
hf=$work/smol_hf
if [ ! -f "$hf/model.safetensors" ]; then
  "$build/rlvr" export model="$gguf" out="$hf" format=hf >/dev/null || exit 1
fi

# Prompts: two-digit sums for an instruct model, answer = the final number.
data=$work/prompts.jsonl
awk -v n="$prompts" 'BEGIN { for (i = 0; i < n; i++) { a = 11 + (i * 37) % 89; b = 13 + (i * 53) % 83;
  printf "{\"prompt\":\"What is %d + %d? Give the final answer as a number.\",\"ground_truth\":\"%d\",\"data_source\":\"math\"}\n", a, b, a + b } }' > "$data"

load() { uptime | sed 's/.*load average: *//'; }
# field NAME < line: the number after "NAME": in a flat JSON line
field() { sed -n "s/.*\"$1\": *\(-\{0,1\}[0-9.eE+-]*\).*/\1/p"; }

echo "== bench_rl: GRPO step, SmolLM2-135M-Instruct fp32, $prompts prompts x $n samples x $new new tokens (forced), $threads threads, OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-unset}"
# run_rlvr LABEL [key=value ...]: 'steps' rlvr steps; prints the per-step split and sets
# r_step r_sample r_score r_ref r_train r_gtok r_ttok r_inert (medians of steps 2..steps)
run_rlvr() {
  label=$1; shift
  echo "-- rlvr, $label; load average before: $(load)"
  out=$work/rlvr
  rm -rf "$out"
  "$build/rlvr" train model="$hf" chat=true data.path="$data" reward.spec=math seed=1 threads="$threads" \
    rollout.prompts_per_step="$prompts" rollout.n="$n" rollout.max_new_tokens="$new" rollout.min_new_tokens="$new" \
    rollout.temperature=1 rollout.top_p=1 rollout.top_k=0 train.steps="$steps" train.lr=1e-4 train.schedule=constant \
    train.weight_decay=0 train.grad_clip=1.0 algo.kl_coef=0 algo.loss_agg=token_mean algo.clip_low=0.2 algo.clip_high=0.2 \
    eval.n=0 log.tensorboard=false out_dir="$out" "$@" >"$work/rlvr.log" 2>&1
  rc=$?
  if [ $rc -ne 0 ] || [ ! -s "$out/metrics.jsonl" ]; then
    echo "bench_rl: rlvr train failed (rc $rc):"; tail -n 20 "$work/rlvr.log"; exit 1
  fi
  grep '"sample_s"' "$out/metrics.jsonl" > "$work/rlvr_steps.jsonl"
  rm -rf "$out/checkpoints" "$out/model"   # ~2 GB of weights and optimizer state
  # the old log-probs are the sampler's (recorded while sampling, 0 s extra); ref_s is the
  # reference forward, 0 with algo.kl_coef=0; inert: samples with advantage 0 that
  # skipped the forward/backward (train.skip_zero_adv)
  echo "rlvr per step (s):   step  sampling  scoring  ref_logp  old_logp  training  total   gen_tok  gen_tok/s  train_tok/s  inert"
  # elapsed_s is cumulative: a step's total is its difference from the previous line.
  awk -v np=$((prompts * n)) -v timed="$work/rlvr_timed.txt" '
    function f(name,   m) { return match($0, "\"" name "\": *-?[0-9.eE+-]+") ? substr($0, RSTART + length(name) + 3, RLENGTH - length(name) - 3) + 0 : 0 }
    { e = f("elapsed_s"); tot = e - prev; prev = e
      printf "                     %4d  %8.2f  %7.3f  %8.2f  %8.2f  %8.2f  %6.2f  %7d  %9.1f  %11.1f  %2d/%d%s\n", NR, f("sample_s"), f("score_s"),
        f("ref_s"), 0, f("train_s"), tot, f("len_mean") * np, f("sample_tok_s"), f("train_tok_s"), f("inert_seqs"), np, (NR == 1 ? "  (warm-up)" : "")
      if (NR > 1) print tot, f("sample_s"), f("score_s"), f("ref_s"), f("train_s"), f("sample_tok_s"), f("train_tok_s"), f("inert_seqs") > timed }
  ' "$work/rlvr_steps.jsonl"
  # medians of the timed steps (all but the first)
  ours=$(awk '{ for (j = 1; j <= NF; j++) v[j, NR] = $j; nf = NF }
    END { for (j = 1; j <= nf; j++) { for (a = 1; a <= NR; a++) x[a] = v[j, a]
            for (a = 1; a <= NR; a++) for (b = a + 1; b <= NR; b++) if (x[b] < x[a]) { t = x[a]; x[a] = x[b]; x[b] = t }
            m = (NR % 2) ? x[(NR + 1) / 2] : (x[NR / 2] + x[NR / 2 + 1]) / 2; printf "%s%.3f", (j > 1 ? " " : ""), m }
          printf "\n" }' "$work/rlvr_timed.txt")
  set -- $ours
  r_step=$1 r_sample=$2 r_score=$3 r_ref=$4 r_train=$5 r_gtok=$6 r_ttok=$7 r_inert=$8
  echo "rlvr ($label) median of steps 2..$steps: $r_step s/step (sampling $r_sample, scoring $r_score, ref $r_ref, old 0, training $r_train); $r_gtok generated tok/s, $r_ttok trained tok/s; $r_inert of $((prompts * n)) samples inert"
  echo "load average after rlvr: $(load)"
}
# Every sample trained (as TRL does), then the default (samples whose advantage is 0
# skip the forward/backward: the same update). With 256 forced tokens most groups are
# all wrong, so the second figure flatters rlvr; the first is the like-for-like one.
run_rlvr "every sample trained (train.skip_zero_adv=false)" train.skip_zero_adv=false
f_step=$r_step f_sample=$r_sample f_train=$r_train
run_rlvr "default (train.skip_zero_adv=true)"
s_step=$r_step

if ! python3 -c "import torch, transformers, trl, datasets" 2>/dev/null; then
  echo "TRL peer skipped: python3 cannot import torch, transformers, trl and datasets (pip install trl transformers torch datasets)"
  exit 0
fi
micro=16
while [ $micro -gt 1 ] && [ $((prompts * n % micro)) -ne 0 ]; do micro=$((micro / 2)); done
echo "== TRL peer (GRPOTrainer, same weights/prompts/reward/settings, $threads threads, $peer_steps steps, the first untimed)"
echo "load average before TRL: $(load)"
peer=$(python3 "$here/trl_peer.py" --model "$hf" --data "$data" --threads "$threads" --prompts "$prompts" --n "$n" \
  --max-new "$new" --min-new "$new" --micro "$micro" --steps "$peer_steps" --warmup 1 --lr 1e-4 --seed 1 \
  --out "$work/trl" 2>"$work/trl.log" | tail -n 1)
echo "load average after TRL: $(load)"
if [ -z "$peer" ]; then
  echo "bench_rl: TRL peer failed:"; tail -n 20 "$work/trl.log"; exit 1
fi
peer=$(echo "$peer" | sed 's/, "per_step".*/}/')   # the summary; per-step lines are in $work/trl.log
echo "$peer"
p_step=$(echo "$peer" | field step_s); p_sample=$(echo "$peer" | field sample_s); p_score=$(echo "$peer" | field score_s)
p_ref=$(echo "$peer" | field ref_s); p_other=$(echo "$peer" | field other_s); p_train=$(echo "$peer" | field train_s)
p_gtok=$(echo "$peer" | field sample_tok_s); p_ttok=$(echo "$peer" | field train_tok_s)
echo "TRL  median of timed steps: $p_step s/step (sampling $p_sample, scoring $p_score, ref/old $p_ref, other $p_other, training $p_train); $p_gtok generated tok/s, $p_ttok trained tok/s"
echo "$f_step $p_step $f_sample $p_sample $f_train $p_train $s_step" | awk '{
  printf "RL step s/step, every sample trained: rlvr %.1f, TRL %.1f, ratio TRL/rlvr = %.2f (target >= 5)\n", $1, $2, $2 / $1;
  printf "  sampling ratio TRL/rlvr = %.2f, training ratio TRL/rlvr = %.2f\n", $4 / $3, $6 / $5;
  printf "RL step s/step, rlvr default (inert samples skipped): rlvr %.1f, ratio TRL/rlvr = %.2f\n", $7, $2 / $7 }'
