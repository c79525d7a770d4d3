"""Times the JAX/XLA reference of one Optimus step (optimus_jax.py) on the CPU, one thread.

For each preset and N: random weights (init_params, fixed seed), x uniform in [-1, 1], a fixed normal gradient, and
  forward_ms      one jitted step(params, state, x, g) -> (new_state, delta), the state fed back (donated) as the
                  project's `optimus-bench learned` does (its B changes every step);
  vjp_ms          one jitted forward + backward: the gradient in params of sum(delta * w) by jax.vjp, state constant;
  vjp_unroll_ms   (with --vjp unroll or both) forward + backward of one step as inside an unrolled meta-gradient: the vjp
                  of (new_state, delta) in params, the state (accumulators, B, power vector), x and g.
Warm-up (compilation and 3 calls) excluded; each number is the median over at least --repeats calls and --seconds
seconds (the mean is printed too). One JSON object per line: {preset, n, forward_ms, vjp_ms, ...}.

One thread: XLA_FLAGS defaults to `--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1` when unset;
pin the process with `taskset -c CORE` (side_by_side.sh does).
"""
from __future__ import annotations

import os

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

import optimus_jax as oj  # noqa: E402


def timed(call, seconds, repeats):
    """Runs call() (which blocks until its result is ready) 3 times, then until both `seconds` and `repeats` are
    reached; per-call times in ms."""
    for _ in range(3):
        call()
    times = []
    start = time.perf_counter()
    while len(times) < repeats or time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        call()
        times.append(1000 * (time.perf_counter() - t0))
    return times


def bench(preset, n, seconds, repeats, seed, vjp_modes):
    config = oj.PRESETS[preset]
    params = {k: jnp.asarray(v) for k, v in oj.init_params(config, seed).items()}
    rng = np.random.default_rng(n)
    x = jnp.asarray(rng.uniform(-1, 1, n), jnp.float32)
    g = jnp.asarray(rng.standard_normal(n), jnp.float32)
    w = jnp.asarray(rng.standard_normal(n), jnp.float32)
    record = {"preset": preset, "n": n}

    step = oj.make_step(config, donate_state=True)
    holder = {"state": oj.init_state(n)}

    def forward():
        holder["state"], delta = step(params, holder["state"], x, g)
        delta.block_until_ready()

    t = timed(forward, seconds, repeats)
    record.update(forward_ms=statistics.median(t), forward_mean_ms=statistics.fmean(t), forward_calls=len(t))

    # A state after one step (B no longer the identity) for the backward passes.
    state = oj.make_step(config)(params, oj.init_state(n), x, g)[0]
    if "params" in vjp_modes:
        vjp = oj.make_step_vjp(config, "params")

        def backward():
            jax.block_until_ready(vjp(params, state, x, g, w))

        t = timed(backward, seconds, repeats)
        record.update(vjp_ms=statistics.median(t), vjp_mean_ms=statistics.fmean(t), vjp_calls=len(t))
    if "unroll" in vjp_modes:
        vjp = oj.make_step_vjp(config, "unroll")
        bar = {k: jnp.asarray(rng.standard_normal(state[k].shape), jnp.float32)
               for k in ("m", "r", "v", "B", "pv")}

        def backward_unroll():
            jax.block_until_ready(vjp(params, state, x, g, w, bar))

        t = timed(backward_unroll, seconds, repeats)
        record.update(vjp_unroll_ms=statistics.median(t), vjp_unroll_mean_ms=statistics.fmean(t),
                      vjp_unroll_calls=len(t))
    return record


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--presets", default="paper,small")
    ap.add_argument("--dimensions", default="10,25,100,250,1000,2000")
    ap.add_argument("--seconds", type=float, default=1.0, help="minimum measured seconds per number")
    ap.add_argument("--repeats", type=int, default=5, help="minimum measured calls per number")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--vjp", default="params", choices=["params", "unroll", "both", "none"])
    args = ap.parse_args()
    modes = {"params": {"params"}, "unroll": {"unroll"}, "both": {"params", "unroll"}, "none": set()}[args.vjp]
    info = {"jax": jax.__version__, "xla_flags": os.environ.get("XLA_FLAGS", ""),
            "cpus": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
            "device": str(jax.devices()[0])}
    for preset in args.presets.split(","):
        for n in [int(v) for v in args.dimensions.split(",")]:
            record = bench(preset, n, args.seconds, args.repeats, args.seed, modes)
            record.update(info)
            print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
