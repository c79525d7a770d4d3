"""Python client for swift-optimus' `optimus serve` protocol (version 1, see docs/protocol.md).

    import optimus_client
    result = optimus_client.minimize(fun, x0, jac=True, optimizer="optimus", maxiter=100)
    scipy.optimize.minimize(fun, x0, jac=grad, method=optimus_client.method("bfgs"))

Standard library plus NumPy. One server process per run, started from the `optimus` binary; it ends when the run
ends, when the client closes it, or when this process goes away (the server stops at end of input).
"""
from __future__ import annotations

import base64
import json
import math
import os
import shutil
import subprocess
import time
import weakref
from pathlib import Path

import numpy as np

__all__ = ["minimize", "method", "OptimusError", "ObjectiveError", "ProtocolError", "OptimizeResult",
           "find_binary", "PROTOCOL_VERSION"]

PROTOCOL_VERSION = 1

try:  # Use scipy's result type when scipy is there; otherwise a compatible dict with attribute access.
    from scipy.optimize import OptimizeResult  # type: ignore
except Exception:  # pragma: no cover - exercised only without scipy
    class OptimizeResult(dict):
        """A dict whose keys are also attributes, like scipy.optimize.OptimizeResult."""

        def __getattr__(self, name):
            try:
                return self[name]
            except KeyError as e:
                raise AttributeError(name) from e

        __setattr__ = dict.__setitem__
        __delattr__ = dict.__delitem__


class OptimusError(RuntimeError):
    """A run could not be completed."""


class ObjectiveError(OptimusError):
    """The objective raised an exception; the run was ended. The original exception is the __cause__."""


class ProtocolError(OptimusError):
    """The server rejected a message or answered something unexpected."""


# Option names accepted by minimize(), mapped to the protocol's names. Protocol names are accepted as they are.
_OPTION_ALIASES = {
    "maxiter": "maxIterations", "max_iterations": "maxIterations",
    "maxfev": "maxEvaluations", "max_evaluations": "maxEvaluations",
    "gtol": "gradientTolerance", "gradient_tolerance": "gradientTolerance",
    "ftol": "valueTolerance", "value_tolerance": "valueTolerance",
    "xtol": "stepTolerance", "step_tolerance": "stepTolerance",
    "time_limit": "timeLimit",
    "stopping_rule": "stoppingRule",
    "learning_rate": "learningRate", "lr": "learningRate",
    "line_search": "lineSearch",
}
_PROTOCOL_OPTIONS = {"maxIterations", "maxEvaluations", "timeLimit", "gradientTolerance", "valueTolerance",
                     "stepTolerance", "stoppingRule", "learningRate", "lineSearch", "seed", "trace", "iterates"}
_IGNORED_SCIPY_OPTIONS = {"disp", "return_all"}
_CONVERGED = {"gradientTolerance", "valueTolerance", "stepTolerance", "stoppingRule"}
_BUDGET = {"iterationLimit", "evaluationLimit", "timeLimit"}


def find_binary() -> str:
    """The `optimus` executable: $OPTIMUS_BIN, else the newest build in a `.build` folder here or above, else PATH."""
    env = os.environ.get("OPTIMUS_BIN")
    if env:
        if not (os.path.isfile(env) and os.access(env, os.X_OK)):
            raise OptimusError(f"OPTIMUS_BIN={env!r} is not an executable file")
        return env
    starts = [Path.cwd(), Path(__file__).resolve().parent]
    for start in starts:
        for folder in [start, *start.parents]:
            # The newer of the release and debug builds, so a stale build is not picked over a fresh one.
            candidates = [folder / ".build" / config / "optimus" for config in ("release", "debug")]
            found = [c for c in candidates if c.is_file() and os.access(c, os.X_OK)]
            if found:
                return str(max(found, key=lambda c: c.stat().st_mtime))
    found = shutil.which("optimus")
    if found:
        return found
    raise OptimusError("cannot find the optimus binary: set OPTIMUS_BIN, or build it with `swift build` "
                       "(the client looks for .build/release/optimus and .build/debug/optimus)")


def _number(v: float):
    v = float(v)
    return v if math.isfinite(v) else None


def _array(values) -> list:
    a = np.asarray(values, dtype=np.float64).ravel()
    if np.all(np.isfinite(a)):
        return a.tolist()
    return [v if math.isfinite(v) else None for v in a.tolist()]


