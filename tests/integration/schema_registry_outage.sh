# needs: kafka
# The schema registry stopped mid-run and started again: the Kafka source
# pauses the partitions whose messages carry a schema id it has not seen,
# says so on the live line and on /health, retries with backoff, and once
# the registry answers reads on: no message lost, none dead-lettered.
# Runs its own registry (scripts/registry.sh on a port of its own, schemas
# kept in a file across the restart, as a production registry keeps them).
source tests/integration/common.bash
export REGISTRY_PORT=$((18100 + RANDOM % 800)) REGISTRY_KEEP_DATA=1
REG=$(scripts/registry.sh url)
TOOLS="$BUILD/tests/tools"
BOOT=${KAFKA_BOOTSTRAP:-127.0.0.1:9092}
topic="sro-$$-$RANDOM"
PORT=$((20000 + RANDOM % 20000))
EVENTS=2000
HALF=1000
run_dir=".cache/run/registry-$REGISTRY_PORT"
pid=
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  scripts/registry.sh stop >/dev/null 2>&1 || true
  rm -rf "$run_dir/data"
  [ -n "${KEEP_TMP:-}" ] && echo "kept $T" || rm -rf "$T"
}
trap cleanup EXIT
scripts/registry.sh start

register() { # register SUBJECT FILE -> prints the id
  python3 -c 'import json,sys; print(json.dumps({"schema": open(sys.argv[1]).read()}))' "$2" |
    curl -sf -X POST -H 'Content-Type: application/vnd.schemaregistry.v1+json' --data @- "$REG/subjects/$1/versions" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}
id1=$(register "$topic-value" conf/ClickEvent.avsc)
id2=$(register "$topic-value" conf/ClickEvent-v2.avsc)
echo "v1 = schema id $id1, v2 = schema id $id2 on $REG"

cat > "$T/events.ini" <<INI
[streamhost]
progress = off
[source.gen]
plugin = clickgen
users = 50
clock = simulated
start_time = 1700000000000
seed = 5
max_events = $EVENTS
[sink.f]
plugin = file
inputs = gen
path = $T/events.jsonl
INI
"$SH" run "$T/events.ini"
python3 tests/integration/schema_registry_frames.py "$T/events.jsonl" "v1:$id1" --count $HALF > "$T/first.frames"
python3 tests/integration/schema_registry_frames.py "$T/events.jsonl" "v2:$id2" --from $HALF > "$T/second.frames"
"$TOOLS/kafka_put" "$BOOT" "$topic" < "$T/first.frames"

cat > "$T/c.ini" <<INI
[streamhost]
progress = on
progress.interval = 200ms
metrics.port = $PORT
commit.interval = 300ms
dead_letter.file = $T/dead.jsonl
[kafka]
bootstrap.servers = $BOOT
[source.clicks]
plugin = kafka
topic = $topic
group = $topic-g
schema.file = conf/ClickEvent.avsc
schema.registry.url = $REG
schema.registry.retry.max = 1s
[sink.out]
plugin = file
inputs = clicks
path = $T/out.jsonl
INI
"$SH" run "$T/c.ini" 2> "$T/run.log" &
pid=$!
metric() { curl -sf "http://127.0.0.1:$PORT/metrics" 2>/dev/null | grep -E "^streamhost_$1\{component=\"clicks\"" | awk '{print $NF}' | head -1; }
wait_for() { # wait_for WHAT SECONDS COMMAND...: polls until COMMAND succeeds
  local what=$1 s=$2 i
  shift 2
  for ((i = 0; i < s * 5; i++)); do "$@" && return 0; sleep 0.2; done
  echo "gave up waiting ${s}s for: $what"
  return 1
}
out_is() { [ "$(metric records_out_total)" = "$1" ]; }
check "the first $HALF messages (v1) are read while the registry is up" wait_for "records out = $HALF" 60 out_is $HALF

scripts/registry.sh stop
"$TOOLS/kafka_put" "$BOOT" "$topic" < "$T/second.frames"
paused() { [ "$(metric registry_paused_partitions)" -ge 1 ] 2>/dev/null; }
check "registry stopped, v2 messages arrive: partitions paused (gauge registry_paused_partitions)" \
  wait_for "a paused partition" 60 paused
curl -s "http://127.0.0.1:$PORT/health" > "$T/health.json" || true
cat "$T/health.json"
check "/health says the schema registry is unavailable" grep -q '"schema_registry":"unavailable"' "$T/health.json"
check "the live line says so" wait_for "the progress line" 10 grep -q "schema registry unavailable: [0-9]* partition(s) paused" "$T/run.log"
check "nothing read past the pause, nothing dead-lettered" bash -c "test \"\$(curl -sf http://127.0.0.1:$PORT/metrics | grep -E '^streamhost_records_out_total\\{component=\"clicks\"' | awk '{print \$NF}')\" = $HALF && test ! -s '$T/dead.jsonl'"

scripts/registry.sh start
check "registry back: every message is read ($EVENTS)" wait_for "records out = $EVENTS" 90 out_is $EVENTS
check "no partition paused any more" wait_for "gauge back to 0" 10 bash -c "curl -sf http://127.0.0.1:$PORT/metrics | grep -qE '^streamhost_registry_paused_partitions\\{component=\"clicks\"\\} 0'"
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=
check "the run stops cleanly on SIGTERM" test "$rc" = 0
grep -E "paused at offset|answers again" "$T/run.log" | head -4 || true
check "the source logged the pause and the resume" bash -c "grep -q 'paused at offset' '$T/run.log' && grep -q 'the registry answers again; resuming at offset' '$T/run.log'"
check "no dead letters" test ! -s "$T/dead.jsonl"
check "every event in the output exactly once ($EVENTS distinct globalseq)" \
  test "$(python3 -c 'import json,sys; print(len({json.loads(l)["_source"]["globalseq"] for l in open(sys.argv[1])}))' "$T/out.jsonl")" = $EVENTS
check "... and no duplicates ($EVENTS lines)" test "$(wc -l < "$T/out.jsonl")" = $EVENTS
