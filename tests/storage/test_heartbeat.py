"""The trial process's heartbeat thread, against a real SQLite store."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import sherpa
from sherpa.storage import SQLStorage, sqlite_url
from sherpa.storage._heartbeat import DEFAULT_INTERVAL_S, parse_interval
from sherpa.trial import TrialStatus


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SQLStorage]:
    url = sqlite_url(tmp_path / "sherpa.db")
    storage = SQLStorage(url)
    study_id = storage.create_study("s", lower_is_better=True, parameters=[]).id
    storage.create_trial(study_id, 3, {"lr": 0.1})
    monkeypatch.setenv("SHERPA_DB_URL", url)
    monkeypatch.setenv("SHERPA_STUDY_ID", str(study_id))
    monkeypatch.setenv("SHERPA_TRIAL_ID", "3")
    monkeypatch.setenv("SHERPA_HEARTBEAT_INTERVAL", "0.05")
    yield storage
    storage.close()


_EARLIER_THREADS: set[threading.Thread] = set()


@pytest.fixture(autouse=True)
def _ignore_earlier_threads() -> None:
    """Heartbeat threads of clients that other tests left open are not this test's."""
    _EARLIER_THREADS.clear()
    _EARLIER_THREADS.update(threading.enumerate())


def _heartbeat_threads() -> list[threading.Thread]:
    return [
        t
        for t in threading.enumerate()
        if t.name.startswith("sherpa-heartbeat-") and t not in _EARLIER_THREADS
    ]


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def _beat_at(store: SQLStorage) -> float | None:
    beat = store.read_heartbeats(1).get(3)
    return None if beat is None else beat.at


def test_client_beats_from_get_trial_until_close(store: SQLStorage) -> None:
    client = sherpa.Client()
    assert _heartbeat_threads() == [] and _beat_at(store) is None  # nothing before get_trial
    client.get_trial()
    [thread] = _heartbeat_threads()
    assert thread.daemon and thread.name == "sherpa-heartbeat-3"
    _wait_for(lambda: _beat_at(store) is not None, "the first heartbeat")
    first = _beat_at(store)
    _wait_for(lambda: _beat_at(store) != first, "a second heartbeat")
    client.get_trial()  # asking again starts no second thread
    assert len(_heartbeat_threads()) == 1
    client.close()
    assert _heartbeat_threads() == []
    stopped = _beat_at(store)
    time.sleep(0.2)
    assert _beat_at(store) == stopped
    beat = store.read_heartbeats(1)[3]
    assert (beat.host, beat.pid) == (os.uname().nodename, os.getpid())


def test_test_mode_has_no_heartbeat(monkeypatch: pytest.MonkeyPatch) -> None:
    client = sherpa.Client(test_mode=True, test_parameters={"x": 1})
    client.get_trial()
    assert _heartbeat_threads() == []


def test_heartbeat_stops_when_the_runner_ends_the_trial(store: SQLStorage) -> None:
    client = sherpa.Client()
    client.get_trial()
    _wait_for(lambda: _beat_at(store) is not None, "the first heartbeat")
    store.finalize_trial(1, 3, TrialStatus.STOPPED)
    _wait_for(lambda: _heartbeat_threads() == [], "the heartbeat thread to end")
    client.close()


def test_heartbeat_trouble_is_logged_once_and_never_raised(
    store: SQLStorage, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    client = sherpa.Client()
    trial = client.get_trial()
    _wait_for(lambda: _beat_at(store) is not None, "the first heartbeat")
    with sqlite3.connect(tmp_path / "sherpa.db") as conn:
        conn.execute("ALTER TABLE sherpa_trials RENAME TO sherpa_trials_away")
    time.sleep(0.5)  # about ten failed beats
    with sqlite3.connect(tmp_path / "sherpa.db") as conn:
        conn.execute("ALTER TABLE sherpa_trials_away RENAME TO sherpa_trials")
    err = capfd.readouterr().err
    assert err == (
        "[sherpa WARNING] trial 3: heartbeat not written to the store (OperationalError: "
        "no such table: sherpa_trials); trying again every 0.05 s (logged once). If this "
        "lasts, the runner may take the trial for lost.\n"
    )
    resumed = _beat_at(store)
    _wait_for(lambda: _beat_at(store) != resumed, "the heartbeat to resume")
    client.send_metrics(trial, iteration=1, objective=0.5)
    assert [o.objective for o in store.read_observations(1)] == [0.5]
    client.close()


@pytest.mark.parametrize(
    ("raw", "expected", "warned"),
    [
        (None, DEFAULT_INTERVAL_S, False),
        ("", DEFAULT_INTERVAL_S, False),
        ("0.25", 0.25, False),
        ("0", DEFAULT_INTERVAL_S, True),
        ("-1", DEFAULT_INTERVAL_S, True),
        ("nan", DEFAULT_INTERVAL_S, True),
        ("inf", DEFAULT_INTERVAL_S, True),
        ("soon", DEFAULT_INTERVAL_S, True),
    ],
)
def test_heartbeat_interval_from_the_environment(
    raw: str | None, expected: float, warned: bool, capfd: pytest.CaptureFixture[str]
) -> None:
    assert parse_interval(raw, "SHERPA_HEARTBEAT_INTERVAL") == expected
    err = capfd.readouterr().err
    if warned:
        assert err == (
            f"[sherpa WARNING] SHERPA_HEARTBEAT_INTERVAL={raw!r} is not a positive number "
            f"of seconds; using {DEFAULT_INTERVAL_S}\n"
        )
    else:
        assert err == ""


def test_trial_process_exits_at_once_despite_a_long_interval(
    store: SQLStorage, tmp_path: Path
) -> None:
    script = tmp_path / "trial.py"
    script.write_text(
        "import sherpa\n"
        "c = sherpa.Client()\n"
        "c.send_metrics(c.get_trial(), iteration=1, objective=0.5)\n"
    )
    env = {**os.environ, "SHERPA_HEARTBEAT_INTERVAL": "60"}
    started = time.monotonic()
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True)
    took = time.monotonic() - started
    assert (done.returncode, done.stderr) == (0, "")
    assert took < 5.0  # the thread is stopped at exit, not waited for until its next beat
    assert store.read_heartbeats(1) == {}  # it ended before its first beat was due
    assert [o.objective for o in store.read_observations(1)] == [0.5]
