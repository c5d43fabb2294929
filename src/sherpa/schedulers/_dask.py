"""Trials as subprocesses on the workers of a Dask cluster.

How the two sides talk:

- The runner submits one task per trial (:func:`_run_job`). On the worker, the task starts the
  trial command as a subprocess in its own session, writes its output to the job log, and
  returns the exit code; the task holds one worker thread while the trial runs.
- When the subprocess has started, the task logs a Dask event (``Worker.log_event``) on a topic
  private to the scheduler object; the client subscribes to it, so the runner learns which
  worker runs the job, and its pid, without asking anything (QUEUED becomes RUNNING).
- When the subprocess has ended, the task logs a second event with the exit code, which wakes
  :meth:`DaskScheduler.wait`; status polls never go over the network. Each future's done
  callback covers what no event tells: a task that was cancelled, raised or was lost.
- To kill a running job, the client calls :func:`_kill_on_worker` on the one worker that runs
  it (``Client.run``); it sends SIGTERM to the subprocess's process group and SIGKILL after the
  grace period. A job that has not started yet is cancelled instead.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import numbers
import os
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

try:
    import distributed
except ImportError as exc:  # pragma: no cover (the test environment has the extra)
    raise ImportError(
        "DaskScheduler needs Dask's distributed package: pip install 'sherpa[dask]'"
    ) from exc

from sherpa import _env
from sherpa.logging import get_logger
from sherpa.schedulers._base import (
    JobStatus,
    JobSubmissionError,
    ResourcePool,
    Scheduler,
    check_output_dir,
    command_argv,
)

__all__ = ["DaskScheduler"]

_logger = get_logger(__name__)

KILL_GRACE_S = 5.0
"""The default time a killed job gets to exit after SIGTERM, before SIGKILL."""

CONNECT_TIMEOUT_S = 30.0
"""How long :class:`DaskScheduler` tries to reach a scheduler address before it gives up."""

_CLOSE_MARGIN_S = 10.0
"""How long :meth:`DaskScheduler.close` waits beyond the grace period for killed jobs."""


# The worker side. These run inside Dask worker processes; the client pickles them by
# reference, so the workers must be able to import sherpa (the trials import it anyway).


@dataclasses.dataclass(frozen=True)
class _TaskSpec:
    """What a worker needs to run one job."""

    key: str
    argv: list[str]
    env: dict[str, str]
    log: str
    cwd: str
    topic: str
    kill_grace_period: float


@dataclasses.dataclass(frozen=True)
class _Outcome:
    """What a task returns: how its subprocess ended."""

    exit_code: int | None
    killed: bool
    error: str | None = None


@dataclasses.dataclass
class _WorkerJob:
    process: subprocess.Popen[bytes]
    killed: bool = False
    ended: bool = False
    timer: threading.Timer | None = None


_worker_jobs: dict[str, _WorkerJob] = {}
_worker_lock = threading.Lock()
_worker_atexit_registered = False


def _signal_group(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)


def _terminate_worker_jobs() -> None:
    """At worker exit, end the subprocesses still running, which sit in their own sessions."""
    with _worker_lock:
        for job in _worker_jobs.values():
            if not job.ended:
                _signal_group(job.process.pid, signal.SIGTERM)


def _register(key: str, job: _WorkerJob) -> None:
    global _worker_atexit_registered
    with _worker_lock:
        _worker_jobs[key] = job
        if not _worker_atexit_registered:
            atexit.register(_terminate_worker_jobs)
            _worker_atexit_registered = True


def _unregister(key: str) -> None:
    with _worker_lock:
        job = _worker_jobs.pop(key)
        job.ended = True  # under the lock: no SIGKILL reaches a process group id reused later
        if job.timer is not None:
            job.timer.cancel()


def _escalate(job: _WorkerJob) -> None:
    with _worker_lock:
        if not job.ended:
            _signal_group(job.process.pid, signal.SIGKILL)


def _kill_on_worker(key: str, grace: float) -> bool:
    """Terminate the subprocess of job ``key`` on this worker; whether it was running here."""
    with _worker_lock:
        job = _worker_jobs.get(key)
        if job is None or job.ended or job.killed:
            return job is not None and not job.ended
        job.killed = True
        _signal_group(job.process.pid, signal.SIGTERM)
        job.timer = threading.Timer(grace, _escalate, (job,))
        job.timer.daemon = True
        job.timer.start()
        return True


def _start_process(spec: _TaskSpec, out: Any) -> subprocess.Popen[bytes]:
    env = {**os.environ, **spec.env}
    if _env.RESOURCE not in spec.env:
        env.pop(_env.RESOURCE, None)  # only a resource the scheduler handed out reaches a job
    return subprocess.Popen(
        spec.argv,
        env=env,
        cwd=spec.cwd if os.path.isdir(spec.cwd) else None,
        stdin=subprocess.DEVNULL,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _run_job(spec: _TaskSpec) -> _Outcome:
    """The Dask task of one job: run its command, wait for it, return how it ended."""
    worker = distributed.get_worker()
    host = socket.gethostname()
    log = Path(spec.log)
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        out = open(log, "wb")  # noqa: SIM115 (closed below, once the child has its copy)
    except OSError as exc:
        error = f"cannot write the job log {log} on {host}: {exc}"
        return _report_end(worker, spec, _Outcome(None, False, error))
    start_error: str | None = None
    with out:
        try:
            process = _start_process(spec, out)
        except OSError as exc:
            message = f"DaskScheduler: cannot start {spec.argv!r} on {host}: {exc}"
            out.write(message.encode() + b"\n")
            start_error = message
    if start_error is not None:  # reported once the log is closed, so the runner can read it
        return _report_end(worker, spec, _Outcome(None, False, start_error))

    job = _WorkerJob(process)
    _register(spec.key, job)
    try:
        started = {"event": "start", "key": spec.key, "pid": process.pid, "host": host}
        worker.log_event(spec.topic, {**started, "worker": worker.address})
        code = process.wait()
    finally:
        if process.poll() is None:  # the wait was interrupted: leave nothing behind
            _signal_group(process.pid, signal.SIGKILL)
            process.wait()
        _unregister(spec.key)
    return _report_end(worker, spec, _Outcome(code, job.killed))


def _report_end(worker: distributed.Worker, spec: _TaskSpec, outcome: _Outcome) -> _Outcome:
    """Tell the client how the job ended, sooner than it could fetch the task's result."""
    ended = {"event": "end", "key": spec.key, **dataclasses.asdict(outcome)}
    worker.log_event(spec.topic, ended)
    return outcome


