"""Every algorithm through sherpa.optimize, several trials at a time, extra fields included."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

TRIAL = """\
import json
import sherpa

client = sherpa.Client()
trial = client.get_trial()
p = trial.parameters
steps = int(p.get("resource", 2))
for step in range(1, steps + 1):
    client.send_metrics(trial=trial, iteration=step, objective=(p["x"] - 0.3) ** 2 + 1 / step,
                        context={"seen": json.dumps(sorted(p))})
"""

RUNNER = """\
import sherpa
from sherpa.algorithms import *
from sherpa.algorithms import bayesian_optimization

algorithm = {algorithm}
sherpa.optimize(
    parameters=[sherpa.Continuous("x", [0.01, 1.0]), sherpa.Choice("c", ["a", "b"])],
    algorithm=algorithm, lower_is_better=True, filename="trial.py", output_dir="out",
    scheduler=sherpa.schedulers.LocalScheduler(), max_concurrent=4, verbose=0,
    stopping_rule={rule})
"""

CASES = {
    "local-search": ("LocalSearch({'x': 0.5, 'c': 'a'}, seed=0)", None, ()),
    "pbt": (
        "PopulationBasedTraining(num_generations=2, population_size=3, seed=0)",
        6,
        ("generation", "lineage", "load_from", "save_to"),
    ),
    "genetic": ("Genetic(max_num_trials=8, seed=0)", 8, ()),
    "repeat": ("Repeat(RandomSearch(max_num_trials=2, seed=0), num_times=3, agg=True)", 6, ()),
    "chain": ("Chain([GridSearch(num_grid_points=2), RandomSearch(2, seed=0)])", 6, ()),
    "bayesian": ("BayesianOptimization(max_num_trials=8, seed=0)", 8, ()),
    "gpyopt": ("bayesian_optimization.GPyOpt(max_num_trials=6, seed=0)", 6, ()),
    "tpe": ("TPE(max_num_trials=8, num_initial_trials=4, seed=0)", 8, ()),
    "asha": (
        "SuccessiveHalving(r=1, R=3, eta=3, max_finished_configs=2, seed=0)",
        None,
        ("load_from", "resource", "rung", "save_to"),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_algorithm_runs_through_optimize(tmp_path: Path, case: str) -> None:
    algorithm, expected_trials, extra = CASES[case]
    (tmp_path / "trial.py").write_text(TRIAL)
    rule = "MedianStoppingRule(min_iterations=1, min_trials=2)" if case == "genetic" else None
    (tmp_path / "runner.py").write_text(RUNNER.format(algorithm=algorithm, rule=rule))
    done = subprocess.run(
        [sys.executable, "runner.py"], cwd=tmp_path, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr
    with open(tmp_path / "out" / "results.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    header = list(rows[0])
    assert header[:3] == ["Trial-ID", "Status", "Iteration"]
    assert header[3:-2] == sorted(["c", "x", *extra])
    assert header[-2:] == ["Objective", "seen"]
    finals = [r for r in rows if r["Status"] != "INTERMEDIATE"]
    assert {r["Status"] for r in finals} <= {"COMPLETED", "STOPPED"}
    if expected_trials is not None:
        assert len(finals) == expected_trials
    for row in rows:  # the trial script saw the extra fields in trial.parameters
        assert row["seen"] == str(sorted(["c", "x", *extra])).replace("'", '"')
