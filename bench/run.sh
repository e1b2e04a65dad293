#!/usr/bin/env bash
# bench/run.sh - the benchmark harness (`make bench`).  See bench/README.md
# for what each row measures and how to read it.
#
# Against the project's real local Kafka broker (started with scripts/kafka.sh
# if it is not running, and stopped again at the end if this script started
# it), with a fixed seed and a simulated event-time clock, it measures:
#   - the generator (clickgen -> Kafka) against a plain librdkafka producer,
#   - the analytics (Kafka -> session -> filter + tumble -> sink) to a
#     discarding sink, to the file sink and to OpenSearch, against a plain
#     librdkafka consumer with the same fetch settings,
#   - processing alone (in memory), the memory per open session, start-up
#     time and idle RSS,
# profiles the analytics once with perf, prints a Markdown table and appends
# it, with the machine and the exact commands, to bench/RESULTS.md.
#
# Environment (all optional):
#   BUILD                 build directory (default build)
#   BENCH_EVENTS          events in the benchmark topic (default 5000000)
#   BENCH_USERS           concurrent users of the generator (default 20000)
#   BENCH_SEED            generator seed (default 42)
#   BENCH_START_TIME      simulated clock start, epoch ms (default 1700000000000)
#   BENCH_SESSIONS        open sessions for the state row (default 1000000)
#   BENCH_REPS            repetitions of the Kafka rows; medians are reported (default 3)
#   BENCH_PARTITIONS      partitions of the benchmark topics (default 4)
#   BENCH_KAFKA_PORT      Kafka port on 127.0.0.1 (default 9092)
#   BENCH_OPENSEARCH      1: measure the OpenSearch row, starting scripts/opensearch.sh
#                         if needed; 0: skip it (default 1)
#   BENCH_OPENSEARCH_PORT OpenSearch port on 127.0.0.1 (default 9200)
#   BENCH_PROFILE         1: profile the analytics with perf (default 1)
#   BENCH_RESULTS         file the results are appended to (default bench/RESULTS.md)
#   BENCH_ONLY            scale_out: only the pre-fill and the "2 processes vs 1" row,
#                         reported on its own (to check that row without the full run)
#                         flink: only the pre-fill and the comparison with the reference job
#                         on Flink (bench/flink/bench.sh; `make bench-flink`)
#   BENCH_FLINK           0: skip the Flink comparison in a full run (default 1); its other
#                         settings (BENCH_FLINK_*) are described in bench/flink/bench.sh
#   STREAMHOST_CACHE      passed on to scripts/kafka.sh and scripts/opensearch.sh
set -euo pipefail
export LC_ALL=C
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh

BUILD="${BUILD:-build}"
EVENTS="${BENCH_EVENTS:-5000000}"
USERS="${BENCH_USERS:-20000}"
SEED="${BENCH_SEED:-42}"
START_TIME="${BENCH_START_TIME:-1700000000000}"
SESSIONS="${BENCH_SESSIONS:-1000000}"
REPS="${BENCH_REPS:-3}"
PARTITIONS="${BENCH_PARTITIONS:-4}"
KPORT="${BENCH_KAFKA_PORT:-9092}"
OSPORT="${BENCH_OPENSEARCH_PORT:-9200}"
WITH_OS="${BENCH_OPENSEARCH:-1}"
WITH_PERF="${BENCH_PROFILE:-1}"
RESULTS="${BENCH_RESULTS:-bench/RESULTS.md}"

# Consumer fetch settings, given identically to the host's Kafka source
# (kafka.* keys in the bench configs) and to bench/raw_consume (-X).
# "default": librdkafka's own defaults, what conf/clickstream.ini runs with.
# "tuned": a pre-fetch queue that holds more than a second of input (see
# bench/README.md: librdkafka 2.0 stops fetching for up to 1 s when it is full).
fetch_profile() {
    case "$1" in
    default) FETCH_PARTITION_BYTES=1048576 FETCH_WAIT_MS=500 QUEUED_MIN_MESSAGES=100000 QUEUED_MAX_KBYTES=65536 ;;
    tuned) FETCH_PARTITION_BYTES=4194304 FETCH_WAIT_MS=100 QUEUED_MIN_MESSAGES=1000000 QUEUED_MAX_KBYTES=262144 ;;
    host) # the host's own defaults (README "Kafka source"): the configs run without kafka.* fetch keys
        FETCH_ENV="" FETCH_X=""
        return ;;
    esac
    FETCH_ENV="FETCH_PARTITION_BYTES=$FETCH_PARTITION_BYTES FETCH_WAIT_MS=$FETCH_WAIT_MS QUEUED_MIN_MESSAGES=$QUEUED_MIN_MESSAGES QUEUED_MAX_KBYTES=$QUEUED_MAX_KBYTES"
    FETCH_X="-X max.partition.fetch.bytes=$FETCH_PARTITION_BYTES -X fetch.wait.max.ms=$FETCH_WAIT_MS -X queued.min.messages=$QUEUED_MIN_MESSAGES -X queued.max.messages.kbytes=$QUEUED_MAX_KBYTES"
}

[ -x /usr/bin/time ] || { say "/usr/bin/time is missing (apt-get install time)"; exit 2; }
[ -x "$BUILD/streamhost" ] || { say "$BUILD/streamhost is missing: run make first"; exit 2; }

ID="$(date -u +%Y%m%dT%H%M%SZ)"
RUN="$BUILD/bench/run-$ID"
BIN="$BUILD/bench"
mkdir -p "$RUN" "$BIN/plugins"
: >"$RUN/rows"
: >"$RUN/commands"

# --- helpers compiled here (not by the Makefile) ------------------------------
say "compiling the benchmark helpers into $BIN"
CFLAGS=(-std=gnu11 -O2 -g -Wall -Wextra -Werror)
read -r -a RDK_CFLAGS <<<"$(pkg-config --cflags rdkafka)"
read -r -a RDK_LIBS <<<"$(pkg-config --libs rdkafka)"
# the raw clients link the librdkafka the host runs with (the wheel's by default)
RDK_SO="$(ldd "$BUILD/streamhost" | awk '/librdkafka/ { print $3; exit }')"
case "$RDK_SO" in
*/.cache/*) RDK_LIBS=("$RDK_SO" "-Wl,-rpath,$(dirname "$RDK_SO")") ;;
esac
say "librdkafka of the host and the raw clients: ${RDK_SO:-?} ($("$BUILD/streamhost" --version | sed -n 's/^librdkafka \([^ ]*\).*/\1/p'))"
cc "${CFLAGS[@]}" -Iinclude -fPIC -shared -fvisibility=hidden -o "$BIN/plugins/sink-null.so" bench/sink-null.c
for tool in raw_consume raw_produce topics; do
    cc "${CFLAGS[@]}" "${RDK_CFLAGS[@]}" -o "$BIN/$tool" "bench/$tool.c" "${RDK_LIBS[@]}"
