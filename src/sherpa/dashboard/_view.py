"""The dashboard's picture of one study: a summary per trial, kept current from the store.

The view holds one small record per trial (status, number of observations, best objective
and the context of that observation), never every observation. It is built with two
aggregate queries the first time it is read, then kept current incrementally: each refresh
reads only the observations the store's :class:`~sherpa.storage._sql.ObservationCursor` has
not seen and only the trials that can have changed (new, open, or finished since the last
look). Learning curves are read on demand for the few trials a page shows.

The reads go through a read-only connection of the view's own (``mode=ro`` on SQLite), and
SQLite runs in WAL mode, so the dashboard never blocks a trial's or the runner's writes. The
one write, a stop request, goes through :meth:`SQLStorage.request_stop`.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sherpa.exceptions import UnknownTrialError
from sherpa.parameters import Parameter
from sherpa.storage._urls import is_sqlite_url, sqlite_path
from sherpa.trial import TrialStatus

if TYPE_CHECKING:
    import sqlalchemy as sa

    from sherpa.storage import ObservationRecord, StudyRecord

__all__ = ["LOG_LIMIT", "StudyView", "TrialSummary", "reduce_curve"]

LOG_LIMIT = 200_000
"""How many of the latest observations the view keeps for readers that poll for new rows."""

REBUILD_BACKLOG = 50_000
"""A reader this many observations behind rebuilds with aggregates instead of reading rows."""

FINISHED_MARGIN_S = 5.0
"""Trials finished up to this long before the last look are read again (clock skew)."""


@dataclasses.dataclass
class TrialSummary:
    """One trial as the dashboard shows it.

    ``objective`` is the best objective of the trial so far (None while it has none that is
    not NaN), ``context`` the context of that observation, ``iterations`` how many
    observations the trial has. ``version`` is the view's version when the trial last
    changed.
    """

    number: int
    parameters: dict[str, Any]
    status: TrialStatus
    stop_requested: bool
    created_at: float
    finished_at: float | None
    iterations: int = 0
    objective: float | None = None
    best_iteration: int | None = None
    context: dict[str, Any] = dataclasses.field(default_factory=dict)
    version: int = 0


def reduce_curve(
    iterations: Sequence[int], objectives: Sequence[float | None], max_points: int
) -> tuple[list[int], list[float | None]]:
    """Return at most ``max_points`` points of a curve that keep its shape.

    The curve is cut into ``max_points // 2`` buckets of consecutive points; each bucket
    keeps its lowest and its highest point, in iteration order, so spikes survive. The first
    and last points are always kept.
    """
    count = len(iterations)
    if count <= max_points:
        return list(iterations), list(objectives)
    buckets = max(1, (max_points - 2) // 2)
    keep = {0, count - 1}
    for b in range(buckets):
        start = 1 + (count - 2) * b // buckets
        stop = 1 + (count - 2) * (b + 1) // buckets
        finite = [i for i in range(start, stop) if objectives[i] is not None]
        if finite:
            keep.add(min(finite, key=lambda i: objectives[i]))  # type: ignore[arg-type,return-value]
            keep.add(max(finite, key=lambda i: objectives[i]))  # type: ignore[arg-type,return-value]
    chosen = sorted(keep)
    return [iterations[i] for i in chosen], [objectives[i] for i in chosen]


def _finite(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def _read_engine(url: str) -> sa.Engine:
    import sqlalchemy as sa

    from sherpa.storage._sql import SQLITE_BUSY_TIMEOUT_S, create_server_engine

    if not is_sqlite_url(url):
        return create_server_engine(url)
    path = sqlite_path(url)
    return sa.create_engine(
        sa.URL.create("sqlite", database=f"file:{path}?mode=ro", query={"uri": "true"}),
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S},
    )


class StudyView:
    """A live, thread-safe summary of one stored study.

    Args:
        url: The store's database URL. The view opens connections of its own, so that its
            change checks never consume another reader's.
        study_name: Which study (default: the newest in the store).
        min_refresh_s: Reads within this long of the last refresh are served as they are.
        on_stop: Called with a trial's number after its stop request was written, e.g. to
            tell the in-process :class:`~sherpa.Study` at once.

    Raises:
        StorageUnreachableError: the store cannot be opened.
        StorageError: the store has no such study.
    """

    def __init__(
        self,
        url: str,
        study_name: str | None = None,
        *,
        min_refresh_s: float = 0.2,
        on_stop: Callable[[int], None] | None = None,
    ) -> None:
        from sherpa.storage import SQLStorage

        self._store = SQLStorage(url)
        self.record: StudyRecord = self._store.get_study(study_name)
        self.parameters = [Parameter.from_dict(d) for d in self.record.parameters]
        self._engine = _read_engine(url)
        self._min_refresh_s = min_refresh_s
        self._on_stop = on_stop
        self._lock = threading.RLock()
        self.lock = self._lock
        """Hold it to read several trials as of one moment (refreshes wait for it)."""
        self._reset()

    def _reset(self) -> None:
        from sherpa.storage._sql import ObservationCursor

        # Positions and versions only grow, even across a rebuild, so that a reader that
        # asks "what changed since N" after a rebuild is told to reload or gets everything.
        self._seq: int = getattr(self, "_seq", 0)  # observations the view has taken in
        self._version: int = getattr(self, "_version", 0)
        self._trials: dict[int, TrialSummary] = {}
        self._row_ids: dict[int, int] = {}  # trial row id -> trial number
        self._cursor = ObservationCursor()
        self._log: deque[tuple[int, int, int, float | None]] = deque(maxlen=LOG_LIMIT)
        self._context_keys: set[str] = set()
        self._loaded = False
        self._refreshed_at = 0.0
        self._trials_read_at = 0.0
        # A write the store reported that no refresh has read yet: the store reports each
        # write once, so a refresh that fails must not forget it.
        self._unread_write = True

    @property
    def lower_is_better(self) -> bool:
        """Whether the study minimizes its objective."""
        return self.record.lower_is_better

    def close(self) -> None:
        """Release the view's database connections."""
        with self._lock:
            self._engine.dispose()
            self._store.close()

    # Keeping current

    def refresh(self, *, force: bool = False) -> None:
        """Bring the view up to date with the store (at most every ``min_refresh_s``).

        A refresh is all or nothing: when a read fails, the view stays as it was and the
        next refresh reads everything this one would have.
        """
        with self._lock:
            now = time.monotonic()
            if not force and self._loaded and now - self._refreshed_at < self._min_refresh_s:
                return
            if self._store.has_changed():
                self._unread_write = True
            if not self._unread_write and self._loaded:
                self._refreshed_at = now
                return
            if not self._loaded or self._backlog() > REBUILD_BACKLOG:
                self._load_all()
            else:
                self._read_changes()
            self._unread_write = False
            self._refreshed_at = now

    def _backlog(self) -> int:
        import sqlalchemy as sa

        query = sa.text("SELECT max(id) FROM sherpa_observations WHERE study_id = :s")
        with self._engine.connect() as conn:
            newest = conn.execute(query, {"s": self.record.id}).scalar()
        return 0 if newest is None else int(newest) - self._cursor.last_id

    def _load_all(self) -> None:
        import sqlalchemy as sa

        study = {"s": self.record.id}
        with self._engine.connect() as conn:
            newest = conn.execute(
                sa.text("SELECT max(id) FROM sherpa_observations WHERE study_id = :s"), study
            ).scalar()
            last_id = 0 if newest is None else int(newest)
            aggregates = self._aggregate(conn, last_id)
            rows = conn.execute(
                sa.text(
                    "SELECT id, number, parameters, status, created_at, finished_at, "
                    "stop_requested FROM sherpa_trials WHERE study_id = :s"
                ),
                study,
            ).all()
        read_at = time.time()
        # Only now that every query succeeded is the old picture dropped.
        self._reset()
        self._trials_read_at = read_at
        self._apply_trials(rows)
        for row_id, count, best, iteration, context in aggregates:
            summary = self._trials.get(self._row_ids.get(row_id, -1))
            if summary is None:
                continue
            summary.iterations = int(count)
            summary.objective = _finite(best)
            if summary.objective is not None:
                summary.best_iteration = int(iteration)
                summary.context = json.loads(context)
                self._context_keys.update(summary.context)
        self._cursor.last_id = last_id
        self._seq += sum(s.iterations for s in self._trials.values())
        self._loaded = True

    def _aggregate(self, conn: sa.Connection, last_id: int) -> list[Any]:
        """Per trial row: observation count, best objective, its iteration and context."""
        import sqlalchemy as sa

        best = "min" if self.lower_is_better else "max"
        params = {"s": self.record.id, "last": last_id}
        if conn.dialect.name == "sqlite":
            # With exactly one min()/max() aggregate, SQLite takes the bare columns from the
            # row holding that extreme: one scan gives the best observation's context.
            return list(
                conn.execute(
                    sa.text(
                        f"SELECT trial_id, count(*), {best}(objective), iteration, context "
                        "FROM sherpa_observations WHERE study_id = :s AND id <= :last "
                        "GROUP BY trial_id"
                    ),
                    params,
                )
            )
        order = "ASC" if self.lower_is_better else "DESC"
        counts: dict[int, int] = dict(
            conn.execute(
                sa.text(
                    "SELECT trial_id, count(*) FROM sherpa_observations "
                    "WHERE study_id = :s AND id <= :last GROUP BY trial_id"
                ),
                params,
            ).all()
        )
        bests = {
            row[0]: row[1:]
            for row in conn.execute(
                sa.text(
                    "SELECT DISTINCT ON (trial_id) trial_id, objective, iteration, context "
                    "FROM sherpa_observations WHERE study_id = :s AND id <= :last "
                    f"AND objective IS NOT NULL ORDER BY trial_id, objective {order}, iteration"
                ),
                params,
            )
        }
        return [
            (row_id, n, *bests.get(row_id, (None, None, "{}"))) for row_id, n in counts.items()
        ]

    def _read_changes(self) -> None:
        import sqlalchemy as sa

        # The store advances the cursor it is given: read with a copy, kept only once the
        # trials are read too, so that rows read by a refresh that fails are read again.
        cursor = dataclasses.replace(self._cursor, pending=dict(self._cursor.pending))
        records = self._store.read_new_observations(self.record.id, cursor)
        newest = max(self._trials, default=0)
        since = self._trials_read_at - FINISHED_MARGIN_S
        read_at = time.time()
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT id, number, parameters, status, created_at, finished_at, "
                    "stop_requested FROM sherpa_trials WHERE study_id = :s AND "
                    "(number > :newest OR status = :open OR finished_at >= :since)"
                ),
                {
                    "s": self.record.id,
                    "newest": newest,
                    "open": TrialStatus.INTERMEDIATE.value,
                    "since": since,
                },
            ).all()
        self._cursor, self._trials_read_at = cursor, read_at
        self._apply_trials(rows)
        self._apply_observations(records)

    def _apply_trials(self, rows: Iterable[Any]) -> None:
        for row_id, number, parameters, status, created_at, finished_at, stop in rows:
            summary = self._trials.get(number)
            status = TrialStatus(status)
            if summary is None:
                self._row_ids[row_id] = number
                summary = TrialSummary(
                    number, json.loads(parameters), status, bool(stop), created_at, finished_at
                )
                self._trials[number] = summary
            elif (summary.status, summary.stop_requested, summary.finished_at) == (
                status,
                bool(stop),
                finished_at,
            ):
                continue
            summary.status, summary.stop_requested = status, bool(stop)
            summary.finished_at = finished_at
            self._touch(summary)

    def _apply_observations(self, records: Iterable[ObservationRecord]) -> None:
        for record in records:
            summary = self._trials.get(record.trial_number)
            if summary is None:
                continue
            objective = _finite(record.objective)
            summary.iterations += 1
            if objective is not None and self.is_better(objective, summary.objective):
                summary.objective, summary.best_iteration = objective, record.iteration
                summary.context = record.context
                self._context_keys.update(record.context)
            self._seq += 1
            self._log.append((self._seq, record.trial_number, record.iteration, objective))
            self._touch(summary)

    def is_better(self, candidate: float, incumbent: float | None) -> bool:
        """Whether ``candidate`` beats ``incumbent`` (None: there is none yet)."""
        if incumbent is None:
            return True
        return candidate < incumbent if self.lower_is_better else candidate > incumbent

    def _touch(self, summary: TrialSummary) -> None:
        self._version += 1
        summary.version = self._version

    # Reading

    @property
    def version(self) -> int:
        """Grows whenever a trial changes."""
        return self._version

    @property
    def context_keys(self) -> list[str]:
        """The context metrics seen so far, sorted."""
        with self._lock:
            return sorted(self._context_keys)

    def trials(self) -> list[TrialSummary]:
        """Every trial, by number (the records are the view's own: do not edit them)."""
        with self._lock:
            return [self._trials[n] for n in sorted(self._trials)]

    def trial(self, number: int) -> TrialSummary:
        """The trial with this number.

        Raises:
            UnknownTrialError: the study has no such trial.
        """
        with self._lock:
            summary = self._trials.get(number)
        if summary is None:
            raise UnknownTrialError(f"trial {number} does not exist in study {self.record.name}")
        return summary

    def observations_since(
        self, seq: int, limit: int
    ) -> tuple[list[tuple[int, int, float | None]], int, bool]:
        """Observations taken in after position ``seq``, oldest first.

        Returns:
            ``(rows, next_seq, reset)``: rows of ``(trial, iteration, objective)``, the
            position to ask from next, and whether ``seq`` is older than the kept log (the
            reader must reload).
        """
        with self._lock:
            oldest = self._log[0][0] if self._log else self._seq + 1
            if not oldest - 1 <= seq <= self._seq:
                return [], self._seq, True
            start = seq - oldest + 1
            rows = [(n, i, o) for _, n, i, o in itertools.islice(self._log, start, start + limit)]
            return rows, seq + len(rows), False

    @property
    def seq(self) -> int:
        """How many observations the view has taken in (the position of the newest)."""
        return self._seq

    def curves(
        self, numbers: Sequence[int], max_points: int
    ) -> dict[int, tuple[list[int], list[float | None]]]:
        """Objective per iteration of these trials, each reduced to at most ``max_points``."""
        import sqlalchemy as sa

        wanted = set(numbers)
        with self._lock:
            row_ids = {row_id: n for row_id, n in self._row_ids.items() if n in wanted}
        points: dict[int, tuple[list[int], list[float | None]]] = {
            n: ([], []) for n in sorted(row_ids.values())
        }
        if not row_ids:
            return points
        query = sa.text(
            "SELECT trial_id, iteration, objective FROM sherpa_observations "
            "WHERE trial_id IN :ids ORDER BY trial_id, iteration"
        ).bindparams(sa.bindparam("ids", expanding=True))
        with self._engine.connect() as conn:
            for row_id, iteration, objective in conn.execute(query, {"ids": list(row_ids)}):
                its, objs = points[row_ids[row_id]]
                its.append(int(iteration))
                objs.append(_finite(objective))
        return {n: reduce_curve(its, objs, max_points) for n, (its, objs) in points.items()}

    # Writing

    def request_stop(self, number: int) -> TrialSummary:
        """Ask for an open trial to stop: ``should_trial_stop`` is true for it from now on.

        Raises:
            UnknownTrialError: the study has no such trial.
            TrialFinishedError: the trial has already ended.
        """
        from sherpa.exceptions import TrialFinishedError

        summary = self.trial(number)
        if summary.status.is_finished:
            raise TrialFinishedError(f"trial {number} is already {summary.status.value}")
        self._store.request_stop(self.record.id, number)
        with self._lock:
            summary.stop_requested = True
            self._touch(summary)
        if self._on_stop is not None:
            self._on_stop(number)
        return summary
