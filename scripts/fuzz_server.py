#!/usr/bin/env python3
"""Server fuzz: seeded protocol lines to one `optimus serve`, one valid reply each, no crash, no hang, bounded memory.

Usage:
    python3 scripts/fuzz_server.py [--lines 100000] [--seed 7] [--binary .build/release/optimus]
                                   [--memory-budget 1G] [--long-every 10000] [--timeout 60] [--json FILE]

Lines, interleaved at random: real runs (a `start` with a random optimizer, dimension and options, then evaluations
of a shifted sphere until the result, or a `cancel`), the same messages mutated (bytes changed, cut short, fields
removed or given odd values), random JSON and random bytes, starts at huge dimensions (BFGS, Optimus and L-BFGS at
d = 20,000 … 400,000, base64; the budget must refuse the dense ones), and every --long-every lines one over-long line
(65-100 MB, no newline until its end; the server must discard it as it streams past).

Checked for every line: exactly one reply line, a JSON object whose type is evaluate, result or error, within
--timeout seconds. At the end: the server's exit status (0 at end of input), its peak resident memory (ru_maxrss of
the child; the line reader keeps at most 64 MiB of a line), counts of replies by type and error code, and the time.
Exits 1 on a missing or invalid reply, a crash, or a hang.

Measured on the 2-core machine of this repository (release build, both cores busy with other work):
`--lines 3000 --long-every 1000` in 5.1 s, every line answered, exit 0, peak RSS 124 MiB (with two 65-100 MB lines);
the default 100,000 lines take a few minutes.
"""
import argparse
import base64
import json
import os
import random
import resource
import select
import struct
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OPTIMIZERS = ["gd", "momentum", "adam", "bfgs", "lbfgs", "adafactor-mlp", "optimus", "optimus-no-state",
              "optimus-no-structure"]
ODD = [None, True, False, 0, -1, 1.5, 1e308, -1e308, 2**53, "x", "", [], {}, [1, "a"], {"a": 1}]


class Server:
    def __init__(self, binary, budget, timeout):
        self.p = subprocess.Popen([binary, "serve", "--memory-budget", budget], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0)
        self.buffer = b""
        self.timeout = timeout

    def send(self, data: bytes):
        self.p.stdin.write(data)

    def reply(self):
        """The next reply line, or None on a hang or end of output."""
        deadline = time.monotonic() + self.timeout
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self.p.stdout], [], [], left)
            if not ready:
                return None
            chunk = os.read(self.p.stdout.fileno(), 1 << 20)
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line


def start_message(rng, d):
    options = {}
    for key, values in [("maxIterations", [0, 1, 5, 30]), ("maxEvaluations", [1, 10, 50]),
                        ("gradientTolerance", [0, 1e-8]), ("stoppingRule", [True, False]),
                        ("trace", [True, False]), ("iterates", [True, False]), ("seed", [0, 3])]:
        if rng.random() < 0.3:
            options[key] = rng.choice(values)
    optimizer = rng.choice(OPTIMIZERS)
    if optimizer in ("gd", "momentum", "adam") and rng.random() < 0.5:
        options["learningRate"] = rng.choice([1e-3, 0.1])
    message = {"type": "start", "protocol": 1, "optimizer": optimizer,
               "x0": [round(rng.uniform(-3, 3), 3) for _ in range(d)], "options": options}
    if optimizer.startswith("optimus") and rng.random() < 0.5:
        message["preset"] = "small"
    if rng.random() < 0.3:
        message["encoding"] = "base64"
        message["x0"] = base64.b64encode(struct.pack(f"<{d}d", *message["x0"])).decode()
    return message


def decode_x(x):
    if isinstance(x, str):
        raw = base64.b64decode(x)
        return list(struct.unpack(f"<{len(raw) // 8}d", raw))
    return x


