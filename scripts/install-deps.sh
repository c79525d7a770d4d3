#!/usr/bin/env bash
# Installs the system packages swift-optimus needs, if they are missing (Debian 12).
#   libopenblas-dev  BLAS for the numerics core (required)
#   python3-numpy    only for the optional reference scripts; not installed here
# Usage: scripts/install-deps.sh
set -euo pipefail

need=()
if ! pkg-config --exists openblas 2>/dev/null && [ ! -e /usr/include/x86_64-linux-gnu/cblas.h ] \
   && [ ! -e /usr/include/cblas.h ]; then
  need+=(libopenblas-dev)
fi
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)

if [ ${#need[@]} -gt 0 ]; then
  echo "install-deps: installing ${need[*]}" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
