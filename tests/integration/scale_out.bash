# Helpers of the scale-out tests (issue 9), sourced after common.bash and
# pipeline.bash: several analytics processes in one consumer group, each
# running the shared config (conf/clickstream.ini, only environment variables
# differ), each writing its own file beside OpenSearch, compared with one
# process.  Everything a run leaves (configs, logs, document files, sets) is
# under $BUILD/itest/$SO_NAME/; the topics, consumer-group internal topics
# and OpenSearch indices it creates are named after $RID and deleted at exit.
#
# Environment (all optional):
#   SCALE_OUT_EVENTS   events in the topic (default 300000)
#   SCALE_OUT_USERS    concurrent users of the generator (default 100: ~90 windows of 10 s)
#   SCALE_OUT_SEED     generator seed (default 19)
#   SCALE_OUT_RATE     rate.limit of each process in the multi-process runs (default 15000/s),
#                      so that the runs last long enough to be disturbed mid-run
#   SCALE_OUT_TIMEOUT  seconds a set of processes may run before the test gives up (default 60)
#   SCALE_OUT_BUDGET   seconds after which the remaining cases are not started, each
#                      reported as a failed check (default 300)
#   SCALE_OUT_CASES    which cases to run (default: all of the script)
OS_URL=${OPENSEARCH_URL:-$(scripts/opensearch.sh url)}
SO_EVENTS=${SCALE_OUT_EVENTS:-300000}
SO_USERS=${SCALE_OUT_USERS:-100}
SO_SEED=${SCALE_OUT_SEED:-19}
SO_RATE=${SCALE_OUT_RATE:-15000}
SO_TIMEOUT=${SCALE_OUT_TIMEOUT:-60}
SO_BUDGET=${SCALE_OUT_BUDGET:-300}
SO_PARTITIONS=8
RID="so-$$-$RANDOM" # every topic, group and index of this run starts with it
D="$BUILD/itest/$SO_NAME"
rm -rf "$D" && mkdir -p "$D"
SO_TOPIC="$RID-clicks"
declare -A PID=() RC=() PORTS=()
PREFIXES=()
FAILED=()
SO_PORT=$((20000 + RANDOM % 20000))

so_cleanup() {
  set +e
  for n in "${!PID[@]}"; do
    kill -0 "${PID[$n]}" 2>/dev/null && kill -KILL "${PID[$n]}" 2>/dev/null
  done
  ktool org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOT" --delete --if-exists \
    --topic "$RID.*" >/dev/null 2>&1
  curl -s -XDELETE "$OS_URL/$RID-*" >/dev/null 2>&1
  for p in "${PREFIXES[@]}"; do
    for i in user_session_details user_session_counts departments_count; do
      curl -s -XDELETE "$OS_URL/_index_template/streamhost-$p$i" >/dev/null 2>&1
    done
  done
  [ -n "${KEEP_TMP:-}" ] || rm -rf "$T"
}
trap so_cleanup EXIT

