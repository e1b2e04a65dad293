#!/usr/bin/env bash
# Runs every tests/integration/*.sh against the build in $BUILD (default
# build).  Starts the project's real Kafka and OpenSearch (scripts/) first
# when a test needs them and they are not running, and stops what it started.
# Prints one line per test and a closing "N passed, N failed" tally.
# Usage: tests/run-integration.sh [NAME-PATTERN]
set -u
cd "$(dirname "$0")/.."
export BUILD="${BUILD:-build}"
pattern="${1:-${INTEGRATION:-}}"
started=()
cleanup() {
  for s in "${started[@]}"; do scripts/$s.sh stop >/dev/null 2>&1 || true; done
}
trap cleanup EXIT

need() { # need kafka|opensearch: start it unless running
  local svc=$1
  if ! scripts/$svc.sh status >/dev/null 2>&1; then
    echo "starting $svc (scripts/$svc.sh start) ..."
    if ! scripts/$svc.sh start; then
      echo "cannot start $svc; see the messages above" >&2
      return 1
    fi
    started+=("$svc")
  fi
}

pass=0; fail=0; failed=(); failed_checks=()
mkdir -p "$BUILD/itest"
for t in tests/integration/*.sh; do
  name=$(basename "$t" .sh)
  [ -n "$pattern" ] && [[ "$name" != *$pattern* ]] && continue
  # a test declares the services it needs in a "# needs: kafka opensearch" line
  needs=$(sed -n 's/^# needs: //p' "$t" | head -1)
  ok=1
  for svc in $needs; do need "$svc" || ok=0; done
  log="$BUILD/itest/$name.log"
  start=$(date +%s)
  if [ $ok = 1 ] && bash "$t" >"$log" 2>&1; then
    pass=$((pass+1)); echo "PASS $name ($(( $(date +%s) - start ))s)"
  else
    fail=$((fail+1)); failed+=("$name"); echo "FAIL $name ($(( $(date +%s) - start ))s); log follows:"
    tail -n 60 "$log" | sed 's/^/    /'
    mapfile -t -O "${#failed_checks[@]}" failed_checks < <(grep -h '^CHECK FAILED' "$log" 2>/dev/null | sed "s/^CHECK FAILED: /$name: /")
  fi
  grep -h '^CHECK' "$log" 2>/dev/null | sed 's/^/    /'
done
echo "integration: $pass passed, $fail failed"
# the failed checks once more, last: a CI log cut in the middle still shows them
[ ${#failed_checks[@]} -eq 0 ] || printf 'failed check: %s\n' "${failed_checks[@]}"
[ "$fail" -eq 0 ] || { echo "FAILED: ${failed[*]}"; exit 1; }
