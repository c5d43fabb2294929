from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

import sherpa
from sherpa.algorithms._acquisition import _nearby_positions, _neighbours, discrete_search
from sherpa.algorithms._bayesian import _distance_to_nearest, _transform
from sherpa.algorithms._space import SearchSpace
from sherpa.algorithms.bayesian_optimization import BayesianOptimization, GPyOpt

DONE = sherpa.AlgorithmState.DONE
UNIT = [sherpa.Continuous("x", [0, 1])]
MIXED = [
    sherpa.Continuous("lr", [1e-4, 1e-1], scale="log"),
    sherpa.Discrete("units", [8, 128]),
    sherpa.Ordinal("batch", [16, 32, 64]),
    sherpa.Choice("act", ["relu", "tanh", [1, 2]]),
]
Run = Callable[..., sherpa.Study]


def _parabola(p: dict[str, Any]) -> float:
    return float((p["x"] - 0.3) ** 2)


def _mixed(p: dict[str, Any]) -> float:
    return (
        (math.log10(p["lr"]) + 2) ** 2
        + ((p["units"] - 64) / 64) ** 2
        + 0.3 * (p["batch"] != 32)
        + 0.5 * (p["act"] != "tanh")
    )


def _completed(study: sherpa.Study) -> list[dict[str, Any]]:
    final = study.results[study.results["Status"] == "COMPLETED"]
    names = [p.name for p in study.parameters]
    return [dict(zip(names, row, strict=True)) for row in final[names].itertuples(index=False)]


@pytest.fixture
def messages() -> Iterator[list[str]]:
    """The messages the algorithm module logs, at info level and above."""
    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    logger = logging.getLogger("sherpa.algorithms._bayesian")
    handler = Collect(logging.INFO)
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


@pytest.mark.parametrize("acquisition", ["log_ei", "ei", "pi", "lcb"])
def test_bayesian_optimization_finds_the_minimum_of_a_parabola(
    run_study: Run, acquisition: str
) -> None:
    algorithm = BayesianOptimization(max_num_trials=15, acquisition=acquisition, seed=0)
    study = run_study(algorithm, UNIT, _parabola)
    assert len(_completed(study)) == 15
    assert abs(study.get_best_result()["x"] - 0.3) < 0.01


def test_bayesian_optimization_finds_an_optimum_on_log_scale(run_study: Run) -> None:
    space = [sherpa.Continuous("lr", [1e-5, 1e-1], scale="log")]
    study = run_study(
        BayesianOptimization(max_num_trials=15, seed=0),
        space,
        lambda p: (math.log10(p["lr"]) + 3) ** 2,
    )
    assert abs(math.log10(study.get_best_result()["lr"]) + 3) < 0.1  # within a factor 1.26


def test_bayesian_optimization_maximizes(run_study: Run) -> None:
    study = run_study(
        BayesianOptimization(max_num_trials=15, seed=0),
        UNIT,
        lambda p: 1 - (p["x"] - 0.7) ** 2,
        lower_is_better=False,
    )
    assert abs(study.get_best_result()["x"] - 0.7) < 0.01


def test_bayesian_optimization_returns_python_values_and_actual_choices(run_study: Run) -> None:
    study = run_study(BayesianOptimization(max_num_trials=20, seed=0), MIXED, _mixed)
    suggested = _completed(study)
    assert len(suggested) == 20
    for config in suggested:
        assert type(config["lr"]) is float and 1e-4 <= config["lr"] <= 1e-1
        assert type(config["units"]) is int and 8 <= config["units"] <= 128
        assert config["batch"] in (16, 32, 64) and type(config["batch"]) is int
        assert config["act"] in ("relu", "tanh", [1, 2])
    assert [1, 2] in [c["act"] for c in suggested]
    best = study.get_best_result()
    assert (best["act"], best["batch"]) == ("tanh", 32) and best["Objective"] < 0.05


def test_bayesian_optimization_fits_one_lengthscale_per_parameter(run_study: Run) -> None:
    algorithm = BayesianOptimization(max_num_trials=10, seed=0)
    run_study(algorithm, MIXED, _mixed)
    # Four lengthscales (the Choice's three one-hot columns share one), signal and noise.
    assert algorithm._theta is not None and len(algorithm._theta) == 4 + 2


