#!/usr/bin/env python3
"""Checkpoint fuzz: seeded mutations of the shipped checkpoints, each run through the CLI, never a crash or a hang.

Usage:
    python3 scripts/fuzz_checkpoints.py [--count 10000] [--seed 2026] [--binary .build/release/optimus]
                                        [--jobs 2] [--timeout 20] [--keep DIR] [--json FILE]

Each mutation of `checkpoints/optimus-functions.safetensors` or `checkpoints/adafactor-mlp-functions.safetensors`
(alternately) is written to a temporary file and given to `optimus checkpoint inspect FILE` and to a 3-iteration
`optimus minimize --checkpoint FILE` with the file's optimizer (sphere, d = 5). Kinds of mutation:

- weight-byte:     1-4 bytes of the tensor data changed (every one must be refused by the content hash: exit 65,
                   "corrupted file content")
- header-byte:     1-4 bytes of the JSON header changed (random, a digit, or JSON punctuation)
- truncation:      the file cut at a random length
- header-length:   the 8-byte header length replaced (random, off by a few, 0, the file length, 2^63 ...)
- config-json:     a field of the model configuration set to an odd value, removed, or an unknown one added
- tensor-json:     a tensor's shape, offsets, dtype or name edited, or the tensor removed
- metadata-json:   kind, format, weight hash or provenance edited or removed
- append:          bytes appended after the last tensor

Outcomes per process: clean error (exit 64/65/66 with an "Error:" message), verified load (exit 0, the weights match
the recorded hash), unverified load (exit 0 with the notice of a file without a hash: the hash was removed), crash (killed by a signal, or any other exit status), hang (no exit within --timeout). The
script exits 1 if anything crashed, hung, or a weight mutation went undetected. Reproducers of those are kept in
--keep (default: fuzz-failures/ in the current folder, created only when needed).

Bounded time: two short processes per mutation on --jobs workers (at nice 10, to leave the machine to other work),
each killed after --timeout. Measured on the 2-core machine of this repository with the release build, both cores
busy with other work: `--count 300` in 6.3 s (0 crashes, 0 hangs, 54 weight mutations all detected), so the default
10,000 take about 4 minutes; the debug build is about 10 times slower per process.
"""
import argparse
import concurrent.futures
import json
import os
import pathlib
import random
import struct
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOURCES = {
    "optimus": ROOT / "checkpoints" / "optimus-functions.safetensors",
    "adafactor-mlp": ROOT / "checkpoints" / "adafactor-mlp-functions.safetensors",
}
KINDS = [("weight-byte", 3), ("header-byte", 3), ("truncation", 1), ("header-length", 1), ("config-json", 3),
         ("tensor-json", 2), ("metadata-json", 1), ("append", 1)]
ODD_VALUES = [0, -1, 1, 2, 3, 5, 7, 64, 1000, 10**6, 10**9, 2**31, 2**53 + 1, 2**63 - 1, -2**63, 10**30, 1e300,
              -1e300, 0.5, -0.5, 1e-300, 1e-30, "x", "", None, True, False, [], {}, [1, 2]]


def split(data):
    n = struct.unpack("<Q", data[:8])[0]
    return json.loads(data[8:8 + n]), data[8 + n:]


def join(header, tensors):
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + tensors


