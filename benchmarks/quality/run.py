"""Algorithm quality: run sherpa's and Optuna's optimizers on the problems, many seeds each.

Measured: for every problem (``problems.py``: seven scikit-learn tuning problems on data sets
that ship with scikit-learn, eight synthetic functions), optimizer (``optimizers.py``: our
BayesianOptimization, TPE, RandomSearch and GridSearch through ``sherpa.Study``; Optuna's
TPESampler, GPSampler and RandomSampler), budget (trials), mode (``sequential``, or
``batch4``: four suggestions asked for before any result is told) and seed, the objective of
every trial, the best one, and the time spent in the optimizer. Each run is one JSON line in
``OUT/runs.jsonl``; a run already there is skipped, so an interrupted run resumes. Runs go
seed by seed, so a run cut short by ``--max-minutes`` leaves whole seeds behind.
``report.py`` turns the lines into tables (``scoring.py``: normalized regret, ranks, wins).

Every worker process runs single-threaded (BLAS, OpenMP and torch limited to one thread), so
``--workers`` processes use that many cores.

Goals (project issue): at 50 trials on the scikit-learn problems, our BayesianOptimization
has a lower mean normalized regret than Optuna's GPSampler, and our TPE at least matches
Optuna's TPESampler.

Defaults are the full configuration the issue asks for: all problems, every optimizer,
budgets 50 and 100, both modes, 10 seeds.

Usage: python benchmarks/quality/run.py [--problems ...] [--optimizers ...] [--budgets 50 100]
    [--modes sequential batch4] [--seeds 0-9] [--workers 2] [--out DIR] [--max-minutes M]
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import json  # noqa: E402
import math  # noqa: E402
import multiprocessing  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from collections.abc import Iterator, Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import OtherLoad, base_parser, machine_info  # noqa: E402
from optimizers import (  # noqa: E402
    BUDGET_DEPENDENT,
    MODES,
    OPTIMIZERS,
    SEED_INDEPENDENT,
    applicable,
    grid_points_for,
    run_once,
)
from problems import PROBLEMS, get_problems  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "data"
"""Where the full configuration's runs are kept (committed, so a later session resumes)."""
QUICK_OUT = Path(__file__).resolve().parent.parent / "_work" / "quality-quick"
QUICK_PROBLEMS = ("branin", "hartmann6", "svr_diabetes", "knn_breast_cancer")
RUNS_FILE = "runs.jsonl"
DEFAULT_BUDGETS = (50, 100)

Task = tuple[str, str, int, str, int]
"""(problem, optimizer, budget, mode, seed)."""


def parse_seeds(items: Sequence[str]) -> list[int]:
    """Seeds from ``3``, ``0-9`` or several of them."""
    seeds: list[int] = []
    for item in items:
        if "-" in item:
            low, high = (int(x) for x in item.split("-", 1))
            seeds.extend(range(low, high + 1))
        else:
            seeds.append(int(item))
    return list(dict.fromkeys(seeds))


def run_key(record: dict[str, Any]) -> Task:
    return (
        record["problem"],
        record["optimizer"],
        int(record["budget"]),
        record["mode"],
        int(record["seed"]),
    )


def done_keys(path: Path) -> set[Task]:
    """The runs already in the file (failed runs are not counted, so they run again)."""
    keys: set[Task] = set()
    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip():
                record = json.loads(line)
                if "error" not in record:
                    keys.add(run_key(record))
    return keys


_COST = {"sherpa-bo": 3, "optuna-gp": 3}


def plan(
    problems: Sequence[str],
    optimizers: Sequence[str],
    budgets: Sequence[int],
    modes: Sequence[str],
    seeds: Sequence[int],
) -> Iterator[Task]:
    """Every run, seed by seed; within a seed the dearer runs first (a shorter tail)."""
    for seed in seeds:
        tasks = []
        for name in problems:
            problem = PROBLEMS[name]
            for optimizer in optimizers:
                if optimizer in SEED_INDEPENDENT and seed != seeds[0]:
                    continue
                # The shorter budgets of the others are the first trials of the longest.
                runs = budgets if optimizer in BUDGET_DEPENDENT else [max(budgets)]
                for budget in runs:
                    if not applicable(optimizer, problem, budget):
                        continue
                    for mode in modes:
                        cost = budget * (_COST.get(optimizer, 1) + (problem.kind == "sklearn"))
                        tasks.append((cost, (name, optimizer, budget, mode, seed)))
        tasks.sort(key=lambda item: -item[0])
        yield from (task for _, task in tasks)


def _init_worker() -> None:
    import warnings

    warnings.filterwarnings("ignore")
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover - torch comes with the benchmark extras
        pass
    from optimizers import quiet_optuna

    quiet_optuna()


def _execute(task: Task) -> dict[str, Any]:
    name, optimizer, budget, mode, seed = task
    problem = PROBLEMS[name]
    record: dict[str, Any] = {
        "problem": name,
        "kind": problem.kind,
        "optimizer": optimizer,
        "budget": budget,
        "mode": mode,
        "seed": seed,
    }
    if optimizer == "sherpa-grid":
        record["grid_points"] = grid_points_for(problem, budget)
    try:
        record.update(run_once(optimizer, problem, budget, mode, seed))
    except Exception as error:  # a failing optimizer is a finding, not the end of the run
        record["error"] = f"{type(error).__name__}: {error}"
        record["traceback"] = traceback.format_exc()
    return record


