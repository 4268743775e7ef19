#!/usr/bin/env python3
"""make_seeds.py: writes the small hand-made fuzz seeds in this directory (rerun it to
regenerate them; run.sh adds the test files of tests/data at run time).
  gguf/        tiny GGUF v3/v2 files: every metadata value type, nested arrays, a
               tokenizer (tokens, token_type, merges), tensors of F32 F16 BF16 Q4_0
               Q4_1 Q8_0 Q4_K Q6_K, an odd alignment, no tensors at all.
  safetensors/ tiny files: every readable dtype, a scalar, an empty tensor,
               __metadata__, header padding, holes between tensors.
  tokenizer/   short texts (ASCII, digits, UTF-8, added tokens, whitespace runs)."""
import json, os, struct

D = os.path.dirname(os.path.abspath(__file__))

def gstr(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack('<Q', len(b)) + b

# value type ids
U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
FMT = {U8: 'B', I8: 'b', U16: 'H', I16: 'h', U32: 'I', I32: 'i', F32: 'f', BOOL: '?', U64: 'Q', I64: 'q', F64: 'd'}

def gval(t, v):
    if t == STR: return gstr(v)
    if t == ARR:
        et, items = v
        return struct.pack('<IQ', et, len(items)) + b''.join(gval(et, x) for x in items)
    return struct.pack('<' + FMT[t], v)

def gguf(kvs, tensors, version=3, align=32):
    """kvs: [(key, type, value)]; tensors: [(name, ne, ggml_type, raw bytes)]."""
    out = b'GGUF' + struct.pack('<IQQ', version, len(tensors), len(kvs))
    for k, t, v in kvs: out += gstr(k) + struct.pack('<I', t) + gval(t, v)
    off, datas = 0, b''
    for name, ne, gt, raw in tensors:
        out += gstr(name) + struct.pack('<I', len(ne)) + b''.join(struct.pack('<Q', n) for n in ne)
        out += struct.pack('<IQ', gt, off)
        pad = (-len(raw)) % align
        datas += raw + b'\0' * pad
        off += len(raw) + pad
    out += b'\0' * ((-len(out)) % align)
    return out + datas

def write(sub, name, data):
    os.makedirs(os.path.join(D, sub), exist_ok=True)
    with open(os.path.join(D, sub, name), 'wb') as f: f.write(data)

f16 = lambda x: struct.pack('<e', x)
all_kv = [
    ('general.architecture', STR, 'llama'), ('general.name', STR, 'fuzz'),
    ('general.alignment', U32, 32),
    ('a.u8', U8, 200), ('a.i8', I8, -5), ('a.u16', U16, 60000), ('a.i16', I16, -3000),
    ('a.u32', U32, 4000000000), ('a.i32', I32, -7), ('a.f32', F32, 1.5), ('a.bool', BOOL, True),
    ('a.u64', U64, 2**63 + 5), ('a.i64', I64, -2**40), ('a.f64', F64, 1e300),
    ('a.arr_i32', ARR, (I32, [1, -2, 3])), ('a.arr_u64', ARR, (U64, [2**64 - 1, 0])),
    ('a.arr_f32', ARR, (F32, [0.5, -1.0])), ('a.arr_bool', ARR, (BOOL, [True, False])),
    ('a.arr_str', ARR, (STR, ['x', '', 'h\u00e9'])), ('a.arr_empty', ARR, (U8, [])),
    ('a.arr_arr', ARR, (ARR, [(I8, [1, 2]), (STR, ['q'])])),
]
tensors = [
    ('t.f32', [4, 2], 0, struct.pack('<8f', *range(8))),
    ('t.f16', [4], 1, b''.join(f16(x) for x in (1, -2, 0.5, 65504))),
    ('t.bf16', [2], 30, bytes([0x80, 0x3f, 0x00, 0xc0])),
    ('t.q4_0', [32], 2, f16(0.25) + bytes(range(16))),
    ('t.q4_1', [32], 3, f16(0.25) + f16(-1) + bytes(range(16))),
    ('t.q8_0', [32, 2], 8, (f16(0.1) + bytes(range(32))) * 2),
    ('t.q4_k', [256], 12, f16(0.5) + f16(0.1) + bytes(range(12)) + bytes(range(128))),
    ('t.q6_k', [256], 14, bytes(range(128)) + bytes(range(64)) + bytes(range(16)) + f16(0.01)),
]
write('gguf', 'all_types.gguf', gguf(all_kv, tensors))
write('gguf', 'v2_align64.gguf', gguf([('general.alignment', U32, 64)] + all_kv[3:8], tensors[:3], 2, 64))
write('gguf', 'no_tensors.gguf', gguf(all_kv[:2], []))
toks = [bytes([b]).decode('latin-1') for b in range(ord('a'), ord('z') + 1)] + ['\u0120', 'he', 'll', 'hell', 'hello', '<|endoftext|>']
write('gguf', 'tokenizer.gguf', gguf([
    ('general.architecture', STR, 'qwen2'), ('tokenizer.ggml.model', STR, 'gpt2'),
    ('tokenizer.ggml.pre', STR, 'qwen2'),
    ('tokenizer.ggml.tokens', ARR, (STR, toks)),
    ('tokenizer.ggml.token_type', ARR, (I32, [1] * (len(toks) - 1) + [3])),
    ('tokenizer.ggml.merges', ARR, (STR, ['h e', 'l l', 'he ll', 'hell o'])),
    ('tokenizer.ggml.eos_token_id', U32, len(toks) - 1),
], [('token_embd.weight', [4, len(toks)], 0, b'\0' * 16 * len(toks))]))

def st(tensors, meta=None, pad=8, hole=0):
    """tensors: [(name, dtype, shape, raw)]"""
    hdr, off, data = {}, 0, b''
    if meta is not None: hdr['__metadata__'] = meta
    for name, dt, shape, raw in tensors:
        hdr[name] = {'dtype': dt, 'shape': shape, 'data_offsets': [off, off + len(raw)]}
        data += raw + b'\0' * hole
        off += len(raw) + hole
    h = json.dumps(hdr).encode()
    h += b' ' * ((-len(h)) % pad)
    return struct.pack('<Q', len(h)) + h + data

write('safetensors', 'dtypes.safetensors', st([
    ('f32', 'F32', [2, 2], struct.pack('<4f', 1, 2, 3, 4)),
    ('f16', 'F16', [3], b''.join(f16(x) for x in (1, -0.0, 2))),
    ('bf16', 'BF16', [2], bytes([0x80, 0x3f, 0x80, 0x7f])),
    ('f64', 'F64', [2], struct.pack('<2d', 1e300, -1)),
    ('i64', 'I64', [2], struct.pack('<2q', 5, -2**40)),
    ('i32', 'I32', [1], struct.pack('<i', -3)),
    ('i16', 'I16', [1], struct.pack('<h', -3)),
    ('i8', 'I8', [2], struct.pack('<2b', -1, 1)),
    ('u64', 'U64', [1], struct.pack('<Q', 7)),
    ('u32', 'U32', [1], struct.pack('<I', 2**32 - 1)),
    ('u16', 'U16', [1], struct.pack('<H', 9)),
    ('u8', 'U8', [3], bytes([0, 1, 255])),
    ('b', 'BOOL', [2], bytes([0, 1])),
    ('f8', 'F8_E4M3', [2], bytes([1, 2])),
], meta={'format': 'pt', 'note': 'h\u00e9'}))
write('safetensors', 'scalar_empty.safetensors', st([
    ('s', 'F32', [], struct.pack('<f', 3.5)), ('e', 'F32', [0, 4], b''), ('x', 'U8', [1, 1, 1, 1, 1, 1, 1, 1], b'\x07'),
], pad=1))
write('safetensors', 'holes.safetensors', st([
    ('a', 'F32', [2], struct.pack('<2f', 1, 2)), ('b', 'I32', [2], struct.pack('<2i', 3, 4)),
], meta={}, hole=4))
write('safetensors', 'empty.safetensors', st([]))

texts = {
    'ascii.txt': "Hello, world! It's a test: don't stop, we'll see.\n",
    'digits.txt': "12345 + 678 = 7023; pi ~ 3.14159, 1e-9, 0x1F\n",
    'utf8.txt': "caf\u00e9 na\u00efve \u4f60\u597d \U0001F642 \u0645\u0631\u062d\u0628\u0627 e\u0301\n",
    'special.txt': "<|im_start|>user\nhi<|im_end|><|endoftext|> <|endoftext|x\n",
    'space.txt': "  a\t\tb \r\n\n   \n end   ",
}
for n, t in texts.items(): write('tokenizer', n, t.encode())