def mutate(data, kind, rng):
    """The mutated bytes and whether only tensor data changed."""
    n = struct.unpack("<Q", data[:8])[0]
    start = 8 + n
    b = bytearray(data)
    if kind == "weight-byte":
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(start, len(b))
            b[i] ^= rng.randint(1, 255)
        return bytes(b)
    if kind == "header-byte":
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(8, start)
            b[i] = rng.choice([rng.randrange(256), rng.choice(b"0123456789"), rng.choice(b'{}[],:"-. e')])
        return bytes(b)
    if kind == "truncation":
        return bytes(b[:rng.randrange(0, len(b))])
    if kind == "header-length":
        value = rng.choice([rng.getrandbits(64), n + rng.randint(-16, 16), 0, 1, len(b) - 8, len(b) - 7, len(b),
                            2**63, 2**64 - 1, 2**32, n * 2])
        b[:8] = struct.pack("<Q", value % 2**64)
        return bytes(b)
    if kind == "append":
        return bytes(b) + bytes(rng.randrange(256) for _ in range(rng.choice([1, 3, 4, 8, 100])))
    header, tensors = split(data)
    meta = header["__metadata__"]
    if kind == "config-json":
        config = json.loads(meta["configuration"])
        key = rng.choice(sorted(config) + ["unknownField"])
        action = rng.random()
        if action < 0.1 and key in config:
            del config[key]
        elif action < 0.2:
            config[key] = rng.choice(["full", "noState", "noStructure", "spectral", "frobenius", "other"])
        else:
            config[key] = rng.choice(ODD_VALUES)
        meta["configuration"] = json.dumps(config) if rng.random() < 0.95 else "{" + json.dumps(config)
    elif kind == "tensor-json":
        name = rng.choice(sorted(k for k in header if k != "__metadata__"))
        t = header[name]
        action = rng.randrange(7)
        if action == 0:
            t["shape"] = [rng.choice(ODD_VALUES[:14]) for _ in range(rng.randint(0, 3))]
        elif action == 1:
            t["shape"] = t["shape"][::-1] if len(t["shape"]) > 1 else t["shape"] + [1]
        elif action == 2:
            j = rng.randrange(2)
            t["data_offsets"][j] = rng.choice([t["data_offsets"][j] + rng.choice([-4, -1, 1, 4]), 0, -4, 2**62, 2**63 - 1])
        elif action == 3:
            t["dtype"] = rng.choice(["F16", "F64", "I32", "BF16", "f32", ""])
        elif action == 4:
            header[name + rng.choice(["x", ".", ""])] = header.pop(name)
        elif action == 5:
            del header[name]
        else:
            t[rng.choice(["shape", "data_offsets", "dtype"])] = rng.choice(ODD_VALUES)
    else:  # metadata-json
        key = rng.choice(["kind", "format", "weightsSHA256", "provenance", "configuration"])
        action = rng.random()
        if action < 0.3:
            meta.pop(key, None)
        elif key == "kind":
            meta[key] = rng.choice(["optimus", "adafactor-mlp", "other", ""])
        elif key == "weightsSHA256":
            meta[key] = rng.choice(["0" * 64, "ABC", meta.get(key, "")[::-1], "f" * 63, "g" * 64])
        else:
            meta[key] = rng.choice(["", "{}", "[]", "swift-optimus-checkpoint-2", "{\"seed\": 1}", "null"])
    return join(header, tensors)


