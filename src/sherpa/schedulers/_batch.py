"""The shared part of the batch-system schedulers (SLURM, SGE): job scripts, exit records, polls.

Each trial becomes a bash script in ``output_dir/jobs/<job_name>.sh`` that sources the user's
environment file, exports the trial's variables, changes to the runner's working directory,
runs the command and records how it ended in ``output_dir/jobs/<job_name>.exit`` (written to a
temporary name, then renamed, so a reader never sees half a record). That file makes the
outcome exact even where the batch system has already forgotten the job or keeps no
accounting. A subclass only says how to call its tools: submit, read the job id, ask the status
of many jobs at once, and cancel.
"""

from __future__ import annotations

import abc
import dataclasses
import os
import re
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

__all__ = ["BatchScheduler", "BatchToolNotFoundError", "job_script", "read_exit_file"]

_logger = get_logger(__name__)

_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_.+-]")
_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_FORWARDED_SIGNALS = ("USR1", "USR2")
_STOPPING_SIGNALS = ("TERM", "INT", "HUP")


class BatchToolNotFoundError(SchedulerUnusableError):
    """A batch system's command-line tool (e.g. ``sbatch``) is not installed on this host."""


class _Seconds:
    """A class attribute of seconds, checked when set on an instance (``>= 0`` or ``> 0``)."""

    def __init__(self, default: float, *, positive: bool = False) -> None:
        self.default = default
        self.positive = positive
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: object, owner: type | None = None) -> float:
        if instance is None:
            return self.default
        value: float = vars(instance).get(self.name, self.default)
        return value

    def __set__(self, instance: object, value: float) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{self.name} must be a number of seconds; got {value!r}")
        if not (value > 0 if self.positive else value >= 0):
            rule = "more than 0" if self.positive else "0 or more"
            raise ValueError(f"{self.name} must be {rule} seconds; got {value!r}")
        vars(instance)[self.name] = float(value)


@dataclasses.dataclass
class _BatchJob:
    name: str
    log: Path
    exit_file: Path
    resource: Any = None
    batch_status: JobStatus | None = None
    """The batch system's last answer about the job (None: not asked yet, or not listed)."""
    batch_ended_at: float | None = None
    missing_since: float | None = None
    killed: bool = False
    status: JobStatus | None = None
    """The final status, once decided; never changes after that."""
    exit_code: int | None = None


def read_exit_file(path: Path) -> int | None:
    """The outcome a job script recorded: its command's exit code, or ``-signum`` if stopped.

    Returns None when there is no record (yet). A record the script did not write (anything
    but ``exit <code>`` or ``signal <NAME>``) reads as exit code 255.
    """
    try:
        text = path.read_text(encoding="ascii", errors="replace").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        _logger.debug("cannot read exit record %s: %s", path, exc)
        return None
    kind, _, value = text.partition(" ")
    if kind == "exit" and value.isdigit():
        return int(value)
    if kind == "signal" and hasattr(signal.Signals, f"SIG{value}"):
        return -int(signal.Signals[f"SIG{value}"])
    _logger.warning("exit record %s holds %r, not a record a job script writes", path, text)
    return 255


