#!/usr/bin/env bash
# Replays saved crash inputs, then fuzzes each target for a bounded time.
# A new crash input is copied to tests/fuzz/regressions/<target>/ (commit it
# with the fix) and fails the run.
set -u
cd "$(dirname "$0")/.."
secs=${1:-60}
pass=0; fail=0
for bin in build/fuzz/fuzz_avro build/fuzz/fuzz_config build/fuzz/fuzz_jsonl; do
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
  cp -n "tests/fuzz/corpus/$name"/* "$work"/ 2>/dev/null
  if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
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