done
cc "${CFLAGS[@]}" -Iinclude -Ihost -Ibench -o "$BIN/process_bench" bench/process_bench.c bench/minihost.c \
    host/cfgvalue.c -ldl

# --- Kafka (and later OpenSearch), topics, cleanup -------------------------------
export KAFKA_PORT="$KPORT" OPENSEARCH_PORT="$OSPORT"
BOOT="127.0.0.1:$KPORT"
STARTED_KAFKA=0 STARTED_OS=0
TOPICS=()
INDEX_PREFIX="bench-$(tr '[:upper:]' '[:lower:]' <<<"$ID")-"
OS_URL="http://127.0.0.1:$OSPORT"
cleanup() {
    set +e
    [ ${#TOPICS[@]} -gt 0 ] && "$BIN/topics" -b "$BOOT" delete "${TOPICS[@]}" >/dev/null 2>&1
    if [ "$STARTED_OS" = 1 ]; then
        scripts/opensearch.sh stop >&2
    elif [ -f "$RUN/os.used" ]; then
        curl -s -o /dev/null -X DELETE "$OS_URL/${INDEX_PREFIX}*"
        for i in user_session_details user_session_counts departments_count; do
            curl -s -o /dev/null -X DELETE "$OS_URL/_index_template/streamhost-$INDEX_PREFIX$i"
        done
    fi
    [ "$STARTED_KAFKA" = 1 ] && scripts/kafka.sh stop >&2
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if scripts/kafka.sh status >/dev/null 2>&1; then
    say "using the Kafka broker already running on $BOOT"
else
    scripts/kafka.sh start >&2
    STARTED_KAFKA=1
fi
new_topic() { # new_topic PARTITIONS NAME: created with retention.ms=-1, deleted at exit
    "$BIN/topics" -b "$BOOT" create "$1" "$2"
    TOPICS+=("$2")
}
drop_topic() { "$BIN/topics" -b "$BOOT" delete "$1" >/dev/null 2>&1 || true; }
T="bench-$ID"
new_topic 1 "$T-dlq"
COMMON_ENV="BENCH_BOOTSTRAP=$BOOT BENCH_PLUGINS=$PWD/$BIN/plugins DLQ_TOPIC=$T-dlq"

# --- generator: clickgen -> Kafka (also the pre-fill), and the raw producer -----
# The first generator run fills the topic every consumer reads and warms the
# broker up (its first producer also waits for the transaction coordinator);
# the measured generator and raw producer runs then alternate, so that both
# see the broker in the same state.
GEN_ENV="USERS=$USERS SEED=$SEED START_TIME=$START_TIME EVENTS=$EVENTS"
CLICKS="$T-clicks"
new_topic "$PARTITIONS" "$CLICKS"
say "pre-fill: $EVENTS events -> $CLICKS"
# shellcheck disable=SC2086
timed prefill env $COMMON_ENV $GEN_ENV TOPIC="$CLICKS" "$BUILD/streamhost" run bench/produce.ini
[ "$(host_out prefill generator)" = "$EVENTS" ] || { say "the pre-fill did not write $EVENTS events"; exit 1; }

# --- scale-out: 2 processes vs 1 on the same topic ------------------------------------
# The analytics (bench/analytics-null.ini, tuned fetch settings, bounded) over
# CLICKS as one process, then as two processes started together in one
# consumer group (each gets half of the partitions), REPS times each.  Both use
# a copy of the config with kafka.heartbeat.interval.ms = 100: with the 3 s
# default, the second member's join waits for the first member's next
# heartbeat, and by then the first has read the whole topic alone.
# Events/s: from the first partition assignment in any of the processes to the
# last summary; CPU: user + sys of all the processes, per million events of the topic.
so_span() { # so_span NAME...: seconds from the first assignment to the last summary of the runs
    local n a b first="" last=""
    for n in "$@"; do
        a="$(log_ms "$RUN/$n.err" 'assigned [0-9]+ partition')" || return 1
        b="$(log_ms "$RUN/$n.err" 'INFO  summary after')" || return 1
        if [ -z "$first" ] || [ "$a" -lt "$first" ]; then first="$a"; fi
        if [ -z "$last" ] || [ "$b" -gt "$last" ]; then last="$b"; fi
    done
    calc "($last - $first) / 1000"
}
so_cpu() { # so_cpu NAME...: user + sys seconds of the runs, per million events
    local n s=0
    for n in "$@"; do s="$(calc "$s + $(kv "$RUN/$n.time" user) + $(kv "$RUN/$n.time" sys)")"; done
    calc "$s * 1000000 / $EVENTS"
}
so_single() { # so_single K: one process, fresh group
    say "scale-out: 1 process, run $1/$REPS"
    # shellcheck disable=SC2086
    timed "so1-$1" env $COMMON_ENV $FETCH_ENV TOPIC="$CLICKS" GROUP="$T-so1-$1" "$BUILD/streamhost" run "$SO_INI"
    [ "$(host_out "so1-$1" clicks)" = "$EVENTS" ] || { say "scale-out: the single process read the wrong count"; return 1; }
}
so_pair() { # so_pair K: two processes started together in one fresh group
    local pa pb ra=0 rb=0
    say "scale-out: 2 processes in one group, run $1/$REPS"
    # shellcheck disable=SC2086
    timed "so2a-$1" env $COMMON_ENV $FETCH_ENV TOPIC="$CLICKS" GROUP="$T-so2-$1" "$BUILD/streamhost" run "$SO_INI" &
    pa=$!
    # shellcheck disable=SC2086
    timed "so2b-$1" env $COMMON_ENV $FETCH_ENV TOPIC="$CLICKS" GROUP="$T-so2-$1" "$BUILD/streamhost" run "$SO_INI" &
    pb=$!
    wait "$pa" || ra=$?
    wait "$pb" || rb=$?
    [ "$ra" = 0 ] && [ "$rb" = 0 ] || { say "scale-out: a process of the pair failed (exit $ra, $rb; see $RUN/so2?-$1.err)"; return 1; }
    ge "$(calc "$(host_out "so2a-$1" clicks) + $(host_out "so2b-$1" clicks)")" "$EVENTS" ||
        { say "scale-out: the pair read fewer events than the topic's $EVENTS"; return 1; }
}
so_local() { # so_local K: one process, fresh group, exchange = local (aggregates without the internal topic)
    say "scale-out: 1 process with exchange = local, run $1/$REPS"
    # shellcheck disable=SC2086
    timed "sol-$1" env $COMMON_ENV $FETCH_ENV TOPIC="$CLICKS" GROUP="$T-sol-$1" "$BUILD/streamhost" run "$SO_LOCAL_INI"
    [ "$(host_out "sol-$1" clicks)" = "$EVENTS" ] || { say "scale-out: the local-exchange process read the wrong count"; return 1; }
}
# The two-step aggregate's cost in one process: the same single process with
# the internal topic (the default) and with exchange = local.
merge_cost_row() {
    local k c1=() cl=() r1=() rl=()
    SO_LOCAL_INI="$RUN/analytics-null-local.ini"
    awk '{ print } /^\[transform\.counts\]/ { print "exchange = local   ; added by bench/run.sh for the merge-cost row" }' \
        "$SO_INI" >"$SO_LOCAL_INI"
    for k in $(seq 1 "$REPS"); do
        so_local "$k" || return 1
        cl+=("$(so_cpu "sol-$k")")
        rl+=("$(calc "$EVENTS / $(so_span "sol-$k")")")
        c1+=("$(so_cpu "so1-$k")")
        r1+=("$(calc "$EVENTS / $(so_span "so1-$k")")")
    done
    local C1 CL R1 RL
    C1="$(printf '%s\n' "${c1[@]}" | median)" CL="$(printf '%s\n' "${cl[@]}" | median)"
    R1="$(printf '%s\n' "${r1[@]}" | median)" RL="$(printf '%s\n' "${rl[@]}" | median)"
    local verdict="met"
    ge "$(calc "110 * $CL")" "$(calc "100 * $C1")" || verdict="not met"
    row "two-step aggregate (internal topic) in one process: analytics -> null, tuned, bounded" \
        "with the internal topic: $(fmt2 "$C1") CPU-s/M events, $(fmt0 "$R1") events/s" \
        "exchange = local: $(fmt2 "$CL") CPU-s/M events, $(fmt0 "$RL") events/s; cost $(fmt0 "$(calc "100 * $C1 / $CL - 100")")% more CPU per event (target <= 10%)" \
        "$verdict" "median of $REPS; the internal topic carries one partial per window and source partition plus one marker per window and exchange partition, so its cost grows with windows, not events"
}
scale_out_row() {
    local k r1=() c1=() e1=() r2=() c2=() e2=() reads=() load=() uneven=""
    SO_INI="$RUN/analytics-null-2proc.ini"
    awk '{ print } /^\[source\.clicks\]/ { print "kafka.heartbeat.interval.ms = 100   ; added by bench/run.sh for the scale-out row" }' \
        bench/analytics-null.ini >"$SO_INI"
    grep -q '^kafka.heartbeat.interval.ms' "$SO_INI" || { say "scale-out: no [source.clicks] in bench/analytics-null.ini"; return 1; }
    fetch_profile tuned
    for k in $(seq 1 "$REPS"); do
        load+=("$(cut -d' ' -f1 /proc/loadavg)")
        # alternate which goes first, so that neither always meets the broker
        # just after the pre-fill (or after the other's reads)
        if [ $((k % 2)) = 1 ]; then so_single "$k" && so_pair "$k" || return 1; else so_pair "$k" && so_single "$k" || return 1; fi
        r1+=("$(calc "$EVENTS / $(so_span "so1-$k")")")
        c1+=("$(so_cpu "so1-$k")")
        e1+=("$(calc "$EVENTS / $(kv "$RUN/so1-$k.time" wall)")")
        r2+=("$(calc "$EVENTS / $(so_span "so2a-$k" "so2b-$k")")")
        c2+=("$(so_cpu "so2a-$k" "so2b-$k")")
        e2+=("$(calc "$EVENTS / $(printf '%s\n' "$(kv "$RUN/so2a-$k.time" wall)" "$(kv "$RUN/so2b-$k.time" wall)" | sort -g | tail -n 1)")")
        reads+=("$(host_out "so2a-$k" clicks) + $(host_out "so2b-$k" clicks)")
        # a process that read less than a quarter of the topic did not share the work
        ge "$(host_out "so2a-$k" clicks)" "$((EVENTS / 4))" && ge "$(host_out "so2b-$k" clicks)" "$((EVENTS / 4))" ||
            uneven="$uneven run $k: ${reads[-1]};"
    done
    local R1 R2 C1 C2
    R1="$(printf '%s\n' "${r1[@]}" | median)" R2="$(printf '%s\n' "${r2[@]}" | median)"
    C1="$(printf '%s\n' "${c1[@]}" | median)" C2="$(printf '%s\n' "${c2[@]}" | median)"
    row "2 processes vs 1 on the same topic: analytics -> null, tuned, bounded, one consumer group, $PARTITIONS partitions" \
        "2 processes: $(fmt0 "$R2") events/s, $(fmt2 "$C2") CPU-s/M events" \
        "1 process: $(fmt0 "$R1") events/s, $(fmt2 "$C1") CPU-s/M events; 2 vs 1: $(fmt0 "$(calc "100 * $R2 / $R1")")% of the rate, $(fmt0 "$(calc "100 * $C2 / $C1")")% of the CPU per event" \
        "${uneven:+not comparable: the pair did not split the topic in$uneven}${uneven:--}" \
        "median of $REPS (order alternated); events/s from the first assignment to the last summary; CPU user+sys of all threads of both processes per million events of the topic; per run, 1 process: $(printf '%s ' "${r1[@]}" | xargs -n1 printf '%.0f/s ')(end to end $(printf '%s ' "${e1[@]}" | xargs -n1 printf '%.0f/s ')), 2 processes: $(printf '%s ' "${r2[@]}" | xargs -n1 printf '%.0f/s ')(end to end $(printf '%s ' "${e2[@]}" | xargs -n1 printf '%.0f/s ')); the pair read $(printf '%s; ' "${reads[@]}")documents to the null sink: 1 process $(host_in so1-1 discard), 2 processes $(host_in so2a-1 discard) + $(host_in so2b-1 discard); peak RSS 1 process $(rss_mb so1-1) MB, 2 processes $(rss_mb so2a-1) + $(rss_mb so2b-1) MB; load average at the start of each run: ${load[*]}"
}
if [ "${BENCH_ONLY:-}" = scale_out ]; then
    scale_out_row && merge_cost_row
    REPORT="$RUN/report.md"
    {
        echo "## Run $ID (BENCH_ONLY=scale_out: the \"2 processes vs 1\" row alone)"
        echo
        echo "- Date: $(date -u)"
        echo "- Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, kernel $(uname -r)"
        echo "- Versions: $("$BUILD/streamhost" --version 2>&1 | head -n 1), librdkafka $(pkg-config --modversion rdkafka), git $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD 2>/dev/null || echo ' + uncommitted changes')"
        echo "- Input: $EVENTS clickgen events (seed $SEED, $USERS users, simulated clock from $START_TIME, rate 0), $PARTITIONS partitions"
        echo
        echo "| measurement | result | reference / target | verdict | notes |"
        echo "| --- | --- | --- | --- | --- |"
        cat "$RUN/rows"
        echo
        echo "<details><summary>Commands</summary>"
        echo
        echo '```'
        echo "BUILD=$BUILD BENCH_ONLY=scale_out BENCH_EVENTS=$EVENTS BENCH_REPS=$REPS BENCH_PARTITIONS=$PARTITIONS BENCH_KAFKA_PORT=$KPORT bench/run.sh"
        awk '!seen[$0]++' "$RUN/commands" | sed "s#$PWD/##g"
        echo '```'
        echo "</details>"
        echo
    } >"$REPORT"
    cat "$REPORT"
    cat "$REPORT" >>"$RESULTS"
    say "appended to $RESULTS; raw outputs in $RUN"
    exit 0
fi

# --- the reference job on Flink: streamhost vs the Flink peer (bench/flink/bench.sh) ----
# shellcheck source=bench/flink/bench.sh
. bench/flink/bench.sh
if [ "${BENCH_ONLY:-}" = flink ]; then
    flink_only_report
    exit 0
fi

consume_rates() { # consume_rates PROFILE: raw consumer REPS times on CLICKS
    fetch_profile "$1"
    local k r=()
    for k in $(seq 1 "$REPS"); do
        say "raw consumer ($1 fetch settings) run $k/$REPS"
        # shellcheck disable=SC2086
        timed "rawc-$1-$k" "$BIN/raw_consume" -b "$BOOT" -t "$CLICKS" -g "$T-rawc-$1-$k" $FETCH_X
        [ "$(kv "$RUN/rawc-$1-$k.out" messages)" = "$EVENTS" ] || { say "raw consumer read the wrong count"; exit 1; }
        r+=("$(calc "$EVENTS / $(kv "$RUN/rawc-$1-$k.out" run_s)")")
    done
    printf '%s\n' "${r[@]}" | median
}
RAWC_DEFAULT="$(consume_rates default)"
RAWC_TUNED="$(consume_rates tuned)"
VSIZE="$(awk -v b="$(kv "$RUN/rawc-tuned-1.out" value_bytes)" -v n="$EVENTS" 'BEGIN { printf "%.0f", b / n }')"
KSIZE="$(awk -v b="$(kv "$RUN/rawc-tuned-1.out" key_bytes)" -v n="$EVENTS" 'BEGIN { printf "%.0f", b / n }')"
RDK_VERSION="$(kv "$RUN/rawc-tuned-1.out" librdkafka)"

gen_rates=() rawp_rates=()
for k in $(seq 1 "$REPS"); do
    new_topic "$PARTITIONS" "$T-gen-$k"
    say "generator run $k/$REPS: $EVENTS events -> $T-gen-$k"
    # shellcheck disable=SC2086
    timed "gen-$k" env $COMMON_ENV $GEN_ENV TOPIC="$T-gen-$k" "$BUILD/streamhost" run bench/produce.ini
    [ "$(host_out "gen-$k" generator)" = "$EVENTS" ] || { say "generator run $k did not write $EVENTS events"; exit 1; }
    gen_rates+=("$(calc "$EVENTS / $(host_run_s "gen-$k" 'pipeline running')")")
    drop_topic "$T-gen-$k"
    new_topic "$PARTITIONS" "$T-raw-$k"
    say "raw producer run $k/$REPS: $EVENTS messages of $VSIZE + $KSIZE bytes"
    timed "rawp-$k" "$BIN/raw_produce" -b "$BOOT" -t "$T-raw-$k" -n "$EVENTS" -s "$VSIZE" -k "$KSIZE" -u "$USERS"
    rawp_rates+=("$(calc "$EVENTS / $(kv "$RUN/rawp-$k.out" run_s)")")
    drop_topic "$T-raw-$k"
done
RAWP="$(printf '%s\n' "${rawp_rates[@]}" | median)"
GEN="$(printf '%s\n' "${gen_rates[@]}" | median)"
GEN_RATIO="$(calc "100 * $GEN / $RAWP")"
if ge "$GEN_RATIO" 90; then v=PASS; else v="MISS: $(fmt0 "$GEN_RATIO")% < 90% (see Analysis)"; fi
row "Raw produce (ceiling): plain librdkafka, $VSIZE B values + $KSIZE B keys, sink's batching" \
    "$(fmt0 "$RAWP") msg/s" "-" "-" "median of $REPS; CPU $(cpu_per_m rawp-1 "$EVENTS") s/M msgs; peak RSS $(rss_mb rawp-1) MB"
row "Generator: clickgen -> Kafka sink (Avro, murmur2, idempotent)" "$(fmt0 "$GEN") events/s" \
    "$(fmt0 "$GEN_RATIO")% of raw produce; target >= 90%" "$v" \
    "median of $REPS; CPU $(cpu_per_m gen-1 "$EVENTS") s/M events; peak RSS $(rss_mb gen-1) MB"

# --- analytics -------------------------------------------------------------------
# host_rates NAME CONFIG PROFILE REPS [ENV...]: a bounded streamhost run over
# CLICKS, REPS times; prints the median events/s from partition assignment to
# the summary (every window fired, output flushed).
host_rates() {
    local name="$1" conf="$2" prof="$3" reps="$4" k r=()
    shift 4
    fetch_profile "$prof"
    for k in $(seq 1 "$reps"); do
        say "$name ($prof fetch settings) run $k/$reps"
        # shellcheck disable=SC2086
        timed "$name-$prof-$k" env $COMMON_ENV $FETCH_ENV TOPIC="$CLICKS" GROUP="$T-$name-$prof-$k" STAMP="$RUN/$name.stamp" "$@" \
            "$BUILD/streamhost" run "$conf"
        [ "$(host_out "$name-$prof-$k" clicks)" = "$EVENTS" ] || { say "$name read the wrong count"; exit 1; }
        r+=("$(calc "$EVENTS / $(host_run_s "$name-$prof-$k" 'assigned [0-9]+ partition')")")
    done
    printf '%s\n' "${r[@]}" | median
}
# busy NAME: CPU seconds (user+sys, all threads) per second of wall time.
busy() { awk -v u="$(kv "$RUN/$1.time" user)" -v s="$(kv "$RUN/$1.time" sys)" -v w="$(kv "$RUN/$1.time" wall)" \
    'BEGIN { printf "%.2f", (u + s) / w }'; }
e2e() { fmt0 "$(calc "$EVENTS / $(kv "$RUN/$1.time" wall)")"; }
# input_rate NAME: events/s from assignment to the source's "input finished"
# (before the final firing and the sink's last flush).
input_rate() {
    local a b
    a="$(log_ms "$RUN/$1.err" 'assigned [0-9]+ partition')" && b="$(log_ms "$RUN/$1.err" 'input finished')" &&
        fmt0 "$(calc "$EVENTS * 1000 / ($b - $a)")"
}

SRC_TUNED="$(host_rates source bench/consume-null.ini tuned "$REPS")"
AN_DEFAULT="$(host_rates analytics bench/analytics-null.ini default "$REPS")"
AN_TUNED="$(host_rates analytics bench/analytics-null.ini tuned "$REPS")"
DOCS="$(host_in analytics-tuned-1 discard)"
# the host's fetch defaults: the same config without its kafka.* fetch keys
grep -v '^kafka\.' bench/analytics-null.ini >"$RUN/analytics-hostdefaults.ini"
AN_HOST="$(host_rates analytics "$RUN/analytics-hostdefaults.ini" host "$REPS")"
AN_FILE="$(host_rates analytics-file bench/analytics-file.ini tuned "$REPS" OUTPUT="$RUN/documents.jsonl")"
FILE_DOCS="$(wc -l <"$RUN/documents.jsonl")"
rm -f "$RUN/documents.jsonl"

analytics_row() { # analytics_row LABEL RATE CEILING RUN_NAME NOTE
    local ratio v
    ratio="$(calc "100 * $2 / $3")"
    if ge "$ratio" 80 && ge "$2" 1000000; then
        v=PASS
    elif ! ge "$3" 1000000 && ge "$ratio" 80; then
        v="PASS (broker ceiling $(fmt0 "$3")/s < 1M)"
    else
        v="MISS:"
        ge "$ratio" 80 || v="$v $(fmt0 "$ratio")% < 80%;"
        ge "$2" 1000000 || v="$v < 1M/s;"
        v="$v busy $(busy "$4") CPU-s per s (see Analysis)"
    fi
    row "$1" "$(fmt0 "$2") events/s" "$(fmt0 "$ratio")% of raw consume ($(fmt0 "$3")/s); target >= 80% and >= 1M/s" \
        "$v" "$5; input read at $(input_rate "$4")/s; end to end (process wall) $(e2e "$4")/s; CPU $(cpu_per_m "$4" "$EVENTS") s/M events; peak RSS $(rss_mb "$4") MB"
}
row "Raw consume (ceiling), default fetch settings" "$(fmt0 "$RAWC_DEFAULT") msg/s" "-" "-" \
    "median of $REPS; CPU $(cpu_per_m rawc-default-1 "$EVENTS") s/M msgs; peak RSS $(rss_mb rawc-default-1) MB"
row "Raw consume (ceiling), tuned fetch settings" "$(fmt0 "$RAWC_TUNED") msg/s" "-" "-" \
    "median of $REPS; CPU $(cpu_per_m rawc-tuned-1 "$EVENTS") s/M msgs; peak RSS $(rss_mb rawc-tuned-1) MB"
row "Kafka source + Avro decode -> null, tuned (no analytics)" "$(fmt0 "$SRC_TUNED") events/s" \
    "$(fmt0 "$(calc "100 * $SRC_TUNED / $RAWC_TUNED")")% of raw consume" "-" \
    "median of $REPS; CPU $(cpu_per_m source-tuned-1 "$EVENTS") s/M events; peak RSS $(rss_mb source-tuned-1) MB"
analytics_row "Analytics -> null sink, default fetch settings" "$AN_DEFAULT" "$RAWC_DEFAULT" analytics-default-1 \
    "median of $REPS; $DOCS documents"
analytics_row "Analytics -> null sink, tuned fetch settings" "$AN_TUNED" "$RAWC_TUNED" analytics-tuned-1 \
    "median of $REPS; $DOCS documents"
analytics_row "Analytics -> file sink, tuned" "$AN_FILE" "$RAWC_TUNED" analytics-file-tuned-1 \
    "median of $REPS; $FILE_DOCS lines written"
# catching up on the whole topic as a backlog with the host's defaults: memory
# bounded at (nearly) the speed of the unbounded pre-fetch queue
HOST_RSS="$(rss_mb analytics-host-1)"
HOST_RATIO="$(calc "100 * $AN_HOST / $AN_TUNED")"
if ge 150 "$HOST_RSS" && ge "$HOST_RATIO" 90; then v=PASS; else v="MISS: peak RSS $HOST_RSS MB, $(fmt0 "$HOST_RATIO")% of tuned"; fi
row "Backlog: analytics -> null over the $EVENTS-event topic, the host's fetch defaults (librdkafka $("$BUILD/streamhost" --version | sed -n 's/^librdkafka \([^ ]*\).*/\1/p'))" \
    "$(fmt0 "$AN_HOST") events/s, peak RSS $HOST_RSS MB" \
    "$(fmt0 "$HOST_RATIO")% of the tuned run (peak RSS $(rss_mb analytics-tuned-1) MB); target <= 150 MB at >= 90%" "$v" \
    "median of $REPS; RSS of run 1 (runs: $(for k in $(seq 1 "$REPS"); do printf '%s ' "$(rss_mb "analytics-host-$k")"; done)MB); CPU $(cpu_per_m analytics-host-1 "$EVENTS") s/M events"
scale_out_row || row "2 processes vs 1 on the same topic" "not measured" "-" "-" "a run failed (see $RUN/so*.err)"
merge_cost_row || row "two-step aggregate in one process" "not measured" "-" "-" "a run failed (see $RUN/sol*.err)"
if [ "${BENCH_FLINK:-1}" = 1 ]; then flink_rows || true; else row "vs the reference job on Flink" "not measured" "-" "-" "BENCH_FLINK=0"; fi

# --- analytics -> OpenSearch --------------------------------------------------------
os_not_measured() { row "Analytics -> OpenSearch, tuned" "not measured" "-" "-" "$1"; }
if [ "$WITH_OS" != 1 ]; then
    os_not_measured "BENCH_OPENSEARCH=0"
elif [ ! -f "$BUILD/plugins/sink-opensearch.so" ]; then
    os_not_measured "$BUILD/plugins/sink-opensearch.so is not built"
else
    if ! scripts/opensearch.sh status >/dev/null 2>&1; then
        if scripts/opensearch.sh start >"$RUN/opensearch-start.log" 2>&1; then
            STARTED_OS=1
        fi
    fi
    if [ "$STARTED_OS" = 1 ] || scripts/opensearch.sh status >/dev/null 2>&1; then
        touch "$RUN/os.used"
        if AN_OS="$(host_rates analytics-os bench/analytics-opensearch.ini tuned 1 OPENSEARCH_URL="$OS_URL" \
            INDEX_PREFIX="$INDEX_PREFIX")"; then
            curl -s -o /dev/null -X POST "$OS_URL/${INDEX_PREFIX}*/_refresh"
            OS_DOCS="$(curl -s "$OS_URL/${INDEX_PREFIX}*/_count" | grep -o '"count":[0-9]*' | cut -d: -f2)"
            analytics_row "Analytics -> OpenSearch, tuned" "$AN_OS" "$RAWC_TUNED" analytics-os-tuned-1 \
                "1 run; ${OS_DOCS:-?} documents indexed (OpenSearch on the same 2 cores)"
        else
            os_not_measured "the run failed: $(tail -n 2 "$RUN/analytics-os-tuned-1.err" | tr '\n|' ' /')"
        fi
    else
        os_not_measured "OpenSearch did not start: $(tail -n 1 "$RUN/opensearch-start.log" | tr '|' '/')"
    fi
fi
if [ "$STARTED_OS" = 1 ]; then # give the 2 cores back before the CPU-bound rows
    scripts/opensearch.sh stop >&2
    STARTED_OS=0
    rm -f "$RUN/os.used"
fi

# --- processing alone, state -------------------------------------------------------
say "processing alone: $EVENTS events in memory"
timed process "$BIN/process_bench" throughput "$BUILD/plugins" "$BIN/plugins" "$EVENTS" "$USERS" "$SEED" "$START_TIME"
PROC="$(kv "$RUN/process.out" events_per_cpu_s)"
if ge "$PROC" 3000000; then v=PASS; else v="MISS: < 3M/s per core (see Analysis)"; fi
row "Processing alone: session + filter + tumble over in-memory records (1 thread)" "$(fmt0 "$PROC") events/s per core" \
    "target >= 3,000,000" "$v" "$(kv "$RUN/process.out" sessions) sessions, $(kv "$RUN/process.out" docs) documents; wall rate $(fmt0 "$(kv "$RUN/process.out" events_per_s)")/s"

# --- scale curve: processing alone against the amount of work -----------------------
# events/s and CPU per event as the events grow (20000 users) and as the
# concurrent users grow (1M events): how the cost grows with the work.
if [ "${BENCH_SCALE:-1}" = 1 ]; then
    curve=""
    for spec in "100000 $USERS" "1000000 $USERS" "10000000 $USERS" "1000000 1000" "1000000 100000" "1000000 1000000"; do
        read -r ne nu <<<"$spec"
        say "scale curve: $ne events, $nu users (processing alone)"
        timed "scale-$ne-$nu" "$BIN/process_bench" throughput "$BUILD/plugins" "$BIN/plugins" "$ne" "$nu" "$SEED" "$START_TIME" || continue
        r="$(kv "$RUN/scale-$ne-$nu.out" events_per_cpu_s)"
        curve+="$ne events / $nu users: $(fmt0 "$r")/s per core, $(awk -v r="$r" 'BEGIN { printf "%.0f", 1e9 / r }') ns/event, peak RSS $(rss_mb "scale-$ne-$nu") MB; "
    done
    row "Scale curve: processing alone (session + filter + tumble, 1 thread)" "see notes" "-" "-" "${curve%; }"
fi

# --- Avro decoding through writer -> reader plans (schema registry) -----------------
# bench/avro_decode: the source's decoding alone, in memory, the ways taking
# turns, best of 9 passes.  The baseline is the same program built against
# the codec of commit ff178fd (the last one before plans), when git has it.
say "Avro decoding: with writer -> reader plans vs before them"
AD_FLAGS=("${CFLAGS[@]}" -Iinclude)
read -r -a AD_PKG <<<"$(pkg-config --cflags --libs avro-c jansson zlib)"
cc "${AD_FLAGS[@]}" -Ihost -o "$BIN/avro_decode" bench/avro_decode.c host/avro_codec.c "${AD_PKG[@]}"
AD_BEFORE=""
if mkdir -p "$BIN/avro-before" && git show ff178fd:host/avro_codec.c >"$BIN/avro-before/avro_codec.c" 2>/dev/null &&
    git show ff178fd:host/avro_codec.h >"$BIN/avro-before/avro_codec.h" 2>/dev/null &&
    cc "${AD_FLAGS[@]}" -I"$BIN/avro-before" -Ihost -DBEFORE -o "$BIN/avro_decode_before" bench/avro_decode.c \
        "$BIN/avro-before/avro_codec.c" "${AD_PKG[@]}"; then
    timed avro_before "$BIN/avro_decode_before" 1000000 9
    AD_BEFORE="$(kv "$RUN/avro_before.out" self_rate)"
fi
timed avro_plans "$BIN/avro_decode" 1000000 9
AD_WORST="$(kv "$RUN/avro_plans.out" plan_v1_rate)"
for k in plan_v2 plan_drop; do
    r="$(kv "$RUN/avro_plans.out" ${k}_rate)"
    if ! ge "$r" "$AD_WORST"; then AD_WORST="$r"; fi
done
AD_REF="${AD_BEFORE:-$(kv "$RUN/avro_plans.out" self_rate)}"
AD_PCT="$(awk -v a="$AD_WORST" -v b="$AD_REF" 'BEGIN { printf "%.0f", 100 * a / b }')"
if ge "$AD_PCT" 90; then v=PASS; else v="MISS: < 90%"; fi
row "Avro decode with a writer -> reader plan (registry framing), slowest of v1 / v2 (+1 field skipped) / v1 - 1 field (default)" \
    "$(fmt0 "$AD_WORST") msg/s" "$AD_PCT% of the decoder $([ -n "$AD_BEFORE" ] && echo "before plans (ff178fd)" || echo "without a plan"); target >= 90%" "$v" \
    "1 thread, in memory, best of 9; before plans $(fmt0 "${AD_BEFORE:-0}")/s; without a plan now $(fmt0 "$(kv "$RUN/avro_plans.out" self_rate)")/s; v1 $(fmt0 "$(kv "$RUN/avro_plans.out" plan_v1_rate)")/s, v2 $(fmt0 "$(kv "$RUN/avro_plans.out" plan_v2_rate)")/s, default-filled $(fmt0 "$(kv "$RUN/avro_plans.out" plan_drop_rate)")/s"

say "state: $SESSIONS open sessions"
timed state "$BIN/process_bench" state "$BUILD/plugins" "$BIN/plugins" "$SESSIONS" "$SEED" "$START_TIME" || true
OPEN="$(kv "$RUN/state.out" open_sessions)"
if [ "$OPEN" = "$SESSIONS" ] && [ "$(kv "$RUN/state.out" fired)" = 0 ]; then
    BPS="$(kv "$RUN/state.out" bytes_per_session)"
    PEAK_BPS="$(awk -v h="$(kv "$RUN/state.out" vmhwm)" -v b="$(kv "$RUN/state.out" rss_before)" -v n="$OPEN" \
        'BEGIN { printf "%.1f", (h - b) / n }')"
    if ge 64 "$BPS" && ge 64 "$PEAK_BPS"; then v=PASS; else v="MISS: > 64 B steady or at the peak (see Analysis)"; fi
    row "State: $(fmt0 "$OPEN") sessions open at once (session plugin's open_sessions gauge)" \
        "$(fmt1 "$BPS") bytes per session" "target <= 64, also at the peak while the table grows" "$v" \
        "RSS added while they are open: $(awk -v a="$(kv "$RUN/state.out" rss_after)" -v b="$(kv "$RUN/state.out" rss_before)" 'BEGIN { printf "%.0f", (a - b) / 1048576 }') MB; peak while the table grew: $PEAK_BPS B/session; none fired"
else
    row "State" "not measured" "target <= 64" "-" "open_sessions=$OPEN, expected $SESSIONS (see $RUN/state.out)"
fi

# --- start-up, idle RSS -----------------------------------------------------------
# startup_ms NAME STAMP VAR=VALUE... CMD...: ms from just before exec to the
# null sink's first record.
startup_ms() {
    local name="$1" stamp="$2" t0
    shift 2
    rm -f "$stamp"
    (
        while [[ "$1" == *=* ]]; do export "${1?}"; shift; done
        printf '%s\n' "$EPOCHREALTIME" >"$RUN/$name.t0"
        exec "$@"
    ) >"$RUN/$name.out" 2>"$RUN/$name.err" || return 1
    t0="$(cat "$RUN/$name.t0")"
    awk -v t0="$t0" -v f="$(cut -d' ' -f1 "$stamp")" 'BEGIN { printf "%.1f", f / 1e6 - t0 * 1000 }'
}
printf '%s\n' "$(head -n 1 tests/data/worked-example.jsonl)" >"$RUN/one.jsonl"
su_file=() su_kafka=()
new_topic "$PARTITIONS" "$T-few"
# shellcheck disable=SC2086
timed few env $COMMON_ENV USERS="$USERS" SEED="$SEED" START_TIME="$START_TIME" EVENTS=10 TOPIC="$T-few" "$BUILD/streamhost" run bench/produce.ini
fetch_profile default
printf '%s\n' "BENCH_PLUGINS=$PWD/$BIN/plugins INPUT=$RUN/one.jsonl STAMP=... $BUILD/streamhost run bench/startup-file.ini" \
    "$COMMON_ENV $FETCH_ENV TOPIC=$T-few GROUP=<fresh> STAMP=... $BUILD/streamhost run bench/consume-null.ini" >>"$RUN/commands"
for k in $(seq 1 5); do
    say "start-up run $k/5"
    su_file+=("$(startup_ms "startup-file-$k" "$RUN/startup.stamp" BENCH_PLUGINS="$PWD/$BIN/plugins" \
        INPUT="$RUN/one.jsonl" STAMP="$RUN/startup.stamp" DEAD_LETTERS="$RUN/dead-letters.jsonl" \
        "$BUILD/streamhost" run bench/startup-file.ini)")
    # shellcheck disable=SC2086
    su_kafka+=("$(startup_ms "startup-kafka-$k" "$RUN/startup.stamp" $COMMON_ENV $FETCH_ENV TOPIC="$T-few" \
        GROUP="$T-startup-$k" STAMP="$RUN/startup.stamp" "$BUILD/streamhost" run bench/consume-null.ini)")
done
SU_FILE="$(printf '%s\n' "${su_file[@]}" | median)"
SU_KAFKA="$(printf '%s\n' "${su_kafka[@]}" | median)"
if ge 200 "$SU_FILE"; then v=PASS; else v="MISS: > 200 ms (see Analysis)"; fi
row "Start-up: exec -> first record (file source -> null sink)" "$(fmt1 "$SU_FILE") ms" "target <= 200 ms" "$v" \
    "median of 5: $(printf '%s ' "${su_file[@]}")ms"
if ge 50 "$SU_KAFKA"; then v=PASS; else v="MISS: > 50 ms (see Analysis)"; fi
row "Start-up: exec -> first record consumed from Kafka (group join, fetch)" "$(fmt1 "$SU_KAFKA") ms" \
    "target <= 50 ms" "$v" "median of 5: $(printf '%s ' "${su_kafka[@]}")ms; fresh consumer group each run"

say "idle RSS: the analytics pipeline on an empty topic"
new_topic "$PARTITIONS" "$T-empty"
printf '%s\n' "$COMMON_ENV $FETCH_ENV TOPIC=$T-empty GROUP=$T-idle BOUNDED=false $BUILD/streamhost run bench/analytics-null.ini   # VmRSS after 2 s, then SIGTERM" >>"$RUN/commands"
(
    # shellcheck disable=SC2086,SC2163
    export $COMMON_ENV $FETCH_ENV TOPIC="$T-empty" GROUP="$T-idle" BOUNDED=false
    exec "$BUILD/streamhost" run bench/analytics-null.ini
) >"$RUN/idle.out" 2>"$RUN/idle.err" &
IDLE_PID=$!
sleep 2
IDLE_KB="$(awk '/^VmRSS:/ { print $2 }' "/proc/$IDLE_PID/status")"
IDLE_HWM="$(awk '/^VmHWM:/ { print $2 }' "/proc/$IDLE_PID/status")"
kill -TERM "$IDLE_PID"
wait "$IDLE_PID" || true
IDLE_MB="$(calc "$IDLE_KB / 1024")"
if ge 20 "$IDLE_MB"; then v=PASS; else v="MISS: > 20 MB (see Analysis)"; fi
row "Idle RSS: analytics pipeline, Kafka source on an empty topic, after 2 s" "$(fmt1 "$IDLE_MB") MB" \
    "target <= 20 MB" "$v" "VmHWM $(fmt1 "$(calc "$IDLE_HWM / 1024")") MB; $(grep -c 'assigned' "$RUN/idle.err" || true) assignment(s) seen"

# --- profile ------------------------------------------------------------------------
PROFILE_TXT="$RUN/profile.txt"
if [ "$WITH_PERF" = 1 ] && command -v perf >/dev/null &&
    perf record -q -o "$RUN/perf-check.data" true >/dev/null 2>&1; then
    fetch_profile tuned
    say "profiling the analytics (tuned) with perf"
    # shellcheck disable=SC2086
    timed perf perf record -F 999 -g -o "$RUN/perf.data" -- env $COMMON_ENV $FETCH_ENV TOPIC="$CLICKS" \
        GROUP="$T-perf" "$BUILD/streamhost" run bench/analytics-null.ini
    {
        echo "perf record -F 999 -g, analytics -> null sink, tuned fetch settings, $EVENTS events."
        echo "CPU share by thread:"
        perf report -i "$RUN/perf.data" --no-children --sort comm --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -n 5 || true
        echo "Top functions by self time (all threads):"
        perf report -i "$RUN/perf.data" --no-children --sort comm,dso,sym --stdio -g none 2>/dev/null |
            grep -E '^ +[0-9]' | head -n 25 || true
    } >"$PROFILE_TXT"
else
    echo "not profiled: perf is not available (apt-get install linux-perf) or BENCH_PROFILE=0" >"$PROFILE_TXT"
fi

# --- report ---------------------------------------------------------------------------
CPU_MODEL="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
KAFKA_PID="$( (ss -ltnpH "sport = :$KPORT" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2) || true)"
KAFKA_VERSION="$( (tr '\0' '\n' <"/proc/${KAFKA_PID:-0}/cmdline" | grep -o 'kafka/[0-9.]*/libs' |
    head -n 1 | cut -d/ -f2) 2>/dev/null || true)"
REPORT="$RUN/report.md"
{
    echo "## Run $ID"
    echo
    echo "- Date: $(date -u)"
    echo "- Machine: $(nproc) cores, $CPU_MODEL, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, kernel $(uname -r)"
    echo "- Versions: $("$BUILD/streamhost" --version 2>&1 | head -n 1), librdkafka $RDK_VERSION, Kafka broker ${KAFKA_VERSION:-unknown} (KRaft, 1 node, on the same cores), git $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD 2>/dev/null || echo ' + uncommitted changes')"
    echo "- Input: $EVENTS clickgen events (seed $SEED, $USERS users, simulated clock from $START_TIME, rate 0), $PARTITIONS partitions, ${VSIZE} B Avro values + ${KSIZE} B keys on average"
    echo "- Rates: Kafka consumers from partition assignment to the last record (the host: to its summary, after every window fired and the sink flushed); producers from the first send to the last delivery report; medians of $REPS runs where marked. \"End to end\" divides by the whole process wall time."
    echo "- Fetch settings: default = librdkafka's defaults; tuned = max.partition.fetch.bytes 4 MiB, fetch.wait.max.ms 100, queued.min.messages 1000000, queued.max.messages.kbytes 262144; the same for the host and the raw consumer; host = no fetch keys, the host's own defaults (README, Kafka source)."
    echo
    echo "| measurement | result | reference / target | verdict | notes |"
    echo "| --- | --- | --- | --- | --- |"
    cat "$RUN/rows"
    echo
    echo "<details><summary>Commands</summary>"
    echo
    echo '```'
    echo "BUILD=$BUILD BENCH_EVENTS=$EVENTS BENCH_REPS=$REPS BENCH_KAFKA_PORT=$KPORT BENCH_OPENSEARCH_PORT=$OSPORT bench/run.sh"
    awk '!seen[$0]++' "$RUN/commands" | sed "s#$PWD/##g"
    echo '```'
    echo "</details>"
    echo
    echo "<details><summary>Profile</summary>"
    echo
    echo '```'
    cat "$PROFILE_TXT"
    echo '```'
    echo "</details>"
    echo
} >"$REPORT"
cat "$REPORT"
[ -f "$RESULTS" ] || printf '# Benchmark results\n\nAppended by %s (bench/run.sh); see bench/README.md for what each row measures.\n\n' \
    '`make bench`' >"$RESULTS"
cat "$REPORT" >>"$RESULTS"
say "appended to $RESULTS; raw outputs in $RUN"
