from __future__ import annotations

from typing import Any

import pytest

import sherpa
from sherpa.algorithms import SuccessiveHalving
from sherpa.algorithms._successive_halving import rung_resources

SPACE = [sherpa.Continuous("x", [0, 1])]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((1, 9, 3, 0), [1, 3, 9]),
        ((1, 243, 3, 0), [1, 3, 9, 27, 81, 243]),
        ((1, 1000, 10, 0), [1, 10, 100, 1000]),
        ((1, 999, 10, 0), [1, 10, 100]),
        ((1, 27, 3, 1), [3, 9, 27]),
        ((0.1, 100, 10, 0), [0.1, 1, 10, 100]),
        ((2, 2, 3, 0), [2]),
    ],
)
def test_rung_resources_are_exact(args: tuple[Any, ...], expected: list[Any]) -> None:
    assert rung_resources(*args) == expected


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"r": 10, "R": 9}, "r must not exceed R"),
        ({"r": 1, "R": 9, "s": 3}, r"r \* eta\*\*s must not exceed R"),
        ({"eta": 1}, "eta must be at least 2"),
        ({"r": 0}, "r must be a positive number"),
    ],
)
def test_successive_halving_checks_its_arguments(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        SuccessiveHalving(**kwargs)


def _finish(study: sherpa.Study, trial: Any, value: float) -> None:
    study.add_observation(trial, value, iteration=trial.parameters["resource"])
    study.finalize(trial)


def test_successive_halving_promotes_the_top_third_in_order() -> None:
    study = sherpa.Study(
        SPACE, SuccessiveHalving(r=1, R=9, eta=3, seed=0), True, disable_dashboard=True
    )
    rung0 = [study.get_suggestion() for _ in range(3)]
    assert [(t.parameters["rung"], t.parameters["resource"]) for t in rung0] == [(0, 1)] * 3
    assert [t.parameters["save_to"] for t in rung0] == ["1", "2", "3"]
    for trial, value in zip(rung0, [0.5, 0.2, 0.9], strict=True):
        _finish(study, trial, value)
    promoted = study.get_suggestion()
    assert promoted.parameters["rung"] == 1 and promoted.parameters["resource"] == 3
    assert promoted.parameters["load_from"] == "2"
    assert promoted.parameters["x"] == rung0[1].parameters["x"]
    # trial 2 is promoted once only; the next suggestion starts a new configuration
    fresh = study.get_suggestion()
    assert (fresh.parameters["rung"], fresh.parameters["load_from"]) == (0, "")
    _finish(study, promoted, 0.1)
    more = [study.get_suggestion() for _ in range(4)]
    for trial, value in zip([fresh, *more], [0.05, 0.8, 0.7, 0.6, 0.95], strict=True):
        _finish(study, trial, value)
    # rung 0 now has 8 completed: the top 2 (0.05 fresh, 0.2 trial 2) qualify; 2 is used
    nxt = study.get_suggestion()
    assert (nxt.parameters["rung"], nxt.parameters["load_from"]) == (
        1,
        fresh.parameters["save_to"],
    )


def test_successive_halving_ends_after_max_finished_configs_reach_the_top() -> None:
    algorithm = SuccessiveHalving(r=1, R=3, eta=3, max_finished_configs=2, seed=0)
    study = sherpa.Study(SPACE, algorithm, True, disable_dashboard=True)
    top_finished = 0
    for trial in study:
        _finish(study, trial, trial.parameters["x"])
        top_finished += trial.parameters["rung"] == 1
        assert len(study.trials) < 50
    assert top_finished == 2
    assert study.get_suggestion() is sherpa.AlgorithmState.DONE
    promotions = [t.parameters["load_from"] for t in study.trials if t.parameters["load_from"]]
    assert len(promotions) == len(set(promotions))
