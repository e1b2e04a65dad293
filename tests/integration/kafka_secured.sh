# The pipeline against a secured Kafka (issue 13): its own broker, started
# and stopped here (scripts/kafka.sh with KAFKA_SECURITY=scram-tls: SASL_SSL,
# a CA made at start, SCRAM-SHA-512 users, the standard authorizer and ACLs).
# The generator writes as user "generator", the analytics read as
# "analytics"; the documents equal a file replay of the same events.  A
# wrong password, an unknown CA, a host name the certificate does not hold,
# a missing ACL and a TLS handshake that fails each end the run with one line
# naming the component and the cause, exit 1, nothing committed; no password
# appears in any output.  A build on Debian's librdkafka 2.0.2
# (RDKAFKA=system, built here when the default build is on the wheel's)
# refuses SCRAM at start (exit 2); the rest runs on the wheel's 2.16.
source tests/integration/common.bash
PORT=${KAFKA_SECURE_TEST_PORT:-9196}
BROKER_ENV=(KAFKA_SECURITY=scram-tls KAFKA_SECURE_PORT="$PORT" KAFKA_SECURE_TOPIC=sec-clicks
  KAFKA_SECURE_GROUP=sec-analytics KAFKA_SECURE_DLQ=sec-analytics.dead-letters)
broker() { env "${BROKER_ENV[@]}" scripts/kafka.sh "$@"; }
cleanup_all() {
  broker stop > "$T/broker-stop.log" 2>&1 || true
  [ -n "${KEEP_TMP:-}" ] && echo "kept $T" || rm -rf "$T"
}
trap cleanup_all EXIT

broker start > "$T/broker-start.out" 2>&1 || { cat "$T/broker-start.out"; exit 1; }
cat "$T/broker-start.out"
eval "$(broker info | sed -n 's/^\(bootstrap\|ca\|other_ca\|credentials\)=/K_\1=/p')"
pw() { sed -n "s/^$1=//p" "$K_credentials"; }
broker topic-create sec-clicks 4 > "$T/topics.out" 2>&1
broker topic-create sec-analytics.dead-letters 1 >> "$T/topics.out" 2>&1
broker topic-create sec-other 1 >> "$T/topics.out" 2>&1 # nobody has an ACL for it

# [kafka] of every run: SASL_SSL with SCRAM-SHA-512, the test CA; the
# password from the environment (never in the file).
kafka_section() {
  cat <<INI
[kafka]
bootstrap.servers = \${SEC_BOOTSTRAP:-$K_bootstrap}
security.protocol = SASL_SSL
sasl.mechanism = SCRAM-SHA-512
sasl.username = \${SEC_USER}
sasl.password = \${SEC_PASSWORD}
ssl.ca.location = \${SEC_CA:-$K_ca}
ssl.endpoint.identification.algorithm = https
auth.timeout = \${SEC_AUTH_TIMEOUT:-4s}
INI
}
gen_ini() { # gen_ini TOPIC
  cat <<INI
[streamhost]
progress = off
dead_letter.file = $T/gen-dead.jsonl
$(kafka_section)
[source.gen]
plugin = clickgen
users = 200
clock = simulated
start_time = 1700000000000
seed = 11
max_events = 20000
[sink.to-kafka]
plugin = kafka
inputs = gen
topic = $1
key.field = userid
INI
}
analytics_ini() { # analytics_ini TOPIC GROUP OUT
  cat <<INI
[streamhost]
progress = off
dead_letter.topic = sec-analytics.dead-letters
metrics.port = \${SEC_METRICS_PORT:-0}
$(kafka_section)
[source.clicks]
plugin = kafka
topic = $1
group = $2
bounded = true
$(analytics_transforms)
[sink.out]
plugin = file
inputs = checkouts, counts
path = $3
INI
}
gen_ini sec-clicks > "$T/gen.ini"
gen_ini sec-other > "$T/gen-other.ini"
analytics_ini sec-clicks sec-analytics "$T/out.jsonl" > "$T/analytics.ini"
analytics_ini sec-other sec-analytics "$T/other.jsonl" > "$T/analytics-other-topic.ini"
# without the 10 s aggregates (no exchange topic, whose ACL would be missing
# first): only the group lacks its ACL
analytics_ini sec-clicks nogroup-analytics "$T/nogroup.jsonl" |
  sed -e '/^\[transform.counts\]/,/^size/d' -e 's/^inputs = checkouts, counts$/inputs = checkouts/' \
  > "$T/analytics-other-group.ini"

