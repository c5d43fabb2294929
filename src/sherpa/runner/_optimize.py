"""``sherpa.optimize``: run trial scripts as jobs, collect their metrics, keep the results."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import numbers
import os
import shlex
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from sherpa import _env
from sherpa._convert import check_flag, check_protocol, to_builtin
from sherpa.exceptions import AlgorithmError
from sherpa.logging import get_logger
from sherpa.runner._tracking import HEARTBEAT_TIMEOUT_S, JobTracker, check_heartbeat_timeout
from sherpa.schedulers import JobStatus, JobSubmissionError, Scheduler, SchedulerUnusableError
from sherpa.storage import DEFAULT_DB_FILENAME, SQLStorage, sqlite_url
from sherpa.storage._server import PRIVATE_POSTGRES, PrivatePostgres
from sherpa.storage._sql import ObservationCursor
from sherpa.storage._urls import display_url
from sherpa.study import Study
from sherpa.study._study import RESULTS_FILENAME, check_study_arguments
from sherpa.trial import AlgorithmState, Trial, TrialStatus

if TYPE_CHECKING:
    from sherpa.algorithms import Algorithm, StoppingRule
    from sherpa.parameters import Parameter

__all__ = ["optimize"]

_logger = get_logger(__name__)

POLL_INTERVAL_S = 0.02
"""How long the loop waits for a job to end before it looks for new metrics again."""

RESULTS_WRITE_INTERVAL_S = 0.5
"""``results.csv`` is rewritten at most this often while the run goes (and at its end)..."""

RESULTS_WRITE_SHARE = 0.1
"""...and so that rewriting it takes at most this share of the runner's time."""

PROGRESS_INTERVAL_S = 60.0
"""While trials are open, a progress line comes at least this often (counts of running and
queued jobs), unless a finished trial's line has just shown them."""

QUEUED_NOTICE_S = 1.0
"""A job still queued this long after the runner first saw it queued gets a line saying so."""

STUCK_NOTICE_S = 30.0
"""A run with no open trial whose scheduler has had no free resource this long says so."""

SUBMISSION_RETRY_S = (0.0, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 60.0)
"""After each trial in a row that could not be submitted, the runner waits this long before
submitting the next (a batch system that rejects jobs for a while, e.g. while its controller
restarts, is given time). One more failure after the last pause stops the run: every later
trial would most likely fail the same way."""


class _Signals:
    """Turns SIGINT and SIGTERM into a flag that the loop reads between steps.

    A handler that raised could interrupt the runner anywhere (between submitting a job and
    recording it, inside an import); a flag lets the loop stop at a safe point.
    """

    def __init__(self) -> None:
        self.received: int | None = None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.received = signum

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {s: signal.signal(s, self._handle) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)


@dataclasses.dataclass
class _Running:
    trial: Trial
    job_id: str
    is_resubmission: bool
    stopping: bool = False
    lost_reason: str | None = None
    queued_since: float | None = None


def _default_output_dir() -> Path:
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate = Path(f"output_{stamp}")
    suffix = 2
    while candidate.exists():
        candidate = Path(f"output_{stamp}-{suffix}")
        suffix += 1
    return candidate


def _trial_command(command: str | Sequence[str] | None, filename: object) -> list[str]:
    if (command is None) == (filename is None):
        raise ValueError(
            f"give exactly one of command and filename; got command={command!r}, "
            f"filename={filename!r}"
        )
    if filename is not None:
        if not isinstance(filename, (str, os.PathLike)):
            raise TypeError(f"filename must be a path; got {filename!r}")
        path = Path(filename)
        if not path.is_file():
            raise ValueError(f"filename {os.fspath(filename)!r} is not a file")
        return [sys.executable, str(path.resolve())]
    if isinstance(command, str):
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            raise ValueError(f"command cannot be split: {command!r} ({exc})") from exc
    elif isinstance(command, Sequence) and all(isinstance(a, str) for a in command):
        argv = list(command)
    else:
        raise TypeError(f"command must be a string or a list of strings; got {command!r}")
    if not argv:
        raise ValueError(f"command must not be empty; got {command!r}")
    return argv


