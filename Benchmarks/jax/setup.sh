#!/usr/bin/env bash
# The Python environment of the JAX/XLA reference (benchmark only, never a dependency of the package or its tests):
# creates Benchmarks/jax/.venv (gitignored) from the system's python3 with the pinned packages of requirements.txt
# (jax, jaxlib, numpy, safetensors; CPU wheels from PyPI), once, and again when that file changes. Where `python3 -m
# venv` fails for want of Debian's python3-venv, installs it with apt (as scripts/python-env.sh does).
# Prints the environment's python on standard output; messages go to standard error. Exits non-zero when the
# environment cannot be made (no python3, no network to PyPI, ...), saying why.
# Usage: PY=$(Benchmarks/jax/setup.sh)      (PYTHON=/path/to/python3 to build it from another interpreter)
set -euo pipefail
cd "$(dirname "$0")"
venv=.venv
requirements=requirements.txt
base=${PYTHON:-python3}
want=$(sha256sum "$requirements" | cut -d' ' -f1)

fail() { echo "jax/setup.sh: $*" >&2; rm -rf "$venv"; exit 1; }

if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.requirements-sha256" 2>/dev/null)" != "$want" ]; then
  command -v "$base" >/dev/null 2>&1 || fail "no '$base' on PATH (set PYTHON=/path/to/python3)"
  rm -rf "$venv"
  if ! "$base" -m venv "$venv" >/dev/null 2>&1; then
    rm -rf "$venv"
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
      echo "jax/setup.sh: '$base -m venv' failed; installing python3-venv with apt" >&2
      DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 && \
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv python3-pip >/dev/null || \
        fail "apt-get install python3-venv failed"
      "$base" -m venv "$venv" >/dev/null 2>&1 || fail "'$base -m venv $venv' failed even with python3-venv"
    else
      fail "'$base -m venv' failed (Debian: apt-get install python3-venv)"
    fi
  fi
  echo "jax/setup.sh: installing $(grep -v '^#' "$requirements" | tr '\n' ' ')into Benchmarks/jax/$venv" >&2
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements" >&2 || \
    fail "pip install -r $requirements failed (is PyPI reachable? is there a jaxlib wheel for $("$base" -V 2>&1)?)"
  echo "$want" > "$venv/.requirements-sha256"
fi
echo "$PWD/$venv/bin/python"