def test_bayesian_optimization_uses_trials_it_did_not_suggest(
    run_study: Run, messages: list[str]
) -> None:
    study = run_study(BayesianOptimization(max_num_trials=8, seed=1), MIXED, _mixed)
    algorithm = BayesianOptimization(num_initial_data_points=5, seed=1, log_suggestions=True)
    suggestion = algorithm.get_suggestion(MIXED, study.results, True)
    assert messages[0].startswith("BayesianOptimization: suggestion 1 (log_ei=")  # no design
    assert isinstance(suggestion, dict) and set(suggestion) == {"lr", "units", "batch", "act"}
    assert [type(suggestion[k]) for k in ("lr", "units", "batch")] == [float, int, int]
    assert not any(isinstance(v, np.generic) for v in suggestion.values())
    assert suggestion not in _completed(study)


def test_bayesian_optimization_spreads_suggestions_while_trials_run() -> None:
    space = [sherpa.Continuous("x", [0, 1]), sherpa.Continuous("y", [0, 1])]
    study = sherpa.Study(space, BayesianOptimization(seed=0), True, disable_dashboard=True)
    for _ in range(6):
        trial = study.get_suggestion()
        x, y = trial.parameters["x"], trial.parameters["y"]
        study.add_observation(trial, (x - 0.3) ** 2 + (y - 0.6) ** 2)
        study.finalize(trial)
    running = [study.get_suggestion().parameters for _ in range(4)]
    points = np.array([[p["x"], p["y"]] for p in running])
    distances = np.linalg.norm(points[:, None] - points[None], axis=-1)[np.triu_indices(4, 1)]
    assert distances.min() > 0.02
    assert not any(p in _completed(study) for p in running)


def test_distance_to_nearest_is_euclidean() -> None:
    points = np.array([[0.0, 0.0], [1.0, 1.0]])
    others = np.array([[0.0, 0.5], [1.0, 0.0]])
    assert _distance_to_nearest(points, others).tolist() == [0.5, 1.0]
    assert _distance_to_nearest(points, others[:0]).tolist() == [math.inf, math.inf]


def test_bayesian_optimization_keeps_its_suggestions_apart_from_tried_ones() -> None:
    # Four at a time on a parabola: once the model knows the basin it would pile its
    # suggestions onto the best point; none may come nearer than min_distance to a tried or
    # running configuration while the range has room (12 points at 0.05 apart).
    algorithm = BayesianOptimization(seed=0, min_distance=0.05)
    study = sherpa.Study(UNIT, algorithm, True, disable_dashboard=True)
    tried: list[float] = []
    for _ in range(3):
        batch = [study.get_suggestion() for _ in range(4)]
        for trial in batch:
            x = trial.parameters["x"]
            if len(tried) >= algorithm.num_initial(UNIT):
                assert min(abs(x - t) for t in tried) >= 0.05 - 1e-9, (x, tried)
            tried.append(x)
        for trial in batch:
            study.add_observation(trial, _parabola(trial.parameters))
            study.finalize(trial)
    assert abs(study.get_best_result()["x"] - 0.3) < 0.05


def test_bayesian_optimization_same_seed_same_suggestions(run_study: Run) -> None:
    space = [sherpa.Continuous("x", [0, 1]), sherpa.Choice("c", ["a", "b"])]

    def objective(p: dict[str, Any]) -> float:
        return float((p["x"] - 0.4) ** 2 + (p["c"] == "b"))

    def suggestions(seed: int) -> list[dict[str, Any]]:
        return _completed(
            run_study(BayesianOptimization(max_num_trials=10, seed=seed), space, objective)
        )

    assert suggestions(5) == suggestions(5)
    assert suggestions(5) != suggestions(6)


def test_study_random_seed_seeds_the_algorithm(run_study: Run) -> None:
    def run(random_seed: int) -> list[dict[str, Any]]:
        algorithm = BayesianOptimization(max_num_trials=7)
        study = sherpa.Study(
            UNIT, algorithm, True, disable_dashboard=True, random_seed=random_seed
        )
        for trial in study:
            study.add_observation(trial, _parabola(trial.parameters))
            study.finalize(trial)
        return _completed(study)

    assert run(3) == run(3)


