"""A private PostgreSQL server for one run: started by the runner, stopped when it ends.

``sherpa.optimize(..., storage="postgresql")`` (or ``storage=PrivatePostgres(...)``) starts
one, as SHERPA's runner started its own database. Layout, all inside the run's output
directory and readable only by the server's user (mode 0700 and 0600)::

    output_dir/postgres/             the server's directory
    output_dir/postgres/data/        the database cluster (``initdb``)
    output_dir/postgres/password     the superuser's password, generated for this cluster
    output_dir/postgres/server.log   the server's log
    output_dir/postgres/socket/      its Unix socket, for trials on this host

Trials on the runner's host (a scheduler whose ``spans_hosts`` is False) connect through the
server's Unix socket rather than TCP loopback: each round trip costs less, and the socket's
directory is private (inside the server's directory, mode 0700), so no other local user can
even reach the login. A runner running as root and its trials (root too) pass that mode; a
trial running as another user must use TCP (``PrivatePostgres(unix_socket=False)``). When the
socket's path would be too long for the system (about 107 bytes) the socket goes to a new
private directory under the system's temporary directory, removed when the server stops.

The superuser ``sherpa`` logs in with that password (SCRAM-SHA-256); no other login is
accepted. The data stays after the run, as SHERPA kept its database: a later
``PrivatePostgres().start(output_dir)`` starts the same cluster again (to read the study with
``sherpa.Study.load(server.url)``, or to run another study in the same directory).
``keep_data=False`` removes it when the server stops.

PostgreSQL refuses to run as root, so a runner running as root starts the server as an
unprivileged user (``postgres`` by default, ``user=`` to choose). That user must be able to
reach ``output_dir``; when it cannot (e.g. ``output_dir`` is under ``/root``, mode 0700),
the data directory goes to a new private directory under the system's temporary directory
instead, removed when the server stops, and a warning says so.

This module imports neither SQLAlchemy nor psycopg.
"""

from __future__ import annotations

import contextlib
import dataclasses
import getpass
import glob
import ipaddress
import logging
import os
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
import urllib.parse
from collections.abc import Sequence
from importlib.util import find_spec
from pathlib import Path
from types import TracebackType

from sherpa.exceptions import StorageUnreachableError
from sherpa.logging import get_logger

__all__ = [
    "PRIVATE_POSTGRES",
    "PostgresServer",
    "PrivatePostgres",
    "find_postgres_programs",
]

_logger = get_logger(__name__)

PRIVATE_POSTGRES = "postgresql"
"""The ``storage=`` value of :func:`sherpa.optimize` that asks for a private server."""

SERVER_USER = "postgres"
"""Who runs the server when the runner runs as root (PostgreSQL refuses root)."""

SUPERUSER = "sherpa"
"""The only role of the cluster; the runner and the trials log in as it."""

DATABASE = "postgres"
"""The database the store lives in (the one ``initdb`` creates)."""

LOOPBACK = "127.0.0.1"

ALL_INTERFACES = "*"

POSTGRES_LIB_GLOB = "/usr/lib/postgresql/*/bin"
"""Where Debian and Ubuntu install each PostgreSQL version's programs (searched after PATH)."""

PROGRAMS = ("initdb", "postgres")

MAX_CONNECTIONS = 200
"""Connections the server accepts: one per running trial, plus the runner and dashboard."""

_SOCKET_NAME = ".s.PGSQL.{port}"
_MAX_SOCKET_PATH = 107
"""The longest Unix socket path Linux takes (``sun_path`` is 108 bytes with its NUL)."""

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
_POLL_S = 0.01
_WILDCARDS = frozenset({ALL_INTERFACES, "0.0.0.0", "::"})
_INSTALL_HINT = (
    "install PostgreSQL's server programs (Debian/Ubuntu: apt-get install postgresql; "
    "Fedora/RHEL: dnf install postgresql-server; conda: conda install -c conda-forge "
    "postgresql), or pass PrivatePostgres(bindir=...) naming the directory that holds them"
)


