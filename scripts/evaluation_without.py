#!/usr/bin/env python3
"""Copy an `optimus evaluate` folder without the runs of some solvers, so that `optimus evaluate --output DST` with a
new checkpoint for them runs only those solvers and keeps every other run (the runs are deterministic: same code,
same seeds, same records).

Usage: python3 scripts/evaluation_without.py SRC DST SOLVER [SOLVER ...]   (e.g. optimus adafactor-mlp)
The manifest keeps its sessions (wall time adds up over them) and loses the dropped solvers' checkpoint entries.
"""
import json
import pathlib
import shutil
import sys

if len(sys.argv) < 4:
    sys.exit(__doc__)
src, dst, drop = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), set(sys.argv[3:])
if dst.exists():
    sys.exit(f"{dst} exists; choose a new folder")
dst.mkdir(parents=True)
shutil.copy(src / "suite.json", dst / "suite.json")
for name in ["records", "tuning", "generalization", "step-directions"]:
    path = src / f"{name}.jsonl"
    if not path.exists():
        continue
    kept = [line for line in path.read_text().splitlines() if line.strip() and json.loads(line)["solver"] not in drop]
    (dst / f"{name}.jsonl").write_text("".join(line + "\n" for line in kept))
manifest = json.loads((src / "manifest.json").read_text())
manifest["checkpoints"] = {k: v for k, v in manifest["checkpoints"].items() if k not in drop}
(dst / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
print(f"{dst}: every run of {src} except {', '.join(sorted(drop))}")
