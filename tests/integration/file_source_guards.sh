# The file source against bad event times and an unwritable dead-letter
# output (issue 11 A and B), through conf/replay.ini:
# - 30,000 events with one INT64_MAX, one 10-days-ahead and one negative
#   event time: those three are bad_timestamp dead letters at their line
#   numbers, and the documents are exactly those of the file without them
#   (before, the far-future event made 20,000 later events late);
# - timestamp.max_past refuses old events; by default old replay data passes;
# - a leading UTF-8 byte-order mark is skipped;
# - a dead-letter file on a full disk (/dev/full) stops the run with exit 1,
#   one in a missing directory refuses the start (exit 1), unless
#   dead_letter.on_error = log, which counts the loss and goes on; a bad
#   dead_letter.on_error value is a config error (exit 2, FILE:LINE).
source tests/integration/common.bash

python3 - "$T" <<'PY'
import json, sys, time
t = sys.argv[1]
base = [json.loads(l) for l in open('tests/data/worked-example.jsonl')]
lines, k = [], 0
while len(lines) < 30000:  # the worked example again and again, 100 s apart
    for e in base:
        e = dict(e, eventtimestamp=e['eventtimestamp'] + k * 100000, globalseq=e['globalseq'] + k * 21)
        lines.append(json.dumps(e))
    k += 1
lines = lines[:30000]
open(f'{t}/clean.jsonl', 'w').write('\n'.join(lines) + '\n')
now = int(time.time() * 1000)
bad = lambda ts: json.dumps(dict(base[0], eventtimestamp=ts))
dirty = (lines[:9999] + [bad(2**63 - 1)] + lines[9999:19998] + [bad(now + 10 * 86400000)]
         + lines[19998:29000] + [bad(-5)] + lines[29000:])  # bad lines 10000, 20000, 29003
open(f'{t}/dirty.jsonl', 'w').write('\n'.join(dirty) + '\n')
PY

run() { # run INPUT OUTPUT DEAD [CONFIG]: conf/replay.ini (or CONFIG), stderr to $T/err
  INPUT="$1" OUTPUT="$2" DEAD_LETTERS="$3" "$SH" run "${4:-conf/replay.ini}" 2> "$T/err"
}

run "$T/clean.jsonl" "$T/clean-docs.jsonl" "$T/clean-dead.jsonl"
check "the clean file gives documents and no dead letter" test -s "$T/clean-docs.jsonl" -a ! -e "$T/clean-dead.jsonl"
run "$T/dirty.jsonl" "$T/dirty-docs.jsonl" "$T/dirty-dead.jsonl"
grep -E "WARN|ERROR|late|dead_letters" "$T/err" || true
check "far-future and negative times change no document" same_sorted "$T/dirty-docs.jsonl" "$T/clean-docs.jsonl"
check "no event was late" bash -c "! grep -q 'late_events_total' '$T/err'"
check "three dead letters" test "$(wc -l < "$T/dirty-dead.jsonl")" -eq 3
check "all three are bad_timestamp" test "$(grep -c '"reason":"bad_timestamp: line ' "$T/dirty-dead.jsonl")" -eq 3
for line in 10000 20000 29003; do
  check "dead letter at line $line: partition 0, offset = line number, line in the reason" \
    grep -q "\"reason\":\"bad_timestamp: line $line (byte [0-9]*): .*\"partition\":0,\"offset\":$line}" "$T/dirty-dead.jsonl"
done
check "INT64_MAX named in its reason" grep -q 'event time 9223372036854775807 is more than timestamp.max_future (1d) ahead' "$T/dirty-dead.jsonl"
check "negative time named in its reason" grep -q 'event time -5 is negative' "$T/dirty-dead.jsonl"
check "counted per reason" grep -q 'dead_letters_total reason="bad_timestamp" = 3' "$T/err"
check "logged as FILE:LINE" grep -q "dirty.jsonl:10000: event time 9223372036854775807" "$T/err"

# timestamp.max_past: the worked example's 1970 times are 50+ years old
sed '/^\[source.clicks\]/a timestamp.max_past = 30d' conf/replay.ini > "$T/max-past.ini"
run tests/data/worked-example.jsonl "$T/past-docs.jsonl" "$T/past-dead.jsonl" "$T/max-past.ini"
check "max_past = 30d: every 1970 event is a dead letter" test "$(grep -c 'is more than timestamp.max_past (30d) behind' "$T/past-dead.jsonl")" -eq 21
check "max_past = 30d: no document" test ! -s "$T/past-docs.jsonl"

# a UTF-8 byte-order mark before the first event
{ printf '\xef\xbb\xbf'; cat tests/data/worked-example.jsonl; } > "$T/bom.jsonl"
run "$T/bom.jsonl" "$T/bom-docs.jsonl" "$T/bom-dead.jsonl"
check "leading BOM: docs/semantics.md §7's documents, no dead letter" same_sorted "$T/bom-docs.jsonl" tests/data/worked-example.expected.jsonl
check "leading BOM: no dead-letter file" test ! -e "$T/bom-dead.jsonl"

# dead letters that cannot be written
{ head -5 tests/data/worked-example.jsonl; echo '{"ip": 12, broken'; tail -n +6 tests/data/worked-example.jsonl; } > "$T/with-bad.jsonl"
rc=0; run "$T/with-bad.jsonl" "$T/full-docs.jsonl" /dev/full || rc=$?
cat "$T/err"
check "full disk: exit 1" test "$rc" -eq 1
check "full disk: one line says why, naming the file" grep -q 'ERROR .*dead-letter file /dev/full: cannot write: No space left on device; stopping the run' "$T/err"
check "full disk: the line that was not kept is named" grep -q 'with-bad.jsonl:6: the dead-letter output did not take this line' "$T/err"

rc=0; run tests/data/worked-example.jsonl "$T/nodir-docs.jsonl" "$T/missing/dir/dead.jsonl" || rc=$?
cat "$T/err"
check "missing directory: refuses to start, exit 1" test "$rc" -eq 1
check "missing directory: one line naming the path" \
  test "$(grep -c "ERROR dead-letter file $T/missing/dir/dead.jsonl: cannot open for appending: No such file or directory" "$T/err")" -eq 1
check "missing directory: nothing ran" test ! -e "$T/nodir-docs.jsonl"

sed '/^\[streamhost\]/a dead_letter.on_error = log' conf/replay.ini > "$T/log.ini"
rc=0; run "$T/with-bad.jsonl" "$T/log-docs.jsonl" /dev/full "$T/log.ini" || rc=$?
cat "$T/err"
check "on_error = log: exit 0" test "$rc" -eq 0
check "on_error = log: the loss is logged and counted" grep -q 'host dead_letters_lost_total = 1' "$T/err"
check "on_error = log: documents as without the bad line" same_sorted "$T/log-docs.jsonl" tests/data/worked-example.expected.jsonl

sed '/^\[streamhost\]/a dead_letter.on_error = ignore' conf/replay.ini > "$T/bad-value.ini"
rc=0; INPUT=x "$SH" check "$T/bad-value.ini" 2> "$T/err" || rc=$?
cat "$T/err"
check "bad dead_letter.on_error: check exits 2" test "$rc" -eq 2
check "bad dead_letter.on_error: FILE:LINE" grep -q "bad-value.ini:10: dead_letter.on_error: 'ignore' is not fail or log" "$T/err"
