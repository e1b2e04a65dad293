# shellcheck shell=bash
# bench/flink/bench.sh - the Flink section of bench/run.sh (sourced by it after the
# pre-fill; uses its variables and bench/lib.sh).  See bench/README.md, "The reference
# job on Flink".
#
# On the same input in the same run, REPS times each, the order alternating:
#   Kafka path   streamhost bench/analytics-file.ini (tuned fetch settings) on the
#                benchmark topic  vs  the Flink peer (bench/flink) on the same topic
#   file replay  streamhost conf/replay.ini on the benchmark events as JSON lines
#                vs  the Flink peer on the same file
# and for each: events/s, CPU seconds per million events, peak RSS, the ratios, and
# whether the document files are identical (as multisets of JSON objects, nothing
# normalised; bench/flink/docs.py).  Rows go to $RUN/rows like every other row.
#
# Environment (all optional):
#   BENCH_FLINK              0: skip this section in a full run (default 1)
#   BENCH_FLINK_PARALLELISM  parallelism of the Flink job's operators (default 1; the sink
#                            is always 1).  At 1 the job already keeps both cores busy
#                            (source, session and window tasks are threads of their own);
#                            at 2 on this 2-core machine it was 2.4x slower (1M events from a
#                            file, the machine busy: 47k vs 114k events/s)
#   BENCH_FLINK_JAVA_OPTS    extra JVM options for the Flink peer (default none: the JVM's
#                            own heap sizing)

FLINK_PARALLELISM="${BENCH_FLINK_PARALLELISM:-1}"
FLINK_JAVA_OPTS="${BENCH_FLINK_JAVA_OPTS:-}"
FLINK_DIR=bench/flink
FLINK_JAR="$FLINK_DIR/target/flink-reference-job-1.jar"
FLINK_WHY=""

# flink_build: the peer's jar and runtime classpath (bench/flink/target/), built with mvn
# when missing or older than its sources: offline first (the jars are in the local Maven
# repository after the first build), then online.  Sets FLINK_JAVA, FLINK_CP,
# FLINK_VERSION; on failure FLINK_WHY says why.
flink_build() {
    local major
    FLINK_JAVA="$(command -v java || true)"
    [ -n "$FLINK_JAVA" ] || { FLINK_WHY="java is missing (apt-get install openjdk-17-jdk-headless)"; return 1; }
    major="$("$FLINK_JAVA" -version 2>&1 | awk -F'"' '/version/ { split($2, v, "."); print v[1]; exit }')"
    ge "${major:-0}" 17 || { FLINK_WHY="java on PATH is version ${major:-?}; the Flink peer needs 17+"; return 1; }
    if [ ! -f "$FLINK_JAR" ] || [ ! -d "$FLINK_DIR/target/lib" ] ||
        [ -n "$(find "$FLINK_DIR/pom.xml" "$FLINK_DIR/src" -newer "$FLINK_JAR" -print -quit)" ]; then
        command -v mvn >/dev/null || { FLINK_WHY="mvn is missing (apt-get install maven)"; return 1; }
        command -v javac >/dev/null || { FLINK_WHY="javac is missing (apt-get install openjdk-17-jdk-headless)"; return 1; }
        say "building the Flink peer (mvn package in $FLINK_DIR)"
        if ! mvn -B -q -o -f "$FLINK_DIR/pom.xml" package >"$RUN/flink-build.log" 2>&1; then
            mvn -B -q -f "$FLINK_DIR/pom.xml" package >>"$RUN/flink-build.log" 2>&1 ||
                { FLINK_WHY="mvn package failed in $FLINK_DIR (see $RUN/flink-build.log)"; return 1; }
        fi
    fi
    FLINK_CP="$FLINK_JAR:$FLINK_DIR/target/lib/*"
    FLINK_VERSION="$(find "$FLINK_DIR/target/lib" -name 'flink-streaming-java-*.jar' | sed 's/.*flink-streaming-java-//; s/\.jar$//')"
    FLINK_KAFKA_VERSION="$(find "$FLINK_DIR/target/lib" -name 'flink-connector-kafka-*.jar' | sed 's/.*flink-connector-kafka-//; s/\.jar$//')"
}

