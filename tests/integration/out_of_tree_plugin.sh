# A plugin compiled out of tree with only `pkg-config --cflags streamhost`
# (after `make install`) loads into the installed host and runs.
source tests/integration/common.bash

make -s install PREFIX="$T/prefix" BUILD="$BUILD" >/dev/null
export PKG_CONFIG_PATH="$T/prefix/lib/pkgconfig"
cflags=$(pkg-config --cflags streamhost)
check "pkg-config points at the installed header" test -f "$T/prefix/include/streamhost/plugin.h"
# build in a directory with nothing of the project's source in reach
mkdir "$T/oot" && cp tests/out-of-tree/upper.c "$T/oot/"
(cd "$T/oot" && cc $cflags -std=c11 -Wall -Wextra -Werror -shared -fPIC -o transform-upper.so upper.c)
check "out-of-tree plugin built" test -f "$T/oot/transform-upper.so"

cat > "$T/oot.ini" <<INI
[streamhost]
progress = off
plugin.path = oot
[source.clicks]
plugin = file
path = $PWD/tests/data/worked-example.jsonl
schema.file = $PWD/conf/ClickEvent.avsc
[transform.up]
plugin = upper
inputs = clicks
field = event_type
[sink.out]
plugin = file
inputs = up
path = $T/out.jsonl
INI
unset STREAMHOST_PLUGIN_PATH
(cd "$T" && "$T/prefix/bin/streamhost" run oot.ini)
check "all 21 events came through" test "$(wc -l < "$T/out.jsonl")" -eq 21
check "the plugin upper-cased event_type" grep -q '"event_type":"ORDER_CHECKOUT"' "$T/out.jsonl"
check "installed plugins are found from the install prefix" bash -c "'$T/prefix/bin/streamhost' plugins | grep -q 'session .*$T/prefix'"

# The kit for third-party authors: `streamhost new` writes a plugin folder
# that builds and passes its tests as written with only the installed header
# and test kit (libstreamhost-kit.a, streamhost-kit.pc), then runs in the host.
SANFLAGS=
case "$BUILD" in *asan*) SANFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer" ;; esac
mkdir "$T/authors" && cd "$T/authors"
for kind in source transform sink; do
  "$T/prefix/bin/streamhost" new "$kind" "my-$kind" > "$T/new-$kind.log"
  check "streamhost new $kind my-$kind wrote its folder" test -f "my-$kind/my_$kind.c" -a -f "my-$kind/test_my_$kind.c" -a -f "my-$kind/README.md" -a -f "my-$kind/Makefile"
  check "... whose README lists its keys" grep -q '^| `' "my-$kind/README.md"
  # a sanitized build installs a sanitized kit: the author's link needs the runtime too
  make -s -C "my-$kind" test ${SANFLAGS:+CFLAGS="-O1 -g $SANFLAGS"} > "$T/make-$kind.log" 2>&1 || { cat "$T/make-$kind.log"; false; }
  check "... and make -C my-$kind test passes out of tree (kit: pkg-config streamhost-kit)" grep -q 'PASSED  \] 2 test' "$T/make-$kind.log"
done
check "a second new with the same name is refused (exit 2)" bash -c "'$T/prefix/bin/streamhost' new transform my-transform 2>/dev/null; test \$? -eq 2"
cat > "$T/authors/run.ini" <<INI
[streamhost]
progress = off
plugin.path = my-source, my-transform, my-sink
[source.nums]
plugin = my-source
count = 25
[transform.loud]
plugin = my-transform
inputs = clicks
field = event_type
[source.clicks]
plugin = file
path = $OLDPWD/tests/data/worked-example.jsonl
schema.file = $OLDPWD/conf/ClickEvent.avsc
[sink.out]
plugin = my-sink
inputs = loud, nums
path = $T/authors/out.jsonl
INI
"$T/prefix/bin/streamhost" run "$T/authors/run.ini"
check "the generated source, transform and sink ran in the installed host: 21 + 25 records" test "$(wc -l < "$T/authors/out.jsonl")" -eq 46
check "... the transform upper-cased event_type" grep -q '"event_type":"ORDER_CHECKOUT"' "$T/authors/out.jsonl"
cd "$OLDPWD"
