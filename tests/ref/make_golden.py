#!/usr/bin/env python3
"""Golden files for the rlvr C tests.

For each case a tiny Llama / Qwen2 / Qwen3 model is built with Hugging Face
transformers (random init, nothing downloaded), and
tests/data/golden/<case>.safetensors is written with the fp32 parameters, a
packed batch of 3 sequences, and float64 reference results: logits, per-token
log-prob of the target, entropy, a weighted NLL loss and its gradients, the
gradients of an RL-style loss2 = sum(c1*logp + c2*entropy), and five AdamW
steps with global grad-norm clipping. See tests/ref/README.md.

Run from anywhere:  python3 tests/ref/make_golden.py [--out DIR] [--case NAME]

Float64 note: HF's modeling code casts to float32 inside RMSNorm, the eager
attention softmax and the rotary cos/sin, so model.double() alone is NOT a
float64 computation. This script patches those three places to keep the input
dtype (float64 here; the float32 path is unchanged) and uses rotary inverse
frequencies computed in float64. The result is checked against an independent
hand-written float64 forward over the packed batch (block-diagonal causal
mask) to ~1e-12.
"""
import argparse
import copy
import json
import math
import os
import sys

import torch
import torch.nn.functional as F
import transformers
from safetensors import safe_open
from transformers import (LlamaConfig, LlamaForCausalLM, Qwen2Config,
                          Qwen2ForCausalLM, Qwen3Config, Qwen3ForCausalLM)
from transformers.models.llama import modeling_llama
from transformers.models.qwen2 import modeling_qwen2
from transformers.models.qwen3 import modeling_qwen3

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
F64 = torch.float64

