#!/usr/bin/env python3
"""Every solver at the same evaluation budget per reconstruction window (the paper's protocol: about 50 evaluations
per window for the learned optimizers, Fig. 6 middle/right and Table 1), on walk, dance_a, run and jump (by default)
for several observation seeds. Writes results/reconstruction/budget/README.md (the six pose metrics, mean over seeds, beside the observation's)
and one figure per clip: the best window loss so far (relative to the window's starting loss; mean over windows and
seeds, log scale) against evaluations.

Usage: python3 scripts/reconstruction_budget.py [--binary .build/release/optimus] [--seeds 0,1,2] [--evaluations 50]
                                                [--clips walk,dance_a,run,jump] [--jobs 2] [--reuse]
--reuse keeps a run whose result.json records the same clip, solver, seed, budget, checkpoint and physics."""
import argparse
import functools
import json
import math
import os
import pathlib
import re
import statistics
import subprocess
import sys

import reconstruction_runs
import training_ledger

root = pathlib.Path(__file__).resolve().parent.parent
parser = argparse.ArgumentParser()
parser.add_argument("--binary", default=str(root / ".build/release/optimus"))
parser.add_argument("--seeds", default="0,1,2")
parser.add_argument("--evaluations", type=int, default=50, help="objective evaluations per window")
parser.add_argument("--clips", default="walk,dance_a,run,jump",
                    help="comma-separated clips (walk is a walking clip; the others are other motions)")
parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
parser.add_argument("--output", default=str(root / "results/reconstruction/budget"))
parser.add_argument("--reuse", action="store_true")
args = parser.parse_args()
seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
if not seeds:
    sys.exit("seeds: give at least one seed, e.g. --seeds 0,1,2")
if args.evaluations < 1:
    sys.exit("evaluations: must be at least 1")
if args.jobs < 1:
    sys.exit("jobs: must be at least 1")
out = pathlib.Path(args.output)
out.mkdir(parents=True, exist_ok=True)
friction = reconstruction_runs.default_friction(args.binary)

clips = [c for c in args.clips.split(",") if c.strip()]
if not clips:
    sys.exit("clips: give at least one clip, e.g. --clips walk,dance_a")


class Solver:
    """A row: its label, the optimizer name, extra `reconstruct` arguments, its budget per window (default
    --evaluations) and whether it is drawn in the loss-vs-evaluations figures."""
    def __init__(self, label, optimizer, extra=(), budget=None, figure=True):
        self.label, self.optimizer, self.extra = label, optimizer, list(extra)
        self.budget, self.figure = budget or args.evaluations, figure


walking = ["--checkpoint", "checkpoints/optimus-motion-walking.safetensors", "--parameter-scale", "0.01"]
solvers = {
    "lbfgs": Solver("L-BFGS", "lbfgs"),
    "adam": Solver("Adam (learning rate 0.003)", "adam"),
    "optimus": Solver("Optimus (benchmark-trained)", "optimus",
                      ["--checkpoint", "checkpoints/optimus-functions.safetensors", "--parameter-scale", "1"]),
    "adafactor-mlp": Solver("Adafactor-MLP (benchmark-trained)", "adafactor-mlp",
                            ["--checkpoint", "checkpoints/adafactor-mlp-functions.safetensors", "--parameter-scale", "1"]),
}
if (root / walking[1]).exists():
    solvers["optimus-walking"] = Solver("Optimus (meta-trained on walking windows only, scale 0.01)", "optimus", walking)
if (root / "checkpoints/optimus-motion.safetensors").exists():
    solvers["optimus-motion"] = Solver("Optimus (fine-tuned on windows of 12 clips, earlier physics, scale 0.01)",
                                       "optimus", ["--checkpoint", "checkpoints/optimus-motion.safetensors",
                                                   "--parameter-scale", "0.01"])

# The paper's Table 4: (top) each architecture meta-trained from scratch on the walking windows with the same estimator,
# hyperparameters and CPU budget (ledger runs), at the same budget per window; (bottom) the walking Optimus's operating
# modes. On walk (in the training domain) and dance_a (out of it).
table4_clips = [c for c in ["walk", "dance_a"] if c in clips]
ablations = [("t4-optimus", "Optimus", "optimus", "optimus-small-motion-walking-scratch"),
             ("t4-no-state", "Optimus, no state", "optimus-no-state", "optimus-no-state-small-motion-walking"),
             ("t4-no-structure", "Optimus, no structure", "optimus-no-structure",
              "optimus-no-structure-small-motion-walking"),
             ("t4-adafactor-mlp", "Adafactor-MLP 4×2", "adafactor-mlp", "adafactor-mlp-reference-motion-walking"),
             ("t4-adafactor-mlp-128x4", "Adafactor-MLP 128×4", "adafactor-mlp", "adafactor-mlp-paper-motion-walking")]
