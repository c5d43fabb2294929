"""The results table: SHERPA's ``study.results`` layout, built row by row, materialized lazily.

Layout (public API: algorithms and users read it): ``Trial-ID``, ``Status``, ``Iteration``,
every key of ``trial.parameters`` in sorted order, ``Objective``, then the context keys in
sorted order. One ``INTERMEDIATE`` row per observation; when a trial is finalized, one more row
with its final status, its best observation's objective and context, and its last iteration.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ResultsTable"]

TRIAL_ID = "Trial-ID"
STATUS = "Status"
ITERATION = "Iteration"
OBJECTIVE = "Objective"


def _copy_on_write(pd: Any) -> bool:
    if int(pd.__version__.split(".")[0]) >= 3:
        return True
    return pd.options.mode.copy_on_write is True


class ResultsTable:
    """Rows of results kept as dicts; the DataFrame is built on demand and cached.

    Args:
        parameter_names: Names that always get a column, even before any trial has them.
    """

    def __init__(self, parameter_names: Iterable[str] = ()) -> None:
        self._rows: list[dict[str, Any]] = []
        self._parameter_keys: set[str] = set(parameter_names)
        self._context_keys: set[str] = set()
        self._none_keys: set[str] = set()  # parameters that took the value None somewhere
        self._frame: pd.DataFrame | None = None
        self._frame_rows = 0  # how many rows the cached frame holds

    def __len__(self) -> int:
        return len(self._rows)

    def add_row(
        self,
        trial_id: int,
        status: str,
        iteration: int,
        parameters: dict[str, Any],
        objective: float,
        context: dict[str, Any],
    ) -> None:
        """Append one row."""
        row = {TRIAL_ID: trial_id, STATUS: status, ITERATION: iteration}
        row.update(parameters)
        row[OBJECTIVE] = objective
        row.update(context)
        self._rows.append(row)
        if not self._parameter_keys.issuperset(parameters):
            self._parameter_keys.update(parameters)
        if None in parameters.values():
            self._none_keys.update(k for k, v in parameters.items() if v is None)
        if context and not self._context_keys.issuperset(context):
            self._context_keys.update(context)

    def columns(self) -> list[str]:
        """The column names, in SHERPA's order."""
        return [
            TRIAL_ID,
            STATUS,
            ITERATION,
            *sorted(self._parameter_keys),
            OBJECTIVE,
            *sorted(self._context_keys - self._parameter_keys),
        ]

    def frame(self) -> pd.DataFrame:
        """Return the table as a DataFrame, a copy of the cached one that the caller may edit.

        Only the rows added since the last call are converted; they are appended to the
        cached frame, so reading the table after each new row stays cheap.
        """
        import pandas as pd

        columns = self.columns()
        if self._frame is None or self._frame_rows == 0:
            frame = pd.DataFrame.from_records(self._rows, columns=columns)
            if not self._rows:
                frame = frame.astype({TRIAL_ID: "int64", ITERATION: "int64", OBJECTIVE: "float64"})
            self._frame, self._frame_rows = frame, len(self._rows)
            self._keep_none(frame)
        elif self._frame_rows < len(self._rows):
            new = pd.DataFrame.from_records(self._rows[self._frame_rows :], columns=columns)
            frame = pd.concat([self._frame, new], ignore_index=True)
            if list(frame.columns) != columns:
                frame = frame[columns]
            self._frame, self._frame_rows = frame, len(self._rows)
            self._keep_none(frame)
        # With copy-on-write (pandas 3, or pandas 2 with the option on) a shallow copy already
        # keeps the caller's edits out of the cache; without it, only a deep copy does.
        copy: pd.DataFrame = self._frame.copy(deep=not _copy_on_write(pd))
        return copy

    def _keep_none(self, frame: pd.DataFrame) -> None:
        """Give back ``None`` to parameter columns where pandas made it NaN.

        pandas 3 stores a column of strings and ``None`` as its string dtype, which turns
        ``None`` into NaN; a ``Choice`` may offer ``None`` as a value, and it must come back
        as ``None`` (a trial that lacks the parameter still shows NaN).
        """
        import pandas as pd

        for key in self._none_keys:  # rebuilt whole: a string column may have been cast
            values = [row.get(key, math.nan) for row in self._rows]
            frame[key] = pd.Series(values, index=frame.index, dtype=object)
