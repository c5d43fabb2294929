"""The private PostgreSQL server: real ``initdb`` and ``postgres`` processes on loopback.

Tests that start a server are skipped where PostgreSQL's programs or psycopg are missing, or
where the tests run as root and there is no ``postgres`` user to run the server as.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sherpa.exceptions import StorageUnreachableError
from sherpa.storage import PostgresServer, PrivatePostgres, SQLStorage, _server


def _skip(reason: str) -> None:
    """Skip, or fail where ``SHERPA_REQUIRE_CLUSTERS`` is set (CI: the server must be there)."""
    if os.environ.get("SHERPA_REQUIRE_CLUSTERS"):
        pytest.fail(f"SHERPA_REQUIRE_CLUSTERS is set, but {reason}")
    pytest.skip(reason)


def _programs_or_skip() -> None:
    try:
        _server.find_postgres_programs()
    except StorageUnreachableError:
        _skip("PostgreSQL's programs (initdb, postgres) are not installed")
    pytest.importorskip("psycopg", reason="the private server needs psycopg (sherpa[postgres])")
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam(_server.SERVER_USER)
        except KeyError:
            _skip("running as root and there is no 'postgres' user to run the server")


def server_uid() -> int:
    """The uid the server runs as: ``postgres`` under root, else this user."""
    if os.geteuid() != 0:
        return os.geteuid()
    import pwd

    return pwd.getpwnam(_server.SERVER_USER).pw_uid


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_accepts(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def process_exists(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def loose_modes(root: Path) -> list[str]:
    """Every path under ``root`` (itself included) that group or others may read or write."""
    found = []
    for path in [root, *root.rglob("*")]:
        mode = path.lstat().st_mode
        if not stat.S_ISLNK(mode) and mode & 0o066:
            found.append(f"{path} {stat.filemode(mode)}")
    return found


@pytest.fixture
def reachable_dir() -> Iterator[Path]:
    """A directory the server's user can enter (pytest's tmp_path is 0700 under root)."""
    path = Path(tempfile.mkdtemp(prefix="sherpa-server-test-"))
    path.chmod(0o711)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def started() -> Iterator[Callable[..., PostgresServer]]:
    """Return ``start(output_dir, **config)``; every server it started is stopped after."""
    _programs_or_skip()
    servers: list[PostgresServer] = []

    def start(output_dir: Path, *, spans_hosts: bool = False, **config: object) -> PostgresServer:
        server = PrivatePostgres(**config).start(  # type: ignore[arg-type]
            output_dir, spans_hosts=spans_hosts
        )
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def test_private_postgres_start_serves_store_with_private_files_and_stop_leaves_nothing(
    started: Callable[..., PostgresServer], reachable_dir: Path
) -> None:
    out = reachable_dir / "out"
    server = started(out)
    pid, port = server.pid, server.port

    assert server.directory == out / "postgres"
    assert server.socket_directory == out / "postgres" / "socket"
    password = (out / "postgres" / "password").read_text().strip()
    assert len(password) == 43
    login = f"postgresql+psycopg://sherpa:{password}@"
    assert server.tcp_url == f"{login}127.0.0.1:{port}/postgres"
    assert server.url == f"{login}:{port}/postgres?host={out}/postgres/socket"
    assert loose_modes(out / "postgres") == []
    for name in ("", "password", "server.log", "data", "socket"):
        assert (out / "postgres" / name).stat().st_uid == server_uid(), name
    assert stat.S_IMODE((out / "postgres" / "socket").stat().st_mode) == 0o700
    assert (out / "postgres" / "socket" / f".s.PGSQL.{port}").is_socket()
    assert stat.S_IMODE((out / "postgres" / "password").stat().st_mode) == 0o600
    assert stat.S_IMODE((out / "postgres" / "server.log").stat().st_mode) == 0o600
    assert password not in repr(server)

    storage = SQLStorage(server.url)
    storage.create_study("kept", lower_is_better=True, parameters=[])
    storage.close()
    server.stop()
    assert not process_exists(pid)
    assert not port_accepts(port)
    assert list((out / "postgres" / "socket").iterdir()) == []
    assert (out / "postgres" / "data" / "PG_VERSION").is_file()
    assert not (out / "postgres" / "data" / "postmaster.pid").exists()
    server.stop()  # a second stop does nothing

    again = started(out)
    assert again.url.split("@")[0] == server.url.split("@")[0]  # the same password
    storage = SQLStorage(again.url)
    assert [s.name for s in storage.list_studies()] == ["kept"]
    storage.close()


def test_private_postgres_honours_port_and_keep_data_false_removes_directory(
    started: Callable[..., PostgresServer], reachable_dir: Path
) -> None:
    port = free_port()
    server = started(reachable_dir, port=port, keep_data=False)
    assert server.port == port
    assert port_accepts(port)
    server.stop()
    assert not port_accepts(port)
    assert not (reachable_dir / "postgres").exists()


def test_private_postgres_busy_port_raises_naming_the_port(
    started: Callable[..., PostgresServer], reachable_dir: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(
            StorageUnreachableError,
            match=rf"cannot listen on port {port} of 127\.0\.0\.1: Address already in use; "
            r"choose another db_port",
        ):
            started(reachable_dir, port=port)
    assert not (reachable_dir / "postgres" / "data" / "postmaster.pid").exists()


KILLED_RUNNER = """\
import os, signal, sys
from sherpa.storage import PrivatePostgres

