"""Interrupting a run: SIGINT or SIGTERM to the runner stops the trials and keeps the results."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import sherpa
from sherpa.algorithms import Iterate

SLOW_TRIAL = """\
import os
import signal
import time

import sherpa

if os.environ.get("IGNORE_SIGTERM"):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
client = sherpa.Client()
trial = client.get_trial()
with open(os.path.join(os.environ["SHERPA_OUTPUT_DIR"], f"pid_{trial.id}"), "w") as f:
    f.write(str(os.getpid()))
for i in range(1, 2001):
    client.send_metrics(trial=trial, iteration=i, objective=1.0 / i + trial.id)
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
    # the grace period only matters for trials that ignore SIGTERM
    scheduler=sherpa.schedulers.LocalScheduler(kill_grace_period=1.0),
    max_concurrent=2,
    verbose=0,
    disable_dashboard=True,
)
"""


@pytest.mark.parametrize(
    ("signum", "returncode", "ignore_sigterm"),
    [
        pytest.param(signal.SIGINT, -signal.SIGINT, False, id="sigint"),
        pytest.param(signal.SIGTERM, 128 + signal.SIGTERM, False, id="sigterm"),
        # trials that ignore SIGTERM must be SIGKILLed after the grace period
        pytest.param(signal.SIGTERM, 128 + signal.SIGTERM, True, id="sigterm-stubborn-trials"),
    ],
)
def test_optimize_signal_stops_trials_and_saves_results(
    write_script: Callable[..., Path],
    read_results: Callable[[Path], list[dict[str, str]]],
    final_rows: Callable[[list[dict[str, str]]], dict[int, dict[str, str]]],
    open_store: Callable[[Path], Any],
    clean_env: Callable[..., dict[str, str]],
    pid_alive: Callable[[int], bool],
    wait_for: Callable[..., None],
    reap_pids: list[int],
    tmp_path: Path,
    signum: int,
    returncode: int,
    ignore_sigterm: bool,
) -> None:
    write_script(SLOW_TRIAL)
    runner = write_script(RUNNER, name="runner.py")
    env = clean_env(**({"IGNORE_SIGTERM": "1"} if ignore_sigterm else {}))
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, str(runner)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(
            lambda: all(
                (out / f"pid_{n}").is_file() and (out / f"pid_{n}").read_text().strip()
                for n in (1, 2)
            ),
            what="both trials to start",
        )
        pids = {n: int((out / f"pid_{n}").read_text()) for n in (1, 2)}
        reap_pids.extend(pids.values())
        storage = open_store(out)
        study_id = storage.get_study().id
        wait_for(
            lambda: {o.trial_number for o in storage.read_observations(study_id)} == {1, 2},
            what="both trials to report",
        )
        sent = time.monotonic()
        process.send_signal(signum)
        _, err = process.communicate(timeout=30)
        exited_after = time.monotonic() - sent
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == returncode, err
    # generous bounds: the 2-core CI machine may be busy; the grace period alone is 1 s
    assert exited_after < (8.0 if ignore_sigterm else 5.0), exited_after
    assert not any(pid_alive(pid) for pid in pids.values())
    assert not (out / "pid_3").exists()  # nothing new was started after the signal

    rows = read_results(out / "results.csv")
    finals = final_rows(rows)
    assert {n: r["Status"] for n, r in finals.items()} == {1: "STOPPED", 2: "STOPPED"}
    for number in (1, 2):
        mine = [r for r in rows if r["Trial-ID"] == str(number) and r["Status"] == "INTERMEDIATE"]
        last = max(int(r["Iteration"]) for r in mine)
        assert sorted(int(r["Iteration"]) for r in mine) == list(range(1, last + 1))
        assert finals[number]["Iteration"] == str(last)
        assert float(finals[number]["Objective"]) == 1.0 / last + number
    statuses = [t.status.value for t in storage.read_trials(study_id)]
    assert statuses == ["STOPPED", "STOPPED"]
    observations = storage.read_observations(study_id)
    assert len(observations) == len(rows) - 2  # every stored metric is in results.csv
    assert err.splitlines()[0] == (
        f"[sherpa WARNING] interrupted by {signal.Signals(signum).name}: 2 trials (2 stopped); "
        f"no completed trial; results in {out / 'results.csv'}"
    )


class _SignalAfterSubmit(sherpa.schedulers.LocalScheduler):
    """A LocalScheduler that receives SIGTERM just after it has started its first job."""

    def submit_job(self, command: Any, env: Any = None, job_name: str = "") -> str:
        job_id = super().submit_job(command, env, job_name)
        os.kill(os.getpid(), signal.SIGTERM)
        return job_id


def test_optimize_sigterm_during_submission_still_records_the_trial(
    write_script: Callable[..., Path],
    run_optimize: Callable[..., dict[str, Any]],
    read_results: Callable[[Path], list[dict[str, str]]],
    final_rows: Callable[[list[dict[str, str]]], dict[int, dict[str, str]]],
    open_store: Callable[[Path], Any],
    tmp_path: Path,
) -> None:
    # A signal that arrives just after a job was submitted, before the runner has recorded
    # it, must still leave the trial recorded and stopped.
    write_script(SLOW_TRIAL)
    with pytest.raises(SystemExit) as raised:
        run_optimize(
            parameters=[sherpa.Continuous("x", [0, 1])],
            algorithm=Iterate([{"x": 0.5}]),
            filename=tmp_path / "trial.py",
            scheduler=_SignalAfterSubmit(),
        )
    assert raised.value.code == 128 + signal.SIGTERM
    out = tmp_path / "out"
    finals = final_rows(read_results(out / "results.csv"))
    assert {n: r["Status"] for n, r in finals.items()} == {1: "STOPPED"}
    storage = open_store(out)
    assert [t.status.value for t in storage.read_trials(storage.get_study().id)] == ["STOPPED"]
