#!/usr/bin/env python3
"""scipy's BFGS and L-BFGS-B seconds per iteration, for the side-by-side benchmark of `make bench`.

Usage:
    python3 scripts/scipy_bfgs_benchmark.py [--dimensions 1000] [--iterations 100] [--repeats 3] [--seed 1]
                                            [--threads 1] [--json FILE]
Versions used for the reported numbers: Python 3.11.7, numpy 2.4.6, scipy 1.17.1 (recorded in the JSON).

Problems: Rosenbrock (start U[-5, 10]^d) and Sum Squares (start U[-10, 10]^d), unshifted, analytic gradients, no
bounds, options={'maxiter': iterations}, scipy defaults otherwise. The starting points are written to the JSON so the
Swift benchmark runs from the same points. Seconds per iteration = best wall time over the repeats / nit.
"""
import argparse
import json
import os
import platform
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dimensions", type=int, nargs="+", default=[1000])
    ap.add_argument("--iterations", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", type=str, default=None)
    args = ap.parse_args()
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import numpy as np
    import scipy
    from scipy.optimize import minimize

    def rosenbrock(x):
        a = x[1:] - x[:-1] ** 2
        f = np.sum(100.0 * a * a + (x[:-1] - 1.0) ** 2)
        g = np.zeros_like(x)
        g[:-1] = -400.0 * x[:-1] * a + 2.0 * (x[:-1] - 1.0)
        g[1:] += 200.0 * a
        return f, g

    def sum_squares(x):
        i = np.arange(1, x.size + 1, dtype=np.float64)
        return np.sum(i * x * x), 2.0 * i * x

    problems = [("rosenbrock", rosenbrock, (-5.0, 10.0)), ("sum_squares", sum_squares, (-10.0, 10.0))]
    records = []
    for d in args.dimensions:
        for name, fun, (lo, hi) in problems:
            x0 = np.random.default_rng(args.seed).uniform(lo, hi, d)
            for method, solver in (("BFGS", "bfgs"), ("L-BFGS-B", "lbfgs")):
                best = float("inf")
                res = None
                for _ in range(args.repeats):
                    t0 = time.perf_counter()
                    res = minimize(fun, x0, jac=True, method=method, options={"maxiter": args.iterations})
                    best = min(best, time.perf_counter() - t0)
                records.append({
                    "solver": solver, "method": method, "function": name, "dimension": d, "seed": args.seed,
                    "iterations": int(res.nit), "functionEvaluations": int(res.nfev),
                    "gradientEvaluations": int(res.njev), "finalValue": float(res.fun),
                    "secondsTotal": best, "secondsPerIteration": best / max(1, int(res.nit)),
                    "x0": [float(v) for v in x0],
                    "versions": {"python": platform.python_version(), "numpy": np.__version__,
                                 "scipy": scipy.__version__, "threads": args.threads},
                })
    print("| scipy method | function | d | nit | nfev | f final | s/iter |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in records:
        print(f"| {r['method']} | {r['function']} | {r['dimension']} | {r['iterations']} | "
              f"{r['functionEvaluations']} | {r['finalValue']:.3g} | {r['secondsPerIteration']:.3e} |")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(records, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
