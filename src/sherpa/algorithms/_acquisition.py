"""Maximizing an acquisition function over a mixed search space.

* :class:`Acquisition` wraps a Gaussian-process posterior as the function to maximize (log
  expected improvement and friends), with its gradient.
* :func:`local_search` runs L-BFGS-B from many starts at once over the continuous coordinates.
* :func:`discrete_search` is a coordinate search over the Choice, Discrete and Ordinal
  parameters, which gradient steps cannot move: every other category, and nearby integer
  values, one parameter at a time.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.optimize  # type: ignore[import-untyped]

from sherpa.algorithms._gp import (
    GaussianProcess,
    log_expected_improvement,
    log_probability_of_improvement,
)
from sherpa.algorithms._space import SearchSpace
from sherpa.parameters import Choice, Continuous, Ordinal, Parameter

__all__ = ["Acquisition", "choice_columns", "discrete_search", "local_search"]


class Acquisition:
    """An acquisition function of a posterior, to be maximized, with its gradient.

    Args:
        kind: ``"log_ei"``, ``"ei"``, ``"pi"`` or ``"lcb"``.
        gp: The posterior.
        best: The incumbent loss (standardized) that improvement is measured from.
        weight: The exploration weight of ``"lcb"``.
    """

    def __init__(self, kind: str, gp: GaussianProcess, best: float, weight: float) -> None:
        self.kind, self.gp, self.best, self.weight = kind, gp, best, weight

    def values(self, points: np.ndarray) -> np.ndarray:
        out = np.empty(len(points))
        for start in range(0, len(points), 1024):
            chunk = points[start : start + 1024]
            mean, variance = self.gp.predict(chunk)
            out[start : start + 1024] = self._of(mean, np.sqrt(variance))[0]
        return out

    def values_and_gradients(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean, variance, d_mean, d_variance = self.gp.predict_with_gradients(points)
        std = np.sqrt(variance)
        value, by_mean, by_std = self._of(mean, std)
        gradient = by_mean[:, None] * d_mean + (by_std / (2.0 * std))[:, None] * d_variance
        return value, gradient

    def _of(self, mean: np.ndarray, std: np.ndarray) -> tuple[np.ndarray, ...]:
        if self.kind == "lcb":
            return (
                -(mean - self.weight * std),
                -np.ones_like(mean),
                self.weight * np.ones_like(std),
            )
        if self.kind == "pi":
            return log_probability_of_improvement(mean, std, self.best)
        log_value, by_mean, by_std = log_expected_improvement(mean, std, self.best)
        if self.kind == "log_ei":
            return log_value, by_mean, by_std
        value = np.exp(log_value)
        return value, value * by_mean, value * by_std


def local_search(acquisition: Acquisition, starts: np.ndarray, free: np.ndarray) -> np.ndarray:
    """L-BFGS-B over the free (non-Choice) coordinates from each row of ``starts``.

    The searches run as one problem, the sum of the acquisition at every point: the terms
    are independent, so its maximum is every point at its own local maximum, and one
    vectorized posterior evaluation per step serves all of them.
    """
    num, width = len(starts), int(free.sum())

    def negative(z: np.ndarray) -> tuple[float, np.ndarray]:
        points = starts.copy()
        points[:, free] = z.reshape(num, width)
        values, gradients = acquisition.values_and_gradients(points)
        finite = np.isfinite(values)
        if not finite.all():
            values, gradients = np.where(finite, values, -1e30), gradients * finite[:, None]
        return -float(values.sum()), -gradients[:, free].ravel()

    result = scipy.optimize.minimize(
        negative,
        starts[:, free].ravel(),
        jac=True,
        method="L-BFGS-B",
        bounds=[(0.0, 1.0)] * (num * width),
        options={"maxiter": 200},
    )
    ends = starts.copy()
    ends[:, free] = np.clip(result.x, 0.0, 1.0).reshape(num, width)
    return np.asarray(ends)


def discrete_search(
    acquisition: Acquisition,
    space: SearchSpace,
    points: np.ndarray,
    scores: np.ndarray,
    num_starts: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Coordinate search over the Choice, Discrete and Ordinal parameters, then polish.

    Gradient steps cannot change a category, and rounding an integer after a continuous
    search can miss the best value next to it. So, from the ``num_starts`` best distinct
    rounded points, each round moves every point to its best neighbour that differs in one
    non-continuous parameter (every other category of a Choice, nearby values of a Discrete
    or Ordinal), while that raises the acquisition; then the continuous parameters are
    polished by L-BFGS-B with the others held. All points move in one vectorized batch.
    """
    order = np.argsort(-scores, kind="stable")
    _, first = np.unique(points[order], axis=0, return_index=True)
    chosen = order[np.sort(first)][:num_starts]
    current, values = points[chosen].copy(), scores[chosen].copy()
    for _ in range(10):
        moves = [_neighbours(space, point) for point in current]
        counts = [len(m) for m in moves]
        if not sum(counts):
            break
        moved_scores = acquisition.values(np.vstack(moves))
        improved = False
        for index, block in enumerate(np.split(moved_scores, np.cumsum(counts)[:-1])):
            if len(block) and block.max() > values[index] + 1e-12:
                best = int(np.argmax(block))
                current[index], values[index] = moves[index][best], block[best]
                improved = True
        if not improved:
            break
    continuous = _continuous_columns(space)
    if continuous.any():
        polished = local_search(acquisition, current, continuous)
        polished_scores = acquisition.values(polished)
        better = polished_scores > values
        current[better], values[better] = polished[better], polished_scores[better]
    return current, values


