#!/bin/sh
# Runs every test binary from the repo root and prints one closing line
# "tests: N passed, N failed". Exit status is non-zero when any binary failed.
build=$1; shift
pass=0; fail=0; failed=""
for t in "$@"; do
  name=$(basename "$t")
  echo "== $name"
  start=$(date +%s)
  if "$t"; then pass=$((pass+1)); else fail=$((fail+1)); failed="$failed $name"; fi
  echo "   ($name: $(( $(date +%s) - start ))s)"
done
[ -n "$failed" ] && echo "failed:$failed"
echo "tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
