# The metrics server beyond loopback: HTTP basic auth (password from the
# environment) and HTTPS from a PEM pair; /health/live stays open for probes;
# a wide-open address without auth is warned about; the password appears in
# no output.  And a config file holding a literal secret that others may
# read is warned about, naming FILE:LINE and the fix.
source tests/integration/common.bash
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PW="m3trics-$RANDOM-pw"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost \
  -keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null
mkfifo "$T/in"
cat > "$T/m.ini" <<INI
[streamhost]
progress = off
metrics.port = $PORT
metrics.auth.user = scraper
metrics.auth.password_env = TEST_METRICS_PW
metrics.tls.cert = $T/cert.pem
metrics.tls.key = $T/key.pem
[source.clicks]
plugin = file
path = $T/in
schema.file = conf/ClickEvent.avsc
[sink.out]
plugin = file
inputs = clicks
path = $T/out.jsonl
INI
# a missing password variable is refused before anything starts
set +e
out=$("$SH" check "$T/m.ini" 2>&1); rc=$?
set -e
check "no password variable: check refuses (exit $rc)" test "$rc" -eq 2
check "... with one line naming the key and the variable" grep -q "m.ini:4: metrics.auth.user: its password comes from the environment variable TEST_METRICS_PW, which is not set" <<<"$out"

TEST_METRICS_PW="$PW" "$SH" run "$T/m.ini" > "$T/run.log" 2>&1 &
pid=$!
exec 3>"$T/in"   # keeps the source open
url="https://localhost:$PORT"
for _ in $(seq 100); do curl -s --cacert "$T/cert.pem" -o /dev/null "$url/health/live" && break; sleep 0.1; done
code() { curl -s -o /dev/null -w '%{http_code}' --cacert "$T/cert.pem" "$@"; }
check "HTTPS: /health/live answers without credentials (probes)" test "$(code "$url/health/live")" = 200
check "HTTPS: /metrics without credentials is 401" test "$(code "$url/metrics")" = 401
check "... with a wrong password, 401" test "$(code -u "scraper:wrong" "$url/metrics")" = 401
check "... with a wrong user, 401" test "$(code -u "nobody:$PW" "$url/metrics")" = 401
check "... with the right ones, 200" test "$(code -u "scraper:$PW" "$url/metrics")" = 200
curl -s --cacert "$T/cert.pem" -u "scraper:$PW" "$url/metrics" > "$T/scrape.txt"
check "... and the scrape is the metrics" grep -q '^streamhost_up{component="host"} 1' "$T/scrape.txt"
check "/health needs the credentials too" test "$(code "$url/health")" = 401
check "plain HTTP on the TLS port gets no metrics" sh -c "! curl -s -m 5 http://127.0.0.1:$PORT/metrics | grep -q streamhost_up"
check "the start line says https and basic auth" grep -q "metrics on https://127.0.0.1:$PORT/metrics, health on /health (basic auth)" "$T/run.log"
exec 3>&-
wait $pid

# open to every interface without auth: warned at start
sed -e '/^metrics.auth/d' -e '/^metrics.tls/d' -e "s/^progress = off/progress = off\nmetrics.address = 0.0.0.0/" "$T/m.ini" > "$T/open.ini"
"$SH" run "$T/open.ini" > "$T/open.log" 2>&1 &
pid=$!
exec 3>"$T/in"
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/health/live" && break; sleep 0.1; done
exec 3>&-
wait $pid
check "0.0.0.0 without auth: a warning naming the fix" grep -q "metrics.address 0.0.0.0: /metrics and /health are open to anyone who can reach this address; set metrics.auth.user" "$T/open.log"

# a literal secret in a file others may read
cat > "$T/secret.ini" <<INI
[streamhost]
progress = off
[kafka]
bootstrap.servers = embedded
sasl.password = $PW
[source.clicks]
plugin = file
path = tests/data/worked-example.jsonl
schema.file = conf/ClickEvent.avsc
[sink.out]
plugin = file
inputs = clicks
path = $T/s.jsonl
INI
chmod 644 "$T/secret.ini"
"$SH" check "$T/secret.ini" > "$T/secret.log" 2>&1 || true
check "literal secret in a 0644 file: warned with FILE:LINE and the fix" grep -q "secret.ini:5: sasl.password holds a literal secret and .*secret.ini is readable by others (mode 644); take it from the environment (sasl.password = \${VARIABLE}) or chmod 600" "$T/secret.log"
chmod 600 "$T/secret.ini"
"$SH" check "$T/secret.ini" > "$T/secret600.log" 2>&1 || true
check "... not once the file is 0600" sh -c "! grep -q 'holds a literal secret' '$T/secret600.log'"
check "the password appears in no output" sh -c "! grep -rqF -- '$PW' '$T/run.log' '$T/open.log' '$T/secret.log' '$T/secret600.log' '$T/scrape.txt'"
