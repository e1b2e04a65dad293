# needs: kafka
# The generator process is killed with SIGKILL at several random points and
# restarted each time.  The producer is idempotent, and with
# resume.field = globalseq a restarted (deterministic, seeded) generator skips
# what each partition already holds: in the end the topic holds every one of
# the 200,000 events exactly once.
source tests/integration/common.bash
BOOT=${KAFKA_BOOTSTRAP:-127.0.0.1:9092}
EVENTS=${CRASH_EVENTS:-200000}
topic="gencrash-$$-$RANDOM"

cat > "$T/produce.ini" <<INI
[streamhost]
progress = off
rate.limit = 40000
[kafka]
bootstrap.servers = $BOOT
[source.gen]
plugin = clickgen
users = 2000
clock = simulated
start_time = 1700000000000
seed = 21
max_events = $EVENTS
[sink.k]
plugin = kafka
inputs = gen
topic = $topic
key.field = userid
resume.field = globalseq
INI
cat > "$T/read.ini" <<INI
[streamhost]
progress = off
[kafka]
bootstrap.servers = $BOOT
[source.clicks]
plugin = kafka
topic = $topic
group = reader-$$
bounded = true
[sink.out]
plugin = file
inputs = clicks
path = $T/events.jsonl
INI
kills=0
for i in 1 2 3 4; do
  "$SH" run "$T/produce.ini" 2>>"$T/gen.log" &
  pid=$!
  delay=$(python3 -c "import random; print(round(random.uniform(1.0, 3.0), 2))")
  sleep "$delay"
  if kill -0 $pid 2>/dev/null; then kill -KILL $pid; kills=$((kills+1)); echo "SIGKILL after ${delay}s"; fi
  wait $pid 2>/dev/null || true
done
"$SH" run "$T/produce.ini" 2>>"$T/gen.log"
grep -h "resume:" "$T/gen.log" | tail -3
skipped=$(grep -h "resume_skipped_total" "$T/gen.log" | tail -1 | awk '{print $NF}')
echo "last run skipped ${skipped:-0} events already in the topic"
"$SH" run "$T/read.ini"
python3 - "$T/events.jsonl" "$EVENTS" > "$T/verdict" <<'PY'
import json, sys
seqs = [json.loads(l)["_source"]["globalseq"] for l in open(sys.argv[1]) if l.strip()]
n = int(sys.argv[2])
dups = len(seqs) - len(set(seqs))
missing = n - len(set(s for s in seqs if 1 <= s <= n))
print(f"{len(seqs)} events in the topic, {dups} duplicates, {missing} missing")
PY
cat "$T/verdict"
check "$kills SIGKILLs of the generator mid-run" test "$kills" -ge 2
check "every event exactly once in the topic" grep -q "^$EVENTS events in the topic, 0 duplicates, 0 missing" "$T/verdict"