def test_initial_data_points_come_first_and_count_towards_the_design(
    run_study: Run, messages: list[str]
) -> None:
    algorithm = BayesianOptimization(
        num_initial_data_points=4,
        initial_data_points=[{"x": 0.9, "extra": 1}, {"x": 0.1}],
        max_num_trials=6,
        seed=0,
        log_suggestions=True,
    )
    study = run_study(algorithm, UNIT, _parabola)
    assert [c["x"] for c in _completed(study)][:2] == [0.9, 0.1]
    assert "extra" not in study.results.columns
    assert len(messages) == 6
    assert all("(initial design)" in m for m in messages[:4])
    assert messages[4].startswith("BayesianOptimization: suggestion 5 (log_ei=")


def test_initial_data_points_may_be_a_dataframe(run_study: Run) -> None:
    points = pd.DataFrame({"x": [0.25, 0.75], "Objective": [1.0, 2.0]})
    algorithm = BayesianOptimization(initial_data_points=points, max_num_trials=3, seed=0)
    assert [c["x"] for c in _completed(run_study(algorithm, UNIT, _parabola))][:2] == [
        0.25,
        0.75,
    ]


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [(UNIT, 5), (MIXED, 6), ([sherpa.Continuous(f"x{i}", [0, 1]) for i in range(6)], 8)],
)
def test_inferred_initial_design_size(parameters: list[sherpa.Parameter], expected: int) -> None:
    assert BayesianOptimization().num_initial(parameters) == expected
    assert BayesianOptimization(num_initial_data_points=2).num_initial(parameters) == 2


def test_initial_design_is_spread_over_the_range(run_study: Run, messages: list[str]) -> None:
    algorithm = BayesianOptimization(max_num_trials=5, seed=0, log_suggestions=True)
    cells = sorted(int(c["x"] * 5) for c in _completed(run_study(algorithm, UNIT, _parabola)))
    assert cells == [0, 1, 2, 3, 4]  # a Latin hypercube: one point in each fifth
    assert all("(initial design)" in m for m in messages)


@pytest.mark.parametrize(
    ("point", "error", "match"),
    [
        ({"y": 1}, ValueError, r"initial_data_points\[1\] has no value for x"),
        ({"x": 1.5}, ValueError, r"initial_data_points\[1\]\['x'\] must lie in \[0.0, 1.0\]"),
        ({"x": "a"}, TypeError, r"initial_data_points\[1\]\['x'\] must be a number; got 'a'"),
    ],
)
def test_bad_initial_data_points_are_named_at_the_first_suggestion(
    point: dict[str, Any], error: type[Exception], match: str
) -> None:
    algorithm = BayesianOptimization(initial_data_points=[{"x": 0.5}, point])
    with pytest.raises(error, match=match):
        algorithm.get_suggestion(UNIT, None, True)


def test_bad_choice_in_initial_data_points() -> None:
    point = {"lr": 1e-3, "units": 8, "batch": 16, "act": "gelu"}
    algorithm = BayesianOptimization(initial_data_points=[point])
    with pytest.raises(ValueError, match=r"\['act'\] must be one of \['relu', 'tanh', \[1, 2\]\]"):
        algorithm.get_suggestion(MIXED, None, True)


def test_bayesian_optimization_is_done_after_max_num_trials(run_study: Run) -> None:
    algorithm = BayesianOptimization(max_num_trials=7, seed=0)
    assert algorithm.planned_suggestions(UNIT) == 7
    study = run_study(algorithm, UNIT, _parabola)
    assert len(_completed(study)) == 7
    assert algorithm.get_suggestion(UNIT, study.results, True) is DONE
    assert BayesianOptimization().planned_suggestions(UNIT) is None
    assert BayesianOptimization(max_num_trials=0).get_suggestion(UNIT, None, True) is DONE


