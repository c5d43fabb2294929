"""Bayesian optimization with a Gaussian process, and SHERPA's ``GPyOpt`` served by it."""

from __future__ import annotations

import contextlib
import itertools
import math
import numbers
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from scipy.spatial.distance import pdist  # type: ignore[import-untyped]

from sherpa._convert import check_choice, check_count, check_positive, to_builtin
from sherpa.algorithms._acquisition import (
    Acquisition,
    choice_columns,
    discrete_search,
    local_search,
)
from sherpa.algorithms._base import Algorithm
from sherpa.algorithms._gp import (
    GaussianProcess,
    Hyperparameters,
    HyperPrior,
    expand_lengthscales,
    fit_hyperparameters,
)
from sherpa.algorithms._space import (
    History,
    PendingTracker,
    SearchSpace,
    completed_history,
    config_key,
)
from sherpa.logging import get_logger
from sherpa.parameters import Choice, Discrete, Ordinal
from sherpa.trial import AlgorithmState

if TYPE_CHECKING:
    import pandas as pd

    from sherpa.parameters import Parameter

__all__ = ["BayesianOptimization", "GPyOpt"]

_logger = get_logger(__name__)

_ACQUISITIONS = ("log_ei", "ei", "pi", "lcb")
_INCUMBENTS = ("observed", "posterior_mean")
_OUTPUT_TRANSFORMS = ("power", "rank", "standardize")


def _check_initial_count(value: object) -> int | str:
    if isinstance(value, str) and value == "infer":
        return value
    value = to_builtin(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"num_initial_data_points must be 'infer' or an int; got {value!r}")
    count: int = check_count("num_initial_data_points", value, minimum=1)
    return count


def _check_initial_points(points: object) -> list[dict[str, Any]]:
    if hasattr(points, "to_dict") and hasattr(points, "columns"):  # a pandas DataFrame
        return [dict(row) for row in points.to_dict(orient="records")]
    if isinstance(points, (str, bytes, Mapping)) or not isinstance(points, Sequence):
        raise TypeError(
            f"initial_data_points must be a list of dicts or a DataFrame; got {points!r}"
        )
    for index, point in enumerate(points):
        if not isinstance(point, Mapping):
            raise TypeError(f"initial_data_points[{index}] must be a dict; got {point!r}")
    return [dict(point) for point in points]


