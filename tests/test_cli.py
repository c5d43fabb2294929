"""The ``sherpa`` command, run for real: the installed console script and ``python -m sherpa``.

Every test reads a real store: an SQLite file written by an in-process ``sherpa.Study`` (or by
``sherpa.optimize`` running in another process), or a database on the test session's private
PostgreSQL server.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

import sherpa
from sherpa.storage import sqlite_url

SCRIPT = Path(sys.executable).with_name("sherpa")

CONFIGS = [
    {"lr": 0.01, "act": "relu"},
    {"lr": 0.1, "act": "tanh"},
    {"lr": 0.001, "act": "relu"},
    {"lr": 0.05, "act": "tanh"},
    {"lr": 0.02, "act": "relu"},
]

EXPECTED_CSV = """\
Trial-ID,Status,Iteration,act,lr,Objective,acc
1,INTERMEDIATE,1,relu,0.01,0.5,0.75
1,INTERMEDIATE,2,relu,0.01,0.25,0.875
1,COMPLETED,2,relu,0.01,0.25,0.875
2,INTERMEDIATE,1,tanh,0.1,0.75,
2,COMPLETED,1,tanh,0.1,0.75,
3,INTERMEDIATE,1,relu,0.001,,
3,FAILED,1,relu,0.001,,
4,INTERMEDIATE,1,tanh,0.05,0.125,
4,STOPPED,1,tanh,0.05,0.125,
"""

EXPECTED_STATUS = """\
study 'cli-study' (lower is better): 5 trials, 1 INTERMEDIATE, 2 COMPLETED, 1 FAILED, 1 STOPPED
best: trial 1, objective 0.25

Trial-ID  Status        Iteration  Objective
--------  ------------  ---------  ---------
       1  COMPLETED             2       0.25
       2  COMPLETED             1       0.75
       3  FAILED                1        nan
       4  STOPPED               1      0.125
       5  INTERMEDIATE          -          -
"""


def fill_study(storage: str, name: str = "cli-study") -> sherpa.Study:
    """Write five trials, one of each outcome, to ``storage``; trial 5 stays open."""
    study = sherpa.Study(
        [
            sherpa.Continuous("lr", [0.001, 0.1], scale="log"),
            sherpa.Choice("act", ["relu", "tanh"]),
        ],
        sherpa.algorithms.Iterate(CONFIGS),
        lower_is_better=True,
        disable_dashboard=True,
        storage=storage,
        study_name=name,
    )
    trials = [study.get_suggestion() for _ in CONFIGS]
    one, two, three, four, _five = trials
    assert all(isinstance(t, sherpa.Trial) for t in trials)
    study.add_observation(one, 0.5, iteration=1, context={"acc": 0.75})
    study.add_observation(one, 0.25, iteration=2, context={"acc": 0.875})
    study.finalize(one)
    study.add_observation(two, 0.75, iteration=1)
    study.finalize(two)
    study.add_observation(three, math.nan, iteration=1)
    study.finalize(three, "FAILED")
    study.add_observation(four, 0.125, iteration=1)
    study.finalize(four, "STOPPED")
    return study


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """An output directory whose sherpa.db holds the five-trial study ``cli-study``."""
    out = tmp_path / "out"
    study = fill_study(sqlite_url(out / "sherpa.db"))
    assert study.storage is not None
    study.storage.close()
    return out


def sherpa_cli(
    *args: str | os.PathLike[str], module: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run the installed ``sherpa`` script (or ``python -m sherpa``) and capture its output."""
    command = [sys.executable, "-m", "sherpa"] if module else [str(SCRIPT)]
    return subprocess.run(
        [*command, *(str(a) for a in args)], capture_output=True, text=True, timeout=120
    )


def assert_error(result: subprocess.CompletedProcess[str], message: str, code: int = 1) -> None:
    """The command failed with ``code``, printing nothing but ``sherpa: error: <message>``."""
    assert (result.returncode, result.stdout) == (code, "")
    assert result.stderr == f"sherpa: error: {message}\n"


