from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import sherpa
from sherpa.algorithms import LocalSearch
from sherpa.algorithms._local_search import neighbours

SPACE = [
    sherpa.Continuous("x", [0, 10]),
    sherpa.Discrete("n", [1, 5]),
    sherpa.Ordinal("o", ["a", "b", "c"]),
    sherpa.Choice("c", ["p", "q"]),
]
SEED = {"x": 5.0, "n": 2, "o": "b", "c": "p"}


@pytest.mark.parametrize(
    ("parameter", "value", "expected"),
    [
        (SPACE[0], 5.0, [4.0, 6.0]),
        (SPACE[0], 10.0, [8.0]),  # 12 is clipped to 10, which is no move
        (SPACE[1], 2, [1, 3]),  # 1.6 and 2.4 round to 2: move by one instead
        (SPACE[1], 5, [4]),
        (SPACE[2], "b", ["a", "c"]),
        (SPACE[2], "a", ["b"]),
        (SPACE[3], "p", ["q"]),
    ],
)
def test_neighbours(parameter: sherpa.Parameter, value: Any, expected: list[Any]) -> None:
    assert neighbours(parameter, value, (0.8, 1.2)) == expected


def test_local_search_climbs_from_the_seed_until_no_neighbour_is_left(
    run_study: Callable[..., sherpa.Study],
) -> None:
    def loss(p: dict[str, Any]) -> float:
        return abs(p["x"] - 4) + p["n"] + (p["o"] != "c") + (p["c"] == "q")

    study = run_study(LocalSearch(SEED, seed=0), SPACE, loss)
    configs = [t.parameters for t in study.trials]
    assert configs[0] == SEED
    assert len({repr(sorted(c.items())) for c in configs}) == len(configs)
    best = study.get_best_result()
    assert {k: best[k] for k in SEED} == {"x": 4.0, "n": 1, "o": "c", "c": "p"}
    # every suggestion differs from an earlier configuration in exactly one parameter
    for index, config in enumerate(configs[1:], start=1):
        assert any(sum(config[k] != old[k] for k in SEED) == 1 for old in configs[:index])


def test_local_search_repeats_and_waits_for_pending_trials() -> None:
    algorithm = LocalSearch({"x": 5.0}, perturbation_factors=(0.5,), repeat_trials=2)
    study = sherpa.Study(
        [sherpa.Continuous("x", [0, 10])], algorithm, True, disable_dashboard=True
    )
    first, second = study.get_suggestion(), study.get_suggestion()
    assert first.parameters == second.parameters == {"x": 5.0}  # type: ignore[union-attr]
    assert study.get_suggestion() is sherpa.AlgorithmState.WAIT  # nothing completed yet
    for trial, value in ((first, 1.0), (second, 3.0)):
        study.add_observation(trial, value)
        study.finalize(trial)
    third = study.get_suggestion()
    assert third.parameters == {"x": 2.5}  # type: ignore[union-attr]
    assert study.get_suggestion().parameters == {"x": 2.5}  # type: ignore[union-attr]
    assert study.get_suggestion() is sherpa.AlgorithmState.WAIT


def test_local_search_checks_its_arguments() -> None:
    with pytest.raises(TypeError, match="seed_configuration must be a dict"):
        LocalSearch([1])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"perturbation_factors must be positive numbers"):
        LocalSearch({}, perturbation_factors=(0, 2))
    with pytest.raises(ValueError, match=r"seed_configuration lacks a value for \['n'\]"):
        LocalSearch({"x": 1.0}).get_suggestion(SPACE[:2])
    with pytest.raises(ValueError, match=r"perturbation_factors must hold at least one factor"):
        LocalSearch({}, perturbation_factors=())
    with pytest.raises(ValueError, match=r"a factor of 1 changes nothing; got \(1.0,\)"):
        LocalSearch({}, perturbation_factors=(1.0,))


@pytest.mark.parametrize(
    ("seed", "message"),
    [
        ({"x": 5.0, "c": "a"}, r"seed_configuration\['x'\] must lie in \[0.0, 1.0\]; got 5.0"),
        ({"x": 0.5, "c": "zzz"}, r"seed_configuration\['c'\] must be one of \['a', 'b'\]"),
        ({"x": "0.5", "c": "a"}, r"seed_configuration\['x'\] must be a number; got '0.5'"),
        ({"x": 0.5, "c": "a", "n": 2.7}, r"seed_configuration\['n'\] must be an integer"),
    ],
)
def test_local_search_checks_the_seed_configuration_against_the_parameters(
    seed: dict[str, Any], message: str
) -> None:
    space = [
        sherpa.Continuous("x", [0, 1]),
        sherpa.Choice("c", ["a", "b"]),
        sherpa.Discrete("n", [1, 5]),
    ]
    seed = {"n": 2, **seed}
    with pytest.raises((ValueError, TypeError), match=message):
        LocalSearch(seed).get_suggestion(space)
