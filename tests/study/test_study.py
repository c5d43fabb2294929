from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import sherpa
from sherpa.algorithms import Algorithm, RandomSearch, StoppingRule
from sherpa.exceptions import (
    AlgorithmError,
    DuplicateObservationError,
    TrialFinishedError,
    UnknownTrialError,
)
from sherpa.storage import SQLStorage, sqlite_url

PARAMETERS = [sherpa.Continuous("lr", [1e-3, 1e-1], scale="log"), sherpa.Choice("act", ["a", "b"])]


def _study(**kwargs: Any) -> sherpa.Study:
    kwargs.setdefault("algorithm", RandomSearch(max_num_trials=3, seed=1))
    kwargs.setdefault("lower_is_better", True)
    return sherpa.Study(PARAMETERS, disable_dashboard=True, **kwargs)


class _Fixed(Algorithm):
    """Suggests the given dicts, then answers ``then``."""

    def __init__(self, suggestions: list[Any], then: Any = None) -> None:
        super().__init__()
        self.suggestions = list(suggestions)
        self.then = then

    def get_suggestion(self, parameters: Any, results: Any = None, lower_is_better: bool = True):
        return self.suggestions.pop(0) if self.suggestions else self.then


def test_loop_records_rows_in_sherpas_layout() -> None:
    study = _study(
        algorithm=_Fixed([{"lr": 0.01, "act": "a", "generation": 1}, {"lr": 0.05, "act": "b"}])
    )
    for trial in study:
        for iteration, loss in enumerate([0.5, 0.2, 0.3], start=1):
            study.add_observation(
                trial, loss * trial.id, iteration=iteration, context={"acc": 1 - loss, "b": 0}
            )
        study.finalize(trial)

    results = study.results
    assert list(results.columns) == [
        "Trial-ID", "Status", "Iteration", "act", "generation", "lr", "Objective", "acc", "b",
    ]  # fmt: skip
    final = results[results["Status"] == "COMPLETED"]
    assert final[["Trial-ID", "Iteration", "Objective", "acc"]].values.tolist() == [
        [1, 3, 0.2, 0.8],
        [2, 3, 0.4, 0.8],
    ]
    assert len(results) == 8
    assert results["Status"].tolist().count("INTERMEDIATE") == 6
    assert results.loc[0, "generation"] == 1 and math.isnan(results.loc[4, "generation"])
    assert results["Trial-ID"].dtype == np.int64 and results["Iteration"].dtype == np.int64


def test_final_row_uses_best_for_higher_is_better() -> None:
    study = _study(lower_is_better=False)
    trial = study.get_suggestion()
    assert isinstance(trial, sherpa.Trial)
    for iteration, value in [(1, 0.1), (2, 0.9), (3, 0.4)]:
        study.add_observation(trial, value, iteration=iteration, context={"i": iteration})
    study.finalize(trial, status=sherpa.TrialStatus.STOPPED)
    last = study.results.iloc[-1]
    assert (last["Status"], last["Iteration"], last["Objective"], last["i"]) == (
        "STOPPED",
        3,
        0.9,
        2,
    )


def test_nan_is_stored_but_never_best() -> None:
    study = _study()
    first, second = study.get_suggestion(), study.get_suggestion()
    study.add_observation(first, float("nan"))
    study.finalize(first)
    study.add_observation(second, 5.0)
    study.finalize(second)
    assert study.results["Objective"].isna().sum() == 2
    assert study.get_best_result()["Trial-ID"] == second.id


def test_get_best_result_returns_row_without_status() -> None:
    study = _study(algorithm=_Fixed([{"lr": 0.01, "act": "a"}, {"lr": 0.02, "act": "b"}]))
    for trial, value in zip(study, [3.0, 1.0], strict=True):
        study.add_observation(trial, np.float32(value), iteration=np.int64(7), context={"c": 1})
        study.finalize(trial)
    best = study.get_best_result()
    assert best == {
        "Trial-ID": 2,
        "Iteration": 7,
        "act": "b",
        "lr": 0.02,
        "Objective": 1.0,
        "c": 1,
    }
    assert all(type(v) in (int, float, str) for v in best.values())


def test_get_best_result_is_empty_without_completed_trials() -> None:
    study = _study()
    assert study.get_best_result() == {}
    trial = study.get_suggestion()
    study.add_observation(trial, 1.0)
    study.finalize(trial, "FAILED")
    assert study.get_best_result() == {}


@pytest.mark.parametrize("bad", [None, [1.0], "0.5", True, {"loss": 1}])
def test_add_observation_rejects_non_numeric_objective(bad: object) -> None:
    study = _study()
    trial = study.get_suggestion()
    with pytest.raises(TypeError, match=r"objective must be a real number"):
        study.add_observation(trial, bad)  # type: ignore[arg-type]
    assert len(study.results) == 0


