# Shared pieces of the delivery tests (sourced after common.bash): a seeded topic
# on the real broker and the analytics config around a given sink.
BOOT=${KAFKA_BOOTSTRAP:-127.0.0.1:9092}

fill_topic() { # fill_topic TOPIC EVENTS USERS SEED
cat > "$T/fill.ini" <<INI
[streamhost]
progress = off
[kafka]
bootstrap.servers = $BOOT
[source.gen]
plugin = clickgen
users = $3
clock = simulated
start_time = 1700000000000
seed = $4
max_events = $2
[sink.k]
plugin = kafka
inputs = gen
topic = $1
key.field = userid
INI
"$SH" run "$T/fill.ini"
}

analytics_ini() { # analytics_ini TOPIC GROUP HOST-KEYS SINK-SECTIONS [SOURCE-KEYS]
cat <<INI
[streamhost]
progress = off
dead_letter.topic = $1-dlq
$3
[kafka]
bootstrap.servers = $BOOT
[source.clicks]
plugin = kafka
topic = $1
group = $2
bounded = true
kafka.group.instance.id = $2-member
${5:-}
$(analytics_transforms)
$4
INI
}

file_sink() { # file_sink PATH [APPEND]
printf '[sink.out]\nplugin = file\ninputs = checkouts, counts\npath = %s\nappend = %s\n' "$1" "${2:-false}"
}

reference_set() { # reference_set TOPIC OUT: undisturbed run -> document set
analytics_ini "$1" "ref-$$-$RANDOM" "" "$(file_sink "$T/ref.jsonl")" > "$T/ref.ini"
"$SH" run "$T/ref.ini"
python3 tests/integration/docset.py "$T/ref.jsonl" > "$2"
echo "undisturbed run: $(wc -l < "$2") documents"
}

rss_watch() { # rss_watch PID OUTFILE: samples VmRSS (kB) every 200 ms while PID lives
  while kill -0 "$1" 2>/dev/null; do
    awk '/VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null >> "$2"
    sleep 0.2
  done
}
