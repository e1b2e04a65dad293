# The worked example of docs/semantics.md §7 through conf/replay.ini (file
# source -> session -> filter -> tumble -> file sink) gives exactly its eight
# documents, with deterministic ids.
source tests/integration/common.bash

INPUT=tests/data/worked-example.jsonl OUTPUT="$T/out.jsonl" DEAD_LETTERS="$T/dead.jsonl" "$SH" run conf/replay.ini
cat "$T/out.jsonl"
check "8 documents" test "$(wc -l < "$T/out.jsonl")" -eq 8
check "documents equal docs/semantics.md §7 (ids included)" same_sorted "$T/out.jsonl" tests/data/worked-example.expected.jsonl
check "no dead letters" test ! -e "$T/dead.jsonl"
# stdout by default
INPUT=tests/data/worked-example.jsonl DEAD_LETTERS="$T/dead.jsonl" "$SH" run conf/replay.ini > "$T/stdout.jsonl"
check "stdout output identical" same_sorted "$T/stdout.jsonl" tests/data/worked-example.expected.jsonl
# a malformed line is reported, dead-lettered and skipped; the rest is unchanged
{ head -5 tests/data/worked-example.jsonl; echo '{"ip": 12, broken'; tail -n +6 tests/data/worked-example.jsonl; } > "$T/with-bad.jsonl"
INPUT="$T/with-bad.jsonl" OUTPUT="$T/out2.jsonl" DEAD_LETTERS="$T/dead.jsonl" "$SH" run conf/replay.ini 2> "$T/err"
cat "$T/err"
check "malformed line reported as FILE:LINE" grep -q "with-bad.jsonl:6:" "$T/err"
check "malformed line dead-lettered" test "$(wc -l < "$T/dead.jsonl")" -eq 1
check "documents unchanged" same_sorted "$T/out2.jsonl" tests/data/worked-example.expected.jsonl
