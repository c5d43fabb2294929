"""Tables of the quality benchmark, from the JSON lines ``run.py`` wrote (Markdown).

Printed for each budget and mode in the results: mean normalized regret per optimizer with
its 95 % interval (scikit-learn problems, synthetic functions, and all together), the mean
normalized regret per problem, the mean rank per problem, wins/ties/losses of ours against
each Optuna sampler, and the issue's goals. ``scoring.py`` defines each figure.

Goals (project issue): at 50 trials on the scikit-learn problems, our BayesianOptimization
has a lower mean normalized regret than Optuna's GPSampler, and our TPE at least matches
Optuna's TPESampler.

Usage: python benchmarks/quality/report.py [--out DIR | FILE ...] [--tolerance 0.05]
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import base_parser, format_table, verdict
from optimizers import OPTIMIZERS, OURS, THEIRS
from run import DEFAULT_BUDGETS, DEFAULT_OUT, QUICK_OUT, RUNS_FILE
from scoring import (
    TOLERANCE,
    Group,
    build_groups,
    goals,
    load_runs,
    mean_ranks,
    per_problem_regret,
    summarize,
    wins_ties_losses,
)

KINDS = (("sklearn", "scikit-learn problems"), ("synthetic", "synthetic functions"))


def _present(groups: Sequence[Group]) -> list[str]:
    return [o for o in OPTIMIZERS if any(o in g.best for g in groups)]


def summary_table(groups: Sequence[Group]) -> str:
    headers = [
        "optimizer",
        "problems",
        "runs",
        "mean regret",
        "95 % interval",
        "median",
        "optimizer s/run",
    ]
    rows = [
        [
            s.optimizer,
            s.problems,
            s.runs,
            f"{s.mean:.3f}",
            f"[{s.low:.3f}, {s.high:.3f}]",
            f"{s.median:.3f}",
            f"{s.optimizer_s:.2f}",
        ]
        for s in summarize(groups)
    ]
    return format_table(headers, rows)


def problem_table(groups: Sequence[Group], ranks: bool) -> str:
    optimizers = _present(groups)
    if ranks:
        optimizers = [o for o in optimizers if o != "sherpa-grid"]
    rows: list[list[object]] = []
    columns: dict[str, list[float]] = {o: [] for o in optimizers}
    for group in groups:
        values = mean_ranks(group) if ranks else per_problem_regret(group)
        row: list[object] = [group.problem, len(group.seeds)]
        for optimizer in optimizers:
            value = values.get(optimizer)
            if value is None:
                row.append("-")
            elif math.isnan(value):
                row.append("n/a")
            else:
                row.append(f"{value:.2f}")
                columns[optimizer].append(value)
        rows.append(row)
    mean_row: list[object] = ["mean", ""]
    for optimizer in optimizers:
        values_of = columns[optimizer]
        mean_row.append(f"{sum(values_of) / len(values_of):.2f}" if values_of else "-")
    rows.append(mean_row)
    return format_table(["problem", "seeds", *optimizers], rows)


def wtl_table(groups: Sequence[Group], tolerance: float) -> str:
    table = wins_ties_losses(groups, tolerance)
    theirs = [t for t in THEIRS if any(key[1] == t for key in table)]
    rows = []
    for ours in OURS:
        if not any(key[0] == ours for key in table):
            continue
        row: list[object] = [ours]
        for other in theirs:
            w, t, ell = table.get((ours, other), (0, 0, 0))
            row.append(f"{w}/{t}/{ell}")
        rows.append(row)
    return format_table(["ours \\ vs (W/T/L)", *theirs], rows)


def main() -> None:
    parser = base_parser(__doc__)
    parser.add_argument("files", nargs="*", type=Path, help="JSON-lines files of run.py")
    parser.add_argument("--out", type=Path, help=f"a run.py directory (default {DEFAULT_OUT})")
    parser.add_argument("--tolerance", type=float, default=TOLERANCE)
    parser.add_argument(
        "--budgets",
        nargs="+",
        type=int,
        default=list(DEFAULT_BUDGETS),
        help="shorter budgets to derive from the first trials of longer runs",
    )
    args = parser.parse_args()
    files = list(args.files)
    if not files:
        directory = args.out or (QUICK_OUT if args.quick else DEFAULT_OUT)
        files = [directory / RUNS_FILE]
    runs, failed = load_runs(files, args.budgets)
    groups = build_groups(runs)
    print("# Algorithm quality")
    derived = sum("derived_from_budget" in r for r in runs)
    print(
        f"{len(runs) - derived} runs from {', '.join(str(f) for f in files)}, and {derived} "
        f"derived from the first trials of longer runs; {len(failed)} failed"
    )
    print()
    for budget, mode in sorted({(g.budget, g.mode) for g in groups}):
        chosen = [g for g in groups if g.budget == budget and g.mode == mode]
        seeds = sorted({len(g.seeds) for g in chosen})
        print(f"## {budget} trials, {mode} (seeds per problem: {', '.join(map(str, seeds))})")
        print()
        for kind, title in (*KINDS, ("all", "all problems")):
            part = [g for g in chosen if kind in ("all", g.kind)]
            if not part:
                continue
            print(f"### Mean normalized regret, {title} (0 = best seen, 1 = median random)")
            print()
            print(summary_table(part))
            print()
        print("### Mean normalized regret per problem")
        print()
        print(problem_table(chosen, ranks=False))
        print()
        print("### Mean rank per problem (1 = best; ties averaged; grid not ranked)")
        print()
        print(problem_table(chosen, ranks=True))
        print()
        for kind, title in (*KINDS, ("all", "all problems")):
            part = [g for g in chosen if kind in ("all", g.kind)]
            if not part:
                continue
            print(f"### Wins/ties/losses per problem, {title} (tie: within {args.tolerance})")
            print()
            print(wtl_table(part, args.tolerance))
            print()
        degenerate = [g.problem for g in chosen if g.degenerate]
        if degenerate:
            print(
                "Left out (random search's median already reaches the best value seen): "
                + ", ".join(degenerate)
            )
            print()
    print("## Goals")
    print()
    rows = []
    for budget in sorted({g.budget for g in groups}):
        for goal, measured, met in goals(groups, budget):
            rows.append([goal, measured, "n/a" if met is None else verdict(met)])
    print(format_table(["goal", "measured: mean [95 % interval]", "status"], rows))
    print()
    for record in failed:
        print(
            f"FAILED: {record['problem']} {record['optimizer']} {record['budget']} "
            f"{record['mode']} seed {record['seed']}: {record['error']}"
        )
    if args.json:
        payload = {
            f"{g.budget}-{g.mode}-{g.problem}": {
                "reference": g.reference,
                "random_median": g.random_median,
                "seeds": g.seeds,
                "mean_regret": per_problem_regret(g),
                "mean_rank": mean_ranks(g),
            }
            for g in groups
        }
        Path(args.json).write_text(json.dumps(payload, indent=2) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
