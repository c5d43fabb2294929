"""End-to-end tests of ``sherpa.optimize``: real trial subprocesses, a real SQLite store."""

from __future__ import annotations

import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import sherpa
from sherpa.algorithms import Iterate, RandomSearch, StoppingRule
from sherpa.storage import SQLStorage, sqlite_url

REFERENCE_TRIAL = """\
import os
import time

import sherpa


def mark(event, trial_id):
    with open(os.path.join(os.environ["SHERPA_OUTPUT_DIR"], "spans.txt"), "a") as spans:
        spans.write(f"{event} {trial_id} {time.time()!r}\\n")


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
    algorithm=sherpa.algorithms.RandomSearch(max_num_trials=NUM_TRIALS),
    lower_is_better=True,
    filename="trial.py",
    output_dir="out",
    scheduler=sherpa.schedulers.LocalScheduler(),
    max_concurrent=2,
    verbose=VERBOSE,
    disable_dashboard=True,
)
print(json.dumps(best))
"""


def _run_reference(directory: Path, num_trials: int, verbose: int) -> dict[str, Any]:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "trial.py").write_text(REFERENCE_TRIAL)
    runner = REFERENCE_RUNNER.replace("NUM_TRIALS", str(num_trials))
    (directory / "runner.py").write_text(runner.replace("VERBOSE", str(verbose)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHERPA_")}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "runner.py"],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return {
        "cwd": directory,
        "out": directory / "out",
        "returncode": done.returncode,
        "stdout": done.stdout,
        "stderr": done.stderr,
        "wall_s": time.monotonic() - started,
    }


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The issue's reference workflow, run once as a real runner script from its own cwd."""
    run = _run_reference(tmp_path_factory.mktemp("reference"), num_trials=10, verbose=1)
    assert run["returncode"] == 0, run["stderr"]
    return run


def test_optimize_reference_runs_ten_trials_at_most_two_at_a_time(
    reference_run: dict[str, Any],
    spans: Callable[[Path], dict[int, dict[str, Any]]],
    max_overlap: Callable[[list[tuple[float, float]]], int],
    open_store: Callable[[Path], Any],
) -> None:
    logged = spans(reference_run["out"] / "spans.txt")
    assert sorted(logged) == list(range(1, 11))
    assert all(set(entry) == {"start", "end"} for entry in logged.values())
    assert max_overlap([(e["start"], e["end"]) for e in logged.values()]) == 2

    storage = open_store(reference_run["out"])
    trials = storage.read_trials(storage.get_study().id)
    assert [t.number for t in trials] == list(range(1, 11))
    assert {t.status for t in trials} == {sherpa.TrialStatus.COMPLETED}
    # A trial's record lives from its creation (just before its job starts) until the runner
    # finalizes it (after its job has ended), so these intervals cover the processes.
    assert max_overlap([(t.created_at, t.finished_at) for t in trials]) <= 2


def test_optimize_reference_results_hold_every_metric(
    reference_run: dict[str, Any],
    read_results: Callable[[Path], list[dict[str, str]]],
    results_header: Callable[[Path], list[str]],
) -> None:
    path = reference_run["out"] / "results.csv"
    assert results_header(path) == [
        "Trial-ID",
        "Status",
        "Iteration",
        "param_a",
        "param_b",
        "Objective",
    ]
    rows = read_results(path)
    assert [r["Status"] for r in rows].count("INTERMEDIATE") == 100
    assert [r["Status"] for r in rows].count("COMPLETED") == 10
    assert len(rows) == 110
    for trial_id in range(1, 11):
        mine = [r for r in rows if int(r["Trial-ID"]) == trial_id]
        intermediate = [r for r in mine if r["Status"] == "INTERMEDIATE"]
        (final,) = [r for r in mine if r["Status"] == "COMPLETED"]
        assert mine[-1] is final  # the final row comes after the trial's observations
        assert sorted(int(r["Iteration"]) for r in intermediate) == list(range(1, 11))
        a, b = int(final["param_a"]), float(final["param_b"])
        assert a in (1, 2, 3) and 0.0 <= b <= 1.0
        for row in intermediate:
            assert (int(row["param_a"]), float(row["param_b"])) == (a, b)
            assert float(row["Objective"]) == a / float(int(row["Iteration"])) * b
        assert int(final["Iteration"]) == 10
        assert float(final["Objective"]) == min(float(r["Objective"]) for r in intermediate)


def test_optimize_reference_store_holds_every_metric(
    reference_run: dict[str, Any], open_store: Callable[[Path], Any]
) -> None:
    storage = open_store(reference_run["out"])
    study = storage.get_study()
    trials = {t.number: t for t in storage.read_trials(study.id)}
    observations = storage.read_observations(study.id)
    assert len(observations) == 100
    for number, trial in trials.items():
        mine = sorted(
            (o for o in observations if o.trial_number == number), key=lambda o: o.iteration
        )
        assert [o.iteration for o in mine] == list(range(1, 11))
        a, b = trial.parameters["param_a"], trial.parameters["param_b"]
        assert [o.objective for o in mine] == [a / float(i) * b for i in range(1, 11)]
        assert all(o.context == {} for o in mine)


def test_optimize_reference_best_is_minimum_completed_row(
    reference_run: dict[str, Any], read_results: Callable[[Path], list[dict[str, str]]]
) -> None:
    best = json.loads(reference_run["stdout"].strip().splitlines()[-1])
    completed = [r for r in read_results(reference_run["out"] / "results.csv")]
    completed = [r for r in completed if r["Status"] == "COMPLETED"]
    row = min(completed, key=lambda r: float(r["Objective"]))
    assert best == {
        "Trial-ID": int(row["Trial-ID"]),
        "Iteration": int(row["Iteration"]),
        "param_a": int(row["param_a"]),
        "param_b": float(row["param_b"]),
        "Objective": float(row["Objective"]),
    }


def test_optimize_reference_verbose_logs_each_trial(
    reference_run: dict[str, Any],
    read_results: Callable[[Path], list[dict[str, str]]],
    open_store: Callable[[Path], Any],
) -> None:
    out = reference_run["out"]
    lines = reference_run["stderr"].splitlines()
    first, last, per_trial = lines[0], lines[-1], lines[1:-1]
    assert re.fullmatch(
        rf"\[sherpa INFO\] study out-\S+: output in {re.escape(str(out))}, "
        r"up to 2 trials at a time",
        first,
    ), first
    submitted = re.compile(
        r"\[sherpa INFO\] trial (\d+) submitted as job (\d+): param_a=(\d), param_b=(\S+)"
    )
    finished = re.compile(
        r"\[sherpa INFO\] trial (\d+) COMPLETED: objective (\S+) at iteration 10 "
        r"\[(\d+)/10 done, (?:0|1) running, 0 queued, best (\S+) \(trial (\d+)\)\]"
    )
    assert len(per_trial) == 20
    assert all(submitted.fullmatch(x) or finished.fullmatch(x) for x in per_trial), per_trial

    storage = open_store(out)
    trials = {t.number: t for t in storage.read_trials(storage.get_study().id)}
    submissions = [submitted.fullmatch(x) for x in per_trial if submitted.fullmatch(x)]
    assert [int(m[1]) for m in submissions] == list(range(1, 11))
    for m in submissions:
        trial = trials[int(m[1])]
        assert m[2] == trial.job_id
        assert (int(m[3]), float(m[4])) == (
            trial.parameters["param_a"],
            trial.parameters["param_b"],
        )

    finals = {
        int(r["Trial-ID"]): float(r["Objective"])
        for r in read_results(out / "results.csv")
        if r["Status"] == "COMPLETED"
    }
    endings = [finished.fullmatch(x) for x in per_trial if finished.fullmatch(x)]
    assert sorted(int(m[1]) for m in endings) == list(range(1, 11))
    assert [int(m[3]) for m in endings] == list(range(1, 11))  # progress N/10, in order
    best_so_far: tuple[float, int] | None = None
    for m in endings:
        number = int(m[1])
        assert m[2] == f"{finals[number]:.6g}"
        if best_so_far is None or finals[number] < best_so_far[0]:
            best_so_far = (finals[number], number)
        assert (m[4], int(m[5])) == (f"{best_so_far[0]:.6g}", best_so_far[1])
    # Each trial is logged as submitted before it is logged as finished.
    order = []
    for line in per_trial:
        match = submitted.fullmatch(line)
        order.append((int(match[1]), "s") if match else (int(finished.fullmatch(line)[1]), "f"))
    for number in range(1, 11):
        assert order.index((number, "s")) < order.index((number, "f"))

    assert best_so_far is not None
    assert last == (
        f"[sherpa INFO] done: 10 trials (10 completed); best {best_so_far[0]:.6g} "
        f"(trial {best_so_far[1]}); results in {out / 'results.csv'}"
    )


def test_optimize_verbose_zero_prints_nothing(tmp_path: Path) -> None:
    run = _run_reference(tmp_path, num_trials=3, verbose=0)
    assert run["returncode"] == 0, run["stderr"]
    assert run["stderr"] == ""
    assert len(json.loads(run["stdout"])) == 5  # only the best result, printed by the script


# The results table


TABLE_TRIAL = """\
import sherpa

client = sherpa.Client()
trial = client.get_trial()
for iteration, objective, context in trial.parameters["series"]:
    client.send_metrics(trial=trial, iteration=iteration, objective=objective, context=context)
"""

TABLE_CONFIGS = [
    {
        "zeta": 1,
        "Mid": "m",
        "alpha": 0.5,
        "series": [
            [1, 3.0, {"z_loss": 6.0, "a_acc": 0.1}],
            [2, 1.0, {"z_loss": 2.0, "a_acc": 0.2}],
            [3, 2.0, {"z_loss": 4.0, "a_acc": 0.3}],
        ],
    },
    {
        "zeta": 2,
        "Mid": "n",
        "alpha": 0.25,
        "series": [
            [1, 5.0, {"a_acc": 0.5}],
            [2, 7.0, {"a_acc": 0.7, "b_extra": "x"}],
        ],
    },
]


@pytest.mark.parametrize(
    ("lower_is_better", "expected_final"),
    [
        # trial id -> (iteration, objective, a_acc, b_extra, z_loss) of its final row
        (True, {1: (3, 1.0, "0.2", "", "2.0"), 2: (2, 5.0, "0.5", "", "")}),
        (False, {1: (3, 3.0, "0.1", "", "6.0"), 2: (2, 7.0, "0.7", "x", "")}),
    ],
    ids=["lower-is-better", "higher-is-better"],
)
def test_optimize_results_table_layout_value_by_value(
    write_script: Callable[..., Path],
    run_optimize: Callable[..., dict[str, Any]],
    read_results: Callable[[Path], list[dict[str, str]]],
    results_header: Callable[[Path], list[str]],
    tmp_path: Path,
    lower_is_better: bool,
    expected_final: dict[int, tuple[Any, ...]],
) -> None:
    trial = write_script(TABLE_TRIAL)
    parameters = [
        sherpa.Choice("zeta", [1, 2]),
        sherpa.Choice("Mid", ["m", "n"]),
        sherpa.Continuous("alpha", [0, 1]),
    ]
    best = run_optimize(
        parameters=parameters,
        algorithm=Iterate(TABLE_CONFIGS),
        lower_is_better=lower_is_better,
        filename=trial,
    )
    path = tmp_path / "out" / "results.csv"
    assert results_header(path) == [
        "Trial-ID",
        "Status",
        "Iteration",
        "Mid",
        "alpha",
        "series",
        "zeta",
        "Objective",
        "a_acc",
        "b_extra",
        "z_loss",
    ]
    rows = [
        (
            r["Trial-ID"],
            r["Status"],
            r["Iteration"],
            r["Mid"],
            r["alpha"],
            r["zeta"],
            r["Objective"],
            r["a_acc"],
            r["b_extra"],
            r["z_loss"],
        )
        for r in read_results(path)
    ]
    final = {
        k: (str(it), str(obj), acc, extra, loss)
        for k, (it, obj, acc, extra, loss) in expected_final.items()
    }
    assert rows == [
        ("1", "INTERMEDIATE", "1", "m", "0.5", "1", "3.0", "0.1", "", "6.0"),
        ("1", "INTERMEDIATE", "2", "m", "0.5", "1", "1.0", "0.2", "", "2.0"),
        ("1", "INTERMEDIATE", "3", "m", "0.5", "1", "2.0", "0.3", "", "4.0"),
        ("1", "COMPLETED", final[1][0], "m", "0.5", "1", *final[1][1:]),
        ("2", "INTERMEDIATE", "1", "n", "0.25", "2", "5.0", "0.5", "", ""),
        ("2", "INTERMEDIATE", "2", "n", "0.25", "2", "7.0", "0.7", "x", ""),
        ("2", "COMPLETED", final[2][0], "n", "0.25", "2", *final[2][1:]),
    ]
    winner = 1 if lower_is_better else 2
    assert best["Trial-ID"] == winner
    assert best["Objective"] == expected_final[winner][1]
    assert best["Iteration"] == expected_final[winner][0]


# Values


NUMPY_TRIAL = """\
import numpy as np

import sherpa

client = sherpa.Client()
trial = client.get_trial()
client.send_metrics(
    trial=trial,
    iteration=np.int64(1),
    objective=np.float32(0.1),
    context={
        "f64": np.float64(0.25),
        "i32": np.int32(-3),
        "flag": np.bool_(True),
        "vector": np.array([1.5, 2.5]),
        "nested": {"u8": np.uint8(7)},
    },
)
client.send_metrics(trial=trial, iteration=np.int32(2), objective=np.float64(0.05))
"""


def test_optimize_stores_numpy_values_as_plain_numbers(
    write_script: Callable[..., Path],
    run_optimize: Callable[..., dict[str, Any]],
    open_store: Callable[[Path], Any],
    read_results: Callable[[Path], list[dict[str, str]]],
    tmp_path: Path,
) -> None:
    import sqlite3

    best = run_optimize(
        parameters=[sherpa.Continuous("x", [0, 1])],
        algorithm=RandomSearch(max_num_trials=1, seed=0),
        filename=write_script(NUMPY_TRIAL),
    )
    out = tmp_path / "out"
    storage = open_store(out)
    observations = storage.read_observations(storage.get_study().id)
    assert [(o.iteration, o.objective) for o in observations] == [
        (1, 0.10000000149011612),  # float(np.float32(0.1))
        (2, 0.05),
    ]
    assert [type(o.objective) for o in observations] == [float, float]
    assert observations[0].context == {
        "f64": 0.25,
        "i32": -3,
        "flag": True,
        "vector": [1.5, 2.5],
        "nested": {"u8": 7},
    }
    assert type(observations[0].context["i32"]) is int
    assert type(observations[0].context["flag"]) is bool
    with sqlite3.connect(out / "sherpa.db") as conn:
        raw = conn.execute(
            "SELECT typeof(iteration), typeof(objective), context FROM sherpa_observations "
            "ORDER BY id"
        ).fetchall()
    assert raw == [
        (
            "integer",
            "real",
            '{"f64":0.25,"i32":-3,"flag":true,"vector":[1.5,2.5],"nested":{"u8":7}}',
        ),
        ("integer", "real", "{}"),
    ]
    final = [r for r in read_results(out / "results.csv") if r["Status"] == "COMPLETED"]
    assert [(r["Iteration"], r["Objective"]) for r in final] == [("2", "0.05")]
    assert best["Objective"] == 0.05
    assert type(best["Objective"]) is float and type(best["Iteration"]) is int


# The trial's environment


ENV_TRIAL = """\
import json
import os
import sys

import sherpa

names = ["SHERPA_TRIAL_ID", "SHERPA_OUTPUT_DIR", "SHERPA_DB_URL", "SHERPA_STUDY_ID",
         "SHERPA_RESOURCE", "UNRELATED"]
seen = {name: os.environ.get(name) for name in names}
seen["cwd"] = os.getcwd()
client = sherpa.Client()
trial = client.get_trial()
with open(os.path.join(os.environ["SHERPA_OUTPUT_DIR"], f"env_{trial.id}.json"), "w") as f:
    json.dump(seen, f)
client.send_metrics(trial=trial, iteration=1, objective=float(trial.id))
"""


def test_optimize_trial_sees_sherpa_environment(
    write_script: Callable[..., Path],
    run_optimize: Callable[..., dict[str, Any]],
    open_store: Callable[[Path], Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_script(ENV_TRIAL)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("UNRELATED", "kept")
    run_optimize(
        parameters=[sherpa.Continuous("x", [0, 1])],
        algorithm=RandomSearch(max_num_trials=2, seed=0),
        filename="trial.py",
        output_dir="relative/out",  # the trial must get it as an absolute path
        max_concurrent=2,
    )
    out = tmp_path / "relative" / "out"
    storage = open_store(out)
    study_id = storage.get_study().id
    for number in (1, 2):
        seen = json.loads((out / f"env_{number}.json").read_text())
        assert seen == {
            "SHERPA_TRIAL_ID": str(number),
            "SHERPA_OUTPUT_DIR": str(out),
            "SHERPA_DB_URL": f"sqlite:///{out / 'sherpa.db'}",
            "SHERPA_STUDY_ID": str(study_id),
            "SHERPA_RESOURCE": None,
            "UNRELATED": "kept",
            "cwd": str(tmp_path),
        }


def test_optimize_runner_variables_win_over_inherited_ones(
    write_script: Callable[..., Path],
    run_optimize: Callable[..., dict[str, Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHERPA_TRIAL_ID", "999")
    monkeypatch.setenv("SHERPA_STUDY_ID", "777")
    monkeypatch.setenv("SHERPA_OUTPUT_DIR", "/nonexistent")
    monkeypatch.setenv("SHERPA_DB_URL", "sqlite:////nonexistent/sherpa.db")
    best = run_optimize(
        parameters=[sherpa.Continuous("x", [0, 1])],
        algorithm=RandomSearch(max_num_trials=1, seed=0),
        filename=write_script(ENV_TRIAL),
    )
    out = tmp_path / "out"
    seen = json.loads((out / "env_1.json").read_text())
    assert seen["SHERPA_TRIAL_ID"] == "1"
    assert seen["SHERPA_STUDY_ID"] == "1"
    assert seen["SHERPA_OUTPUT_DIR"] == str(out)
    assert seen["SHERPA_DB_URL"] == f"sqlite:///{out / 'sherpa.db'}"
    assert best["Trial-ID"] == 1 and best["Objective"] == 1.0


# Commands and paths


ARGV_TRIAL = """\
import json
import os
import sys

import sherpa

client = sherpa.Client()
trial = client.get_trial()
with open(os.path.join(os.environ["SHERPA_OUTPUT_DIR"], "argv.json"), "w") as f:
    json.dump(sys.argv[1:], f)
client.send_metrics(trial=trial, iteration=1, objective=1.0)
"""


def test_optimize_command_string_keeps_quoted_argument(
    write_script: Callable[..., Path],
    run_optimize: Callable[..., dict[str, Any]],
    tmp_path: Path,
) -> None:
    trial = write_script(ARGV_TRIAL, directory=tmp_path / "dir with space")
    command = (
        f"{shlex.quote(sys.executable)} {shlex.quote(str(trial))} "
        "--tag \"hello world\" 'it''s' plain"
    )
    best = run_optimize(
        parameters=[sherpa.Continuous("x", [0, 1])],
        algorithm=RandomSearch(max_num_trials=1, seed=0),
        command=command,
    )
    argv = json.loads((tmp_path / "out" / "argv.json").read_text())
    assert argv == ["--tag", "hello world", "its", "plain"]
    assert best["Trial-ID"] == 1


def test_optimize_command_list_is_passed_without_a_shell(
    write_script: Callable[..., Path],
    run_optimize: Callable[..., dict[str, Any]],
    tmp_path: Path,
) -> None:
    trial = write_script(ARGV_TRIAL)
    run_optimize(
        parameters=[sherpa.Continuous("x", [0, 1])],
        algorithm=RandomSearch(max_num_trials=1, seed=0),
        command=[sys.executable, str(trial), "$(echo hi)", "a b", "*"],
    )
    argv = json.loads((tmp_path / "out" / "argv.json").read_text())
    assert argv == ["$(echo hi)", "a b", "*"]


ONE_METRIC_TRIAL = """\
import sherpa

client = sherpa.Client()
trial = client.get_trial()
client.send_metrics(trial=trial, iteration=1, objective=trial.parameters["x"])
"""


@pytest.mark.parametrize(
    "name",
    [
        # each is special in a URL or in SQLite's URI syntax, so the store path must be quoted
        "with space",
        "hash#mark",
        "question?mark",
        "percent%20sign",
    ],
)
def test_optimize_output_dir_with_special_characters(
    write_script: Callable[..., Path],
    run_optimize: Callable[..., dict[str, Any]],
    read_results: Callable[[Path], list[dict[str, str]]],
    tmp_path: Path,
    name: str,
) -> None:
    out = tmp_path / "parent dir" / name
    best = run_optimize(
        parameters=[sherpa.Continuous("x", [0, 1])],
        algorithm=Iterate([{"x": 0.5}, {"x": 0.25}]),
        filename=write_script(ONE_METRIC_TRIAL),
        output_dir=out,
    )
    assert sorted(p.name for p in (tmp_path / "parent dir").iterdir()) == [name]
    assert sorted(p.name for p in out.iterdir()) == ["jobs", "results.csv", "sherpa.db"]
    assert sorted(p.name for p in (out / "jobs").iterdir()) == ["trial_1.out", "trial_2.out"]
    finals = [(r["Trial-ID"], r["Status"]) for r in read_results(out / "results.csv")]
    assert finals == [
        ("1", "INTERMEDIATE"),
        ("1", "COMPLETED"),
        ("2", "INTERMEDIATE"),
        ("2", "COMPLETED"),
    ]
    assert best["Trial-ID"] == 2 and best["Objective"] == 0.25


# Promptness


QUICK_TRIAL = """\
import os
import time


def mark(event):
    with open(os.path.join(os.environ["SHERPA_OUTPUT_DIR"], "spans.txt"), "a") as spans:
        spans.write(f"{event} {os.environ['SHERPA_TRIAL_ID']} {time.time()!r}\\n")


mark("start")
import sherpa

client = sherpa.Client()
trial = client.get_trial()
client.send_metrics(trial=trial, iteration=1, objective=float(trial.id))
mark("end")
"""


def test_optimize_notices_finished_trials_promptly(
    write_script: Callable[..., Path],
    run_optimize: Callable[..., dict[str, Any]],
    spans: Callable[[Path], dict[int, dict[str, Any]]],
    tmp_path: Path,
) -> None:
    started = time.monotonic()
    best = run_optimize(
        parameters=[sherpa.Continuous("x", [0, 1])],
        algorithm=RandomSearch(max_num_trials=20, seed=0),
        filename=write_script(QUICK_TRIAL),
        max_concurrent=1,
    )
    elapsed = time.monotonic() - started
    assert best["Trial-ID"] == 1
    logged = spans(tmp_path / "out" / "spans.txt")
    assert sorted(logged) == list(range(1, 21))
    # From a trial's last line to the next trial's first line: the process exit, the runner
    # noticing it, and the next process starting. Generous bounds: this is no benchmark.
    gaps = [logged[n + 1]["start"] - logged[n]["end"] for n in range(1, 20)]
    assert all(gap > 0 for gap in gaps)
    assert statistics.median(gaps) < 0.5, gaps
    assert elapsed < 20 * 0.5, elapsed


# Arguments


@pytest.mark.parametrize(
    ("overrides", "error", "match"),
    [
        (
            {"command": "python x.py", "filename": "trial.py"},
            ValueError,
            r"give exactly one of command and filename; got command='python x\.py', "
            r"filename='trial\.py'",
        ),
        (
            {},
            ValueError,
            r"give exactly one of command and filename; got command=None, filename=None",
        ),
        ({"filename": "missing.py"}, ValueError, r"filename 'missing\.py' is not a file"),
        ({"filename": "."}, ValueError, r"filename '\.' is not a file"),
        (
            {"filename": "trial.py", "max_concurrent": 0},
            ValueError,
            r"max_concurrent must be at least 1; got 0",
        ),
        (
            {"filename": "trial.py", "max_concurrent": 2.0},
            TypeError,
            r"max_concurrent must be an int; got 2\.0",
        ),
        ({"filename": "trial.py", "load": True}, ValueError, r"load=True .* not supported"),
        ({"command": ""}, ValueError, r"command must not be empty; got ''"),
        ({"command": "python 'unbalanced"}, ValueError, r"command cannot be split"),
        ({"command": ["python", 3]}, TypeError, r"command must be a string or a list"),
        (
            {"filename": "trial.py", "verbose": -1},
            ValueError,
            r"verbose must be 0 \(warnings only\) or 1",
        ),
        (
            {"filename": "trial.py", "scheduler": "local"},
            TypeError,
            r"scheduler must be a sherpa\.schedulers\.Scheduler; got 'local'",
        ),
        (
            {"filename": "trial.py", "scheduler": sherpa.schedulers.LocalScheduler},
            TypeError,
            r"scheduler must be an instance of .* the class LocalScheduler \(did you mean",
        ),
        (
            {"filename": "trial.py", "algorithm": RandomSearch},
            TypeError,
            r"algorithm must be an instance of .* the class RandomSearch",
        ),
        (
            {"filename": "trial.py", "output_dir": "trial.py"},
            ValueError,
            r"output_dir 'trial.py' exists and is not a directory",
        ),
        (
            {"filename": "trial.py", "resubmit_failed_trials": "False"},
            TypeError,
            r"resubmit_failed_trials must be True or False; got 'False' \(str\)",
        ),
    ],
    ids=[
        "command-and-filename",
        "neither",
        "missing-file",
        "directory-as-file",
        "max_concurrent-0",
        "max_concurrent-float",
        "load",
        "empty-command",
        "unsplittable-command",
        "non-string-argv",
        "negative-verbose",
        "not-a-scheduler",
        "scheduler-class",
        "algorithm-class",
        "output_dir-is-a-file",
        "resubmit-string",
    ],
)
def test_optimize_rejects_bad_argument_before_running(
    write_script: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    overrides: dict[str, Any],
    error: type[Exception],
    match: str,
) -> None:
    write_script(ONE_METRIC_TRIAL)
    monkeypatch.chdir(tmp_path)
    arguments: dict[str, Any] = {
        "parameters": [sherpa.Continuous("x", [0, 1])],
        "algorithm": RandomSearch(max_num_trials=1),
        "lower_is_better": True,
        "scheduler": sherpa.schedulers.LocalScheduler(),
        "output_dir": "out",
        "verbose": 0,
        "disable_dashboard": True,
        **overrides,
    }
    with pytest.raises(error, match=match):
        sherpa.optimize(**arguments)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("overrides", "error", "match"),
    [
        (
            {"lower_is_better": "yes"},
            TypeError,
            r"lower_is_better must be True or False; got 'yes'",
        ),
        (
            {"stopping_rule": "median"},
            TypeError,
            r"stopping_rule must be a sherpa.algorithms.StoppingRule",
        ),
        ({"algorithm": "random"}, TypeError, r"algorithm must be a sherpa\.algorithms"),
    ],
    ids=["lower_is_better", "stopping_rule", "algorithm"],
)
def test_optimize_rejects_bad_study_argument_before_creating_output(
    write_script: Callable[..., Path],
    run_optimize: Callable[..., dict[str, Any]],
    tmp_path: Path,
    overrides: dict[str, Any],
    error: type[Exception],
    match: str,
) -> None:
    # optimize checks the study's arguments before it creates the output directory.
    arguments: dict[str, Any] = {
        "parameters": [sherpa.Continuous("x", [0, 1])],
        "algorithm": RandomSearch(max_num_trials=1),
        "filename": write_script(ONE_METRIC_TRIAL),
        **overrides,
    }
    with pytest.raises(error, match=match):
        run_optimize(**arguments)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("overrides", "warning"),
    [
        (
            {"mongodb_args": {"port": 27017}},
            "[sherpa WARNING] mongodb_args={'port': 27017} is ignored: sherpa stores trials "
            "in SQL\n",
        ),
        ({"mongodb_args": {}}, ""),
        (
            {"db_port": 27001},
            "[sherpa WARNING] db_port=27001 is ignored: the SQLite store needs no port\n",
        ),
        ({"dashboard_port": 8880}, ""),
    ],
    ids=["mongodb_args", "empty-mongodb_args", "db_port", "dashboard_port"],
)
def test_optimize_warns_about_ignored_compatibility_arguments(
    write_script: Callable[..., Path],
    run_optimize: Callable[..., dict[str, Any]],
    capfd: pytest.CaptureFixture[str],
    overrides: dict[str, Any],
    warning: str,
) -> None:
    best = run_optimize(
        parameters=[sherpa.Continuous("x", [0, 1])],
        algorithm=Iterate([{"x": 0.5}]),
        filename=write_script(ONE_METRIC_TRIAL),
        **overrides,
    )
    assert best["Objective"] == 0.5
    assert capfd.readouterr().err == warning


def test_optimize_warns_before_replacing_an_earlier_run(
    write_script: Callable[..., Path],
    run_optimize: Callable[..., dict[str, Any]],
    capfd: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    kwargs: dict[str, Any] = {
        "parameters": [sherpa.Continuous("x", [0, 1])],
        "filename": write_script(ONE_METRIC_TRIAL),
    }
    run_optimize(algorithm=Iterate([{"x": 0.5}]), **kwargs)
    assert capfd.readouterr().err == ""
    best = run_optimize(algorithm=Iterate([{"x": 0.25}]), **kwargs)
    assert best["Objective"] == 0.25
    out = (tmp_path / "out").resolve()
    assert capfd.readouterr().err == (
        f"[sherpa WARNING] output_dir {out} holds an earlier run; its results.csv will be "
        "replaced (the earlier study stays in sherpa.db, and its job logs stay in jobs/)\n"
    )
    assert len(SQLStorage(sqlite_url(out / "sherpa.db")).list_studies()) == 2


# Stopping


class StopAfterFirstObservation(StoppingRule):
    """Stops every trial but the first once it has reported one observation."""

    def __init__(self) -> None:
        self.asked: list[int] = []

    def should_trial_stop(self, trial: sherpa.Trial, results: Any, lower_is_better: bool) -> bool:
        self.asked.append(trial.id)
        return trial.id > 1 and int((results["Trial-ID"] == trial.id).sum()) >= 1


LONG_TRIAL = """\
import os
import time

import sherpa

client = sherpa.Client()
trial = client.get_trial()
with open(os.path.join(os.environ["SHERPA_OUTPUT_DIR"], f"pid_{trial.id}"), "w") as f:
    f.write(str(os.getpid()))
steps = 3 if trial.id == 1 else 1000
for i in range(1, steps + 1):
    client.send_metrics(trial=trial, iteration=i, objective=10.0 * trial.id + i)
    time.sleep(0.02)
"""


def test_optimize_stopping_rule_kills_trials_and_records_them_stopped(
    write_script: Callable[..., Path],
    run_optimize: Callable[..., dict[str, Any]],
    read_results: Callable[[Path], list[dict[str, str]]],
    final_rows: Callable[[list[dict[str, str]]], dict[int, dict[str, str]]],
    open_store: Callable[[Path], Any],
    pid_alive: Callable[[int], bool],
    reap_pids: list[int],
    capfd: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    rule = StopAfterFirstObservation()
    started = time.monotonic()
    best = run_optimize(
        parameters=[sherpa.Continuous("x", [0, 1])],
        algorithm=RandomSearch(max_num_trials=3, seed=0),
        filename=write_script(LONG_TRIAL),
        stopping_rule=rule,
        max_concurrent=3,
        verbose=1,
    )
    elapsed = time.monotonic() - started
    out = tmp_path / "out"
    pids = {n: int((out / f"pid_{n}").read_text()) for n in (1, 2, 3)}
    reap_pids.extend(pids.values())
    assert elapsed < 15  # unstopped, trials 2 and 3 would run for 20 s or more
    assert not any(pid_alive(pid) for pid in pids.values())
    rows = read_results(out / "results.csv")
    finals = final_rows(rows)
    assert {n: r["Status"] for n, r in finals.items()} == {
        1: "COMPLETED",
        2: "STOPPED",
        3: "STOPPED",
    }
    assert (finals[1]["Iteration"], finals[1]["Objective"]) == ("3", "11.0")
    for number in (2, 3):
        mine = [r for r in rows if r["Trial-ID"] == str(number) and r["Status"] == "INTERMEDIATE"]
        assert 1 <= len(mine) < 1000
        assert finals[number]["Objective"] == f"{10.0 * number + 1}"  # its best: iteration 1
        assert finals[number]["Iteration"] == str(max(int(r["Iteration"]) for r in mine))
    storage = open_store(out)
    statuses = [t.status.value for t in storage.read_trials(storage.get_study().id)]
    assert statuses == ["COMPLETED", "STOPPED", "STOPPED"]
    assert best["Trial-ID"] == 1 and best["Objective"] == 11.0
    assert {2, 3} <= set(rule.asked)
    err = capfd.readouterr().err
    for number in (2, 3):
        assert re.search(rf"\[sherpa INFO\] trial {number}: stopping \(job {pids[number]}\)", err)
        assert re.search(rf"\[sherpa INFO\] trial {number} STOPPED: objective ", err)


def test_optimize_stopping_rule_error_propagates_after_cleanup(
    write_script: Callable[..., Path],
    run_optimize: Callable[..., dict[str, Any]],
    read_results: Callable[[Path], list[dict[str, str]]],
    pid_alive: Callable[[int], bool],
    reap_pids: list[int],
    tmp_path: Path,
) -> None:
    class Broken(StoppingRule):
        def should_trial_stop(self, trial: sherpa.Trial, results: Any, lib: bool) -> bool:
            raise RuntimeError("rule broke")

    with pytest.raises(RuntimeError, match="rule broke"):
        run_optimize(
            parameters=[sherpa.Continuous("x", [0, 1])],
            algorithm=Iterate([{"x": 0.5}, {"x": 0.5}]),
            filename=write_script(LONG_TRIAL),
            stopping_rule=Broken(),
            max_concurrent=2,
        )
    out = tmp_path / "out"
    reap_pids.extend(
        int((out / f"pid_{n}").read_text()) for n in (1, 2) if (out / f"pid_{n}").exists()
    )
    # The run still cleans up: its trials are ended and recorded, results.csv is written.
    assert not any(pid_alive(pid) for pid in reap_pids)
    finals = {r["Trial-ID"]: r["Status"] for r in read_results(out / "results.csv")}
    assert finals["2"] == "STOPPED"


def test_optimize_returns_empty_best_when_nothing_completes(
    write_script: Callable[..., Path],
    run_optimize: Callable[..., dict[str, Any]],
) -> None:
    trial = write_script("import sys\nsys.exit(3)\n")
    best = run_optimize(
        parameters=[sherpa.Continuous("x", [0, 1])],
        algorithm=RandomSearch(max_num_trials=1, seed=0),
        filename=trial,
    )
    assert best == {}


def test_optimize_accepts_numpy_max_concurrent(
    write_script: Callable[..., Path],
    run_optimize: Callable[..., dict[str, Any]],
) -> None:
    import numpy as np

    best = run_optimize(
        parameters=[sherpa.Continuous("x", [0, 1])],
        algorithm=Iterate([{"x": 0.75}, {"x": 0.5}]),
        filename=write_script(ONE_METRIC_TRIAL),
        max_concurrent=np.int64(2),
    )
    assert best["Objective"] == 0.5


def test_optimize_runs_sharing_an_output_dir_keep_their_job_files_apart(
    write_script: Callable[..., Path],
    run_optimize: Callable[..., dict[str, Any]],
    tmp_path: Path,
) -> None:
    out = tmp_path / "shared"
    trial = write_script(
        "import sherpa\n"
        "client = sherpa.Client()\n"
        "trial = client.get_trial()\n"
        "print('run', trial.parameters['run'])\n"
        "client.send_metrics(trial=trial, iteration=1, objective=trial.parameters['run'])\n"
    )
    for run in (1.0, 2.0):
        run_optimize(
            parameters=[sherpa.Continuous("run", [0, 10])],
            algorithm=Iterate([{"run": run}]),
            filename=trial,
            output_dir=out,
        )

    jobs = out / "jobs"
    assert sorted(p.name for p in jobs.iterdir()) == ["study2_trial_1.out", "trial_1.out"]
    assert (jobs / "trial_1.out").read_text() == "run 1.0\n"
    assert (jobs / "study2_trial_1.out").read_text() == "run 2.0\n"


LEADER_TRIAL = """
import os, time
import sherpa

client = sherpa.Client()
trial = client.get_trial()
x = trial.parameters["x"]
if x > 5:  # a bad trial that runs ahead, then computes a long epoch
    for i in (1, 2, 3):
        client.send_metrics(trial=trial, iteration=i, objective=x)
    open(os.path.join(os.environ["SHERPA_OUTPUT_DIR"], "leader_waits"), "w").close()
    time.sleep(60)
    client.send_metrics(trial=trial, iteration=4, objective=x)
else:  # a good one that catches up once the leader waits
    while not os.path.exists(os.path.join(os.environ["SHERPA_OUTPUT_DIR"], "leader_waits")):
        time.sleep(0.02)
    for i in (1, 2, 3):
        client.send_metrics(trial=trial, iteration=i, objective=x)
        time.sleep(0.1)
"""


def test_a_waiting_trial_is_judged_again_when_another_reaches_its_iteration(
    write_script: Callable[..., Path],
    run_optimize: Callable[..., dict[str, Any]],
    read_results: Callable[[Path], list[dict[str, str]]],
    final_rows: Callable[[list[dict[str, str]]], dict[int, dict[str, str]]],
    tmp_path: Path,
) -> None:
    # The median rule compares trial 1 at iteration 3 only once trial 2 has reached it; by
    # then trial 1 reports nothing for a minute, so only a second look can stop it.
    started = time.monotonic()
    run_optimize(
        parameters=[sherpa.Choice("x", [1, 10])],
        algorithm=sherpa.algorithms.Iterate([{"x": 10}, {"x": 1}]),
        filename=write_script(LEADER_TRIAL),
        stopping_rule=sherpa.algorithms.MedianStoppingRule(min_iterations=1, min_trials=1),
        max_concurrent=2,
    )
    assert time.monotonic() - started < 30
    finals = final_rows(read_results(tmp_path / "out" / "results.csv"))
    assert {n: r["Status"] for n, r in finals.items()} == {1: "STOPPED", 2: "COMPLETED"}
