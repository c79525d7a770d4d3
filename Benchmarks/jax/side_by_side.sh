#!/usr/bin/env bash
# The project's Optimus step beside the JAX/XLA reference (Benchmarks/jax/optimus_jax.py), on one pinned core.
#
# For each N, alternately (A B A B …, --rounds times): A = the project's `optimus-bench learned --dimensions N` and
# `optimus-bench meta-gradient --dimensions N`, B = `bench_jax.py --dimensions N` (both presets), each under
# `taskset -c CORE`, single-threaded (OpenBLAS / XLA). Each side's number is the minimum over the rounds. Prints two
# Markdown tables (forward; forward + backward), saying what each column measures. Raw outputs go to --out.
#
# Usage: Benchmarks/jax/side_by_side.sh [--dimensions 10,25,100,250,1000,2000] [--backward-dimensions LIST]
#                                       [--seconds 1] [--rounds 2] [--core 1] [--out .build/jax-side-by-side]
# Needs Benchmarks/.build/release/optimus-bench (`cd Benchmarks && swift build -c release`; `make bench` builds it) and
# makes Benchmarks/jax/.venv with setup.sh (exit 3, saying why, when it cannot).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dimensions=10,25,100,250,1000,2000
backward=""
seconds=1
rounds=2
core=1
out="$root/.build/jax-side-by-side"
while [ $# -gt 0 ]; do
  case "$1" in
    --dimensions) dimensions=$2; shift 2 ;;
    --backward-dimensions) backward=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --core) core=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "side_by_side.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
backward=${backward:-$dimensions}
bench="$root/Benchmarks/.build/release/optimus-bench"
if [ ! -x "$bench" ]; then
  echo "side_by_side.sh: $bench is missing; build it with (cd Benchmarks && swift build -c release)" >&2
  exit 2
fi
if ! py=$("$here/setup.sh"); then
  echo "side_by_side.sh: no JAX environment (Benchmarks/jax/setup.sh failed, see above); nothing compared" >&2
  exit 3