# SCRAM needs librdkafka >= 2.6.1: a build on Debian's 2.0.2 refuses it at
# start; the rest runs on a build with a newer one (the default build's)
san= # the plugins of $BUILD are loaded: a second host must be built as they are
# (ldd's output taken whole: `ldd | grep -q` under pipefail fails when grep exits
# before ldd has written everything, and the second host was then built without ASan)
[[ $(ldd "$BUILD/plugins/transform-session.so" 2>/dev/null || true) == *libasan* ]] && san=1
other_build() { # other_build DIR RDKAFKA: builds DIR/streamhost
  echo "building $1/streamhost with RDKAFKA=$2"
  make --no-print-directory BUILD="$1" RDKAFKA="$2" SANITIZE=$san -j2 "$1/streamhost" > "$T/$2-build.out" 2>&1 ||
    { tail -20 "$T/$2-build.out"; exit 1; }
}
version_of() { "$1" --version | sed -n 's/^librdkafka \([0-9.]*\).*/\1/p'; }
older_than_2_6_1() { [ "$(printf '%s\n2.6.1\n' "$1" | sort -V | head -1)" != 2.6.1 ]; }
rdk=$(version_of "$SH")
echo "librdkafka of $SH: $rdk"
OLD_SH=$SH
if ! older_than_2_6_1 "$rdk"; then
  other_build "$BUILD/rdkafka-system" system
  OLD_SH="$BUILD/rdkafka-system/streamhost"
fi
old=$(version_of "$OLD_SH")
if older_than_2_6_1 "$old"; then
  set +e; SEC_USER=generator SEC_PASSWORD="$(pw generator)" "$OLD_SH" run "$T/gen.ini" > "$T/old.out" 2> "$T/old.err"; rc=$?; set -e
  cat "$T/old.err"
  check "librdkafka $old: SCRAM refused at start (exit 2)" test "$rc" -eq 2
  check "librdkafka $old: one line naming the place, the cause and the fix" \
    bash -c "grep -c 'sasl.mechanism = SCRAM-SHA-512: this streamhost runs librdkafka $old.*make RDKAFKA=wheel' '$T/old.err' | grep -qx 1"
fi
if older_than_2_6_1 "$rdk"; then
  other_build "$BUILD/rdkafka-wheel" wheel
  SH="$BUILD/rdkafka-wheel/streamhost"
fi

# run NAME USER PASSWORD INI [ENV...]: stdout+stderr to $T/NAME.log, rc in $rc
run() {
  local name=$1 user=$2 pass=$3 ini=$4; shift 4
  set +e
  env SEC_USER="$user" SEC_PASSWORD="$pass" "$@" timeout 120 "$SH" run "$ini" > "$T/$name.log" 2>&1
  rc=$?
  set -e
  grep -E 'ERROR|WARN' "$T/$name.log" | head -5 || true
}
one_line() { # one_line NAME PATTERN: exactly one line matches
  [ "$(grep -cE "$2" "$T/$1.log")" -eq 1 ]
}

# --- the pipeline ---------------------------------------------------------
run gen generator "$(pw generator)" "$T/gen.ini"
check "generator (user generator) writes through SASL_SSL/SCRAM: exit 0" test "$rc" -eq 0
check "generator: all 20000 delivered" grep -qE 'messages_delivered_total = 20000$' "$T/gen.log"

