#!/usr/bin/env bash
# The MPI equivalence check: `mpirun -np 2 optimus-mpi train` must give the same θ (and the same training state,
# byte for byte) as the single-process `optimus train` with the same configuration. Installs OpenMPI if missing.
# Usage: scripts/mpi-check.sh   (run from the repository root; builds both in release)
set -euo pipefail
if ! command -v mpirun >/dev/null 2>&1 || ! pkg-config --exists ompi-c 2>/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq libopenmpi-dev openmpi-bin >/dev/null
fi
swift build -c release --product optimus
(cd MPI && swift build -c release)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/config.json" <<'JSON'
{"model": {"kind": "optimus", "preset": "small", "seed": 3},
 "tasks": {"maximumDimension": 12},
 "pes": {"particles": 5, "truncationLength": 4, "schedule": {"logUniform": {"minimum": 5, "maximum": 12}},
         "initialOffset": 6, "seed": 11},
 "outerSteps": 6, "checkpointEvery": 3, "validation": {"every": 3, "tasks": 3, "steps": 5}}
JSON
.build/release/optimus train --config "$work/config.json" --output "$work/single" 2>/dev/null
mpirun --allow-run-as-root --oversubscribe -np 2 MPI/.build/release/optimus-mpi train --config "$work/config.json" \
  --output "$work/mpi" 2> "$work/mpi.log"
grep -q "optimus-mpi: 2 ranks" "$work/mpi.log" || { echo "mpi-check: FAILED: not 2 ranks"; cat "$work/mpi.log"; exit 1; }
if cmp -s "$work/single/training-state.bin" "$work/mpi/training-state.bin"; then
  echo "mpi-check: training state identical (1 process vs mpirun -np 2)"
else
  echo "mpi-check: FAILED: training states differ"; exit 1
fi
"$(scripts/python-env.sh)" - "$work/single/optimus.safetensors" "$work/mpi/optimus.safetensors" <<'PY'
import sys
from safetensors.numpy import load_file
a, b = load_file(sys.argv[1]), load_file(sys.argv[2])
assert a.keys() == b.keys()
for k in a:
    assert (a[k].view("uint32") == b[k].view("uint32")).all(), k
print(f"mpi-check: θ identical ({sum(v.size for v in a.values())} parameters in {len(a)} tensors)")
PY
echo "mpi-check: 1 passed, 0 failed"