PREFIX_CHECK = (("branin", "knn_breast_cancer"), 10, 22)
"""Problems, a short and a long budget for ``--check-prefix`` (10 ends mid-batch in batch4)."""


def check_prefix(optimizers: Sequence[str], seed: int = 0) -> bool:
    """Check that a run's first trials are the shorter run, for the budget-free optimizers.

    Prints one line per optimizer, problem and mode; returns whether every one matched.
    """
    _init_worker()
    problems, short, long = PREFIX_CHECK
    ok = True
    for optimizer in (o for o in optimizers if o not in BUDGET_DEPENDENT):
        for name in problems:
            for mode in MODES:
                first = run_once(optimizer, PROBLEMS[name], short, mode, seed)["values"]
                longer = run_once(optimizer, PROBLEMS[name], long, mode, seed)["values"]
                same = longer[: len(first)] == first
                ok = ok and same
                verdict = "same" if same else "DIFFERENT"
                print(f"{optimizer} {name} {mode}: first {short} of {long} trials {verdict}")
    return ok


def main() -> None:
    parser = base_parser(__doc__)
    parser.add_argument("--problems", nargs="+", help="names, or 'sklearn' / 'synthetic'")
    parser.add_argument("--optimizers", nargs="+", choices=OPTIMIZERS, default=list(OPTIMIZERS))
    parser.add_argument("--budgets", nargs="+", type=int, default=list(DEFAULT_BUDGETS))
    parser.add_argument("--modes", nargs="+", choices=list(MODES), default=list(MODES))
    parser.add_argument("--seeds", nargs="+", default=["0-9"], help="e.g. 0-9, or 0 1 2")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, help=f"results directory (default {DEFAULT_OUT})")
    parser.add_argument(
        "--max-minutes",
        type=float,
        help="start no new run after this many minutes (resume later with the same command)",
    )
    parser.add_argument(
        "--check-prefix",
        action="store_true",
        help="check that shorter runs are the first trials of longer ones, then exit",
    )
    args = parser.parse_args()
    if args.check_prefix:
        sys.exit(0 if check_prefix(args.optimizers) else 1)

    if args.quick:
        args.problems = args.problems or list(QUICK_PROBLEMS)
        args.budgets = [12]
        args.seeds = ["0-1"]
    out: Path = args.out or (QUICK_OUT if args.quick else DEFAULT_OUT)
    out.mkdir(parents=True, exist_ok=True)
    path = out / RUNS_FILE
    problems = [p.name for p in get_problems(args.problems)]
    seeds = parse_seeds(args.seeds)
    already = done_keys(path)
    tasks = [
        t
        for t in plan(problems, args.optimizers, args.budgets, args.modes, seeds)
        if t not in already
    ]
    info = machine_info()
    (out / "machine.json").write_text(json.dumps(info, indent=2) + "\n")
    print(
        f"{len(tasks)} runs to do ({len(already)} already in {path}); "
        f"problems {', '.join(problems)}; budgets {args.budgets}; modes {args.modes}; "
        f"seeds {seeds[0]}..{seeds[-1]} ({len(seeds)}); {args.workers} workers",
        flush=True,
    )
    load = OtherLoad()
    start = time.perf_counter()
    deadline = math.inf if args.max_minutes is None else start + 60 * args.max_minutes
    failures = 0
    finished = 0
    context = multiprocessing.get_context("spawn")
    with context.Pool(args.workers, initializer=_init_worker) as pool, path.open("a") as sink:
        pending: list[Any] = []
        queue = iter(tasks)
        stopped = False

        def submit() -> None:
            nonlocal stopped
            if stopped or time.perf_counter() > deadline:
                stopped = True
                return
            task = next(queue, None)
            if task is None:
                stopped = True
                return
            pending.append(pool.apply_async(_execute, (task,)))

        for _ in range(2 * args.workers):
            submit()
        while pending:
            ready = [job for job in pending if job.ready()]
            if not ready:
                time.sleep(0.05)
                continue
            for job in ready:
                pending.remove(job)
                record = job.get()
                sink.write(json.dumps(record) + "\n")
                sink.flush()
                finished += 1
                if "error" in record:
                    failures += 1
                    print(f"FAILED {run_key(record)}: {record['error']}", flush=True)
                elif finished % 25 == 0:
                    elapsed = time.perf_counter() - start
                    print(f"{finished}/{len(tasks)} runs, {elapsed:.0f} s", flush=True)
                submit()
    elapsed = time.perf_counter() - start
    left = len(tasks) - finished
    print(
        f"{finished} runs in {elapsed:.0f} s ({failures} failed, {left} not started); "
        f"results in {path}"
    )
    print(load.report())
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {"runs": finished, "failed": failures, "left": left, "wall_s": elapsed}, indent=2
            )
            + "\n"
        )


if __name__ == "__main__":
    main()
