"""The ledger's lineage check: every shipped checkpoint's chain of runs is linked by the weights' bytes, and a
broken link or a reproduction that differs is caught."""
import importlib.util
import json
import pathlib
import struct

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("training_ledger", ROOT / "scripts" / "training_ledger.py")
ledger = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ledger)


def write_theta(path, values, provenance="{}"):
    data = struct.pack(f"<{len(values)}f", *values)
    header = json.dumps({"__metadata__": {"provenance": provenance},
                         "w": {"dtype": "F32", "shape": [len(values)], "data_offsets": [0, len(data)]}}).encode()
    path.write_bytes(struct.pack("<Q", len(header)) + header + data)


def test_committed_lineage_links_every_shipped_checkpoint_to_its_first_run():
    chains = ledger.lineage(ROOT / "training")
    assert "checkpoints/optimus-functions.safetensors" in chains
    for checkpoint, stages in chains.items():
        assert stages[-1]["receiver"] == checkpoint
        assert (ROOT / "training" / stages[0]["run"] / "reproduce.json").exists(), (
            f"{checkpoint}: the first run of its chain must start from a random initialization (a finished run)")
        # CPU hours add up along the chain, each stage's own share is positive.
        assert all(s["cpu"] > 0 for s in stages)
        assert stages[-1]["cumulative"] == pytest.approx(sum(s["cpu"] for s in stages))


def make_chain(root, received):
    for name, step in (("first", 100), ("second", 50)):
        run = root / name
        run.mkdir(parents=True)
        (run / "config.json").write_text(json.dumps({"model": {"kind": "optimus", "preset": "small", "seed": 0}}))
        (run / "metrics.jsonl").write_text("\n".join(json.dumps({"step": s, "cpuSeconds": 36.0 * s,
                                                                  "validationLoss": -s / 100})
                                                      for s in range(50, step + 1, 50)) + "\n")
    write_theta(root / "first" / "theta.safetensors", [1.0, 2.0], provenance='{"cpuSeconds": "5"}')
    write_theta(root / "second" / "initial.safetensors", received, provenance='{"cpuSeconds": "7"}')
    write_theta(root / "second" / "theta.safetensors", [3.0, 4.0])
    shipped = root / "shipped.safetensors"
    write_theta(shipped, [3.0, 4.0])
    first, second = (ledger.weights_sha(root / r / "theta.safetensors") for r in ("first", "second"))
    (root / "lineage.json").write_text(json.dumps({str(shipped): [
        {"run": "first", "step": 100, "theta": "theta.safetensors", "weights": first},
        {"run": "second", "step": 50, "theta": "theta.safetensors", "weights": second}]}))


def test_lineage_ignores_provenance_and_sums_cpu_hours(tmp_path):
    make_chain(tmp_path, [1.0, 2.0])
    stages = ledger.lineage(tmp_path)[str(tmp_path / "shipped.safetensors")]
    assert [s["cpu"] for s in stages] == [1.0, 0.5]
    assert stages[-1]["cumulative"] == 1.5
    assert [s["validation"] for s in stages] == [-1.0, -0.5]


def test_lineage_catches_a_run_that_did_not_start_from_the_stage_before(tmp_path):
    make_chain(tmp_path, [1.0, 2.0000002])
    with pytest.raises(AssertionError, match="initial.safetensors holds weights"):
        ledger.lineage(tmp_path)


def test_reproduction_compare_finds_a_changed_metrics_value_but_not_a_changed_time(tmp_path):
    committed, fresh = tmp_path / "committed", tmp_path / "fresh"
    for d in (committed, fresh):
        d.mkdir()
        write_theta(d / "theta.safetensors", [1.0, 2.0], provenance=f'{{"cpuSeconds": "{len(d.name)}"}}')
    rows = [{"step": s, "loss": -0.1 * s, "cpuSeconds": 1.0 * s} for s in range(1, 101)]
    (fresh / "metrics.jsonl").write_text("\n".join(json.dumps(dict(r, cpuSeconds=2.0 * r["step"])) for r in rows))
    (committed / "metrics.jsonl").write_text("\n".join(json.dumps(r) for r in ledger.thin(rows, 50)))
    (committed / "reproduce.json").write_text(json.dumps(
        {"commit": "0" * 40, "config": "c.json", "weights": {"theta.safetensors": ledger.weights_sha(committed / "theta.safetensors")}}))
    assert ledger.compare(committed, fresh) == []
    rows[49]["loss"] += 1e-12
    (fresh / "metrics.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    assert ledger.compare(committed, fresh) == ["metrics"]
