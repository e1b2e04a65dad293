#!/usr/bin/env bash
# make demo: the reference deployment on this machine.  Starts the local
# Kafka, OpenSearch and schema registry (unless running), then runs the click generator and
# the analytics as two processes, as the reference did (a Java producer and a
# Flink job), and shows the document counts of the three indices refreshing
# until Ctrl-C; then stops everything it started.  The generator writes
# schema v2 (conf/ClickEvent-v2.avsc, SCHEMA_VERSION=1 for v1), registered
# in the registry; the analytics reads it with v1 (schema evolution).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SH="$BUILD/streamhost"
export KAFKA_BOOTSTRAP=${KAFKA_BOOTSTRAP:-127.0.0.1:9092}
export OPENSEARCH_URL=${OPENSEARCH_URL:-http://127.0.0.1:9200}
export METRICS_PORT=${METRICS_PORT:-9464}
RATE=${RATE:-2000}
LOGDIR="$BUILD/demo"
mkdir -p "$LOGDIR"
started=(); pids=()

cleanup() {
  trap - INT TERM EXIT
  echo
  echo "stopping the generator and the analytics ..."
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  for s in "${started[@]}"; do scripts/$s.sh stop || true; done
  echo "logs: $LOGDIR/producer.log, $LOGDIR/analytics.log"
}
trap cleanup INT TERM EXIT

for s in kafka opensearch registry; do
  if ! scripts/$s.sh status >/dev/null 2>&1; then
    scripts/$s.sh start
    started+=("$s")
  fi
done

export SCHEMA_REGISTRY_URL=${SCHEMA_REGISTRY_URL:-$(scripts/registry.sh url)}
export SCHEMA_VERSION=${SCHEMA_VERSION:-2}
[ "$SCHEMA_VERSION" = 2 ] && export SCHEMA_FILE=${SCHEMA_FILE:-conf/ClickEvent-v2.avsc}
RATE=$RATE USERS=${USERS:-1000} "$SH" run conf/produce.ini >"$LOGDIR/producer.log" 2>&1 &
pids+=($!)
GROUP="demo-$(date +%s)" DASHBOARD_PORT=${DASHBOARD_PORT:-8050} \
  "$SH" run conf/clickstream.ini conf/env/dashboard.ini >"$LOGDIR/analytics.log" 2>&1 &
pids+=($!)
echo "generator (pid ${pids[0]}, $RATE events/s, schema v$SCHEMA_VERSION) -> Kafka topic clickstream -> analytics (pid ${pids[1]}) -> OpenSearch"
echo "schema registry: $SCHEMA_REGISTRY_URL (subjects: curl $SCHEMA_REGISTRY_URL/subjects)"
echo "dashboard: http://127.0.0.1:${DASHBOARD_PORT:-8050}/   metrics: http://127.0.0.1:$METRICS_PORT/metrics"
echo "OpenSearch Dashboards: import conf/dashboards.ndjson (see plugins/sink-opensearch/README.md)"
echo "first documents appear ~21 s after the first events (1 s session gap + 20 s out-of-orderness). Ctrl-C stops."
count() { # documents in index $1 (0 until the index exists)
  local n; n=$(curl -s "$OPENSEARCH_URL/$1/_count" 2>/dev/null | sed -n 's/.*"count":\([0-9]*\).*/\1/p'); echo "${n:-0}"; }
while true; do
  for p in "${pids[@]}"; do
    if ! kill -0 "$p" 2>/dev/null; then echo "a process exited; see $LOGDIR"; exit 1; fi
  done
  printf '\r%s  user_session_details %-8s user_session_counts %-8s departments_count %-8s' \
    "$(date +%T)" "$(count user_session_details)" "$(count user_session_counts)" "$(count departments_count)"
  sleep 2
done
