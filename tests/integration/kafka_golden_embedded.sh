# The worked example through Kafka in one process with the embedded broker:
# file -> Kafka topic (Avro, keyed by userid) -> Kafka source (bounded) ->
# session -> filter -> tumble -> file.  Same eight documents as docs/semantics.md §7.
source tests/integration/common.bash

for framing in confluent glue bare; do
cat > "$T/k.ini" <<INI
[streamhost]
progress = off
dead_letter.file = $T/dead.jsonl
[kafka]
bootstrap.servers = embedded
embedded.partitions = 3
[source.events]
plugin = file
path = tests/data/worked-example.jsonl
[sink.to-kafka]
plugin = kafka
inputs = events
topic = clickstream
key.field = userid
framing = $framing
glue.compression = zlib
[source.clicks]
plugin = kafka
topic = clickstream
bounded = true
$(analytics_transforms)
[sink.out]
plugin = file
inputs = checkouts, counts
path = $T/out-$framing.jsonl
INI
"$SH" run "$T/k.ini"
check "framing $framing: documents equal docs/semantics.md §7" same_sorted "$T/out-$framing.jsonl" tests/data/worked-example.expected.jsonl
done
check "no dead letters" test ! -e "$T/dead.jsonl"
