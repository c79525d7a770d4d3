#!/usr/bin/env bash
# Prints a complete example exchange of the `optimus serve` protocol (the one in docs/protocol.md):
# L-BFGS on f(x) = (x1 - 1)^2 + 10 (x2 + 2)^2 from (0, 0), answered by a small Python "client" that computes f and
# its gradient, plus three malformed lines to show the errors.
# Usage: scripts/protocol_example.sh [path/to/optimus]
set -euo pipefail
BIN=${1:-.build/debug/optimus}
python3 - "$BIN" <<'PY'
import json, subprocess, sys
p = subprocess.Popen([sys.argv[1], "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
def send(line):
    print("→ " + line)
    p.stdin.write(line + "\n"); p.stdin.flush()
    reply = p.stdout.readline().strip()
    print("← " + reply)
    return json.loads(reply)
send('{"type":"start","protocol":1,"optimizer":"lbfgs","x0":[0,0],"options":{"maxIterations":50,"gradientTolerance":1e-10}}')
send('{"type":"evaluation","id":7,"value":41,"gradient":[-2,40]}')
send('{"type":"evaluation","id":1,"value":41,"gradient":[-2]}')
send('{"type":"start","protocol":1,"optimizer":"bfgs","x0":[0,0]}')
reply = send('{"type":"evaluation","id":1,"value":41,"gradient":[-2,40]}')
while reply["type"] == "evaluate":
    x1, x2 = reply["x"]
    f = (x1 - 1) ** 2 + 10 * (x2 + 2) ** 2
    g = [2 * (x1 - 1), 20 * (x2 + 2)]
    reply = send(json.dumps({"type": "evaluation", "id": reply["id"], "value": f, "gradient": g}, separators=(",", ":")))
p.stdin.close(); p.wait()
PY
