"""The optimizers of the quality benchmark and the loops that drive them.

Ours run through ``sherpa.Study`` (``get_suggestion`` / ``add_observation`` / ``finalize``),
seeded with ``seed=`` and ``Study(random_seed=...)``:

* ``sherpa-bo``: ``sherpa.algorithms.BayesianOptimization(max_num_trials=budget)``;
* ``sherpa-tpe``: ``sherpa.algorithms.TPE(max_num_trials=budget)`` (from
  ``sherpa.algorithms._tpe`` while it is not exported yet);
* ``sherpa-random``: ``sherpa.algorithms.RandomSearch(max_num_trials=budget)``;
* ``sherpa-grid``: ``sherpa.algorithms.GridSearch(num_grid_points=n)`` with the largest
  ``n >= 2`` whose grid has at most ``budget`` points; not run where even ``n = 2`` is too
  big. A grid draws no random numbers, so it is run for one seed only and scored with that
  one result for every seed.

Optuna's samplers run through an in-memory ``optuna.create_study`` with ``ask`` / ``tell``,
with their default settings and ``seed=``: ``optuna-tpe`` (``TPESampler``), ``optuna-gp``
(``GPSampler``) and ``optuna-random`` (``RandomSampler``). In ``batch4`` mode
``TPESampler`` gets ``constant_liar=True``, as Optuna's documentation advises for parallel
trials (our TPE has a constant liar on by default); ``GPSampler`` has no such option.

Modes: ``sequential`` (one trial at a time) and ``batch4`` (ask four suggestions before
telling any: four ``study.get_suggestion()`` calls before the four are finalized, or four
``study.ask()`` before ``tell``).
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import sherpa
from sherpa.trial import AlgorithmState

if TYPE_CHECKING:
    from problems import Problem

__all__ = [
    "BUDGET_DEPENDENT",
    "MODES",
    "OPTIMIZERS",
    "OURS",
    "THEIRS",
    "grid_points_for",
    "run_once",
]

OURS = ("sherpa-bo", "sherpa-tpe", "sherpa-random", "sherpa-grid")
THEIRS = ("optuna-tpe", "optuna-gp", "optuna-random")
OPTIMIZERS = (*OURS, *THEIRS)
RANDOM_BASELINE = "sherpa-random"
"""The random search whose median defines a normalized regret of 1."""
MODES = {"sequential": 1, "batch4": 4}
"""Mode name to how many suggestions are asked for before any is told."""
SEED_INDEPENDENT = ("sherpa-grid",)
BUDGET_DEPENDENT = ("sherpa-grid",)
"""Optimizers whose suggestions depend on the budget. For every other one, the first B trials
of a run with a larger budget are exactly the run with budget B (same seed and mode): the
budget only ends the run, and in ``batch4`` mode a batch's suggestions are asked for one after
the other, so a trial never depends on those asked after it. ``run.py --check-prefix``
verifies this; ``scoring.load_runs`` derives the shorter runs from the longer ones."""


def tpe_class() -> type[Any]:
    """``sherpa.algorithms.TPE``, or the module it lives in while it is not exported."""
    tpe = getattr(sherpa.algorithms, "TPE", None)
    if tpe is None:
        from sherpa.algorithms._tpe import TPE as tpe
    return tpe  # type: ignore[no-any-return]


def grid_points_for(problem: Problem, budget: int) -> int | None:
    """The most grid points per numeric parameter whose grid fits in ``budget`` (None: none)."""
    parameters = problem.parameters()
    best = None
    for n in range(2, budget + 1):
        size = math.prod(len(p.grid_points(n)) for p in parameters)
        if size > budget:
            break
        best = n
        if all(not isinstance(p, (sherpa.Continuous, sherpa.Discrete)) for p in parameters):
            break
    return best


def applicable(optimizer: str, problem: Problem, budget: int) -> bool:
    """Whether ``optimizer`` runs on ``problem`` at ``budget`` (a grid must fit)."""
    return optimizer != "sherpa-grid" or grid_points_for(problem, budget) is not None


def _sherpa_algorithm(optimizer: str, problem: Problem, budget: int, seed: int) -> Any:
    algorithms = sherpa.algorithms
    if optimizer == "sherpa-bo":
        return algorithms.BayesianOptimization(max_num_trials=budget, seed=seed)
    if optimizer == "sherpa-tpe":
        return tpe_class()(max_num_trials=budget, seed=seed)
    if optimizer == "sherpa-random":
        return algorithms.RandomSearch(max_num_trials=budget, seed=seed)
    if optimizer == "sherpa-grid":
        points = grid_points_for(problem, budget)
        if points is None:
            raise ValueError(f"no grid of {problem.name} fits in {budget} trials")
        return algorithms.GridSearch(num_grid_points=points)
    raise ValueError(f"unknown optimizer {optimizer!r}")


def _run_sherpa(
    optimizer: str, problem: Problem, budget: int, batch: int, seed: int
) -> tuple[list[float], list[float]]:
    study = sherpa.Study(
        parameters=problem.parameters(),
        algorithm=_sherpa_algorithm(optimizer, problem, budget, seed),
        lower_is_better=True,
        disable_dashboard=True,
        random_seed=seed,
    )
    values: list[float] = []
    spent: list[float] = []
    done = False
    while not done and len(values) < budget:
        trials = []
        start = time.perf_counter()
        while len(trials) < min(batch, budget - len(values)):
            suggestion = study.get_suggestion()
            if suggestion is None or isinstance(suggestion, AlgorithmState):
                done = suggestion is not AlgorithmState.WAIT or not trials
                break
            trials.append(suggestion)
        asking = time.perf_counter() - start
        if not trials:
            break
        results = [problem.evaluate(dict(trial.parameters)) for trial in trials]
        start = time.perf_counter()
        for trial, value in zip(trials, results, strict=True):
            study.add_observation(trial, objective=value)
            study.finalize(trial)
        _add_batch_time(spent, len(trials), asking + time.perf_counter() - start)
        values.extend(results)
    return values, spent


def _add_batch_time(spent: list[float], trials: int, seconds: float) -> None:
    """Append the running total of optimizer time once per trial of a batch."""
    total = (spent[-1] if spent else 0.0) + seconds
    spent.extend([total] * trials)


def quiet_optuna() -> None:
    """Silence Optuna's logging and its experimental-feature warnings."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    logging.getLogger("optuna").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="optuna")
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def optuna_sampler(optimizer: str, seed: int, batch: int) -> Any:
    """The Optuna sampler ``optimizer`` names, seeded."""
    import optuna

    samplers: dict[str, Callable[[], Any]] = {
        "optuna-tpe": lambda: optuna.samplers.TPESampler(seed=seed, constant_liar=batch > 1),
        "optuna-gp": lambda: optuna.samplers.GPSampler(seed=seed),
        "optuna-random": lambda: optuna.samplers.RandomSampler(seed=seed),
    }
    if optimizer not in samplers:
        raise ValueError(f"unknown optimizer {optimizer!r}")
    return samplers[optimizer]()


