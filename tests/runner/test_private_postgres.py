"""``sherpa.optimize(storage="postgresql")``: a private server started and stopped by the runner.

Real ``initdb`` and ``postgres`` processes on 127.0.0.1 (run as ``postgres`` when the tests
run as root, which is the default here), real trial subprocesses, a real runner subprocess
for the signal tests. Skipped where PostgreSQL or psycopg is missing.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import sherpa
from sherpa.exceptions import StorageUnreachableError
from sherpa.storage import PrivatePostgres, SQLStorage, _server

TRIAL = """
import sherpa

client = sherpa.Client()
trial = client.get_trial()
for i in range(1, 4):
    client.send_metrics(trial=trial, iteration=i, objective=trial.parameters["x"] / i)
"""

SLOW_TRIAL = """\
import os
import time

import sherpa

client = sherpa.Client()
trial = client.get_trial()
for i in range(1, 2001):
    client.send_metrics(trial=trial, iteration=i, objective=1.0 / i)
    if i == 1:
        with open(os.path.join(os.environ["SHERPA_OUTPUT_DIR"], f"pid_{trial.id}"), "w") as f:
            f.write(str(os.getpid()))
    time.sleep(0.02)
"""

RUNNER = """\
import sherpa

sherpa.optimize(
    parameters=[sherpa.Continuous("x", [0, 1])],
    algorithm=sherpa.algorithms.RandomSearch(max_num_trials=4, seed=0),
    lower_is_better=True,
    filename="trial.py",
    output_dir="out",
    scheduler=sherpa.schedulers.LocalScheduler(),
    max_concurrent=2,
    verbose=0,
    disable_dashboard=True,
    storage="postgresql",
)
"""

PARAMETERS = [sherpa.Continuous("x", [0, 1])]


class SpanningScheduler(sherpa.schedulers.LocalScheduler):
    """Runs jobs here, but says they may run on other hosts (as SLURM or Dask would)."""

    spans_hosts = True


def _skip(reason: str) -> None:
    """Skip, or fail where ``SHERPA_REQUIRE_CLUSTERS`` is set (CI: the server must be there)."""
    if os.environ.get("SHERPA_REQUIRE_CLUSTERS"):
        pytest.fail(f"SHERPA_REQUIRE_CLUSTERS is set, but {reason}")
    pytest.skip(reason)


def _programs_or_skip() -> None:
    try:
        _server.find_postgres_programs()
    except StorageUnreachableError:
        _skip("PostgreSQL's programs (initdb, postgres) are not installed")
    pytest.importorskip("psycopg", reason="the private server needs psycopg (sherpa[postgres])")
    if os.geteuid() == 0:
        import pwd

        try:
            pwd.getpwnam(_server.SERVER_USER)
        except KeyError:
            _skip("running as root and there is no 'postgres' user to run the server")


@pytest.fixture
def workdir() -> Iterator[Path]:
    """A directory the server's user can enter (pytest's tmp_path is 0700 under root)."""
    _programs_or_skip()
    path = Path(tempfile.mkdtemp(prefix="sherpa-runner-pg-test-"))
    path.chmod(0o711)
    yield path
    for process_dir in processes_in(path / "out" / "postgres" / "data"):
        os.kill(int(process_dir), signal.SIGKILL)  # a failed test must not leave a server
    shutil.rmtree(path, ignore_errors=True)


def processes_in(directory: Path) -> list[str]:
    """The pids of processes whose working directory is ``directory`` (a server's data)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if Path(os.readlink(entry / "cwd")) == directory:
                    found.append(entry.name)
            except OSError:
                continue
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_accepts(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def optimize(workdir: Path, **kwargs: Any) -> dict[str, Any]:
    (workdir / "trial.py").write_text(TRIAL)
    kwargs.setdefault("algorithm", sherpa.algorithms.RandomSearch(max_num_trials=3, seed=1))
    kwargs.setdefault("scheduler", sherpa.schedulers.LocalScheduler())
    return sherpa.optimize(
        parameters=PARAMETERS,
        lower_is_better=True,
        filename=workdir / "trial.py",
        output_dir=workdir / "out",
        max_concurrent=2,
        verbose=1,
        disable_dashboard=True,
        **kwargs,
    )


def test_optimize_private_postgres_runs_on_db_port_and_stops_the_server(
    workdir: Path,
    read_results: Callable[[Path], list[dict[str, str]]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = free_port()
    with caplog.at_level(logging.INFO, logger="sherpa"):
        best = optimize(workdir, storage="postgresql", db_port=port)

    out = workdir / "out"
    data = out / "postgres" / "data"
    assert not (out / "sherpa.db").exists()
    assert processes_in(data) == []
    assert not port_accepts(port)
    sockets = out / "postgres" / "socket"
    assert (
        f"listening on 127.0.0.1 port {port} and in {sockets}; trials connect through its "
        "Unix socket" in caplog.text
    )
    assert stat.S_IMODE(sockets.stat().st_mode) == 0o700
    assert "private PostgreSQL server stopped; its data stays in" in caplog.text
    secret = out / "postgres" / "password"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert stat.S_IMODE((out / "postgres").stat().st_mode) == 0o700
    password = secret.read_text().strip()
    assert password not in caplog.text
    assert password not in (out / "results.csv").read_text()
    for log in (out / "jobs").iterdir():
        assert password not in log.read_text()

    rows = read_results(out / "results.csv")
    assert [r["Status"] for r in rows].count("COMPLETED") == 3
    with PrivatePostgres().start(out) as server:  # the kept data starts again
        storage = SQLStorage(server.url)
        study_id = storage.get_study().id
        assert [t.status.value for t in storage.read_trials(study_id)] == ["COMPLETED"] * 3
        observations = storage.read_observations(study_id)
        assert len(observations) == 9
        assert best["Objective"] == min(o.objective for o in observations)
        loaded = sherpa.Study.load(server.url)
        assert len(loaded.results) == 12
        storage.close()
        loaded.storage.close()  # type: ignore[union-attr]
    assert processes_in(data) == []


class _FailingScheduler(sherpa.schedulers.LocalScheduler):
    """Raises an unexpected error on the second submission, mid-run."""

    def submit_job(self, command: Any, env: Any = None, job_name: str = "") -> str:
        if job_name == "trial_2":
            raise RuntimeError("scheduler broke")
        return super().submit_job(command, env, job_name)


def test_optimize_private_postgres_stops_the_server_when_the_run_raises(workdir: Path) -> None:
    with pytest.raises(RuntimeError, match="scheduler broke"):
        optimize(workdir, storage="postgresql", scheduler=_FailingScheduler())
    assert (workdir / "out" / "postgres" / "data" / "PG_VERSION").is_file()
    assert processes_in(workdir / "out" / "postgres" / "data") == []


@pytest.mark.parametrize(
    ("signum", "returncode"),
    [
        pytest.param(signal.SIGINT, -signal.SIGINT, id="ctrl-c-to-the-process-group"),
        pytest.param(signal.SIGTERM, 128 + signal.SIGTERM, id="sigterm"),
    ],
)
def test_optimize_private_postgres_signal_leaves_no_server_behind(
    workdir: Path,
    clean_env: Callable[..., dict[str, str]],
    read_results: Callable[[Path], list[dict[str, str]]],
    wait_for: Callable[..., None],
    signum: int,
    returncode: int,
) -> None:
    (workdir / "trial.py").write_text(SLOW_TRIAL)
    (workdir / "runner.py").write_text(RUNNER)
    out, data = workdir / "out", workdir / "out" / "postgres" / "data"
    process = subprocess.Popen(
        [sys.executable, "runner.py"],
        cwd=workdir,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    try:
        wait_for(
            lambda: all((out / f"pid_{n}").is_file() for n in (1, 2)),
            timeout=90,
            what="both trials to report",
        )
        server_pid = int((data / "postmaster.pid").read_text().split()[0])
        port = int((data / "postmaster.pid").read_text().splitlines()[3])
        assert port_accepts(port)
        if signum == signal.SIGINT:
            os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        else:
            process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == returncode, err
    assert not Path(f"/proc/{server_pid}").exists()
    assert processes_in(data) == []
    assert not port_accepts(port)
    assert not (data / "postmaster.pid").exists()
    statuses = {r["Trial-ID"]: r["Status"] for r in read_results(out / "results.csv")}
    assert statuses == {"1": "STOPPED", "2": "STOPPED"}
    assert f"interrupted by {signal.Signals(signum).name}: 2 trials (2 stopped)" in err
    assert "PostgreSQL server" not in err  # verbose=0: the server's start and stop are debug


def test_optimize_warns_once_about_sqlite_with_a_scheduler_that_spans_hosts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="sherpa"):
        optimize(tmp_path, scheduler=SpanningScheduler())
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "SpanningScheduler runs trials on other hosts, but the store is the SQLite default "
        "(output_dir/sherpa.db): SQLite on a shared network filesystem (NFS, Lustre, GPFS) "
        "can lose or corrupt writes from several hosts. Pass storage='postgresql' to start a "
        "private PostgreSQL server for the run (pip install sherpa[postgres]), or "
        "storage=URL of an existing server."
    ]
    assert (tmp_path / "out" / "sherpa.db").is_file()


def test_optimize_sqlite_with_local_scheduler_does_not_warn(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="sherpa"):
        optimize(tmp_path)
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_optimize_private_postgres_on_loopback_with_scheduler_spanning_hosts_warns(
    workdir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="sherpa"):
        optimize(
            workdir, storage=PrivatePostgres(listen="127.0.0.1"), scheduler=SpanningScheduler()
        )
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "SpanningScheduler runs trials on other hosts, but the private PostgreSQL server "
        "listens only on 127.0.0.1 (PrivatePostgres(listen='127.0.0.1')): trials on other "
        "hosts cannot reach it"
    ]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"storage": PrivatePostgres(port=5433), "db_port": 5434},
            ValueError,
            r"db_port=5434 contradicts storage=PrivatePostgres\(port=5433\)",
        ),
        ({"storage": 5432}, TypeError, "storage must be None .*; got 5432"),
        ({"storage": "postgresql", "db_port": 0}, ValueError, "port must be between 1 and 65535"),
    ],
)
def test_optimize_rejects_bad_store_arguments(
    tmp_path: Path, kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        optimize(tmp_path, **kwargs)
    assert not (tmp_path / "out").exists()


def test_optimize_private_postgres_without_programs_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(_server, "POSTGRES_LIB_GLOB", str(tmp_path / "none" / "*" / "bin"))
    with pytest.raises(StorageUnreachableError, match=r"apt-get install postgresql"):
        optimize(tmp_path, storage="postgresql")
    assert not (tmp_path / "out" / "postgres").exists()
