#!/usr/bin/env bash
# tests/run-fuzz.sh [SECONDS [FUZZER...]]: for each fuzzer (default: every
# build/fuzz/fuzz_* the Makefile built; `make fuzz` passes its FUZZERS list),
# replays saved crash inputs, then fuzzes it for SECONDS (default 60) from its
# seed corpus tests/fuzz/corpus/<name>/ (and dictionary tests/fuzz/<name>.dict
# when there is one).  A new crash input is copied to
# tests/fuzz/regressions/<name>/ (commit it with the fix) and fails the run.
# Closes with "fuzz: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
secs=${1:-60}
shift $(( $# > 0 ? 1 : 0 ))
bins=("$@")
if [ ${#bins[@]} -eq 0 ]; then
  for b in build/fuzz/fuzz_*; do [ -x "$b" ] && bins+=("$b"); done
fi
[ ${#bins[@]} -gt 0 ] || { echo "run-fuzz.sh: no fuzzer built (make fuzz builds them)"; exit 1; }
pass=0; fail=0
for bin in "${bins[@]}"; do
  [ -x "$bin" ] || { echo "FAIL $bin: not built"; fail=$((fail+1)); continue; }
  t=$(basename "$bin")
  name=${t#fuzz_}
  reg="tests/fuzz/regressions/$name"
  if [ -d "$reg" ] && [ -n "$(ls -A "$reg")" ]; then
    if "$bin" "$reg"/* >"build/fuzz/$t.regress.log" 2>&1; then
      echo "PASS $t: $(ls "$reg" | wc -l) saved crash input(s) replayed"
    else
      echo "FAIL $t: a saved crash input crashes again"; tail -30 "build/fuzz/$t.regress.log"; fail=$((fail+1)); continue
    fi
  fi
  work="build/fuzz/corpus-$name"
  mkdir -p "$work" "build/fuzz/artifacts-$name"
  rm -f "build/fuzz/artifacts-$name"/* # only this run's findings get copied below
  cp -n "tests/fuzz/corpus/$name"/* "$work"/ 2>/dev/null
  dict=(); [ -f "tests/fuzz/$name.dict" ] && dict=(-dict="tests/fuzz/$name.dict")
  if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "${dict[@]}" \
       -artifact_prefix="build/fuzz/artifacts-$name/" "$work" >"build/fuzz/$t.log" 2>&1; then
    echo "PASS $t: $(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "build/fuzz/$t.log" | grep -o '[0-9]*$') runs in ${secs}s, corpus $(ls "$work" | wc -l) inputs"
    pass=$((pass+1))
  else
    echo "FAIL $t: crash; inputs kept in $reg"; tail -40 "build/fuzz/$t.log"
    mkdir -p "$reg"; cp "build/fuzz/artifacts-$name"/* "$reg"/ 2>/dev/null
    fail=$((fail+1))
  fi
done
echo "fuzz: $pass passed, $fail failed"
[ $fail -eq 0 ]
