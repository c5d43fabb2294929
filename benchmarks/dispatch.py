"""Dispatch: trials per minute through each scheduler, against that scheduler's own floor.

Measured, for each backend (local processes, a Dask ``LocalCluster``, a private SLURM cluster,
a private SGE cell), at the same concurrency C:

- sherpa: the wall time of ``sherpa.optimize`` running N short trials (RandomSearch; a trial
  script that fetches its trial and sends one metric) with ``max_concurrent=C`` through the
  backend's scheduler, on an SQLite store; every run is checked afterwards (N trials COMPLETED,
  each with its metric).
- floor: the same number of jobs that only run ``python -c "import sherpa"``, given to the
  bare tool as fast as it takes them, timed until all have ended:
  local: C threads starting the processes one after another (as ``runner_overhead.py``);
  Dask: N tasks submitted at once through the client, each running the process, on the same
  cluster (C workers, one thread each); SLURM: N ``sbatch`` calls, then waiting for each job's
  end marker, on a node with C CPUs; SGE: N ``qsub`` calls on a queue with C slots, likewise.

The ratio sherpa / floor is the cost of going through sherpa (its scheduler, its polling, its
store, the heavier trial). Goal (project issue): each backend within 1.2x of its floor.

The SLURM and SGE clusters come from ``tests/_infra/slurm.py`` and ``tests/_infra/sge.py``
(root and Debian's packages needed); a backend that cannot run here is skipped with the
reason. Cluster start-up and one untimed warm-up run of each kind are not in the figures.

With ``--trial-seconds S`` each trial computes for S seconds (a sleep before its metric) and
each floor job sleeps as long after ``import sherpa``: the ratio for trials of that length.

Usage: nice python benchmarks/dispatch.py [--trials 20] [--concurrency 2] [--repeats 3]
                                           [--backends local dask slurm sge]
                                           [--trial-seconds 0]
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import (
    PYTHON,
    OtherLoad,
    base_parser,
    machine_info,
    median,
    print_header,
    print_table,
    scratch_dir,
    timed_cpu,
    use_user_env,
    verdict,
    warm_up,
    write_json,
)
from runner_overhead import TRIAL_SCRIPT, check_sherpa_run, run_floor

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # for tests._infra, the private clusters

GOAL_RATIO = 1.2
BACKENDS = ("local", "dask", "slurm", "sge")
MARKER_POLL_S = 0.01
FLOOR_TIMEOUT_S = 600.0


@dataclass
class Backend:
    """One way to run jobs: its floor, and the sherpa scheduler that goes through it."""

    name: str
    floor: Callable[[int, int, Path], None]
    """``floor(n, concurrency, workdir)``: run n bare jobs, return when all have ended."""
    scheduler: Callable[[], Any]
    """A new sherpa scheduler for one run."""
    startup_s: float = 0.0


# Floors


def floor_code(seconds: float) -> str:
    """What a floor job runs: ``import sherpa``, then as long a sleep as the trials have."""
    return f"import sherpa, time; time.sleep({seconds!r})" if seconds else "import sherpa"


def trial_script(seconds: float) -> str:
    """The trial script, which computes for ``seconds`` (a sleep) before its metric."""
    if not seconds:
        return TRIAL_SCRIPT
    head, _, tail = TRIAL_SCRIPT.partition("c.send_metrics")
    return f"{head}import time\ntime.sleep({seconds!r})\nc.send_metrics{tail}"


TRIAL_SECONDS = 0.0
"""How long each trial and floor job computes (``--trial-seconds``)."""


def _dask_floor_task(python: str, code: str = "import sherpa") -> int:
    return subprocess.run(
        [python, "-c", code],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        check=False,
    ).returncode


def _dask_floor(client: Any, n: int, concurrency: int, workdir: Path) -> None:
    code = floor_code(TRIAL_SECONDS)
    futures = [client.submit(_dask_floor_task, PYTHON, code, pure=False) for _ in range(n)]
    codes = client.gather(futures)
    if any(codes):
        raise RuntimeError(f"Dask floor: exit codes {codes}")


def _marker_script(workdir: Path) -> Path:
    """A job script that runs ``python -c "import sherpa"`` and then leaves an end marker."""
    markers = workdir / "markers"
    markers.mkdir(parents=True, exist_ok=True)
    script = workdir / "floor.sh"
    code = floor_code(TRIAL_SECONDS)
    script.write_text(f"#!/bin/sh\n'{PYTHON}' -c '{code}'\ntouch \"{markers}/$1\"\n")
    script.chmod(0o755)
    return script


def _wait_for_markers(markers: Path, n: int) -> None:
    deadline = time.monotonic() + FLOOR_TIMEOUT_S
    while sum(1 for _ in markers.iterdir()) < n:
        if time.monotonic() > deadline:
            raise RuntimeError(f"floor: only {sum(1 for _ in markers.iterdir())} of {n} ended")
        time.sleep(MARKER_POLL_S)


def _batch_floor(submit: Callable[[Path, int], list[str]], n: int, workdir: Path) -> None:
    script = _marker_script(workdir)
    for number in range(n):
        argv = submit(script, number)
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"floor: {argv[0]} failed: {done.stderr.strip()}")
    _wait_for_markers(workdir / "markers", n)


# Backends


@contextlib.contextmanager
def local_backend(concurrency: int) -> Iterator[Backend]:
    import sherpa

    yield Backend(
        "local",
        lambda n, c, workdir: run_floor(n, c, floor_code(TRIAL_SECONDS)),
        lambda: sherpa.schedulers.LocalScheduler(),
    )


@contextlib.contextmanager
def dask_backend(concurrency: int) -> Iterator[Backend]:
    import distributed

    from sherpa.schedulers import DaskScheduler

    started = time.monotonic()
    with (
        distributed.LocalCluster(
            n_workers=concurrency,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        # One-off costs, like the cluster's start: each worker starts Python once and
        # imports the module that runs sherpa's tasks.
        client.gather(client.map(_dask_floor_task, [PYTHON] * concurrency, pure=False))
        client.run(importlib.import_module, "sherpa.schedulers._dask")
        yield Backend(
            "dask",
            functools.partial(_dask_floor, client),
            lambda: DaskScheduler(client),
            time.monotonic() - started,
        )


@contextlib.contextmanager
def slurm_backend(concurrency: int) -> Iterator[Backend]:
    import sherpa
    from tests._infra.slurm import slurm_cluster, unavailable_reason

    reason = unavailable_reason()
    if reason is not None:
        raise Unavailable(reason)
    scheduler_class = getattr(sherpa.schedulers, "SLURMScheduler", None)
    if scheduler_class is None:
        raise Unavailable("sherpa.schedulers has no SLURMScheduler yet")
    started = time.monotonic()
    with slurm_cluster(cpus=concurrency) as cluster, _environ(SLURM_CONF=str(cluster.conf)):

        def submit(script: Path, number: int) -> list[str]:
            return ["sbatch", "--parsable", "--output=/dev/null", str(script), str(number)]

        yield Backend(
            "slurm",
            lambda n, c, workdir: _batch_floor(submit, n, workdir),
            lambda: scheduler_class(submit_options="", environment=None),
            time.monotonic() - started,
        )


@contextlib.contextmanager
def sge_backend(concurrency: int) -> Iterator[Backend]:
    import sherpa
    from tests._infra.sge import sge_cell, unavailable_reason

    reason = unavailable_reason()
    if reason is not None:
        raise Unavailable(reason)
    scheduler_class = getattr(sherpa.schedulers, "SGEScheduler", None)
    if scheduler_class is None:
        raise Unavailable("sherpa.schedulers has no SGEScheduler yet")
    started = time.monotonic()
    with sge_cell(slots=concurrency) as cell, _environ(PATH=cell.path):

        def submit(script: Path, number: int) -> list[str]:
            return ["qsub", "-terse", "-b", "n", "-S", "/bin/sh", "-j", "y", "-o", "/dev/null",
                    "-q", cell.queue, str(script), str(number)]  # fmt: skip

        yield Backend(
            "sge",
            lambda n, c, workdir: _batch_floor(submit, n, workdir),
            lambda: scheduler_class(submit_options=f"-q {cell.queue}", environment=None),
            time.monotonic() - started,
        )


class Unavailable(Exception):
    """A backend cannot run on this machine; the message says why."""


@contextlib.contextmanager
def _environ(**values: str) -> Iterator[None]:
    """Set variables for the runner and the tools it calls; restore them afterwards."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


