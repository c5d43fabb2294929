from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

import sherpa
from sherpa.algorithms import RandomSearch
from sherpa.algorithms._tpe import TPE, default_gamma

DONE = sherpa.AlgorithmState.DONE
Run = Callable[..., sherpa.Study]


def _next(study: sherpa.Study) -> sherpa.Trial:
    trial = study.get_suggestion()
    assert isinstance(trial, sherpa.Trial)
    return trial


def _finish(
    study: sherpa.Study, trial: sherpa.Trial, objective: float, status: str = "COMPLETED"
) -> None:
    study.add_observation(trial, objective)
    study.finalize(trial, status)


def _best(study: sherpa.Study) -> dict[str, Any]:
    return study.get_best_result()


def test_tpe_first_trials_are_random_search(run_study: Run) -> None:
    space = [
        sherpa.Continuous("lr", [1e-4, 1e-1], scale="log"),
        sherpa.Discrete("units", [8, 64]),
        sherpa.Choice("act", ["relu", "tanh", [1, 2]]),
    ]
    study = run_study(TPE(max_num_trials=12, seed=3), space, lambda p: p["lr"])
    random = RandomSearch(max_num_trials=12, seed=3)
    expected = [random.get_suggestion(space) for _ in range(12)]
    assert [t.parameters for t in study.trials[:10]] == expected[:10]
    assert [t.parameters for t in study.trials[10:]] != expected[10:]


def test_tpe_converges_on_a_quadratic(run_study: Run) -> None:
    space = [sherpa.Continuous("x", [0, 1])]
    for seed in range(3):
        study = run_study(TPE(max_num_trials=40, seed=seed), space, lambda p: (p["x"] - 0.3) ** 2)
        assert _best(study)["x"] == pytest.approx(0.3, abs=0.05)


def test_tpe_late_trials_concentrate_near_the_optimum(run_study: Run) -> None:
    space = [sherpa.Continuous("x", [0, 1])]
    study = run_study(TPE(max_num_trials=40, seed=0), space, lambda p: (p["x"] - 0.3) ** 2)
    late = [t.parameters["x"] for t in study.trials[30:]]
    assert sum(abs(x - 0.3) < 0.1 for x in late) >= 8


def test_tpe_log_scale_parameter(run_study: Run) -> None:
    space = [sherpa.Continuous("lr", [1e-6, 1.0], scale="log")]
    study = run_study(
        TPE(max_num_trials=40, seed=0), space, lambda p: (math.log10(p["lr"]) + 3) ** 2
    )
    assert math.log10(_best(study)["lr"]) == pytest.approx(-3, abs=0.15)


def test_tpe_log_scale_discrete_parameter(run_study: Run) -> None:
    space = [sherpa.Discrete("units", [1, 1000], scale="log")]
    study = run_study(
        TPE(max_num_trials=40, seed=0), space, lambda p: abs(math.log(p["units"] / 50))
    )
    assert 40 <= _best(study)["units"] <= 60


def test_tpe_maximizes_when_higher_is_better(run_study: Run) -> None:
    space = [sherpa.Continuous("x", [-2, 2]), sherpa.Discrete("n", [0, 20])]
    study = run_study(
        TPE(max_num_trials=40, seed=1),
        space,
        lambda p: -((p["x"] - 1) ** 2) - 0.01 * (p["n"] - 15) ** 2,
        lower_is_better=False,
    )
    best = _best(study)
    assert best["x"] == pytest.approx(1, abs=0.15)
    assert abs(best["n"] - 15) <= 3


def test_tpe_finds_the_best_choice(run_study: Run) -> None:
    values = {"a": 1.0, "b": 0.9, "c": 0.0, "d": 0.8, "e": 1.1}
    space = [sherpa.Choice("c", list(values)), sherpa.Continuous("x", [0, 1])]
    study = run_study(
        TPE(max_num_trials=40, seed=0), space, lambda p: values[p["c"]] + 0.1 * p["x"]
    )
    late = Counter(t.parameters["c"] for t in study.trials[20:])
    assert late.most_common(1)[0][0] == "c"
    assert late["c"] >= 12


def test_tpe_suggests_plain_python_values_and_actual_choices(run_study: Run) -> None:
    shapes = [[8, 8], [16], "flat", None, True]
    space = [
        sherpa.Continuous("lr", [1e-4, 1e-1], scale="log"),
        sherpa.Discrete("units", [1, 1000], scale="log"),
        sherpa.Discrete("layers", [1, 4]),
        sherpa.Ordinal("batch", [16, 32, 64]),
        sherpa.Choice("shape", shapes),
        sherpa.Choice("fixed", ["only"]),
        sherpa.Continuous("constant", [0.5, 0.5]),
    ]

    def objective(p: dict[str, Any]) -> float:
        return float(10 * (p["shape"] != [16]) + math.log(p["lr"]) + p["units"] / 1000)

    study = run_study(TPE(max_num_trials=25, seed=4), space, objective)
    for trial in study.trials[10:]:
        p = trial.parameters
        assert [type(p[k]) for k in ("lr", "units", "layers", "batch")] == [float, int, int, int]
        assert 1e-4 <= p["lr"] <= 1e-1 and 1 <= p["units"] <= 1000 and 1 <= p["layers"] <= 4
        assert p["batch"] in (16, 32, 64)
        assert any(p["shape"] is shape for shape in shapes)
        assert p["fixed"] == "only" and p["constant"] == 0.5
    assert _best(study)["shape"] == [16]


