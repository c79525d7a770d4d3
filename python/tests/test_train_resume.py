"""`optimus train` killed mid-run and resumed continues bit-identically to an uninterrupted run."""
import json
import os
import pathlib
import signal
import subprocess
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("OPTIMUS_BIN", str(ROOT / ".build" / "debug" / "optimus"))

CONFIG = {"model": {"kind": "adafactor-mlp", "preset": "reference", "seed": 2},
          "tasks": {"maximumDimension": 20},
          "pes": {"particles": 4, "truncationLength": 5, "schedule": {"logUniform": {"minimum": 5, "maximum": 20}},
                  "initialOffset": 10, "seed": 5},
          "outerSteps": 400, "checkpointEvery": 20, "validation": {"every": 100, "tasks": 4, "steps": 10}}


def test_kill_and_resume_is_bit_identical(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps(CONFIG))
    straight = tmp_path / "straight"
    subprocess.run([BIN, "train", "--config", str(config), "--output", str(straight)], check=True,
                   capture_output=True)
    interrupted = tmp_path / "interrupted"
    p = subprocess.Popen([BIN, "train", "--config", str(config), "--output", str(interrupted)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and not (interrupted / "training-state.bin").exists():
        time.sleep(0.002)
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert (interrupted / "training-state.bin").exists()
    metrics = (interrupted / "metrics.jsonl").read_text().splitlines()
    assert len(metrics) < CONFIG["outerSteps"], "the run finished before it could be interrupted"
    # A second start without --resume refuses to overwrite the run.
    refused = subprocess.run([BIN, "train", "--config", str(config), "--output", str(interrupted)],
                             capture_output=True, text=True)
    assert refused.returncode == 65 and "--resume" in refused.stderr
    subprocess.run([BIN, "train", "--config", str(config), "--output", str(interrupted), "--resume"], check=True,
                   capture_output=True)
    assert (interrupted / "training-state.bin").read_bytes() == (straight / "training-state.bin").read_bytes()
    steps = [json.loads(l)["step"] for l in (interrupted / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, CONFIG["outerSteps"] + 1))
    losses_a = [json.loads(l)["loss"] for l in (interrupted / "metrics.jsonl").read_text().splitlines()]
    losses_b = [json.loads(l)["loss"] for l in (straight / "metrics.jsonl").read_text().splitlines()]
    assert losses_a == losses_b


def test_bad_configuration_names_the_field(tmp_path):
    config = tmp_path / "bad.json"
    config.write_text(json.dumps({"pes": {"particels": 4}}))
    r = subprocess.run([BIN, "train", "--config", str(config), "--output", str(tmp_path / "o")],
                       capture_output=True, text=True)
    assert r.returncode == 65 and "pes.particels" in r.stderr
    config.write_text(json.dumps({"pes": {"sigma": -1}}))
    r = subprocess.run([BIN, "train", "--config", str(config), "--output", str(tmp_path / "o")],
                       capture_output=True, text=True)
    assert r.returncode == 65 and "pes.sigma" in r.stderr
