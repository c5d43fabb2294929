"""SGEScheduler on a real Grid Engine cell: jobs, their logs, statuses, kills, end to end.

One private cell (``tests._infra.sge``: its own network namespace with only ``lo``, two slots)
serves the whole module. ``qsub``, ``qstat``, ``qdel`` and ``qacct`` reach it through wrapper
scripts put first on ``PATH``, so the scheduler runs the tools exactly as on a cluster. Every
run writes to a real SQLite store, which the jobs in the namespace reach as a file.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parents[2]
if str(_ROOT) not in sys.path:  # tests._infra is imported from the repository root
    sys.path.insert(0, str(_ROOT))

import sherpa  # noqa: E402
from sherpa.algorithms import Iterate  # noqa: E402
from sherpa.schedulers import (  # noqa: E402
    JobStatus,
    JobSubmissionError,
    SchedulerUnusableError,
    SGEScheduler,
)
from sherpa.schedulers._sge import parse_qacct, parse_qstat_xml, status_of_state  # noqa: E402
from sherpa.storage import SQLStorage, sqlite_url  # noqa: E402
from tests._infra import sge as sge_infra  # noqa: E402

PY = sys.executable
REQUIRE_CLUSTERS = "SHERPA_REQUIRE_CLUSTERS"

REFERENCE_TRIAL = """\
import os
import time

import sherpa


def mark(event, trial_id):
    with open(os.path.join(os.environ["SHERPA_OUTPUT_DIR"], "spans.txt"), "a") as spans:
        spans.write(f"{event} {trial_id} {os.environ['JOB_ID']} {time.time()!r}\\n")


client = sherpa.Client()
trial = client.get_trial()
mark("start", trial.id)
for i in range(10):
    objective = trial.parameters['param_a'] / float(i + 1) * trial.parameters['param_b']
    client.send_metrics(trial=trial, iteration=i + 1, objective=objective)
    time.sleep(0.02)
mark("end", trial.id)
"""

REFERENCE_RUNNER = """\
import json

import sherpa

best = sherpa.optimize(
    parameters=[
        sherpa.Choice(name="param_a", range=[1, 2, 3]),
        sherpa.Continuous(name="param_b", range=[0, 1]),
    ],
    algorithm=sherpa.algorithms.RandomSearch(max_num_trials=4),
    lower_is_better=True,
    filename="trial.py",
    output_dir="out",
    scheduler=sherpa.schedulers.SGEScheduler(submit_options="", environment=None),
    max_concurrent=2,
    verbose=1,
    disable_dashboard=True,
)
print(json.dumps(best))
"""


def _unavailable(reason: str) -> None:
    if os.environ.get(REQUIRE_CLUSTERS, "") not in ("", "0"):
        pytest.fail(f"{reason} (and {REQUIRE_CLUSTERS} is set)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def sge_cell() -> Iterator[sge_infra.SGECell]:
    """The module's private SGE cell (about 4 s to start, a fraction of a second to remove)."""
    reason = sge_infra.unavailable_reason()
    if reason is not None:
        _unavailable(reason)
    try:
        with sge_infra.sge_cell(slots=2) as cell:
            yield cell
    except sge_infra.SGEUnavailableError as exc:
        _unavailable(f"the private SGE cell did not start: {exc}")


@pytest.fixture
def sge(
    sge_cell: sge_infra.SGECell, monkeypatch: pytest.MonkeyPatch
) -> Iterator[sge_infra.SGECell]:
    """The module's cell, its tools first on ``PATH``, no SHERPA_* variable inherited."""
    monkeypatch.setenv("PATH", sge_cell.path)
    for name in [n for n in os.environ if n.startswith("SHERPA_")]:
        monkeypatch.delenv(name)
    yield sge_cell
    # A job whose exit record is written may still be listed for a moment; one that stays
    # listed is a test's leftover, which must not run into the next test.
    deadline = time.monotonic() + 10.0
    while leftover := parse_qstat_xml(sge_cell.run("qstat", "-xml").stdout):
        if time.monotonic() > deadline:
            sge_cell.run("qdel", *leftover, check=False)
            pytest.fail(f"the test left jobs in the cell: {leftover}")
        time.sleep(0.1)


