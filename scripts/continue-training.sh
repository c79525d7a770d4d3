#!/usr/bin/env bash
# Continues a ledger run in training/RUN for about MINUTES minutes of wall time on this machine's cores, from its last
# committed checkpoint, bit-identically (the run stops at a checkpoint of its own: --cpu-budget), then regenerates the
# ledger training/README.md. A new run starts when training/RUN holds only a config.json.
#
# Usage: scripts/continue-training.sh RUN [MINUTES]      (default 60; e.g. scripts/continue-training.sh optimus-small-augmented 120)
# Commit training/ afterwards: the state in it is what the next sitting continues.
set -euo pipefail
RUN=${1:?usage: scripts/continue-training.sh RUN [MINUTES]}
MINUTES=${2:-60}
DIR="training/$RUN"
[ -f "$DIR/config.json" ] || { echo "continue-training: $DIR/config.json does not exist" >&2; exit 66; }
# Bit-identical results need the same BLAS kernels on every machine (as the tests and CI use).
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-Haswell}
make -s release >/dev/null
BIN=.build/release/optimus
CORES=$(nproc)
# The budget is cumulative training CPU seconds: what the run has (from its metrics) plus MINUTES on every core.
DONE=$(python3 -c "
import json, pathlib
p = pathlib.Path('$DIR/metrics.jsonl')
rows = [json.loads(l) for l in p.read_text().splitlines() if l.strip()] if p.exists() else []
print(rows[-1].get('trainingCPUSeconds', rows[-1]['cpuSeconds']) if rows else 0)")
BUDGET=$(python3 -c "print($DONE + $MINUTES * 60 * $CORES)")
RESUME=""
[ -f "$DIR/training-state.bin" ] && RESUME="--resume"
echo "continue-training: $RUN from $DONE training CPU s to $BUDGET ($MINUTES min on $CORES cores) $RESUME" >&2
"$BIN" train --config "$DIR/config.json" --output "$DIR" $RESUME --cpu-budget "$BUDGET"
python3 scripts/training_ledger.py
