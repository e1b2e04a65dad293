# needs: kafka opensearch
# One config per environment without copies (issue 15 item 4, docs/configuration.md):
#  - `run conf/clickstream.ini conf/env/dev.ini` (file sink) and
#    `run conf/clickstream.ini conf/env/local.ini` (OpenSearch) over the same
#    seeded topic give the same documents, in a file and in OpenSearch;
#  - `check` names the FILE:LINE of the overlay for mistakes in the overlay
#    (an unknown key, a value a plugin refuses, an unset variable), and none
#    of the base;
#  - `config` prints the merged config with where each key came from, keeps
#    secrets from the environment out, and its output passes `check`.
# The shipped files are used as they are; only environment variables point
# them at this test's topic, group, index prefix and output file.
source tests/integration/common.bash
source tests/integration/pipeline.bash
OS_URL=${OPENSEARCH_URL:-$(scripts/opensearch.sh url)}
topic="overlays-$$-$RANDOM"
P="overlays-$$-"
cleanup() {
  curl -s -XDELETE "$OS_URL/${P}*" >/dev/null 2>&1 || true
  for i in user_session_details user_session_counts departments_count; do
    curl -s -XDELETE "$OS_URL/_index_template/streamhost-$P$i" >/dev/null 2>&1 || true
  done
  [ -n "${KEEP_TMP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

# what every run of this test shares: this test's topic, bounded, no metrics port
export KAFKA_BOOTSTRAP="$BOOT" TOPIC="$topic" BOUNDED=true METRICS_PORT=0
fill_topic "$topic" 60000 400 11

# --- the same analytics into a file (dev) and into OpenSearch (local) ------------
GROUP="dev-$$" OUTPUT="$T/dev.jsonl" DEAD_LETTERS="$T/dev-dead.jsonl" \
  "$SH" run conf/clickstream.ini conf/env/dev.ini > "$T/dev.log" 2>&1 || { cat "$T/dev.log"; exit 1; }
OUTPUT="$T/dev.jsonl" "$SH" check conf/clickstream.ini conf/env/dev.ini > "$T/check-dev.out" 2>&1 || { cat "$T/check-dev.out"; exit 1; }
check "in dev, [sink.search] is the file sink (the base's OpenSearch sink replaced)" \
  grep -q "^  sink  *search  *plugin file " "$T/check-dev.out"
GROUP="local-$$" INDEX_PREFIX="$P" OPENSEARCH_URL="$OS_URL" \
  "$SH" run conf/clickstream.ini conf/env/local.ini > "$T/local.log" 2>&1 || { cat "$T/local.log"; exit 1; }
python3 tests/integration/docset.py "$T/dev.jsonl" > "$T/dev.set"
python3 tests/integration/docset.py --opensearch "$OS_URL" "$P" > "$T/local.set"
for i in user_session_details user_session_counts departments_count; do
  echo "$i: file $(grep -c "\"_index\":\"$i\"" "$T/dev.set"), OpenSearch $(grep -c "\"_index\":\"$i\"" "$T/local.set") documents"
done
check "the file holds documents of all three indices" bash -c "for i in user_session_details user_session_counts departments_count; do grep -q \"\\\"_index\\\":\\\"\$i\\\"\" '$T/dev.set' || exit 1; done"
check "dev (file) and local (OpenSearch) hold the same $(wc -l < "$T/dev.set") documents (ids and contents)" \
  diff "$T/dev.set" "$T/local.set"
check "no dead letters in dev" test ! -s "$T/dev-dead.jsonl"

# --- check names the overlay's FILE:LINE -------------------------------------
cat > "$T/bad.ini" <<'INI'
; an environment file with two mistakes
[sink.search]
plugin = opensearch
batch.max_dcos = 10
index_prefix = ${OVERLAYS_UNSET_VAR}
INI
# a value only the plugin's own check refuses (its validate callback, which
# runs once the section's keys and types are right) comes through cfg_where
cat > "$T/bad-url.ini" <<'INI'

[sink.search]
url = ftp://search.example.com
INI
rc=0; "$SH" check conf/clickstream.ini "$T/bad.ini" > "$T/bad.out" 2>&1 || rc=$?
rc_url=0; "$SH" check conf/clickstream.ini "$T/bad-url.ini" >> "$T/bad.out" 2>&1 || rc_url=$?
cat "$T/bad.out"
check "check of an overlay with mistakes exits 2 ($rc, $rc_url)" test "$rc$rc_url" = 22
check "the misspelt key at $T/bad.ini:4, with a hint" grep -q "^$T/bad.ini:4: unknown key 'batch.max_dcos' in \[sink.search\] (did you mean 'batch.max_docs'" "$T/bad.out"
check "the unset variable at $T/bad.ini:5" grep -q "^$T/bad.ini:5: index_prefix: variable \${OVERLAYS_UNSET_VAR} is not set" "$T/bad.out"
check "the url the opensearch plugin refuses at $T/bad-url.ini:3" grep -q "^$T/bad-url.ini:3: .*url" "$T/bad.out"
check "no problem is blamed on the base" bash -c "! grep -q '^conf/clickstream.ini:' '$T/bad.out'"
check "the summary names both files" grep -q "2 problems in conf/clickstream.ini + $T/bad.ini" "$T/bad.out"

# --- config: the merged result, where each key came from, reads back ---------
OUTPUT="$T/dev.jsonl" "$SH" config conf/clickstream.ini conf/env/dev.ini > "$T/merged-dev.ini"
cat "$T/merged-dev.ini"
check "config says the file sink comes from conf/env/dev.ini" grep -q "^plugin = file .*; from conf/env/dev.ini:[0-9]" "$T/merged-dev.ini"
check "and that it replaced the base's opensearch sink" grep -q "^\[sink.search\].*replacing plugin = opensearch of conf/clickstream.ini:[0-9]* whole" "$T/merged-dev.ini"
check "the sink's inputs stay as the base wires them" grep -q "^inputs = checkouts, counts .*; from conf/clickstream.ini:" "$T/merged-dev.ini"
check "no OpenSearch key leaks into the file sink" bash -c "! grep -q '^url' '$T/merged-dev.ini'"
check "the merged config passes check" "$SH" check "$T/merged-dev.ini"
cat > "$T/secret.ini" <<'INI'
[kafka]
sasl.username = ${OVERLAYS_USER}
sasl.password = ${OVERLAYS_PASSWORD}
INI
OVERLAYS_USER=alice OVERLAYS_PASSWORD='s3cr3t-Pa55' GROUP=x INDEX_PREFIX="$P" \
  "$SH" config conf/clickstream.ini conf/env/local.ini "$T/secret.ini" > "$T/merged-local.ini"
check "a password from the environment is redacted" grep -q "^sasl.password = <redacted> .*; from $T/secret.ini:3" "$T/merged-local.ini"
check "and appears nowhere" bash -c "! grep -q 's3cr3t' '$T/merged-local.ini'"
check "a user name is shown" grep -q "^sasl.username = alice " "$T/merged-local.ini"
check "three files merged: local's url over the base's" grep -q "^url = http://127.0.0.1:9200 .*; from conf/env/local.ini:" "$T/merged-local.ini"
check "the merged local config passes check" "$SH" check "$T/merged-local.ini"
