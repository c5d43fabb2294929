"""The runner's side of the store: studies, trials and observations over SQLAlchemy Core."""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from sherpa._convert import dumps_json
from sherpa.exceptions import StorageError, StorageUnreachableError, UnknownTrialError
from sherpa.logging import get_logger
from sherpa.storage import _schema as schema
from sherpa.storage._records import (
    HeartbeatRecord,
    ObservationRecord,
    StudyRecord,
    TrialRecord,
)
from sherpa.storage._statements import database_now_sql, insert_observation, record_heartbeat
from sherpa.storage._urls import display_url, is_sqlite_url, sqlite_path, unreachable
from sherpa.trial import TrialStatus

__all__ = ["EngineExecutor", "ObservationCursor", "SQLStorage", "create_server_engine"]

_logger = get_logger(__name__)

SQLITE_BUSY_TIMEOUT_S = 60.0

_SCHEMA_LOCK = 0x5E5A_0001
"""The PostgreSQL advisory lock key held while a database's sherpa tables are made or
upgraded."""

GAP_GRACE_S = 30.0
"""How long a missing observation id on a server database is looked for again.

Each observation is written by one short statement, so an id that has not appeared after
this long belongs to a rolled-back insert (a duplicate iteration) or to another study."""

MAX_PENDING_GAPS = 10_000
"""At most this many missing ids are looked for again (the oldest are given up first)."""


@functools.lru_cache(maxsize=32)
def _text(sql: str) -> sa.TextClause:
    return sa.text(sql)