def find_postgres_programs(bindir: str | os.PathLike[str] | None = None) -> Path:
    """Return the directory that holds PostgreSQL's ``initdb`` and ``postgres``.

    Looks in ``bindir`` when given, else on ``PATH``, else in ``/usr/lib/postgresql/*/bin``
    (the newest version first).

    Raises:
        StorageUnreachableError: the programs are not there; the message says what to install.
    """
    if bindir is not None:
        candidates = [Path(bindir)]
    else:
        on_path = shutil.which("initdb")
        candidates = [Path(on_path).resolve().parent] if on_path else []
        candidates += sorted(
            (Path(d) for d in glob.glob(POSTGRES_LIB_GLOB)), key=_version_key, reverse=True
        )
    for directory in candidates:
        if all(os.access(directory / name, os.X_OK) for name in PROGRAMS):
            return directory
    where = (
        f"in bindir={os.fspath(bindir)!r}"
        if bindir is not None
        else f"on PATH or in {POSTGRES_LIB_GLOB}"
    )
    raise StorageUnreachableError(
        f"a private PostgreSQL server cannot be started: its programs ({', '.join(PROGRAMS)}) "
        f"were not found {where}; {_INSTALL_HINT}"
    )


def _version_key(directory: Path) -> tuple[int, str]:
    version = directory.parent.name
    return (int(version), version) if version.isdigit() else (-1, version)


@dataclasses.dataclass(frozen=True)
class PrivatePostgres:
    """How to start a private PostgreSQL server for a run (``sherpa.optimize(storage=...)``).

    ``storage="postgresql"`` is ``PrivatePostgres(port=db_port)``. See the module
    documentation for the files it keeps in ``output_dir/postgres/``.

    Args:
        port: The TCP port; a free one when None.
        listen: The address the server binds. None: ``127.0.0.1`` when the trials run on
            this host, and every interface (``"*"``) when the scheduler runs them on other
            hosts (``Scheduler.spans_hosts``). Give one address (e.g. the cluster network's)
            to bind only that.
        host: The host name that trials connect to, put in the URL handed to them. None:
            the listen address, or this host's fully qualified name when it listens on every
            interface. It must resolve on the hosts where trials run.
        user: Who runs the server when the runner runs as root (``postgres`` by default).
            Must be None when not running as root: the server then runs as this user.
        bindir: The directory of ``initdb`` and ``postgres``; searched for when None.
        keep_data: Keep the server's directory after the run (the default), or remove it
            when the server stops, with any data earlier runs left there.
        unix_socket: Hand trials on this host (``spans_hosts`` False, no ``host``) a URL
            through the server's private Unix socket (the default), or False for TCP.

    Example:
        >>> import sherpa
        >>> with sherpa.storage.PrivatePostgres().start("output_dir") as server:  # doctest: +SKIP
        ...     study = sherpa.Study.load(server.url)
    """

    port: int | None = None
    listen: str | None = None
    host: str | None = None
    user: str | None = None
    bindir: str | os.PathLike[str] | None = None
    keep_data: bool = True
    unix_socket: bool = True

    def __post_init__(self) -> None:
        port = self.port
        if port is not None and (isinstance(port, bool) or not isinstance(port, int)):
            raise TypeError(f"port must be an int or None; got {port!r}")
        if port is not None and not 1 <= port <= 65535:
            raise ValueError(f"port must be between 1 and 65535; got {port!r}")
        for name in ("listen", "host", "user"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not _is_plain(value)):
                raise ValueError(
                    f"{name} must be a non-empty host name, address or user name; got {value!r}"
                )
        for flag in ("keep_data", "unix_socket"):
            if not isinstance(getattr(self, flag), bool):
                raise TypeError(f"{flag} must be a bool; got {getattr(self, flag)!r}")

    @property
    def is_loopback(self) -> bool:
        """Whether the server binds only a loopback address (the default on one host)."""
        return _is_loopback(self.listen or LOOPBACK)

    def listen_address(self, *, spans_hosts: bool) -> str:
        """The address the server binds: ``listen``, or the default for the scheduler."""
        return self.listen or (ALL_INTERFACES if spans_hosts else LOOPBACK)

    def start(
        self,
        output_dir: str | os.PathLike[str],
        *,
        spans_hosts: bool = False,
        log_level: int = logging.INFO,
    ) -> PostgresServer:
        """Start the server with its data in ``output_dir/postgres/`` and return it, running.

        An existing cluster there (from an earlier run) is started again, with its password.

        Args:
            output_dir: The run's output directory (created if missing).
            spans_hosts: Whether trials run on other hosts; decides the default ``listen``.
            log_level: The level of the lines that say the server started and stopped.

        Raises:
            StorageUnreachableError: PostgreSQL or psycopg is not installed, ``port`` is in
                use, no unprivileged user can run the server, or it fails to start (the
                message quotes its log).
        """
        bindir = find_postgres_programs(self.bindir)
        if find_spec("psycopg") is None:
            raise StorageUnreachableError(
                "a private PostgreSQL server needs psycopg to talk to it: "
                "pip install sherpa[postgres]"
            )
        listen = self.listen_address(spans_hosts=spans_hosts)
        local = self.unix_socket and not spans_hosts and self.host is None
        return PostgresServer._start(self, bindir, Path(output_dir), listen, log_level, local)


