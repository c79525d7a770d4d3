#!/usr/bin/env python3
"""Runs `optimus reconstruct` on walk and dance_a with L-BFGS, Adam and the shipped learned optimizers, for several
observation seeds, and writes results/reconstruction/README.md: the six pose metrics of each reconstruction (mean over
seeds, and the per-seed values of the headline metrics) beside those of the raw noisy kinematic observation, with
evaluations and seconds.

Usage: python3 scripts/reconstruction_results.py [--binary .build/release/optimus] [--seeds 0,1,2] [--jobs 2] [--reuse]

--reuse takes a run's numbers from its existing result.json when that file records the same clip, solver, seed and
options (the table says how many runs were reused), so adding a solver does not redo the others.

Seed 0's runs keep their filmstrips in results/reconstruction/CLIP-OPTIMIZER/; the other seeds keep result.json only,
in results/reconstruction/seeds/."""
import argparse
import json
import os
import pathlib
import re
import statistics
import subprocess
import sys

import reconstruction_runs

root = pathlib.Path(__file__).resolve().parent.parent
parser = argparse.ArgumentParser()
parser.add_argument("--binary", default=str(root / ".build/release/optimus"))
parser.add_argument("--seeds", default="0,1,2", help="comma-separated observation seeds")
parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="runs at once (each uses one core)")
parser.add_argument("--output", default=str(root / "results/reconstruction"))
parser.add_argument("--reuse", action="store_true", help="reuse matching result.json files instead of rerunning")
parser.add_argument("--no-budget-study", action="store_true",
                    help="skip the study at the paper's budget per window (scripts/reconstruction_budget.py, into "
                         "results/reconstruction/budget), whose tables this README includes")
args = parser.parse_args()
seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
if not seeds:
    sys.exit("seeds: give at least one seed, e.g. --seeds 0,1,2")
if args.jobs < 1:
    sys.exit("jobs: must be at least 1")
out = pathlib.Path(args.output)
out.mkdir(parents=True, exist_ok=True)

clips = ["walk", "dance_a"]
optimizers = ["lbfgs", "adam", "optimus", "adafactor-mlp", "optimus-scaled", "adafactor-mlp-scaled", "lbfgs-residual",
              "lbfgs-chatter"]
names = {"lbfgs": "L-BFGS", "adam": "Adam", "optimus": "Optimus (shipped, trained on benchmark functions)",
         "adafactor-mlp": "Adafactor-MLP (shipped, trained on benchmark functions)",
         "optimus-scaled": "Optimus (shipped), parameter scale 0.01",
         "adafactor-mlp-scaled": "Adafactor-MLP (shipped), parameter scale 0.01",
         "lbfgs-residual": "L-BFGS + root residual (ablation: not physical)",
         "lbfgs-chatter": "L-BFGS, friction regularized at 0.01 m/s (ablation: the earlier simulator, whose feet chatter)"}
short = {"lbfgs": "L-BFGS", "adam": "Adam", "optimus": "Optimus", "adafactor-mlp": "Adafactor-MLP",
         "optimus-scaled": "Optimus, scale 0.01", "adafactor-mlp-scaled": "Adafactor-MLP, scale 0.01",
         "lbfgs-residual": "L-BFGS + residual", "lbfgs-chatter": "L-BFGS, ε = 0.01 m/s"}
# solver key → (optimizer name, extra arguments)
# Every learned run names its checkpoint and scale: `reconstruct`'s defaults for learned optimizers (the motion
# checkpoint where shipped, scale 0.01) are not what the benchmark-trained rows measure.
functions_checkpoint = ["--checkpoint", "checkpoints/optimus-functions.safetensors"]
adafactor_checkpoint = ["--checkpoint", "checkpoints/adafactor-mlp-functions.safetensors"]
solvers = {"lbfgs": ("lbfgs", []), "adam": ("adam", []),
           "optimus": ("optimus", functions_checkpoint + ["--parameter-scale", "1"]),
           "adafactor-mlp": ("adafactor-mlp", adafactor_checkpoint + ["--parameter-scale", "1"]),
           "lbfgs-residual": ("lbfgs", ["--root-residual"]),
           "lbfgs-chatter": ("lbfgs", ["--friction-smoothing", "0.01"]),
           "optimus-scaled": ("optimus", functions_checkpoint + ["--parameter-scale", "0.01"]),
           "adafactor-mlp-scaled": ("adafactor-mlp", adafactor_checkpoint + ["--parameter-scale", "0.01"])}


