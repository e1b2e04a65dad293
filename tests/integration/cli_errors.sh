# `streamhost check` reports every config mistake as FILE:LINE and exits 2;
# bogus plugin files are refused with exit 2 and one clear line.
source tests/integration/common.bash

cat > "$T/bad.ini" <<'INI'
[streamhost]
commit.interval = soon
[source.clicks]
plugin = file
pathh = x.jsonl
[transform.sessions]
plugin = session
inputs = clicks, nowhere
gap = 1 second
[sink.out]
plugin = file
inputs = sessions
INI
set +e
out=$("$SH" check "$T/bad.ini" 2>&1); rc=$?
set -e
echo "$out"
check "exit code 2 on config errors" test $rc -eq 2
check "bad duration at line 2" grep -q "bad.ini:2: commit.interval: 'soon' is not a duration" <<<"$out"
check "unknown key with hint at line 5" grep -q "bad.ini:5: unknown key 'pathh' in \[source.clicks\] (did you mean 'path'" <<<"$out"
check "missing required key" grep -q "bad.ini:3: \[source.clicks\] is missing required key 'path'" <<<"$out"
check "unknown input at line 8" grep -q "bad.ini:8: .*input 'nowhere' names no component" <<<"$out"
check "bad duration value at line 9" grep -q "bad.ini:9: gap: '1 second' is not a duration" <<<"$out"

# a required key left empty (here by an empty ${TOPIC}): one line at check
# and at run, exit 2 (run crashed on it before)
cat > "$T/empty.ini" <<'INI'
[source.clicks]
plugin = kafka
topic = ${EMPTY_TOPIC}
[sink.out]
plugin = file
inputs = clicks
INI
for cmd in check run; do
  set +e; out=$(EMPTY_TOPIC= "$SH" $cmd "$T/empty.ini" 2>&1); rc=$?; set -e
  echo "$out"
  check "$cmd: a required key left empty: exit 2" test $rc -eq 2
  check "$cmd: one line naming the place and the key" grep -q "empty.ini:3: \[source.clicks\] topic is empty, but required" <<<"$out"
done

printf 'not an ELF file\n' > "$T/bogus.so"
cat > "$T/bogus.ini" <<INI
[source.a]
plugin = $T/bogus.so
[sink.b]
plugin = file
inputs = a
INI
set +e
out=$("$SH" check "$T/bogus.ini" 2>&1); rc=$?
set -e
echo "$out"
check "bogus .so refused with exit 2" test $rc -eq 2
check "dlopen error named" grep -q "bogus.ini:2: .*bogus.so: cannot load plugin:" <<<"$out"

set +e
"$SH" run "$T/nonexistent.ini" 2>"$T/err"; rc=$?
"$SH" frobnicate 2>/dev/null; rc2=$?
set -e
check "missing config file: exit 2" test $rc -eq 2
check "unknown command: exit 2" test $rc2 -eq 2
check "--version" "$SH" --version
check "plugins lists every shipped plugin" bash -c "'$SH' plugins | grep -c -E '^(clickgen|file|session|tumble|filter|opensearch|kafka) ' | grep -q 9"
for p in source.clickgen source.file transform.session transform.tumble transform.filter sink.file sink.opensearch source.kafka sink.kafka; do
  check "describe $p" bash -c "'$SH' plugins describe $p | grep -q KEY"
done

# --- issue 11: `check` refuses every value `run` refuses (exit 2, FILE:LINE) --
cat > "$T/values.ini" <<INI
[streamhost]
metrics.port = 70000
metrics.address = not-an-ip
[source.clicks]
plugin = clickgen
users = 0
[transform.sessions]
plugin = session
inputs = clicks
gap = 0
[transform.checkouts]
plugin = filter
inputs = sessions
where = eventCount ~ 1
[transform.counts]
plugin = tumble
inputs = sessions
size = 0
[sink.out]
plugin = file
inputs = checkouts, counts
path = $T/no-such-dir/out.jsonl
INI
for cmd in check run; do
  set +e
  out=$(timeout 20 "$SH" $cmd "$T/values.ini" 2>&1); rc=$?
  set -e
  echo "$out"
  check "$cmd: bad values are a config error (exit 2)" test $rc -eq 2
  check "$cmd: metrics.port out of range at line 2" grep -q "values.ini:2: metrics.port: 70000 is not a port" <<<"$out"
  check "$cmd: metrics.address at line 3" grep -q "values.ini:3: metrics.address: 'not-an-ip' is not an IPv4 address" <<<"$out"
  check "$cmd: clickgen users at line 6" grep -q "values.ini:6: users: must be between 1 and 10000000" <<<"$out"
  check "$cmd: session gap at line 10" grep -q "values.ini:10: gap must be at least 1ms" <<<"$out"
  check "$cmd: filter where at line 14" grep -q "values.ini:14: where = 'eventCount ~ 1': expected an operator" <<<"$out"
  check "$cmd: tumble size at line 18" grep -q "values.ini:18: size must be at least 1ms" <<<"$out"
  check "$cmd: sink path at line 22" grep -q "values.ini:22: path: the directory '.*no-such-dir' of .* does not exist" <<<"$out"
  check "$cmd: one line per problem" grep -q "^7 problems in" <<<"$out"
  check "$cmd: nothing started" bash -c "! grep -q 'pipeline running' <<<\"\$1\"" _ "$out"
