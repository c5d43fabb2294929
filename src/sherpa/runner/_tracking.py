"""What the runner knows of each open job: its last status and its trial's heartbeat.

From these it counts running and queued jobs for the progress lines, and finds trials that
are lost: their process stopped beating and their job is gone from the scheduler (the node
died). The rule, in full:

- A trial process stamps its heartbeat every ``beat_interval`` seconds (see
  :mod:`sherpa.storage._heartbeat`). The tracker reads the heartbeats just as often and
  remembers, by the runner's monotonic clock, when each trial's heartbeat last *changed*.
  Only changes are compared, never one host's clock with another's, so clock skew between
  hosts (or between a host and the database) cannot make a trial look dead or alive.
- A trial is **silent** when its heartbeat has not changed for ``heartbeat_timeout`` seconds
  (counted from its submission if it never sent one).
- A trial is **lost** when it is silent and the scheduler has reported its job
  :attr:`~sherpa.schedulers.JobStatus.UNKNOWN` (or left it out of its answer) on every poll
  for at least a quarter of ``heartbeat_timeout``; one odd answer of a batch system does not
  fail a trial. The runner then records it FAILED, and resubmits it when asked to.
- A silent trial whose job still shows RUNNING (or QUEUED) is warned about once and left
  alone: a hung host, a trial cut off from the store and a trial in C code that holds the
  GIL look the same from here, and only the first is a reason to kill.
- A queued trial that never started is never lost while its job shows QUEUED.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sherpa._convert import to_builtin
from sherpa.logging import get_logger
from sherpa.schedulers import JobStatus

if TYPE_CHECKING:
    from sherpa.storage import HeartbeatRecord, SQLStorage

__all__ = ["HEARTBEAT_TIMEOUT_S", "JobTracker", "check_heartbeat_timeout"]

_logger = get_logger(__name__)

HEARTBEAT_TIMEOUT_S = 60.0
"""The default ``heartbeat_timeout`` of :func:`sherpa.optimize`."""

MAX_BEAT_INTERVAL_S = 5.0
"""Trials beat this often, or four times per ``heartbeat_timeout`` if that is more often."""

UNKNOWN_SHARE = 0.25
"""For how much of ``heartbeat_timeout`` a job must be UNKNOWN before its trial is lost."""


def check_heartbeat_timeout(value: object) -> float:
    """Return ``heartbeat_timeout`` as a float, or raise naming it and the bad value.

    ``float("inf")`` is allowed: trials are then never declared lost.
    """
    value = to_builtin(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(
            f"heartbeat_timeout must be a number of seconds; got {value!r} "
            f"({type(value).__name__})"
        )
    if not value > 0:
        raise ValueError(f"heartbeat_timeout must be more than 0 seconds; got {value!r}")
    return float(value)


def _utc(timestamp: float) -> str:
    moment = datetime.datetime.fromtimestamp(timestamp, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _where(beat: HeartbeatRecord) -> str:
    return f"host {beat.host or '?'}, pid {beat.pid if beat.pid is not None else '?'}"


@dataclasses.dataclass
class _Job:
    job_id: str
    alive_at: float
    """The runner's monotonic time when the heartbeat last changed (or the submission)."""
    status: JobStatus = JobStatus.QUEUED
    unknown_since: float | None = None
    heartbeat: HeartbeatRecord | None = None
    warned_silent: bool = False