# --- refusals, before the analytics' good run: that one must still read
# everything, so none of these committed anything
run gen-badpw generator wrong-password "$T/gen.ini"
check "generator, wrong password: exit 1" test "$rc" -eq 1
check "generator, wrong password: one line naming the component and the cause" \
  one_line gen-badpw '\[(to-kafka|kafka)\] Kafka authentication failed: .*invalid credentials.*check sasl.username, sasl.password'

run badpw analytics wrong-password "$T/analytics.ini"
check "analytics, wrong password: exit 1" test "$rc" -eq 1
check "analytics, wrong password: one line" one_line badpw 'Kafka authentication failed: .*invalid credentials'

run badca analytics "$(pw analytics)" "$T/analytics.ini" SEC_CA="$K_other_ca"
check "analytics, unknown CA: exit 1" test "$rc" -eq 1
check "analytics, unknown CA: one line naming the cause and ssl.ca.location" \
  one_line badca "Kafka TLS: the broker's certificate was not accepted: .*not signed by the CA in ssl.ca.location"

run badhost analytics "$(pw analytics)" "$T/analytics.ini" SEC_BOOTSTRAP="127.1:$PORT"
check "analytics, host name not in the certificate: exit 1" test "$rc" -eq 1
check "analytics, host name not in the certificate: one line saying so" \
  one_line badhost "Kafka TLS: the broker's certificate was not accepted: .*[Hh]ostname mismatch.*do not include the host"

run noacl-topic analytics "$(pw analytics)" "$T/analytics-other-topic.ini"
check "analytics, no ACL for the topic: exit 1" test "$rc" -eq 1
check "analytics, no ACL for the topic: one line" one_line noacl-topic '\[(clicks|kafka)\] Kafka not authorized: .*[Tt]opic authorization failed'

run noacl-group analytics "$(pw analytics)" "$T/analytics-other-group.ini"
check "analytics, no ACL for the group: exit 1" test "$rc" -eq 1
check "analytics, no ACL for the group: one line" one_line noacl-group '\[clicks\] Kafka not authorized: .*[Gg]roup authorization failed'

run noacl-write generator "$(pw generator)" "$T/gen-other.ini"
check "generator, no ACL to write the topic: exit 1" test "$rc" -eq 1
check "generator, no ACL to write the topic: one line naming it" \
  one_line noacl-write '\[to-kafka\] Kafka not authorized: delivery to sec-other failed: .*[Tt]opic authorization failed'

# a failure that may pass (TLS to a plaintext listener, the broker's
# controller port): not ready
# meanwhile, the run ends after kafka.auth.timeout
MPORT=$((20000 + RANDOM % 20000))
env SEC_USER=analytics SEC_PASSWORD="$(pw analytics)" SEC_BOOTSTRAP=127.0.0.1:$((PORT + 1)) SEC_AUTH_TIMEOUT=6s \
  SEC_METRICS_PORT=$MPORT timeout 120 "$SH" run "$T/analytics.ini" > "$T/tlsplain.log" 2>&1 &
pid=$!
codes=""
while kill -0 $pid 2>/dev/null; do
  codes+=" $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/health/ready" || true)"
  sleep 0.3
done
set +e; wait $pid; rc=$?; set -e
echo "/health/ready answers: $codes"
grep -E 'ERROR' "$T/tlsplain.log" | head -3 || true
check "no TLS listener: /health/ready said not ready (503)" grep -q 503 <<<"$codes"
check "no TLS listener: never ready" bash -c "! grep -q 200 <<<'$codes'"
check "no TLS listener: exit 1 after kafka.auth.timeout" test "$rc" -eq 1
check "no TLS listener: the end says kafka.auth.timeout passed" \
  one_line tlsplain 'Kafka security failure still there after kafka.auth.timeout \(6000 ms\); stopping'
check "no TLS listener: says what failed and that it waits kafka.auth.timeout" \
  one_line tlsplain 'Kafka (TLS handshake failed|authentication failed): .*stopping unless it passes within kafka.auth.timeout'

