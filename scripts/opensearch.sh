#!/usr/bin/env bash
# scripts/opensearch.sh - fetch and run a real OpenSearch node for development
# and tests: one node, security off, HTTP on loopback.
#
#   scripts/opensearch.sh fetch       download the distribution once (mvn)
#   scripts/opensearch.sh start       start and wait for cluster health yellow
#   scripts/opensearch.sh stop        SIGTERM, wait, SIGKILL if needed
#   scripts/opensearch.sh restart     stop + start
#   scripts/opensearch.sh status      exit 0 iff running and answering _cluster/health
#   scripts/opensearch.sh logs [-f]   show (or follow) the node's log
#   scripts/opensearch.sh url         print the base URL (http://127.0.0.1:9200)
#
# The distribution is OpenSearch's own test distribution from Maven Central,
# org.opensearch.distribution.integ-test-zip:opensearch:<version>:zip: the
# server with the transport-netty4 module and no plugins (so no security
# plugin).  The script adds the modules named in OPENSEARCH_MODULES, built from
# their Maven Central jars (org.opensearch.plugin:<artifact>:<version>).
#
# OpenSearch refuses to run as root.  When this script runs as root (CI does),
# it creates a system user `streamhost` (no login, no home) if missing and runs
# the node as that user; only the node's run dir (data, logs, config) is
# chowned to it.  The distribution itself stays read-only.
#
# Environment (all optional):
#   OPENSEARCH_VERSION         distribution version (default 2.19.6; 2.19.x runs on Java 17)
#   OPENSEARCH_PORT            HTTP port on 127.0.0.1 (default 9200)
#   OPENSEARCH_TRANSPORT_PORT  transport port on 127.0.0.1 (default OPENSEARCH_PORT+100)
#   OPENSEARCH_KEEP_DATA=1     keep the data dir on start (default: wiped, clean node)
#   OPENSEARCH_HEAP_MIN / OPENSEARCH_HEAP_MAX   heap (default 512m / 1g)
#   OPENSEARCH_START_TIMEOUT   seconds to wait for health yellow (default 180)
#   OPENSEARCH_USER            user to run as when started by root (default streamhost)
#   OPENSEARCH_MODULES         extra modules (default "analysis-common lang-painless
#                              mapper-extras reindex"; "" for the bare test zip)
#   OPENSEARCH_JAVA_HOME       JDK to use (else JAVA_HOME, java on PATH, /usr/lib/jvm);
#                              2.19.x needs Java 17..23 (it relies on the SecurityManager)
#   OPENSEARCH_JAVA_OPTS       extra JVM options, appended
#   STREAMHOST_CACHE           cache root (default <repo>/.cache)
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

OPENSEARCH_VERSION="${OPENSEARCH_VERSION:-2.19.6}"
OS_HOST="127.0.0.1"
OPENSEARCH_PORT="${OPENSEARCH_PORT:-9200}"
OPENSEARCH_TRANSPORT_PORT="${OPENSEARCH_TRANSPORT_PORT:-$((OPENSEARCH_PORT + 100))}"
OPENSEARCH_HEAP_MIN="${OPENSEARCH_HEAP_MIN:-512m}"
OPENSEARCH_HEAP_MAX="${OPENSEARCH_HEAP_MAX:-1g}"
OPENSEARCH_START_TIMEOUT="${OPENSEARCH_START_TIMEOUT:-180}"
OPENSEARCH_USER="${OPENSEARCH_USER:-streamhost}"
OPENSEARCH_MODULES="${OPENSEARCH_MODULES-analysis-common lang-painless mapper-extras reindex}"

# set_os_paths BASE: the distribution and the run dir live under BASE
# (normally the cache root; see resolve_os_base).
set_os_paths() {
    OS_BASE="$1"
    OS_DIST="$OS_BASE/opensearch/$OPENSEARCH_VERSION"
    OS_HOME="$OS_DIST/opensearch-$OPENSEARCH_VERSION"
    ORUN="$OS_BASE/run/opensearch"
    OCONF="$ORUN/config"
    ODATA="$ORUN/data"
    OLOGS="$ORUN/logs"
    OPID="$ORUN/opensearch.pid"
    OLOG="$ORUN/opensearch.log" # the node's stdout/stderr (everything it logs)
    # in the command line of the launcher script and then of the JVM it execs
    OMARK="$OS_BASE/opensearch/"
}
set_os_paths "$SH_CACHE"
OS_URL="http://$OS_HOST:$OPENSEARCH_PORT"