# flink_events_file FILE: the pre-fill's events (same generator settings, so the same
# events, in generation order) as JSON lines, one ClickEvent object per line.
flink_events_file() {
    say "Flink section: $EVENTS events as JSON lines -> $1"
    printf '%s\n' "USERS=$USERS SEED=$SEED START_TIME=$START_TIME EVENTS=$EVENTS OUTPUT=- $BUILD/streamhost run bench/clicks-file.ini | sed (keep _source) >$1" >>"$RUN/commands"
    env USERS="$USERS" SEED="$SEED" START_TIME="$START_TIME" EVENTS="$EVENTS" OUTPUT=- \
        "$BUILD/streamhost" run bench/clicks-file.ini 2>"$RUN/flink-clicks.err" |
        sed -e 's/^{"_index":"[^"]*",\("_id":"[^"]*",\)\{0,1\}"_source"://' -e 's/}$//' >"$1" || return 1
    [ "$(wc -l <"$1")" = "$EVENTS" ] || { say "the events file has $(wc -l <"$1") lines, not $EVENTS"; return 1; }
}

# flink_docs NAME: NAME.jsonl -> NAME.docs (canonical, sorted) and the verdict against
# REF.docs in FLINK_DIFFS; the raw file is removed.
flink_docs() {
    python3 "$FLINK_DIR/docs.py" "$RUN/$1.jsonl" >"$RUN/$1.docs" || return 1
    rm -f "$RUN/$1.jsonl"
    if [ "$1" != fk-ours-1 ]; then
        if ! python3 "$FLINK_DIR/docs.py" --diff "$RUN/fk-ours-1.docs" "$RUN/$1.docs" >"$RUN/$1.diff"; then
            FLINK_DIFFS="$FLINK_DIFFS $1: $(cut -c1-400 "$RUN/$1.diff");"
        else
            case "$1" in *-1) ;; *) rm -f "$RUN/$1.docs" ;; esac # keep one set of each kind
        fi
    fi
}

# the four runs of one repetition K; each leaves its rate in RATE_<NAME>_K
flink_ours_kafka() {
    fetch_profile tuned
    say "Flink section: streamhost, Kafka path, run $1/$REPS"
    # shellcheck disable=SC2086
    timed "fk-ours-$1" env $COMMON_ENV $FETCH_ENV TOPIC="$CLICKS" GROUP="$T-fk-ours-$1" OUTPUT="$RUN/fk-ours-$1.jsonl" \
        "$BUILD/streamhost" run bench/analytics-file.ini || return 1
    TOPICS+=("$T-fk-ours-$1.counts.partials") # the tumble's exchange topic, created by the run
    [ "$(host_out "fk-ours-$1" clicks)" = "$EVENTS" ] || { say "streamhost read $(host_out "fk-ours-$1" clicks) events, not $EVENTS"; return 1; }
    fk_ours+=("$(calc "$EVENTS / $(host_run_s "fk-ours-$1" 'assigned [0-9]+ partition')")")
    flink_docs "fk-ours-$1"
}
flink_peer() { # flink_peer NAME SOURCE-ARGS...
    local name="$1"
    shift
    # shellcheck disable=SC2086
    timed "$name" "$FLINK_JAVA" $FLINK_JAVA_OPTS -cp "$FLINK_CP" streamhost.bench.flink.ReferenceJob "$@" \
        --event-time field --parallelism "$FLINK_PARALLELISM" --output "$RUN/$name.jsonl" || return 1
    [ "$(kv "$RUN/$name.out" events)" = "$EVENTS" ] || { say "the Flink peer read $(kv "$RUN/$name.out" events) events, not $EVENTS"; return 1; }
}
flink_peer_kafka() {
    say "Flink section: Flink peer, Kafka path, run $1/$REPS"
    flink_peer "fk-flink-$1" --source kafka --bootstrap "$BOOT" --topic "$CLICKS" --group "$T-fk-flink-$1" || return 1
    fk_flink+=("$(kv "$RUN/fk-flink-$1.out" events_per_s)")
    flink_docs "fk-flink-$1"
}
flink_ours_file() {
    say "Flink section: streamhost, file replay, run $1/$REPS"
    timed "ff-ours-$1" env INPUT="$FLINK_CLICKS" OUTPUT="$RUN/ff-ours-$1.jsonl" DEAD_LETTERS="$RUN/ff-dead-letters.jsonl" \
        "$BUILD/streamhost" run conf/replay.ini || return 1
    [ "$(host_out "ff-ours-$1" clicks)" = "$EVENTS" ] || { say "streamhost read $(host_out "ff-ours-$1" clicks) events, not $EVENTS"; return 1; }
    ff_ours+=("$(calc "$EVENTS / $(host_run_s "ff-ours-$1" 'pipeline running')")")
    flink_docs "ff-ours-$1"
}
flink_peer_file() {
    say "Flink section: Flink peer, file replay, run $1/$REPS"
    flink_peer "ff-flink-$1" --source file --input "$FLINK_CLICKS" || return 1
    ff_flink+=("$(kv "$RUN/ff-flink-$1.out" events_per_s)")
    flink_docs "ff-flink-$1"
}