def _finish(
    scheduler: SGEScheduler, job_ids: list[str], timeout: float = 30.0
) -> dict[str, JobStatus]:
    deadline = time.monotonic() + timeout
    while True:
        statuses = scheduler.get_statuses(job_ids)
        if all(status.is_finished for status in statuses.values()):
            return statuses
        if time.monotonic() > deadline:
            pytest.fail(f"jobs still open after {timeout} s: {statuses}")
        scheduler.wait(0.2)


def _wait_for(predicate: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout} s")
        time.sleep(0.05)


def _results(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def _trial_statuses(out: Path) -> list[str]:
    storage = SQLStorage(sqlite_url(out / "sherpa.db"))
    try:
        return [t.status.value for t in storage.read_trials(storage.get_study().id)]
    finally:
        storage.close()


def _warnings(stderr: str) -> list[str]:
    """The runner's warnings, less the one every SGE run on SQLite gets."""
    return [
        line
        for line in stderr.splitlines()
        if line.startswith("[sherpa WARNING]") and "SQLite" not in line
    ]


# qstat and qacct output, read from the real tools


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("qw", JobStatus.QUEUED),
        ("hqw", JobStatus.QUEUED),
        ("hRwq", JobStatus.QUEUED),
        ("Rq", JobStatus.QUEUED),
        ("t", JobStatus.RUNNING),
        ("r", JobStatus.RUNNING),
        ("Rr", JobStatus.RUNNING),
        ("dr", JobStatus.RUNNING),
        ("s", JobStatus.RUNNING),
        ("S", JobStatus.RUNNING),
        ("T", JobStatus.RUNNING),
        ("Eqw", JobStatus.FAILED),
        ("Ehqw", JobStatus.FAILED),
        ("", JobStatus.UNKNOWN),
        ("z", JobStatus.UNKNOWN),
    ],
)
def test_sge_status_of_state(state: str, status: JobStatus) -> None:
    assert status_of_state(state) is status


def test_sge_qstat_xml_of_held_running_and_error_jobs_is_parsed(
    sge: sge_infra.SGECell, tmp_path: Path
) -> None:
    script = tmp_path / "sleep.sh"
    script.write_text("sleep 30\n")
    submit = ["-terse", "-o", str(tmp_path / "log"), "-j", "y", str(script)]
    held = sge.run("qsub", "-h", *submit).stdout.strip()
    running = sge.run("qsub", *submit).stdout.strip()
    broken = sge.run("qsub", "-wd", str(tmp_path / "missing"), *submit).stdout.strip()
    expected = {held: JobStatus.QUEUED, running: JobStatus.RUNNING, broken: JobStatus.FAILED}
    try:
        _wait_for(
            lambda: parse_qstat_xml(sge.run("qstat", "-xml").stdout) == expected,
            f"qstat -xml to list {expected}",
        )
    finally:
        sge.run("qdel", held, running, broken)
    _wait_for(lambda: not parse_qstat_xml(sge.run("qstat", "-xml").stdout), "the jobs to go")
    assert parse_qstat_xml("<job_info></job_info>") == {}


def test_sge_qacct_of_a_deleted_job_says_it_was_signalled(
    sge: sge_infra.SGECell, tmp_path: Path
) -> None:
    script = tmp_path / "sleep.sh"
    script.write_text("sleep 30\n")
    job = sge.run("qsub", "-terse", "-o", "/dev/null", "-j", "y", str(script)).stdout.strip()
    _wait_for(
        lambda: parse_qstat_xml(sge.run("qstat", "-xml").stdout) == {job: JobStatus.RUNNING},
        "the job to run",
    )
    sge.run("qdel", job)
    _wait_for(lambda: sge.run("qacct", "-j", job, check=False).returncode == 0, "its record")
    fields = parse_qacct(sge.run("qacct", "-j", job).stdout)
    assert (fields["jobnumber"], fields["failed"]) == (job, "100 : assumedly after job")
    assert fields["exit_status"] == "137 (Killed)"


