# needs: opensearch
# /metrics (Prometheus text) and /health answer during a run, and the
# counters agree with what was fed: a paced generator -> embedded Kafka ->
# analytics -> a file and the real OpenSearch, plus a file source with one
# malformed line (a dead letter), scraped while running and once the input
# has been consumed.  The scrape goes through prometheus_client's parser and
# the naming rules (tests/integration/promcheck.py; promtool check metrics
# too when promtool is installed); the example alert rules and scrape config
# in conf/prometheus/ are checked against it (promtool check rules/config
# too when installed).
source tests/integration/common.bash
source tests/integration/pyvenv.bash
PY=$(pyvenv promcheck prometheus-client==0.26.0 PyYAML==6.0.3)
OS_URL=$(scripts/opensearch.sh url)
P="itest-$$-metrics-" # index_prefix
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
[sink.search]
plugin = opensearch
inputs = counts
url = $OS_URL
index_prefix = $P
flush_interval = 200ms
[source.bad]
plugin = file
path = $T/bad.jsonl
[sink.bads]
plugin = file
inputs = bad
path = $T/bad-out.jsonl
INI
printf '{"this is not json\n' > "$T/bad.jsonl"
"$SH" run "$T/m.ini" 2> "$T/run.log" &
pid=$!
cleanup() {
  kill -9 $pid 2>/dev/null || true
  curl -s -XDELETE "$OS_URL/${P}*" >/dev/null 2>&1 || true
  for i in user_session_details user_session_counts departments_count; do
    curl -s -XDELETE "$OS_URL/_index_template/streamhost-$P$i" >/dev/null 2>&1 || true
  done
  [ -n "${KEEP_TMP:-}" ] && echo "kept $T" || rm -rf "$T"
}
trap cleanup EXIT
for i in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done
check "/health is ready during the run" bash -c "curl -sf http://127.0.0.1:$PORT/health | grep -q ready"
check "/health/live answers" curl -sf "http://127.0.0.1:$PORT/health/live"
metric() { grep -E "^streamhost_$1\{component=\"$2\"" "$T/metrics" | awk '{print $NF}'; }
# the unbounded source keeps running: wait until all events were consumed and
# the lag gauges (refreshed every tick, 100 ms) have seen it
hist() { grep -E "^streamhost_request_duration_seconds_$1\{component=\"search\"" "$T/metrics" | awk '{print $NF}'; }
# and until the OpenSearch sink has answered requests (templates, _bulk)
for i in $(seq 1 150); do
  curl -sf "http://127.0.0.1:$PORT/metrics" > "$T/metrics" || true
  [ "$(metric messages_consumed_total clicks)" = "$EVENTS" ] && [ "$(metric consumer_lag clicks)" = "0" ] &&
    [ "$(metric bulk_requests_total search)" -gt 0 ] 2>/dev/null && [ "$(hist count)" -gt 3 ] 2>/dev/null && break
  sleep 0.2
done
grep -E "^# TYPE|component=\"(gen|clicks|sessions)\"" "$T/metrics" | head -30 || true # (head may close the pipe early)
check "Prometheus text format with TYPE lines" grep -q "^# TYPE streamhost_records_out_total counter" "$T/metrics"
check "generated = $EVENTS" test "$(metric events_total gen)" = "$EVENTS"
check "delivered to Kafka = $EVENTS" test "$(metric messages_delivered_total k)" = "$EVENTS"
check "consumed = $EVENTS" test "$(metric messages_consumed_total clicks)" = "$EVENTS"
check "session transform received every event" test "$(metric records_in_total sessions)" = "$EVENTS"
check "no decode errors" test "$(metric decode_errors_total clicks)" = "0"
check "open sessions gauge present" grep -q '^streamhost_open_sessions{component="sessions"} [0-9]' "$T/metrics"
check "watermark lag gauge present" grep -q '^streamhost_watermark_lag_seconds{component="sessions"}' "$T/metrics"
check "consumer lag is 0 once caught up" test "$(metric consumer_lag clicks)" = "0"
check "lag per partition" grep -q '^streamhost_partition_lag{component="clicks",topic="clickstream",partition="3"} 0$' "$T/metrics"
check "committed offsets per partition" grep -qE '^streamhost_committed_offset\{component="clicks",topic="clickstream",partition="[0-3]"\} [0-9]+$' "$T/metrics"
check "one watermark family, in seconds" bash -c "grep -q '^streamhost_watermark_seconds{component=\"sessions\"} 1[0-9]\{9\}' '$T/metrics' && ! grep -qE '^streamhost_watermark(_ms)?\{' '$T/metrics'"
check "counters end in _total (no records_in, events_in, counts_out)" bash -c "! grep -E '^# TYPE .* counter$' '$T/metrics' | grep -v '_total counter$'"
check "the dead letter counted by reason" grep -q '^streamhost_dead_letters_total{component="bad",reason="malformed_json"} 1$' "$T/metrics"
check "request latency histogram: +Inf bucket = count > 0" test "$(hist count)" -gt 0 -a \
  "$(grep -E '^streamhost_request_duration_seconds_bucket\{component="search",le="\+Inf"\}' "$T/metrics" | awk '{print $NF}')" = "$(hist count)"
check "latency sum in seconds (count x 60 s > sum > 0)" "$PY" -c "import sys; s, c = float(sys.argv[1]), int(sys.argv[2]); sys.exit(not (0 < s < 60 * c))" "$(hist sum)" "$(hist count)"
check "prometheus_client parses the scrape and the names follow the rules" "$PY" tests/integration/promcheck.py metrics "$T/metrics" \
  --expect streamhost_records_in streamhost_records_out streamhost_messages_consumed streamhost_consumer_lag \
  streamhost_partition_lag streamhost_watermark_seconds streamhost_watermark_lag_seconds streamhost_dead_letters \
  streamhost_request_duration_seconds streamhost_bulk_requests streamhost_documents_indexed streamhost_sessions_emitted \
  streamhost_count_documents_emitted streamhost_up
# dead_letters_lost_total appears with the first lost dead letter only
check "the alert rules name only exported metrics" "$PY" tests/integration/promcheck.py rules conf/prometheus/alerts.yml "$T/metrics" \
  --lazy streamhost_dead_letters_lost_total
check "the scrape config scrapes /metrics and loads the rules" "$PY" tests/integration/promcheck.py scrape-config conf/prometheus/prometheus.yml conf/prometheus/alerts.yml
if command -v promtool >/dev/null 2>&1; then
  check "promtool check metrics" bash -c "promtool check metrics < '$T/metrics'"
  check "promtool check rules" promtool check rules conf/prometheus/alerts.yml
  check "promtool check config" promtool check config conf/prometheus/prometheus.yml
else
  echo "promtool not installed (Debian: prometheus): promtool checks skipped"
fi
kill -INT $pid
set +e; wait $pid; rc=$?; set -e
check "Ctrl-C (SIGINT) stops it with exit 0" test "$rc" -eq 0
out=$(grep -c . "$T/out.jsonl")
echo "documents written: $out"
check "the summary's count for the sink equals the documents in the file" grep -qE "sink +out +in $out " "$T/run.log"
