"""Trials that fail: recorded FAILED with a warning, their metrics kept, resubmitted once."""

from __future__ import annotations

import itertools
import math
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import sherpa
from sherpa.algorithms import Iterate, RandomSearch
from sherpa.runner import _optimize
from sherpa.schedulers import JobSubmissionError, SchedulerUnusableError

RAISING_TRIAL = """\
import sherpa

client = sherpa.Client()
trial = client.get_trial()
for i in range(1, 4):
    client.send_metrics(trial=trial, iteration=i, objective=[5.0, 2.0, 3.0][i - 1],
                        context={"step": i})
raise RuntimeError("boom in trial %d" % trial.id)
"""


def test_optimize_raising_trial_is_failed_with_its_metrics_kept(
    write_script: Callable[..., Path],
    run_optimize: Callable[..., dict[str, Any]],
    read_results: Callable[[Path], list[dict[str, str]]],
    open_store: Callable[[Path], Any],
    capfd: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    best = run_optimize(
        parameters=[sherpa.Continuous("x", [0, 1])],
        algorithm=Iterate([{"x": 0.5}]),
        filename=write_script(RAISING_TRIAL),
    )
    out = tmp_path / "out"
    log = out / "jobs" / "trial_1.out"
    assert capfd.readouterr().err == (
        "[sherpa WARNING] trial 1 failed (exit code 1): RuntimeError: boom in trial 1; "
        f"its log: {log}\n"
    )
    assert "RuntimeError: boom in trial 1" in log.read_text()
    rows = [
        (r["Status"], r["Iteration"], r["Objective"], r["step"])
        for r in read_results(out / "results.csv")
    ]
    assert rows == [
        ("INTERMEDIATE", "1", "5.0", "1"),
        ("INTERMEDIATE", "2", "2.0", "2"),
        ("INTERMEDIATE", "3", "3.0", "3"),
        ("FAILED", "3", "2.0", "2"),  # the best observation's objective and context
    ]
    storage = open_store(out)
    study = storage.get_study()
    assert [t.status.value for t in storage.read_trials(study.id)] == ["FAILED"]
    assert [o.objective for o in storage.read_observations(study.id)] == [5.0, 2.0, 3.0]
    assert best == {}  # a failed trial is never the best result


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("import sherpa\nsherpa.Client().get_trial()\n", "sent no metrics"),
        ("pass\n", "sent no metrics"),
        ("import sys\nsys.exit(7)\n", "failed (exit code 7)"),
        ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n", "failed (exit code -9)"),
    ],
    ids=["client-only", "empty", "exit-7", "sigkill"],
)
def test_optimize_trial_without_metrics_is_failed_with_a_warning(
    write_script: Callable[..., Path],
    run_optimize: Callable[..., dict[str, Any]],
    read_results: Callable[[Path], list[dict[str, str]]],
    capfd: pytest.CaptureFixture[str],
    tmp_path: Path,
    body: str,
    reason: str,
) -> None:
    best = run_optimize(
        parameters=[sherpa.Continuous("x", [0, 1])],
        algorithm=Iterate([{"x": 0.5}]),
        filename=write_script(body),
    )
    out = tmp_path / "out"
    assert capfd.readouterr().err == (
        f"[sherpa WARNING] trial 1 {reason}; its log: {out / 'jobs' / 'trial_1.out'}\n"
    )
    rows = read_results(out / "results.csv")
    assert [(r["Trial-ID"], r["Status"], r["Iteration"]) for r in rows] == [("1", "FAILED", "0")]
    assert math.isnan(float(rows[0]["Objective"] or "nan"))
    assert best == {}


FLAKY_TRIAL = """\
import os
import sherpa

client = sherpa.Client()
trial = client.get_trial()
marker = os.path.join(os.environ["SHERPA_OUTPUT_DIR"], "seen_x_%s" % trial.parameters["x"])
first_attempt = not os.path.exists(marker)
open(marker, "a").close()
if trial.parameters["fail"] == "always" or (trial.parameters["fail"] == "once" and first_attempt):
    client.send_metrics(trial=trial, iteration=1, objective=100.0)
    raise SystemExit(2)
client.send_metrics(trial=trial, iteration=1, objective=trial.parameters["x"])
"""


