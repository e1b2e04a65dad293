# The file source takes part in the delivery protocol (plugin.h: positions,
# commit): with state.file it commits the line to resume from, with the
# transforms' replay fences, once what came before is delivered.  Here:
# 150,000 seeded events replayed from a JSON-lines file, the process killed
# with SIGKILL at three points and restarted; at the end, the documents
# (last write per id, as an upsert store sees them) equal those of an
# undisturbed run, the restarts resumed mid-file instead of from line 1,
# and a finished run started again reads nothing.  A state file of another
# file, or past the end of a truncated one, is refused with one line.
source tests/integration/common.bash
EVENTS=${RESUME_EVENTS:-150000}
# the events: clickgen on the simulated clock -> JSON lines (the _source of each line)
cat > "$T/gen.ini" <<INI
[streamhost]
progress = off
[source.generator]
plugin = clickgen
users = 100
seed = 17
clock = simulated
start_time = 1700000000000
rate = 0
max_events = $EVENTS
[sink.events]
plugin = file
inputs = generator
path = -
INI
"$SH" run "$T/gen.ini" 2>"$T/gen.log" |
  sed -e 's/^{"_index":"[^"]*",\("_id":"[^"]*",\)\{0,1\}"_source"://' -e 's/}$//' > "$T/events.jsonl"
check "$EVENTS events written" test "$(wc -l < "$T/events.jsonl")" -eq "$EVENTS"

replay_ini() { # replay_ini OUT STATE EXTRA-STREAMHOST-LINES
  cat <<INI
[streamhost]
progress = off
dead_letter.file = $T/dead.jsonl
$3
[source.clicks]
plugin = file
path = $T/events.jsonl
schema.file = conf/ClickEvent.avsc
${2:+state.file = $2}
$(analytics_transforms)
[sink.out]
plugin = file
inputs = checkouts, counts
path = $1
append = true
fsync = true
flush.interval = 100ms
INI
}
replay_ini "$T/ref.jsonl" "" "" > "$T/ref.ini"
"$SH" run "$T/ref.ini" 2>"$T/ref.log"
python3 tests/integration/docset.py "$T/ref.jsonl" > "$T/ref.set"
check "undisturbed run: $(wc -l < "$T/ref.set") documents" test "$(wc -l < "$T/ref.set")" -gt 100

STATE="$T/clicks.position"
replay_ini "$T/crash.jsonl" "$STATE" "rate.limit = 15000
commit.interval = 200ms" > "$T/crash.ini"
committed_line() { sed -n 's/^line //p' "$STATE" 2>/dev/null || echo 0; }
kills=0
for i in 1 2 3; do
  before=$(committed_line); before=${before:-0}
  "$SH" run "$T/crash.ini" 2>>"$T/crash.log" &
  pid=$!
  # SIGKILL once this run has committed some progress of its own (a few
  # thousand lines past where it started, a random amount), or after 20 s
  want=$((before + 2000 + RANDOM % 6000))
  for _ in $(seq 200); do
    now=$(committed_line); [ "${now:-0}" -ge "$want" ] && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 $pid 2>/dev/null; then kill -KILL $pid; kills=$((kills+1)); fi
  wait $pid 2>/dev/null || true
done
"$SH" run "$T/crash.ini" 2>>"$T/crash.log"
python3 tests/integration/docset.py "$T/crash.jsonl" > "$T/crash.set"
resumed=$(grep -c "resuming .* at line [1-9][0-9]" "$T/crash.log" || true)
grep -h "resuming .* at line" "$T/crash.log" | head -4 || true
check "$kills SIGKILLs mid-file" test "$kills" -ge 2
check "restarts resumed from the committed line, not line 1 ($resumed of them)" test "$resumed" -ge 2
check "after the crashes: last write per id equals the undisturbed run" diff "$T/ref.set" "$T/crash.set"
check "no dead letters" test ! -s "$T/dead.jsonl"
last=$(sed -n 's/^line //p' "$STATE")
check "the state file ends at the line after the last ($last)" test "$last" -eq $((EVENTS + 1))

# a finished run started again: nothing to read, nothing written
before=$(wc -l < "$T/crash.jsonl")
"$SH" run "$T/crash.ini" 2>"$T/again.log"
check "a finished run started again writes nothing" test "$(wc -l < "$T/crash.jsonl")" -eq "$before"
check "... and says where it resumed" grep -q "resuming .* at line $((EVENTS + 1))" "$T/again.log"

# refusals: a state file of another file, one past the end of the input
cp "$T/events.jsonl" "$T/other.jsonl"
sed "s|path = $T/events.jsonl|path = $T/other.jsonl|" "$T/crash.ini" > "$T/other.ini"
set +e
out=$("$SH" run "$T/other.ini" 2>&1); rc=$?
set -e
echo "$out" | grep 'state.file' | head -2 || true
check "a state file of another file is refused (exit $rc)" test "$rc" -ne 0
check "... in one line naming the key and the fix" grep -q "other.ini:[0-9]*: state.file: .* holds the position of another file than .*other.jsonl.*delete it" <<<"$out"
head -n 1000 "$T/events.jsonl" > "$T/short.jsonl"
mv "$T/short.jsonl" "$T/events.jsonl.new" && cat "$T/events.jsonl.new" > "$T/events.jsonl" # same inode, truncated
set +e
out=$("$SH" run "$T/crash.ini" 2>&1); rc=$?
set -e
check "a position past the end of a truncated input is refused (exit $rc)" test "$rc" -ne 0
check "... naming the line and the fix" grep -q "says to resume at line $((EVENTS + 1)), but .*events.jsonl is shorter (truncated?); delete the state file" <<<"$out"
