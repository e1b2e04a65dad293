# needs: opensearch-secure
# The opensearch sink against OpenSearch with its security plugin
# (scripts/opensearch-secure.sh: HTTPS from a CA made at start, internal
# users; the role of "writer" may only write the three clickstream indices
# under the secured- prefix, "reader" may only read them):
#  1. the pipeline (file replay of the worked example -> sessions ->
#     aggregates -> the sink) indexes through HTTPS with tls.ca_file and basic
#     auth, and the documents are those of the worked example, with the
#     templates' mappings;
#  2. a wrong password: one line naming the user and the password variable;
#     the documents are kept (retry forever), the run ends at shutdown.timeout
#     with exit 1 and nothing committed: a second run with the right password
#     and the same state file indexes every document;
#  3. an unknown CA, 4. a host name the certificate does not name, 5. a user
#     whose role may not write, 6. the writer on an index outside its role:
#     with retry.max_attempts each gives one line naming the cause and the
#     fix, every document is dead-lettered with that reason (none dropped),
#     exit 0, and nothing is indexed;
#  7. no password (nor its Basic header form) appears in any output: logs,
#     dead letters, state files, the metrics scrape, check and config output.
source tests/integration/common.bash
eval "$(scripts/opensearch-secure.sh env)"
URL=$OPENSEARCH_SECURE_URL
CA=$OPENSEARCH_SECURE_CA
P="${OPENSEARCH_SECURE_PREFIX}$$-" # allowed to the writer (secured-*)
DENIED="outside-$$-"                # not allowed
INDICES="user_session_details user_session_counts departments_count"
WRONG="${OPENSEARCH_WRITER_PASSWORD}x" # a wrong password, also grepped for