class BatchScheduler(Scheduler):
    """Base of the schedulers that submit each trial as a job script to a batch system.

    A subclass names the batch system and builds the argument lists of its tools; this class
    writes the job scripts, runs the tools, polls all jobs with one query at a time, and
    decides each job's outcome from the exit record the script leaves next to its log.

    How a job's status is decided:

    - An exit record exists: exit code 0 is ``FINISHED``, another code ``FAILED``, a record of
      a signal (the job was cancelled) ``KILLED``.
    - No record yet: the batch system's answer, asked at most every ``status_interval``
      seconds for all jobs at once. A job the batch system reports as completed is
      ``FINISHED``; as cancelled (or timed out, preempted) ``KILLED``; as failed, ``FAILED``
      once ``missing_grace_period`` seconds passed without a record (shared filesystems show
      new files late, and the record holds the exact exit code).
    - A job the batch system no longer lists and that left no record is ``FAILED`` after
      ``missing_grace_period`` seconds; a line saying so is appended to its log, which the
      runner quotes.
    - A job killed through :meth:`kill_job` is ``KILLED`` once it has ended.

    Args:
        submit_options: Options for the submit command, as one would type them after it
            (split like a shell would), e.g. ``"--partition=gpu --gres=gpu:1"``.
        environment: A profile file (bash) that each job sources before the trial runs, e.g.
            one that activates a virtual environment or loads modules. It is read on the
            compute host: one that does not exist on this host only gets a warning here, and a
            job that cannot read it fails at once with a line in its log saying so. A profile
            that fails (``exit``, its own ``set -e``, a syntax error, a non-zero status) fails
            the job at once, before the trial runs, with ``sherpa job on <host>: the
            environment file <path> failed (exit N)`` in the log.
        output_dir: Where job scripts, logs and exit records go (``output_dir/jobs/``); the
            runner's output directory when empty or None. It must be on a filesystem that
            the compute hosts share with this one.
        resources: Values handed out one per running trial as ``SHERPA_RESOURCE`` and
            returned when the trial ends; with resources, a trial waits until one is free. The
            values must mean the same on every host (e.g. license tokens or port numbers); a GPU
            is better requested from the batch system itself.

    Attributes:
        batch_system: The batch system's name, for messages.
        install_hint: What to install when a tool is missing.
        status_interval: The least time between two status queries, in seconds.
        missing_grace_period: Seconds to wait for the exit record of a job that the batch
            system no longer lists, or reports as failed, before it counts as ``FAILED``.
        tool_timeout: Seconds a submit, status or kill command may take.
        none_known_markers: Texts in a status query's error output that mean "none of these
            jobs exists any more" rather than a failure of the query.
    """

    spans_hosts = True
    batch_system: str = "the batch system"
    install_hint: str = "the batch system's command-line tools"
    status_interval = _Seconds(0.5)
    missing_grace_period = _Seconds(30.0)
    tool_timeout = _Seconds(60.0, positive=True)
    none_known_markers: tuple[str, ...] = ()

    def __init__(
        self,
        submit_options: str = "",
        environment: str | os.PathLike[str] | None = None,
        output_dir: str | os.PathLike[str] | None = "",
        *,
        resources: Iterable[Any] | None = None,
    ) -> None:
        if not isinstance(submit_options, str):
            raise TypeError(f"submit_options must be a string; got {submit_options!r}")
        try:
            self._options = shlex.split(submit_options)
        except ValueError as exc:
            raise ValueError(
                f"submit_options cannot be split: {submit_options!r} ({exc})"
            ) from exc
        self.submit_options = submit_options
        self.environment = _check_environment(environment)
        self.output_dir = check_output_dir(output_dir)
        if self.output_dir:
            self._check_jobs_dir(Path(self.output_dir).absolute() / "jobs", ValueError)
        self._pool = ResourcePool(resources)
        self.resources = self._pool.values
        self._jobs: dict[str, _BatchJob] = {}
        self._names: set[str] = set()
        self._next_query_at = 0.0
        self._query_failing = False

    # What a subclass provides

    @abc.abstractmethod
    def _submit_argv(self, script: Path, log: Path, job_name: str) -> list[str]:
        """The submit command for ``script``, with its output (stdout and stderr) in ``log``."""

    def _sets_directory(self) -> bool:
        """Whether ``submit_options`` set the job's working directory (then sherpa does not)."""
        return False

    @abc.abstractmethod
    def _parse_job_id(self, stdout: str) -> str:
        """The job id in the submit command's output; ValueError when there is none."""

    @abc.abstractmethod
    def _status_argv(self, job_ids: list[str]) -> list[str]:
        """One command that reports the state of every job in ``job_ids``."""

    @abc.abstractmethod
    def _parse_statuses(self, stdout: str) -> dict[str, JobStatus]:
        """The status of each job the status command still lists (absent ones are left out)."""

    @abc.abstractmethod
    def _kill_argv(self, job_id: str) -> list[str]:
        """The command that cancels a job."""

    # Submitting

    def has_capacity(self) -> bool:
        return self._pool.has_free()

    def submit_job(
        self,
        command: Sequence[str],
        env: Mapping[str, str] | None = None,
        job_name: str = "",
    ) -> str:
        argv = command_argv(type(self).__name__, command)
        variables = dict(env or {})
        for name in variables:
            if not _VARIABLE_NAME.fullmatch(name):
                raise ValueError(f"env names a variable a shell cannot set: {name!r}")
        resource = self._pool.take(type(self).__name__)
        try:
            return self._submit(argv, variables, job_name, resource)
        except BaseException:
            self._pool.give_back(resource)
            raise

    def _submit(
        self, argv: list[str], variables: dict[str, str], job_name: str, resource: Any
    ) -> str:
        name = self._unique_name(job_name)
        jobs_dir = Path(self.output_dir or ".").resolve() / "jobs"
        self._check_jobs_dir(jobs_dir, SchedulerUnusableError)
        jobs_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        script, log, exit_file = (jobs_dir / f"{name}{ext}" for ext in (".sh", ".out", ".exit"))
        for stale in (log, exit_file):  # from an earlier run in the same output_dir
            stale.unlink(missing_ok=True)
        if resource is not None:
            variables[_env.RESOURCE] = str(resource)
        directory = None if self._sets_directory() else Path.cwd()
        text = job_script(
            argv, variables, directory, exit_file, self.environment, self._job_header(name)
        )
        _write_private(script, text)

        result = self._run_tool(self._submit_argv(script, log, name), "submit")
        if result.returncode != 0:
            message = _tool_message(result) or f"exit status {result.returncode}"
            _append_line(log, f"sherpa: {self.batch_system} rejected the job: {message}")
            raise JobSubmissionError(f"{self.batch_system} rejected the job: {message}")
        try:
            job_id = self._parse_job_id(result.stdout)
        except ValueError as exc:
            raise JobSubmissionError(
                f"{self.batch_system}: no job id in the submit command's output "
                f"{result.stdout!r} ({exc})"
            ) from exc
        if result.stderr.strip():
            _logger.debug("job %s: %s said: %s", job_id, result.args[0], result.stderr.strip())
        self._names.add(name)
        self._jobs[job_id] = _BatchJob(name, log, exit_file, resource)
        return job_id

    def _check_jobs_dir(self, jobs_dir: Path, error: type[Exception]) -> None:
        """Raise ``error`` if the batch system cannot put job logs in ``jobs_dir``.

        Called at construction (with ValueError) when ``output_dir`` is given, and before each
        submission (with :class:`SchedulerUnusableError`, which stops the run) for the
        directory the runner filled in.
        """

    def _job_header(self, name: str) -> str:
        return f"# {name}: written by sherpa's {type(self).__name__}"

    def _unique_name(self, job_name: str) -> str:
        base = _NAME_UNSAFE.sub("_", job_name) or "job"
        if base in {".", ".."}:
            base = "job"
        name, number = base, 1
        while name in self._names:
            number += 1
            name = f"{base}_{number}"
        return name

    def _run_tool(self, argv: list[str], purpose: str) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=self.tool_timeout,
                # Ctrl-C in the terminal must reach the runner only: an sbatch killed halfway
                # could leave a job that was submitted but never recorded.
                start_new_session=True,
            )
        except FileNotFoundError:
            raise BatchToolNotFoundError(
                f"{type(self).__name__}: {argv[0]!r} is not on PATH; install "
                f"{self.install_hint}, or run on a host that can submit {self.batch_system} jobs"
            ) from None
        except subprocess.TimeoutExpired as exc:
            message = f"{argv[0]} ({purpose}) did not answer within {self.tool_timeout:g} s"
            if purpose == "submit":
                raise JobSubmissionError(f"{self.batch_system}: {message}") from exc
            return subprocess.CompletedProcess(argv, 124, "", message)

    # Polling

    def get_status(self, job_id: str) -> JobStatus:
        return self.get_statuses([job_id])[job_id]

    def get_statuses(self, job_ids: Iterable[str]) -> dict[str, JobStatus]:
        jobs = {job_id: self._job(job_id) for job_id in job_ids}
        open_ids = [
            job_id
            for job_id, job in self._jobs.items()
            if job.status is None and not self._decide_from_record(job_id, job)
        ]
        if open_ids and time.monotonic() >= self._next_query_at:
            self._query(open_ids)
        return {job_id: self._status_of(job_id, job) for job_id, job in jobs.items()}

    def _job(self, job_id: str) -> _BatchJob:
        try:
            return self._jobs[job_id]
        except KeyError:
            raise KeyError(f"{type(self).__name__}: unknown job id {job_id!r}") from None

    def _decide_from_record(self, job_id: str, job: _BatchJob) -> bool:
        code = read_exit_file(job.exit_file)
        if code is None:
            return False
        if job.killed or code < 0:
            self._decide(job_id, job, JobStatus.KILLED, code)
        else:
            self._decide(job_id, job, JobStatus.FINISHED if code == 0 else JobStatus.FAILED, code)
        return True

    def _decide(self, job_id: str, job: _BatchJob, status: JobStatus, code: int | None) -> None:
        job.status, job.exit_code = status, code
        self._pool.give_back(job.resource)
        job.resource = None
        _logger.debug("job %s (%s): %s, exit code %s", job_id, job.name, status.value, code)

    def _query(self, job_ids: list[str]) -> None:
        result = self._run_tool(self._status_argv(job_ids), "status")
        self._next_query_at = time.monotonic() + self.status_interval
        known = self._read_query(result)
        if known is None:
            return
        now = time.monotonic()
        for job_id in job_ids:
            job = self._jobs[job_id]
            status = known.get(job_id)
            if status is None:
                if job.missing_since is None:
                    job.missing_since = now
                continue
            job.missing_since = None
            if status.is_finished and job.batch_ended_at is None:
                job.batch_ended_at = now
            job.batch_status = status

    def _read_query(self, result: subprocess.CompletedProcess[str]) -> dict[str, JobStatus] | None:
        stderr = result.stderr or ""
        if result.returncode != 0 and not any(m in stderr for m in self.none_known_markers):
            if not self._query_failing:
                _logger.warning(
                    "%s status query failed (%s); job statuses are kept until it answers",
                    self.batch_system,
                    _tool_message(result) or f"exit status {result.returncode}",
                )
            self._query_failing = True
            return None
        if self._query_failing:
            _logger.info("%s status query answers again", self.batch_system)
        self._query_failing = False
        return self._parse_statuses(result.stdout if result.returncode == 0 else "")

    def _status_of(self, job_id: str, job: _BatchJob) -> JobStatus:
        if job.status is None:
            self._decide_from_batch(job_id, job)
        if job.status is not None:
            return job.status
        if job.batch_status is None:
            return JobStatus.RUNNING if job.missing_since is not None else JobStatus.QUEUED
        if job.batch_status.is_finished:
            return JobStatus.RUNNING  # ended, its record not seen yet
        return job.batch_status

    def _decide_from_batch(self, job_id: str, job: _BatchJob) -> None:
        batch = job.batch_status
        ended = job.missing_since is not None or (batch is not None and batch.is_finished)
        if (job.killed and ended) or batch is JobStatus.KILLED:
            self._decide(job_id, job, JobStatus.KILLED, None)
        elif batch is JobStatus.FINISHED:
            self._decide(job_id, job, JobStatus.FINISHED, 0)
        elif self._waited_out(job):
            what = "reported it as failed" if batch is JobStatus.FAILED else "no longer lists it"
            self._fail_without_record(job_id, job, what)

    def _waited_out(self, job: _BatchJob) -> bool:
        """Whether a job that ended without a record has had its grace period."""
        since = job.batch_ended_at if job.batch_status is JobStatus.FAILED else job.missing_since
        return since is not None and time.monotonic() - since >= self.missing_grace_period

    def _fail_without_record(self, job_id: str, job: _BatchJob, what: str) -> None:
        _append_line(
            job.log,
            f"sherpa: {self.batch_system} {what} (job {job_id}) and the job left no exit "
            f"record in {job.exit_file} within {self.missing_grace_period:g} s",
        )
        self._decide(job_id, job, JobStatus.FAILED, None)

    # Stopping and reading

    def kill_job(self, job_id: str) -> None:
        job = self._job(job_id)
        if job.status is not None or job.killed:
            return
        job.killed = True
        result = self._run_tool(self._kill_argv(job_id), "kill")
        if result.returncode != 0:
            _logger.warning(
                "job %s: %s could not cancel it: %s",
                job_id,
                self.batch_system,
                _tool_message(result) or f"exit status {result.returncode}",
            )
        self._next_query_at = 0.0  # ask soon: a cancelled queued job leaves no record

    def exit_code(self, job_id: str) -> int | None:
        """The exit code of an ended job: its command's, or minus the signal that stopped it."""
        job = self._job(job_id)
        if job.status is None:
            self._decide_from_record(job_id, job)
        return job.exit_code

    def job_log(self, job_id: str) -> str | None:
        return str(self._job(job_id).log)

    def wait(self, timeout: float) -> None:
        """Return when an open job left an exit record, a status query is due, or at timeout."""
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            open_jobs = [job for job in self._jobs.values() if job.status is None]
            if any(job.exit_file.exists() for job in open_jobs):
                return
            now = time.monotonic()
            if now >= deadline or (open_jobs and now >= self._next_query_at):
                return
            time.sleep(min(0.05, deadline - now))

    def close(self) -> None:
        """Cancel every job that has not ended yet."""
        for job_id, job in self._jobs.items():
            if job.status is None and not job.killed and not self._decide_from_record(job_id, job):
                self.kill_job(job_id)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(submit_options={self.submit_options!r}, "
            f"environment={self.environment!r}, output_dir={self.output_dir!r}, "
            f"resources={self.resources!r})"
        )