MAKERS = {
    "local": local_backend,
    "dask": dask_backend,
    "slurm": slurm_backend,
    "sge": sge_backend,
}


# Runs


def run_sherpa(backend: Backend, n: int, concurrency: int, script: Path, out: Path) -> None:
    import sherpa

    sherpa.optimize(
        parameters=[sherpa.Continuous("x", [0.0, 1.0])],
        algorithm=sherpa.algorithms.RandomSearch(max_num_trials=n),
        lower_is_better=True,
        scheduler=backend.scheduler(),
        filename=script,
        max_concurrent=concurrency,
        verbose=0,
        disable_dashboard=True,
        output_dir=out,
        # Named explicitly: the default would get a warning about SQLite on shared
        # filesystems for the batch and Dask schedulers, needless here on one host.
        storage=sherpa.storage.sqlite_url(out / "sherpa.db"),
    )


def measure(
    backend: Backend, n: int, concurrency: int, repeats: int, root: Path
) -> dict[str, Any]:
    """Alternate floor and sherpa runs ``repeats`` times; the medians and every figure."""
    script = root / "trial.py"
    script.write_text(trial_script(TRIAL_SECONDS))
    # Untimed: the runner's one-off costs in this process (lazy imports, first statements)
    # and the backend's first job of each kind.
    run_sherpa(backend, concurrency, concurrency, script, root / f"{backend.name}-warm-up")
    backend.floor(concurrency, concurrency, root / f"{backend.name}-floor-warm-up")
    floors: list[float] = []
    runs: list[float] = []
    other: list[float] = []
    for rep in range(repeats):
        order = ("floor", "sherpa") if rep % 2 == 0 else ("sherpa", "floor")
        for which in order:
            where = root / f"{backend.name}-{which}-{rep}"
            if which == "floor":
                m = timed_cpu(functools.partial(backend.floor, n, concurrency, where))
                floors.append(m.wall_s)
            else:
                m = timed_cpu(
                    functools.partial(run_sherpa, backend, n, concurrency, script, where)
                )
                check_sherpa_run(n, where)
                runs.append(m.wall_s)
            other.append(m.other_load)
    floor, sherpa_s = median(floors), median(runs)
    return {
        "backend": backend.name,
        "trials": n,
        "concurrency": concurrency,
        "repeats": repeats,
        "startup_s": backend.startup_s,
        "floor_s": floors,
        "sherpa_s": runs,
        "floor_median_s": floor,
        "sherpa_median_s": sherpa_s,
        "floor_per_min": n / floor * 60,
        "sherpa_per_min": n / sherpa_s * 60,
        "ratio": sherpa_s / floor,
        "other_load_cores": other,
        "goal_met": sherpa_s / floor <= GOAL_RATIO,
    }


