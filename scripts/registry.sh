#!/usr/bin/env bash
# scripts/registry.sh - fetch and run a real schema registry for development
# and tests: Apicurio Registry (Maven Central), in-memory storage, on loopback,
# serving the Confluent-compatible API under /apis/ccompat/v7.
#
#   scripts/registry.sh fetch        download the distribution once (mvn)
#   scripts/registry.sh start        start, wait until it answers, set compatibility BACKWARD
#   scripts/registry.sh stop         SIGTERM, wait, SIGKILL if needed
#   scripts/registry.sh restart      stop + start (in-memory: every schema is gone)
#   scripts/registry.sh status       exit 0 iff running and answering
#   scripts/registry.sh url          print the Confluent-compatible base URL
#   scripts/registry.sh logs [-f]    show (or follow) the registry log
#
# Environment (all optional):
#   REGISTRY_VERSION        io.apicurio:apicurio-registry-app version (default 2.6.13.Final)
#   REGISTRY_PORT           HTTP port on 127.0.0.1 (default 8081); another port is another
#                           instance, with its own run dir (.cache/run/registry-PORT)
#   REGISTRY_KEEP_DATA=1    store schemas in an H2 file under the run dir, kept across
#                           stop/start (default: in memory, gone at stop)
#   REGISTRY_COMPATIBILITY  global compatibility level set at start (default BACKWARD)
#   REGISTRY_START_TIMEOUT  seconds to wait for it to answer (default 120)
#   REGISTRY_HEAP_OPTS      heap (default "-Xms64m -Xmx512m")
#   REGISTRY_JAVA_HOME      JDK to use (else JAVA_HOME, java on PATH, /usr/lib/jvm); Java 17+
#   STREAMHOST_CACHE        cache root (default <repo>/.cache)
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

REGISTRY_VERSION="${REGISTRY_VERSION:-2.6.13.Final}"
REGISTRY_HOST="127.0.0.1"
REGISTRY_PORT="${REGISTRY_PORT:-8081}"
REGISTRY_COMPATIBILITY="${REGISTRY_COMPATIBILITY:-BACKWARD}"
REGISTRY_START_TIMEOUT="${REGISTRY_START_TIMEOUT:-120}"
REGISTRY_HEAP_OPTS="${REGISTRY_HEAP_OPTS:--Xms64m -Xmx512m}"

RDIST="$SH_CACHE/registry/$REGISTRY_VERSION"
RJAR="$RDIST/apicurio-registry-app-$REGISTRY_VERSION-runner.jar"
if [ "$REGISTRY_PORT" = 8081 ]; then RRUN="$SH_RUN/registry"; else RRUN="$SH_RUN/registry-$REGISTRY_PORT"; fi
RPID="$RRUN/registry.pid"
RLOG="$RRUN/registry.log"
RMARK="-Dstreamhost.registry.port=$REGISTRY_PORT" # in its command line
BASE="http://$REGISTRY_HOST:$REGISTRY_PORT"
CCOMPAT="$BASE/apis/ccompat/v7"

cmd_fetch() {
    [ -f "$RDIST/.complete" ] && return 0
    local t0 stage
    t0="$(now_ms)"
    need_cmd tar "apt-get install tar"
    log "fetching Apicurio Registry $REGISTRY_VERSION (io.apicurio:apicurio-registry-app, tar.gz) with mvn"
    mkdir -p "$SH_CACHE/registry"
    rm -rf "$SH_CACHE/registry/.stage-"* # leftovers of failed fetches
    stage="$SH_CACHE/registry/.stage-$REGISTRY_VERSION.$$"
    mvn_copy_artifact "$stage" "$stage/dl" "io.apicurio:apicurio-registry-app:$REGISTRY_VERSION:tar.gz:all"
    tar -xzf "$stage/dl/apicurio-registry-app-$REGISTRY_VERSION-all.tar.gz" -C "$stage" ||
        die "cannot unpack $stage/dl/apicurio-registry-app-$REGISTRY_VERSION-all.tar.gz"
    rm -rf "$stage/dl"
    [ -f "$stage/apicurio-registry-app-$REGISTRY_VERSION-runner.jar" ] ||
        die "mvn finished but apicurio-registry-app-$REGISTRY_VERSION-runner.jar is missing (see $stage/mvn.log)"
    rm -rf "$RDIST"
    mv "$stage" "$RDIST"
    touch "$RDIST/.complete"
    log "fetched Apicurio Registry into $RDIST in $(elapsed "$t0")"
}

healthy() {
    curl -sf -m 5 -o /dev/null "$CCOMPAT/subjects"
}

