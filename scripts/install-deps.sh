#!/usr/bin/env bash
# Installs what streamhost needs to build, test and run its local stack on
# Debian 12 (as root it needs no sudo; otherwise it uses sudo).  Safe to run
# again.  `make` runs it by itself when something is missing
# (scripts/ensure-deps.sh).
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-deps.sh: not root and no sudo: run it as root" >&2; exit 1; }
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
PKGS=(
  build-essential pkg-config git ca-certificates curl unzip util-linux python3 python3-venv python3-pip procps
  librdkafka-dev libavro-dev libcurl4-openssl-dev libcmocka-dev
  libjansson-dev libmicrohttpd-dev zlib1g-dev libssl-dev
  clang libclang-rt-14-dev valgrind    # fuzzing (clang + its libFuzzer/ASan runtime) and leak checks
  openjdk-17-jdk-headless maven        # the local Kafka and OpenSearch (fetched from Maven Central)
  chromium fonts-dejavu-core           # the dashboard's browser test (tests/integration/dashboard_browser.sh)
)
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${PKGS[@]}"
echo "streamhost dependencies installed"
