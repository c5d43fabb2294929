from __future__ import annotations

import numpy as np
import pytest

import sherpa
from sherpa.algorithms._space import PendingTracker, SearchSpace, completed_history

SPACE = [
    sherpa.Continuous("lr", [1e-4, 1e-2], scale="log"),
    sherpa.Discrete("units", [8, 64]),
    sherpa.Ordinal("batch", [16, 32, 64]),
    sherpa.Choice("act", ["relu", "tanh", [1, 2]]),
]


def test_encode_decode_round_trip_with_python_types() -> None:
    space = SearchSpace(SPACE)
    assert space.dim == 6
    config = {"lr": 1e-3, "units": 20, "batch": 32, "act": [1, 2]}
    x = space.encode(config)
    assert x.tolist() == pytest.approx([0.5, 12 / 56, 0.5, 0.0, 0.0, 1.0])
    decoded = space.decode(x)
    assert decoded == {**config, "lr": pytest.approx(1e-3)}
    assert [type(decoded[k]) for k in ("lr", "units", "batch")] == [float, int, int]


def test_decode_snaps_and_clips() -> None:
    space = SearchSpace(SPACE)
    decoded = space.decode(np.array([1.7, 0.49, 0.8, 0.2, 0.9, 0.1]))
    assert decoded == {"lr": 1e-2, "units": 35, "batch": 64, "act": "tanh"}
    assert space.round(np.array([0.0, 0.0, 0.26, 0.1, 0.2, 0.3]))[2:].tolist() == [
        0.5, 0.0, 0.0, 1.0,
    ]  # fmt: skip


def test_sample_gives_valid_one_hot_blocks() -> None:
    x = SearchSpace(SPACE).sample(np.random.default_rng(0), 50)
    assert x.shape == (50, 6)
    assert (x[:, 3:].sum(axis=1) == 1).all()
    assert ((x[:, :3] >= 0) & (x[:, :3] <= 1)).all()


def _study(lower_is_better: bool = True) -> sherpa.Study:
    return sherpa.Study(
        [sherpa.Continuous("x", [0, 1]), sherpa.Choice("c", ["a", "b"])],
        sherpa.algorithms.RandomSearch(seed=0),
        lower_is_better=lower_is_better,
        disable_dashboard=True,
    )


def test_completed_history_keeps_completed_finite_trials() -> None:
    study = _study(lower_is_better=False)
    outcomes = [("COMPLETED", 0.5), ("FAILED", 0.9), ("COMPLETED", float("nan")), ("COMPLETED", 2)]
    for status, value in outcomes:
        trial = study.get_suggestion()
        study.add_observation(trial, value)
        study.finalize(trial, status)
    history = completed_history(study.results, study.parameters, lower_is_better=False)
    assert history.losses.tolist() == [-0.5, -2.0]
    assert [set(c) for c in history.configs] == [{"x", "c"}, {"x", "c"}]
    assert completed_history(None, study.parameters, True).losses.size == 0


def test_pending_tracker_counts_repeated_configurations() -> None:
    study = _study()
    tracker = PendingTracker()
    trials = [study.get_suggestion() for _ in range(2)]
    for trial in trials:
        tracker.add(trial.parameters)
    tracker.add(trials[0].parameters)  # the same configuration again
    assert len(tracker.pending(study.results, study.parameters)) == 3
    study.finalize(trials[0], "STOPPED")
    pending = tracker.pending(study.results, study.parameters)
    assert pending == [trials[1].parameters, trials[0].parameters]
