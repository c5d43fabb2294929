from __future__ import annotations

from collections.abc import Callable

import pytest

import sherpa
from sherpa.algorithms import Genetic

SPACE = [sherpa.Discrete("a", [0, 100]), sherpa.Choice("b", ["x", "y", "z"])]


def test_genetic_is_random_until_two_trials_completed() -> None:
    study = sherpa.Study(SPACE, Genetic(seed=0), True, disable_dashboard=True)
    first = study.get_suggestion()
    study.add_observation(first, 1.0)
    study.finalize(first)
    second = study.get_suggestion()
    assert {type(second.parameters["a"]), type(second.parameters["b"])} == {int, str}  # type: ignore[union-attr]


def test_genetic_children_take_every_value_from_elite_parents_without_mutation(
    run_study: Callable[..., sherpa.Study],
) -> None:
    algorithm = Genetic(mutation_rate=0.0, max_num_trials=30, seed=3)
    study = run_study(algorithm, SPACE, lambda p: abs(p["a"] - 50) + (p["b"] != "z"))
    configs = [t.parameters for t in study.trials]
    assert len(configs) == 30
    for index in range(2, 30):
        earlier = configs[:index]
        assert any(c["a"] == configs[index]["a"] for c in earlier)
        assert any(c["b"] == configs[index]["b"] for c in earlier)
    assert study.get_best_result()["Objective"] <= min(
        abs(c["a"] - 50) + (c["b"] != "z") for c in configs[:2]
    )


def test_genetic_same_seed_same_suggestions(run_study: Callable[..., sherpa.Study]) -> None:
    def runs(seed: int) -> list[dict[str, object]]:
        study = run_study(Genetic(max_num_trials=12, seed=seed), SPACE, lambda p: p["a"])
        return [t.parameters for t in study.trials]

    assert runs(5) == runs(5)
    assert runs(5) != runs(6)


@pytest.mark.parametrize("rate", [-0.1, 1.5, "0.1"])
def test_genetic_rejects_bad_mutation_rate(rate: object) -> None:
    with pytest.raises(ValueError, match="mutation_rate must be a number in"):
        Genetic(mutation_rate=rate)  # type: ignore[arg-type]
