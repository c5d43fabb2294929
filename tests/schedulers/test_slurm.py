"""SLURMScheduler on a real single-node SLURM cluster (``tests/_infra/slurm.py``).

Every test here that submits jobs runs them on the session's private cluster: real ``sbatch``,
``squeue`` and ``scancel``, real job scripts, real trial processes writing to a real store.
Without SLURM (or root) they are skipped, or fail where ``SHERPA_REQUIRE_CLUSTERS=1``.
"""

from __future__ import annotations

import csv
import itertools
import json
import logging
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import sherpa
from sherpa.schedulers import (
    BatchToolNotFoundError,
    JobStatus,
    JobSubmissionError,
    SLURMScheduler,
)
from tests._infra.slurm import SlurmCluster

PY = sys.executable

REFERENCE_TRIAL = """
import sherpa

client = sherpa.Client()
trial = client.get_trial()
for i in range(1, 4):
    objective = trial.parameters["param_a"] / float(i) * trial.parameters["param_b"]
    client.send_metrics(trial=trial, iteration=i, objective=objective, context={"i2": i * i})
"""

PARAMETERS = [
    sherpa.Choice(name="param_a", range=[1, 2, 3]),
    sherpa.Continuous(name="param_b", range=[0, 1]),
]


@pytest.fixture(autouse=True)
def _no_inherited_sherpa_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """sbatch passes the test's environment on to jobs; no SHERPA_* of ours may ride along."""
    for name in list(os.environ):
        if name.startswith("SHERPA_") and name != "SHERPA_REQUIRE_CLUSTERS":
            monkeypatch.delenv(name)


def _script(directory: Path, body: str, name: str = "trial.py") -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(body).lstrip())
    return path


def _optimize(scheduler: sherpa.schedulers.Scheduler, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("parameters", PARAMETERS)
    kwargs.setdefault("lower_is_better", True)
    kwargs.setdefault("max_concurrent", 1)
    kwargs.setdefault("verbose", 0)
    kwargs.setdefault("disable_dashboard", True)
    return sherpa.optimize(scheduler=scheduler, **kwargs)


def _final_rows(results: Path) -> dict[int, dict[str, str]]:
    with open(results, newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {int(r["Trial-ID"]): r for r in rows if r["Status"] != "INTERMEDIATE"}


def _intermediate_rows(results: Path) -> list[dict[str, str]]:
    with open(results, newline="") as handle:
        return [r for r in csv.DictReader(handle) if r["Status"] == "INTERMEDIATE"]


def _trial_statuses(storage_url: str) -> list[tuple[int, str]]:
    storage = sherpa.storage.SQLStorage(storage_url)
    try:
        return [(t.number, t.status.value) for t in storage.read_trials(storage.get_study().id)]
    finally:
        storage.close()


def _wait_for_file(path: Path, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while not (path.is_file() and path.read_text().strip()):
        if time.monotonic() > deadline:
            pytest.fail(f"no {path} after {timeout} s")
        time.sleep(0.05)
    return path.read_text().strip()


def _finish(scheduler: SLURMScheduler, job_id: str, timeout: float = 60) -> JobStatus:
    deadline = time.monotonic() + timeout
    while True:
        status = scheduler.get_status(job_id)
        if status.is_finished:
            return status
        if time.monotonic() > deadline:
            pytest.fail(f"job {job_id} still {status.value} after {timeout} s")
        scheduler.wait(0.1)


def _wait_until_gone(cluster: SlurmCluster, job_id: str, timeout: float = 60) -> None:
    """Until squeue no longer lists the job in any state (MinJobAge has passed)."""
    deadline = time.monotonic() + timeout
    while job_id in cluster.job_ids():
        if time.monotonic() > deadline:
            pytest.fail(f"job {job_id} still listed by squeue after {timeout} s")
        time.sleep(0.2)


@pytest.fixture
def scheduler(slurm_env: SlurmCluster, tmp_path: Path) -> Iterator[SLURMScheduler]:
    made = SLURMScheduler(output_dir=tmp_path / "out")
    yield made
    made.close()


# Unit tests: construction, argument lists, parsing (no cluster needed)


def test_slurm_scheduler_takes_sherpas_arguments_in_sherpas_order(tmp_path: Path) -> None:
    profile = tmp_path / "profile.sh"
    profile.write_text("")
    scheduler = SLURMScheduler("-p debug --time=5", profile, tmp_path / "out")
    assert scheduler.submit_options == "-p debug --time=5"
    assert scheduler.environment == str(profile)
    assert scheduler.output_dir == str(tmp_path / "out")
    assert scheduler.spans_hosts is True
    assert scheduler.has_capacity() is True
    assert repr(scheduler) == (
        f"SLURMScheduler(submit_options='-p debug --time=5', environment={str(profile)!r}, "
        f"output_dir={str(tmp_path / 'out')!r}, resources=None)"
    )


def test_slurm_scheduler_rejects_unsplittable_submit_options() -> None:
    with pytest.raises(ValueError, match=r"submit_options cannot be split: \"-J 'open\""):
        SLURMScheduler("-J 'open")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"submit_options": ["-p", "x"]}, TypeError, r"submit_options must be a string"),
        ({"environment": 3}, TypeError, r"environment must be the path of a profile file"),
        ({"environment": ""}, ValueError, r"environment must be .*; got an empty path ''"),
        ({"output_dir": 3}, TypeError, r"output_dir must be a path or None; got 3"),
        ({"resources": []}, ValueError, r"resources must name at least one resource"),
        ({"resources": "01"}, TypeError, r"resources must be a list of resources"),
    ],
)
def test_slurm_scheduler_rejects_bad_arguments(
    kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        SLURMScheduler(**kwargs)


def test_slurm_scheduler_output_dir_none_is_the_runners_default() -> None:
    assert SLURMScheduler(output_dir=None).output_dir == ""


@pytest.mark.parametrize(
    ("name", "value", "error", "match"),
    [
        ("status_interval", -1, ValueError, r"status_interval must be 0 or more seconds; got -1"),
        ("status_interval", "2", TypeError, r"status_interval must be a number .*; got '2'"),
        ("missing_grace_period", float("nan"), ValueError, r"missing_grace_period must be 0 or"),
        ("tool_timeout", 0, ValueError, r"tool_timeout must be more than 0 seconds; got 0"),
    ],
)
def test_slurm_scheduler_rejects_bad_timing_attributes(
    name: str, value: object, error: type[Exception], match: str
) -> None:
    scheduler = SLURMScheduler()
    with pytest.raises(error, match=match):
        setattr(scheduler, name, value)
    assert getattr(scheduler, name) == getattr(SLURMScheduler, name)
    scheduler.status_interval = 2
    assert (scheduler.status_interval, SLURMScheduler().status_interval) == (2.0, 0.5)


def test_slurm_scheduler_warns_about_an_environment_file_missing_here(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="sherpa"):
        scheduler = SLURMScheduler(environment=tmp_path / "only on the nodes.sh")
    assert scheduler.environment == str(tmp_path / "only on the nodes.sh")
    assert f"environment file {tmp_path / 'only on the nodes.sh'} does not exist" in caplog.text


def test_slurm_scheduler_resolves_a_relative_environment_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "env.sh").write_text("")
    assert SLURMScheduler(environment="env.sh").environment == str(tmp_path / "env.sh")