# flink_med PREFIX WHAT: median over the repetitions of cpu (s/M events), rss (MB) or
# e2e (events per second of process wall time) of the runs PREFIX-1..REPS
flink_med() {
    local k
    for k in $(seq 1 "$REPS"); do
        case "$2" in
        cpu) cpu_per_m "$1-$k" "$EVENTS" ;;
        rss) rss_mb "$1-$k" ;;
        e2e) calc "$EVENTS / $(kv "$RUN/$1-$k.time" wall)" ;;
        esac
        echo
    done | median
}
flink_list() { printf '%s ' "$@" | xargs -n1 printf '%.0f/s ' | sed 's/ $//'; }

# flink_row LABEL OURS_PREFIX FLINK_PREFIX TARGET NOTE OURS_RATES... -- FLINK_RATES...
flink_row() {
    local label="$1" op="$2" fp="$3" target="$4" note="$5" o=() f=() O F ratio v cpu_o cpu_f docs
    shift 5
    while [ "$1" != -- ]; do o+=("$1"); shift; done
    shift
    f=("$@")
    O="$(printf '%s\n' "${o[@]}" | median)" F="$(printf '%s\n' "${f[@]}" | median)"
    ratio="$(calc "$O / $F")"
    cpu_o="$(flink_med "$op" cpu)" cpu_f="$(flink_med "$fp" cpu)"
    if [ -z "$FLINK_DIFFS" ]; then
        docs="documents identical in every run ($(wc -l <"$RUN/fk-ours-1.docs") documents, compared as multisets of JSON objects, nothing normalised; Kafka and file runs alike)"
    else
        docs="documents DIFFER:$FLINK_DIFFS"
    fi
    if [ -n "$FLINK_DIFFS" ]; then
        v="FAIL: documents differ"
    elif ge "$ratio" "$target"; then
        v=PASS
    else
        v="MISS: $(fmt2 "$ratio")x < ${target}x (see Analysis)"
    fi
    row "$label" "streamhost $(fmt0 "$O") events/s; Flink $(fmt0 "$F") events/s" \
        "$(fmt1 "$ratio")x Flink's events/s (target >= ${target}x); CPU $(fmt2 "$cpu_o") vs $(fmt2 "$cpu_f") s/M events ($(fmt1 "$(calc "$cpu_f / $cpu_o")")x less); peak RSS $(flink_med "$op" rss) vs $(flink_med "$fp" rss) MB" \
        "$v" \
        "median of $REPS, order alternated; $note; $docs; per run, streamhost: $(flink_list "${o[@]}"), Flink: $(flink_list "${f[@]}"); end to end (process wall, Flink's JVM and MiniCluster start included): streamhost $(fmt0 "$(flink_med "$op" e2e)")/s, Flink $(fmt0 "$(flink_med "$fp" e2e)")/s; CPU and RSS: whole process, medians; load average at the start of each repetition: ${flink_load[*]}, at the end: $(cut -d' ' -f1 /proc/loadavg)"
}