class _Server:
    """One `optimus serve` process speaking JSON Lines over pipes."""

    def __init__(self, binary: str | None = None):
        self.binary = binary or find_binary()
        self.process = subprocess.Popen([self.binary, "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL)  # buffered: readline must not read byte by byte
        self._finalizer = weakref.finalize(self, _Server._terminate, self.process)

    @staticmethod
    def _terminate(process):
        if process.poll() is None:
            try:
                process.stdin.close()
                process.wait(timeout=2)
            except Exception:
                process.kill()
                process.wait()

    def request(self, message: dict) -> dict:
        line = json.dumps(message, allow_nan=False, separators=(",", ":")) + "\n"
        try:
            self.process.stdin.write(line.encode())
            self.process.stdin.flush()
        except BrokenPipeError as e:
            raise OptimusError("the optimus server exited unexpectedly") from e
        reply = self.process.stdout.readline()
        if not reply:
            raise OptimusError("the optimus server closed its output unexpectedly")
        return json.loads(reply)

    def close(self):
        self._finalizer()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _protocol_options(options: dict) -> dict:
    out = {}
    for key, value in options.items():
        if key in _IGNORED_SCIPY_OPTIONS:
            continue
        name = _OPTION_ALIASES.get(key, key)
        if name not in _PROTOCOL_OPTIONS:
            valid = sorted(set(_OPTION_ALIASES) | _PROTOCOL_OPTIONS)
            raise TypeError(f"unknown option {key!r}; valid options: {', '.join(valid)}")
        if value is None:
            continue
        if isinstance(value, (np.floating, np.integer)):
            value = value.item()
        out[name] = value
    return out


def _make_evaluator(fun, jac, args):
    """A function x -> (f, g) from scipy-style fun/jac arguments; counts extra evaluations for differences."""
    if jac is True:
        def evaluate(x):
            f, g = fun(x, *args)
            return float(f), np.asarray(g, dtype=np.float64)
    elif callable(jac):
        def evaluate(x):
            return float(fun(x, *args)), np.asarray(jac(x, *args), dtype=np.float64)
    elif jac in (None, False):
        def evaluate(x):  # forward differences, h = sqrt(eps)·max(1, |x_i|)
            f = float(fun(x, *args))
            g = np.empty_like(x)
            for i in range(x.size):
                h = 1.4901161193847656e-08 * max(1.0, abs(x[i]))
                xp = x.copy()
                xp[i] += h
                g[i] = (float(fun(xp, *args)) - f) / h
            return f, g
    else:
        raise ValueError(f"jac must be True, a callable, or None; got {jac!r} "
                         "(finite-difference strings such as '2-point' are not supported)")
    return evaluate


def _encode_vector(values, encoding: str):
    if encoding == "base64":
        return base64.b64encode(np.ascontiguousarray(values, dtype="<f8").tobytes()).decode("ascii")
    return _array(values)


def _decode_vector(value) -> np.ndarray:
    if isinstance(value, str):
        return np.frombuffer(base64.b64decode(value), dtype="<f8").astype(np.float64)
    return np.array(value, dtype=np.float64)  # null (never sent for points) would become NaN


def minimize(fun, x0, args=(), jac=True, optimizer: str = "lbfgs", checkpoint: str | None = None,
             preset: str | None = None, binary: str | None = None, encoding: str = "base64",
             **options) -> OptimizeResult:
    """Minimizes `fun` from `x0` with a swift-optimus optimizer.

    fun, jac, args: as in scipy.optimize.minimize (jac=True: fun returns (f, grad); a callable: the gradient;
    None: forward differences, d extra evaluations each). A non-finite or None value means "not evaluable here".
    optimizer: "gd", "momentum", "adam", "bfgs", "lbfgs", "adafactor-mlp", "optimus" (with `checkpoint`, or an
    untrained `preset`).
    options: maxiter, maxfev, gtol, ftol, xtol, time_limit, stopping_rule (True or a dict), learning_rate,
    line_search ("strong-wolfe" | "backtracking"), seed, trace, iterates — or their protocol names.

    encoding: how vectors travel: "base64" (little-endian float64, exact and fast; the default) or "json"
    (decimal numbers that round-trip exactly, readable).

    Returns an OptimizeResult with x, fun, jac (at x), nit, nfev, njev, status (0 converged, 1 budget spent,
    2 failure), success, message, plus termination, final_x, final_fun, seconds and trace (if asked).
    Raises ObjectiveError if fun or jac raises (the run is ended), ProtocolError if the server rejects the request.
    """
    x = np.array(x0, dtype=np.float64).ravel()
    if x.size == 0:
        raise ValueError("x0 must not be empty")
    if not np.all(np.isfinite(x)):
        raise ValueError("x0 must contain only finite values")
    evaluate = _make_evaluator(fun, jac, args)
    if encoding not in ("base64", "json"):
        raise ValueError(f"encoding must be 'base64' or 'json', got {encoding!r}")
    start = {"type": "start", "protocol": PROTOCOL_VERSION, "optimizer": optimizer, "x0": _array(x),
             "options": _protocol_options(options), "encoding": encoding}
    if checkpoint is not None:
        start["checkpoint"] = os.fspath(checkpoint)
    if preset is not None:
        start["preset"] = preset
    best = (math.inf, None, None)
    began = time.perf_counter()
    with _Server(binary) as server:
        reply = server.request(start)
        evaluations = 0
        while reply.get("type") == "evaluate":
            point = _decode_vector(reply["x"])
            try:
                f, g = evaluate(point.copy())
            except Exception as e:
                raise ObjectiveError(f"the objective raised {type(e).__name__}: {e} (evaluation {evaluations + 1}, "
                                     f"run ended)") from e
            evaluations += 1
            f = math.nan if f is None else float(f)
            if g.shape != point.shape:
                raise ObjectiveError(f"the gradient has shape {g.shape}, expected {point.shape}")
            if math.isfinite(f) and f < best[0] and np.all(np.isfinite(g)):
                best = (f, point, g)
            reply = server.request({"type": "evaluation", "id": reply["id"], "value": _number(f),
                                    "gradient": _encode_vector(g, encoding)})
        if reply.get("type") == "error":
            raise ProtocolError(f"{reply.get('field', 'message')}: {reply.get('message')} ({reply.get('code')})")
        if reply.get("type") != "result":
            raise ProtocolError(f"unexpected reply {reply!r}")
    termination = reply["termination"]
    status = 0 if termination in _CONVERGED else (1 if termination in _BUDGET else 2)
    value = reply["value"]
    result = OptimizeResult(
        x=np.array(reply["x"], dtype=np.float64),
        fun=math.nan if value is None else value,
        jac=best[2] if best[1] is not None and np.array_equal(best[1], np.array(reply["x"])) else None,
        nit=reply["iterations"], nfev=reply["functionEvaluations"], njev=reply["gradientEvaluations"],
        status=status, success=status == 0, message=termination, termination=termination,
        final_x=np.array([math.nan if v is None else v for v in reply["finalPoint"]], dtype=np.float64),
        final_fun=math.nan if reply["finalValue"] is None else reply["finalValue"],
        initial_fun=math.nan if reply["initialValue"] is None else reply["initialValue"],
        optimizer=reply["optimizer"], seconds=time.perf_counter() - began, server_seconds=reply["seconds"],
    )
    if "trace" in reply:
        result["trace"] = reply["trace"]
    return result


def method(name: str, **fixed_options):
    """A callable for scipy.optimize.minimize(..., method=optimus_client.method("bfgs")).

    Options given here are fixed; options passed through scipy's `options=` are added (scipy names such as
    maxiter and gtol work). Bounds and constraints are rejected: every optimizer here is unconstrained.
    """
    def _minimize(fun, x0, args=(), jac=None, hess=None, hessp=None, bounds=None, constraints=(), callback=None,
                  **options):
        if bounds is not None:
            raise ValueError(f"optimus {name} is unconstrained; bounds are not supported")
        if constraints:
            raise ValueError(f"optimus {name} is unconstrained; constraints are not supported")
        if callback is not None:
            raise ValueError("callback is not supported by optimus methods")
        merged = {**fixed_options, **options}
        return minimize(fun, x0, args=args, jac=jac, optimizer=name, **merged)

    _minimize.__name__ = f"optimus_{name.replace('-', '_')}"
    return _minimize