done
printf '[streamhost]\nmetrics.port = -1\n' > "$T/port.ini"
set +e; out=$("$SH" check "$T/port.ini" 2>&1); rc=$?; set -e
check "metrics.port = -1 refused (was: metrics silently off)" grep -q "port.ini:2: metrics.port: -1 is not a port; use 1 to 65535, or 0 for no metrics endpoint" <<<"$out"

# --- a section repeated 10,000 times: one line per repeat, quickly ----------
for i in $(seq 10000); do printf '[sink.out]\nplugin = file\n'; done > "$T/dups.ini"
set +e; timeout 20 "$SH" check "$T/dups.ini" >"$T/dups.out" 2>&1; rc=$?; set -e
check "10,000 repeated sections: exit 2 within 20 s" test $rc -eq 2
check "10,000 repeated sections: 9,999 duplicate lines" test "$(grep -c 'duplicate section \[sink.out\] (first at line 1)' "$T/dups.out")" -eq 9999

# --- files that are not configs end at once, with one line -------------------
set +e; out=$(timeout 10 "$SH" check /dev/zero 2>&1); rc=$?; set -e
echo "$out"
check "check /dev/zero: exit 2 at once" test $rc -eq 2
check "check /dev/zero: one line" test "$(wc -l <<<"$out")" -eq 1
check "check /dev/zero: says why" grep -q "/dev/zero: cannot read config: it is a character device, not a file" <<<"$out"
head -c 1100000 /dev/zero | tr '\0' ';' > "$T/huge.ini"
set +e; out=$("$SH" check "$T/huge.ini" 2>&1); rc=$?; set -e
check "a config over 1 MiB is refused" bash -c "[ $rc -eq 2 ] && grep -q 'larger than 1048576 bytes' <<<\"\$1\"" _ "$out"
set +e; out=$("$SH" check <(printf '[source.c]\nplugin = clickgen\n[sink.o]\nplugin = file\ninputs = c\n') 2>&1); rc=$?; set -e
check "a config from a pipe is read" bash -c "[ $rc -eq 0 ] && grep -q ': ok (2 components)' <<<\"\$1\"" _ "$out"

# --- syntax slips: one clear line each, no follow-on errors ----------------
cat > "$T/syntax.ini" <<'INI'
[source.clicks]
plugin = clickgen
    max_events = 10
[sink.out
plugin = file
inputs = clicks
path = "-"     ; stdout
INI
set +e; out=$("$SH" check "$T/syntax.ini" 2>&1); rc=$?; set -e
echo "$out"
check "unclosed [: exit 2" test $rc -eq 2
check "unclosed [: one line naming the fix" grep -q "syntax.ini:4: unclosed '\[' in a section header: write \[sink.out\]" <<<"$out"
check "indented key and unclosed [: nothing else" grep -q "^1 problem in" <<<"$out"

# --- an unset variable: one line, not two ----------------------------------
unset SH_NOT_SET || true
printf '[source.c]\nplugin = clickgen\nusers = ${SH_NOT_SET}\n[sink.o]\nplugin = ${SH_NOT_SET}\ninputs = c\n' > "$T/unset.ini"
set +e; out=$("$SH" check "$T/unset.ini" 2>&1); rc=$?; set -e
echo "$out"
check "unset variables: one line each" bash -c "[ $rc -eq 2 ] && grep -q '^2 problems in' <<<\"\$1\"" _ "$out"

# --- a newline in an environment value cannot forge a line ------------------
printf '[source.c]\nplugin = clickgen\nthink_min = ${SH_FORGE}\n[sink.o]\nplugin = file\ninputs = c\n' > "$T/forge.ini"
set +e; out=$(SH_FORGE=$'1s\n2026-01-01T00:00:00.000Z INFO  all good' "$SH" check "$T/forge.ini" 2>&1); set -e
echo "$out"
check "control characters in messages are escaped" grep -q "think_min: '1s\\\\n2026-01-01T00:00:00.000Z INFO  all good' is not a duration" <<<"$out"
check "no forged line" bash -c "! grep -q '^2026-01-01T00:00:00.000Z INFO' <<<\"\$1\"" _ "$out"