# Extra modules of the full distribution that the test zip lacks, assembled
# from their Maven Central jars (the module zips are not published there):
#   name | artifact (org.opensearch.plugin) | plugin class | description
OS_MODULE_TABLE='
analysis-common|analysis-common|org.opensearch.analysis.common.CommonAnalysisPlugin|Adds "built in" analyzers to OpenSearch.
lang-painless|lang-painless|org.opensearch.painless.PainlessPlugin|An easy, safe and fast scripting language for OpenSearch
mapper-extras|mapper-extras-client|org.opensearch.index.mapper.MapperExtrasPlugin|Adds advanced field mappers
reindex|reindex-client|org.opensearch.index.reindex.ReindexPlugin|The Reindex module adds APIs to reindex from one index to another or update documents in place.
'

fetch_dist() {
    if [ -f "$OS_DIST/.complete" ]; then
        return 0
    fi
    local t0 stage coord
    t0="$(now_ms)"
    coord="org.opensearch.distribution.integ-test-zip:opensearch:$OPENSEARCH_VERSION:zip"
    log "fetching OpenSearch $OPENSEARCH_VERSION ($coord) with mvn"
    mkdir -p "$OS_BASE/opensearch"
    rm -rf "$OS_BASE/opensearch/.stage-"* # leftovers of failed fetches
    stage="$OS_BASE/opensearch/.stage-$OPENSEARCH_VERSION.$$"
    mvn_copy_artifact "$stage" "$stage/dl" "$coord"
    local zip="$stage/dl/opensearch-$OPENSEARCH_VERSION.zip"
    [ -f "$zip" ] || die "mvn finished but $zip is missing (see $stage/mvn.log)"
    if command -v unzip >/dev/null 2>&1; then
        unzip -q "$zip" -d "$stage"
    elif command -v python3 >/dev/null 2>&1; then
        python3 -m zipfile -e "$zip" "$stage"
    else
        die "unzip not found: apt-get install unzip"
    fi
    [ -f "$stage/opensearch-$OPENSEARCH_VERSION/lib/opensearch-$OPENSEARCH_VERSION.jar" ] ||
        die "unexpected layout in $zip"
    chmod -R a+rX "$stage/opensearch-$OPENSEARCH_VERSION"
    chmod a+rx "$stage/opensearch-$OPENSEARCH_VERSION"/bin/*
    rm -rf "$zip" "$stage/dl"
    rm -rf "$OS_DIST"
    mv "$stage" "$OS_DIST"
    touch "$OS_DIST/.complete"
    log "fetched OpenSearch $OPENSEARCH_VERSION into $OS_HOME in $(elapsed "$t0")"
}

# jar_base FILE.jar -> artifact name without version ("httpcore-nio-4.4.16.jar" -> "httpcore-nio")
jar_base() {
    basename "$1" .jar | sed -E 's/-[0-9][0-9A-Za-z.+_-]*$//'
}

# install_module NAME: builds modules/NAME from the Maven jars: the module jar
# and its runtime deps minus what the server's lib/ (or an extended module)
# already has, plus plugin-descriptor.properties and the security policy.
install_module() {
    local name="$1" line artifact class desc stage jar base extended=""
    line="$(printf '%s\n' "$OS_MODULE_TABLE" | grep "^$name|")" || die "unknown OpenSearch module '$name'"
    IFS='|' read -r _ artifact class desc <<<"$line"
    rm -rf "$OS_DIST/.module-$name."* # leftovers of failed fetches
    stage="$OS_DIST/.module-$name.$$"
    mvn_copy_deps "$stage" "$stage/jars" \
        "<dependency><groupId>org.opensearch.plugin</groupId><artifactId>$artifact</artifactId><version>$OPENSEARCH_VERSION</version></dependency>"
    if [ "$name" = "analysis-common" ] && [ -d "$OS_HOME/modules/lang-painless" ]; then
        extended="lang-painless" # its painless whitelist extension
    fi
    declare -A have=()
    for jar in "$OS_HOME"/lib/*.jar ${extended:+"$OS_HOME/modules/$extended"/*.jar}; do
        have["$(jar_base "$jar")"]=1
    done
    mkdir -p "$stage/module"
    for jar in "$stage"/jars/*.jar; do
        base="$(jar_base "$jar")"
        [ -n "${have[$base]:-}" ] && continue
        cp "$jar" "$stage/module/"
    done
    cat >"$stage/module/plugin-descriptor.properties" <<EOF
# written by scripts/opensearch.sh from $artifact-$OPENSEARCH_VERSION.jar (Maven Central)
description=$desc
version=$OPENSEARCH_VERSION
name=$name
classname=$class
java.version=11
opensearch.version=$OPENSEARCH_VERSION
custom.foldername=
extended.plugins=$extended
has.native.controller=false
EOF
    case "$name" in
    lang-painless)
        cat >"$stage/module/plugin-security.policy" <<'EOF'
grant {
  // needed to generate runtime classes
  permission java.lang.RuntimePermission "createClassLoader";
  // needed to find the classloader to load whitelisted classes from
  permission java.lang.RuntimePermission "getClassLoader";
};
EOF
        ;;
    reindex)
        cat >"$stage/module/plugin-security.policy" <<'EOF'
grant {
  // reindex from remote opens socket connections using the rest client
  permission java.net.SocketPermission "*", "connect";
};
grant codeBase "${codebase.opensearch-rest-client}" {
  permission java.net.NetPermission "getProxySelector";
};
grant codeBase "${codebase.httpasyncclient}" {
  permission java.net.NetPermission "getProxySelector";
};
EOF
        ;;
    esac
    chmod -R a+rX "$stage/module"
    rm -rf "${OS_HOME:?}/modules/$name"
    mv "$stage/module" "$OS_HOME/modules/$name"
    rm -rf "$stage"
}

# ensure_modules: of the modules in OS_MODULE_TABLE, modules/ holds exactly the
# OPENSEARCH_MODULES ones, next to the test zip's own (transport-netty4) (lang-painless before analysis-common, which extends
# it when both are there).
ensure_modules() {
    local m want=" " t0 added="" known change=""
    known=" $(printf '%s\n' "$OS_MODULE_TABLE" | cut -d'|' -f1 | xargs) "
    for m in $OPENSEARCH_MODULES; do
        case "$known" in *" $m "*) ;; *) die "unknown OpenSearch module '$m' in OPENSEARCH_MODULES (known:$known)" ;; esac
        want="$want$m "
        [ -f "$OS_HOME/modules/$m/plugin-descriptor.properties" ] || change=1
    done
    for m in $known; do
        [ -d "$OS_HOME/modules/$m" ] && case "$want" in *" $m "*) ;; *) change=1 ;; esac
    done
    [ -n "$change" ] || return 0
    if pid_alive "$OPID" "$OMARK" >/dev/null; then
        die "OpenSearch is running: stop it before changing its modules (OPENSEARCH_MODULES=\"$OPENSEARCH_MODULES\")"
    fi
    for m in $known; do
        [ -d "$OS_HOME/modules/$m" ] || continue
        case "$want" in *" $m "*) continue ;; esac
        log "removing module $m (not in OPENSEARCH_MODULES)"
        rm -rf "${OS_HOME:?}/modules/$m"
        # analysis-common extends lang-painless: rebuild it without
        [ "$m" = "lang-painless" ] && rm -rf "$OS_HOME/modules/analysis-common"
    done
    t0="$(now_ms)"
    for m in lang-painless $OPENSEARCH_MODULES; do
        case "$want" in *" $m "*) ;; *) continue ;; esac
        [ -f "$OS_HOME/modules/$m/plugin-descriptor.properties" ] && continue
        log "assembling module $m $OPENSEARCH_VERSION from Maven Central jars"
        install_module "$m"
        added="$added $m"
        # analysis-common extends lang-painless: rebuild it with
        [ "$m" = "lang-painless" ] && rm -rf "$OS_HOME/modules/analysis-common"
    done
    [ -z "$added" ] || log "modules ready ($(cd "$OS_HOME/modules" && echo *)) in $(elapsed "$t0")"
}

cmd_fetch() {
    fetch_dist
    ensure_modules
}

os_java() {
    local j
    j="$(find_java 17 23 "${OPENSEARCH_JAVA_HOME:-}")" ||
        die "no Java 17..23 found for OpenSearch $OPENSEARCH_VERSION (set OPENSEARCH_JAVA_HOME, or: apt-get install openjdk-17-jre-headless)"
    printf '%s\n' "$j"
}

write_configs() {
    mkdir -p "$OCONF" "$ODATA" "$OLOGS" "$ORUN/tmp"
    cat >"$OCONF/opensearch.yml" <<EOF
# generated by scripts/opensearch.sh on each start; edit the script, not this file
cluster.name: streamhost-dev
node.name: streamhost-dev-1
# single-node discovery on loopback: development mode, bootstrap checks
# (vm.max_map_count, file descriptors, heap size) are not enforced
discovery.type: single-node
network.host: $OS_HOST
http.port: $OPENSEARCH_PORT
transport.port: $OPENSEARCH_TRANSPORT_PORT
path.data: $ODATA
path.logs: $OLOGS
cluster.routing.allocation.disk.threshold_enabled: false
action.auto_create_index: true
action.destructive_requires_name: false
EOF
    cat >"$OCONF/jvm.options" <<EOF
# generated by scripts/opensearch.sh (the distribution's defaults, smaller heap,
# every path under the run dir)
-Xms$OPENSEARCH_HEAP_MIN
-Xmx$OPENSEARCH_HEAP_MAX
11-:-XX:+UseG1GC
11-:-XX:G1ReservePercent=25
11-:-XX:InitiatingHeapOccupancyPercent=30
-Djava.io.tmpdir=\${OPENSEARCH_TMPDIR}
-XX:ErrorFile=$OLOGS/hs_err_pid%p.log
9-:-Xlog:gc*,gc+age=trace,safepoint:file=$OLOGS/gc.log:utctime,pid,tags:filecount=4,filesize=16m
18-:-Djava.security.manager=allow
20-:--add-modules=jdk.incubator.vector
-Djava.util.concurrent.ForkJoinPool.common.threadFactory=org.opensearch.secure_sm.SecuredForkJoinWorkerThreadFactory
EOF
    cp "$OS_HOME/config/log4j2.properties" "$OCONF/log4j2.properties"
}

# resolve_os_base: as root, the node's user must reach the cache dir.  When a
# parent directory shuts it out (say the repo is cloned under /root), the
# OpenSearch part of the cache moves to /var/tmp/streamhost-<hash of the cache path>.
resolve_os_base() {
    need_user_switch || return 0
    id -u "$OPENSEARCH_USER" >/dev/null 2>&1 || return 0
    mkdir -p "$SH_CACHE"
    if ! as_node_user test -r "$SH_CACHE" -a -x "$SH_CACHE" 2>/dev/null; then
        set_os_paths "/var/tmp/streamhost-$(printf '%s' "$SH_CACHE" | cksum | cut -d' ' -f1)"
        OS_RELOCATED=1
    fi
}
OS_RELOCATED=0

# As root, the node runs as $OPENSEARCH_USER.
need_user_switch() { [ "$(id -u)" = "0" ]; }
ensure_user() {
    need_user_switch || return 0
    if ! id -u "$OPENSEARCH_USER" >/dev/null 2>&1; then
        need_cmd useradd "apt-get install passwd"
        log "running as root: creating system user '$OPENSEARCH_USER' to run OpenSearch (it refuses root)"
        useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
            --user-group "$OPENSEARCH_USER" 2>/dev/null ||
            useradd --system --no-create-home --shell /usr/sbin/nologin "$OPENSEARCH_USER" ||
            die "could not create user $OPENSEARCH_USER (useradd failed)"
    fi
}
# as_node_user CMD...: as root, run CMD as $OPENSEARCH_USER; otherwise as is.
as_node_user() {
    if need_user_switch; then
        if command -v setpriv >/dev/null 2>&1; then
            setpriv --reuid="$OPENSEARCH_USER" --regid="$(id -g "$OPENSEARCH_USER")" --init-groups -- "$@"
        elif command -v runuser >/dev/null 2>&1; then
            runuser -u "$OPENSEARCH_USER" -- "$@"
        else
            die "setpriv/runuser not found: apt-get install util-linux"
        fi
    else
        "$@"
    fi
}

healthy() {
    curl -fsS -m 5 "$OS_URL/_cluster/health?wait_for_status=yellow&timeout=3s" 2>/dev/null |
        grep -Eq '"status":"(green|yellow)"'
}

cmd_status() {
    local pid
    if ! pid="$(pid_alive "$OPID" "$OMARK")"; then
        echo "opensearch: not running"
        return 1
    fi
    if healthy; then
        echo "opensearch: running (pid $pid) on $OS_URL, health yellow or green; log: $OLOG"
        return 0
    fi
    echo "opensearch: process $pid is alive but $OS_URL is not healthy; log: $OLOG"
    return 1
}

cmd_start() {
    local pid java jhome t0
    need_cmd curl "apt-get install curl"
    need_cmd setsid "apt-get install util-linux"
    mkdir -p "$ORUN"
    exec 9>"$ORUN/.lock"
    flock -w 300 9 || die "another scripts/opensearch.sh start is running (lock $ORUN/.lock)"

    if pid="$(pid_alive "$OPID" "$OMARK")"; then
        if healthy; then
            log "already running (pid $pid) on $OS_URL"
            return 0
        fi
        log "process $pid is alive but not healthy yet; waiting"
    else
        rm -f "$OPID"
        if port_open "$OS_HOST" "$OPENSEARCH_PORT"; then
            die "port $OPENSEARCH_PORT is already in use by another process (not ours); set OPENSEARCH_PORT"
        fi
        if port_open "$OS_HOST" "$OPENSEARCH_TRANSPORT_PORT"; then
            die "transport port $OPENSEARCH_TRANSPORT_PORT is already in use; set OPENSEARCH_TRANSPORT_PORT"
        fi
        cmd_fetch
        java="$(os_java)"
        jhome="$(java_home_of "$java")"
        if [ "$OS_RELOCATED" = 1 ]; then
            log "user $OPENSEARCH_USER cannot enter $SH_CACHE, so OpenSearch lives in $OS_BASE"
        fi
        if [ "${OPENSEARCH_KEEP_DATA:-0}" != "1" ]; then
            rm -rf "$ODATA"
        fi
        rm -rf "$ORUN/tmp" "$OCONF"
        write_configs
        if need_user_switch; then
            chown -R "$OPENSEARCH_USER:" "$ORUN"
            as_node_user test -r "$OS_HOME/lib/opensearch-$OPENSEARCH_VERSION.jar" ||
                die "user $OPENSEARCH_USER cannot read $OS_HOME; set STREAMHOST_CACHE to a place it can read"
        fi
        [ -f "$OLOG" ] && mv -f "$OLOG" "$OLOG.1"
        : >"$OLOG"
        if need_user_switch; then chown "$OPENSEARCH_USER:" "$OLOG"; fi
        t0="$(now_ms)"
        # setsid: the node outlives this shell and its terminal; fd 9 (the lock)
        # must not leak into it.  bin/opensearch ends in `exec java`, so $! is the JVM.
        (
            cd "$ORUN"
            exec 9>&-
            export OPENSEARCH_JAVA_HOME="$jhome" OPENSEARCH_PATH_CONF="$OCONF" \
                OPENSEARCH_TMPDIR="$ORUN/tmp" HOME="$ORUN" \
                OPENSEARCH_JAVA_OPTS="${OPENSEARCH_JAVA_OPTS:-}"
            unset JAVA_TOOL_OPTIONS JAVA_OPTS
            if need_user_switch; then
                setsid setpriv --reuid="$OPENSEARCH_USER" --regid="$(id -g "$OPENSEARCH_USER")" \
                    --init-groups -- "$OS_HOME/bin/opensearch" >>"$OLOG" 2>&1 </dev/null &
            else
                setsid "$OS_HOME/bin/opensearch" >>"$OLOG" 2>&1 </dev/null &
            fi
            echo $! >"$OPID"
        )
        pid="$(cat "$OPID")"
        log "started OpenSearch $OPENSEARCH_VERSION (pid $pid$(need_user_switch && echo ", user $OPENSEARCH_USER")), waiting for $OS_URL; log: $OLOG"
    fi

    t0="${t0:-$(now_ms)}"
    local deadline=$((SECONDS + OPENSEARCH_START_TIMEOUT))
    while [ "$SECONDS" -lt "$deadline" ]; do
        if ! pid_alive "$OPID" "$OMARK" >/dev/null; then
            show_log_tail "$OLOG"
            die "OpenSearch exited during startup; log: $OLOG"
        fi
        if healthy; then
            log "OpenSearch is up on $OS_URL (health yellow or green) after $(elapsed "$t0")"
            return 0
        fi
        sleep 1
    done
    show_log_tail "$OLOG"
    die "OpenSearch did not become healthy within ${OPENSEARCH_START_TIMEOUT}s (still running as pid $(cat "$OPID"); log: $OLOG)"
}

cmd_stop() {
    stop_pid "$OPID" opensearch "$OMARK" "${OPENSEARCH_STOP_TIMEOUT:-30}"
}

cmd_logs() {
    [ -f "$OLOG" ] || die "no log yet at $OLOG"
    if [ "${1:-}" = "-f" ]; then
        exec tail -n 100 -F "$OLOG"
    fi
    cat "$OLOG"
}

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'
}

main() {
    local cmd="${1:-}"
    [ $# -gt 0 ] && shift
    case "$cmd" in start | restart) ensure_user ;; esac
    resolve_os_base
    case "$cmd" in
    fetch) cmd_fetch ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    restart) cmd_stop && cmd_start ;;
    status) cmd_status ;;
    logs) cmd_logs "$@" ;;
    url) echo "$OS_URL" ;;
    -h | --help | help) usage ;;
    *)
        usage >&2
        exit 2
        ;;
    esac
}

main "$@"
