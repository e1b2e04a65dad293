# needs: kafka opensearch
# The whole application against the real services: clickgen -> Kafka ->
# session -> filter -> tumble -> OpenSearch, seeded and finite.  Then:
#  - the three indices exist with the reference mapping types;
#  - their documents equal what the same input gives through the file sink;
#  - running the analytics again from the beginning (a new consumer group)
#    leaves the document counts and contents unchanged (no duplicates).
source tests/integration/common.bash
source tests/integration/pipeline.bash
OS_URL=${OPENSEARCH_URL:-$(scripts/opensearch.sh url)}
topic="e2e-$$-$RANDOM"
P="e2e-$$-"
cleanup() {
  curl -s -XDELETE "$OS_URL/${P}*" >/dev/null 2>&1 || true
  for i in user_session_details user_session_counts departments_count; do
    curl -s -XDELETE "$OS_URL/_index_template/streamhost-$P$i" >/dev/null 2>&1 || true
  done
  [ -n "${KEEP_TMP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

fill_topic "$topic" 60000 400 5
analytics_ini "$topic" "file-$$" "" "$(file_sink "$T/file.jsonl")" > "$T/file.ini"
search_sink="[sink.search]
plugin = opensearch
inputs = checkouts, counts
url = $OS_URL
index_prefix = $P"
analytics_ini "$topic" "os1-$$" "" "$search_sink" > "$T/os1.ini"
analytics_ini "$topic" "os2-$$" "" "$search_sink" > "$T/os2.ini"

"$SH" run "$T/file.ini"
"$SH" run "$T/os1.ini"
python3 tests/integration/docset.py "$T/file.jsonl" > "$T/file.set"
python3 tests/integration/docset.py --opensearch "$OS_URL" "$P" > "$T/os1.set"
for i in user_session_details user_session_counts departments_count; do
  echo "$i: $(grep -c "\"_index\":\"$i\"" "$T/os1.set") documents"
done
check "all three indices have documents" bash -c "for i in user_session_details user_session_counts departments_count; do grep -q \"\\\"_index\\\":\\\"\$i\\\"\" '$T/os1.set' || exit 1; done"
check "OpenSearch documents equal the file sink's (ids and contents)" diff "$T/file.set" "$T/os1.set"

mapping() { curl -s "$OS_URL/$P$1/_mapping" | python3 -c "import json,sys; m=json.load(sys.stdin); print(list(m.values())[0]['mappings']['properties']['$2']['type'])"; }
check "windowEndTime is a date" test "$(mapping user_session_counts windowEndTime)" = date
check "windowBeginTime is a date" test "$(mapping departments_count windowBeginTime)" = date
check "userSessionCount is an integer" test "$(mapping user_session_counts userSessionCount)" = integer
check "userId is a long" test "$(mapping user_session_details userId)" = long
check "departmentName is text with a keyword sub-field" test "$(curl -s "$OS_URL/${P}departments_count/_mapping" | python3 -c "import json,sys; m=json.load(sys.stdin); p=list(m.values())[0]['mappings']['properties']['departmentName']; print(p['type'], p['fields']['keyword']['type'])")" = "text keyword"

"$SH" run "$T/os2.ini"
python3 tests/integration/docset.py --opensearch "$OS_URL" "$P" > "$T/os2.set"
total() { curl -s -XPOST "$OS_URL/${P}*/_refresh" >/dev/null; curl -s "$OS_URL/${P}*/_count" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])'; }
check "a second run from the beginning leaves the document count unchanged ($(wc -l < "$T/os1.set"))" test "$(total)" -eq "$(wc -l < "$T/os1.set")"
check "and the documents unchanged" diff "$T/os1.set" "$T/os2.set"