# The client side.


@dataclasses.dataclass(frozen=True)
class _Start:
    worker: str
    host: str
    pid: int


@dataclasses.dataclass
class _Job:
    future: distributed.Future[_Outcome] | None
    log: str
    resource: Any = None
    start: _Start | None = None
    done: bool = False
    outcome: _Outcome | None = None
    error: str | None = None
    kill_requested: bool = False
    kill_sent: bool = False
    status: JobStatus | None = None
    """The final status, once the runner has seen the job end."""


def _check_worker_resources(worker_resources: Mapping[str, float] | None) -> dict[str, float]:
    if worker_resources is None:
        return {}
    if not isinstance(worker_resources, Mapping):
        raise TypeError(
            f"worker_resources must map Dask resource names to amounts, e.g. {{'GPU': 1}}; "
            f"got {worker_resources!r}"
        )
    checked: dict[str, float] = {}
    for name, amount in worker_resources.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"worker_resources names must be non-empty strings; got {name!r}")
        if isinstance(amount, bool) or not isinstance(amount, numbers.Real) or not amount > 0:
            raise ValueError(
                f"worker_resources[{name!r}] must be a positive number; got {amount!r}"
            )
        checked[name] = float(amount)
    return checked


def _check_connect_timeout(connect_timeout: float) -> float:
    if isinstance(connect_timeout, bool) or not isinstance(connect_timeout, (int, float)):
        raise TypeError(f"connect_timeout must be a number of seconds; got {connect_timeout!r}")
    if not connect_timeout > 0:
        raise ValueError(f"connect_timeout must be a positive number; got {connect_timeout!r}")
    return float(connect_timeout)


