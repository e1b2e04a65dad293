#!/usr/bin/env bash
# Runs each cmocka unit-test binary given as an argument (under valgrind
# when VALGRIND=1) and closes with "unit: N passed, N failed" counting test
# cases.  A binary that crashes or leaks counts as one failure.
set -u
cases_ok=0; cases_bad=0; failed=()
for t in "$@"; do
  run=("$t")
  [ -n "${VALGRIND:-}" ] && run=(valgrind -q --leak-check=full --show-leak-kinds=definite,indirect
                                 --errors-for-leak-kinds=definite,indirect --error-exitcode=1 "$t")
  "${run[@]}" >"$t.log" 2>&1
  rc=$?
  ok=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\./\1/p' "$t.log" | tail -1)
  bad=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s), listed below:/\1/p' "$t.log" | tail -1)
  cases_ok=$((cases_ok + ${ok:-0})); cases_bad=$((cases_bad + ${bad:-0}))
  if [ $rc -ne 0 ]; then
    [ -z "$bad" ] && cases_bad=$((cases_bad + 1))
    failed+=("$(basename "$t")"); cat "$t.log"
  fi
  echo "$(basename "$t"): ${ok:-0} passed, ${bad:-0} failed$([ $rc -ne 0 ] && echo " (exit $rc)")"
done
echo "unit: $cases_ok passed, $cases_bad failed"
[ ${#failed[@]} -eq 0 ] || { echo "FAILED: ${failed[*]}"; exit 1; }