ablation_runs = {}
for key, label, name, run_name in ablations:
    best = sorted((root / "training" / run_name).glob("*-best.safetensors"))
    if table4_clips and best:
        ablation_runs[key] = run_name
        solvers[key] = Solver(label, name, ["--checkpoint", str(best[0].relative_to(root)), "--parameter-scale", "0.01"],
                              figure=False)
modes = []
if table4_clips and "optimus-walking" in solvers:
    modes = ["mode-stopping-rule", "mode-basin-hopping", "mode-lbfgs-2x"]
    solvers["mode-stopping-rule"] = Solver("Optimus (walking), the paper's stopping rule", "optimus",
                                           walking + ["--stopping-rule"], figure=False)
    solvers["mode-basin-hopping"] = Solver("Optimus (walking) + basin hopping", "optimus",
                                           walking + ["--basin-hopping"], budget=2 * args.evaluations, figure=False)
    solvers["mode-lbfgs-2x"] = Solver("L-BFGS", "lbfgs", budget=2 * args.evaluations, figure=False)


figure_solvers = {k: solver for k, solver in solvers.items() if solver.figure}  # the main table and figures


def clips_of(key):
    return clips if key in figure_solvers else table4_clips


def folder(clip, key, seed):
    return out / f"{clip}-{key}-seed{seed}"


def reusable(clip, key, seed):
    path = folder(clip, key, seed) / "result.json"
    if not args.reuse or not path.exists():
        return None
    old = json.loads(path.read_text())
    solver = solvers[key]
    if not reconstruction_runs.same_checkpoint(old, solver.extra, root):
        return None
    options = old.get("options", {})
    same = (old.get("clip"), old.get("optimizer"), old.get("seed")) == (clip, solver.optimizer, seed) \
        and options.get("maxEvaluations") == solver.budget \
        and options.get("stoppingRule", False) == ("--stopping-rule" in solver.extra) \
        and (options.get("basinHopping") is not None) == ("--basin-hopping" in solver.extra) \
        and old.get("frictionSmoothing", 0.01) == friction
    return old if same else None


def command(clip, key, seed):
    solver = solvers[key]
    return ["reconstruct", "--clip", clip, "--optimizer", solver.optimizer, "--seed", str(seed),
            "--evaluations", str(solver.budget), "--iterations", str(solver.budget)] + solver.extra


def run(clip, key, seed):
    # The folder keeps the metrics, windows and traces (the loss-vs-evaluations figures read the traces).
    return reconstruction_runs.reconstruct_into(args.binary, root, command(clip, key, seed), folder(clip, key, seed))


jobs = [(c, k, s) for s in seeds for k in solvers for c in clips_of(k)]
results, reused, elapsed = reconstruction_runs.run_jobs(jobs, reusable, run, args.jobs)


def curve(result, budget):
    """Best loss / starting loss after e = 0…budget evaluations, averaged (geometrically) over the windows."""
    logs = []
    for w in result["windows"]:
        trace = w.get("trace") or [[0, w["initialLoss"]], [w["evaluations"] - 1, w["finalLoss"]]]
        start = w["initialLoss"]
        if not (start > 0 and math.isfinite(start)):
            continue
        row, i, best = [], 0, start
        for e in range(budget + 1):
            while i < len(trace) and trace[i][0] <= e:
                if math.isfinite(trace[i][1]):
                    best = min(best, trace[i][1])
                i += 1
            row.append(math.log10(max(best, 1e-300) / start))
        logs.append(row)
    return [statistics.fmean(col) for col in zip(*logs)] if logs else [0.0] * (budget + 1)


colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]