def test_slurm_submit_argv_puts_sherpas_literal_output_after_the_users_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    scheduler = SLURMScheduler("--partition='my part' --output=/elsewhere -J mine")
    argv = scheduler._submit_argv(Path("/o/jobs/t.sh"), Path("/o/100%j/t.out"), "trial_1")
    assert argv == [
        "sbatch",
        "--job-name=trial_1",
        f"--chdir={tmp_path}",
        "--no-requeue",
        "--partition=my part",
        "--output=/elsewhere",
        "-J",
        "mine",
        "--parsable",
        "--output=/o/100%%j/t.out",  # sbatch would expand %j
        "/o/jobs/t.sh",
    ]


@pytest.mark.parametrize(
    ("options", "requeue"),
    [("", ["--no-requeue"]), ("--requeue", []), ("--no-requeue", [])],
)
def test_slurm_submit_argv_asks_for_no_requeue_unless_the_user_chose(
    options: str, requeue: list[str]
) -> None:
    argv = SLURMScheduler(options)._submit_argv(Path("/o/t.sh"), Path("/o/t.out"), "t")
    assert argv[3:-3] == [*requeue, *shlex.split(options)]


@pytest.mark.parametrize("options", ["-M other", "-Mother", "--clusters=a,b", "--cluster b"])
def test_slurm_scheduler_refuses_other_clusters(options: str) -> None:
    with pytest.raises(ValueError, match=r"name other clusters \(-M/--clusters\)") as raised:
        SLURMScheduler(options)
    assert repr(options) in str(raised.value)


@pytest.mark.parametrize(
    ("options", "sets"),
    [
        ("--chdir=/d", True),
        ("--chdir /d", True),
        ("-D /d", True),
        ("-D/d", True),
        ("--partition=debug", False),
        ("--dependency=afterok:1", False),
    ],
)
def test_slurm_scheduler_sees_a_working_directory_in_the_options(options: str, sets: bool) -> None:
    assert SLURMScheduler(options)._sets_directory() is sets