def main() -> None:
    parser = base_parser(__doc__)
    parser.add_argument("--trials", type=int, default=20, metavar="N")
    parser.add_argument("--concurrency", type=int, default=2, metavar="C")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each (median reported)")
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument(
        "--trial-seconds",
        type=float,
        default=0.0,
        help="seconds each trial (and each floor job) computes, as a sleep (default 0)",
    )
    args = parser.parse_args()
    if args.quick:
        args.trials, args.repeats = 6, 1
    if not args.trial_seconds >= 0:
        parser.error(f"--trial-seconds must be 0 or more; got {args.trial_seconds!r}")
    global TRIAL_SECONDS
    TRIAL_SECONDS = args.trial_seconds

    use_user_env()
    warm_up()
    watch = OtherLoad()
    info = machine_info()
    print_header("Dispatch: trials per minute through each scheduler vs its own floor", info)
    import pandas  # noqa: F401  (the runner's results table; imported before timing)

    import sherpa

    sherpa.optimize, sherpa.storage.SQLStorage  # noqa: B018  (load them before timing)

    cases: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    with scratch_dir("dispatch") as root:
        for name in args.backends:
            try:
                with MAKERS[name](args.concurrency) as backend:
                    case = measure(backend, args.trials, args.concurrency, args.repeats, root)
            except Unavailable as exc:
                skipped[name] = str(exc)
                print(f"  {name}: skipped: {exc}", flush=True)
                continue
            cases.append(case)
            print(
                f"  {name}: floor {case['floor_median_s']:.2f} s, "
                f"sherpa {case['sherpa_median_s']:.2f} s ({case['ratio']:.2f}x)",
                flush=True,
            )
    print()
    print_table(
        ["backend", "trials", "concurrency", "runs", "floor s", "sherpa s", "floor trials/min",
         "sherpa trials/min", "ratio", "other load", f"<= {GOAL_RATIO}x"],
        [
            [c["backend"], c["trials"], c["concurrency"], c["repeats"],
             f"{c['floor_median_s']:.2f}", f"{c['sherpa_median_s']:.2f}",
             f"{c['floor_per_min']:.0f}", f"{c['sherpa_per_min']:.0f}", f"{c['ratio']:.2f}x",
             f"{max(c['other_load_cores']):.2f}", verdict(c["goal_met"])]
            for c in cases
        ],
    )  # fmt: skip
    for name, reason in skipped.items():
        print(f"{name}: not measured: {reason}")
    print(
        "Medians of the runs, floor and sherpa alternating. Other load: the most CPU (cores, "
        f"of the machine's {info['nproc']}) other processes used during any run of the case; "
        "for dask, slurm and sge it includes the cluster's own workers and daemons, which run "
        "outside this process tree."
    )
    print(watch.report())
    info["other_load_cores"] = watch.cores()
    write_json(
        args.json,
        {"benchmark": "dispatch", "machine": info, "cases": cases, "skipped": skipped},
    )


if __name__ == "__main__":
    main()