server = PrivatePostgres().start(sys.argv[1])
print(server.pid, server.port, flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # as a runner killed by the OOM killer or kill -9
"""


def test_private_postgres_stops_a_server_left_running_by_a_killed_runner(
    started: Callable[..., PostgresServer],
    reachable_dir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    out = reachable_dir / "out"
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_RUNNER, str(out)], capture_output=True, text=True
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    left_pid, left_port = (int(x) for x in killed.stdout.split())
    assert port_accepts(left_port)

    with caplog.at_level(logging.WARNING, logger="sherpa"):
        server = started(out)
    assert f"stopping pid {left_pid}, left running on {out / 'postgres' / 'data'}" in caplog.text
    assert not _server._running(left_pid)
    assert not port_accepts(left_port) or server.port == left_port
    storage = SQLStorage(server.url)
    assert storage.list_studies() == []
    storage.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root needs another user for the server")
def test_private_postgres_as_root_without_reachable_output_dir_uses_temporary_directory(
    started: Callable[..., PostgresServer],
    reachable_dir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    blocked = reachable_dir / "private"
    blocked.mkdir(mode=0o700)
    with caplog.at_level(logging.WARNING, logger="sherpa"):
        server = started(blocked / "out")
    assert f"user 'postgres' cannot enter {blocked} (mode drwx------)" in caplog.text
    assert server.directory.parent == Path(tempfile.gettempdir())
    assert server.directory.name.startswith("sherpa-postgres-")
    assert not server.keep_data
    assert loose_modes(server.directory) == []
    assert server.socket_directory == server.directory / "socket"
    storage = SQLStorage(server.url)
    assert storage.list_studies() == []
    storage.close()
    server.stop()
    assert not server.directory.exists()
    assert not (blocked / "out" / "postgres").exists()


def server_address_of(url: str) -> tuple[str | None, str | None]:
    """The server's address of a psycopg connection to ``url``: (address, socket dir)."""
    import psycopg

    from sherpa.storage._psycopg import connection_arguments

    with psycopg.connect(**connection_arguments(url)) as conn:
        row = conn.execute("SELECT host(inet_server_addr()), current_setting('port')").fetchone()
        assert row is not None
        return row[0], conn.info.host if conn.info.host.startswith("/") else None


def test_private_postgres_hands_trials_on_this_host_its_private_unix_socket(
    started: Callable[..., PostgresServer],
    reachable_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sherpa

    server = started(reachable_dir, keep_data=False)
    assert server_address_of(server.url) == (None, str(server.socket_directory))
    assert server_address_of(server.tcp_url) == ("127.0.0.1", None)

    storage = SQLStorage(server.url)  # the runner's side (SQLAlchemy) takes it too
    study_id = storage.create_study("s", lower_is_better=True, parameters=[]).id
    storage.create_trial(study_id, 1, {})
    monkeypatch.setenv("SHERPA_TRIAL_ID", "1")
    client = sherpa.Client(db_url=server.url, study_id=str(study_id))
    client.send_metrics(client.get_trial(), iteration=1, objective=0.5)
    client.close()
    assert [o.objective for o in storage.read_observations(study_id)] == [0.5]
    storage.close()


@pytest.mark.parametrize(
    ("config", "spans_hosts"),
    [({}, True), ({"unix_socket": False}, False), ({"host": "127.0.0.1"}, False)],
)
def test_private_postgres_hands_tcp_url_to_other_hosts_or_when_asked(
    started: Callable[..., PostgresServer],
    reachable_dir: Path,
    config: dict[str, object],
    spans_hosts: bool,
) -> None:
    listen = {"listen": "127.0.0.1"} if spans_hosts else {}
    server = started(reachable_dir, keep_data=False, spans_hosts=spans_hosts, **listen, **config)
    assert server.url == server.tcp_url
    assert server.url.endswith(f"@127.0.0.1:{server.port}/postgres")
    assert server_address_of(server.url) == ("127.0.0.1", None)


def test_private_postgres_socket_goes_to_a_temporary_directory_when_its_path_is_too_long(
    started: Callable[..., PostgresServer], reachable_dir: Path
) -> None:
    deep = reachable_dir / ("d" * 60) / ("e" * 40)
    deep.mkdir(parents=True)
    for directory in (deep.parent, deep):
        directory.chmod(0o711)
    server = started(deep)
    sockets = server.socket_directory
    assert sockets.parent == Path(tempfile.gettempdir())
    assert sockets.name.startswith("sherpa-postgres-socket-")
    assert stat.S_IMODE(sockets.stat().st_mode) == 0o700
    assert sockets.stat().st_uid == server_uid()
    assert server_address_of(server.url) == (None, str(sockets))
    server.stop()
    assert not sockets.exists()
    assert (deep / "postgres" / "data" / "PG_VERSION").is_file()


@pytest.mark.skipif(os.geteuid() != 0, reason="user= is only for a runner running as root")
def test_private_postgres_as_root_with_unknown_user_raises(reachable_dir: Path) -> None:
    _programs_or_skip()
    with pytest.raises(StorageUnreachableError, match="no user 'no-such-sherpa-user'"):
        PrivatePostgres(user="no-such-sherpa-user").start(reachable_dir)
    with pytest.raises(ValueError, match="user='root' is root"):
        PrivatePostgres(user="root").start(reachable_dir)


def test_find_postgres_programs_missing_raises_with_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(_server, "POSTGRES_LIB_GLOB", str(tmp_path / "lib" / "*" / "bin"))
    with pytest.raises(
        StorageUnreachableError,
        match=r"its programs \(initdb, postgres\) were not found on PATH or in .*/lib/\*/bin; "
        r"install PostgreSQL's server programs \(Debian/Ubuntu: apt-get install postgresql",
    ):
        PrivatePostgres().start(tmp_path / "out")
    assert not (tmp_path / "out").exists()
    with pytest.raises(StorageUnreachableError, match=r"not found in bindir='/nonexistent'"):
        _server.find_postgres_programs("/nonexistent")


def test_find_postgres_programs_prefers_path_then_newest_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fake_install(directory: Path) -> Path:
        directory.mkdir(parents=True)
        for name in _server.PROGRAMS:
            (directory / name).write_text("#!/bin/sh\n")
            (directory / name).chmod(0o755)
        return directory

    for version in ("9", "15", "16"):
        fake_install(tmp_path / "lib" / version / "bin")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(_server, "POSTGRES_LIB_GLOB", str(tmp_path / "lib" / "*" / "bin"))
    assert _server.find_postgres_programs() == tmp_path / "lib" / "16" / "bin"
    on_path = fake_install(tmp_path / "path")
    monkeypatch.setenv("PATH", str(on_path))
    assert _server.find_postgres_programs() == on_path


@pytest.mark.parametrize(
    ("config", "error", "message"),
    [
        ({"port": 0}, ValueError, "port must be between 1 and 65535; got 0"),
        ({"port": "5432"}, TypeError, "port must be an int or None; got '5432'"),
        ({"port": True}, TypeError, "port must be an int or None; got True"),
        ({"listen": ""}, ValueError, "listen must be a non-empty host name"),
        ({"listen": "127.0.0.1,10.0.0.1"}, ValueError, "got '127.0.0.1,10.0.0.1'"),
        ({"host": "a b"}, ValueError, "host must be a non-empty host name.*got 'a b'"),
        ({"user": "x'y"}, ValueError, 'user must be .*got "x\'y"'),
        ({"keep_data": 1}, TypeError, "keep_data must be a bool; got 1"),
        ({"unix_socket": "yes"}, TypeError, "unix_socket must be a bool; got 'yes'"),
    ],
)
def test_private_postgres_rejects_bad_arguments(
    config: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        PrivatePostgres(**config)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("listen", "spans_hosts", "expected"),
    [
        (None, False, "127.0.0.1"),
        (None, True, "*"),
        ("10.1.2.3", False, "10.1.2.3"),
        ("::1", True, "::1"),
    ],
)
def test_private_postgres_listen_address_depends_on_scheduler(
    listen: str | None, spans_hosts: bool, expected: str
) -> None:
    assert PrivatePostgres(listen=listen).listen_address(spans_hosts=spans_hosts) == expected


@pytest.mark.parametrize(
    ("listen", "loopback"),
    [("127.0.0.1", True), ("::1", True), ("localhost", True), ("10.1.2.3", False), ("*", False)],
)
def test_private_postgres_is_loopback(listen: str, loopback: bool) -> None:
    assert PrivatePostgres(listen=listen).is_loopback is loopback


@pytest.mark.parametrize(
    ("listen", "host", "expected"),
    [
        ("127.0.0.1", None, "127.0.0.1"),
        ("10.1.2.3", None, "10.1.2.3"),
        ("*", None, socket.getfqdn()),
        ("0.0.0.0", "node7.cluster", "node7.cluster"),
        ("::1", None, "[::1]"),
    ],
)
def test_url_host_is_one_trials_can_resolve(listen: str, host: str | None, expected: str) -> None:
    assert _server._url_host(listen, host) == expected


def test_hba_accepts_only_password_logins_and_remote_hosts_only_off_loopback() -> None:
    local = _server._hba_lines("127.0.0.1").splitlines()[1:]
    assert local == [
        "local all all scram-sha-256",
        "host all all 127.0.0.1/32 scram-sha-256",
        "host all all ::1/128 scram-sha-256",
    ]
    remote = _server._hba_lines("*").splitlines()[1:]
    assert remote == [
        *local,
        "host all all 0.0.0.0/0 scram-sha-256",
        "host all all ::/0 scram-sha-256",
    ]


@pytest.mark.parametrize("through", ["tcp_url", "url"])
def test_client_refused_connection_names_host_and_port(
    started: Callable[..., PostgresServer],
    reachable_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    through: str,
) -> None:
    import sherpa

    server = started(reachable_dir, keep_data=False)
    url, port = getattr(server, through), server.port
    storage = SQLStorage(url)
    study_id = storage.create_study("s", lower_is_better=True, parameters=[]).id
    storage.create_trial(study_id, 1, {})
    storage.close()
    monkeypatch.setenv("SHERPA_TRIAL_ID", "1")
    client = sherpa.Client(db_url=url, study_id=str(study_id))
    trial = client.get_trial()
    client.send_metrics(trial, iteration=1, objective=0.5)
    server.stop()

    if through == "tcp_url":
        where = (
            rf"store 'postgresql\+psycopg://sherpa:\*\*\*@127\.0\.0\.1:{port}/postgres' "
            rf"cannot be reached \(host '127\.0\.0\.1', port {port}\): .*Connection refused"
        )
    else:
        sockets = re.escape(str(server.socket_directory))
        where = (
            rf"store 'postgresql\+psycopg://sherpa:\*\*\*@:{port}/postgres\?host={sockets}' "
            rf"cannot be reached \(Unix socket in '{sockets}', port {port}\): "
            r".*No such file or directory"
        )
    with pytest.raises(StorageUnreachableError, match=where) as lost:
        client.send_metrics(trial, iteration=2, objective=0.25)
    client.close()
    with pytest.raises(StorageUnreachableError, match=where) as refused:
        sherpa.Client(db_url=url, study_id=str(study_id))
    password = url.split(":")[2].split("@")[0]
    assert password not in str(lost.value) and password not in str(refused.value)


def test_a_store_whose_server_stops_raises_storage_unreachable_naming_it(
    started: Callable[..., PostgresServer], reachable_dir: Path
) -> None:
    server = started(reachable_dir / "out", keep_data=False)
    storage = SQLStorage(server.tcp_url)
    study_id = storage.create_study("s", lower_is_better=True, parameters=[]).id
    server.stop()
    for read in (storage.list_studies, lambda: storage.read_trials(study_id)):
        with pytest.raises(
            StorageUnreachableError,
            match=rf"^store '.*:\*\*\*@127\.0\.0\.1:{server.port}/postgres' cannot be reached "
            rf"\(host '127\.0\.0\.1', port {server.port}\): ",
        ):
            read()
    storage.close()
