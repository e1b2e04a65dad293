# Until the first window closes, the progress line says what the pipeline
# waits for: with wall-clock events and the session plugin's 20 s bound, the
# watermark trails the wall clock by 20 s and the line counts down to when it
# passes the first events.  Then conf/quickstart-simulated.ini (make run
# SIMULATED=1): the generator on the simulated clock gives documents sooner
# than the 20 s bound ever could on the wall clock.
source tests/integration/common.bash

# --- the live line, wall clock ------------------------------------------------
cat > "$T/wall.ini" <<EOF
[streamhost]
progress.interval = 1s          ; stderr is not a terminal: one progress log line a second
metrics.port = 0

[source.generator]
plugin = clickgen
clock = wall
users = 200
seed = 15

[transform.sessions]
plugin = session
inputs = generator

[sink.documents]
plugin = file
inputs = sessions
path = $T/wall.jsonl
EOF
"$SH" run "$T/wall.ini" 2> "$T/wall.log" &
pid=$!
for _ in $(seq 60); do # until 3 progress lines (at most 30 s)
  [ "$(grep -c 'progress:' "$T/wall.log")" -ge 3 ] && break
  sleep 0.5
done
kill -INT $pid; wait $pid || true
grep 'progress:' "$T/wall.log" | cut -c1-220
line=$(grep 'progress:' "$T/wall.log" | grep 'to pass the first events' | tail -1 || true)
check "live line: waits for the watermark, about 20 s behind the wall clock, to pass the first events" \
  grep -Eq 'sessions: waiting for the watermark \((19|20|21)\.[0-9] s behind the wall clock\) to pass the first events: [0-9]+ s to go' <<<"$line"
togo=$(sed -E 's/.*: ([0-9]+) s to go.*/\1/' <<<"$line")
echo "countdown: $togo s to go"
check "live line: the countdown is what is left of the 20 s bound (10..21 s a few seconds in)" \
  test "$togo" -ge 10 -a "$togo" -le 21
check "live line: nothing was closed yet" sh -c "! grep -q '_index' '$T/wall.jsonl'"

# --- make run SIMULATED=1 -----------------------------------------------------
start=$(date +%s)
METRICS_PORT=0 DASHBOARD_PORT=0 OUTPUT="$T/sim.jsonl" "$SH" run conf/quickstart-simulated.ini 2> "$T/sim.log" &
pid=$!
for _ in $(seq 60); do # until a document (at most 30 s)
  grep -q '_index' "$T/sim.jsonl" 2>/dev/null && break
  sleep 0.5
done
seen=$(( $(date +%s) - start ))
kill -INT $pid; wait $pid || true
tail -n 12 "$T/sim.log"
echo "first documents after about $seen s"
check "simulated quickstart: documents" grep -q '"_index":"user_session_details"\|"_index":"user_session_counts"' "$T/sim.jsonl"
check "simulated quickstart: sooner than the wall clock allows (20 s bound + 1 s gap)" test "$seen" -lt 20
check "simulated quickstart: no dead letters (event time ahead of the wall clock is accepted)" \
  sh -c "! grep -q 'dead_letters_total' '$T/sim.log'"
