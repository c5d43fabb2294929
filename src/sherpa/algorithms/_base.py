"""The algorithm protocol and the stopping-rule protocol."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from sherpa._convert import check_seed, to_builtin
from sherpa.trial import AlgorithmState, TrialStatus

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from sherpa.parameters import Parameter
    from sherpa.trial import Trial

__all__ = ["Algorithm", "StoppingRule"]


class Algorithm:
    """Base class of search algorithms.

    Subclasses implement :meth:`get_suggestion`. They see the parameters and the results table
    (SHERPA's layout: ``Trial-ID``, ``Status``, ``Iteration``, parameters, ``Objective``,
    context) and nothing else.

    Args:
        seed: Seeds :attr:`rng`; the same seed gives the same suggestions.

    Attributes:
        requires_results: Whether :meth:`get_suggestion` reads ``results``. Algorithms that
            do not set it to False, so that the study need not build the table for them.
    """

    requires_results: ClassVar[bool] = True

    def __init__(self, seed: int | None = None) -> None:
        self.seed = check_seed(seed)
        self._rng: np.random.Generator | None = None

    @property
    def rng(self) -> np.random.Generator:
        """The algorithm's own random generator, seeded from :attr:`seed`."""
        if getattr(self, "_rng", None) is None:
            import numpy as np

            self._rng = np.random.default_rng(getattr(self, "seed", None))
        return self._rng  # type: ignore[return-value]

    def adopt_seed(self, seed: int) -> None:
        """Use ``seed`` if the algorithm was built without one and has drawn nothing yet."""
        if getattr(self, "seed", None) is None and getattr(self, "_rng", None) is None:
            self.seed = check_seed(seed)

    def get_suggestion(
        self,
        parameters: Sequence[Parameter],
        results: pd.DataFrame | None = None,
        lower_is_better: bool = True,
    ) -> dict[str, Any] | AlgorithmState | None:
        """Return the next configuration to try.

        Args:
            parameters: The search space.
            results: The results table so far (None for algorithms that do not read it).
            lower_is_better: Whether the objective is minimized.

        Returns:
            A dict of parameter values (extra keys travel with the trial);
            ``AlgorithmState.WAIT`` to be asked again once running trials finish;
            ``AlgorithmState.DONE`` or None when the search is over.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement get_suggestion")

    def planned_suggestions(self, parameters: Sequence[Parameter]) -> int | None:
        """How many configurations the algorithm suggests in all, when known (for progress)."""
        return None

    def get_best_result(
        self,
        parameters: Sequence[Parameter],
        results: pd.DataFrame | None,
        lower_is_better: bool,
    ) -> dict[str, Any]:
        """Return the results row of the best completed trial, without ``Status``.

        NaN objectives are never best. Returns an empty dict when no trial has completed.
        """
        if results is None or len(results) == 0:
            return {}
        completed = results[results["Status"] == TrialStatus.COMPLETED.value]
        completed = completed[completed["Objective"].notna()]
        if completed.empty:
            return {}
        objective = completed["Objective"]
        best = objective.idxmin() if lower_is_better else objective.idxmax()
        row = completed.loc[best].drop(labels=["Status"])
        return {str(key): to_builtin(value) for key, value in row.items()}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class StoppingRule:
    """Base class of rules that end unpromising trials early.

    Subclasses implement :meth:`should_trial_stop`.
    """

    def should_trial_stop(
        self, trial: Trial, results: pd.DataFrame, lower_is_better: bool
    ) -> bool:
        """Whether ``trial`` should stop, given the results table so far."""
        raise NotImplementedError(f"{type(self).__name__} must implement should_trial_stop")
