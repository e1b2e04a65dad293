# needs: kafka registry
# Schema evolution through a real schema registry (Apicurio, Confluent API)
# and a real broker:
#  1. the Kafka sink registers conf/ClickEvent.avsc under TOPIC-value and
#     frames with the returned id; fetched back by id it equals the file;
#     auto.register = false with a subject that lacks it refuses to start
#  2. a topic mixing v1, v2 (an added optional field) and a writer without
#     the optional prevglobalseq gives the documents of a pure v1 topic,
#     read with the v1 schema; nothing dead-lettered
#  3. an incompatible writer schema and an unknown id are dead letters with
#     their reasons and ids; the good messages around them are read
#  4. the reader's schema from the subject's latest version (no schema.file)
#  5. Glue framing: schema version UUIDs resolved through glue.schemas.dir
source tests/integration/common.bash
source tests/integration/pipeline.bash
REG=$(scripts/registry.sh url)
TOOLS="$BUILD/tests/tools"
base="sr-$$-$RANDOM"
EVENTS=4000

register() { # register SUBJECT FILE -> prints the id
  python3 -c 'import json,sys; print(json.dumps({"schema": open(sys.argv[1]).read()}))' "$2" |
    curl -sf -X POST -H 'Content-Type: application/vnd.schemaregistry.v1+json' --data @- "$REG/subjects/$1/versions" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}

# --- 1. the sink registers its schema ------------------------------------------
cat > "$T/produce.ini" <<INI
[streamhost]
progress = off
[kafka]
bootstrap.servers = $BOOT
[source.gen]
plugin = clickgen
users = 50
clock = simulated
start_time = 1700000000000
seed = 11
max_events = $EVENTS
[sink.k]
plugin = kafka
inputs = gen
topic = $base-v1
key.field = userid
schema.registry.url = http://127.0.0.1:1/unreachable, $REG
INI
"$SH" run "$T/produce.ini" 2> "$T/produce.log"
id1=$(sed -n "s/.*registered under subject '$base-v1-value' as schema id \([0-9]*\).*/\1/p" "$T/produce.log")
echo "the sink registered conf/ClickEvent.avsc as schema id $id1 (after failing over from an unreachable URL)"
check "the sink registered its schema under TOPIC-value" test -n "$id1"
curl -sf "$REG/schemas/ids/$id1" > "$T/by-id.json"
check "the schema fetched back by id equals conf/ClickEvent.avsc (parsed JSON)" python3 -c '
import json,sys
got = json.loads(json.load(open(sys.argv[1]))["schema"])
sys.exit(0 if got == json.load(open(sys.argv[2])) else 1)' "$T/by-id.json" conf/ClickEvent.avsc
"$TOOLS/kafka_dump" "$BOOT" "$base-v1" > "$T/v1.dump"
check "every message of the topic was produced ($EVENTS)" test "$(wc -l < "$T/v1.dump")" = "$EVENTS"

sed -e "s/^topic = .*/topic = $base-noreg/" -e 's/^max_events = .*/max_events = 10/' "$T/produce.ini" > "$T/noreg.ini"
printf 'auto.register = false\n' >> "$T/noreg.ini"
set +e
"$SH" run "$T/noreg.ini" 2> "$T/noreg.log"; rc=$?
set -e
cat "$T/noreg.log"
check "auto.register = false and no such schema under the subject: exit 2" test "$rc" = 2
check "... with one line naming the key and the subject" \
  grep -q "noreg.ini:[0-9]*: auto.register = false and .* is not registered under subject '$base-noreg-value'" "$T/noreg.log"
register "$base-noreg-value" conf/ClickEvent.avsc > /dev/null
check "auto.register = false with the schema registered: starts and finds it" "$SH" run "$T/noreg.ini"