# the same, stopped (SIGTERM) before kafka.auth.timeout decided it: not a
# clean run either (exit 1, saying so), not a silent exit 0
# (timeout --foreground: without it timeout passes the SIGTERM on to the run and
# again to its whole process group, and the run takes the second one as "exit now")
env SEC_USER=analytics SEC_PASSWORD="$(pw analytics)" SEC_BOOTSTRAP=127.0.0.1:$((PORT + 1)) SEC_AUTH_TIMEOUT=60s \
  timeout --foreground 120 "$SH" run "$T/analytics.ini" > "$T/tlsterm.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do grep -q 'stopping unless it passes' "$T/tlsterm.log" && break; sleep 0.1; done
kill -TERM $pid
set +e; wait $pid; rc=$?; set -e
grep -E 'ERROR' "$T/tlsterm.log" | head -3 || true
check "stopped while a TLS failure may still pass: exit 1" test "$rc" -eq 1
check "stopped while a TLS failure may still pass: one line saying it was unresolved" \
  one_line tlsterm 'stopped while the Kafka security failure above was unresolved \(Kafka TLS handshake failed'

# a failure that passes: for its first seconds a local responder in front of
# the broker answers the TLS handshake with bytes that are not TLS, then
# forwards; the run is not ready meanwhile, ready again once it gets through,
# and reads everything (exit 0)
PPORT=$((20000 + RANDOM % 20000))
cat > "$T/flaky_front.py" <<'PY'
import socket, sys, threading, time
port, target, bad_for = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port)); srv.listen(16)
t0 = time.monotonic()
def pipe(a, b):
    try:
        while (d := a.recv(65536)):
            b.sendall(d)
    except OSError:
        pass
    finally:
        for s in (a, b):
            try: s.shutdown(socket.SHUT_RDWR)
            except OSError: pass
while True:
    c, _ = srv.accept()
    if time.monotonic() - t0 < bad_for:
        c.sendall(b"HTTP/1.0 503 Service Unavailable\r\n\r\n"); c.close(); continue
    u = socket.create_connection(("127.0.0.1", target))
    threading.Thread(target=pipe, args=(c, u), daemon=True).start()
    threading.Thread(target=pipe, args=(u, c), daemon=True).start()
PY
python3 "$T/flaky_front.py" "$PPORT" "$PORT" 5 > "$T/flaky_front.log" 2>&1 &
fpid=$!
analytics_ini sec-clicks sec-analytics-pass "$T/passed.jsonl" |
  sed -e '/^\[transform.counts\]/,/^size/d' -e 's/^inputs = checkouts, counts$/inputs = checkouts/' > "$T/analytics-passes.ini"
MPORT=$((20000 + RANDOM % 20000))
env SEC_USER=analytics SEC_PASSWORD="$(pw analytics)" SEC_BOOTSTRAP="${K_bootstrap%:*}:$PPORT" SEC_AUTH_TIMEOUT=30s \
  SEC_METRICS_PORT=$MPORT timeout 120 "$SH" run "$T/analytics-passes.ini" > "$T/tlspass.log" 2>&1 &
pid=$!
codes="" bodies=""
while kill -0 $pid 2>/dev/null; do
  b=$(curl -s -w ' %{http_code}' "http://127.0.0.1:$MPORT/health/ready" || true)
  codes+=" ${b##* }" bodies+="$b"$'\n'
  sleep 0.3
done
set +e; wait $pid; rc=$?; set -e
kill $fpid 2>/dev/null || true
echo "/health/ready answers: $codes"
grep -E 'ERROR|passed' "$T/tlspass.log" | head -3 || true
check "a TLS failure that passes: not ready (503) while it lasts" grep -q 503 <<<"$codes"
check "a TLS failure that passes: /health/ready names it" grep -q '"blocked_by":"kafka security failure"' <<<"$bodies"
check "a TLS failure that passes: ready (200) again after it" bash -c "grep -oE '503|200' <<<'$codes' | sed -n '/503/,\$p' | grep -q 200"
check "a TLS failure that passes: says so" one_line tlspass 'the security failure above has passed'
check "a TLS failure that passes: the run reads everything (exit 0, documents)" \
  bash -c "test $rc -eq 0 && test -s '$T/passed.jsonl'"

