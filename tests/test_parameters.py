from __future__ import annotations

import math

import numpy as np
import pytest

import sherpa
from sherpa.parameters import validate_parameters


def _draw(parameter: sherpa.Parameter, n: int = 2000, seed: int = 0) -> list[object]:
    rng = np.random.default_rng(seed)
    return [parameter.sample(rng) for _ in range(n)]


def test_continuous_samples_plain_floats_within_range() -> None:
    values = _draw(sherpa.Continuous("x", [-2, 3]))
    assert all(type(v) is float for v in values)
    assert min(values) >= -2.0 and max(values) <= 3.0
    assert min(values) < -1.9 and max(values) > 2.9


def test_continuous_log_scale_is_log_uniform() -> None:
    values = _draw(sherpa.Continuous("lr", [1e-4, 1e-0], scale="log"), n=4000)
    below = sum(v < 1e-2 for v in values) / len(values)
    assert 0.45 < below < 0.55  # half the log-range lies below 1e-2


def test_discrete_samples_plain_ints_with_both_bounds_reachable() -> None:
    values = _draw(sherpa.Discrete("n", [1, 4]))
    assert all(type(v) is int for v in values)
    assert set(values) == {1, 2, 3, 4}


def test_discrete_log_scale_reaches_both_bounds() -> None:
    values = _draw(sherpa.Discrete("units", [1, 8], scale="log"), n=5000)
    assert all(type(v) is int for v in values)
    assert set(values) == set(range(1, 9))
    assert values.count(1) > values.count(8)


@pytest.mark.parametrize("cls", [sherpa.Choice, sherpa.Ordinal])
def test_list_parameters_sample_their_values(cls: type[sherpa.Parameter]) -> None:
    values = _draw(cls("c", ["a", 2, True]))
    assert set(map(repr, values)) == {"'a'", "2", "True"}


def test_choice_turns_numpy_values_into_python() -> None:
    choice = sherpa.Choice("c", np.array([1, 2, 3]))
    assert choice.range == [1, 2, 3]
    assert all(type(v) is int for v in _draw(choice, n=50))


