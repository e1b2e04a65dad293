# shellcheck shell=bash
# bench/lib.sh - measuring helpers for bench/run.sh (sourced, not run).
# Every measured command leaves NAME.out, NAME.err and NAME.time in $RUN and
# its exact command line in $RUN/commands.

say() { printf 'bench: %s\n' "$*" >&2; }

# timed NAME CMD...: runs CMD under /usr/bin/time; NAME.time holds
# "wall=S user=S sys=S maxrss_kb=K".  Returns CMD's exit status.
timed() {
    local name="$1"
    shift
    printf '%s\n' "$*" >>"$RUN/commands"
    /usr/bin/time -f 'wall=%e user=%U sys=%S maxrss_kb=%M' -o "$RUN/$name.time" \
        "$@" >"$RUN/$name.out" 2>"$RUN/$name.err"
}

# kv FILE KEY: the value of KEY=VALUE on the last line of FILE that has it.
kv() {
    grep -o "\b$2=[^ ]*" "$1" 2>/dev/null | tail -n 1 | cut -d= -f2-
}

# log_ms FILE REGEX: epoch ms of the first host log line matching REGEX
# (the host stamps each line with UTC time to the millisecond).
log_ms() {
    local ts
    ts="$(grep -m1 -E "$2" "$1" | cut -d' ' -f1)"
    [ -n "$ts" ] || return 1
    date -u -d "$ts" +%s%3N
}

# host_run_s NAME FROM_REGEX: seconds from the log line matching FROM_REGEX
# to the summary line of a streamhost run.
host_run_s() {
    local a b
    a="$(log_ms "$RUN/$1.err" "$2")" || return 1
    b="$(log_ms "$RUN/$1.err" 'INFO  summary after')" || return 1
    awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", (b - a) / 1000 }'
}

# host_out / host_in NAME INSTANCE: records out of / into an instance, from
# the summary of a streamhost run ("TS INFO   KIND NAME in N out N errors N").
host_out() { awk -v n="$2" '$4 == n && $5 == "in" { print $8 }' "$RUN/$1.err"; }
host_in() { awk -v n="$2" '$4 == n && $5 == "in" { print $6 }' "$RUN/$1.err"; }

# median: of the numbers on stdin, one per line.
median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# calc EXPR: floating-point arithmetic with awk ("%.0f" style via fmt).
calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }
fmt0() { awk -v v="$1" 'BEGIN { printf "%\047.0f", v }'; }
fmt1() { awk -v v="$1" 'BEGIN { printf "%.1f", v }'; }
fmt2() { awk -v v="$1" 'BEGIN { printf "%.2f", v }'; }
# ge A B: exit 0 iff A >= B.
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }

# row MEASUREMENT | RESULT | REFERENCE | VERDICT | NOTES: one table row.
row() { printf '| %s | %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4" "$5" >>"$RUN/rows"; }

# cpu_per_m NAME EVENTS: user+sys CPU seconds of a timed run per million events.
cpu_per_m() {
    local u s
    u="$(kv "$RUN/$1.time" user)"
    s="$(kv "$RUN/$1.time" sys)"
    awk -v u="$u" -v s="$s" -v n="$2" 'BEGIN { printf "%.2f", (u + s) * 1e6 / n }'
}
rss_mb() { awk -v k="$(kv "$RUN/$1.time" maxrss_kb)" 'BEGIN { printf "%.0f", k / 1024 }'; }
