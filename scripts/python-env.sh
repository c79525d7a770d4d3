#!/usr/bin/env bash
# The project-local Python environment for the Python tests and helper scripts: creates `.venv` (gitignored) from the
# system's python3 with the packages of python/requirements-test.txt, once, and again when that file changes; installs
# python3, python3-venv and python3-pip with apt when they are missing (Debian 12). Prints the environment's python.
# Usage: PY=$(scripts/python-env.sh)      (PYTHON=/path/to/python3 to build it from another interpreter)
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv
requirements=python/requirements-test.txt
base=${PYTHON:-python3}
want=$(sha256sum "$requirements" | cut -d' ' -f1)

apt_install() {
  echo "python-env: installing $* with apt" >&2
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq && $sudo apt-get install -y -qq "$@" >/dev/null
}

if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.requirements-sha256" 2>/dev/null)" != "$want" ]; then
  command -v "$base" >/dev/null 2>&1 || { apt_install python3; base=python3; }
  rm -rf "$venv"
  if ! "$base" -m venv "$venv" >/dev/null 2>&1; then
    # Debian ships venv's ensurepip (and pip) separately.
    rm -rf "$venv"
    apt_install python3-venv python3-pip
    "$base" -m venv "$venv"
  fi
  echo "python-env: installing $(grep -v '^#' "$requirements" | tr '\n' ' ')into $venv" >&2
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements" >&2
  echo "$want" > "$venv/.requirements-sha256"
fi
echo "$PWD/$venv/bin/python"
