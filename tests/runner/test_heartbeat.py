"""Trials whose node dies, hangs or never starts: heartbeats, lost trials, queued counts.

Each scheduler here is a real ``LocalScheduler`` running real trial processes, with one
behaviour of a batch system added: a node that dies (the job's processes are SIGKILLed and
the scheduler forgets the job), a node that hangs (SIGSTOP, later SIGCONT), accounting that
cannot see a running job, and a queue that holds a job back.
"""

from __future__ import annotations

import datetime
import math
import os
import re
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

import sherpa
from sherpa.algorithms import Iterate
from sherpa.runner import _optimize
from sherpa.schedulers import JobStatus, LocalScheduler

HOST = re.escape(os.uname().nodename)

TRIAL = """\
import os, pathlib, time
import sherpa

client = sherpa.Client()
trial = client.get_trial()
client.send_metrics(trial, iteration=1, objective=trial.parameters["x"])
if str(trial.id) in os.environ.get("PAUSE_TRIALS", "").split(","):
    time.sleep(0.6)  # a few heartbeats first
    pathlib.Path(os.environ["READY_DIR"], f"{os.getpid()}.ready").touch()
    time.sleep(float(os.environ.get("PAUSE_S", "120")))
compute_until = time.monotonic() + float(os.environ.get("COMPUTE_S", "0"))
total = 0
while time.monotonic() < compute_until:  # pure-Python work between two metrics
    total += sum(i * i for i in range(1000))
client.send_metrics(trial, iteration=2, objective=trial.parameters["x"] / 2)
"""


class DyingNodeScheduler(LocalScheduler):
    """A node that dies under a trial once the trial has written ``<pid>.ready``.

    The job's process group is SIGKILLed and the job is forgotten: from then on it is
    UNKNOWN, as on a batch system whose node went down and whose job left no exit record.
    """

    def __init__(self, ready_dir: Path) -> None:
        super().__init__()
        self.ready_dir = ready_dir
        self.died_at: dict[str, float] = {}

    def get_status(self, job_id: str) -> JobStatus:
        if job_id in self.died_at:
            return JobStatus.UNKNOWN
        if (self.ready_dir / f"{job_id}.ready").exists():
            os.killpg(int(job_id), signal.SIGKILL)
            self.died_at[job_id] = time.time()
            return JobStatus.UNKNOWN
        return super().get_status(job_id)

    def wait(self, timeout: float) -> None:
        time.sleep(timeout)  # a batch system gives no pidfd to wait on


class HangingNodeScheduler(LocalScheduler):
    """A node that freezes a trial (SIGSTOP) once it has written ``<pid>.ready``, for a while."""

    def __init__(self, ready_dir: Path, frozen_s: float) -> None:
        super().__init__()
        self.ready_dir = ready_dir
        self.frozen_s = frozen_s
        self.frozen: dict[str, float] = {}

    def get_status(self, job_id: str) -> JobStatus:
        if job_id not in self.frozen and (self.ready_dir / f"{job_id}.ready").exists():
            os.killpg(int(job_id), signal.SIGSTOP)
            self.frozen[job_id] = time.monotonic()
        elif job_id in self.frozen and time.monotonic() - self.frozen[job_id] > self.frozen_s:
            os.killpg(int(job_id), signal.SIGCONT)
        return super().get_status(job_id)


class BlindAccountingScheduler(LocalScheduler):
    """Cannot see running jobs (UNKNOWN), as a batch system whose query keeps failing."""

    def get_status(self, job_id: str) -> JobStatus:
        status = super().get_status(job_id)
        return JobStatus.UNKNOWN if status is JobStatus.RUNNING else status


class HoldingQueueScheduler(LocalScheduler):
    """Holds the jobs named in ``hold`` (job name: seconds) back, reporting ``held_status``."""

    def __init__(self, hold: Mapping[str, float], held_status: JobStatus) -> None:
        super().__init__()
        self.hold = dict(hold)
        self.held_status = held_status
        self._held: dict[str, tuple[float, Sequence[str], Mapping[str, str] | None, str]] = {}
        self._started: dict[str, str] = {}
        self._cancelled: set[str] = set()

    def submit_job(
        self, command: Sequence[str], env: Mapping[str, str] | None = None, job_name: str = ""
    ) -> str:
        if job_name not in self.hold:
            return super().submit_job(command, env, job_name)
        job_id = f"held-{job_name}"
        self._held[job_id] = (time.monotonic() + self.hold[job_name], command, env, job_name)
        return job_id

    def get_status(self, job_id: str) -> JobStatus:
        if job_id in self._cancelled:
            return JobStatus.KILLED
        if job_id in self._held:
            release_at, command, env, name = self._held[job_id]
            if time.monotonic() < release_at:
                return self.held_status
            del self._held[job_id]
            self._started[job_id] = super().submit_job(command, env, name)
        return super().get_status(self._started.get(job_id, job_id))

    def kill_job(self, job_id: str) -> None:
        if self._held.pop(job_id, None) is not None:
            self._cancelled.add(job_id)
            return
        super().kill_job(self._started.get(job_id, job_id))

    def exit_code(self, job_id: str) -> int | None:
        started = self._started.get(job_id)
        return None if started is None else super().exit_code(started)

    def job_log(self, job_id: str) -> str | None:
        started = self._started.get(job_id)
        return None if started is None else super().job_log(started)


