# needs: kafka
# The worked example through a real Kafka broker, in two processes as the
# reference ran: a producer process (file -> topic) and the analytics
# process (bounded Kafka source -> session -> filter -> tumble -> file).
source tests/integration/common.bash
BOOT=${KAFKA_BOOTSTRAP:-127.0.0.1:9092}
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
cat > "$T/analytics.ini" <<INI
[streamhost]
progress = off
dead_letter.topic = $topic-dlq
[kafka]
bootstrap.servers = $BOOT
[source.clicks]
plugin = kafka
topic = $topic
group = golden-$$
bounded = true
[transform.sessions]
plugin = session
inputs = clicks
[transform.checkouts]
plugin = filter
inputs = sessions
where = orderCheckoutEventCount != 0
[transform.counts]
plugin = tumble
inputs = sessions
[sink.out]
plugin = file
inputs = checkouts, counts
path = $T/out.jsonl
INI
"$SH" run "$T/produce.ini"
"$SH" run "$T/analytics.ini"
check "documents equal SEMANTICS §7 through real Kafka" same_sorted "$T/out.jsonl" tests/data/worked-example.expected.jsonl
# committed offsets: a second run of the same group reads nothing new
"$SH" run "$T/analytics.ini" 2> "$T/second.log"
check "second run with the same group emits no documents (offsets were committed)" test ! -s "$T/out.jsonl"