def mutate(rng, line: bytes) -> bytes:
    b = bytearray(line)
    kind = rng.randrange(4)
    if kind == 0 and b:
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] = rng.choice(b'{}[]",:0123456789-.eE ntfx\\\x00\xff')
        return bytes(b).replace(b"\n", b" ")
    if kind == 1:
        return bytes(b[:rng.randrange(len(b) + 1)])
    try:
        m = json.loads(line)
    except ValueError:
        return bytes(b)
    if isinstance(m, dict) and m:
        key = rng.choice(sorted(m) + ["extra"])
        if kind == 2 and key in m:
            del m[key]
        else:
            m[key] = rng.choice(ODD)
    return json.dumps(m).encode()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "optimus"))
    parser.add_argument("--memory-budget", default="1G", help="the server's --memory-budget (bounds its memory)")
    parser.add_argument("--long-every", type=int, default=10_000, help="one over-long line per this many lines")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for a reply")
    parser.add_argument("--json", help="write the summary here")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    server = Server(args.binary, args.memory_budget, args.timeout)
    began = time.monotonic()
    sent = 0
    counts = {}
    problems = []
    pending = None  # (id, x) of the server's evaluate request
    shift = 0.0

    def exchange(data: bytes, label: str):
        nonlocal sent, pending
        server.send(data + b"\n")
        sent += 1
        raw = server.reply()
        if raw is None:
            problems.append({"line": sent, "kind": label, "problem": "no reply (hang or crash)",
                             "exit": server.p.poll()})
            return None
        try:
            r = json.loads(raw)
            assert isinstance(r, dict) and r.get("type") in ("evaluate", "result", "error")
        except (ValueError, AssertionError):
            problems.append({"line": sent, "kind": label, "problem": "invalid reply", "reply": raw[:300].decode("replace")})
            return None
        key = r["type"] + (":" + r.get("code", "") if r["type"] == "error" else "")
        counts[key] = counts.get(key, 0) + 1
        if r["type"] == "evaluate":
            pending = (r["id"], decode_x(r["x"]))
        elif r["type"] == "result":
            pending = None
        elif r["type"] == "error" and r.get("code") == "reply_too_long" and "ended" in r.get("message", ""):
            pending = None
        return r

    last_valid = b'{"type":"cancel"}'
    next_long = args.long_every
    long_lines = 0
    while sent < args.lines and not problems:
        if sent >= next_long:
            next_long += args.long_every
            long_lines += 1
            size = rng.randint(65 << 20, 100 << 20)
            block = b"z" * (1 << 20)
            for _ in range(size >> 20):
                server.send(block)
            server.send(b"z" * (size & ((1 << 20) - 1)))
            exchange(b"", "over-long")
            continue
        u = rng.random()
        if pending is not None and u < 0.6:
            id_, x = pending
            f = sum((v - shift) ** 2 for v in x)
            g = [2 * (v - shift) for v in x]
            message = {"type": "evaluation", "id": id_, "value": f if rng.random() > 0.02 else None, "gradient": g}
            line = json.dumps(message).encode()
            last_valid = line
            exchange(line, "evaluation")
        elif u < 0.7:
            line = json.dumps(start_message(rng, rng.choice([1, 2, 5, 10, 50]))).encode()
            last_valid = line
            shift = rng.uniform(-1, 1)
            exchange(line, "start")
        elif u < 0.75:
            exchange(b'{"type":"cancel"}', "cancel")
        elif u < 0.9:
            exchange(mutate(rng, last_valid), "mutated")
        elif u < 0.97:
            junk = rng.choice([json.dumps(rng.choice(ODD)).encode(),
                               bytes(rng.randrange(1, 256) for _ in range(rng.randint(0, 200))).replace(b"\n", b" "),
                               b"[" * rng.randint(1, 200), b'{"type":"start"' * rng.randint(1, 50)])
            exchange(junk, "junk")
        else:
            d = rng.choice([20_000, 100_000, 400_000])
            name = rng.choice(["bfgs", "optimus", "optimus-no-structure", "lbfgs", "adafactor-mlp"])
            x0 = base64.b64encode(struct.pack(f"<{d}d", *([0.5] * d))).decode()
            message = {"type": "start", "protocol": 1, "optimizer": name, "encoding": "base64", "x0": x0,
                       "options": {"maxIterations": 1}}
            if pending is not None:
                exchange(b'{"type":"cancel"}', "cancel")
            r = exchange(json.dumps(message).encode(), f"huge-{name}")
            if r is not None and r["type"] == "evaluate":
                exchange(b'{"type":"cancel"}', "cancel")
        if sent % 10_000 < 1 and sent:
            print(f"{sent}/{args.lines} lines, {time.monotonic() - began:.0f} s", file=sys.stderr)
    server.p.stdin.close()
    try:
        status = server.p.wait(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        server.p.kill()
        status = "hang at end of input"
    seconds = time.monotonic() - began
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"server fuzz: {sent} lines (seed {args.seed}, {long_lines} over-long) "
          f"to {args.binary} --memory-budget {args.memory_budget}: {seconds:.1f} s, exit status {status}, "
          f"peak RSS {peak_kib / 1024:.0f} MiB")
    for key in sorted(counts):
        print(f"  {key}: {counts[key]}")
    if problems:
        print("problems:", json.dumps(problems[:10]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"lines": sent, "overLongLines": long_lines, "seed": args.seed, "seconds": seconds, "status": status,
                       "peakRSSMiB": peak_kib / 1024, "replies": counts, "problems": problems}, f, indent=2)
    sys.exit(1 if problems or status != 0 else 0)


if __name__ == "__main__":
    main()