def test_slurm_status_argv_asks_for_every_job_at_once() -> None:
    assert SLURMScheduler()._status_argv(["4", "5", "17"]) == [
        "squeue",
        "--noheader",
        "--states=all",
        "--jobs=4,5,17",
        "--format=%i %T",
    ]
    assert SLURMScheduler()._kill_argv("4") == ["scancel", "4"]


@pytest.mark.parametrize(
    ("stdout", "job_id"),
    [("12\n", "12"), ("12;cluster\n", "12"), ("sbatch: notice\n345\n", "345")],
)
def test_slurm_parse_job_id_reads_parsable_output(stdout: str, job_id: str) -> None:
    assert SLURMScheduler()._parse_job_id(stdout) == job_id


@pytest.mark.parametrize("stdout", ["", "Submitted batch job 12\n", "abc;x\n"])
def test_slurm_parse_job_id_rejects_other_output(stdout: str) -> None:
    with pytest.raises(ValueError, match="expected a numeric job id"):
        SLURMScheduler()._parse_job_id(stdout)


def test_slurm_parse_statuses_maps_each_squeue_state() -> None:
    stdout = (
        "1 PENDING\n2 RUNNING\n3 COMPLETING\n4 COMPLETED\n5 FAILED\n6 CANCELLED\n"
        "7 TIMEOUT\n8 NODE_FAIL\n9 OUT_OF_MEMORY\n10 PREEMPTED\n11 SUSPENDED\n"
        "12 CONFIGURING\n13 SOMETHING_NEW\n\n"
    )
    assert SLURMScheduler()._parse_statuses(stdout) == {
        "1": JobStatus.QUEUED,
        "2": JobStatus.RUNNING,
        "3": JobStatus.RUNNING,
        "4": JobStatus.FINISHED,
        "5": JobStatus.FAILED,
        "6": JobStatus.KILLED,
        "7": JobStatus.KILLED,
        "8": JobStatus.FAILED,
        "9": JobStatus.FAILED,
        "10": JobStatus.KILLED,
        "11": JobStatus.RUNNING,
        "12": JobStatus.QUEUED,
        "13": JobStatus.UNKNOWN,
    }


def test_slurm_scheduler_without_sbatch_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on it
    scheduler = SLURMScheduler(output_dir=tmp_path / "out")
    with pytest.raises(BatchToolNotFoundError, match=r"'sbatch' is not on PATH; install SLURM's"):
        scheduler.submit_job([PY, "-c", "pass"], job_name="t")


def test_optimize_without_sbatch_ends_with_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BatchToolNotFoundError, match=r"apt-get install slurm-client"):
        _optimize(
            SLURMScheduler(),
            algorithm=sherpa.algorithms.RandomSearch(max_num_trials=3),
            filename=_script(tmp_path, REFERENCE_TRIAL),
            output_dir=tmp_path / "out",
        )
    assert _trial_statuses(sherpa.storage.sqlite_url(tmp_path / "out" / "sherpa.db")) == [
        (1, "FAILED")  # it never ran
    ]


# On the cluster: the scheduler alone


def test_slurm_job_writes_private_script_log_and_exit_record(
    scheduler: SLURMScheduler, tmp_path: Path
) -> None:
    job_id = scheduler.submit_job(
        [PY, "-c", "import os; print('hello from', os.environ['SLURM_JOB_ID'])"],
        {"SHERPA_TRIAL_ID": "1", "SECRET_URL": "postgresql://u:pw@h/db"},
        job_name="trial_1",
    )
    assert _finish(scheduler, job_id) is JobStatus.FINISHED
    jobs = tmp_path / "out" / "jobs"
    assert scheduler.job_log(job_id) == str(jobs / "trial_1.out")
    assert (jobs / "trial_1.out").read_text() == f"hello from {job_id}\n"
    assert (jobs / "trial_1.exit").read_text() == "exit 0\n"
    assert scheduler.exit_code(job_id) == 0
    assert (jobs / "trial_1.sh").stat().st_mode & 0o777 == 0o600
    assert "export SECRET_URL=postgresql://u:pw@h/db\n" in (jobs / "trial_1.sh").read_text()


def test_slurm_exit_code_is_known_after_squeue_forgot_the_job(
    scheduler: SLURMScheduler, slurm_env: SlurmCluster
) -> None:
    job_id = scheduler.submit_job(
        [PY, "-c", "import sys; print('bad input: x=3'); sys.exit(7)"], job_name="gone"
    )
    _wait_until_gone(slurm_env, job_id)  # no poll until SLURM has purged it
    assert scheduler.get_status(job_id) is JobStatus.FAILED
    assert scheduler.exit_code(job_id) == 7
    assert Path(scheduler.job_log(job_id) or "").read_text() == "bad input: x=3\n"


