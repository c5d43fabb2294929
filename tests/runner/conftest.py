"""Fixtures for end-to-end runner tests: trial scripts written into tmp_path, run for real.

Nothing here mocks the store or the processes: trials run as subprocesses of a real
``LocalScheduler`` and write to a real SQLite file.
"""

from __future__ import annotations

import contextlib
import csv
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import sherpa

SHERPA_VARIABLES = (
    "SHERPA_TRIAL_ID",
    "SHERPA_STUDY_ID",
    "SHERPA_DB_URL",
    "SHERPA_OUTPUT_DIR",
    "SHERPA_RESOURCE",
)


@pytest.fixture(autouse=True)
def _clean_sherpa_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No SHERPA_* variable of the test process leaks into a run unless a test sets it."""
    for name in SHERPA_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def write_script(tmp_path: Path) -> Callable[..., Path]:
    """Return ``write(body, name="trial.py", directory=tmp_path)``: a dedented script file."""

    def write(body: str, name: str = "trial.py", directory: Path | None = None) -> Path:
        path = (directory or tmp_path) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(body).lstrip())
        return path

    return write


@pytest.fixture
def run_python() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Return ``run(script, cwd, env=None, timeout=60)``: run a script with this interpreter."""

    def run(
        script: Path,
        cwd: Path,
        env: dict[str, str] | None = None,
        timeout: float = 60,
        args: tuple[str, ...] = (),
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(script), *args],
            cwd=cwd,
            env=env if env is not None else subprocess_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run


def subprocess_env(**extra: str) -> dict[str, str]:
    """The test process's environment without SHERPA_* variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in SHERPA_VARIABLES}
    env.update(extra)
    return env


@pytest.fixture
def clean_env() -> Callable[..., dict[str, str]]:
    """Return ``env(**extra)``: this process's environment without SHERPA_* plus ``extra``."""
    return subprocess_env


def read_results_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def results_header_of(path: Path) -> list[str]:
    with open(path, newline="") as handle:
        return next(csv.reader(handle))


@pytest.fixture
def read_results() -> Callable[[Path], list[dict[str, str]]]:
    """Return ``read(path)``: the rows of a results.csv as dicts of strings."""
    return read_results_csv


@pytest.fixture
def results_header() -> Callable[[Path], list[str]]:
    """Return ``header(path)``: the column names of a results.csv, in file order."""
    return results_header_of


def final_rows_of(rows: list[dict[str, str]]) -> dict[int, dict[str, str]]:
    return {int(r["Trial-ID"]): r for r in rows if r["Status"] != "INTERMEDIATE"}


@pytest.fixture
def final_rows() -> Callable[[list[dict[str, str]]], dict[int, dict[str, str]]]:
    """Return ``final(rows)``: each trial's final (non-INTERMEDIATE) row, by trial id."""
    return final_rows_of


def _max_overlap(intervals: list[tuple[float, float]]) -> int:
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    running = peak = 0
    for _, step in events:  # at equal times an end (-1) sorts before a start (+1)
        running += step
        peak = max(peak, running)
    return peak


@pytest.fixture
def max_overlap() -> Callable[[list[tuple[float, float]]], int]:
    """Return ``overlap(intervals)``: the most (start, end) intervals open at one time."""
    return _max_overlap


def read_spans(path: Path) -> dict[int, dict[str, Any]]:
    """Parse lines ``<event> <trial id> <time> [extra]`` that trial scripts append."""
    spans: dict[int, dict[str, Any]] = {}
    for line in path.read_text().splitlines():
        event, trial_id, stamp, *extra = line.split()
        entry = spans.setdefault(int(trial_id), {})
        entry[event] = float(stamp)
        if extra:
            entry[f"{event}_extra"] = extra[0]
    return spans


@pytest.fixture
def spans() -> Callable[[Path], dict[int, dict[str, Any]]]:
    """Return ``spans(path)``: per-trial ``start``/``end`` times the trial scripts logged."""
    return read_spans


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie still answers kill(pid, 0); it is not running
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


@pytest.fixture
def pid_alive() -> Callable[[int], bool]:
    """Return ``alive(pid)``: whether the process runs (not gone, not a zombie)."""
    return _pid_alive


@pytest.fixture
def wait_for() -> Callable[..., None]:
    """Return ``wait_for(condition, timeout, what)``: poll until true or fail the test."""

    def wait(condition: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {timeout} s waiting for {what or condition}")
            time.sleep(0.05)

    return wait


@pytest.fixture
def reap_pids(tmp_path: Path) -> Iterator[list[int]]:
    """A list for trial pids; one still running at teardown is killed, so nothing is left.

    Only a process whose command line names this test's tmp_path is killed, so a reused pid
    of an unrelated process is never touched.
    """
    pids: list[int] = []
    yield pids
    for pid in pids:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except FileNotFoundError:
            continue
        if _pid_alive(pid) and os.fsencode(str(tmp_path)) in cmdline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
def run_optimize(tmp_path: Path) -> Callable[..., dict[str, Any]]:
    """Return ``run(**kwargs)``: ``sherpa.optimize`` in this process, with test defaults.

    Defaults: ``lower_is_better=True``, a new ``LocalScheduler()``, ``output_dir=tmp_path /
    "out"``, ``max_concurrent=1``, ``verbose=0``, ``disable_dashboard=True``.
    """

    def run(**kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("lower_is_better", True)
        kwargs.setdefault("scheduler", sherpa.schedulers.LocalScheduler())
        kwargs.setdefault("output_dir", tmp_path / "out")
        kwargs.setdefault("max_concurrent", 1)
        kwargs.setdefault("verbose", 0)
        kwargs.setdefault("disable_dashboard", True)
        return sherpa.optimize(**kwargs)

    return run


@pytest.fixture
def open_store() -> Iterator[Callable[[Path], Any]]:
    """Return ``open(output_dir)``: an ``SQLStorage`` on the run's ``sherpa.db`` (closed after)."""
    opened: list[Any] = []

    def open_(output_dir: Path) -> Any:
        path = Path(output_dir) / "sherpa.db"
        assert path.is_file(), f"no store at {path}"
        storage = sherpa.storage.SQLStorage(sherpa.storage.sqlite_url(path))
        opened.append(storage)
        return storage

    yield open_
    for storage in opened:
        storage.close()
