"""Trials as subprocesses of the runner."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import select
import shlex
import signal
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sherpa import _env
from sherpa.logging import get_logger
from sherpa.schedulers._base import (
    JobStatus,
    JobSubmissionError,
    ResourcePool,
    Scheduler,
    SchedulerUnusableError,
    check_output_dir,
    command_argv,
)

__all__ = ["LocalScheduler"]

_logger = get_logger(__name__)

KILL_GRACE_S = 5.0
"""The default time a killed job gets to exit after SIGTERM, before SIGKILL."""


@dataclasses.dataclass
class _Job:
    process: subprocess.Popen[bytes]
    log: Path
    resource: Any = None
    pidfd: int | None = None
    killed_at: float | None = None
    released: bool = False


def _open_pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


class LocalScheduler(Scheduler):
    """Run each trial as a subprocess on this machine.

    Args:
        submit_options: A command prefix, split like a shell would, e.g. ``"nice -n 10"``.
        output_dir: Where job logs go (``output_dir/jobs/<job_name>.out``); the runner's
            output directory when empty or None.
        resources: Values handed out one per running trial as ``SHERPA_RESOURCE`` (e.g. GPU
            ids ``[0, 1]``) and returned when the trial ends; with resources, a trial waits
            until one is free.
        kill_grace_period: Seconds between SIGTERM and SIGKILL when a job is killed.

    Example:
        >>> import sherpa
        >>> scheduler = sherpa.schedulers.LocalScheduler(resources=[0, 1])
        >>> scheduler.has_capacity()
        True
    """

    def __init__(
        self,
        submit_options: str = "",
        output_dir: str | os.PathLike[str] | None = "",
        resources: Iterable[Any] | None = None,
        *,
        kill_grace_period: float = KILL_GRACE_S,
    ) -> None:
        if not isinstance(submit_options, str):
            raise TypeError(f"submit_options must be a string; got {submit_options!r}")
        try:
            self.submit_options = submit_options
            self._prefix = shlex.split(submit_options)
        except ValueError as exc:
            raise ValueError(
                f"submit_options cannot be split: {submit_options!r} ({exc})"
            ) from exc
        self.output_dir = check_output_dir(output_dir)
        self._pool = ResourcePool(resources)
        self.resources = self._pool.values
        if isinstance(kill_grace_period, bool) or not isinstance(kill_grace_period, (int, float)):
            raise TypeError(f"kill_grace_period must be a number; got {kill_grace_period!r}")
        if not kill_grace_period >= 0:
            raise ValueError(f"kill_grace_period must be 0 or more; got {kill_grace_period!r}")
        self.kill_grace_period = float(kill_grace_period)
        self._jobs: dict[str, _Job] = {}

    def has_capacity(self) -> bool:
        return self._pool.has_free()

    def submit_job(
        self,
        command: Sequence[str],
        env: Mapping[str, str] | None = None,
        job_name: str = "",
    ) -> str:
        argv = [*self._prefix, *command_argv("LocalScheduler", command)]
        resource = self._pool.take("LocalScheduler")
        full_env = {**os.environ, **(env or {})}
        full_env.pop(_env.RESOURCE, None)  # only a resource handed out now may reach the job
        if resource is not None:
            full_env[_env.RESOURCE] = str(resource)

        log = Path(self.output_dir or ".") / "jobs" / f"{job_name or 'job'}.out"
        try:
            log.parent.mkdir(parents=True, exist_ok=True)
            out = open(log, "wb")  # noqa: SIM115 (closed below, once the child has its copy)
        except (PermissionError, NotADirectoryError, IsADirectoryError, FileExistsError) as exc:
            self._pool.give_back(resource)  # no later job could write its log either
            raise SchedulerUnusableError(
                f"LocalScheduler: cannot write the job log {str(log)!r}: {exc}"
            ) from exc
        except OSError as exc:  # e.g. out of file descriptors or disk space: may pass
            self._pool.give_back(resource)
            raise JobSubmissionError(
                f"LocalScheduler: cannot write the job log {str(log)!r}: {exc}"
            ) from exc
        try:
            with out:
                process = subprocess.Popen(
                    argv,
                    env=full_env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        except (FileNotFoundError, PermissionError, NotADirectoryError) as exc:
            # The program is missing or not executable: no later trial can start either.
            self._pool.give_back(resource)
            raise SchedulerUnusableError(
                f"LocalScheduler: cannot start {argv!r}: {exc}; check the command "
                "(or filename) given to optimize"
            ) from exc
        except OSError as exc:  # e.g. out of processes or memory: a later try may work
            self._pool.give_back(resource)
            raise JobSubmissionError(f"LocalScheduler: cannot start {argv!r}: {exc}") from exc
        job_id = str(process.pid)
        self._jobs[job_id] = _Job(process, log, resource, _open_pidfd(process.pid))
        return job_id

    def _job(self, job_id: str) -> _Job:
        try:
            return self._jobs[job_id]
        except KeyError:
            raise KeyError(f"LocalScheduler: unknown job id {job_id!r}") from None

    def get_status(self, job_id: str) -> JobStatus:
        job = self._job(job_id)
        code = job.process.poll()
        if code is None:
            if (
                job.killed_at is not None
                and time.monotonic() - job.killed_at > self.kill_grace_period
            ):
                self._signal(job, signal.SIGKILL)
            return JobStatus.RUNNING
        if job.killed_at is not None and not job.released:
            # The trial has ended; what it started and left in its group (a child that
            # ignores SIGTERM) must not outlive a job that was asked to stop.
            self._signal(job, signal.SIGKILL)
        self._release(job)
        if job.killed_at is not None:
            return JobStatus.KILLED
        return JobStatus.FINISHED if code == 0 else JobStatus.FAILED

    def _release(self, job: _Job) -> None:
        if job.released:
            return
        job.released = True
        self._pool.give_back(job.resource)
        if job.pidfd is not None:
            os.close(job.pidfd)
            job.pidfd = None

    def _signal(self, job: _Job, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(job.process.pid, signum)

    def kill_job(self, job_id: str) -> None:
        job = self._job(job_id)
        if job.process.poll() is not None:
            return
        job.killed_at = time.monotonic()
        self._signal(job, signal.SIGTERM)

    def exit_code(self, job_id: str) -> int | None:
        return self._job(job_id).process.poll()

    def job_log(self, job_id: str) -> str | None:
        return str(self._job(job_id).log)

    def wait(self, timeout: float) -> None:
        fds = [j.pidfd for j in self._jobs.values() if j.pidfd is not None and not j.released]
        if not fds:
            time.sleep(timeout)
            return
        # poll, not select: select cannot take a descriptor numbered 1024 or more, which a
        # runner with many open files (or many trials) hands out.
        poller = select.poll()
        for fd in fds:
            poller.register(fd, select.POLLIN)
        with contextlib.suppress(InterruptedError):
            poller.poll(max(0.0, timeout) * 1000)

    def close(self) -> None:
        """Terminate every job still running (SIGTERM, then SIGKILL after a grace period).

        SIGKILL then goes to each such job's whole process group, so that nothing the trial
        started outlives it.
        """
        running = [j for j in self._jobs.values() if j.process.poll() is None]
        for job in running:
            job.killed_at = time.monotonic()
            self._signal(job, signal.SIGTERM)
        deadline = time.monotonic() + self.kill_grace_period
        for job in running:
            with contextlib.suppress(subprocess.TimeoutExpired):
                job.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            self._signal(job, signal.SIGKILL)  # the trial, or what it left in its group
            job.process.wait()
        for job in self._jobs.values():
            if job.process.poll() is not None:
                self._release(job)

    def __repr__(self) -> str:
        return (
            f"LocalScheduler(submit_options={self.submit_options!r}, "
            f"output_dir={self.output_dir!r}, resources={self.resources!r})"
        )
