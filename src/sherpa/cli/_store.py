"""Open the store a command names (a directory, a database file or a URL) and pick its study.

The command line only reads: ``resolve_store_url`` checks an SQLite file, read-only, for
sherpa's tables before SQLAlchemy opens it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from sherpa.exceptions import StorageError
from sherpa.storage._locate import resolve_store_url
from sherpa.storage._urls import display_url

if TYPE_CHECKING:
    from sherpa.storage import SQLStorage, StudyRecord
    from sherpa.study import Study

__all__ = ["choose_study", "load_study", "open_storage", "resolve_store_url"]


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
