#!/usr/bin/env bash
# ensure-deps.sh [PROFILE...] - checks that what a make goal needs is
# installed; when something is missing, says what and runs
# scripts/install-deps.sh (through sudo when not root), then checks again.
# Prints nothing and runs nothing when everything is there.  The Makefile
# calls it before it computes any pkg-config flags.
#
# Profiles (default: build):
#   build        $CC, pkg-config, and the libraries in $PKG_MODULES (pkg-config names)
#   unit         + cmocka
#   integration  + java, mvn, curl, unzip, python3, setsid, flock, timeout
#                  (the local Kafka and OpenSearch, the integration tests),
#                  chromium (the dashboard's browser test)
#   valgrind     + valgrind
#   fuzz         + clang
#
# Environment:
#   STREAMHOST_NO_INSTALL=1  only report: exit 1 when anything is missing, install nothing
#   PKG_MODULES              libraries to check (the Makefile passes HOST_PKGS and PLUG_PKGS)
#   CC, PKG_CONFIG           compiler and pkg-config commands (default cc, pkg-config)
#   STREAMHOST_DEPS_VERBOSE=1  also say so when everything is present
#
# Exit: 0 everything present (perhaps after installing), 1 still missing.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
PKG_CONFIG="${PKG_CONFIG:-pkg-config}"
PKG_MODULES="${PKG_MODULES:-rdkafka avro-c libcurl jansson zlib libmicrohttpd libcrypto}"
cc_cmd="${CC:-cc}"
cc_cmd="${cc_cmd%% *}" # "ccache gcc" -> ccache

profiles=("$@")
[ ${#profiles[@]} -gt 0 ] || profiles=(build)
tools=() mods=()
for p in "${profiles[@]}"; do
  case "$p" in
    build) tools+=("$cc_cmd" "$PKG_CONFIG"); read -r -a m <<<"$PKG_MODULES"; mods+=("${m[@]}") ;;
    unit) mods+=(cmocka) ;;
    integration) tools+=(java mvn curl unzip python3 setsid flock timeout chromium) ;;
    valgrind) tools+=(valgrind) ;;
    fuzz) tools+=(clang) ;;
    *) echo "ensure-deps.sh: unknown profile '$p' (build, unit, integration, valgrind, fuzz)" >&2; exit 2 ;;
  esac
done

# Sets `missing` to a human-readable list, empty when nothing is missing.
check() {
  local t m miss_tools=() miss_mods=()
  for t in "${tools[@]}"; do
    command -v "$t" >/dev/null 2>&1 || miss_tools+=("$t")
  done
  if [ ${#mods[@]} -gt 0 ]; then
    if ! command -v "$PKG_CONFIG" >/dev/null 2>&1; then
      miss_mods=("${mods[@]}") # cannot tell without pkg-config: install them all
    elif ! "$PKG_CONFIG" --exists "${mods[@]}" 2>/dev/null; then
      for m in "${mods[@]}"; do
        "$PKG_CONFIG" --exists "$m" 2>/dev/null || miss_mods+=("$m")
      done
    fi
  fi
  missing=""
  [ ${#miss_mods[@]} -eq 0 ] || missing="libraries (pkg-config) ${miss_mods[*]}"
  if [ ${#miss_tools[@]} -gt 0 ]; then
    [ -z "$missing" ] || missing+="; "
    missing+="commands ${miss_tools[*]}"
  fi
}

check
if [ -z "$missing" ]; then
  [ "${STREAMHOST_DEPS_VERBOSE:-0}" = 1 ] && echo "streamhost: dependencies present (${profiles[*]})"
  exit 0
fi
echo "streamhost: missing build dependencies: $missing"
if [ "${STREAMHOST_NO_INSTALL:-0}" = 1 ]; then
  echo "streamhost: not installing (STREAMHOST_NO_INSTALL=1); to install them: scripts/install-deps.sh"
  exit 1
fi
if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
  echo "streamhost: to install them, run as root: $here/install-deps.sh"
  exit 1
fi
echo "streamhost: installing them with scripts/install-deps.sh$([ "$(id -u)" -eq 0 ] || echo ' (through sudo)')"
"$here/install-deps.sh" || { echo "streamhost: scripts/install-deps.sh failed (see above)"; exit 1; }
check
if [ -n "$missing" ]; then
  echo "streamhost: still missing after scripts/install-deps.sh: $missing"
  exit 1
fi
exit 0