def test_tpe_never_repeats_a_configuration_of_a_countable_space(run_study: Run) -> None:
    space = [sherpa.Discrete("n", [0, 4]), sherpa.Choice("c", ["a", "b", "c"])]
    study = run_study(
        TPE(max_num_trials=15, num_initial_trials=3, seed=0),
        space,
        lambda p: (p["n"] - 2) ** 2 + (p["c"] != "b"),
    )
    configurations = {(t.parameters["n"], t.parameters["c"]) for t in study.trials}
    assert len(configurations) == 15


def _parallel_batch(constant_liar: bool) -> list[float]:
    """Ten sequential trials, then eight suggestions while none of them finishes."""
    space = [sherpa.Continuous("x", [0, 40])]
    study = sherpa.Study(
        space, TPE(constant_liar=constant_liar, seed=0), True, disable_dashboard=True
    )
    for _ in range(10):
        trial = _next(study)
        _finish(study, trial, (trial.parameters["x"] - 20) ** 2)
    return [_next(study).parameters["x"] for _ in range(8)]


def test_tpe_constant_liar_spreads_parallel_suggestions() -> None:
    spread, piled = _parallel_batch(constant_liar=True), _parallel_batch(constant_liar=False)
    assert max(spread) - min(spread) > 2 * (max(piled) - min(piled))


def test_tpe_constant_liar_avoids_repeats_on_a_grid() -> None:
    space = [sherpa.Discrete("n", [0, 40])]
    study = sherpa.Study(space, TPE(seed=0), True, disable_dashboard=True)
    for _ in range(10):
        trial = _next(study)
        _finish(study, trial, (trial.parameters["n"] - 20) ** 2)
    batch = [_next(study).parameters["n"] for _ in range(8)]
    assert len(set(batch)) == 8


def test_tpe_parallel_suggestions_before_any_result_are_distinct() -> None:
    space = [sherpa.Continuous("x", [0, 1]), sherpa.Discrete("n", [0, 1000])]
    study = sherpa.Study(space, TPE(seed=0), True, disable_dashboard=True)
    batch = [_next(study).parameters for _ in range(15)]
    assert len({(p["x"], p["n"]) for p in batch}) == 15


def test_tpe_same_seed_same_suggestions(run_study: Run) -> None:
    space = [sherpa.Continuous("x", [0, 1]), sherpa.Choice("c", ["a", "b", "c"])]

    def objective(p: dict[str, Any]) -> float:
        return float((p["x"] - 0.5) ** 2 + (p["c"] == "b"))

    def suggestions(seed: int, **kwargs: Any) -> list[dict[str, Any]]:
        study = run_study(TPE(max_num_trials=20, seed=seed, **kwargs), space, objective)
        return [t.parameters for t in study.trials]

    assert suggestions(5) == suggestions(5)
    assert suggestions(5)[10:] != suggestions(6)[10:]
    assert suggestions(5, multivariate=False) == suggestions(5, multivariate=False)


def test_tpe_study_random_seed_seeds_it() -> None:
    space = [sherpa.Continuous("x", [0, 1])]

    def first_suggestions() -> list[dict[str, Any]]:
        study = sherpa.Study(space, TPE(), True, disable_dashboard=True, random_seed=7)
        return [_next(study).parameters for _ in range(3)]

    assert first_suggestions() == first_suggestions()


def test_tpe_univariate_converges(run_study: Run) -> None:
    space = [sherpa.Continuous("x", [0, 1]), sherpa.Continuous("y", [0, 1])]
    study = run_study(
        TPE(max_num_trials=50, multivariate=False, seed=0),
        space,
        lambda p: (p["x"] - 0.7) ** 2 + (p["y"] - 0.2) ** 2,
    )
    best = _best(study)
    assert best["x"] == pytest.approx(0.7, abs=0.1)
    assert best["y"] == pytest.approx(0.2, abs=0.1)


def test_tpe_ignores_failed_stopped_and_nan_trials() -> None:
    space = [sherpa.Continuous("x", [0, 1])]
    study = sherpa.Study(space, TPE(num_initial_trials=3, seed=0), True, disable_dashboard=True)
    outcomes = [("FAILED", 0.0), ("COMPLETED", math.nan), ("COMPLETED", 1.0), ("STOPPED", 0.5)]
    for status, objective in outcomes:
        _finish(study, _next(study), objective, status)
    random = RandomSearch(seed=0)
    expected = [random.get_suggestion(space) for _ in range(5)]
    assert _next(study).parameters == expected[4]  # still random: one usable trial of three