def job_script(
    argv: Sequence[str],
    variables: Mapping[str, str],
    directory: Path | None,
    exit_file: Path,
    environment: str | None,
    header: str = "",
) -> str:
    """The bash script that runs one trial and records how it ended in ``exit_file``.

    The record is ``exit <code>`` with the command's exit code, or ``signal <NAME>`` when the
    job was stopped by SIGTERM, SIGINT or SIGHUP (what ``scancel`` and ``qdel -notify``-style
    cancellations send), whether the script or only the command received it (a command
    that ends with status 128 + the signal's number counts as stopped by it: a batch system
    signals every process of the job, in no fixed order); it is written under a temporary
    name and renamed into place. The
    command runs in the background so that the script can forward signals to it (SIGUSR1 and
    SIGUSR2 pass through unchanged, e.g. for a batch system's pre-timeout warning), with
    SIGINT and SIGQUIT restored to their defaults, which bash would otherwise ignore in a
    background command. A stopping signal that arrives after the fork but before the script
    has stored the command's pid still stops the command (``$!`` is compared with its value
    before the fork), and the script waits until the command is gone before writing the
    record. An ``environment`` file that fails ends the job at once with its record written
    (see :func:`_sourcing`).
    """
    quote = shlex.quote
    lines = [
        "#!/bin/bash",
        *([header] if header else []),
        f"sherpa_exit_file={quote(str(exit_file))}",
        "sherpa_recorded=",
        "sherpa_record() {",
        "    sherpa_recorded=1",
        '    printf \'%s\\n\' "$1" > "$sherpa_exit_file.tmp.$$" &&'
        ' mv -f "$sherpa_exit_file.tmp.$$" "$sherpa_exit_file"',
        "}",
        "sherpa_fail() {",
        '    printf \'sherpa job on %s: %s\\n\' "$(hostname)" "$1" >&2',
        '    sherpa_record "exit 1"',
        "    exit 1",
        "}",
        *_signal_traps(),
    ]
    if environment is not None:
        lines += _sourcing(environment)
    lines += [f"unset {_env.RESOURCE}"]
    lines += [f"export {name}={quote(value)}" for name, value in variables.items()]
    if directory is not None:  # None: the batch system's working directory stands
        lines += [
            f"builtin cd {quote(str(directory))} ||"
            f" sherpa_fail {quote(f'cannot change to the directory {directory}')}",
        ]
    lines += [
        'sherpa_launch="x$!"',  # $! before the fork: see sherpa_stop
        f"( trap - INT QUIT; exec {' '.join(quote(part) for part in argv)} ) &",
        "sherpa_child=$!",
        "while :; do",
        '    wait "$sherpa_child"',
        "    sherpa_status=$?",
        '    kill -0 "$sherpa_child" 2>/dev/null && continue  # a forwarded signal woke wait',
        # The command is gone. If a forwarded signal woke wait (status 128+n) just as it
        # ended, bash still holds its real status: ask once more. A status already handed
        # out gives -1 (bash 5) or 127 (older bash): keep the first answer then.
        '    wait "$sherpa_child" 2>/dev/null',
        "    sherpa_again=$?",
        '    case "$sherpa_again" in -1 | 127) ;; *) sherpa_status=$sherpa_again ;; esac',
        "    break",
        "done",
        # A trial killed by a stopping signal is a cancelled job, even when the batch system
        # signalled it a moment before this script (whose trap would otherwise record it).
        'case "$sherpa_status" in',
        *(
            f'    {128 + signal.Signals[f"SIG{name}"]}) sherpa_record "signal {name}" ;;'
            for name in _STOPPING_SIGNALS
        ),
        '    *) sherpa_record "exit $sherpa_status" ;;',
        "esac",
        'exit "$sherpa_status"',
    ]
    return "\n".join(lines) + "\n"