def _is_plain(value: str) -> bool:
    return bool(value) and not any(c.isspace() or c in "'\"\\,;#" for c in value)


def _is_loopback(address: str) -> bool:
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _url_host(listen: str, host: str | None) -> str:
    """The host trials are told to connect to."""
    if host is not None:
        chosen = host
    elif listen in _WILDCARDS:
        chosen = socket.getfqdn()
    else:
        chosen = listen
    return f"[{chosen}]" if ":" in chosen else chosen


@dataclasses.dataclass(frozen=True)
class _RunAs:
    """The user the server runs as (None: this process's own) and its ids."""

    name: str | None
    uid: int
    gids: frozenset[int]


def _server_user(user: str | None) -> _RunAs:
    """Who runs the server: this user, or an unprivileged one when running as root."""
    import pwd

    if os.geteuid() != 0:
        if user is not None and user != getpass.getuser():
            raise ValueError(
                f"user={user!r} needs the runner to run as root (it runs as "
                f"{getpass.getuser()!r}, who runs the server itself); leave user=None"
            )
        return _RunAs(None, os.geteuid(), frozenset(os.getgroups()) | {os.getegid()})
    name = user or SERVER_USER
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise StorageUnreachableError(
            f"the runner runs as root, which PostgreSQL refuses, and there is no user {name!r} "
            "to run the server as: create one (e.g. useradd --system --no-create-home "
            f"{name}) or pass PrivatePostgres(user=NAME) naming an unprivileged user"
        ) from None
    if entry.pw_uid == 0:
        raise ValueError(f"user={name!r} is root; PostgreSQL must run as an unprivileged user")
    groups = {entry.pw_gid} | set(os.getgrouplist(name, entry.pw_gid))
    return _RunAs(name, entry.pw_uid, frozenset(groups))


def _blocking_directory(path: Path, run_as: _RunAs) -> Path | None:
    """The first directory above ``path`` that ``run_as`` may not enter (mode bits), if any."""
    for directory in reversed(path.parents):
        info = directory.stat()
        if info.st_uid == run_as.uid:
            allowed = info.st_mode & stat.S_IXUSR
        elif info.st_gid in run_as.gids:
            allowed = info.st_mode & stat.S_IXGRP
        else:
            allowed = info.st_mode & stat.S_IXOTH
        if not allowed:
            return directory
    return None


def _free_port(listen: str) -> int:
    with socket.socket(_family(listen), socket.SOCK_STREAM) as probe:
        probe.bind((_bind_address(listen), 0))
        return int(probe.getsockname()[1])


