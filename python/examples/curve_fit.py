#!/usr/bin/env python3
"""Nonlinear least squares with swift-optimus from Python: fit y = a·exp(−b·t)·cos(c·t + d) + e to noisy data.

    python3 python/examples/curve_fit.py [--seed 0] [--points 200]

Prints one row per solver: optimus' `lbfgs` and `bfgs`, the (untrained) learned `optimus` with the paper's
stopping rule, and scipy's own L-BFGS-B, all from the same start with the same analytic gradient.
"""
import argparse
import pathlib
import sys
import time

import numpy as np
from scipy.optimize import minimize as scipy_minimize

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import optimus_client  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--points", type=int, default=200)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    t = np.linspace(0, 6, args.points)
    truth = np.array([2.0, 0.4, 2.5, 0.3, 0.5])
    a, b, c, d, e = truth
    y = a * np.exp(-b * t) * np.cos(c * t + d) + e + rng.normal(0, 0.05, t.size)

    def loss(p):
        a, b, c, d, e = p
        decay = np.exp(-b * t)
        wave = np.cos(c * t + d)
        r = a * decay * wave + e - y
        grad = np.array([
            np.sum(r * decay * wave),
            np.sum(r * a * decay * wave * -t),
            np.sum(r * a * decay * -np.sin(c * t + d) * t),
            np.sum(r * a * decay * -np.sin(c * t + d)),
            np.sum(r),
        ])
        return 0.5 * float(r @ r), grad

    x0 = np.array([1.0, 0.1, 2.0, 0.0, 0.0])
    rows = []
    for name, run in [
        ("optimus lbfgs", lambda: optimus_client.minimize(loss, x0, optimizer="lbfgs", maxiter=200)),
        ("optimus bfgs", lambda: optimus_client.minimize(loss, x0, optimizer="bfgs", maxiter=200)),
        ("optimus (untrained, stopping rule)",
         lambda: optimus_client.minimize(loss, x0, optimizer="optimus", preset="small", maxiter=200,
                                         stopping_rule=True)),
        ("scipy L-BFGS-B", lambda: scipy_minimize(loss, x0, jac=True, method="L-BFGS-B", options={"maxiter": 200})),
    ]:
        start = time.perf_counter()
        r = run()
        seconds = time.perf_counter() - start
        rows.append((name, r.fun, r.nit, r.nfev, np.max(np.abs(r.x - truth)), seconds))
    print(f"{'solver':36s} {'loss':>12s} {'iterations':>10s} {'evaluations':>11s} {'max |p - truth|':>16s} {'seconds':>8s}")
    for name, f, nit, nfev, err, s in rows:
        print(f"{name:36s} {f:12.6g} {nit:10d} {nfev:11d} {err:16.4g} {s:8.3f}")


if __name__ == "__main__":
    main()
