# needs: kafka
# A corpus of bad messages mixed into good traffic on a real topic: empty
# value, truncated Avro, wrong magic byte, unknown schema id, bad zlib, bad
# UTF-8, far-future and negative timestamps, null key, oversized.  Each goes
# to the dead-letter topic with its reason and origin headers, is counted,
# and the good events (docs/semantics.md §7) give exactly the expected documents:
# the far-future event in particular does not drag the watermark forward.
source tests/integration/common.bash
source tests/integration/pipeline.bash
topic="bad-$$-$RANDOM"
PUT="$BUILD/tests/tools/kafka_put"
DUMP="$BUILD/tests/tools/kafka_dump"

good() { # good FILE: the worked example, Confluent-framed, through our own Kafka sink
cat > "$T/good.ini" <<INI
[streamhost]
progress = off
[kafka]
bootstrap.servers = $BOOT
[source.events]
plugin = file
path = $1
[sink.k]
plugin = kafka
inputs = events
topic = $topic
key.field = userid
INI
"$SH" run "$T/good.ini"
}
head -10 tests/data/worked-example.jsonl > "$T/good1.jsonl"
tail -n +11 tests/data/worked-example.jsonl > "$T/good2.jsonl"
good "$T/good1.jsonl"

# the bad corpus, as "KEYHEX VALUEHEX" lines
python3 - > "$T/bad.hex" <<'PY'
import struct, zlib
def zz(n):
    n = (n << 1) ^ (n >> 63); out = b''
    while True:
        b = n & 0x7f; n >>= 7
        if n: out += bytes([b | 0x80])
        else: return out + bytes([b])
def s(x): return zz(len(x)) + x
def body(ts=5000, ip=b"66.249.1.17", user=1001):
    return s(ip) + zz(ts) + s(b"mobile") + zz(0) + s(b"home_page") + zz(0) + s(b"N/A") + zz(user) + zz(99) + zz(98)
conf = lambda b, sid=1: b'\x00' + struct.pack('>I', sid) + b
key = b"1001".hex()
lines = [
    (key, b""),                                                  # empty value
    (key, conf(body())[:12]),                                    # truncated Avro
    (key, b'\x07' + body()),                                     # wrong magic byte
    (key, conf(body(), sid=7)),                                  # unknown schema id
    (key, b'\x03\x05' + bytes(16) + b'not zlib at all'),         # bad zlib
    (key, conf(body(ip=b"66.249.\xff.17"))),                     # bad UTF-8
    (key, conf(body(ts=4102444800000))),                         # year 2100
    (key, conf(body(ts=-5))),                                    # negative time
    ("-", conf(body())),                                         # no key
    (key, conf(body()) + b'x' * 20000),                          # oversized
]
for k, v in lines:
    print(k if k == "-" else k, v.hex() if v else "")
PY
"$PUT" "$BOOT" "$topic" < "$T/bad.hex"
good "$T/good2.jsonl"

analytics_ini "$topic" "bad-$$" "" "$(file_sink "$T/out.jsonl")" "framing = confluent, glue
confluent.schema.ids = 1
max.message.bytes = 10KiB" > "$T/analytics.ini"
"$SH" run "$T/analytics.ini" 2> "$T/run.log"
grep -E "dead_letters_total|decode_errors_total|late_events" "$T/run.log" || true
check "good events give exactly docs/semantics.md §7's documents" same_sorted "$T/out.jsonl" tests/data/worked-example.expected.jsonl
check "no event was late (the year-2100 event did not move the watermark)" bash -c "! grep -q 'late_events_total = [1-9]' '$T/run.log'"
"$DUMP" "$BOOT" "$topic-dlq" > "$T/dlq.jsonl"
cat "$T/dlq.jsonl"
check "10 dead letters" test "$(wc -l < "$T/dlq.jsonl")" -eq 10
for reason in empty_value bad_avro bad_magic unknown_schema_id bad_zlib bad_utf8 null_key oversized; do
  check "dead letter with reason $reason" grep -q "\"streamhost.reason\":\"$reason:" "$T/dlq.jsonl"
done
check "two bad_timestamp dead letters (future, negative)" test "$(grep -c '"streamhost.reason":"bad_timestamp:' "$T/dlq.jsonl")" -eq 2
check "every dead letter names its source topic, partition and offset" \
  test "$(grep -c "\"streamhost.source.topic\":\"$topic\",\"streamhost.source.partition\":\"[0-9]*\",\"streamhost.source.offset\":\"[0-9]*\"" "$T/dlq.jsonl")" -eq 10
check "dead letters counted per reason" grep -q 'clicks dead_letters_total reason="bad_timestamp" = 2' "$T/run.log"
