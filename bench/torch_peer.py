#!/usr/bin/env python3
"""PyTorch peer for the rlvr C training-step benchmark.

One training step = forward + mean next-token cross-entropy + backward +
global grad-norm clip (1.0) + AdamW step (lr 1e-2, betas (0.9, 0.95), eps 1e-8,
weight decay 0.1 on ndim >= 2 params only), fp32 on CPU, random tokens,
random init (nothing is downloaded). Default shape: SmolLM2-135M (llama,
vocab 49152, hidden 576, intermediate 1536, 30 layers, 9 heads, 3 kv heads,
tied embeddings, rope_theta 100000, rms_norm_eps 1e-5).

The step is timed once with attn_implementation="eager" and once with "sdpa";
the faster is the peer figure. Prints exactly one JSON line on stdout
(progress goes to stderr):

  {"peer": "torch", "version": ..., "threads": ..., "tokens_per_s": ...,
   "step_s": ..., "attn": ..., ...}

tokens_per_s = batch * seq / step_s, step_s = median of the timed steps (mean and
min are in by_attn too). On a shared machine, rerun when it is quiet: the
figure moves several-fold under CPU contention.

  python3 bench/torch_peer.py --threads 2 --batch 4 --seq 256 --steps 3 --warmup 1
"""
import argparse
import json
import platform
import sys
import time


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--steps", type=int, default=3, help="timed steps per attention kind")
    ap.add_argument("--warmup", type=int, default=1, help="untimed steps per attention kind")
    ap.add_argument("--attn", default="eager,sdpa", help="comma list of eager,sdpa")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-fused-adamw", action="store_true",
                    help="use the plain for-loop AdamW instead of fused=True")
    # model shape (SmolLM2-135M by default)
    ap.add_argument("--arch", default="llama", choices=["llama", "qwen2", "qwen3"])
    ap.add_argument("--vocab", type=int, default=49152)
    ap.add_argument("--hidden", type=int, default=576)
    ap.add_argument("--intermediate", type=int, default=1536)
    ap.add_argument("--layers", type=int, default=30)
    ap.add_argument("--heads", type=int, default=9)
    ap.add_argument("--kv-heads", type=int, default=3)
    ap.add_argument("--head-dim", type=int, default=0, help="0: hidden/heads")
    ap.add_argument("--untied", action="store_true")
    ap.add_argument("--rope-theta", type=float, default=100000.0)
    ap.add_argument("--rms-eps", type=float, default=1e-5)
    ap.add_argument("--max-pos", type=int, default=8192)
    args = ap.parse_args()

    import torch
    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    import transformers
    from transformers import (LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM,
                              Qwen3Config, Qwen3ForCausalLM)
    arch = {"llama": (LlamaConfig, LlamaForCausalLM), "qwen2": (Qwen2Config, Qwen2ForCausalLM),
            "qwen3": (Qwen3Config, Qwen3ForCausalLM)}[args.arch]
    head_dim = args.head_dim or args.hidden // args.heads
    shape = dict(model_type=args.arch, vocab_size=args.vocab, hidden_size=args.hidden,
                 intermediate_size=args.intermediate, num_hidden_layers=args.layers,
                 num_attention_heads=args.heads, num_key_value_heads=args.kv_heads,
                 head_dim=head_dim, tie_word_embeddings=not args.untied,
                 rope_theta=args.rope_theta, rms_norm_eps=args.rms_eps)

    B, T = args.batch, args.seq
    g = torch.Generator().manual_seed(args.seed)
    seqs = torch.randint(0, args.vocab, (B, T + 1), generator=g)
    inputs, targets = seqs[:, :-1].contiguous(), seqs[:, 1:].contiguous()
    position_ids = torch.arange(T)[None].expand(B, T)

    results = {}
    for attn in [a.strip() for a in args.attn.split(",") if a.strip()]:
        cfg = arch[0](vocab_size=args.vocab, hidden_size=args.hidden,
                      intermediate_size=args.intermediate, num_hidden_layers=args.layers,
                      num_attention_heads=args.heads, num_key_value_heads=args.kv_heads,
                      head_dim=head_dim, tie_word_embeddings=not args.untied,
                      rope_parameters={"rope_type": "default", "rope_theta": args.rope_theta},
                      rms_norm_eps=args.rms_eps, max_position_embeddings=max(args.max_pos, T),
                      attention_dropout=0.0, use_cache=False, attn_implementation=attn)
        torch.manual_seed(args.seed)
        t0 = time.perf_counter()
        model = arch[1](cfg).float()
        model.train()  # dropout is 0 anyway
        n_params = sum(p.numel() for p in model.parameters())
        log(f"[{attn}] built {n_params / 1e6:.1f}M params in {time.perf_counter() - t0:.1f}s")
        params = list(model.parameters())
        decay = [p for p in params if p.ndim >= 2]
        no_decay = [p for p in params if p.ndim < 2]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                                 {"params": no_decay, "weight_decay": 0.0}],
                                lr=1e-2, betas=(0.9, 0.95), eps=1e-8,
                                fused=not args.no_fused_adamw)

        def step():
            logits = model(input_ids=inputs, position_ids=position_ids, use_cache=False).logits
            loss = torch.nn.functional.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, max_norm=1.0)
            opt.step()
            return loss.item()

        times = []
        for i in range(args.warmup + args.steps):
            t0 = time.perf_counter()
            loss = step()
            dt = time.perf_counter() - t0
            kind = "warmup" if i < args.warmup else "timed"
            log(f"[{attn}] step {i} ({kind}) {dt:.3f}s loss {loss:.4f}")
            if i >= args.warmup:
                times.append(dt)
        st = sorted(times)
        step_s = st[len(st) // 2] if len(st) % 2 else 0.5 * (st[len(st) // 2 - 1] + st[len(st) // 2])
        results[attn] = {"step_s": round(step_s, 4), "mean_step_s": round(sum(times) / len(times), 4),
                         "min_step_s": round(min(times), 4), "tokens_per_s": round(B * T / step_s, 1),
                         "step_times": [round(t, 4) for t in times]}
        del model, opt

    best = min(results, key=lambda a: results[a]["step_s"])
    out = {"peer": "torch", "version": torch.__version__, "transformers": transformers.__version__,
           "threads": args.threads, "tokens_per_s": results[best]["tokens_per_s"],
           "step_s": results[best]["step_s"], "attn": best, "by_attn": results,
           "batch": B, "seq": T, "steps": args.steps, "warmup": args.warmup,
           "adamw": "fused" if not args.no_fused_adamw else "for-loop",
           "params": n_params, "shape": shape, "python": platform.python_version()}
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
