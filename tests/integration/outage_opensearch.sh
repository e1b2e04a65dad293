# needs: kafka opensearch
# OpenSearch is stopped for 30 s in the middle of a run and started again.
# The sink buffers up to its bound, back-pressure pauses consumption, the
# host's memory stays under a limit meanwhile, and it resumes by itself:
# in the end the three indices hold exactly the undisturbed run's documents.
source tests/integration/common.bash
source tests/integration/pipeline.bash
OS_URL=${OPENSEARCH_URL:-$(scripts/opensearch.sh url)}
OUTAGE=${OUTAGE_SECONDS:-30}
# 128 MiB; under ASan (build/asan) its shadow memory and quarantine need more
case "$BUILD" in *asan*) RSS_DEFAULT=393216 ;; *) RSS_DEFAULT=131072 ;; esac
RSS_LIMIT_KB=${RSS_LIMIT_KB:-$RSS_DEFAULT}
topic="osout-$$-$RANDOM"
P="osout-$$-"
trap 'curl -s -XDELETE "$OS_URL/${P}*" >/dev/null 2>&1; [ -n "${KEEP_TMP:-}" ] || rm -rf "$T"' EXIT

fill_topic "$topic" 150000 400 3
reference_set "$topic" "$T/ref.set"
analytics_ini "$topic" "os-$$" "rate.limit = 10000
commit.interval = 1s" "[sink.search]
plugin = opensearch
inputs = checkouts, counts
url = $OS_URL
index_prefix = $P
buffer.max_bytes = 1MiB
batch.max_docs = 200
batch.max_bytes = 256KiB
flush_interval = 200ms
retry.max = 2s" "kafka.queued.max.messages.kbytes = 16384" > "$T/os.ini"
"$SH" run "$T/os.ini" 2> "$T/run.log" &
pid=$!
rss_watch $pid "$T/rss" &
sleep 4
echo "stopping OpenSearch for ${OUTAGE}s"
scripts/opensearch.sh stop
sleep "$OUTAGE"
OPENSEARCH_KEEP_DATA=1 scripts/opensearch.sh start
set +e; wait $pid; rc=$?; set -e
python3 tests/integration/docset.py --opensearch "$OS_URL" "$P" > "$T/os.set"
peak=$(sort -n "$T/rss" | tail -1)
grep -E "retries_total|request_failures_total|documents_indexed_total" "$T/run.log" || true
echo "peak RSS during the run: ${peak} kB (limit ${RSS_LIMIT_KB} kB)"
check "the run finished by itself (exit 0) after the outage" test "$rc" -eq 0
check "OpenSearch failures were seen and retried" grep -qE "request_failures_total = [1-9]|retries_total = [1-9]" "$T/run.log"
check "memory stayed under the bound during the outage" test "$peak" -lt "$RSS_LIMIT_KB"
check "documents equal the undisturbed run: none lost, none twice ($(wc -l < "$T/os.set"))" diff "$T/ref.set" "$T/os.set"
