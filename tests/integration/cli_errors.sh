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
