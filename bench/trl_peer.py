#!/usr/bin/env python3
"""TRL peer for the rlvr RL-step benchmark (bench/bench_rl.sh, issue #6).

Runs TRL's GRPOTrainer on CPU with the settings of `rlvr train` in bench_rl.sh and
times each optimizer step, split the way rlvr's metrics.jsonl splits it:

  sample_s  TRL's _generate (chat template, tokenizer, model.generate, decode)
  score_s   TRL's _calculate_rewards (the reward function below)
  ref_s     forwards without grad inside the generation phase: reference log-probs
            (beta > 0) and old-policy log-probs (only when TRL needs them; with
            num_iterations=1 and steps_per_generation == gradient_accumulation_steps,
            the default, it does not)
  other_s   the rest of the generation phase (padding, advantages, metrics)
  train_s   the rest of the step: per-micro-batch forward with grad, backward,
            grad-norm clip, AdamW, zero_grad, logging
  step_s    wall time of the whole optimizer step (callback begin -> end)

One optimizer step = --prompts prompts x --n samples. TRL 1.x semantics:
per_device_train_batch_size counts completions (not prompts); the generation batch
is per_device_train_batch_size * gradient_accumulation_steps completions, generated
in one model.generate call, so --micro 16 gives gradient_accumulation_steps =
64 / 16 = 4 and one generation batch per optimizer step (on-policy, no old log-probs).

Dependencies: pip install trl transformers torch datasets (nothing else, nothing
downloaded: the model is a local HF directory, e.g. from `rlvr export`). Prints one
JSON line on stdout (per-step figures, medians over the timed steps, versions);
progress and TRL's own logs go to stderr.

  python3 bench/trl_peer.py --model /tmp/smol_hf --data prompts.jsonl --threads 2 \\
      --n 8 --max-new 256 --min-new 256 --steps 3 --warmup 1
"""
import argparse
import json
import os
import platform
import re
import statistics
import sys
import time
from fractions import Fraction


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# --- reward: exact final-number match (what rlvr's `math` spec decides for integer
# golds: last \boxed{}, else "final answer is X", "#### X", "answer: X", else the last
# number; compared as exact rationals).
_NUM = r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:/\d+)?"


def _extract(text):
    if "</think>" in text:
        text = text.rsplit("</think>", 1)[1]
    i = max(text.rfind("\\boxed{"), text.rfind("\\fbox{"))
    if i >= 0:
        j, depth, k = text.index("{", i) + 1, 1, text.index("{", i) + 1
        while k < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[k], 0)
            k += 1
        return text[j:k - 1 if depth == 0 else k]
    for pat in (r"final answer is\s*:?\s*(.+)", r"####\s*(.+)", r"answer\s*(?:is|:)\s*(.+)"):
        m = list(re.finditer(pat, text, re.IGNORECASE))
        if m:
            return m[-1].group(1).split("\n")[0]
    nums = re.findall(r"(?<![A-Za-z0-9])" + _NUM, text)
    return nums[-1] if nums else ""


def _value(s):
    m = re.search(_NUM, s.replace("$", ""))
    if not m:
        return None
    try:
        return Fraction(m.group(0).replace(",", ""))
    except (ValueError, ZeroDivisionError):
        return None


