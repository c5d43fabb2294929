from __future__ import annotations

from typing import Any

import pytest

import sherpa
from sherpa.algorithms import GridSearch, Iterate, RandomSearch

DONE = sherpa.AlgorithmState.DONE


def _drain(algorithm: sherpa.algorithms.Algorithm, parameters: list[Any]) -> list[Any]:
    out = []
    for _ in range(1000):
        suggestion = algorithm.get_suggestion(parameters)
        if suggestion is DONE:
            return out
        out.append(suggestion)
    raise AssertionError("algorithm never finished")


def test_random_search_stops_after_max_num_trials() -> None:
    space = [sherpa.Continuous("x", [0, 1]), sherpa.Discrete("n", [1, 3])]
    suggestions = _drain(RandomSearch(max_num_trials=4, seed=0), space)
    assert len(suggestions) == 4
    assert all(type(s["x"]) is float and type(s["n"]) is int for s in suggestions)


def test_random_search_repeat_suggests_each_configuration_repeatedly() -> None:
    suggestions = _drain(
        RandomSearch(max_num_trials=2, repeat=3, seed=0), [sherpa.Continuous("x", [0, 1])]
    )
    assert len(suggestions) == 6
    assert suggestions[0] == suggestions[1] == suggestions[2] != suggestions[3]


def test_random_search_same_seed_same_suggestions() -> None:
    space = [sherpa.Continuous("x", [0, 1]), sherpa.Choice("c", ["a", "b", "c"])]
    assert _drain(RandomSearch(5, seed=11), space) == _drain(RandomSearch(5, seed=11), space)
    assert _drain(RandomSearch(5, seed=11), space) != _drain(RandomSearch(5, seed=12), space)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"max_num_trials": -1}, ValueError, "max_num_trials must be at least 0; got -1"),
        ({"max_num_trials": 2.5}, TypeError, "max_num_trials must be an int or None; got 2.5"),
        ({"repeat": 0}, ValueError, "repeat must be at least 1"),
        ({"seed": "a"}, TypeError, "seed must be a non-negative int"),
    ],
)
def test_random_search_rejects_bad_arguments(
    kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        RandomSearch(**kwargs)


def test_grid_search_crosses_choices_with_evenly_spaced_points() -> None:
    space = [
        sherpa.Choice("act", ["relu", "tanh"]),
        sherpa.Continuous("lr", [1e-3, 1e-1], scale="log"),
        sherpa.Discrete("units", [10, 30]),
    ]
    suggestions = _drain(GridSearch(num_grid_points=3), space)
    assert len(suggestions) == 2 * 3 * 3
    assert sorted({s["lr"] for s in suggestions}) == pytest.approx([1e-3, 1e-2, 1e-1])
    assert sorted({s["units"] for s in suggestions}) == [10, 20, 30]
    assert {s["act"] for s in suggestions} == {"relu", "tanh"}
    assert len({tuple(sorted(s.items())) for s in suggestions}) == 18


def test_grid_search_default_takes_both_ends() -> None:
    suggestions = _drain(
        GridSearch(), [sherpa.Continuous("x", [-1, 1]), sherpa.Ordinal("o", [1, 2])]
    )
    assert suggestions == [
        {"x": -1.0, "o": 1},
        {"x": -1.0, "o": 2},
        {"x": 1.0, "o": 1},
        {"x": 1.0, "o": 2},
    ]


def test_grid_search_rejects_zero_points() -> None:
    with pytest.raises(ValueError, match="num_grid_points must be at least 1; got 0"):
        GridSearch(num_grid_points=0)


def test_iterate_yields_given_configurations_with_unhashable_values() -> None:
    configs = [{"layers": [64, 64], "act": "relu"}, {"layers": [128], "act": "relu"}]
    algorithm = Iterate(configs)
    assert algorithm.get_parameters() == [
        sherpa.Choice("layers", [[64, 64], [128]]),
        sherpa.Choice("act", ["relu"]),
    ]
    assert _drain(algorithm, algorithm.get_parameters()) == configs


def test_iterate_keeps_values_of_different_types_apart() -> None:
    assert Iterate([{"a": 1}, {"a": True}, {"a": 1.0}]).get_parameters()[0].range == [1, True, 1.0]


def test_iterate_rejects_non_dicts() -> None:
    with pytest.raises(TypeError, match=r"hp_iter\[1\] must be a dict; got 3"):
        Iterate([{"a": 1}, 3])  # type: ignore[list-item]


def test_iterate_drives_a_study() -> None:
    algorithm = Iterate([{"a": 1}, {"a": 2}])
    study = sherpa.Study(
        algorithm.get_parameters(), algorithm, lower_is_better=True, disable_dashboard=True
    )
    assert [t.parameters for t in study] == [{"a": 1}, {"a": 2}]


def test_base_algorithm_must_be_subclassed() -> None:
    with pytest.raises(NotImplementedError, match="Algorithm must implement get_suggestion"):
        sherpa.algorithms.Algorithm().get_suggestion([])
