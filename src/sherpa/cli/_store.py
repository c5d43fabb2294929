"""Find the store a command names (a directory, a database file or a URL) and its study.

The command line only reads: before SQLAlchemy opens an SQLite file (which would create the
schema in any database it is given), the file is checked, read-only, for sherpa's tables.
"""

from __future__ import annotations

import contextlib
import sqlite3
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from sherpa.exceptions import StorageError, StorageUnreachableError
from sherpa.storage import DEFAULT_DB_FILENAME, is_sqlite_url, sqlite_url
from sherpa.storage._urls import display_url, sqlite_path

if TYPE_CHECKING:
    from sherpa.storage import SQLStorage, StudyRecord
    from sherpa.study import Study

__all__ = ["choose_study", "load_study", "open_storage", "resolve_store_url"]

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


def resolve_store_url(source: str) -> str:
    """Return the database URL of the store that ``source`` names.

    Args:
        source: An output directory holding ``sherpa.db``, a store file, or a database URL.

    Raises:
        StorageUnreachableError: there is no sherpa store at ``source``.
    """
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


@contextlib.contextmanager
def open_storage(source: str) -> Iterator[SQLStorage]:
    """Open the store that ``source`` names, and close it afterwards."""
    from sherpa.storage import SQLStorage

    storage = SQLStorage(resolve_store_url(source))
    try:
        yield storage
    finally:
        storage.close()


def choose_study(storage: SQLStorage, study_name: str | None) -> StudyRecord:
    """Return the study named ``study_name``, or the store's only study.

    Raises:
        StorageError: the store holds no study, has no study of that name, or holds several
            and ``study_name`` is None.
    """
    if study_name is not None:
        return storage.get_study(study_name)
    records = storage.list_studies()
    shown = display_url(storage.url)
    if not records:
        raise StorageError(f"store {shown!r} holds no study")
    if len(records) > 1:
        names = ", ".join(record.name for record in records)
        raise StorageError(
            f"store {shown!r} holds {len(records)} studies ({names}); choose one with --study"
        )
    return records[0]


def load_study(source: str, study_name: str | None) -> Study:
    """Rebuild the chosen study of the store at ``source`` (see :meth:`sherpa.Study.load`).

    The caller closes ``study.storage`` when done.
    """
    from sherpa.study import Study

    with open_storage(source) as storage:
        url = storage.url
        record = choose_study(storage, study_name)
    return Study.load(url, study_name=record.name)
