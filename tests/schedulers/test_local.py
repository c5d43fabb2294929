"""LocalScheduler on its own: real subprocesses, their logs, statuses, kills and resources."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sherpa.schedulers import JobStatus, JobSubmissionError, LocalScheduler, SchedulerUnusableError

PY = sys.executable


@pytest.fixture
def scheduler(tmp_path: Path) -> Iterator[LocalScheduler]:
    """A LocalScheduler writing into tmp_path; closed (its jobs killed) after the test."""
    made = LocalScheduler(output_dir=tmp_path)
    yield made
    made.close()


def _wait_until_finished(
    scheduler: LocalScheduler, job_id: str, timeout: float = 20.0
) -> JobStatus:
    deadline = time.monotonic() + timeout
    while True:
        status = scheduler.get_status(job_id)
        if status.is_finished:
            return status
        if time.monotonic() > deadline:
            pytest.fail(f"job {job_id} still {status.value} after {timeout} s")
        scheduler.wait(0.05)


@pytest.fixture
def finish() -> Callable[..., JobStatus]:
    """Return ``finish(scheduler, job_id)``: poll until the job has ended, return its status."""
    return _wait_until_finished


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(FileNotFoundError, IndexError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return False


def _wait_for_file(path: Path, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    while not (path.is_file() and path.read_text().strip()):
        if time.monotonic() > deadline:
            pytest.fail(f"no {path} after {timeout} s")
        time.sleep(0.02)
    return path.read_text().strip()


def test_local_submit_job_passes_arguments_without_a_shell(
    scheduler: LocalScheduler, finish: Callable[..., JobStatus], tmp_path: Path
) -> None:
    argv = ["$(echo hi)", "a b", "*", "`id`", "$HOME", "'q'"]
    job = scheduler.submit_job(
        [PY, "-c", "import sys; print(sys.argv[1:])", *argv], job_name="args"
    )
    assert finish(scheduler, job) is JobStatus.FINISHED
    log = tmp_path / "jobs" / "args.out"
    assert scheduler.job_log(job) == str(log)
    assert log.read_text() == f"{argv!r}\n"


def test_local_submit_job_writes_stdout_and_stderr_to_the_job_log(
    scheduler: LocalScheduler, finish: Callable[..., JobStatus], tmp_path: Path
) -> None:
    code = "import sys; print('out', flush=True); print('err', file=sys.stderr, flush=True)"
    job = scheduler.submit_job([PY, "-c", code], job_name="trial_7")
    assert finish(scheduler, job) is JobStatus.FINISHED
    assert (tmp_path / "jobs" / "trial_7.out").read_text() == "out\nerr\n"
    assert sorted(p.name for p in (tmp_path / "jobs").iterdir()) == ["trial_7.out"]


def test_local_job_log_defaults_to_cwd_when_output_dir_is_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    scheduler = LocalScheduler()
    try:
        job = scheduler.submit_job([PY, "-c", "print('hi')"])
        assert _wait_until_finished(scheduler, job) is JobStatus.FINISHED
        assert (tmp_path / "jobs" / "job.out").read_text() == "hi\n"
    finally:
        scheduler.close()


@pytest.mark.parametrize(
    ("code", "status", "exit_code"),
    [
        ("pass", JobStatus.FINISHED, 0),
        ("raise SystemExit(3)", JobStatus.FAILED, 3),
        ("raise RuntimeError('x')", JobStatus.FAILED, 1),
        ("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", JobStatus.FAILED, -9),
    ],
    ids=["exit-0", "exit-3", "raises", "sigkill"],
)
def test_local_get_status_reports_how_a_job_ended(
    scheduler: LocalScheduler,
    finish: Callable[..., JobStatus],
    code: str,
    status: JobStatus,
    exit_code: int,
) -> None:
    job = scheduler.submit_job([PY, "-c", code], job_name="j")
    assert finish(scheduler, job) is status
    assert scheduler.get_status(job) is status  # asking again gives the same answer
    assert scheduler.exit_code(job) == exit_code


def test_local_kill_job_stops_a_sleeping_process(
    scheduler: LocalScheduler, finish: Callable[..., JobStatus], tmp_path: Path
) -> None:
    job = scheduler.submit_job([PY, "-c", "import time; time.sleep(60)"], job_name="sleeper")
    assert scheduler.get_status(job) is JobStatus.RUNNING
    assert scheduler.exit_code(job) is None
    started = time.monotonic()
    scheduler.kill_job(job)
    assert finish(scheduler, job) is JobStatus.KILLED
    assert time.monotonic() - started < 5.0
    assert scheduler.exit_code(job) == -signal.SIGTERM
    assert not _alive(int(job))
    scheduler.kill_job(job)  # killing an ended job is a no-op
    assert scheduler.get_status(job) is JobStatus.KILLED


def test_local_kill_job_after_the_job_ended_keeps_its_status(
    scheduler: LocalScheduler, finish: Callable[..., JobStatus]
) -> None:
    job = scheduler.submit_job([PY, "-c", "pass"], job_name="quick")
    assert finish(scheduler, job) is JobStatus.FINISHED
    scheduler.kill_job(job)
    assert scheduler.get_status(job) is JobStatus.FINISHED


def test_local_kill_job_kills_the_whole_process_group(
    scheduler: LocalScheduler, finish: Callable[..., JobStatus], tmp_path: Path
) -> None:
    child_pid_file = tmp_path / "child.pid"
    code = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(child_pid_file)!r}, 'w').write(str(child.pid))\n"
        "child.wait()\n"
    )
    job = scheduler.submit_job([PY, "-c", code], job_name="parent")
    child = int(_wait_for_file(child_pid_file))
    try:
        scheduler.kill_job(job)
        assert finish(scheduler, job) is JobStatus.KILLED
        deadline = time.monotonic() + 5
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not _alive(child)
    finally:
        if _alive(child):
            os.kill(child, signal.SIGKILL)


STUBBORN_CHILD = """
import subprocess, sys
code = (
    "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
    " open(sys.argv[1], 'w').write('1'); time.sleep(60)"
)
child = subprocess.Popen([sys.executable, "-c", code, sys.argv[1]])
child.wait()
"""


@pytest.mark.parametrize("how", ["kill_job", "close"])
def test_local_stopped_job_leaves_no_process_behind(tmp_path: Path, how: str) -> None:
    # The trial ends on SIGTERM; a child of it that ignores SIGTERM must not outlive it.
    scheduler = LocalScheduler(output_dir=tmp_path, kill_grace_period=0.3)
    ready = tmp_path / "ready"
    job = scheduler.submit_job([PY, "-c", STUBBORN_CHILD, str(ready)], job_name="parent")
    _wait_for_file(ready)
    children = [
        int(pid)
        for pid in subprocess.run(
            ["pgrep", "-g", job], capture_output=True, text=True, check=True
        ).stdout.split()
        if int(pid) != int(job)
    ]
    try:
        if how == "kill_job":
            scheduler.kill_job(job)
            deadline = time.monotonic() + 10
            while scheduler.get_status(job) is JobStatus.RUNNING:
                assert time.monotonic() < deadline
                time.sleep(0.02)
            assert scheduler.get_status(job) is JobStatus.KILLED
        else:
            scheduler.close()
        deadline = time.monotonic() + 5
        while any(map(_alive, children)) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(children) == 1 and not any(map(_alive, children))
    finally:
        for child in children:
            if _alive(child):
                os.kill(child, signal.SIGKILL)
        scheduler.close()


def test_local_kill_job_escalates_to_sigkill_after_the_grace_period(
    scheduler: LocalScheduler,
    finish: Callable[..., JobStatus],
    tmp_path: Path,
) -> None:
    scheduler.kill_grace_period = 0.3
    ready = tmp_path / "ready"
    code = (
        "import signal, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        f"open({str(ready)!r}, 'w').write('1')\n"
        "time.sleep(60)\n"
    )
    job = scheduler.submit_job([PY, "-c", code], job_name="stubborn")
    _wait_for_file(ready)
    scheduler.kill_job(job)
    assert finish(scheduler, job, timeout=10) is JobStatus.KILLED
    assert scheduler.exit_code(job) == -signal.SIGKILL


def test_local_close_terminates_running_jobs(tmp_path: Path) -> None:
    scheduler = LocalScheduler(output_dir=tmp_path)
    jobs = [
        scheduler.submit_job([PY, "-c", "import time; time.sleep(60)"], job_name=f"s{i}")
        for i in range(3)
    ]
    started = time.monotonic()
    scheduler.close()
    assert time.monotonic() - started < 5.0
    assert [scheduler.get_status(job) for job in jobs] == [JobStatus.KILLED] * 3
    assert not any(_alive(int(job)) for job in jobs)


def test_local_submit_options_prefix_the_command(
    tmp_path: Path, finish: Callable[..., JobStatus]
) -> None:
    scheduler = LocalScheduler(submit_options="env FOO=bar 'SPACED=a b'", output_dir=tmp_path)
    try:
        code = "import os; print(os.environ['FOO'], os.environ['SPACED'])"
        job = scheduler.submit_job([PY, "-c", code], job_name="prefixed")
        assert finish(scheduler, job) is JobStatus.FINISHED
        assert (tmp_path / "jobs" / "prefixed.out").read_text() == "bar a b\n"
    finally:
        scheduler.close()


def test_local_env_is_added_to_and_wins_over_the_inherited_environment(
    scheduler: LocalScheduler,
    finish: Callable[..., JobStatus],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHARED", "from parent")
    monkeypatch.setenv("INHERITED", "kept")
    code = "import os; print(os.environ['SHARED'], '|', os.environ['INHERITED'])"
    job = scheduler.submit_job([PY, "-c", code], env={"SHARED": "from job"}, job_name="env")
    assert finish(scheduler, job) is JobStatus.FINISHED
    assert (tmp_path / "jobs" / "env.out").read_text() == "from job | kept\n"


@pytest.mark.parametrize(
    "command",
    [["/nonexistent/program"], ["sherpa-no-such-command-xyz", "arg"]],
    ids=["absolute", "on-path"],
)
def test_local_submit_job_with_missing_program_makes_the_scheduler_unusable(
    scheduler: LocalScheduler, command: list[str]
) -> None:
    # No later trial could start either: the run must end at once, not retry for minutes.
    with pytest.raises(
        SchedulerUnusableError, match=rf"LocalScheduler: cannot start \['{command[0]}"
    ):
        scheduler.submit_job(command, job_name="missing")


def test_local_submit_job_with_an_unwritable_job_log_makes_the_scheduler_unusable(
    tmp_path: Path,
) -> None:
    (tmp_path / "jobs").write_text("a file where the jobs directory should be")
    scheduler = LocalScheduler(output_dir=tmp_path, resources=["gpu0"])
    with pytest.raises(SchedulerUnusableError, match=r"cannot write the job log"):
        scheduler.submit_job([PY, "-c", "pass"], job_name="j")
    assert scheduler.has_capacity()
    scheduler.close()


def test_local_submit_job_with_missing_program_returns_its_resource(tmp_path: Path) -> None:
    scheduler = LocalScheduler(output_dir=tmp_path, resources=["gpu0"])
    with pytest.raises(SchedulerUnusableError, match=r"cannot start"):
        scheduler.submit_job(["/nonexistent/program"])
    assert scheduler.has_capacity()
    scheduler.close()


def test_local_submit_job_rejects_an_empty_command(scheduler: LocalScheduler) -> None:
    with pytest.raises(JobSubmissionError, match=r"LocalScheduler: empty command"):
        scheduler.submit_job([])


def test_local_resources_are_handed_out_one_per_job_and_returned(
    tmp_path: Path, finish: Callable[..., JobStatus]
) -> None:
    scheduler = LocalScheduler(output_dir=tmp_path, resources=[0, 1])
    code = "import os, time; print(os.environ['SHERPA_RESOURCE'], flush=True); time.sleep(60)"
    try:
        first = scheduler.submit_job([PY, "-c", code], job_name="a")
        second = scheduler.submit_job([PY, "-c", code], job_name="b")
        assert _wait_for_file(tmp_path / "jobs" / "a.out") == "0"
        assert not scheduler.has_capacity()
        with pytest.raises(JobSubmissionError, match=r"no free resource"):
            scheduler.submit_job([PY, "-c", code], job_name="c")
        scheduler.kill_job(first)
        assert finish(scheduler, first) is JobStatus.KILLED
        assert scheduler.has_capacity()
        third = scheduler.submit_job([PY, "-c", code], job_name="c")
        assert _wait_for_file(tmp_path / "jobs" / "b.out") == "1"
        assert _wait_for_file(tmp_path / "jobs" / "c.out") == "0"  # 0 came back, reused
        for job in (second, third):
            scheduler.kill_job(job)
            finish(scheduler, job)
        assert scheduler.has_capacity()
    finally:
        scheduler.close()


def test_local_wait_returns_as_soon_as_a_job_ends(
    scheduler: LocalScheduler, finish: Callable[..., JobStatus]
) -> None:
    job = scheduler.submit_job([PY, "-c", "import time; time.sleep(0.2)"], job_name="short")
    started = time.monotonic()
    scheduler.wait(30.0)
    assert time.monotonic() - started < 10.0  # woken by the job's end, not the timeout
    assert finish(scheduler, job) is JobStatus.FINISHED


def test_local_wait_works_when_descriptors_are_numbered_past_1024(
    scheduler: LocalScheduler, finish: Callable[..., JobStatus], tmp_path: Path
) -> None:
    # A runner with many files open gets high descriptor numbers for its jobs' pidfds.
    opened = [os.open(tmp_path, os.O_RDONLY) for _ in range(1100)]
    try:
        job = scheduler.submit_job([PY, "-c", "import time; time.sleep(0.2)"], job_name="high")
        started = time.monotonic()
        scheduler.wait(30.0)
        assert time.monotonic() - started < 10.0
        assert finish(scheduler, job) is JobStatus.FINISHED
    finally:
        for fd in opened:
            os.close(fd)


def test_local_get_status_of_unknown_job_raises(scheduler: LocalScheduler) -> None:
    with pytest.raises(KeyError, match=r"LocalScheduler: unknown job id '12345'"):
        scheduler.get_status("12345")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"submit_options": "nice 'unbalanced"}, ValueError, r"submit_options cannot be split"),
        ({"submit_options": ["nice"]}, TypeError, r"submit_options must be a string"),
        ({"resources": []}, ValueError, r"resources must name at least one resource"),
    ],
    ids=["unbalanced-quote", "list-options", "no-resources"],
)
def test_local_rejects_bad_arguments(
    kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        LocalScheduler(**kwargs)  # type: ignore[arg-type]


def test_local_output_dir_none_is_the_runners_default() -> None:
    assert LocalScheduler(output_dir=None).output_dir == ""
    with pytest.raises(TypeError, match=r"output_dir must be a path or None; got 5"):
        LocalScheduler(output_dir=5)  # type: ignore[arg-type]


def test_local_repr_names_its_settings() -> None:
    assert repr(LocalScheduler(submit_options="nice", output_dir="o", resources=[0])) == (
        "LocalScheduler(submit_options='nice', output_dir='o', resources=[0])"
    )


def test_local_inherited_resource_variable_never_reaches_jobs(
    scheduler: LocalScheduler,
    finish: Callable[..., JobStatus],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHERPA_RESOURCE", "7")
    code = "import os; print(os.environ.get('SHERPA_RESOURCE', 'unset'))"
    job = scheduler.submit_job([PY, "-c", code], job_name="plain")
    assert finish(scheduler, job) is JobStatus.FINISHED
    assert (tmp_path / "jobs" / "plain.out").read_text().strip() == "unset"


@pytest.mark.parametrize(
    ("grace", "error", "match"),
    [(-1, ValueError, "kill_grace_period must be 0 or more; got -1"), ("5", TypeError, "number")],
)
def test_local_rejects_bad_grace_period(grace: object, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        LocalScheduler(kill_grace_period=grace)  # type: ignore[arg-type]


def test_local_rejects_a_string_of_resources() -> None:
    with pytest.raises(TypeError, match=r"resources must be a list .* got '0,1'"):
        LocalScheduler(resources="0,1")  # type: ignore[arg-type]
