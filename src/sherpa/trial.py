"""Trials and the states of trials and algorithms."""

from __future__ import annotations

import enum
import numbers
from typing import Any

__all__ = ["AlgorithmState", "Trial", "TrialStatus"]


class TrialStatus(str, enum.Enum):
    """The status of a trial, as it appears in the ``Status`` column of ``study.results``.

    Members compare equal to their names as plain strings (``TrialStatus.COMPLETED ==
    "COMPLETED"``), as SHERPA's string constants did.
    """

    INTERMEDIATE = "INTERMEDIATE"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    STOPPED = "STOPPED"

    def __str__(self) -> str:
        return self.value

    @property
    def is_finished(self) -> bool:
        """Whether the trial has ended (every status but ``INTERMEDIATE``)."""
        return self is not TrialStatus.INTERMEDIATE

    @classmethod
    def parse(cls, value: object, *, argument: str = "status") -> TrialStatus:
        """Return the member named by ``value``.

        Raises:
            ValueError: ``value`` names no status.
        """
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            try:
                return cls(value.upper())
            except ValueError:
                pass
        names = ", ".join(member.value for member in cls)
        raise ValueError(f"{argument} must be one of {names}; got {value!r}")


class AlgorithmState(str, enum.Enum):
    """What an algorithm answers instead of a configuration.

    ``WAIT`` asks the caller to come back once running trials have finished; ``DONE`` ends the
    study.
    """

    DONE = "DONE"
    WAIT = "WAIT"

    def __str__(self) -> str:
        return self.value


class Trial:
    """One configuration to evaluate.

    Args:
        id: The trial's number within its study, starting at 1.
        parameters: The configuration: one value per parameter, plus any extra fields an
            algorithm attaches (a resource, a checkpoint path, a generation).

    Example:
        >>> trial = Trial(id=1, parameters={"lr": 0.01})
        >>> trial.parameters["lr"]
        0.01
    """

    __slots__ = ("id", "parameters")

    def __init__(self, id: int, parameters: dict[str, Any]) -> None:  # noqa: A002 (SHERPA's name)
        if isinstance(id, bool) or not isinstance(id, numbers.Integral):
            raise TypeError(f"Trial id must be an int; got {id!r} ({type(id).__name__})")
        if not isinstance(parameters, dict):
            raise TypeError(
                f"Trial parameters must be a dict; got {parameters!r} "
                f"({type(parameters).__name__})"
            )
        self.id: int = int(id)
        self.parameters: dict[str, Any] = parameters

    def __repr__(self) -> str:
        return f"Trial(id={self.id}, parameters={self.parameters!r})"