def _neighbours(space: SearchSpace, point: np.ndarray) -> np.ndarray:
    """The points that differ from ``point`` in one Choice, Discrete or Ordinal parameter."""
    rows = []
    for column in space.columns:
        parameter, start = column.parameter, column.start
        if isinstance(parameter, Choice):
            current = int(np.argmax(point[start : start + column.width]))
            for category in range(column.width):
                if category != current:
                    row = point.copy()
                    row[start : start + column.width] = 0.0
                    row[start + category] = 1.0
                    rows.append(row)
        elif not isinstance(parameter, Continuous):
            for u in _nearby_positions(parameter, float(point[start])):
                row = point.copy()
                row[start] = u
                rows.append(row)
    return np.array(rows).reshape(len(rows), space.dim)


def _nearby_positions(parameter: Parameter, u: float) -> list[float]:
    """Unit positions of a Discrete or Ordinal parameter's values near position ``u``.

    Every value when there are at most 16; otherwise the next two values either side and
    the values a twentieth, a tenth, a fifth and two fifths of the (log-)range away.
    """
    current = SearchSpace.from_unit(parameter, u)
    if isinstance(parameter, Ordinal):
        count, index = len(parameter.range), _ordinal_index(parameter, current)
        near = range(count) if count <= 16 else [index + s for s in (-2, -1, 1, 2)]
        wanted = [parameter.range[i] for i in near if 0 <= i < count]
        jumps = [] if count <= 16 else [0.05, 0.1, 0.2, 0.4]
    else:
        low, high = int(parameter.range[0]), int(parameter.range[1])
        if high - low < 16:
            wanted, jumps = list(range(low, high + 1)), []
        else:
            near_values = (current - 2, current - 1, current + 1, current + 2)
            wanted = [v for v in near_values if low <= v <= high]
            jumps = [0.05, 0.1, 0.2, 0.4]
    wanted += [SearchSpace.from_unit(parameter, u + j) for j in jumps]
    wanted += [SearchSpace.from_unit(parameter, u - j) for j in jumps]
    positions = {SearchSpace.to_unit(parameter, value) for value in wanted if value != current}
    return sorted(positions)


def _ordinal_index(parameter: Parameter, value: Any) -> int:
    return next(i for i, v in enumerate(parameter.range) if v == value)


def _continuous_columns(space: SearchSpace) -> np.ndarray:
    """Which encoded columns hold Continuous parameters."""
    flags = np.zeros(space.dim, dtype=bool)
    for column in space.columns:
        if isinstance(column.parameter, Continuous):
            flags[column.start] = True
    return flags


def choice_columns(space: SearchSpace) -> np.ndarray:
    """Which encoded columns hold the one-hot blocks of Choice parameters."""
    flags = np.zeros(space.dim, dtype=bool)
    for column in space.columns:
        if isinstance(column.parameter, Choice):
            flags[column.start : column.start + column.width] = True
    return flags