def test_add_observation_rejects_repeats_and_strangers() -> None:
    study = _study()
    trial = study.get_suggestion()
    study.add_observation(trial, 1.0, iteration=1)
    with pytest.raises(DuplicateObservationError, match=r"trial 1 already has .* iteration 1"):
        study.add_observation(trial, 2.0, iteration=1)
    with pytest.raises(ValueError, match="trial 9 does not belong"):
        study.add_observation(sherpa.Trial(9, {}), 1.0)
    with pytest.raises(UnknownTrialError):
        study.add_observation(sherpa.Trial(1, {"lr": 0.5}), 1.0, iteration=2)
    with pytest.raises(ValueError, match=r"context key 'Objective' would overwrite"):
        study.add_observation(trial, 1.0, iteration=2, context={"Objective": 1})
    with pytest.raises(ValueError, match="iteration must be 0 or more; got -1"):
        study.add_observation(trial, 1.0, iteration=-1)
    assert len(study.results) == 1


def test_finalize_rules() -> None:
    study = _study()
    trial = study.get_suggestion()
    for bad in ("INTERMEDIATE", "DONE", 3):
        with pytest.raises(
            ValueError, match=rf"^status must be COMPLETED, FAILED or STOPPED; got {bad!r}$"
        ):
            study.finalize(trial, bad)  # type: ignore[arg-type]
    study.finalize(trial, "FAILED")
    with pytest.raises(TrialFinishedError, match="already FAILED"):
        study.finalize(trial)
    with pytest.raises(TrialFinishedError, match="already FAILED"):
        study.add_observation(trial, 1.0)
    row = study.results.iloc[0]
    assert (row["Status"], row["Iteration"], math.isnan(row["Objective"])) == ("FAILED", 0, True)


def test_iteration_ends_on_done_and_none() -> None:
    for end in (None, sherpa.AlgorithmState.DONE):
        study = _study(algorithm=_Fixed([{"lr": 0.01, "act": "a"}], then=end))
        assert [t.id for t in study] == [1]
        assert study.get_suggestion() is end


def test_iteration_never_ends_silently_on_wait() -> None:
    study = _study(algorithm=_Fixed([{"lr": 0.01, "act": "a"}], then=sherpa.AlgorithmState.WAIT))
    iterator = iter(study)
    next(iterator)
    assert study.get_suggestion() is sherpa.AlgorithmState.WAIT
    with pytest.raises(AlgorithmError, match=r"finalize trials \[1\]"):
        next(iterator)
    study.add_observation(study.trials[0], iteration=1, objective=0.5)
    study.finalize(study.trials[0])
    with pytest.raises(AlgorithmError, match="no trial is running"):
        next(iterator)


def test_a_trial_without_observations_cannot_be_completed_but_can_fail() -> None:
    study = _study(algorithm=RandomSearch(3, seed=0))
    trial = study.get_suggestion()
    assert isinstance(trial, sherpa.Trial)
    with pytest.raises(ValueError, match=r"trial 1 has no observation to complete it with"):
        study.finalize(trial)
    study.finalize(trial, status="FAILED")  # nothing was lost: it is still open until now
    assert study.results["Status"].tolist() == ["FAILED"]
    diverged = study.get_suggestion()
    assert isinstance(diverged, sherpa.Trial)
    study.add_observation(diverged, iteration=1, objective=math.nan)
    study.finalize(diverged)  # an observation, even NaN, completes it
    assert study.results["Status"].tolist()[-1] == "COMPLETED"


def test_bad_suggestion_is_an_algorithm_error() -> None:
    study = _study(algorithm=_Fixed([[1, 2]]))
    with pytest.raises(AlgorithmError, match=r"returned \[1, 2\]"):
        study.get_suggestion()
    study = _study(algorithm=_Fixed([{"lr": 0.01}]))
    with pytest.raises(AlgorithmError, match=r"lacks a value for \['act'\]"):
        study.get_suggestion()


def test_random_seed_makes_runs_reproducible() -> None:
    def draw(seed: int | None, algorithm_seed: int | None = None) -> list[dict[str, Any]]:
        study = _study(algorithm=RandomSearch(5, seed=algorithm_seed), random_seed=seed)
        return [t.parameters for t in study]

    assert draw(7) == draw(7)
    assert draw(7) != draw(8)
    assert draw(7, algorithm_seed=3) == draw(8, algorithm_seed=3)


def test_add_trial_registers_outside_configurations() -> None:
    study = _study()
    study.add_trial(sherpa.Trial(5, {"lr": 0.02, "act": "b"}))
    with pytest.raises(ValueError, match="trial 5 is already in the study"):
        study.add_trial(sherpa.Trial(5, {}))
    study.add_observation(study.trials[0], 0.3)
    assert study.get_suggestion().id == 6  # type: ignore[union-attr]