def _run_optuna(
    optimizer: str, problem: Problem, budget: int, batch: int, seed: int
) -> tuple[list[float], list[float]]:
    import optuna

    quiet_optuna()
    study = optuna.create_study(
        direction="minimize", sampler=optuna_sampler(optimizer, seed, batch)
    )
    values: list[float] = []
    spent: list[float] = []
    while len(values) < budget:
        start = time.perf_counter()
        asked = []
        for _ in range(min(batch, budget - len(values))):
            trial = study.ask()
            asked.append((trial, problem.suggest(trial)))
        asking = time.perf_counter() - start
        results = [problem.evaluate(config) for _, config in asked]
        start = time.perf_counter()
        for (trial, _), value in zip(asked, results, strict=True):
            study.tell(trial, value)
        _add_batch_time(spent, len(asked), asking + time.perf_counter() - start)
        values.extend(results)
    return values, spent


def run_once(
    optimizer: str, problem: Problem, budget: int, mode: str, seed: int
) -> dict[str, Any]:
    """One optimization run; returns the objective of every trial in order and the times.

    Keys: ``values`` (objectives in the order suggested), ``best``, ``trials``,
    ``optimizer_s`` (time in the optimizer: suggesting, and recording results),
    ``optimizer_s_after`` (that time's running total after each trial, counted per batch),
    ``wall_s``.
    """
    batch = MODES[mode]
    start = time.perf_counter()
    if optimizer in OURS:
        values, spent = _run_sherpa(optimizer, problem, budget, batch, seed)
    elif optimizer in THEIRS:
        values, spent = _run_optuna(optimizer, problem, budget, batch, seed)
    else:
        raise ValueError(f"unknown optimizer {optimizer!r}; known: {', '.join(OPTIMIZERS)}")
    wall = time.perf_counter() - start
    finite = [v for v in values if math.isfinite(v)]
    return {
        "values": values,
        "best": min(finite) if finite else math.nan,
        "trials": len(values),
        "optimizer_s": spent[-1] if spent else 0.0,
        "optimizer_s_after": spent,
        "wall_s": wall,
    }
