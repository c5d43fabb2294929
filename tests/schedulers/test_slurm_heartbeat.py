"""A SLURM node that dies under a trial, on a real private cluster (``tests/_infra/slurm.py``).

The node "loses power": its ``slurmd``, the job's ``slurmstepd``, the batch script and the
trial process are SIGKILLed at once, so nothing writes the job's exit record. SLURM still
shows the job RUNNING, so the runner can only notice the trial's stopped heartbeat; then the
administrator (as ``slurmctld`` would after ``SlurmdTimeout``) takes the node DOWN with
``scontrol``, the job becomes NODE_FAIL, the trial FAILED and its resubmission waits in the
queue until the node is back.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import signal
import subprocess
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import sherpa
from sherpa.runner import _optimize
from sherpa.schedulers import SLURMScheduler
from tests._infra import slurm as slurm_infra

TRIAL = """\
import os, pathlib, time
import sherpa

client = sherpa.Client()
trial = client.get_trial()
client.send_metrics(trial, iteration=1, objective=trial.parameters["x"])
if trial.id == 1:
    time.sleep(1.0)  # a few heartbeats first
    pids = pathlib.Path(os.environ["PIDS_FILE"])
    pids.with_suffix(".tmp").write_text(f"{os.getpid()} {os.getppid()}")
    pids.with_suffix(".tmp").rename(pids)
    time.sleep(300)
client.send_metrics(trial, iteration=2, objective=trial.parameters["x"] / 2)
"""


@pytest.fixture
def cluster(
    slurm_cluster: slurm_infra.SlurmCluster, monkeypatch: pytest.MonkeyPatch
) -> Iterator[slurm_infra.SlurmCluster]:
    """A cluster of its own for this test (its node is killed); the session's shows SLURM works."""
    with slurm_infra.slurm_cluster() as own:
        monkeypatch.setenv("SLURM_CONF", str(own.conf))
        yield own


def _parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


class _Node:
    """Kills and revives the cluster's one node: its slurmd and everything it started."""

    def __init__(self, cluster: slurm_infra.SlurmCluster) -> None:
        self.cluster = cluster
        self.revived: subprocess.Popen[bytes] | None = None

    def die(self, trial_pid: int, script_pid: int) -> None:
        slurmd = int((self.cluster.root / "slurmd.pid").read_text())
        stepd = _parent_of(script_pid)
        for pid in (slurmd, stepd, script_pid, trial_pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def take_down(self) -> None:
        node = f"nodename={self.cluster.node}"
        done = self.cluster.run("scontrol", "update", node, "state=down", "reason=node died")
        assert done.returncode == 0, done.stderr

    def revive(self) -> None:
        program = shutil.which("slurmd", path="/usr/sbin:/usr/bin:/sbin:/bin") or "slurmd"
        argv = [program, "-D", "-N", self.cluster.node, "-f", str(self.cluster.conf)]
        self.revived = subprocess.Popen(
            argv,
            env=dict(self.cluster.env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def stop(self) -> None:
        if self.revived is not None and self.revived.poll() is None:
            self.revived.terminate()
            try:
                self.revived.wait(10)
            except subprocess.TimeoutExpired:
                self.revived.kill()
                self.revived.wait()


def _wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


def test_optimize_on_slurm_trial_on_a_dead_node_is_warned_failed_and_resubmitted(
    cluster: slurm_infra.SlurmCluster,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in list(os.environ):
        if name.startswith("SHERPA_") and name != "SHERPA_REQUIRE_CLUSTERS":
            monkeypatch.delenv(name)  # sbatch hands the test's environment to the jobs
    pids_file = tmp_path / "pids"
    monkeypatch.setenv("PIDS_FILE", str(pids_file))
    monkeypatch.setattr(_optimize, "PROGRESS_INTERVAL_S", 0.5)
    script = tmp_path / "trial.py"
    script.write_text(textwrap.dedent(TRIAL))
    scheduler = SLURMScheduler("--no-requeue")
    scheduler.missing_grace_period = 1.0  # the exit record never comes: do not wait long
    node = _Node(cluster)
    steps: list[str] = []
    failures: list[BaseException] = []

    def admin() -> None:
        try:
            _wait_for(pids_file.exists, 60, "trial 1 to run")
            node.die(*map(int, pids_file.read_text().split()))
            steps.append("died")
            _wait_for(lambda: "no heartbeat since" in caplog.text, 30, "the heartbeat warning")
            node.take_down()
            steps.append("down")
            # Not just "1 queued": trial 1's own job was queued briefly at the start.
            _wait_for(
                lambda: "1/2 done, 0 running, 1 queued" in caplog.text,
                60,
                "the resubmission to queue",
            )
            time.sleep(1.0)  # it stays queued while the node is down
            steps.append("revived")
            node.revive()
        except BaseException as exc:  # reported by the test below
            failures.append(exc)

    helper = threading.Thread(target=admin)
    out = tmp_path / "out"
    try:
        with caplog.at_level(logging.INFO, logger="sherpa"):
            helper.start()
            sherpa.optimize(
                parameters=[sherpa.Continuous("x", [0, 10])],
                algorithm=sherpa.algorithms.Iterate([{"x": 4.0}]),
                lower_is_better=True,
                scheduler=scheduler,
                filename=script,
                output_dir=out,
                resubmit_failed_trials=True,
                heartbeat_timeout=2.0,
                verbose=1,
                disable_dashboard=True,
            )
            helper.join(60)
    finally:
        node.stop()
    assert failures == [] and steps == ["died", "down", "revived"], (failures, steps)

    text = caplog.text
    trial_pid = pids_file.read_text().split()[0]
    hostname = re.escape(os.uname().nodename)
    assert len(re.findall(r"trial 1: no heartbeat since", text)) == 1, text
    assert re.search(
        rf"trial 1: no heartbeat since \S+ \S+ UTC \(host {hostname}, pid {trial_pid}; \d+ s\) "
        r"although its job \d+ is still RUNNING; leaving it running",
        text,
    ), text
    assert re.search(r"trial 1 failed: .*SLURM reported it as failed", text), text
    assert "trial 1: resubmitting its configuration once" in text
    # The resubmission waits in the queue while the node is down; a progress line (or the
    # line of a finished trial, whichever comes first under load) counts it.
    assert re.search(r"1/2 done, 0 running, 1 queued, best none yet", text), text
    storage = sherpa.storage.SQLStorage(sherpa.storage.sqlite_url(out / "sherpa.db"))
    try:
        trials = storage.read_trials(storage.get_study().id)
    finally:
        storage.close()
    assert [(t.number, t.status.value) for t in trials] == [(1, "FAILED"), (2, "COMPLETED")]
    assert trials[0].pid == int(trial_pid) and trials[0].heartbeat_at is not None