admin() { # admin CURL-ARGS...: a request as admin (password via curl's config on stdin)
  printf 'user = "admin:%s"\n' "$OPENSEARCH_ADMIN_PASSWORD" | curl -s --config - --cacert "$CA" "$@"
}
cleanup() {
  for p in "${P}" "${DENIED}"; do
    admin -XDELETE "$URL/${p}*" >/dev/null 2>&1 || true
    for i in $INDICES; do admin -XDELETE "$URL/_index_template/streamhost-$p$i" >/dev/null 2>&1 || true; done
  done
  [ -n "${KEEP_TMP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

docs() { # docs PREFIX -> one {"_index","_id","_source"} line per document (index without prefix)
  admin -XPOST "$URL/$1*/_refresh" >/dev/null
  admin "$URL/$1*/_search?size=10000" | python3 -c '
import json, sys
prefix = sys.argv[1]
r = json.load(sys.stdin)
for h in r.get("hits", {}).get("hits", []):
    print(json.dumps({"_index": h["_index"][len(prefix):], "_id": h["_id"], "_source": h["_source"]},
                     sort_keys=True))' "$1" | sort
}
normalized() { python3 -c '
import json, sys
for line in sorted(json.dumps(json.loads(l), sort_keys=True) for l in open(sys.argv[1]) if l.strip()):
    print(line)' "$1"; }
count_docs() { docs "$1" | wc -l; }

ini() { # ini NAME PREFIX USER PASSWORD_VAR URL CA [EXTRA...]: the pipeline into the secured node
  local name=$1 prefix=$2 user=$3 pwvar=$4 url=$5 ca=$6; shift 6
  cat > "$T/$name.ini" <<INI
[streamhost]
progress = off
shutdown.timeout = 15s
dead_letter.file = $T/$name.dead.jsonl
$( [ -n "${MPORT:-}" ] && echo "metrics.port = $MPORT" )

[source.clicks]
plugin = file
path = tests/data/worked-example.jsonl
schema.file = conf/ClickEvent.avsc
state.file = $T/$name.state

$(analytics_transforms)

[sink.search]
plugin = opensearch
inputs = checkouts, counts
url = $url
index_prefix = $prefix
auth = basic
username = $user
password_env = $pwvar
tls.ca_file = $ca
retry.initial = 50ms
retry.max = 1s
INI
  for kv in "$@"; do echo "$kv" >> "$T/$name.ini"; done
}
sink_lines() { grep -E '(ERROR|WARN) +\[search\]' "$1" || true; } # the sink's own error lines

export WRITER_PW="$OPENSEARCH_WRITER_PASSWORD" READER_PW="$OPENSEARCH_READER_PASSWORD" WRONG_PW="$WRONG"

# ---- 1. the pipeline through HTTPS, tls.ca_file and basic auth ----------------
ini good "$P" writer WRITER_PW "$URL" "$CA"
rc=0; "$SH" check "$T/good.ini" > "$T/good.check.out" 2>&1 || rc=$?
check "streamhost check accepts the secured sink's config" test "$rc" -eq 0
rc=0; "$SH" config "$T/good.ini" > "$T/good.config.out" 2>&1 || rc=$?
check "streamhost config prints it, naming the password's variable" bash -c "[ $rc -eq 0 ] && grep -q 'password_env = WRITER_PW' '$T/good.config.out'"
"$SH" run "$T/good.ini" 2> "$T/good.err" || { cat "$T/good.err"; exit 1; }
docs "$P" > "$T/good.docs"
check "the worked example's 8 documents are indexed through HTTPS, ids and contents equal" \
  diff "$T/good.docs" <(normalized tests/data/worked-example.expected.jsonl)
type=$(admin "$URL/${P}user_session_counts/_mapping" | python3 -c 'import json,sys; m=json.load(sys.stdin); print(list(m.values())[0]["mappings"]["properties"]["windowEndTime"]["type"])')
check "the template's mapping applies (windowEndTime is a date)" test "$type" = date
check "the run logged no error" test -z "$(sink_lines "$T/good.err")"

# ---- 2. a wrong password: kept, bounded, nothing committed --------------------
MPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
METRICS_URL="http://127.0.0.1:$MPORT/metrics"
ini wrongpw "${P}retry-" writer WRONG_PW "$URL" "$CA"
unset MPORT
start=$SECONDS
"$SH" run "$T/wrongpw.ini" 2> "$T/wrongpw.err" &
pid=$!
for _ in $(seq 300); do grep -q "authentication failed" "$T/wrongpw.err" && break; sleep 0.1; done
curl -s "$METRICS_URL" > "$T/wrongpw.metrics" || true
rc=0; wait "$pid" || rc=$?
sink_lines "$T/wrongpw.err"
check "a wrong password ends the run at shutdown.timeout with exit 1 (took $((SECONDS - start)) s)" test "$rc" -eq 1
check "one line names the user and the password variable" \
  test "$(grep -c "HTTP 401 Unauthorized: authentication failed for user 'writer'; check username and the password in environment variable WRONG_PW (password_env)" "$T/wrongpw.err")" -eq 1
check "and it is the sink's only ERROR line" test "$(sink_lines "$T/wrongpw.err" | grep -c ERROR)" -eq 1
check "the documents were kept, not dead-lettered" test ! -s "$T/wrongpw.dead.jsonl"
check "the host says they were not committed" grep -q "8 documents not yet in OpenSearch; their source offsets were not committed" "$T/wrongpw.err"
check "the metrics scrape answered while it retried" grep -q "request_failures_total" "$T/wrongpw.metrics"
check "nothing was indexed" test "$(count_docs "${P}retry-")" -eq 0
sed -i 's/^password_env = WRONG_PW$/password_env = WRITER_PW/' "$T/wrongpw.ini"
"$SH" run "$T/wrongpw.ini" 2> "$T/wrongpw2.err" || { cat "$T/wrongpw2.err"; exit 1; }
check "with the right password the same state file gives all 8 documents (nothing was committed past them)" \
  diff <(docs "${P}retry-") <(normalized tests/data/worked-example.expected.jsonl)

# ---- 2b. the same, ended by the sink's auth.timeout (an unbounded source
# would wait for ever otherwise): exit 1 after it, kept, nothing committed ----
ini authto "${P}authto-" writer WRONG_PW "$URL" "$CA" "auth.timeout = 3s"
start=$SECONDS
rc=0; "$SH" run "$T/authto.ini" 2> "$T/authto.err" || rc=$?
took=$((SECONDS - start))
sink_lines "$T/authto.err"
check "auth.timeout = 3s: exit 1 before shutdown.timeout (15 s) would end it (took $took s)" \
  bash -c "[ $rc -eq 1 ] && [ $took -lt 12 ]"
check "auth.timeout: one line saying it is still refused after auth.timeout, naming the cause" \
  test "$(grep -c "still refused after auth.timeout (3000 ms): HTTP 401 Unauthorized: authentication failed for user 'writer'.*stopping (exit 1)" "$T/authto.err")" -eq 1
check "auth.timeout: the documents were kept, not dead-lettered" test ! -s "$T/authto.dead.jsonl"
check "auth.timeout: nothing was indexed" test "$(count_docs "${P}authto-")" -eq 0
sed -i 's/^password_env = WRONG_PW$/password_env = WRITER_PW/' "$T/authto.ini"
"$SH" run "$T/authto.ini" 2> "$T/authto2.err" || { cat "$T/authto2.err"; exit 1; }
check "auth.timeout: with the right password the same state file gives all 8 documents" \
  diff <(docs "${P}authto-") <(normalized tests/data/worked-example.expected.jsonl)

# ---- 3.-6. refusals with a retry budget: dead letters with the reason ------------
refused() { # refused NAME PREFIX "PATTERN" "what": one line, 8 dead letters with PATTERN, nothing indexed
  local name=$1 prefix=$2 pattern=$3 what=$4 rc=0
  "$SH" run "$T/$name.ini" 2> "$T/$name.err" || rc=$?
  sink_lines "$T/$name.err"
  check "$what: exit 0 (every document resolved as a dead letter)" test "$rc" -eq 0
  check "$what: exactly one line names the cause and the fix" test "$(grep -cF -- "$pattern" "$T/$name.err")" -eq 1
  check "$what: the 8 documents are dead letters with that reason" \
    test "$(python3 -c '
import json, sys
n = 0
for l in open(sys.argv[1]):
    d = json.loads(l)
    n += sys.argv[2] in d["reason"]
print(n)' "$T/$name.dead.jsonl" "$pattern")" -eq 8
  check "$what: nothing was indexed" test "$(count_docs "$prefix")" -eq 0
}
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/other-ca.key" -out "$T/other-ca.pem" -days 1 \
  -subj "/CN=another CA" >/dev/null 2>&1
ini badca "${P}ca-" writer WRITER_PW "$URL" "$T/other-ca.pem" "retry.max_attempts = 2"
refused badca "${P}ca-" "TLS: the server's certificate is not signed by a CA in tls.ca_file '$T/other-ca.pem'" "an unknown CA"
ini badhost "${P}host-" writer WRITER_PW "${URL/localhost/127.0.0.1}" "$CA" "retry.max_attempts = 2"
refused badhost "${P}host-" "TLS: the server's certificate does not name the host 127.0.0.1:" "a host name mismatch"
ini reader "${P}reader-" reader READER_PW "$URL" "$CA" "retry.max_attempts = 2"
refused reader "${P}reader-" "HTTP 403 security_exception: no permissions for [indices:data/write/bulk] and User [name=reader" "a role without write permission"
check "a role without write permission: the refused templates are one line" \
  test "$(grep -c "index templates for ${P}reader-\* refused: HTTP 403" "$T/reader.err")" -eq 1

# the writer outside its indices: the bulk request passes, each item is refused
ini outside "$DENIED" writer WRITER_PW "$URL" "$CA" "retry.max_attempts = 2"
rc=0; "$SH" run "$T/outside.ini" 2> "$T/outside.err" || rc=$?
sink_lines "$T/outside.err"
check "the writer on indices outside its role: exit 0" test "$rc" -eq 0
check "the writer on indices outside its role: the 8 documents are dead letters with OpenSearch's reason" \
  test "$(grep -c '"reason":"opensearch_rejected: 403 security_exception: no permissions for \[indices:admin/create\] and User \[name=writer' "$T/outside.dead.jsonl")" -eq 8
check "the writer on indices outside its role: the run counted them" grep -q "documents_rejected_total = 8" "$T/outside.err"
check "the writer on indices outside its role: nothing was indexed" test "$(count_docs "$DENIED")" -eq 0

# ---- 7. no password in any output -----------------------------------------------
secrets=("$OPENSEARCH_WRITER_PASSWORD" "$OPENSEARCH_READER_PASSWORD" "$OPENSEARCH_ADMIN_PASSWORD" "$WRONG"
  "$(printf 'writer:%s' "$OPENSEARCH_WRITER_PASSWORD" | base64 -w0)"
  "$(printf 'writer:%s' "$WRONG" | base64 -w0)"
  "$(printf 'reader:%s' "$OPENSEARCH_READER_PASSWORD" | base64 -w0)")
outputs=("$T"/*.err "$T"/*.dead.jsonl "$T"/*.state "$T"/*.metrics "$T"/*.check.out "$T"/*.config.out)
ls "${outputs[@]}" | sed 's|.*/||' | tr '\n' ' '; echo
leaks() { for s in "${secrets[@]}"; do grep -lF -- "$s" "${outputs[@]}" 2>/dev/null; done; }
check "no password, nor its Basic header form, in any of the ${#outputs[@]} outputs" test -z "$(leaks)"
