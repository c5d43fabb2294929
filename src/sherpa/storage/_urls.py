"""Store addresses: database URLs, without importing SQLAlchemy."""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path

__all__ = [
    "DEFAULT_DB_FILENAME",
    "display_url",
    "is_sqlite_url",
    "server_address",
    "sqlite_path",
    "sqlite_url",
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
