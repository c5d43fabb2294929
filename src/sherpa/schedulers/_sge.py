"""Trials as Grid Engine (SGE) batch jobs: ``qsub``, one ``qstat`` per poll, ``qdel``."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sherpa.logging import get_logger
from sherpa.schedulers._base import JobStatus
from sherpa.schedulers._batch import (
    BatchScheduler,
    _append_line,
    _BatchJob,
    _Seconds,
    read_exit_file,
)

__all__ = ["SGEScheduler", "parse_qacct", "parse_qstat_xml", "status_of_state"]

_logger = get_logger(__name__)

JOB_SHELL = "/bin/bash"
"""The job scripts are bash; SGE's default ``shell_start_mode`` ignores their ``#!`` line."""

_JOB_LIST = re.compile(r"<job_list\b[^>]*>(.*?)</job_list>", re.DOTALL)
_JOB_NUMBER = re.compile(r"<JB_job_number>\s*(\d+)\s*</JB_job_number>")
_STATE = re.compile(r"<state>\s*([A-Za-z]*)\s*</state>")
_NOT_IN_ACCOUNTING = re.compile(r"\bjob id \d+ not found\b")
_ERROR_REASON = re.compile(r"^error reason\s+\d+:\s*(.*)$", re.MULTILINE)

_RUNNING_LETTERS = frozenset("rtsST")
_QUEUED_LETTERS = frozenset("qwh")
_PRECEDENCE = (JobStatus.RUNNING, JobStatus.QUEUED, JobStatus.FAILED, JobStatus.UNKNOWN)

FAILED_LIMIT = 37
"""``qacct``'s ``failed`` code of a job that the qmaster killed at a hard limit (``h_rt``)."""
FAILED_SIGNALLED = 100
"""``qacct``'s ``failed`` code of a job that ended by a signal (``qdel``, ``s_rt``, ...)."""


def status_of_state(state: str) -> JobStatus:
    """What one of ``qstat``'s job states (``qw``, ``hqw``, ``r``, ``dr``, ``Eqw``, ...) means.

    ``E`` (the job could not be started and waits in error state until someone clears it)
    is ``FAILED``; running, transferring and suspended jobs (``r``, ``t``, ``s``, ``S``,
    ``T``, also while being deleted: ``dr``) are ``RUNNING``; waiting and held jobs
    (``qw``, ``hqw``, ``Rq``) are ``QUEUED``.
    """
    letters = set(state)
    if "E" in letters:
        return JobStatus.FAILED
    if letters & _RUNNING_LETTERS:
        return JobStatus.RUNNING
    if letters & _QUEUED_LETTERS:
        return JobStatus.QUEUED
    return JobStatus.UNKNOWN


def parse_qstat_xml(text: str) -> dict[str, JobStatus]:
    """The status of each job in ``qstat -xml`` output, keyed by job id.

    The tasks of an array job share one id; the most advanced of their states wins.
    """
    statuses: dict[str, JobStatus] = {}
    for block in _JOB_LIST.findall(text):
        number, state = _JOB_NUMBER.search(block), _STATE.search(block)
        if number is None:
            continue
        status = status_of_state(state.group(1) if state else "")
        previous = statuses.get(number.group(1))
        if previous is None or _PRECEDENCE.index(status) < _PRECEDENCE.index(previous):
            statuses[number.group(1)] = status
    return statuses


def parse_qacct(text: str) -> dict[str, str]:
    """The fields of ``qacct -j <id>`` output (the last record when there are several).

    Values have their runs of spaces collapsed: ``exit_status  137   (Killed)`` reads as
    ``"137 (Killed)"``.
    """
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("====="):
            fields = {}
            continue
        words = line.split()
        if len(words) > 1:
            fields[words[0]] = " ".join(words[1:])
    return fields


