import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))
if "OPTIMUS_BIN" not in os.environ:
    os.environ["OPTIMUS_BIN"] = str(ROOT / ".build" / "debug" / "optimus")
