"""What a plot reads: a study's results table, its parameters and its direction.

Every plot accepts a :class:`~sherpa.Study`, the results DataFrame of one (``study.results``,
SHERPA's layout) or the path of a store. A DataFrame carries neither the parameter
definitions nor the direction: parameter columns are the ones between ``Iteration`` and
``Objective``, numeric ones are shown on a linear scale between their smallest and largest
value, others as categories; the direction must be given.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from sherpa.parameters import Choice, Continuous, Parameter
from sherpa.trial import TrialStatus

if TYPE_CHECKING:
    import pandas as pd

    from sherpa.study import Study

__all__ = ["PlotData", "StudySource", "load_plot_data"]

StudySource = Union["Study", "pd.DataFrame", str, "os.PathLike[str]"]
"""What a plot function accepts: a study, its results table, or the path or URL of a store."""

REQUIRED_COLUMNS = ("Trial-ID", "Status", "Iteration", "Objective")


@dataclasses.dataclass(frozen=True)
class PlotData:
    """A study as the plots see it.

    Attributes:
        results: The results table, SHERPA's layout.
        parameters: The search space (declared by the study, or inferred from a DataFrame).
        lower_is_better: Whether the objective is minimized; None when unknown.
    """

    results: pd.DataFrame
    parameters: list[Parameter]
    lower_is_better: bool | None

    def final_rows(self, *statuses: TrialStatus) -> pd.DataFrame:
        """The final row of each trial with one of ``statuses`` and a finite objective."""
        frame = self.results
        rows = frame[frame["Status"].isin([s.value for s in statuses])]
        finite = [math.isfinite(value) for value in rows["Objective"].astype(float)]
        ordered: pd.DataFrame = rows.loc[finite].sort_values("Trial-ID", kind="stable")
        return ordered

    def intermediate_rows(self) -> pd.DataFrame:
        """One row per observation, by trial and iteration."""
        frame = self.results
        rows = frame[frame["Status"] == TrialStatus.INTERMEDIATE.value]
        ordered: pd.DataFrame = rows.sort_values(["Trial-ID", "Iteration"], kind="stable")
        return ordered

    def direction(self, function: str) -> bool:
        """Return ``lower_is_better``, or raise the error that says it must be given."""
        if self.lower_is_better is None:
            raise ValueError(
                f"{function}: lower_is_better is required when plotting a results DataFrame "
                "(a Study or a store path carries its own direction)"
            )
        return self.lower_is_better

    def select(self, function: str, params: Sequence[str] | None) -> list[Parameter]:
        """Return the parameters named in ``params`` (all when None), in the given order.

        Raises:
            ValueError: ``params`` names a parameter the study does not have, or is empty.
        """
        if params is None:
            return list(self.parameters)
        if isinstance(params, str):
            raise TypeError(f"{function}: params must be a list of names; got {params!r}")
        by_name = {p.name: p for p in self.parameters}
        unknown = [name for name in params if name not in by_name]
        if unknown:
            raise ValueError(
                f"{function}: unknown parameter names {unknown!r} in params={list(params)!r}; "
                f"the study's parameters are {sorted(by_name)!r}"
            )
        if not params:
            raise ValueError(f"{function}: params must name at least one parameter; got []")
        return [by_name[name] for name in params]


def _distinct(values: Sequence[Any]) -> list[Any]:
    seen: list[Any] = []
    for value in values:
        if not any(value == known and type(value) is type(known) for known in seen):
            seen.append(value)
    try:
        return sorted(seen)
    except TypeError:
        return seen


def _infer_parameter(frame: pd.DataFrame, name: str) -> Parameter | None:
    import pandas as pd

    column = frame[name]
    if pd.api.types.is_bool_dtype(column) or not pd.api.types.is_numeric_dtype(column):
        values = [v for v in column.tolist() if not (isinstance(v, float) and math.isnan(v))]
        return Choice(name, _distinct(values)) if values else None
    finite = column[column.map(lambda v: math.isfinite(float(v)))]
    if finite.empty:
        return None
    return Continuous(name, [float(finite.min()), float(finite.max())])


def _from_frame(frame: pd.DataFrame, lower_is_better: bool | None) -> PlotData:
    missing = [name for name in REQUIRED_COLUMNS if name not in frame.columns]
    if missing:
        raise ValueError(
            f"results must have the columns of study.results {list(REQUIRED_COLUMNS)!r}; "
            f"missing {missing!r} (got columns {list(frame.columns)!r})"
        )
    columns = list(frame.columns)
    between = columns[columns.index("Iteration") + 1 : columns.index("Objective")]
    inferred = [_infer_parameter(frame, name) for name in between]
    return PlotData(frame, [p for p in inferred if p is not None], lower_is_better)


def _from_store(path: str | os.PathLike[str], lower_is_better: bool | None) -> PlotData:
    from sherpa.study import Study

    study = Study.load(path)
    try:
        assert study.storage is not None  # Study.load always attaches its store
        names = [record.name for record in study.storage.list_studies()]
    finally:
        if study.storage is not None:
            study.storage.close()
    if len(names) > 1:
        raise ValueError(
            f"the store at {os.fspath(path)!r} holds {len(names)} studies ({', '.join(names)}); "
            "load the one to plot with sherpa.Study.load(path, study_name=...) and pass it"
        )
    return _from_study(study, lower_is_better)


def _from_study(study: Study, lower_is_better: bool | None) -> PlotData:
    direction = study.lower_is_better if lower_is_better is None else lower_is_better
    return PlotData(study.results, list(study.parameters), direction)


def load_plot_data(source: object, lower_is_better: object = None) -> PlotData:
    """Read what the plots need from ``source``.

    Args:
        source: A :class:`~sherpa.Study`, a results DataFrame, or the path (output directory
            or store file) or database URL of a store holding one study.
        lower_is_better: The direction; required for a DataFrame, and overrides a study's.

    Raises:
        TypeError: ``source`` or ``lower_is_better`` has the wrong type.
        ValueError: the DataFrame lacks the results columns, or the store holds several
            studies.
        StorageUnreachableError: there is no store at the path.
    """
    import pandas as pd

    from sherpa.study import Study

    if lower_is_better is not None and not isinstance(lower_is_better, bool):
        raise TypeError(f"lower_is_better must be a bool or None; got {lower_is_better!r}")
    if isinstance(source, Study):
        return _from_study(source, lower_is_better)
    if isinstance(source, pd.DataFrame):
        return _from_frame(source, lower_is_better)
    if isinstance(source, (str, Path, os.PathLike)):
        return _from_store(source, lower_is_better)
    raise TypeError(
        "study must be a sherpa.Study, its results DataFrame, or the path or URL of a store; "
        f"got {source!r} ({type(source).__name__})"
    )
