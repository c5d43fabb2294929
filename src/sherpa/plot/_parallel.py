"""Parallel coordinates: one vertical axis per parameter and one for the objective.

Each trial is a polyline across the axes, coloured by its objective. Every axis is a real
matplotlib axis with its own scale, so log-scale parameters get log ticks and Choice and
Ordinal parameters get their values as tick labels; the polylines are drawn once, in
coordinates normalized to [0, 1] per axis.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from sherpa.parameters import Choice, Ordinal, Parameter
from sherpa.plot._data import StudySource, load_plot_data
from sherpa.plot._figure import new_figure, objective_colormap, save_figure
from sherpa.trial import TrialStatus

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_parallel_coordinates"]

_NAME = "plot_parallel_coordinates"


@dataclasses.dataclass(frozen=True)
class _Axis:
    """One vertical axis: its label, its limits in its own scale, and how values map to [0, 1]."""

    label: str
    low: float
    high: float
    log: bool = False
    categories: tuple[str, ...] = ()
    integer: bool = False

    def position(self, value: Any) -> float:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return math.nan
        if self.log:
            value = float(value)
            if value <= 0:
                return math.nan
            return (math.log(value) - math.log(self.low)) / (
                math.log(self.high) - math.log(self.low)
            )
        return (float(value) - self.low) / (self.high - self.low)

    def configure(self, ax: Axes) -> None:
        from matplotlib import ticker

        if self.log:
            ax.set_yscale("log")
            # Narrow log ranges get 1-2-5 ticks; no labels on minor ticks either way.
            narrow = math.log10(self.high / self.low) < 2
            ax.yaxis.set_major_locator(
                ticker.LogLocator(subs=(1.0, 2.0, 5.0) if narrow else (1.0,))
            )
            ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
            ax.yaxis.set_minor_formatter(ticker.NullFormatter())
        ax.set_ylim(self.low, self.high)
        if self.categories:
            ax.set_yticks(range(len(self.categories)), labels=list(self.categories))
        elif self.integer and not self.log:
            ax.yaxis.set_major_locator(ticker.MaxNLocator(integer=True))


def _numeric_axis(label: str, low: float, high: float, log: bool, integer: bool) -> _Axis:
    if low == high:
        low, high = (low / 2, high * 2) if log else (low - 1, high + 1)
    return _Axis(label, float(low), float(high), log=log, integer=integer)


def _axis_of(parameter: Parameter) -> _Axis:
    if isinstance(parameter, (Choice, Ordinal)):
        labels = tuple(str(value) for value in parameter.range)
        return _Axis(parameter.name, -0.5, len(labels) - 0.5, categories=labels)
    low, high = parameter.range
    log = getattr(parameter, "scale", "linear") == "log"
    return _numeric_axis(parameter.name, low, high, log, parameter.type == "discrete")


def _category_index(parameter: Parameter, value: Any) -> float:
    for index, option in enumerate(parameter.range):
        if value == option and type(value) is type(option):
            return float(index)
    for index, option in enumerate(parameter.range):
        if value == option:
            return float(index)
    return math.nan


def _column(parameter: Parameter, axis: _Axis, values: Sequence[Any]) -> list[float]:
    if axis.categories:
        return [axis.position(_category_index(parameter, v)) for v in values]
    return [axis.position(v) for v in values]


def _draw_axes(figure: Figure, host: Axes, axes: list[_Axis]) -> None:
    last = len(axes) - 1
    host.set_xlim(0, last)
    host.set_ylim(0, 1)
    host.set_yticks([])
    host.set_xticks(range(len(axes)), labels=[axis.label for axis in axes])
    for spine in host.spines.values():
        spine.set_visible(False)
    if len(axes) > 6:
        host.tick_params(axis="x", labelrotation=30)
    for index, axis in enumerate(axes):
        # The last axis (the objective) has its ticks on the right, outside the lines.
        side: Literal["left", "right"] = "right" if index == last else "left"
        twin = host.twinx()
        for name, spine in twin.spines.items():
            spine.set_visible(name == side)
        twin.spines[side].set_position(("axes", index / last))
        twin.yaxis.set_ticks_position(side)
        twin.set_label(axis.label)
        axis.configure(twin)
        for label in twin.get_yticklabels():
            label.set_bbox({"facecolor": "white", "edgecolor": "none", "alpha": 0.75, "pad": 1})


def plot_parallel_coordinates(
    study: StudySource,
    *,
    params: Sequence[str] | None = None,
    lower_is_better: bool | None = None,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """Plot completed trials as polylines across one axis per parameter and the objective.

    Numeric axes span the parameter's declared range (log-scale parameters on a log axis);
    Choice and Ordinal axes list their values. Lines are coloured by objective, the best
    darkest and drawn on top. Only completed trials with a finite objective are shown.

    Args:
        study: A :class:`~sherpa.Study`, its results DataFrame, or a store's path or URL.
        params: The parameters to show, in this order (default: all, in the study's order).
        lower_is_better: The direction; required for a DataFrame, else the study's.
        path: Also write the figure here (PNG unless the suffix says otherwise).

    Returns:
        The matplotlib figure. Its first axes holds the lines (one ``LineCollection``); the
        vertical axes follow, one per entry of ``params`` and then ``Objective``, each with
        its label set (``ax.get_label()``), then the colorbar. The figure uses the
        constrained layout, which keeps the colorbar clear of the objective's tick labels.

    Raises:
        ValueError: no trial has completed with an objective, or ``params`` names an unknown
            parameter.
    """
    import numpy as np

    data = load_plot_data(study, lower_is_better)
    lower = data.direction(_NAME)
    parameters = data.select(_NAME, params)
    rows = data.final_rows(TrialStatus.COMPLETED)
    if rows.empty:
        raise ValueError(f"{_NAME}: the study has no completed trial with an objective to plot")

    objective = rows["Objective"].astype(float).to_numpy()
    axes = [_axis_of(p) for p in parameters]
    axes.append(_numeric_axis("Objective", objective.min(), objective.max(), False, False))
    columns = [
        _column(p, a, rows[p.name].tolist()) for p, a in zip(parameters, axes, strict=False)
    ]
    columns.append([axes[-1].position(v) for v in objective])
    positions: np.ndarray[Any, Any] = np.array(columns, dtype=float).T

    # Worst first, so the best trials are drawn on top.
    order = np.argsort(objective if not lower else -objective, kind="stable")
    xs = np.arange(len(axes), dtype=float)
    segments = [np.column_stack([xs, positions[i]]) for i in order]

    from matplotlib.collections import LineCollection

    figure = new_figure(max(6.4, 1.6 * len(axes)), 4.8)
    # The constrained layout measures the objective axis's tick labels (they grow with the
    # objective's digits) and places the colorbar beyond them; a fixed pad cannot.
    figure.set_layout_engine("constrained")
    host = figure.add_subplot()
    lines = LineCollection(segments, cmap=objective_colormap(lower), linewidths=1.4, alpha=0.85)
    lines.set_array(objective[order])
    host.add_collection(lines)
    _draw_axes(figure, host, axes)
    colorbar = figure.colorbar(lines, ax=host)
    colorbar.set_label("Objective")
    host.set_title(
        f"Parallel coordinates: {len(rows)} completed trial{'' if len(rows) == 1 else 's'} "
        f"({'lower' if lower else 'higher'} is better)",
        pad=14,
    )
    save_figure(figure, path)
    return figure