def _declared_resources(client: distributed.Client) -> dict[str, dict[str, float]]:
    """The resources each connected worker declares, keyed by the worker's address."""
    try:
        info = client.scheduler_info(n_workers=-1)  # every worker, not a sample of them
    except TypeError:
        info = client.scheduler_info()
    return {
        address: dict(worker.get("resources") or {})
        for address, worker in info.get("workers", {}).items()
    }


def _format_resources(resources: Mapping[str, float]) -> str:
    return ", ".join(f"{name}={amount:g}" for name, amount in sorted(resources.items())) or "none"


def _check_grace(kill_grace_period: float) -> float:
    if isinstance(kill_grace_period, bool) or not isinstance(kill_grace_period, (int, float)):
        raise TypeError(f"kill_grace_period must be a number; got {kill_grace_period!r}")
    if not kill_grace_period >= 0:
        raise ValueError(f"kill_grace_period must be 0 or more; got {kill_grace_period!r}")
    return float(kill_grace_period)


class DaskScheduler(Scheduler):
    """Run each trial as a subprocess on a worker of a Dask cluster.

    Each job is one Dask task that starts the trial command on a worker, writes its output to
    ``output_dir/jobs/<job_name>.out`` *on that worker*, and returns its exit code; the task
    holds one worker thread while the trial runs, and a job waits (``QUEUED``) while no thread
    is free. So that the runner can read the logs, ``output_dir`` must be a directory the
    workers see at the same path (a shared filesystem; with a ``LocalCluster`` it always is).
    The trial runs in the runner's working directory where that exists on the worker, else in
    the worker's own; its command (e.g. the runner's Python interpreter) must exist on the
    workers, sherpa must be importable there, and the store must be reachable from them (use a
    PostgreSQL URL when workers run on other hosts).

    Killing a job sends SIGTERM to its process group on the worker that runs it, then SIGKILL
    after ``kill_grace_period`` seconds; a job that has not started yet is cancelled. If a
    worker dies while a trial runs, the job ``FAILED`` as soon as Dask starts the task again
    elsewhere (sherpa stops that second run, so no trial runs twice under one id; with
    ``resubmit_failed_trials=True`` the runner runs the configuration again as a new trial).
    A worker killed outright can leave its trial processes running (they sit in their own
    sessions); one that shuts down normally terminates them.

    The trial's environment, with the store's URL and password, travels to the workers in
    the task's arguments: on a network you do not trust, use Dask's TLS
    (``distributed.security.Security``).

    Args:
        client: A connected ``distributed.Client`` to submit through. The scheduler never
            closes it. Give this or ``address``.
        address: The address of a Dask scheduler, e.g. ``"tcp://10.0.0.5:8786"``; the
            scheduler connects its own client, and :meth:`close` closes it.
        output_dir: Where job logs go (``output_dir/jobs/<job_name>.out``); the runner's
            output directory when empty or None.
        resources: Values handed out one per running trial as ``SHERPA_RESOURCE`` and returned
            when the trial ends, as with ``LocalScheduler``; with resources, no more trials
            run at once than there are values. The values are the same for every worker, so
            they suit one multi-GPU host (GPU ids ``[0, 1]``) or tokens that mean the same
            everywhere.
        worker_resources: Dask worker resources each trial claims, e.g. ``{"GPU": 1}``: its
            task runs only on a worker started with that resource (``dask worker
            --resources "GPU=2"``) and waits while the worker's amount is in use. The first
            submission warns (once per resource) when no connected worker declares it.
        kill_grace_period: Seconds between SIGTERM and SIGKILL when a job is killed.
        connect_timeout: Seconds to keep trying to reach ``address``.

    Raises:
        ValueError: neither or both of ``client`` and ``address``, a closed client, or an
            address that cannot be reached.
        TypeError: an argument of the wrong type.

    Example:
        >>> import distributed, sherpa
        >>> cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1)  # doctest: +SKIP
        >>> client = distributed.Client(cluster)  # doctest: +SKIP
        >>> scheduler = sherpa.schedulers.DaskScheduler(client)  # doctest: +SKIP
    """

    spans_hosts = True

    def __init__(
        self,
        client: distributed.Client | None = None,
        address: str | None = None,
        output_dir: str | os.PathLike[str] | None = "",
        resources: Iterable[Any] | None = None,
        *,
        worker_resources: Mapping[str, float] | None = None,
        kill_grace_period: float = KILL_GRACE_S,
        connect_timeout: float = CONNECT_TIMEOUT_S,
    ) -> None:
        if (client is None) == (address is None):
            raise ValueError(
                f"give exactly one of client (a distributed.Client) and address (a Dask "
                f"scheduler address); got client={client!r}, address={address!r}"
            )
        if client is not None:
            self._check_client(client)
        if address is not None and (not isinstance(address, str) or not address):
            raise TypeError(f"address must be a Dask scheduler address string; got {address!r}")
        self.output_dir = check_output_dir(output_dir)
        self._pool = ResourcePool(
            resources, mapping_hint="Dask worker resources go in worker_resources"
        )
        self.resources = self._pool.values
        self.worker_resources = _check_worker_resources(worker_resources)
        self.kill_grace_period = _check_grace(kill_grace_period)
        self.address = address
        self._connect_timeout = _check_connect_timeout(connect_timeout)
        self._resources_known: set[str] = set()
        """The worker_resources seen on a worker, or warned about: not checked again."""
        self._topic = f"sherpa-dask-scheduler-{uuid.uuid4().hex}"
        self._jobs: dict[str, _Job] = {}
        self._changed = threading.Event()
        self._owns_client = client is None
        self._client: distributed.Client | None = client
        self._subscribed = False
        self._connect()

    @staticmethod
    def _check_client(client: object) -> None:
        if not isinstance(client, distributed.Client):
            raise TypeError(f"client must be a distributed.Client; got {client!r}")
        if client.asynchronous:
            raise ValueError(
                f"client must be a synchronous distributed.Client; got an asynchronous {client!r}"
            )
        if client.status != "running":
            raise ValueError(f"client must be connected; got {client!r} ({client.status})")

    def _connect(self) -> distributed.Client:
        """The client, connected (again, after :meth:`close`) and subscribed to job starts."""
        if self._client is None:
            try:
                self._client = distributed.Client(
                    self.address, timeout=self._connect_timeout, set_as_default=False
                )
            except (OSError, TimeoutError) as exc:
                raise ValueError(
                    f"DaskScheduler: cannot reach the Dask scheduler at address="
                    f"{self.address!r} within {self._connect_timeout:g} s: {exc}"
                ) from exc
        if not self._subscribed:
            self._client.subscribe_topic(self._topic, self._on_event)
            self._subscribed = True
        return self._client

    @property
    def client(self) -> distributed.Client | None:
        """The client jobs go through (None after :meth:`close` of an own client)."""
        return self._client

    # Submitting

    def has_capacity(self) -> bool:
        """False only while every value of ``resources`` is in use; Dask queues the rest."""
        return self._pool.has_free()

    def submit_job(
        self,
        command: Sequence[str],
        env: Mapping[str, str] | None = None,
        job_name: str = "",
    ) -> str:
        argv = command_argv("DaskScheduler", command)
        if not self.has_capacity():
            raise JobSubmissionError("DaskScheduler: no free resource; wait for a trial to end")
        client = self._connect()
        self._warn_of_missing_worker_resources(client)

        resource = self._pool.take("DaskScheduler")
        job_env = {k: str(v) for k, v in (env or {}).items()}
        job_env.pop(_env.RESOURCE, None)
        if resource is not None:
            job_env[_env.RESOURCE] = str(resource)
        name = job_name or "job"
        key = f"sherpa-{name}-{uuid.uuid4().hex[:12]}"
        log = str(Path(self.output_dir or ".").absolute() / "jobs" / f"{name}.out")
        spec = _TaskSpec(key, argv, job_env, log, os.getcwd(), self._topic, self.kill_grace_period)

        job = _Job(None, log, resource)
        self._jobs[key] = job
        try:
            future = client.submit(
                _run_job, spec, key=key, pure=False, resources=self.worker_resources or None
            )
        except Exception as exc:
            del self._jobs[key]
            self._pool.give_back(resource)
            raise JobSubmissionError(f"DaskScheduler: cannot submit {argv!r}: {exc}") from exc
        job.future = future
        future.add_done_callback(lambda done: self._on_done(job, done))
        return key

    def _warn_of_missing_worker_resources(self, client: distributed.Client) -> None:
        """Warn once per resource of ``worker_resources`` that no connected worker has.

        Dask keeps such a task waiting, without a word, until a worker with the resource joins
        (an adaptive cluster may add one later, so this is a warning, not an error).
        """
        unchecked = set(self.worker_resources) - self._resources_known
        if not unchecked:
            return
        try:
            declared = _declared_resources(client)
        except Exception as exc:  # the check is a courtesy; the submission decides
            _logger.debug("DaskScheduler: cannot list the workers' resources: %s", exc)
            return
        for name in sorted(unchecked):
            self._resources_known.add(name)
            need = self.worker_resources[name]
            if any(held.get(name, 0) >= need for held in declared.values()):
                continue
            workers = "; ".join(sorted({_format_resources(held) for held in declared.values()}))
            _logger.warning(
                "DaskScheduler: no connected worker has the resource %s=%g that "
                "worker_resources asks for (%s); its trials wait as QUEUED until such a "
                "worker joins",
                name,
                need,
                f"the connected workers' resources: {workers}"
                if declared
                else "no worker is connected",
            )

    # Events from the cluster (on Dask's threads)

    def _on_event(self, event: tuple[float, Any]) -> None:
        """A task reports that its subprocess started or ended (on the client's event loop)."""
        message = event[1]
        job = self._jobs.get(message["key"])
        if job is None:
            return
        if message["event"] == "end":
            if not job.done:
                job.outcome = _Outcome(message["exit_code"], message["killed"], message["error"])
                job.done = True
            self._changed.set()
            return
        start = _Start(message["worker"], message["host"], message["pid"])
        previous, job.start = job.start, start
        _logger.debug("job %s: started on %s (pid %d)", message["key"], start.host, start.pid)
        if previous is not None and previous != start:
            self._on_restart(message["key"], job, previous)
        elif job.kill_requested and not job.kill_sent:
            job.kill_sent = True  # killed while it was starting
            self._kill_in_thread(message["key"], start)
        self._changed.set()

    def _on_restart(self, job_id: str, job: _Job, lost: _Start) -> None:
        """Dask runs a task again when its worker was lost: fail the job, stop the rerun.

        A second run would start the trial over under the same trial id; failing the job
        instead lets the runner resubmit the configuration as a new trial, if asked to.
        """
        if not job.done:
            job.error = (
                f"its worker {lost.worker} on {lost.host} was lost while the trial ran (pid "
                f"{lost.pid}); Dask started the task again, which sherpa stopped"
            )
            job.done = True
        assert job.start is not None
        self._kill_in_thread(job_id, job.start)

    def _kill_in_thread(self, job_id: str, start: _Start) -> None:
        # Event handlers run on the client's event loop, which cannot wait for Client.run.
        threading.Thread(target=self._kill_on, args=(job_id, start), daemon=True).start()

    def _on_done(self, job: _Job, future: distributed.Future[_Outcome]) -> None:
        """A job's future ended (on Dask's callback thread): what its end event did not say.

        A task that ran reports its outcome in an end event; this covers a task that never
        ran (cancelled), that raised, or whose end event was lost.
        """
        if job.done:
            return
        outcome, error = None, None
        try:
            if future.status == "finished":
                outcome = future.result()
            elif future.status == "error":
                exc = future.exception()
                error = f"{type(exc).__name__}: {exc}"
            elif future.status != "cancelled":
                error = f"the Dask future ended as {future.status!r}"
        except Exception as exc:
            error = f"its outcome could not be fetched: {type(exc).__name__}: {exc}"
        if not job.done:
            job.outcome, job.error = outcome, error
            job.done = True
        self._changed.set()

    # Status

    def _job(self, job_id: str) -> _Job:
        try:
            return self._jobs[job_id]
        except KeyError:
            raise KeyError(f"DaskScheduler: unknown job id {job_id!r}") from None

    def get_status(self, job_id: str) -> JobStatus:
        return self.get_statuses([job_id])[job_id]

    def get_statuses(self, job_ids: Iterable[str]) -> dict[str, JobStatus]:
        """The jobs' statuses, from what the futures and the start events said (no query)."""
        statuses = {}
        for job_id in job_ids:
            job = self._job(job_id)
            if job.status is None and job.done:
                job.status = self._final_status(job_id, job)
            if job.status is not None:
                statuses[job_id] = job.status
            else:
                statuses[job_id] = JobStatus.QUEUED if job.start is None else JobStatus.RUNNING
        return statuses

    def _final_status(self, job_id: str, job: _Job) -> JobStatus:
        self._release(job)
        outcome = job.outcome
        if outcome is not None and outcome.error is None and outcome.exit_code is not None:
            if outcome.killed:
                return JobStatus.KILLED
            return JobStatus.FINISHED if outcome.exit_code == 0 else JobStatus.FAILED
        if outcome is None and job.error is None:  # cancelled
            if job.kill_requested:
                return JobStatus.KILLED
            job.error = "its Dask task was cancelled"
        reason = outcome.error if outcome is not None else job.error
        self._record_failure(job_id, job, reason or "unknown error")
        return JobStatus.FAILED

    def _record_failure(self, job_id: str, job: _Job, reason: str) -> None:
        """Put why a job failed at the end of its log, where the runner's warning reads it."""
        if reason.startswith("DaskScheduler:"):  # the task wrote it there already
            return
        message = f"DaskScheduler: job {job_id} failed: {reason}"
        try:
            log = Path(job.log)
            log.parent.mkdir(parents=True, exist_ok=True)
            with open(log, "a") as handle:
                handle.write(message + "\n")
        except OSError as exc:
            _logger.warning("%s (and its log %s cannot be written: %s)", message, job.log, exc)

    def _release(self, job: _Job) -> None:
        self._pool.give_back(job.resource)
        job.resource = None
        job.future = None  # lets Dask forget the task's result

    def exit_code(self, job_id: str) -> int | None:
        outcome = self._job(job_id).outcome
        return None if outcome is None else outcome.exit_code

    def job_log(self, job_id: str) -> str | None:
        return self._job(job_id).log

    def wait(self, timeout: float) -> None:
        """Block until a job starts or ends, or ``timeout`` seconds have passed."""
        self._changed.wait(timeout)
        self._changed.clear()

    # Killing

    def kill_job(self, job_id: str) -> None:
        job = self._job(job_id)
        if job.kill_requested or job.done or job.future is None:
            return
        job.kill_requested = True
        if job.start is not None:
            job.kill_sent = True
            self._kill_on(job_id, job.start)
        else:
            job.future.cancel()  # a job killed while it starts is killed by _on_event

    def _kill_on(self, job_id: str, start: _Start) -> None:
        """Ask the worker that runs ``job_id`` to terminate its subprocess."""
        if self._client is None:
            return
        try:
            self._client.run(
                _kill_on_worker,
                job_id,
                self.kill_grace_period,
                workers=[start.worker],
                on_error="return",
            )
        except Exception as exc:  # the worker is gone: the job's future will say so
            _logger.debug("job %s: kill on %s failed: %s", job_id, start.worker, exc)

    def close(self) -> None:
        """Kill the jobs still running, wait for them to end, release the client if own.

        A client passed in by the user stays open; one this scheduler connected is closed
        (the next :meth:`submit_job` connects again).
        """
        unfinished = [key for key, job in self._jobs.items() if not job.done]
        for key in unfinished:
            self.kill_job(key)
        deadline = time.monotonic() + self.kill_grace_period + _CLOSE_MARGIN_S
        while (left := deadline - time.monotonic()) > 0 and not all(
            self._jobs[key].done for key in unfinished
        ):
            self._changed.wait(min(left, 0.1))
        self.get_statuses(key for key in unfinished if self._jobs[key].done)  # releases them
        for key in unfinished:
            if not self._jobs[key].done:
                _logger.warning("job %s: still running after close(); left to Dask", key)
        if self._client is not None and self._subscribed:
            with contextlib.suppress(Exception):
                self._client.unsubscribe_topic(self._topic)
            self._subscribed = False
        if self._owns_client and self._client is not None:
            self._client.close()
            self._client = None

    def __repr__(self) -> str:
        where = (
            f"address={self.address!r}" if self.address is not None else f"client={self._client!r}"
        )
        return (
            f"DaskScheduler({where}, output_dir={self.output_dir!r}, "
            f"resources={self.resources!r}, worker_resources={self.worker_resources!r})"
        )
