"""A plain JAX/XLA reference of one Optimus step, the same network as swift-optimus' `Optimus` (benchmark only).

It reproduces, operation for operation, `Sources/LearnedOptimizers/OptimusOptimizer.swift` (full variant, spectral
norm) with the features of `AdafactorFeatures.swift` and the layers of `Sources/NeuralNetworks/`:

    z = AdafactorFeatures(x, g)                       [N, 39]: 28 channels / RMS over coordinates, 11 tanh(t/T - 1)
    (d, a) = MLP(z),  s = la * exp(lb * a) * d          relu MLP, la = lb = 0.1
    E0 = z W_in + b_in,  El = Encoder_l(E(l-1)),  u_l = El M_l + c_l
    B~ = B + sum_l u_l u_l^T,  B <- B~ / lambda         lambda by `powerIterations` warm-started power iterations
    delta = B s                                         (x <- x - delta)

Encoder: pre-norm, h = x + MHSA(LN1 x), y = h + FFN(LN2 h); LN eps = 1e-5; MHSA with one fused qkv projection
[d, 3d] split Q | K | V, heads as column blocks of width d / heads, scores (Q_h K_h^T) / sqrt(d_h), row softmax;
FFN Dense -> relu -> Dense. Dense is y = x W + b with W [in, out].

Parameters are a dict name -> float32 array with the names and shapes of the Swift `ParameterLayout` (so a project
checkpoint loads with `load_checkpoint`). The state is a dict {m [N,3], r [N], v [N,3], B [N,N], pv [N], t []}:
the Adafactor accumulators (momentum, RMS, "Adafactor" second moments), the preconditioner, the power-iteration
vector and the number of updates so far. The network always runs in float32; the accumulators run in the dtype they
are given (float32 for the benchmark; float64 when `jax_enable_x64` is on, as the Swift code keeps them in Double --
the correctness check uses that).

Differences from the Swift code that are not bit-exact by construction: exp is XLA's (Swift uses a 2-ulp polynomial
`Float.expApprox`), sums and matrix products are reduced in XLA's order, not OpenBLAS's.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

import numpy as np

import jax
import jax.numpy as jnp

FEATURES = 39
NORMALIZED = 28
TIMESCALES = (1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0, 10000.0, 30000.0, 100000.0)
BASE_MOMENTUM = (0.9, 0.99, 0.999)
BASE_RMS = 0.999
BASE_ADAFACTOR = (0.9, 0.99, 0.999)
CHECKPOINT_FORMAT = "swift-optimus-checkpoint-1"


@dataclasses.dataclass(frozen=True)
class Config:
    """`Optimus.Configuration` (field names as in the Swift JSON)."""
    mlpHiddenSize: int = 128
    mlpHiddenLayers: int = 4
    modelWidth: int = 128
    encoderLayers: int = 3
    heads: int = 2
    feedForwardWidth: int = 512
    lambdaA: float = 0.1
    lambdaB: float = 0.1
    norm: str = "spectral"
    powerIterations: int = 8
    variant: str = "full"

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True, separators=(",", ":"))

    @staticmethod
    def from_json(text: str) -> "Config":
        c = Config(**json.loads(text))
        if c.variant != "full" or c.norm != "spectral":
            raise ValueError(f"only variant full with the spectral norm is implemented, got {c.variant}/{c.norm}")
        if c.modelWidth % c.heads != 0:
            raise ValueError(f"heads {c.heads} does not divide modelWidth {c.modelWidth}")
        return c


PRESETS = {
    "paper": Config(),
    "small": Config(mlpHiddenSize=32, mlpHiddenLayers=2, modelWidth=32, encoderLayers=2, heads=2, feedForwardWidth=64),
}


# ----------------------------------------------------------------------------------------------------------------------
# Parameters


def layout(c: Config) -> list[tuple[str, tuple[int, ...]]]:
    """The Swift `ParameterLayout` of `Optimus(configuration: c)`: (name, shape) in buffer order."""
    out: list[tuple[str, tuple[int, ...]]] = [("decays", (7,))]

    def dense(name, i, o):
        out.append((f"{name}.weight", (i, o)))
        out.append((f"{name}.bias", (o,)))

    sizes = [FEATURES] + [c.mlpHiddenSize] * c.mlpHiddenLayers + [2]
    for l in range(len(sizes) - 1):
        dense(f"step_mlp.{l}", sizes[l], sizes[l + 1])
    d = c.modelWidth
    dense("input", FEATURES, d)
    for l in range(c.encoderLayers):
        p = f"encoder.{l}"
        out += [(f"{p}.norm1.gain", (d,)), (f"{p}.norm1.bias", (d,))]
        dense(f"{p}.attention.qkv", d, 3 * d)
        dense(f"{p}.attention.output", d, d)
        out += [(f"{p}.norm2.gain", (d,)), (f"{p}.norm2.bias", (d,))]
        dense(f"{p}.ffn.0", d, c.feedForwardWidth)
        dense(f"{p}.ffn.1", c.feedForwardWidth, d)
    for l in range(c.encoderLayers):
        dense(f"rank_one.{l}", d, 1)
    return out


def init_params(c: Config, seed: int = 1, perturb: float = 0.0) -> dict[str, np.ndarray]:
    """Weights like Swift's `Initialization.standard` (truncated normal |z| <= 2, sigma = gain / sqrt(fan_in), gain 0.1
    for `rank_one.*`; biases, decays 0; layer-norm gains 1), from numpy's generator (not the Swift Xoshiro stream, so
    the values differ from `Optimus.initialParameters(seed:)`). With `perturb` > 0, biases, decay offsets and
    layer-norm gains/biases get N(0, perturb) noise too (a harder test of the correctness check)."""
    rng = np.random.default_rng(seed)
    params = {}
    for name, shape in layout(c):
        count = int(np.prod(shape))
        if name.endswith(".weight"):
            gain = 0.1 if name.startswith("rank_one.") else 1.0
            z = rng.standard_normal(count)
            while np.any(np.abs(z) > 2):
                bad = np.abs(z) > 2
                z[bad] = rng.standard_normal(int(bad.sum()))
            value = (gain / np.sqrt(shape[0]) * z).reshape(shape)
        elif name.endswith(".gain"):
            value = np.ones(shape) + (perturb * rng.standard_normal(shape) if perturb else 0)
        else:
            value = perturb * rng.standard_normal(shape) if perturb else np.zeros(shape)
        params[name] = np.asarray(value, dtype=np.float32)
    return params


def weights_sha256(params: dict[str, np.ndarray]) -> str:
    """The checkpoint's `weightsSHA256`: little-endian F32 bytes of the tensors in the byte order of their names."""
    names = sorted(params, key=lambda n: n.encode("utf-8"))
    return hashlib.sha256(b"".join(np.asarray(params[n], dtype="<f4").tobytes() for n in names)).hexdigest()


