#!/usr/bin/env python3
"""make_generation_golden.py: greedy generation from SmolLM2-135M-Instruct Q4_1 with
transformers' own GGUF loader (dequantized to float32, eager attention, 1 thread), for
tests/test_load.c. For 3 prompts (one plain, two chat) it records the prompt ids the
GGUF's tokenizer makes, 64 greedy new ids (min_new_tokens=64, so EOS does not stop it
early) and the top-5 logits of the first generated position, plus the margin between
the two best logits at every step (how close each greedy choice was).

    python3 tests/ref/make_generation_golden.py ~/.cache/rlvr/models/SmolLM2-135M-Instruct.Q4_1.gguf

Output: tests/data/generation/smollm2_greedy.txt (override with --out). Line format,
one record per line, fields separated by single spaces:

    # comment
    case NAME MODE             MODE = plain | chat; starts a case
    text HEX                   the user text as hex UTF-8 bytes
    system HEX                 (chat, optional) a system message, hex UTF-8
    prompt N id...             prompt token ids
    gen N id...                greedy new token ids
    top5 id:logit ...          first generated position, logits with %.9g
    margin N m...              top1 - top2 logit at each generated position (%.4g)
    end
"""
import argparse
import os

PROMPTS = [
    ("plain", "plain", "The capital of France is", None),
    ("chat_math", "chat", "What is 17 * 23? Answer with just the number.", None),
    ("chat_system", "chat", "Write a haiku about the sea.", "You are a poet who answers briefly."),
]
N_NEW = 64


def load_model(path):
    """The model as AutoModelForCausalLM.from_pretrained(dir, gguf_file=...) builds it
    (that call insists on `accelerate`, which nothing else here needs): transformers'
    GGUF loader for the config and the dequantized tensors, float32, eager attention."""
    import numpy as np
    import torch
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("gguf")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "data", "generation",
                                                  "smollm2_greedy.txt"))
    args = ap.parse_args()

    import torch
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    import transformers
    from transformers import AutoTokenizer

    d, f = os.path.split(os.path.abspath(args.gguf))
    tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
    model = load_model(args.gguf)

    lines = ["# made by tests/ref/make_generation_golden.py (transformers %s, torch %s) from %s"
             % (transformers.__version__, torch.__version__, f),
             "# greedy, float32, eager attention, min_new_tokens=%d" % N_NEW]
    for name, mode, text, system in PROMPTS:
        if mode == "plain":
            ids = tok(text)["input_ids"]          # HF's default encode (special tokens as the tokenizer adds them)
        else:
            msgs = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": text}]
            rendered = tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
            ids = tok(rendered, add_special_tokens=False)["input_ids"]
        with torch.no_grad():
            out = model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                                 do_sample=False, max_new_tokens=N_NEW, min_new_tokens=N_NEW,
                                 repetition_penalty=1.0, output_scores=True, output_logits=True,
                                 return_dict_in_generate=True, pad_token_id=tok.eos_token_id,
                                 temperature=None, top_p=None, top_k=None)
        gen = out.sequences[0, len(ids):].tolist()
        assert len(gen) == N_NEW, len(gen)
        logits = [l[0].double() for l in out.logits]   # raw logits (before min_new_tokens masks EOS)
        margins = []
        for t, l in enumerate(logits):
            v, i = torch.topk(l, 2)
            margins.append((v[0] - v[1]).item())
            # min_new_tokens may mask EOS; the C side does the same, so check the pick
            masked = l.clone()
            if tok.eos_token_id is not None:
                masked[tok.eos_token_id] = -float("inf")
            assert int(masked.argmax()) == gen[t], (name, t)
        v, i = torch.topk(logits[0], 5)
        lines.append("case %s %s" % (name, mode))
        lines.append("text %s" % text.encode().hex())
        if system:
            lines.append("system %s" % system.encode().hex())
        lines.append("prompt %d %s" % (len(ids), " ".join(map(str, ids))))
        lines.append("gen %d %s" % (len(gen), " ".join(map(str, gen))))
        lines.append("top5 %s" % " ".join("%d:%.9g" % (a, b) for a, b in zip(i.tolist(), v.tolist())))
        lines.append("margin %d %s" % (len(margins), " ".join("%.4g" % m for m in margins)))
        lines.append("end")
        print(name, repr(tok.decode(gen)), "min margin %.4g" % min(margins))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    print("wrote", args.out)


if __name__ == "__main__":
    main()
