#!/usr/bin/env bash
# scripts/librdkafka.sh - a librdkafka newer than Debian 12's 2.0.2, from a
# registry package: the shared library that the confluent-kafka wheel on PyPI
# ships (confluent_kafka.libs/librdkafka-<hash>.so.1; built with OpenSSL, SASL
# PLAIN/SCRAM/OAUTHBEARER, zstd, lz4, snappy, all linked in; it needs only
# glibc >= 2.28).  librdkafka keeps its C ABI stable, so the host compiles
# against Debian's 2.0.2 headers (librdkafka-dev) and runs with this library.
# Why: SCRAM against Kafka >= 3.9 / 4.x needs librdkafka >= 2.6.1 (2.0.2 sends
# its client nonce twice, which Kafka rejects since its fix for CVE-2024-56128;
# librdkafka issue 4895); docs/security.md.
#
#   scripts/librdkafka.sh fetch     download and unpack once into the cache
#   scripts/librdkafka.sh path      fetch if needed, print the .so's path
#   scripts/librdkafka.sh dir       fetch if needed, print its directory
#
# Environment (optional):
#   LIBRDKAFKA_WHEEL_VERSION  confluent-kafka version (default 2.16.1 = librdkafka 2.16.0)
#   STREAMHOST_CACHE          cache root (default <repo>/.cache)
# Messages go to stderr, the path alone to stdout.  Exit 1 with one line
# saying why when it cannot be had.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

WHEEL_VERSION="${LIBRDKAFKA_WHEEL_VERSION:-2.16.1}"
# sha256 of the wheel this script was written against (checked when the
# version and platform are these; pip checks every download against PyPI's
# index as well).
PINNED_VERSION="2.16.1"
PINNED_SHA256_x86_64="24f613cc81a856b6fbb2d7d11044a9aa770044eecc1f83ff84618688b056be06"

arch="$(uname -m)"
case "$arch" in
x86_64 | aarch64) ;;
*) die "no confluent-kafka wheel for $arch: build with RDKAFKA=system" ;;
esac
# One wheel, whatever the local Python: the library inside is the same in
# every cp3xx wheel of a release.
PLATFORM="manylinux_2_28_$arch"
DEST="$SH_CACHE/librdkafka/$WHEEL_VERSION-$arch"

find_so() { find "$DEST/lib" -maxdepth 1 -name 'librdkafka*.so*' -type f 2>/dev/null | head -n 1; }

cmd_fetch() {
    if [ -f "$DEST/.complete" ] && [ -n "$(find_so)" ]; then
        return 0
    fi
    local py stage whl sum want
    py="$(command -v python3 || true)"
    [ -n "$py" ] || die "python3 not found (apt-get install python3 python3-pip), or build with RDKAFKA=system"
    "$py" -m pip --version >/dev/null 2>&1 ||
        die "python3 has no pip (apt-get install python3-pip), or build with RDKAFKA=system"
    need_cmd unzip "apt-get install unzip"
    mkdir -p "$SH_CACHE/librdkafka"
    rm -rf "$SH_CACHE/librdkafka/.stage-"*
    stage="$SH_CACHE/librdkafka/.stage-$WHEEL_VERSION.$$"
    mkdir -p "$stage"
    log "fetching librdkafka from the confluent-kafka $WHEEL_VERSION wheel ($PLATFORM, PyPI)"
    if ! "$py" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
        --platform "$PLATFORM" --python-version 3.11 --implementation cp --abi cp311 \
        -d "$stage" "confluent-kafka==$WHEEL_VERSION" >"$stage/pip.log" 2>&1; then
        show_log_tail "$stage/pip.log"
        die "pip could not download confluent-kafka==$WHEEL_VERSION (log above); or build with RDKAFKA=system"
    fi
    whl="$(find "$stage" -maxdepth 1 -name 'confluent_kafka-*.whl' | head -n 1)"
    [ -n "$whl" ] || die "pip finished but left no confluent_kafka wheel in $stage"
    if [ "$WHEEL_VERSION" = "$PINNED_VERSION" ] && [ "$arch" = x86_64 ]; then
        sum="$(sha256sum "$whl" | cut -d' ' -f1)"
        want="$PINNED_SHA256_x86_64"
        [ "$sum" = "$want" ] || die "$(basename "$whl"): sha256 $sum, expected $want"
    fi
    unzip -q -o "$whl" 'confluent_kafka.libs/librdkafka*' -d "$stage/x" ||
        die "$(basename "$whl") holds no confluent_kafka.libs/librdkafka*"
    rm -rf "$DEST"
    mkdir -p "$DEST/lib"
    mv "$stage"/x/confluent_kafka.libs/librdkafka* "$DEST/lib/"
    rm -rf "$stage"
    touch "$DEST/.complete"
    log "librdkafka from confluent-kafka $WHEEL_VERSION: $(find_so)"
}

main() {
    case "${1:-}" in
    fetch) cmd_fetch ;;
    path) cmd_fetch && find_so ;;
    dir) cmd_fetch && echo "$DEST/lib" ;;
    *)
        sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2
        exit 2
        ;;
    esac
}
main "$@"