def test_console_script_is_installed() -> None:
    assert SCRIPT.is_file(), f"{SCRIPT} missing: install the package (pip install -e .)"


@pytest.mark.parametrize("module", [False, True], ids=["script", "python-m"])
def test_version_prints_the_package_version(module: bool) -> None:
    result = sherpa_cli("--version", module=module)
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        f"sherpa {sherpa.__version__}\n",
        "",
    )


def test_help_lists_every_command() -> None:
    result = sherpa_cli("--help")
    assert result.returncode == 0
    for command in ("status", "best", "export", "studies", "dashboard"):
        assert f"    {command}" in result.stdout
    assert "Exit status: 0 success, 1 error, 2 usage error." in result.stdout


@pytest.mark.parametrize(
    ("command", "phrase"),
    [
        ("status", "--sort {id,objective,status,iteration}"),
        ("best", "--json"),
        ("export", "--format {csv,json}"),
        ("studies", "PATH|URL"),
        ("dashboard", "--host HOST"),
    ],
)
def test_each_command_has_help(command: str, phrase: str) -> None:
    result = sherpa_cli(command, "--help")
    assert result.returncode == 0
    assert result.stdout.startswith(f"usage: sherpa {command} ")
    assert phrase in result.stdout
    assert "postgresql+psycopg://" in result.stdout


def test_no_command_prints_usage_and_exits_2() -> None:
    result = sherpa_cli()
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("usage: sherpa [-h] [--version] COMMAND ...")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("export", "{store}"), "the following arguments are required: --format"),
        (("export", "{store}", "--format", "xml"), "argument --format: invalid choice: 'xml'"),
        (
            ("status", "{store}", "--limit", "0"),
            "argument --limit: must be a positive integer; got '0'",
        ),
        (
            ("status", "{store}", "--status", "DONE"),
            "argument --status: must be one of INTERMEDIATE, COMPLETED, FAILED, STOPPED; "
            "got 'DONE'",
        ),
        (
            ("dashboard", "{store}", "--port", "70000"),
            "argument --port: must be between 1 and 65535; got '70000'",
        ),
        (("frobnicate",), "argument COMMAND: invalid choice: 'frobnicate'"),
        (("status", ""), "argument PATH|URL: must not be empty; got ''"),
        (("best", "{store}", "--study", ""), "argument --study: must not be empty; got ''"),
        (
            ("export", "{store}", "--format", "csv", "-o", ""),
            "argument -o/--output: must not be empty; got ''",
        ),
        (("dashboard", "{store}", "--host", ""), "argument --host: must not be empty; got ''"),
    ],
)
def test_usage_errors_exit_2(store: Path, args: tuple[str, ...], message: str) -> None:
    result = sherpa_cli(*(a.format(store=store) for a in args))
    assert (result.returncode, result.stdout) == (2, "")
    assert message in result.stderr.splitlines()[-1]
    assert result.stderr.splitlines()[0].startswith("usage: sherpa")


@pytest.mark.parametrize(
    "args",
    [
        ("status", "--bogus", "{store}"),
        ("status", "{store}", "--bogus"),
        ("status", "", "--limit", "2"),
        ("best", "{store}", "--bogus", "x"),
        ("export", "--format", "csv", "{store}", "--bogus"),
        ("studies", "{store}", "extra"),
        ("dashboard", "{store}", "--bogus"),
    ],
)
def test_usage_errors_show_the_subcommand_usage(store: Path, args: tuple[str, ...]) -> None:
    command = args[0]
    result = sherpa_cli(*(a.format(store=store) for a in args))
    assert (result.returncode, result.stdout) == (2, "")
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"usage: sherpa {command} [-h]")
    extra = [a for a in args if a in ("--bogus", "x", "extra")]
    expected = (
        f"sherpa {command}: error: unrecognized arguments: {' '.join(extra)}"
        if extra
        else f"sherpa {command}: error: argument PATH|URL: must not be empty; got ''"
    )
    assert lines[-1] == expected


