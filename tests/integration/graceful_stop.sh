# needs: kafka
# SIGTERM during a busy run: the host stops its sources, flushes, commits and
# exits 0 within the shutdown bound; the next start continues from the
# committed offsets with no loss and no duplicates.  Then a sink that fails
# fatally stops the run with exit 1 and a clear message, and commits nothing
# past what it handled: a restart with a working sink still gets everything.
source tests/integration/common.bash
source tests/integration/pipeline.bash
topic="stop-$$-$RANDOM"

fill_topic "$topic" 150000 400 6
reference_set "$topic" "$T/ref.set"
analytics_ini "$topic" "stop-$$" "rate.limit = 20000
shutdown.timeout = 10s" "$(file_sink "$T/out.jsonl" true)" > "$T/run.ini"
"$SH" run "$T/run.ini" 2> "$T/run1.log" &
pid=$!
# SIGTERM once the run writes documents (at most 20 s): a fixed sleep could land
# before a slow start had read anything (CI saw 0 documents after 3 s)
for _ in $(seq 1 200); do
  [ -s "$T/out.jsonl" ] && [ "$(wc -l < "$T/out.jsonl")" -ge 50 ] && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.1
done
check "the first run is still running when it has written documents" kill -0 $pid
head -n 6 "$T/run1.log"
start=$(date +%s%N)
kill -TERM $pid
set +e; wait $pid; rc=$?; set -e
ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "SIGTERM to exit: ${ms} ms, exit code $rc"
check "SIGTERM: clean exit 0" test "$rc" -eq 0
check "SIGTERM: stopped within the shutdown bound (10 s)" test "$ms" -lt 10000
check "SIGTERM: the summary was printed" grep -q "summary after" "$T/run1.log"
lines1=$(wc -l < "$T/out.jsonl")
"$SH" run "$T/run.ini" 2> "$T/run2.log"
python3 tests/integration/docset.py "$T/out.jsonl" > "$T/out.set"
echo "first run wrote $lines1 documents before SIGTERM; after the restart: $(wc -l < "$T/out.set") distinct"
check "restart after SIGTERM: documents equal the undisturbed run" diff "$T/ref.set" "$T/out.set"
check "the first run did real work before the stop" test "$lines1" -gt 0

# a fatally failing sink: exit 1, clear message, no commit past it
mkdir -p "$T/plugins"
cc -std=gnu11 -Iinclude -shared -fPIC -o "$T/plugins/sink-counter.so" tests/unit/plugins/sink-counter.c
analytics_ini "$topic" "fail-$$" "plugin.path = $T/plugins
commit.interval = 1h" "[sink.out]
plugin = counter
inputs = checkouts, counts
fail_after = 300" > "$T/fail.ini"
set +e; "$SH" run "$T/fail.ini" 2> "$T/fail.log"; rc=$?; set -e
grep -E "ERROR" "$T/fail.log" | head -3 || true
check "fatal sink: exit code 1" test "$rc" -eq 1
check "fatal sink: one clear line naming the component" grep -q "\[out\] process() failed (fatal); stopping the pipeline without committing past this batch" "$T/fail.log"
analytics_ini "$topic" "fail-$$" "" "$(file_sink "$T/after.jsonl")" > "$T/after.ini"
"$SH" run "$T/after.ini"
python3 tests/integration/docset.py "$T/after.jsonl" > "$T/after.set"
check "restart with a working sink: every document of the undisturbed run (nothing committed past the failure)" diff "$T/ref.set" "$T/after.set"
