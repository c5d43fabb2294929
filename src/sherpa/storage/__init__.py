"""The store: where trials and their observations live, shared by runner and trial processes.

:class:`SQLStorage` (SQLAlchemy) serves the runner and in-process studies; trial processes
use a lighter channel. :class:`PrivatePostgres` starts a PostgreSQL server for one run
(``sherpa.optimize(storage="postgresql")``). ``SQLStorage`` and the server's classes are
loaded on first use, so that importing this package from a trial process stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sherpa.storage._records import (
    HeartbeatRecord,
    ObservationRecord,
    StudyRecord,
    TrialRecord,
)
from sherpa.storage._urls import DEFAULT_DB_FILENAME, is_sqlite_url, sqlite_url

if TYPE_CHECKING:
    from sherpa.storage._server import PostgresServer, PrivatePostgres
    from sherpa.storage._sql import SQLStorage

__all__ = [
    "DEFAULT_DB_FILENAME",
    "HeartbeatRecord",
    "ObservationRecord",
    "PostgresServer",
    "PrivatePostgres",
    "SQLStorage",
    "StudyRecord",
    "TrialRecord",
    "is_sqlite_url",
    "sqlite_url",
]


def __getattr__(name: str) -> Any:
    if name == "SQLStorage":
        from sherpa.storage._sql import SQLStorage

        return SQLStorage
    if name in ("PrivatePostgres", "PostgresServer"):
        from sherpa.storage import _server

        return getattr(_server, name)
    raise AttributeError(f"module 'sherpa.storage' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