def test_stopping_rule_and_stop_requests() -> None:
    class StopAfterTwo(StoppingRule):
        def should_trial_stop(self, trial: Any, results: pd.DataFrame, lower: bool) -> bool:
            return bool((results["Trial-ID"] == trial.id).sum() >= 2)

    study = _study(stopping_rule=StopAfterTwo())
    trial, other = study.get_suggestion(), study.get_suggestion()
    study.add_observation(trial, 1.0, iteration=1)
    assert not study.should_trial_stop(trial)
    study.add_observation(trial, 1.0, iteration=2)
    assert study.should_trial_stop(trial)
    plain = _study()
    plain_trial = plain.get_suggestion()
    assert not plain.should_trial_stop(plain_trial)
    plain.request_stop(plain_trial)
    assert plain.should_trial_stop(plain_trial)
    assert other is not None


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"lower_is_better": "yes"}, TypeError, "lower_is_better must be True or False"),
        ({"algorithm": "random"}, TypeError, "algorithm must be a sherpa.algorithms.Algorithm"),
        ({"dashboard_port": 70000}, ValueError, "dashboard_port must be between 1 and 65535"),
        ({"random_seed": -1}, TypeError, "random_seed must be a non-negative int"),
        (
            {"stopping_rule": 3},
            TypeError,
            "stopping_rule must be a sherpa.algorithms.StoppingRule",
        ),
        (
            {"algorithm": RandomSearch},
            TypeError,
            r"got the class RandomSearch \(did you mean RandomSearch\(\)\?\)",
        ),
    ],
)
def test_constructor_rejects_bad_arguments(
    kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        _study(**kwargs)


def test_save_writes_results_csv(tmp_path: Path) -> None:
    study = _study(output_dir=tmp_path / "out")
    for trial in study:
        study.add_observation(trial, trial.parameters["lr"], context={"note": "x y"})
        study.finalize(trial)
    path = study.save()
    assert path == tmp_path / "out" / "results.csv"
    pd.testing.assert_frame_equal(pd.read_csv(path), study.results, check_dtype=False)
    with pytest.raises(ValueError, match="output_dir is None"):
        _study().save()


def test_results_frame_is_a_safe_copy() -> None:
    study = _study()
    trial = study.get_suggestion()
    study.add_observation(trial, 1.0)
    frame = study.results
    frame["extra"] = 1
    frame.loc[0, "Objective"] = 99.0
    assert "extra" not in study.results.columns
    assert study.results.loc[0, "Objective"] == 1.0


def test_stored_study_rebuilds_identically(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "sherpa.db")
    study = _study(storage=url, algorithm=RandomSearch(4, seed=2))
    for trial in study:
        for iteration in range(1, 4):
            study.add_observation(
                trial, trial.parameters["lr"] / iteration, iteration, {"a": iteration}
            )
        if trial.id < 4:
            study.finalize(trial, "COMPLETED" if trial.id != 2 else "STOPPED")

    loaded = sherpa.Study.load(tmp_path)
    pd.testing.assert_frame_equal(loaded.results, study.results)
    assert loaded.open_trial_ids() == [4]
    assert loaded.get_best_result() == study.get_best_result()
    assert loaded.parameters == PARAMETERS
    assert loaded.name == study.name


def test_two_studies_in_one_store_stay_apart(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "sherpa.db")
    first = _study(storage=url, study_name="first")
    second = _study(storage=url, study_name="second")
    trial = first.get_suggestion()
    first.add_observation(trial, 1.0)
    other = second.get_suggestion()
    assert other.id == 1  # type: ignore[union-attr]
    storage = SQLStorage(url)
    assert [r.name for r in storage.list_studies()] == ["first", "second"]
    assert len(storage.read_observations(second.study_id)) == 0  # type: ignore[arg-type]
    assert len(sherpa.Study.load(url, study_name="first").results) == 1


def test_runner_facing_methods(tmp_path: Path) -> None:
    study = _study(storage=sqlite_url(tmp_path / "sherpa.db"))
    trial = study.create_trial({"lr": np.float64(0.01), "act": "b"})
    assert (trial.id, trial.parameters, type(trial.parameters["lr"])) == (
        1,
        {"lr": 0.01, "act": "b"},
        float,
    )
    assert study.get_trial(1) is trial
    with pytest.raises(UnknownTrialError, match="trial 2 does not belong"):
        study.get_trial(2)
    storage = study.storage
    assert storage is not None and study.study_id is not None
    storage.add_observation(study.study_id, 1, 3, 0.5, {"acc": 0.9})  # as a trial process would
    [record] = storage.read_observations(study.study_id)
    assert study.num_observations(trial) == 0
    assert study.ingest(record) is True
    assert study.ingest(record) is False  # the same iteration again
    assert study.num_observations(trial) == 1
    assert study.best_observation(trial) == (3, 0.5, {"acc": 0.9})
    assert study.results[["Iteration", "Objective", "acc"]].values.tolist() == [[3, 0.5, 0.9]]
