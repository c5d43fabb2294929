"""Algorithms made of other algorithms: Repeat and Chain."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from sherpa._convert import check_count, check_protocol
from sherpa.algorithms._base import Algorithm
from sherpa.algorithms._space import PendingTracker, config_key
from sherpa.parameters import Parameter
from sherpa.trial import AlgorithmState, TrialStatus

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Chain", "Repeat", "aggregate_repeats"]


def _check_algorithm(name: str, algorithm: object) -> Algorithm:
    checked: Algorithm = check_protocol(
        name, algorithm, "get_suggestion", "sherpa.algorithms.Algorithm"
    )
    return checked


def _adopt_seed(algorithm: Algorithm, seed: int) -> None:
    adopt = getattr(algorithm, "adopt_seed", None)
    if callable(adopt):
        adopt(seed)


def _planned(algorithm: Algorithm, parameters: Sequence[Parameter]) -> int | None:
    planned = getattr(algorithm, "planned_suggestions", None)
    return planned(parameters) if callable(planned) else None


def _ask(
    algorithm: Algorithm,
    parameters: Sequence[Parameter],
    results: pd.DataFrame | None,
    lower_is_better: bool,
) -> dict[str, Any] | AlgorithmState | None:
    wanted = results if getattr(algorithm, "requires_results", True) else None
    return algorithm.get_suggestion(parameters, wanted, lower_is_better)


def aggregate_repeats(results: pd.DataFrame | None, names: Sequence[str]) -> pd.DataFrame | None:
    """Collapse the final rows of repeated configurations into one row each.

    A configuration with completed trials gets one ``COMPLETED`` row whose ``Objective`` is
    the mean over them (``Trial-ID`` of its first trial, the largest ``Iteration``); one with
    none keeps the final row of its last trial. ``INTERMEDIATE`` rows stay as they are.
    """
    if results is None or len(results) == 0:
        return results
    import pandas as pd

    intermediate = results[results["Status"] == TrialStatus.INTERMEDIATE.value]
    final = results[results["Status"] != TrialStatus.INTERMEDIATE.value]
    groups: dict[str, list[int]] = {}
    for position, row in enumerate(final[list(names)].itertuples(index=False, name=None)):
        groups.setdefault(config_key(dict(zip(names, row, strict=True)), names), []).append(
            position
        )
    rows = []
    for positions in groups.values():
        members = final.iloc[positions]
        completed = members[members["Status"] == TrialStatus.COMPLETED.value]
        if completed.empty:
            rows.append(members.iloc[-1])
            continue
        row = completed.iloc[0].copy()
        row["Objective"] = completed["Objective"].mean()
        row["Iteration"] = completed["Iteration"].max()
        rows.append(row)
    collapsed = pd.DataFrame(rows, columns=results.columns)
    combined: pd.DataFrame = pd.concat([intermediate, collapsed], ignore_index=True)
    return combined


class Repeat(Algorithm):
    """Run each configuration of another algorithm several times, to average out noise.

    Args:
        algorithm: The algorithm whose configurations are repeated.
        num_times: How many trials run each configuration.
        wait_for_completion: Ask the wrapped algorithm for its next configuration only once
            every trial of the previous ones has finished (``WAIT`` until then).
        agg: Show the wrapped algorithm, and :meth:`get_best_result`, one row per
            configuration with the mean objective of its completed trials.
        seed: Seeds the wrapped algorithm when it has no seed of its own.

    Example:
        >>> import sherpa
        >>> algorithm = sherpa.algorithms.Repeat(
        ...     sherpa.algorithms.RandomSearch(max_num_trials=2, seed=0), num_times=3, agg=True)
        >>> space = [sherpa.Continuous("x", [0, 1])]
        >>> first, second = algorithm.get_suggestion(space), algorithm.get_suggestion(space)
        >>> first == second
        True
    """

    requires_results: ClassVar[bool] = True

    def __init__(
        self,
        algorithm: Algorithm,
        num_times: int = 5,
        wait_for_completion: bool = False,
        agg: bool = False,
        seed: int | None = None,
    ) -> None:
        super().__init__(seed=seed)
        self.algorithm = _check_algorithm("algorithm", algorithm)
        self.num_times = check_count("num_times", num_times, minimum=1)
        self.wait_for_completion = bool(wait_for_completion)
        self.agg = bool(agg)
        self._current: dict[str, Any] | None = None
        self._remaining = 0
        self._pending = PendingTracker()
        if self.seed is not None:
            _adopt_seed(self.algorithm, self.seed)

    def adopt_seed(self, seed: int) -> None:
        super().adopt_seed(seed)
        _adopt_seed(self.algorithm, seed)

    def planned_suggestions(self, parameters: Sequence[Parameter]) -> int | None:
        inner = _planned(self.algorithm, parameters)
        return None if inner is None else inner * self.num_times

    def get_suggestion(
        self,
        parameters: Sequence[Parameter],
        results: pd.DataFrame | None = None,
        lower_is_better: bool = True,
    ) -> dict[str, Any] | AlgorithmState | None:
        if self._current is not None and self._remaining > 0:
            self._remaining -= 1
            self._pending.add(self._current)
            return dict(self._current)
        if self.wait_for_completion and self._pending.pending(results, parameters):
            return AlgorithmState.WAIT
        names = [p.name for p in parameters]
        seen = aggregate_repeats(results, names) if self.agg else results
        suggestion = _ask(self.algorithm, parameters, seen, lower_is_better)
        if not isinstance(suggestion, dict):
            return suggestion
        self._current, self._remaining = dict(suggestion), self.num_times - 1
        self._pending.add(suggestion)
        return suggestion

    def get_best_result(
        self,
        parameters: Sequence[Parameter],
        results: pd.DataFrame | None,
        lower_is_better: bool,
    ) -> dict[str, Any]:
        if self.agg:
            results = aggregate_repeats(results, [p.name for p in parameters])
        return super().get_best_result(parameters, results, lower_is_better)

    def __repr__(self) -> str:
        return (
            f"Repeat({self.algorithm!r}, num_times={self.num_times}, "
            f"wait_for_completion={self.wait_for_completion}, agg={self.agg})"
        )


class Chain(Algorithm):
    """Run algorithms one after another on the same results.

    When an algorithm is done (``DONE`` or None), the next one takes over; it sees every
    result so far, including those of the algorithms before it.

    Args:
        algorithms: The algorithms, in order.
        seed: Seeds the algorithms that have no seed of their own (each a different seed).

    Example:
        >>> import sherpa
        >>> algorithm = sherpa.algorithms.Chain([
        ...     sherpa.algorithms.GridSearch(num_grid_points=2),
        ...     sherpa.algorithms.RandomSearch(max_num_trials=10, seed=0)])
        >>> algorithm.get_suggestion([sherpa.Continuous("x", [0, 1])])
        {'x': 0.0}
    """

    requires_results: ClassVar[bool] = True

    def __init__(self, algorithms: Iterable[Algorithm], seed: int | None = None) -> None:
        super().__init__(seed=seed)
        if isinstance(algorithms, (str, bytes)) or not isinstance(algorithms, Iterable):
            raise TypeError(f"algorithms must be a list of algorithms; got {algorithms!r}")
        self.algorithms = [
            _check_algorithm(f"algorithms[{i}]", a) for i, a in enumerate(algorithms)
        ]
        if not self.algorithms:
            raise ValueError("algorithms must hold at least one algorithm; got an empty list")
        self._index = 0
        if self.seed is not None:
            self.adopt_seed(self.seed)

    def adopt_seed(self, seed: int) -> None:
        super().adopt_seed(seed)
        for offset, algorithm in enumerate(self.algorithms):
            _adopt_seed(algorithm, seed + offset)

    def planned_suggestions(self, parameters: Sequence[Parameter]) -> int | None:
        counts = [_planned(a, parameters) for a in self.algorithms]
        return None if any(c is None for c in counts) else sum(c or 0 for c in counts)

    def get_suggestion(
        self,
        parameters: Sequence[Parameter],
        results: pd.DataFrame | None = None,
        lower_is_better: bool = True,
    ) -> dict[str, Any] | AlgorithmState | None:
        while self._index < len(self.algorithms):
            suggestion = _ask(self.algorithms[self._index], parameters, results, lower_is_better)
            if suggestion is None or suggestion is AlgorithmState.DONE:
                self._index += 1
                continue
            return suggestion
        return AlgorithmState.DONE

    def __repr__(self) -> str:
        return f"Chain({self.algorithms!r})"
