#!/usr/bin/env python3
"""Independent NumPy reference traces for the golden-trace tests of the Swift optimizers.

Regenerate with:
    python3 scripts/golden_traces.py > Tests/OptimizersTests/Resources/golden-traces.json

Pinned versions used for the committed file: Python 3.11.7, numpy 2.4.6 (recorded in the output's "generator").

Each case records x0, the first 20 iterates x_1..x_20 and f(x_0)..f(x_20) of one optimizer on one function, written
in the textbook update order (the Swift code performs the same floating-point operations in the same order, so the
agreement is expected to be ~1e-15, and the tests require 1e-12):
    gd        x <- x - lr*g
    momentum  v <- mu*v + g;  x <- x - lr*v                      (PyTorch convention, v0 = 0)
    adam      m <- b1*m + (1-b1)*g;  v <- b2*v + (1-b2)*g*g;
              mhat = m/(1-b1**t);  vhat = v/(1-b2**t);  x <- x - lr*mhat/(sqrt(vhat)+eps)
"""
import json
import platform
import sys

import numpy as np


def rosenbrock(x):
    f = np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (x[:-1] - 1.0) ** 2)
    g = np.zeros_like(x)
    a = x[1:] - x[:-1] ** 2
    g[:-1] += -400.0 * x[:-1] * a + 2.0 * (x[:-1] - 1.0)
    g[1:] += 200.0 * a
    return float(f), g


QA = np.array([1.0, 2.0, 5.0, 10.0, 20.0])
QC = np.array([1.0, -1.0, 0.5, 2.0, -3.0])


def quadratic(x):
    r = x - QC
    return float(np.sum(0.5 * QA * r * r)), QA * r


def run(optimizer, params, function, x0, steps=20):
    fun = {"rosenbrock": rosenbrock, "quadratic": quadratic}[function]
    x = np.array(x0, dtype=np.float64)
    m = np.zeros_like(x)
    v = np.zeros_like(x)
    iterates, values = [], []
    for t in range(1, steps + 2):
        f, g = fun(x)
        values.append(f)
        if t == steps + 1:
            break
        if optimizer == "gd":
            x = x - params["learningRate"] * g
        elif optimizer == "momentum":
            m = params["momentum"] * m + g
            x = x - params["learningRate"] * m
        elif optimizer == "adam":
            b1, b2, eps, lr = params["beta1"], params["beta2"], params["epsilon"], params["learningRate"]
            m = b1 * m + (1.0 - b1) * g
            v = b2 * v + (1.0 - b2) * (g * g)
            mhat = m / (1.0 - b1 ** t)
            vhat = v / (1.0 - b2 ** t)
            x = x - lr * mhat / (np.sqrt(vhat) + eps)
        iterates.append([float(e) for e in x])
    return {"name": f"{optimizer}-{function}", "optimizer": optimizer, "parameters": params, "function": function,
            "dimension": len(x0), "x0": list(map(float, x0)), "iterates": iterates, "values": values}


def main():
    adam = {"learningRate": 0.01, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}
    cases = [
        run("adam", adam, "rosenbrock", [-1.2, 1.0]),
        run("adam", adam, "quadratic", [0.0] * 5),
        run("momentum", {"learningRate": 1e-4, "momentum": 0.9}, "rosenbrock", [-1.2, 1.0]),
        run("momentum", {"learningRate": 0.01, "momentum": 0.9}, "quadratic", [0.0] * 5),
        run("gd", {"learningRate": 0.01}, "quadratic", [0.0] * 5),
    ]
    out = {"generator": {"script": "scripts/golden_traces.py", "python": platform.python_version(),
                         "numpy": np.__version__},
           "quadratic": {"a": QA.tolist(), "c": QC.tolist(), "formula": "0.5 * sum(a * (x - c)**2)"},
           "cases": cases}
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
