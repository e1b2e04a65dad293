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
