"""Tree-structured Parzen estimator (TPE).

The model works on the unit positions of :class:`SearchSpace`: each Continuous, Discrete or
Ordinal parameter is an *axis*, an interval of positions (a log scale is already in the
position), and each Choice parameter a *block* of value indices. From the completed trials TPE
fits two Parzen estimators, ``l`` over the best trials and ``g`` over the others, draws
candidates from ``l`` and suggests the one where ``l / g`` is largest.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from sherpa._convert import check_count, check_flag, check_positive, to_builtin
from sherpa.algorithms._base import Algorithm
from sherpa.algorithms._space import PendingTracker, SearchSpace, completed_history
from sherpa.parameters import Choice, Discrete, Ordinal
from sherpa.trial import AlgorithmState

if TYPE_CHECKING:
    import pandas as pd

    from sherpa.parameters import Parameter

__all__ = ["TPE", "default_gamma"]

# Kernel widths, tuned on Branin, Hartmann-6 (continuous, and on 5- and 11-point grids) and a
# problem of three Choice parameters (5, 10 and 100 values); see the TPE docstring. Widths
# that follow the spread of the observations (Scott's rule proper) did much worse there: a
# good group of 2 or 3 nearby trials shrinks its kernels until the search only refines them.

_BANDWIDTH = 0.1
"""A numeric kernel's width, as a fraction of its axis, before shrinking with ``n``."""

_MIN_BANDWIDTH = 0.03
"""The narrowest numeric kernel, as a fraction of the unit interval."""

_CHOICE_MIXING = 0.6
"""The share of a Choice kernel spread evenly over all values, before shrinking with ``n``."""

_MAX_GOOD = 25
"""The largest good group a fractional ``gamma`` gives."""

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def default_gamma(num_completed: int) -> int:
    """The size of the good group: 10 % of the completed trials, rounded up, at most 25."""
    return min(math.ceil(0.1 * num_completed), _MAX_GOOD)


# The space as axes and blocks