class EngineExecutor:
    """Runs the shared statements of :mod:`sherpa.storage._statements` through an engine."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.dialect = engine.dialect.name

    def execute(self, sql: str, params: dict[str, Any]) -> int:
        with self._engine.begin() as conn:
            return conn.execute(_text(sql), params).rowcount

    def execute_many(self, sql: str, params: Sequence[dict[str, Any]]) -> list[int]:
        with self._engine.begin() as conn:
            return [conn.execute(_text(sql), each).rowcount for each in params]

    def query(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        with self._engine.connect() as conn:
            return [tuple(row) for row in conn.execute(_text(sql), params)]

    def close(self) -> None:
        self._engine.dispose()


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
    _use_wal(cursor)
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _use_wal(cursor: sqlite3.Cursor) -> None:
    """Put the database in WAL mode, waiting out other connections that hold it.

    Leaving a rollback journal needs the database to itself, and SQLite answers "database is
    locked" at once rather than calling the busy handler, so the switch is retried here for
    as long as the busy timeout. A database already in WAL mode costs one query.
    """
    if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
        return
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    pause = 0.001
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


def create_server_engine(url: str, *, autocommit: bool = False) -> Engine:
    """Return an engine for a server database (e.g. PostgreSQL), checked by connecting once.

    Args:
        url: The database URL.
        autocommit: Run each statement in its own implicit transaction, with no BEGIN and
            COMMIT round trips (for callers whose every write is one statement).

    Raises:
        StorageUnreachableError: the URL is malformed, its driver is missing, or the server
            refuses the connection. The message names host and port, never the password.
    """
    shown = display_url(url)
    try:
        options: dict[str, Any] = {"isolation_level": "AUTOCOMMIT"} if autocommit else {}
        engine = sa.create_engine(url, pool_pre_ping=True, **options)
    except (sa.exc.ArgumentError, ValueError):
        raise StorageUnreachableError(f"store {shown!r} is not a valid database URL") from None
    except ImportError as exc:
        raise StorageUnreachableError(
            f"store {shown!r}: its database driver is not installed ({exc.name}); "
            "for PostgreSQL install sherpa[postgres]"
        ) from None
    try:
        with engine.connect():
            pass
    except sa.exc.DBAPIError as exc:
        engine.dispose()
        raise unreachable(url, exc.orig or exc) from None
    sa.event.listen(engine, "handle_error", functools.partial(_lost_server, url))
    return engine


def _lost_server(url: str, context: sa.engine.ExceptionContext) -> None:
    """Turn a connection to the server that failed or broke into StorageUnreachableError.

    A server that stops or becomes unreachable while a run goes on then gives one error
    naming its address, not a driver's traceback. Other database errors pass unchanged, and
    so does the pool's check of an idle connection (it opens a new one when that fails).
    """
    if getattr(context, "is_pre_ping", False):  # the attribute came in SQLAlchemy 2.0.5
        return
    if context.is_disconnect or context.connection is None:
        raise unreachable(url, context.original_exception) from context.original_exception


@dataclasses.dataclass
class ObservationCursor:
    """How far a reader has read a study's observations (:meth:`SQLStorage.read_new_observations`).

    ``last_id`` is the highest id read. On a server database ``pending`` maps each lower id
    not read yet to when it was first missed: its insert may still be committing.
    """

    last_id: int = 0
    pending: dict[int, float] = dataclasses.field(default_factory=dict)

    def _advance(self, ids: list[int], now: float) -> None:
        for number in ids:
            self.pending.pop(number, None)
        for number in ids:  # ascending
            if number > self.last_id:
                first = max(self.last_id + 1, number - MAX_PENDING_GAPS)
                self.pending.update(dict.fromkeys(range(first, number), now))
                self.last_id = number
        expired = [n for n, since in self.pending.items() if now - since > GAP_GRACE_S]
        for number in expired:
            del self.pending[number]
        if len(self.pending) > MAX_PENDING_GAPS:
            kept = sorted(self.pending)[-MAX_PENDING_GAPS:]
            self.pending = {n: self.pending[n] for n in kept}


def _create_engine(url: str) -> Engine:
    if not is_sqlite_url(url):
        return create_server_engine(url)
    path = Path(sqlite_path(url))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageUnreachableError(
            f"store {url!r}: cannot create directory {str(path.parent)!r}: {exc}"
        ) from exc
    engine = sa.create_engine(
        sa.URL.create("sqlite", database=str(path)),
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S},
    )
    sa.event.listen(engine, "connect", _configure_sqlite)
    return engine


def _nan_if_null(value: float | None) -> float:
    return math.nan if value is None else float(value)


class SQLStorage:
    """A store in an SQL database: an SQLite file (the default) or a PostgreSQL server.

    Creates the schema when the database is new. SQLite files are put in WAL mode with a busy
    timeout, so many trial processes on one host can write at once.

    Args:
        url: A SQLAlchemy database URL, e.g. ``sqlite:////abs/path/sherpa.db`` or
            ``postgresql+psycopg://user:password@host:5432/db`` (needs ``sherpa[postgres]``).

    Raises:
        StorageUnreachableError: the database cannot be opened.
        StorageError: the database was written by a newer version of sherpa.
    """

    def __init__(self, url: str) -> None:
        if not isinstance(url, str) or not url:
            raise TypeError(f"url must be a database URL string; got {url!r}")
        self.url = url
        self._shown = display_url(url)
        self._engine = _create_engine(url)
        try:
            self._create_schema()
        except sa.exc.DatabaseError as exc:
            self._engine.dispose()
            raise StorageUnreachableError(
                f"store {self._shown!r} cannot be opened as a sherpa store: {exc.orig}"
            ) from exc
        except StorageError:
            self._engine.dispose()
            raise
        self._executor = EngineExecutor(self._engine)
        self._watcher: sqlite3.Connection | None = None
        self._data_version: int | None = None
        if is_sqlite_url(url):
            self._watcher = sqlite3.connect(sqlite_path(url), check_same_thread=False)

    def _create_schema(self) -> None:
        """Create the tables of a new database or upgrade an old one, then check the version.

        A database at the current version is recognised by one read. Otherwise everything
        happens in one transaction that first takes the database's write lock (SQLite) or an
        advisory lock (PostgreSQL), so of several processes opening a new or old database at
        once, one creates or migrates it and the others find the work done.
        """
        if self._read_schema_version() == schema.SCHEMA_VERSION:
            return
        with self._engine.connect() as conn:
            if is_sqlite_url(self.url):
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            elif conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
            schema.metadata.create_all(conn)  # new tables only; never alters old ones
            row = conn.execute(
                sa.select(schema.meta.c.value).where(schema.meta.c.key == "schema_version")
            ).first()
            if row is None:
                conn.execute(
                    sa.insert(schema.meta).values(
                        key="schema_version", value=str(schema.SCHEMA_VERSION)
                    )
                )
                conn.commit()
                return
            version = int(row[0])
            if version > schema.SCHEMA_VERSION:
                raise StorageError(
                    f"store {self._shown!r} has schema version {version}, newer than this "
                    f"sherpa's {schema.SCHEMA_VERSION}; upgrade sherpa to read it"
                )
            for old in range(version, schema.SCHEMA_VERSION):
                for statement in schema.MIGRATIONS[old]:
                    conn.execute(sa.text(statement))
            conn.execute(
                sa.update(schema.meta)
                .where(schema.meta.c.key == "schema_version")
                .values(value=str(schema.SCHEMA_VERSION))
            )
            conn.commit()
        for old in range(version, schema.SCHEMA_VERSION):
            _logger.info(
                "store %s: schema upgraded from version %d to %d", self._shown, old, old + 1
            )

    def _read_schema_version(self) -> int | None:
        """The recorded schema version, or None when the database has no sherpa tables yet."""
        with self._engine.connect() as conn:
            if not sa.inspect(conn).has_table(schema.meta.name):
                return None
            value = conn.execute(
                sa.select(schema.meta.c.value).where(schema.meta.c.key == "schema_version")
            ).scalar()
        return None if value is None else int(value)

    @property
    def schema_version(self) -> int:
        """The schema version recorded in the database."""
        with self._engine.connect() as conn:
            value = conn.execute(
                sa.select(schema.meta.c.value).where(schema.meta.c.key == "schema_version")
            ).scalar_one()
        return int(value)

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        with self._engine.begin() as conn:
            yield conn

    def has_changed(self) -> bool:
        """Whether anyone may have written to the database since the last call.

        For SQLite this asks ``PRAGMA data_version`` on a connection of its own, which costs
        microseconds, so a poller can skip its queries while nothing happens. Other databases
        always answer True.
        """
        if self._watcher is None:
            return True
        version = self._watcher.execute("PRAGMA data_version").fetchone()[0]
        changed = version != self._data_version
        self._data_version = version
        return bool(changed)

    def close(self) -> None:
        """Release the database connections."""
        if self._watcher is not None:
            self._watcher.close()
            self._watcher = None
        self._engine.dispose()

    # Studies

    def create_study(
        self, name: str, *, lower_is_better: bool, parameters: list[dict[str, Any]]
    ) -> StudyRecord:
        """Create a study; its ``name`` must be new in this database.

        Raises:
            StorageError: a study of that name exists.
        """
        created_at = time.time()
        try:
            with self._begin() as conn:
                key = conn.execute(
                    sa.insert(schema.studies).values(
                        name=name,
                        lower_is_better=bool(lower_is_better),
                        parameters=dumps_json(parameters),
                        created_at=created_at,
                    )
                ).inserted_primary_key
                assert key is not None  # an insert into a table with a primary key returns it
                study_id = key[0]
        except sa.exc.IntegrityError as exc:
            raise StorageError(
                f"store {self._shown!r} already has a study named {name!r}"
            ) from exc
        return StudyRecord(int(study_id), name, bool(lower_is_better), parameters, created_at)

    def list_studies(self) -> list[StudyRecord]:
        """Return every study in the database, oldest first."""
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(schema.studies).order_by(schema.studies.c.id)).all()
        return [
            StudyRecord(
                id=row.id,
                name=row.name,
                lower_is_better=bool(row.lower_is_better),
                parameters=json.loads(row.parameters),
                created_at=row.created_at,
            )
            for row in rows
        ]

    def get_study(self, name: str | None = None) -> StudyRecord:
        """Return the study called ``name``, or the only (or newest) one when ``name`` is None.

        Raises:
            StorageError: no such study.
        """
        records = self.list_studies()
        if name is None:
            if not records:
                raise StorageError(f"store {self._shown!r} holds no study")
            return records[-1]
        for record in records:
            if record.name == name:
                return record
        names = ", ".join(repr(r.name) for r in records) or "none"
        raise StorageError(f"store {self._shown!r} has no study named {name!r} (it has {names})")

    # Trials

    def create_trial(self, study_id: int, number: int, parameters: dict[str, Any]) -> None:
        """Store a new open (``INTERMEDIATE``) trial.

        Raises:
            TypeError: a parameter value cannot be stored as JSON.
            StorageError: the study already has a trial with this number.
        """
        try:
            encoded = dumps_json(parameters)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"trial {number}: parameters must be JSON-serializable to be stored; "
                f"got {parameters!r} ({exc})"
            ) from exc
        try:
            with self._begin() as conn:
                conn.execute(
                    sa.insert(schema.trials).values(
                        study_id=study_id,
                        number=number,
                        parameters=encoded,
                        status=TrialStatus.INTERMEDIATE.value,
                        created_at=time.time(),
                        stop_requested=False,
                    )
                )
        except sa.exc.IntegrityError as exc:
            raise StorageError(f"study {study_id} already has a trial {number}") from exc

    def _update_trial(self, study_id: int, number: int, **values: Any) -> None:
        with self._begin() as conn:
            result = conn.execute(
                sa.update(schema.trials)
                .where(schema.trials.c.study_id == study_id, schema.trials.c.number == number)
                .values(**values)
            )
        if result.rowcount != 1:
            raise UnknownTrialError(f"trial {number} does not exist in study {study_id}")

    def set_job_id(self, study_id: int, number: int, job_id: str) -> None:
        """Record the scheduler's job id of a trial."""
        self._update_trial(study_id, number, job_id=job_id)

    def finalize_trial(self, study_id: int, number: int, status: TrialStatus) -> None:
        """Record a trial's final status."""
        self._update_trial(study_id, number, status=status.value, finished_at=time.time())

    def request_stop(self, study_id: int, number: int) -> None:
        """Ask for a trial to be stopped; the runner (or ``should_trial_stop``) acts on it."""
        self._update_trial(study_id, number, stop_requested=True)

    def stop_requested(self, study_id: int) -> set[int]:
        """Return the numbers of open trials whose stop has been requested."""
        t = schema.trials
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.c.number).where(
                    t.c.study_id == study_id,
                    t.c.stop_requested.is_(True),
                    t.c.status == TrialStatus.INTERMEDIATE.value,
                )
            ).all()
        return {row[0] for row in rows}

    def record_heartbeat(self, study_id: int, number: int, host: str, pid: int) -> bool:
        """Stamp an open trial's heartbeat, as its process does every few seconds.

        Returns:
            Whether the trial is still open.
        """
        return record_heartbeat(self._executor, study_id, number, host, pid)

    def read_heartbeats(self, study_id: int) -> dict[int, HeartbeatRecord]:
        """Return the last heartbeat of each open trial that has sent one, by trial number."""
        t = schema.trials
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.c.number, t.c.heartbeat_at, t.c.host, t.c.pid).where(
                    t.c.study_id == study_id,
                    t.c.status == TrialStatus.INTERMEDIATE.value,
                    t.c.heartbeat_at.is_not(None),
                )
            ).all()
        return {row[0]: HeartbeatRecord(row[1], row[2], row[3]) for row in rows}

    def database_time(self) -> float:
        """The database's clock now, in UTC seconds: the clock heartbeats are stamped with."""
        now = database_now_sql(self._engine.dialect.name)
        if now is None:
            return time.time()
        with self._engine.connect() as conn:
            return float(conn.execute(sa.text(f"SELECT {now}")).scalar_one())

    def read_trials(self, study_id: int) -> list[TrialRecord]:
        """Return every trial of the study, by number."""
        t = schema.trials
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(t).where(t.c.study_id == study_id).order_by(t.c.number)
            ).all()
        return [
            TrialRecord(
                number=row.number,
                parameters=json.loads(row.parameters),
                status=TrialStatus(row.status),
                created_at=row.created_at,
                finished_at=row.finished_at,
                job_id=row.job_id,
                stop_requested=bool(row.stop_requested),
                heartbeat_at=row.heartbeat_at,
                host=row.host,
                pid=row.pid,
            )
            for row in rows
        ]

    # Observations

    def add_observation(
        self,
        study_id: int,
        number: int,
        iteration: int,
        objective: float,
        context: dict[str, Any],
    ) -> None:
        """Store one observation of an open trial (the statement trial processes run too)."""
        insert_observation(self._executor, study_id, number, iteration, objective, context)

    def read_observations(self, study_id: int, after_id: int = 0) -> list[ObservationRecord]:
        """Return the study's observations with an id above ``after_id``, oldest first.

        A reader that passes the last id it has seen gets only the new rows.
        """
        return self._select_observations(study_id, schema.observations.c.id > after_id)

    def read_new_observations(
        self, study_id: int, cursor: ObservationCursor
    ) -> list[ObservationRecord]:
        """Return the study's observations that ``cursor`` has not seen, and advance it.

        Unlike ``read_observations(study_id, last_id)`` this misses no row on a server
        database, where observation ids can commit out of order: the cursor remembers the
        ids below its last one that it has not seen yet and asks for them again, for
        :data:`GAP_GRACE_S`. An SQLite file commits ids in order, so there it is one range
        scan.
        """
        o = schema.observations
        condition = o.c.id > cursor.last_id
        if cursor.pending:
            condition = sa.or_(condition, o.c.id.in_(sorted(cursor.pending)))
        records = self._select_observations(study_id, condition)
        if self._watcher is not None:
            if records:
                cursor.last_id = records[-1].id
        else:
            cursor._advance([r.id for r in records], time.monotonic())
        return records

    def _select_observations(
        self, study_id: int, condition: sa.ColumnElement[bool]
    ) -> list[ObservationRecord]:
        o, t = schema.observations, schema.trials
        query = (
            sa.select(
                o.c.id, t.c.number, o.c.iteration, o.c.objective, o.c.context, o.c.created_at
            )
            .join(t, t.c.id == o.c.trial_id)
            .where(o.c.study_id == study_id, condition)
            .order_by(o.c.id)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            ObservationRecord(
                id=row[0],
                trial_number=row[1],
                iteration=row[2],
                objective=_nan_if_null(row[3]),
                context=json.loads(row[4]),
                created_at=row[5],
            )
            for row in rows
        ]

    def __repr__(self) -> str:
        return f"SQLStorage({self._shown!r})"
