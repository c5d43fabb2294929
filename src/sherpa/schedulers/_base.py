"""The scheduler protocol: submit a job, ask its status, kill it."""

from __future__ import annotations

import abc
import collections
import enum
import os
import shlex
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sherpa.exceptions import SherpaError

__all__ = [
    "JobStatus",
    "JobSubmissionError",
    "ResourcePool",
    "Scheduler",
    "SchedulerUnusableError",
    "check_output_dir",
    "check_resources",
    "command_argv",
]


class JobStatus(str, enum.Enum):
    """What a scheduler knows of a job."""

    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    """Ended with exit code 0."""
    FAILED = "FAILED"
    """Ended with a non-zero exit code, or could not start."""
    KILLED = "KILLED"
    """Ended because :meth:`Scheduler.kill_job` (or the batch system) killed it."""
    UNKNOWN = "UNKNOWN"
    """The scheduler cannot find the job: it neither queues nor runs it and no record of its
    end is left (a batch system that has forgotten a job whose exit code was never written,
    e.g. because its node died). Never a final state by itself: the runner fails the trial
    only when its heartbeat has stopped too (see ``sherpa.optimize(heartbeat_timeout=...)``)
    and keeps polling otherwise, so a scheduler may also answer UNKNOWN while a query of the
    batch system fails."""

    @property
    def is_finished(self) -> bool:
        """Whether the job has ended."""
        return self in (JobStatus.FINISHED, JobStatus.FAILED, JobStatus.KILLED)


class JobSubmissionError(SherpaError):
    """The scheduler could not start a job; the message says why."""


class SchedulerUnusableError(SherpaError, RuntimeError):
    """The scheduler cannot start any job as it is set up (a tool missing, an unusable path).

    Unlike :class:`JobSubmissionError`, which fails one trial, this stops the run: every other
    trial would fail the same way.
    """


def check_output_dir(output_dir: object) -> str:
    """A scheduler's ``output_dir`` argument as a string; None and ``""`` mean the default.

    Raises:
        TypeError: ``output_dir`` is neither a path nor None.
    """
    if output_dir is None:
        return ""
    if not isinstance(output_dir, (str, os.PathLike)):
        raise TypeError(f"output_dir must be a path or None; got {output_dir!r}")
    path = os.fspath(output_dir)
    if not isinstance(path, str):
        raise TypeError(f"output_dir must be a text path or None; got {output_dir!r}")
    return path


def check_resources(resources: object, *, mapping_hint: str = "") -> list[Any] | None:
    """A scheduler's ``resources`` argument as a list; None means no resources.

    Args:
        resources: The argument.
        mapping_hint: Where a mapping (resource amounts) belongs instead, for the message.

    Raises:
        TypeError: ``resources`` is not a list of values (a string, a mapping, a number).
        ValueError: ``resources`` is empty.
    """
    if resources is None:
        return None
    if isinstance(resources, (str, bytes, Mapping)) or not isinstance(resources, Iterable):
        hint = f" ({mapping_hint})" if mapping_hint and isinstance(resources, Mapping) else ""
        raise TypeError(
            "resources must be a list of resources for SHERPA_RESOURCE (e.g. GPU ids [0, 1]) "
            f"or None; got {resources!r}{hint}"
        )
    values = list(resources)
    if not values:
        raise ValueError(
            f"resources must name at least one resource, or be None; got {resources!r}"
        )
    return values


class ResourcePool:
    """The ``resources`` of a scheduler: one value per running job, returned when it ends.

    Args:
        resources: The values, or None for no resources (then every job gets None and there
            is always room).
    """

    def __init__(self, resources: object, *, mapping_hint: str = "") -> None:
        self.values = check_resources(resources, mapping_hint=mapping_hint)
        self._free: collections.deque[Any] = collections.deque(self.values or ())

    def has_free(self) -> bool:
        """Whether a job started now gets a value (always, without resources)."""
        return self.values is None or bool(self._free)

    def take(self, scheduler: str) -> Any:
        """Hand out a free value (None without resources).

        Raises:
            JobSubmissionError: every value is in use.
        """
        if self.values is None:
            return None
        if not self._free:
            raise JobSubmissionError(f"{scheduler}: no free resource; wait for a trial to end")
        return self._free.popleft()

    def give_back(self, resource: Any) -> None:
        """Return a value handed out by :meth:`take` (None is ignored)."""
        if resource is not None:
            self._free.append(resource)


def command_argv(scheduler: str, command: str | Sequence[str]) -> list[str]:
    """A job's command as an argument list (a string is split like a shell would).

    Raises:
        JobSubmissionError: the command is empty.
    """
    argv = shlex.split(command) if isinstance(command, str) else [str(part) for part in command]
    if not argv:
        raise JobSubmissionError(f"{scheduler}: empty command")
    return argv


class Scheduler(abc.ABC):
    """Runs trial commands as jobs.

    The runner calls :meth:`submit_job` for each trial, polls :meth:`get_statuses` and calls
    :meth:`kill_job` to stop a trial. Every argument list is passed as a list, never through a
    shell.

    Attributes:
        output_dir: Where job logs go (``output_dir/jobs/``); the runner fills it in with the
            run's output directory when it is empty.
        spans_hosts: Whether jobs may run on hosts other than the runner's (a batch system,
            a Dask cluster). The runner then warns about the SQLite default, which is unsafe
            on a shared network filesystem, and a private PostgreSQL server must listen on
            an address the other hosts can reach.
    """

    output_dir: str = ""
    spans_hosts: bool = False

    @abc.abstractmethod
    def submit_job(
        self,
        command: Sequence[str],
        env: Mapping[str, str] | None = None,
        job_name: str = "",
    ) -> str:
        """Start ``command`` as a job and return its id.

        Args:
            command: The program and its arguments.
            env: Variables to set for the job, on top of (and winning over) the inherited
                environment.
            job_name: A name for the job; its log is ``output_dir/jobs/<job_name>.out``.

        Raises:
            JobSubmissionError: the job could not be started.
        """

    @abc.abstractmethod
    def get_status(self, job_id: str) -> JobStatus:
        """Return the status of one job."""

    @abc.abstractmethod
    def kill_job(self, job_id: str) -> None:
        """Stop a job; its status becomes ``KILLED`` once it has ended."""

    def get_statuses(self, job_ids: Iterable[str]) -> dict[str, JobStatus]:
        """Return the status of several jobs (batch systems answer this in one query).

        Every id asked about should be in the answer; the runner reads one left out as
        :attr:`JobStatus.UNKNOWN`.
        """
        return {job_id: self.get_status(job_id) for job_id in job_ids}

    def has_capacity(self) -> bool:
        """Whether a job submitted now would start rather than wait for a free resource."""
        return True

    def job_log(self, job_id: str) -> str | None:
        """The path of a job's log, when known."""
        return None

    def exit_code(self, job_id: str) -> int | None:
        """The exit code of an ended job, when known."""
        return None

    def wait(self, timeout: float) -> None:
        """Block until a job may have changed state, or ``timeout`` seconds have passed."""
        time.sleep(timeout)

    def close(self) -> None:  # noqa: B027 (optional hook, nothing to release by default)
        """Kill the jobs still running and release what the scheduler holds."""
