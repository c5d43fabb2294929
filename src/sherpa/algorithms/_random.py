"""Random search."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from sherpa._convert import check_count
from sherpa.algorithms._base import Algorithm
from sherpa.trial import AlgorithmState

if TYPE_CHECKING:
    import pandas as pd

    from sherpa.parameters import Parameter

__all__ = ["RandomSearch"]


class RandomSearch(Algorithm):
    """Sample each parameter independently: uniform, or log-uniform on log scale.

    Random search is a strong baseline, better than grid search when only a few parameters
    matter (Bergstra and Bengio, "Random Search for Hyper-Parameter Optimization", JMLR 2012).

    Args:
        max_num_trials: How many configurations to suggest; None for no limit.
        repeat: How many times to suggest each configuration (to average out noise).
        seed: Seeds the sampling.

    Example:
        >>> import sherpa
        >>> algorithm = sherpa.algorithms.RandomSearch(max_num_trials=2, seed=1)
        >>> space = [sherpa.Discrete("units", [8, 64])]
        >>> algorithm.get_suggestion(space)
        {'units': 36}
    """

    requires_results: ClassVar[bool] = False

    def __init__(
        self, max_num_trials: int | None = None, repeat: int = 1, seed: int | None = None
    ) -> None:
        super().__init__(seed=seed)
        self.max_num_trials = check_count(
            "max_num_trials", max_num_trials, minimum=0, allow_none=True
        )
        self.repeat = check_count("repeat", repeat, minimum=1)
        self.num_suggested = 0
        self._current: dict[str, Any] | None = None

    def get_suggestion(
        self,
        parameters: Sequence[Parameter],
        results: pd.DataFrame | None = None,
        lower_is_better: bool = True,
    ) -> dict[str, Any] | AlgorithmState | None:
        limit = None if self.max_num_trials is None else self.max_num_trials * self.repeat
        if limit is not None and self.num_suggested >= limit:
            return AlgorithmState.DONE
        if self.num_suggested % self.repeat == 0 or self._current is None:
            self._current = {p.name: p.sample(self.rng) for p in parameters}
        self.num_suggested += 1
        return dict(self._current)

    def planned_suggestions(self, parameters: Sequence[Parameter]) -> int | None:
        return None if self.max_num_trials is None else self.max_num_trials * self.repeat

    def __repr__(self) -> str:
        return f"RandomSearch(max_num_trials={self.max_num_trials}, repeat={self.repeat})"
