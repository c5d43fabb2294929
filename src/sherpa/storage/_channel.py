"""The trial's side of the store: read one trial, write its observations.

Trial processes start often and must start fast, so this module avoids SQLAlchemy for
SQLite files and speaks to them through the standard library's ``sqlite3``, and to
PostgreSQL through psycopg alone (:mod:`sherpa.storage._psycopg`). Other databases go
through SQLAlchemy, imported only then. All run the statements of
:mod:`sherpa.storage._statements`.
"""

from __future__ import annotations

import os
import sqlite3
import urllib.parse
from collections.abc import Sequence
from typing import Any

from sherpa.exceptions import StorageUnreachableError
from sherpa.storage._statements import (
    Executor,
    fetch_trial,
    insert_observation,
    record_heartbeat,
)
from sherpa.storage._urls import is_sqlite_url, sqlite_path, unreachable

__all__ = ["TrialChannel"]

_BUSY_TIMEOUT_S = 60.0


class _SQLiteExecutor:
    dialect = "sqlite"

    def __init__(self, url: str) -> None:
        path = sqlite_path(url)
        if not os.path.isfile(path):
            raise StorageUnreachableError(
                f"store {url!r} not found: there is no file {path!r} (the runner creates it)"
            )
        try:
            self._conn = sqlite3.connect(
                f"file:{urllib.parse.quote(path)}?mode=rw",
                uri=True,
                timeout=_BUSY_TIMEOUT_S,
                isolation_level=None,
            )
            self._conn.execute(f"PRAGMA busy_timeout = {int(_BUSY_TIMEOUT_S * 1000)}")
            self._conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as exc:
            raise StorageUnreachableError(f"store {url!r} cannot be opened: {exc}") from exc

    def execute(self, sql: str, params: dict[str, Any]) -> int:
        return self._conn.execute(sql, params).rowcount

    def execute_many(self, sql: str, params: Sequence[dict[str, Any]]) -> list[int]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            counts = [self._conn.execute(sql, each).rowcount for each in params]
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")
        return counts

    def query(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        return self._conn.execute(sql, params).fetchall()

    def close(self) -> None:
        self._conn.close()


def _sqlalchemy_executor(url: str) -> Executor:
    """The runner side's executor, for server databases (SQLAlchemy is needed for them).

    Each of the trial's writes is one atomic statement, so the engine runs in autocommit
    mode: one round trip per observation instead of three (BEGIN, INSERT, COMMIT).

    Raises:
        StorageUnreachableError: the URL is malformed or the server cannot be reached.
    """
    from sherpa.storage import _psycopg

    if _psycopg.serves(url):  # PostgreSQL: psycopg alone, lighter and faster per call
        return _psycopg.PsycopgExecutor(url)
    from sherpa.storage._sql import EngineExecutor, create_server_engine

    return _ServerExecutor(EngineExecutor(create_server_engine(url, autocommit=True)), url)


class _ServerExecutor:
    """Turns a lost server connection into :class:`StorageUnreachableError` naming the server.

    The connection is checked when opened; this covers a server that stops or becomes
    unreachable while the trial runs.
    """

    def __init__(self, inner: Executor, url: str) -> None:
        import sqlalchemy as sa

        self._inner = inner
        self.dialect = inner.dialect
        self._lost = sa.exc.OperationalError
        self._url = url

    def _failed(self, exc: Exception) -> StorageUnreachableError:
        return unreachable(self._url, getattr(exc, "orig", exc))

    def execute(self, sql: str, params: dict[str, Any]) -> int:
        try:
            return self._inner.execute(sql, params)
        except self._lost as exc:
            raise self._failed(exc) from exc

    def execute_many(self, sql: str, params: Sequence[dict[str, Any]]) -> list[int]:
        try:
            return self._inner.execute_many(sql, params)
        except self._lost as exc:
            raise self._failed(exc) from exc

    def query(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        try:
            return self._inner.query(sql, params)
        except self._lost as exc:
            raise self._failed(exc) from exc

    def close(self) -> None:
        self._inner.close()


class TrialChannel:
    """A connection from a trial process to its study's store.

    Args:
        url: The database URL the runner handed to the trial.
        study_id: The study the trial belongs to.

    Raises:
        StorageUnreachableError: the database does not exist or cannot be reached.
    """

    def __init__(self, url: str, study_id: int) -> None:
        self.url = url
        self.study_id = study_id
        self._executor: Executor
        if is_sqlite_url(url):
            self._executor = _SQLiteExecutor(url)
        else:
            self._executor = _sqlalchemy_executor(url)

    def get_parameters(self, number: int) -> dict[str, Any]:
        """Return the parameters of trial ``number``.

        Raises:
            UnknownTrialError: the study has no such trial.
        """
        parameters, _ = fetch_trial(self._executor, self.study_id, number)
        return parameters

    def add_observation(
        self, number: int, iteration: int, objective: float, context: dict[str, Any]
    ) -> None:
        """Store one observation of trial ``number``."""
        insert_observation(self._executor, self.study_id, number, iteration, objective, context)

    def open_for_thread(self) -> Executor:
        """An executor for another thread of this process (the heartbeat's).

        An SQLite connection belongs to the thread that opened it, so this opens a second
        one; call it from the thread that will use it, and close it there. A server
        database's engine is shared: its pool hands each thread a connection of its own.
        """
        if isinstance(self._executor, _SQLiteExecutor):
            return _SQLiteExecutor(self.url)
        return self._executor

    def record_heartbeat(self, executor: Executor, number: int, host: str, pid: int) -> bool:
        """Stamp trial ``number``'s heartbeat through ``executor`` (from :meth:`open_for_thread`).

        Returns:
            Whether the trial is still open.
        """
        return record_heartbeat(executor, self.study_id, number, host, pid)

    def release(self, executor: Executor) -> None:
        """Close an executor from :meth:`open_for_thread` if it is not the channel's own."""
        if executor is not self._executor:
            executor.close()

    def close(self) -> None:
        """Close the connection."""
        self._executor.close()
