#!/usr/bin/env python3
"""Protocol round-trip overhead per evaluation, measured from Python.

    python3 python/benchmarks/roundtrip.py [--dimensions 10 1000] [--evaluations 2000]

Runs plain gradient descent (lr 1e-12, so the point barely moves and every step is one evaluation) on a sphere
whose value and gradient cost ~nothing, and reports wall time per evaluation minus the time spent inside the
objective: encoding and decoding on both sides (base64 float64 vectors, the client's default, or JSON decimals), the pipe, and the optimizer's own step.
"""
import argparse
import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import optimus_client  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dimensions", type=int, nargs="+", default=[10, 1000])
    ap.add_argument("--evaluations", type=int, default=2000)
    args = ap.parse_args()
    print(f"binary: {optimus_client.find_binary()}")
    print("| encoding | d | evaluations | total s | objective s | overhead per evaluation (ms) |")
    print("|---|---:|---:|---:|---:|---:|")
    for encoding, d in [(e, d) for e in ("base64", "json") for d in args.dimensions]:
        inside = [0.0]

        def sphere(x):
            t = time.perf_counter()
            out = float(x @ x), 2 * x
            inside[0] += time.perf_counter() - t
            return out

        x0 = np.linspace(-1, 1, d)
        start = time.perf_counter()
        r = optimus_client.minimize(sphere, x0, optimizer="gd", learning_rate=1e-12, maxiter=args.evaluations,
                                    gtol=0, encoding=encoding)
        total = time.perf_counter() - start
        overhead = (total - inside[0]) / r.nfev
        print(f"| {encoding} | {d} | {r.nfev} | {total:.3f} | {inside[0]:.3f} | {overhead * 1000:.3f} |")


if __name__ == "__main__":
    main()
