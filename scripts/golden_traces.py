#!/usr/bin/env python3
"""Independent NumPy reference traces for the golden-trace tests of the Swift optimizers.

Purpose
    Tests/OptimizersTests/GoldenTraceTests.swift runs the Swift Adam, Momentum and GradientDescent optimizers for 20
    steps and compares every iterate and objective value with the traces in
    Tests/OptimizersTests/Resources/golden-traces.json, which this script writes. The reference is written from the
    textbook formulas below, independently of the Swift code, in float64 throughout.

Regenerate (from the repository root):
    python3 scripts/golden_traces.py
    (writes Tests/OptimizersTests/Resources/golden-traces.json; `--output -` prints to stdout instead)

Pinned versions used for the committed file: Python 3.11.7, numpy 2.4.6. The versions actually used are recorded in
the output under "generator" (python, numpy), so a regenerated file shows what produced it.

Update rules, one step per gradient g = grad f(x), t = 1, 2, ... (each written in this arithmetic order):
    gd        x <- x - lr*g
    momentum  v <- mu*v + g;  x <- x - lr*v                  (PyTorch convention, v0 = 0)
    adam      m <- b1*m + (1-b1)*g;  v <- b2*v + (1-b2)*g*g  (m0 = v0 = 0, Kingma & Ba, bias-corrected)
              mhat = m/(1-b1**t);  vhat = v/(1-b2**t);  x <- x - lr*mhat/(sqrt(vhat)+eps)
Functions:
    rosenbrock  f(x) = sum_{i<d} [100*(x_{i+1} - x_i**2)**2 + (x_i - 1)**2], analytic gradient
    quadratic   f(x) = 1/2 * sum_i a_i*(x_i - c_i)**2, d = 5, a = (1, 2, 5, 10, 20), c = (1, -1, 0.5, 2, -3)
Sums over coordinates are accumulated left to right (i = 0, 1, ...) in a plain loop. Elementwise updates use NumPy
float64 arrays (each element is one IEEE operation, so no ordering question arises there).

Each case holds name, optimizer, parameters (the hyperparameters; the Swift test decodes this key), function,
dimension, x0, iterates (x_1..x_20, each a full list) and values (f(x_0)..f(x_20)). JSON floats are written with
repr, which round-trips float64 exactly.
"""
import argparse
import json
import math
import os
import platform
import sys

import numpy as np

STEPS = 20
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUTPUT = os.path.join(ROOT, "Tests", "OptimizersTests", "Resources", "golden-traces.json")

QUADRATIC_A = np.array([1.0, 2.0, 5.0, 10.0, 20.0], dtype=np.float64)
QUADRATIC_C = np.array([1.0, -1.0, 0.5, 2.0, -3.0], dtype=np.float64)


def left_to_right_sum(terms):
    total = np.float64(0.0)
    for term in terms:
        total = total + term
    return total


def rosenbrock(x):
    """Value and analytic gradient of the d-dimensional Rosenbrock function."""
    d = x.size
    terms = []
    grad = np.zeros(d, dtype=np.float64)
    for i in range(d - 1):
        r = x[i + 1] - x[i] * x[i]          # x_{i+1} - x_i^2
        s = x[i] - 1.0                       # x_i - 1
        terms.append(100.0 * (r * r) + s * s)
        grad[i] = grad[i] + (-400.0 * x[i] * r + 2.0 * s)
        grad[i + 1] = grad[i + 1] + 200.0 * r
    return float(left_to_right_sum(terms)), grad


def quadratic(x):
    """Value and gradient of f(x) = 1/2 sum a_i (x_i - c_i)^2."""
    r = x - QUADRATIC_C
    terms = [0.5 * QUADRATIC_A[i] * r[i] * r[i] for i in range(x.size)]
    return float(left_to_right_sum(terms)), QUADRATIC_A * r


FUNCTIONS = {"rosenbrock": rosenbrock, "quadratic": quadratic}