def test_small_discrete_space_is_searched_without_repeats(run_study: Run) -> None:
    space = [sherpa.Choice("c", ["a", "b", "c"]), sherpa.Ordinal("o", [1, 2, 3])]
    study = run_study(
        BayesianOptimization(num_initial_data_points=3, max_num_trials=9, seed=0),
        space,
        lambda p: (p["c"] == "b") + (p["o"] - 2) ** 2,
    )
    configs = _completed(study)
    assert len({(c["c"], c["o"]) for c in configs}) == 9
    assert study.get_best_result()["Objective"] == 0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"num_initial_data_points": "auto"}, TypeError, "must be 'infer' or an int; got 'auto'"),
        ({"num_initial_data_points": 0}, ValueError, "num_initial_data_points must be at least 1"),
        ({"initial_data_points": "x=1"}, TypeError, "initial_data_points must be a list of dicts"),
        ({"initial_data_points": [1]}, TypeError, r"initial_data_points\[0\] must be a dict"),
        ({"max_num_trials": -1}, ValueError, "max_num_trials must be at least 0; got -1"),
        ({"acquisition": "ucb"}, ValueError, "acquisition must be one of 'log_ei', 'ei', 'pi'"),
        ({"seed": -2}, TypeError, "seed must be a non-negative int"),
        ({"exploration_weight": 0}, ValueError, "exploration_weight must be a finite number"),
        ({"output_transform": "log"}, ValueError, "output_transform must be one of 'power'"),
        ({"incumbent": "best"}, ValueError, "incumbent must be one of 'observed', 'posterior_m"),
        ({"max_model_points": 5}, ValueError, "max_model_points must be at least 10; got 5"),
        (
            {"min_distance": -0.1},
            ValueError,
            r"min_distance must be at least 0 and below 1; got -0.1",
        ),
        ({"min_distance": "far"}, TypeError, "min_distance must be a number; got 'far'"),
    ],
)
def test_bayesian_optimization_rejects_bad_arguments(
    kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        BayesianOptimization(**kwargs)


@pytest.mark.parametrize(
    ("acquisition_type", "acquisition"),
    [
        ("EI", "log_ei"),
        ("EI_MCMC", "log_ei"),
        ("MPI", "pi"),
        ("MPI_MCMC", "pi"),
        ("LCB", "lcb"),
        ("LCB_MCMC", "lcb"),
    ],
)
def test_gpyopt_maps_acquisition_types(acquisition_type: str, acquisition: str) -> None:
    algorithm = GPyOpt(acquisition_type=acquisition_type)
    assert (algorithm.acquisition, algorithm.acquisition_type) == (acquisition, acquisition_type)


@pytest.mark.parametrize(
    ("model_type", "max_model_points"), [("GP", 200), ("GP_MCMC", 200), ("sparseGP", 100)]
)
def test_gpyopt_maps_model_types(model_type: str, max_model_points: int) -> None:
    algorithm = GPyOpt(model_type=model_type)
    assert (algorithm.model_type, algorithm.max_model_points) == (model_type, max_model_points)


@pytest.mark.parametrize("model_type", ["RF", "warpedGP", "InputWarpedGP", "gp"])
def test_gpyopt_rejects_models_it_does_not_offer(model_type: str) -> None:
    match = f"model_type must be one of 'GP', 'GP_MCMC', 'sparseGP'; got '{model_type}'"
    with pytest.raises(ValueError, match=match):
        GPyOpt(model_type=model_type)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"acquisition_type": "UCB"}, ValueError, "acquisition_type must be one of 'EI', "),
        ({"max_concurrent": 0}, ValueError, "max_concurrent must be at least 1; got 0"),
        ({"num_initial_data_points": 2.5}, TypeError, "'infer' or an int; got 2.5"),
    ],
)
def test_gpyopt_rejects_bad_arguments(
    kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        GPyOpt(**kwargs)


def test_gpyopt_takes_sherpa_positional_arguments_and_optimizes(
    run_study: Run, messages: list[str]
) -> None:
    algorithm = GPyOpt("GP", 3, [{"x": 0.8}], "EI", 2, True, 12, 0)
    assert (algorithm.num_initial_data_points, algorithm.max_concurrent) == (3, 2)
    assert repr(algorithm) == (
        "GPyOpt(model_type='GP', acquisition_type='EI', max_concurrent=2, max_num_trials=12)"
    )
    study = run_study(algorithm, UNIT, _parabola)
    assert _completed(study)[0] == {"x": 0.8}
    assert abs(study.get_best_result()["x"] - 0.3) < 0.01
    assert len(messages) == 12 and messages[3].startswith("GPyOpt: suggestion 4 (log_ei=")


def test_gpyopt_without_verbosity_logs_nothing(run_study: Run, messages: list[str]) -> None:
    run_study(GPyOpt(max_num_trials=6, seed=0), UNIT, _parabola)
    assert messages == []


SWEPT = [
    sherpa.Choice("c", ["a", "b", "c"]),
    sherpa.Discrete("n", [1, 4]),
    sherpa.Ordinal("o", [1, 2, 3]),
    sherpa.Continuous("x", [0, 1]),
]


def test_neighbours_change_one_non_continuous_parameter_each() -> None:
    space = SearchSpace(SWEPT)
    point = space.encode({"c": "b", "n": 2, "o": 1, "x": 0.5})
    assert [space.decode(row) for row in _neighbours(space, point)] == [
        {"c": "a", "n": 2, "o": 1, "x": 0.5},
        {"c": "c", "n": 2, "o": 1, "x": 0.5},
        {"c": "b", "n": 1, "o": 1, "x": 0.5},
        {"c": "b", "n": 3, "o": 1, "x": 0.5},
        {"c": "b", "n": 4, "o": 1, "x": 0.5},
        {"c": "b", "n": 2, "o": 2, "x": 0.5},
        {"c": "b", "n": 2, "o": 3, "x": 0.5},
    ]


@pytest.mark.parametrize(
    ("parameter", "value", "expected"),
    [
        (
            sherpa.Discrete("w", [8, 128], scale="log"),
            32,
            [11, 18, 24, 28, 30, 31, 33, 34, 37, 42, 56, 97],
        ),
        (sherpa.Discrete("w", [0, 100]), 50, [10, 30, 40, 45, 48, 49, 51, 52, 55, 60, 70, 90]),
        (sherpa.Discrete("w", [0, 100]), 0, [1, 2, 5, 10, 20, 40]),
        (sherpa.Ordinal("o", list(range(0, 200, 10))), 100, [20, 60, 80, 90, 110, 120, 140, 180]),
    ],
)
def test_nearby_positions_of_a_large_range(
    parameter: sherpa.Parameter, value: int, expected: list[int]
) -> None:
    positions = _nearby_positions(parameter, SearchSpace.to_unit(parameter, value))
    assert sorted(SearchSpace.from_unit(parameter, u) for u in positions) == expected


class _Bowl:
    """An acquisition with its maximum at one known point (a stand-in for log EI)."""

    def __init__(self, target: np.ndarray) -> None:
        self.target = target

    def values(self, points: np.ndarray) -> np.ndarray:
        return np.asarray(-np.sum((points - self.target) ** 2, axis=1))

    def values_and_gradients(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.values(points), -2.0 * (points - self.target)


def test_discrete_search_changes_categories_and_integers_then_polishes() -> None:
    space = SearchSpace(SWEPT)
    target = space.encode({"c": "c", "n": 4, "o": 2, "x": 0.25})
    bowl = _Bowl(target)
    starts = space.encode_many(
        [
            {"c": "a", "n": 1, "o": 3, "x": 0.9},
            {"c": "a", "n": 1, "o": 3, "x": 0.9},  # a repeat is searched once
            {"c": "b", "n": 4, "o": 2, "x": 0.6},
        ]
    )
    ends, scores = discrete_search(bowl, space, starts, bowl.values(starts), 5)  # type: ignore[arg-type]
    assert len(ends) == 2
    for end in ends:
        assert space.decode(end) == {"c": "c", "n": 4, "o": 2, "x": pytest.approx(0.25)}
    assert scores == pytest.approx([0.0, 0.0], abs=1e-12)


def test_rank_transform_keeps_only_the_order() -> None:
    from scipy.stats import norm

    losses = np.array([3.0, 1.0, 1e6, 2.0])
    quantiles = norm.ppf([0.625, 0.125, 0.875, 0.375])
    expected = (quantiles - quantiles.mean()) / quantiles.std()
    assert _transform(losses, "rank") == pytest.approx(expected, rel=1e-12)
    # Ties share their mean rank.
    tied = _transform(np.array([1.0, 1.0, 5.0]), "rank")
    assert tied[0] == tied[1] < tied[2]
    assert _transform(np.array([7.0, 7.0, 7.0]), "rank").tolist() == [0.0, 0.0, 0.0]


def test_rank_output_transform_runs_a_study(run_study: Run) -> None:
    algorithm = BayesianOptimization(output_transform="rank", max_num_trials=15, seed=0)
    study = run_study(algorithm, UNIT, _parabola)
    assert abs(study.get_best_result()["x"] - 0.3) < 0.05


@pytest.mark.parametrize("incumbent", ["observed", "posterior_mean"])
def test_bayesian_optimization_incumbents_find_the_minimum(run_study: Run, incumbent: str) -> None:
    algorithm = BayesianOptimization(incumbent=incumbent, max_num_trials=15, seed=0)
    study = run_study(algorithm, UNIT, _parabola)
    assert abs(study.get_best_result()["x"] - 0.3) < 0.05