# The scheduler on its own


def test_sge_submit_job_quotes_arguments_variables_and_paths(
    sge: sge_infra.SGECell, tmp_path: Path
) -> None:
    output_dir = tmp_path / 'it\'s a "dir"'
    scheduler = SGEScheduler(output_dir=output_dir)
    argv = ["a b", "'single'", '"double"', "$HOME", "`id`", "$(echo hi)", "*", "back\\slash"]
    value = 'it\'s "quoted" $HOME `id` \\ and\ta tab'
    code = "import os, sys; print(sys.argv[1:]); print(repr(os.environ['QUOTED']))"
    job = scheduler.submit_job([PY, "-c", code, *argv], {"QUOTED": value}, job_name="quoting")
    assert _finish(scheduler, [job]) == {job: JobStatus.FINISHED}
    log = output_dir / "jobs" / "quoting.out"
    assert scheduler.job_log(job) == str(log)
    assert log.read_text() == f"{argv!r}\n{value!r}\n"
    assert (output_dir / "jobs" / "quoting.exit").read_text() == "exit 0\n"
    assert scheduler.exit_code(job) == 0


@pytest.mark.parametrize(
    ("name", "shown"), [("$HOME", "'$'"), ("a:b", "':'"), ("a,b", "','"), ("$a:b", "'$' and ':'")]
)
def test_sge_scheduler_refuses_qsub_syntax_in_output_dir_at_once(
    tmp_path: Path, name: str, shown: str
) -> None:
    output_dir = tmp_path / name
    with pytest.raises(ValueError) as raised:
        SGEScheduler(output_dir=output_dir)
    assert str(raised.value) == (
        f"SGEScheduler: output_dir {str(output_dir)!r} puts the job logs in "
        f"{str(output_dir / 'jobs')!r}, whose {shown} qsub -o would read as part of its syntax "
        "($HOME-style names, host:path, lists) with no way to escape it; use an output_dir "
        "without '$', ':' or ','"
    )