def figure(clip):
    width, height, left, right, top, bottom = 860, 380, 60, 370, 30, 45
    curves = {k: [statistics.fmean(v) for v in zip(*[curve(results[(clip, k, s)], args.evaluations) for s in seeds])]
              for k in figure_solvers}
    low = min(min(c) for c in curves.values())
    low = math.floor(low * 4) / 4 if low < 0 else -0.25
    def x(e):
        return left + (width - left - right) * e / args.evaluations
    def y(v):
        return top + (height - top - bottom) * (v / low)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
             'font-size="12">', f'<rect width="{width}" height="{height}" fill="white"/>',
             f'<text x="{left}" y="18" font-size="13">{clip}: best window loss / starting loss (mean of log10 over '
             f'windows and seeds {",".join(map(str, seeds))})</text>']
    ticks = [t / 4 for t in range(0, int(round(low * 4)) - 1, -1)]
    step = max(1, len(ticks) // 6)
    for t in ticks[::step]:
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(t):.1f}" y2="{y(t):.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 6}" y="{y(t) + 4:.1f}" text-anchor="end">{10 ** t:.2g}</text>')
    for e in range(0, args.evaluations + 1, max(1, args.evaluations // 5)):
        parts.append(f'<text x="{x(e):.1f}" y="{height - bottom + 16}" text-anchor="middle">{e}</text>')
    parts.append(f'<text x="{(left + width - right) / 2:.0f}" y="{height - 8}" text-anchor="middle">objective '
                 'evaluations in the window</text>')
    parts.append(f'<rect x="{left}" y="{top}" width="{width - left - right}" height="{height - top - bottom}" '
                 'fill="none" stroke="#333"/>')
    for i, (k, c) in enumerate(curves.items()):
        points = " ".join(f"{x(e):.1f},{y(v):.1f}" for e, v in enumerate(c))
        color = colors[i % len(colors)]
        parts.append(f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2"/>')
        parts.append(f'<line x1="{width - right + 12}" x2="{width - right + 32}" y1="{top + 14 + 18 * i}" '
                     f'y2="{top + 14 + 18 * i}" stroke="{color}" stroke-width="2"/>')
        label = solvers[k].label.replace("&", "&amp;")
        parts.append(f'<text x="{width - right + 36}" y="{top + 18 + 18 * i}" font-size="10">{label}</text>')
    parts.append("</svg>")
    (out / f"{clip}-loss-vs-evaluations.svg").write_text("\n".join(parts) + "\n")
    return curves


def window_decades(result):
    """Mean over windows of log10(final loss / starting loss)."""
    logs = [math.log10(max(w["finalLoss"], 1e-300) / w["initialLoss"]) for w in result["windows"]
            if w["initialLoss"] > 0 and math.isfinite(w["initialLoss"]) and math.isfinite(w["finalLoss"])]
    return statistics.fmean(logs) if logs else float("nan")


def ms_per_step(rs):
    """The optimizer's own time per iteration (ms): time outside the objective's evaluations over iterations."""
    timed = [w for r in rs for w in r["windows"] if w.get("optimizerSeconds") is not None]
    steps = sum(w["iterations"] for w in timed)
    return 1000 * sum(w["optimizerSeconds"] for w in timed) / steps if steps else float("nan")


@functools.cache
def checkpoint_parameters(path):
    text = subprocess.run([args.binary, "checkpoint", "inspect", str(root / path)],
                          capture_output=True, text=True, check=True).stdout
    return int(re.search(r"parameters\s+(\d+)", text).group(1))


def parameter_count(extra):
    if "--checkpoint" not in extra:
        return "–"
    return f"{checkpoint_parameters(extra[extra.index('--checkpoint') + 1]):,}"


def training_summary(run_name):
    rows = [json.loads(l) for l in (root / "training" / run_name / "metrics.jsonl").read_text().splitlines() if l.strip()]
    validated = [r for r in rows if r.get("validationLoss") is not None]
    best = min(validated, key=lambda r: r["validationLoss"]) if validated else None
    hours = rows[-1].get("trainingCPUSeconds", rows[-1]["cpuSeconds"]) / 3600 if rows else 0
    return (f"{rows[-1]['step'] if rows else 0} steps, {hours:.2f} CPU h, best {best['validationLoss']:.3f} "
            f"(step {best['step']})" if best else "not started")


def walking_training():
    """The shipped walking θ's motion training: the motion-family runs of its lineage (training/lineage.json, checked
    by the ledger), with their outer steps and CPU hours up to the θ handed on."""
    stages = [s for s in training_ledger.lineage(root / "training").get("checkpoints/optimus-motion-walking.safetensors", [])
              if s["family"] == "motion"]
    return (" then ".join(f"`{s['run']}` to step {s['step']}" for s in stages)
            + f", {sum(s['cpu'] for s in stages):.2f} CPU h") if stages else "–"


def table4():
    if not (ablation_runs or modes):
        return []
    head = "| variant | parameters | ms per step | evaluations per window | " + " | ".join(
        f"{c} MPJPE-G (mm) | {c} loss reduction (decades)" for c in table4_clips)
    rule = "|---|---:|---:|---:|" + "---:|---:|" * len(table4_clips)

    def row(key, label, extra_cells=""):
        solver = solvers[key]
        by_clip = {c: [results[(c, key, s)] for s in seeds] for c in table4_clips}
        first = by_clip[table4_clips[0]]
        cells = [label, parameter_count(solver.extra), f"{ms_per_step(first):.2f}",
                 f"{statistics.fmean([r['evaluations'] / len(r['windows']) - 1 for r in first]):.1f}"]
        for c in table4_clips:
            cells += [f"{statistics.fmean([r['metrics']['mpjpeG'] for r in by_clip[c]]):.1f}",
                      f"{-statistics.fmean([window_decades(r) for r in by_clip[c]]):.2f}"]
        return "| " + " | ".join(cells) + " |" + extra_cells

    lines = ["## Table 4 analogue: ablations and operating modes", ""]
    if ablation_runs:
        lines += [f"Top: each architecture meta-trained **from scratch** (model seed 0) on the walking windows only, with "
                  "the estimator, hyperparameters and CPU budget of the others (ledger runs in `training/`, PES, "
                  "truncation 10, 8 particles, outer learning rate 1e-3, targets in 0.01 units; the best-validation θ "
                  f"of each), then run at {args.evaluations} evaluations per window, mean over seeds "
                  f"{', '.join(map(str, seeds))}. The shipped walking Optimus (fine-tuned from the benchmark-trained "
                  "θ, longer) and L-BFGS at the same budget are the reference rows. *ms per step*: the optimizer's own "
                  f"time per iteration on {table4_clips[0]} (the window's time outside the simulator's loss and "
                  "gradient), one core. *evaluations per window*: after the start. *loss reduction*: mean over windows "
                  "of log10(starting / final window loss), the paper's \"Loss\" column in decades.", "",
                  head + " | training |", rule + "---|"]
        for key, label, _, _ in ablations:
            if key in ablation_runs:
                lines.append(row(key, label, f" {training_summary(ablation_runs[key])} |"))
        lines.append(row("optimus-walking", "Optimus (shipped walking θ, fine-tuned from the benchmark θ)",
                         f" {walking_training()} |"))
        lines.append(row("lbfgs", "L-BFGS", " – |"))
        lines.append("")
    if modes:
        lines += ["Bottom: the shipped walking Optimus's operating modes, as the paper's bottom three lines: with the "
                  f"paper's stopping rule (stop once the loss exceeds the mean of the previous five; at most "
                  f"{args.evaluations} evaluations), for the whole {args.evaluations} evaluations without it, and inside "
                  f"basin hopping (`--basin-hopping`: local searches of 25 iterations, hops of ±0.02 rad on every PD "
                  f"target, Metropolis temperature 5 % of the window's starting loss) with {2 * args.evaluations} "
                  f"evaluations; L-BFGS at {2 * args.evaluations} for reference.", "", head + " |", rule]
        lines.append(row("mode-stopping-rule", "Optimus (walking), the paper's stopping rule"))
        lines.append(row("optimus-walking", f"Optimus (walking), {args.evaluations} iterations"))
        lines.append(row("mode-basin-hopping", "Optimus (walking) + basin hopping"))
        lines.append(row("lbfgs", f"L-BFGS, {args.evaluations} evaluations"))
        lines.append(row("mode-lbfgs-2x", f"L-BFGS, {2 * args.evaluations} evaluations"))
        lines.append("")
    return lines


metrics = [("mpjpeG", "MPJPE-G (mm)"), ("mpjpe", "MPJPE (mm)"), ("mpjpePA", "MPJPE-PA (mm)"), ("mpjpe2d", "MPJPE-2d (px)"),
           ("totalVariation", "TV (m/s²)"), ("footSkatePercent", "foot skate (%)")]
lines = [f"# Reconstruction at {args.evaluations} evaluations per window", "",
         f"Generated by `python3 scripts/reconstruction_budget.py --seeds {','.join(map(str, seeds))} --evaluations "
         f"{args.evaluations} --clips {','.join(clips)}" + (" --reuse" if args.reuse else "") + f"` ({elapsed:.0f} s, {args.jobs} runs at a time"
         + (f", {reused} of {len(jobs)} runs reused" if reused else "") + "); do not edit by hand.", "",
         f"Every solver gets the same budget per window: {args.evaluations} objective evaluations (loss and gradient) "
         "after the window's starting point, the paper's budget for the learned optimizers. A learned optimizer or Adam "
         "spends one per iteration; L-BFGS's line search may spend several. The windows, observations and loss are "
         "those of `results/reconstruction/README.md` (0.5 s windows every 0.25 s, keyframes every 1/15 s, friction "
         f"regularized at {friction:g} m/s); each run's result.json (without the keypoints) is in this folder.", "",
         f"Mean over seeds {', '.join(map(str, seeds))}:", "",
         "| clip | solver | " + " | ".join(label for _, label in metrics) + " | evaluations | loss reduction (decades) | seconds |",
         "|---|---|" + "---:|" * (len(metrics) + 3)]
curves = {}
for clip in clips:
    curves[clip] = figure(clip)
    first = next(iter(solvers))
    observation = [results[(clip, first, s)]["observationMetrics"] for s in seeds]
    lines.append(f"| {clip} | observation (no physics) | "
                 + " | ".join(f"{statistics.fmean([o[k] for o in observation]):.1f}" for k, _ in metrics)
                 + " | – | – | – |")
    for k, solver in figure_solvers.items():
        label = solver.label
        rs = [results[(clip, k, s)] for s in seeds]
        lines.append(f"| {clip} | {label} | "
                     + " | ".join(f"{statistics.fmean([r['metrics'][m] for r in rs]):.1f}" for m, _ in metrics)
                     + f" | {statistics.fmean([r['evaluations'] for r in rs]):.0f} | {-curves[clip][k][-1]:.2f} | "
                     + f"{statistics.fmean([r['seconds'] for r in rs]):.1f} |")
lines += ["", "Per seed, MPJPE-G (mm):", "", "| clip | solver | " + " | ".join(f"seed {s}" for s in seeds) + " |",
          "|---|---|" + "---:|" * len(seeds)]
for clip in clips:
    for k, solver in figure_solvers.items():
        label = solver.label
        lines.append(f"| {clip} | {label} | "
                     + " | ".join(f"{results[(clip, k, s)]['metrics']['mpjpeG']:.0f}" for s in seeds) + " |")
lines += ["", "Loss reduction: mean over windows and seeds of log10(best loss / starting loss) after the budget.", ""]
if "optimus-walking" in solvers:
    lines += ["The paper's Table 1 asks how an Optimus meta-trained on walking does on walking it has not seen (walk, "
              "in its domain) and on other motions (dance_a, run, jump: out of it): the row \"meta-trained on walking "
              "windows only\". (run and jump were among the 12 training clips of the earlier motion Optimus.) "
              "Its training (`training/optimus-small-motion-walking`, ledger `training/README.md`) is the figure "
              "below: validation meta-loss (decades of window-loss reduction, mean over 50 steps and 16 held-out "
              "walking windows) against training CPU hours, the analogue of the paper's Fig. 6 left.", ""]
    run = root / "training/optimus-small-motion-walking"
    if (run / "metrics.jsonl").exists():
        subprocess.run([args.binary, "plot-training", str(run), "--output", str(out / "walking-training.svg")],
                       check=True, capture_output=True)
        lines += ["![validation meta-loss of the walking run against CPU hours](walking-training.svg)", ""]
for clip in clips:
    lines += [f"![{clip}: loss against evaluations]({clip}-loss-vs-evaluations.svg)", ""]
lines += table4()
lines += ["Commands (one per run):", ""]
for job in jobs:
    lines.append(f"- `optimus {' '.join(command(*job))} --output results/reconstruction/budget/{folder(*job).name}`")
(out / "README.md").write_text("\n".join(lines) + "\n")
print(f"wrote {out / 'README.md'} ({elapsed:.0f} s)", file=sys.stderr)