def _check_positive_int(name: str, value: object) -> int:
    value = to_builtin(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int; got {value!r} ({type(value).__name__})")
    if value < 1:
        raise ValueError(f"{name} must be at least 1; got {value!r}")
    return int(value)


def _check_verbose(value: object) -> int:
    value = to_builtin(value)
    if isinstance(value, bool):
        return int(value)
    if not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"verbose must be 0 (warnings only) or 1 (progress); got {value!r}")
    return int(value)


def _last_line(path: str | None, limit: int = 4096) -> str | None:
    """The last non-empty line of a job log (e.g. the exception of a traceback), shortened."""
    if path is None:
        return None
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - limit))
            tail = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return None
    lines = [line.strip() for line in tail.splitlines() if line.strip()]
    if not lines:
        return None
    return lines[-1] if len(lines[-1]) <= 200 else lines[-1][:197] + "..."


def _format_parameters(parameters: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in parameters.items())


class _Runner:
    """The loop: submit, poll, ingest, stop, finalize, until the algorithm is done."""

    def __init__(
        self,
        study: Study,
        storage: SQLStorage,
        scheduler: Scheduler,
        command: list[str],
        max_concurrent: int,
        resubmit_failed_trials: bool,
        verbose: int,
        output_dir: Path,
        signals: _Signals,
        heartbeat_timeout: float = HEARTBEAT_TIMEOUT_S,
    ) -> None:
        self.study = study
        self.storage = storage
        self.scheduler = scheduler
        self.command = command
        self.max_concurrent = max_concurrent
        self.resubmit_failed_trials = resubmit_failed_trials
        self.level = 20 if verbose else 10  # INFO or DEBUG
        self.output_dir = output_dir
        self.running: dict[int, _Running] = {}
        self.resubmissions: deque[dict[str, Any]] = deque()
        self.observations = ObservationCursor()
        self.done = False
        self.waiting = False
        self.queued_logged: set[int] = set()
        self.results_dirty = False
        self.results_due_at = 0.0
        self.signals = signals
        planned = getattr(study.algorithm, "planned_suggestions", None)
        self.planned: int | None = planned(study.parameters) if callable(planned) else None
        self.num_resubmitted = 0
        self.failed_submissions = 0  # in a row
        self.submit_at = 0.0  # no submission before this (after failed ones)
        self.draining: set[str] = set()  # jobs of lost trials, killed, polled until they end
        self.stuck_since: float | None = None
        self.warned_stuck = False
        self.tracker = JobTracker(storage, self.study_id, heartbeat_timeout, self.level)
        self.progress_due_at = time.monotonic() + PROGRESS_INTERVAL_S

    @property
    def study_id(self) -> int:
        assert self.study.study_id is not None  # set by Study when it has a store
        return self.study.study_id

    def job_name(self, trial: Trial) -> str:
        """``trial_<id>`` for the first study in the store; ``study<N>_trial_<id>`` after it.

        Job files (``output_dir/jobs/<job_name>.*``) of two runs that share an output
        directory, one after the other or at the same time, must never collide.
        """
        if self.study_id == 1:
            return f"trial_{trial.id}"
        return f"study{self.study_id}_trial_{trial.id}"

    # One pass

    def run(self) -> None:
        """Run until the algorithm is done and every trial has ended, or a signal arrives."""
        while self.signals.received is None:
            ended = self._poll_jobs()
            changed = self.storage.has_changed()
            touched, advanced = self._ingest() if changed or ended else (set(), {})
            self._finish(ended)
            if changed:
                self._stop_unpromising(touched, advanced)
            self._fill_slots()
            if self.done and not self.running and not self.resubmissions:
                return
            if not self.running and self.waiting:
                raise AlgorithmError(
                    f"{type(self.study.algorithm).__name__} answered WAIT although no trial "
                    "is running; the run cannot go on"
                )
            self._warn_if_stuck()
            self._write_results_if_due()
            self._log_progress_if_due()
            self.scheduler.wait(POLL_INTERVAL_S)

    def _warn_if_stuck(self) -> None:
        """Say so (once) when no trial of the run is open and the scheduler takes none.

        sherpa's schedulers count only this run's jobs, so that means a leak; a scheduler of
        the user's own may count other work too, so the run waits rather than ends.
        """
        now = time.monotonic()
        if self.running or now < self.submit_at or self.scheduler.has_capacity():
            self.stuck_since = None
            return
        self.stuck_since = self.stuck_since or now
        if now - self.stuck_since >= STUCK_NOTICE_S and not self.warned_stuck:
            self.warned_stuck = True
            _logger.warning(
                "no trial has run for %.0f s, and %s has no free resource for the next one "
                "(cancelled jobs still ending: %d); waiting",
                now - self.stuck_since,
                type(self.scheduler).__name__,
                len(self.draining),
            )

    def _poll_jobs(self) -> list[tuple[_Running, JobStatus]]:
        if not self.running and not self.draining:
            return []
        by_job = {r.job_id: r for r in self.running.values()}
        statuses = self.scheduler.get_statuses([*by_job, *self.draining])
        gone = JobStatus.UNKNOWN
        self.draining -= {j for j in self.draining if statuses.get(j, gone).is_finished}
        ended = []
        now = time.monotonic()
        for job_id, entry in by_job.items():
            status = statuses.get(job_id, JobStatus.UNKNOWN)  # left out: the job is unknown
            self.tracker.set_status(entry.trial.id, status, now)
            if status.is_finished:
                ended.append((entry, status))
            elif status is JobStatus.QUEUED and entry.trial.id not in self.queued_logged:
                # Batch jobs are queued briefly even on an idle cluster: say so only for a job
                # that keeps waiting.
                since = entry.queued_since = entry.queued_since or now
                if now - since >= QUEUED_NOTICE_S:
                    self.queued_logged.add(entry.trial.id)
                    _logger.log(
                        self.level,
                        "trial %d: job %s is queued (waiting %.0f s)",
                        entry.trial.id,
                        job_id,
                        now - since,
                    )
        for number, reason in self.tracker.find_lost(now).items():
            self.running[number].lost_reason = reason
            ended.append((self.running[number], JobStatus.UNKNOWN))
        return ended

    def _ingest(self) -> tuple[set[int], dict[int, tuple[int, int]]]:
        """Read the new observations.

        Returns:
            The trials they belong to, and for each running one of those the span of
            iterations it newly covers: ``(highest before, highest now)``.
        """
        records = self.storage.read_new_observations(self.study_id, self.observations)
        touched = set()
        before: dict[int, int] = {}
        for record in records:
            entry = self.running.get(record.trial_number)
            if entry is not None and record.trial_number not in before:
                last = self.study.last_iteration(entry.trial)
                before[record.trial_number] = -1 if last is None else last
            if self.study.ingest(record):
                touched.add(record.trial_number)
        if records:
            self.results_dirty = True
        advanced = {}
        for number, last in before.items():
            now = self.study.last_iteration(self.running[number].trial)
            if now is not None and now > last:
                advanced[number] = (last, now)
        return touched, advanced

    def _finish(self, ended: list[tuple[_Running, JobStatus]]) -> None:
        for entry, status in ended:
            del self.running[entry.trial.id]
            self.tracker.remove(entry.trial.id)
            if entry.lost_reason is not None:
                self._drain(entry.job_id)
            self._finalize(entry, status)
        if ended:
            self.results_dirty = True

    def _finalize(self, entry: _Running, status: JobStatus) -> None:
        trial, job_id = entry.trial, entry.job_id
        log = self.scheduler.job_log(job_id)
        has_metrics = self.study.num_observations(trial) > 0
        if status is JobStatus.KILLED or entry.stopping:
            self.study.finalize(trial, TrialStatus.STOPPED)
        elif status is JobStatus.FINISHED and has_metrics:
            self.study.finalize(trial, TrialStatus.COMPLETED)
        else:
            reason = self._failure_reason(entry, status, log)
            _logger.warning("trial %d %s; its log: %s", trial.id, reason, log)
            self.study.finalize(trial, TrialStatus.FAILED)
            if self.resubmit_failed_trials and not entry.is_resubmission:
                _logger.log(self.level, "trial %d: resubmitting its configuration once", trial.id)
                self.resubmissions.append(dict(trial.parameters))
                self.num_resubmitted += 1
        self._log_finished(trial)

    def _drain(self, job_id: str) -> None:
        """Cancel the job of a lost trial, and keep polling it until the scheduler has let it go.

        The scheduler still counts it (its resource, its slot) until it ends; should the job
        come back (a node that was only unreachable), it must not run on unobserved.
        """
        try:
            self.scheduler.kill_job(job_id)
        except Exception as exc:  # the trial is lost either way; say why it may linger
            _logger.warning("job %s of a lost trial could not be cancelled: %s", job_id, exc)
            return
        self.draining.add(job_id)

    def _failure_reason(self, entry: _Running, status: JobStatus, log: str | None) -> str:
        if entry.lost_reason is not None:
            return f"lost: {entry.lost_reason}"
        code = self.scheduler.exit_code(entry.job_id)
        reason = "sent no metrics" if status is JobStatus.FINISHED else "failed"
        if code:
            reason += f" (exit code {code})"
        last_line = _last_line(log)
        if last_line:
            reason += f": {last_line}"
        return reason

    def _log_finished(self, trial: Trial) -> None:
        status = self.study.status_of(trial)
        best_observation = self.study.best_observation(trial)
        result = (
            f"objective {best_observation[1]:.6g} at iteration {best_observation[0]}"
            if best_observation is not None
            else "no objective"
        )
        progress = self._progress()
        _logger.log(self.level, "trial %d %s: %s [%s]", trial.id, status.value, result, progress)

    def _progress(self) -> str:
        """``3/10 done, 2 running, 1 queued, best 0.25 (trial 2)``, from the last poll."""
        self.progress_due_at = time.monotonic() + PROGRESS_INTERVAL_S
        running, queued, unknown = self.tracker.counts(self.running)
        planned = "?" if self.planned is None else self.planned + self.num_resubmitted
        jobs = f"{running} running, {queued} queued" + (f", {unknown} unknown" if unknown else "")
        best = self.study.best_objective()
        best_text = "none yet" if best is None else f"{best[0]:.6g} (trial {best[1]})"
        return f"{self.study.num_finished()}/{planned} done, {jobs}, best {best_text}"

    def _log_progress_if_due(self) -> None:
        if self.running and time.monotonic() >= self.progress_due_at:
            _logger.log(self.level, "progress: %s", self._progress())

    def _stop_unpromising(self, touched: set[int], advanced: dict[int, tuple[int, int]]) -> None:
        """Ask the stopping rule about the trials that reported, and about those that another
        trial has just caught up with.

        A rule such as the median rule compares a trial at its latest iteration with the
        trials that reached it. A trial that waits between two reports (a long epoch) is
        therefore asked again as soon as another trial reaches its iteration: otherwise it
        would be asked only at its next report, when it may be ahead of everyone again.
        """
        requested = self.storage.stop_requested(self.study_id) if self.running else set()
        caught_up = set()
        if advanced and self.study.stopping_rule is not None:
            for number, running in self.running.items():
                last = self.study.last_iteration(running.trial)
                if number in touched or last is None:
                    continue
                if any(old < last <= new for old, new in advanced.values()):
                    caught_up.add(number)
        for number in touched | requested | caught_up:
            entry = self.running.get(number)
            if entry is None or entry.stopping:
                continue
            if number in requested:
                self.study.request_stop(entry.trial)
            if self.study.should_trial_stop(entry.trial):
                _logger.log(self.level, "trial %d: stopping (job %s)", number, entry.job_id)
                entry.stopping = True
                self.scheduler.kill_job(entry.job_id)

    def _fill_slots(self) -> None:
        self.waiting = False
        while len(self.running) < self.max_concurrent and self.scheduler.has_capacity():
            if self.signals.received is not None or time.monotonic() < self.submit_at:
                return
            if self.resubmissions:
                trial = self.study.create_trial(self.resubmissions.popleft())
                self._submit(trial, is_resubmission=True)
                continue
            if self.done:
                return
            suggestion = self.study.get_suggestion()
            if suggestion is AlgorithmState.WAIT:
                self.waiting = True
                return
            if suggestion is None or suggestion is AlgorithmState.DONE:
                self.done = True
                return
            assert isinstance(suggestion, Trial)
            self._submit(suggestion, is_resubmission=False)

    def _submit(self, trial: Trial, *, is_resubmission: bool) -> None:
        env = {
            _env.TRIAL_ID: str(trial.id),
            _env.STUDY_ID: str(self.study_id),
            _env.DB_URL: self.storage.url,
            _env.OUTPUT_DIR: str(self.output_dir),
            "PYTHONUNBUFFERED": os.environ.get("PYTHONUNBUFFERED", "1"),
            _env.HEARTBEAT_INTERVAL: f"{self.tracker.beat_interval:g}",
        }
        try:
            job_id = self.scheduler.submit_job(self.command, env, job_name=self.job_name(trial))
        except JobSubmissionError as exc:
            _logger.warning("trial %d could not be submitted: %s", trial.id, exc)
            self.study.finalize(trial, TrialStatus.FAILED)
            self.results_dirty = True
            self._back_off(exc)
            return
        except SchedulerUnusableError:
            # The scheduler cannot run any trial (a missing tool, an unusable output_dir):
            # this one never ran, and the run stops with the error.
            self.study.finalize(trial, TrialStatus.FAILED)
            self.results_dirty = True
            raise
        self.failed_submissions = 0
        self.storage.set_job_id(self.study_id, trial.id, job_id)
        self.running[trial.id] = _Running(trial, job_id, is_resubmission)
        self.tracker.add(trial.id, job_id, time.monotonic())
        _logger.log(
            self.level,
            "trial %d submitted as job %s: %s",
            trial.id,
            job_id,
            _format_parameters(trial.parameters),
        )

    def _back_off(self, error: JobSubmissionError) -> None:
        """Pause submissions after a failed one; stop the run after too many in a row."""
        self.failed_submissions += 1
        if self.failed_submissions > len(SUBMISSION_RETRY_S):
            raise SchedulerUnusableError(
                f"{self.failed_submissions} trials in a row could not be submitted; the "
                f"last: {error}"
            ) from error
        pause = SUBMISSION_RETRY_S[self.failed_submissions - 1]
        self.submit_at = time.monotonic() + pause
        if pause:
            _logger.log(self.level, "next submission in %g s", pause)

    def _write_results_if_due(self) -> None:
        now = time.monotonic()
        if self.results_dirty and now >= self.results_due_at:
            self.study.save(self.output_dir)
            took = time.monotonic() - now
            self.results_dirty = False
            self.results_due_at = now + max(RESULTS_WRITE_INTERVAL_S, took / RESULTS_WRITE_SHARE)

    # Ending

    def shut_down(self) -> None:
        """Stop what still runs, record it STOPPED, and collect the last metrics."""
        for entry in self.running.values():
            entry.stopping = True
            self.scheduler.kill_job(entry.job_id)
        self.scheduler.close()
        self._ingest()
        self.running.clear()
        for number in self.study.open_trial_ids():
            trial = self.study.get_trial(number)
            self.study.finalize(trial, TrialStatus.STOPPED)
            self._log_finished(trial)

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for trial in self.study.trials:
            status = self.study.status_of(trial).value
            counts[status] = counts.get(status, 0) + 1
        parts = ", ".join(f"{n} {s.lower()}" for s, n in sorted(counts.items())) or "none"
        best = self.study.best_objective()
        best_text = (
            "no completed trial" if best is None else f"best {best[0]:.6g} (trial {best[1]})"
        )
        return f"{_plural(len(self.study.trials), 'trial')} ({parts}); {best_text}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def optimize(
    parameters: Sequence[Parameter],
    algorithm: Algorithm,
    lower_is_better: bool,
    scheduler: Scheduler,
    command: str | Sequence[str] | None = None,
    filename: str | os.PathLike[str] | None = None,
    output_dir: str | os.PathLike[str] | None = None,
    max_concurrent: int = 1,
    db_port: int | None = None,
    stopping_rule: StoppingRule | None = None,
    dashboard_port: int | None = None,
    resubmit_failed_trials: bool = False,
    verbose: int = 1,
    load: bool = False,
    mongodb_args: Mapping[str, Any] | None = None,
    disable_dashboard: bool = False,
    *,
    storage: str | PrivatePostgres | None = None,
    heartbeat_timeout: float = HEARTBEAT_TIMEOUT_S,
) -> dict[str, Any]:
    """Run a hyperparameter search with each trial as a job of ``scheduler``.

    The runner creates the store (an SQLite file ``sherpa.db`` in ``output_dir`` unless
    ``storage`` names a database), submits up to ``max_concurrent`` trials at a time, reads
    their metrics as they arrive, stops trials the stopping rule rejects, keeps
    ``output_dir/results.csv`` current and returns the best result. Ctrl-C or SIGTERM stops
    the running trials, records them STOPPED and saves the results before the exception
    propagates.

    Args:
        parameters: The search space.
        algorithm: Suggests configurations.
        lower_is_better: Whether the objective is minimized.
        scheduler: Runs the trials, e.g. ``sherpa.schedulers.LocalScheduler()``.
        command: The trial command, a string split like a shell would or a list.
        filename: A Python trial script, run with the current interpreter (instead of
            ``command``).
        output_dir: Where the store, ``results.csv`` and job logs go; a new
            ``output_<timestamp>`` directory by default.
        max_concurrent: How many trials run at once.
        db_port: The port of the private PostgreSQL server (``storage="postgresql"``); a
            free one when None. Ignored, with a warning, by the other stores.
        stopping_rule: Stops unpromising trials, e.g. a median stopping rule.
        dashboard_port: The dashboard's port; None takes the first free one from 8880. The
            dashboard serves the live store until the run ends; its address, with the
            access token, is logged once (``docs/dashboard.md``).
        resubmit_failed_trials: Run a failed trial's configuration once more, as a new trial.
        verbose: 0 logs only warnings; 1 logs each submitted and finished trial with progress
            (trials done, jobs running and queued, best so far), and a progress line at least
            once a minute while trials are open.
        load: Resuming a previous run is not supported yet; must be False.
        mongodb_args: Accepted for compatibility; there is no MongoDB (ignored, with a
            warning when not empty).
        disable_dashboard: Do not start the dashboard.
        storage: Where the store is. None (the default): the SQLite file
            ``output_dir/sherpa.db``, for trials on this host. ``"postgresql"``: a private
            PostgreSQL server started for this run, data in ``output_dir/postgres/``, on
            ``db_port`` (see :class:`sherpa.storage.PrivatePostgres`, which can also be
            passed here to choose its listen address and more). A database URL, e.g.
            ``postgresql+psycopg://user:password@host:5432/db``: an existing server. Server
            stores need ``sherpa[postgres]``; trials get the URL in ``SHERPA_DB_URL``, so it
            must be reachable from where they run.
        heartbeat_timeout: Seconds without a heartbeat from a trial process (which sends
            one every few seconds from ``Client.get_trial()`` on) after which the trial is
            FAILED, if the scheduler also no longer knows its job (the node died); resubmitted
            when ``resubmit_failed_trials``. A trial whose job still runs is only warned
            about. ``float("inf")`` turns this off.

    Returns:
        The best result, as :meth:`Study.get_best_result` gives it.

    Raises:
        ValueError: a bad argument (the message names it and its value).
        KeyboardInterrupt: the run was interrupted with Ctrl-C (after cleaning up).
        SystemExit: the run received SIGTERM (after cleaning up), with status 143.
        SchedulerUnusableError: the scheduler cannot run trials as it is set up (a missing
            tool), or several trials in a row could not be submitted (see
            ``SUBMISSION_RETRY_S``); the trials run so far stay in the store and results.
        StorageUnreachableError: the ``storage`` database cannot be reached, or the private
            server cannot be started (e.g. PostgreSQL is not installed, ``db_port`` is busy).
    """
    argv = _trial_command(command, filename)
    max_concurrent = _check_positive_int("max_concurrent", max_concurrent)
    verbose = _check_verbose(verbose)
    heartbeat_timeout = check_heartbeat_timeout(heartbeat_timeout)
    resubmit_failed_trials = check_flag("resubmit_failed_trials", resubmit_failed_trials)
    check_protocol("scheduler", scheduler, "submit_job", "sherpa.schedulers.Scheduler")
    if load:
        raise ValueError(
            "load=True (resuming a previous run from its store) is not supported yet; "
            "start a new run, or read the old one with sherpa.Study.load(output_dir)"
        )
    if mongodb_args:
        _logger.warning("mongodb_args=%r is ignored: sherpa stores trials in SQL", mongodb_args)
    server_config = _private_server_config(storage, db_port)
    check_study_arguments(
        parameters, algorithm, lower_is_better, stopping_rule, dashboard_port, disable_dashboard
    )
    _check_store_spans_hosts(scheduler, storage, server_config)

    directory = Path(output_dir) if output_dir is not None else _default_output_dir()
    if directory.exists() and not directory.is_dir():
        raise ValueError(f"output_dir {os.fspath(directory)!r} exists and is not a directory")
    directory.mkdir(parents=True, exist_ok=True)
    directory = directory.resolve()
    spans_hosts = bool(getattr(scheduler, "spans_hosts", False))
    server = (
        server_config.start(directory, spans_hosts=spans_hosts, log_level=20 if verbose else 10)
        if server_config
        else None
    )
    try:
        url = server.url if server is not None else storage
        url = url if isinstance(url, str) else sqlite_url(directory / DEFAULT_DB_FILENAME)
        if (directory / RESULTS_FILENAME).exists():
            _logger.warning(
                "output_dir %s holds an earlier run; its results.csv will be replaced (the "
                "earlier study stays in %s, and its job logs stay in jobs/)",
                directory,
                DEFAULT_DB_FILENAME if storage is None else display_url(url),
            )
        signals = _Signals()
        store = SQLStorage(url)
        study = Study(
            parameters,
            algorithm,
            lower_is_better,
            stopping_rule=stopping_rule,
            dashboard_port=dashboard_port,
            disable_dashboard=disable_dashboard,
            output_dir=directory,
            storage=store,
            study_name=f"{directory.name}-{datetime.datetime.now():%Y%m%d-%H%M%S-%f}",
        )
        if not scheduler.output_dir:
            scheduler.output_dir = str(directory)
        runner = _Runner(
            study, store, scheduler, argv, max_concurrent, resubmit_failed_trials,
            verbose, directory, signals, heartbeat_timeout,
        )  # fmt: skip
        _logger.log(
            runner.level,
            "study %s: output in %s, up to %s at a time",
            study.name,
            directory,
            _plural(max_concurrent, "trial"),
        )
        with signals.installed():
            _run(runner)
        return study.get_best_result()
    finally:
        if server is not None:
            server.stop()


