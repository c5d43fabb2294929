"""Runner overhead: ``sherpa.optimize`` with trivial trials against bare process starts.

Measured: the wall time of ``sherpa.optimize`` running N trivial trials (RandomSearch,
LocalScheduler, a trial script that fetches its trial and sends one metric) at each
``max_concurrent``; and, in the same run, the floor: a pool of ``max_concurrent`` threads that
start the same number of ``python -c "import sherpa"`` processes one after another, each in
a new session as ``LocalScheduler`` starts trials (with autogroup scheduling, a new session
is a scheduling group of its own, which matters when other load competes for the CPUs). Every
sherpa run is checked afterwards (all N trials COMPLETED with their metric). The runner's
own one-off imports (SQLAlchemy, pandas: paid once per runner process, not per trial) are
done before the timed runs and reported on their own.

Also the CPU time (user + system, the benchmark process and its children) of each, a
cross-check less moved than wall time by other load on the machine, and how much CPU the
machine's other processes used meanwhile (so that a disturbed case shows).

Goal (project issue): the runner within 1.3x of the floor.

Usage: python benchmarks/runner_overhead.py [--trials 50 500] [--concurrency 1 4 16]
"""

from __future__ import annotations

import functools
import itertools
import subprocess
import threading
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
    run_python,
    scratch_dir,
    timed_cpu,
    use_user_env,
    verdict,
    warm_up,
    write_json,
)

GOAL_RATIO = 1.3

TRIAL_SCRIPT = """\
import sherpa

c = sherpa.Client()
t = c.get_trial()
c.send_metrics(trial=t, iteration=1, objective=t.parameters["x"])
"""


def run_floor(n: int, concurrency: int, code: str = "import sherpa") -> None:
    """Start ``n`` ``python -c CODE`` processes, ``concurrency`` at a time."""
    counter = itertools.count()
    lock = threading.Lock()
    failures: list[int] = []

    def worker() -> None:
        while True:
            with lock:
                if next(counter) >= n:
                    return
            # A new session each, as LocalScheduler starts trials: with the kernel's autogroup
            # scheduling, each session is its own scheduling group, so both get the same
            # share of the CPUs when other processes compete for them.
            returncode = subprocess.run(
                [PYTHON, "-c", code],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                check=False,
            ).returncode
            if returncode:
                failures.append(returncode)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(f"floor: {len(failures)} processes failed")


def run_sherpa(n: int, concurrency: int, script: Path, output_dir: Path) -> None:
    """Run ``sherpa.optimize`` over ``n`` trivial trials."""
    import sherpa

    sherpa.optimize(
        parameters=[sherpa.Continuous("x", [0.0, 1.0])],
        algorithm=sherpa.algorithms.RandomSearch(max_num_trials=n),
        lower_is_better=True,
        scheduler=sherpa.schedulers.LocalScheduler(),
        filename=script,
        max_concurrent=concurrency,
        verbose=0,
        disable_dashboard=True,
        output_dir=output_dir,
    )


def check_sherpa_run(n: int, output_dir: Path) -> None:
    """Check that every trial of a run COMPLETED and its metric reached the store."""
    import sherpa

    study = sherpa.Study.load(output_dir)
    completed = [t for t in study.trials if study.status_of(t) is sherpa.TrialStatus.COMPLETED]
    observed = study.results
    observed = observed[observed["Status"] == "INTERMEDIATE"]
    study.storage.close()  # type: ignore[union-attr]
    if len(completed) != n or len(observed) != n:
        raise RuntimeError(
            f"sherpa run N={n} in {output_dir}: {len(completed)} completed trials and "
            f"{len(observed)} observations, expected {n} of each"
        )


RUNNER_IMPORTS = (
    "import time; t = time.perf_counter(); import sherpa; sherpa.optimize; "
    "sherpa.storage.SQLStorage; import pandas; print(time.perf_counter() - t)"
)


def runner_import_s() -> float:
    """Seconds a fresh runner process spends importing what ``optimize`` needs (median of 5)."""
    return median([float(run_python(["-c", RUNNER_IMPORTS], capture=True)[1]) for _ in range(5)])