@pytest.mark.parametrize("poll_while_listed", [True, False])
def test_slurm_job_that_left_no_exit_record_fails_after_the_grace_period(
    scheduler: SLURMScheduler, slurm_env: SlurmCluster, poll_while_listed: bool
) -> None:
    scheduler.missing_grace_period = 1.5
    # The command kills its job script (its parent) outright, so nothing records an exit.
    job_id = scheduler.submit_job(["sh", "-c", "kill -KILL $PPID"], job_name="lost")
    if not poll_while_listed:
        _wait_until_gone(slurm_env, job_id)
    first_seen = time.monotonic()
    assert scheduler.get_status(job_id) in (JobStatus.QUEUED, JobStatus.RUNNING)
    status = _finish(scheduler, job_id)
    waited = time.monotonic() - first_seen
    assert status is JobStatus.FAILED
    assert scheduler.exit_code(job_id) is None
    assert waited >= 1.5
    what = "reported it as failed" if poll_while_listed else "no longer lists it"
    log = Path(scheduler.job_log(job_id) or "")
    assert log.read_text().splitlines()[-1] == (
        f"sherpa: SLURM {what} (job {job_id}) and the job left no exit record in "
        f"{log.with_suffix('.exit')} within 1.5 s"
    )


def test_slurm_kill_job_of_a_queued_and_a_running_job(
    scheduler: SLURMScheduler, slurm_env: SlurmCluster, tmp_path: Path
) -> None:
    blocker = SLURMScheduler(f"--cpus-per-task={slurm_env.cpus}", output_dir=tmp_path / "out")
    started = tmp_path / "started"
    running = blocker.submit_job(
        [PY, "-c", f"import time; open({str(started)!r}, 'w').write('1'); time.sleep(120)"],
        job_name="blocker",
    )
    queued = scheduler.submit_job([PY, "-c", "pass"], job_name="queued")
    try:
        _wait_for_file(started)
        assert blocker.get_status(running) is JobStatus.RUNNING
        assert scheduler.get_status(queued) is JobStatus.QUEUED

        scheduler.kill_job(queued)
        assert _finish(scheduler, queued) is JobStatus.KILLED
        assert not (tmp_path / "out" / "jobs" / "queued.exit").exists()  # it never ran
        assert scheduler.exit_code(queued) is None

        blocker.kill_job(running)
        assert _finish(blocker, running) is JobStatus.KILLED
        assert (tmp_path / "out" / "jobs" / "blocker.exit").read_text() == "signal TERM\n"
        assert blocker.exit_code(running) == -15
    finally:
        blocker.close()


def test_slurm_close_cancels_running_jobs(
    scheduler: SLURMScheduler, slurm_env: SlurmCluster, tmp_path: Path
) -> None:
    started = tmp_path / "started"
    job_id = scheduler.submit_job(
        [PY, "-c", f"import time; open({str(started)!r}, 'w').write('1'); time.sleep(120)"],
        job_name="long",
    )
    _wait_for_file(started)
    scheduler.close()
    record = tmp_path / "out" / "jobs" / "long.exit"
    assert _wait_for_file(record) == "signal TERM"
    assert scheduler.get_status(job_id) is JobStatus.KILLED


def test_slurm_rejected_submission_raises_with_sbatchs_message(
    slurm_env: SlurmCluster, tmp_path: Path
) -> None:
    scheduler = SLURMScheduler("--partition=no_such_partition", output_dir=tmp_path / "out")
    with pytest.raises(JobSubmissionError, match=r"SLURM rejected the job: .*invalid partition"):
        scheduler.submit_job([PY, "-c", "pass"], job_name="refused")
    log = (tmp_path / "out" / "jobs" / "refused.out").read_text()
    assert log.startswith("sherpa: SLURM rejected the job: sbatch: error:")


def test_slurm_resources_are_handed_out_one_per_job(
    slurm_env: SlurmCluster, tmp_path: Path
) -> None:
    scheduler = SLURMScheduler(output_dir=tmp_path / "out", resources=["gpu0"])
    code = "import os; print(os.environ['SHERPA_RESOURCE'])"
    first = scheduler.submit_job([PY, "-c", code], job_name="a")
    assert scheduler.has_capacity() is False
    with pytest.raises(JobSubmissionError, match="no free resource"):
        scheduler.submit_job([PY, "-c", code], job_name="b")
    assert _finish(scheduler, first) is JobStatus.FINISHED
    assert scheduler.has_capacity() is True
    second = scheduler.submit_job([PY, "-c", code], job_name="b")
    assert _finish(scheduler, second) is JobStatus.FINISHED
    jobs = tmp_path / "out" / "jobs"
    assert [(jobs / f"{n}.out").read_text() for n in "ab"] == ["gpu0\n", "gpu0\n"]


