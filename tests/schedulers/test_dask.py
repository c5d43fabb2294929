"""DaskScheduler on a real LocalCluster: trials run as subprocesses of real Dask workers.

One cluster serves the whole module (two worker processes on 127.0.0.1, one thread each,
each declaring one ``GPU`` resource); every run writes to a real SQLite store.
"""

from __future__ import annotations

import contextlib
import csv
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

distributed = pytest.importorskip("distributed", reason="DaskScheduler needs sherpa[dask]")

import sherpa  # noqa: E402
from sherpa.algorithms import Iterate, RandomSearch, StoppingRule  # noqa: E402
from sherpa.schedulers import DaskScheduler, JobStatus, JobSubmissionError  # noqa: E402
from sherpa.storage import SQLStorage, sqlite_url  # noqa: E402

PY = sys.executable


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """Two worker processes, one thread each, one ``GPU`` each; dashboard off; loopback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHERPA_")}
    with contextlib.ExitStack() as stack:
        stack.enter_context(_environment(env))
        made = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            resources={"GPU": 1},
        )
        stack.callback(made.close)
        yield made


@contextlib.contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="module")
def client(cluster: Any) -> Iterator[Any]:
    """The user's client: the tests check that no scheduler closes it."""
    made = distributed.Client(cluster, set_as_default=False)
    yield made
    made.close()


@pytest.fixture(scope="module")
def worker_pids(client: Any) -> set[int]:
    return set(client.run(os.getpid).values())


@pytest.fixture(autouse=True)
def _clean_sherpa_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [k for k in os.environ if k.startswith("SHERPA_")]:
        monkeypatch.delenv(name)


@pytest.fixture
def scheduler(client: Any, tmp_path: Path) -> Iterator[DaskScheduler]:
    made = DaskScheduler(client, output_dir=tmp_path, kill_grace_period=2.0)
    yield made
    made.close()


def _write(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(body).lstrip())
    return path


