"""Local search around the best configuration found so far."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sherpa._convert import check_count
from sherpa.algorithms._base import Algorithm
from sherpa.algorithms._space import PendingTracker, config_key, final_rows
from sherpa.parameters import Choice, Continuous, Discrete, Ordinal, Parameter
from sherpa.trial import AlgorithmState, TrialStatus

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["LocalSearch", "check_factors"]


def check_factors(factors: object) -> tuple[float, ...]:
    """Return ``perturbation_factors`` as a tuple of positive floats other than 1."""
    if isinstance(factors, (str, bytes)) or not isinstance(factors, Sequence):
        raise TypeError(f"perturbation_factors must be a list of numbers; got {factors!r}")
    if not factors:
        raise ValueError(f"perturbation_factors must hold at least one factor; got {factors!r}")
    checked = []
    for factor in factors:
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or factor <= 0:
            raise ValueError(f"perturbation_factors must be positive numbers; got {factors!r}")
        if factor == 1:
            raise ValueError(
                f"perturbation_factors: a factor of 1 changes nothing; got {factors!r}"
            )
        checked.append(float(factor))
    return tuple(checked)


def neighbours(
    parameter: Parameter, value: Any, factors: Sequence[float], bounds: Sequence[Any] | None = None
) -> list[Any]:
    """Values next to ``value``: scaled by each factor (numbers), adjacent (ordinals), others.

    Numbers are clipped to ``bounds`` (default: the parameter's range). A Discrete value that
    a factor would not move moves by one in the factor's direction.
    """
    out: list[Any] = []
    if isinstance(parameter, (Continuous, Discrete)):
        low, high = bounds if bounds is not None else parameter.range
        for factor in factors:
            moved = min(max(value * factor, low), high)
            if isinstance(parameter, Discrete):
                moved = round(moved)
                if moved == value and factor != 1:
                    moved = int(min(max(value + (1 if factor > 1 else -1), low), high))
            else:
                moved = float(moved)
            if moved != value and moved not in out:
                out.append(moved)
    elif isinstance(parameter, Ordinal):
        index = parameter.range.index(value)
        out = [parameter.range[i] for i in (index - 1, index + 1) if 0 <= i < len(parameter.range)]
    elif isinstance(parameter, Choice):
        out = [v for v in parameter.range if not (v == value and type(v) is type(value))]
    return out


class LocalSearch(Algorithm):
    """Hill climbing: try the neighbours of the best configuration, one parameter at a time.

    Starts from ``seed_configuration``. Each later suggestion changes one parameter of the
    best completed configuration: numbers are multiplied by a perturbation factor and clipped
    to their range, ordinal values move to a neighbour, choices change to another value. The
    search ends when every neighbour of the best configuration has been tried.

    Args:
        seed_configuration: The starting configuration, a value for every parameter.
        perturbation_factors: Factors applied to numeric parameters.
        repeat_trials: How many times each configuration runs; the best configuration is the
            one with the best mean objective.
        seed: Seeds the order in which neighbours are tried.

    Example:
        >>> import sherpa
        >>> algorithm = sherpa.algorithms.LocalSearch({"lr": 0.01, "act": "relu"}, seed=0)
        >>> space = [sherpa.Continuous("lr", [1e-4, 1.0]), sherpa.Choice("act", ["relu", "tanh"])]
        >>> algorithm.get_suggestion(space)
        {'lr': 0.01, 'act': 'relu'}
    """

    def __init__(
        self,
        seed_configuration: Mapping[str, Any],
        perturbation_factors: Sequence[float] = (0.8, 1.2),
        repeat_trials: int = 1,
        seed: int | None = None,
    ) -> None:
        super().__init__(seed=seed)
        if not isinstance(seed_configuration, Mapping):
            raise TypeError(f"seed_configuration must be a dict; got {seed_configuration!r}")
        self.seed_configuration = dict(seed_configuration)
        self.perturbation_factors = check_factors(perturbation_factors)
        self.repeat_trials = check_count("repeat_trials", repeat_trials, minimum=1)
        self._tried: set[str] = set()
        self._queue: deque[dict[str, Any]] = deque()
        self._pending = PendingTracker()

    def _check_seed_configuration(self, parameters: Sequence[Parameter]) -> None:
        missing = [p.name for p in parameters if p.name not in self.seed_configuration]
        if missing:
            raise ValueError(
                f"seed_configuration lacks a value for {missing!r}: {self.seed_configuration!r}"
            )
        for parameter in parameters:
            self.seed_configuration[parameter.name] = parameter.check_value(
                self.seed_configuration[parameter.name],
                f"seed_configuration[{parameter.name!r}]",
            )

    def _propose(self, config: dict[str, Any], names: list[str]) -> dict[str, Any]:
        self._tried.add(config_key(config, names))
        self._queue.extend(dict(config) for _ in range(self.repeat_trials - 1))
        return dict(config)

    def get_suggestion(
        self,
        parameters: Sequence[Parameter],
        results: pd.DataFrame | None = None,
        lower_is_better: bool = True,
    ) -> dict[str, Any] | AlgorithmState | None:
        names = [p.name for p in parameters]
        suggestion = self._next(parameters, names, results, lower_is_better)
        if isinstance(suggestion, dict):
            self._pending.add(suggestion)
        return suggestion

    def _next(
        self,
        parameters: Sequence[Parameter],
        names: list[str],
        results: pd.DataFrame | None,
        lower_is_better: bool,
    ) -> dict[str, Any] | AlgorithmState:
        if self._queue:
            return self._queue.popleft()
        if not self._tried:
            self._check_seed_configuration(parameters)
            start = {name: self.seed_configuration[name] for name in names}
            return self._propose(start, names)
        best = best_mean_configuration(results, names, lower_is_better)
        if best is not None:
            candidates = self._untried_neighbours(parameters, names, best)
            if candidates:
                pick = candidates[int(self.rng.integers(len(candidates)))]
                return self._propose(pick, names)
        if self._pending.pending(results, parameters):
            return AlgorithmState.WAIT
        return AlgorithmState.DONE

    def _untried_neighbours(
        self, parameters: Sequence[Parameter], names: list[str], best: dict[str, Any]
    ) -> list[dict[str, Any]]:
        candidates = []
        for parameter in parameters:
            for value in neighbours(parameter, best[parameter.name], self.perturbation_factors):
                candidate = {**best, parameter.name: value}
                if config_key(candidate, names) not in self._tried:
                    candidates.append(candidate)
        return candidates

    def __repr__(self) -> str:
        return (
            f"LocalSearch(seed_configuration={self.seed_configuration!r}, "
            f"perturbation_factors={self.perturbation_factors!r}, "
            f"repeat_trials={self.repeat_trials})"
        )


def best_mean_configuration(
    results: pd.DataFrame | None, names: list[str], lower_is_better: bool
) -> dict[str, Any] | None:
    """The configuration with the best mean objective over its completed trials, if any."""
    totals: dict[str, list[Any]] = {}
    for config, objective in final_rows(results, names, status=TrialStatus.COMPLETED):
        if objective != objective:  # NaN
            continue
        entry = totals.setdefault(config_key(config, names), [config, 0.0, 0])
        entry[1] += objective
        entry[2] += 1
    if not totals:
        return None
    sign = 1.0 if lower_is_better else -1.0
    best = min(totals.values(), key=lambda e: sign * e[1] / e[2])
    return dict(best[0])
