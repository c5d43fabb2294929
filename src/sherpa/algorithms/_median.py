"""The median stopping rule."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sherpa._convert import check_count
from sherpa.algorithms._base import StoppingRule
from sherpa.trial import TrialStatus

if TYPE_CHECKING:
    import pandas as pd

    from sherpa.trial import Trial

__all__ = ["MedianStoppingRule"]


class MedianStoppingRule(StoppingRule):
    """Stop a trial whose best objective so far is worse than the median of the others.

    At the trial's latest iteration ``t``, the rule compares the trial's best objective up to
    ``t`` with the median of the other trials' best objectives up to ``t``, counting only the
    trials that reached iteration ``t`` (Golovin et al., "Google Vizier: A Service for Black-Box
    Optimization", KDD 2017).

    Args:
        min_iterations: Never stop a trial before it has reported this iteration.
        min_trials: How many other trials must have reached iteration ``t`` for the rule to act.

    Example:
        >>> import sherpa
        >>> rule = sherpa.algorithms.MedianStoppingRule(min_iterations=2, min_trials=3)
        >>> study = sherpa.Study([sherpa.Continuous("lr", [0.001, 0.1])],
        ...                      sherpa.algorithms.RandomSearch(), lower_is_better=True,
        ...                      stopping_rule=rule, disable_dashboard=True)
    """

    def __init__(self, min_iterations: int = 0, min_trials: int = 1) -> None:
        self.min_iterations = check_count("min_iterations", min_iterations, minimum=0)
        self.min_trials = check_count("min_trials", min_trials, minimum=1)

    def should_trial_stop(
        self, trial: Trial, results: pd.DataFrame | None, lower_is_better: bool
    ) -> bool:
        if results is None or len(results) == 0:
            return False
        rows = results[results["Status"] == TrialStatus.INTERMEDIATE.value]
        rows = rows[["Trial-ID", "Iteration", "Objective"]]
        mine = rows[rows["Trial-ID"] == trial.id]
        if mine.empty:
            return False
        latest = int(mine["Iteration"].max())
        if latest < self.min_iterations:
            return False
        others = rows[rows["Trial-ID"] != trial.id]
        reached = others.groupby("Trial-ID")["Iteration"].max()
        reached = reached[reached >= latest].index
        if len(reached) < self.min_trials:
            return False
        window = others[others["Trial-ID"].isin(reached) & (others["Iteration"] <= latest)]
        grouped = window.groupby("Trial-ID")["Objective"]
        bests = grouped.min() if lower_is_better else grouped.max()
        bests = bests.dropna()
        own = mine["Objective"].min() if lower_is_better else mine["Objective"].max()
        if bests.empty or own != own:  # no comparable objective (all NaN)
            return False
        median = float(bests.median())
        return bool(own > median) if lower_is_better else bool(own < median)

    def __repr__(self) -> str:
        return (
            f"MedianStoppingRule(min_iterations={self.min_iterations}, "
            f"min_trials={self.min_trials})"
        )