def add_checkpoint(key, file, name, short_name):
    """A learned solver on a shipped motion checkpoint (parameter scale 0.01, as it was trained), before the residual
    row, when the checkpoint is there."""
    path = root / "checkpoints" / file
    if path.exists():
        optimizers.insert(optimizers.index("lbfgs-residual"), key)
        names[key], short[key] = name, short_name
        solvers[key] = ("optimus", ["--checkpoint", f"checkpoints/{file}", "--parameter-scale", "0.01"])
    return path


# Optimus fine-tuned on reconstruction windows of other clips (configs/optimus-small-motion.json), and meta-trained on
# windows of the walking clips only (training/optimus-small-motion-walking).
motion_checkpoint = add_checkpoint("optimus-motion", "optimus-motion.safetensors",
                                   "Optimus fine-tuned on reconstruction windows, scale 0.01", "Optimus (motion), scale 0.01")
walking_checkpoint = add_checkpoint("optimus-walking", "optimus-motion-walking.safetensors",
                                    "Optimus meta-trained on walking windows only, scale 0.01",
                                    "Optimus (walking), scale 0.01")


# The simulator's default friction regularization (m/s), as the binary reports it: a result made with another one is
# not reused.
default_friction = reconstruction_runs.default_friction(args.binary)


def folder(clip, optimizer, seed):
    return f"{clip}-{optimizer}" if seed == seeds[0] else f"seeds/{clip}-{optimizer}-seed{seed}"


def reusable(clip, optimizer, seed):
    """The run's existing result.json when --reuse is given and it records the same clip, solver, seed and options."""
    target = out / folder(clip, optimizer, seed)
    name, extra = solvers[optimizer]
    if not args.reuse or not (target / "result.json").exists():
        return None
    old = json.loads((target / "result.json").read_text())
    if not reconstruction_runs.same_checkpoint(old, extra, root):
        return None
    scale = float(extra[extra.index("--parameter-scale") + 1]) if "--parameter-scale" in extra else 1.0
    friction = float(extra[extra.index("--friction-smoothing") + 1]) if "--friction-smoothing" in extra \
        else default_friction
    same = (old.get("clip"), old.get("optimizer"), old.get("seed")) == (clip, name, seed) \
        and (old.get("rootResidual") is not None) == ("--root-residual" in extra) \
        and old.get("options", {}).get("parameterScale", 1.0) == scale \
        and old.get("frictionSmoothing", 0.01) == friction
    return old if same else None


def run(clip, optimizer, seed):
    target = out / folder(clip, optimizer, seed)
    name, extra = solvers[optimizer]
    command = [args.binary, "reconstruct", "--clip", clip, "--optimizer", name, "--seed", str(seed)] \
        + reconstruction_runs.absolute(extra, root) \
        + ["--output", str(target), "--json"]
    print(" ".join(command[1:]), file=sys.stderr, flush=True)
    result = json.loads(subprocess.run(command, check=True, capture_output=True, text=True,
                                       env=reconstruction_runs.environment()).stdout)
    if seed != seeds[0]:
        for picture in ["filmstrip.svg", "filmstrip.png"]:
            (target / picture).unlink(missing_ok=True)
    return result


jobs = [(c, o, s) for s in seeds for c in clips for o in optimizers]
results, reused, elapsed = reconstruction_runs.run_jobs(jobs, reusable, run, args.jobs)

metrics = [("mpjpeG", "MPJPE-G (mm)"), ("mpjpe", "MPJPE (mm)"), ("mpjpePA", "MPJPE-PA (mm)"), ("mpjpe2d", "MPJPE-2d (px)"),
           ("totalVariation", "TV (m/s²)"), ("footSkatePercent", "foot skate (%)")]