# --- 2. a topic of v1, v2 and a writer without an optional field ---------------
# the same events as the v1 topic, in the same order, hand-encoded
cat > "$T/events.ini" <<INI
[streamhost]
progress = off
[source.gen]
plugin = clickgen
users = 50
clock = simulated
start_time = 1700000000000
seed = 11
max_events = $EVENTS
[sink.f]
plugin = file
inputs = gen
path = $T/events.jsonl
INI
"$SH" run "$T/events.ini"
python3 - conf/ClickEvent.avsc "$T" <<'PY'
import json, sys
v1 = json.load(open(sys.argv[1]))
drop = dict(v1, fields=[f for f in v1["fields"] if f["name"] != "prevglobalseq"])
bad = dict(v1, fields=[dict(f, type="string") if f["name"] == "eventtimestamp" else f for f in v1["fields"]])
json.dump(drop, open(sys.argv[2] + "/drop.avsc", "w"))
json.dump(bad, open(sys.argv[2] + "/bad.avsc", "w"))
PY
m="$base-mixed"
mid1=$(register "$m-value" conf/ClickEvent.avsc)
mid2=$(register "$m-value" conf/ClickEvent-v2.avsc)
mid3=$(register "$m-value" "$T/drop.avsc")
echo "subject $m-value: v1 = id $mid1, v2 = id $mid2, without prevglobalseq = id $mid3"
check "the registry gave three schema ids" test -n "$mid1" -a -n "$mid2" -a -n "$mid3"
python3 tests/integration/schema_registry_frames.py "$T/events.jsonl" "v1:$mid1,v2:$mid2,drop:$mid3" > "$T/mixed.frames"
"$TOOLS/kafka_put" "$BOOT" "$m" < "$T/mixed.frames"
reader="schema.file = conf/ClickEvent.avsc
schema.registry.url = $REG"
analytics_ini "$base-v1" "$base-g1" "dead_letter.file = $T/dl-v1.jsonl" "$(file_sink "$T/v1.jsonl")" "$reader" > "$T/a-v1.ini"
analytics_ini "$m" "$base-g2" "dead_letter.file = $T/dl-mixed.jsonl" "$(file_sink "$T/mixed.jsonl")" "$reader" > "$T/a-mixed.ini"
"$SH" run "$T/a-v1.ini"
"$SH" run "$T/a-mixed.ini" 2> "$T/a-mixed.log"
python3 tests/integration/docset.py "$T/v1.jsonl" > "$T/v1.set"
python3 tests/integration/docset.py "$T/mixed.jsonl" > "$T/mixed.set"
echo "pure v1 topic: $(wc -l < "$T/v1.set") documents; mixed topic: $(wc -l < "$T/mixed.set") documents"
check "the pure v1 topic gives documents" test "$(wc -l < "$T/v1.set")" -gt 20
check "the mixed v1/v2/without-prevglobalseq topic gives the same documents" \
  python3 tests/integration/docset.py --compare "$T/v1.set" "$T/mixed.set"
check "one decoding plan per writer schema" test "$(grep -c 'decoding plan built' "$T/a-mixed.log")" = 3
check "nothing dead-lettered" test ! -s "$T/dl-mixed.jsonl"

# --- 3. an incompatible writer schema and an unknown id ------------------------
c="$base-bad"
bid=$(register "$c-other-value" "$T/bad.avsc") # a fresh subject accepts any schema
unknown=2000000000
{
  python3 tests/integration/schema_registry_frames.py "$T/events.jsonl" "v1:$mid1" --count 5
  python3 tests/integration/schema_registry_frames.py "$T/events.jsonl" "bad:$bid" --from 5 --count 2
  python3 tests/integration/schema_registry_frames.py "$T/events.jsonl" "v1:$unknown" --from 7 --count 3
  python3 tests/integration/schema_registry_frames.py "$T/events.jsonl" "v2:$mid2" --from 10 --count 5
} > "$T/bad.frames"
"$TOOLS/kafka_put" "$BOOT" "$c" < "$T/bad.frames"
cat > "$T/bad.ini" <<INI
[streamhost]
progress = off
dead_letter.file = $T/dl-bad.jsonl
[kafka]
bootstrap.servers = $BOOT
[source.clicks]
plugin = kafka
topic = $c
group = $base-g3
bounded = true
schema.file = conf/ClickEvent.avsc
schema.registry.url = $REG
[sink.out]
plugin = file
inputs = clicks
path = $T/bad-out.jsonl
INI
"$SH" run "$T/bad.ini" 2> "$T/bad.log"
python3 - "$T/dl-bad.jsonl" <<'PY'
import collections, json, sys
c = collections.Counter(json.loads(l)["reason"].split(":")[0] for l in open(sys.argv[1]))
print("dead letters by reason:", dict(c))
PY
check "the 10 good messages (v1 and v2) are read" test "$(wc -l < "$T/bad-out.jsonl")" = 10
check "2 incompatible_schema dead letters naming the id" \
  test "$(grep -c "\"reason\":\"incompatible_schema: schema id $bid cannot be read" "$T/dl-bad.jsonl")" = 2
