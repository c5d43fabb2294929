"""Asynchronous successive halving (ASHA)."""

from __future__ import annotations

import fractions
import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sherpa._convert import check_count
from sherpa.algorithms._base import Algorithm
from sherpa.algorithms._space import final_records
from sherpa.parameters import Parameter
from sherpa.trial import AlgorithmState, TrialStatus

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["SuccessiveHalving", "rung_resources"]


def _exact(name: str, value: object) -> fractions.Fraction:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not float(value) > 0:
        raise ValueError(f"{name} must be a positive number; got {value!r}")
    return fractions.Fraction(str(value))


def rung_resources(r: float, R: float, eta: int, s: int = 0) -> list[int | float]:
    """The resource of each rung: ``r * eta**(s + k)`` for every ``k`` that stays within ``R``.

    Computed in exact rational arithmetic, so ``R=243, eta=3`` has its top rung at 243 and
    ``R=1000, eta=10`` at 1000. Integral resources come back as ``int``.

    Raises:
        ValueError: the arguments leave no rung (``r * eta**s > R``) or are out of range.
    """
    low, high = _exact("r", r), _exact("R", R)
    if low > high:
        raise ValueError(f"r must not exceed R; got r={r!r}, R={R!r}")
    resource = low * fractions.Fraction(eta) ** s
    if resource > high:
        raise ValueError(
            f"r * eta**s must not exceed R; got r={r!r}, eta={eta!r}, s={s!r}, R={R!r}"
        )
    resources: list[int | float] = []
    while resource <= high:
        resources.append(int(resource) if resource.denominator == 1 else float(resource))
        resource *= eta
    return resources


class SuccessiveHalving(Algorithm):
    """Asynchronous successive halving: promote the best, start new configurations otherwise.

    Rung ``k`` trains with resource ``r * eta**(s + k)`` (e.g. epochs), up to ``R``. Whenever
    a suggestion is asked for, the highest rung with a configuration that is in the top
    ``1/eta`` of its rung's completed trials and not yet promoted promotes it to the next
    rung; if there is none, a new random configuration starts at rung 0 (Li et al., "A System
    for Massively Parallel Hyperparameter Tuning", MLSys 2020). The search ends once
    ``max_finished_configs`` trials have completed at the top rung.

    Each trial carries ``resource`` (how much to train), ``rung``, ``save_to`` (a checkpoint
    name unique in the run) and ``load_from`` (the checkpoint of the trial it continues;
    empty at rung 0).

    Args:
        r: The resource of rung 0 (before ``s``).
        R: The largest resource.
        eta: The reduction factor: one in ``eta`` trials of a rung is promoted.
        s: The minimum early-stopping rate: rung 0 starts at ``r * eta**s``.
        max_finished_configs: How many trials must complete at the top rung.
        seed: Seeds the sampling of new configurations.

    Example:
        >>> import sherpa
        >>> algorithm = sherpa.algorithms.SuccessiveHalving(r=1, R=9, eta=3, seed=0)
        >>> algorithm.resources
        [1, 3, 9]
        >>> suggestion = algorithm.get_suggestion([sherpa.Continuous("lr", [1e-4, 1e-1])])
        >>> suggestion["rung"], suggestion["resource"], suggestion["load_from"]
        (0, 1, '')
    """

    def __init__(
        self,
        r: float = 1,
        R: float = 9,
        eta: int = 3,
        s: int = 0,
        max_finished_configs: int = 50,
        seed: int | None = None,
    ) -> None:
        super().__init__(seed=seed)
        self.eta = check_count("eta", eta, minimum=2)
        self.s = check_count("s", s, minimum=0)
        self.r, self.R = r, R
        self.resources = rung_resources(r, R, self.eta, self.s)
        self.max_finished_configs = check_count(
            "max_finished_configs", max_finished_configs, minimum=1
        )
        self._promoted: set[str] = set()
        self._count = 0

    @property
    def top_rung(self) -> int:
        """The index of the highest rung."""
        return len(self.resources) - 1

    def get_suggestion(
        self,
        parameters: Sequence[Parameter],
        results: pd.DataFrame | None = None,
        lower_is_better: bool = True,
    ) -> dict[str, Any] | AlgorithmState | None:
        names = [p.name for p in parameters]
        completed = final_records(results, [*names, "rung", "save_to"], TrialStatus.COMPLETED)
        completed = [c for c in completed if c["rung"] is not None and c["save_to"] is not None]
        at_top = sum(1 for c in completed if int(c["rung"]) == self.top_rung)
        if at_top >= self.max_finished_configs:
            return AlgorithmState.DONE
        promotion = self._promotion(completed, lower_is_better)
        if promotion is not None:
            source, rung = promotion
            self._promoted.add(str(source["save_to"]))
            config = {name: source[name] for name in names}
            return self._suggest(config, rung, load_from=str(source["save_to"]))
        return self._suggest({p.name: p.sample(self.rng) for p in parameters}, 0, load_from="")

    def _promotion(
        self, completed: list[dict[str, Any]], lower_is_better: bool
    ) -> tuple[dict[str, Any], int] | None:
        sign = 1.0 if lower_is_better else -1.0
        for rung in range(self.top_rung - 1, -1, -1):
            members = [
                c for c in completed if int(c["rung"]) == rung and c["Objective"] == c["Objective"]
            ]
            members.sort(key=lambda c: (sign * c["Objective"], c["Trial-ID"]))
            for candidate in members[: len(members) // self.eta]:
                if str(candidate["save_to"]) not in self._promoted:
                    return candidate, rung + 1
        return None

    def _suggest(self, config: dict[str, Any], rung: int, load_from: str) -> dict[str, Any]:
        self._count += 1
        return {
            **config,
            "resource": self.resources[rung],
            "rung": rung,
            "load_from": load_from,
            "save_to": str(self._count),
        }

    def __repr__(self) -> str:
        return (
            f"SuccessiveHalving(r={self.r!r}, R={self.R!r}, eta={self.eta}, s={self.s}, "
            f"max_finished_configs={self.max_finished_configs})"
        )
