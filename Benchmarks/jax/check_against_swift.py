"""Does the JAX reference compute the project's Optimus step? Runs a few iterations of the Swift CLI
(`optimus minimize --optimizer optimus --checkpoint FILE --iterates --json`) and of `optimus_jax` from the same start
with the same weights, and compares the steps delta_k = x_k - x_(k+1).

Two comparisons per case:
  free      JAX runs on its own (its own iterates, gradients and state); its iterates are compared with Swift's.
  forced    JAX is fed Swift's iterate x_k and the gradient there (its state is its own), so the error of delta_k is
            that of one step, not the accumulated divergence of a trajectory.
Relative error of a step: ||delta_jax - delta_swift||_2 / ||delta_swift||_2; of an iterate: ||x_jax - x_swift||_2 /
||x_swift||_2.

Cases: the shipped checkpoint (checkpoints/optimus-functions.safetensors, small preset, trained) and a random
paper-preset checkpoint written by this script (with non-zero biases, decay offsets and layer-norm parameters), on
sphere, rosenbrock and sum_squares. As in Swift, the Adafactor accumulators run in float64 (jax_enable_x64) and the
network in float32; `--float32-features` runs the accumulators in float32 as the benchmark does, to show that cost.

Usage (from the repository root, after Benchmarks/jax/setup.sh and a debug build of the CLI):
    Benchmarks/jax/.venv/bin/python Benchmarks/jax/check_against_swift.py [--steps 5] [--tolerance 1e-4]
Exit status 1 when a forced step, or a free step among the first --compare-steps, differs by more than --tolerance.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402

import optimus_jax as oj  # noqa: E402


def gradient(function: str, x: np.ndarray) -> np.ndarray:
    """The gradients of Sources/Objectives/BenchmarkFunction+Formulas.swift, in float64."""
    if function == "sphere":
        return 2 * x
    if function == "sum_squares":
        return 2 * np.arange(1, x.size + 1) * x
    if function == "rosenbrock":
        g = np.zeros_like(x)
        a = x[1:] - x[:-1] ** 2
        g[:-1] += -400 * x[:-1] * a + 2 * (x[:-1] - 1)
        g[1:] += 200 * a
        return g
    raise ValueError(function)


def swift_trace(binary, checkpoint, function, n, steps, seed):
    cmd = ["nice", binary, "minimize", "--function", function, "--dimension", str(n), "--optimizer", "optimus",
           "--checkpoint", checkpoint, "--iterations", str(steps), "--seed", str(seed), "--gradient-tolerance", "0",
           "--iterates", "--json"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    trace = json.loads(out)["trace"]
    return np.array([row["x"] for row in trace], dtype=np.float64), " ".join(cmd[1:])


def relative(a, b):
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300))


def run_case(binary, checkpoint, function, n, steps, seed, accumulator_dtype):
    config, params = oj.load_checkpoint(checkpoint)
    params = {k: jnp.asarray(v) for k, v in params.items()}
    xs, cmd = swift_trace(binary, checkpoint, function, n, steps, seed)
    steps = xs.shape[0] - 1
    step = oj.make_step(config)
    swift_delta = xs[:-1] - xs[1:]
    # Free run.
    state, x = oj.init_state(n, accumulator_dtype), xs[0].copy()
    free_x, free_d = [], []
    for k in range(steps):
        state, d = step(params, state, jnp.asarray(x), jnp.asarray(gradient(function, x)))
        d = np.asarray(d, dtype=np.float64)
        free_d.append(relative(d, swift_delta[k]))
        x = x - d
        free_x.append(relative(x, xs[k + 1]))
    # Forced: Swift's iterates.
    state = oj.init_state(n, accumulator_dtype)
    forced = []
    for k in range(steps):
        state, d = step(params, state, jnp.asarray(xs[k]), jnp.asarray(gradient(function, xs[k])))
        forced.append(relative(np.asarray(d, dtype=np.float64), swift_delta[k]))
    return {"checkpoint": os.path.relpath(checkpoint, ROOT) if checkpoint.startswith(ROOT) else checkpoint,
            "preset": "paper" if config == oj.PRESETS["paper"] else
                      "small" if config == oj.PRESETS["small"] else "custom",
            "function": function, "n": n, "steps": steps,
            "accumulators": np.dtype(accumulator_dtype).name,
            "forced_step_rel": forced, "free_step_rel": free_d, "free_iterate_rel": free_x,
            "step_norms": [float(np.linalg.norm(d)) for d in swift_delta], "swift_command": cmd}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build/debug/optimus"))
    ap.add_argument("--checkpoint", default=os.path.join(ROOT, "checkpoints/optimus-functions.safetensors"))
    ap.add_argument("--steps", type=int, default=5, help="iterations per case")
    ap.add_argument("--compare-steps", type=int, default=3, help="free-run steps held to the tolerance")
    ap.add_argument("--tolerance", type=float, default=1e-4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--float32-features", action="store_true", help="accumulators in float32 (as the benchmark)")
    ap.add_argument("--json", help="write the records to this file")
    args = ap.parse_args()
    if not os.access(args.binary, os.X_OK):
        sys.exit(f"check_against_swift: no CLI at {args.binary}; build it with `nice swift build --product optimus`")
    accumulators = np.float32 if args.float32_features else np.float64

    with tempfile.TemporaryDirectory() as tmp:
        paper = os.path.join(tmp, "optimus-paper-random.safetensors")
        oj.save_checkpoint(paper, oj.PRESETS["paper"], oj.init_params(oj.PRESETS["paper"], seed=7, perturb=0.05),
                           {"source": "Benchmarks/jax/check_against_swift.py (random, seed 7, perturb 0.05)"})
        cases = [(args.checkpoint, "rosenbrock", 10), (args.checkpoint, "sphere", 25),
                 (args.checkpoint, "sum_squares", 100), (paper, "rosenbrock", 10), (paper, "sphere", 100)]
        records, worst_ok = [], True
        print(f"{'checkpoint':44s} {'preset':6s} {'function':12s} {'N':>4s}  forced step rel (max)  "
              f"free step rel (first {args.compare_steps}, max)  free iterate rel (last)")
        for checkpoint, function, n in cases:
            r = run_case(args.binary, checkpoint, function, n, args.steps, args.seed, accumulators)
            records.append(r)
            forced = max(r["forced_step_rel"])
            free = max(r["free_step_rel"][:args.compare_steps])
            ok = forced <= args.tolerance and free <= args.tolerance
            worst_ok &= ok
            name = os.path.basename(checkpoint) if checkpoint != paper else "(random paper preset, this script)"
            print(f"{name:44s} {r['preset']:6s} {function:12s} {n:4d}  {forced:21.2e}  {free:36.2e}  "
                  f"{r['free_iterate_rel'][-1]:.2e}  {'ok' if ok else 'OVER TOLERANCE'}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(records, f, indent=1)
    print(f"{'all within' if worst_ok else 'NOT all within'} {args.tolerance:g} relative "
          f"({'float32' if args.float32_features else 'float64'} accumulators, {args.steps} steps per case)")
    sys.exit(0 if worst_ok else 1)


if __name__ == "__main__":
    main()