check "... and why (eventtimestamp: string is not long)" \
  grep -q "field 'eventtimestamp': the writer's string cannot be read as the reader's long" "$T/dl-bad.jsonl"
check "3 unknown_schema dead letters naming the id" \
  test "$(grep -c "\"reason\":\"unknown_schema: schema id $unknown: not found in the registry" "$T/dl-bad.jsonl")" = 3
check "the registry was asked about the unknown id once" test "$(grep -c "schema id $unknown" "$T/bad.log")" = 1

# --- 4. the reader's schema from the subject's latest version ------------------
cat > "$T/latest.ini" <<INI
[streamhost]
progress = off
dead_letter.file = $T/dl-latest.jsonl
[kafka]
bootstrap.servers = $BOOT
[source.clicks]
plugin = kafka
topic = $m
group = $base-g4
bounded = true
schema.registry.url = $REG
[sink.out]
plugin = file
inputs = clicks
path = $T/latest.jsonl
INI
"$SH" run "$T/latest.ini" 2> "$T/latest.log"
check "reader schema = the latest version of TOPIC-value" \
  grep -q "reader schema: subject '$m-value' (latest version, schema id $mid3)" "$T/latest.log"
check "every message read with it ($EVENTS), none dead-lettered" \
  bash -c "test \"\$(wc -l < '$T/latest.jsonl')\" = $EVENTS && test ! -s '$T/dl-latest.jsonl'"
check "its records have no prevglobalseq (the latest schema dropped it)" bash -c "! grep -q prevglobalseq '$T/latest.jsonl'"

# --- 5. Glue framing: UUID -> glue.schemas.dir/UUID.avsc ------------------------
g="$base-glue"
u2=3f2a1b4c-0d5e-4f60-8a7b-9c0d1e2f3a4b
u3=00000000-0000-4000-8000-0000000000d3
unknown_u=99999999-9999-4999-8999-999999999999
mkdir -p "$T/glue"
cp conf/ClickEvent-v2.avsc "$T/glue/$u2.avsc"
cp "$T/drop.avsc" "$T/glue/$u3.avsc"
{
  python3 tests/integration/schema_registry_frames.py "$T/events.jsonl" "v2:$u2,drop:$u3" --count 10
  python3 tests/integration/schema_registry_frames.py "$T/events.jsonl" "v1:$unknown_u" --from 10 --count 2
} > "$T/glue.frames"
"$TOOLS/kafka_put" "$BOOT" "$g" < "$T/glue.frames"
sed -e "s/^topic = .*/topic = $g/" -e "s/^group = .*/group = $base-g5/" -e "s|^schema.registry.url = .*|glue.schemas.dir = $T/glue|" \
  -e "s|dl-bad.jsonl|dl-glue.jsonl|" -e "s|bad-out.jsonl|glue-out.jsonl|" "$T/bad.ini" > "$T/glue.ini"
"$SH" run "$T/glue.ini" 2> "$T/glue.log"
check "Glue: the 10 messages of known schema versions are read" test "$(wc -l < "$T/glue-out.jsonl")" = 10
check "... as the v1 reader reads them (v2's referrer dropped, the missing prevglobalseq defaulted)" python3 -c '
import json, sys
ev = [json.loads(l)["_source"] for l in open(sys.argv[1])][:10]
out = sorted((json.loads(l)["_source"] for l in open(sys.argv[2])), key=lambda r: r["globalseq"])
for i, (e, o) in enumerate(zip(ev, out)):
    want = dict(e, prevglobalseq=e["prevglobalseq"] if i % 2 == 0 else 0)
    if o != want:
        sys.exit("record %d: %s != %s" % (i, o, want))' "$T/events.jsonl" "$T/glue-out.jsonl"
check "Glue: 2 unknown_schema dead letters naming the UUID and the file" \
  test "$(grep -c "\"reason\":\"unknown_schema: Glue schema version $unknown_u: no schema file $T/glue/$unknown_u.avsc" "$T/dl-glue.jsonl")" = 2