def test_slurm_reused_job_name_gets_its_own_files(
    scheduler: SLURMScheduler, tmp_path: Path
) -> None:
    first = scheduler.submit_job([PY, "-c", "print(1)"], job_name="same")
    second = scheduler.submit_job([PY, "-c", "print(2)"], job_name="same")
    assert _finish(scheduler, first) is JobStatus.FINISHED
    assert _finish(scheduler, second) is JobStatus.FINISHED
    assert scheduler.job_log(second) == str(tmp_path / "out" / "jobs" / "same_2.out")
    assert Path(scheduler.job_log(first) or "").read_text() == "1\n"
    assert Path(scheduler.job_log(second) or "").read_text() == "2\n"


# On the cluster: through sherpa.optimize


def _reference_run(tmp_path: Path, **kwargs: Any) -> tuple[dict[str, Any], Path]:
    out = tmp_path / "out"
    best = _optimize(
        SLURMScheduler(),
        algorithm=sherpa.algorithms.RandomSearch(max_num_trials=4, seed=1),
        filename=_script(tmp_path, REFERENCE_TRIAL),
        output_dir=out,
        max_concurrent=2,
        **kwargs,
    )
    return best, out


def test_optimize_on_slurm_runs_the_reference_workflow(
    slurm_env: SlurmCluster, tmp_path: Path
) -> None:
    best, out = _reference_run(tmp_path)

    finals = _final_rows(out / "results.csv")
    assert {n: r["Status"] for n, r in finals.items()} == {n: "COMPLETED" for n in (1, 2, 3, 4)}
    assert len(_intermediate_rows(out / "results.csv")) == 12
    assert _trial_statuses(sherpa.storage.sqlite_url(out / "sherpa.db")) == [
        (n, "COMPLETED") for n in (1, 2, 3, 4)
    ]
    for n in (1, 2, 3, 4):
        assert (out / "jobs" / f"trial_{n}.exit").read_text() == "exit 0\n"
        assert (out / "jobs" / f"trial_{n}.out").read_text() == ""
    objectives = [float(r["Objective"]) for r in finals.values()]
    assert best["Objective"] == pytest.approx(min(objectives))


def test_optimize_on_slurm_with_a_postgres_store(
    slurm_env: SlurmCluster, tmp_path: Path, postgres_url: str
) -> None:
    best, out = _reference_run(tmp_path, storage=postgres_url)

    assert not (out / "sherpa.db").exists()
    assert _trial_statuses(postgres_url) == [(n, "COMPLETED") for n in (1, 2, 3, 4)]
    storage = sherpa.storage.SQLStorage(postgres_url)
    try:
        observations = storage.read_observations(storage.get_study().id)
    finally:
        storage.close()
    assert sorted((o.trial_number, o.iteration) for o in observations) == [
        (n, i) for n in (1, 2, 3, 4) for i in (1, 2, 3)
    ]
    assert best["Objective"] == pytest.approx(min(o.objective for o in observations))


LONG_TRIAL = """
import os
import time

import sherpa

client = sherpa.Client()
trial = client.get_trial()
directory = os.environ["SHERPA_OUTPUT_DIR"]
client.send_metrics(trial=trial, iteration=1, objective=trial.parameters["x"])
with open(os.path.join(directory, f"job_{trial.id}.tmp"), "w") as f:
    f.write(os.environ["SLURM_JOB_ID"])
path = os.path.join(directory, f"job_{trial.id}")
os.rename(path + ".tmp", path)
for i in range(2, 1200):
    time.sleep(0.1)
    client.send_metrics(trial=trial, iteration=i, objective=trial.parameters["x"])
"""