# expect "what" command...: like check, but the test goes on to its other
# cases; the script fails at the end (so_finish) if any expectation failed.
expect() {
  local what=$1; shift
  if "$@"; then echo "CHECK ok: $what"; else echo "CHECK FAILED: $what"; FAILED+=("$what"); fi
}
so_finish() {
  if [ ${#FAILED[@]} -gt 0 ]; then
    echo "${#FAILED[@]} check(s) failed:"
    printf '  - %s\n' "${FAILED[@]}"
    echo "logs, document files and sets: $D"
    exit 1
  fi
  echo "all checks passed; logs, document files and sets: $D"
}
want_case() { [ -z "${SCALE_OUT_CASES:-}" ] || [[ " $SCALE_OUT_CASES " == *" $1 "* ]]; }

# --- Kafka topics (the broker's own tools, one short JVM each) --------------------
ktool() { TOOL_TIMEOUT=60 scripts/kafka.sh tool "$@"; }
topic_create() { # topic_create NAME PARTITIONS
  ktool org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOT" --create \
    --topic "$1" --partitions "$2" --replication-factor 1 >/dev/null
}
topic_offsets() { # topic_offsets NAME: "topic:partition:end" lines; fails if the topic is absent
  ktool org.apache.kafka.tools.GetOffsetShell --bootstrap-server "$BOOT" --topic "$1" 2>/dev/null
}
topic_partitions() { topic_offsets "$1" | grep -c . || true; }
topic_total() { topic_offsets "$1" | awk -F: '{ s += $NF } END { print s + 0 }'; }
topic_delete() { # topic_delete NAME (exact name)
  ktool org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOT" --delete --topic "${1//./\\.}"
}

# produce_events TOPIC N: the generator (conf/produce.ini), seeded, simulated
# clock, as fast as it goes; then waits until the topic's end offsets add up to N.
produce_events() {
  env KAFKA_BOOTSTRAP="$BOOT" TOPIC="$1" MAX_EVENTS="$2" USERS="$SO_USERS" SEED="$SO_SEED" RATE=0 \
    CLOCK=simulated START_TIME=1700000000000 "$SH" run conf/produce.ini >"$D/produce.out" 2>"$D/produce.log" ||
    { echo "the generator failed; see $D/produce.log"; tail -5 "$D/produce.log"; return 1; }
  local total=0 deadline=$((SECONDS + 30))
  while [ $SECONDS -lt $deadline ]; do
    total=$(topic_total "$1")
    [ "$total" = "$2" ] && return 0
    sleep 1
  done
  echo "the topic $1 holds $total messages after 30 s, expected $2"
  return 1
}

# so_config OUT [EXTRA-LINES]: conf/clickstream.ini as users run it, plus what
# these tests add to every process alike (tests/integration/ini_extend.py):
#  - a file sink beside the OpenSearch sink, same inputs, path ${OUT};
#  - index_prefix ${INDEX_PREFIX} on the OpenSearch sink;
#  - rate.limit ${RATE_LIMIT} (runs long enough to be disturbed mid-run) and
#    a dead-letter topic of this run;
#  - session.timeout.ms = 6000 for every consumer of the process (librdkafka's
#    45 s default would make each SIGKILL cost 45 s of waiting for the group).
# EXTRA-LINES: more INI lines in the same form (`!key = value` overrides).
so_config() {
  local inputs
  inputs=$(awk '/^\[/ { s = $0 } s == "[sink.search]" && /^inputs *=/ { sub(/^inputs *= */, ""); sub(/ *;.*/, ""); print }' conf/clickstream.ini)
  cat > "$D/extra-$(basename "$1" .ini).ini" <<INI
[streamhost]
rate.limit = \${RATE_LIMIT:-0}
dead_letter.topic = \${DLQ_TOPIC}
[kafka]
session.timeout.ms = 6000
[sink.search]
index_prefix = \${INDEX_PREFIX}
[sink.out]
plugin = file
inputs = ${inputs:-checkouts, counts}
path = \${OUT}
flush.interval = 200ms
${2:-}
INI
  python3 tests/integration/ini_extend.py conf/clickstream.ini "$D/extra-$(basename "$1" .ini).ini" > "$1"
  local log="$D/check-$(basename "$1" .ini).log"
  env KAFKA_BOOTSTRAP="$BOOT" TOPIC=x GROUP=x OUT=/dev/null INDEX_PREFIX=x- DLQ_TOPIC=x "$SH" check "$1" \
    > "$log" 2>&1 || { echo "streamhost check $1 failed:"; cat "$log"; return 1; }
}
# the tumble transform's section name (the internal topic is GROUP.NAME.partials)
tumble_name() {
  awk '/^\[transform\./ { s = substr($0, 12, length($0) - 12) } /^plugin *= *tumble/ { print s; exit }' "$SO_CONF"
}

# --- processes --------------------------------------------------------------------
next_port() { # sets PORT: a port nobody listens on, never handed out before in this run
  while ss -ltnH "sport = :$SO_PORT" 2>/dev/null | grep -q .; do SO_PORT=$((SO_PORT + 1)); done
  PORT=$SO_PORT
  SO_PORT=$((SO_PORT + 1))
}
# so_start NAME GROUP INDEX-PREFIX [VAR=VALUE...]: one analytics process in the
# background: conf $SO_CONF (or CONF=...), its own METRICS_PORT, file
# $D/NAME.jsonl, log $D/NAME.log.
so_start() {
  local name=$1 group=$2 prefix=$3 port conf=$SO_CONF
  shift 3
  next_port
  port=$PORT
  [[ " ${PREFIXES[*]} " == *" $prefix "* ]] || PREFIXES+=("$prefix")
  local envs=(KAFKA_BOOTSTRAP="$BOOT" OPENSEARCH_URL="$OS_URL" TOPIC="$SO_TOPIC" GROUP="$group" BOUNDED=true
    METRICS_PORT="$port" OUT="$D/$name.jsonl" INDEX_PREFIX="$prefix" DLQ_TOPIC="$RID-dlq" RATE_LIMIT="$SO_RATE" "$@")
  for e in "$@"; do [[ $e == CONF=* ]] && conf=${e#CONF=}; done
  printf '%s ' "${envs[@]}" "$SH" run "$conf" > "$D/$name.cmd"
  env "${envs[@]}" "$SH" run "$conf" > "$D/$name.out" 2> "$D/$name.log" &
  PID[$name]=$!
  PORTS[$name]=$port
  unset "RC[$name]"
  echo "$(date -u +%T.%3N) started $name: pid ${PID[$name]}, group $group, METRICS_PORT=$port, OUT=$D/$name.jsonl, INDEX_PREFIX=$prefix, $(printf '%s ' "$@")"
}
running() { kill -0 "${PID[$1]}" 2>/dev/null; }
# so_wait SECONDS NAME...: until every NAME has exited (exit codes in RC[NAME]);
# those still running at the deadline are killed and get RC "timeout".
so_wait() {
  local limit=$1 n deadline=$((SECONDS + $1)) alive
  shift
  while :; do
    alive=()
    for n in "$@"; do running "$n" && alive+=("$n"); done
    [ ${#alive[@]} -eq 0 ] && break
    if [ $SECONDS -ge $deadline ]; then
      echo "still running after ${limit}s: ${alive[*]}; killing them"
      for n in "${alive[@]}"; do kill -KILL "${PID[$n]}" 2>/dev/null || true; wait "${PID[$n]}" 2>/dev/null || true; RC[$n]=timeout; done
      break
    fi
    sleep 0.2
  done
  for n in "$@"; do
    if [ -z "${RC[$n]:-}" ]; then
      local rc=0
      wait "${PID[$n]}" 2>/dev/null || rc=$?
      RC[$n]=$rc
    fi
    echo "$(date -u +%T.%3N) $n exited: ${RC[$n]}; read $(reads "$n") events; $(lines "$n") lines written; $(grep -c '\[clicks\] assigned' "$D/$n.log" || true) assignment(s): $(grep -o '\[clicks\] assigned [0-9]*' "$D/$n.log" | awk '{printf "%s ", $3}')"
    case ${RC[$n]} in 0 | 137) ;; *) grep -m2 ' ERROR ' "$D/$n.log" | sed "s/^/    $n: /" || true ;; esac
  done
}
# consumed NAME: messages its Kafka source has consumed so far (its /metrics), 0 if unknown
consumed() {
  local n
  n=$(curl -s -m 1 "http://127.0.0.1:${PORTS[$1]}/metrics" 2>/dev/null |
    awk '/^streamhost_messages_consumed_total\{component="clicks"/ { print $NF; exit }')
  echo "${n:-0}"
}
# mid_run NAME LINES SECONDS: until NAME, still running, has written LINES
# lines to its file, or (for a process that holds its documents back) has
# consumed a fifth of the topic; fails if it exits first or after SECONDS.
mid_run() {
  local deadline=$((SECONDS + $3)) fifth=$((SO_EVENTS / 5))
  while [ $SECONDS -lt $deadline ]; do
    running "$1" || { echo "$1 exited before it could be disturbed mid-run ($(lines "$1") lines written)"; return 1; }
    [ "$(lines "$1")" -ge "$2" ] && return 0
    if [ "$(consumed "$1")" -ge "$fifth" ]; then
      echo "$1 consumed $(consumed "$1") messages but wrote only $(lines "$1") lines: disturbing it now"
      return 0
    fi
    sleep 0.1
  done
  echo "$1 wrote $(lines "$1") lines and consumed $(consumed "$1") messages in $3 s"
  return 1
}
lines() {
  local deadline=$((SECONDS + $3))
  while [ $SECONDS -lt $deadline ]; do
    running "$1" || { echo "$1 exited before writing $2 lines ($(lines "$1") written)"; return 1; }
    [ "$(lines "$1")" -ge "$2" ] && return 0
    sleep 0.1
  done
  echo "$1 wrote $(lines "$1") lines in $3 s, waited for $2"
  return 1
}
lines() { if [ -f "$D/$1.jsonl" ]; then wc -l < "$D/$1.jsonl"; else echo 0; fi; }
reads() { # events the Kafka source of NAME delivered (its summary), or "?" without a summary
  local n
  n=$(awk '$4 == "clicks" && $5 == "in" { print $8 }' "$D/$1.log" | tail -1)
  echo "${n:-?}"
}
exited() { [ "${RC[$1]}" = "$2" ]; }
now_ms() { date +%s%3N; }
# assigned_after NAME EPOCH_MS: NAME logged a source assignment after EPOCH_MS
assigned_after() {
  local ts
  while read -r ts _; do
    [ "$(date -u -d "$ts" +%s%3N)" -gt "$2" ] && return 0
  done < <(grep '\[clicks\] assigned [1-9]' "$D/$1.log" || true)
  return 1
}
# error_names NAME TOPIC: NAME's log has an ERROR line naming TOPIC
error_names() { grep ' ERROR ' "$D/$1.log" | grep -qF "$2"; }
log_names() { grep -E ' (ERROR|WARN) ' "$D/$1.log" | grep -qF "$2"; }

# --- document sets ----------------------------------------------------------------------
docset() { python3 tests/integration/docset.py "$@"; }
no_conflicts() { docset --conflicts "$@"; }
same_docs() { docset --compare "$@"; }
# compare_run TAG LABEL PREFIX [--allow-missing] NAME...: the files of NAME...
# (sets in $D/TAG.set and $D/TAG.os.set) and the OpenSearch indices under
# PREFIX, against the reference $D/ref.set
compare_run() {
  local tag=$1 label=$2 prefix=$3 allow="" files=() n
  shift 3
  if [ "${1:-}" = --allow-missing ]; then allow=--allow-missing; shift; fi
  for n in "$@"; do [ -f "$D/$n.jsonl" ] && files+=("$D/$n.jsonl"); done
  docset "${files[@]}" > "$D/$tag.set"
  docset --opensearch "$OS_URL" "$prefix" > "$D/$tag.os.set"
  local what="the union of the files equals the reference (same ids and contents, none missing, none extra)"
  local os_what="OpenSearch ($prefix*) equals the reference"
  if [ -n "$allow" ]; then
    what="every document in the files is one of the reference's, with its content (missing allowed)"
    os_what="OpenSearch ($prefix*) holds only reference documents, with their contents (missing allowed)"
  fi
  expect "$label: no id written with two different contents, in one file or across the ${#files[@]} files" \
    no_conflicts "${files[@]}"
  expect "$label: $what" same_docs $allow "$D/ref.set" "$D/$tag.set"
  expect "$label: $os_what" \
    same_docs $allow "$D/ref.set" "$D/$tag.os.set"
}
