"""Learning curves: each trial's objective at every iteration it reported."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sherpa._convert import check_count, check_flag
from sherpa.plot._data import StudySource, load_plot_data
from sherpa.plot._figure import new_figure, objective_colormap, save_figure
from sherpa.trial import TrialStatus

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["plot_learning_curves"]

_NAME = "plot_learning_curves"
LEGEND_LIMIT = 10
"""Up to this many curves get a legend entry each; more are coloured by objective instead."""


def _check_trial_ids(trial_ids: object, known: Sequence[int]) -> list[int]:
    if isinstance(trial_ids, (str, bytes)) or not isinstance(trial_ids, Sequence):
        raise TypeError(f"{_NAME}: trial_ids must be a list of trial ids; got {trial_ids!r}")
    wanted = [int(check_count("trial_ids", t, minimum=1)) for t in trial_ids]
    unknown = [t for t in wanted if t not in set(known)]
    if unknown:
        raise ValueError(
            f"{_NAME}: trial_ids {unknown!r} have no observations in the study "
            f"(trials with observations: {_ranges(known)})"
        )
    if not wanted:
        raise ValueError(f"{_NAME}: trial_ids must name at least one trial; got []")
    return list(dict.fromkeys(wanted))


def _ranges(numbers: Sequence[int]) -> str:
    parts: list[str] = []
    for number in sorted(numbers):
        if parts and parts[-1].rsplit("-", 1)[-1] == str(number - 1):
            parts[-1] = f"{parts[-1].split('-')[0]}-{number}"
        else:
            parts.append(str(number))
    return ", ".join(parts) or "none"


def _best_of(rows: pd.DataFrame, lower: bool) -> dict[int, float]:
    finite = rows.loc[[math.isfinite(value) for value in rows["Objective"].astype(float)]]
    grouped = finite.groupby("Trial-ID")["Objective"]
    best = grouped.min() if lower else grouped.max()
    return {int(k): float(v) for k, v in best.items()}


def _choose(
    ids: list[int], best: dict[int, float], lower: bool, max_trials: int | None
) -> list[int]:
    if max_trials is None or len(ids) <= max_trials:
        return ids
    sign = 1.0 if lower else -1.0
    ranked = sorted(ids, key=lambda t: (t not in best, sign * best.get(t, 0.0), t))
    return sorted(ranked[:max_trials])


def plot_learning_curves(
    study: StudySource,
    *,
    trial_ids: Sequence[int] | None = None,
    max_trials: int | None = None,
    lower_is_better: bool | None = None,
    log_objective: bool = False,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """Plot the objective per iteration, one line per trial, running trials included.

    With up to ten curves each gets a legend entry; with more, curves are coloured by the
    trial's best objective (the best darkest) and a colorbar explains the colours. The
    study's best completed trial, when shown, is drawn thicker.

    Args:
        study: A :class:`~sherpa.Study`, its results DataFrame, or a store's path or URL.
        trial_ids: Only these trials (default: every trial with an observation).
        max_trials: At most this many curves: the trials with the best objectives.
        lower_is_better: The direction; required for a DataFrame, else the study's.
        log_objective: Draw the objective on a log scale (all objectives must be above 0).
        path: Also write the figure here (PNG unless the suffix says otherwise).

    Returns:
        The matplotlib figure; its first axes holds one line per trial, labelled
        ``Trial <id>``.

    Raises:
        ValueError: no trial has an observation, ``trial_ids`` names a trial without one, or
            ``log_objective`` is set and an objective is not above 0.
    """
    data = load_plot_data(study, lower_is_better)
    lower = data.direction(_NAME)
    check_flag("log_objective", log_objective)
    if max_trials is not None:
        max_trials = check_count("max_trials", max_trials, minimum=1)
    rows = data.intermediate_rows()
    if rows.empty:
        raise ValueError(f"{_NAME}: the study has no observation to plot")
    known = sorted(int(t) for t in rows["Trial-ID"].unique())
    ids = known if trial_ids is None else _check_trial_ids(trial_ids, known)
    best = _best_of(rows, lower)
    ids = _choose(ids, best, lower, max_trials)
    shown = rows[rows["Trial-ID"].isin(ids)]
    if log_objective and not (shown["Objective"].astype(float) > 0).all():
        raise ValueError(f"{_NAME}: log_objective=True needs every objective above 0")

    completed = data.final_rows(TrialStatus.COMPLETED)
    best_trial = None
    if not completed.empty:
        finals = dict(
            zip(completed["Trial-ID"], completed["Objective"].astype(float), strict=True)
        )
        best_trial = int((min if lower else max)(finals, key=finals.__getitem__))

    figure = new_figure(8.0, 4.8)
    ax = figure.add_subplot()
    _draw_curves(figure, ax, shown, ids, best, best_trial, lower)
    if log_objective:
        ax.set_yscale("log")
    ax.set_xlabel("Iteration")
    ax.set_ylabel("Objective")
    trials = f"{len(ids)} trial{'' if len(ids) == 1 else 's'}"
    ax.set_title(f"Learning curves: {trials} ({'lower' if lower else 'higher'} is better)")
    ax.grid(True, alpha=0.3)
    save_figure(figure, path)
    return figure


def _draw_curves(
    figure: Figure,
    ax: Any,
    shown: pd.DataFrame,
    ids: list[int],
    best: dict[int, float],
    best_trial: int | None,
    lower: bool,
) -> None:
    from matplotlib import colormaps
    from matplotlib.colors import Normalize
    from matplotlib.ticker import MaxNLocator

    by_trial = dict(iter(shown.groupby("Trial-ID")))
    values = [best[t] for t in ids if t in best]
    norm = Normalize(min(values), max(values)) if values else Normalize(0.0, 1.0)
    cmap = colormaps[objective_colormap(lower)]
    legend = len(ids) <= LEGEND_LIMIT
    for number in ids:
        curve = by_trial[number]
        is_best = number == best_trial
        color = None if legend else (cmap(norm(best[number])) if number in best else "gray")
        ax.plot(
            curve["Iteration"],
            curve["Objective"],
            label=f"Trial {number}" + (" (best)" if is_best and legend else ""),
            color=color,
            linewidth=2.6 if is_best else 1.2,
            alpha=1.0 if is_best or legend else 0.75,
            zorder=3 if is_best else 2,
            marker="o" if len(curve) == 1 else None,
        )
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if legend:
        ax.legend(loc="best", fontsize="small")
        return
    from matplotlib.cm import ScalarMappable

    colorbar = figure.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, pad=0.02)
    colorbar.set_label("Best objective of the trial")