seed_text = ", ".join(map(str, seeds))
lines = ["# Physics-based reconstruction: walk and dance_a", "",
         f"Generated by `python3 scripts/reconstruction_results.py --seeds {','.join(map(str, seeds))}"
         + (" --reuse" if args.reuse else "") + "` "
         f"({elapsed:.0f} s in all, {args.jobs} runs at a time"
         + (f", {reused} of {len(jobs)} runs reused from their result.json" if reused else "") + f"); do not edit by hand. Seed {seeds[0]}'s `result.json` and "
         "filmstrip are in the folder of each run beside this file, the other seeds' results in `seeds/`.", "",
         "Observations are synthetic and seeded (seeds " + seed_text + "): a noisy kinematic estimate (joint rotation "
         "noise 0.03 rad, root drift ≈ 5 cm, keypoint noise 35 mm per coordinate) and 2D keypoints through a pinhole "
         "camera (4 px noise). Windows of 0.5 s every 0.25 s, 100 iterations each, keyframes every 1/15 s (36 targets "
         f"per keyframe), dt = 1/480 s, friction regularized at {default_friction:g} m/s. Loss weights: 3D 5, 2D 10 (see `LossWeights`; the 3D weight was chosen on "
         "walker/0walk_forward). Adam's learning rate 0.003 was chosen on another clip (walker/0walk_forward, among "
         "0.003, 0.01, 0.03, 0.1). The learned optimizers are the shipped checkpoints, meta-trained on the benchmark "
         "functions only (not on this task), in the secant step unit, which makes their step length independent of "
         "the scale of the variables. They are also run at `--parameter-scale 0.01` (the scale the earlier "
         "absolute-step checkpoints needed, chosen with Optimus on walker/0walk_forward among 1, 0.1, 0.01, 0.001): "
         "the two rows still differ, because the small constants inside the features see gradients 100 times larger "
         "or smaller, so a small change of the first steps changes the result.", "",
         "The simulator's friction cone was regularized at 0.01 m/s until 2026-11-30. At dt = 1/480 s that damper is "
         "too stiff for the explicit step: a loaded foot's tangential velocity flipped sign on most steps (chatter), "
         "which made every window's loss non-smooth in its controls, and the reconstructions drift or fall on some "
         f"seeds (the row \"friction regularized at 0.01 m/s\" below). It is {default_friction:g} m/s now, the best of "
         "{0.01, 0.03, 0.1, 0.3, 1, 3} m/s on the clips used for choices (walker/0walk_forward and dance_b; "
         "HumanMotion article \"Reconstruction choices\").", ""]
if motion_checkpoint.exists():
    provenance = reconstruction_runs.provenance(motion_checkpoint)
    lines += ["`checkpoints/optimus-motion.safetensors` is the shipped Optimus fine-tuned with PES on 0.5 s reconstruction "
              "windows of 12 other clips (walk and dance_a are not among them; `configs/optimus-small-motion.json`): "
              f"θ from outer step {provenance.get('outerSteps', '?')}, validation meta-loss "
              f"{float(provenance.get('validationLoss', 'nan')):.3f} (decades of window-loss reduction over 50 steps, "
              "8 held-out windows). The run was later extended to 800 steps; of its best-validation checkpoints "
              "(steps 325 and 425) and its last, this one did best on 32 other windows of the training clips "
              "(`optimus validate --config configs/optimus-small-motion.json --checkpoint FILE --tasks 32 --seed 4242`: "
              "−0.203, −0.192, −0.185; the benchmark-trained Optimus −0.109). It was trained and chosen with the "
              "simulator's earlier friction (0.01 m/s, whose feet chatter). Training curve and metrics: "
              "`motion-training/`.", ""]
if walking_checkpoint.exists():
    provenance = reconstruction_runs.provenance(walking_checkpoint)
    lines += ["`checkpoints/optimus-motion-walking.safetensors` is the benchmark-trained Optimus meta-trained further with "
              "PES on 0.5 s reconstruction windows of the five walking clips `walker/*` only, with the current physics "
              "(the ledger runs `training/optimus-small-motion-walking`, then `training/optimus-small-motion-walking-late` "
              "with the meta-loss weighted towards each window's last steps; curves against CPU time there): θ from outer "
              f"step {provenance.get('outerSteps', '?')} of the second run, validation meta-loss "
              f"{float(provenance.get('validationLoss', 'nan')):.3f} (16 held-out walking windows). walk is in its "
              "domain (another walking clip), dance_a is not.", ""]
lines += [
         f"Mean over the {len(seeds)} seeds:", "",
         "| clip | solver | " + " | ".join(label for _, label in metrics) + " | evaluations | seconds |",
         "|---|---|" + "---:|" * (len(metrics) + 2)]


def mean(values):
    return statistics.fmean(values)


for clip in clips:
    observation = [results[(clip, "lbfgs", s)]["observationMetrics"] for s in seeds]
    lines.append(f"| {clip} | observation (no physics) | "
                 + " | ".join(f"{mean([o[k] for o in observation]):.1f}" for k, _ in metrics) + " | – | – |")
    for optimizer in optimizers:
        rs = [results[(clip, optimizer, s)] for s in seeds]
        lines.append(f"| {clip} | {names[optimizer]} | "
                     + " | ".join(f"{mean([r['metrics'][k] for r in rs]):.1f}" for k, _ in metrics)
                     + f" | {mean([r['evaluations'] for r in rs]):.0f} | {mean([r['seconds'] for r in rs]):.1f} |")