class _Axis:
    """One Continuous, Discrete or Ordinal parameter as an interval of unit positions.

    A continuous axis is ``[0, 1]``. On a grid (Discrete, Ordinal) each value owns a cell
    around its position, up to the midpoints with its neighbours (for a log-scale Discrete
    parameter, from ``value - 0.5`` to ``value + 0.5``, where its rounding sends them); the
    interval reaches half a cell beyond both ends, so that the end values own full cells too.
    """

    def __init__(self, parameter: Parameter, start: int) -> None:
        self.parameter = parameter
        self.start = start
        self.steps = 0
        self.is_log_grid = isinstance(parameter, Discrete) and parameter.scale == "log"
        self.low, self.high = 0.0, 1.0
        if isinstance(parameter, Ordinal):
            self.steps = len(parameter.range) - 1
        elif self.is_log_grid:
            self.low = SearchSpace.to_unit(parameter, parameter.range[0] - 0.5)
            self.high = SearchSpace.to_unit(parameter, parameter.range[1] + 0.5)
        elif isinstance(parameter, Discrete):
            self.steps = parameter.range[1] - parameter.range[0]
        if self.steps:
            self.low, self.high = -0.5 / self.steps, 1.0 + 0.5 / self.steps
        self.is_grid = self.is_log_grid or self.steps > 0
        self._log_cells: dict[int, tuple[float, float, float]] = {}

    def snap(self, u: np.ndarray) -> np.ndarray:
        """The positions of the values that positions ``u`` decode to."""
        snapped: np.ndarray
        if self.steps:
            snapped = np.clip(np.rint(u * self.steps), 0, self.steps) / self.steps
        elif self.is_log_grid:
            snapped = np.array([self._log_cell(x)[0] for x in u.tolist()])
        else:
            snapped = np.clip(u, 0.0, 1.0)
        return snapped

    def cells(self, centers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The lower and upper ends of the cells of the grid values at ``centers``."""
        if self.steps:
            half = 0.5 / self.steps
            return centers - half, centers + half
        cells = [self._log_cell(x) for x in centers.tolist()]
        return np.array([cell[1] for cell in cells]), np.array([cell[2] for cell in cells])

    def _log_cell(self, u: float) -> tuple[float, float, float]:
        """The position and the cell's ends of the log-scale integer at position ``u``."""
        value = int(SearchSpace.from_unit(self.parameter, u))
        cell = self._log_cells.get(value)
        if cell is None:
            center, lower, upper = (
                SearchSpace.to_unit(self.parameter, value + shift) for shift in (0.0, -0.5, 0.5)
            )
            cell = self._log_cells[value] = (center, lower, upper)
        return cell


@dataclasses.dataclass
class _Points:
    """Configurations as positions on the axes (one column each) and indices in the blocks.

    ``half_cells`` holds half the width of each position's cell (0 on continuous axes).
    """

    numeric: np.ndarray
    choices: np.ndarray
    half_cells: np.ndarray

    def __len__(self) -> int:
        return len(self.numeric)

    def take(self, rows: np.ndarray) -> _Points:
        return _Points(self.numeric[rows], self.choices[rows], self.half_cells[rows])

    def join(self, other: _Points) -> _Points:
        return _Points(
            np.vstack([self.numeric, other.numeric]),
            np.vstack([self.choices, other.choices]),
            np.vstack([self.half_cells, other.half_cells]),
        )

    def identities(self) -> list[bytes]:
        """One key per point, the same for points of the same configuration on grids."""
        numeric = self.numeric + 0.0  # turns -0.0 into 0.0
        return [
            position.tobytes() + choice.tobytes()
            for position, choice in zip(numeric, self.choices, strict=True)
        ]


class _Layout:
    """The parameters as the axes and blocks of a :class:`SearchSpace` encoding.

    Parameters with a single value are left out of the model and decoded as that value.
    """

    def __init__(self, parameters: Sequence[Parameter]) -> None:
        self.space = SearchSpace(parameters)
        self.axes: list[_Axis] = []
        self.blocks: list[tuple[int, int]] = []
        self.fixed: list[int] = []
        for column in self.space.columns:
            parameter = column.parameter
            if isinstance(parameter, Choice) and column.width > 1:
                self.blocks.append((column.start, column.width))
            elif _has_one_value(parameter):
                self.fixed.append(column.start)
            else:
                self.axes.append(_Axis(parameter, column.start))
        self.low = np.array([axis.low for axis in self.axes])
        self.high = np.array([axis.high for axis in self.axes])
        self.sizes = np.array([width for _, width in self.blocks], dtype=int)
        self.dim = len(self.axes) + len(self.blocks)
        is_grid = np.array([axis.is_grid for axis in self.axes], dtype=bool)
        self.continuous, self.grids = np.flatnonzero(~is_grid), np.flatnonzero(is_grid)
        self.is_countable = bool(is_grid.all())
        self._history: tuple[list[dict[str, Any]], _Points, np.ndarray] = (
            [],
            *self.encode([]),
        )

    def encode(self, configs: Sequence[dict[str, Any]]) -> tuple[_Points, np.ndarray]:
        """The points of ``configs``, and the indices of the configurations they encode.

        A configuration outside the space (say, a value no longer among a Choice's) is left
        out.
        """
        rows, kept = [], []
        for index, config in enumerate(configs):
            try:
                rows.append(self.space.encode(config))
            except (KeyError, TypeError, ValueError):
                continue
            kept.append(index)
        x = np.vstack(rows) if rows else np.zeros((0, self.space.dim))
        numeric = x[:, [axis.start for axis in self.axes]].reshape(len(x), len(self.axes))
        numeric = self.snap(np.clip(numeric, self.low, self.high))
        choices = np.zeros((len(x), len(self.blocks)), dtype=int)
        for k, (start, width) in enumerate(self.blocks):
            choices[:, k] = np.argmax(x[:, start : start + width], axis=1)
        return self.points(numeric, choices), np.array(kept, dtype=int)

    def encode_history(self, configs: list[dict[str, Any]]) -> tuple[_Points, np.ndarray]:
        """:meth:`encode`, re-using the points of the previous call's configurations.

        The results table only grows, so the last call's completed trials usually come first
        again, in the same order: they are compared, which is cheaper than encoding them.
        """
        seen, points, kept = self._history
        if len(configs) >= len(seen) and configs[: len(seen)] == seen:
            new_points, new_kept = self.encode(configs[len(seen) :])
            points, kept = points.join(new_points), np.append(kept, new_kept + len(seen))
        else:
            points, kept = self.encode(configs)
        self._history = (configs, points, kept)
        return points, kept

    def points(self, numeric: np.ndarray, choices: np.ndarray) -> _Points:
        """:class:`_Points` at positions already on the axes' grids."""
        half_cells = np.zeros_like(numeric)
        for j in self.grids.tolist():
            lower, upper = self.axes[j].cells(numeric[:, j])
            half_cells[:, j] = 0.5 * (upper - lower)
        return _Points(numeric, choices, half_cells)

    def snap(self, numeric: np.ndarray) -> np.ndarray:
        """Move each grid coordinate onto the position of the value it decodes to."""
        snapped = np.empty_like(numeric)
        for j, axis in enumerate(self.axes):
            snapped[:, j] = axis.snap(numeric[:, j])
        return snapped

    def decode(self, numeric: np.ndarray, choices: np.ndarray) -> dict[str, Any]:
        """The configuration of one point, in plain Python values."""
        x = np.full(self.space.dim, 0.5)
        for j, axis in enumerate(self.axes):
            x[axis.start] = numeric[j]
        for k, (start, width) in enumerate(self.blocks):
            x[start : start + width] = np.arange(width) == choices[k]
        for fixed in self.fixed:
            x[fixed] = 1.0
        return self.space.decode(x)


def _has_one_value(parameter: Parameter) -> bool:
    if isinstance(parameter, (Choice, Ordinal)):
        return len(parameter.range) == 1
    return bool(parameter.range[0] == parameter.range[1])


# The Parzen estimator


class _ParzenEstimator:
    """A mixture of one kernel per observation (weight 1) and a uniform prior component.

    With ``n`` observations and ``d`` modelled dimensions (all axes and blocks when
    ``multivariate``, else 1), the kernels shrink with ``factor = n ** (-1 / (d + 4))``, the
    rate of Scott's rule:

    * on an axis, a Gaussian truncated to the interval, of width
      ``_BANDWIDTH * factor * (interval length)``, never narrower than ``_MIN_BANDWIDTH`` nor,
      on grids, than half the observation's cell (so that it reaches the neighbouring values).
      On grids a kernel gives each value its mass over the value's cell;
    * in a block, ``1 - mix`` on the observation's value, ``mix = _CHOICE_MIXING * factor``
      spread evenly over all values.

    When ``multivariate`` each kernel is the product of its axes' and blocks' kernels, so the
    mixture is over configurations; otherwise each axis and block is a mixture of its own and
    the density is their product, as in the original TPE.
    """

    def __init__(
        self, points: _Points, layout: _Layout, *, prior_weight: float, multivariate: bool
    ) -> None:
        self.layout = layout
        self.multivariate = multivariate
        self.points = points
        n = len(points)
        weights = np.append(np.ones(n), prior_weight)
        self.log_weights = np.log(weights / weights.sum())
        factor = max(n, 1) ** (-1.0 / ((layout.dim if multivariate else 1) + 4))
        width = layout.high - layout.low
        floor = np.maximum(points.half_cells, _MIN_BANDWIDTH)
        self.sigma = np.clip(_BANDWIDTH * factor * width, floor, width)
        self.log_norm = self._log_norms()
        self.mix = np.full(len(layout.sizes), min(_CHOICE_MIXING * factor, 1.0))

    def _log_norms(self) -> np.ndarray:
        """log of each kernel's mass inside its interval (about one half or more)."""
        from scipy.special import ndtr  # type: ignore[import-untyped]

        mu, sigma = self.points.numeric, self.sigma
        low, high = self.layout.low, self.layout.high
        return np.log(ndtr((high - mu) / sigma) - ndtr((low - mu) / sigma))  # type: ignore[no-any-return]

    # Sampling

    def sample(self, rng: np.random.Generator, count: int) -> _Points:
        """Draw ``count`` points, grid coordinates snapped onto their values."""
        shape = (count, 1) if self.multivariate else (count, self.layout.dim)
        component = rng.choice(len(self.points) + 1, size=shape, p=np.exp(self.log_weights))
        component = np.broadcast_to(component, (count, self.layout.dim))
        m = len(self.layout.axes)
        numeric = self._sample_numeric(rng, component[:, :m])
        choices = self._sample_choices(rng, component[:, m:])
        return self.layout.points(self.layout.snap(numeric), choices)

    def _sample_numeric(self, rng: np.random.Generator, component: np.ndarray) -> np.ndarray:
        """Inverse-CDF draws from the truncated kernels (index ``n`` is the prior)."""
        from scipy.special import ndtr, ndtri

        low, high = self.layout.low, self.layout.high
        uniform = rng.random(component.shape)
        prior_draws = low + uniform * (high - low)
        if not len(self.points):
            return prior_draws  # type: ignore[no-any-return]
        rows, columns = np.minimum(component, len(self.points) - 1), np.arange(component.shape[1])
        mu, sigma = self.points.numeric[rows, columns], self.sigma[rows, columns]
        below, above = ndtr((low - mu) / sigma), ndtr((high - mu) / sigma)
        kernel_draws = mu + sigma * ndtri(below + uniform * (above - below))
        drawn = np.where(component == len(self.points), prior_draws, kernel_draws)
        return np.clip(drawn, low, high)  # type: ignore[no-any-return]

    def _sample_choices(self, rng: np.random.Generator, component: np.ndarray) -> np.ndarray:
        """Draws from the Choice kernels: the observation's value, or with ``mix`` any."""
        spread: np.ndarray = np.floor(rng.random(component.shape) * self.layout.sizes)
        if len(self.points):
            rows = np.minimum(component, len(self.points) - 1)
            own = self.points.choices[rows, np.arange(component.shape[1])]
            keep = (component < len(self.points)) & (rng.random(component.shape) >= self.mix)
            spread = np.where(keep, own, spread)
        return spread.astype(int)

    # Density

    def log_pdf(self, points: _Points) -> np.ndarray:
        """log of the density at ``points`` (a probability on grids and blocks)."""
        if self.multivariate:
            return self._log_mixture(*self._log_joint(points))
        total = np.zeros(len(points))
        for kernels, prior in self._log_per_dimension(points, continuous=True):
            total += self._log_mixture(kernels, prior)
        return total

    def _log_mixture(self, kernels: np.ndarray, prior: np.ndarray) -> np.ndarray:
        """Weigh log kernel values ``(points, kernels)`` and log prior values, and add up."""
        weighted = np.concatenate(
            [kernels + self.log_weights[:-1], (prior + self.log_weights[-1])[:, None]], axis=1
        )
        top = weighted.max(axis=1)  # finite: the prior is positive everywhere
        return top + np.log(np.exp(weighted - top[:, None]).sum(axis=1))  # type: ignore[no-any-return]

    def _log_joint(self, points: _Points) -> tuple[np.ndarray, np.ndarray]:
        """log values of the product kernels ``(points, kernels)`` and of the prior."""
        kernels = self._log_continuous(points.numeric, self.layout.continuous)
        prior = np.zeros(len(points))  # continuous axes are [0, 1]: a prior density of 1
        for dimension_kernels, dimension_prior in self._log_per_dimension(
            points, continuous=False
        ):
            kernels = kernels + dimension_kernels
            prior += dimension_prior
        return kernels, prior

    def _log_continuous(self, x: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """Sum over continuous axes ``columns`` of the log kernel densities at points ``x``.

        Returns ``(points, kernels)``. ``sum((x - mu)**2 / sigma**2)`` is expanded into
        matrix products, so the sum over axes costs no ``(points, kernels, axes)`` array.
        """
        x = x[:, columns]
        mu, sigma = self.points.numeric[:, columns], self.sigma[:, columns]
        precision = sigma**-2.0
        squares = (x**2) @ precision.T - 2.0 * x @ (mu * precision).T
        squares += np.sum(mu**2 * precision, axis=1)
        constant = np.sum(np.log(sigma) + _LOG_SQRT_2PI + self.log_norm[:, columns], axis=1)
        return -0.5 * np.maximum(squares, 0.0) - constant  # type: ignore[no-any-return]

    def _log_per_dimension(
        self, points: _Points, *, continuous: bool
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Per dimension, the log values of the kernels and of the prior at ``points``.

        Yields a ``(points, kernels)`` and a ``(points,)`` array for each continuous axis
        (only when ``continuous``), each grid axis and each block.
        """
        layout = self.layout
        for j in layout.continuous.tolist() if continuous else []:
            yield self._log_continuous(points.numeric, np.array([j])), np.zeros(len(points))
        for j in layout.grids.tolist():
            lower, upper = layout.axes[j].cells(points.numeric[:, j])
            # Kernels at the same value are the same kernel: compute each one once.
            centers, first, inverse = np.unique(
                self.points.numeric[:, j], return_index=True, return_inverse=True
            )
            mass = _log_cell_mass(lower, upper, centers, self.sigma[first, j])
            mass -= self.log_norm[first, j]
            prior = np.log((upper - lower) / (layout.high[j] - layout.low[j]))
            yield mass[:, inverse.ravel()], prior
        same = np.log1p(-self.mix + self.mix / layout.sizes)
        other = np.log(self.mix / layout.sizes)
        for k, size in enumerate(layout.sizes.tolist()):
            equal = points.choices[:, k : k + 1] == self.points.choices[:, k]
            yield np.where(equal, same[k], other[k]), np.full(len(points), -math.log(size))


def _log_cell_mass(
    lower: np.ndarray, upper: np.ndarray, mu: np.ndarray, sigma: np.ndarray
) -> np.ndarray:
    """log of each Gaussian kernel's (``mu``, ``sigma``) mass over each cell.

    Returns ``(cells, kernels)``. Neighbouring and repeated cells share ends, so the normal
    CDF is taken once per distinct end. Each end keeps the smaller of its two tail
    probabilities, so a cell far out on either side of a kernel keeps its precision; a mass
    that underflows gives ``-inf``, only for kernels too far away to matter next to the prior.
    """
    from scipy.special import ndtr

    ends, index = np.unique(np.concatenate([lower, upper]), return_inverse=True)
    z = (ends[:, None] - mu[None, :]) / sigma[None, :]
    tail = ndtr(-np.abs(z))
    low, high = index[: len(lower)], index[len(lower) :]
    same_side = (z[low] >= 0) | (z[high] <= 0)
    tail_low, tail_high = tail[low], tail[high]
    mass = np.where(same_side, np.abs(tail_low - tail_high), 1.0 - tail_low - tail_high)
    with np.errstate(divide="ignore"):
        return np.log(mass)  # type: ignore[no-any-return]


# The algorithm


class TPE(Algorithm):
    r"""Tree-structured Parzen estimator: suggest where good trials are likelier than bad ones.

    TPE sorts the completed trials by objective, takes the ``gamma(n)`` best as "good" and the
    rest as "bad", and fits a Parzen (kernel density) estimator to each, :math:`l(x)` and
    :math:`g(x)`. It draws ``num_candidates`` configurations from :math:`l` and suggests the
    one with the largest :math:`l(x) / g(x)`, which maximizes the expected improvement under
    this model (Bergstra, Bardenet, Bengio and Kégl, "Algorithms for Hyper-Parameter
    Optimization", NeurIPS 2011). By default the estimators are multivariate, one product
    kernel per trial, so that they capture how parameters interact (Falkner, Klein and Hutter,
    "BOHB: Robust and Efficient Hyperparameter Optimization at Scale", ICML 2018; Watanabe,
    "Tree-Structured Parzen Estimator: Understanding Its Algorithm Components and Their Roles
    for Better Empirical Performance", 2023, which recommends it along with a prior component
    and the linear ``gamma`` used here).

    The kernels live on each parameter's position in its range, so a log-scale parameter is
    modelled in log space. Continuous parameters get Gaussians truncated to the range;
    Discrete and Ordinal parameters get Gaussians whose mass over each value's cell is that
    value's probability, never narrower than half a cell, so neighbouring values share
    evidence; a Choice kernel keeps about half its probability on the trial's value and
    spreads the rest evenly over all values (100 values and more are fine). Kernel widths
    shrink slowly as the group grows (as ``n ** (-1 / (d + 4))`` in ``d`` dimensions). Both
    estimators also hold a uniform prior component of weight ``prior_weight`` (a trial weighs
    1), which keeps every region reachable. On a space with no Continuous parameter, a
    configuration already tried is not suggested again while a new one turns up among the
    candidates (or as many uniform draws).

    Until ``num_initial_trials`` trials have completed, configurations are drawn at random
    exactly as :class:`RandomSearch` draws them. Trials that failed, were stopped or have no
    finite objective are left out of the model.

    With ``constant_liar``, the suggestions still running (in parallel, or not yet reported)
    join the bad group, as if they had the worst objective seen so far: :math:`g` rises
    around them, so the next suggestions go elsewhere instead of piling onto the same peak
    of :math:`l / g`.

    Args:
        max_num_trials: How many configurations to suggest; None for no limit.
        num_initial_trials: How many completed trials to gather at random before the model
            takes over (at least 1 is always needed).
        num_candidates: How many configurations to draw from :math:`l` per suggestion; more
            exploits the model harder.
        gamma: The size of the good group: a function from the number of completed trials
            ``n`` to a count (clipped to ``1..n``), or a fraction of ``n`` (rounded up, at
            most 25). The default, :func:`default_gamma`, is 10 % of ``n``, at most 25.
        multivariate: Model the parameters jointly; False models each on its own, as the
            original TPE did.
        constant_liar: Count running suggestions as bad trials (see above).
        prior_weight: The weight of the uniform prior component, relative to one trial.
        seed: Seeds the sampling.

    Example:
        >>> import sherpa
        >>> study = sherpa.Study(
        ...     [sherpa.Continuous("x", [0.0, 1.0])],
        ...     sherpa.algorithms.TPE(max_num_trials=30, seed=0),
        ...     lower_is_better=True,
        ...     disable_dashboard=True,
        ... )
        >>> for trial in study:
        ...     study.add_observation(trial, objective=(trial.parameters["x"] - 0.3) ** 2)
        ...     study.finalize(trial)
        >>> round(study.get_best_result()["x"], 2)
        0.3
    """

    requires_results: ClassVar[bool] = True

    def __init__(
        self,
        max_num_trials: int | None = None,
        *,
        num_initial_trials: int = 10,
        num_candidates: int = 24,
        gamma: float | Callable[[int], int] = default_gamma,
        multivariate: bool = True,
        constant_liar: bool = True,
        prior_weight: float = 1.0,
        seed: int | None = None,
    ) -> None:
        super().__init__(seed=seed)
        self.max_num_trials: int | None = check_count(
            "max_num_trials", max_num_trials, minimum=0, allow_none=True
        )
        self.num_initial_trials = check_count("num_initial_trials", num_initial_trials, minimum=0)
        self.num_candidates = check_count("num_candidates", num_candidates, minimum=1)
        self.gamma = _check_gamma(gamma)
        self.multivariate = check_flag("multivariate", multivariate)
        self.constant_liar = check_flag("constant_liar", constant_liar)
        self.prior_weight = check_positive("prior_weight", prior_weight)
        self._tracker = PendingTracker()
        self._layout: tuple[list[Parameter], _Layout] | None = None

    @property
    def num_suggested(self) -> int:
        """How many configurations the algorithm has suggested."""
        return self._tracker.num_suggested

    def get_suggestion(
        self,
        parameters: Sequence[Parameter],
        results: pd.DataFrame | None = None,
        lower_is_better: bool = True,
    ) -> dict[str, Any] | AlgorithmState | None:
        if self.max_num_trials is not None and self.num_suggested >= self.max_num_trials:
            return AlgorithmState.DONE
        history = completed_history(results, parameters, lower_is_better)
        if len(history.losses) < max(self.num_initial_trials, 1):
            config = {p.name: p.sample(self.rng) for p in parameters}
        else:
            layout = self._layout_of(parameters)
            good, bad = self._split(layout, history.configs, history.losses)
            if self.constant_liar:
                running, _ = layout.encode(self._tracker.pending(results, parameters))
                bad = bad.join(running)
            config = self._best_candidate(layout, good, bad)
        self._tracker.add(config)
        return config

    def planned_suggestions(self, parameters: Sequence[Parameter]) -> int | None:
        return self.max_num_trials

    def _layout_of(self, parameters: Sequence[Parameter]) -> _Layout:
        """The layout of ``parameters``, kept (with its caches) while they stay the same."""
        if self._layout is None or self._layout[0] != list(parameters):
            self._layout = (list(parameters), _Layout(parameters))
        return self._layout[1]

    def _split(
        self, layout: _Layout, configs: list[dict[str, Any]], losses: np.ndarray
    ) -> tuple[_Points, _Points]:
        """The good and the bad completed trials; of equal losses, the earlier is better."""
        points, kept = layout.encode_history(configs)
        order = np.argsort(losses[kept], kind="stable")
        num_good = self._num_good(len(order))
        return points.take(order[:num_good]), points.take(order[num_good:])

    def _num_good(self, num_completed: int) -> int:
        if callable(self.gamma):
            count = to_builtin(self.gamma(num_completed))
            if isinstance(count, bool) or not isinstance(count, numbers.Integral):
                raise TypeError(
                    f"gamma must return an int; gamma({num_completed}) returned {count!r}"
                )
        else:
            count = min(math.ceil(self.gamma * num_completed), _MAX_GOOD)
        return int(min(max(int(count), 1), num_completed))

    def _best_candidate(self, layout: _Layout, good: _Points, bad: _Points) -> dict[str, Any]:
        """The candidate drawn from ``l`` with the largest ``l / g``, preferably a new one."""
        below = self._estimator(good, layout)
        above = self._estimator(bad, layout)
        candidates = below.sample(self.rng, self.num_candidates)
        seen: set[bytes] = set()
        if layout.is_countable:
            seen = set(good.identities()) | set(bad.identities())
            if seen.issuperset(candidates.identities()):
                uniform = self._estimator(good.take(np.arange(0)), layout)
                candidates = candidates.join(uniform.sample(self.rng, self.num_candidates))
        score = below.log_pdf(candidates) - above.log_pdf(candidates)
        if seen:
            score[[identity in seen for identity in candidates.identities()]] -= np.inf
        best = int(np.argmax(score))
        return layout.decode(candidates.numeric[best], candidates.choices[best])

    def _estimator(self, points: _Points, layout: _Layout) -> _ParzenEstimator:
        return _ParzenEstimator(
            points, layout, prior_weight=self.prior_weight, multivariate=self.multivariate
        )

    def __repr__(self) -> str:
        gamma = getattr(self.gamma, "__name__", repr(self.gamma))
        return (
            f"TPE(max_num_trials={self.max_num_trials}, "
            f"num_initial_trials={self.num_initial_trials}, "
            f"num_candidates={self.num_candidates}, gamma={gamma}, "
            f"multivariate={self.multivariate}, constant_liar={self.constant_liar}, "
            f"prior_weight={self.prior_weight})"
        )


def _check_gamma(gamma: object) -> float | Callable[[int], int]:
    if callable(gamma):
        return gamma
    value = to_builtin(gamma)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            "gamma must be a fraction in (0, 1] or a function of the number of trials; "
            f"got {gamma!r} ({type(gamma).__name__})"
        )
    fraction = float(value)
    if not 0 < fraction <= 1:
        raise ValueError(f"gamma must be a fraction in (0, 1]; got {gamma!r}")
    return fraction
