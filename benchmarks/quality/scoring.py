"""Scoring of the quality benchmark: normalized regret, intervals, ranks, wins and losses.

For one problem, budget and mode (a *group*):

* ``reference``: the best value seen in any run of the problem (every optimizer, budget,
  mode and seed);
* ``random_median``: the median, over seeds, of the best value random search found at this
  budget and mode (``sherpa-random`` and ``optuna-random`` pooled: both are uniform random
  search over the same space);
* normalized regret of a run: ``(best found - reference) / (random_median - reference)``;
  0 is the best value seen, 1 the median random search, above 1 worse than it.

A group whose random median already equals the reference (random search finds the best value
seen in half its runs) cannot be normalized; it is left out and listed as degenerate.

Only seeds for which every optimizer of the group has a result are scored, so that all
optimizers are compared on the same seeds. An optimizer that draws no random numbers
(``sherpa-grid``) runs once; that result stands for every seed.

Aggregates, for a set of groups:

* mean normalized regret per optimizer over groups x seeds, with a 95 % interval from a
  bootstrap that resamples seeds within each problem (2,000 resamples, fixed seed);
* mean rank: in each group and seed, the optimizers (all but the grid, which does not run
  everywhere) are ranked by best value found, ties getting the average rank; ranks are
  averaged over seeds per problem, then over problems;
* wins, ties and losses of each of ours against each Optuna sampler: per group, the
  difference of their mean normalized regrets; within ``tolerance`` (default 0.05) it is a
  tie.
"""

from __future__ import annotations

import dataclasses
import json
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from optimizers import BUDGET_DEPENDENT, OPTIMIZERS, OURS, SEED_INDEPENDENT, THEIRS

__all__ = [
    "Group",
    "Summary",
    "build_groups",
    "goals",
    "load_runs",
    "mean_ranks",
    "per_problem_regret",
    "summarize",
    "wins_ties_losses",
]

BASELINES = ("sherpa-random", "optuna-random")
TOLERANCE = 0.05
BOOTSTRAP_SAMPLES = 2000
UNRANKED = SEED_INDEPENDENT


