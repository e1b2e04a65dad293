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
same_sorted() { # same_sorted FILE1 FILE2: equal as sets of lines
  diff <(sort "$1") <(sort "$2")
}
