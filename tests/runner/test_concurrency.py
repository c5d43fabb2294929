"""Many trials at once: every metric kept, slots and resources respected."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sherpa
from sherpa.algorithms import RandomSearch

WRITER_TRIAL = """\
import sherpa

client = sherpa.Client()
trial = client.get_trial()
for i in range(1, 51):
    client.send_metrics(
        trial=trial,
        iteration=i,
        objective=trial.id * 1000.0 + i,
        context={"trial_copy": trial.id, "square": i * i, "label": "t%d-%d" % (trial.id, i)},
    )
"""


def test_optimize_many_concurrent_writers_lose_nothing(
    write_script: Callable[..., Path],
    run_optimize: Callable[..., dict[str, Any]],
    read_results: Callable[[Path], list[dict[str, str]]],
    open_store: Callable[[Path], Any],
    tmp_path: Path,
) -> None:
    best = run_optimize(
        parameters=[sherpa.Continuous("x", [0, 1])],
        algorithm=RandomSearch(max_num_trials=16, seed=0),
        filename=write_script(WRITER_TRIAL),
        max_concurrent=16,
    )
    out = tmp_path / "out"
    storage = open_store(out)
    study = storage.get_study()
    observations = storage.read_observations(study.id)
    assert len(observations) == 800
    got = sorted((o.trial_number, o.iteration, o.objective, o.context) for o in observations)
    assert got == [
        (n, i, n * 1000.0 + i, {"trial_copy": n, "square": i * i, "label": f"t{n}-{i}"})
        for n, i in itertools.product(range(1, 17), range(1, 51))
    ]
    assert {t.status.value for t in storage.read_trials(study.id)} == {"COMPLETED"}

    rows = read_results(out / "results.csv")
    intermediate = [r for r in rows if r["Status"] == "INTERMEDIATE"]
    assert len(intermediate) == 800
    assert len([r for r in rows if r["Status"] == "COMPLETED"]) == 16
    assert sorted((int(r["Trial-ID"]), int(r["Iteration"])) for r in intermediate) == list(
        itertools.product(range(1, 17), range(1, 51))
    )
    assert all(r["label"] == f"t{r['Trial-ID']}-{r['Iteration']}" for r in intermediate)

    logs = sorted((out / "jobs").iterdir())
    assert len(logs) == 16
    for log in logs:
        text = log.read_text()
        assert "locked" not in text and "Traceback" not in text, text
    assert best["Trial-ID"] == 1 and best["Objective"] == 1001.0


RESOURCE_TRIAL = """\
import os
import time

import sherpa

client = sherpa.Client()
trial = client.get_trial()
resource = os.environ.get("SHERPA_RESOURCE", "none")
path = os.path.join(os.environ["SHERPA_OUTPUT_DIR"], "spans.txt")
with open(path, "a") as spans:
    spans.write(f"start {trial.id} {time.time()!r} {resource}\\n")
time.sleep(0.15)
client.send_metrics(trial=trial, iteration=1, objective=float(trial.id))
with open(path, "a") as spans:
    spans.write(f"end {trial.id} {time.time()!r}\\n")
"""


def test_optimize_resources_limit_and_are_handed_out_distinctly(
    write_script: Callable[..., Path],
    run_optimize: Callable[..., dict[str, Any]],
    read_results: Callable[[Path], list[dict[str, str]]],
    spans: Callable[[Path], dict[int, dict[str, Any]]],
    max_overlap: Callable[[list[tuple[float, float]]], int],
    tmp_path: Path,
) -> None:
    scheduler = sherpa.schedulers.LocalScheduler(resources=[0, 1])
    best = run_optimize(
        parameters=[sherpa.Continuous("x", [0, 1])],
        algorithm=RandomSearch(max_num_trials=6, seed=0),
        filename=write_script(RESOURCE_TRIAL),
        scheduler=scheduler,
        max_concurrent=4,
    )
    out = tmp_path / "out"
    logged = spans(out / "spans.txt")
    assert sorted(logged) == list(range(1, 7))
    intervals = {n: (e["start"], e["end"]) for n, e in logged.items()}
    assert max_overlap(list(intervals.values())) <= 2
    for a, b in itertools.combinations(sorted(logged), 2):
        (sa, ea), (sb, eb) = intervals[a], intervals[b]
        if sa < eb and sb < ea:  # ran at the same time: never on the same resource
            assert logged[a]["start_extra"] != logged[b]["start_extra"], (a, b)
    resources = [logged[n]["start_extra"] for n in sorted(logged)]
    assert sorted(set(resources)) == ["0", "1"]  # both used, and each used again
    assert all(resources.count(r) >= 2 for r in ("0", "1"))
    finals = [
        r["Status"] for r in read_results(out / "results.csv") if r["Status"] != "INTERMEDIATE"
    ]
    assert finals == ["COMPLETED"] * 6
    assert scheduler.has_capacity()  # every resource is back once the run is over
    assert best["Trial-ID"] == 1