fi
command -v taskset >/dev/null 2>&1 || { echo "side_by_side.sh: taskset (util-linux) is missing" >&2; exit 2; }
mkdir -p "$out"
rm -f "$out"/*.txt "$out"/*.jsonl
export OPENBLAS_NUM_THREADS=1
export XLA_FLAGS="${XLA_FLAGS:---xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1}"
pin=(taskset -c "$core")

echo "side_by_side.sh: N = $dimensions (backward: $backward), ≥ $seconds s per number, $rounds rounds A B, core $core" >&2
for n in ${dimensions//,/ }; do
  for round in $(seq 1 "$rounds"); do
    echo "  N = $n, round $round: project" >&2
    "${pin[@]}" "$bench" learned --dimensions "$n" --seconds "$seconds" >> "$out/learned-$n.txt"
    if [[ ",$backward," == *",$n,"* ]]; then
      "${pin[@]}" "$bench" meta-gradient --dimensions "$n" --seconds "$seconds" >> "$out/meta-$n.txt"
      vjp=both
    else
      vjp=none
    fi
    echo "  N = $n, round $round: XLA" >&2
    "${pin[@]}" "$py" "$here/bench_jax.py" --dimensions "$n" --seconds "$seconds" --vjp "$vjp" >> "$out/jax-$n.jsonl"
  done
done

"$py" - "$out" "$dimensions" "$seconds" "$rounds" "$core" <<'PY'
import glob, json, os, re, sys

out, dims, seconds, rounds, core = sys.argv[1], [int(v) for v in sys.argv[2].split(",")], *sys.argv[3:]
row = re.compile(r"^\|\s*([^|]+?)\s*\|\s*(\d+)\s*\|\s*([0-9.]+)\s*\|\s*([0-9.]+)\s*\|")
project = {}  # (what, preset, n) -> min ms
def keep(key, value):
    project[key] = min(project.get(key, float("inf")), value)
for n in dims:
    for path, kind in ((f"{out}/learned-{n}.txt", "learned"), (f"{out}/meta-{n}.txt", "meta")):
        if not os.path.exists(path):
            continue
        for line in open(path):
            m = row.match(line)
            if not m or not m.group(1).startswith("optimus ("):
                continue
            preset = m.group(1)[len("optimus ("):-1]
            if kind == "learned":
                keep(("forward", preset, int(m.group(2))), float(m.group(3)))
            else:
                keep(("plain", preset, int(m.group(2))), float(m.group(3)))
                keep(("differentiated", preset, int(m.group(2))), float(m.group(4)))
xla = {}
jax_info = None
for path in glob.glob(f"{out}/jax-*.jsonl"):
    for line in open(path):
        r = json.loads(line)
        jax_info = r
        for field in ("forward_ms", "forward_mean_ms", "vjp_ms", "vjp_unroll_ms"):
            if field in r:
                key = (field, r["preset"], r["n"])
                xla[key] = min(xla.get(key, float("inf")), r[field])

def cell(v):
    return "–" if v is None or v == float("inf") else (f"{v:.3f}" if v < 10 else f"{v:.1f}")
def ratio(a, b):
    return "–" if a is None or b is None else f"{a / b:.2f}"

print(f"\n### Optimus step: the project beside JAX/XLA (one core, `taskset -c {core}`, single-threaded BLAS / XLA; "
      f"each number the minimum of {rounds} alternating runs of ≥ {seconds} s)\n")
if jax_info:
    print(f"JAX {jax_info['jax']} on {jax_info['device']}, XLA_FLAGS=`{jax_info['xla_flags']}`; "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}. Random weights from a fixed seed "
          f"(the project's initialization, not the same numbers); ratio = project / XLA (≤ 1: the project is faster).\n")
print("**Forward step.** Project: `optimus-bench learned` ms/step for the paper preset (`OptimusOptimizer.update`: "
      "features, network, B update, power iteration, B·s; mean over ≥ S s); for the small preset, `optimus-bench "
      "meta-gradient` plain step ms (the same update plus a Rosenbrock value and gradient; mean). XLA: `bench_jax.py` "
      "forward_ms, one jitted step with the state fed back (median; the mean beside it, as the project's is a mean)."
      "\n")
print("| preset | N | project ms | XLA ms (median) | project / XLA | XLA ms (mean) |")
print("|---|---:|---:|---:|---:|---:|")
for preset in ("paper", "small"):
    for n in dims:
        p = project.get(("forward", preset, n)) if preset == "paper" else project.get(("plain", preset, n))
        x = xla.get(("forward_ms", preset, n))
        if p is None and x is None:
            continue
        print(f"| {preset} | {n} | {cell(p)} | {cell(x)} | {ratio(p, x)} | {cell(xla.get(('forward_mean_ms', preset, n)))} |")
rows = [(preset, n) for preset in ("paper", "small") for n in dims
        if ("differentiated", preset, n) in project or ("vjp_ms", preset, n) in xla]
if rows:
    print("\n**Forward + backward.** Project: `optimus-bench meta-gradient` differentiated step ms — one inner step of "
          "`unrollGradient` over a 10-step Rosenbrock unroll (forward with records, then the backward pass through "
          "the network, B, the power iteration, the features and accumulators, with one Hessian–vector product of "
          "the objective), total time / 10 (mean). XLA vjp(θ): `bench_jax.py` vjp_ms, one jitted step forward + "
          "backward by `jax.vjp` of Σ Δ·w in the parameters only (state, x, g constant). XLA vjp(unroll): "
          "vjp_unroll_ms, one step's forward + backward in the parameters, the state (accumulators, B, power "
          "vector), x and g, as one step of a backward pass through an unroll needs (no objective, no HVP). "
          "Medians.\n")
    print("| preset | N | project differentiated step ms | XLA vjp(θ) ms | project / vjp(θ) | XLA vjp(unroll) ms "
          "| project / vjp(unroll) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for preset, n in rows:
        p = project.get(("differentiated", preset, n))
        a, b = xla.get(("vjp_ms", preset, n)), xla.get(("vjp_unroll_ms", preset, n))
        print(f"| {preset} | {n} | {cell(p)} | {cell(a)} | {ratio(p, a)} | {cell(b)} | {ratio(p, b)} |")
print(f"\nRaw outputs: {os.path.relpath(out)}/")
PY