def test_optimize_on_slurm_trial_cancelled_with_scancel_is_stopped(
    slurm_env: SlurmCluster, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    cancelled: list[subprocess.CompletedProcess[str]] = []

    def cancel_when_running() -> None:
        job_id = _wait_for_file(out / "job_1", timeout=120)
        cancelled.append(slurm_env.run("scancel", job_id))

    canceller = threading.Thread(target=cancel_when_running, daemon=True)
    canceller.start()
    started = time.monotonic()
    _optimize(
        SLURMScheduler(),
        parameters=[sherpa.Continuous("x", [0, 1])],
        algorithm=sherpa.algorithms.Iterate([{"x": 0.5}]),
        filename=_script(tmp_path, LONG_TRIAL),
        output_dir=out,
    )
    canceller.join(timeout=10)

    assert time.monotonic() - started < 60  # the trial alone would run two minutes
    assert cancelled and cancelled[0].returncode == 0, cancelled
    assert {n: r["Status"] for n, r in _final_rows(out / "results.csv").items()} == {1: "STOPPED"}
    assert (out / "jobs" / "trial_1.exit").read_text() == "signal TERM\n"
    assert _trial_statuses(sherpa.storage.sqlite_url(out / "sherpa.db")) == [(1, "STOPPED")]


def test_optimize_on_slurm_stopping_rule_stops_a_trial(
    slurm_env: SlurmCluster, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "out"
    trial = _script(
        tmp_path,
        """
        import sherpa, time
        client = sherpa.Client()
        trial = client.get_trial()
        steps = 3 if trial.parameters["x"] < 1 else 1200
        for i in range(1, steps + 1):
            client.send_metrics(trial=trial, iteration=i, objective=trial.parameters["x"])
            time.sleep(0.1)
        """,
    )
    started = time.monotonic()
    with caplog.at_level(logging.INFO, logger="sherpa"):
        best = _optimize(
            SLURMScheduler(),
            parameters=[sherpa.Continuous("x", [0, 10])],
            algorithm=sherpa.algorithms.Iterate([{"x": 0.5}, {"x": 5.0}]),
            stopping_rule=sherpa.algorithms.MedianStoppingRule(min_iterations=1, min_trials=1),
            filename=trial,
            output_dir=out,
            verbose=1,
        )

    assert time.monotonic() - started < 60  # trial 2 alone would run two minutes
    finals = _final_rows(out / "results.csv")
    assert {n: r["Status"] for n, r in finals.items()} == {1: "COMPLETED", 2: "STOPPED"}
    assert best["Trial-ID"] == 1
    assert (out / "jobs" / "trial_2.exit").read_text() == "signal TERM\n"
    assert "trial 2: stopping (job " in caplog.text


def test_optimize_on_slurm_failing_trial_is_failed_with_its_last_log_line(
    slurm_env: SlurmCluster, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "out"
    trial = _script(
        tmp_path,
        """
        import sys
        import sherpa
        client = sherpa.Client()
        trial = client.get_trial()
        client.send_metrics(trial=trial, iteration=1, objective=1.0)
        print("ValueError: the data set is empty", file=sys.stderr)
        sys.exit(3)
        """,
    )
    with caplog.at_level(logging.WARNING, logger="sherpa"):
        _optimize(
            SLURMScheduler(),
            algorithm=sherpa.algorithms.RandomSearch(max_num_trials=1),
            filename=trial,
            output_dir=out,
        )

    assert {n: r["Status"] for n, r in _final_rows(out / "results.csv").items()} == {1: "FAILED"}
    assert (
        f"trial 1 failed (exit code 3): ValueError: the data set is empty; its log: "
        f"{out / 'jobs' / 'trial_1.out'}"
    ) in caplog.text


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("--partition=no_such_partition", r"Batch job submission failed: Invalid partition"),
        ("--no-such-option", r"sbatch: unrecognized option '--no-such-option'"),
    ],
)
def test_optimize_on_slurm_rejected_submission_fails_the_trial_with_sbatchs_message(
    slurm_env: SlurmCluster,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    options: str,
    message: str,
) -> None:
    out = tmp_path / "out"
    with caplog.at_level(logging.WARNING, logger="sherpa"):
        _optimize(
            SLURMScheduler(options),
            algorithm=sherpa.algorithms.RandomSearch(max_num_trials=2),
            filename=_script(tmp_path, REFERENCE_TRIAL),
            output_dir=out,
        )

    assert _trial_statuses(sherpa.storage.sqlite_url(out / "sherpa.db")) == [
        (1, "FAILED"),
        (2, "FAILED"),
    ]
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and r.getMessage().startswith("trial ")
    ]
    assert len(warnings) == 2
    for number, warning in enumerate(warnings, start=1):
        assert warning.startswith(f"trial {number} could not be submitted: SLURM rejected the job")
        assert re.search(message, warning), warning


