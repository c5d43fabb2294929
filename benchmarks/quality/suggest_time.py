"""Suggestion time as the history grows, for sherpa's and Optuna's optimizers.

Measured: on a 6-D mixed space (a log-scale float, a float, a log-scale int, an int, a
three-way Choice and a four-value Ordinal), for each optimizer of ``optimizers.py`` and
each history size (10, 100, 500 and 2,000 completed trials with random configurations and
random objective values; no model is evaluated), the median wall time of one suggestion
over ``--repeats`` suggestions (each then completed with a random value, so the history
grows by one per suggestion), after one untimed suggestion that pays one-off costs (imports,
first-call set-up) on both sides:

* sherpa: ``study.get_suggestion()`` of a ``sherpa.Study`` whose history was added with
  ``add_trial`` / ``add_observation`` / ``finalize`` (building the results table the
  algorithm reads is part of the time, as it is for users);
* Optuna: ``study.ask()`` and the six ``suggest_*`` calls on an in-memory study whose
  history was added with ``add_trials`` (the sampler works inside those calls).

Optuna has no ordinal type; the Ordinal is ``suggest_categorical`` there. Every
measurement runs in its own forked process, single-threaded (BLAS, OpenMP, torch), and is
abandoned when one suggestion takes more than ``--limit`` seconds (20 by default); larger
histories are then skipped for that optimizer. Repeats stop early once a size has used 30 s.

Goal (project issue): at 500 trials, our suggestion time no more than Optuna's for the same
kind of model (BayesianOptimization vs GPSampler, TPE vs TPESampler, RandomSearch vs
RandomSampler).

Usage: python benchmarks/quality/suggest_time.py [--sizes 10 100 500 2000] [--repeats 5]
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import math  # noqa: E402
import multiprocessing  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from multiprocessing.connection import Connection  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import (  # noqa: E402
    OtherLoad,
    base_parser,
    machine_info,
    median,
    print_header,
    print_table,
    verdict,
    write_json,
)
from optimizers import OPTIMIZERS, OURS, optuna_sampler, quiet_optuna, tpe_class  # noqa: E402

import sherpa  # noqa: E402
from sherpa.trial import Trial  # noqa: E402

PAIRS = (
    ("sherpa-bo", "optuna-gp"),
    ("sherpa-tpe", "optuna-tpe"),
    ("sherpa-random", "optuna-random"),
)
GOAL_SIZE = 500
SIZE_BUDGET_S = 30.0
SETUP_LIMIT_S = 10.0
"""Seconds allowed for building the history, on top of the untimed first suggestion."""
ACTIVATIONS = ["relu", "tanh", "elu"]
BATCH_SIZES = [16, 32, 64, 128]


def sherpa_space() -> list[sherpa.Parameter]:
    return [
        sherpa.Continuous("lr", [1e-5, 1e-1], scale="log"),
        sherpa.Continuous("dropout", [0.0, 0.5]),
        sherpa.Discrete("units", [16, 512], scale="log"),
        sherpa.Discrete("layers", [1, 8]),
        sherpa.Choice("activation", ACTIVATIONS),
        sherpa.Ordinal("batch_size", BATCH_SIZES),
    ]


def optuna_space() -> dict[str, Any]:
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    return {
        "lr": FloatDistribution(1e-5, 1e-1, log=True),
        "dropout": FloatDistribution(0.0, 0.5),
        "units": IntDistribution(16, 512, log=True),
        "layers": IntDistribution(1, 8),
        "activation": CategoricalDistribution(ACTIVATIONS),
        "batch_size": CategoricalDistribution(BATCH_SIZES),
    }


def _optuna_suggest(trial: Any) -> dict[str, Any]:
    return {
        "lr": trial.suggest_float("lr", 1e-5, 1e-1, log=True),
        "dropout": trial.suggest_float("dropout", 0.0, 0.5),
        "units": trial.suggest_int("units", 16, 512, log=True),
        "layers": trial.suggest_int("layers", 1, 8),
        "activation": trial.suggest_categorical("activation", ACTIVATIONS),
        "batch_size": trial.suggest_categorical("batch_size", BATCH_SIZES),
    }


def _sherpa_algorithm(optimizer: str, seed: int) -> Any:
    if optimizer == "sherpa-bo":
        return sherpa.algorithms.BayesianOptimization(seed=seed)
    if optimizer == "sherpa-tpe":
        return tpe_class()(seed=seed)
    if optimizer == "sherpa-random":
        return sherpa.algorithms.RandomSearch(seed=seed)
    return sherpa.algorithms.GridSearch(num_grid_points=3)


def _measure(optimizer: str, size: int, repeats: int, seed: int, pipe: Connection) -> None:
    """In a child: build a history of ``size`` trials, then time suggestions; report each."""
    import warnings

    warnings.filterwarnings("ignore")
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover
        pass
    rng = np.random.default_rng(seed)
    parameters = sherpa_space()
    start = time.perf_counter()
    if optimizer in OURS:
        study = sherpa.Study(
            parameters,
            _sherpa_algorithm(optimizer, seed),
            lower_is_better=True,
            disable_dashboard=True,
            random_seed=seed,
        )
        for number in range(1, size + 1):
            trial = Trial(id=number, parameters={p.name: p.sample(rng) for p in parameters})
            study.add_trial(trial)
            study.add_observation(trial, objective=float(rng.random()))
            study.finalize(trial)
        for index in range(repeats + 1):  # the first, untimed, pays one-off imports
            begin = time.perf_counter()
            suggestion = study.get_suggestion()
            elapsed = time.perf_counter() - begin
            if not isinstance(suggestion, Trial):
                pipe.send(("error", f"get_suggestion returned {suggestion!r}"))
                return
            study.add_observation(suggestion, objective=float(rng.random()))
            study.finalize(suggestion)
            pipe.send(("suggest", elapsed) if index else ("setup", time.perf_counter() - start))
    else:
        import optuna

        quiet_optuna()
        distributions = optuna_space()
        study = optuna.create_study(sampler=optuna_sampler(optimizer, seed, 1))
        history = []
        for _ in range(size):
            params = {p.name: p.sample(rng) for p in parameters}
            history.append(
                optuna.trial.create_trial(
                    params=params, distributions=distributions, value=float(rng.random())
                )
            )
        study.add_trials(history)
        for index in range(repeats + 1):
            begin = time.perf_counter()
            trial = study.ask()
            _optuna_suggest(trial)
            elapsed = time.perf_counter() - begin
            study.tell(trial, float(rng.random()))
            pipe.send(("suggest", elapsed) if index else ("setup", time.perf_counter() - start))
    pipe.send(("done", 0.0))


def measure(
    optimizer: str, size: int, repeats: int, seed: int, limit: float
) -> tuple[list[float], str | None]:
    """Suggestion times in seconds, and why the measurement stopped short (None: it did not)."""
    context = multiprocessing.get_context("fork")
    parent, child = context.Pipe(duplex=False)
    process = context.Process(target=_measure, args=(optimizer, size, repeats, seed, child))
    process.start()
    child.close()
    times: list[float] = []
    problem: str | None = None
    waited_for = SETUP_LIMIT_S + limit
    spent = 0.0
    try:
        while True:
            if not parent.poll(waited_for):
                problem = (
                    f"one suggestion took over {limit:.0f} s"
                    if waited_for == limit
                    else f"building the history and one untimed suggestion took over "
                    f"{SETUP_LIMIT_S + limit:.0f} s"
                )
                break
            try:
                kind, value = parent.recv()
            except EOFError:
                problem = "the measuring process died"
                break
            if kind == "done":
                break
            if kind == "error":
                problem = str(value)
                break
            if kind == "suggest":
                times.append(float(value))
                spent += float(value)
                if spent > SIZE_BUDGET_S:
                    break
            waited_for = limit
    finally:
        if process.is_alive():
            process.kill()
        process.join()
    return times, problem


def _ms(value: float) -> str:
    return f"{value:.3g}" if value < 100 else f"{value:.0f}"


def main() -> None:
    parser = base_parser(__doc__)
    parser.add_argument("--sizes", nargs="+", type=int, default=[10, 100, 500, 2000])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--optimizers", nargs="+", choices=OPTIMIZERS, default=list(OPTIMIZERS))
    parser.add_argument("--limit", type=float, default=20.0, help="seconds per suggestion")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.repeats = [10, 100], 2
    info = machine_info()
    print_header("Suggestion time as the history grows (6-D mixed space)", info)
    load = OtherLoad()
    results: dict[str, dict[int, dict[str, Any]]] = {}
    for optimizer in args.optimizers:
        results[optimizer] = {}
        skipping: str | None = None
        for size in args.sizes:
            if skipping is not None:
                results[optimizer][size] = {"median_ms": math.nan, "skipped": skipping}
                continue
            times, problem = measure(optimizer, size, args.repeats, args.seed, args.limit)
            entry: dict[str, Any] = {
                "median_ms": median(times) * 1000 if times else math.nan,
                "times_ms": [t * 1000 for t in times],
            }
            if problem is not None:
                entry["skipped"] = problem
                if not times:
                    skipping = f"skipped: at {size} trials {problem}"
            results[optimizer][size] = entry
            note = f" ({problem})" if problem else ""
            print(
                f"{optimizer} at {size}: {entry['median_ms']:.1f} ms over {len(times)}{note}",
                flush=True,
            )
    print()
    rows = []
    for optimizer, by_size in results.items():
        row: list[object] = [optimizer]
        for size in args.sizes:
            entry = by_size[size]
            if entry.get("times_ms"):
                row.append(f"{_ms(entry['median_ms'])} ({len(entry['times_ms'])})")
            else:
                row.append("skipped" if "skipped" in entry else "n/a")
        rows.append(row)
    print("Median ms per suggestion (number of suggestions timed):")
    print()
    print_table(["optimizer", *(f"{s} trials" for s in args.sizes)], rows)
    skipped = [
        f"{o} at {s}: {e['skipped']}"
        for o, by_size in results.items()
        for s, e in by_size.items()
        if "skipped" in e
    ]
    for line in skipped:
        print(f"- {line}")
    goal_rows = []
    if GOAL_SIZE in args.sizes:
        for ours, theirs in PAIRS:
            if ours not in results or theirs not in results:
                continue
            a = results[ours][GOAL_SIZE]["median_ms"]
            b = results[theirs][GOAL_SIZE]["median_ms"]
            met = verdict(a <= b) if not (math.isnan(a) or math.isnan(b)) else "n/a"
            goal_rows.append([f"{ours} <= {theirs} at {GOAL_SIZE} trials", a, b, met])
    if goal_rows:
        print()
        print_table(["goal", "ours ms", "theirs ms", "status"], goal_rows)
    print(load.report())
    write_json(
        args.json,
        {"machine": info, "sizes": args.sizes, "repeats": args.repeats, "results": results},
    )


if __name__ == "__main__":
    main()
