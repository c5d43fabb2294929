from __future__ import annotations

from collections.abc import Callable

import pytest

import sherpa
from sherpa.algorithms import Chain, GridSearch, Iterate, RandomSearch, Repeat

SPACE = [sherpa.Continuous("x", [0, 1])]


def _study(algorithm: sherpa.algorithms.Algorithm) -> sherpa.Study:
    return sherpa.Study(SPACE, algorithm, lower_is_better=True, disable_dashboard=True)


def test_repeat_runs_each_configuration_num_times(run_study: Callable[..., sherpa.Study]) -> None:
    study = run_study(
        Repeat(RandomSearch(max_num_trials=2, seed=0), num_times=3), SPACE, lambda p: p["x"]
    )
    xs = [t.parameters["x"] for t in study.trials]
    assert len(xs) == 6 and xs[0] == xs[1] == xs[2] != xs[3] == xs[4] == xs[5]


def test_repeat_aggregates_for_best_result_and_for_the_inner_algorithm() -> None:
    seen = []

    class Recording(Iterate):
        requires_results = True

        def get_suggestion(self, parameters, results=None, lower_is_better=True):  # type: ignore[no-untyped-def]
            seen.append(None if results is None else results)
            return super().get_suggestion(parameters, results, lower_is_better)

    algorithm = Repeat(Recording([{"x": 0.1}, {"x": 0.9}]), num_times=2, agg=True)
    study = _study(algorithm)
    values = {0: 1.0, 1: 5.0, 2: 2.0, 3: 2.5}  # means: x=0.1 -> 3.0, x=0.9 -> 2.25
    for index, trial in enumerate(study):
        study.add_observation(trial, values[index])
        study.finalize(trial)
    best = study.get_best_result()
    assert (best["x"], best["Objective"], best["Trial-ID"]) == (0.9, 2.25, 3)
    aggregated = seen[-1]
    final = aggregated[aggregated["Status"] == "COMPLETED"]
    assert final[["Trial-ID", "x", "Objective"]].values.tolist() == [
        [1, 0.1, 3.0],
        [3, 0.9, 2.25],
    ]
    plain = _study(Repeat(Iterate([{"x": 0.1}, {"x": 0.9}]), num_times=2))
    for index, trial in enumerate(plain):
        plain.add_observation(trial, values[index])
        plain.finalize(trial)
    assert plain.get_best_result()["Trial-ID"] == 1


def test_repeat_wait_for_completion() -> None:
    study = _study(Repeat(RandomSearch(seed=0), num_times=2, wait_for_completion=True))
    first, second = study.get_suggestion(), study.get_suggestion()
    assert study.get_suggestion() is sherpa.AlgorithmState.WAIT
    study.add_observation(first, 1.0)
    study.finalize(first)
    assert study.get_suggestion() is sherpa.AlgorithmState.WAIT
    study.finalize(second, "FAILED")
    assert isinstance(study.get_suggestion(), sherpa.Trial)


def test_repeat_counts_planned_suggestions() -> None:
    assert Repeat(RandomSearch(max_num_trials=4), num_times=3).planned_suggestions(SPACE) == 12
    with pytest.raises(ValueError, match="num_times must be at least 1"):
        Repeat(RandomSearch(), num_times=0)
    with pytest.raises(TypeError, match=r"algorithm must be a sherpa.algorithms.Algorithm"):
        Repeat("random")  # type: ignore[arg-type]


def test_chain_runs_algorithms_in_turn(run_study: Callable[..., sherpa.Study]) -> None:
    chain = Chain([GridSearch(num_grid_points=3), Iterate([{"x": 0.25}]), RandomSearch(2, seed=1)])
    assert chain.planned_suggestions(SPACE) == 6
    study = run_study(chain, SPACE, lambda p: p["x"])
    xs = [t.parameters["x"] for t in study.trials]
    assert xs[:4] == [0.0, 0.5, 1.0, 0.25] and len(xs) == 6
    with pytest.raises(ValueError, match="at least one algorithm"):
        Chain([])


def test_chain_and_repeat_hand_the_study_seed_down() -> None:
    def draws(seed: int) -> list[float]:
        study = sherpa.Study(
            SPACE,
            Chain([Repeat(RandomSearch(2), num_times=1), RandomSearch(2)]),
            lower_is_better=True,
            random_seed=seed,
            disable_dashboard=True,
        )
        return [t.parameters["x"] for t in study]

    assert draws(1) == draws(1) != draws(2)
