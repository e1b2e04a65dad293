#!/usr/bin/env bash
# Runs each unit-test binary given as an argument; prints a closing tally.
set -u
pass=0; fail=0; failed=()
for t in "$@"; do
  if "$t" >"$t.log" 2>&1; then pass=$((pass+1)); else fail=$((fail+1)); failed+=("$t"); cat "$t.log"; fi
  grep -E '^\[  (PASSED|FAILED)  \]' "$t.log" | sed "s|^|$(basename "$t"): |"
done
echo "unit test binaries: $pass passed, $fail failed"
[ "$fail" -eq 0 ] || { printf 'FAILED: %s\n' "${failed[@]}"; exit 1; }