class SGEScheduler(BatchScheduler):
    """Run each trial as a Grid Engine (SGE) batch job.

    Each trial is a bash job script (``output_dir/jobs/<job_name>.sh``) submitted with
    ``qsub``; its output (stdout and stderr) goes to ``output_dir/jobs/<job_name>.out``. One
    ``qstat -xml`` call per poll asks the state of all of the user's jobs, and the script's own
    exit record (``<job_name>.exit``) gives the exact outcome after SGE has forgotten the job,
    with or without accounting. ``kill_job`` runs ``qdel``.

    The submit command is ``qsub -N <job_name> -cwd <submit_options> -terse -S /bin/bash -o
    <log> -j y <script>``: a ``-N`` or ``-wd`` in ``submit_options`` wins over sherpa's, while
    sherpa's ``-S``, ``-o`` and ``-j`` win over the user's (the script is bash, and the runner
    reads the log). ``qsub -o`` expands ``$HOME``-style names in the log's path, reads a ``:``
    as after a host name and a ``,`` as between paths, and cannot escape them, so
    ``output_dir`` must contain none of ``$ : ,``: one given here is a ValueError,
    and one the runner fills in makes the first submission raise
    :class:`~sherpa.schedulers.SchedulerUnusableError`, which stops the run. SGE does not
    pass the runner's environment on (unless ``-V`` is in ``submit_options``); the trial's
    own variables are set by the script, and ``environment`` is sourced first, e.g. to
    activate the virtual environment that has sherpa.

    What SGE's ways of ending a job become:

    - ``qdel`` (by the runner or by anyone else) and hard limits (``h_rt``, ``h_vmem``): SGE
      kills the job with SIGKILL, so the script cannot record it. A job that SGE no longer
      lists and that left no record is looked up with ``qacct -j`` (at most every
      ``accounting_interval`` seconds); ``failed 100`` (ended by a signal) or ``failed 37``
      (a limit the qmaster enforced) make it ``KILLED``, so its trial is ``STOPPED``, with a
      line in its log quoting ``qacct``.
    - A job SGE could not run (another ``failed`` code, e.g. 26 when its output file cannot
      be opened) is ``FAILED`` with SGE's reason appended to its log.
    - A job in error state (``Eqw``: it could not be started and would wait for an
      administrator forever) is ``FAILED`` at once: the reason from ``qstat -j`` goes into its
      log and the job is deleted.
    - A job deleted while it waited (by anyone: SGE keeps no accounting record of it) is
      ``KILLED`` after ``missing_grace_period`` seconds, once ``qacct`` still has no record.
    - Without accounting (``qacct`` unavailable), a job that vanished without a record is
      ``FAILED`` after ``missing_grace_period`` seconds, as for every batch system.

    Tested with Grid Engine 8.1.9 (Debian's ``gridengine-*`` packages, from Son of Grid
    Engine); other Grid Engines with the same ``qsub -terse``, ``qstat -xml`` and ``qacct``
    should work alike.

    Resources: request GPUs and other consumables as the cluster defines them, e.g.
    ``-l gpu=1`` in ``submit_options`` (the complex's name is site-specific), and a parallel
    environment with ``-pe smp 4``. ``resources`` hands out values in ``SHERPA_RESOURCE`` and
    caps the number of trials at once as for :class:`~sherpa.schedulers.LocalScheduler`, but
    SGE picks the host, so use it only for values that mean the same on every host.

    Args:
        submit_options: ``qsub`` options, as typed after ``qsub`` (split like a shell would),
            e.g. ``"-q gpu.q -l h_rt=02:00:00,gpu=1"``.
        environment: A bash profile each job sources before the trial runs (e.g. one that
            activates a virtual environment); it must be readable on the execution hosts.
        output_dir: Where scripts, logs and exit records go (``output_dir/jobs/``); the
            runner's output directory when empty or None. Must be shared with the execution
            hosts.
        resources: Values handed out one per running trial as ``SHERPA_RESOURCE``.

    Attributes:
        accounting_interval: The least time, in seconds, between two ``qacct`` look-ups of
            one job that SGE no longer lists and that left no exit record.

    Example:
        >>> import sherpa
        >>> scheduler = sherpa.schedulers.SGEScheduler(
        ...     submit_options="-q all.q -l h_rt=00:10:00", environment=None
        ... )
        >>> scheduler.spans_hosts
        True
    """

    batch_system = "SGE"
    install_hint = (
        "Grid Engine's client commands (Debian and Ubuntu: apt-get install gridengine-client) "
        "and set SGE_ROOT and SGE_CELL for the cell (source its common/settings.sh)"
    )
    accounting_interval = _Seconds(2.0)

    def __init__(
        self,
        submit_options: str = "",
        environment: str | os.PathLike[str] | None = None,
        output_dir: str | os.PathLike[str] | None = "",
        *,
        resources: Iterable[Any] | None = None,
    ) -> None:
        super().__init__(submit_options, environment, output_dir, resources=resources)
        self._accounting_due: dict[str, float] = {}
        self._unaccounted: set[str] = set()
        """Vanished jobs of which ``qacct`` (reading an accounting file) had no record."""

    def _check_jobs_dir(self, jobs_dir: Path, error: type[Exception]) -> None:
        # qsub -o reads its value as [[host]:]path[,...] and expands $NAME, with no escapes.
        unusable = [c for c in "$:," if c in str(jobs_dir)]
        if unusable:
            raise error(
                f"SGEScheduler: output_dir {self.output_dir!r} puts the job logs in "
                f"{str(jobs_dir)!r}, whose {' and '.join(map(repr, unusable))} qsub -o would "
                "read as part of its syntax ($HOME-style names, host:path, lists) with no way "
                "to escape it; use an output_dir without '$', ':' or ','"
            )

    def _sets_directory(self) -> bool:
        return "-wd" in self._options

    def _submit_argv(self, script: Path, log: Path, job_name: str) -> list[str]:
        return [
            "qsub",
            "-N",
            job_name,
            "-cwd",
            *self._options,
            "-terse",
            "-S",
            JOB_SHELL,
            "-o",
            str(log),
            "-j",
            "y",
            str(script),
        ]

    def _parse_job_id(self, stdout: str) -> str:
        # -terse prints "<id>", or "<id>.<first>-<last>:<step>" for an array job.
        lines = stdout.strip().splitlines()
        job_id = lines[-1].strip().split(".")[0] if lines else ""
        if not job_id.isdigit():
            raise ValueError(f"expected a numeric job id, got {job_id!r}")
        return job_id

    def _status_argv(self, job_ids: list[str]) -> list[str]:
        # qstat cannot be asked about a list of ids in one call; all of the user's pending and
        # running jobs, in a stable format, is one call.
        return ["qstat", "-xml"]

    def _parse_statuses(self, stdout: str) -> dict[str, JobStatus]:
        return parse_qstat_xml(stdout)

    def _kill_argv(self, job_id: str) -> list[str]:
        return ["qdel", job_id]

    # SGE's own ways of ending a job that leave no exit record

    def _query(self, job_ids: list[str]) -> None:
        super()._query(job_ids)
        for job_id in job_ids:
            job = self._jobs[job_id]
            if job.status is not None or job.killed:
                continue  # decided, or cancelled by sherpa: the base class knows what follows
            in_error_state = job.missing_since is None and job.batch_status is JobStatus.FAILED
            if not (in_error_state or job.missing_since is not None):
                continue
            if self._decide_from_record(job_id, job):
                continue  # it ended normally between the record check and the query
            if in_error_state:
                self._fail_error_state(job_id, job)
            else:
                self._ask_accounting(job_id, job)

    def _fail_error_state(self, job_id: str, job: _BatchJob) -> None:
        """Fail a job that SGE holds in error state (``Eqw``) and delete it."""
        details = self._run_tool(["qstat", "-j", job_id], "status")
        reasons = _ERROR_REASON.findall(details.stdout or "")
        reason = reasons[-1].strip() if reasons else "no reason given by qstat -j"
        _append_line(job.log, f"sherpa: SGE could not start job {job_id}: {reason}")
        _logger.debug("job %s (%s) is in error state: %s", job_id, job.name, reason)
        job.killed = True  # its deletion is sherpa's doing, not the outcome
        self._run_tool(self._kill_argv(job_id), "kill")
        self._decide(job_id, job, JobStatus.FAILED, None)

    def _ask_accounting(self, job_id: str, job: _BatchJob) -> None:
        """Decide a vanished job without a record from its accounting record, if there is one."""
        now = time.monotonic()
        if now < self._accounting_due.get(job_id, 0.0):
            return
        self._accounting_due[job_id] = now + self.accounting_interval
        result = self._run_tool(["qacct", "-j", job_id], "status")
        if _NOT_IN_ACCOUNTING.search(f"{result.stdout}\n{result.stderr}"):
            self._unaccounted.add(job_id)
        else:
            self._unaccounted.discard(job_id)
        fields = parse_qacct(result.stdout or "") if result.returncode == 0 else {}
        failed_text = fields.get("failed", "")
        failed_code = failed_text.split(":")[0].strip()
        if not failed_code.isdigit() or read_exit_file(job.exit_file) is not None:
            return  # no accounting record yet, or the record arrived after all
        failed = int(failed_code)
        if failed in (FAILED_LIMIT, FAILED_SIGNALLED):
            _append_line(
                job.log,
                f"sherpa: SGE ended job {job_id} by a signal (qacct: failed {failed_text}; "
                f"exit_status {fields.get('exit_status', '?')})",
            )
            self._decide(job_id, job, JobStatus.KILLED, None)
        elif failed != 0:
            _append_line(job.log, f"sherpa: SGE could not run job {job_id}: {failed_text}")
            self._decide(job_id, job, JobStatus.FAILED, None)

    def _fail_without_record(self, job_id: str, job: _BatchJob, what: str) -> None:
        """After the grace period: a job deleted before it started is ``KILLED``, not failed.

        SGE keeps no accounting record of a job deleted while it waited; one that ran, even
        for an instant, has one. So a job last seen waiting, gone without an exit record, and
        still unknown to a working ``qacct`` at the end of the grace period was deleted
        (``qdel``) while queued.
        """
        if job.batch_status is JobStatus.QUEUED and job_id in self._unaccounted:
            _append_line(
                job.log,
                f"sherpa: SGE deleted job {job_id} before it started (qstat no longer lists "
                "it, qacct has no record of it)",
            )
            self._decide(job_id, job, JobStatus.KILLED, None)
            return
        super()._fail_without_record(job_id, job, what)