# status


@pytest.mark.parametrize("target", ["directory", "file", "url"])
def test_status_prints_every_trial(store: Path, target: str) -> None:
    source = {
        "directory": str(store),
        "file": str(store / "sherpa.db"),
        "url": sqlite_url(store / "sherpa.db"),
    }[target]
    result = sherpa_cli("status", source)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == EXPECTED_STATUS


def test_status_sorts_filters_limits_and_shows_parameters(store: Path) -> None:
    result = sherpa_cli(
        "status", store, "--sort", "objective", "--status", "completed", "--status", "STOPPED",
        "--limit", "2", "--params",
    )  # fmt: skip
    assert result.returncode == 0
    table = result.stdout.split("\n\n", 1)[1]
    assert table == textwrap.dedent("""\
        Trial-ID  Status     Iteration  Objective  act     lr
        --------  ---------  ---------  ---------  ----  ----
               4  STOPPED            1      0.125  tanh  0.05
               1  COMPLETED          2       0.25  relu  0.01
        """)


def test_status_params_include_keys_an_algorithm_adds(tmp_path: Path) -> None:
    # Algorithms such as SuccessiveHalving add keys (resource, rung) to trial.parameters;
    # study.results has a column for each, and so does status --params, in the same order.
    study = sherpa.Study(
        [sherpa.Continuous("lr", [0.001, 0.1]), sherpa.Choice("act", ["relu", "tanh"])],
        sherpa.algorithms.Iterate(
            [{"lr": 0.01, "act": "relu", "rung": 0}, {"lr": 0.1, "act": "tanh", "rung": 1}]
        ),
        lower_is_better=True,
        disable_dashboard=True,
        storage=sqlite_url(tmp_path / "sherpa.db"),
    )
    for number, trial in enumerate(study, start=1):
        study.add_observation(trial, 0.5 / number)
        study.finalize(trial)
    assert study.storage is not None
    study.storage.close()

    result = sherpa_cli("status", tmp_path, "--params")
    assert result.returncode == 0
    assert result.stdout.split("\n\n", 1)[1] == textwrap.dedent("""\
        Trial-ID  Status     Iteration  Objective  act     lr  rung
        --------  ---------  ---------  ---------  ----  ----  ----
               1  COMPLETED          1        0.5  relu  0.01     0
               2  COMPLETED          1       0.25  tanh   0.1     1
        """)
    best = json.loads(sherpa_cli("best", tmp_path, "--json").stdout)
    assert list(best["parameters"].items()) == [("act", "tanh"), ("lr", 0.1), ("rung", 1)]


def test_status_sort_by_objective_puts_missing_last_and_reverse_flips(store: Path) -> None:
    ordered = sherpa_cli("status", store, "--sort", "objective")
    reverse = sherpa_cli("status", store, "--sort", "objective", "--reverse")

    def ids(result: subprocess.CompletedProcess[str]) -> list[int]:
        return [int(line.split()[0]) for line in result.stdout.splitlines()[5:]]

    assert ids(ordered) == [4, 1, 2, 3, 5]
    assert ids(reverse) == [5, 3, 2, 1, 4]


def test_status_of_an_empty_study(tmp_path: Path) -> None:
    sherpa.Study(
        [sherpa.Continuous("x", [0, 1])],
        sherpa.algorithms.RandomSearch(),
        lower_is_better=False,
        disable_dashboard=True,
        storage=sqlite_url(tmp_path / "sherpa.db"),
        study_name="empty",
    )
    result = sherpa_cli("status", tmp_path)
    assert result.returncode == 0
    assert result.stdout == textwrap.dedent("""\
        study 'empty' (higher is better): 0 trials
        best: no completed trial with an objective yet

        Trial-ID  Status  Iteration  Objective
        --------  ------  ---------  ---------
        """)
    assert_error(
        sherpa_cli("best", tmp_path), "study 'empty' has no completed trial with an objective yet"
    )
    exported = sherpa_cli("export", tmp_path, "--format", "csv")
    assert exported.stdout == "Trial-ID,Status,Iteration,x,Objective\n"
    assert sherpa_cli("export", tmp_path, "--format", "json").stdout == "[]\n"