def test_optimize_on_slurm_keeps_quoting_of_paths_and_arguments(
    slurm_env: SlurmCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = tmp_path / "dir with spaces & 'quotes' $HOME %j 100%"
    base.mkdir()
    monkeypatch.chdir(base)
    trial = _script(
        base / "trial scripts",
        """
        import json, os, sys
        import sherpa
        client = sherpa.Client()
        trial = client.get_trial()
        with open(os.path.join(os.environ["SHERPA_OUTPUT_DIR"], "seen.json"), "w") as f:
            json.dump({"argv": sys.argv[1:], "cwd": os.getcwd()}, f)
        client.send_metrics(trial=trial, iteration=1, objective=1.0)
        """,
        name="my trial.py",
    )
    arguments = ["it's", '"double" quotes', "$HOME", "$(touch pwned)", "a;b", "*"]
    out = base / "out $USER"
    _optimize(
        SLURMScheduler(),
        algorithm=sherpa.algorithms.RandomSearch(max_num_trials=1),
        command=[PY, str(trial), *arguments],
        output_dir=out,
    )

    assert _trial_statuses(sherpa.storage.sqlite_url(out / "sherpa.db")) == [(1, "COMPLETED")]
    assert json.loads((out / "seen.json").read_text()) == {"argv": arguments, "cwd": str(base)}
    assert not (base / "pwned").exists()
    assert (out / "jobs" / "trial_1.out").read_text() == ""


def test_optimize_on_slurm_sources_the_environment_file(
    slurm_env: SlurmCluster, tmp_path: Path
) -> None:
    profile = tmp_path / "cluster profile.sh"
    profile.write_text(
        'export FROM_PROFILE="loaded from $(basename "$BASH_SOURCE")"\n'
        "export SHERPA_TRIAL_ID=999  # the runner's value must win\n"
    )
    trial = _script(
        tmp_path,
        """
        import os
        import sherpa
        client = sherpa.Client()
        trial = client.get_trial()
        client.send_metrics(trial=trial, iteration=1, objective=float(trial.id),
                            context={"from_profile": os.environ["FROM_PROFILE"]})
        """,
    )
    out = tmp_path / "out"
    _optimize(
        SLURMScheduler("", profile),
        algorithm=sherpa.algorithms.RandomSearch(max_num_trials=1),
        filename=trial,
        output_dir=out,
    )

    finals = _final_rows(out / "results.csv")
    assert finals[1]["Status"] == "COMPLETED"
    assert finals[1]["from_profile"] == "loaded from cluster profile.sh"


def test_optimize_on_slurm_missing_environment_file_fails_trials_with_the_reason(
    slurm_env: SlurmCluster, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    missing = tmp_path / "nowhere.sh"
    out = tmp_path / "out"
    with caplog.at_level(logging.WARNING, logger="sherpa"):
        _optimize(
            SLURMScheduler("", missing),
            algorithm=sherpa.algorithms.RandomSearch(max_num_trials=1),
            filename=_script(tmp_path, REFERENCE_TRIAL),
            output_dir=out,
        )

    assert _trial_statuses(sherpa.storage.sqlite_url(out / "sherpa.db")) == [(1, "FAILED")]
    assert f"cannot read the environment file {missing}; its log: " in caplog.text


@pytest.mark.parametrize(
    ("profile", "code", "why"),
    [
        ("source /dev/null\nexit 0\n", 1, "exit 0 before the trial ran"),
        ("set -e\nfalse\n", 1, "exit 1"),
        ("if then fi\n", 2, "exit 2"),
    ],
    ids=["exit-0", "set-e", "syntax-error"],
)
def test_optimize_on_slurm_failing_environment_file_fails_the_trial_at_once(
    slurm_env: SlurmCluster,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    profile: str,
    code: int,
    why: str,
) -> None:
    environment = tmp_path / "broken profile.sh"
    environment.write_text(profile)
    out = tmp_path / "out"
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="sherpa"):
        _optimize(
            SLURMScheduler("", environment),
            algorithm=sherpa.algorithms.RandomSearch(max_num_trials=1),
            filename=_script(tmp_path, REFERENCE_TRIAL),
            output_dir=out,
        )

    assert time.monotonic() - started < 20  # no wait for a record that never comes
    assert _trial_statuses(sherpa.storage.sqlite_url(out / "sherpa.db")) == [(1, "FAILED")]
    log = out / "jobs" / "trial_1.out"
    assert [r.getMessage() for r in caplog.records if "SQLite" not in r.getMessage()] == [
        f"trial 1 failed (exit code {code}): sherpa job on {socket.gethostname()}: the "
        f"environment file {environment} failed ({why}); its log: {log}"
    ]
    assert (out / "jobs" / "trial_1.exit").read_text() == f"exit {code}\n"


class RecordingSLURMScheduler(SLURMScheduler):
    """Records every SLURM command it runs and every status request the runner makes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands: list[tuple[float, list[str]]] = []
        self.polls = 0

    def _run_tool(self, argv: list[str], purpose: str) -> subprocess.CompletedProcess[str]:
        self.commands.append((time.monotonic(), list(argv)))
        return super()._run_tool(argv, purpose)

    def get_statuses(self, job_ids: Any) -> dict[str, JobStatus]:
        self.polls += 1
        return super().get_statuses(job_ids)


def test_optimize_on_slurm_asks_squeue_once_per_poll_for_all_jobs(
    slurm_env: SlurmCluster, tmp_path: Path
) -> None:
    trial = _script(
        tmp_path,
        """
        import time
        import sherpa
        client = sherpa.Client()
        trial = client.get_trial()
        time.sleep(2)
        client.send_metrics(trial=trial, iteration=1, objective=1.0)
        """,
    )
    scheduler = RecordingSLURMScheduler()
    started = time.monotonic()
    _optimize(
        scheduler,
        algorithm=sherpa.algorithms.RandomSearch(max_num_trials=4),
        filename=trial,
        output_dir=tmp_path / "out",
        max_concurrent=2,
    )
    elapsed = time.monotonic() - started

    queries = [(t, argv) for t, argv in scheduler.commands if argv[0] == "squeue"]
    submits = [argv for _, argv in scheduler.commands if argv[0] == "sbatch"]
    assert len(submits) == 4
    assert {argv[0] for _, argv in scheduler.commands} == {"sbatch", "squeue"}
    # One query covers every job still open, and queries come at most every status_interval.
    listed = [argv[3].removeprefix("--jobs=").split(",") for _, argv in queries]
    assert max(len(ids) for ids in listed) == 2
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(queries)]
    assert min(gaps) >= scheduler.status_interval * 0.95
    assert len(queries) <= elapsed / scheduler.status_interval + 1
    assert scheduler.polls > 3 * len(queries)  # the runner polls often; squeue is asked rarely


def test_optimize_on_slurm_reports_a_queued_trial(
    slurm_env: SlurmCluster, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    trial = _script(
        tmp_path,
        """
        import time
        import sherpa
        client = sherpa.Client()
        trial = client.get_trial()
        time.sleep(1.5)
        client.send_metrics(trial=trial, iteration=1, objective=1.0)
        """,
    )
    out = tmp_path / "out"
    with caplog.at_level(logging.INFO, logger="sherpa"):
        _optimize(
            SLURMScheduler(f"--cpus-per-task={slurm_env.cpus}"),  # one job fills the node
            algorithm=sherpa.algorithms.RandomSearch(max_num_trials=2),
            filename=trial,
            output_dir=out,
            max_concurrent=2,
            verbose=1,
        )

    assert _trial_statuses(sherpa.storage.sqlite_url(out / "sherpa.db")) == [
        (1, "COMPLETED"),
        (2, "COMPLETED"),
    ]
    assert re.search(r"trial 2: job \d+ is queued", caplog.text), caplog.text


RUNNER = """
import sys

import sherpa

sherpa.optimize(
    parameters=[sherpa.Continuous("x", [0, 1])],
    algorithm=sherpa.algorithms.Iterate([{"x": 0.25}, {"x": 0.75}]),
    lower_is_better=True,
    scheduler=sherpa.schedulers.SLURMScheduler(),
    filename=sys.argv[1],
    output_dir=sys.argv[2],
    max_concurrent=2,
    verbose=0,
    disable_dashboard=True,
)
"""


def test_interrupted_runner_cancels_its_slurm_jobs(
    slurm_env: SlurmCluster, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    runner = _script(tmp_path, RUNNER, name="runner.py")
    trial = _script(tmp_path, LONG_TRIAL)
    process = subprocess.Popen(
        [PY, str(runner), str(trial), str(out)],
        env={**os.environ, "SLURM_CONF": str(slurm_env.conf)},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        job_ids = [_wait_for_file(out / f"job_{n}", timeout=120) for n in (1, 2)]
        assert set(job_ids) <= set(slurm_env.job_ids())
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
        process.wait()

    assert process.returncode == -signal.SIGINT, stderr  # the uncaught KeyboardInterrupt
    assert "KeyboardInterrupt" in stderr
    for n in (1, 2):
        assert _wait_for_file(out / "jobs" / f"trial_{n}.exit") == "signal TERM"
    running = slurm_env.run("squeue", "-h", "-o", "%i").stdout.split()  # pending and running
    assert not set(job_ids) & set(running)
    assert _trial_statuses(sherpa.storage.sqlite_url(out / "sherpa.db")) == [
        (1, "STOPPED"),
        (2, "STOPPED"),
    ]
