# Helpers for integration tests (sourced).  Each test runs from the repo root
# with $BUILD set; it prints "CHECK ..." lines saying what it compared.
set -euo pipefail
BUILD="${BUILD:-build}"
SH="$BUILD/streamhost"
T=$(mktemp -d "${TMPDIR:-/tmp}/streamhost-itest.XXXXXX")
trap '[ -n "${KEEP_TMP:-}" ] && echo "kept $T" || rm -rf "$T"' EXIT
export STREAMHOST_PLUGIN_PATH="$BUILD/plugins"

check() { # check "what" command...: runs it, prints CHECK ok/FAILED
  local what=$1; shift
  if "$@"; then echo "CHECK ok: $what"; else echo "CHECK FAILED: $what"; exit 1; fi
}
# analytics_transforms: the three transforms of conf/clickstream.ini (sessions,
# checkouts, counts) with their keys spelled out, for a test's own config whose
# source section is [source.clicks]; use as $(analytics_transforms) in a heredoc
analytics_transforms() {
  cat <<'INI'
[transform.sessions]
plugin = session
inputs = clicks
key = userid
gap = 1s
[transform.checkouts]
plugin = filter
inputs = sessions
where = orderCheckoutEventCount != 0
[transform.counts]
plugin = tumble
inputs = sessions
size = 10s
INI
}
same_sorted() { # same_sorted FILE1 FILE2: equal as sets of lines
  diff <(sort "$1") <(sort "$2")
}