# best


def test_best_prints_the_best_completed_trial(store: Path) -> None:
    result = sherpa_cli("best", store)
    assert (result.returncode, result.stderr) == (0, "")
    # Trial 4 has a lower objective but was stopped: only completed trials count.
    assert result.stdout == textwrap.dedent("""\
        study: cli-study
        trial_id: 1
        objective: 0.25
        iteration: 2
        parameters:
          act: relu
          lr: 0.01
        context:
          acc: 0.875
        """)


def test_best_json(store: Path) -> None:
    result = sherpa_cli("best", store / "sherpa.db", "--json")
    assert result.returncode == 0
    assert json.loads(result.stdout) == {
        "study": "cli-study",
        "trial_id": 1,
        "objective": 0.25,
        "iteration": 2,
        "parameters": {"act": "relu", "lr": 0.01},
        "context": {"acc": 0.875},
    }
    # Parameters in the results table's order (sorted), not the declared one (lr, act).
    assert '"parameters": {\n    "act": "relu",\n    "lr": 0.01\n  },' in result.stdout


def test_every_command_lists_parameters_in_the_results_order(store: Path) -> None:
    results = sherpa.Study.load(store).results
    columns = list(results.columns)
    expected = columns[columns.index("Iteration") + 1 : columns.index("Objective")]
    assert expected == ["act", "lr"]  # declared as lr, act: the table sorts them

    status = sherpa_cli("status", store, "--params").stdout.split("\n\n", 1)[1]
    assert status.splitlines()[0].split()[4:] == expected
    best = sherpa_cli("best", store).stdout.split("parameters:\n", 1)[1]
    assert [line.split(":")[0].strip() for line in best.splitlines()[:2]] == expected
    best_json = json.loads(sherpa_cli("best", store, "--json").stdout)
    assert list(best_json["parameters"]) == expected
    csv_header = sherpa_cli("export", store, "--format", "csv").stdout.splitlines()[0]
    assert csv_header.split(",")[3:5] == expected
    rows = json.loads(sherpa_cli("export", store, "--format", "json").stdout)
    assert list(rows[0])[3:5] == expected


# export


def test_export_csv_is_the_results_table(store: Path) -> None:
    result = sherpa_cli("export", store, "--format", "csv")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == EXPECTED_CSV
    study = sherpa.Study.load(store)
    assert result.stdout == study.results.to_csv(index=False, lineterminator="\n")


def test_export_json_rows_with_null_for_missing(store: Path) -> None:
    result = sherpa_cli("export", store, "--format", "json")
    assert result.returncode == 0
    rows = json.loads(result.stdout)
    assert len(rows) == 9
    assert rows[0] == {
        "Trial-ID": 1, "Status": "INTERMEDIATE", "Iteration": 1, "act": "relu", "lr": 0.01,
        "Objective": 0.5, "acc": 0.75,
    }  # fmt: skip
    assert rows[6] == {
        "Trial-ID": 3, "Status": "FAILED", "Iteration": 1, "act": "relu", "lr": 0.001,
        "Objective": None, "acc": None,
    }  # fmt: skip
    assert [list(row) for row in rows] == [EXPECTED_CSV.splitlines()[0].split(",")] * 9
    assert "NaN" not in result.stdout


def test_export_to_a_file(store: Path, tmp_path: Path) -> None:
    target = tmp_path / "results.csv"
    result = sherpa_cli("export", store, "--format", "csv", "-o", target)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert target.read_text() == EXPECTED_CSV