class BayesianOptimization(Algorithm):
    r"""Bayesian optimization: a Gaussian process of the objective picks each next trial.

    After an initial design (the given ``initial_data_points``, then a space-filling Latin
    hypercube), every suggestion fits a Gaussian process to the completed trials and returns
    the configuration that maximizes the acquisition function, by default the logarithm of
    expected improvement (Jones, Schonlau and Welch, "Efficient Global Optimization of
    Expensive Black-Box Functions", J. Global Optim. 1998; computed as in Ament et al.,
    "Unexpected Improvements to Expected Improvement for Bayesian Optimization", NeurIPS
    2023, so that it never underflows to a flat zero).

    The model works on the search space mapped to ``[0, 1]^d`` (log-scale parameters by
    their logarithm, Choice parameters one-hot; integers and ordinals are rounded on the
    way back). It has an ARD Matérn-5/2 kernel with one lengthscale per parameter (the
    one-hot columns of a Choice share theirs, so the kernel sees only whether two
    categories are equal), a noise term, and hyperparameters fitted by maximum a
    posteriori under weak priors. Losses are standardized and, by default,
    power-transformed (Yeo-Johnson) so that a few very bad trials do not flatten the model
    where the good ones are.

    The acquisition is maximized by L-BFGS-B from the best of many random and perturbed
    points, then, where the space has Choice, Discrete or Ordinal parameters, by a
    coordinate search that tries every other category and nearby integer values one
    parameter at a time, with the continuous parameters polished again afterwards.

    Improvement is measured from the best loss observed, the usual target of expected
    improvement for objectives that return the same value for the same configuration (as
    cross-validated scores with fixed folds and seeds do); ``incumbent="posterior_mean"``
    measures it from the lowest posterior mean at the evaluated points instead, which suits
    noisy objectives better (on deterministic ones it lets the search settle in a good basin
    and sample it over and over, since the smoothed mean there sits above the best loss).
    A suggestion is never a configuration already tried, running or suggested, while the
    space has others left, nor (``min_distance``) one all but on top of one: a model sure of
    a basin otherwise creeps along it in steps far below any useful precision, above all
    with several trials at a time. Until two trials have completed, suggestions past the design are
    random.

    Trials suggested but not finished are taken into account by the kriging believer
    (Ginsbourger, Le Riche and Carraro, "Kriging is well-suited to parallelize
    optimization", 2010): each is added to the model as if it had returned the model's
    prediction. The prediction stays where it was, but the uncertainty around the running
    trials collapses, so the next suggestion goes elsewhere; unlike a constant liar it needs
    no made-up value, and the hyperparameters are fitted on real results only.

    Args:
        num_initial_data_points: How many configurations to suggest before the model takes
            over, the ``initial_data_points`` included. ``"infer"`` uses
            ``max(5, num_parameters + 2)``: as many trials as the model has hyperparameters
            for a space of numeric parameters (a lengthscale each, a signal and a noise
            variance), and no more, since small designs leave the budget to the model and do
            as well or better (Bossek et al., "Initial Design Strategies and their Effects on
            Sequential Model-Based Optimization", GECCO 2020; on Hartmann-6, 8 initial
            points did better than 10 or 13 in our runs). The design ends early once this
            many trials have completed, for example trials added to the study by hand.
        initial_data_points: Configurations to try first (dicts, or a DataFrame with one
            column per parameter), for example known good settings. Keys other than the
            parameters' names are ignored.
        max_num_trials: How many configurations to suggest in all; None for no limit.
        acquisition: ``"log_ei"`` (log expected improvement), ``"ei"`` (expected
            improvement itself), ``"pi"`` (probability of improvement, maximized through its
            logarithm) or ``"lcb"`` (lower confidence bound
            :math:`\mu - \kappa \sigma`).
        seed: Seeds the initial design, the subsampling and the searches.
        exploration_weight: :math:`\kappa` of ``"lcb"``.
        incumbent: What improvement is measured from, in ``"ei"``, ``"log_ei"`` and ``"pi"``:
            ``"observed"`` (the best loss so far) or ``"posterior_mean"`` (the lowest
            posterior mean at the completed trials, for noisy objectives).
        output_transform: ``"power"`` (standardize, Yeo-Johnson, standardize again),
            ``"rank"`` (normal quantiles of the ranks: only the order of the losses counts)
            or ``"standardize"``.
        max_model_points: The most completed trials the model is fitted to. Beyond it, the
            best third of them and a random choice of the rest are kept, so that a
            suggestion costs about the same at 2000 trials as at 200.
        num_candidates: How many random and perturbed-incumbent points the acquisition is
            evaluated at before the local searches. A space of only Discrete, Ordinal and
            Choice parameters with at most this many configurations is enumerated instead.
        numlocal_searches: How many of the best candidates start an L-BFGS-B search.
        min_distance: The least Euclidean distance, in the encoded unit cube (each numeric
            parameter's range, or log-range, scaled to [0, 1]), from a suggestion to any
            tried or running configuration; the best candidate that far away is taken (the
            best one at all when none is). 0 turns the rule off.
        log_suggestions: Log each suggestion with its acquisition value at info level.

    Example:
        >>> import sherpa
        >>> from sherpa.algorithms.bayesian_optimization import BayesianOptimization
        >>> study = sherpa.Study(
        ...     parameters=[sherpa.Continuous("x", [0.0, 1.0])],
        ...     algorithm=BayesianOptimization(max_num_trials=10, seed=0),
        ...     lower_is_better=True,
        ...     disable_dashboard=True,
        ... )
        >>> for trial in study:
        ...     study.add_observation(trial, objective=(trial.parameters["x"] - 0.3) ** 2)
        ...     study.finalize(trial)
        >>> abs(study.get_best_result()["x"] - 0.3) < 0.05
        True
    """

    requires_results: ClassVar[bool] = True

    def __init__(
        self,
        num_initial_data_points: int | str = "infer",
        initial_data_points: Sequence[Mapping[str, Any]] | pd.DataFrame = (),
        max_num_trials: int | None = None,
        acquisition: str = "log_ei",
        seed: int | None = None,
        *,
        exploration_weight: float = 2.0,
        incumbent: str = "observed",
        output_transform: str = "power",
        max_model_points: int = 200,
        num_candidates: int = 2000,
        numlocal_searches: int = 5,
        min_distance: float = 0.003,
        log_suggestions: bool = False,
    ) -> None:
        super().__init__(seed=seed)
        self.num_initial_data_points = _check_initial_count(num_initial_data_points)
        self.initial_data_points = _check_initial_points(initial_data_points)
        self.max_num_trials = check_count(
            "max_num_trials", max_num_trials, minimum=0, allow_none=True
        )
        self.acquisition = check_choice("acquisition", acquisition, _ACQUISITIONS)
        self.exploration_weight = check_positive("exploration_weight", exploration_weight)
        self.incumbent = check_choice("incumbent", incumbent, _INCUMBENTS)
        self.output_transform = check_choice(
            "output_transform", output_transform, _OUTPUT_TRANSFORMS
        )
        self.max_model_points = check_count("max_model_points", max_model_points, minimum=10)
        self.num_candidates = check_count("num_candidates", num_candidates, minimum=1)
        self.numlocal_searches = check_count("numlocal_searches", numlocal_searches, minimum=0)
        self.min_distance = _check_min_distance(min_distance)
        self.log_suggestions = bool(log_suggestions)
        self.num_suggested = 0
        self._tracker = PendingTracker()
        self._suggested_keys: set[str] = set()
        self._keys_by_trial: dict[Any, str] = {}
        self._space: SearchSpace | None = None
        self._design: list[dict[str, Any]] | None = None
        self._num_given = 0
        self._theta: np.ndarray | None = None
        self._fitted_at = 0
        self._grid: np.ndarray | None = None
        self._blas_controller: Any = None

    # The protocol

    def get_suggestion(
        self,
        parameters: Sequence[Parameter],
        results: pd.DataFrame | None = None,
        lower_is_better: bool = True,
    ) -> dict[str, Any] | AlgorithmState | None:
        if self.max_num_trials is not None and self.num_suggested >= self.max_num_trials:
            return AlgorithmState.DONE
        space = self._space_for(parameters)
        history = completed_history(results, space.parameters, lower_is_better)
        known = self._known_keys(results, space)

        config, value = self._next_from_design(space, history.losses.size, known)
        if config is None and history.losses.size >= 2:
            pending = self._tracker.pending(results, space.parameters)
            with self._one_blas_thread():
                config, value = self._model_suggestion(space, history, pending, known)
        if config is None:
            config = self._random_distinct(space, known)

        self._record(space, config, value)
        return config

    def planned_suggestions(self, parameters: Sequence[Parameter]) -> int | None:
        return None if self.max_num_trials is None else int(self.max_num_trials)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(num_initial_data_points={self.num_initial_data_points!r}, "
            f"max_num_trials={self.max_num_trials}, acquisition={self.acquisition!r})"
        )

    # Bookkeeping

    def _space_for(self, parameters: Sequence[Parameter]) -> SearchSpace:
        if self._space is None or self._space.parameters != list(parameters):
            self._space = SearchSpace(parameters)
            self._keys_by_trial = {}
            self._theta = None
            self._grid = _enumerate_small_space(self._space, self.num_candidates)
        return self._space

    def num_initial(self, parameters: Sequence[Parameter]) -> int:
        """The size of the initial design for ``parameters``."""
        if self.num_initial_data_points == "infer":
            return max(5, len(parameters) + 2, len(self.initial_data_points))
        return max(int(self.num_initial_data_points), len(self.initial_data_points))

    def _known_keys(self, results: pd.DataFrame | None, space: SearchSpace) -> set[str]:
        """The configurations of every trial in ``results``, each computed once per trial."""
        if results is None or len(results) == 0:
            return set(self._keys_by_trial.values())
        trials = results.drop_duplicates("Trial-ID")
        new = trials[~trials["Trial-ID"].isin(self._keys_by_trial.keys())]
        rows = new[["Trial-ID", *space.names]].itertuples(index=False, name=None)
        for trial_id, *values in rows:
            config = dict(zip(space.names, map(to_builtin, values), strict=True))
            self._keys_by_trial[to_builtin(trial_id)] = config_key(config, space.names)
        return set(self._keys_by_trial.values())

    def _record(self, space: SearchSpace, config: dict[str, Any], value: float | None) -> None:
        self.num_suggested += 1
        self._tracker.add(config)
        self._suggested_keys.add(config_key(config, space.names))
        if self.log_suggestions:
            shown = "initial design" if value is None else f"{self.acquisition}={value:.4g}"
            _logger.info(
                "%s: suggestion %d (%s): %s",
                type(self).__name__,
                self.num_suggested,
                shown,
                config,
            )

    def _one_blas_thread(self) -> contextlib.AbstractContextManager[Any]:
        """Keep BLAS on one thread while the model works.

        The matrices are small (``max_model_points`` rows at most), so extra BLAS threads
        gain nothing; and with scipy 1.15 and later, L-BFGS-B slows down by 10 to 100 times
        when OpenBLAS threads compete for busy cores (scipy issue 22438), which we saw here:
        suggestions that take 0.1 s took up to 14 s on a loaded two-core machine.
        """
        if self._blas_controller is None:
            from threadpoolctl import ThreadpoolController

            self._blas_controller = ThreadpoolController()
        limited: contextlib.AbstractContextManager[Any] = self._blas_controller.limit(
            limits=1, user_api="blas"
        )
        return limited

    def _is_new(self, config: Mapping[str, Any], space: SearchSpace, known: set[str]) -> bool:
        key = config_key(config, space.names)
        return key not in known and key not in self._suggested_keys

    def _random_distinct(self, space: SearchSpace, known: set[str]) -> dict[str, Any]:
        config: dict[str, Any] = {}
        for _ in range(100):
            config = {p.name: p.sample(self.rng) for p in space.parameters}
            if self._is_new(config, space, known):
                break
        return config

    # The initial design

    def _next_from_design(
        self, space: SearchSpace, num_completed: int, known: set[str]
    ) -> tuple[dict[str, Any] | None, float | None]:
        if self._design is None:
            given = [
                self._check_point(i, p, space) for i, p in enumerate(self.initial_data_points)
            ]
            extra = self.num_initial(space.parameters) - len(given)
            self._design = given + _latin_hypercube(space, extra, self.rng)
            self._num_given = len(given)
        if self._num_given == 0 and num_completed >= self.num_initial(space.parameters):
            self._design.clear()
        if not self._design:
            return None, None
        config = self._design.pop(0)
        from_user, self._num_given = self._num_given > 0, max(self._num_given - 1, 0)
        if from_user or self._is_new(config, space, known):
            return config, None
        return self._random_distinct(space, known), None

    @staticmethod
    def _check_point(index: int, point: Mapping[str, Any], space: SearchSpace) -> dict[str, Any]:
        missing = [name for name in space.names if name not in point]
        if missing:
            raise ValueError(
                f"initial_data_points[{index}] has no value for {', '.join(missing)}: {point!r}"
            )
        config = {name: to_builtin(point[name]) for name in space.names}
        for parameter in space.parameters:
            config[parameter.name] = _check_value(index, parameter, config[parameter.name])
        return config

    # The model

    def _model_suggestion(
        self,
        space: SearchSpace,
        history: History,
        pending: list[dict[str, Any]],
        known: set[str],
    ) -> tuple[dict[str, Any] | None, float | None]:
        """Fit, add the running trials as believed, and maximize the acquisition.

        Returns the configuration and its acquisition value, or ``(None, None)`` when every
        candidate is a configuration already known.
        """
        x, losses = space.encode_many(history.configs), np.asarray(history.losses, dtype=float)
        keep = _subsample(losses, self.max_model_points, self.rng)
        y = _transform(losses, self.output_transform)[keep]
        x = x[keep]
        gp = self._fit(space, x, y, len(losses))

        if pending:
            x_pending = space.encode_many(pending)
            believed, _ = gp.predict(x_pending)
            gp = GaussianProcess(
                np.vstack([x, x_pending]), np.concatenate([y, believed]), gp.hyperparameters
            )
        best = gp.fitted_mean[: len(y)] if self.incumbent == "posterior_mean" else y
        incumbent = float(np.min(best))
        acquisition = Acquisition(self.acquisition, gp, incumbent, self.exploration_weight)
        return self._maximize(acquisition, space, x[np.argsort(y)[:5]], known)

    def _fit(
        self, space: SearchSpace, x: np.ndarray, y: np.ndarray, num_completed: int
    ) -> GaussianProcess:
        """The posterior on ``(x, y)``, refitting the hyperparameters when it pays.

        There is one lengthscale per parameter (see :func:`_lengthscale_groups`), and the
        prior's dimension is the number of parameters, not of encoded columns. The first
        fit starts from the prior's mode and two draws from the prior (on a random
        hundred of the points when there are more, then polished on all). Later fits
        start from the previous hyperparameters (and, while data are few and fits cheap,
        from the prior's mode too). Past 100 completed trials the hyperparameters move
        little with each new one, so they are refitted only once the count has grown by a
        tenth since the last fit; the posterior always uses the latest data.
        """
        groups = _lengthscale_groups(space)
        dim = len(space.parameters)
        prior = HyperPrior.for_dimension(dim)
        previous = self._theta if self._theta is not None and len(self._theta) == dim + 2 else None
        if previous is not None and num_completed >= 100 and num_completed < 1.1 * self._fitted_at:
            hyper = Hyperparameters.from_vector(previous)
            return GaussianProcess(x, y, expand_lengthscales(hyper, groups))
        if previous is None:
            starts = [prior.mode(dim), prior.sample(self.rng, dim), prior.sample(self.rng, dim)]
            if len(y) > 100:  # explore on a subset, then polish on everything
                some = self.rng.choice(len(y), size=100, replace=False)
                fitted = fit_hyperparameters(x[some], y[some], prior, starts, groups=groups)
                starts = [fitted.to_vector()]
        elif len(y) < 50:
            starts = [previous, prior.mode(dim)]
        else:
            starts = [previous]
        hyper = fit_hyperparameters(x, y, prior, starts, groups=groups)
        self._theta, self._fitted_at = hyper.to_vector(), num_completed
        return GaussianProcess(x, y, expand_lengthscales(hyper, groups))

    # The search for the acquisition's maximum

    def _maximize(
        self,
        acquisition: Acquisition,
        space: SearchSpace,
        incumbents: np.ndarray,
        known: set[str],
    ) -> tuple[dict[str, Any] | None, float | None]:
        if self._grid is not None:
            points = self._grid
            scores = acquisition.values(points)
        else:
            points, near = self._candidates(space, incumbents)
            scores = acquisition.values(points)
            points, scores = self._refine(acquisition, space, points, scores, near)
        order = np.argsort(-scores, kind="stable")
        if self._grid is None and self.min_distance > 0:
            far = _distance_to_nearest(points, acquisition.gp.x) >= self.min_distance
            order = np.concatenate([order[far[order]], order[~far[order]]])
        for index in order:
            config = space.decode(points[index])
            if self._is_new(config, space, known):
                return config, float(scores[index])
        return None, None

    def _refine(
        self,
        acquisition: Acquisition,
        space: SearchSpace,
        points: np.ndarray,
        scores: np.ndarray,
        near: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Add local searches from the best candidates, and the best points after rounding.

        Half the searches start from the best uniform candidates and half from the best
        perturbed incumbents, so that a wide basin elsewhere is not crowded out by many
        good starts around the incumbent.
        """
        order = np.argsort(-scores, kind="stable")
        free = ~choice_columns(space)
        ends = [points[:0]]
        if free.any() and self.numlocal_searches:
            num_near = self.numlocal_searches // 2
            chosen = [*order[near[order]][:num_near], *order[~near[order]]]
            starts = points[chosen[: self.numlocal_searches]]
            ends = [local_search(acquisition, starts, free)]
        top = np.vstack([*ends, points[order[: 4 * max(1, self.numlocal_searches)]]])
        rounded = np.array([space.round(p) for p in top])
        rounded_scores = acquisition.values(rounded)
        if not free.all() or space.is_integral.any():
            swept, swept_scores = discrete_search(
                acquisition, space, rounded, rounded_scores, max(1, self.numlocal_searches)
            )
            rounded = np.vstack([swept, rounded])
            rounded_scores = np.concatenate([swept_scores, rounded_scores])
        return np.vstack([rounded, points]), np.concatenate([rounded_scores, scores])

    def _candidates(
        self, space: SearchSpace, incumbents: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Uniform points and perturbed incumbents, with a mask of the latter."""
        num_random = max(1, (3 * self.num_candidates) // 4)
        num_near = self.num_candidates - num_random
        uniform = space.sample(self.rng, num_random)
        if num_near == 0 or len(incumbents) == 0:
            return uniform, np.zeros(len(uniform), dtype=bool)
        centres = incumbents[self.rng.integers(len(incumbents), size=num_near)]
        scale = np.exp(self.rng.uniform(math.log(0.005), math.log(0.2), size=(num_near, 1)))
        near = centres + scale * self.rng.standard_normal(centres.shape)
        choice = choice_columns(space)
        near[:, choice] = centres[:, choice]
        swap = self.rng.random(num_near) < 0.2
        if choice.any() and swap.any():
            near[np.ix_(swap, choice)] = space.sample(self.rng, int(swap.sum()))[:, choice]
        mask = np.arange(num_random + num_near) >= num_random
        return np.vstack([uniform, np.clip(near, 0.0, 1.0)]), mask


def _distance_to_nearest(points: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Each point's Euclidean distance to the nearest of ``others``."""
    if len(others) == 0:
        return np.full(len(points), np.inf)
    squared = (
        (points**2).sum(axis=1)[:, None] + (others**2).sum(axis=1)[None, :] - 2 * points @ others.T
    )
    nearest: np.ndarray = np.sqrt(np.maximum(squared.min(axis=1), 0.0))
    return nearest


def _check_min_distance(value: object) -> float:
    value = to_builtin(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"min_distance must be a number; got {value!r}")
    if not 0 <= float(value) < 1:
        raise ValueError(f"min_distance must be at least 0 and below 1; got {value!r}")
    return float(value)


def _lengthscale_groups(space: SearchSpace) -> np.ndarray:
    """The parameter each encoded column belongs to: one lengthscale per parameter."""
    return np.repeat(np.arange(len(space.columns)), [c.width for c in space.columns])


def _values_of(parameter: Parameter) -> list[Any] | None:
    if isinstance(parameter, (Choice, Ordinal)):
        return list(parameter.range)
    if isinstance(parameter, Discrete):
        return list(range(int(parameter.low), int(parameter.high) + 1))
    return None


def _enumerate_small_space(space: SearchSpace, limit: int) -> np.ndarray | None:
    """Every configuration of an all-discrete space, encoded, if there are at most ``limit``."""
    axes: list[list[Any]] = []
    for parameter in space.parameters:
        values = _values_of(parameter)
        if values is None:
            return None
        axes.append(values)
    if math.prod(len(axis) for axis in axes) > limit:
        return None
    configs = [dict(zip(space.names, row, strict=True)) for row in itertools.product(*axes)]
    return space.encode_many(configs)


def _latin_hypercube(space: SearchSpace, n: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    """``n`` configurations from the most spread-out of a few Latin hypercubes.

    Each parameter's range is cut into ``n`` equally likely cells (log-uniform on log scale,
    equal counts of values for Discrete, Ordinal and Choice), and each cell used once.
    """
    if n <= 0:
        return []
    dim = len(space.parameters)
    best, best_spread = None, -1.0
    for _ in range(20):
        cube = (np.argsort(rng.random((n, dim)), axis=0) + rng.random((n, dim))) / n
        spread = float(np.min(pdist(cube))) if n > 1 else 0.0
        if spread > best_spread:
            best, best_spread = cube, spread
    assert best is not None
    return [
        {p.name: _from_cell(p, float(u)) for p, u in zip(space.parameters, row, strict=True)}
        for row in best
    ]


def _from_cell(parameter: Parameter, u: float) -> Any:
    if isinstance(parameter, (Choice, Ordinal)):
        return parameter.range[min(int(u * len(parameter.range)), len(parameter.range) - 1)]
    if isinstance(parameter, Discrete):
        low, high = int(parameter.low), int(parameter.high)
        if parameter.scale == "log":
            value = math.floor(math.exp(math.log(low) + u * (math.log(high + 1) - math.log(low))))
        else:
            value = low + math.floor(u * (high - low + 1))
        return int(min(max(value, low), high))
    return SearchSpace.from_unit(parameter, u)


def _check_value(index: int, parameter: Parameter, value: Any) -> Any:
    return parameter.check_value(value, f"initial_data_points[{index}][{parameter.name!r}]")


def _subsample(losses: np.ndarray, limit: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of at most ``limit`` points: the best third, then a random choice of the rest."""
    if len(losses) <= limit:
        return np.arange(len(losses))
    order = np.argsort(losses, kind="stable")
    num_best = limit // 3
    rest = rng.choice(order[num_best:], size=limit - num_best, replace=False)
    return np.sort(np.concatenate([order[:num_best], rest]))


def _transform(losses: np.ndarray, kind: str) -> np.ndarray:
    """Losses made roughly standard normal, order kept.

    ``"power"``: standardized, Yeo-Johnson transformed, standardized again. ``"rank"``: the
    normal quantiles of the ranks (ties averaged), standardized, a Gaussian copula that only
    keeps the order. ``"standardize"``: standardized only.
    """
    if kind == "standardize" or len(losses) < 3 or np.ptp(losses) == 0:
        return _standardize(losses)
    import scipy.stats  # type: ignore[import-untyped]  # heavy: only when first needed

    if kind == "rank":
        quantiles = (scipy.stats.rankdata(losses) - 0.5) / len(losses)
        return _standardize(np.asarray(scipy.stats.norm.ppf(quantiles)))
    return _standardize(np.asarray(scipy.stats.yeojohnson(_standardize(losses))[0]))


def _standardize(y: np.ndarray) -> np.ndarray:
    """Mean 0 and variance 1 (no change in scale for constant ``y``), without overflow."""
    y = y - float(np.median(y))
    spread = float(np.max(np.abs(y)))
    if spread > 0:  # brings 1e200 and 1e-200 alike into [-1, 1] before squaring
        y = y / spread
    std = float(np.std(y))
    return (y - float(np.mean(y))) / (std if std > 0 else 1.0)


class GPyOpt(BayesianOptimization):
    """SHERPA's ``GPyOpt`` algorithm, served by sherpa's own Gaussian-process engine.

    Code written for SHERPA's wrapper of the GPyOpt package runs unchanged; GPyOpt itself is
    not needed. The arguments map onto :class:`BayesianOptimization` as follows.

    * ``model_type``: ``"GP"`` is the Gaussian process; ``"GP_MCMC"`` (hyperparameters
      integrated by sampling) runs as the same Gaussian process with hyperparameters fitted
      by maximum a posteriori: a point estimate in place of an average over samples, far
      cheaper, though it can be overconfident while trials are few; ``"sparseGP"`` runs as
      the Gaussian process fitted to at most 100 trials (the best third and a random choice
      of the rest), which, like a sparse model, keeps each suggestion cheap however long the
      study. Other models of
      GPyOpt (``"RF"``, ``"warpedGP"``, ``"InputWarpedGP"``) are not offered.
    * ``acquisition_type``: ``"EI"`` is log expected improvement (the same maximizer as
      expected improvement, found more reliably), ``"MPI"`` probability of improvement and
      ``"LCB"`` the lower confidence bound with weight 2; the ``_MCMC`` variants run as
      these, as for ``model_type``.
    * ``max_concurrent`` is accepted and kept; trials running in parallel are accounted for
      whatever its value (see :class:`BayesianOptimization`).
    * ``verbosity=True`` logs each suggestion and its acquisition value at info level.

    Based on Jones, Schonlau and Welch, "Efficient Global Optimization of Expensive
    Black-Box Functions", J. Global Optim. 1998, as GPyOpt was (GPyOpt authors, "GPyOpt: A
    Bayesian Optimization framework in Python", 2016).

    Args:
        model_type: ``"GP"``, ``"GP_MCMC"`` or ``"sparseGP"``.
        num_initial_data_points: ``"infer"`` or how many configurations to suggest before
            the model takes over, ``initial_data_points`` included. ``"infer"`` gives
            ``max(5, num_parameters + 2)`` (SHERPA's gave ``num_parameters + 1``).
        initial_data_points: Configurations to try first (dicts or a DataFrame).
        acquisition_type: ``"EI"``, ``"MPI"``, ``"LCB"``, ``"EI_MCMC"``, ``"MPI_MCMC"`` or
            ``"LCB_MCMC"``.
        max_concurrent: How many trials the user runs at once (informational).
        verbosity: Log each suggestion at info level.
        max_num_trials: How many configurations to suggest in all; None for no limit.
        seed: Seeds the search.

    Raises:
        ValueError: ``model_type`` or ``acquisition_type`` is not one of the accepted names.

    Example:
        >>> import sherpa
        >>> from sherpa.algorithms.bayesian_optimization import GPyOpt
        >>> algorithm = GPyOpt(acquisition_type="MPI", max_num_trials=20, seed=0)
        >>> algorithm.acquisition
        'pi'
    """

    MODEL_TYPES: ClassVar[dict[str, int]] = {"GP": 200, "GP_MCMC": 200, "sparseGP": 100}
    ACQUISITION_TYPES: ClassVar[dict[str, str]] = {
        "EI": "log_ei",
        "EI_MCMC": "log_ei",
        "MPI": "pi",
        "MPI_MCMC": "pi",
        "LCB": "lcb",
        "LCB_MCMC": "lcb",
    }

    def __init__(
        self,
        model_type: str = "GP",
        num_initial_data_points: int | str = "infer",
        initial_data_points: Sequence[Mapping[str, Any]] | pd.DataFrame = (),
        acquisition_type: str = "EI",
        max_concurrent: int = 4,
        verbosity: bool = False,
        max_num_trials: int | None = None,
        seed: int | None = None,
    ) -> None:
        self.model_type = check_choice("model_type", model_type, list(self.MODEL_TYPES))
        self.acquisition_type = check_choice(
            "acquisition_type", acquisition_type, list(self.ACQUISITION_TYPES)
        )
        self.max_concurrent = check_count("max_concurrent", max_concurrent, minimum=1)
        self.verbosity = bool(verbosity)
        super().__init__(
            num_initial_data_points,
            initial_data_points,
            max_num_trials,
            self.ACQUISITION_TYPES[acquisition_type],
            seed,
            max_model_points=self.MODEL_TYPES[model_type],
            log_suggestions=self.verbosity,
        )
        if "MCMC" in model_type or "MCMC" in acquisition_type:
            _logger.debug(
                "GPyOpt: model_type=%r, acquisition_type=%r run with hyperparameters fitted "
                "by maximum a posteriori instead of sampled",
                model_type,
                acquisition_type,
            )

    def __repr__(self) -> str:
        return (
            f"GPyOpt(model_type={self.model_type!r}, acquisition_type={self.acquisition_type!r}, "
            f"max_concurrent={self.max_concurrent}, max_num_trials={self.max_num_trials})"
        )