def load_checkpoint(path: str) -> tuple[Config, dict[str, np.ndarray]]:
    """Reads a swift-optimus Optimus checkpoint (safetensors): (configuration, params). Checks the format, the kind,
    the layout (names and shapes) and, when the file records it, the weights' SHA-256."""
    from safetensors import safe_open

    with safe_open(path, framework="numpy") as f:
        meta = f.metadata() or {}
        params = {name: np.asarray(f.get_tensor(name), dtype=np.float32) for name in f.keys()}
    if meta.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path}: format {meta.get('format')!r}, expected {CHECKPOINT_FORMAT}")
    if meta.get("kind") != "optimus":
        raise ValueError(f"{path}: kind {meta.get('kind')!r}, expected optimus")
    config = Config.from_json(meta["configuration"])
    expected = dict(layout(config))
    if set(expected) != set(params):
        raise ValueError(f"{path}: tensors differ from the layout: {sorted(set(expected) ^ set(params))}")
    for name, shape in expected.items():
        if tuple(params[name].shape) != shape:
            raise ValueError(f"{path}: {name} has shape {params[name].shape}, expected {shape}")
    recorded = meta.get("weightsSHA256")
    if recorded is not None and recorded != weights_sha256(params):
        raise ValueError(f"{path}: the weights' SHA-256 does not match the recorded {recorded[:16]}...")
    return config, params


def save_checkpoint(path: str, config: Config, params: dict[str, np.ndarray], provenance: dict[str, str] | None = None):
    """Writes params as a checkpoint the Swift CLI reads (`--checkpoint`), with the weights' SHA-256."""
    from safetensors.numpy import save_file

    tensors = {n: np.ascontiguousarray(params[n], dtype=np.float32) for n, _ in layout(config)}
    meta = {
        "format": CHECKPOINT_FORMAT,
        "kind": "optimus",
        "configuration": config.to_json(),
        "provenance": json.dumps(provenance or {"source": "Benchmarks/jax/optimus_jax.py"}, sort_keys=True),
        "weightsSHA256": weights_sha256(tensors),
    }
    save_file(tensors, path, metadata=meta)


