"""What scripts/reconstruction_results.py and scripts/reconstruction_budget.py share: running `optimus reconstruct`
jobs two at a time while reusing the results that still match, and reading what a binary and a checkpoint record."""
import concurrent.futures
import hashlib
import json
import os
import re
import subprocess
import sys
import time


def environment():
    """The environment for `optimus reconstruct`: OpenBLAS pinned to one kernel family (`OPENBLAS_CORETYPE=Haswell`, as
    the tests, CI and training runs use) unless the caller set one. A reconstruction is chaotic in the last bits: on
    another CPU's kernels the same run drifts after a few windows (dance_a, L-BFGS, seed 0: MPJPE-G 95.5 instead of
    101.9 mm), so results are only reproducible with the kernels pinned."""
    return {**os.environ, "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "Haswell")}


def default_friction(binary):
    """The simulator's default friction regularization (m/s), as `BINARY reconstruct --help` reports it."""
    text = subprocess.run([binary, "reconstruct", "--help"], capture_output=True, text=True, check=True).stdout
    return float(re.search(r"friction-smoothing.*?\(default: ([0-9.eE+-]+)\)", text, re.S).group(1))


def provenance(path):
    """The provenance a checkpoint (safetensors) records in its header."""
    data = path.read_bytes()
    header = json.loads(data[8:8 + int.from_bytes(data[:8], "little")])
    return json.loads(header["__metadata__"]["provenance"])


def same_checkpoint(old, extra, root):
    """Whether a result was made with the contents of the checkpoint its arguments name (results record its SHA-256);
    true for arguments without a checkpoint."""
    if "--checkpoint" not in extra:
        return True
    data = (root / extra[extra.index("--checkpoint") + 1]).read_bytes()
    return old.get("checkpointSHA256") == hashlib.sha256(data).hexdigest()


def absolute(extra, root):
    """The arguments with the repository's checkpoint paths made absolute (the binary may run from anywhere)."""
    return [str(root / a) if a.startswith(("checkpoints/", "training/")) else a for a in extra]


def run_jobs(jobs, reusable, run, workers):
    """reusable(*job) or, for the jobs it returns None for, run(*job) on `workers` threads: (results by job, how many
    were reused, seconds)."""
    started = time.time()
    results = {job: r for job in jobs if (r := reusable(*job)) is not None}
    reused = len(results)
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {job: pool.submit(run, *job) for job in jobs if job not in results}
        results.update({job: f.result() for job, f in futures.items()})
    return results, reused, time.time() - started


def reconstruct_into(binary, root, arguments, target, keep_traces=True):
    """Runs `BINARY ARGUMENTS --output TARGET --json` (the repository's checkpoint paths made absolute) and keeps in
    TARGET its result.json without the keypoints (what the metrics were computed from), without the filmstrips, and
    without the windows' traces unless `keep_traces`; returns that result."""
    print(" ".join(arguments), file=sys.stderr, flush=True)
    full = [binary] + absolute(arguments, root) + ["--output", str(target), "--json"]
    result = json.loads(subprocess.run(full, check=True, capture_output=True, text=True, env=environment()).stdout)
    for picture in ["filmstrip.svg", "filmstrip.png"]:
        (target / picture).unlink(missing_ok=True)
    result.pop("keypoints", None)
    if not keep_traces:
        result["windows"] = [{k: v for k, v in w.items() if k != "trace"} for w in result["windows"]]
    (target / "result.json").write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    return result