def _signal_traps() -> list[str]:
    """Traps that record a stopping signal and forward the pass-through ones to the trial.

    They are armed before the environment file is sourced, so that a job cancelled while its
    profile runs still leaves a record. A forwarded signal's ``kill`` is silenced: a batch
    system that signals the whole job (SGE's ``s_rt``) may have ended the trial already, and
    "No such process" in the log would pass for the trial's failure.
    """
    return [
        "sherpa_child= sherpa_launch=",
        "sherpa_stop() {",
        f"    trap '' {' '.join(_STOPPING_SIGNALS)}",
        '    if [ -z "$sherpa_child" ] && [ -n "$sherpa_launch" ] &&'
        ' [ "x$!" != "$sherpa_launch" ]; then',
        "        sherpa_child=$!  # the signal came between the fork and sherpa_child=$!",
        "    fi",
        '    if [ -n "$sherpa_child" ]; then',
        '        kill -TERM "$sherpa_child" 2>/dev/null',
        '        while kill -0 "$sherpa_child" 2>/dev/null; do wait "$sherpa_child"; done',
        "    fi",
        '    sherpa_record "signal $1"',
        '    exit "$2"',
        "}",
        *(
            f"trap 'sherpa_stop {name} {128 + signal.Signals[f'SIG{name}']}' {name}"
            for name in _STOPPING_SIGNALS
        ),
        *(
            f'trap \'[ -n "$sherpa_child" ] && kill -{name} "$sherpa_child" 2>/dev/null\' {name}'
            for name in _FORWARDED_SIGNALS
        ),
    ]