# ----------------------------------------------------------------------------------------------------------------------
# State and step


def init_state(n: int, accumulator_dtype: Any = jnp.float32) -> dict[str, jax.Array]:
    """The state `OptimusOptimizer.makeState` makes: zero accumulators, B = I, power vector 1/sqrt(N), t = 0."""
    return {
        "m": jnp.zeros((n, 3), accumulator_dtype),
        "r": jnp.zeros((n,), accumulator_dtype),
        "v": jnp.zeros((n, 3), accumulator_dtype),
        "B": jnp.eye(n, dtype=jnp.float32),
        "pv": jnp.full((n,), np.float32(1) / np.sqrt(np.float32(n)), jnp.float32),
        "t": jnp.zeros((), jnp.int32),
    }


def adafactor_features(phi, m, r, v, x, g, t):
    """`AdafactorFeatures.updateInDouble`: the updated accumulators and the [N, 39] features (float32). Works in the
    dtype of the accumulators."""
    dt = m.dtype
    x = x.astype(dt)
    g = g.astype(dt)
    phi = phi.astype(dt)

    def decay(base, offset):
        return 1 - (1 - jnp.asarray(base, dt)) * jnp.exp(10 * offset)

    mom = decay(BASE_MOMENTUM, phi[0:3])
    rms = jnp.clip(decay(BASE_RMS, phi[3]), 0, 1)
    ada = jnp.clip(decay(BASE_ADAFACTOR, phi[4:7]), 0, 1)
    g2 = g * g
    m = mom * m + (1 - mom) * g[:, None]
    v = ada * v + (1 - ada) * (g2[:, None] + 1e-30)
    r = rms * r + (1 - rms) * g2
    inv_rms = 1 / jnp.sqrt(r + 1e-6)
    inv_v = 1 / jnp.sqrt(v + 1e-8)
    raw = jnp.concatenate([
        g[:, None], x[:, None], m, r[:, None], m * inv_rms[:, None], inv_rms[:, None],
        g[:, None] / jnp.sqrt(jnp.maximum(v + 1e-9, 1e-9)),
        v, v, inv_v, inv_v,
        m / jnp.sqrt(v + 1e-6),
    ], axis=1)
    scale = 1 / jnp.sqrt(1e-5 + jnp.sum(raw * raw, axis=0) / raw.shape[0])
    time = jnp.tanh(t.astype(dt) / jnp.asarray(TIMESCALES, dt) - 1)
    z = jnp.concatenate([raw * scale, jnp.broadcast_to(time, (raw.shape[0], len(TIMESCALES)))], axis=1)
    return m, r, v, z.astype(jnp.float32)


def _dense(p, name, x):
    return x @ p[name + ".weight"] + p[name + ".bias"]


def _layer_norm(p, name, x, eps=1e-5):
    mean = jnp.mean(x, axis=-1, keepdims=True)
    c = x - mean
    inv = 1 / jnp.sqrt(jnp.mean(c * c, axis=-1, keepdims=True) + eps)
    return c * inv * p[name + ".gain"] + p[name + ".bias"]


def _attention(p, name, x, heads):
    n, d = x.shape
    dh = d // heads
    qkv = _dense(p, name + ".qkv", x)
    q = qkv[:, :d].reshape(n, heads, dh)
    k = qkv[:, d:2 * d].reshape(n, heads, dh)
    v = qkv[:, 2 * d:].reshape(n, heads, dh)
    scores = jnp.einsum("nhc,mhc->hnm", q, k) * np.float32(1 / np.sqrt(np.float32(dh)))
    scores = jnp.exp(scores - jnp.max(scores, axis=-1, keepdims=True))
    probabilities = scores * (1 / jnp.sum(scores, axis=-1, keepdims=True))
    attended = jnp.einsum("hnm,mhc->nhc", probabilities, v).reshape(n, d)
    return _dense(p, name + ".output", attended)


def _encoder(p, name, x, heads):
    h = x + _attention(p, name + ".attention", _layer_norm(p, name + ".norm1", x), heads)
    f = _dense(p, name + ".ffn.1", jax.nn.relu(_dense(p, name + ".ffn.0", _layer_norm(p, name + ".norm2", h))))
    return h + f