set_compatibility() {
    curl -sf -m 10 -o /dev/null -X PUT -H 'Content-Type: application/json' \
        --data "{\"compatibility\":\"$REGISTRY_COMPATIBILITY\"}" "$CCOMPAT/config" ||
        die "cannot set the global compatibility level to $REGISTRY_COMPATIBILITY ($CCOMPAT/config)"
}

cmd_status() {
    local pid
    if ! pid="$(pid_alive "$RPID" "$RMARK")"; then
        echo "registry: not running"
        return 1
    fi
    if healthy; then
        echo "registry: running (pid $pid) on $CCOMPAT, healthy; log: $RLOG"
        return 0
    fi
    echo "registry: process $pid is alive but $CCOMPAT does not answer; log: $RLOG"
    return 1
}

cmd_start() {
    local pid java t0
    need_cmd curl "apt-get install curl"
    need_cmd setsid "apt-get install util-linux"
    mkdir -p "$RRUN"
    exec 9>"$RRUN/.lock"
    flock -w 300 9 || die "another scripts/registry.sh start is running (lock $RRUN/.lock)"
    if pid="$(pid_alive "$RPID" "$RMARK")"; then
        if healthy; then
            log "already running (pid $pid) on $CCOMPAT"
            return 0
        fi
        log "process $pid is alive but not answering yet; waiting"
    else
        rm -f "$RPID"
        port_open "$REGISTRY_HOST" "$REGISTRY_PORT" &&
            die "port $REGISTRY_PORT is already in use by another process (not ours); set REGISTRY_PORT"
        cmd_fetch
        java="$(find_java 17 999 "${REGISTRY_JAVA_HOME:-}")" ||
            die "no Java 17+ found (set REGISTRY_JAVA_HOME, or: apt-get install openjdk-17-jre-headless)"
        [ -f "$RLOG" ] && mv -f "$RLOG" "$RLOG.1"
        local dsurl="jdbc:h2:mem:registry_db"
        if [ "${REGISTRY_KEEP_DATA:-0}" = 1 ]; then
            mkdir -p "$RRUN/data"
            dsurl="jdbc:h2:file:$RRUN/data/registry_db"
        fi
        t0="$(now_ms)"
        # shellcheck disable=SC2086
        (
            cd "$RRUN"
            exec 9>&-
            QUARKUS_HTTP_HOST="$REGISTRY_HOST" QUARKUS_HTTP_PORT="$REGISTRY_PORT" REGISTRY_DATASOURCE_URL="$dsurl" \
                setsid "$java" $REGISTRY_HEAP_OPTS -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
                -Djava.awt.headless=true "$RMARK" -jar "$RJAR" >"$RLOG" 2>&1 </dev/null &
            echo $! >"$RPID"
        )
        pid="$(cat "$RPID")"
        log "started Apicurio Registry $REGISTRY_VERSION (pid $pid), waiting for $CCOMPAT; log: $RLOG"
    fi
    t0="${t0:-$(now_ms)}"
    local deadline=$((SECONDS + REGISTRY_START_TIMEOUT))
    while [ "$SECONDS" -lt "$deadline" ]; do
        if ! pid_alive "$RPID" "$RMARK" >/dev/null; then
            show_log_tail "$RLOG"
            die "the registry exited during startup; log: $RLOG"
        fi
        if healthy; then
            set_compatibility
            log "registry is up on $CCOMPAT (compatibility $REGISTRY_COMPATIBILITY) after $(elapsed "$t0")"
            return 0
        fi
        sleep 0.5
    done
    show_log_tail "$RLOG"
    die "the registry did not answer within ${REGISTRY_START_TIMEOUT}s (still running as pid $(cat "$RPID"); log: $RLOG)"
}

cmd_stop() {
    stop_pid "$RPID" registry "$RMARK" "${REGISTRY_STOP_TIMEOUT:-30}"
}

cmd_logs() {
    if [ "${1:-}" = "-f" ]; then
        exec tail -F "$RLOG"
    fi
    cat "$RLOG"
}

main() {
    local cmd="${1:-}"
    [ $# -gt 0 ] && shift
    case "$cmd" in
    fetch) cmd_fetch ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    restart) cmd_stop && cmd_start ;;
    status) cmd_status ;;
    url) echo "$CCOMPAT" ;;
    logs) cmd_logs "$@" ;;
    *)
        sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
        [ -z "$cmd" ] || [ "$cmd" = help ] || [ "$cmd" = -h ] || exit 2
        ;;
    esac
}

main "$@"
