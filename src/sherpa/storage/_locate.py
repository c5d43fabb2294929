"""Find the store that a path or URL names: an output directory, a store file or a URL.

An SQLite file is checked, read-only, for sherpa's tables before anything opens it with
SQLAlchemy, which would create the schema in any database it is given.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import urllib.parse
from pathlib import Path

from sherpa.exceptions import StorageUnreachableError
from sherpa.storage._urls import DEFAULT_DB_FILENAME, is_sqlite_url, sqlite_path, sqlite_url

__all__ = ["PRIVATE_POSTGRES_DIR", "resolve_store_url"]

PRIVATE_POSTGRES_DIR = "postgres"
"""Where ``optimize(storage="postgresql")`` keeps its private server's data."""


def _check_sqlite_store(path: Path, shown: str) -> None:
    uri = "file:" + urllib.parse.quote(str(path.resolve())) + "?mode=ro"
    try:
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
            found = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sherpa_studies'"
            ).fetchone()
    except sqlite3.DatabaseError as exc:
        raise StorageUnreachableError(
            f"{shown!r} is not a sherpa store: it cannot be read as an SQLite database ({exc})"
        ) from None
    if found is None:
        raise StorageUnreachableError(
            f"{shown!r} is not a sherpa store: the SQLite database has no sherpa tables"
        )


def resolve_store_url(source: str | os.PathLike[str]) -> str:
    """Return the database URL of the store that ``source`` names.

    Args:
        source: An output directory holding ``sherpa.db``, a store file, or a database URL.

    Raises:
        StorageUnreachableError: there is no sherpa store at ``source``.
    """
    source = os.fspath(source)
    if "://" in source:
        if not is_sqlite_url(source):
            return source
        try:
            path = Path(sqlite_path(source))
        except ValueError as exc:
            raise StorageUnreachableError(str(exc)) from None
        if not path.is_file():
            raise StorageUnreachableError(f"no sherpa store at {source!r}: {path} does not exist")
        _check_sqlite_store(path, source)
        return source

    path = Path(source)
    if path.is_dir():
        if not (path / DEFAULT_DB_FILENAME).is_file():
            hint = ""
            if (path / PRIVATE_POSTGRES_DIR).is_dir():
                hint = (
                    f"; its store is the run's private PostgreSQL server in "
                    f"{str(path / PRIVATE_POSTGRES_DIR)!r}: pass that server's URL while it runs"
                )
            raise StorageUnreachableError(
                f"no sherpa store in directory {source!r}: it has no {DEFAULT_DB_FILENAME}{hint}"
            )
        path = path / DEFAULT_DB_FILENAME
    elif not path.exists():
        raise StorageUnreachableError(f"no sherpa store at {source!r}: no such file or directory")
    _check_sqlite_store(path, source)
    return sqlite_url(path)
