#!/bin/sh
# make bench: runs each C benchmark, then its peer in the same run (PyTorch on CPU
# with the same shapes and thread count), and prints the ratio. The machine is
# shared and noisy: only ratios measured side by side mean anything.
build=$1
threads=${THREADS:-$(nproc)}
export OMP_NUM_THREADS=$threads
out=$(mktemp)
echo "== bench_train (rlvr, $threads threads)"
"$build/bench/bench_train" | tee "$out"
ours=$(grep '^{' "$out" | sed 's/.*"tokens_per_s": \([0-9.]*\).*/\1/')
if python3 -c "import torch, transformers" 2>/dev/null; then
  echo "== torch peer (same shape, $threads threads)"
  peer=$(python3 bench/torch_peer.py --threads "$threads" --batch 4 --seq 256 --steps 3 --warmup 1 | tail -n 1)
  echo "$peer"
  theirs=$(echo "$peer" | sed 's/.*"tokens_per_s": \([0-9.]*\).*/\1/')
  echo "train step tokens/s: rlvr $ours, torch $theirs, ratio rlvr/torch = $(echo "$ours $theirs" | awk '{printf "%.2f", $1/$2}')"
else
  echo "torch peer skipped: python3 cannot import torch and transformers (pip install torch transformers)"
fi
rm -f "$out"
echo "== bench_model (SmolLM2-135M: load, tokenizer, decode vs memory bandwidth)"
"$build/bench/bench_model"
echo "== bench_rollout (group sampling: 8 prompts x 16 samples, 128-token prompts; FMA-peak fraction)"
"$build/bench/bench_rollout"
echo "== bench_rewards (math verifier samples/s, sandbox runs/s, external reward server)"
"$build/bench/bench_rewards"
echo "== bench_gemm (rlvr GEMM vs OpenBLAS on the training shapes)"
"$build/bench/bench_gemm"
sh bench/bench_rl.sh "$build"
