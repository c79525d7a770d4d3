#!/usr/bin/env python3
"""Writes training/README.md, the ledger of the long meta-training runs, from the runs' own files (nothing typed by
hand): per run its configuration, outer steps done, training CPU hours, best validation meta-loss, the sittings it
ran in, and the one command that continues it (or, for a finished run made by earlier code, reproduces it); then,
from training/lineage.json, each shipped checkpoint's full training from its random initialization, every link
between runs checked on the weights' bytes.

Usage: python3 scripts/training_ledger.py [--root training]
       python3 scripts/training_ledger.py --compare training/RUN NEW_RUN_FOLDER   (used by reproduce-training.sh)
"""
import argparse
import hashlib
import json
import pathlib
import sys

# Fields of a metrics row that depend on the machine, not on the computation.
TIMES = {"cpuSeconds", "seconds", "trainingCPUSeconds"}
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]


def weights_sha(path):
    """SHA-256 (16 hex digits) of a safetensors file's tensor bytes: the θ, whatever its header's provenance says."""
    data = pathlib.Path(path).read_bytes()
    return hashlib.sha256(data[8 + int.from_bytes(data[:8], "little"):]).hexdigest()[:16]


def read_metrics(folder):
    path = pathlib.Path(folder) / "metrics.jsonl"
    if not path.exists():
        return []
    return [json.loads(l) for l in path.read_text().splitlines() if l.strip()]


def cpu_seconds(row):
    return row.get("trainingCPUSeconds", row["cpuSeconds"])


def compare(committed, fresh):
    """The reproduction check: every θ file of reproduce.json has the recorded weights, every kept metrics row
    is in the new run with the same values (times aside). Returns the list of differences."""
    committed, fresh = pathlib.Path(committed), pathlib.Path(fresh)
    spec = json.loads((committed / "reproduce.json").read_text())
    problems = []
    for name, expected in spec["weights"].items():
        path = fresh / name
        got = weights_sha(path) if path.exists() else "missing"
        print(f"{name}: weights {got}, committed {expected}: {'same' if got == expected else 'DIFFERENT'}")
        if got != expected:
            problems.append(name)
    new = {r["step"]: r for r in read_metrics(fresh)}
    kept = read_metrics(committed)
    differing = [r["step"] for r in kept
                 if {k: v for k, v in r.items() if k not in TIMES} != {k: v for k, v in new.get(r["step"], {}).items() if k not in TIMES}]
    print(f"metrics: {len(kept) - len(differing)} of {len(kept)} kept rows identical (times aside)"
          + (f"; first differing step {differing[0]}" if differing else ""))
    if differing:
        problems.append("metrics")
    return problems


def thin(rows, every):
    """The rows a finished run keeps: every `every`-th step, every validation, and the last."""
    return [r for i, r in enumerate(rows) if r["step"] % every == 0 or r.get("validationLoss") is not None
            or i == len(rows) - 1]


def row_at(metrics, step):
    """The metrics row of `step`, or the last one before it."""
    before = [r for r in metrics if r["step"] <= step]
    return before[-1] if before else None


def lineage(root):
    """Checks training/lineage.json and returns, per shipped checkpoint, its stages with CPU hours and validation.

    A stage is a run and the outer step of the θ it handed on. Its weights are recorded; the next run's
    initial.safetensors (and, for the last stage, the shipped checkpoint) must hold exactly those weights, and the
    θ file named in the stage, while it still holds that step's θ, too."""
    spec_path = root / "lineage.json"
    if not spec_path.exists():
        return {}
    spec = json.loads(spec_path.read_text())
    out = {}
    for checkpoint, stages in spec.items():
        rows, total = [], 0.0
        for i, stage in enumerate(stages):
            run = root / stage["run"]
            metrics = read_metrics(run)
            at = row_at(metrics, stage["step"])
            assert at is not None, f"{checkpoint}: {run} has no metrics up to step {stage['step']}"
            stage_cpu = cpu_seconds(at) / 3600
            total += stage_cpu
            receiver = (root / stages[i + 1]["run"] / "initial.safetensors") if i + 1 < len(stages) else pathlib.Path(checkpoint)
            got = weights_sha(receiver)
            assert got == stage["weights"], (f"{checkpoint}: {receiver} holds weights {got}, but stage {stage['run']} "
                                             f"step {stage['step']} handed on {stage['weights']}")
            theta = run / stage["theta"]
            kept = theta.exists() and weights_sha(theta) == stage["weights"]
            validated = [r for r in metrics if r.get("validationLoss") is not None and r["step"] <= stage["step"]]
            rows.append({"run": stage["run"], "step": stage["step"], "theta": stage["theta"], "kept": kept,
                         "cpu": stage_cpu, "cumulative": total, "receiver": str(receiver),
                         "validation": validated[-1]["validationLoss"] if validated else None,
                         "curve": [(cpu_seconds(r) / 3600, r["validationLoss"]) for r in validated],
                         "family": json.loads((run / "config.json").read_text()).get("taskFamily", "benchmark")})
        out[checkpoint] = rows
    return out


