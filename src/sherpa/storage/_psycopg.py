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
from collections.abc import Callable, Iterator, Sequence
from importlib.util import find_spec
from typing import Any

from sherpa.exceptions import StorageError, StorageUnreachableError
from sherpa.storage._urls import describe_error, display_url, unreachable

__all__ = ["PsycopgExecutor", "serves"]

_SCHEMES = frozenset({"postgresql", "postgresql+psycopg", "postgres"})
_NAMED = re.compile(r"(?<!:):(\w+)")
CONNECT_TIMEOUT_S = 30
CLOSE_WAIT_S = 1.0
"""How long closing waits for another thread's statement in progress."""


_teardown = threading.local()


@contextlib.contextmanager
def _quiet_pipeline_teardown() -> Iterator[None]:
    """Within, this thread's pipeline teardown notes from psycopg are dropped."""
    _teardown.quiet = True
    try:
        yield
    finally:
        _teardown.quiet = False


def _not_pipeline_teardown(record: logging.LogRecord) -> bool:
    """False for psycopg's note that a pipeline could not be closed on a failed connection,
    logged inside :meth:`PsycopgExecutor.execute_many`, which handles that failure itself (a
    new connection, the batch sent again); the note would print a warning into the trial's
    log. Every other psycopg record passes."""
    return not (
        getattr(_teardown, "quiet", False)
        and str(record.msg).startswith("error ignored terminating")
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
        self._url = url
        self._arguments = connection_arguments(url)
        self._lock = threading.Lock()
        self._closed = False
        self._conn = self._connect()
        psycopg_logger = logging.getLogger("psycopg")
        if _not_pipeline_teardown not in psycopg_logger.filters:
            psycopg_logger.addFilter(_not_pipeline_teardown)

    def _connect(self) -> Any:
        if self._closed:
            raise StorageUnreachableError(
                f"store {display_url(self._url)!r}: this process closed its connection"
            )
        try:
            return self._psycopg.connect(**self._arguments, autocommit=True)
        except self._psycopg.Error as exc:
            raise unreachable(self._url, exc) from None

    def _retrying(self, work: Callable[[], Any]) -> Any:
        """Run ``work`` (with the lock held); on a lost connection, once more on a new one.

        A connection counts as lost when psycopg marks it broken, and also when a base
        ``OperationalError`` (no server error code) ends a pipeline: psycopg does not always
        mark the connection broken then. Errors the server reports (a statement timeout, a
        deadlock, a full disk) are raised as :class:`StorageError` with the server's message.
        """
        for attempt in (1, 2):
            if self._conn.closed or self._conn.broken:
                self._conn = self._connect()
            try:
                return work()
            except self._psycopg.OperationalError as exc:
                lost = self._conn.broken or type(exc) is self._psycopg.OperationalError
                if not lost:
                    raise StorageError(
                        f"store {display_url(self._url)!r}: {describe_error(exc)}"
                    ) from exc
                with contextlib.suppress(Exception):
                    self._conn.close()
                if attempt == 2:
                    raise unreachable(self._url, exc) from exc
        raise AssertionError("unreachable")

    def _run_locked(self, sql: str, params: dict[str, Any]) -> Any:
        return self._retrying(lambda: self._conn.execute(_pyformat(sql), params))

    def execute(self, sql: str, params: dict[str, Any]) -> int:
        """Run a write; return the number of rows it changed."""
        with self._lock:
            return int(self._run_locked(sql, params).rowcount)

    def execute_many(self, sql: str, params: Sequence[dict[str, Any]]) -> list[int]:
        """Run a write once per parameter set, pipelined: one round trip, one transaction.

        A batch whose connection is lost is sent once more on a new one. Rows of a first try
        that committed then come back as unchanged; the caller recognises them as its own
        (:func:`sherpa.storage._statements.insert_observations`).
        """
        query = _pyformat(sql)

        def pipelined() -> list[int]:
            with contextlib.ExitStack() as stack:
                if self._psycopg.Pipeline.is_supported():  # libpq 14 or later
                    stack.enter_context(_quiet_pipeline_teardown())
                    stack.enter_context(self._conn.pipeline())
                stack.enter_context(self._conn.transaction())
                cursors = [self._conn.execute(query, each) for each in params]
            return [int(cursor.rowcount) for cursor in cursors]

        with self._lock:
            return list(self._retrying(pipelined))

    def query(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Run a read; return its rows."""
        with self._lock:
            return [tuple(row) for row in self._run_locked(sql, params).fetchall()]

    def close(self) -> None:
        """Close the connection; it is never opened again.

        Waits a moment for a statement in progress in another thread (the heartbeat's, the
        metric writer's), then closes regardless: a server that hangs must not hang the trial.
        """
        self._closed = True
        locked = self._lock.acquire(timeout=CLOSE_WAIT_S)
        try:
            self._conn.close()
        finally:
            if locked:
                self._lock.release()
