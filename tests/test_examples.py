"""The examples run as the README says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_runner_mode_example_runs_ten_trials(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "runner_mode.py")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    results = pd.read_csv(tmp_path / "out" / "results.csv")
    assert (results["Status"] == "COMPLETED").sum() == 10
    assert (results["Status"] == "INTERMEDIATE").sum() == 100
    assert "10/10 done" in done.stderr
    completed = results[results["Status"] == "COMPLETED"]
    best = completed.loc[completed["Objective"].idxmin()]
    assert f"'Trial-ID': {best['Trial-ID']}," in done.stdout
