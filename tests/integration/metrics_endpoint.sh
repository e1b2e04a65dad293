# /metrics (Prometheus text) and /health answer during a run, and the
# counters agree with what was fed: a paced generator -> embedded Kafka ->
# analytics, scraped while running and once the input has been consumed.
source tests/integration/common.bash
PORT=$((20000 + RANDOM % 20000))
EVENTS=30000
cat > "$T/m.ini" <<INI
[streamhost]
progress = off
metrics.port = $PORT
commit.interval = 300ms
dead_letter.file = $T/dead.jsonl
[kafka]
bootstrap.servers = embedded
[source.gen]
plugin = clickgen
users = 300
clock = simulated
start_time = 1700000000000
seed = 9
max_events = $EVENTS
[sink.k]
plugin = kafka
inputs = gen
topic = clickstream
key.field = userid
[source.clicks]
plugin = kafka
topic = clickstream
group = m
[transform.sessions]
plugin = session
inputs = clicks
[transform.counts]
plugin = tumble
inputs = sessions
[sink.out]
plugin = file
inputs = sessions, counts
path = $T/out.jsonl
INI
"$SH" run "$T/m.ini" 2> "$T/run.log" &
pid=$!
trap '{ kill -9 $pid 2>/dev/null || true; rm -rf "$T"; }' EXIT
for i in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done
check "/health is ready during the run" bash -c "curl -sf http://127.0.0.1:$PORT/health | grep -q ready"
check "/health/live answers" curl -sf "http://127.0.0.1:$PORT/health/live"
metric() { grep -E "^streamhost_$1\{component=\"$2\"" "$T/metrics" | awk '{print $NF}'; }
# the unbounded source keeps running: wait until all events were consumed and
# the lag gauges (refreshed every tick, 100 ms) have seen it
for i in $(seq 1 150); do
  curl -sf "http://127.0.0.1:$PORT/metrics" > "$T/metrics" || true
  [ "$(metric messages_total clicks)" = "$EVENTS" ] && [ "$(metric consumer_lag clicks)" = "0" ] && break
  sleep 0.2
done
grep -E "^# TYPE|component=\"(gen|clicks|sessions)\"" "$T/metrics" | head -30
check "Prometheus text format with TYPE lines" grep -q "^# TYPE streamhost_records_out_total counter" "$T/metrics"
check "generated = $EVENTS" test "$(metric events_total gen)" = "$EVENTS"
check "delivered to Kafka = $EVENTS" test "$(metric messages_delivered_total k)" = "$EVENTS"
check "consumed = $EVENTS" test "$(metric messages_total clicks)" = "$EVENTS"
check "session transform received every event" test "$(metric records_in_total sessions)" = "$EVENTS"
check "no decode errors" test "$(metric decode_errors_total clicks)" = "0"
check "open sessions gauge present" grep -q '^streamhost_open_sessions{component="sessions"} [0-9]' "$T/metrics"
check "watermark lag gauge present" grep -q '^streamhost_watermark_lag_seconds{component="sessions"}' "$T/metrics"
check "consumer lag is 0 once caught up" test "$(metric consumer_lag clicks)" = "0"
check "lag per partition" grep -q '^streamhost_partition_lag{component="clicks",topic="clickstream",partition="3"} 0$' "$T/metrics"
check "committed offsets per partition" grep -qE '^streamhost_committed_offset\{component="clicks",topic="clickstream",partition="[0-3]"\} [0-9]+$' "$T/metrics"
kill -INT $pid
set +e; wait $pid; rc=$?; set -e
check "Ctrl-C (SIGINT) stops it with exit 0" test "$rc" -eq 0
out=$(grep -c . "$T/out.jsonl")
echo "documents written: $out"
check "the summary's count for the sink equals the documents in the file" grep -qE "sink +out +in $out " "$T/run.log"