SEQ_LENS = [5, 9, 3]
ZERO_WEIGHT_AT = [2, 10]
ADAM = dict(lr=1e-2, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
CLIP = 1.0
ADAM_STEPS = 5

BASE = dict(vocab_size=64, hidden_size=32, intermediate_size=48,
            num_hidden_layers=2, max_position_embeddings=64,
            rms_norm_eps=1e-5, hidden_act="silu", attention_dropout=0.0,
            use_cache=False)

LLAMA3_ROPE = {"rope_type": "llama3", "factor": 4.0, "low_freq_factor": 1.0,
               "high_freq_factor": 4.0,
               # 16 (as first proposed) leaves no frequency untouched with
               # head_dim 16: the shortest wavelength is 2*pi > 16/4. With 48
               # (high/low wavelength bounds 12 / 48) the 8 frequencies split
               # 1 untouched / 1 smoothed / 6 divided. Must stay below
               # max_position_embeddings (64) or transformers complains.
               "original_max_position_embeddings": 48}

CASES = [
    dict(name="llama_gqa", seed=1, arch="llama", theta=10000.0, rope=None,
         cfg=dict(num_attention_heads=4, num_key_value_heads=2,
                  tie_word_embeddings=False, attention_bias=False, mlp_bias=False)),
    dict(name="llama_mha_tied", seed=2, arch="llama", theta=10000.0, rope=None,
         cfg=dict(num_attention_heads=4, num_key_value_heads=4,
                  tie_word_embeddings=True, attention_bias=False, mlp_bias=False)),
    dict(name="qwen2_bias", seed=3, arch="qwen2", theta=10000.0, rope=None,
         cfg=dict(num_attention_heads=4, num_key_value_heads=2,
                  tie_word_embeddings=True, use_sliding_window=False)),
    dict(name="qwen3_qknorm", seed=4, arch="qwen3", theta=10000.0, rope=None,
         cfg=dict(num_attention_heads=4, num_key_value_heads=1, head_dim=16,
                  tie_word_embeddings=False, attention_bias=False,
                  use_sliding_window=False)),
    dict(name="llama3_rope", seed=5, arch="llama", theta=500000.0, rope=LLAMA3_ROPE,
         cfg=dict(num_attention_heads=2, num_key_value_heads=2, head_dim=16,
                  tie_word_embeddings=False, attention_bias=False, mlp_bias=False)),
]

ARCH = {
    "llama": (LlamaConfig, LlamaForCausalLM, "LlamaForCausalLM"),
    "qwen2": (Qwen2Config, Qwen2ForCausalLM, "Qwen2ForCausalLM"),
    "qwen3": (Qwen3Config, Qwen3ForCausalLM, "Qwen3ForCausalLM"),
}


# ---------------------------------------------------------------------------
# float64 patches for HF modeling code (identical behaviour for float32 input)

def _rmsnorm_forward(self, hidden_states):
    input_dtype = hidden_states.dtype
    h = hidden_states.to(torch.promote_types(input_dtype, torch.float32))
    variance = h.pow(2).mean(-1, keepdim=True)
    h = h * torch.rsqrt(variance + self.variance_epsilon)
    return self.weight * h.to(input_dtype)


def _make_eager(repeat_kv):
    def eager_attention_forward(module, query, key, value, attention_mask,
                                scaling, dropout=0.0, **kwargs):
        key_states = repeat_kv(key, module.num_key_value_groups)
        value_states = repeat_kv(value, module.num_key_value_groups)
        attn_weights = torch.matmul(query, key_states.transpose(2, 3)) * scaling
        if attention_mask is not None:
            attn_weights = attn_weights + attention_mask
        attn_weights = F.softmax(attn_weights, dim=-1,
                                 dtype=torch.promote_types(query.dtype, torch.float32)).to(query.dtype)
        attn_weights = F.dropout(attn_weights, p=dropout, training=module.training)
        attn_output = torch.matmul(attn_weights, value_states)
        return attn_output.transpose(1, 2).contiguous(), attn_weights
    return eager_attention_forward


def patch_hf_for_float64():
    for mod, norm in ((modeling_llama, "LlamaRMSNorm"), (modeling_qwen2, "Qwen2RMSNorm"),
                      (modeling_qwen3, "Qwen3RMSNorm")):
        getattr(mod, norm).forward = _rmsnorm_forward
        mod.eager_attention_forward = _make_eager(mod.repeat_kv)


def set_rotary_f64(model, inv_freq64):
    rot = model.model.rotary_emb

    def forward(x, position_ids):
        freqs = position_ids[..., None].to(F64) * inv_freq64.to(x.device)
        emb = torch.cat((freqs, freqs), dim=-1)
        return ((emb.cos() * rot.attention_scaling).to(x.dtype),
                (emb.sin() * rot.attention_scaling).to(x.dtype))
    rot.forward = forward


# ---------------------------------------------------------------------------
# independent float64 reference

def rope_inv_freq_f64(theta, head_dim, rope):
    """Returns (inv_freq, regime) with regime per frequency:
    0 = untouched, 1 = smoothed, 2 = divided by factor (llama3), None if default."""
    inv = 1.0 / theta ** (torch.arange(0, head_dim, 2, dtype=F64) / head_dim)
    if rope is None:
        return inv, None
    assert rope["rope_type"] == "llama3"
    old = rope["original_max_position_embeddings"]
    lo_f, hi_f, factor = rope["low_freq_factor"], rope["high_freq_factor"], rope["factor"]
    low_freq_wavelen, high_freq_wavelen = old / lo_f, old / hi_f
    wavelen = 2 * math.pi / inv
    smooth = (old / wavelen - lo_f) / (hi_f - lo_f)
    smoothed = (1 - smooth) * inv / factor + smooth * inv
    regime = torch.where(wavelen < high_freq_wavelen, 0, torch.where(wavelen > low_freq_wavelen, 2, 1))
    out = torch.where(regime == 0, inv, torch.where(regime == 2, inv / factor, smoothed))
    # margin to the regime boundaries (so fp32/f64 and C agree on the branch)
    margin = torch.minimum((wavelen / high_freq_wavelen - 1).abs(),
                           (wavelen / low_freq_wavelen - 1).abs()).min().item()
    return out, (regime, wavelen, low_freq_wavelen, high_freq_wavelen, margin)


def manual_forward(P, cfg, tokens, seq_lens, inv_freq):
    """Packed batch, block-diagonal causal mask, float64, from the state dict."""
    nh, nkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd, eps = cfg["head_dim"], cfg["rms_norm_eps"]
    half = hd // 2
    pos = torch.cat([torch.arange(T) for T in seq_lens])
    seg = torch.cat([torch.full((T,), i) for i, T in enumerate(seq_lens)])
    N = pos.numel()
    allowed = (seg[:, None] == seg[None, :]) & (pos[None, :] <= pos[:, None])
    ang = pos[:, None].to(F64) * inv_freq[None, :]
    cos, sin = ang.cos()[:, None, :], ang.sin()[:, None, :]

    def rms(x, w):
        return x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps) * w

    def rope(q):
        q1, q2 = q[..., :half], q[..., half:]
        return torch.cat((q1 * cos - q2 * sin, q2 * cos + q1 * sin), dim=-1)

    def lin(x, name):
        y = x @ P[name + ".weight"].T
        if name + ".bias" in P:
            y = y + P[name + ".bias"]
        return y

    x = P["model.embed_tokens.weight"][tokens.long()]
    for l in range(cfg["num_hidden_layers"]):
        pre = f"model.layers.{l}."
        h = rms(x, P[pre + "input_layernorm.weight"])
        q = lin(h, pre + "self_attn.q_proj").view(N, nh, hd)
        k = lin(h, pre + "self_attn.k_proj").view(N, nkv, hd)
        v = lin(h, pre + "self_attn.v_proj").view(N, nkv, hd)
        if pre + "self_attn.q_norm.weight" in P:
            q = rms(q, P[pre + "self_attn.q_norm.weight"])
            k = rms(k, P[pre + "self_attn.k_norm.weight"])
        q, k = rope(q), rope(k)
        kvh = torch.arange(nh) // (nh // nkv)
        k, v = k[:, kvh], v[:, kvh]
        s = torch.einsum("qhd,khd->hqk", q, k) / math.sqrt(hd)
        s = s.masked_fill(~allowed[None], float("-inf"))
        a = torch.einsum("hqk,khd->qhd", torch.softmax(s, -1), v).reshape(N, nh * hd)
        x = x + lin(a, pre + "self_attn.o_proj")
        h = rms(x, P[pre + "post_attention_layernorm.weight"])
        x = x + lin(F.silu(lin(h, pre + "mlp.gate_proj")) * lin(h, pre + "mlp.up_proj"), pre + "mlp.down_proj")
    x = rms(x, P["model.norm.weight"])
    W = P["lm_head.weight"] if "lm_head.weight" in P else P["model.embed_tokens.weight"]
    return x @ W.T


