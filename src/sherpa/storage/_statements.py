"""The statements both sides of the store share: a trial's row and observation writes.

The runner's side reaches the database through SQLAlchemy; a trial process uses the
standard library's ``sqlite3`` for SQLite files so that it starts in milliseconds. Both run
exactly these statements, through an :class:`Executor`, so the two sides cannot drift apart.
The table and column names are those of :mod:`sherpa.storage._schema`.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Sequence
from typing import Any, Protocol

from sherpa._convert import dumps_json
from sherpa.exceptions import (
    DuplicateObservationError,
    StorageError,
    TrialFinishedError,
    UnknownTrialError,
)
from sherpa.trial import TrialStatus

__all__ = [
    "Executor",
    "PendingObservation",
    "database_now_sql",
    "fetch_trial",
    "insert_observation",
    "insert_observations",
    "record_heartbeat",
]

_SELECT_TRIAL = (
    "SELECT id, parameters, status FROM sherpa_trials "
    "WHERE study_id = :study_id AND number = :number"
)

_INSERT_OBSERVATION = (
    "INSERT INTO sherpa_observations "
    "(study_id, trial_id, iteration, objective, context, created_at) "
    "SELECT t.study_id, t.id, :iteration, :objective, :context, :created_at "
    "FROM sherpa_trials t "
    "WHERE t.study_id = :study_id AND t.number = :number AND t.status = 'INTERMEDIATE' "
    "ON CONFLICT (trial_id, iteration) DO NOTHING"
)

_SELECT_OWN_OBSERVATION = (
    "SELECT COUNT(*) FROM sherpa_observations o JOIN sherpa_trials t ON o.trial_id = t.id "
    "WHERE t.study_id = :study_id AND t.number = :number AND o.iteration = :iteration "
    "AND o.created_at = :created_at AND o.context = :context AND {objective}"
)
"""Whether the stored observation at an iteration is this very one: the same creation time,
context and objective, compared by the database (parameters travel exactly; a float read
back as text may not)."""

_RECORD_HEARTBEAT = (
    "UPDATE sherpa_trials SET heartbeat_at = {now}, host = :host, pid = :pid "
    "WHERE study_id = :study_id AND number = :number AND status = 'INTERMEDIATE'"
)

_DATABASE_NOW = {
    # SQLite has no server: its clock is the one of the host running the statement.
    "sqlite": "((julianday('now') - 2440587.5) * 86400.0)",
    "postgresql": "CAST(EXTRACT(EPOCH FROM statement_timestamp()) AS DOUBLE PRECISION)",
}


class Executor(Protocol):
    """Runs one SQL statement with named (``:name``) parameters, each in its own transaction.

    ``dialect`` names the database (``"sqlite"``, ``"postgresql"``), for the few statements
    that differ between them.
    """

    dialect: str

    def execute(self, sql: str, params: dict[str, Any]) -> int:
        """Run a write; return the number of rows it changed."""

    def execute_many(self, sql: str, params: Sequence[dict[str, Any]]) -> list[int]:
        """Run a write once per parameter set, in one transaction where the database allows,
        with as few round trips as it allows; return the rows each run changed."""

    def query(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Run a read; return its rows."""

    def close(self) -> None:
        """Release the connection."""


@dataclasses.dataclass(frozen=True)
class PendingObservation:
    """An observation a trial has reported and that is not stored yet."""

    number: int
    iteration: int
    objective: float
    context: dict[str, Any]
    created_at: float


def fetch_trial(executor: Executor, study_id: int, number: int) -> tuple[dict[str, Any], str]:
    """Return the parameters and status of trial ``number`` of study ``study_id``.

    Raises:
        UnknownTrialError: the study has no such trial.
    """
    rows = executor.query(_SELECT_TRIAL, {"study_id": study_id, "number": number})
    if not rows:
        raise UnknownTrialError(f"trial {number} does not exist in study {study_id}")
    _, parameters, status = rows[0]
    return json.loads(parameters), str(status)


def _observation_params(study_id: int, observation: PendingObservation) -> dict[str, Any]:
    objective = observation.objective
    return {
        "study_id": study_id,
        "number": observation.number,
        "iteration": observation.iteration,
        "objective": None if objective != objective else objective,  # NaN is stored as NULL
        "context": dumps_json(observation.context),
        "created_at": observation.created_at,
    }


