#!/usr/bin/env python3
"""Golden files for tests/test_gguf.c, made with gguf-py (llama.cpp's own Python
package) and numpy. Nothing is downloaded.

  python3 tests/ref/make_gguf_golden.py            # writes tests/data/gguf/*
  python3 tests/ref/make_gguf_golden.py --smollm2 ~/.cache/rlvr/models/SmolLM2-135M-Instruct.Q4_1.gguf
      # prints the reference numbers hard-coded in test_gguf.c (needs torch + transformers)

Files (all deterministic: fixed seeds, fixed insertion order; two runs give the same
sha256):

quants.gguf  Written by gguf-py's GGUFWriter with general.alignment = 64. Metadata:
             one key of every GGUF value type (t.u8 .. t.f64), arrays of int32, float32,
             bool, string and a nested array (t.*), whose values test_gguf.c checks.
             Tensors, per type T in F32 F16 BF16 F64 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K
             Q3_K Q4_K Q5_K Q6_K: "q.T" = 4 rows of raw blocks, "ref.T" = the same
             values as gguf-py's gguf.quants.dequantize decodes them (F32). The blocks
             are random bytes (every bit pattern of the quants), with their fp16
             scale fields overwritten by finite random scales so that no NaN/inf
             appears; F16/BF16/F64 hold random values plus zeros and subnormals.

<case>.gguf + <case>.expect.safetensors
             Tiny models (random weights) in llama.cpp's layout, with the Hugging
             Face tensors they must load back into. For llama the Q/K rows are
             permuted exactly as convert_hf_to_gguf.py's LlamaModel.permute does (and
             the script checks that transformers' own GGUF reader undoes it).
               llama_gqa     llama, 2 heads / 1 kv head, head_dim 8, untied, F32
               qwen2_bias    qwen2, q/k/v biases, tied, matrices F16
               qwen3_qknorm  qwen3, head_dim 12 != hidden/heads, q/k norms, untied
               llama3_rope   llama, tied, Llama-3 rope scaling stored as
                             rope_freqs.weight (factor 8, low 1, high 4, orig 64)
"""
import argparse
import hashlib
import math
import os
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as QT
from gguf import GGUFValueType as VT

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "data", "gguf")

# fp16 scale fields: byte offsets inside one block
SCALE_FIELDS = {
    QT.Q4_0: [0], QT.Q4_1: [0, 2], QT.Q5_0: [0], QT.Q5_1: [0, 2], QT.Q8_0: [0],
    QT.Q2_K: [80, 82], QT.Q3_K: [108], QT.Q4_K: [0, 2], QT.Q5_K: [0, 2], QT.Q6_K: [208],
}
QUANT_TYPES = [QT.Q4_0, QT.Q4_1, QT.Q5_0, QT.Q5_1, QT.Q8_0, QT.Q2_K, QT.Q3_K, QT.Q4_K, QT.Q5_K, QT.Q6_K]
ROWS = 4


def random_blocks(rng, qt, n_blocks):
    bs, ts = gguf.GGML_QUANT_SIZES[qt]
    raw = rng.integers(0, 256, size=(n_blocks, ts), dtype=np.uint8)
    for off in SCALE_FIELDS[qt]:
        mag = 10.0 ** rng.uniform(-4, 0.5, size=n_blocks)
        sign = np.where(rng.random(n_blocks) < 0.5, -1.0, 1.0)
        raw[:, off:off + 2] = (sign * mag).astype(np.float16).view(np.uint8).reshape(n_blocks, 2)
    return raw


def float_values(rng, n):
    x = rng.standard_normal(n) * 10.0 ** rng.uniform(-3, 3, size=n)
    x[:4] = [0.0, -0.0, 6.0e-8, -3.0e-6]          # zeros and fp16 subnormals
    return x


