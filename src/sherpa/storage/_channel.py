"""The trial's side of the store: read one trial, write its observations.

Trial processes start often and must start fast, so this module avoids SQLAlchemy for
SQLite files and speaks to them through the standard library's ``sqlite3``. Other databases
go through SQLAlchemy, imported only then. Both run the statements of
:mod:`sherpa.storage._statements`.
"""

from __future__ import annotations

import os
import sqlite3
import urllib.parse
from typing import Any

from sherpa.exceptions import StorageUnreachableError
from sherpa.storage._statements import Executor, fetch_trial, insert_observation
from sherpa.storage._urls import is_sqlite_url, sqlite_path

__all__ = ["TrialChannel"]

_BUSY_TIMEOUT_S = 60.0


class _SQLiteExecutor:
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

    def query(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        return self._conn.execute(sql, params).fetchall()

    def close(self) -> None:
        self._conn.close()


def _sqlalchemy_executor(url: str) -> Executor:
    """The runner side's executor, for server databases (SQLAlchemy is needed for them).

    Raises:
        StorageUnreachableError: the URL is malformed or the server cannot be reached.
    """
    from sherpa.storage._sql import EngineExecutor, create_server_engine

    return EngineExecutor(create_server_engine(url))


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

    def close(self) -> None:
        """Close the connection."""
        self._executor.close()
