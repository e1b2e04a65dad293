# (needs no service: the OpenSearch here is a scripted one)
# SigV4 on real requests, against botocore (PyPI, in a virtualenv under
# .cache/venv/sigv4 made by pyvenv.bash):
#  1. the OpenSearch sink's actual requests, captured by a scripted local
#     OpenSearch (sigv4_botocore.py serve: it records method, path, query,
#     headers and body, and answers like OpenSearch) - the three index
#     template PUTs and a gzip'd _bulk with its filter_path query string, then
#     a second run with a session token, a path prefix, service aoss and an
#     uncompressed body - carry the Authorization header that botocore's
#     SigV4Auth computes for the same request at the X-Amz-Date the sink sent,
#     byte for byte, and an x-amz-content-sha256 that is the body's SHA-256;
#  2. include/streamhost/sigv4.h's sh_sigv4_presign (what the host will use
#     for MSK IAM's kafka-cluster:Connect URL) gives, for a fixed clock, the
#     query string botocore's SigV4QueryAuth gives, byte for byte.
source tests/integration/common.bash
source tests/integration/pyvenv.bash
PY=$(pyvenv sigv4 botocore==1.44.8)
ORACLE=tests/integration/sigv4_botocore.py
export AWS_ACCESS_KEY_ID=AKIDSTREAMHOSTTEST
export AWS_SECRET_ACCESS_KEY='wJalrXUtnFEMI/K7MDENG+bPxRfiCY/streamhost+test'
TOKEN='IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+streamhost/test/token+with/slashes=='
srv=""
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

"$PY" "$ORACLE" serve "$T/port" "$T/requests.jsonl" &
srv=$!
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.1; done
PORT=$(cat "$T/port")

run_sink() { # run_sink NAME URL SERVICE COMPRESS: the worked example through the sink
  cat > "$T/$1.ini" <<INI
[streamhost]
progress = off

[source.clicks]
plugin = file
path = tests/data/worked-example.jsonl
schema.file = conf/ClickEvent.avsc

$(analytics_transforms)

[sink.search]
plugin = opensearch
inputs = checkouts, counts
url = $2
index_prefix = sigv4-$1-
auth = aws_sigv4
aws.region = eu-west-1
aws.service = $3
compress = $4
INI
  "$SH" run "$T/$1.ini" 2> "$T/$1.err" || { cat "$T/$1.err"; return 1; }
}

# ---- 1. the sink's requests -------------------------------------------------
unset AWS_SESSION_TOKEN
check "the sink runs against the scripted OpenSearch (es, gzip, no session token)" \
  run_sink plain "http://127.0.0.1:$PORT" es gzip
mv "$T/requests.jsonl" "$T/plain.jsonl"
export AWS_SESSION_TOKEN="$TOKEN"
check "and again with a session token, a path prefix, aoss and no compression" \
  run_sink token "http://127.0.0.1:$PORT/search/prefix" aoss none
mv "$T/requests.jsonl" "$T/token.jsonl"

summary() { # summary FILE: what was captured
  python3 -c '
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l); h = {k.lower(): v for k, v in r["headers"]}
    print(r["method"], r["path"] + ("?" + r["query"] if r["query"] else ""), h.get("content-encoding", "identity"))' "$1"
}
summary "$T/plain.jsonl"
summary "$T/token.jsonl"
check "captured 3 template PUTs and a gzip'd _bulk with a query string" bash -c "
  [ \$(grep -c '\"method\": \"PUT\", \"path\": \"/_index_template/streamhost-sigv4-plain-' '$T/plain.jsonl') -eq 3 ] &&
  grep '\"path\": \"/_bulk\", \"query\": \"filter_path=' '$T/plain.jsonl' | grep -qi '\"content-encoding\", \"gzip\"'"
check "captured the second run's requests under the path prefix" bash -c "
  [ \$(grep -c '\"path\": \"/search/prefix/_index_template/' '$T/token.jsonl') -eq 3 ] &&
  grep -q '\"path\": \"/search/prefix/_bulk\", \"query\": \"filter_path=' '$T/token.jsonl'"
unset AWS_SESSION_TOKEN
check "every request of the first run is signed as botocore's SigV4Auth signs it" \
  "$PY" "$ORACLE" check "$T/plain.jsonl" eu-west-1 es
export AWS_SESSION_TOKEN="$TOKEN"
check "every request of the session-token run is signed as botocore's SigV4Auth signs it" \
  "$PY" "$ORACLE" check "$T/token.jsonl" eu-west-1 aoss
# the oracle can fail: a request with a changed byte is refused
python3 -c '
import json, sys
lines = open(sys.argv[1]).read().splitlines()
r = json.loads(lines[0])
r["path"] = r["path"] + "x"
print(json.dumps(r))' "$T/token.jsonl" > "$T/tampered.jsonl"
check "a request altered after signing does not pass the comparison" \
  bash -c "! '$PY' '$ORACLE' check '$T/tampered.jsonl' eu-west-1 aoss"
check "the secret key never went over the wire" bash -c "! grep -qF -- '$AWS_SECRET_ACCESS_KEY' '$T/plain.jsonl' '$T/token.jsonl'"
check "nor into the logs" bash -c "! grep -qF -- '$AWS_SECRET_ACCESS_KEY' '$T/plain.err' '$T/token.err' && ! grep -qF -- '$TOKEN' '$T/token.err'"
unset AWS_SESSION_TOKEN

# ---- 2. presigned URLs (MSK IAM's shape) -------------------------------------
"${CC:-cc}" -std=gnu11 -Wall -Wextra -Werror -Iinclude -o "$T/sigv4_presign" \
  tests/integration/sigv4_presign.c -lcrypto
SIGV4_TEST_TOKEN="$TOKEN" "$T/sigv4_presign" > "$T/presigned.txt"
cat "$T/presigned.txt"
check "five URLs presigned" test "$(wc -l < "$T/presigned.txt")" -eq 5
check "each presigned query string equals botocore's SigV4QueryAuth's" \
  "$PY" "$ORACLE" presign < "$T/presigned.txt"