# ---------------------------------------------------------------------------

ST_DTYPE = {torch.float32: "F32", torch.int32: "I32"}


def write_safetensors(path, tensors, metadata):
    """Byte-for-byte deterministic safetensors writer: tensors in insertion
    order, metadata keys in insertion order (safetensors.torch.save_file puts
    __metadata__ through a Rust HashMap, so its key order changes run to run)."""
    header = {"__metadata__": dict(metadata)}
    blobs, off = [], 0
    for name, t in tensors.items():
        a = t.detach().contiguous().cpu().numpy()
        b = a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": ST_DTYPE[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little"))
        f.write(h)
        for b in blobs:
            f.write(b)
    # round trip through the safetensors library
    with safe_open(path, "pt") as f:
        assert f.metadata() == metadata
        assert list(f.keys()) == sorted(tensors)
        for name, t in tensors.items():
            assert torch.equal(f.get_tensor(name), t), name


def build(case):
    cls_cfg, cls_model, arch_name = ARCH[case["arch"]]
    rope_params = {"rope_type": "default", "rope_theta": case["theta"]}
    if case["rope"] is not None:
        rope_params = dict(case["rope"], rope_theta=case["theta"])
    cfg = cls_cfg(**BASE, **case["cfg"], rope_parameters=rope_params,
                  architectures=[arch_name], attn_implementation="eager")
    torch.manual_seed(0)  # HF's own init is overwritten below; keep it fixed anyway
    model = cls_model(cfg).float()
    model.eval()
    assert model.config._attn_implementation == "eager"

    torch.manual_seed(case["seed"])
    with torch.no_grad():
        for name, p in model.named_parameters():
            v = torch.randn_like(p) * 0.1
            if "norm" in name:
                v = v + 1.0
            p.copy_(v)
    for p in model.parameters():
        p.requires_grad_(True)

    tied = case["cfg"]["tie_word_embeddings"]
    names = [n for n, _ in model.named_parameters()]
    if tied:
        assert model.lm_head.weight is model.model.embed_tokens.weight
        assert "lm_head.weight" not in names
    else:
        assert model.lm_head.weight is not model.model.embed_tokens.weight
        assert "lm_head.weight" in names
    return model, cfg


def config_json(model, case):
    d = model.config.to_dict()
    c = model.config
    rp = dict(d["rope_parameters"])
    d["rope_theta"] = rp["rope_theta"]
    d["rope_scaling"] = None if rp.get("rope_type", "default") == "default" else \
        {k: v for k, v in rp.items() if k != "rope_theta"}
    d["head_dim"] = getattr(c, "head_dim", None) or c.hidden_size // c.num_attention_heads
    d["attention_bias"] = True if case["arch"] == "qwen2" else bool(c.attention_bias)
    d["torch_dtype"] = "float32"
    for k in ("model_type", "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
              "num_attention_heads", "num_key_value_heads", "head_dim", "rms_norm_eps", "rope_theta",
              "rope_scaling", "tie_word_embeddings", "attention_bias", "max_position_embeddings",
              "hidden_act"):
        assert k in d, k
    return d, json.dumps(d, indent=2, sort_keys=True)


