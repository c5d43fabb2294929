"""Plain records the store hands out; no database types leak past the store."""

from __future__ import annotations

import dataclasses
from typing import Any

from sherpa.trial import TrialStatus

__all__ = ["ObservationRecord", "StudyRecord", "TrialRecord"]


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