def _lost_warning(out: Path, trial: int, pid: int) -> re.Pattern[str]:
    return re.compile(
        rf"\[sherpa WARNING\] trial {trial} lost: its heartbeat stopped at "
        r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC "
        rf"\(host {HOST}, pid {pid}; (\d+) s ago\) and its job {pid} is gone from the "
        rf"scheduler; its node may have died; its log: {re.escape(str(out))}/jobs/"
        rf"trial_{trial}\.out"
    )


def _utc(timestamp: float) -> str:
    moment = datetime.datetime.fromtimestamp(timestamp, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


@pytest.fixture
def ready_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "ready"
    directory.mkdir()
    monkeypatch.setenv("READY_DIR", str(directory))
    return directory


def test_optimize_trial_on_a_dead_node_is_failed_and_resubmitted_once(
    write_script: Callable[..., Path],
    run_optimize: Callable[..., dict[str, Any]],
    open_store: Callable[[Path], Any],
    ready_dir: Path,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("PAUSE_TRIALS", "1")
    scheduler = DyingNodeScheduler(ready_dir)
    best = run_optimize(
        parameters=[sherpa.Continuous("x", [0, 10])],
        algorithm=Iterate([{"x": 4.0}]),
        filename=write_script(TRIAL),
        scheduler=scheduler,
        resubmit_failed_trials=True,
        heartbeat_timeout=1.0,
    )
    out = tmp_path / "out"
    [(job_id, died_at)] = scheduler.died_at.items()
    err = capfd.readouterr().err
    match = _lost_warning(out, 1, int(job_id)).fullmatch(err.strip())
    assert match, err
    assert _utc(died_at - 1.5) <= match[1] <= _utc(died_at)  # the last beat, before death
    assert 1 <= int(match[2]) <= 4

    storage = open_store(out)
    study = storage.get_study()
    first, second = storage.read_trials(study.id)
    assert (first.status, second.status) == (
        sherpa.TrialStatus.FAILED,
        sherpa.TrialStatus.COMPLETED,
    )
    assert first.parameters == second.parameters == {"x": 4.0}
    assert first.finished_at is not None
    assert 0.7 <= first.finished_at - died_at <= 3.5  # within the grace period, not before
    assert best["Trial-ID"] == 2 and best["Objective"] == 2.0


def test_optimize_lost_resubmission_is_not_resubmitted_again(
    write_script: Callable[..., Path],
    run_optimize: Callable[..., dict[str, Any]],
    open_store: Callable[[Path], Any],
    ready_dir: Path,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("PAUSE_TRIALS", "1,2")
    scheduler = DyingNodeScheduler(ready_dir)
    run_optimize(
        parameters=[sherpa.Continuous("x", [0, 10])],
        algorithm=Iterate([{"x": 4.0}]),
        filename=write_script(TRIAL),
        scheduler=scheduler,
        resubmit_failed_trials=True,
        heartbeat_timeout=1.0,
    )
    out = tmp_path / "out"
    lines = capfd.readouterr().err.splitlines()
    jobs = list(scheduler.died_at)
    assert len(lines) == 2 and len(jobs) == 2, lines
    assert _lost_warning(out, 1, int(jobs[0])).fullmatch(lines[0]), lines[0]
    assert _lost_warning(out, 2, int(jobs[1])).fullmatch(lines[1]), lines[1]
    storage = open_store(out)
    trials = storage.read_trials(storage.get_study().id)
    assert [t.status for t in trials] == [sherpa.TrialStatus.FAILED] * 2


def test_optimize_hung_trial_is_warned_about_once_and_left_running(
    write_script: Callable[..., Path],
    run_optimize: Callable[..., dict[str, Any]],
    read_results: Callable[[Path], list[dict[str, str]]],
    ready_dir: Path,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("PAUSE_TRIALS", "1")
    monkeypatch.setenv("PAUSE_S", "0.2")
    monkeypatch.setenv("COMPUTE_S", "1.0")  # after the thaw, time for the heartbeat to return
    scheduler = HangingNodeScheduler(ready_dir, frozen_s=2.5)
    run_optimize(
        parameters=[sherpa.Continuous("x", [0, 10])],
        algorithm=Iterate([{"x": 4.0}]),
        filename=write_script(TRIAL),
        scheduler=scheduler,
        heartbeat_timeout=1.0,
        verbose=1,
    )
    [job_id] = scheduler.frozen
    lines = capfd.readouterr().err.splitlines()
    warnings = [line for line in lines if "WARNING" in line]
    assert len(warnings) == 1, lines
    assert re.fullmatch(
        r"\[sherpa WARNING\] trial 1: no heartbeat since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC "
        rf"\(host {HOST}, pid {job_id}; \d+ s\) although its job {job_id} is still RUNNING; "
        r"leaving it running \(a hung host, a trial cut off from the store and one blocked "
        r"in code that holds the GIL look alike: kill the job to end it\)",
        warnings[0],
    ), warnings[0]
    back = [line for line in lines if "heartbeat back" in line]
    assert len(back) == 1 and re.fullmatch(
        r"\[sherpa INFO\] trial 1: heartbeat back after \d+ s", back[0]
    ), lines
    assert lines.index(warnings[0]) < lines.index(back[0])
    final = [
        r for r in read_results(tmp_path / "out" / "results.csv") if r["Status"] != "INTERMEDIATE"
    ]
    assert [(r["Trial-ID"], r["Status"], r["Iteration"]) for r in final] == [
        ("1", "COMPLETED", "2")
    ]


def test_optimize_trial_computing_between_metrics_keeps_its_heartbeat(
    write_script: Callable[..., Path],
    run_optimize: Callable[..., dict[str, Any]],
    read_results: Callable[[Path], list[dict[str, str]]],
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # The scheduler cannot see the job while it runs, so only the heartbeat keeps the trial.
    monkeypatch.setenv("COMPUTE_S", "3")
    run_optimize(
        parameters=[sherpa.Continuous("x", [0, 10])],
        algorithm=Iterate([{"x": 4.0}]),
        filename=write_script(TRIAL),
        scheduler=BlindAccountingScheduler(),
        heartbeat_timeout=0.8,
    )
    assert capfd.readouterr().err == ""
    final = [
        r for r in read_results(tmp_path / "out" / "results.csv") if r["Status"] != "INTERMEDIATE"
    ]
    assert [(r["Status"], r["Iteration"], r["Objective"]) for r in final] == [
        ("COMPLETED", "2", "2.0")
    ]


def test_optimize_queued_trial_is_never_failed_and_is_counted(
    write_script: Callable[..., Path],
    run_optimize: Callable[..., dict[str, Any]],
    read_results: Callable[[Path], list[dict[str, str]]],
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setattr(_optimize, "PROGRESS_INTERVAL_S", 0.5)
    run_optimize(
        parameters=[sherpa.Continuous("x", [0, 10])],
        algorithm=Iterate([{"x": 4.0}, {"x": 6.0}]),
        filename=write_script(TRIAL),
        scheduler=HoldingQueueScheduler({"trial_2": 3.0}, JobStatus.QUEUED),
        max_concurrent=2,
        heartbeat_timeout=0.5,
        verbose=1,
    )
    lines = capfd.readouterr().err.splitlines()
    assert not [line for line in lines if "WARNING" in line], lines
    queued = [line for line in lines if "is queued" in line]
    assert len(queued) == 1, lines
    assert re.fullmatch(
        r"\[sherpa INFO\] trial 2: job held-trial_2 is queued \(waiting \d+ s\)", queued[0]
    ), queued
    assert (
        "[sherpa INFO] trial 1 COMPLETED: objective 2 at iteration 2 "
        "[1/2 done, 0 running, 1 queued, best 2 (trial 1)]"
    ) in lines
    assert "[sherpa INFO] progress: 1/2 done, 0 running, 1 queued, best 2 (trial 1)" in lines
    assert lines[-2] == (
        "[sherpa INFO] trial 2 COMPLETED: objective 3 at iteration 2 "
        "[2/2 done, 0 running, 0 queued, best 2 (trial 1)]"
    )
    progress = {line for line in lines if line.startswith("[sherpa INFO] progress: ")}
    assert progress <= {
        "[sherpa INFO] progress: 0/2 done, 1 running, 1 queued, best none yet",
        "[sherpa INFO] progress: 1/2 done, 0 running, 1 queued, best 2 (trial 1)",
        "[sherpa INFO] progress: 1/2 done, 1 running, 0 queued, best 2 (trial 1)",
    }, progress
    final = [
        r for r in read_results(tmp_path / "out" / "results.csv") if r["Status"] != "INTERMEDIATE"
    ]
    assert sorted((r["Trial-ID"], r["Status"]) for r in final) == [
        ("1", "COMPLETED"),
        ("2", "COMPLETED"),
    ]


def test_optimize_job_that_vanishes_before_it_starts_is_failed(
    write_script: Callable[..., Path],
    run_optimize: Callable[..., dict[str, Any]],
    open_store: Callable[[Path], Any],
    capfd: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    run_optimize(
        parameters=[sherpa.Continuous("x", [0, 10])],
        algorithm=Iterate([{"x": 4.0}]),
        filename=write_script(TRIAL),
        scheduler=HoldingQueueScheduler({"trial_1": math.inf}, JobStatus.UNKNOWN),
        heartbeat_timeout=0.5,
    )
    assert re.fullmatch(
        r"\[sherpa WARNING\] trial 1 lost: its job held-trial_1 is gone from the scheduler "
        r"and the trial never sent a heartbeat \(\d+ s after submission\); its log: None\n",
        capfd.readouterr().err,
    )
    storage = open_store(tmp_path / "out")
    [trial] = storage.read_trials(storage.get_study().id)
    assert trial.status is sherpa.TrialStatus.FAILED


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (0, ValueError, "heartbeat_timeout must be more than 0 seconds; got 0"),
        (-5.0, ValueError, "heartbeat_timeout must be more than 0 seconds; got -5.0"),
        (math.nan, ValueError, "heartbeat_timeout must be more than 0 seconds; got nan"),
        ("60", TypeError, "heartbeat_timeout must be a number of seconds; got '60' (str)"),
        (True, TypeError, "heartbeat_timeout must be a number of seconds; got True (bool)"),
        (None, TypeError, "heartbeat_timeout must be a number of seconds; got None (NoneType)"),
    ],
)
def test_optimize_rejects_a_bad_heartbeat_timeout(
    value: object, error: type[Exception], message: str, tmp_path: Path
) -> None:
    with pytest.raises(error, match=re.escape(message)):
        sherpa.optimize(
            parameters=[sherpa.Continuous("x", [0, 1])],
            algorithm=Iterate([{"x": 0.5}]),
            lower_is_better=True,
            scheduler=LocalScheduler(),
            command="true",
            output_dir=tmp_path / "out",
            heartbeat_timeout=value,  # type: ignore[arg-type]
        )
    assert not (tmp_path / "out").exists()


class UnreachableNodeScheduler(LocalScheduler):
    """A node that freezes a trial (SIGSTOP) once it has written ``<pid>.ready`` and is then
    unreachable: its job is UNKNOWN until it has ended (the job is still there, holding its
    resource)."""

    def __init__(self, ready_dir: Path, resources: list[int]) -> None:
        super().__init__(resources=resources, kill_grace_period=0.2)
        self.ready_dir = ready_dir
        self.frozen: set[str] = set()

    def get_status(self, job_id: str) -> JobStatus:
        status = super().get_status(job_id)
        if job_id not in self.frozen and (self.ready_dir / f"{job_id}.ready").exists():
            os.killpg(int(job_id), signal.SIGSTOP)
            self.frozen.add(job_id)
        if job_id in self.frozen and not status.is_finished:
            return JobStatus.UNKNOWN
        return status


def test_optimize_lost_trial_job_is_cancelled_and_gives_its_resource_back(
    write_script: Callable[..., Path],
    run_optimize: Callable[..., dict[str, Any]],
    open_store: Callable[[Path], Any],
    ready_dir: Path,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # One GPU: the lost trial's job must end (and free the GPU) for the next trial to run.
    monkeypatch.setenv("PAUSE_TRIALS", "1")
    scheduler = UnreachableNodeScheduler(ready_dir, resources=[0])
    best = run_optimize(
        parameters=[sherpa.Continuous("x", [0, 10])],
        algorithm=Iterate([{"x": 4.0}, {"x": 6.0}]),
        filename=write_script(TRIAL),
        scheduler=scheduler,
        heartbeat_timeout=1.0,
    )
    [job_id] = scheduler.frozen
    with pytest.raises(ProcessLookupError):
        os.kill(int(job_id), 0)  # the frozen trial was killed, not left behind
    assert "trial 1 lost" in capfd.readouterr().err
    storage = open_store(tmp_path / "out")
    trials = storage.read_trials(storage.get_study().id)
    assert [(t.number, t.status) for t in trials] == [
        (1, sherpa.TrialStatus.FAILED),
        (2, sherpa.TrialStatus.COMPLETED),
    ]
    assert best["Trial-ID"] == 2
