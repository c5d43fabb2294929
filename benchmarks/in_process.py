"""In-process speed: sherpa.Study's ask/observe/finalize loop against Optuna's ask/report/tell.

Measured, in one process: 3,000 trials, each asked for, given 5 observations and finalized,
then the best result looked up, for

* sherpa: ``sherpa.Study(parameters, RandomSearch(), lower_is_better=True,
  disable_dashboard=True)`` with ``get_suggestion`` / ``add_observation`` x5 /
  ``finalize``, then ``get_best_result()``;
* Optuna: an in-memory study with ``RandomSampler``, ``study.ask(distributions)`` /
  ``trial.report(value, step)`` x5 / ``study.tell(trial, value)``, then ``best_trial``;

over the same space: a log-scale float, a float and a three-way categorical. A short
untimed warm-up run of each engine comes first (one-off imports: numpy for sherpa's
sampling, pandas for its results table; its cold best-result lookup is reported apart).
Then the two alternate, ``--repeats`` times each; figures are medians over the repeats.
Also sherpa's per-trial cost in the first and the last quarter of the trials (does a trial
get dearer as the study grows?).

Goals (project issue): sherpa's per-trial cost no higher than Optuna's; its last quarter
within 1.2x of its first.

Usage: python benchmarks/in_process.py [--trials 3000] [--steps 5] [--repeats 5]
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
import warnings
from collections.abc import Callable
from typing import Any

from _common import (
    OtherLoad,
    base_parser,
    machine_info,
    median,
    print_header,
    print_table,
    verdict,
    write_json,
)

GOAL_QUARTER_RATIO = 1.2
WARM_UP_TRIALS = 50
ACTIVATIONS = ("relu", "tanh", "sigmoid")


def objective(lr: float, dropout: float, activation: str, step: int) -> float:
    """A cheap objective with a clear optimum, so both engines have something to rank."""
    return (math.log10(lr) + 2.5) ** 2 + dropout + 0.1 * ACTIVATIONS.index(activation) + 1 / step


@dataclasses.dataclass
class Run:
    """One engine's pass over the workload."""

    engine: str
    per_trial_s: list[float]
    cpu_s: float
    best_s: float
    best_value: float

    @property
    def mean_ms(self) -> float:
        return sum(self.per_trial_s) / len(self.per_trial_s) * 1000

    def quarter_ms(self, which: int) -> float:
        """Mean per-trial cost in quarter ``which`` (0 = first, 3 = last) of the trials."""
        n = len(self.per_trial_s)
        part = self.per_trial_s[which * n // 4 : (which + 1) * n // 4]
        return sum(part) / len(part) * 1000

    @property
    def cpu_ms(self) -> float:
        """This process's CPU time per trial (less sensitive than wall time to other load)."""
        return self.cpu_s / len(self.per_trial_s) * 1000

    @property
    def total_s(self) -> float:
        return sum(self.per_trial_s) + self.best_s


def run_sherpa(trials: int, steps: int, storage: str | None = None, seed: int = 0) -> Run:
    """The workload through ``sherpa.Study`` (in memory, or with ``storage``)."""
    import sherpa

    parameters = [
        sherpa.Continuous("lr", [1e-4, 1e-1], scale="log"),
        sherpa.Continuous("dropout", [0.0, 0.5]),
        sherpa.Choice("activation", list(ACTIVATIONS)),
    ]
    study = sherpa.Study(
        parameters,
        sherpa.algorithms.RandomSearch(seed=seed),
        lower_is_better=True,
        disable_dashboard=True,
        storage=storage,
    )
    per_trial = []
    clock = time.perf_counter
    cpu_start = time.process_time()
    for _ in range(trials):
        start = clock()
        trial = study.get_suggestion()
        assert isinstance(trial, sherpa.Trial)
        p = trial.parameters
        for step in range(1, steps + 1):
            value = objective(p["lr"], p["dropout"], p["activation"], step)
            study.add_observation(trial, objective=value, iteration=step)
        study.finalize(trial)
        per_trial.append(clock() - start)
    cpu_s = time.process_time() - cpu_start
    start = clock()
    best = study.get_best_result()
    best_s = clock() - start
    if study.storage is not None:
        study.storage.close()
    return Run("sherpa", per_trial, cpu_s, best_s, float(best["Objective"]))


def run_optuna(trials: int, steps: int, storage: str | None = None, seed: int = 0) -> Run:
    """The workload through Optuna's ask-and-tell interface (in memory, or with ``storage``)."""
    import optuna
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("optuna").setLevel(logging.WARNING)
    distributions = {
        "lr": FloatDistribution(1e-4, 1e-1, log=True),
        "dropout": FloatDistribution(0.0, 0.5),
        "activation": CategoricalDistribution(list(ACTIVATIONS)),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = optuna.create_study(
            direction="minimize", sampler=optuna.samplers.RandomSampler(seed=seed), storage=storage
        )
    per_trial = []
    clock = time.perf_counter
    cpu_start = time.process_time()
    for _ in range(trials):
        start = clock()
        trial = study.ask(distributions)
        p = trial.params
        value = math.nan
        for step in range(1, steps + 1):
            value = objective(p["lr"], p["dropout"], p["activation"], step)
            trial.report(value, step)
        study.tell(trial, value)
        per_trial.append(clock() - start)
    cpu_s = time.process_time() - cpu_start
    start = clock()
    best = study.best_trial
    best_s = clock() - start
    return Run("optuna", per_trial, cpu_s, best_s, float(best.value or math.nan))


def alternate(
    runners: dict[str, Callable[[], Run]], repeats: int, progress: bool = True
) -> dict[str, list[Run]]:
    """Run each of ``runners`` ``repeats`` times, alternating which goes first."""
    runs: dict[str, list[Run]] = {name: [] for name in runners}
    names = list(runners)
    for rep in range(repeats):
        for name in names if rep % 2 == 0 else names[::-1]:
            run = runners[name]()
            runs[name].append(run)
            if progress:
                print(f"  {name} run {rep + 1}: {run.total_s:.2f} s", flush=True)
    return runs


def summary(runs: list[Run]) -> dict[str, Any]:
    """Medians over the repeats of one engine."""
    return {
        "per_trial_ms": median([r.mean_ms for r in runs]),
        "cpu_per_trial_ms": median([r.cpu_ms for r in runs]),
        "first_quarter_ms": median([r.quarter_ms(0) for r in runs]),
        "last_quarter_ms": median([r.quarter_ms(3) for r in runs]),
        "quarter_ratio": median([r.quarter_ms(3) / r.quarter_ms(0) for r in runs]),
        "best_ms": median([r.best_s * 1000 for r in runs]),
        "total_s": median([r.total_s for r in runs]),
        "runs_per_trial_ms": [r.mean_ms for r in runs],
    }


def main() -> None:
    parser = base_parser(__doc__)
    parser.add_argument("--trials", type=int, default=3000)
    parser.add_argument("--steps", type=int, default=5, help="observations per trial")
    parser.add_argument("--repeats", type=int, default=5, help="runs of each engine")
    args = parser.parse_args()
    if args.quick:
        args.trials, args.repeats = 200, 1

    watch = OtherLoad()
    info = machine_info()
    print_header("In-process speed: sherpa.Study vs Optuna ask/tell (in memory)", info)
    cold = {
        "sherpa": run_sherpa(WARM_UP_TRIALS, args.steps),
        "optuna": run_optuna(WARM_UP_TRIALS, args.steps),
    }
    runs = alternate(
        {
            "sherpa": lambda: run_sherpa(args.trials, args.steps),
            "optuna": lambda: run_optuna(args.trials, args.steps),
        },
        args.repeats,
    )
    print()
    stats = {name: summary(r) for name, r in runs.items()}
    rows = [
        [
            name,
            f"{s['per_trial_ms']:.3f}",
            f"{s['cpu_per_trial_ms']:.3f}",
            f"{s['first_quarter_ms']:.3f}",
            f"{s['last_quarter_ms']:.3f}",
            f"{s['quarter_ratio']:.2f}x",
            f"{s['best_ms']:.1f}",
            f"{s['total_s']:.2f}",
        ]
        for name, s in stats.items()
    ]
    print(
        f"{args.trials} trials x {args.steps} observations, median of {args.repeats} runs "
        f"(after a warm-up run; sherpa's first get_best_result in a process, which imports "
        f"pandas, took {cold['sherpa'].best_s * 1000:.0f} ms):"
    )
    print_table(
        [
            "engine",
            "per trial ms",
            "CPU ms/trial",
            "Q1 ms/trial",
            "Q4 ms/trial",
            "Q4/Q1",
            "best lookup ms",
            "total s",
        ],
        rows,
    )
    ratio = stats["sherpa"]["per_trial_ms"] / stats["optuna"]["per_trial_ms"]
    quarter = stats["sherpa"]["quarter_ratio"]
    goals = {
        "per_trial_not_above_optuna": ratio <= 1.0,
        "last_quarter_within_1_2x": quarter <= GOAL_QUARTER_RATIO,
    }
    print_table(
        ["goal", "measured", "status"],
        [
            [
                "sherpa / optuna per trial <= 1",
                f"{ratio:.2f}x",
                verdict(goals["per_trial_not_above_optuna"]),
            ],
            [
                f"sherpa Q4 / Q1 <= {GOAL_QUARTER_RATIO}",
                f"{quarter:.2f}x",
                verdict(goals["last_quarter_within_1_2x"]),
            ],
        ],
    )
    print(watch.report())
    info["other_load_cores"] = watch.cores()
    write_json(
        args.json,
        {
            "benchmark": "in_process",
            "machine": info,
            "trials": args.trials,
            "steps": args.steps,
            "repeats": args.repeats,
            "engines": stats,
            "cold_best_lookup_ms": {name: run.best_s * 1000 for name, run in cold.items()},
            "sherpa_vs_optuna": ratio,
            "goals": goals,
        },
    )


if __name__ == "__main__":
    main()
