"""A private PostgreSQL server for the test session, and a fresh database per test.

The server runs as the ``postgres`` user (``initdb`` refuses root) from a temporary
directory, listens only on 127.0.0.1 at a free port, keeps its unix socket in that directory,
and accepts only password (SCRAM) logins of one superuser with a generated password. Tests
that need it are skipped, with the reason, where PostgreSQL's programs or psycopg are missing
or the tests can neither run as ``postgres`` nor switch to it.
"""

from __future__ import annotations

import getpass
import glob
import itertools
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

_PG_USER = "postgres"
_SUPERUSER = "sherpa_test"
_database_numbers = itertools.count(1)


@dataclass(frozen=True)
class PostgresServer:
    """A running private server: where it listens and how to log in."""

    port: int
    password: str

    def url(self, database: str = "postgres") -> str:
        password = urllib.parse.quote(self.password, safe="")
        return f"postgresql+psycopg://{_SUPERUSER}:{password}@127.0.0.1:{self.port}/{database}"


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _run_as_postgres() -> str | None:
    """The user to run the server as (None: this one), or skip with the reason."""
    if getpass.getuser() == _PG_USER:
        return None
    if os.geteuid() != 0:
        pytest.skip(
            f"PostgreSQL tests need to run as root or as {_PG_USER!r} (initdb refuses root)"
        )
    try:
        import pwd

        pwd.getpwnam(_PG_USER)
    except KeyError:
        pytest.skip(f"PostgreSQL tests: there is no {_PG_USER!r} user to run the server as")
    return _PG_USER


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bindir = _postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL tests: no initdb under /usr/lib/postgresql/*/bin")
    pytest.importorskip("psycopg", reason="PostgreSQL tests need psycopg (sherpa[postgres])")
    user = _run_as_postgres()

    root = Path(tempfile.mkdtemp(prefix="sherpa-pg-"))
    data, password = root / "data", secrets.token_urlsafe(24)
    (root / "pwfile").write_text(password + "\n")
    if user is not None:
        shutil.chown(root, user)
        shutil.chown(root / "pwfile", user)
    port = _free_port()
    ctl = [str(bindir / "pg_ctl"), "-D", str(data)]
    initdb = [str(bindir / "initdb"), "-D", str(data), "-U", _SUPERUSER, "-A", "scram-sha-256"]
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off"
    try:
        subprocess.run(
            [*initdb, f"--pwfile={root / 'pwfile'}"], user=user, check=True, capture_output=True
        )
        subprocess.run(
            [*ctl, "-l", str(root / "server.log"), "-w", "-o", options, "start"],
            user=user,
            check=True,
            capture_output=True,
        )
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"the private PostgreSQL server did not start: {exc.stderr.decode()}")
    try:
        yield PostgresServer(port, password)
    finally:
        subprocess.run([*ctl, "-m", "fast", "-w", "stop"], user=user, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A URL of a new, empty database on the session's server, dropped after the test."""
    import sqlalchemy as sa

    name = f"sherpa_test_{os.getpid()}_{next(_database_numbers)}"
    admin = sa.create_engine(postgres_server.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield postgres_server.url(name)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