def test_tpe_skips_trials_outside_the_space() -> None:
    space = [sherpa.Choice("c", ["a", "b"]), sherpa.Continuous("x", [0, 1])]
    study = sherpa.Study(space, TPE(num_initial_trials=2, seed=0), True, disable_dashboard=True)
    added = sherpa.Trial(id=100, parameters={"c": "gone", "x": 0.5})
    study.add_trial(added)
    for trial in [added, _next(study), _next(study)]:
        _finish(study, trial, 1.0)
    assert _next(study).parameters["c"] in ("a", "b")


def test_tpe_large_choice_and_many_dimensions_stay_fast(run_study: Run) -> None:
    space: list[sherpa.Parameter] = [sherpa.Choice("big", [[i] for i in range(100)])]
    space += [sherpa.Continuous(f"x{i}", [0, 1]) for i in range(12)]
    space += [sherpa.Discrete(f"n{i}", [1, 500], scale="log") for i in range(4)]
    space += [sherpa.Ordinal(f"o{i}", [1, 2, 3, 4]) for i in range(4)]

    def objective(p: dict[str, Any]) -> float:
        return float(abs(p["big"][0] - 42) + sum(p[f"x{i}"] for i in range(12)))

    start = time.perf_counter()
    study = run_study(TPE(max_num_trials=60, seed=0), space, objective)
    assert time.perf_counter() - start < 10
    assert len(study.trials) == 60
    assert all(t.parameters["big"] in [[i] for i in range(100)] for t in study.trials)
    assert _best(study)["Objective"] < min(objective(t.parameters) for t in study.trials[:10])


def test_tpe_done_after_max_num_trials(run_study: Run) -> None:
    algorithm = TPE(max_num_trials=13, num_initial_trials=4, seed=0)
    space = [sherpa.Continuous("x", [0, 1])]
    assert algorithm.planned_suggestions(space) == 13
    study = run_study(algorithm, space, lambda p: p["x"])
    assert len(study.trials) == 13
    assert algorithm.num_suggested == 13
    assert algorithm.get_suggestion(space, study.results) is DONE
    assert TPE().planned_suggestions(space) is None
    assert TPE(max_num_trials=0).get_suggestion(space) is DONE


def test_tpe_gamma_options() -> None:
    assert [default_gamma(n) for n in (1, 10, 11, 100, 1000)] == [1, 1, 2, 10, 25]
    assert TPE(gamma=0.5)._num_good(7) == 4
    assert TPE(gamma=1.0)._num_good(300) == 25
    assert TPE(gamma=lambda n: n + 5)._num_good(7) == 7
    assert TPE(gamma=lambda n: 0)._num_good(7) == 1


def test_tpe_gamma_function_must_return_an_int() -> None:
    half: Any = lambda n: n / 2  # noqa: E731 (a bad gamma, on purpose)
    study = sherpa.Study(
        [sherpa.Continuous("x", [0, 1])],
        TPE(num_initial_trials=1, gamma=half, seed=0),
        True,
        disable_dashboard=True,
    )
    _finish(study, _next(study), 1.0)
    with pytest.raises(TypeError, match=r"gamma must return an int; gamma\(1\) returned 0.5"):
        study.get_suggestion()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"max_num_trials": -1}, ValueError, "max_num_trials must be at least 0; got -1"),
        ({"max_num_trials": 1.5}, TypeError, "max_num_trials must be an int or None; got 1.5"),
        ({"num_initial_trials": -2}, ValueError, "num_initial_trials must be at least 0; got -2"),
        ({"num_candidates": 0}, ValueError, "num_candidates must be at least 1; got 0"),
        ({"num_candidates": "8"}, TypeError, "num_candidates must be an int; got '8'"),
        ({"gamma": 0}, ValueError, r"gamma must be a fraction in \(0, 1\]; got 0"),
        ({"gamma": 1.5}, ValueError, r"gamma must be a fraction in \(0, 1\]; got 1.5"),
        ({"gamma": "0.1"}, TypeError, "gamma must be a fraction .* or a function .*; got '0.1'"),
        ({"multivariate": 1}, TypeError, "multivariate must be True or False; got 1"),
        ({"constant_liar": None}, TypeError, "constant_liar must be True or False; got None"),
        ({"prior_weight": 0}, ValueError, "prior_weight must be a finite number above 0; got 0"),
        ({"prior_weight": math.inf}, ValueError, "prior_weight must be .* above 0; got inf"),
        ({"prior_weight": "1"}, TypeError, "prior_weight must be a number; got '1'"),
        ({"seed": -1}, TypeError, "seed must be a non-negative int or None; got -1"),
    ],
)
def test_tpe_rejects_bad_arguments(
    kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        TPE(**kwargs)


def test_tpe_repr_names_its_settings() -> None:
    assert repr(TPE(max_num_trials=5, seed=1)) == (
        "TPE(max_num_trials=5, num_initial_trials=10, num_candidates=24, gamma=default_gamma, "
        "multivariate=True, constant_liar=True, prior_weight=1.0)"
    )
