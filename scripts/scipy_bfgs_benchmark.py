#!/usr/bin/env python3
"""scipy's BFGS and L-BFGS-B seconds per iteration, the reference side of `make bench`.

Command (from the repository root; this is what `make bench` runs):
    python3 scripts/scipy_bfgs_benchmark.py --dimensions 1000 --json .build/scipy-bfgs.json
All options, with their defaults:
    python3 scripts/scipy_bfgs_benchmark.py [--dimensions 1000 ...] [--iterations 100] [--repeats 3] [--seed 1]
                                            [--threads 1] [--json FILE]
Versions used for the reported numbers: Python 3.11.7, numpy 2.4.6, scipy 1.17.1 (scipy-openblas 0.3.31); the
versions of each run are recorded in every JSON record under "versions".

Protocol (docs/reference-data.md, "Scipy baseline protocol"): float64, unshifted functions, analytic gradients, no
bounds, scipy.optimize.minimize(method="BFGS" / "L-BFGS-B", options={'maxiter': iterations}), scipy defaults
otherwise (gtol 1e-5; L-BFGS-B m = 10).
    rosenbrock   f(x) = sum_{i<d} 100 (x_{i+1} - x_i^2)^2 + (x_i - 1)^2, start x0 ~ U[-5, 10]^d
    sum_squares  f(x) = sum_i i x_i^2 (i = 1..d),                          start x0 ~ U[-10, 10]^d
The start is numpy.random.default_rng(seed).uniform(lo, hi, d), a fresh generator per (function, d), so both solvers
start from the same point; it is written to the JSON ("x0") so the Swift benchmark times the same problems.
Each (solver, function, d) is run --repeats times; each run's wall time is measured with time.perf_counter, and
seconds per iteration = best wall time / nit.

--threads N sets OPENBLAS_NUM_THREADS, OMP_NUM_THREADS and MKL_NUM_THREADS before numpy is imported (default 1, so a
single-threaded scipy is compared with the single-threaded Swift benchmark).

Output: a Markdown table on stdout; with --json FILE, a JSON list of records with keys solver ("bfgs" / "lbfgs"),
method (scipy's name), function, dimension, seed, iterations (nit), functionEvaluations (nfev), gradientEvaluations
(njev), finalValue, secondsPerIteration, secondsTotal (best run), secondsPerRun (all runs), x0, versions.
"""
import argparse
import json
import os
import platform
import sys
import time

SOLVERS = (("bfgs", "BFGS"), ("lbfgs", "L-BFGS-B"))
FUNCTIONS = (("rosenbrock", (-5.0, 10.0)), ("sum_squares", (-10.0, 10.0)))


def parse_arguments():
    ap = argparse.ArgumentParser(description="scipy BFGS / L-BFGS-B seconds per iteration")
    ap.add_argument("--dimensions", type=int, nargs="+", default=[1000], help="problem dimensions (default 1000)")
    ap.add_argument("--iterations", type=int, default=100, help="options['maxiter'] (default 100)")
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per (solver, function, d) (default 3)")
    ap.add_argument("--seed", type=int, default=1, help="seed of numpy.random.default_rng for x0 (default 1)")
    ap.add_argument("--threads", type=int, default=1, help="BLAS / OpenMP threads (default 1)")
    ap.add_argument("--json", metavar="FILE", default=None, help="also write the records as JSON to FILE")
    args = ap.parse_args()
    if args.repeats < 1 or args.iterations < 1 or args.threads < 1 or min(args.dimensions) < 2:
        ap.error("--repeats, --iterations and --threads must be >= 1, dimensions >= 2")
    return args


def main():
    args = parse_arguments()
    # Must happen before numpy (and so OpenBLAS) is loaded: the thread count is read once, at library load.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import numpy as np
    import scipy
    from scipy.optimize import minimize

    def rosenbrock(x):
        head, tail = x[:-1], x[1:]
        r = tail - head * head
        s = head - 1.0
        value = np.sum(100.0 * (r * r) + s * s)
        grad = np.zeros_like(x)
        grad[:-1] = -400.0 * head * r + 2.0 * s
        grad[1:] += 200.0 * r
        return float(value), grad

    weights = {}

    def sum_squares(x):
        i = weights.get(x.size)
        if i is None:
            i = weights[x.size] = np.arange(1, x.size + 1, dtype=np.float64)
        return float(np.sum(i * (x * x))), 2.0 * i * x

    objectives = {"rosenbrock": rosenbrock, "sum_squares": sum_squares}
    versions = {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
                "threads": args.threads, "machine": platform.machine()}

    records = []
    for d in args.dimensions:
        for function, (lo, hi) in FUNCTIONS:
            x0 = np.random.default_rng(args.seed).uniform(lo, hi, d)
            fun = objectives[function]
            for solver, method in SOLVERS:
                walls, result = [], None
                for _ in range(args.repeats):
                    start = time.perf_counter()
                    res = minimize(fun, x0.copy(), jac=True, method=method, options={"maxiter": args.iterations})
                    walls.append(time.perf_counter() - start)
                    if result is not None and (res.nit != result.nit or res.fun != result.fun):
                        print(f"warning: {method} on {function} d={d} not deterministic across repeats",
                              file=sys.stderr)
                    result = res
                best = min(walls)
                nit = int(result.nit)
                records.append({
                    "solver": solver, "method": method, "function": function, "dimension": d, "seed": args.seed,
                    "iterations": nit, "functionEvaluations": int(result.nfev),
                    "gradientEvaluations": int(result.njev), "finalValue": float(result.fun),
                    "secondsPerIteration": best / max(1, nit), "secondsTotal": best, "secondsPerRun": walls,
                    "x0": [float(v) for v in x0], "versions": versions,
                })

    print(f"scipy {scipy.__version__}, numpy {np.__version__}, Python {platform.python_version()}; "
          f"{args.threads} BLAS thread(s); maxiter {args.iterations}, best of {args.repeats}, seed {args.seed}")
    print()
    print("| solver | function | d | nit | nfev | njev | f final | best wall (s) | s/iter |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in records:
        print(f"| {r['method']} | {r['function']} | {r['dimension']} | {r['iterations']} | "
              f"{r['functionEvaluations']} | {r['gradientEvaluations']} | {r['finalValue']:.4g} | "
              f"{r['secondsTotal']:.4g} | {r['secondsPerIteration']:.3e} |")
    if args.json:
        directory = os.path.dirname(os.path.abspath(args.json))
        os.makedirs(directory, exist_ok=True)
        with open(args.json, "w") as fh:
            json.dump(records, fh)
            fh.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
