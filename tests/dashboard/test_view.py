"""The study view: built with aggregates, kept current incrementally, on SQLite and PostgreSQL."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest

import sherpa
from sherpa.algorithms import Iterate
from sherpa.dashboard._view import StudyView, reduce_curve
from sherpa.exceptions import TrialFinishedError, UnknownTrialError
from sherpa.trial import TrialStatus


def test_reduce_curve_keeps_short_curves_whole() -> None:
    assert reduce_curve([0, 1, 2], [3.0, None, 1.0], 4) == ([0, 1, 2], [3.0, None, 1.0])


def test_reduce_curve_keeps_ends_and_extremes_of_long_curves() -> None:
    iterations = list(range(10_000))
    objectives: list[float | None] = [math.sin(i / 500) for i in iterations]
    objectives[4321] = 50.0
    objectives[777] = -50.0
    its, objs = reduce_curve(iterations, objectives, 100)
    assert len(its) <= 100
    assert its[0] == 0 and its[-1] == 9999 and its == sorted(its)
    assert 4321 in its and 777 in its
    assert max(o for o in objs if o is not None) == 50.0
    assert min(o for o in objs if o is not None) == -50.0


def _study(url: str, lower_is_better: bool = True) -> sherpa.Study:
    return sherpa.Study(
        [sherpa.Continuous("x", [0, 1])],
        Iterate([{"x": 0.1}, {"x": 0.2}, {"x": 0.3}]),
        lower_is_better=lower_is_better,
        disable_dashboard=True,
        storage=url,
        study_name="v",
    )


def _check_incremental(url: str, lower_is_better: bool) -> None:
    study = _study(url, lower_is_better)
    first = study.get_suggestion()
    assert isinstance(first, sherpa.Trial)
    for iteration, value in enumerate([3.0, 1.0, math.nan, 2.0]):
        study.add_observation(first, value, iteration, context={"it": iteration})
    view = StudyView(url, "v", min_refresh_s=0.0)
    view.refresh()
    [summary] = view.trials()
    best = (1.0, 1) if lower_is_better else (3.0, 0)
    assert (summary.iterations, summary.objective, summary.best_iteration) == (4, *best)
    assert summary.context == {"it": best[1]}
    assert summary.status is TrialStatus.INTERMEDIATE
    seq, version = view.seq, view.version

    study.add_observation(first, 0.5 if lower_is_better else 9.0, 4, context={"it": 4})
    study.finalize(first)
    second = study.get_suggestion()
    assert isinstance(second, sherpa.Trial)
    study.add_observation(second, 7.0, 0)
    view.refresh()
    one, two = view.trials()
    assert (one.iterations, one.objective, one.best_iteration) == (
        5,
        0.5 if lower_is_better else 9.0,
        4,
    )
    assert one.status is TrialStatus.COMPLETED and one.finished_at is not None
    assert (two.number, two.iterations, two.objective) == (2, 1, 7.0)
    rows, next_seq, reset = view.observations_since(seq, 100)
    assert (rows, next_seq, reset) == (
        [(1, 4, 0.5 if lower_is_better else 9.0), (2, 0, 7.0)],
        seq + 2,
        False,
    )
    assert view.version > version
    assert view.curves([1], 10)[1] == (
        [0, 1, 2, 3, 4],
        [3.0, 1.0, None, 2.0, 0.5 if lower_is_better else 9.0],
    )

    view.request_stop(2)
    assert study.storage is not None and study.study_id is not None
    assert study.storage.stop_requested(study.study_id) == {2}
    with pytest.raises(TrialFinishedError, match="trial 1 is already COMPLETED"):
        view.request_stop(1)
    with pytest.raises(UnknownTrialError, match="trial 7 does not exist in study v"):
        view.request_stop(7)
    view.close()


@pytest.mark.parametrize("lower_is_better", [True, False])
def test_view_is_kept_current_on_sqlite(tmp_path: Path, lower_is_better: bool) -> None:
    _check_incremental(sherpa.storage.sqlite_url(tmp_path / "sherpa.db"), lower_is_better)


@pytest.mark.parametrize("lower_is_better", [True, False])
def test_view_is_kept_current_on_postgresql(postgres_url: str, lower_is_better: bool) -> None:
    _check_incremental(postgres_url, lower_is_better)


def test_view_reads_are_throttled_and_skip_an_unchanged_store(tmp_path: Path) -> None:
    url = sherpa.storage.sqlite_url(tmp_path / "sherpa.db")
    study = _study(url)
    trial = study.get_suggestion()
    assert isinstance(trial, sherpa.Trial)
    view = StudyView(url, "v", min_refresh_s=0.5)
    view.refresh()
    study.add_observation(trial, 1.0, 0)
    view.refresh()
    assert view.trial(1).iterations == 0  # within min_refresh_s: served as it was
    time.sleep(0.55)
    view.refresh()
    assert view.trial(1).iterations == 1
    view.close()


def test_view_reads_the_sqlite_store_read_only(tmp_path: Path) -> None:
    import sqlalchemy as sa

    url = sherpa.storage.sqlite_url(tmp_path / "sherpa.db")
    _study(url)
    view = StudyView(url, "v")
    with view._engine.connect() as conn, pytest.raises(sa.exc.OperationalError, match="readonly"):
        conn.execute(sa.text("DELETE FROM sherpa_trials"))
    view.close()


@pytest.mark.parametrize(
    ("failing_read", "rebuild", "observed"),
    [
        # The backlog check fails after the store's one report of the write was used up.
        (1, False, ([(1, 1, 0.5)], 2, False)),
        # The trials fail after the observations were read (and the cursor moved).
        (2, False, ([(1, 1, 0.5)], 2, False)),
        # A rebuild fails: the old picture stays (a rebuild asks pollers to reload).
        (2, True, ([], 3, True)),
    ],
)
def test_view_refresh_that_fails_loses_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    failing_read: int,
    rebuild: bool,
    observed: tuple[list[tuple[int, int, float]], int, bool],
) -> None:
    import sqlalchemy as sa

    url = sherpa.storage.sqlite_url(tmp_path / "sherpa.db")
    study = _study(url)
    trial = study.get_suggestion()
    assert isinstance(trial, sherpa.Trial)
    study.add_observation(trial, 1.0, 0)
    view = StudyView(url, "v", min_refresh_s=0.0)
    view.refresh()
    study.add_observation(trial, 0.5, 1)
    if rebuild:
        monkeypatch.setattr("sherpa.dashboard._view.REBUILD_BACKLOG", 0)

    connect = view._engine.connect
    reads: list[int] = []

    def flaky_connect() -> sa.Connection:
        reads.append(1)
        if len(reads) == failing_read:
            raise sa.exc.OperationalError("SELECT", {}, Exception("database is locked"))
        return connect()

    monkeypatch.setattr(view._engine, "connect", flaky_connect)
    with pytest.raises(sa.exc.OperationalError, match="database is locked"):
        view.refresh()
    assert [(t.number, t.iterations, t.objective) for t in view.trials()] == [(1, 1, 1.0)]
    assert view.observations_since(1, 10) == ([], 1, False)

    view.refresh()  # no write in between: the failed refresh's work is still to do
    assert [(t.number, t.iterations, t.objective) for t in view.trials()] == [(1, 2, 0.5)]
    assert view.observations_since(1, 10) == observed
    view.close()
