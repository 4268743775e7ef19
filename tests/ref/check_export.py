#!/usr/bin/env python3
"""check_export.py: do rlvr's exports load in the reference tools and compute the same
logits? Run by hand (not by make test), after the C test has left its files:

    RLVR_KEEP_EXPORT=/tmp/rlvr_export ./build/tests/test_export
    python3 tests/ref/check_export.py /tmp/rlvr_export [~/.cache/rlvr/models/SmolLM2-135M-Instruct.Q4_1.gguf]

The directory holds smollm2-hf/ (model_export_hf, F32), smollm2-f32.gguf
(model_export_gguf, F32) and rlvr_logits.safetensors (the prompt ids and rlvr's logits
at every position, from the original Q4_1 GGUF dequantized). The script loads
  1. smollm2-hf with AutoTokenizer + AutoModelForCausalLM (float32, eager attention);
  2. smollm2-f32.gguf with transformers' GGUF loader (gguf-py underneath);
  3. the original GGUF the same way, when its path is given;
checks that each tokenizer encodes a few strings (plain and chat) like the original
GGUF's, and prints each model's max |logit difference| against rlvr's, relative to
the largest |logit|. Exit status 1 when any tokenization differs or an error exceeds
1e-4.
"""
import os
import sys

import numpy as np
import torch

TEXTS = ["The capital of France is", "What is 17 * 23? Answer with 391.",
         "  leading spaces\n\nand\ttabs 2024-01-01", "café naïve 中文 😀"]


def load_gguf_model(path):
    """As tests/ref/make_generation_golden.py: transformers' GGUF config + tensors."""
    from transformers import AutoConfig, AutoModelForCausalLM
    from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint
    d, f = os.path.split(os.path.abspath(path))
    cfg = AutoConfig.from_pretrained(d, gguf_file=f)
    cfg._attn_implementation = "eager"
    model = AutoModelForCausalLM.from_config(cfg, dtype=torch.float32, attn_implementation="eager").eval()
    sd = load_gguf_checkpoint(path, return_tensors=True, model_to_load=model)["tensors"]
    res = model.load_state_dict({k: torch.as_tensor(np.asarray(v)) for k, v in sd.items()}, strict=False)
    assert not [k for k in res.missing_keys if k != "lm_head.weight"], res
    assert not res.unexpected_keys, res
    model.tie_weights()
    return model


def gguf_tokenizer(path):
    from transformers import AutoTokenizer
    d, f = os.path.split(os.path.abspath(path))
    return AutoTokenizer.from_pretrained(d, gguf_file=f)


def logits_of(model, ids):
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0].float().numpy()


def rel_err(got, ref):
    return float(np.max(np.abs(got - ref)) / np.max(np.abs(ref)))


def encodings(tok):
    out = []
    for t in TEXTS:
        out.append(tok(t, add_special_tokens=True)["input_ids"])
        out.append(tok.apply_chat_template([{"role": "user", "content": t}], add_generation_prompt=True, tokenize=False))
    return out


def main():
    from safetensors.numpy import load_file
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging
    logging.disable_progress_bar()
    torch.set_num_threads(int(os.environ.get("THREADS", "2")))
    d = sys.argv[1]
    orig = sys.argv[2] if len(sys.argv) > 2 else None
    ref = load_file(os.path.join(d, "rlvr_logits.safetensors"))
    ids, want = [int(x) for x in ref["ids"]], ref["logits"]
    bad = 0

    hf_dir = os.path.join(d, "smollm2-hf")
    tok = AutoTokenizer.from_pretrained(hf_dir)
    got_ids = tok(TEXTS[0])["input_ids"]
    print(f"HF tokenizer ids of {TEXTS[0]!r}: {got_ids} (rlvr {ids})")
    bad += got_ids != ids
    if orig:
        o = encodings(gguf_tokenizer(orig))
        for name, t in (("HF export", tok), ("GGUF export", gguf_tokenizer(os.path.join(d, "smollm2-f32.gguf")))):
            same = encodings(t) == o
            print(f"{name} tokenizer vs original GGUF tokenizer (plain ids + chat text, {len(TEXTS)} strings): "
                  f"{'same' if same else 'DIFFERENT'}")
            bad += not same

    rows = []
    m = AutoModelForCausalLM.from_pretrained(hf_dir, dtype=torch.float32, attn_implementation="eager").eval()
    rows.append(("HF dir (AutoModelForCausalLM)", logits_of(m, ids)))
    del m
    rows.append(("exported GGUF (transformers GGUF loader)", logits_of(load_gguf_model(os.path.join(d, "smollm2-f32.gguf")), ids)))
    if orig:
        rows.append(("original Q4_1 GGUF (transformers)", logits_of(load_gguf_model(orig), ids)))
    for name, lg in rows:
        e = rel_err(lg, want)
        print(f"{name:45s} vs rlvr: max|diff|/max|logit| = {e:.3g}, argmax equal at "
              f"{int(np.sum(lg.argmax(-1) == want.argmax(-1)))}/{len(ids)} positions")
        bad += e > 1e-4
    if len(rows) > 2:
        print(f"exported HF vs original GGUF in transformers: {rel_err(rows[0][1], rows[2][1]):.3g}")
    print("FAIL" if bad else "ok")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
