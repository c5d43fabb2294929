"""The trial side's PostgreSQL connection through psycopg alone (``storage/_psycopg.py``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from sherpa.exceptions import StorageUnreachableError
from sherpa.storage import PrivatePostgres, SQLStorage, _psycopg, _server
from sherpa.storage._channel import TrialChannel
from sherpa.storage._urls import server_address


def _skip(reason: str) -> None:
    """Skip, or fail where ``SHERPA_REQUIRE_CLUSTERS`` is set (CI: the server must be there)."""
    if os.environ.get("SHERPA_REQUIRE_CLUSTERS"):
        pytest.fail(f"SHERPA_REQUIRE_CLUSTERS is set, but {reason}")
    pytest.skip(reason)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql+psycopg://sherpa:p%40ss%2Fw@127.0.0.1:5433/postgres",
            {
                "host": "127.0.0.1",
                "port": 5433,
                "user": "sherpa",
                "password": "p@ss/w",
                "dbname": "postgres",
                "connect_timeout": 30,
            },
        ),
        (
            "postgresql://me@[::1]/db%20one?sslmode=require&connect_timeout=5",
            {
                "host": "::1",
                "user": "me",
                "dbname": "db one",
                "sslmode": "require",
                "connect_timeout": "5",
            },
        ),
        ("postgres://node7.cluster", {"host": "node7.cluster", "connect_timeout": 30}),
        (
            "postgresql+psycopg://sherpa:pw@:5433/postgres?host=/run/out%20a/postgres/socket",
            {
                "host": "/run/out a/postgres/socket",
                "port": 5433,
                "user": "sherpa",
                "password": "pw",
                "dbname": "postgres",
                "connect_timeout": 30,
            },
        ),
    ],
)
def test_connection_arguments_from_url(url: str, expected: dict[str, object]) -> None:
    assert _psycopg.connection_arguments(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql+psycopg://u:pw@db.example:5433/d", "host 'db.example', port 5433"),
        ("postgresql://u@[::1]/d?sslmode=require", "host '[::1]', port default"),
        ("postgresql://h:5/d?sslmode=require", "host 'h', port 5"),
        ("postgresql://u:pw@:5433/d?host=/run/s%20t", "Unix socket in '/run/s t', port 5433"),
        ("postgresql://u@/d?host=/run/s", "Unix socket in '/run/s', port default"),
    ],
)
def test_server_address_names_host_or_socket_directory(url: str, expected: str) -> None:
    assert server_address(url) == expected


def test_connection_arguments_bad_port_raises_without_password() -> None:
    with pytest.raises(
        StorageUnreachableError,
        match=r"store 'postgresql\+psycopg://u:\*\*\*@h:99999/d' is not a valid database URL",
    ):
        _psycopg.connection_arguments("postgresql+psycopg://u:secret@h:99999/d")


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT :a, :b_2", "SELECT %(a)s, %(b_2)s"),
        ("SELECT x::text FROM t WHERE y = :y", "SELECT x::text FROM t WHERE y = %(y)s"),
        ("SELECT '100%' WHERE z = :z", "SELECT '100%%' WHERE z = %(z)s"),
    ],
)
def test_pyformat_turns_named_parameters_into_psycopg_style(sql: str, expected: str) -> None:
    assert _psycopg._pyformat(sql) == expected


@pytest.mark.parametrize(
    ("url", "served"),
    [
        ("postgresql+psycopg://u@h/d", True),
        ("postgresql://u@h/d", True),
        ("postgresql+psycopg2://u@h/d", False),
        ("mysql+pymysql://u@h/d", False),
        ("sqlite:////tmp/x.db", False),
    ],
)
def test_serves_only_postgresql_urls(url: str, served: bool) -> None:
    pytest.importorskip("psycopg")
    assert _psycopg.serves(url) is served


def test_trial_process_on_postgresql_does_not_import_sqlalchemy(postgres_url: str) -> None:
    storage = SQLStorage(postgres_url)
    study_id = storage.create_study("light", lower_is_better=True, parameters=[]).id
    storage.create_trial(study_id, 1, {"x": 1})
    code = (
        "import sys, sherpa\n"
        "client = sherpa.Client()\n"
        "trial = client.get_trial()\n"
        "client.send_metrics(trial=trial, iteration=1, objective=0.5)\n"
        "client.close()\n"
        "print(sorted(m for m in ('sqlalchemy', 'numpy', 'pandas') if m in sys.modules))\n"
    )
    env = {
        **os.environ,
        "SHERPA_DB_URL": postgres_url,
        "SHERPA_STUDY_ID": str(study_id),
        "SHERPA_TRIAL_ID": "1",
    }
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert [(o.trial_number, o.objective) for o in storage.read_observations(study_id)] == [
        (1, 0.5)
    ]
    storage.close()


@pytest.fixture
def reachable_dir() -> Iterator[Path]:
    """A directory the server's user can enter (pytest's tmp_path is 0700 under root)."""
    try:
        _server.find_postgres_programs()
    except StorageUnreachableError:
        _skip("PostgreSQL's programs (initdb, postgres) are not installed")
    pytest.importorskip("psycopg")
    path = Path(tempfile.mkdtemp(prefix="sherpa-psycopg-test-"))
    path.chmod(0o711)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_channel_reconnects_after_the_server_restarts(reachable_dir: Path) -> None:
    first = PrivatePostgres().start(reachable_dir)
    try:
        storage = SQLStorage(first.url)
        study_id = storage.create_study("restart", lower_is_better=True, parameters=[]).id
        storage.create_trial(study_id, 1, {})
        storage.close()
        channel = TrialChannel(first.url, study_id)
        channel.add_observation(1, 1, 1.0, {})
    finally:
        first.stop()
    second = PrivatePostgres(port=first.port).start(reachable_dir)
    try:
        channel.add_observation(1, 2, 0.5, {})  # the old connection is broken: reconnects
        channel.close()
        storage = SQLStorage(second.url)
        assert [o.iteration for o in storage.read_observations(study_id)] == [1, 2]
        storage.close()
    finally:
        second.stop()
