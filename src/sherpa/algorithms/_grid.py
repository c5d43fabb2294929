"""Grid search."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from sherpa._convert import check_count
from sherpa.algorithms._base import Algorithm
from sherpa.parameters import grid_of
from sherpa.trial import AlgorithmState

if TYPE_CHECKING:
    import pandas as pd

    from sherpa.parameters import Parameter

__all__ = ["GridSearch"]


class GridSearch(Algorithm):
    """Try every combination of a grid over the parameters, then end.

    Choice and Ordinal parameters contribute all their values. Continuous and Discrete ones
    contribute ``num_grid_points`` evenly spaced points that include both ends of the range
    (geometrically spaced on log scale; Discrete points rounded, repeats dropped).

    Args:
        num_grid_points: Points per numeric parameter (1 gives the middle of the range).
        seed: Accepted for uniformity; grid search draws no random numbers.

    Example:
        >>> import sherpa
        >>> algorithm = sherpa.algorithms.GridSearch(num_grid_points=3)
        >>> space = [sherpa.Continuous("x", [0, 1]), sherpa.Choice("k", ["a", "b"])]
        >>> [algorithm.get_suggestion(space) for _ in range(2)]
        [{'x': 0.0, 'k': 'a'}, {'x': 0.0, 'k': 'b'}]
    """

    requires_results: ClassVar[bool] = False

    def __init__(self, num_grid_points: int = 2, seed: int | None = None) -> None:
        super().__init__(seed=seed)
        self.num_grid_points = check_count("num_grid_points", num_grid_points, minimum=1)
        self._grid: Iterator[dict[str, Any]] | None = None

    def get_suggestion(
        self,
        parameters: Sequence[Parameter],
        results: pd.DataFrame | None = None,
        lower_is_better: bool = True,
    ) -> dict[str, Any] | AlgorithmState | None:
        if self._grid is None:
            self._grid = iter(grid_of(list(parameters), self.num_grid_points))
        return next(self._grid, AlgorithmState.DONE)

    def planned_suggestions(self, parameters: Sequence[Parameter]) -> int | None:
        return math.prod(len(p.grid_points(self.num_grid_points)) for p in parameters)

    def __repr__(self) -> str:
        return f"GridSearch(num_grid_points={self.num_grid_points})"
