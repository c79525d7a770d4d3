#!/usr/bin/env python3
"""The reconstruction issue's item 2 on many observation seeds: each candidate learned optimizer against L-BFGS at the
same budget per window (50 evaluations by default), on walk (the walking clips' domain) and dance_a (outside it).
A reconstruction is chaotic in the last bits, so three seeds cannot separate two solvers a few millimetres apart;
this runs ten. Writes OUTPUT/README.md (MPJPE-G per seed, mean, median, and each candidate's gap to L-BFGS) and keeps
each run's metrics in OUTPUT/CLIP-KEY-seedS/result.json.

Usage: python3 scripts/reconstruction_seeds.py [--seeds 0-9] [--clips walk,dance_a] [--evaluations 50]
           [--candidate KEY=CHECKPOINT[:OPTIMIZER][:EXTRA ARGS]]... [--output results/reconstruction/ten-seeds]
           [--jobs 2] [--reuse]
Without --candidate: the shipped walking Optimus. KEY names the row; OPTIMIZER defaults to optimus; the parameter
scale is 0.01 (the walking runs' training scale) unless EXTRA ARGS set another. --reuse keeps a run whose result.json
records the same clip, optimizer, seed, budget, checkpoint contents and physics."""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys

import reconstruction_runs

root = pathlib.Path(__file__).resolve().parent.parent
parser = argparse.ArgumentParser()
parser.add_argument("--binary", default=str(root / ".build/release/optimus"))
parser.add_argument("--seeds", default="0-9", help="a range A-B or a comma-separated list")
parser.add_argument("--clips", default="walk,dance_a")
parser.add_argument("--evaluations", type=int, default=50)
parser.add_argument("--candidate", action="append", default=[])
parser.add_argument("--output", default=str(root / "results/reconstruction/ten-seeds"))
parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
parser.add_argument("--reuse", action="store_true")
args = parser.parse_args()


def parse_seeds(text):
    if "-" in text and "," not in text:
        a, b = text.split("-")
        return list(range(int(a), int(b) + 1))
    return [int(s) for s in text.split(",") if s.strip()]


try:
    seeds = parse_seeds(args.seeds)
except ValueError:
    sys.exit(f"seeds: '{args.seeds}' is not valid; give a range such as 0-9 or a list such as 0,1,2")
if not seeds:
    sys.exit("seeds: give at least one seed")
if args.evaluations < 1:
    sys.exit("evaluations: must be at least 1")
clips = [c for c in args.clips.split(",") if c.strip()]
solvers = {"lbfgs": ("L-BFGS", "lbfgs", [])}
for spec in args.candidate or ["walking=checkpoints/optimus-motion-walking.safetensors"]:
    key, _, rest = spec.partition("=")
    parts = rest.split(":")
    if not key or not parts[0]:
        sys.exit(f"candidate: '{spec}' is not valid; give KEY=CHECKPOINT[:OPTIMIZER][:EXTRA ARGS]")
    if not (root / parts[0]).exists():
        sys.exit(f"candidate: checkpoint '{parts[0]}' does not exist")
    optimizer = parts[1] if len(parts) > 1 and parts[1] else "optimus"
    extra = parts[2].split() if len(parts) > 2 else []
    if "--parameter-scale" not in extra:
        extra += ["--parameter-scale", "0.01"]
    solvers[key] = (f"{optimizer} `{parts[0]}`" + (f" {' '.join(parts[2].split())}" if len(parts) > 2 else ""),
                    optimizer, ["--checkpoint", parts[0]] + extra)
out = pathlib.Path(args.output)
out.mkdir(parents=True, exist_ok=True)
friction = reconstruction_runs.default_friction(args.binary)


def folder(clip, key, seed):
    return out / f"{clip}-{key}-seed{seed}"


def command(clip, key, seed):
    _, optimizer, extra = solvers[key]
    return ["reconstruct", "--clip", clip, "--optimizer", optimizer, "--seed", str(seed),
            "--evaluations", str(args.evaluations), "--iterations", str(args.evaluations)] + extra


def reusable(clip, key, seed):
    path = folder(clip, key, seed) / "result.json"
    if not args.reuse or not path.exists():
        return None
    old = json.loads(path.read_text())
    _, optimizer, extra = solvers[key]
    same = (old.get("clip"), old.get("optimizer"), old.get("seed")) == (clip, optimizer, seed) \
        and old.get("options", {}).get("maxEvaluations") == args.evaluations \
        and old.get("frictionSmoothing", 0.01) == friction \
        and reconstruction_runs.same_checkpoint(old, extra, root)
    return old if same else None


def run(clip, key, seed):
    target = folder(clip, key, seed)
    arguments = command(clip, key, seed)
    print(" ".join(arguments), file=sys.stderr, flush=True)
    full = [args.binary] + reconstruction_runs.absolute(arguments, root) + ["--output", str(target), "--json"]
    result = json.loads(subprocess.run(full, check=True, capture_output=True, text=True,
                                       env=reconstruction_runs.environment()).stdout)
    for picture in ["filmstrip.svg", "filmstrip.png"]:
        (target / picture).unlink(missing_ok=True)
    result.pop("keypoints", None)
    result["windows"] = [{k: v for k, v in w.items() if k != "trace"} for w in result["windows"]]
    (target / "result.json").write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    return result


jobs = [(clip, key, seed) for clip in clips for key in solvers for seed in seeds]
results, reused, elapsed = reconstruction_runs.run_jobs(jobs, reusable, run, args.jobs)

lines = ["# Learned optimizers against L-BFGS on many observation seeds", "",
         f"Generated by `python3 scripts/reconstruction_seeds.py --seeds {args.seeds} --clips {args.clips} "
         f"--evaluations {args.evaluations}"
         + "".join(f" --candidate {spec}" for spec in args.candidate)
         + f"` ({elapsed:.0f} s, {reused} of {len(jobs)} runs reused); do not edit by hand.", "",
         f"Every solver gets {args.evaluations} objective evaluations per window (the paper's budget for the learned "
         "optimizers); MPJPE-G in mm (lower is better). walk is a walking clip (the domain the walking runs trained "
         "on, but not one of their clips); dance_a is outside it. Gap: the candidate's mean over L-BFGS's mean, minus 1.",
         ""]
for clip in clips:
    lines += [f"## {clip}", "",
              "| solver | " + " | ".join(f"seed {s}" for s in seeds) + " | mean | median | gap to L-BFGS |",
              "|---|" + "---:|" * (len(seeds) + 3)]
    base = statistics.fmean(results[(clip, "lbfgs", s)]["metrics"]["mpjpeG"] for s in seeds)
    for key, (label, _, _) in solvers.items():
        values = [results[(clip, key, s)]["metrics"]["mpjpeG"] for s in seeds]
        mean = statistics.fmean(values)
        gap = "–" if key == "lbfgs" else f"{100 * (mean / base - 1):+.0f} %"
        lines.append(f"| {label} | " + " | ".join(f"{v:.0f}" for v in values)
                     + f" | {mean:.1f} | {statistics.median(values):.1f} | {gap} |")
    lines.append("")
(out / "README.md").write_text("\n".join(lines))
print("\n".join(lines))
