"""The errors sherpa raises, rooted at :class:`SherpaError`.

Errors about bad input also derive from the built-in ``ValueError`` or ``TypeError``, so code
written against SHERPA, which raised those, keeps working.
"""

from __future__ import annotations

__all__ = [
    "AlgorithmError",
    "DuplicateObservationError",
    "SherpaError",
    "StorageError",
    "StorageUnreachableError",
    "TrialFinishedError",
    "UnknownTrialError",
]


class SherpaError(Exception):
    """Base class of every error raised by sherpa."""


class UnknownTrialError(SherpaError, ValueError):
    """A trial id that does not belong to the study."""


class DuplicateObservationError(SherpaError, ValueError):
    """A second observation for the same trial and iteration."""


class TrialFinishedError(SherpaError, ValueError):
    """A change to a trial that has already been finalized."""


class AlgorithmError(SherpaError, RuntimeError):
    """An algorithm answered something the study cannot use."""


class StorageError(SherpaError):
    """The store refused an operation."""


class StorageUnreachableError(StorageError):
    """No store was configured, or the configured one cannot be opened."""
