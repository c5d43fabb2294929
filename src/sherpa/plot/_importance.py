"""Parameter importance: how much of the objective's variance each parameter explains alone.

Two estimators of the same quantity, the main-effect (first-order) share of variance:

``fanova`` (needs scikit-learn)
    A random forest is fitted to the completed trials' objectives over the encoded space, and
    each tree's prediction is decomposed functionally, as in fANOVA (Hutter, Hoos and
    Leyton-Brown, "An Efficient Approach for Assessing Hyperparameter Importance", ICML 2014):
    the tree's leaves cut the space into boxes, the marginal of parameter ``i`` is the
    volume-weighted mean prediction at each value of ``i``, and the importance is the
    variance of that marginal over the tree's total variance, averaged over the trees.
``binned``
    The correlation ratio, corrected for its bias (epsilon squared, Kelley 1935): trials are
    grouped by the parameter (by category, or into about sqrt(n), at most ten, quantile bins
    of a numeric value), and the importance is the variance of the group means, less what
    noise alone would give, over the total variance. It needs nothing beyond numpy and reads
    the trials directly; it sees no interactions and is coarse with few trials per group.

Each parameter is encoded into [0, 1]: numeric values between their declared bounds (on a log
scale for log-scale parameters), categories as equal-width cells in their declared order, so
the uniform measure over the box weighs every category alike.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sherpa._convert import check_choice, check_count
from sherpa.parameters import Choice, Ordinal, Parameter
from sherpa.plot._data import StudySource, load_plot_data
from sherpa.plot._figure import new_figure, save_figure
from sherpa.trial import TrialStatus

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.figure import Figure

__all__ = ["parameter_importances", "plot_parameter_importance"]

METHODS = ("auto", "fanova", "binned")
DEFAULT_NUM_TREES = 64
MAX_BINS = 10


def _encode(parameter: Parameter, values: Sequence[Any]) -> np.ndarray[Any, Any]:
    import numpy as np

    if isinstance(parameter, (Choice, Ordinal)):
        options = list(parameter.range)
        codes = []
        for value in values:
            index = next((i for i, o in enumerate(options) if o == value), None)
            codes.append(math.nan if index is None else (index + 0.5) / len(options))
        return np.array(codes, dtype=float)
    low, high = (float(b) for b in parameter.range)
    numbers = np.array([math.nan if v is None else float(v) for v in values], dtype=float)
    if getattr(parameter, "scale", "linear") == "log":
        low, high = math.log(low), math.log(high)
        with np.errstate(invalid="ignore", divide="ignore"):
            numbers = np.log(numbers)
    if high == low:
        return np.full(len(numbers), 0.5)
    return np.clip((numbers - low) / (high - low), 0.0, 1.0)


def _tree_boxes(tree: Any, dimensions: int) -> tuple[Any, Any, Any]:
    """Return the lower corners, upper corners and predictions of a fitted tree's leaves."""
    import numpy as np

    lows, highs, values = [], [], []
    stack = [(0, np.zeros(dimensions), np.ones(dimensions))]
    while stack:
        node, low, high = stack.pop()
        left, right = tree.children_left[node], tree.children_right[node]
        if left == right:  # a leaf: sklearn marks both children -1
            lows.append(low)
            highs.append(high)
            values.append(float(tree.value[node].ravel()[0]))
            continue
        feature = tree.feature[node]
        cut = min(max(float(tree.threshold[node]), low[feature]), high[feature])
        left_high, right_low = high.copy(), low.copy()
        left_high[feature], right_low[feature] = cut, cut
        stack.append((left, low, left_high))
        stack.append((right, right_low, high))
    return np.array(lows), np.array(highs), np.array(values)


