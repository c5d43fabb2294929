"""A genetic algorithm."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sherpa._convert import check_count
from sherpa.algorithms._base import Algorithm
from sherpa.algorithms._space import config_key, final_rows
from sherpa.parameters import Parameter
from sherpa.trial import AlgorithmState, TrialStatus

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Genetic"]

MIN_PARENTS = 2
"""Below this many completed trials the algorithm samples at random."""


class Genetic(Algorithm):
    """Breed new configurations from the best completed ones.

    Two parents are drawn from the best third of the completed trials (at least two); the
    child takes each parameter from one parent at random (uniform crossover), then each
    parameter is drawn anew from its range with probability ``mutation_rate``. Until two
    trials have completed, configurations are random. A child equal to a configuration
    already tried is bred again (a few times) before it is accepted.

    Args:
        mutation_rate: Probability that a parameter is drawn anew, in ``[0, 1]``.
        max_num_trials: How many configurations to suggest; None for no limit.
        seed: Seeds selection, crossover and mutation.

    Example:
        >>> import sherpa
        >>> algorithm = sherpa.algorithms.Genetic(mutation_rate=0.2, max_num_trials=50, seed=0)
        >>> sorted(algorithm.get_suggestion([sherpa.Discrete("units", [8, 64])]))
        ['units']
    """

    def __init__(
        self,
        mutation_rate: float = 0.1,
        max_num_trials: int | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__(seed=seed)
        if (
            isinstance(mutation_rate, bool)
            or not isinstance(mutation_rate, numbers.Real)
            or not 0 <= float(mutation_rate) <= 1
        ):
            raise ValueError(f"mutation_rate must be a number in [0, 1]; got {mutation_rate!r}")
        self.mutation_rate: float = float(mutation_rate)
        self.max_num_trials: int | None = check_count(
            "max_num_trials", max_num_trials, minimum=0, allow_none=True
        )
        self.num_suggested: int = 0
        self._tried: set[str] = set()

    def planned_suggestions(self, parameters: Sequence[Parameter]) -> int | None:
        return self.max_num_trials

    def get_suggestion(
        self,
        parameters: Sequence[Parameter],
        results: pd.DataFrame | None = None,
        lower_is_better: bool = True,
    ) -> dict[str, Any] | AlgorithmState | None:
        if self.max_num_trials is not None and self.num_suggested >= self.max_num_trials:
            return AlgorithmState.DONE
        names = [p.name for p in parameters]
        completed = [
            (config, objective)
            for config, objective in final_rows(results, names, TrialStatus.COMPLETED)
            if objective == objective
        ]
        child = self._breed(parameters, completed, lower_is_better)
        self.num_suggested += 1
        self._tried.add(config_key(child, names))
        return child

    def _breed(
        self,
        parameters: Sequence[Parameter],
        completed: list[tuple[dict[str, Any], float]],
        lower_is_better: bool,
    ) -> dict[str, Any]:
        names = [p.name for p in parameters]
        if len(completed) < MIN_PARENTS:
            return {p.name: p.sample(self.rng) for p in parameters}
        ranked = sorted(completed, key=lambda c: c[1] if lower_is_better else -c[1])
        elite = [config for config, _ in ranked[: max(MIN_PARENTS, len(ranked) // 3)]]
        child: dict[str, Any] = {}
        for _ in range(10):
            first, second = self.rng.choice(len(elite), size=2, replace=False)
            child = {}
            for parameter in parameters:
                parent = elite[first] if self.rng.random() < 0.5 else elite[second]
                child[parameter.name] = parent[parameter.name]
                if self.rng.random() < self.mutation_rate:
                    child[parameter.name] = parameter.sample(self.rng)
            if config_key(child, names) not in self._tried:
                break
        return child

    def __repr__(self) -> str:
        return f"Genetic(mutation_rate={self.mutation_rate}, max_num_trials={self.max_num_trials})"