def write_quants(path):
    rng = np.random.default_rng(20240601)
    w = gguf.GGUFWriter(path, "rlvr-test")
    w.add_custom_alignment(64)
    w.add_uint8("t.u8", 200)
    w.add_int8("t.i8", -100)
    w.add_uint16("t.u16", 60000)
    w.add_int16("t.i16", -30000)
    w.add_uint32("t.u32", 4000000000)
    w.add_int32("t.i32", -2000000000)
    w.add_float32("t.f32", 1.5)
    w.add_bool("t.bool", True)
    w.add_string("t.str", "h\u00e9llo")
    w.add_uint64("t.u64", 2**63 + 5)
    w.add_int64("t.i64", -(2**62))
    w.add_float64("t.f64", math.pi)
    w.add_key_value("t.empty", "", VT.STRING)
    w.add_key_value("t.arr_i32", [1, -2, 3], VT.ARRAY, sub_type=VT.INT32)
    w.add_key_value("t.arr_f32", [0.5, -1.25], VT.ARRAY, sub_type=VT.FLOAT32)
    w.add_key_value("t.arr_u64", [2**64 - 1, 7], VT.ARRAY, sub_type=VT.UINT64)
    w.add_array("t.arr_bool", [True, False, True])
    w.add_array("t.arr_str", ["a", "", "ccc", "\u00fc"])
    w.add_key_value("t.arr_nested", [[1, 2], [3]], VT.ARRAY, sub_type=VT.ARRAY)
    for name, qt, n in [("F32", QT.F32, 64), ("F16", QT.F16, 64), ("BF16", QT.BF16, 64), ("F64", QT.F64, 64)]:
        x = float_values(rng, ROWS * n)
        if qt == QT.F32:
            q = x.astype(np.float32)
        elif qt == QT.F16:
            q = np.clip(x, -65504, 65504).astype(np.float16)
        elif qt == QT.BF16:
            q = gguf.quants.quantize(x.astype(np.float32), QT.BF16)
        else:
            q = x.astype(np.float64)
        q = q.reshape(ROWS, -1)
        ref = q.astype(np.float32) if qt != QT.BF16 else gguf.quants.dequantize(q, QT.BF16)
        w.add_tensor("q." + name, q, raw_dtype=QT.BF16 if qt == QT.BF16 else None)
        w.add_tensor("ref." + name, np.ascontiguousarray(ref, dtype=np.float32).reshape(ROWS, n))
    for qt in QUANT_TYPES:
        bs, ts = gguf.GGML_QUANT_SIZES[qt]
        per_row = 2 if bs == 256 else 8
        raw = random_blocks(rng, qt, ROWS * per_row).reshape(ROWS, per_row * ts)
        ref = gguf.quants.dequantize(raw, qt).astype(np.float32)
        assert ref.shape == (ROWS, per_row * bs) and np.all(np.isfinite(ref)), qt.name
        w.add_tensor("q." + qt.name, raw, raw_dtype=qt)
        w.add_tensor("ref." + qt.name, ref)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


# ---------------------------------------------------------------- tiny models

def llama_permute(w, n_head, n_head_kv=None):
    """convert_hf_to_gguf.py's LlamaModel.permute (HF rotate_half rows -> interleaved)."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return (w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
            .swapaxes(1, 2).reshape(w.shape))


CASES = {
    "llama_gqa": dict(arch="llama", V=32, C=16, F=24, L=2, H=2, KV=1, D=8, tied=False, bias=False, qknorm=False,
                      theta=10000.0, ctx=64, seed=1, f16=False),
    "qwen2_bias": dict(arch="qwen2", V=32, C=16, F=24, L=2, H=2, KV=1, D=8, tied=True, bias=True, qknorm=False,
                       theta=1000000.0, ctx=128, seed=2, f16=True),
    "qwen3_qknorm": dict(arch="qwen3", V=32, C=16, F=24, L=2, H=2, KV=1, D=12, tied=False, bias=False, qknorm=True,
                         theta=1000000.0, ctx=96, seed=3, f16=False),
    "llama3_rope": dict(arch="llama", V=32, C=32, F=24, L=1, H=2, KV=2, D=16, tied=True, bias=False, qknorm=False,
                        theta=10000.0, ctx=256, seed=4, f16=False,
                        rope=dict(factor=8.0, low=1.0, high=4.0, orig=64)),
}


def hf_tensors(c, rng):
    V, C, F, H, KV, D = c["V"], c["C"], c["F"], c["H"], c["KV"], c["D"]
    t = {}

    def mat(*shape):
        return (rng.standard_normal(shape) * 0.1).astype(np.float32)

    def norm(n):
        return (1.0 + rng.standard_normal(n) * 0.1).astype(np.float32)

    t["model.embed_tokens.weight"] = mat(V, C)
    for l in range(c["L"]):
        p = f"model.layers.{l}."
        t[p + "input_layernorm.weight"] = norm(C)
        t[p + "self_attn.q_proj.weight"] = mat(H * D, C)
        t[p + "self_attn.k_proj.weight"] = mat(KV * D, C)
        t[p + "self_attn.v_proj.weight"] = mat(KV * D, C)
        if c["bias"]:
            t[p + "self_attn.q_proj.bias"] = mat(H * D)
            t[p + "self_attn.k_proj.bias"] = mat(KV * D)
            t[p + "self_attn.v_proj.bias"] = mat(KV * D)
        t[p + "self_attn.o_proj.weight"] = mat(C, H * D)
        if c["qknorm"]:
            t[p + "self_attn.q_norm.weight"] = norm(D)
            t[p + "self_attn.k_norm.weight"] = norm(D)
        t[p + "post_attention_layernorm.weight"] = norm(C)
        t[p + "mlp.gate_proj.weight"] = mat(F, C)
        t[p + "mlp.up_proj.weight"] = mat(F, C)
        t[p + "mlp.down_proj.weight"] = mat(C, F)
    t["model.norm.weight"] = norm(C)
    if not c["tied"]:
        t["lm_head.weight"] = mat(V, C)
    return t


GG_LAYER = {
    "input_layernorm.weight": "attn_norm.weight", "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.k_proj.weight": "attn_k.weight", "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.q_proj.bias": "attn_q.bias", "self_attn.k_proj.bias": "attn_k.bias",
    "self_attn.v_proj.bias": "attn_v.bias", "self_attn.o_proj.weight": "attn_output.weight",
    "self_attn.q_norm.weight": "attn_q_norm.weight", "self_attn.k_norm.weight": "attn_k_norm.weight",
    "post_attention_layernorm.weight": "ffn_norm.weight", "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight", "mlp.down_proj.weight": "ffn_down.weight",
}


def gguf_name(hf):
    top = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
           "lm_head.weight": "output.weight"}
    if hf in top:
        return top[hf]
    parts = hf.split(".", 3)
    return f"blk.{parts[2]}.{GG_LAYER[parts[3]]}"


def llama3_rope_factors(theta, D, factor, low, high, orig):
    """convert_hf_to_gguf.py's LlamaModel rope_freqs computation."""
    freqs = 1.0 / (theta ** (np.arange(0, D, 2, dtype=np.float32) / D))
    lw, hw = orig / low, orig / high
    out = []
    for f in freqs:
        wl = 2 * math.pi / f
        if wl < hw:
            out.append(1.0)
        elif wl > lw:
            out.append(factor)
        else:
            s = (orig / wl - low) / (high - low)
            out.append(1 / ((1 - s) / factor + s))
    return np.array(out, dtype=np.float32)