@pytest.mark.parametrize(
    ("resubmit", "configs", "expected"),
    [
        (
            True,
            [("never", 1.0), ("always", 2.0), ("never", 3.0)],
            [(1, 1.0, "COMPLETED"), (2, 2.0, "FAILED"), (3, 2.0, "FAILED"), (4, 3.0, "COMPLETED")],
        ),
        (
            True,
            [("once", 1.0), ("never", 2.0)],
            [(1, 1.0, "FAILED"), (2, 1.0, "COMPLETED"), (3, 2.0, "COMPLETED")],
        ),
        (
            False,
            [("never", 1.0), ("always", 2.0), ("never", 3.0)],
            [(1, 1.0, "COMPLETED"), (2, 2.0, "FAILED"), (3, 3.0, "COMPLETED")],
        ),
    ],
    ids=["fails-always", "fails-once", "no-resubmit"],
)
def test_optimize_resubmits_a_failed_configuration_exactly_once(
    write_script: Callable[..., Path],
    run_optimize: Callable[..., dict[str, Any]],
    read_results: Callable[[Path], list[dict[str, str]]],
    final_rows: Callable[[list[dict[str, str]]], dict[int, dict[str, str]]],
    open_store: Callable[[Path], Any],
    tmp_path: Path,
    resubmit: bool,
    configs: list[tuple[str, float]],
    expected: list[tuple[int, float, str]],
) -> None:
    best = run_optimize(
        parameters=[sherpa.Continuous("x", [0, 10]), sherpa.Choice("fail", ["never"])],
        algorithm=Iterate([{"fail": fail, "x": x} for fail, x in configs]),
        filename=write_script(FLAKY_TRIAL),
        resubmit_failed_trials=resubmit,
    )
    out = tmp_path / "out"
    finals = final_rows(read_results(out / "results.csv"))
    got = [(n, float(r["x"]), r["Status"]) for n, r in sorted(finals.items())]
    assert got == expected
    storage = open_store(out)
    trials = storage.read_trials(storage.get_study().id)
    assert [(t.number, t.parameters["x"], t.status.value) for t in trials] == expected
    assert best["x"] == 1.0 and best["Objective"] == 1.0


