"""Population-based training."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sherpa._convert import check_count
from sherpa.algorithms._base import Algorithm
from sherpa.algorithms._local_search import check_factors, neighbours
from sherpa.algorithms._space import final_records
from sherpa.parameters import Choice, Continuous, Discrete, Ordinal, Parameter
from sherpa.trial import AlgorithmState, TrialStatus

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PopulationBasedTraining"]

EXTRA_FIELDS = ("generation", "load_from", "save_to", "lineage")


@dataclasses.dataclass
class _Member:
    parameters: dict[str, Any]
    generation: int
    save_to: str
    load_from: str
    lineage: str

    def suggestion(self) -> dict[str, Any]:
        return {
            **self.parameters,
            "generation": self.generation,
            "load_from": self.load_from,
            "save_to": self.save_to,
            "lineage": self.lineage,
        }


class PopulationBasedTraining(Algorithm):
    """Train a population in generations; the weak copy and perturb the strong.

    Generation 1 is random. In each later generation, a member whose predecessor ranked in
    the top 80 % of the previous generation continues it unchanged (loads its checkpoint);
    every other member copies a member of the top 20 % (its checkpoint and hyperparameters)
    and perturbs the hyperparameters: numbers are multiplied by a random perturbation factor
    and clipped to ``parameter_range`` (or the parameter's range), ordinals move to a
    neighbour, choices are drawn anew (Jaderberg et al., "Population Based Training of Neural
    Networks", 2017).

    Each trial carries ``generation`` (from 1), ``save_to`` (a checkpoint name unique in the
    run), ``load_from`` (the checkpoint to start from; empty in generation 1) and ``lineage``
    (the checkpoints it descends from, comma-separated). A trial script typically trains for
    a fixed number of epochs, starting from ``load_from`` if it is not empty, and saves to
    ``save_to``. A generation starts only when the previous one has finished: until then the
    algorithm answers ``WAIT``.

    Args:
        num_generations: How many generations to run.
        population_size: Members per generation.
        parameter_range: Optional ``{name: [low, high]}`` bounds that perturbed numeric
            values are clipped to.
        perturbation_factors: Factors numeric values are multiplied by.
        seed: Seeds sampling and perturbation.

    Example:
        >>> import sherpa
        >>> algorithm = sherpa.algorithms.PopulationBasedTraining(
        ...     num_generations=3, population_size=4, seed=0)
        >>> suggestion = algorithm.get_suggestion([sherpa.Continuous("lr", [1e-4, 1e-1])])
        >>> suggestion["generation"], suggestion["load_from"], suggestion["save_to"]
        (1, '', '1')
    """

    def __init__(
        self,
        num_generations: int,
        population_size: int = 20,
        parameter_range: Mapping[str, Sequence[float]] | None = None,
        perturbation_factors: Sequence[float] = (0.8, 1.2),
        seed: int | None = None,
    ) -> None:
        super().__init__(seed=seed)
        self.num_generations: int = check_count("num_generations", num_generations, minimum=1)
        self.population_size: int = check_count("population_size", population_size, minimum=1)
        self.parameter_range = _check_ranges(parameter_range or {})
        self.perturbation_factors = check_factors(perturbation_factors)
        self.generation = 1
        self._members: list[_Member] = []  # of the current generation, in suggestion order
        self._planned: list[_Member] = []  # the next generation, decided when this one ended
        self._count = 0

    def planned_suggestions(self, parameters: Sequence[Parameter]) -> int | None:
        return self.num_generations * self.population_size

    def get_suggestion(
        self,
        parameters: Sequence[Parameter],
        results: pd.DataFrame | None = None,
        lower_is_better: bool = True,
    ) -> dict[str, Any] | AlgorithmState | None:
        if self.generation == 1 and not self._members:
            self._check_range_names(parameters)
        if len(self._members) == self.population_size:
            ranked = self._ranked_if_finished(results, lower_is_better)
            if ranked is None:
                return AlgorithmState.WAIT
            if self.generation == self.num_generations:
                return AlgorithmState.DONE
            self._plan_next_generation(parameters, ranked)
        member = self._next_member(parameters)
        return member.suggestion()

    def _new_name(self) -> str:
        self._count += 1
        return str(self._count)

    def _next_member(self, parameters: Sequence[Parameter]) -> _Member:
        if self.generation == 1:
            config = {p.name: p.sample(self.rng) for p in parameters}
            member = _Member(config, 1, self._new_name(), "", "")
            self._members.append(member)
            return member
        member = self._planned[len(self._members)]
        self._members.append(member)
        return member

    def _ranked_if_finished(
        self, results: pd.DataFrame | None, lower_is_better: bool
    ) -> list[tuple[_Member, float]] | None:
        outcome: dict[str, tuple[str, float]] = {}
        for record in final_records(results, ["save_to", "generation"]):
            if record["generation"] is not None and int(record["generation"]) == self.generation:
                outcome[str(record["save_to"])] = (record["Status"], record["Objective"])
        if any(m.save_to not in outcome for m in self._members):
            return None
        sign = 1.0 if lower_is_better else -1.0

        def badness(member: _Member) -> float:
            status, objective = outcome[member.save_to]
            usable = status == TrialStatus.COMPLETED.value and objective == objective
            return sign * objective if usable else math.inf

        ordered = sorted(self._members, key=badness)
        return [(m, badness(m)) for m in ordered]

    def _plan_next_generation(
        self, parameters: Sequence[Parameter], ranked: list[tuple[_Member, float]]
    ) -> None:
        size = len(ranked)
        num_replaced = max(1, size // 5) if size > 1 else 0
        num_top = max(1, round(size / 5))
        top = [m for m, _ in ranked[:num_top]]
        self.generation += 1
        planned = []
        for position, (member, _) in enumerate(ranked):
            if position < size - num_replaced:
                parent, config = member, dict(member.parameters)
            else:
                parent = top[int(self.rng.integers(len(top)))]
                config = self._perturb(parameters, parent.parameters)
            lineage = f"{parent.lineage},{parent.save_to}" if parent.lineage else parent.save_to
            planned.append(
                _Member(config, self.generation, self._new_name(), parent.save_to, lineage)
            )
        self._planned = planned
        self._members = []

    def _perturb(self, parameters: Sequence[Parameter], config: dict[str, Any]) -> dict[str, Any]:
        perturbed = dict(config)
        for parameter in parameters:
            value = config[parameter.name]
            if isinstance(parameter, (Continuous, Discrete)):
                factor = self.perturbation_factors[
                    int(self.rng.integers(len(self.perturbation_factors)))
                ]
                bounds = self.parameter_range.get(parameter.name)
                moved = neighbours(parameter, value, [factor], bounds)
                perturbed[parameter.name] = moved[0] if moved else value
            elif isinstance(parameter, Ordinal):
                options = neighbours(parameter, value, ())
                perturbed[parameter.name] = options[int(self.rng.integers(len(options)))]
            elif isinstance(parameter, Choice):
                perturbed[parameter.name] = parameter.sample(self.rng)
        return perturbed

    def _check_range_names(self, parameters: Sequence[Parameter]) -> None:
        numeric = {p.name for p in parameters if isinstance(p, (Continuous, Discrete))}
        unknown = sorted(set(self.parameter_range) - numeric)
        if unknown:
            raise ValueError(
                f"parameter_range names {unknown!r}, which are not Continuous or Discrete "
                f"parameters of the study ({sorted(numeric)!r})"
            )

    def __repr__(self) -> str:
        return (
            f"PopulationBasedTraining(num_generations={self.num_generations}, "
            f"population_size={self.population_size})"
        )


def _check_ranges(ranges: Mapping[str, Sequence[float]]) -> dict[str, tuple[float, float]]:
    if not isinstance(ranges, Mapping):
        raise TypeError(f"parameter_range must be a dict of name to [low, high]; got {ranges!r}")
    checked = {}
    for name, bounds in ranges.items():
        if (
            isinstance(bounds, (str, bytes))
            or not isinstance(bounds, Sequence)
            or len(bounds) != 2
            or not all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in bounds)
            or bounds[0] > bounds[1]
        ):
            raise ValueError(
                f"parameter_range[{name!r}] must be [low, high] with low <= high; got {bounds!r}"
            )
        checked[name] = (bounds[0], bounds[1])
    return checked