def check_transformers_unpermute(t_hf, t_gg, c):
    """transformers' GGUF reader must undo our permute (independent check)."""
    try:
        from transformers.modeling_gguf_pytorch_utils import LlamaTensorProcessor
    except Exception as e:  # transformers missing: the reshape identity below still holds
        print("  (transformers not available for the cross-check:", e, ")")
        return
    proc = LlamaTensorProcessor(config={"num_attention_heads": c["H"], "num_key_value_heads": c["KV"]})
    for hf, x in t_hf.items():
        gn = gguf_name(hf)
        if ".attn_q." in gn or ".attn_k." in gn:
            back = proc.process(t_gg[gn], gn).weights
            assert np.array_equal(back, x), hf


def write_model(name, c):
    rng = np.random.default_rng(c["seed"])
    t_hf = hf_tensors(c, rng)
    t_gg = {}
    for hf, x in t_hf.items():
        y = x
        if c["arch"] == "llama" and (".q_proj." in hf or ".k_proj." in hf):
            y = llama_permute(x, c["H"], c["H"] if ".q_proj." in hf else c["KV"])
        t_gg[gguf_name(hf)] = y
    if c["arch"] == "llama":
        check_transformers_unpermute(t_hf, t_gg, c)
    w = gguf.GGUFWriter(os.path.join(OUT, name + ".gguf"), c["arch"])
    a = c["arch"]
    w.add_string("general.name", name)
    w.add_uint32(a + ".context_length", c["ctx"])
    w.add_uint32(a + ".embedding_length", c["C"])
    w.add_uint32(a + ".block_count", c["L"])
    w.add_uint32(a + ".feed_forward_length", c["F"])
    w.add_uint32(a + ".attention.head_count", c["H"])
    w.add_uint32(a + ".attention.head_count_kv", c["KV"])
    w.add_float32(a + ".rope.freq_base", c["theta"])
    w.add_float32(a + ".attention.layer_norm_rms_epsilon", 1e-6)
    if c["D"] != c["C"] // c["H"]:
        w.add_uint32(a + ".attention.key_length", c["D"])
        w.add_uint32(a + ".attention.value_length", c["D"])
    w.add_uint32(a + ".rope.dimension_count", c["D"])
    w.add_uint32("tokenizer.ggml.bos_token_id", 1)
    w.add_uint32("tokenizer.ggml.eos_token_id", 2)
    w.add_array("tokenizer.ggml.tokens", [f"t{i}" for i in range(c["V"])])
    expect = {}
    if "rope" in c:
        r = c["rope"]
        w.add_tensor("rope_freqs.weight", llama3_rope_factors(c["theta"], c["D"], r["factor"], r["low"], r["high"], r["orig"]))
    for hf, x in t_hf.items():
        y = t_gg[gguf_name(hf)]
        if c["f16"] and y.ndim == 2:
            w.add_tensor(gguf_name(hf), y.astype(np.float16))
            expect[hf] = x.astype(np.float16).astype(np.float32)
        else:
            w.add_tensor(gguf_name(hf), y)
            expect[hf] = x
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    from safetensors.numpy import save_file
    save_file(expect, os.path.join(OUT, name + ".expect.safetensors"), metadata={"case": name})


