"""A trial's connection to a PostgreSQL store through psycopg alone, without SQLAlchemy.

A trial process writes one observation per call, often many a second when many trials run at
once. Through SQLAlchemy each call costs about 0.5 ms of the trial's CPU and two round trips
(the pool's liveness ping, then the statement); straight through psycopg it costs about
0.13 ms and one round trip, and the trial process starts without importing SQLAlchemy (about
0.3 s). The runner keeps using SQLAlchemy (:mod:`sherpa.storage._sql`).

The connection is in autocommit mode: every statement the trial runs is atomic on its own.
psycopg prepares a statement on the server once it has run a few times, so the repeated
insert is parsed and planned once.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import threading
import urllib.parse
from collections.abc import Callable, Sequence
from importlib.util import find_spec
from typing import Any

from sherpa.exceptions import StorageUnreachableError
from sherpa.storage._urls import display_url, server_address

__all__ = ["PsycopgExecutor", "serves"]

_SCHEMES = frozenset({"postgresql", "postgresql+psycopg", "postgres"})
_NAMED = re.compile(r"(?<!:):(\w+)")
CONNECT_TIMEOUT_S = 30


def _not_pipeline_teardown(record: logging.LogRecord) -> bool:
    """False for psycopg's note that a pipeline could not be closed on a failed connection.

    :meth:`PsycopgExecutor.execute_many` handles that failure itself (a new connection, the
    batch sent again); psycopg's note would print a warning into the trial's log.
    """
    args = record.args if isinstance(record.args, tuple) else ()
    return not (
        str(record.msg).startswith("error ignored terminating")
        and bool(args)
        and type(args[0]).__name__ == "Pipeline"
    )


def serves(url: str) -> bool:
    """Whether ``url`` is a PostgreSQL URL and psycopg (3) is installed to serve it."""
    return url.partition("://")[0].lower() in _SCHEMES and find_spec("psycopg") is not None


@functools.lru_cache(maxsize=64)
def _pyformat(sql: str) -> str:
    """``:name`` parameters (the shared statements' style) as psycopg's ``%(name)s``."""
    return _NAMED.sub(r"%(\1)s", sql.replace("%", "%%"))


def connection_arguments(url: str) -> dict[str, Any]:
    """The keyword arguments of ``psycopg.connect`` for a SQLAlchemy-style PostgreSQL URL.

    Query parameters (e.g. ``sslmode=require``) are passed on as connection parameters.

    Raises:
        StorageUnreachableError: the URL cannot be parsed.
    """
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise StorageUnreachableError(
            f"store {display_url(url)!r} is not a valid database URL: {exc}"
        ) from None
    arguments: dict[str, Any] = dict(urllib.parse.parse_qsl(parts.query))
    arguments.setdefault("connect_timeout", CONNECT_TIMEOUT_S)
    named = {
        "host": parts.hostname,
        "port": port,
        "user": urllib.parse.unquote(parts.username) if parts.username else None,
        "password": urllib.parse.unquote(parts.password) if parts.password else None,
        "dbname": urllib.parse.unquote(parts.path.lstrip("/")) or None,
    }
    arguments.update({k: v for k, v in named.items() if v is not None})
    return arguments


class PsycopgExecutor:
    """Runs the shared statements of :mod:`sherpa.storage._statements` on one connection.

    A connection found broken (the server restarted, the network dropped it) is opened again
    and the statement retried once; a failure after that raises
    :class:`StorageUnreachableError`, naming the server's host and port. (An insert whose
    reply alone was lost had committed: its retry finds the row, which the caller recognises
    by its creation time as its own.)
    The trial's threads (the heartbeat's) share the connection, one statement at a time.

    Args:
        url: The store's URL, ``postgresql+psycopg://user:password@host:port/db``.

    Raises:
        StorageUnreachableError: the URL is malformed or the server cannot be reached.
    """

    dialect = "postgresql"

    def __init__(self, url: str) -> None:
        import psycopg

        self._psycopg = psycopg
        self._arguments = connection_arguments(url)
        self._shown, self._address = display_url(url), server_address(url)
        self._lock = threading.Lock()
        self._conn = self._connect()
        psycopg_logger = logging.getLogger("psycopg")
        if _not_pipeline_teardown not in psycopg_logger.filters:
            psycopg_logger.addFilter(_not_pipeline_teardown)

    def _connect(self) -> Any:
        try:
            return self._psycopg.connect(**self._arguments, autocommit=True)
        except self._psycopg.Error as exc:
            raise self._failed(exc) from None

    def _failed(self, exc: Exception) -> StorageUnreachableError:
        reason = (str(exc).strip() or type(exc).__name__).splitlines()[0]
        return StorageUnreachableError(
            f"store {self._shown!r} cannot be reached ({self._address}): {reason}"
        )

    def _run(self, sql: str, params: dict[str, Any]) -> Any:
        with self._lock:
            return self._run_locked(sql, params)

    def _run_locked(self, sql: str, params: dict[str, Any]) -> Any:
        return self._retrying(lambda: self._conn.execute(_pyformat(sql), params))

    def _retrying(self, work: Callable[[], Any]) -> Any:
        for attempt in (1, 2):
            if self._conn.closed or self._conn.broken:
                self._conn = self._connect()
            try:
                return work()
            except self._psycopg.OperationalError as exc:
                if attempt == 2 or not self._conn.broken:
                    raise self._failed(exc) from exc
        raise AssertionError("unreachable")

    def execute(self, sql: str, params: dict[str, Any]) -> int:
        """Run a write; return the number of rows it changed."""
        return int(self._run(sql, params).rowcount)

    def execute_many(self, sql: str, params: Sequence[dict[str, Any]]) -> list[int]:
        """Run a write once per parameter set, pipelined: one round trip, one transaction.

        A connection that fails during the batch is closed and the batch sent once more on a
        new one (psycopg does not always mark a connection broken when it fails inside a
        pipeline). Rows of a first try that committed come back as unchanged; the caller
        recognises them as its own (:func:`sherpa.storage._statements.insert_observations`).
        """
        query = _pyformat(sql)

        def pipelined() -> list[int]:
            with contextlib.ExitStack() as stack:
                if self._psycopg.Pipeline.is_supported():  # libpq 14 or later
                    stack.enter_context(self._conn.pipeline())
                stack.enter_context(self._conn.transaction())
                cursors = [self._conn.execute(query, each) for each in params]
            return [int(cursor.rowcount) for cursor in cursors]

        with self._lock:
            for attempt in (1, 2):
                if self._conn.closed or self._conn.broken:
                    self._conn = self._connect()
                try:
                    return pipelined()
                except self._psycopg.OperationalError as exc:
                    with contextlib.suppress(Exception):
                        self._conn.close()
                    if attempt == 2:
                        raise self._failed(exc) from exc
        raise AssertionError("unreachable")

    def query(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Run a read; return its rows."""
        with self._lock:
            return [tuple(row) for row in self._run_locked(sql, params).fetchall()]

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()
