#!/usr/bin/env bash
# Installs what streamhost needs to build, test and run its local stack on
# Debian 12 (run as root, or it uses sudo).  Safe to run again.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
PKGS=(
  build-essential pkg-config git ca-certificates curl unzip util-linux python3 procps
  librdkafka-dev libavro-dev libcurl4-openssl-dev libinih-dev libcmocka-dev
  libjansson-dev libmicrohttpd-dev zlib1g-dev libssl-dev
  clang valgrind                       # fuzzing and leak checks
  openjdk-17-jdk-headless maven        # the local Kafka and OpenSearch (fetched from Maven Central)
)
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${PKGS[@]}"
echo "streamhost dependencies installed"