# ---------------------------------------------------------------- SmolLM2 reference numbers

PROMPT = ["The", "\u0120capital", "\u0120of", "\u0120France", "\u0120is"]
NEXT = "\u0120Paris"
PROBES = [  # (HF tensor, row, col): rows chosen in several heads and both rope halves
    ("model.layers.0.self_attn.q_proj.weight", 0, 0), ("model.layers.0.self_attn.q_proj.weight", 1, 5),
    ("model.layers.0.self_attn.q_proj.weight", 33, 100), ("model.layers.0.self_attn.q_proj.weight", 64 * 4 + 40, 575),
    ("model.layers.7.self_attn.k_proj.weight", 2, 3), ("model.layers.7.self_attn.k_proj.weight", 64 + 32, 17),
    ("model.layers.29.self_attn.k_proj.weight", 191, 300), ("model.layers.3.self_attn.v_proj.weight", 100, 200),
    ("model.embed_tokens.weight", 1, 0), ("model.embed_tokens.weight", 49151, 575),
    ("model.layers.5.mlp.down_proj.weight", 10, 1000), ("model.layers.29.post_attention_layernorm.weight", 7, -1),
    ("model.norm.weight", 575, -1),
]


def smollm2(path):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM
    from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint
    r = gguf.GGUFReader(path)
    f = r.fields["tokenizer.ggml.tokens"]
    vocab = [bytes(f.parts[i]).decode("utf-8") for i in f.data]
    ids = [vocab.index(s) for s in PROMPT]
    nxt = vocab.index(NEXT)
    meta = load_gguf_checkpoint(path, return_tensors=False)
    cfg = LlamaConfig(**{k: v for k, v in meta["config"].items() if k != "model_type"})
    model = LlamaForCausalLM(cfg).float().eval()
    sd = load_gguf_checkpoint(path, return_tensors=True, model_to_load=model)["tensors"]
    missing = model.load_state_dict({k: torch.as_tensor(np.asarray(v)) for k, v in sd.items()}, strict=False)
    assert not [k for k in missing.missing_keys if k != "lm_head.weight"], missing
    model.tie_weights()
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0].double()
    lp = torch.log_softmax(logits, -1)
    from importlib.metadata import version
    print("/* made by tests/ref/make_gguf_golden.py --smollm2 (gguf-py %s, transformers %s's GGUF loader) */"
          % (version("gguf"), version("transformers")))
    print("static const int smol_prompt[%d] = {%s};  /* %s */" % (len(ids), ", ".join(map(str, ids)), " ".join(PROMPT)))
    print("static const int smol_next = %d;  /* %s */" % (nxt, NEXT))
    print("static const struct { const char *name; int row, col; float value; } smol_probe[] = {")
    for name, row, col in PROBES:
        x = np.asarray(sd[name])
        v = x[row] if col < 0 else x[row, col]
        print('    {"%s", %d, %d, %.9gf},' % (name, row, col, float(v)))
    print("};")
    T = len(ids)
    print("/* logits (T=%d, V) at the last position for a few ids, and log p(next) at each position */" % T)
    cols = [0, 1, 2, nxt, 100, 49151]
    print("static const int smol_logit_ids[%d] = {%s};" % (len(cols), ", ".join(map(str, cols))))
    print("static const float smol_logit_last[%d] = {%s};" % (len(cols), ", ".join("%.7gf" % logits[T - 1, j].item() for j in cols)))
    print("static const int smol_argmax_last = %d;" % int(logits[T - 1].argmax()))
    targets = ids[1:] + [nxt]
    print("static const float smol_logp[%d] = {%s};" % (T, ", ".join("%.7gf" % lp[t, targets[t]].item() for t in range(T))))


def main():
    global OUT
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=OUT)
    ap.add_argument("--smollm2", metavar="GGUF", help="print SmolLM2 reference numbers instead")
    args = ap.parse_args()
    if args.smollm2:
        smollm2(args.smollm2)
        return
    OUT = args.out
    os.makedirs(OUT, exist_ok=True)
    write_quants(os.path.join(OUT, "quants.gguf"))
    for name, c in CASES.items():
        write_model(name, c)
    total = 0
    for fn in sorted(os.listdir(OUT)):
        p = os.path.join(OUT, fn)
        data = open(p, "rb").read()
        total += len(data)
        print("%-32s %7d bytes  sha256 %s" % (fn, len(data), hashlib.sha256(data).hexdigest()[:16]))
    print("total %d bytes" % total)
    assert total < 1 << 20


if __name__ == "__main__":
    main()