def lineage_figure(checkpoint, stages, path):
    """Validation meta-loss of every stage against the CPU hours of the whole lineage (one colour per run)."""
    width, height, left, right, top, bottom = 760, 330, 60, 250, 30, 44
    points = [(s["cumulative"] - s["cpu"] + h, v) for s in stages for h, v in s["curve"]]
    xmax = max(s["cumulative"] for s in stages) or 1
    lo, hi = min(v for _, v in points), max(v for _, v in points)
    lo, hi = (lo - 0.05 * (hi - lo + 1e-9), hi + 0.05 * (hi - lo + 1e-9))
    def x(h):
        return left + (width - left - right) * h / xmax
    def y(v):
        return top + (height - top - bottom) * (hi - v) / (hi - lo)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
             f'<rect width="{width}" height="{height}" fill="white"/>',
             f'<text x="{left}" y="18" font-size="13">{pathlib.Path(checkpoint).name}: validation meta-loss along its full training</text>',
             f'<rect x="{left}" y="{top}" width="{width - left - right}" height="{height - top - bottom}" fill="none" stroke="#333"/>']
    for k in range(6):
        v = lo + (hi - lo) * k / 5
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#eee"/>')
        parts.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:.2f}</text>')
    for k in range(6):
        h = xmax * k / 5
        parts.append(f'<text x="{x(h):.1f}" y="{height - bottom + 16}" text-anchor="middle">{h:.2f}</text>')
    parts.append(f'<text x="{(left + width - right) / 2:.0f}" y="{height - 8}" text-anchor="middle">training CPU hours '
                 'since the random initialization</text>')
    for i, s in enumerate(stages):
        color = COLORS[i % len(COLORS)]
        start = s["cumulative"] - s["cpu"]
        pts = " ".join(f"{x(start + h):.1f},{y(v):.1f}" for h, v in s["curve"])
        if pts:
            parts.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="1.5"/>')
        parts.append(f'<line x1="{x(s["cumulative"]):.1f}" x2="{x(s["cumulative"]):.1f}" y1="{top}" y2="{height - bottom}" stroke="{color}" stroke-dasharray="3,3"/>')
        parts.append(f'<line x1="{width - right + 12}" x2="{width - right + 32}" y1="{top + 14 + 32 * i}" y2="{top + 14 + 32 * i}" stroke="{color}" stroke-width="2"/>')
        parts.append(f'<text x="{width - right + 36}" y="{top + 18 + 32 * i}" font-size="10">{s["run"]}</text>')
        parts.append(f'<text x="{width - right + 36}" y="{top + 30 + 32 * i}" font-size="10" fill="#555">to step {s["step"]} ({s["family"]} tasks)</text>')
    parts.append("</svg>")
    path.write_text("\n".join(parts) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="training")
    ap.add_argument("--compare", nargs=2, metavar=("COMMITTED", "NEW"))
    ap.add_argument("--thin", nargs=2, metavar=("METRICS", "EVERY"),
                    help="print the kept rows of a finished run's metrics.jsonl")
    args = ap.parse_args()
    if args.compare:
        problems = compare(*args.compare)
        print("reproduce-training: " + ("identical" if not problems else "DIFFERS: " + ", ".join(problems)))
        sys.exit(1 if problems else 0)
    if args.thin:
        rows = [json.loads(l) for l in pathlib.Path(args.thin[0]).read_text().splitlines() if l.strip()]
        for r in thin(rows, int(args.thin[1])):
            print(json.dumps(r, sort_keys=True))
        return
    root = pathlib.Path(args.root)
    lines = ["# Training ledger", "",
             "Long meta-training runs that continue across sittings. Each folder holds the run's `config.json`, its "
             "`training-state.bin` (everything needed to continue bit-identically: θ, the outer Adam moments, every "
             "particle's inner states and perturbation accumulators, the task streams), `metrics.jsonl`, the latest "
             "and best θ as safetensors, and `curve.svg`. The state is committed at the end of every sitting. "
             "Generated by `python3 scripts/training_ledger.py`.", "",
             "Continue a run (about MINUTES of wall time on all cores, stopping at a checkpoint of its own; then "
             "commit `training/`): `scripts/continue-training.sh RUN MINUTES`. The network runs on the project's own kernels, "
             "which give the same bits on every x86-64 CPU, and the script pins OpenBLAS's kernels for the rest "
             "(`OPENBLAS_CORETYPE=Haswell`), so the continuation is bit-identical on another machine with the same "
             "code. A run's `notes.md`, when it has one, records what changed between sittings (shown below).", "",
             "A **finished** run was made, start to end, by an earlier version of the code, before this ledger existed; "
             "its folder keeps the configuration, the θ it handed on, and its metrics (every 50th outer step and every "
             "validation), and `reproduce.json` names the commit. `scripts/reproduce-training.sh RUN` checks out that "
             "commit, trains again and compares the θ's weights and every kept metrics row, bit for bit.", "",
             "| run | model | estimator | task family | outer steps | training CPU h | best validation (step) | latest validation | state sha256 | continue |",
             "|---|---|---|---|---:|---:|---:|---:|---|---|"]
    runs = sorted(p for p in root.iterdir() if (p / "config.json").exists())
    for run in runs:
        config = json.loads((run / "config.json").read_text())
        metrics = read_metrics(run)
        validated = [m for m in metrics if m.get("validationLoss") is not None]
        best = min(validated, key=lambda m: m["validationLoss"]) if validated else None
        last = metrics[-1] if metrics else None
        cpu = cpu_seconds(last) / 3600 if last else 0
        state = run / "training-state.bin"
        sha = hashlib.sha256(state.read_bytes()).hexdigest()[:16] if state.exists() else "–"
        model = config["model"]
        options = [model[k] for k in ("stepScale", "curvaturePrior") if model.get(k) not in (None, "absolute", "none")]
        described = f"{model['kind']} ({', '.join([model['preset']] + [f'{o} steps' if o == 'secant' else f'{o} prior' for o in options])})"
        if (run / "reproduce.json").exists():
            commit = json.loads((run / "reproduce.json").read_text())["commit"][:7]
            action = f"finished (code of `{commit}`): `scripts/reproduce-training.sh {run.name}`"
        else:
            action = f"`scripts/continue-training.sh {run.name} 60`"
        lines.append(
            f"| `{run.name}` | {described} | {config.get('estimator', 'pes')} | "
            f"{config.get('taskFamily', 'benchmark')} | {last['step'] if last else 0} | {cpu:.2f} | "
            + (f"{best['validationLoss']:.3f} ({best['step']})" if best else "–") + " | "
            + (f"{validated[-1]['validationLoss']:.3f}" if validated else "–")
            + f" | `{sha}` | {action} |")
    lines.append("")
    chains = lineage(root)
    if chains:
        lines += ["## The shipped checkpoints' full training", "",
                  "Each shipped θ, from its random initialization (model seed 0) to the file in `checkpoints/`, is a chain "
                  "of ledger runs, each started from the θ the one before handed on (`training/lineage.json`). Checked "
                  "by this script on the weights' bytes: the next run's `initial.safetensors`, and at the end the shipped "
                  "file, hold exactly the θ of the stage before. CPU hours count each run up to the step it handed on; "
                  "validation meta-losses of different stages are on different task sets (the task family changes "
                  "along a chain), so they compare within a stage only.", ""]
        for checkpoint, stages in chains.items():
            figure = root / f"lineage-{pathlib.Path(checkpoint).stem}.svg"
            lineage_figure(checkpoint, stages, figure)
            lines += [f"### `{checkpoint}`: {stages[-1]['cumulative']:.2f} training CPU hours in {len(stages)} runs", "",
                      "| stage | run | task family | θ handed on (outer step) | CPU h of the stage | CPU h since the initialization | validation at that step | received by |",
                      "|---:|---|---|---|---:|---:|---:|---|"]
            for i, s in enumerate(stages, 1):
                held = f"`{s['theta']}` ({s['step']})" if s["kept"] else f"step {s['step']} (file since overwritten)"
                validation = f"{s['validation']:.3f}" if s["validation"] is not None else "–"
                lines.append(f"| {i} | `{s['run']}` | {s['family']} | {held} | {s['cpu']:.2f} | {s['cumulative']:.2f} | "
                             f"{validation} | `{s['receiver']}` |")
            lines += ["", f"![{pathlib.Path(checkpoint).name} full training]({figure.name})", ""]
    for run in runs:
        if (run / "notes.md").exists():
            lines.append(f"### `{run.name}`: notes")
            lines.append("")
            lines.append((run / "notes.md").read_text().strip())
            lines.append("")
        if (run / "curve.svg").exists():
            lines.append(f"![{run.name}]({run.name}/curve.svg)")
            lines.append("")
    (root / "README.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
