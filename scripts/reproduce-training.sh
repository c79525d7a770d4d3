#!/usr/bin/env bash
# Re-runs a finished ledger run that was trained by an earlier version of the code, and checks that it gives the
# committed result bit for bit: the θ files' weights and every kept metrics row (all fields but the machine's times).
#
# Usage: scripts/reproduce-training.sh RUN [WORKDIR]
#   RUN      a folder of training/ that holds reproduce.json (the commit whose code trained it, the configuration
#            file at that commit, the weights' SHA-256 of each θ file, how the metrics were thinned)
#   WORKDIR  where the checkout of that commit and the new run go (default: a new temporary folder, removed at the end)
#
# Needs the repository's history (a normal clone has it). Exit 0 when everything matches, 1 when something differs.
set -euo pipefail
RUN=${1:?usage: scripts/reproduce-training.sh RUN [WORKDIR]}
DIR="training/$RUN"
[ -f "$DIR/reproduce.json" ] || { echo "reproduce-training: $DIR/reproduce.json does not exist" >&2; exit 66; }
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-Haswell}
bash scripts/install-deps.sh >/dev/null
read -r COMMIT CONFIG < <(python3 -c "
import json; r = json.load(open('$DIR/reproduce.json')); print(r['commit'], r['config'])")
KEEP=${2:-}
WORK=${KEEP:-$(mktemp -d)}
CHECKOUT="$WORK/checkout-${COMMIT:0:12}"
cleanup() { git worktree remove --force "$CHECKOUT" >/dev/null 2>&1 || true; [ -n "$KEEP" ] || rm -rf "$WORK"; }
trap cleanup EXIT
git cat-file -e "$COMMIT^{commit}" 2>/dev/null || { echo "reproduce-training: commit $COMMIT is not in this clone's history" >&2; exit 66; }
[ -d "$CHECKOUT" ] || git worktree add --detach "$CHECKOUT" "$COMMIT" >/dev/null
echo "reproduce-training: building commit ${COMMIT:0:12} in $CHECKOUT" >&2
(cd "$CHECKOUT" && swift build -c release --product optimus >"$WORK/build.log" 2>&1) \
    || { tail -20 "$WORK/build.log" >&2; exit 1; }
rm -rf "$WORK/run"
echo "reproduce-training: training with $CONFIG (progress in $WORK/train.log)" >&2
(cd "$CHECKOUT" && .build/release/optimus train --config "$CONFIG" --output "$WORK/run" >"$WORK/train.log" 2>&1)
python3 scripts/training_ledger.py --compare "$DIR" "$WORK/run"