def make_inputs(case, V):
    g = torch.Generator().manual_seed(1000 + case["seed"])
    N = sum(SEQ_LENS)
    tokens = torch.randint(0, V, (N,), generator=g, dtype=torch.int64).to(torch.int32)
    targets = torch.full((N,), -1, dtype=torch.int32)
    off = 0
    for T in SEQ_LENS:
        targets[off:off + T - 1] = tokens[off + 1:off + T]
        off += T
    weights = (torch.rand(N, generator=g, dtype=F64) + 0.5).float()
    weights[ZERO_WEIGHT_AT] = 0.0
    weights[targets == -1] = 0.0
    c1 = (torch.randn(N, generator=g, dtype=F64) * 0.5).float()
    c1[targets == -1] = 0.0
    c2 = (torch.randn(N, generator=g, dtype=F64) * 0.5).float()
    return tokens, targets, weights, c1, c2


def hf_logits_per_sequence(md, tokens):
    outs, off = [], 0
    for T in SEQ_LENS:
        ids = tokens[off:off + T].long()[None]
        pos = torch.arange(T)[None]
        outs.append(md(input_ids=ids, position_ids=pos, use_cache=False).logits[0])
        off += T
    return torch.cat(outs, 0)


def token_stats(logits, targets):
    lsm = torch.log_softmax(logits, -1)
    has = targets >= 0
    logp = lsm.gather(1, targets.long().clamp(min=0)[:, None])[:, 0] * has
    entropy = -(lsm.exp() * lsm).sum(-1)
    return logp, entropy