def _run(runner: _Runner) -> None:
    try:
        runner.run()
    finally:
        runner.shut_down()
        path = runner.study.save(runner.output_dir)
        runner.storage.close()
        runner.study.close()
    received = runner.signals.received
    if received is None:
        _logger.log(runner.level, "done: %s; results in %s", runner.summary(), path)
        return
    _logger.warning(
        "interrupted by %s: %s; results in %s",
        signal.Signals(received).name,
        runner.summary(),
        path,
    )
    if received == signal.SIGTERM:
        raise SystemExit(128 + signal.SIGTERM)
    raise KeyboardInterrupt


def _private_server_config(storage: object, db_port: int | None) -> PrivatePostgres | None:
    """The private server ``storage`` asks for (with ``db_port``), or None for other stores."""
    if isinstance(storage, str) and storage.strip().lower() == PRIVATE_POSTGRES:
        return PrivatePostgres(port=db_port)
    if isinstance(storage, PrivatePostgres):
        if db_port is None or storage.port == db_port:
            return storage
        if storage.port is not None:
            raise ValueError(
                f"db_port={db_port!r} contradicts storage=PrivatePostgres(port={storage.port!r}); "
                "give the port once"
            )
        return dataclasses.replace(storage, port=db_port)
    if storage is not None and not isinstance(storage, str):
        raise TypeError(
            "storage must be None (SQLite), 'postgresql' (a private server), a database URL "
            f"or a sherpa.storage.PrivatePostgres; got {storage!r}"
        )
    if db_port is not None:
        where = "the SQLite store needs no port" if storage is None else "it is in the URL"
        _logger.warning("db_port=%r is ignored: %s", db_port, where)
    return None


def _check_store_spans_hosts(
    scheduler: Scheduler, storage: object, server: PrivatePostgres | None
) -> None:
    """Warn when trials on other hosts would share the SQLite default or a loopback server."""
    if not getattr(scheduler, "spans_hosts", False):
        return
    name = type(scheduler).__name__
    if storage is None:
        _logger.warning(
            "%s runs trials on other hosts, but the store is the SQLite default "
            "(output_dir/%s): SQLite on a shared network filesystem (NFS, Lustre, GPFS) can "
            "lose or corrupt writes from several hosts. Pass storage='postgresql' to start a "
            "private PostgreSQL server for the run (pip install sherpa[postgres]), or "
            "storage=URL of an existing server.",
            name,
            DEFAULT_DB_FILENAME,
        )
    elif server is not None and server.listen is not None and server.is_loopback:
        _logger.warning(
            "%s runs trials on other hosts, but the private PostgreSQL server listens only "
            "on %s (PrivatePostgres(listen=%r)): trials on other hosts cannot reach it",
            name,
            server.listen,
            server.listen,
        )
