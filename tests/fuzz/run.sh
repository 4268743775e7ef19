#!/usr/bin/env bash
# tests/fuzz/run.sh: builds the libFuzzer targets with clang (ASan + UBSan) into
# build-fuzz/ and runs each for FUZZ_SECONDS. Exits non-zero when a target crashes,
# printing the reproducer. See docs/fuzzing.md.
#
#   tests/fuzz/run.sh                 build and run every target (60 s each)
#   tests/fuzz/run.sh gguf tokenizer  only these (gguf | safetensors | tokenizer | math | jsonl)
#   tests/fuzz/run.sh --build         build only
#   tests/fuzz/run.sh --repro gguf build-fuzz/crashes/gguf/crash-...   rerun one input
# Knobs (environment): FUZZ_SECONDS (60), FUZZ_CC (clang), FUZZ_OUT (build-fuzz),
#   FUZZ_ARGS (extra libFuzzer flags, e.g. "-jobs=2 -workers=2" or "-runs=1000").
# The sources are compiled directly with clang, without OpenMP (none of the files a
# target needs calls the OpenMP runtime; their pragmas are ignored).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
CC=${FUZZ_CC:-clang}
OUT=${FUZZ_OUT:-build-fuzz}
SECONDS_EACH=${FUZZ_SECONDS:-60}
ALL_TARGETS="gguf safetensors tokenizer math jsonl"

SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CFLAGS="-std=c11 -D_GNU_SOURCE -Iinclude -Isrc -g -O1 -Wall -Wno-unused-parameter -Wno-unknown-pragmas $SAN"
LIBS="-lcjson -lpcre2-8 -lutf8proc -lgmp -lm"
# library sources the targets need (one object set, shared by all targets)
SRCS="src/core/err.c src/core/fs.c src/formats/dtype.c src/formats/quant.c src/formats/safetensors.c
      src/formats/hfconfig.c src/formats/gguf.c src/tokenizer/bpe_core.c src/tokenizer/bpe_json.c
      src/tokenizer/bpe_encode.c src/tokenizer/bpe_decode.c src/core/rng.c src/tasks/dataset.c
      src/rewards/math.c src/rewards/math_cmp.c src/rewards/math_eval.c src/rewards/math_extract.c
      src/rewards/math_lex.c src/rewards/math_norm.c src/rewards/math_parse.c"
declare -A MAX_LEN=([gguf]=131072 [safetensors]=65536 [tokenizer]=16384 [math]=8192 [jsonl]=65536)

die() { echo "fuzz: $*" >&2; exit 2; }
command -v "$CC" >/dev/null || die "$CC not found (clang with libFuzzer is needed)"

build() {
    mkdir -p "$OUT/obj"
    local objs="" s o
    for s in $SRCS; do
        o="$OUT/obj/$(echo "${s#src/}" | tr / _ | sed 's/\.c$/.o/')"
        # rebuild when the source or any header under src/ or include/ is newer
        if [ ! -f "$o" ] || [ "$s" -nt "$o" ] || [ -n "$(find src include -name '*.h' -newer "$o" -print -quit)" ]; then
            echo "  CC $s"
            $CC $CFLAGS -fsanitize=fuzzer-no-link -c "$s" -o "$o"
        fi
        objs="$objs $o"
    done
    local t
    for t in $ALL_TARGETS; do
        echo "  LD $OUT/fuzz_$t"
        $CC $CFLAGS -fsanitize=fuzzer -DFUZZ_TOK_DIR="\"$ROOT/tests/data/tokenizer\"" \
            "tests/fuzz/fuzz_$t.c" $objs $LIBS -o "$OUT/fuzz_$t"
    done
}

# The working corpus: run.sh's seeds plus the project's own test files (copied, so
# libFuzzer may add to this directory without touching tests/).
seed() {
    local t=$1 dir="$OUT/corpus/$1"
    mkdir -p "$dir"
    cp -n tests/fuzz/corpus/"$t"/* "$dir"/ 2>/dev/null || true
    case $t in
        gguf) cp -n tests/data/gguf/*.gguf "$dir"/ ;;
        safetensors) cp -n tests/data/gguf/*.expect.safetensors "$dir"/ ;;
        tokenizer)
            for j in tests/data/tokenizer/llama3s/tokenizer.json tests/data/tokenizer/qwen2s/tokenizer.json \
                     tests/data/tokenizer/split/*.json; do
                cp -n "$j" "$dir/$(echo "${j#tests/data/tokenizer/}" | tr / _)"
            done ;;
    esac
}

run_one() {
    local t=$1 art="$OUT/crashes/$1/" log="$OUT/logs/$1.log"
    mkdir -p "$art" "$OUT/logs"
    seed "$t"
    echo "== fuzz_$t: ${SECONDS_EACH}s, max_len ${MAX_LEN[$t]} (log: $log)"
    local rc=0
    # shellcheck disable=SC2086
    "$OUT/fuzz_$t" -max_total_time="$SECONDS_EACH" -max_len="${MAX_LEN[$t]}" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$art" ${FUZZ_ARGS:-} \
        "$OUT/corpus/$t" >"$log" 2>&1 || rc=$?
    local execs cov
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | awk '{s+=$2} END {print s+0}')
    cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1)
    echo "   execs $execs, ${cov:-cov ?}, corpus $(ls "$OUT/corpus/$t" | wc -l) files, exit $rc"
    if [ $rc -ne 0 ]; then
        grep -m1 -E 'ERROR: (AddressSanitizer|libFuzzer)|runtime error|deadly signal|SUMMARY' "$log" | sed 's/^/   /' || true
        local c
        for c in $(grep -o 'Test unit written to [^ ]*' "$log" | awk '{print $5}'); do
            echo "   reproducer: $c"
            echo "   rerun:      tests/fuzz/run.sh --repro $t $c"
        done
        return 1
    fi
}

case "${1:-}" in
    --build) build; exit 0 ;;
    --repro)
        [ $# -eq 3 ] || die "usage: $0 --repro <target> <file>"
        [ -x "$OUT/fuzz_$2" ] || build
        exec "$OUT/fuzz_$2" -runs=1 "$3" ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
esac
targets=${*:-$ALL_TARGETS}
for t in $targets; do [ -n "${MAX_LEN[$t]:-}" ] || die "unknown target '$t' (have: $ALL_TARGETS)"; done
echo "== building fuzz targets into $OUT/"
build
fail=0
for t in $targets; do run_one "$t" || fail=1; done
[ $fail -eq 0 ] && echo "== fuzz: no crashes" || echo "== fuzz: CRASHES found (see above)"
exit $fail