def test_export_to_a_missing_folder_is_an_error(store: Path, tmp_path: Path) -> None:
    target = tmp_path / "nope" / "results.csv"
    result = sherpa_cli("export", store, "--format", "json", "--output", target)
    assert_error(result, f"cannot write --output {str(target)!r}: No such file or directory")


def test_python_m_sherpa_runs_the_same_command(store: Path) -> None:
    result = sherpa_cli("export", store, "--format", "csv", module=True)
    assert (result.returncode, result.stdout) == (0, EXPECTED_CSV)


# several studies


def test_several_studies_need_study(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "sherpa.db")
    for name in ("first", "second"):
        fill_study(url, name)

    assert_error(
        sherpa_cli("status", tmp_path),
        f"store {url!r} holds 2 studies (first, second); choose one with --study",
    )
    result = sherpa_cli("best", tmp_path, "--study", "first", "--json")
    assert json.loads(result.stdout)["study"] == "first"
    assert_error(
        sherpa_cli("export", tmp_path, "--format", "csv", "--study", "third"),
        f"store {url!r} has no study named 'third' (it has 'first', 'second')",
    )
    listing = sherpa_cli("studies", tmp_path)
    assert listing.stdout == textwrap.dedent("""\
        Study   Better  Trials
        ------  ------  ------
        first   lower        5
        second  lower        5
        """)


# stores that are not there