def run(binary, arguments, timeout):
    """(outcome, status, stderr head) of one process."""
    try:
        p = subprocess.run([binary, *arguments], capture_output=True, timeout=timeout,
                           preexec_fn=lambda: os.nice(10))
    except subprocess.TimeoutExpired:
        return "hang", None, ""
    err = p.stderr.decode(errors="replace")
    if p.returncode < 0:
        return "crash", p.returncode, err[-300:]
    if p.returncode == 0:
        return ("unverified-load" if "records no weight hash" in err else "verified-load"), 0, err[:300]
    if p.returncode in (64, 65, 66) and "Error:" in err:
        return "clean-error", p.returncode, err[:300]
    return "crash", p.returncode, err[-300:]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=10_000, help="mutations (default 10000)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--binary", default=str(ROOT / ".build" / "release" / "optimus"))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per process before it counts as a hang")
    parser.add_argument("--keep", default="fuzz-failures", help="folder for reproducers of failures")
    parser.add_argument("--json", help="write the summary here")
    args = parser.parse_args()
    if not os.access(args.binary, os.X_OK):
        sys.exit(f"binary: {args.binary} is not an executable (build it: swift build -c release --product optimus)")

    rng = random.Random(args.seed)
    originals = {name: path.read_bytes() for name, path in SOURCES.items()}
    weights = [w for _, w in KINDS]
    plan = []
    for i in range(args.count):
        optimizer = list(SOURCES)[i % len(SOURCES)]
        kind = rng.choices([k for k, _ in KINDS], weights)[0]
        plan.append((i, optimizer, kind, rng.getrandbits(64)))  # the file is made when it is run: bounded memory

    work = tempfile.mkdtemp(prefix="optimus-fuzz-")
    keep = pathlib.Path(args.keep)

    def one(item):
        i, optimizer, kind, seed = item
        data = mutate(originals[optimizer], kind, random.Random(seed))
        path = os.path.join(work, f"m{i}.safetensors")
        with open(path, "wb") as f:
            f.write(data)
        results = [
            run(args.binary, ["checkpoint", "inspect", path], args.timeout),
            run(args.binary, ["minimize", "--function", "sphere", "--dimension", "5", "--optimizer", optimizer,
                              "--checkpoint", path, "--iterations", "3", "--json"], args.timeout),
        ]
        os.remove(path)
        changed = data != originals[optimizer]
        problems = [o for o, _, _ in results if o in ("crash", "hang")]
        if kind == "weight-byte" and changed:
            if not all(o == "clean-error" and s == 65 and "corrupted file content" in e for o, s, e in results):
                problems.append("undetected-weight-mutation")
        if problems:
            keep.mkdir(parents=True, exist_ok=True)
            (keep / f"m{i}-{kind}-{optimizer}.safetensors").write_bytes(data)
        return i, optimizer, kind, changed, results, problems

    began = time.monotonic()
    counts = {}
    failures = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for done, (i, optimizer, kind, changed, results, problems) in enumerate(pool.map(one, plan), 1):
            for outcome, _, _ in results:
                counts[(kind, outcome)] = counts.get((kind, outcome), 0) + 1
            if problems:
                failures.append({"mutation": i, "file": optimizer, "kind": kind, "problems": problems,
                                 "results": [list(r) for r in results]})
            if done % 500 == 0:
                print(f"{done}/{args.count} mutations, {time.monotonic() - began:.0f} s", file=sys.stderr)
    seconds = time.monotonic() - began
    os.rmdir(work)

    outcomes = ["clean-error", "verified-load", "unverified-load", "crash", "hang"]
    kinds = [k for k, _ in KINDS]
    total = {o: sum(counts.get((k, o), 0) for k in kinds) for o in outcomes}
    weight_mutations = sum(1 for _, _, k, _ in plan if k == "weight-byte")
    undetected = sum(1 for f in failures if "undetected-weight-mutation" in f["problems"])
    print(f"checkpoint fuzz: {args.count} mutations (seed {args.seed}) of {len(SOURCES)} shipped checkpoints, "
          f"{2 * args.count} processes of {args.binary}, {seconds:.1f} s on {args.jobs} jobs")
    print()
    print("Processes by mutation kind and outcome (each mutation runs `checkpoint inspect` and `minimize`):")
    print()
    print("| mutation | " + " | ".join(outcomes) + " |")
    print("|---|" + "---:|" * len(outcomes))
    for k in kinds:
        print(f"| {k} | " + " | ".join(str(counts.get((k, o), 0)) for o in outcomes) + " |")
    print("| **all** | " + " | ".join(f"**{total[o]}**" for o in outcomes) + " |")
    print()
    print(f"weight mutations: {weight_mutations}, undetected by the hash: {undetected}; crashes: {total['crash']}; "
          f"hangs: {total['hang']}")
    if failures:
        print(f"failures ({len(failures)}), reproducers in {keep}/:")
        for f in failures[:20]:
            print("  ", json.dumps(f)[:400])
    # Recorded relative to the repository when it lives there (the summary is committed; no machine paths in it).
    binary = os.path.relpath(args.binary, ROOT) if os.path.abspath(args.binary).startswith(str(ROOT)) else args.binary
    summary = {"count": args.count, "seed": args.seed, "binary": binary, "jobs": args.jobs, "seconds": seconds,
               "outcomes": total, "byKind": {k: {o: counts.get((k, o), 0) for o in outcomes} for k in kinds},
               "weightMutations": weight_mutations, "undetectedWeightMutations": undetected,
               "failures": failures}
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(summary, indent=2) + "\n")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
