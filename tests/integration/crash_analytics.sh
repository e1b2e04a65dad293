# needs: kafka opensearch
# Nothing lost, nothing duplicated after crashes: 200,000 seeded events on a
# real Kafka topic; the analytics process, writing to real OpenSearch and to
# a file (appended, last write per id wins, as an upsert store sees it), is
# killed with SIGKILL at several random points and restarted each time.  At
# the end the documents in the three indices (and in the file) equal those
# of an undisturbed run, ids and contents.
source tests/integration/common.bash
source tests/integration/pipeline.bash
EVENTS=${CRASH_EVENTS:-200000}
KILLS=${CRASH_KILLS:-5}
topic="crash-$$-$RANDOM"
OS_URL=${OPENSEARCH_URL:-$(scripts/opensearch.sh url)}
P="crash-$$-"
cleanup() {
  curl -s -XDELETE "$OS_URL/${P}*" >/dev/null 2>&1 || true
  for i in user_session_details user_session_counts departments_count; do
    curl -s -XDELETE "$OS_URL/_index_template/streamhost-$P$i" >/dev/null 2>&1 || true
  done
  [ -n "${KEEP_TMP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

fill_topic "$topic" "$EVENTS" 500 11
reference_set "$topic" "$T/ref.set"
analytics_ini "$topic" "crash-$$" "rate.limit = 15000
commit.interval = 300ms" "$(file_sink "$T/crash.jsonl" true)
[sink.search]
plugin = opensearch
inputs = checkouts, counts
url = $OS_URL
index_prefix = $P
flush_interval = 200ms" > "$T/crash.ini"
kills=0
for i in $(seq 1 "$KILLS"); do
  "$SH" run "$T/crash.ini" 2>>"$T/crash.log" &
  pid=$!
  delay=$(python3 -c "import random; print(round(random.uniform(2.0, 6.0), 2))")
  sleep "$delay"
  if kill -0 $pid 2>/dev/null; then
    kill -KILL $pid; kills=$((kills+1)); echo "SIGKILL after ${delay}s"
  fi
  wait $pid 2>/dev/null || true
done
"$SH" run "$T/crash.ini" 2>>"$T/crash.log"
python3 tests/integration/docset.py "$T/crash.jsonl" > "$T/crash.set"
python3 tests/integration/docset.py --opensearch "$OS_URL" "$P" > "$T/os.set"
echo "after $kills kills and restarts: $(wc -l < "$T/crash.set") documents, $(wc -l < "$T/crash.jsonl") lines written in all"
grep -h "resuming from committed offsets" "$T/crash.log" | head -3 || true
replays=$(grep -c "resuming from committed offsets" "$T/crash.log" || true)
dropped=$( (grep -h "replayed_.*_dropped_total" "$T/crash.log" || true) | awk '{s+=$NF} END {print s+0}')
echo "restarts that resumed from committed offsets: $replays; rebuilt sessions/windows dropped by the replay fences: $dropped"
check "$kills SIGKILLs happened mid-run" test "$kills" -ge 3
check "output was being written when killed (documents were written more than once)" test "$(wc -l < "$T/crash.jsonl")" -gt "$(wc -l < "$T/crash.set")"
check "restarts resumed from committed offsets" test "$replays" -ge 3
check "OpenSearch after crashes: the three indices equal the undisturbed run (ids and contents, $(wc -l < "$T/os.set") documents)" diff "$T/ref.set" "$T/os.set"
check "file after crashes: last write per id equals the undisturbed run" diff "$T/ref.set" "$T/crash.set"