def _key(record: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(record[k] for k in ("problem", "optimizer", "budget", "mode", "seed"))


def load_runs(
    paths: Iterable[str | Path], budgets: Iterable[int] = ()
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The successful and the failed runs in these JSON-lines files (a later line wins).

    For each budget in ``budgets`` that a successful run exceeds, the run at that budget is
    derived from the longer run's first trials (unless the files hold it), for the optimizers
    whose suggestions do not depend on the budget (see ``optimizers.BUDGET_DEPENDENT``).
    """
    latest: dict[tuple[Any, ...], dict[str, Any]] = {}
    for path in paths:
        for line in Path(path).read_text().splitlines():
            if not line.strip():
                continue
            record = json.loads(line)
            key = _key(record)
            if "error" in record and key in latest and "error" not in latest[key]:
                continue
            latest[key] = record
    ok = [r for r in latest.values() if "error" not in r]
    failed = [r for r in latest.values() if "error" in r]
    derived: dict[tuple[Any, ...], dict[str, Any]] = {}
    for record in sorted(ok, key=lambda r: r["budget"]):  # the shortest longer run wins
        for budget in budgets:
            prefix = truncated(record, budget)
            if prefix is not None and _key(prefix) not in latest:
                derived.setdefault(_key(prefix), prefix)
    return ok + list(derived.values()), failed


def truncated(record: dict[str, Any], budget: int) -> dict[str, Any] | None:
    """The run ``record`` would have been with ``budget`` trials (None: not derivable)."""
    if record["optimizer"] in BUDGET_DEPENDENT or not budget < record["budget"]:
        return None
    values = record["values"][:budget]  # all of them when the optimizer stopped early
    finite = [v for v in values if math.isfinite(v)]
    after = record.get("optimizer_s_after") or []
    spent = after[len(values) - 1] if values and len(after) >= len(values) else math.nan
    return {
        **record,
        "budget": budget,
        "values": values,
        "best": min(finite) if finite else math.nan,
        "trials": len(values),
        "optimizer_s": spent,
        "optimizer_s_after": after[: len(values)],
        "derived_from_budget": record["budget"],
    }


@dataclasses.dataclass
class Group:
    """The runs of one problem at one budget and mode, scored."""

    problem: str
    kind: str
    budget: int
    mode: str
    reference: float
    random_median: float
    seeds: list[int]
    best: dict[str, list[float]]
    """Optimizer to the best value found, one per scored seed."""
    optimizer_s: dict[str, list[float]]

    @property
    def degenerate(self) -> bool:
        scale = max(1.0, abs(self.reference))
        return not (self.random_median - self.reference > 1e-12 * scale)

    def regret(self, optimizer: str) -> np.ndarray:
        denominator = self.random_median - self.reference
        return (np.asarray(self.best[optimizer]) - self.reference) / denominator


def build_groups(runs: Sequence[dict[str, Any]]) -> list[Group]:
    """One :class:`Group` per problem, budget and mode in ``runs``."""
    reference: dict[str, float] = {}
    for run in runs:
        if math.isfinite(run["best"]):
            reference[run["problem"]] = min(reference.get(run["problem"], math.inf), run["best"])
    cells: dict[tuple[str, int, str], dict[str, dict[int, dict[str, Any]]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    kinds: dict[str, str] = {}
    for run in runs:
        cells[(run["problem"], run["budget"], run["mode"])][run["optimizer"]][run["seed"]] = run
        kinds[run["problem"]] = run["kind"]
    groups = []
    for (problem, budget, mode), by_optimizer in sorted(cells.items()):
        seeded = [o for o in by_optimizer if o not in SEED_INDEPENDENT]
        if not seeded:
            continue
        seeds = sorted(set.intersection(*(set(by_optimizer[o]) for o in seeded)))
        baselines = [o for o in BASELINES if o in by_optimizer]
        if not seeds or not baselines:
            continue
        randoms = [by_optimizer[o][s]["best"] for o in baselines for s in seeds]
        best: dict[str, list[float]] = {}
        times: dict[str, list[float]] = {}
        for optimizer in OPTIMIZERS:
            runs_of = by_optimizer.get(optimizer)
            if not runs_of:
                continue
            if optimizer in SEED_INDEPENDENT:
                only = runs_of[min(runs_of)]
                chosen = [only] * len(seeds)
            else:
                chosen = [runs_of[s] for s in seeds]
            best[optimizer] = [float(r["best"]) for r in chosen]
            times[optimizer] = [float(r["optimizer_s"]) for r in chosen]
        groups.append(
            Group(
                problem,
                kinds[problem],
                budget,
                mode,
                reference[problem],
                statistics.median(randoms),
                seeds,
                best,
                times,
            )
        )
    return groups


@dataclasses.dataclass
class Summary:
    """Normalized regret of one optimizer over a set of groups."""

    optimizer: str
    problems: int
    runs: int
    mean: float
    low: float
    high: float
    median: float
    optimizer_s: float
    """Mean time per run spent in the optimizer."""


def _bootstrap(regrets: Sequence[np.ndarray], rng: np.random.Generator) -> tuple[float, float]:
    if not regrets:
        return math.nan, math.nan
    means = np.zeros(BOOTSTRAP_SAMPLES)
    for values in regrets:
        picks = rng.integers(0, len(values), size=(BOOTSTRAP_SAMPLES, len(values)))
        means += values[picks].mean(axis=1)
    means /= len(regrets)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def summarize(groups: Sequence[Group], optimizers: Sequence[str] = OPTIMIZERS) -> list[Summary]:
    """Mean normalized regret and its 95 % interval for each optimizer, over ``groups``."""
    usable = [g for g in groups if not g.degenerate]
    rows = []
    for optimizer in optimizers:
        mine = [g for g in usable if optimizer in g.best]
        if not mine:
            continue
        regrets = [g.regret(optimizer) for g in mine]
        every = np.concatenate(regrets)
        low, high = _bootstrap(regrets, np.random.default_rng(0))
        rows.append(
            Summary(
                optimizer,
                len(mine),
                int(every.size),
                float(np.mean([r.mean() for r in regrets])),
                low,
                high,
                float(np.median(every)),
                float(np.mean([np.mean(g.optimizer_s[optimizer]) for g in mine])),
            )
        )
    return rows


def per_problem_regret(group: Group) -> dict[str, float]:
    """Mean normalized regret of each optimizer in one group (NaN when degenerate)."""
    if group.degenerate:
        return {o: math.nan for o in group.best}
    return {o: float(group.regret(o).mean()) for o in group.best}


def _average_ranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def mean_ranks(group: Group) -> dict[str, float]:
    """Each ranked optimizer's rank (1 = best) in ``group``, averaged over seeds."""
    ranked = [o for o in group.best if o not in UNRANKED]
    totals = dict.fromkeys(ranked, 0.0)
    for index in range(len(group.seeds)):
        values = [group.best[o][index] for o in ranked]
        values = [v if math.isfinite(v) else math.inf for v in values]
        for optimizer, rank in zip(ranked, _average_ranks(values), strict=True):
            totals[optimizer] += rank
    return {o: totals[o] / len(group.seeds) for o in ranked}


def wins_ties_losses(
    groups: Sequence[Group], tolerance: float = TOLERANCE
) -> dict[tuple[str, str], tuple[int, int, int]]:
    """(ours, theirs) to how many problems ours wins, ties and loses on mean regret."""
    table: dict[tuple[str, str], tuple[int, int, int]] = {}
    usable = [g for g in groups if not g.degenerate]
    for ours in OURS:
        for theirs in THEIRS:
            both = [g for g in usable if ours in g.best and theirs in g.best]
            if not both:
                continue
            wins = ties = losses = 0
            for group in both:
                difference = group.regret(ours).mean() - group.regret(theirs).mean()
                if difference < -tolerance:
                    wins += 1
                elif difference > tolerance:
                    losses += 1
                else:
                    ties += 1
            table[(ours, theirs)] = (wins, ties, losses)
    return table


def goals(groups: Sequence[Group], budget: int = 50) -> list[tuple[str, str, bool | None]]:
    """The issue's quality goals on the sklearn problems, sequential, at ``budget`` trials.

    Returns (goal, what was measured, met or not; None when not measured).
    """
    chosen = [
        g for g in groups if g.kind == "sklearn" and g.budget == budget and g.mode == "sequential"
    ]
    summary = {s.optimizer: s for s in summarize(chosen)}
    out: list[tuple[str, str, bool | None]] = []
    pairs = (
        ("sherpa-bo", "optuna-gp", "lower mean normalized regret than", False),
        ("sherpa-tpe", "optuna-tpe", "mean normalized regret at most that of", True),
    )
    for ours, theirs, relation, allow_equal in pairs:
        goal = f"{ours}: {relation} {theirs} (sklearn, {budget} trials, sequential)"
        if ours not in summary or theirs not in summary:
            out.append((goal, "not measured", None))
            continue
        a, b = summary[ours], summary[theirs]
        met = a.mean <= b.mean if allow_equal else a.mean < b.mean
        measured = (
            f"{a.mean:.3f} [{a.low:.3f}, {a.high:.3f}] vs {b.mean:.3f} [{b.low:.3f}, "
            f"{b.high:.3f}] over {a.runs} runs"
        )
        out.append((goal, measured, met))
    return out
