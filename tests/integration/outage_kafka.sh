# needs: kafka
# The Kafka broker is stopped and restarted (data kept) in the middle of a
# run.  The consumer and the offset commits retry until it is back; the run
# resumes by itself, memory stays bounded, and the documents equal the
# undisturbed run's.
source tests/integration/common.bash
source tests/integration/pipeline.bash
# 128 MiB; under ASan (build/asan) its shadow memory and quarantine need more
case "$BUILD" in *asan*) RSS_DEFAULT=393216 ;; *) RSS_DEFAULT=131072 ;; esac
RSS_LIMIT_KB=${RSS_LIMIT_KB:-$RSS_DEFAULT}
topic="kout-$$-$RANDOM"

fill_topic "$topic" 150000 400 4
reference_set "$topic" "$T/ref.set"
analytics_ini "$topic" "kout-$$" "rate.limit = 15000
commit.interval = 500ms" "$(file_sink "$T/out.jsonl" true)" "kafka.queued.max.messages.kbytes = 16384" > "$T/run.ini"
"$SH" run "$T/run.ini" 2> "$T/run.log" &
pid=$!
rss_watch $pid "$T/rss" &
sleep 4
echo "stopping the Kafka broker for 10 s"
scripts/kafka.sh stop
sleep 10
KAFKA_KEEP_DATA=1 scripts/kafka.sh start
set +e; wait $pid; rc=$?; set -e
python3 tests/integration/docset.py "$T/out.jsonl" > "$T/out.set"
peak=$(sort -n "$T/rss" | tail -1)
echo "peak RSS ${peak} kB; broker errors logged: $(grep -c 'Connection refused\|Disconnected' "$T/run.log")"
check "the run finished by itself (exit 0) after the broker came back" test "$rc" -eq 0
check "the broker outage was noticed" grep -qE "Connection refused|Disconnected|Connect to" "$T/run.log"
check "memory stayed under the bound" test "$peak" -lt "$RSS_LIMIT_KB"
check "documents equal the undisturbed run" diff "$T/ref.set" "$T/out.set"
