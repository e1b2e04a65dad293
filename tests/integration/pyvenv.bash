# shellcheck shell=bash
# pyvenv NAME REQUIREMENT... : prints the python of a virtualenv under the
# cache dir (.cache/venv/NAME, or $STREAMHOST_CACHE/venv/NAME) holding the
# given PyPI packages ("name==version"), created with `python3 -m venv` and
# pip on first use and again whenever the requirements change.  Sourced by
# tests that check with Python oracles (prometheus_client, PyYAML).
pyvenv() {
  local name=$1; shift
  local root="${STREAMHOST_CACHE:-.cache}"
  local dir="$root/venv/$name" want
  want=$(printf '%s\n' "$@")
  if [ ! -x "$dir/bin/python" ] || [ "$(cat "$dir/.requirements" 2>/dev/null)" != "$want" ]; then
    rm -rf "$dir"
    mkdir -p "$root/venv"
    python3 -m venv "$dir" >&2 ||
      { echo "pyvenv: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2; return 1; }
    "$dir/bin/pip" install --quiet --disable-pip-version-check "$@" >&2 ||
      { echo "pyvenv: pip install $* failed (PyPI reachable?)" >&2; rm -rf "$dir"; return 1; }
    printf '%s\n' "$want" > "$dir/.requirements"
  fi
  printf '%s\n' "$dir/bin/python"
}
