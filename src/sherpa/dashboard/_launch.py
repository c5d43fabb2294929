"""Starting the dashboard: with a study or a run, and on its own over a stored study."""

from __future__ import annotations

import importlib.util
import os
import threading
import weakref
from typing import TYPE_CHECKING, Any

from sherpa.logging import get_logger
from sherpa.storage._locate import resolve_store_url

if TYPE_CHECKING:
    from collections.abc import Callable

    from sherpa.dashboard._server import DashboardServer
    from sherpa.storage import SQLStorage
    from sherpa.study import Study

__all__ = ["INSTALL_HINT", "run_dashboard", "start_dashboard", "start_for_study"]

_logger = get_logger(__name__)

INSTALL_HINT = "pip install 'sherpa[dashboard]'"

_said: set[str] = set()
_said_lock = threading.Lock()


def _say_once(key: str, message: str, *args: Any) -> None:
    with _said_lock:
        if key in _said:
            return
        _said.add(key)
    _logger.info(message, *args)


def dashboard_available() -> bool:
    """Whether the dashboard can be served: it needs plotly.js from the plotly package."""
    try:
        return importlib.util.find_spec("plotly") is not None
    except (ImportError, ValueError):  # a broken or hidden installation
        return False


def store_url(path_or_storage: SQLStorage | str | os.PathLike[str]) -> str:
    """The database URL of an output directory, a database file, a URL or a store.

    Raises:
        TypeError: ``path_or_storage`` is none of these.
        StorageUnreachableError: there is no sherpa store at the path.
    """
    url = getattr(path_or_storage, "url", None)
    if isinstance(url, str):
        return url
    if not isinstance(path_or_storage, (str, os.PathLike)):
        raise TypeError(
            "path_or_storage must be an output directory, a database file, a database URL "
            f"or an SQLStorage; got {path_or_storage!r}"
        )
    return resolve_store_url(path_or_storage)


def start_dashboard(
    path_or_storage: SQLStorage | str | os.PathLike[str],
    *,
    study_name: str | None = None,
    host: str = "127.0.0.1",
    port: int | None = None,
    on_stop: Callable[[int], None] | None = None,
    preload: bool = False,
) -> DashboardServer:
    """Start serving the dashboard of a stored study from a daemon thread; return at once.

    Args:
        path_or_storage: An output directory, a database file, a database URL or a store.
        study_name: Which study of the store (default: the newest).
        host: The address to listen on (``127.0.0.1``: this machine only).
        port: The port; None takes the first free one from 8880.
        on_stop: Called with a trial's number after the dashboard asked for its stop.
        preload: Read the study before returning, so the first page opens fast and a
            missing study fails here.

    Returns:
        The running server; its ``url`` carries the token; ``stop()`` ends it.

    Raises:
        ImportError: plotly is not installed (``pip install 'sherpa[dashboard]'``).
        OSError: the address cannot be bound.
        StorageError: the store cannot be opened or has no such study (with ``preload``).
    """
    from sherpa.dashboard._server import DashboardServer
    from sherpa.dashboard._view import StudyView

    if not dashboard_available():
        raise ImportError(f"the dashboard needs the plotly package: {INSTALL_HINT}")
    url = store_url(path_or_storage)
    server = DashboardServer(
        lambda: StudyView(url, study_name, on_stop=on_stop), host=host, port=port
    )
    if preload:
        try:
            server.app.view().refresh(force=True)
        except BaseException:
            server.stop()
            raise
    return server.start()


def run_dashboard(
    path_or_storage: SQLStorage | str | os.PathLike[str],
    host: str = "127.0.0.1",
    port: int | None = None,
    *,
    study_name: str | None = None,
) -> None:
    """Serve the dashboard of a running or finished study until interrupted (Ctrl-C).

    Logs the address to open, with its token, once.

    Args:
        path_or_storage: An output directory of ``sherpa.optimize``, its ``sherpa.db``, a
            database URL, or an :class:`~sherpa.storage.SQLStorage`.
        host: The address to listen on; ``127.0.0.1`` (this machine only) unless you name
            another.
        port: The port; None takes the first free one from 8880.
        study_name: Which study of the store (default: the newest).

    Raises:
        ImportError: plotly is not installed (``pip install 'sherpa[dashboard]'``).
        OSError: the address cannot be bound.
        StorageError: the store cannot be opened or has no such study.
    """
    server = start_dashboard(
        path_or_storage, study_name=study_name, host=host, port=port, preload=True
    )
    name = server.app.view().record.name
    _logger.info("dashboard for study %s: %s (Ctrl-C to stop)", name, server.url)
    try:
        while not server.wait(0.5):
            pass
    except KeyboardInterrupt:
        _logger.info("dashboard for study %s stopped", name)
    finally:
        server.stop()


def start_for_study(study: Study) -> DashboardServer | None:
    """Start the dashboard of a study that has a store; never raises.

    Without a store, without plotly, or when the port cannot be had, it logs why (each
    reason once per process, or a warning for a port the user named) and returns None: a
    study never fails for its dashboard. The server stops with :meth:`Study.close`, or when
    the study is garbage collected, or at exit.
    """
    if study.storage is None:
        _say_once(
            "memory",
            "dashboard: not started for study %s: it keeps its trials in memory; give the "
            "study a store (storage=...) to watch it in the dashboard",
            study.name,
        )
        return None
    if not dashboard_available():
        _say_once("plotly", "dashboard: not started: it needs plotly (%s)", INSTALL_HINT)
        return None
    try:
        server = start_dashboard(
            study.storage, study_name=study.name, port=study.dashboard_port,
            on_stop=_stop_hook(study),
        )  # fmt: skip
    except OSError as exc:
        where = f"port {study.dashboard_port}" if study.dashboard_port else "a port"
        _logger.warning(
            "dashboard: not started for study %s: cannot listen on %s: %s", study.name, where, exc
        )
        return None
    weakref.finalize(study, server.stop)
    _logger.info("dashboard for study %s: %s", study.name, server.url)
    return server


def _stop_hook(study: Study) -> Callable[[int], None]:
    reference = weakref.ref(study)

    def tell_study(number: int) -> None:
        from sherpa.exceptions import SherpaError

        target = reference()
        if target is None:
            return
        try:
            target.request_stop(target.get_trial(number))
        except SherpaError as exc:
            _logger.debug("dashboard: trial %d: study not told of the stop: %s", number, exc)

    return tell_study
