"""Interoperability: Python's `safetensors` reads checkpoints written by swift-optimus and gets the same numbers.

Run by `make test` (after the Swift build): the `optimus` binary is found through $OPTIMUS_BIN, else the debug build.
"""
import hashlib
import json
import os
import pathlib
import subprocess

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import load_file

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("OPTIMUS_BIN", str(ROOT / ".build" / "debug" / "optimus"))


def run(*args):
    return subprocess.run([BIN, *args], check=True, capture_output=True, text=True).stdout


@pytest.mark.parametrize("optimizer,preset", [("adafactor-mlp", "reference"), ("optimus", "small"),
                                              ("optimus-no-structure", "small")])
def test_safetensors_reads_the_same_numbers(tmp_path, optimizer, preset):
    path = tmp_path / "theta.safetensors"
    run("checkpoint", "init", "--optimizer", optimizer, "--preset", preset, "--seed", "7", "--output", str(path))
    described = json.loads(run("checkpoint", "inspect", str(path), "--json", "--values"))
    tensors = load_file(str(path))
    assert sorted(tensors) == sorted(t["name"] for t in described["tensors"])
    total = 0
    for t in described["tensors"]:
        array = tensors[t["name"]]
        assert array.dtype == np.float32
        assert list(array.shape) == t["shape"]
        expected = np.array(t["values"], dtype=np.float32).reshape(t["shape"])
        # Bit-exact: compare the raw float32 bit patterns.
        assert np.array_equal(array.view(np.uint32), expected.view(np.uint32)), t["name"]
        total += array.size
    assert total == described["parameterCount"]
    with safe_open(str(path), framework="numpy") as f:
        meta = f.metadata()
    assert meta["format"] == "swift-optimus-checkpoint-1"
    assert meta["kind"] == described["kind"]
    assert json.loads(meta["configuration"]) == json.loads(described["configuration"])
    assert json.loads(meta["provenance"])["seed"] == "7"


def weights_sha256(tensors):
    """The checkpoint's weight hash (`__metadata__.weightsSHA256`): SHA-256 of the little-endian float32 bytes of the
    tensors in the order of their names."""
    return hashlib.sha256(b"".join(np.ascontiguousarray(tensors[n], dtype="<f4").tobytes()
                                   for n in sorted(tensors))).hexdigest()


def test_a_file_written_by_python_is_read_by_optimus(tmp_path):
    """The other direction: perturb θ in NumPy, save with safetensors, and the CLI reads the new values, provided the
    weight hash in the metadata is recomputed; a stale hash is refused as corrupted content."""
    from safetensors.numpy import save_file
    src = tmp_path / "a.safetensors"
    run("checkpoint", "init", "--optimizer", "adafactor-mlp", "--preset", "reference", "--seed", "1",
        "--output", str(src))
    tensors = load_file(str(src))
    with safe_open(str(src), framework="numpy") as f:
        meta = f.metadata()
    assert meta["weightsSHA256"] == weights_sha256(tensors)
    # Re-saved by Python unchanged (its own tensor order): still verified.
    same = tmp_path / "same.safetensors"
    save_file(tensors, str(same), metadata=meta)
    assert json.loads(run("checkpoint", "inspect", str(same), "--json"))["weightsVerified"] is True

    tensors["mlp.0.bias"] = np.array([0.5, -0.25, 1.0, 2.0], dtype=np.float32)
    stale = tmp_path / "stale.safetensors"
    save_file(tensors, str(stale), metadata=meta)
    result = subprocess.run([BIN, "checkpoint", "inspect", str(stale)], capture_output=True, text=True)
    assert result.returncode == 65 and "corrupted file content" in result.stderr

    dst = tmp_path / "b.safetensors"
    save_file(tensors, str(dst), metadata={**meta, "weightsSHA256": weights_sha256(tensors)})
    described = json.loads(run("checkpoint", "inspect", str(dst), "--json", "--values"))
    assert described["weightsVerified"] is True
    bias = next(t for t in described["tensors"] if t["name"] == "mlp.0.bias")
    assert bias["values"] == [0.5, -0.25, 1.0, 2.0]


def test_truncated_file_is_rejected_with_exit_65(tmp_path):
    path = tmp_path / "t.safetensors"
    run("checkpoint", "init", "--optimizer", "adafactor-mlp", "--output", str(path))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 10])
    result = subprocess.run([BIN, "checkpoint", "inspect", str(path)], capture_output=True, text=True)
    assert result.returncode == 65
    assert "checkpoint" in result.stderr
