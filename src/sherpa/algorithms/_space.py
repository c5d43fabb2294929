"""Shared machinery of model-based algorithms: encode the space, read the history.

* :class:`SearchSpace` maps configurations to points of the unit hypercube and back:
  Continuous and Discrete values by their (log-)position in the range, Ordinal values by
  their index, Choice values one-hot. Decoding rounds integers and ordinals, picks the
  likeliest choice, and returns plain Python values (the actual Choice values, never an
  index).
* :func:`completed_history` reads the finished trials from the results table as arrays, with
  the objective turned into a quantity to minimize.
* :class:`PendingTracker` remembers what an algorithm suggested and which of those are still
  running, from the final rows of the results table, so parallel suggestions can account
  for trials in flight.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from sherpa.parameters import Choice, Continuous, Discrete, Ordinal, Parameter
from sherpa.trial import TrialStatus

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "History",
    "PendingTracker",
    "SearchSpace",
    "completed_history",
    "config_key",
    "final_records",
    "final_rows",
]


def config_key(config: Mapping[str, Any], names: Sequence[str]) -> str:
    """A hashable identity of a configuration's values for ``names`` (works for any value)."""
    return repr([(name, _canonical(config.get(name))) for name in names])


def _canonical(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return value


@dataclasses.dataclass(frozen=True)
class _Column:
    """Where one parameter lives in the encoded vector."""

    parameter: Parameter
    start: int
    width: int


class SearchSpace:
    """The parameters as a box ``[0, 1]^dim`` (Choice parameters one-hot).

    Args:
        parameters: The search space.

    Example:
        >>> import sherpa
        >>> space = SearchSpace([sherpa.Continuous("lr", [1e-4, 1e-2], scale="log"),
        ...                      sherpa.Choice("act", ["relu", "tanh"])])
        >>> space.dim
        3
        >>> space.decode(space.encode({"lr": 1e-3, "act": "tanh"}))
        {'lr': 0.001, 'act': 'tanh'}
    """

    def __init__(self, parameters: Sequence[Parameter]) -> None:
        self.parameters = list(parameters)
        self.columns: list[_Column] = []
        start = 0
        for parameter in self.parameters:
            width = len(parameter.range) if isinstance(parameter, Choice) else 1
            self.columns.append(_Column(parameter, start, width))
            start += width
        self.dim = start
        self.names = [p.name for p in self.parameters]

    # Single values

    @staticmethod
    def to_unit(parameter: Parameter, value: Any) -> float:
        """Position of a numeric or ordinal ``value`` in ``[0, 1]``."""
        if isinstance(parameter, Ordinal):
            index = _index_of(parameter.range, value)
            return 0.0 if len(parameter.range) == 1 else index / (len(parameter.range) - 1)
        low, high = parameter.range
        if high == low:
            return 0.5
        if getattr(parameter, "scale", "linear") == "log":
            return float((math.log(value) - math.log(low)) / (math.log(high) - math.log(low)))
        return float((float(value) - low) / (high - low))

    @staticmethod
    def from_unit(parameter: Parameter, u: float) -> Any:
        """The value of a numeric or ordinal ``parameter`` at position ``u`` (clipped)."""
        u = min(max(float(u), 0.0), 1.0)
        if isinstance(parameter, Ordinal):
            return parameter.range[round(u * (len(parameter.range) - 1))]
        low, high = parameter.range
        if getattr(parameter, "scale", "linear") == "log":
            value = math.exp(math.log(low) + u * (math.log(high) - math.log(low)))
        else:
            value = low + u * (high - low)
        if isinstance(parameter, Discrete):
            return int(min(max(round(value), low), high))
        return float(min(max(value, low), high))

    # Vectors

    def encode(self, config: Mapping[str, Any]) -> np.ndarray:
        """Return the point of ``config`` in the box."""
        x = np.zeros(self.dim)
        for column in self.columns:
            value = config[column.parameter.name]
            if isinstance(column.parameter, Choice):
                x[column.start + _index_of(column.parameter.range, value)] = 1.0
            else:
                x[column.start] = self.to_unit(column.parameter, value)
        return x

    def encode_many(self, configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Return the points of several configurations as rows."""
        if not configs:
            return np.zeros((0, self.dim))
        return np.vstack([self.encode(c) for c in configs])

    def decode(self, x: np.ndarray) -> dict[str, Any]:
        """Return the configuration nearest to point ``x`` (plain Python values)."""
        config: dict[str, Any] = {}
        for column in self.columns:
            parameter = column.parameter
            if isinstance(parameter, Choice):
                block = x[column.start : column.start + column.width]
                config[parameter.name] = parameter.range[int(np.argmax(block))]
            else:
                config[parameter.name] = self.from_unit(parameter, x[column.start])
        return config

    def round(self, x: np.ndarray) -> np.ndarray:
        """Snap ``x`` to the point of the configuration it decodes to."""
        return self.encode(self.decode(x))

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Return ``n`` random points whose Choice blocks are valid one-hot vectors."""
        x = rng.random((n, self.dim))
        for column in self.columns:
            if isinstance(column.parameter, Choice):
                block = np.zeros((n, column.width))
                block[np.arange(n), rng.integers(column.width, size=n)] = 1.0
                x[:, column.start : column.start + column.width] = block
        return x

    @property
    def is_integral(self) -> np.ndarray:
        """Which encoded dimensions take only a few discrete values after decoding."""
        flags = np.zeros(self.dim, dtype=bool)
        for column in self.columns:
            if not isinstance(column.parameter, Continuous):
                flags[column.start : column.start + column.width] = True
        return flags


def _index_of(values: Sequence[Any], value: Any) -> int:
    for index, candidate in enumerate(values):
        if candidate == value and type(candidate) is type(value):
            return index
    for index, candidate in enumerate(values):
        if candidate == value:
            return index
    raise ValueError(f"value {value!r} is not one of {list(values)!r}")


@dataclasses.dataclass
class History:
    """Finished trials as arrays: configurations, and objectives to minimize."""

    configs: list[dict[str, Any]]
    losses: np.ndarray


def completed_history(
    results: pd.DataFrame | None, parameters: Sequence[Parameter], lower_is_better: bool
) -> History:
    """Read the completed trials (final rows, finite objective) from the results table.

    The loss is the objective when lower is better and its negative otherwise.
    """
    if results is None or len(results) == 0:
        return History([], np.zeros(0))
    objective = results["Objective"].to_numpy(dtype=float)
    rows = np.flatnonzero(
        (results["Status"].to_numpy() == TrialStatus.COMPLETED.value) & np.isfinite(objective)
    )
    names = [p.name for p in parameters]
    columns = [_column_values(results[name].to_numpy()[rows]) for name in names]
    configs = [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]
    if not names:
        configs = [{} for _ in rows]
    losses = objective[rows] if lower_is_better else -objective[rows]
    return History(configs, losses)


def _column_values(values: np.ndarray) -> list[Any]:
    """A column's values as plain Python (``tolist`` converts numeric dtypes at C speed)."""
    if values.dtype == object:
        return [_to_python(value) for value in values]
    return values.tolist()  # type: ignore[no-any-return]


def _to_python(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def final_records(
    results: pd.DataFrame | None,
    columns: Sequence[str],
    status: TrialStatus | None = None,
) -> list[dict[str, Any]]:
    """The final rows of the results table (one per finished trial) as dicts of Python values.

    Each dict holds ``Trial-ID``, ``Status``, ``Objective`` and ``columns`` (None where the
    table lacks a column). ``status`` keeps only the trials that ended so.
    """
    if results is None or len(results) == 0:
        return []
    final = results[results["Status"] != TrialStatus.INTERMEDIATE.value]
    if status is not None:
        final = final[final["Status"] == status.value]
    wanted = ["Trial-ID", "Status", "Objective", *columns]
    present = [c for c in wanted if c in final.columns]
    records = []
    for row in final[present].itertuples(index=False, name=None):
        record = dict.fromkeys(wanted)
        record.update((c, _to_python(v)) for c, v in zip(present, row, strict=True))
        records.append(record)
    return records


def final_rows(
    results: pd.DataFrame | None, names: Sequence[str], status: TrialStatus | None = None
) -> list[tuple[dict[str, Any], float]]:
    """``(configuration, objective)`` of each finished trial, configurations over ``names``."""
    return [
        ({name: record[name] for name in names}, float(record["Objective"]))
        for record in final_records(results, names, status)
    ]


class PendingTracker:
    """Remembers an algorithm's suggestions and tells which are still running.

    A suggestion stops being pending when the results table holds a final row (any status)
    for a configuration with the same values; repeated configurations are counted. The final
    rows already counted are remembered by ``Trial-ID`` (a trial has one final row, and the
    table only grows), so each call reads only the new ones.
    """

    def __init__(self) -> None:
        self._suggested: list[dict[str, Any]] = []
        self._reset(None)

    def _reset(self, names: list[str] | None) -> None:
        self._names = names
        self._keys: list[str] = []
        self._finished: dict[str, int] = {}
        self._counted: set[Any] = set()

    def add(self, config: Mapping[str, Any]) -> None:
        """Record one suggestion."""
        self._suggested.append(dict(config))

    @property
    def num_suggested(self) -> int:
        """How many suggestions were recorded."""
        return len(self._suggested)

    def pending(
        self, results: pd.DataFrame | None, parameters: Sequence[Parameter]
    ) -> list[dict[str, Any]]:
        """The recorded suggestions that have no final row yet."""
        names = [p.name for p in parameters]
        if names != self._names:
            self._reset(names)
        if results is not None and len(results):
            self._count_final_rows(results, names)
        self._keys.extend(config_key(c, names) for c in self._suggested[len(self._keys) :])
        remaining = dict(self._finished)
        still_running = []
        for config, key in zip(self._suggested, self._keys, strict=True):
            if remaining.get(key, 0) > 0:
                remaining[key] -= 1
            else:
                still_running.append(config)
        return still_running

    def _count_final_rows(self, results: pd.DataFrame, names: list[str]) -> None:
        final = results["Status"].to_numpy() != TrialStatus.INTERMEDIATE.value
        ids = results["Trial-ID"].to_numpy()[final].tolist()
        if not self._counted.issubset(ids):  # another table: count from scratch
            self._reset(names)
        new = [index for index, trial_id in enumerate(ids) if trial_id not in self._counted]
        if not new:
            return
        rows = np.flatnonzero(final)[new]
        columns = [_column_values(results[name].to_numpy()[rows]) for name in names]
        for trial_id, row in zip([ids[i] for i in new], zip(*columns, strict=True), strict=True):
            key = config_key(dict(zip(names, row, strict=True)), names)
            self._finished[key] = self._finished.get(key, 0) + 1
            self._counted.add(trial_id)
