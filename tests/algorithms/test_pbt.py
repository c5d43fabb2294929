from __future__ import annotations

from typing import Any

import pytest

import sherpa
from sherpa.algorithms import PopulationBasedTraining

SPACE = [sherpa.Continuous("lr", [0.01, 1.0]), sherpa.Choice("opt", ["sgd", "adam"])]


def _study(algorithm: PopulationBasedTraining) -> sherpa.Study:
    return sherpa.Study(SPACE, algorithm, lower_is_better=True, disable_dashboard=True)


def _finish(study: sherpa.Study, trial: sherpa.Trial, value: float) -> None:
    study.add_observation(trial, value)
    study.finalize(trial)


def test_pbt_generation_one_is_random_and_later_ones_wait() -> None:
    study = _study(PopulationBasedTraining(num_generations=2, population_size=4, seed=0))
    first = [study.get_suggestion() for _ in range(4)]
    assert [t.parameters["generation"] for t in first] == [1, 1, 1, 1]  # type: ignore[union-attr]
    assert [t.parameters["save_to"] for t in first] == ["1", "2", "3", "4"]  # type: ignore[union-attr]
    assert {t.parameters["load_from"] for t in first} == {""}  # type: ignore[union-attr]
    # more slots than the population: WAIT, never an error
    assert study.get_suggestion() is sherpa.AlgorithmState.WAIT
    for trial in first[:3]:
        _finish(study, trial, 1.0)  # type: ignore[arg-type]
    assert study.get_suggestion() is sherpa.AlgorithmState.WAIT
    _finish(study, first[3], 1.0)  # type: ignore[arg-type]
    assert isinstance(study.get_suggestion(), sherpa.Trial)


def test_pbt_continues_the_top_and_replaces_the_bottom_with_perturbed_copies() -> None:
    algorithm = PopulationBasedTraining(
        num_generations=3,
        population_size=5,
        parameter_range={"lr": [0.05, 0.5]},
        perturbation_factors=(0.5, 2.0),
        seed=1,
    )
    study = _study(algorithm)
    generation = [study.get_suggestion() for _ in range(5)]
    losses = {"1": 0.5, "2": 0.1, "3": 0.3, "4": 0.9, "5": 0.2}  # member 4 is worst
    for trial in generation:
        _finish(study, trial, losses[trial.parameters["save_to"]])  # type: ignore[union-attr]
    parents = {t.parameters["save_to"]: t.parameters for t in generation}  # type: ignore[union-attr]

    second = [study.get_suggestion().parameters for _ in range(5)]  # type: ignore[union-attr]
    assert [p["generation"] for p in second] == [2] * 5
    assert [p["save_to"] for p in second] == ["6", "7", "8", "9", "10"]
    # ranked 2, 5, 3, 1 continue unchanged; the worst (4) copies the best (2), perturbed
    assert [p["load_from"] for p in second] == ["2", "5", "3", "1", "2"]
    for continued in second[:4]:
        source = parents[continued["load_from"]]
        assert {k: continued[k] for k in ("lr", "opt")} == {k: source[k] for k in ("lr", "opt")}
        assert continued["lineage"] == continued["load_from"]
    copied, best = second[4], parents["2"]
    expected = {min(max(best["lr"] * f, 0.05), 0.5) for f in (0.5, 2.0)}
    assert copied["lr"] in expected and copied["lr"] != best["lr"]
    assert study.get_suggestion() is sherpa.AlgorithmState.WAIT

    for number, params in enumerate(second, start=6):
        _finish(study, study.trials[number - 1], float(number))
        assert study.trials[number - 1].parameters == params
    third = study.get_suggestion().parameters  # type: ignore[union-attr]
    assert (third["generation"], third["load_from"], third["lineage"]) == (3, "6", "2,6")


def test_pbt_ranks_failed_members_last_and_ends_after_the_last_generation() -> None:
    study = _study(PopulationBasedTraining(num_generations=2, population_size=2, seed=0))
    good, bad = study.get_suggestion(), study.get_suggestion()
    _finish(study, good, 5.0)  # type: ignore[arg-type]
    study.finalize(bad, "FAILED")  # type: ignore[arg-type]
    second = [study.get_suggestion().parameters for _ in range(2)]  # type: ignore[union-attr]
    assert [p["load_from"] for p in second] == ["1", "1"]
    for trial in study.trials[2:]:
        _finish(study, trial, 1.0)
    assert study.get_suggestion() is sherpa.AlgorithmState.DONE


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"num_generations": 0}, "num_generations must be at least 1"),
        ({"num_generations": 2, "parameter_range": {"lr": [1, 0]}}, r"parameter_range\['lr'\]"),
        ({"num_generations": 2, "perturbation_factors": ()}, "perturbation_factors"),
    ],
)
def test_pbt_checks_its_arguments(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        PopulationBasedTraining(**kwargs)


def test_pbt_rejects_ranges_for_unknown_parameters() -> None:
    algorithm = PopulationBasedTraining(num_generations=2, parameter_range={"momentum": [0, 1]})
    with pytest.raises(ValueError, match=r"parameter_range names \['momentum'\]"):
        algorithm.get_suggestion(SPACE)