def _tree_main_effects(tree: Any, dimensions: int) -> np.ndarray[Any, Any] | None:
    """The share of one tree's variance that each dimension's marginal explains."""
    import numpy as np

    lows, highs, values = _tree_boxes(tree, dimensions)
    widths = highs - lows
    volume = widths.prod(axis=1)
    mean = float(volume @ values)
    variance = float(volume @ (values - mean) ** 2)
    if variance <= 1e-12 * max(1.0, mean * mean):
        return None

    effects = np.zeros(dimensions)
    for i in range(dimensions):
        cuts = np.unique(np.concatenate([[0.0, 1.0], lows[:, i], highs[:, i]]))
        middles, lengths = (cuts[:-1] + cuts[1:]) / 2, np.diff(cuts)
        covers = (lows[:, i] <= middles[:, None]) & (middles[:, None] < highs[:, i])
        # A leaf's share of the other dimensions' volume: its volume over its width in i.
        share = np.divide(volume, widths[:, i], out=np.zeros_like(volume), where=widths[:, i] > 0)
        weight = covers @ share
        marginal = np.divide(
            covers @ (share * values), weight, out=np.full(len(middles), mean), where=weight > 0
        )
        effects[i] = float(lengths @ (marginal - mean) ** 2) / variance
    return effects


def _fanova(x: Any, y: Any, seed: int, num_trees: int) -> list[float]:
    import numpy as np

    try:
        from sklearn.ensemble import RandomForestRegressor
    except ImportError:
        raise ImportError(
            "method='fanova' needs scikit-learn: pip install scikit-learn (or use method='binned')"
        ) from None
    # Trees need no missing values; a missing parameter value takes the middle of its range.
    x = np.where(np.isnan(x), 0.5, x)
    forest = RandomForestRegressor(n_estimators=num_trees, min_samples_leaf=1, random_state=seed)
    forest.fit(x, y)
    effects = [_tree_main_effects(e.tree_, x.shape[1]) for e in forest.estimators_]
    kept = [e for e in effects if e is not None]
    if not kept:
        return [0.0] * x.shape[1]
    return [float(v) for v in np.mean(kept, axis=0)]


def _epsilon_squared(groups: Any, target: Any) -> float:
    """The bias-corrected correlation ratio of ``target`` grouped by ``groups``."""
    import numpy as np

    labels = np.unique(groups)
    total = float(((target - target.mean()) ** 2).sum())
    if total == 0 or len(labels) < 2 or len(target) <= len(labels):
        return 0.0
    between = sum(
        (groups == g).sum() * (target[groups == g].mean() - target.mean()) ** 2 for g in labels
    )
    within = (total - between) / (len(target) - len(labels))
    return float(min(1.0, max(0.0, (between - (len(labels) - 1) * within) / total)))


def _binned(x: Any, y: Any, parameters: Sequence[Parameter]) -> list[float]:
    import numpy as np

    shares = []
    for column, parameter in zip(x.T, parameters, strict=True):
        present = ~np.isnan(column)
        values, target = column[present], y[present]
        if isinstance(parameter, (Choice, Ordinal)):
            groups = values
        else:
            bins = max(2, min(MAX_BINS, round(math.sqrt(len(values)))))
            edges = np.unique(np.quantile(values, np.linspace(0, 1, bins + 1))[1:-1])
            groups = np.digitize(values, edges)
        shares.append(_epsilon_squared(groups, target))
    return shares


def _resolve_method(method: str) -> str:
    check_choice("method", method, METHODS)
    if method != "auto":
        return method
    try:
        import sklearn  # noqa: F401
    except ImportError:
        return "binned"
    return "fanova"


