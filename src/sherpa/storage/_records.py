"""Plain records the store hands out; no database types leak past the store."""

from __future__ import annotations

import dataclasses
from typing import Any

from sherpa.trial import TrialStatus

__all__ = ["HeartbeatRecord", "ObservationRecord", "StudyRecord", "TrialRecord"]


@dataclasses.dataclass(frozen=True)
class StudyRecord:
    """A study as stored: its identity and its definition."""

    id: int
    name: str
    lower_is_better: bool
    parameters: list[dict[str, Any]]
    created_at: float


@dataclasses.dataclass(frozen=True)
class TrialRecord:
    """A trial as stored."""

    number: int
    parameters: dict[str, Any]
    status: TrialStatus
    created_at: float
    finished_at: float | None = None
    job_id: str | None = None
    stop_requested: bool = False
    heartbeat_at: float | None = None
    """The last heartbeat, by the database's clock (UTC seconds); None before the first."""
    host: str | None = None
    """The host the trial process runs on, as its heartbeat reported it."""
    pid: int | None = None
    """The trial process's id on that host."""


@dataclasses.dataclass(frozen=True)
class HeartbeatRecord:
    """The last sign of life of an open trial's process.

    ``at`` is the database's clock (UTC seconds since the epoch) when the heartbeat was
    written; ``host`` and ``pid`` say where the process runs.
    """

    at: float
    host: str | None
    pid: int | None


@dataclasses.dataclass(frozen=True)
class ObservationRecord:
    """One reported metric: the value of the objective at one iteration of one trial.

    ``id`` grows with every observation written to the store; readers ask for the rows after
    the last id they have seen.
    """

    id: int
    trial_number: int
    iteration: int
    objective: float
    context: dict[str, Any]
    created_at: float