class JobTracker:
    """Tracks the open jobs of one study: their statuses and their trials' heartbeats.

    Args:
        storage: The study's store.
        study_id: The study.
        heartbeat_timeout: Seconds without a heartbeat after which a trial counts as silent.
        level: The logging level of progress messages (INFO, or DEBUG when not verbose).
    """

    def __init__(
        self, storage: SQLStorage, study_id: int, heartbeat_timeout: float, level: int
    ) -> None:
        self.storage = storage
        self.study_id = study_id
        self.heartbeat_timeout = heartbeat_timeout
        self.beat_interval = min(MAX_BEAT_INTERVAL_S, heartbeat_timeout / 4)
        self.level = level
        self._jobs: dict[int, _Job] = {}
        self._check_at = 0.0

    def add(self, number: int, job_id: str, now: float) -> None:
        """Track trial ``number``, just submitted as ``job_id``."""
        self._jobs[number] = _Job(job_id, alive_at=now)

    def remove(self, number: int) -> None:
        """Stop tracking trial ``number`` (it has ended)."""
        self._jobs.pop(number, None)

    def set_status(self, number: int, status: JobStatus, now: float) -> None:
        """Record the status the scheduler reported for trial ``number``'s job."""
        job = self._jobs[number]
        job.status = status
        if status is not JobStatus.UNKNOWN:
            job.unknown_since = None
        elif job.unknown_since is None:
            job.unknown_since = now

    def counts(self, numbers: Iterable[int]) -> tuple[int, int, int]:
        """How many of the jobs of trials ``numbers`` were last seen running, queued, unknown."""
        statuses = [self._jobs[n].status for n in numbers if n in self._jobs]
        return (
            statuses.count(JobStatus.RUNNING),
            statuses.count(JobStatus.QUEUED),
            statuses.count(JobStatus.UNKNOWN),
        )

    def find_lost(self, now: float) -> dict[int, str]:
        """Return the lost trials, each with the reason to log; checks every beat interval.

        Also warns, once per silence, about silent trials whose job still shows as alive.
        """
        if not self._jobs or now < self._check_at or math.isinf(self.heartbeat_timeout):
            return {}
        self._check_at = now + self.beat_interval
        beats = self.storage.read_heartbeats(self.study_id)
        lost = {}
        for number, job in self._jobs.items():
            self._note_heartbeat(number, job, beats.get(number), now)
            silent_for = now - job.alive_at
            if silent_for <= self.heartbeat_timeout:
                continue
            if self._is_gone(job, now):
                lost[number] = self._lost_reason(job, silent_for)
            elif job.status is not JobStatus.UNKNOWN:
                self._warn_silent(number, job, silent_for)
        return lost

    def _note_heartbeat(
        self, number: int, job: _Job, beat: HeartbeatRecord | None, now: float
    ) -> None:
        if beat is None or (job.heartbeat is not None and beat.at == job.heartbeat.at):
            return
        if job.warned_silent:
            _logger.log(
                self.level, "trial %d: heartbeat back after %.0f s", number, now - job.alive_at
            )
            job.warned_silent = False
        job.heartbeat, job.alive_at = beat, now

    def _is_gone(self, job: _Job, now: float) -> bool:
        return (
            job.unknown_since is not None
            and now - job.unknown_since >= UNKNOWN_SHARE * self.heartbeat_timeout
        )

    def _lost_reason(self, job: _Job, silent_for: float) -> str:
        if job.heartbeat is None:
            return (
                f"its job {job.job_id} is gone from the scheduler and the trial never sent "
                f"a heartbeat ({silent_for:.0f} s after submission)"
            )
        return (
            f"its heartbeat stopped at {_utc(job.heartbeat.at)} ({_where(job.heartbeat)}; "
            f"{silent_for:.0f} s ago) and its job {job.job_id} is gone from the scheduler; "
            "its node may have died"
        )

    def _warn_silent(self, number: int, job: _Job, silent_for: float) -> None:
        if job.heartbeat is None or job.warned_silent:
            return  # a trial that never beat may not use sherpa.Client: nothing to judge
        job.warned_silent = True
        _logger.warning(
            "trial %d: no heartbeat since %s (%s; %.0f s) although its job %s is still %s; "
            "leaving it running (a hung host, a trial cut off from the store and one blocked "
            "in code that holds the GIL look alike: kill the job to end it)",
            number,
            _utc(job.heartbeat.at),
            _where(job.heartbeat),
            silent_for,
            job.job_id,
            job.status.value,
        )
