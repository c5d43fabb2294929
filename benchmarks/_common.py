"""Helpers shared by the benchmark scripts: timing, percentiles, tables, JSON and machine facts.

Not a benchmark itself. Each script under ``benchmarks/`` imports this module (it sits next
to them, so ``python benchmarks/<script>.py`` finds it on ``sys.path``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any, Generic, TypeVar

__all__ = [
    "PYTHON",
    "Measured",
    "OtherLoad",
    "base_parser",
    "cpu_seconds",
    "format_table",
    "machine_busy_seconds",
    "machine_info",
    "median",
    "percentile",
    "print_header",
    "print_table",
    "run_python",
    "scratch_dir",
    "summarize",
    "timed",
    "timed_cpu",
    "use_user_env",
    "verdict",
    "warm_up",
    "write_json",
]

PYTHON = sys.executable
"""The interpreter running the benchmark; every child process uses the same one."""

T = TypeVar("T")

PACKAGES = ("sherpa", "optuna", "numpy", "pandas", "sqlalchemy")


# Environment


def use_user_env() -> None:
    """Drop ``PYTHONDONTWRITEBYTECODE`` from this process's environment.

    Users run with byte-code caching on; child processes inherit ``os.environ`` (the
    runner's ``LocalScheduler`` included), so they then start as users' processes do.
    """
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


def warm_up() -> None:
    """Import sherpa (the trial-side modules) and optuna once in children, writing .pyc files."""
    for code in ("import sherpa, sherpa.storage._channel", "import optuna"):
        subprocess.run([PYTHON, "-c", code], check=True, env=_child_env())


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


@contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    """A fresh directory from :func:`tempfile.mkdtemp`, removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix=f"sherpa-bench-{prefix}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# Timing


def timed(function: Callable[[], T]) -> tuple[T, float]:
    """Call ``function``; return its result and the wall time in seconds."""
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def cpu_seconds() -> float:
    """CPU time (user + system) used so far by this process and its waited-for children."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def machine_busy_seconds() -> float:
    """CPU time (all cores, all processes) the machine has spent busy since boot (Linux)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return math.nan
    ticks = [int(x) for x in fields]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    guest = sum(ticks[8:10])  # already counted in user and nice
    return (sum(ticks) - idle - guest) / os.sysconf("SC_CLK_TCK")


@dataclasses.dataclass
class Measured(Generic[T]):
    """What :func:`timed_cpu` measured around one call."""

    result: T
    wall_s: float
    cpu_s: float
    """CPU time of this process and of the child processes it waited for during the call."""
    other_cpu_s: float
    """CPU time the rest of the machine used meanwhile (other users' load; Linux only)."""

    @property
    def other_load(self) -> float:
        """The other processes' load during the call, in cores."""
        return self.other_cpu_s / self.wall_s if self.wall_s > 0 else math.nan


def timed_cpu(function: Callable[[], T]) -> Measured[T]:
    """Call ``function``; return its result, wall time, own CPU time and others' CPU time.

    The CPU time counts this process and its waited-for children; it is less sensitive than
    wall time to other load on the machine. ``other_cpu_s`` says how much other load there
    was (what the whole machine was busy for, less this process tree's share).
    """
    cpu = cpu_seconds()
    busy = machine_busy_seconds()
    start = time.perf_counter()
    result = function()
    wall = time.perf_counter() - start
    own = cpu_seconds() - cpu
    other = max(0.0, machine_busy_seconds() - busy - own)
    return Measured(result, wall, own, other)


class OtherLoad:
    """Watches how much CPU the machine's other processes use while a benchmark runs.

    Start it with the benchmark; :meth:`report` says the average load of everything outside
    this process tree, in cores. Above about 0.2 cores, wall-clock figures are disturbed.
    """

    def __init__(self) -> None:
        self._cpu = cpu_seconds()
        self._busy = machine_busy_seconds()
        self._start = time.perf_counter()

    def cores(self) -> float:
        """Average load of other processes since the start, in cores."""
        wall = time.perf_counter() - self._start
        own = cpu_seconds() - self._cpu
        other = max(0.0, machine_busy_seconds() - self._busy - own)
        return other / wall if wall > 0 else math.nan

    def report(self) -> str:
        wall = time.perf_counter() - self._start
        return (
            f"This run took {wall:.0f} s; other processes on the machine used "
            f"{self.cores():.2f} cores on average meanwhile."
        )


def run_python(
    args: Sequence[str], env: Mapping[str, str] | None = None, *, capture: bool = False
) -> tuple[float, str]:
    """Run ``python ARGS`` to completion; return its wall time in seconds and its stdout.

    Raises:
        subprocess.CalledProcessError: the process failed (its stderr is in the error).
    """
    full_env = _child_env()
    if env:
        full_env.update(env)
    start = time.perf_counter()
    done = subprocess.run(
        [PYTHON, *args],
        env=full_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise subprocess.CalledProcessError(
            done.returncode, done.args, output=done.stdout, stderr=done.stderr
        )
    return elapsed, (done.stdout or b"").decode()


# Statistics


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values``, interpolating linearly between ranks."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float:
    """The median of ``values`` (NaN when empty)."""
    return statistics.median(values) if values else math.nan


def summarize(values: Sequence[float]) -> dict[str, float]:
    """Count, mean, min, p50, p90, p99 and max of ``values``."""
    return {
        "n": float(len(values)),
        "mean": statistics.fmean(values) if values else math.nan,
        "min": min(values) if values else math.nan,
        "p50": percentile(values, 50),
        "p90": percentile(values, 90),
        "p99": percentile(values, 99),
        "max": max(values) if values else math.nan,
    }


def verdict(met: bool) -> str:
    """``met`` or ``NOT met``."""
    return "met" if met else "NOT met"


# Output


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table (aligned, so it reads in a terminal and pastes into RESULTS.md)."""
    cells = [[str(h) for h in headers], *[[_cell(v) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])


def _cell(value: object) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print :func:`format_table` followed by a blank line."""
    print(format_table(headers, rows))
    print()


def print_header(title: str, info: Mapping[str, Any]) -> None:
    """Print the benchmark's title and the machine it runs on."""
    print(f"# {title}")
    versions = ", ".join(f"{k} {v}" for k, v in info["packages"].items())
    print(
        f"machine: nproc={info['nproc']}, {info['cpu']}, Python {info['python']}, "
        f"SQLite {info['sqlite']}; {versions}"
    )
    print()


def machine_info() -> dict[str, Any]:
    """What the figures depend on: cores, CPU, interpreter, SQLite and package versions."""
    cpu = platform.processor() or platform.machine()
    try:
        for text in Path("/proc/cpuinfo").read_text().splitlines():
            if text.startswith("model name"):
                cpu = text.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    packages = {}
    for name in PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = "absent"
    return {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "packages": packages,
    }


def write_json(path: str | os.PathLike[str] | None, payload: Mapping[str, Any]) -> None:
    """Write ``payload`` as JSON to ``path`` (nothing when ``path`` is None)."""
    if path is None:
        return
    Path(path).write_text(json.dumps(payload, indent=2, default=str) + "\n")
    print(f"wrote {path}")


def base_parser(doc: str | None) -> argparse.ArgumentParser:
    """An argument parser with ``--quick`` and ``--json PATH``, described by ``doc``."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: few, small cases (figures not valid)"
    )
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON here")
    return parser