def test_sge_optimize_stops_at_the_first_submission_into_a_dollar_output_dir(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # The runner fills in output_dir: the first submission stops the run, not each trial.
    out = tmp_path / "run $1"
    trial = tmp_path / "trial.py"
    trial.write_text("print('never')\n")
    with pytest.raises(SchedulerUnusableError) as raised:
        sherpa.optimize(
            parameters=[sherpa.Continuous("x", [0, 1])],
            algorithm=Iterate([{"x": 0.1}, {"x": 0.2}, {"x": 0.3}]),
            lower_is_better=True,
            filename=trial,
            output_dir=out,
            scheduler=SGEScheduler(),
            max_concurrent=3,
            verbose=0,
            disable_dashboard=True,
        )
    assert str(raised.value) == (
        f"SGEScheduler: output_dir {str(out)!r} puts the job logs in {str(out / 'jobs')!r}, "
        "whose '$' qsub -o would read as part of its syntax ($HOME-style names, host:path, "
        "lists) with no way to escape it; use an output_dir without '$', ':' or ','"
    )
    assert not (out / "jobs").exists()
    assert _trial_statuses(out) == ["FAILED"]  # it never ran
    assert "could not be submitted" not in capfd.readouterr().err


def test_sge_submit_job_runs_in_the_runner_directory_as_an_sge_job(
    sge: sge_infra.SGECell, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    scheduler = SGEScheduler(output_dir=tmp_path / "out")
    code = "import os; print(os.getcwd(), os.environ['JOB_ID'], os.environ['JOB_NAME'])"
    job = scheduler.submit_job([PY, "-c", code], job_name="where")
    assert _finish(scheduler, [job]) == {job: JobStatus.FINISHED}
    assert (tmp_path / "out/jobs/where.out").read_text() == f"{tmp_path} {job} where\n"


def test_sge_environment_file_is_sourced_before_the_trial(
    sge: sge_infra.SGECell, tmp_path: Path
) -> None:
    profile = tmp_path / "my profile.sh"
    profile.write_text('export FROM_PROFILE="set by the $0 profile"\nset -eu\n')
    scheduler = SGEScheduler(environment=profile, output_dir=tmp_path)
    code = "import os; print(os.environ['FROM_PROFILE'])"
    job = scheduler.submit_job([PY, "-c", code], job_name="profile")
    assert _finish(scheduler, [job]) == {job: JobStatus.FINISHED}
    assert (tmp_path / "jobs/profile.out").read_text().startswith("set by the /")

    missing = tmp_path / "no such profile.sh"
    scheduler = SGEScheduler(environment=missing, output_dir=tmp_path / "second")
    job = scheduler.submit_job([PY, "-c", "print('never')"], job_name="profile")
    assert _finish(scheduler, [job]) == {job: JobStatus.FAILED}
    assert (tmp_path / "second/jobs/profile.out").read_text() == (
        f"sherpa job on {sge.hostname}: cannot read the environment file {missing}\n"
    )
    assert scheduler.exit_code(job) == 1


def test_sge_environment_file_that_exits_fails_the_job_at_once(
    sge: sge_infra.SGECell, tmp_path: Path
) -> None:
    profile = tmp_path / "exiting profile.sh"
    profile.write_text("echo loading\nexit 0\n")
    scheduler = SGEScheduler(environment=profile, output_dir=tmp_path)
    job = scheduler.submit_job([PY, "-c", "print('never')"], job_name="exiting")
    # within the grace period (30 s): the job's own record decides, not SGE's forgetting it
    assert _finish(scheduler, [job], timeout=20) == {job: JobStatus.FAILED}
    assert (tmp_path / "jobs/exiting.out").read_text() == (
        f"loading\nsherpa job on {sge.hostname}: the environment file {profile} failed "
        "(exit 0 before the trial ran)\n"
    )
    assert scheduler.exit_code(job) == 1


def test_sge_soft_time_limit_ends_the_trial_without_noise_in_its_log(
    sge: sge_infra.SGECell, tmp_path: Path
) -> None:
    # At s_rt SGE sends SIGUSR1 to every process of the job; the trial (default action) ends
    # at once, so the script's forwarding of the signal finds no process to signal.
    scheduler = SGEScheduler(submit_options="-l s_rt=0:0:1", output_dir=tmp_path)
    jobs = [
        scheduler.submit_job([PY, "-c", "import time; time.sleep(60)"], job_name=f"soft_{n}")
        for n in range(2)
    ]
    assert _finish(scheduler, jobs) == dict.fromkeys(jobs, JobStatus.FAILED)
    for n, job in enumerate(jobs):
        assert (tmp_path / f"jobs/soft_{n}.out").read_text() == ""
        assert scheduler.exit_code(job) == 128 + 10  # SIGUSR1


def test_sge_get_statuses_asks_qstat_once_for_all_jobs(
    sge: sge_infra.SGECell, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counting = tmp_path / "bin"
    counting.mkdir()
    calls = tmp_path / "calls"
    for tool in ("qstat", "qacct"):
        wrapper = counting / tool
        wrapper.write_text(
            f'#!/bin/sh\necho "{tool} $*" >> {calls}\nexec {sge.bin_dir / tool} "$@"\n'
        )
        wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{counting}{os.pathsep}{sge.path}")

    scheduler = SGEScheduler(submit_options="-h", output_dir=tmp_path)
    jobs = [scheduler.submit_job(["true"], job_name=f"held_{n}") for n in range(3)]
    assert scheduler.get_statuses(jobs) == dict.fromkeys(jobs, JobStatus.QUEUED)
    assert calls.read_text() == "qstat -xml\n"
    scheduler.get_statuses(jobs)  # within status_interval: answered from the last query
    assert calls.read_text() == "qstat -xml\n"

    scheduler.close()  # qdel of each held job
    assert _finish(scheduler, jobs) == dict.fromkeys(jobs, JobStatus.KILLED)
    assert set(calls.read_text().splitlines()) == {"qstat -xml"}  # no qacct for own kills


def test_sge_kill_job_of_a_running_job_is_killed(sge: sge_infra.SGECell, tmp_path: Path) -> None:
    scheduler = SGEScheduler(output_dir=tmp_path)
    marker = tmp_path / "started"
    code = f"import time; open({str(marker)!r}, 'w').close(); time.sleep(60)"
    job = scheduler.submit_job([PY, "-c", code], job_name="victim")
    _wait_for(marker.exists, "the job to start")
    assert scheduler.get_status(job) is JobStatus.RUNNING
    scheduler.kill_job(job)
    assert _finish(scheduler, [job]) == {job: JobStatus.KILLED}
    assert not (tmp_path / "jobs/victim.exit").exists()  # qdel sends SIGKILL: no record


def test_sge_job_over_its_time_limit_is_killed_with_qacct_reason(
    sge: sge_infra.SGECell, tmp_path: Path
) -> None:
    scheduler = SGEScheduler(submit_options="-l h_rt=0:0:1", output_dir=tmp_path)
    job = scheduler.submit_job([PY, "-c", "import time; time.sleep(60)"], job_name="slow")
    assert _finish(scheduler, [job]) == {job: JobStatus.KILLED}
    assert (tmp_path / "jobs/slow.out").read_text() == (
        f"sherpa: SGE ended job {job} by a signal (qacct: failed 37 : qmaster enforced h_rt, "
        "h_cpu, or h_vmem limit; exit_status 137 (Killed))\n"
    )


def test_sge_job_deleted_from_outside_while_queued_is_killed(
    sge: sge_infra.SGECell, tmp_path: Path
) -> None:
    scheduler = SGEScheduler(submit_options="-h", output_dir=tmp_path)
    scheduler.missing_grace_period = 2.0  # SGE keeps no record of it: only the grace decides
    job = scheduler.submit_job(["true"], job_name="waiting")
    assert scheduler.get_status(job) is JobStatus.QUEUED
    sge.run("qdel", job)
    started = time.monotonic()
    assert _finish(scheduler, [job]) == {job: JobStatus.KILLED}
    assert time.monotonic() - started >= 2.0
    assert (tmp_path / "jobs/waiting.out").read_text() == (
        f"sherpa: SGE deleted job {job} before it started (qstat no longer lists it, qacct "
        "has no record of it)\n"
    )


def test_sge_submit_job_rejected_by_qsub_raises_with_its_message(
    sge: sge_infra.SGECell, tmp_path: Path
) -> None:
    scheduler = SGEScheduler(submit_options="-q nosuch.q", output_dir=tmp_path)
    message = (
        "SGE rejected the job: Unable to run job: Job was rejected because job requests "
        'unknown queue "nosuch.q" Exiting.'
    )
    with pytest.raises(JobSubmissionError) as raised:
        scheduler.submit_job(["true"], job_name="rejected")
    assert str(raised.value) == message
    assert (tmp_path / "jobs/rejected.out").read_text() == f"sherpa: {message}\n"


def test_sge_job_that_cannot_start_is_failed_with_the_reason_and_deleted(
    sge: sge_infra.SGECell, tmp_path: Path
) -> None:
    missing = tmp_path / "no such dir"
    scheduler = SGEScheduler(submit_options=f"-wd '{missing}'", output_dir=tmp_path)
    job = scheduler.submit_job(["true"], job_name="nowhere")
    assert _finish(scheduler, [job]) == {job: JobStatus.FAILED}
    (line,) = (tmp_path / "jobs/nowhere.out").read_text().splitlines()
    assert line.startswith(f"sherpa: SGE could not start job {job}: ")
    assert line.endswith(f"error: can't chdir to {missing}: No such file or directory")
    assert scheduler.exit_code(job) is None
    assert parse_qstat_xml(sge.run("qstat", "-xml").stdout) == {}  # not left in Eqw


def test_sge_infra_unavailable_reason_names_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sge_infra, "SGE_LIBEXEC", tmp_path)
    if os.geteuid() != 0:
        expected = "a private SGE cell needs root (it runs in a private network namespace)"
    else:
        expected = (
            f"Grid Engine is not installed (no {tmp_path / 'sge_qmaster'}): "
            f"{sge_infra.INSTALL_HINT}"
        )
    assert sge_infra.unavailable_reason() == expected


def test_sge_scheduler_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match='submit_options cannot be split: "-N \'open"'):
        SGEScheduler(submit_options="-N 'open")
    with pytest.raises(TypeError, match=r"submit_options must be a string; got \['-q'\]"):
        SGEScheduler(submit_options=["-q"])  # type: ignore[arg-type]
    assert repr(SGEScheduler("-q a.q", None, "out")) == (
        "SGEScheduler(submit_options='-q a.q', environment=None, output_dir='out', resources=None)"
    )


# Through sherpa.optimize


def test_sge_optimize_runs_the_reference_workflow(sge: sge_infra.SGECell, tmp_path: Path) -> None:
    (tmp_path / "trial.py").write_text(REFERENCE_TRIAL)
    (tmp_path / "runner.py").write_text(REFERENCE_RUNNER)
    done = subprocess.run(
        [PY, "runner.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    out = tmp_path / "out"

    spans: dict[int, dict[str, float]] = {}
    job_ids: dict[int, str] = {}
    for line in (out / "spans.txt").read_text().splitlines():
        event, trial_id, job_id, when = line.split()
        spans.setdefault(int(trial_id), {})[event] = float(when)
        job_ids[int(trial_id)] = job_id
    assert sorted(spans) == [1, 2, 3, 4]
    starts_and_ends = sorted((s["start"], 1) for s in spans.values())
    starts_and_ends += sorted((s["end"], -1) for s in spans.values())
    running = [0]
    for _, step in sorted(starts_and_ends):
        running.append(running[-1] + step)
    assert max(running) <= 2

    storage = SQLStorage(sqlite_url(out / "sherpa.db"))
    try:
        study_id = storage.get_study().id
        trials = storage.read_trials(study_id)
        observations = storage.read_observations(study_id)
    finally:
        storage.close()
    assert [t.status for t in trials] == [sherpa.TrialStatus.COMPLETED] * 4
    assert {t.number: t.job_id for t in trials} == job_ids  # SGE's JOB_ID in each job
    for trial in trials:
        a, b = trial.parameters["param_a"], trial.parameters["param_b"]
        mine = sorted(
            (o for o in observations if o.trial_number == trial.number), key=lambda o: o.iteration
        )
        assert [o.objective for o in mine] == [a / float(i) * b for i in range(1, 11)]
        assert (out / "jobs" / f"trial_{trial.number}.exit").read_text() == "exit 0\n"

    rows = _results(out / "results.csv")
    completed = [r for r in rows if r["Status"] == "COMPLETED"]
    assert len(rows) == 44 and len(completed) == 4
    best_row = min(completed, key=lambda r: float(r["Objective"]))
    assert done.stdout.strip().splitlines()[-1] == (
        f'{{"Trial-ID": {best_row["Trial-ID"]}, "Iteration": {best_row["Iteration"]}, '
        f'"param_a": {best_row["param_a"]}, "param_b": {float(best_row["param_b"])!r}, '
        f'"Objective": {float(best_row["Objective"])!r}}}'
    )
    assert _warnings(done.stderr) == []


def _optimize(tmp_path: Path, trial_body: str, scheduler: SGEScheduler, trials: int = 1) -> None:
    trial = tmp_path / "trial.py"
    trial.write_text(trial_body)
    sherpa.optimize(
        parameters=[sherpa.Continuous("x", [0, 1])],
        algorithm=Iterate([{"x": (n + 1) / 10} for n in range(trials)]),
        lower_is_better=True,
        filename=trial,
        output_dir=tmp_path / "out",
        scheduler=scheduler,
        max_concurrent=1,
        verbose=0,
        disable_dashboard=True,
    )


def test_sge_optimize_trial_deleted_with_qdel_from_outside_is_stopped(
    sge: sge_infra.SGECell, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    body = (
        "import os, time, sherpa\n"
        "client = sherpa.Client()\n"
        "trial = client.get_trial()\n"
        "client.send_metrics(trial=trial, iteration=1, objective=0.5)\n"
        f"open({str(tmp_path / 'job_id')!r}, 'w').write(os.environ['JOB_ID'])\n"
        "time.sleep(120)\n"
    )
    deleted: list[subprocess.CompletedProcess[str]] = []

    def delete_when_running() -> None:
        path = tmp_path / "job_id"
        deadline = time.monotonic() + 60
        while not (path.exists() and path.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        deleted.append(subprocess.run(["qdel", path.read_text()], capture_output=True, text=True))

    outsider = threading.Thread(target=delete_when_running)
    outsider.start()
    try:
        _optimize(tmp_path, body, SGEScheduler())
    finally:
        outsider.join()
    job = (tmp_path / "job_id").read_text()
    assert deleted[0].returncode == 0, deleted[0].stderr

    out = tmp_path / "out"
    assert _trial_statuses(out) == ["STOPPED"]
    assert [r["Status"] for r in _results(out / "results.csv")] == ["INTERMEDIATE", "STOPPED"]
    assert (out / "jobs/trial_1.out").read_text() == (
        f"sherpa: SGE ended job {job} by a signal (qacct: failed 100 : assumedly after job; "
        "exit_status 137 (Killed))\n"
    )
    assert _warnings(capfd.readouterr().err) == []


def test_sge_optimize_trial_exiting_non_zero_is_failed_with_its_log_line(
    sge: sge_infra.SGECell, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    body = "import sys\nprint('working')\nsys.exit('bad input: x is not allowed')\n"
    _optimize(tmp_path, body, SGEScheduler())
    out = tmp_path / "out"
    log = out / "jobs/trial_1.out"
    assert log.read_text() == "working\nbad input: x is not allowed\n"
    assert _trial_statuses(out) == ["FAILED"]
    assert _warnings(capfd.readouterr().err) == [
        f"[sherpa WARNING] trial 1 failed (exit code 1): bad input: x is not allowed; "
        f"its log: {log}"
    ]


def test_sge_optimize_rejected_submission_fails_the_trial_with_qsub_message(
    sge: sge_infra.SGECell, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    _optimize(tmp_path, "print('never')\n", SGEScheduler(submit_options="-q nosuch.q"), 2)
    out = tmp_path / "out"
    message = (
        "SGE rejected the job: Unable to run job: Job was rejected because job requests "
        'unknown queue "nosuch.q" Exiting.'
    )
    assert _trial_statuses(out) == ["FAILED", "FAILED"]
    assert _warnings(capfd.readouterr().err) == [
        f"[sherpa WARNING] trial {n} could not be submitted: {message}" for n in (1, 2)
    ]
    assert (out / "jobs/trial_1.out").read_text() == f"sherpa: {message}\n"
