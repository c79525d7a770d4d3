#!/usr/bin/env bash
# Trains the shipped learned optimizers one after another (each resumes from its own checkpoint if present).
# Usage: scripts/train-shipped.sh [runs-folder]   (needs a release build: swift build -c release --product optimus)
set -u
RUNS=${1:-runs}
BIN=.build/release/optimus
mkdir -p "$RUNS"
for name in adafactor-mlp-functions optimus-small-lr1e-3-functions optimus-paper-functions; do
  resume=""
  [ -f "$RUNS/$name/training-state.bin" ] && resume="--resume"
  echo "== $name $(date -u +%FT%TZ) $resume" >> "$RUNS/train.log"
  "$BIN" train --config "configs/$name.json" --output "$RUNS/$name" $resume >> "$RUNS/$name.log" 2>&1
  echo "== $name exit $? $(date -u +%FT%TZ)" >> "$RUNS/train.log"
done