def check_gradient(fun, x, h=1e-6):
    """Guard against a typo in an analytic gradient: compare with central differences."""
    _, g = fun(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        fd = (fun(x + e)[0] - fun(x - e)[0]) / (2.0 * h)
        if abs(fd - g[i]) > 1e-5 * max(1.0, abs(g[i])):
            raise AssertionError(f"gradient mismatch in component {i}: analytic {g[i]}, finite difference {fd}")


class GradientDescent:
    def __init__(self, learningRate):
        self.lr = learningRate

    def step(self, x, g, t):
        return x - self.lr * g


class Momentum:
    def __init__(self, learningRate, momentum):
        self.lr = learningRate
        self.mu = momentum
        self.v = None

    def step(self, x, g, t):
        if self.v is None:
            self.v = np.zeros_like(x)
        self.v = self.mu * self.v + g
        return x - self.lr * self.v


class Adam:
    def __init__(self, learningRate, beta1, beta2, epsilon):
        self.lr, self.b1, self.b2, self.eps = learningRate, beta1, beta2, epsilon
        self.m = None
        self.v = None

    def step(self, x, g, t):
        if self.m is None:
            self.m = np.zeros_like(x)
            self.v = np.zeros_like(x)
        self.m = self.b1 * self.m + (1.0 - self.b1) * g
        self.v = self.b2 * self.v + (1.0 - self.b2) * (g * g)
        mhat = self.m / (1.0 - self.b1 ** t)
        vhat = self.v / (1.0 - self.b2 ** t)
        return x - self.lr * mhat / (np.sqrt(vhat) + self.eps)


OPTIMIZERS = {"gd": GradientDescent, "momentum": Momentum, "adam": Adam}


def trace(optimizer, parameters, function, x0):
    fun = FUNCTIONS[function]
    opt = OPTIMIZERS[optimizer](**parameters)
    x = np.array(x0, dtype=np.float64)
    check_gradient(fun, x)
    f, g = fun(x)
    values = [f]
    iterates = []
    for t in range(1, STEPS + 1):
        x = opt.step(x, g, t)
        f, g = fun(x)
        iterates.append([float(e) for e in x])
        values.append(f)
    assert len(iterates) == STEPS and len(values) == STEPS + 1
    assert all(math.isfinite(v) for v in values), f"{optimizer}-{function}: non-finite value"
    return {
        "name": f"{optimizer}-{function}",
        "optimizer": optimizer,
        "parameters": dict(parameters),
        "function": function,
        "dimension": len(x0),
        "x0": [float(e) for e in x0],
        "iterates": iterates,
        "values": values,
    }


def build():
    adam = {"learningRate": 0.01, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}
    rosenbrock_x0 = [-1.2, 1.0]
    quadratic_x0 = [0.0] * 5
    cases = [
        trace("adam", adam, "rosenbrock", rosenbrock_x0),
        trace("adam", adam, "quadratic", quadratic_x0),
        trace("momentum", {"learningRate": 1e-4, "momentum": 0.9}, "rosenbrock", rosenbrock_x0),
        trace("momentum", {"learningRate": 0.01, "momentum": 0.9}, "quadratic", quadratic_x0),
        trace("gd", {"learningRate": 0.01}, "quadratic", quadratic_x0),
    ]
    return {
        "generator": {
            "script": "scripts/golden_traces.py",
            "command": "python3 scripts/golden_traces.py",
            "python": platform.python_version(),
            "numpy": np.__version__,
            "steps": STEPS,
        },
        "quadratic": {"a": QUADRATIC_A.tolist(), "c": QUADRATIC_C.tolist(), "formula": "0.5 * sum(a * (x - c)**2)"},
        "rosenbrock": {"formula": "sum_{i<d} 100*(x[i+1] - x[i]**2)**2 + (x[i] - 1)**2"},
        "cases": cases,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--output", default=DEFAULT_OUTPUT, help="JSON file to write, or - for stdout")
    args = ap.parse_args()
    text = json.dumps(build(), indent=1) + "\n"
    # Exact round trip: parsing the text back must give bit-identical floats.
    assert json.loads(text) == json.loads(json.dumps(build()))
    if args.output == "-":
        sys.stdout.write(text)
    else:
        os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
        with open(args.output, "w") as fh:
            fh.write(text)
        print(f"wrote {args.output} (python {platform.python_version()}, numpy {np.__version__})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
