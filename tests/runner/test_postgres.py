"""``sherpa.optimize`` and ``sherpa.Study`` with a PostgreSQL store (the session's server)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest

import sherpa
from sherpa.exceptions import StorageUnreachableError
from sherpa.storage import SQLStorage

TRIAL = """
import sherpa

client = sherpa.Client()
trial = client.get_trial()
for i in range(1, 4):
    objective = trial.parameters["param_a"] / float(i) * trial.parameters["param_b"]
    client.send_metrics(trial=trial, iteration=i, objective=objective, context={"i2": i * i})
"""

PARAMETERS = [
    sherpa.Choice(name="param_a", range=[1, 2, 3]),
    sherpa.Continuous(name="param_b", range=[0, 1]),
]


def test_optimize_with_postgres_store_runs_reference_workflow(
    postgres_url: str,
    tmp_path: Path,
    write_script: Callable[..., Path],
    read_results: Callable[[Path], list[dict[str, str]]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    script = write_script(TRIAL)
    with caplog.at_level(logging.INFO, logger="sherpa"):
        best = sherpa.optimize(
            parameters=PARAMETERS,
            algorithm=sherpa.algorithms.RandomSearch(max_num_trials=4),
            lower_is_better=True,
            filename=script,
            output_dir=tmp_path / "out",
            scheduler=sherpa.schedulers.LocalScheduler(),
            max_concurrent=2,
            verbose=1,
            storage=postgres_url,
        )

    assert not (tmp_path / "out" / "sherpa.db").exists()
    storage = SQLStorage(postgres_url)
    study_id = storage.get_study().id
    trials = storage.read_trials(study_id)
    assert [(t.number, t.status.value) for t in trials] == [(n, "COMPLETED") for n in range(1, 5)]
    observations = storage.read_observations(study_id)
    assert sorted((o.trial_number, o.iteration) for o in observations) == [
        (n, i) for n in range(1, 5) for i in range(1, 4)
    ]
    rows = read_results(tmp_path / "out" / "results.csv")
    assert sum(r["Status"] == "INTERMEDIATE" for r in rows) == 12
    assert sum(r["Status"] == "COMPLETED" for r in rows) == 4
    expected = min(o.objective for o in observations)
    assert best["Objective"] == pytest.approx(expected)
    loaded = sherpa.Study.load(postgres_url)
    assert len(loaded.results) == 16
    storage.close()
    loaded.storage.close()  # type: ignore[union-attr]
    password = postgres_url.split(":")[2].split("@")[0]
    assert password not in caplog.text


def test_optimize_with_unreachable_storage_names_host_and_port(
    tmp_path: Path, write_script: Callable[..., Path]
) -> None:
    with pytest.raises(StorageUnreachableError, match=r"host '127\.0\.0\.1', port 1\b") as caught:
        sherpa.optimize(
            parameters=PARAMETERS,
            algorithm=sherpa.algorithms.RandomSearch(max_num_trials=1),
            lower_is_better=True,
            filename=write_script(TRIAL),
            output_dir=tmp_path / "out",
            scheduler=sherpa.schedulers.LocalScheduler(),
            storage="postgresql+psycopg://me:hunter2@127.0.0.1:1/db",
        )
    assert "hunter2" not in str(caught.value)


def test_study_with_postgres_storage_round_trips(postgres_url: str) -> None:
    study = sherpa.Study(
        parameters=[sherpa.Continuous("x", [-1, 1])],
        algorithm=sherpa.algorithms.RandomSearch(max_num_trials=3, seed=1),
        lower_is_better=True,
        disable_dashboard=True,
        storage=postgres_url,
    )
    for trial in study:
        study.add_observation(trial, iteration=1, objective=trial.parameters["x"] ** 2)
        study.finalize(trial)
    loaded = sherpa.Study.load(postgres_url)
    assert loaded.results.to_dict("records") == study.results.to_dict("records")
    assert len(loaded.results) == 6
    study.storage.close()  # type: ignore[union-attr]
    loaded.storage.close()  # type: ignore[union-attr]