def test_optimize_resubmission_does_not_count_against_max_num_trials(
    write_script: Callable[..., Path],
    run_optimize: Callable[..., dict[str, Any]],
    open_store: Callable[[Path], Any],
    capfd: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    algorithm = RandomSearch(max_num_trials=3, seed=0)
    run_optimize(
        parameters=[sherpa.Continuous("x", [0, 1]), sherpa.Choice("fail", ["always"])],
        algorithm=algorithm,
        filename=write_script(FLAKY_TRIAL),
        resubmit_failed_trials=True,
        max_concurrent=2,
    )
    storage = open_store(tmp_path / "out")
    trials = storage.read_trials(storage.get_study().id)
    assert len(trials) == 6
    assert {t.status.value for t in trials} == {"FAILED"}
    configurations = [t.parameters["x"] for t in trials]
    assert len(set(configurations)) == 3
    assert all(configurations.count(x) == 2 for x in configurations)
    assert algorithm.num_suggested == 3
    err = capfd.readouterr().err
    assert len(re.findall(r"\[sherpa WARNING\] trial \d+ failed \(exit code 2\)", err)) == 6


def test_optimize_verbose_zero_logs_only_warnings_when_resubmitting(
    write_script: Callable[..., Path],
    run_optimize: Callable[..., dict[str, Any]],
    capfd: pytest.CaptureFixture[str],
) -> None:
    run_optimize(
        parameters=[sherpa.Continuous("x", [0, 10]), sherpa.Choice("fail", ["never"])],
        algorithm=Iterate([{"fail": "once", "x": 1.0}]),
        filename=write_script(FLAKY_TRIAL),
        resubmit_failed_trials=True,
        verbose=0,
    )
    lines = capfd.readouterr().err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("[sherpa WARNING] trial 1 failed (exit code 2); its log: ")


@pytest.mark.parametrize(
    ("make_algorithm", "fail", "resubmit", "trials"),
    [
        pytest.param(
            lambda: RandomSearch(max_num_trials=3, seed=0), "always", True, 6, id="resubmitted"
        ),
        pytest.param(
            lambda: RandomSearch(max_num_trials=2, repeat=2, seed=0),
            "never",
            False,
            4,
            id="repeat",
        ),
    ],
)
def test_optimize_verbose_progress_never_exceeds_its_total(
    write_script: Callable[..., Path],
    run_optimize: Callable[..., dict[str, Any]],
    capfd: pytest.CaptureFixture[str],
    make_algorithm: Callable[[], RandomSearch],
    fail: str,
    resubmit: bool,
    trials: int,
) -> None:
    # Product rough edge: the progress "N/total done" takes max_num_trials as the total, but
    # resubmitted trials and RandomSearch's repeats come on top, so it ends at "6/3 done" or
    # "4/2 done" (runner/_optimize.py, _Runner.total and _log_finished).
    run_optimize(
        parameters=[sherpa.Continuous("x", [0, 1]), sherpa.Choice("fail", [fail])],
        algorithm=make_algorithm(),
        filename=write_script(FLAKY_TRIAL),
        resubmit_failed_trials=resubmit,
        verbose=1,
    )
    progress = re.findall(r"\[(\d+)/(\d+) done", capfd.readouterr().err)
    assert [int(done) for done, _ in progress] == list(range(1, trials + 1))
    assert all(int(done) <= int(total) for done, total in progress), progress


GOOD_TRIAL = """\
import sherpa

client = sherpa.Client()
trial = client.get_trial()
client.send_metrics(trial=trial, iteration=1, objective=trial.parameters["x"])
"""


class RejectingScheduler(sherpa.schedulers.LocalScheduler):
    """A batch system that rejects the first ``rejections`` jobs (None: every job)."""

    def __init__(self, rejections: int | None) -> None:
        super().__init__()
        self.rejections = rejections
        self.attempts: list[float] = []

    def submit_job(self, command: Any, env: Any = None, job_name: str = "") -> str:
        self.attempts.append(time.monotonic())
        if self.rejections is None or len(self.attempts) <= self.rejections:
            raise JobSubmissionError("rejected: partition down")
        return super().submit_job(command, env, job_name)


def test_optimize_pauses_after_failed_submissions_and_goes_on_once_one_succeeds(
    write_script: Callable[..., Path],
    run_optimize: Callable[..., dict[str, Any]],
    open_store: Callable[[Path], Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setattr(_optimize, "SUBMISSION_RETRY_S", (0.0, 0.3, 0.6, 0.6))
    scheduler = RejectingScheduler(rejections=3)
    run_optimize(
        parameters=[sherpa.Continuous("x", [0, 1])],
        algorithm=RandomSearch(max_num_trials=5, seed=0),
        filename=write_script(GOOD_TRIAL),
        scheduler=scheduler,
    )
    gaps = [b - a for a, b in itertools.pairwise(scheduler.attempts)]
    assert len(gaps) == 4  # three rejected, then two accepted with no pause in between
    assert gaps[1] >= 0.3 and gaps[2] >= 0.6
    storage = open_store(tmp_path / "out")
    statuses = [t.status.value for t in storage.read_trials(storage.get_study().id)]
    assert statuses == ["FAILED"] * 3 + ["COMPLETED"] * 2


def test_optimize_stops_when_submissions_keep_failing(
    write_script: Callable[..., Path],
    run_optimize: Callable[..., dict[str, Any]],
    open_store: Callable[[Path], Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # An algorithm without an end and a batch system that rejects every job: the run must
    # end, not fail trials forever.
    monkeypatch.setattr(_optimize, "SUBMISSION_RETRY_S", (0.0, 0.05, 0.05))
    with pytest.raises(
        SchedulerUnusableError,
        match=r"^4 trials in a row could not be submitted; the last: rejected: partition down$",
    ):
        run_optimize(
            parameters=[sherpa.Continuous("x", [0, 1])],
            algorithm=RandomSearch(seed=0),
            filename=write_script(GOOD_TRIAL),
            scheduler=RejectingScheduler(rejections=None),
        )
    storage = open_store(tmp_path / "out")
    statuses = [t.status.value for t in storage.read_trials(storage.get_study().id)]
    assert statuses == ["FAILED"] * 4
    assert (tmp_path / "out" / "results.csv").is_file()


def test_optimize_with_a_missing_local_program_ends_at_once(
    run_optimize: Callable[..., dict[str, Any]],
    open_store: Callable[[Path], Any],
    tmp_path: Path,
) -> None:
    started = time.monotonic()
    with pytest.raises(SchedulerUnusableError, match=r"cannot start \['sherpa-no-such-program"):
        run_optimize(
            parameters=[sherpa.Continuous("x", [0, 1])],
            algorithm=RandomSearch(max_num_trials=20, seed=0),
            command="sherpa-no-such-program --flag",
        )
    assert time.monotonic() - started < 30  # not the back-off meant for busy batch queues
    storage = open_store(tmp_path / "out")
    statuses = [t.status.value for t in storage.read_trials(storage.get_study().id)]
    assert statuses == ["FAILED"]