def _normalize(b, pv, iterations):
    """`OptimusOptimizer.normalize` (spectral): warm-started power iteration, stopping at a non-positive or non-finite
    estimate; B and the vector are left alone when the last estimate is not positive and finite."""
    v, lam, ok = pv, jnp.zeros((), b.dtype), jnp.ones((), bool)
    for _ in range(max(1, iterations)):
        w = b @ v
        lam_new = jnp.sqrt(jnp.sum(w * w))
        good = ok & (lam_new > 0) & jnp.isfinite(lam_new)
        lam = jnp.where(ok, lam_new, lam)
        v = jnp.where(good, w / jnp.where(good, lam_new, 1), v)
        ok = good
    safe = jnp.where(ok, lam, 1)
    return jnp.where(ok, b * (1 / safe), b), jnp.where(ok, v, pv)


def step_fn(config: Config, params, state, x, g):
    """One Optimus step (unjitted): (new_state, delta), delta float32 [N]; the caller sets x <- x - delta."""
    c = config
    m, r, v, z = adafactor_features(params["decays"], state["m"], state["r"], state["v"], x, g, state["t"])
    # Per-parameter branch.
    h = z
    for l in range(c.mlpHiddenLayers + 1):
        h = _dense(params, f"step_mlp.{l}", h)
        if l < c.mlpHiddenLayers:
            h = jax.nn.relu(h)
    la, lb = np.float32(c.lambdaA), np.float32(c.lambdaB)
    s = la * jnp.exp(lb * h[:, 1]) * h[:, 0]
    # Preconditioner branch.
    e = _dense(params, "input", z)
    b = state["B"]
    for l in range(c.encoderLayers):
        e = _encoder(params, f"encoder.{l}", e, c.heads)
        u = _dense(params, f"rank_one.{l}", e)[:, 0]
        b = b + jnp.outer(u, u)
    b, pv = _normalize(b, state["pv"], c.powerIterations)
    delta = b @ s
    new_state = {"m": m, "r": r, "v": v, "B": b, "pv": pv, "t": state["t"] + 1}
    return new_state, delta


def make_step(config: Config, donate_state: bool = False):
    """The jitted `step(params, state, x, g) -> (new_state, delta)`. With `donate_state` the state's buffers are
    reused for the new state (pass every state once)."""
    return jax.jit(lambda params, state, x, g: step_fn(config, params, state, x, g),
                   donate_argnums=(1,) if donate_state else ())


def make_step_vjp(config: Config, wrt: str = "params"):
    """Forward and backward of one step, jitted.

    wrt = "params": `step_vjp(params, state, x, g, w) -> (new_state, delta, dparams)`, the gradient in params of the
      scalar sum(delta * w) (jax.vjp with the state, x and g held constant).
    wrt = "unroll": `step_vjp(params, state, x, g, w, state_bar) -> (new_state, delta, dparams, dstate, dx, dg)`,
      what one step of a backward pass through an unroll needs: the vjp of (new_state, delta) with cotangents
      (state_bar, w) in params, the state (accumulators, B, power vector), x and g.
    """
    if wrt == "params":
        def f(params, state, x, g, w):
            delta, pullback, new_state = jax.vjp(lambda p: _delta_and_state(config, p, state, x, g), params,
                                                 has_aux=True)
            (dparams,) = pullback(w)
            return new_state, delta, dparams
        return jax.jit(f)
    if wrt == "unroll":
        def f(params, state, x, g, w, state_bar):
            t = state["t"]
            floats = {k: state[k] for k in ("m", "r", "v", "B", "pv")}

            def primal(p, s, xx, gg):
                new_state, delta = step_fn(config, p, dict(s, t=t), xx, gg)
                return {k: new_state[k] for k in floats}, delta

            (new_floats, delta), pullback = jax.vjp(primal, params, floats, x, g)
            dparams, dstate, dx, dg = pullback(({k: state_bar[k] for k in floats}, w))
            return dict(new_floats, t=t + 1), delta, dparams, dstate, dx, dg
        return jax.jit(f)
    raise ValueError(f"wrt must be params or unroll, not {wrt!r}")


def _delta_and_state(config, params, state, x, g):
    new_state, delta = step_fn(config, params, state, x, g)
    return delta, new_state
