# needs: kafka
# The worked example through a real Kafka broker, in two processes as the
# reference ran: a producer process (file -> topic) and the analytics
# process (bounded Kafka source -> session -> filter -> tumble -> file).
source tests/integration/common.bash
source tests/integration/pipeline.bash
topic="golden-$$-$RANDOM"

cat > "$T/produce.ini" <<INI
[streamhost]
progress = off
[kafka]
bootstrap.servers = $BOOT
[source.events]
plugin = file
path = tests/data/worked-example.jsonl
[sink.to-kafka]
plugin = kafka
inputs = events
topic = $topic
key.field = userid
INI
analytics_ini "$topic" "golden-$$" "" "$(file_sink "$T/out.jsonl")" > "$T/analytics.ini"
"$SH" run "$T/produce.ini"
"$SH" run "$T/analytics.ini"
check "documents equal docs/semantics.md §7 through real Kafka" same_sorted "$T/out.jsonl" tests/data/worked-example.expected.jsonl
# committed offsets: a second run of the same group reads nothing new
"$SH" run "$T/analytics.ini" 2> "$T/second.log"
check "second run with the same group emits no documents (offsets were committed)" test ! -s "$T/out.jsonl"