def correct(completions, ground_truth, **kwargs):
    out = []
    for c, gold in zip(completions, ground_truth):
        text = c[-1]["content"] if isinstance(c, list) else c
        pred, ref = _value(_extract(text)), _value(str(gold))
        out.append(1.0 if pred is not None and pred == ref else 0.0)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="HF directory (e.g. rlvr export ... format=hf)")
    ap.add_argument("--data", required=True, help="JSONL with prompt, ground_truth")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--prompts", type=int, default=8, help="prompts per optimizer step")
    ap.add_argument("--n", type=int, default=8, help="samples per prompt (num_generations)")
    ap.add_argument("--max-new", type=int, default=256)
    ap.add_argument("--min-new", type=int, default=256, help="0: stop at EOS")
    ap.add_argument("--micro", type=int, default=16, help="completions per micro-batch")
    ap.add_argument("--steps", type=int, default=3, help="optimizer steps in all (warm-up included)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed leading steps")
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--beta", type=float, default=0.0, help="KL coefficient (0: no reference model)")
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("--no-chat", action="store_true", help="plain-text prompts, no chat template")
    ap.add_argument("--attn", default="sdpa", help="attn_implementation (sdpa, eager)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="/tmp/trl_peer_out")
    args = ap.parse_args()
    total = args.prompts * args.n
    if total % args.micro:
        sys.exit(f"trl_peer: --micro {args.micro} must divide prompts x n = {total}")
    if args.steps <= args.warmup:
        sys.exit("trl_peer: --steps must exceed --warmup")

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch
    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    import datasets
    import transformers
    import trl
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    rows = [json.loads(l) for l in open(args.data) if l.strip()][:args.prompts]
    if len(rows) < args.prompts:
        sys.exit(f"trl_peer: {args.data} has {len(rows)} rows, need {args.prompts}")
    prompt = (lambda r: r["prompt"]) if args.no_chat else (lambda r: [{"role": "user", "content": r["prompt"]}])
    ds = datasets.Dataset.from_list([{"prompt": prompt(r), "ground_truth": str(r["ground_truth"])} for r in rows])

    t0 = time.perf_counter()
    tok = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32, attn_implementation=args.attn)
    load_s = time.perf_counter() - t0

    cfg = GRPOConfig(
        output_dir=args.out, use_cpu=True, bf16=False, fp16=False, seed=args.seed,
        per_device_train_batch_size=args.micro, gradient_accumulation_steps=total // args.micro,
        num_generations=args.n, max_completion_length=args.max_new,
        generation_kwargs={"min_new_tokens": args.min_new} if args.min_new else None,
        temperature=args.temperature, top_p=1.0, top_k=0,
        beta=args.beta, num_iterations=1, epsilon=0.2, loss_type="dapo", scale_rewards="group",
        learning_rate=args.lr, lr_scheduler_type="constant", warmup_steps=0, weight_decay=0.0,
        adam_beta1=0.9, adam_beta2=0.99, adam_epsilon=1e-8, max_grad_norm=1.0,
        max_steps=args.steps, logging_steps=1, save_strategy="no", report_to="none",
        disable_tqdm=True, dataloader_num_workers=0, remove_unused_columns=False,
        shuffle_dataset=False, gradient_checkpointing=False)

    cur = {}

    def add(k, v):
        cur[k] = cur.get(k, 0.0) + v

    class Timed(GRPOTrainer):
        def _generate(self, *a, **kw):
            t = time.perf_counter()
            r = super()._generate(*a, **kw)
            add("sample_s", time.perf_counter() - t)
            log("trl_peer: generated %d completions in %.1f s" % (len(r[1]), time.perf_counter() - t))
            return r

        def _calculate_rewards(self, *a, **kw):
            t = time.perf_counter()
            r = super()._calculate_rewards(*a, **kw)
            add("score_s", time.perf_counter() - t)
            return r

        def _get_per_token_logps_and_entropies(self, *a, **kw):
            t = time.perf_counter()
            r = super()._get_per_token_logps_and_entropies(*a, **kw)
            add("ref_s" if not torch.is_grad_enabled() else "train_fwd_s", time.perf_counter() - t)
            return r

        def _generate_and_score_completions(self, *a, **kw):
            t = time.perf_counter()
            r = super()._generate_and_score_completions(*a, **kw)
            add("gen_phase_s", time.perf_counter() - t)
            add("completion_tokens", float(r["completion_mask"].sum()))
            add("prompt_tokens", float(r["prompt_mask"].sum()))
            add("completions", float(r["completion_mask"].size(0)))
            add("seq_len", float(r["prompt_mask"].size(1) + r["completion_mask"].size(1)))
            return r

    steps = []

    class StepTimer(TrainerCallback):
        def on_step_begin(self, a, state, control, **kw):
            cur.clear()
            cur["_t0"] = time.perf_counter()

        def on_step_end(self, a, state, control, **kw):
            s = dict(cur)
            s["step_s"] = time.perf_counter() - s.pop("_t0")
            s.setdefault("ref_s", 0.0)
            s["other_s"] = s["gen_phase_s"] - s.get("sample_s", 0) - s.get("score_s", 0) - s["ref_s"]
            s["train_s"] = s["step_s"] - s["gen_phase_s"]
            s["step"] = state.global_step
            steps.append(s)
            log("trl step %d: %s" % (s["step"], json.dumps({k: round(v, 3) for k, v in s.items()})))

    trainer = Timed(model=model, processing_class=tok, reward_funcs=[correct], args=cfg,
                    train_dataset=ds, callbacks=[StepTimer()])
    log(f"trl_peer: trl {trl.__version__}, transformers {transformers.__version__}, torch {torch.__version__}, "
        f"{args.threads} threads; micro-batch {args.micro} x {total // args.micro} accumulation steps, "
        f"generation batch {cfg.generation_batch_size}")
    t0 = time.perf_counter()
    trainer.train()
    train_wall = time.perf_counter() - t0
    timed = steps[args.warmup:]
    keys = ["step_s", "sample_s", "score_s", "ref_s", "other_s", "train_s", "train_fwd_s"]
    med = {k: statistics.median(s.get(k, 0.0) for s in timed) for k in keys}
    ctok = statistics.median(s["completion_tokens"] for s in timed)
    ptok = statistics.median(s["prompt_tokens"] for s in timed)
    res = {
        "peer": "trl", "trl": trl.__version__, "transformers": transformers.__version__,
        "torch": torch.__version__, "python": platform.python_version(), "threads": args.threads,
        "attn": args.attn, "prompts": args.prompts, "n": args.n, "max_new": args.max_new,
        "min_new": args.min_new, "micro": args.micro, "grad_accum": total // args.micro,
        "generation_batch": cfg.generation_batch_size, "beta": args.beta, "steps_timed": len(timed),
        "load_s": round(load_s, 2), "train_wall_s": round(train_wall, 2),
        **{k: round(v, 3) for k, v in med.items()},
        "completion_tokens": ctok, "prompt_tokens": ptok,
        "sample_tok_s": round(ctok / med["sample_s"], 1) if med["sample_s"] else None,
        "train_tok_s": round((ctok + ptok) / med["train_s"], 1) if med["train_s"] else None,
        "per_step": [{k: round(v, 3) for k, v in s.items()} for s in steps],
    }
    print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