def run_case(case, out_dir):
    name = case["name"]
    model, cfg = build(case)
    cdict, cjson = config_json(model, case)
    V = cdict["vocab_size"]
    pnames = [n for n, _ in model.named_parameters()]

    inv64, rinfo = rope_inv_freq_f64(cdict["rope_theta"], cdict["head_dim"], case["rope"])
    hf_inv = model.model.rotary_emb.inv_freq.to(F64)
    rel = ((hf_inv - inv64).abs() / inv64).max().item()
    assert rel < 1e-6, f"{name}: rotary inv_freq mismatch vs HF ({rel})"
    if rinfo is not None:
        regime, wavelen, lw, hw, margin = rinfo
        print(f"[{name}] llama3 rope: high_freq_wavelen={hw:g} low_freq_wavelen={lw:g}")
        labels = ["untouched", "smoothed", "divided"]
        for i in range(inv64.numel()):
            print(f"    i={i} wavelen={wavelen[i].item():10.3f} inv_freq={inv64[i].item():.6e} "
                  f"-> {labels[regime[i].item()]}")
        counts = [int((regime == r).sum()) for r in range(3)]
        print(f"    regimes untouched/smoothed/divided = {counts}, "
              f"min relative distance to a boundary = {margin:.3f}; HF fp32 inv_freq rel diff {rel:.1e}")
        assert all(c > 0 for c in counts), "llama3 rope: not all three branches exercised"
        assert margin > 0.01

    tokens, targets, weights, c1, c2 = make_inputs(case, V)
    w64, c164, c264 = weights.to(F64), c1.to(F64), c2.to(F64)

    # fp32 HF output, before patching is irrelevant here (patch is a no-op for fp32)
    with torch.no_grad():
        logits32 = hf_logits_per_sequence(model, tokens).to(F64)

    md = copy.deepcopy(model).double()
    set_rotary_f64(md, inv64)
    params = dict(md.named_parameters())

    # --- forward + loss + grad
    logits = hf_logits_per_sequence(md, tokens)
    logp, entropy = token_stats(logits, targets)
    loss = (w64 * -logp).sum() / w64.sum()
    md.zero_grad(set_to_none=True)
    loss.backward()
    grads = {n: params[n].grad.detach().clone() for n in pnames}

    # --- independent check: packed manual forward, and that outputs use our params
    P = {n: p.detach() for n, p in model.state_dict().items()}
    P = {n: t.to(F64) for n, t in P.items() if not (cdict["tie_word_embeddings"] and n == "lm_head.weight")}
    P = {n: t.clone().requires_grad_(True) for n, t in P.items()}
    ref = manual_forward(P, cdict, tokens, SEQ_LENS, inv64)
    ref_logp, _ = token_stats(ref, targets)
    ((w64 * -ref_logp).sum() / w64.sum()).backward()
    d_grad = max((P[n].grad - grads[n]).abs().max().item() for n in pnames)
    ref = ref.detach()
    d_manual = (ref - logits.detach()).abs().max().item()
    assert d_grad < 1e-10, f"{name}: HF f64 vs manual packed grads differ by {d_grad}"
    d_fp32 = (logits32 - logits.detach()).abs().max().item()
    assert d_manual < 1e-10, f"{name}: HF f64 vs manual forward differ by {d_manual}"
    if cdict["tie_word_embeddings"]:
        assert md.lm_head.weight is md.model.embed_tokens.weight
    print(f"[{name}] |HF f64 - manual packed f64|: logits {d_manual:.1e}, grads {d_grad:.1e}; "
          f"|HF fp32 - f64| logits = {d_fp32:.1e}, "
          f"loss = {loss.item():.6f}")

    # --- loss2 = sum(c1*logp + c2*entropy)
    logits_b = hf_logits_per_sequence(md, tokens)
    logp_b, ent_b = token_stats(logits_b, targets)
    loss2 = (c164 * logp_b + c264 * ent_b).sum()
    md.zero_grad(set_to_none=True)
    loss2.backward()
    grads2 = {n: params[n].grad.detach().clone() for n in pnames}

    # --- AdamW, 5 steps, clip to global norm 1.0
    ma = copy.deepcopy(model).double()
    set_rotary_f64(ma, inv64)
    aparams = dict(ma.named_parameters())
    decay = [aparams[n] for n in pnames if aparams[n].ndim >= 2]
    no_decay = [aparams[n] for n in pnames if aparams[n].ndim < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": ADAM["weight_decay"]},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=ADAM["lr"], betas=ADAM["betas"], eps=ADAM["eps"],
                            foreach=False, fused=False)
    adam_loss, adam_gnorm = [], []
    plist = [aparams[n] for n in pnames]
    for _ in range(ADAM_STEPS):
        lg = hf_logits_per_sequence(ma, tokens)
        lp, _e = token_stats(lg, targets)
        l = (w64 * -lp).sum() / w64.sum()
        opt.zero_grad(set_to_none=True)
        l.backward()
        gn = torch.nn.utils.clip_grad_norm_(plist, max_norm=CLIP)
        adam_loss.append(l.item())
        adam_gnorm.append(gn.item())
        opt.step()
    print(f"[{name}] adam loss {['%.5f' % x for x in adam_loss]}")
    print(f"[{name}] adam gnorm {['%.5f' % x for x in adam_gnorm]} (clip at {CLIP})")

    # --- write
    T = {}
    for n in pnames:
        T[n] = dict(model.named_parameters())[n].detach().float()
    T["tokens"] = tokens
    T["seq_lens"] = torch.tensor(SEQ_LENS, dtype=torch.int32)
    T["targets"] = targets
    T["weights"] = weights
    T["logits"] = logits.detach().float()
    T["logp"] = logp.detach().float()
    T["entropy"] = entropy.detach().float()
    T["loss"] = loss.detach().float().reshape(1)
    for n in pnames:
        T["grad." + n] = grads[n].float()
    T["c1"] = c1
    T["c2"] = c2
    T["loss2"] = loss2.detach().float().reshape(1)
    for n in pnames:
        T["grad2." + n] = grads2[n].float()
    T["adam.loss"] = torch.tensor(adam_loss, dtype=F64).float()
    T["adam.gnorm"] = torch.tensor(adam_gnorm, dtype=F64).float()
    for n in pnames:
        T["step5." + n] = aparams[n].detach().float()
    T = {k: v.contiguous() for k, v in T.items()}
    meta = {
        "config_json": cjson,
        "case": name,
        "generator": f"tests/ref/make_golden.py torch {torch.__version__} transformers {transformers.__version__}",
    }
    path = os.path.join(out_dir, name + ".safetensors")
    write_safetensors(path, T, meta)
    print(f"[{name}] wrote {os.path.relpath(path, ROOT)} ({os.path.getsize(path)} bytes, "
          f"{len(T)} tensors, {len(pnames)} params x 4 sets)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "data", "golden"))
    ap.add_argument("--case", action="append", help="only these cases (repeatable)")
    args = ap.parse_args()
    torch.set_num_threads(1)  # bitwise reproducible reductions
    torch.use_deterministic_algorithms(True)
    patch_hf_for_float64()
    os.makedirs(args.out, exist_ok=True)
    for case in CASES:
        if args.case and case["name"] not in args.case:
            continue
        run_case(case, args.out)


if __name__ == "__main__":
    sys.exit(main())