per_seed = [("mpjpeG", "MPJPE-G"), ("mpjpe", "MPJPE"), ("totalVariation", "TV")]
lines += ["", "Per seed (" + ", ".join(label for _, label in per_seed) + "; seeds " + seed_text
          + "): how much a single seed's number can be trusted — each seed is another noisy observation, and a "
          "window's solution depends on where the previous one left the body, so one seed is a noisy measurement.", "",
          "| clip | solver | " + " | ".join(label for _, label in per_seed) + " |", "|---|---|" + "---|" * len(per_seed)]
for clip in clips:
    observation = [results[(clip, "lbfgs", s)]["observationMetrics"] for s in seeds]
    lines.append(f"| {clip} | observation | "
                 + " | ".join(" / ".join(f"{o[k]:.0f}" for o in observation) for k, _ in per_seed) + " |")
    for optimizer in optimizers:
        rs = [results[(clip, optimizer, s)] for s in seeds]
        lines.append(f"| {clip} | {short[optimizer]} | "
                     + " | ".join(" / ".join(f"{r['metrics'][k]:.0f}" for r in rs) for k, _ in per_seed) + " |")

residual = [(clip, [results[(clip, "lbfgs-residual", s)]["rootResidual"] for s in seeds]) for clip in clips]
lines += ["", "The root residual (`--root-residual`) adds a penalized torque and force on the pelvis per keyframe: residual "
          "force control, which lets the optimizer keep balance that joint torques alone cannot, at the price of an "
          "external \"hand\" no human has. Its size, in body weights (mean over the keyframes kept; max):", "",
          "| clip | mean force (% of body weight), per seed | max force (%) | mean torque (m·g·m) |", "|---|---|---|---|"]
for clip, rs in residual:
    lines.append(f"| {clip} | " + " / ".join(f"{100 * r['meanForce']:.1f}" for r in rs) + " | "
                 + " / ".join(f"{100 * r['maxForce']:.0f}" for r in rs) + " | "
                 + " / ".join(f"{r['meanTorque']:.3f}" for r in rs) + " |")
if not args.no_budget_study:
    # The paper's protocol (Tables 1 and 4, Fig. 6): every solver at the same budget per window, in budget/.
    subprocess.run([sys.executable, str(root / "scripts/reconstruction_budget.py"), "--binary", args.binary,
                    "--seeds", args.seeds, "--jobs", str(args.jobs), "--output", str(out / "budget")]
                   + (["--reuse"] if args.reuse else []), check=True)
    budget = (out / "budget/README.md").read_text().split("Commands (one per run):")[0].rstrip().splitlines()
    budget = ["#" + line if line.startswith("#") else line for line in budget]
    budget = [re.sub(r"\]\(([^)/]+\.(svg|png))\)", r"](budget/\1)", line) for line in budget]
    lines += [""] + budget + ["", "The runs of this section, with their commands: `budget/README.md`."]
    # The same budget on ten observation seeds: the walking Optimus against L-BFGS (the reconstruction issue's item 2),
    # in ten-seeds/. Three seeds cannot separate two solvers a few millimetres apart (a reconstruction is chaotic).
    subprocess.run([sys.executable, str(root / "scripts/reconstruction_seeds.py"), "--binary", args.binary,
                    "--seeds", "0-9", "--jobs", str(args.jobs), "--output", str(out / "ten-seeds")]
                   + (["--reuse"] if args.reuse else []), check=True)
    ten = (out / "ten-seeds/README.md").read_text().rstrip().splitlines()
    ten = ["#" + line if line.startswith("#") else line for line in ten]
    lines += [""] + ten + ["", "The runs of this section: `ten-seeds/`."]
lines += ["", "Commands (one per run; `--output` as in the folders above):", ""]
lines += [f"- `optimus reconstruct --clip {c} --optimizer {solvers[o][0]} --seed {s} "
          + "".join(a + " " for a in solvers[o][1]) + f"--output results/reconstruction/{folder(c, o, s)}`"
          for (c, o, s) in jobs]
lines.append("")
for clip in clips:
    for optimizer in optimizers:
        lines += [f"![{clip} {optimizer}]({folder(clip, optimizer, seeds[0])}/filmstrip.svg)", ""]
(out / "README.md").write_text("\n".join(lines))
print((out / "README.md").read_text())