# --- the analytics' good run: everything, equal to a file replay ----------
run analytics analytics "$(pw analytics)" "$T/analytics.ini"
check "analytics (user analytics) through SASL_SSL/SCRAM: exit 0" test "$rc" -eq 0
cat > "$T/events.ini" <<INI
[streamhost]
progress = off
[source.gen]
plugin = clickgen
users = 200
clock = simulated
start_time = 1700000000000
seed = 11
max_events = 20000
[sink.out]
plugin = file
inputs = gen
path = $T/events-wrapped.jsonl
INI
"$SH" run "$T/events.ini" > "$T/events.log" 2>&1
python3 -c "import json,sys; [print(json.dumps(json.loads(l)['_source'])) for l in sys.stdin]" \
  < "$T/events-wrapped.jsonl" > "$T/events.jsonl"
INPUT="$T/events.jsonl" OUTPUT="$T/replay.jsonl" DEAD_LETTERS="$T/replay-dead.jsonl" "$SH" run conf/replay.ini > "$T/replay.log" 2>&1
echo "documents: $(wc -l < "$T/out.jsonl") through the secured broker, $(wc -l < "$T/replay.jsonl") from the file replay"
check "documents exist" test -s "$T/out.jsonl"
check "documents equal a file replay of the same events (ids included)" same_sorted "$T/out.jsonl" "$T/replay.jsonl"

# a producer whose TLS failure passes: its deliveries clear the failure (the
# run loop's kafka.auth.timeout check would otherwise stop it), so a run that
# lasts beyond kafka.auth.timeout (8000 events at 800/s, ~10 s; the failure
# for its first 2 s, the timeout 7 s) delivers everything and exits 0
gen_ini sec-clicks | sed -e 's/^max_events = .*/max_events = 8000/' -e 's/^progress = off$/&\nrate.limit = 800/' \
  > "$T/gen-passes.ini"
PPORT2=$((PPORT + 1))
python3 "$T/flaky_front.py" "$PPORT2" "$PORT" 2 > "$T/flaky_front2.log" 2>&1 &
fpid=$!
t0=$SECONDS
run gen-pass generator "$(pw generator)" "$T/gen-passes.ini" SEC_BOOTSTRAP="${K_bootstrap%:*}:$PPORT2" SEC_AUTH_TIMEOUT=7s
took=$((SECONDS - t0))
kill $fpid 2>/dev/null || true
grep -E 'passed' "$T/gen-pass.log" | head -2 || true
check "a producer's TLS failure that passes: it failed first" \
  one_line gen-pass 'Kafka (TLS handshake failed|authentication failed): .*stopping unless it passes within kafka.auth.timeout'
check "a producer's TLS failure that passes: says so" one_line gen-pass 'the security failure above has passed'
check "a producer's TLS failure that passes: runs past kafka.auth.timeout (${took} s), exit 0, all 8000 delivered" \
  bash -c "test $rc -eq 0 && test $took -ge 8 && grep -qE 'messages_delivered_total = 8000\$' '$T/gen-pass.log'"

# --- secrets ----------------------------------------------------------------
SEC_USER=analytics SEC_PASSWORD="$(pw analytics)" "$SH" check "$T/analytics.ini" > "$T/check.log" 2>&1
SEC_USER=analytics SEC_PASSWORD="$(pw analytics)" "$SH" config "$T/analytics.ini" > "$T/config.log" 2>&1 || true
leaks=0
KRUN=$(dirname "$K_credentials")
for u in admin analytics generator; do
  p=$(pw "$u")
  if grep -rlF --include='*.log' --include='*.out' --include='*.err' --include='*.jsonl' -- "$p" "$T" ||
    grep -lF -- "$p" "$KRUN"/*.log; then
    echo "the password of $u appears above"
    leaks=1
  fi
done
check "no password in any output (runs, check, config, broker scripts and logs, documents, dead letters)" test "$leaks" -eq 0
