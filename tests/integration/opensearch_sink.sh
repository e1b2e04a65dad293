# needs: opensearch
# The opensearch sink against a real OpenSearch node (scripts/opensearch.sh):
#  1. the index templates carry the reference mappings; a document whose
#     field type conflicts with them goes to the dead-letter file with
#     OpenSearch's reason, and every other document is indexed;
#  2. OpenSearch is stopped while a pipeline writes to it and started again
#     with its data kept: the sink buffers, then holds the source back
#     (back-pressure), and in the end every document arrives, none twice (the
#     same ids and sources as a file-sink run over the same generated events).
# Scenario 2 stops and restarts the node this test finds running.
source tests/integration/common.bash
OS_URL=$(scripts/opensearch.sh url)
P1="itest-$$-conflict-" # index_prefix of each scenario
P2="itest-$$-outage-"
cleanup() {
  for p in "$P1" "$P2"; do
    curl -s -XDELETE "$OS_URL/${p}*" >/dev/null 2>&1 || true
    for i in user_session_details user_session_counts departments_count; do
      curl -s -XDELETE "$OS_URL/_index_template/streamhost-$p$i" >/dev/null 2>&1 || true
    done
  done
  rm -rf "$T"
}
trap cleanup EXIT

os_docs() { # os_docs PREFIX INDEX -> one {"_index","_id","_source"} line per document, like the file sink
  curl -s -XPOST "$OS_URL/$1$2/_refresh" >/dev/null
  curl -s "$OS_URL/$1$2/_search?size=10000&sort=_doc" | python3 -c '
import json, sys
prefix = sys.argv[1]
for h in json.load(sys.stdin)["hits"]["hits"]:
    print(json.dumps({"_index": h["_index"][len(prefix):], "_id": h["_id"], "_source": h["_source"]},
                     separators=(",", ":")))' "$1"
}
os_count() { # os_count PREFIX INDEX
  curl -s -XPOST "$OS_URL/$1$2/_refresh" >/dev/null
  curl -s "$OS_URL/$1$2/_count" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])'
}
normalized() { # normalized FILE: documents sorted, keys of _source in a fixed order
  python3 -c '
import json, sys
for line in sorted(json.dumps(json.loads(l), sort_keys=True) for l in open(sys.argv[1]) if l.strip()):
    print(line)' "$1"
}

ANALYTICS=$(analytics_transforms)

# ---- 1. mappings and a conflicting document ---------------------------------
cat > "$T/bad.avsc" <<'AVSC'
{"type": "record", "name": "user_session_counts", "fields": [
  {"name": "userSessionCount", "type": "string"},
  {"name": "windowBeginTime", "type": "long"},
  {"name": "windowEndTime", "type": "long"}]}
AVSC
echo '{"userSessionCount": "lots", "windowBeginTime": 90000, "windowEndTime": 100000}' > "$T/bad.jsonl"
cat > "$T/conflict.ini" <<INI
[streamhost]
progress = off
dead_letter.file = $T/dead.jsonl

[source.clicks]
plugin = file
path = tests/data/worked-example.jsonl
schema.file = conf/ClickEvent.avsc

[source.bad]
plugin = file
path = $T/bad.jsonl
schema.file = $T/bad.avsc
stream = user_session_counts
time.field = windowEndTime
key.field =
$ANALYTICS
[sink.search]
plugin = opensearch
inputs = checkouts, counts, bad
url = $OS_URL
index_prefix = $P1
INI
"$SH" run "$T/conflict.ini" 2> "$T/conflict.err" || { cat "$T/conflict.err"; exit 1; }
cat "$T/conflict.err"

mapping=$(curl -s "$OS_URL/${P1}departments_count/_mapping" | python3 -c '
import json, sys
m = json.load(sys.stdin)
print(json.dumps(list(m.values())[0]["mappings"], sort_keys=True))')
want='{"properties": {"departmentCount": {"type": "integer"}, "departmentName": {"fields": {"keyword": {"ignore_above": 256, "type": "keyword"}}, "type": "text"}, "windowBeginTime": {"type": "date"}, "windowEndTime": {"type": "date"}}}'
check "departments_count has the reference mapping" test "$mapping" = "$want"
check "one dead letter" test "$(wc -l < "$T/dead.jsonl")" -eq 1
check "its reason is OpenSearch's mapping error" \
  grep -q '"reason":"opensearch_rejected: 400 mapper_parsing_exception: failed to parse field \[userSessionCount\] of type \[integer\]' "$T/dead.jsonl"
payload=$(python3 -c 'import base64,json,sys; print(base64.b64decode(json.load(open(sys.argv[1]))["payload_base64"]).decode())' "$T/dead.jsonl")
check "its payload is the rejected document, with its index" \
  test "$payload" = "{\"_index\":\"${P1}user_session_counts\",\"_source\":{\"userSessionCount\":\"lots\",\"windowBeginTime\":90000,\"windowEndTime\":100000}}"
{ for i in user_session_details user_session_counts departments_count; do os_docs "$P1" $i; done; } > "$T/indexed.jsonl"
check "the other 8 documents are indexed, with their ids" \
  diff <(normalized "$T/indexed.jsonl") <(normalized tests/data/worked-example.expected.jsonl)
check "the run logged the rejection count" grep -q "documents_rejected_total = 1" "$T/conflict.err"

# ---- 2. OpenSearch down for a while, then back ------------------------------
clicks='
[source.clicks]
plugin = clickgen
seed = 7
start_time = 1700000000000
users = 30
max_events = 24000'
cat > "$T/reference.ini" <<INI
[streamhost]
progress = off
$clicks
$ANALYTICS
[sink.out]
plugin = file
inputs = checkouts, counts
path = $T/reference.jsonl
INI
"$SH" -q run "$T/reference.ini"
cat > "$T/outage.ini" <<INI
[streamhost]
progress = off
shutdown.timeout = 180s
dead_letter.file = $T/dead2.jsonl
$clicks
rate = 1000
$ANALYTICS
[sink.search]
plugin = opensearch
inputs = checkouts, counts
url = $OS_URL
index_prefix = $P2
retry.max = 2s
batch.max_bytes = 8KiB          ; small, so that the outage fills the buffer:
buffer.max_bytes = 32KiB        ; back-pressure then pauses the source
INI
"$SH" run "$T/outage.ini" 2> "$T/outage.err" &
pid=$!
sleep 5
check "documents are flowing before the outage" test "$(os_count "$P2" user_session_details)" -gt 0
scripts/opensearch.sh stop
sleep 5
check "the pipeline keeps running while OpenSearch is down" kill -0 "$pid"
OPENSEARCH_KEEP_DATA=1 scripts/opensearch.sh start
check "the pipeline finishes cleanly" wait "$pid"
grep -E "failed|accepts requests again|search (bulk|documents|retries|request)" "$T/outage.err" || true
check "the sink saw the outage" grep -q "accepts requests again" "$T/outage.err"
{ for i in user_session_details user_session_counts departments_count; do os_docs "$P2" $i; done; } > "$T/indexed2.jsonl"
echo "reference documents: $(wc -l < "$T/reference.jsonl"), indexed: $(wc -l < "$T/indexed2.jsonl")"
check "every document arrived, none twice (ids and sources equal the file sink's)" \
  diff <(normalized "$T/indexed2.jsonl") <(normalized "$T/reference.jsonl")
check "no dead letters" test ! -e "$T/dead2.jsonl"
