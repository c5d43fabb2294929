"""Starting and stopping the dashboard: with a Study, with sherpa.optimize, on its own."""

from __future__ import annotations

import logging
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import sherpa
from sherpa.algorithms import Iterate
from sherpa.dashboard import run_dashboard, start_dashboard
from sherpa.dashboard._server import DEFAULT_PORT
from sherpa.exceptions import StorageError, StorageUnreachableError

URL = re.compile(r"dashboard for study (\S+): (http://127\.0\.0\.1:(\d+)/\?token=(\S+))")


@pytest.fixture
def sherpa_log() -> Iterator[list[str]]:
    """The messages the package logger writes while the test runs."""
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    handler = Collect(level=logging.INFO)
    logger = logging.getLogger("sherpa")
    logger.addHandler(handler)
    yield messages
    logger.removeHandler(handler)


def _serves(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _summary(url: str) -> dict[str, object]:
    base, token = url.split("/?token=")
    response = httpx.get(f"{base}/api/summary", headers={"X-Sherpa-Token": token}, timeout=10)
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


def _stored_study(tmp_path: Path, **kwargs: object) -> sherpa.Study:
    return sherpa.Study(
        [sherpa.Continuous("x", [0, 1])],
        Iterate([{"x": 0.25}, {"x": 0.75}]),
        lower_is_better=True,
        storage=sherpa.storage.sqlite_url(tmp_path / "sherpa.db"),
        **kwargs,  # type: ignore[arg-type]
    )


def test_study_with_a_store_serves_its_dashboard_until_closed(
    tmp_path: Path, sherpa_log: list[str]
) -> None:
    study = _stored_study(tmp_path, study_name="live")
    url = study.dashboard_url
    assert url is not None
    [line] = [m for m in sherpa_log if "dashboard for study" in m]
    match = URL.fullmatch(line)
    assert match is not None and match.group(1) == "live" and match.group(2) == url
    port = int(match.group(3))
    assert DEFAULT_PORT <= port < DEFAULT_PORT + 100
    trial = study.get_suggestion()
    assert isinstance(trial, sherpa.Trial)
    study.add_observation(trial, 0.5)
    study.finalize(trial)
    summary = _summary(url)
    assert summary["counts"] == {"INTERMEDIATE": 0, "COMPLETED": 1, "FAILED": 0, "STOPPED": 0}
    study.close()
    assert study.dashboard_url is None
    assert not _serves(port)
    study.close()  # twice is fine


def test_study_dashboard_stop_makes_should_trial_stop_true(tmp_path: Path) -> None:
    with _stored_study(tmp_path) as study:
        trial = study.get_suggestion()
        assert isinstance(trial, sherpa.Trial)
        study.add_observation(trial, 0.5)
        assert study.should_trial_stop(trial) is False
        assert study.dashboard_url is not None
        base, token = study.dashboard_url.split("/?token=")
        response = httpx.post(
            f"{base}/api/trials/{trial.id}/stop", headers={"X-Sherpa-Token": token}
        )
        assert response.status_code == 200
        assert study.should_trial_stop(trial) is True
        port = int(base.rsplit(":", 1)[1])
    assert not _serves(port)


def test_study_takes_the_next_free_port_and_honours_dashboard_port(tmp_path: Path) -> None:
    with _stored_study(tmp_path / "a") as first, _stored_study(tmp_path / "b") as second:
        assert first.dashboard_url is not None and second.dashboard_url is not None
        ports = [
            int(u.split("/?")[0].rsplit(":", 1)[1])
            for u in (first.dashboard_url, second.dashboard_url)
        ]
        assert ports[0] != ports[1]
        assert all(DEFAULT_PORT <= p < DEFAULT_PORT + 100 for p in ports)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    with _stored_study(tmp_path / "c", dashboard_port=free) as chosen:
        assert chosen.dashboard_url is not None
        assert chosen.dashboard_url.startswith(f"http://127.0.0.1:{free}/?token=")


def test_study_whose_dashboard_port_is_taken_warns_and_goes_on(
    tmp_path: Path, sherpa_log: list[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        with _stored_study(tmp_path, dashboard_port=busy, study_name="s") as study:
            assert study.dashboard_url is None
    assert any(
        m.startswith(f"dashboard: not started for study s: cannot listen on port {busy}: ")
        for m in sherpa_log
    )


def test_disable_dashboard_serves_nothing(tmp_path: Path, sherpa_log: list[str]) -> None:
    with _stored_study(tmp_path, disable_dashboard=True) as study:
        assert study.dashboard_url is None
    assert not [m for m in sherpa_log if "dashboard" in m]


def test_study_in_memory_says_once_why_it_has_no_dashboard() -> None:
    code = textwrap.dedent(
        """
        import sherpa
        from sherpa.algorithms import RandomSearch
        for _ in range(3):
            study = sherpa.Study([sherpa.Continuous("x", [0, 1])], RandomSearch(), True)
            assert study.dashboard_url is None
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stderr.count("dashboard: not started") == 1
    assert "keeps its trials in memory; give the study a store (storage=...)" in out.stderr


def test_without_plotly_the_study_logs_how_to_install_and_goes_on(tmp_path: Path) -> None:
    # A real import hook hides plotly from this interpreter, as if it were not installed.
    code = textwrap.dedent(
        f"""
        import sys
        class HidePlotly:
            def find_spec(self, name, path=None, target=None):
                if name == "plotly" or name.startswith("plotly."):
                    raise ModuleNotFoundError(name)
                return None
        sys.meta_path.insert(0, HidePlotly())
        import sherpa
        from sherpa.algorithms import Iterate
        for name in ("a", "b"):
            study = sherpa.Study(
                [sherpa.Continuous("x", [0, 1])], Iterate([{{"x": 0.5}}]), True,
                storage=sherpa.storage.sqlite_url({str(tmp_path)!r} + f"/{{name}}.db"),
            )
            trial = study.get_suggestion()
            study.add_observation(trial, 1.0)
            study.finalize(trial)
            assert study.dashboard_url is None
        print("ran")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ran"
    assert out.stderr == (
        "[sherpa INFO] dashboard: not started: it needs plotly (pip install 'sherpa[dashboard]')\n"
    )


TRIAL = """\
import sherpa
client = sherpa.Client()
trial = client.get_trial()
client.send_metrics(trial=trial, iteration=1, objective=trial.parameters["x"])
"""


def test_optimize_serves_the_run_and_stops_the_dashboard_at_its_end(
    tmp_path: Path, sherpa_log: list[str]
) -> None:
    script = tmp_path / "trial.py"
    script.write_text(TRIAL)
    best = sherpa.optimize(
        parameters=[sherpa.Continuous("x", [0, 1])],
        algorithm=Iterate([{"x": 0.5}, {"x": 0.25}]),
        lower_is_better=True,
        scheduler=sherpa.schedulers.LocalScheduler(),
        filename=script,
        output_dir=tmp_path / "out",
        verbose=0,
    )
    assert best["Objective"] == 0.25
    lines = [m for m in sherpa_log if "dashboard for study" in m]
    assert len(lines) == 1
    match = URL.fullmatch(lines[0])
    assert match is not None
    assert not _serves(int(match.group(3)))


def test_run_dashboard_serves_a_finished_study_until_interrupted(tmp_path: Path) -> None:
    with _stored_study(tmp_path, disable_dashboard=True, study_name="done") as study:
        trial = study.get_suggestion()
        assert isinstance(trial, sherpa.Trial)
        study.add_observation(trial, 0.5)
        study.finalize(trial)
    code = f"import sherpa; sherpa.run_dashboard({str(tmp_path)!r}, port=0)"
    process = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        match = re.fullmatch(
            r"\[sherpa INFO\] dashboard for study done: (http://127\.0\.0\.1:\d+/\?token=\S+) "
            r"\(Ctrl-C to stop\)\n",
            line,
        )
        assert match is not None, line
        summary = _summary(match.group(1))
        assert summary["total"] == 1 and summary["study"] == {
            "id": 1,
            "name": "done",
            "lower_is_better": True,
        }
        time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        assert process.stderr.read() == "[sherpa INFO] dashboard for study done stopped\n"
    finally:
        process.kill()
        process.wait()


def test_run_dashboard_errors_name_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(StorageUnreachableError, match="no sherpa store at"):
        run_dashboard(tmp_path / "nothing")
    with pytest.raises(TypeError, match="path_or_storage must be an output directory"):
        run_dashboard(42)  # type: ignore[arg-type]
    with _stored_study(tmp_path, disable_dashboard=True, study_name="there"):
        pass
    with pytest.raises(StorageError, match="has no study named 'absent'"):
        start_dashboard(tmp_path, study_name="absent", port=0, preload=True)


def test_load_dashboard_serves_the_loaded_study(tmp_path: Path) -> None:
    with _stored_study(tmp_path, disable_dashboard=True, study_name="old") as study:
        trial = study.get_suggestion()
        assert isinstance(trial, sherpa.Trial)
        study.add_observation(trial, 0.5)
        study.finalize(trial)
    loaded = sherpa.Study.load_dashboard(tmp_path)
    try:
        assert loaded.dashboard_url is not None
        summary = _summary(loaded.dashboard_url)
        assert summary["study"] == {"id": 1, "name": "old", "lower_is_better": True}
        assert summary["counts"] == {"INTERMEDIATE": 0, "COMPLETED": 1, "FAILED": 0, "STOPPED": 0}
    finally:
        loaded.close()


def test_run_dashboard_is_exported_lazily() -> None:
    code = (
        "import sys, sherpa\n"
        "print('sherpa.dashboard' in sys.modules, 'http.server' in sys.modules)\n"
        "print(sherpa.run_dashboard is sherpa.dashboard.run_dashboard)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "True"]


def test_starting_a_dashboard_is_cheap(tmp_path: Path) -> None:
    study = _stored_study(tmp_path, disable_dashboard=True)
    assert study.storage is not None
    start_dashboard(study.storage, port=0).stop()  # warm imports
    started = time.perf_counter()
    for _ in range(20):
        start_dashboard(study.storage, port=0).stop()
    assert (time.perf_counter() - started) / 20 < 0.05


def test_public_surface() -> None:
    import sherpa.dashboard

    assert sherpa.dashboard.__all__ == ["DashboardServer", "run_dashboard", "start_dashboard"]
    for name in sherpa.dashboard.__all__:
        assert getattr(sherpa.dashboard, name).__module__.startswith("sherpa.dashboard.")
    assert "run_dashboard" in sherpa.__all__


SPAWN_RUNNER = """
import json
import multiprocessing
import sys
import urllib.request

import sherpa


def total_trials(url):
    base, token = url.split("/?token=")
    request = urllib.request.Request(base + "/api/summary", headers={"X-Sherpa-Token": token})
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.load(reply)["total"]


if __name__ == "__main__":
    multiprocessing.set_start_method("spawn")
    study = sherpa.Study(
        [sherpa.Continuous("x", [0, 1])],
        sherpa.algorithms.Iterate([{"x": 0.25}, {"x": 0.75}]),
        lower_is_better=True,
        storage=sherpa.storage.sqlite_url(sys.argv[1]),
    )
    for trial in study:
        study.add_observation(trial, trial.parameters["x"])
        study.finalize(trial)
    # A process started with spawn while the dashboard serves: it pickles nothing of it.
    with multiprocessing.Pool(1) as pool:
        print(pool.apply(total_trials, (study.dashboard_url,)))
    study.close()
"""


def test_dashboard_serves_a_program_that_uses_the_spawn_start_method(tmp_path: Path) -> None:
    script = tmp_path / "runner.py"
    script.write_text(SPAWN_RUNNER)
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "sherpa.db")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "2\n"
    assert re.search(r"dashboard for study \S+: http://127\.0\.0\.1:\d+/\?token=", done.stderr)
