"""Static plots of a study with matplotlib (``pip install 'sherpa[plot]'``).

Each function takes a :class:`~sherpa.Study`, its results DataFrame or the path of a store,
returns a matplotlib ``Figure`` and writes it to ``path=`` when given. matplotlib is imported
on the first plot, with the Agg backend when there is no display.

Example:
    >>> import sherpa.plot
    >>> study = sherpa.Study.load("output/")  # doctest: +SKIP
    >>> sherpa.plot.plot_optimization_history(study, path="history.png")  # doctest: +SKIP
"""

from __future__ import annotations

from sherpa.plot._curves import plot_learning_curves
from sherpa.plot._history import plot_optimization_history
from sherpa.plot._importance import parameter_importances, plot_parameter_importance
from sherpa.plot._parallel import plot_parallel_coordinates

__all__ = [
    "parameter_importances",
    "plot_learning_curves",
    "plot_optimization_history",
    "plot_parallel_coordinates",
    "plot_parameter_importance",
]