def _importances(
    function: str,
    study: StudySource,
    params: Sequence[str] | None,
    method: str,
    seed: int,
    num_trees: int,
) -> dict[str, float]:
    """:func:`parameter_importances`, its errors naming ``function``, the one the user called."""
    import numpy as np

    chosen = _resolve_method(method)
    seed = check_count("seed", seed, minimum=0)
    num_trees = check_count("num_trees", num_trees, minimum=1)
    data = load_plot_data(study)
    parameters = data.select(function, params)
    rows = data.final_rows(TrialStatus.COMPLETED)
    if len(rows) < 2:
        raise ValueError(
            f"{function}: needs at least 2 completed trials with an objective; the study has "
            f"{len(rows)}"
        )
    x = np.column_stack([_encode(p, rows[p.name].tolist()) for p in parameters])
    y = rows["Objective"].astype(float).to_numpy()
    fanova = chosen == "fanova"
    shares = _fanova(x, y, seed, num_trees) if fanova else _binned(x, y, parameters)
    ranked = sorted(zip((p.name for p in parameters), shares, strict=True), key=lambda t: -t[1])
    return dict(ranked)


def parameter_importances(
    study: StudySource,
    *,
    params: Sequence[str] | None = None,
    method: str = "auto",
    seed: int = 0,
    num_trees: int = DEFAULT_NUM_TREES,
) -> dict[str, float]:
    """Estimate the share of the objective's variance each parameter explains on its own.

    Reads the completed trials with a finite objective. ``method='fanova'`` fits a random
    forest (scikit-learn) and decomposes its trees' variance, as fANOVA does;
    ``method='binned'`` computes the correlation ratio of the trials grouped by each
    parameter, with numpy only; ``'auto'`` uses fANOVA when scikit-learn is installed. See
    :mod:`sherpa.plot._importance` for both. Shares lie in [0, 1]; they need not sum to 1,
    since interactions and noise explain the rest.

    Args:
        study: A :class:`~sherpa.Study`, its results DataFrame, or a store's path or URL.
        params: The parameters to rate (default: all).
        method: ``'auto'``, ``'fanova'`` or ``'binned'``.
        seed: Seeds the random forest.
        num_trees: Trees in the forest.

    Returns:
        The share per parameter, largest first.

    Raises:
        ValueError: fewer than two completed trials have an objective, ``params`` names an
            unknown parameter, or ``method`` is unknown.
        ImportError: ``method='fanova'`` without scikit-learn.

    Example:
        >>> sherpa.plot.parameter_importances(study)  # doctest: +SKIP
        {'lr': 0.71, 'activation': 0.12, 'dropout': 0.01}
    """
    return _importances("parameter_importances", study, params, method, seed, num_trees)


def plot_parameter_importance(
    study: StudySource,
    *,
    params: Sequence[str] | None = None,
    method: str = "auto",
    seed: int = 0,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """Plot :func:`parameter_importances` as horizontal bars, the most important on top.

    Args:
        study: A :class:`~sherpa.Study`, its results DataFrame, or a store's path or URL.
        params: The parameters to rate (default: all).
        method: ``'auto'`` (fANOVA with scikit-learn, else binned), ``'fanova'`` or
            ``'binned'``; the title names the one used.
        seed: Seeds the random forest.
        path: Also write the figure here (PNG unless the suffix says otherwise).

    Returns:
        The matplotlib figure; its axes holds one bar per parameter.
    """
    chosen = _resolve_method(method)
    shares = _importances(
        "plot_parameter_importance", study, params, chosen, seed, DEFAULT_NUM_TREES
    )
    names = list(shares)[::-1]
    values = [shares[n] for n in names]

    figure = new_figure(7.0, max(2.6, 0.45 * len(names) + 1.4))
    ax = figure.add_subplot()
    bars = ax.barh(names, values, color="tab:blue")
    ax.bar_label(bars, labels=[f"{v:.2f}" for v in values], padding=3)
    ax.set_xlim(0, min(1.0, max(values, default=0.0) * 1.2 + 0.05))
    ax.set_xlabel("Share of objective variance explained alone (main effect)")
    label = "fANOVA over a random forest" if chosen == "fanova" else "binned variance ratio"
    ax.set_title(f"Parameter importance ({label})")
    ax.grid(True, axis="x", alpha=0.3)
    save_figure(figure, path)
    return figure
