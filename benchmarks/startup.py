"""Trial start-up: a fresh trial process against a real store, and what it imports.

Measured: the wall time of a fresh process running
``import sherpa; c = sherpa.Client(); t = c.get_trial(); c.send_metrics(...)`` against an
SQLite store made with ``SQLStorage`` (each run its own trial, as each iteration can be
reported once), next to ``python -c pass``, ``python -c "import sherpa"`` and
``python -c "import optuna"``; the four run in turn, round after round, after one warm-up
run each, with byte-code caching on (``PYTHONDONTWRITEBYTECODE`` unset). Then which heavy
modules (numpy, pandas, sqlalchemy) and which other non-standard-library modules a trial
process has loaded.

Goals (project issue): a trial process under 150 ms more than the bare interpreter (median),
and ahead of Optuna's import alone; no heavy module in a trial process.

Usage: python benchmarks/startup.py [--runs 20]
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from _common import (
    OtherLoad,
    base_parser,
    machine_info,
    median,
    percentile,
    print_header,
    print_table,
    run_python,
    scratch_dir,
    use_user_env,
    verdict,
    warm_up,
    write_json,
)

GOAL_OVER_BARE_MS = 150.0
HEAVY = ("numpy", "pandas", "sqlalchemy")

TRIAL_CODE = (
    "import sherpa; c = sherpa.Client(); t = c.get_trial(); "
    "c.send_metrics(trial=t, iteration=1, objective=0.5)"
)

IMPORTS_REPORT = (
    "\nimport json, sys\n"
    "tops = sorted({m.split('.')[0] for m in sys.modules} - set(sys.stdlib_module_names))\n"
    f"print(json.dumps({{'heavy': [m for m in {HEAVY!r} if m in sys.modules], "
    "'non_stdlib': tops, 'modules': len(sys.modules)}))\n"
)

COMMANDS = {
    "python -c pass": "pass",
    'python -c "import sherpa"': "import sherpa",
    'python -c "import optuna"': "import optuna",
    "trial process (Client, get_trial, send_metrics)": TRIAL_CODE,
}
TRIAL = "trial process (Client, get_trial, send_metrics)"


class Store:
    """An SQLite store with one study and enough open trials for every trial run."""

    def __init__(self, directory: Path, trials: int) -> None:
        import sherpa

        self.path = directory / "sherpa.db"
        self.url = sherpa.storage.sqlite_url(self.path)
        self.storage = sherpa.storage.SQLStorage(self.url)
        parameters = [sherpa.Continuous("x", [0.0, 1.0]).to_dict()]
        record = self.storage.create_study("startup", lower_is_better=True, parameters=parameters)
        self.study_id = record.id
        for number in range(1, trials + 1):
            self.storage.create_trial(self.study_id, number, {"x": number / trials})
        self.next_number = 1

    def env(self) -> dict[str, str]:
        """The environment of the next trial process (a trial not used yet)."""
        number, self.next_number = self.next_number, self.next_number + 1
        return {
            "SHERPA_DB_URL": self.url,
            "SHERPA_STUDY_ID": str(self.study_id),
            "SHERPA_TRIAL_ID": str(number),
        }

    def observations(self) -> int:
        with sqlite3.connect(self.path) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM sherpa_observations").fetchone()[0])


def main() -> None:
    parser = base_parser(__doc__)
    parser.add_argument("--runs", type=int, default=20, help="timed runs of each command")
    args = parser.parse_args()
    if args.quick:
        args.runs = 3

    use_user_env()
    warm_up()
    watch = OtherLoad()
    info = machine_info()
    print_header("Trial start-up: a fresh trial process against a real store", info)

    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    with scratch_dir("startup") as root:
        store = Store(root, trials=args.runs + 2)
        names = list(COMMANDS)
        for round_ in range(args.runs + 1):  # round 0 is the warm-up
            # Rotate the order each round, so that no command always runs first.
            shift = round_ % len(names)
            for name in names[shift:] + names[:shift]:
                env = store.env() if name == TRIAL else None
                elapsed, _ = run_python(["-c", COMMANDS[name]], env)
                if round_ > 0:
                    times[name].append(elapsed)
        _, report = run_python(["-c", TRIAL_CODE + IMPORTS_REPORT], store.env(), capture=True)
        imports: dict[str, Any] = json.loads(report)
        _, bare_report = run_python(["-c", IMPORTS_REPORT], capture=True)
        # What every interpreter of this environment loads (site hooks) is not the trial's.
        imports["non_stdlib"] = sorted(
            set(imports["non_stdlib"]) - set(json.loads(bare_report)["non_stdlib"])
        )
        stored = store.observations()
        store.storage.close()

    expected = args.runs + 2
    if stored != expected:
        raise RuntimeError(f"the store holds {stored} observations; expected {expected}")

    medians = {name: median(values) for name, values in times.items()}
    bare = medians["python -c pass"]
    rows = [
        [
            name,
            f"{medians[name] * 1000:.1f}",
            f"{percentile(values, 90) * 1000:.1f}",
            f"{min(values) * 1000:.1f}",
            f"{(medians[name] - bare) * 1000:+.1f}",
        ]
        for name, values in times.items()
    ]
    print_table(["command", "median ms", "p90 ms", "min ms", "vs bare ms"], rows)

    over_bare_ms = (medians[TRIAL] - bare) * 1000
    optuna_ratio = medians[TRIAL] / medians['python -c "import optuna"']
    goals = {
        "trial_over_bare_under_150ms": over_bare_ms < GOAL_OVER_BARE_MS,
        "trial_ahead_of_optuna_import": optuna_ratio < 1.0,
        "no_heavy_modules": not imports["heavy"],
    }
    print_table(
        ["goal", "measured", "status"],
        [
            [
                f"trial - bare < {GOAL_OVER_BARE_MS:.0f} ms",
                f"{over_bare_ms:.1f} ms",
                verdict(goals["trial_over_bare_under_150ms"]),
            ],
            [
                "trial process / optuna import < 1",
                f"{optuna_ratio:.2f}x",
                verdict(goals["trial_ahead_of_optuna_import"]),
            ],
            [
                "heavy modules in a trial process",
                ", ".join(imports["heavy"]) or "none",
                verdict(goals["no_heavy_modules"]),
            ],
        ],
    )
    print(
        f"A trial process loads {imports['modules']} modules; outside the standard library "
        "(and beyond what a bare interpreter loads): "
        f"{', '.join(imports['non_stdlib'])}. The store got all {stored} observations."
    )
    print(watch.report())
    info["other_load_cores"] = watch.cores()
    write_json(
        args.json,
        {
            "benchmark": "startup",
            "machine": info,
            "runs": args.runs,
            "times_s": times,
            "medians_s": medians,
            "trial_over_bare_ms": over_bare_ms,
            "trial_vs_optuna_import": optuna_ratio,
            "imports": imports,
            "goals": goals,
        },
    )


if __name__ == "__main__":
    main()
