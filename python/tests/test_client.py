"""Tests of the Python client against the real `optimus serve` binary."""
import json
import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from scipy.optimize import minimize as scipy_minimize, rosen, rosen_der

import optimus_client

BIN = os.environ["OPTIMUS_BIN"]


def rosenbrock(x):
    """Rosenbrock with the same floating-point operations, in the same order, as the Swift implementation."""
    f = 0.0
    g = [0.0] * len(x)
    for k in range(len(x) - 1):
        a = x[k + 1] - x[k] * x[k]
        b = x[k] - 1
        f += 100 * a * a + b * b
        g[k] += -400 * x[k] * a + 2 * b
        g[k + 1] += 200 * a
    return f, np.array(g)


def test_client_and_cli_give_identical_iterates(tmp_path):
    rng = np.random.default_rng(3)
    x0 = rng.uniform(-5, 10, 10)
    (tmp_path / "x0.json").write_text(json.dumps(x0.tolist()))
    cli = json.loads(subprocess.run(
        [BIN, "minimize", "--function", "rosenbrock", "--dimension", "10", "--optimizer", "lbfgs",
         "--iterations", "200", "--x0", str(tmp_path / "x0.json"), "--iterates", "--json"],
        check=True, capture_output=True, text=True).stdout)
    for encoding in ("base64", "json"):
        result = optimus_client.minimize(lambda x: rosenbrock(x.tolist()), x0, jac=True, optimizer="lbfgs",
                                          maxiter=200, iterates=True, encoding=encoding)
        assert result.nit == cli["iterations"] and result.nfev == cli["functionEvaluations"]
        assert len(result.trace) == len(cli["trace"])
        for a, b in zip(result.trace, cli["trace"]):
            assert a["x"] == b["x"]          # bit-identical iterates
            assert a["value"] == b["value"]  # and values
        assert result.fun == cli["bestValue"] and result.x.tolist() == cli["x"]
        assert result.fun < 1e-8


def test_scipy_method_bfgs_on_rosen():
    x0 = np.array([-1.2, 1.0, -0.5, 0.8, 1.5])
    result = scipy_minimize(rosen, x0, jac=rosen_der, method=optimus_client.method("bfgs"),
                            options={"maxiter": 500})
    assert result.success, result.message
    assert result.fun < 1e-10
    assert np.allclose(result.x, 1.0, atol=1e-5)
    assert result.nfev == result.njev >= result.nit


def test_every_optimizer_runs_through_the_client():
    def sphere(x):
        return float(x @ x), 2 * x
    for name, extra in [("gd", {"learning_rate": 0.1}), ("momentum", {"learning_rate": 0.05}),
                        ("adam", {"learning_rate": 0.1}), ("lbfgs", {}), ("bfgs", {"line_search": "backtracking"}),
                        ("adafactor-mlp", {"preset": "reference"}), ("optimus", {"preset": "small", "seed": 3})]:
        preset = extra.pop("preset", None)
        r = optimus_client.minimize(sphere, np.full(6, 2.0), optimizer=name, preset=preset, maxiter=30, **extra)
        assert r.nit <= 30 and np.isfinite(r.fun), name
        assert r.fun <= 24.0, name  # never worse than the start (best point kept)


def test_objective_exception_ends_the_run_clearly():
    calls = []

    def broken(x):
        calls.append(1)
        if len(calls) == 3:
            raise ValueError("simulation diverged")
        return float(x @ x), 2 * x

    with pytest.raises(optimus_client.ObjectiveError, match="ValueError: simulation diverged") as info:
        optimus_client.minimize(broken, np.ones(3), optimizer="adam", learning_rate=0.1)
    assert isinstance(info.value.__cause__, ValueError)


def test_bad_requests_raise_naming_the_field():
    with pytest.raises(TypeError, match="tolerance"):
        optimus_client.minimize(lambda x: (0.0, x), np.ones(2), tolerance=1)
    with pytest.raises(optimus_client.ProtocolError, match="optimizer"):
        optimus_client.minimize(lambda x: (0.0, x), np.ones(2), optimizer="newton")
    with pytest.raises(optimus_client.ProtocolError, match="learningRate"):
        optimus_client.minimize(lambda x: (0.0, x), np.ones(2), optimizer="adam", learning_rate=-1)
    with pytest.raises(ValueError, match="finite"):
        optimus_client.minimize(lambda x: (0.0, x), [1.0, float("nan")])


def test_nan_objective_values_are_reported_not_raised():
    def cliff(x):
        if np.any(np.abs(x) > 3):
            return float("nan"), np.full_like(x, np.nan)
        return float(x @ x), 2 * x
    r = optimus_client.minimize(cliff, np.full(2, 2.9), optimizer="adam", learning_rate=5.0, maxiter=50)
    assert np.isfinite(r.fun)
    r = optimus_client.minimize(cliff, np.full(2, 2.9), optimizer="bfgs")
    assert r.fun < 1e-12


def _children(pid):
    out = []
    for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _alive(pid):
    try:
        state = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_server_does_not_outlive_a_killed_client(tmp_path):
    script = textwrap.dedent(f"""
        import sys, time, numpy as np
        sys.path.insert(0, {str(pathlib.Path(optimus_client.__file__).parents[1])!r})
        import optimus_client
        def slow(x):
            print("ready", flush=True)
            time.sleep(60)
            return 0.0, x
        optimus_client.minimize(slow, np.ones(3), optimizer="lbfgs")
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                             env={**os.environ})
    assert child.stdout.readline().strip() == "ready"
    servers = _children(child.pid)
    assert len(servers) == 1
    child.send_signal(signal.SIGKILL)
    child.wait()
    deadline = time.time() + 10
    while time.time() < deadline and _alive(servers[0]):
        time.sleep(0.05)
    assert not _alive(servers[0]), "the server outlived its client"