def test_discrete_accepts_integral_float_bounds() -> None:
    assert sherpa.Discrete("n", [1.0, np.int64(5)]).range == [1, 5]


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        (lambda: sherpa.Continuous("x", [2, 1]), ValueError, r"'x'.*low must not exceed high"),
        (lambda: sherpa.Discrete("n", [5, 1]), ValueError, r"'n'.*\[5, 1\]"),
        (lambda: sherpa.Continuous("lr", [0, 1], scale="log"), ValueError, r"'lr'.*above 0"),
        (lambda: sherpa.Discrete("n", [-1, 4], scale="log"), ValueError, r"'n'.*above 0"),
        (lambda: sherpa.Continuous("x", [0, 1], scale="exp"), ValueError, r"'x'.*'exp'"),
        (lambda: sherpa.Continuous("x", [0]), TypeError, r"'x'.*\[low, high\]"),
        (lambda: sherpa.Continuous("x", ["a", 1]), TypeError, r"'x'.*'a'"),
        (lambda: sherpa.Continuous("x", [0, math.inf]), ValueError, r"'x'.*finite"),
        (lambda: sherpa.Discrete("n", [1, 2.5]), ValueError, r"'n'.*integers"),
        (lambda: sherpa.Choice("c", []), ValueError, r"'c'.*must not be empty"),
        (lambda: sherpa.Ordinal("o", "abc"), TypeError, r"'o'.*list of values"),
        (lambda: sherpa.Choice(3, ["a"]), TypeError, r"name must be a string; got 3"),
        (lambda: sherpa.Choice("", ["a"]), ValueError, r"must not be empty"),
    ],
)
def test_invalid_definitions_raise_clear_errors(
    build: object, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        build()  # type: ignore[operator]


def test_from_dict_builds_each_type() -> None:
    built = [
        sherpa.Parameter.from_dict({"name": "a", "type": "continuous", "range": [1, 2]}),
        sherpa.Parameter.from_dict(
            {"name": "b", "type": "discrete", "range": [1, 100], "scale": "log"}
        ),
        sherpa.Parameter.from_dict({"name": "c", "type": "choice", "range": ["x", "y"]}),
        sherpa.Parameter.from_dict({"name": "d", "type": "ordinal", "range": [1, 2, 3]}),
    ]
    assert built == [
        sherpa.Continuous("a", [1.0, 2.0]),
        sherpa.Discrete("b", [1, 100], scale="log"),
        sherpa.Choice("c", ["x", "y"]),
        sherpa.Ordinal("d", [1, 2, 3]),
    ]


def test_to_dict_round_trips() -> None:
    original = sherpa.Continuous("lr", [1e-3, 1e-1], scale="log")
    assert sherpa.Parameter.from_dict(original.to_dict()) == original


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ({"name": "a", "type": "gaussian", "range": [0, 1]}, r"'a'.*type must be one of"),
        ({"name": "a", "range": [0, 1]}, r"missing type"),
        ({"name": "a", "type": "choice", "range": [1], "scale": "log"}, r"scale applies only"),
        ({"name": "a", "type": "choice", "range": [1], "colour": 1}, r"unknown keys \['colour'\]"),
    ],
)
def test_from_dict_rejects_bad_configs(config: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        sherpa.Parameter.from_dict(config)


def test_grid_makes_choices() -> None:
    grid = sherpa.Parameter.grid({"units": [32, 64], "act": ["relu", "tanh"]})
    assert grid == [sherpa.Choice("units", [32, 64]), sherpa.Choice("act", ["relu", "tanh"])]


def test_validate_parameters_rejects_duplicates_and_non_parameters() -> None:
    with pytest.raises(ValueError, match=r"duplicate names \['x'\]"):
        validate_parameters([sherpa.Continuous("x", [0, 1]), sherpa.Choice("x", [1])])
    with pytest.raises(TypeError, match=r"got 'x' \(str\)"):
        validate_parameters(["x"])
    with pytest.raises(TypeError, match=r"list of sherpa parameters"):
        validate_parameters(sherpa.Continuous("x", [0, 1]))
    with pytest.raises(ValueError, match=r"at least one parameter; got an empty list"):
        validate_parameters([])


@pytest.mark.parametrize("name", ["Objective", "Status", "Trial-ID", "Iteration"])
def test_a_parameter_may_not_take_a_results_column_name(name: str) -> None:
    with pytest.raises(ValueError, match=rf"parameter name '{name}' is a column of the results"):
        sherpa.Study(
            parameters=[sherpa.Continuous(name, [0, 1])],
            algorithm=sherpa.algorithms.RandomSearch(max_num_trials=1),
            lower_is_better=True,
            disable_dashboard=True,
        )


@pytest.mark.parametrize(
    "parameter",
    [
        sherpa.Continuous("x", [0, 1]),
        sherpa.Discrete("n", [1, 4]),
        sherpa.Choice("c", ["a", None]),
        sherpa.Ordinal("o", [1, 2, 3]),
    ],
)
def test_sample_without_a_generator_draws_from_the_module_one(
    parameter: sherpa.Parameter,
) -> None:
    # SHERPA's sample() took no argument; code written for it must keep working.
    values = [parameter.sample() for _ in range(200)]
    if isinstance(parameter, (sherpa.Choice, sherpa.Ordinal)):
        assert set(values) == set(parameter.range)
    else:
        assert all(parameter.range[0] <= v <= parameter.range[1] for v in values)
        assert len(set(values)) > 1


@pytest.mark.parametrize(
    ("parameter", "points", "expected"),
    [
        (sherpa.Continuous("x", [0, 1]), 3, [0.0, 0.5, 1.0]),
        (sherpa.Continuous("x", [1, 100], scale="log"), 3, [1.0, 10.0, 100.0]),
        (sherpa.Discrete("n", [1, 4]), 3, [1, 2, 4]),
        (sherpa.Discrete("n", [1, 3]), 5, [1, 2, 3]),
        (sherpa.Continuous("x", [0, 4]), 1, [2.0]),
        (sherpa.Ordinal("o", ["s", "m", "l"]), 2, ["s", "m", "l"]),
    ],
)
def test_grid_points(parameter: sherpa.Parameter, points: int, expected: list[object]) -> None:
    assert parameter.grid_points(points) == pytest.approx(expected)


def test_check_value_returns_the_parameter_s_own_value() -> None:
    choice = sherpa.Choice("c", [1, 2, None])
    assert choice.check_value(2.0, "v") == 2 and type(choice.check_value(2.0, "v")) is int
    assert choice.check_value(None, "v") is None
    with pytest.raises(ValueError, match=r"v must be one of \[1, 2, None\]; got True"):
        choice.check_value(True, "v")
    assert sherpa.Choice("b", [True, False]).check_value(True, "v") is True
    with pytest.raises(ValueError, match="got 1"):
        sherpa.Choice("b", [True, False]).check_value(1, "v")
    assert sherpa.Discrete("n", [1, 5]).check_value(3.0, "v") == 3
    with pytest.raises(TypeError, match=r"v must be a number; got '3' \(str\)"):
        sherpa.Continuous("x", [0, 5]).check_value("3", "v")
