"""Fixtures shared by the storage tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from sherpa.storage import sqlite_url


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new store's URL on each backend: an SQLite file, then a PostgreSQL database."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return sqlite_url(tmp_path / "sherpa.db")