# flink_rows: the whole section; returns 1 (after a "not measured" row) when it cannot run
flink_rows() {
    local k
    fk_ours=() fk_flink=() ff_ours=() ff_flink=() flink_load=()
    FLINK_DIFFS=""
    FLINK_CLICKS="$RUN/clicks.jsonl"
    if ! flink_build; then
        row "Reference job on Flink (Kafka path and file replay)" "not measured" "-" "-" "$FLINK_WHY"
        return 1
    fi
    if ! flink_events_file "$FLINK_CLICKS"; then
        row "Reference job on Flink (Kafka path and file replay)" "not measured" "-" "-" "the events file could not be written (see $RUN/flink-clicks.err)"
        return 1
    fi
    for k in $(seq 1 "$REPS"); do
        flink_load+=("$(cut -d' ' -f1 /proc/loadavg)")
        if [ $((k % 2)) = 1 ]; then
            flink_ours_kafka "$k" && flink_peer_kafka "$k" && flink_ours_file "$k" && flink_peer_file "$k"
        else
            flink_peer_kafka "$k" && flink_ours_kafka "$k" && flink_peer_file "$k" && flink_ours_file "$k"
        fi || {
            row "Reference job on Flink (Kafka path and file replay)" "not measured" "-" "-" "run $k failed (see the last fk-*/ff-* files in $RUN)"
            rm -f "$FLINK_CLICKS"
            return 1
        }
    done
    rm -f "$FLINK_CLICKS"
    flink_row "vs the reference job on Flink $FLINK_VERSION (connector $FLINK_KAFKA_VERSION, parallelism $FLINK_PARALLELISM): Kafka path, topic -> sessions -> aggregates -> file" \
        fk-ours fk-flink 10 "streamhost with the tuned fetch settings (bench/analytics-file.ini), Flink with the Java consumer's defaults" \
        "${fk_ours[@]}" -- "${fk_flink[@]}"
    flink_row "vs the reference job on Flink $FLINK_VERSION (parallelism $FLINK_PARALLELISM): file replay (conf/replay.ini), the same events as JSON lines" \
        ff-ours ff-flink 5 "one file of $(fmt0 "$EVENTS") lines, just written, so both read it from the page cache" \
        "${ff_ours[@]}" -- "${ff_flink[@]}"
}

# flink_only_report: BENCH_ONLY=flink (make bench-flink): this section alone, reported
# and appended to $RESULTS on its own.
flink_only_report() {
    flink_rows || true
    REPORT="$RUN/report.md"
    {
        echo "## Run $ID (BENCH_ONLY=flink: streamhost vs the reference job on Flink)"
        echo
        echo "- Date: $(date -u)"
        echo "- Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, kernel $(uname -r)"
        echo "- Versions: $("$BUILD/streamhost" --version 2>&1 | head -n 1), librdkafka $(pkg-config --modversion rdkafka), Flink ${FLINK_VERSION:-?} on $("${FLINK_JAVA:-java}" -version 2>&1 | head -n 1), git $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD 2>/dev/null || echo ' + uncommitted changes')"
        echo "- Input: $EVENTS clickgen events (seed $SEED, $USERS users, simulated clock from $START_TIME, rate 0), $PARTITIONS partitions; the same events as JSON lines for the file replay"
        echo "- Rates: streamhost from partition assignment (Kafka) or \"pipeline running\" (file) to its summary; Flink from its first event read to the end of the job (env.execute returned: every window fired, the file flushed). \"End to end\" divides by the whole process wall time."
        echo
        echo "| measurement | result | reference / target | verdict | notes |"
        echo "| --- | --- | --- | --- | --- |"
        cat "$RUN/rows"
        echo
        echo "<details><summary>Commands</summary>"
        echo
        echo '```'
        echo "BUILD=$BUILD BENCH_ONLY=flink BENCH_EVENTS=$EVENTS BENCH_REPS=$REPS BENCH_PARTITIONS=$PARTITIONS BENCH_KAFKA_PORT=$KPORT BENCH_FLINK_PARALLELISM=$FLINK_PARALLELISM bench/run.sh"
        awk '!seen[$0]++' "$RUN/commands" | sed "s#$PWD/##g"
        echo '```'
        echo "</details>"
        echo
    } >"$REPORT"
    cat "$REPORT"
    cat "$REPORT" >>"$RESULTS"
    say "appended to $RESULTS; raw outputs in $RUN"
}
