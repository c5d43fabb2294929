"""The optimization history: each finished trial's objective, and the best so far."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from sherpa._convert import check_flag
from sherpa.plot._data import StudySource, load_plot_data
from sherpa.plot._figure import new_figure, save_figure
from sherpa.trial import TrialStatus

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_optimization_history"]

_NAME = "plot_optimization_history"


def plot_optimization_history(
    study: StudySource,
    *,
    lower_is_better: bool | None = None,
    log_objective: bool = False,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """Plot each finished trial's objective against its id, with the best so far as a step line.

    A trial's objective is its final row's (its best observation). Completed trials are dots,
    stopped ones crosses; failed trials and NaN objectives are left out. The best-so-far line
    runs over completed trials only, as :meth:`sherpa.Study.get_best_result` does.

    Args:
        study: A :class:`~sherpa.Study`, its results DataFrame, or a store's path or URL.
        lower_is_better: The direction; required for a DataFrame, else the study's.
        log_objective: Draw the objective on a log scale (all objectives must be above 0).
        path: Also write the figure here (PNG unless the suffix says otherwise).

    Returns:
        The matplotlib figure.

    Raises:
        ValueError: no trial has finished with an objective, or ``log_objective`` is set and
            an objective is not above 0.

    Example:
        >>> sherpa.plot.plot_optimization_history(study, path="history.png")  # doctest: +SKIP
    """
    data = load_plot_data(study, lower_is_better)
    lower = data.direction(_NAME)
    check_flag("log_objective", log_objective)
    completed = data.final_rows(TrialStatus.COMPLETED)
    stopped = data.final_rows(TrialStatus.STOPPED)
    if completed.empty and stopped.empty:
        raise ValueError(f"{_NAME}: the study has no finished trial with an objective to plot")
    objectives = [*completed["Objective"], *stopped["Objective"]]
    if log_objective and min(objectives) <= 0:
        raise ValueError(
            f"{_NAME}: log_objective=True needs objectives above 0; the smallest is "
            f"{min(objectives)!r}"
        )

    figure = new_figure(8.0, 4.8)
    ax = figure.add_subplot()
    ax.scatter(
        completed["Trial-ID"],
        completed["Objective"],
        s=22,
        color="tab:blue",
        label="Completed trial",
        zorder=3,
    )
    if not stopped.empty:
        ax.scatter(
            stopped["Trial-ID"],
            stopped["Objective"],
            s=30,
            marker="x",
            color="tab:gray",
            label="Stopped trial",
            zorder=3,
        )
    if not completed.empty:
        objective = completed["Objective"].astype(float)
        best = objective.cummin() if lower else objective.cummax()
        ax.plot(
            completed["Trial-ID"],
            best,
            drawstyle="steps-post",
            color="tab:red",
            linewidth=1.8,
            label="Best so far",
            zorder=2,
        )

    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if log_objective:
        ax.set_yscale("log")
    ax.set_xlabel("Trial")
    ax.set_ylabel("Objective")
    ax.set_title(f"Optimization history ({'lower' if lower else 'higher'} is better)")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best")
    save_figure(figure, path)
    return figure