def _sourcing(environment: str) -> list[str]:
    """The lines that source the environment file and fail the job at once if it fails.

    The profile can end the script itself (``exit``, a failing command under its own
    ``set -e``, an unset variable under ``set -u``): an EXIT trap, armed while it is sourced,
    then writes the record and a log line naming the file, unless a record was written
    already (a stopping signal). A profile that returns a non-zero status (its last
    command's, ``return N``, or 2 for a syntax error) fails the job the same way, through that
    trap. ``exit 0`` in a profile fails the job too (with exit code 1): the trial never ran.
    The trap is left in place afterwards rather than reset, so that an EXIT trap the profile
    set for itself keeps working; after the profile, every way out writes a record first.
    """
    quote = shlex.quote
    return [
        f"sherpa_environment={quote(environment)}",
        '[ -r "$sherpa_environment" ] ||'
        f" sherpa_fail {quote(f'cannot read the environment file {environment}')}",
        "sherpa_environment_ended() {",
        "    set +e +u",
        '    [ -z "$sherpa_recorded" ] || return',
        '    sherpa_status=$1 sherpa_why="exit $1"',
        '    [ "$1" -ne 0 ] || sherpa_status=1 sherpa_why="exit 0 before the trial ran"',
        "    printf 'sherpa job on %s: the environment file %s failed (%s)\\n' \\",
        '        "$(hostname)" "$sherpa_environment" "$sherpa_why" >&2',
        '    sherpa_record "exit $sherpa_status"',
        '    exit "$sherpa_status"',
        "}",
        "trap 'sherpa_environment_ended $?' EXIT",
        'source "$sherpa_environment"',
        "sherpa_status=$?",  # not reached when the profile's own set -e ended the script
        "set +e +u",  # the profile may have set them; the rest of the script needs neither
        '[ "$sherpa_status" -eq 0 ] || exit "$sherpa_status"',
    ]


def _check_environment(environment: object) -> str | None:
    if environment is None:
        return None
    if not isinstance(environment, (str, os.PathLike)) or not isinstance(
        os.fspath(environment), str
    ):
        raise TypeError(
            f"environment must be the path of a profile file or None; got {environment!r}"
        )
    if not os.fspath(environment):
        raise ValueError(
            f"environment must be the path of a profile file or None; got an empty path "
            f"{environment!r}"
        )
    path = os.path.abspath(os.path.expanduser(os.fspath(environment)))
    if not os.path.isfile(path):
        _logger.warning(
            "environment file %s does not exist on this host; jobs fail unless it exists "
            "on the compute hosts",
            path,
        )
    return path


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` readable by the owner only (a job script can carry the store's password)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(descriptor, "w", encoding="utf-8") as handle:
        os.fchmod(descriptor, 0o600)
        handle.write(text)


def _append_line(path: Path, line: str) -> None:
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
    except OSError as exc:
        _logger.debug("cannot append to job log %s: %s", path, exc)


def _tool_message(result: subprocess.CompletedProcess[str]) -> str:
    text = (result.stderr or "").strip() or (result.stdout or "").strip()
    return " ".join(text.split())
