# shellcheck shell=bash
# scripts/lib.sh - helpers shared by scripts/kafka.sh and scripts/opensearch.sh.
# Sourced, never run.  Callers run under `set -euo pipefail`.

SH_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SH_ROOT="$(cd "$SH_LIB_DIR/.." && pwd)"
# Everything downloaded or written at run time lives under the cache dir
# (git-ignored).  STREAMHOST_CACHE moves it elsewhere.
SH_CACHE="${STREAMHOST_CACHE:-$SH_ROOT/.cache}"
case "$SH_CACHE" in /*) ;; *) SH_CACHE="$PWD/$SH_CACHE" ;; esac
# shellcheck disable=SC2034 # used by the scripts that source this file
SH_RUN="$SH_CACHE/run"

sh_prog="$(basename "$0" .sh)"

log() { printf '%s: %s\n' "$sh_prog" "$*" >&2; }
die() { printf '%s: error: %s\n' "$sh_prog" "$*" >&2; exit 1; }

need_cmd() { # need_cmd CMD "install hint"
    command -v "$1" >/dev/null 2>&1 || die "$1 not found: $2"
}

now_ms() { date +%s%3N; }
elapsed() { # elapsed START_MS -> "12.3s"
    local d=$(( $(now_ms) - $1 ))
    printf '%d.%ds' $((d / 1000)) $(((d % 1000) / 100))
}

# java_major JAVA_BIN -> prints the feature version (17, 21, 25, ...)
java_major() {
    local v
    v="$("$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p' | head -n1)"
    v="${v#1.}"
    printf '%s\n' "${v%%.*}"
}

# find_java MIN MAX [PREFERRED_JAVA_HOME...] -> prints a java binary whose major
# version is in [MIN, MAX].  Looks at the given homes, then JAVA_HOME, then
# `java` on PATH, then the JDKs under /usr/lib/jvm.
find_java() {
    local min="$1" max="$2" cand major
    shift 2
    local -a cands=()
    for h in "$@"; do [ -n "$h" ] && cands+=("$h/bin/java"); done
    [ -n "${JAVA_HOME:-}" ] && cands+=("$JAVA_HOME/bin/java")
    command -v java >/dev/null 2>&1 && cands+=("$(command -v java)")
    for h in /usr/lib/jvm/*17* /usr/lib/jvm/*21* /usr/lib/jvm/*; do
        [ -x "$h/bin/java" ] && cands+=("$h/bin/java")
    done
    for cand in "${cands[@]}"; do
        [ -x "$cand" ] || continue
        major="$(java_major "$cand" 2>/dev/null || true)"
        case "$major" in '' | *[!0-9]*) continue ;; esac
        if [ "$major" -ge "$min" ] && [ "$major" -le "$max" ]; then
            printf '%s\n' "$cand"
            return 0
        fi
    done
    return 1
}

# java_home_of JAVA_BIN -> its JAVA_HOME (resolving symlinks such as /usr/bin/java)
java_home_of() {
    local real
    real="$(readlink -f "$1")"
    dirname "$(dirname "$real")"
}

# port_open HOST PORT: true if something accepts TCP connections there.
port_open() {
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# pid_alive PIDFILE [MARKER]: true (and prints the pid) if the pid file names
# a live process whose command line contains MARKER (guards against a pid
# reused by an unrelated process).  A zombie counts as dead.
pid_alive() {
    local pid state
    [ -f "$1" ] || return 1
    pid="$(cat "$1" 2>/dev/null || true)"
    case "$pid" in '' | *[!0-9]*) return 1 ;; esac
    [ -d "/proc/$pid" ] || kill -0 "$pid" 2>/dev/null || return 1
    state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)"
    [ "$state" = "Z" ] && return 1
    if [ -n "${2:-}" ] && [ -r "/proc/$pid/cmdline" ]; then
        # an empty command line is a process in the middle of an exec (a start
        # script handing over to the JVM): alive, the marker is checked next time
        local cmd
        cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
        [ -z "$cmd" ] || grep -qF -- "$2" <<<"$cmd" || return 1
    fi
    printf '%s\n' "$pid"
}

# stop_pid PIDFILE NAME MARKER [GRACE_SECONDS]: SIGTERM, wait, then SIGKILL.
stop_pid() {
    local pidfile="$1" name="$2" marker="$3" grace="${4:-30}" pid i
    if ! pid="$(pid_alive "$pidfile" "$marker")"; then
        rm -f "$pidfile"
        log "$name is not running"
        return 0
    fi
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || die "cannot signal $name (pid $pid): not allowed? (started by another user)"
    for ((i = 0; i < grace * 10; i++)); do
        pid_alive "$pidfile" "$marker" >/dev/null || break
        sleep 0.1
    done
    if pid_alive "$pidfile" "$marker" >/dev/null; then
        log "$name did not stop within ${grace}s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            pid_alive "$pidfile" "$marker" >/dev/null || break
            sleep 0.1
        done
        pid_alive "$pidfile" "$marker" >/dev/null && die "$name (pid $pid) survived SIGKILL"
    fi
    rm -f "$pidfile"
    log "$name stopped"
}

# show_log_tail FILE [LINES]: point at a log and show its end on stderr.
show_log_tail() {
    local f="$1" n="${2:-40}"
    if [ -f "$f" ]; then
        printf '%s: ---- last %s lines of %s ----\n' "$sh_prog" "$n" "$f" >&2
        tail -n "$n" "$f" >&2 || true
        printf '%s: ---- end of %s ----\n' "$sh_prog" "$f" >&2
    else
        log "no log file at $f"
    fi
}

# mvn_copy_deps WORKDIR OUTDIR DEPENDENCY_XML...: writes a throwaway pom
# listing the given <dependency> elements into WORKDIR and copies them with
# their runtime dependencies into OUTDIR.
mvn_copy_deps() {
    local work="$1" out="$2"
    shift 2
    need_cmd mvn "apt-get install maven"
    mkdir -p "$work"
    {
        cat <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<!-- generated by scripts/lib.sh: only used to fetch jars -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.streamhost</groupId>
  <artifactId>fetch</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
EOF
        printf '    %s\n' "$@"
        cat <<'EOF'
  </dependencies>
</project>
EOF
    } >"$work/pom.xml"
    if ! mvn -B -q -f "$work/pom.xml" \
        org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$out" >"$work/mvn.log" 2>&1; then
        show_log_tail "$work/mvn.log" 30
        die "mvn could not fetch the jars (log: $work/mvn.log)"
    fi
}

# mvn_copy_artifact WORKDIR OUTDIR G:A:V[:TYPE[:CLASSIFIER]]: copies one artifact.
mvn_copy_artifact() {
    local work="$1" out="$2" coord="$3"
    need_cmd mvn "apt-get install maven"
    mkdir -p "$work" "$out"
    if ! (cd "$work" && mvn -B -q \
        org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy \
        -Dartifact="$coord" -DoutputDirectory="$out" >"$work/mvn.log" 2>&1); then
        show_log_tail "$work/mvn.log" 30
        die "mvn could not fetch $coord (log: $work/mvn.log)"
    fi
}
