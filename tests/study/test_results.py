from __future__ import annotations

import pandas as pd

from sherpa.study._results import ResultsTable


def test_frame_built_piecewise_equals_frame_built_at_once() -> None:
    rows = [
        (1, "INTERMEDIATE", 1, {"b": 1, "a": "x"}, 0.5, {}),
        (1, "COMPLETED", 1, {"b": 1, "a": "x"}, 0.5, {}),
        (2, "INTERMEDIATE", 1, {"b": 2, "a": "y", "extra": 3}, 0.7, {"acc": 0.1}),
        (2, "INTERMEDIATE", 2, {"b": 2, "a": "y", "extra": 3}, 0.6, {"acc": 0.2, "z": "k"}),
    ]
    piecewise, at_once = ResultsTable(["a", "b"]), ResultsTable(["a", "b"])
    for row in rows:
        piecewise.add_row(*row)
        piecewise.frame()  # read after every row, as an algorithm would
        at_once.add_row(*row)
    frame = piecewise.frame()
    assert list(frame.columns) == [
        "Trial-ID", "Status", "Iteration", "a", "b", "extra", "Objective", "acc", "z",
    ]  # fmt: skip
    pd.testing.assert_frame_equal(frame, at_once.frame())
    assert frame["Iteration"].tolist() == [1, 1, 1, 2]


def test_empty_frame_has_the_fixed_columns() -> None:
    frame = ResultsTable(["lr"]).frame()
    assert list(frame.columns) == ["Trial-ID", "Status", "Iteration", "lr", "Objective"]
    assert frame["Trial-ID"].dtype == "int64" and frame["Objective"].dtype == "float64"


def test_a_choice_of_none_stays_none_next_to_strings() -> None:
    table = ResultsTable(["opt"])
    table.add_row(1, "COMPLETED", 1, {"opt": None}, 0.0, {})
    first = table.frame()
    table.add_row(2, "COMPLETED", 1, {"opt": "adam"}, 1.0, {})
    table.add_row(3, "COMPLETED", 1, {"opt": None}, 2.0, {})
    table.add_row(4, "COMPLETED", 1, {}, 3.0, {})  # a trial without the parameter
    frame = table.frame()
    assert first["opt"].tolist() == [None]
    assert frame["opt"].tolist()[:3] == [None, "adam", None]
    assert isinstance(frame["opt"].iloc[3], float)  # missing: NaN, not None
    pd.testing.assert_frame_equal(frame, _rebuilt(table))


def _rebuilt(table: ResultsTable) -> pd.DataFrame:
    again = ResultsTable(["opt"])
    for row in table._rows:
        parameters = {k: row[k] for k in row if k == "opt"}
        again.add_row(row["Trial-ID"], row["Status"], row["Iteration"], parameters,
                      row["Objective"], {})  # fmt: skip
    return again.frame()
