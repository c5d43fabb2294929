"""Store addresses: database URLs, without importing SQLAlchemy."""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path

from sherpa.exceptions import StorageUnreachableError

__all__ = [
    "DEFAULT_DB_FILENAME",
    "describe_error",
    "display_url",
    "is_sqlite_url",
    "server_address",
    "sqlite_path",
    "sqlite_url",
    "unreachable",
]

DEFAULT_DB_FILENAME = "sherpa.db"


def sqlite_url(path: str | os.PathLike[str]) -> str:
    """Return the URL of the SQLite file at ``path``, made absolute, with ``%?#`` quoted."""
    return "sqlite:///" + urllib.parse.quote(str(Path(path).resolve()), safe="/ ")


def is_sqlite_url(url: str) -> bool:
    """Whether ``url`` names an SQLite database (``sqlite:///...`` or ``sqlite+pysqlite:///``)."""
    return url.split(":", 1)[0].split("+", 1)[0] == "sqlite"


def sqlite_path(url: str) -> str:
    """Return the file path inside an SQLite URL.

    Raises:
        ValueError: not a file-backed SQLite URL.
    """
    scheme, sep, rest = url.partition(":///")
    if not sep or not is_sqlite_url(scheme + ":"):
        raise ValueError(f"database URL is not an SQLite file URL (sqlite:///PATH): {url!r}")
    path = urllib.parse.unquote(rest.split("?", 1)[0])
    if not path or path == ":memory:":
        raise ValueError(f"database URL must name an SQLite file, not memory: {url!r}")
    return path


def display_url(url: str) -> str:
    """Return ``url`` fit for logs and error messages: its password, if any, replaced by ***."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    netloc, slash, tail = rest.partition("/")
    credentials, at, hostport = netloc.rpartition("@")
    if not at or ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{hostport}{slash}{tail}"


def server_address(url: str) -> str:
    """Return ``host HOST, port PORT`` of a server database URL, for error messages.

    A ``host`` query parameter naming a directory (a Unix socket's) is shown as such.
    """
    rest, _, query = url.partition("://")[2].partition("?")
    hostport = rest.partition("/")[0].rpartition("@")[2]
    host, _, port = hostport.rpartition(":") if not hostport.endswith("]") else (hostport, "", "")
    if not host and not hostport.startswith(":"):
        host, port = port, ""
    host = dict(urllib.parse.parse_qsl(query)).get("host", host)
    if host.startswith("/"):
        return f"Unix socket in {host!r}, port {port or 'default'}"
    return f"host {host or 'localhost'!r}, port {port or 'default'}"


def describe_error(exc: BaseException) -> str:
    """The first line of an exception's message (its type's name when it has none)."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def unreachable(url: str, exc: BaseException) -> StorageUnreachableError:
    """The error for a server store that refused or lost a connection: names its address.

    The password never appears (see :func:`display_url`).
    """
    return StorageUnreachableError(
        f"store {display_url(url)!r} cannot be reached ({server_address(url)}): "
        f"{describe_error(exc)}"
    )
