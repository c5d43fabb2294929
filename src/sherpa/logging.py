"""The package logger.

Every module logs through a child of the ``sherpa`` logger. Importing sherpa never touches
the root logger: the package logger carries its own handler, which writes to whatever
``sys.stderr`` is at the time of each message.
"""

from __future__ import annotations

import logging
import sys
import threading

__all__ = [
    "disable_default_handler",
    "enable_default_handler",
    "get_logger",
    "get_verbosity",
    "set_verbosity",
]

_LIBRARY_NAME = "sherpa"
_lock = threading.Lock()
_default_handler: logging.Handler | None = None


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg,unused-ignore]
    """A stream handler that looks up ``sys.stderr`` at each message, not at creation."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        pass


def _library_logger() -> logging.Logger:
    global _default_handler
    logger = logging.getLogger(_LIBRARY_NAME)
    with _lock:
        if _default_handler is None:
            _default_handler = _StderrHandler()
            _default_handler.setFormatter(logging.Formatter("[sherpa %(levelname)s] %(message)s"))
            logger.addHandler(_default_handler)
            logger.setLevel(logging.INFO)
            logger.propagate = False
    return logger


def get_logger(name: str) -> logging.Logger:
    """Return the logger for a module of the package.

    Args:
        name: The module's ``__name__``; it must lie inside the ``sherpa`` package.

    Returns:
        The module's logger, a child of the package logger.
    """
    _library_logger()
    return logging.getLogger(name)


def set_verbosity(level: int) -> None:
    """Set the level of the package logger, e.g. ``logging.WARNING`` to silence progress."""
    _library_logger().setLevel(level)


def get_verbosity() -> int:
    """Return the level of the package logger."""
    return _library_logger().getEffectiveLevel()


def disable_default_handler() -> None:
    """Stop the package's own stderr handler and let records reach the root logger's."""
    logger = _library_logger()
    if _default_handler is not None:
        logger.removeHandler(_default_handler)
    logger.propagate = True


def enable_default_handler() -> None:
    """Restore the package's own stderr handler (the default)."""
    logger = _library_logger()
    if _default_handler is not None and _default_handler not in logger.handlers:
        logger.addHandler(_default_handler)
    logger.propagate = False