def _optimize(directory: Path, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("lower_is_better", True)
    kwargs.setdefault("output_dir", directory / "out")
    kwargs.setdefault("max_concurrent", 2)
    kwargs.setdefault("verbose", 0)
    kwargs.setdefault("disable_dashboard", True)
    return sherpa.optimize(**kwargs)


def _finish(scheduler: DaskScheduler, job_id: str, timeout: float = 30.0) -> JobStatus:
    deadline = time.monotonic() + timeout
    while not (status := scheduler.get_status(job_id)).is_finished:
        if time.monotonic() > deadline:
            pytest.fail(f"job {job_id} still {status.value} after {timeout} s")
        scheduler.wait(0.5)
    return status


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(FileNotFoundError, IndexError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return False


def _statuses(out: Path) -> list[str]:
    storage = SQLStorage(sqlite_url(out / "sherpa.db"))
    try:
        return [t.status.value for t in storage.read_trials(storage.get_study().id)]
    finally:
        storage.close()


def _results(out: Path) -> list[dict[str, str]]:
    with open(out / "results.csv", newline="") as handle:
        return list(csv.DictReader(handle))


# The reference workflow


REFERENCE_TRIAL = """\
import os
import time

import sherpa

client = sherpa.Client()
trial = client.get_trial()
start = time.time()
for i in range(10):
    objective = trial.parameters["param_a"] / float(i + 1) * trial.parameters["param_b"]
    client.send_metrics(trial=trial, iteration=i + 1, objective=objective)
    time.sleep(0.02)
with open(os.path.join(os.environ["SHERPA_OUTPUT_DIR"], "spans.txt"), "a") as spans:
    spans.write(f"{trial.id} {start!r} {time.time()!r} {os.getppid()}\\n")
"""


@pytest.fixture(scope="module")
def reference_run(client: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Six reference trials, two at a time, through the user's client."""
    directory = tmp_path_factory.mktemp("reference")
    scheduler = DaskScheduler(client)
    best = _optimize(
        directory,
        parameters=[
            sherpa.Choice(name="param_a", range=[1, 2, 3]),
            sherpa.Continuous(name="param_b", range=[0, 1]),
        ],
        algorithm=RandomSearch(max_num_trials=6, seed=3),
        filename=_write(directory / "trial.py", REFERENCE_TRIAL),
        scheduler=scheduler,
    )
    return {"best": best, "out": directory / "out", "scheduler": scheduler}


def test_dask_optimize_reference_completes_every_trial_on_the_workers(
    reference_run: dict[str, Any], worker_pids: set[int]
) -> None:
    out = reference_run["out"]
    assert _statuses(out) == ["COMPLETED"] * 6
    spans = [line.split() for line in (out / "spans.txt").read_text().splitlines()]
    assert sorted(int(s[0]) for s in spans) == [1, 2, 3, 4, 5, 6]
    assert {int(s[3]) for s in spans} <= worker_pids  # each trial is a child of a worker
    intervals = [(float(s[1]), float(s[2])) for s in spans]
    overlapping = max(sum(a < end and start < b for a, b in intervals) for start, end in intervals)
    assert overlapping == 2
    for number in range(1, 7):
        assert (out / "jobs" / f"trial_{number}.out").read_text() == ""


def test_dask_optimize_reference_results_hold_every_metric(reference_run: dict[str, Any]) -> None:
    rows = _results(reference_run["out"])
    by_trial: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_trial.setdefault(row["Trial-ID"], []).append(row)
    assert sorted(by_trial, key=int) == [str(n) for n in range(1, 7)]
    for trial_rows in by_trial.values():
        assert [r["Status"] for r in trial_rows] == ["INTERMEDIATE"] * 10 + ["COMPLETED"]
        assert [r["Iteration"] for r in trial_rows[:10]] == [str(i) for i in range(1, 11)]
        a, b = int(trial_rows[0]["param_a"]), float(trial_rows[0]["param_b"])
        assert float(trial_rows[-1]["Objective"]) == pytest.approx(a / 10 * b)
    best = reference_run["best"]
    finals = [r for r in rows if r["Status"] == "COMPLETED"]
    assert best["Objective"] == pytest.approx(min(float(r["Objective"]) for r in finals))


def test_dask_optimize_leaves_the_users_client_open(
    reference_run: dict[str, Any], client: Any
) -> None:
    assert reference_run["scheduler"].client is client
    assert client.status == "running"
    assert client.submit(sum, [1, 2], pure=False).result() == 3


# Stopping and failing


LONG_TRIAL = """\
import os
import subprocess
import time

import sherpa

client = sherpa.Client()
trial = client.get_trial()
child = subprocess.Popen(["sleep", "60"])
out = os.environ["SHERPA_OUTPUT_DIR"]
with open(os.path.join(out, f"pids_{trial.id}"), "w") as f:
    f.write(f"{os.getpid()} {child.pid}")
steps = 3 if trial.id == 1 else 1000
for i in range(1, steps + 1):
    client.send_metrics(trial=trial, iteration=i, objective=10.0 * trial.id + i)
    time.sleep(0.05)
child.kill()
"""


class StopAfterFirstObservation(StoppingRule):
    """Stops every trial but the first once it has reported one observation."""

    def should_trial_stop(self, trial: sherpa.Trial, results: Any, lower_is_better: bool) -> bool:
        return trial.id > 1 and int((results["Trial-ID"] == trial.id).sum()) >= 1


def test_dask_optimize_stopping_rule_ends_the_trial_stopped_and_its_processes_gone(
    client: Any, tmp_path: Path
) -> None:
    started = time.monotonic()
    best = _optimize(
        tmp_path,
        parameters=[sherpa.Continuous("x", [0, 1])],
        algorithm=RandomSearch(max_num_trials=3, seed=0),
        filename=_write(tmp_path / "trial.py", LONG_TRIAL),
        stopping_rule=StopAfterFirstObservation(),
        scheduler=DaskScheduler(client, kill_grace_period=2.0),
    )
    out = tmp_path / "out"
    pids = {n: [int(p) for p in (out / f"pids_{n}").read_text().split()] for n in (2, 3)}
    try:
        assert time.monotonic() - started < 30  # unstopped, trials 2 and 3 run 50 s
        assert _statuses(out) == ["COMPLETED", "STOPPED", "STOPPED"]
        assert best["Trial-ID"] == 1 and best["Objective"] == 11.0
        # SIGTERM reached the trial and the sleep it started: the whole process group.
        assert [_alive(pid) for pair in pids.values() for pid in pair] == [False] * 4
    finally:
        for pair in pids.values():
            for pid in pair:
                if _alive(pid):
                    os.kill(pid, signal.SIGKILL)


FAILING_TRIAL = """\
import sys

import sherpa

client = sherpa.Client()
trial = client.get_trial()
client.send_metrics(trial=trial, iteration=1, objective=1.0)
print("giving up with code 3", file=sys.stderr)
sys.exit(3)
"""


def test_dask_optimize_nonzero_exit_fails_with_the_logs_last_line(
    client: Any, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    best = _optimize(
        tmp_path,
        parameters=[sherpa.Continuous("x", [0, 1])],
        algorithm=Iterate([{"x": 0.5}]),
        filename=_write(tmp_path / "trial.py", FAILING_TRIAL),
        scheduler=DaskScheduler(client),
    )
    out = tmp_path / "out"
    log = out / "jobs" / "trial_1.out"
    assert log.read_text() == "giving up with code 3\n"
    warning = (
        f"[sherpa WARNING] trial 1 failed (exit code 3): giving up with code 3; its log: {log}"
    )
    assert warning in capfd.readouterr().err.splitlines()
    assert _statuses(out) == ["FAILED"]
    assert best == {}


def test_dask_optimize_through_an_address_closes_only_its_own_client(
    cluster: Any, client: Any, tmp_path: Path
) -> None:
    scheduler = DaskScheduler(address=cluster.scheduler_address)
    own = scheduler.client
    assert own is not None and own is not client
    _optimize(
        tmp_path,
        parameters=[sherpa.Continuous("x", [0, 1])],
        algorithm=Iterate([{"x": 0.25}, {"x": 0.75}]),
        command=[PY, "-c", "import sherpa; c = sherpa.Client(); t = c.get_trial(); "
                 "c.send_metrics(trial=t, iteration=1, objective=t.parameters['x'])"],
        scheduler=scheduler,
    )  # fmt: skip
    assert _statuses(tmp_path / "out") == ["COMPLETED", "COMPLETED"]
    assert scheduler.client is None and own.status == "closed"
    assert client.status == "running"


# The scheduler on its own


def test_dask_submit_job_passes_arguments_and_environment(
    scheduler: DaskScheduler, tmp_path: Path
) -> None:
    argv = ["$(echo hi)", "a b", "*", "'q'"]
    code = "import os, sys; print(sys.argv[1:], os.environ['MINE'], 'PATH' in os.environ)"
    job = scheduler.submit_job([PY, "-c", code, *argv], {"MINE": "x y"}, job_name="args")
    assert _finish(scheduler, job) is JobStatus.FINISHED
    assert scheduler.exit_code(job) == 0
    assert scheduler.job_log(job) == str(tmp_path / "jobs" / "args.out")
    assert (tmp_path / "jobs" / "args.out").read_text() == f"{argv!r} x y True\n"


def test_dask_job_that_cannot_start_fails_with_the_reason_in_its_log(
    scheduler: DaskScheduler, tmp_path: Path
) -> None:
    job = scheduler.submit_job([str(tmp_path / "missing")], job_name="missing")
    assert _finish(scheduler, job) is JobStatus.FAILED
    assert scheduler.exit_code(job) is None
    log = (tmp_path / "jobs" / "missing.out").read_text()
    assert log.startswith(f"DaskScheduler: cannot start [{str(tmp_path / 'missing')!r}] on ")
    assert "No such file or directory" in log


def test_dask_job_whose_log_cannot_be_written_fails_with_a_warning(
    client: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "file").write_text("")
    scheduler = DaskScheduler(client, output_dir=tmp_path / "file" / "out")
    try:
        job = scheduler.submit_job([PY, "-c", "pass"], job_name="nowhere")
        with caplog.at_level("WARNING", logger="sherpa"):
            assert _finish(scheduler, job) is JobStatus.FAILED
        log = tmp_path / "file" / "out" / "jobs" / "nowhere.out"
        assert [r.getMessage() for r in caplog.records if r.name.startswith("sherpa")] == [
            f"DaskScheduler: job {job} failed: cannot write the job log {log} on "
            f"{socket.gethostname()}: [Errno 20] Not a directory: '{log.parent}' "
            f"(and its log {log} cannot be written: [Errno 20] Not a directory: "
            f"'{log.parent}')"
        ]
    finally:
        scheduler.close()


def test_dask_kill_job_terminates_a_running_job(scheduler: DaskScheduler, tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    code = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    job = scheduler.submit_job([PY, "-c", code], job_name="sleeper")
    deadline = time.monotonic() + 20
    while scheduler.get_status(job) is not JobStatus.RUNNING or not pid_file.exists():
        assert time.monotonic() < deadline, "the job never started"
        scheduler.wait(0.1)
    started = time.monotonic()
    scheduler.kill_job(job)
    assert _finish(scheduler, job) is JobStatus.KILLED
    assert time.monotonic() - started < 10  # not the 60 s sleep
    assert scheduler.exit_code(job) == -signal.SIGTERM  # before the 2 s grace period ended
    assert not _alive(int(pid_file.read_text()))
    scheduler.kill_job(job)  # killing an ended job changes nothing
    assert scheduler.get_status(job) is JobStatus.KILLED


def test_dask_kill_job_escalates_to_sigkill_after_the_grace_period(
    client: Any, tmp_path: Path
) -> None:
    scheduler = DaskScheduler(client, output_dir=tmp_path, kill_grace_period=0.5)
    ready = tmp_path / "ready"
    code = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        f"open({str(ready)!r}, 'w').close(); time.sleep(60)"
    )
    try:
        job = scheduler.submit_job([PY, "-c", code], job_name="stubborn")
        deadline = time.monotonic() + 20
        while scheduler.get_status(job) is not JobStatus.RUNNING or not ready.exists():
            assert time.monotonic() < deadline, "the job never started"
            scheduler.wait(0.1)
        scheduler.kill_job(job)
        assert _finish(scheduler, job, timeout=10) is JobStatus.KILLED
        assert scheduler.exit_code(job) == -signal.SIGKILL
    finally:
        scheduler.close()


def test_dask_wait_wakes_when_a_job_ends(scheduler: DaskScheduler) -> None:
    job = scheduler.submit_job([PY, "-c", "import time; time.sleep(0.3)"], job_name="short")
    started = time.monotonic()
    while not scheduler.get_status(job).is_finished:
        scheduler.wait(30.0)
    assert time.monotonic() - started < 15  # woken by the job's start and end, not the timeout


def test_dask_resources_are_handed_out_one_per_running_job(client: Any, tmp_path: Path) -> None:
    scheduler = DaskScheduler(client, output_dir=tmp_path, resources=["gpu0", "gpu1"])
    code = "import os, time; print(os.environ['SHERPA_RESOURCE']); time.sleep(0.3)"
    try:
        first = scheduler.submit_job([PY, "-c", code], job_name="first")
        second = scheduler.submit_job([PY, "-c", code], job_name="second")
        assert not scheduler.has_capacity()
        with pytest.raises(JobSubmissionError, match="no free resource"):
            scheduler.submit_job([PY, "-c", code], job_name="third")
        assert _finish(scheduler, first) is JobStatus.FINISHED
        assert scheduler.has_capacity()
        third = scheduler.submit_job([PY, "-c", code], job_name="third")
        assert _finish(scheduler, second) is _finish(scheduler, third) is JobStatus.FINISHED
        logs = {
            n: (tmp_path / "jobs" / f"{n}.out").read_text() for n in ("first", "second", "third")
        }
        assert logs == {"first": "gpu0\n", "second": "gpu1\n", "third": "gpu0\n"}
    finally:
        scheduler.close()


def test_dask_worker_resources_decide_where_a_job_may_run(
    client: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    on_gpu = DaskScheduler(client, output_dir=tmp_path, worker_resources={"GPU": 1})
    on_tpu = DaskScheduler(client, output_dir=tmp_path, worker_resources={"TPU": 1, "GPU": 2})
    try:
        with caplog.at_level("WARNING", logger="sherpa"):
            ran = on_gpu.submit_job([PY, "-c", "print('on a GPU worker')"], job_name="gpu")
            assert _finish(on_gpu, ran) is JobStatus.FINISHED
            assert (tmp_path / "jobs" / "gpu.out").read_text() == "on a GPU worker\n"
            assert [r for r in caplog.records if r.name.startswith("sherpa")] == []

            waiting = [on_tpu.submit_job([PY, "-c", "pass"], job_name=f"tpu{n}") for n in range(2)]
            time.sleep(0.5)
            # no worker has a TPU, nor two GPUs: the jobs wait, and the first submission says so
            assert on_tpu.get_statuses(waiting) == dict.fromkeys(waiting, JobStatus.QUEUED)
        assert [r.getMessage() for r in caplog.records if r.name.startswith("sherpa")] == [
            f"DaskScheduler: no connected worker has the resource {name} that worker_resources "
            "asks for (the connected workers' resources: GPU=1); its trials wait as QUEUED "
            "until such a worker joins"
            for name in ("GPU=2", "TPU=1")
        ]
        for job in waiting:
            on_tpu.kill_job(job)
            assert _finish(on_tpu, job) is JobStatus.KILLED
        assert not (tmp_path / "jobs" / "tpu0.out").exists()
    finally:
        on_gpu.close()
        on_tpu.close()


def test_dask_close_kills_running_jobs_and_keeps_the_users_client(
    client: Any, tmp_path: Path
) -> None:
    scheduler = DaskScheduler(client, output_dir=tmp_path, kill_grace_period=1.0)
    pid_file = tmp_path / "pid"
    code = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    job = scheduler.submit_job([PY, "-c", code], job_name="sleeper")
    deadline = time.monotonic() + 20
    while not (pid_file.exists() and pid_file.read_text()):
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.05)
    while scheduler.get_status(job) is not JobStatus.RUNNING:
        scheduler.wait(0.1)
    scheduler.close()
    assert not _alive(int(pid_file.read_text()))
    assert scheduler.get_status(job) is JobStatus.KILLED
    assert scheduler.client is client and client.status == "running"


# Bad arguments


def _unused_address() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{probe.getsockname()[1]}"


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({}, ValueError, r"give exactly one of client .* and address .*client=None, address=None"),
        (
            {"client": "tcp://x:1"},
            TypeError,
            r"client must be a distributed.Client; got 'tcp://x:1'",
        ),
        (
            {"address": 8786},
            TypeError,
            r"address must be a Dask scheduler address string; got 8786",
        ),
        ({"address": ""}, TypeError, r"address must be a Dask scheduler address string; got ''"),
    ],
    ids=["neither", "client-is-a-string", "address-is-an-int", "address-empty"],
)
def test_dask_scheduler_rejects_bad_connection_arguments(
    kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        DaskScheduler(**kwargs)


def test_dask_scheduler_rejects_both_client_and_address(client: Any) -> None:
    with pytest.raises(ValueError, match=r"give exactly one of client .*address='tcp://h:1'"):
        DaskScheduler(client, address="tcp://h:1")


def test_dask_scheduler_rejects_a_closed_client(cluster: Any) -> None:
    closed = distributed.Client(cluster, set_as_default=False)
    closed.close()
    with pytest.raises(ValueError, match=r"client must be connected; got .*\(closed\)"):
        DaskScheduler(closed)


def test_dask_scheduler_names_an_unreachable_address() -> None:
    address = _unused_address()
    started = time.monotonic()
    with pytest.raises(
        ValueError, match=rf"cannot reach the Dask scheduler at address='{address}'"
    ):
        DaskScheduler(address=address, connect_timeout=1.0)
    assert time.monotonic() - started < 10


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"resources": {"GPU": 1}}, TypeError, r"got \{'GPU': 1\} \(Dask worker resources go in"),
        ({"resources": "01"}, TypeError, r"resources must be a list .*; got '01'"),
        ({"resources": []}, ValueError, r"resources must name at least one resource"),
        ({"worker_resources": ["GPU"]}, TypeError, r"worker_resources must map .*; got \['GPU'\]"),
        ({"worker_resources": {"GPU": 0}}, ValueError,
         r"worker_resources\['GPU'\] must be a positive number; got 0"),
        ({"kill_grace_period": -1}, ValueError, r"kill_grace_period must be 0 or more; got -1"),
        ({"kill_grace_period": "5"}, TypeError, r"kill_grace_period must be a number; got '5'"),
        ({"connect_timeout": 0}, ValueError, r"connect_timeout must be a positive number; got 0"),
        ({"connect_timeout": "x"}, TypeError,
         r"connect_timeout must be a number of seconds; got 'x'"),
        ({"output_dir": 5}, TypeError, r"output_dir must be a path or None; got 5"),
    ],
    ids=["resources-mapping", "resources-string", "resources-empty", "worker-resources-list",
         "worker-resources-zero", "grace-negative", "grace-string", "connect-timeout-zero",
         "connect-timeout-string", "output-dir-int"],
)  # fmt: skip
def test_dask_scheduler_rejects_bad_options(
    client: Any, kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        DaskScheduler(client, **kwargs)


def test_dask_scheduler_output_dir_none_is_the_runners_default(client: Any) -> None:
    scheduler = DaskScheduler(client, output_dir=None)
    try:
        assert scheduler.output_dir == ""
    finally:
        scheduler.close()


def test_dask_scheduler_rejects_unknown_job_ids(scheduler: DaskScheduler) -> None:
    with pytest.raises(KeyError, match="DaskScheduler: unknown job id 'nope'"):
        scheduler.get_status("nope")


def test_import_sherpa_does_not_import_dask() -> None:
    code = (
        "import sys, sherpa, sherpa.schedulers\n"
        "print('distributed' in sys.modules, 'dask' in sys.modules)\n"
        "sherpa.schedulers.DaskScheduler\n"
        "print('distributed' in sys.modules)\n"
    )
    out = subprocess.run([PY, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "True"]


def test_dask_scheduler_without_distributed_says_what_to_install() -> None:
    code = (
        "import sys\n"
        "sys.modules['distributed'] = None  # as if sherpa[dask] were not installed\n"
        "import sherpa\n"
        "try:\n"
        "    sherpa.schedulers.DaskScheduler\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([PY, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == (
        "DaskScheduler needs Dask's distributed package: pip install 'sherpa[dask]'\n"
    )


# Last: it kills a worker, which the cluster's nanny then restarts.


def _running_with(text: str) -> list[int]:
    """The pids of live processes whose command line contains ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if text.encode() in (entry / "cmdline").read_bytes() and _alive(int(entry.name)):
                    found.append(int(entry.name))
    return sorted(found)


def test_dask_job_whose_worker_dies_fails_and_is_not_run_twice(
    client: Any, tmp_path: Path
) -> None:
    scheduler = DaskScheduler(client, output_dir=tmp_path, kill_grace_period=1.0)
    pids = tmp_path / "pids"
    code = (
        f"import os, time; open({str(pids)!r}, 'a').write(f'{{os.getpid()}}\\n'); time.sleep(60)"
    )
    first_pid = 0
    try:
        job = scheduler.submit_job([PY, "-c", code], job_name="orphan")
        deadline = time.monotonic() + 20
        while scheduler.get_status(job) is not JobStatus.RUNNING or not pids.exists():
            assert time.monotonic() < deadline, "the job never started"
            scheduler.wait(0.1)
        first_pid = int(pids.read_text().split()[0])
        worker = next(
            address
            for address, keys in client.processing().items()
            if job in keys  # the worker that runs the job
        )
        worker_pid = client.run(os.getpid, workers=[worker])[worker]
        os.kill(worker_pid, signal.SIGKILL)

        assert _finish(scheduler, job) is JobStatus.FAILED
        log_lines = (tmp_path / "jobs" / "orphan.out").read_text().splitlines()
        assert log_lines[-1].startswith(f"DaskScheduler: job {job} failed: its worker {worker} ")
        assert log_lines[-1].endswith(
            f"was lost while the trial ran (pid {first_pid}); Dask started the task again, "
            "which sherpa stopped"
        )
        deadline = time.monotonic() + 20
        while _running_with(str(pids)) != [first_pid]:  # the rerun was stopped; the orphan runs
            assert time.monotonic() < deadline, f"running: {_running_with(str(pids))}"
            time.sleep(0.05)
    finally:
        scheduler.close()
        for pid in _running_with(str(pids)):
            os.kill(pid, signal.SIGKILL)  # the orphan of the killed worker
        client.wait_for_workers(2, timeout=30)