def _check_port_free(listen: str, port: int) -> None:
    with socket.socket(_family(listen), socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((_bind_address(listen), port))
        except OSError as exc:
            raise StorageUnreachableError(
                f"the private PostgreSQL server cannot listen on port {port} of {listen}: "
                f"{exc.strerror}; choose another db_port (or port=), or None for a free one"
            ) from None


def _family(listen: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in listen else socket.AF_INET


def _bind_address(listen: str) -> str:
    return "" if listen in _WILDCARDS else listen


def _write_private(path: Path, text: str, run_as: _RunAs) -> None:
    """Write ``text`` to a new file of mode 0600, owned by the server's user."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    if run_as.name is not None:
        os.chown(path, run_as.uid, -1)


def _hba_lines(listen: str) -> str:
    lines = [
        "# Written by sherpa for a private server: password (SCRAM) logins only.",
        "local all all scram-sha-256",
        "host all all 127.0.0.1/32 scram-sha-256",
        "host all all ::1/128 scram-sha-256",
    ]
    if not _is_loopback(listen):
        lines += ["host all all 0.0.0.0/0 scram-sha-256", "host all all ::/0 scram-sha-256"]
    return "\n".join(lines) + "\n"


def _log_tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    kept = [line for line in text.splitlines() if line.strip()][-lines:]
    return " | ".join(kept) or "(empty log)"


class PostgresServer:
    """A running private PostgreSQL server; use :meth:`PrivatePostgres.start` to get one.

    Attributes:
        url: The database URL of the store, with the password: hand it only to trials.
            Through the Unix socket when trials run on this host, else :attr:`tcp_url`.
        tcp_url: The same store's URL through TCP, at the host trials are told to use.
        port: The TCP port it listens on (the Unix socket's name carries it too).
        listen: The address it binds.
        directory: Its directory (data, password file, log).
        socket_directory: The private directory (mode 0700) of its Unix socket.
        keep_data: Whether :meth:`stop` leaves the directory in place.
    """

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        *,
        url: str,
        tcp_url: str,
        port: int,
        listen: str,
        directory: Path,
        socket_directory: Path,
        keep_data: bool,
    ) -> None:
        self._process: subprocess.Popen[bytes] | None = process
        self.url = url
        self.tcp_url = tcp_url
        self.port = port
        self.listen = listen
        self.directory = directory
        self.socket_directory = socket_directory
        self.keep_data = keep_data
        self._level = logging.INFO

    @property
    def pid(self) -> int:
        """The server's (postmaster's) process id."""
        assert self._process is not None, "the server has been stopped"
        return self._process.pid

    @property
    def log_path(self) -> Path:
        """The server's log file."""
        return self.directory / "server.log"

    @classmethod
    def _start(
        cls,
        config: PrivatePostgres,
        bindir: Path,
        output_dir: Path,
        listen: str,
        level: int,
        local: bool,
    ) -> PostgresServer:
        run_as = _server_user(config.user)
        output_dir.mkdir(parents=True, exist_ok=True)
        directory, keep_data = output_dir.resolve() / "postgres", config.keep_data
        blocked = _blocking_directory(directory, run_as) if run_as.name else None
        if blocked is not None:
            directory, keep_data = Path(tempfile.mkdtemp(prefix="sherpa-postgres-")), False
            _logger.warning(
                "private PostgreSQL server: user %r cannot enter %s (mode %s), so its data "
                "goes to %s, removed when the run ends; pick an output_dir that user can "
                "reach to keep it",
                run_as.name,
                blocked,
                stat.filemode(blocked.stat().st_mode),
                directory,
            )
        sockets: Path | None = None
        try:
            password = _prepare(bindir, directory, run_as)
            (directory / "data" / "pg_hba.conf").write_text(_hba_lines(listen))
            sockets = _socket_directory(directory, run_as)
            _stop_leftover(directory / "data")
            process, port = _launch(bindir, directory, run_as, listen, config.port, sockets)
        except BaseException:
            if sockets is not None and not sockets.is_relative_to(directory):
                shutil.rmtree(sockets, ignore_errors=True)
            if not keep_data or blocked is not None:
                shutil.rmtree(directory, ignore_errors=True)
            raise
        login = f"postgresql+psycopg://{SUPERUSER}:{urllib.parse.quote(password, safe='')}@"
        host = _url_host(listen, config.host)
        tcp_url = f"{login}{host}:{port}/{DATABASE}"
        socket_query = urllib.parse.quote(os.fspath(sockets), safe="/")
        url = f"{login}:{port}/{DATABASE}?host={socket_query}" if local else tcp_url
        server = cls(
            process,
            url=url,
            tcp_url=tcp_url,
            port=port,
            listen=listen,
            directory=directory,
            socket_directory=sockets,
            keep_data=keep_data,
        )
        server._level = level
        _logger.log(
            level,
            "private PostgreSQL server (pid %d) listening on %s port %d and in %s; trials "
            "connect %s; data in %s",
            process.pid,
            listen,
            port,
            sockets,
            "through its Unix socket" if local else f"to {host}:{port}",
            directory,
        )
        return server

    def stop(self) -> None:
        """Shut the server down (fast: open sessions are ended) and wait until it has gone.

        Removes its directory unless ``keep_data``. Calling it again does nothing.
        """
        process, self._process = self._process, None
        if process is None:
            return
        _shut_down(process)
        if not self.socket_directory.is_relative_to(self.directory):
            shutil.rmtree(self.socket_directory, ignore_errors=True)
        if self.keep_data:
            _logger.log(
                self._level,
                "private PostgreSQL server stopped; its data stays in %s "
                "(sherpa.storage.PrivatePostgres().start(%r) starts it again)",
                self.directory,
                str(self.directory.parent),
            )
        else:
            shutil.rmtree(self.directory, ignore_errors=True)
            _logger.log(
                self._level, "private PostgreSQL server stopped; %s removed", self.directory
            )

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self._process is not None else "stopped"
        return f"PostgresServer({self.listen}:{self.port}, {self.directory}, {state})"


def _socket_directory(directory: Path, run_as: _RunAs) -> Path:
    """The private directory (mode 0700, owned by the server's user) for the Unix socket.

    ``directory/socket`` unless the socket's path there would be too long for the system,
    or holds a space, quote or comma (``unix_socket_directories`` is a list); then a new
    directory under the system's temporary directory.
    """
    chosen = directory / "socket"
    path = os.fspath(chosen / _SOCKET_NAME.format(port=65535))
    if len(path) > _MAX_SOCKET_PATH or not _is_plain(path):  # a list setting: no quoting
        chosen = Path(tempfile.mkdtemp(prefix="sherpa-postgres-socket-"))
    else:
        chosen.mkdir(mode=0o700, exist_ok=True)
    chosen.chmod(0o700)
    if run_as.name is not None:
        os.chown(chosen, run_as.uid, -1)
    return chosen


def _prepare(bindir: Path, directory: Path, run_as: _RunAs) -> str:
    """Create the cluster in ``directory/data`` unless it exists; return its password."""
    directory.mkdir(mode=0o700, exist_ok=True)
    directory.chmod(0o700)
    if run_as.name is not None:
        os.chown(directory, run_as.uid, -1)
    data, secret = directory / "data", directory / "password"
    if (data / "PG_VERSION").is_file():
        try:
            return secret.read_text().strip()
        except OSError as exc:
            raise StorageUnreachableError(
                f"the PostgreSQL cluster in {data} has no password file {secret} ({exc}); "
                "remove the directory to start a new cluster"
            ) from None
    if data.exists() and any(data.iterdir()):
        raise StorageUnreachableError(
            f"{data} is not empty and holds no PostgreSQL cluster; remove it or choose "
            "another output_dir"
        )
    with contextlib.suppress(FileNotFoundError):
        secret.unlink()
    password = _new_password()
    _write_private(secret, password + "\n", run_as)
    _run(
        run_as,
        [str(bindir / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=scram-sha-256",
         f"--pwfile={secret}", "--encoding=UTF8", "--locale=C"],
        cwd=directory,
        what="initdb",
    )  # fmt: skip
    return password


def _new_password() -> str:
    import secrets

    return secrets.token_urlsafe(32)


def _run(run_as: _RunAs, argv: Sequence[str], *, cwd: Path, what: str) -> None:
    try:
        subprocess.run(argv, user=run_as.name, cwd=cwd, check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as exc:
        output = " | ".join(line for line in (exc.stderr or exc.stdout).splitlines() if line)
        raise StorageUnreachableError(
            f"the private PostgreSQL server could not be set up: {what} failed "
            f"(exit code {exc.returncode}): {output}"
        ) from None


def _stop_leftover(data: Path) -> None:
    """Stop a server left running on ``data`` by an earlier run that was killed."""
    try:
        pid = int((data / "postmaster.pid").read_text().split("\n", 1)[0])
        alive = Path(f"/proc/{pid}/cwd").resolve() == data.resolve()
    except (OSError, ValueError):
        return
    if not alive:
        return
    _logger.warning("private PostgreSQL server: stopping pid %d, left running on %s", pid, data)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGINT)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while _running(pid) and time.monotonic() < deadline:
        time.sleep(_POLL_S)


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists and has not exited (a zombie has)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _launch(
    bindir: Path,
    directory: Path,
    run_as: _RunAs,
    listen: str,
    port: int | None,
    sockets: Path,
) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``postgres`` and wait until it accepts connections; retry a free port once."""
    for attempt in range(3):
        chosen = port if port is not None else _free_port(listen)
        if port is not None:
            _check_port_free(listen, port)
        process = _spawn(bindir, directory, run_as, listen, chosen, sockets)
        try:
            if _wait_ready(process, directory / "data"):
                return process, chosen
        except BaseException:
            _shut_down(process)
            raise
        tail = _log_tail(directory / "server.log")
        if port is None and "already in use" in tail and attempt < 2:
            continue  # another program took the free port between the probe and the bind
        raise StorageUnreachableError(
            f"the private PostgreSQL server did not start on {listen} port {chosen} "
            f"(exit code {process.returncode}); its log {directory / 'server.log'}: {tail}"
        )
    raise AssertionError("unreachable")


def _spawn(
    bindir: Path, directory: Path, run_as: _RunAs, listen: str, port: int, sockets: Path
) -> subprocess.Popen[bytes]:
    log = directory / "server.log"
    descriptor = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.fchmod(descriptor, 0o600)
        if run_as.name is not None:
            os.fchown(descriptor, run_as.uid, -1)
        settings = {
            "listen_addresses": listen,
            "port": str(port),
            "unix_socket_directories": os.fspath(sockets),
            "unix_socket_permissions": "0700",
            "max_connections": str(MAX_CONNECTIONS),
            "password_encryption": "scram-sha-256",
            # As SQLite's WAL mode with synchronous=NORMAL: a commit does not wait for its
            # WAL flush (a few ms each), so a power cut may lose the last ~0.6 s of metrics
            # but never corrupts the store.
            "synchronous_commit": "off",
        }
        argv = [str(bindir / "postgres"), "-D", str(directory / "data")]
        for name, value in settings.items():
            argv += ["-c", f"{name}={value}"]
        # A session of its own: Ctrl-C in the terminal reaches the runner, which then stops
        # the trials, reads their last metrics and only then shuts the server down.
        return subprocess.Popen(
            argv,
            user=run_as.name,
            cwd=directory,
            stdin=subprocess.DEVNULL,
            stdout=descriptor,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        os.close(descriptor)


def _wait_ready(process: subprocess.Popen[bytes], data: Path) -> bool:
    """Wait until the server says "ready" in its pid file; False when it exited first."""
    deadline = time.monotonic() + START_TIMEOUT_S
    pidfile = data / "postmaster.pid"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        with contextlib.suppress(OSError):
            lines = pidfile.read_text().splitlines()
            if len(lines) >= 8 and lines[0] == str(process.pid) and lines[7].strip() == "ready":
                return True
        time.sleep(_POLL_S)
    _shut_down(process)
    raise StorageUnreachableError(
        f"the private PostgreSQL server did not get ready within {START_TIMEOUT_S:.0f} s; "
        f"its log: {_log_tail(data.parent / 'server.log')}"
    )


def _shut_down(process: subprocess.Popen[bytes]) -> None:
    """Fast shutdown (SIGINT), then immediate (SIGQUIT), then SIGKILL; wait for the exit."""
    for signum, timeout in (
        (signal.SIGINT, STOP_TIMEOUT_S),
        (signal.SIGQUIT, 10.0),
        (signal.SIGKILL, None),
    ):
        if process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signum)
        try:
            process.wait(timeout)
            return
        except subprocess.TimeoutExpired:
            continue