def _is_stored(executor: Executor, study_id: int, observation: PendingObservation) -> bool:
    """Whether ``observation`` itself is in the store: a retried insert whose first try
    committed but whose reply was lost."""
    params = _observation_params(study_id, observation)
    if params["objective"] is None:
        sql = _SELECT_OWN_OBSERVATION.format(objective="o.objective IS NULL")
        del params["objective"]
    else:
        sql = _SELECT_OWN_OBSERVATION.format(objective="o.objective = :objective")
    return bool(executor.query(sql, params)[0][0])


def _status(executor: Executor, study_id: int, number: int) -> str | UnknownTrialError:
    try:
        return fetch_trial(executor, study_id, number)[1]
    except UnknownTrialError as exc:
        return exc


def _refusal(
    executor: Executor, study_id: int, observation: PendingObservation, status: str | Exception
) -> Exception | None:
    """Why the store did not take ``observation`` (its insert changed no row), given the
    trial's ``status``; None when the stored row is this very observation."""
    if _is_stored(executor, study_id, observation):
        return None
    if isinstance(status, Exception):
        return status
    if status != TrialStatus.INTERMEDIATE.value:
        return TrialFinishedError(
            f"trial {observation.number} is already {status}; its observation at iteration "
            f"{observation.iteration} was not stored"
        )
    return DuplicateObservationError(
        f"trial {observation.number} already has an observation at iteration "
        f"{observation.iteration}"
    )


def insert_observation(
    executor: Executor,
    study_id: int,
    number: int,
    iteration: int,
    objective: float,
    context: dict[str, Any],
) -> None:
    """Store one observation of an open trial, atomically.

    Raises:
        UnknownTrialError: the study has no such trial.
        TrialFinishedError: the trial has already been finalized.
        DuplicateObservationError: the trial already has an observation at ``iteration``.
    """
    observation = PendingObservation(number, iteration, objective, context, time.time())
    if executor.execute(_INSERT_OBSERVATION, _observation_params(study_id, observation)) != 1:
        reason = _refusal(executor, study_id, observation, _status(executor, study_id, number))
        if reason is not None:
            raise reason


def insert_observations(
    executor: Executor, study_id: int, observations: Sequence[PendingObservation]
) -> list[tuple[PendingObservation, Exception]]:
    """Store several observations at once; return those the store refused, with the reason.

    Each observation is stored or refused on its own, as by :func:`insert_observation`, but
    all of them travel together (one transaction; on PostgreSQL one round trip).
    """
    params = [_observation_params(study_id, observation) for observation in observations]
    counts = executor.execute_many(_INSERT_OBSERVATION, params)
    unchanged = [o for o, count in zip(observations, counts, strict=True) if count != 1]
    refused: list[tuple[PendingObservation, Exception]] = []
    statuses: dict[int, str | Exception] = {}
    for index, observation in enumerate(unchanged):
        try:
            if observation.number not in statuses:
                statuses[observation.number] = _status(executor, study_id, observation.number)
            reason = _refusal(executor, study_id, observation, statuses[observation.number])
        except Exception as exc:  # the batch is stored; only these could not be checked
            reason = StorageError(
                f"trial {observation.number}: the store did not take the observation at "
                f"iteration {observation.iteration}, and why could not be read: {exc}"
            )
            refused += [(o, reason) for o in unchanged[index:]]
            break
        if reason is not None:
            refused.append((observation, reason))
    return refused


def database_now_sql(dialect: str) -> str | None:
    """The SQL expression for the database's clock in UTC seconds since the epoch, if known.

    On PostgreSQL every host that writes a heartbeat, and the runner that reads them, then
    uses the server's one clock; on SQLite it is the clock of the (single) host the file is on.
    """
    return _DATABASE_NOW.get(dialect)


def record_heartbeat(executor: Executor, study_id: int, number: int, host: str, pid: int) -> bool:
    """Stamp an open trial's heartbeat with the database's clock, and where the trial runs.

    Returns:
        Whether the trial is still open (False: it was finalized, or it does not exist).
    """
    now = database_now_sql(executor.dialect)
    params: dict[str, Any] = {"study_id": study_id, "number": number, "host": host, "pid": pid}
    if now is None:  # a database we have no clock expression for: this host's UTC clock
        now, params["now"] = ":now", time.time()
    return executor.execute(_RECORD_HEARTBEAT.format(now=now), params) == 1