def test_missing_path(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    for command in (("status",), ("best",), ("export", "--format", "csv"), ("dashboard",)):
        result = sherpa_cli(command[0], missing, *command[1:])
        assert_error(result, f"no sherpa store at {str(missing)!r}: no such file or directory")


def test_directory_without_a_store(tmp_path: Path) -> None:
    assert_error(
        sherpa_cli("status", tmp_path),
        f"no sherpa store in directory {str(tmp_path)!r}: it has no sherpa.db",
    )


def test_directory_of_a_private_postgres_run(tmp_path: Path) -> None:
    (tmp_path / "postgres").mkdir()
    assert_error(
        sherpa_cli("best", tmp_path),
        f"no sherpa store in directory {str(tmp_path)!r}: it has no sherpa.db; its store is the "
        f"run's private PostgreSQL server in {str(tmp_path / 'postgres')!r}: pass that server's "
        "URL while it runs",
    )


def test_missing_sqlite_url_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "sherpa.db"
    assert_error(
        sherpa_cli("status", sqlite_url(path)),
        f"no sherpa store at {sqlite_url(path)!r}: {path} does not exist",
    )
    assert not path.exists()


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database\n" * 100)
    assert_error(
        sherpa_cli("status", path),
        f"{str(path)!r} is not a sherpa store: it cannot be read as an SQLite database "
        "(file is not a database)",
    )


def test_an_sqlite_database_of_something_else_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE songs (title TEXT)")
        conn.commit()
    assert_error(
        sherpa_cli("status", path),
        f"{str(path)!r} is not a sherpa store: the SQLite database has no sherpa tables",
    )
    with contextlib.closing(sqlite3.connect(path)) as conn:
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master")]
    assert tables == ["songs"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_unreachable_server_is_one_line_without_the_password() -> None:
    pytest.importorskip("psycopg")
    port = _free_port()
    url = f"postgresql+psycopg://someone:hunter2secret@127.0.0.1:{port}/db"
    result = sherpa_cli("status", url)
    assert (result.returncode, result.stdout) == (1, "")
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(
        f"sherpa: error: store 'postgresql+psycopg://someone:***@127.0.0.1:{port}/db' cannot "
        f"be reached (host '127.0.0.1', port {port}): "
    )
    assert "hunter2secret" not in result.stderr


# a running study, a PostgreSQL store


TRIAL_SCRIPT = """\
import pathlib, time
import sherpa

client = sherpa.Client()
trial = client.get_trial()
client.send_metrics(trial=trial, iteration=1, objective=trial.parameters["x"] * 2)
flag = pathlib.Path({flag!r})
while not flag.exists():
    time.sleep(0.02)
client.send_metrics(trial=trial, iteration=2, objective=trial.parameters["x"])
"""

RUNNER_SCRIPT = """\
import sherpa

sherpa.optimize(
    parameters=[sherpa.Continuous("x", [0, 1])],
    algorithm=sherpa.algorithms.Iterate([{{"x": 0.25}}]),
    lower_is_better=True,
    scheduler=sherpa.schedulers.LocalScheduler(),
    filename={trial!r},
    output_dir={out!r},
    disable_dashboard=True,
    verbose=0,
)
"""


def _wait_for(predicate: object, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()  # type: ignore[operator]
        if result is not None:
            return result  # type: ignore[no-any-return]
        if time.monotonic() > deadline:
            pytest.fail("the study did not reach the expected state in time")
        time.sleep(0.2)


def test_status_of_a_running_study(tmp_path: Path) -> None:
    out, flag = tmp_path / "out", tmp_path / "go"
    trial = tmp_path / "trial.py"
    trial.write_text(TRIAL_SCRIPT.format(flag=str(flag)))
    runner = tmp_path / "runner.py"
    runner.write_text(RUNNER_SCRIPT.format(trial=str(trial), out=str(out)))
    process = subprocess.Popen([sys.executable, str(runner)], cwd=tmp_path)
    try:

        def running() -> subprocess.CompletedProcess[str] | None:
            if not (out / "sherpa.db").exists():
                return None
            result = sherpa_cli("status", out)
            return result if "INTERMEDIATE          1        0.5" in result.stdout else None

        result = _wait_for(running)
        assert result.returncode == 0
        assert result.stdout.splitlines()[0].endswith(": 1 trial, 1 INTERMEDIATE")
        assert_error(
            sherpa_cli("best", out),
            f"study {_study_name(out)!r} has no completed trial with an objective yet",
        )
        flag.touch()
        assert process.wait(timeout=120) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    final = sherpa_cli("status", out)
    assert final.stdout.splitlines()[-1].split() == ["1", "COMPLETED", "2", "0.25"]
    assert json.loads(sherpa_cli("best", out, "--json").stdout)["objective"] == 0.25


def _study_name(out: Path) -> str:
    with contextlib.closing(sqlite3.connect(out / "sherpa.db")) as conn:
        return str(conn.execute("SELECT name FROM sherpa_studies").fetchone()[0])


def test_postgresql_store(postgres_url: str) -> None:
    study = fill_study(postgres_url)
    assert study.storage is not None
    study.storage.close()

    status = sherpa_cli("status", postgres_url)
    assert (status.returncode, status.stdout, status.stderr) == (0, EXPECTED_STATUS, "")
    export = sherpa_cli("export", postgres_url, "--format", "csv")
    assert export.stdout == EXPECTED_CSV
    best = sherpa_cli("best", postgres_url, "--json")
    assert json.loads(best.stdout)["trial_id"] == 1


# dashboard


@pytest.fixture
def dashboard(store: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    pytest.importorskip("plotly", reason="the dashboard needs plotly (sherpa[dashboard])")
    port = _free_port()
    process = subprocess.Popen(
        [str(SCRIPT), "dashboard", str(store), "--port", str(port)],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        yield process, line
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def test_dashboard_serves_until_interrupted(dashboard: tuple[subprocess.Popen[str], str]) -> None:
    process, line = dashboard
    prefix = "[sherpa INFO] dashboard for study cli-study: "
    assert line.startswith(prefix), line
    url = line[len(prefix) :].split()[0]
    assert url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200
        assert "text/html" in response.headers["Content-Type"]

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0


def test_dashboard_port_in_use(store: Path) -> None:
    pytest.importorskip("plotly", reason="the dashboard needs plotly (sherpa[dashboard])")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = sherpa_cli("dashboard", store, "--port", str(port))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith(
        f"sherpa: error: the dashboard cannot listen on 127.0.0.1:{port}: "
    )
    assert len(result.stderr.splitlines()) == 1
