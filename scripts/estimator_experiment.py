#!/usr/bin/env python3
"""The experiment that chose the default meta-gradient estimator (issue 13): the same model, the same tasks and the
same training CPU seconds, trained with each estimator; validation meta-loss against CPU time in one figure and the
table of the best validation meta-loss each reached. Nothing in the output is typed by hand.

Usage: python3 scripts/estimator_experiment.py --preset small --budget 600 [--estimators pes,backprop,hybrid]
       [--output results/meta-training/estimators] [--binary .build/release/optimus] [--report-only]

Each estimator runs `optimus train --cpu-budget BUDGET` on configs/optimus-PRESET-functions.json with only the
estimator (and the validation spacing, so validations fall at similar CPU spacing) changed. Runs are resumable:
interrupting and running the script again continues each run where its last checkpoint left it (bit-identically).
"""
import argparse
import gzip
import json
import pathlib
import subprocess
import sys

# The arms: an estimator and what changes in the base configuration besides it. "-full" arms differentiate whole
# trajectories: truncations of 51 slots on trajectories of 50 steps with no stagger, so every truncation is one reset
# slot and one complete 50-step trajectory (backpropagation, or ES, through the full unroll the validation measures,
# instead of 10-step pieces whose starting state is held fixed; ES over whole trajectories has no truncation bias).
ARMS = {
    "pes": ("pes", {}),
    "truncated-es": ("truncated-es", {}),
    "backprop": ("backprop", {}),
    "hybrid": ("hybrid", {}),
    "backprop-full": ("backprop", {"truncationLength": 51, "initialOffset": 0}),
    "hybrid-full": ("hybrid", {"truncationLength": 51, "initialOffset": 0}),
    "es-full": ("truncated-es", {"truncationLength": 51, "initialOffset": 0}),
}
# Validation every this many outer steps: the arms' outer steps cost different CPU time (an antithetic pair of plain
# steps for ES; a differentiated step for backprop; both members differentiated for the hybrid; five times the steps
# for the full arms), so these spacings put validations at similar CPU intervals. Validation CPU is excluded from the
# x axis.
VALIDATION_EVERY = {"pes": 40, "truncated-es": 40, "backprop": 20, "hybrid": 10, "backprop-full": 4, "hybrid-full": 2,
                    "es-full": 8}


def read_metrics(path):
    rows = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if line:
            rows.append(json.loads(line))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="small", choices=["small", "paper"])
    ap.add_argument("--budget", type=float, required=True, help="training CPU seconds per estimator")
    ap.add_argument("--estimators", default="pes,backprop,hybrid,backprop-full,hybrid-full,es-full",
                    help="arms to run, from: " + ", ".join(ARMS))
    ap.add_argument("--output", default="results/meta-training/estimators")
    ap.add_argument("--binary", default=".build/release/optimus")
    ap.add_argument("--report-only", action="store_true")
    args = ap.parse_args()
    root = pathlib.Path(args.output) / f"optimus-{args.preset}"
    root.mkdir(parents=True, exist_ok=True)
    base = json.loads(pathlib.Path(f"configs/optimus-{args.preset}-functions.json").read_text())
    estimators = args.estimators.split(",")
    for name in estimators:
        run = root / name
        run.mkdir(exist_ok=True)
        estimator, overrides = ARMS[name]
        config = json.loads(json.dumps(base))
        config["estimator"] = estimator
        config["pes"].update(overrides)
        config["outerSteps"] = 1_000_000
        config["checkpointEvery"] = 50
        config["validation"]["every"] = VALIDATION_EVERY[name]
        config_path = root / f"{name}.json"
        config_path.write_text(json.dumps(config, indent=2) + "\n")
        if args.report_only:
            continue
        resume = (run / "training-state.bin").exists()
        cmd = [args.binary, "train", "--config", str(config_path), "--output", str(run), "--cpu-budget", str(args.budget)]
        if resume:
            cmd.append("--resume")
        print("$", " ".join(cmd), flush=True)
        subprocess.run(cmd, check=True)
    for name in estimators:
        # The metrics are committed gzipped (metrics.jsonl itself is ignored): keep both in step.
        plain, packed = root / name / "metrics.jsonl", root / name / "metrics.jsonl.gz"
        if plain.exists():
            packed.write_bytes(gzip.compress(plain.read_bytes(), 9, mtime=0))
        elif packed.exists():
            plain.write_bytes(gzip.decompress(packed.read_bytes()))
    figure = root / "validation-vs-cpu.svg"
    subprocess.run([args.binary, "plot-training", *[str(root / n) for n in estimators], "--output", str(figure)],
                   check=True)
    rows = []
    for name in estimators:
        metrics = read_metrics(root / name / "metrics.jsonl")
        validated = [m for m in metrics if m.get("validationLoss") is not None]
        best = min(validated, key=lambda m: m["validationLoss"])
        first = validated[0]
        last = metrics[-1]
        cpu = lambda m: m.get("trainingCPUSeconds", m["cpuSeconds"])
        nonfinite = sum(1 for m in metrics if m.get("nonFiniteGradient"))
        late = [m["validationLoss"] for m in validated[-10:]]
        rows.append((name, best["validationLoss"], cpu(best), best["step"], first["validationLoss"], last["step"],
                     cpu(last), nonfinite, sum(late) / len(late)))
    rows.sort(key=lambda r: r[1])
    winner, runner = rows[0], rows[1] if len(rows) > 1 else None
    lines = [f"# Meta-gradient estimators: Optimus ({args.preset} preset)", "",
             f"Generated by `python3 scripts/estimator_experiment.py --preset {args.preset} --budget {args.budget:g} "
             f"--estimators {args.estimators}` "
             "from the runs in this folder. Same model, same initial θ, same tasks (the benchmark distribution of "
             f"`configs/optimus-{args.preset}-functions.json`), same hyperparameters except the estimator, and "
             f"{args.budget:g} training CPU seconds each (validation excluded). Arms: " + "; ".join(
                 f"`{n}` = estimator {ARMS[n][0]}" + (f" with {json.dumps(ARMS[n][1])}" if ARMS[n][1] else "")
                 for n in estimators) + ". Validation meta-loss: mean normalized "
             "meta-loss of the run's 32 held-out tasks over 50 steps (lower is better; 0 is no progress, −1 one decade "
             "of f − f*). A step with a non-finite estimate is one where a particle's backward pass overflowed (its "
             "reparameterization gradient was zeroed) or the mean had non-finite entries (zeroed by the learner).", "",
             "| arm | best validation meta-loss | at training CPU s | at outer step | first validation | mean of the last 10 validations | outer steps run | training CPU s | steps with a non-finite estimate |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r[0]} | {r[1]:.4f} | {r[2]:.0f} | {r[3]} | {r[4]:.4f} | {r[8]:.4f} | {r[5]} | {r[6]:.0f} | {r[7]} |")
    lines.append("")
    if runner:
        lines.append(f"**Winner: {winner[0]}**, best validation meta-loss {winner[1]:.4f} against {runner[1]:.4f} for "
                     f"{runner[0]} (the runner-up), a difference of {runner[1] - winner[1]:.4f} in the meta-loss, "
                     f"i.e. {runner[1] - winner[1]:.2f} decades of mean progress on the held-out tasks.")
        lines.append("")
    lines.append("![validation meta-loss against training CPU time](validation-vs-cpu.svg)")
    lines.append("")
    (root / "README.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