def main() -> None:
    parser = base_parser(__doc__)
    parser.add_argument("--trials", type=int, nargs="+", default=[50, 500], metavar="N")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16], metavar="C")
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="runs of each case with N <= 100 (median reported); larger N run once",
    )
    args = parser.parse_args()
    if args.quick:
        args.trials, args.concurrency, args.repeats = [10], [1, 4], 1

    use_user_env()
    warm_up()
    watch = OtherLoad()
    info = machine_info()
    print_header("Runner overhead: sherpa.optimize vs starting the same processes", info)
    import_s = runner_import_s()
    import pandas  # noqa: F401  (the runner's results table; imported before timing)

    import sherpa

    sherpa.optimize, sherpa.storage.SQLStorage  # noqa: B018  (load them before timing)

    rows: list[list[object]] = []
    cases: list[dict[str, Any]] = []
    with scratch_dir("runner") as root:
        script = root / "trial.py"
        script.write_text(TRIAL_SCRIPT)
        for n, concurrency in itertools.product(args.trials, args.concurrency):
            repeats = args.repeats if n <= 100 else 1
            floors, runs, floor_cpu, runs_cpu, other = [], [], [], [], []
            for rep in range(repeats):
                # Alternate which goes first, so that drift does not favour either.
                order = ("floor", "sherpa") if rep % 2 == 0 else ("sherpa", "floor")
                for which in order:
                    if which == "floor":
                        m = timed_cpu(functools.partial(run_floor, n, concurrency))
                        floors.append(m.wall_s)
                        floor_cpu.append(m.cpu_s)
                    else:
                        out = root / f"out-{n}-{concurrency}-{rep}"
                        m = timed_cpu(functools.partial(run_sherpa, n, concurrency, script, out))
                        check_sherpa_run(n, out)
                        runs.append(m.wall_s)
                        runs_cpu.append(m.cpu_s)
                    other.append(m.other_load)
            floor, sherpa_s = median(floors), median(runs)
            ratio = sherpa_s / floor
            cpu_ratio = median(runs_cpu) / median(floor_cpu)
            extra_ms = (sherpa_s - floor) / n * 1000
            cases.append(
                {
                    "trials": n,
                    "max_concurrent": concurrency,
                    "repeats": repeats,
                    "floor_s": floors,
                    "sherpa_s": runs,
                    "floor_median_s": floor,
                    "sherpa_median_s": sherpa_s,
                    "ratio": ratio,
                    "floor_cpu_s": floor_cpu,
                    "sherpa_cpu_s": runs_cpu,
                    "cpu_ratio": cpu_ratio,
                    "other_load_cores": other,
                    "extra_ms_per_trial": extra_ms,
                    "goal_met": ratio <= GOAL_RATIO,
                }
            )
            rows.append(
                [
                    n,
                    concurrency,
                    repeats,
                    f"{floor:.2f}",
                    f"{sherpa_s:.2f}",
                    f"{ratio:.2f}x",
                    f"{extra_ms:.1f}",
                    f"{median(floor_cpu):.1f}",
                    f"{median(runs_cpu):.1f}",
                    f"{cpu_ratio:.2f}x",
                    f"{max(other):.2f}",
                    verdict(ratio <= GOAL_RATIO),
                ]
            )
            print(
                f"  N={n} c={concurrency}: floor {floor:.2f} s, sherpa {sherpa_s:.2f} s",
                flush=True,
            )
    print()
    print_table(
        [
            "trials",
            "max_concurrent",
            "runs",
            "floor s",
            "sherpa s",
            "ratio",
            "extra ms/trial",
            "floor CPU s",
            "sherpa CPU s",
            "CPU ratio",
            "other load",
            f"wall <= {GOAL_RATIO}x",
        ],
        rows,
    )
    print(
        "CPU s: user + system time of the benchmark process and its child processes during "
        "the run, a cross-check that other load on the machine does not move much. Other "
        "load: the most CPU (in cores, of the machine's "
        f"{info['nproc']}) that other processes used during any run of the case; above "
        "about 0.2 the wall times of that case are disturbed."
    )
    print(
        f"One-off imports of a runner process (sherpa.optimize, SQLAlchemy, pandas), "
        f"not in the figures above: {import_s * 1000:.0f} ms."
    )
    payload = {
        "benchmark": "runner_overhead",
        "machine": info,
        "runner_import_s": import_s,
        "cases": cases,
    }
    print(watch.report())
    info["other_load_cores"] = watch.cores()
    write_json(args.json, payload)


if __name__ == "__main__":
    main()
