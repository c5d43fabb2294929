"""Store: the SQLite store's cost per trial, and 16 trial processes writing metrics at once.

(a) The in-process workload of ``in_process.py`` (trials x 5 observations, then the best
result), in memory and through an SQLite file: ``sherpa.Study(..., storage=sqlite_url(..))``
against Optuna with ``storage="sqlite:///..."`` (its RDB storage, default settings). The
store cost per trial is the total per trial with the store minus the total per trial in
memory, both measured in this run. Optuna's RDB storage takes about 0.1 s a trial on this
machine, so 3,000 trials would run for about six minutes: the comparison (and its ratio)
is made at ``--compare-trials`` (500) for both; sherpa alone is also run at ``--trials``
(3,000), the issue's size.

(b) ``--writers`` (16) processes at once, each writing ``--metrics`` (200) metrics and timing
each call: sherpa trial processes (``Client().get_trial()``, then ``send_metrics``) against
Optuna processes (``load_study`` then ``optuna.trial.Trial(study, trial_id)`` for a trial the
parent asked for, then ``trial.report``), on a shared SQLite file each. The processes start,
connect and then wait; all are released together, so start-up is not timed. ``--rounds``
(3) rounds each, alternating, each on a fresh file. Reported: metrics per second over the
writing span (median round), p50 and p99 latency of one call (pooled, and the worst round's
p99), errors (lock errors apart) and the rows in the store afterwards.

(c) Write throughput as writers grow: ``--scaling-writers`` (1, 16, 64) sherpa trial
processes at once, each writing ``--scaling-metrics`` (200) metrics as fast as it can (or
``--scaling-interval`` seconds apart, starting out of step), on the ``--scaling-stores``
(``sqlite,postgresql``): an SQLite file, and a private PostgreSQL server
(``sherpa.storage.PrivatePostgres``, started by this script with its default settings, on
127.0.0.1) through the URL it hands trials on its host, its Unix socket; ``postgresql-tcp``
is the same server through TCP loopback (``PostgresServer.tcp_url``), for comparison.
A store named with ``-async`` (``postgresql-async``, ``sqlite-async``) has its writers use
``sherpa.Client(synchronous=False)``: each call only queues the metric, and the writer's
``flush()`` after its last call, which waits until everything is stored, is timed too
(``flush`` columns) and counted in the writing span, so metrics/s are stored metrics.
``--scaling-rounds`` (3) rounds each, the stores alternating; a fresh file or study each
round. Each writer runs in a session of its own, as ``LocalScheduler`` starts trials, with
its autogroup at the benchmark's niceness. Same figures as (b), and the writers' own CPU
time per call (the server's is not counted).

Goals (project issues): sherpa's store cost per trial at most a fifth of Optuna's; with 16
writers, no lock errors and a ``send_metrics`` p99 under 50 ms; on PostgreSQL, no write
errors at 64 writers and a ``send_metrics`` p99 under 50 ms.

Usage: python benchmarks/store.py [--parts abc] [--trials 3000] [--compare-trials 500]
[--writers 16] [--metrics 200] [--rounds 3] [--scaling-writers 1,16,64]
[--scaling-metrics 200] [--scaling-rounds 3] [--scaling-stores sqlite,postgresql]
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from _common import (
    PYTHON,
    OtherLoad,
    base_parser,
    machine_info,
    median,
    percentile,
    print_header,
    print_table,
    scratch_dir,
    use_user_env,
    verdict,
    warm_up,
    write_json,
)
from in_process import Run, run_optuna, run_sherpa

GOAL_STORE_RATIO = 0.2
GOAL_P99_MS = 50.0

# A writer process: connect, say "ready", wait for the go line, write, print a JSON report.
# An error is kept with its chain of causes, so that a lock error under a wrapper counts.
_WRITER_TAIL = """
import os, random
if os.environ.get("BENCH_OWN_SESSION"):  # as a trial: its own session and autogroup...
    try:  # ...kept at this process's niceness, so that a niced benchmark stays polite
        with open("/proc/self/autogroup", "w") as handle:
            handle.write(str(os.nice(0)))
    except OSError:
        pass
interval = float(os.environ.get("BENCH_INTERVAL_S", "0"))
print("ready", flush=True)
sys.stdin.readline()
latencies, errors = [], []
if interval:
    time.sleep(random.random() * interval)  # paced writers start out of step
begin, cpu = time.monotonic(), time.process_time()
for i in range(1, n + 1):
    if interval and i > 1:
        time.sleep(interval)
    start = time.perf_counter()
    try:
        write(i, 1.0 / i)
    except Exception as exc:
        chain, cause = [], exc
        while cause is not None:  # keep the causes: a wrapper may hide "database is locked"
            chain.append(f"{type(cause).__name__}: {cause}")
            cause = cause.__cause__ or cause.__context__
        errors.append(" <- ".join(chain))
    latencies.append(time.perf_counter() - start)
flush_start = time.monotonic()
finish()  # with synchronous=False: wait until every metric is stored
end, cpu = time.monotonic(), time.process_time() - cpu
report = {"begin": begin, "end": end, "cpu_s": cpu, "latencies": latencies, "errors": errors}
report["flush_s"] = end - flush_start
print(json.dumps(report))
"""

SHERPA_WRITER = (
    """\
import json, os, sys, time
import sherpa
n = int(sys.argv[1])
client = sherpa.Client(synchronous=os.environ.get("BENCH_ASYNC") != "1")
trial = client.get_trial()
def write(i, value):
    client.send_metrics(trial=trial, iteration=i, objective=value)
def finish():
    client.flush()
"""
    + _WRITER_TAIL
)

OPTUNA_WRITER = (
    """\
import json, sys, time, warnings
import optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
warnings.simplefilter("ignore")
n, url, name, trial_id = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
study = optuna.load_study(study_name=name, storage=url)
trial = optuna.trial.Trial(study, trial_id)
def write(i, value):
    trial.report(value, i)
def finish():
    pass
"""
    + _WRITER_TAIL
)


# (a)


def store_costs(trials: int, steps: int, root: Path, *, with_optuna: bool) -> dict[str, Any]:
    """Run the workload in memory and with an SQLite store; return the per-trial figures."""
    figures: dict[str, Any] = {}
    engines: list[tuple[str, Any]] = [("sherpa", run_sherpa)]
    if with_optuna:
        engines.append(("optuna", run_optuna))
    for name, runner in engines:
        db = root / f"{name}-{trials}.db"
        memory: Run = runner(trials, steps)
        stored: Run = runner(trials, steps, storage=f"sqlite:///{db}")
        per_trial_mem = memory.total_s / trials * 1000
        per_trial_db = stored.total_s / trials * 1000
        figures[name] = {
            "memory_ms_per_trial": per_trial_mem,
            "store_total_ms_per_trial": per_trial_db,
            "store_cost_ms_per_trial": per_trial_db - per_trial_mem,
            "store_first_quarter_ms": stored.quarter_ms(0),
            "store_last_quarter_ms": stored.quarter_ms(3),
            "store_cpu_ms_per_trial": stored.cpu_ms,
            "store_best_lookup_ms": stored.best_s * 1000,
        }
        print(
            f"  {name}, {trials} trials: memory {memory.total_s:.2f} s, "
            f"store {stored.total_s:.2f} s",
            flush=True,
        )
    return figures


# (b)


def run_writers(
    script: Path,
    argvs: list[list[str]],
    envs: list[dict[str, str]],
    *,
    own_session: bool = False,
) -> list[dict[str, Any]]:
    """Start one writer per argv, wait until all are ready, release them, collect reports.

    ``own_session``: start each writer in a session of its own, as ``LocalScheduler`` starts
    trials (with autogroup scheduling each then gets its own share of the CPU).
    """
    procs = []
    for argv, extra in zip(argvs, envs, strict=True):
        env = {**os.environ, **extra, **({"BENCH_OWN_SESSION": "1"} if own_session else {})}
        procs.append(
            subprocess.Popen(
                [PYTHON, str(script), *argv],
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=own_session,
            )
        )
    for proc in procs:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if line.strip() != "ready":
            _, err = proc.communicate()
            raise RuntimeError(f"writer did not start: {line!r} {err}")
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    reports = []
    for proc in procs:
        out, err = proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"writer failed ({proc.returncode}): {err}")
        reports.append(json.loads(out.strip().splitlines()[-1]))
    return reports


def count_rows(db: Path, table: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def sherpa_writers(
    writers: int,
    metrics: int,
    root: Path,
    tag: str,
    url: str | None = None,
    *,
    own_session: bool = False,
    interval: float = 0.0,
    asynchronous: bool = False,
) -> dict[str, Any]:
    """One round of sherpa writers on a new SQLite file, or on a new study at ``url``.

    ``interval``: seconds each writer sleeps between calls (0: as fast as it can).
    ``asynchronous``: the writers send with ``sherpa.Client(synchronous=False)``.
    """
    import sherpa

    if url is None:
        url = sherpa.storage.sqlite_url(root / f"sherpa-writers-{tag}.db")
    storage = sherpa.storage.SQLStorage(url)
    parameters = [sherpa.Continuous("x", [0.0, 1.0]).to_dict()]
    study_id = storage.create_study(
        f"writers-{tag}", lower_is_better=True, parameters=parameters
    ).id
    for number in range(1, writers + 1):
        storage.create_trial(study_id, number, {"x": number / writers})
    script = root / "sherpa_writer.py"
    script.write_text(SHERPA_WRITER)
    envs = [
        {
            "SHERPA_DB_URL": url,
            "SHERPA_STUDY_ID": str(study_id),
            "SHERPA_TRIAL_ID": str(k),
            "BENCH_INTERVAL_S": str(interval),
            "BENCH_ASYNC": "1" if asynchronous else "0",
        }
        for k in range(1, writers + 1)
    ]
    reports = run_writers(script, [[str(metrics)]] * writers, envs, own_session=own_session)
    rows = len(storage.read_observations(study_id))
    storage.close()
    return {"reports": reports, "rows": rows}


def optuna_writers(writers: int, metrics: int, root: Path, tag: str) -> dict[str, Any]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    db = root / f"optuna-writers-{tag}.db"
    url = f"sqlite:///{db}"
    study = optuna.create_study(study_name="writers", storage=url, direction="minimize")
    # The parent asks for the trials, as sherpa's runner creates them; each process reports.
    trial_ids = [study.ask()._trial_id for _ in range(writers)]
    script = root / "optuna_writer.py"
    script.write_text(OPTUNA_WRITER)
    argvs = [[str(metrics), url, "writers", str(trial_id)] for trial_id in trial_ids]
    reports = run_writers(script, argvs, [{}] * writers)
    return {"reports": reports, "rows": count_rows(db, "trial_intermediate_values")}


def summarize_writers(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Pool the calls of every round; throughput and p99 also per round."""
    latencies, errors, per_round = [], [], []
    for one in rounds:
        reports = one["reports"]
        lat = [x for r in reports for x in r["latencies"]]
        err = [e for r in reports for e in r["errors"]]
        span = max(r["end"] for r in reports) - min(r["begin"] for r in reports)
        per_round.append(
            {
                "metrics_per_s": (len(lat) - len(err)) / span,
                "p99_ms": percentile(lat, 99) * 1000,
                "rows": one["rows"],
                "calls": len(lat),
                "errors": len(err),
            }
        )
        latencies += lat
        errors += err
    lock_errors = [e for e in errors if "locked" in e.lower() or "busy" in e.lower()]
    flushes = [r.get("flush_s", 0.0) for one in rounds for r in one["reports"]]
    return {
        "rounds": per_round,
        "calls": len(latencies),
        "errors": len(errors),
        "lock_errors": len(lock_errors),
        "error_samples": sorted({e[:300] for e in errors})[:3],
        "rows_in_store": sum(r["rows"] for r in per_round),
        "metrics_per_s": median([r["metrics_per_s"] for r in per_round]),
        "p50_ms": percentile(latencies, 50) * 1000,
        "p90_ms": percentile(latencies, 90) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "worst_round_p99_ms": max(r["p99_ms"] for r in per_round),
        "max_ms": max(latencies) * 1000,
        "flush_p50_ms": percentile(flushes, 50) * 1000,
        "flush_max_ms": max(flushes) * 1000,
        "writer_cpu_ms_per_call": 1000
        * sum(r["cpu_s"] for one in rounds for r in one["reports"])
        / len(latencies),
    }


# (c)

STORES = ("sqlite", "postgresql", "postgresql-tcp", "postgresql-async", "sqlite-async")
"""``postgresql``: the URL the server hands trials on its host (its Unix socket);
``postgresql-tcp``: the same server through TCP loopback (its ``tcp_url``); ``-async``: the
writers send with ``sherpa.Client(synchronous=False)``."""


def store_scaling(
    counts: list[int],
    metrics: int,
    rounds: int,
    root: Path,
    interval: float,
    stores: tuple[str, ...] = STORES[:2],
) -> dict[str, dict[int, dict[str, Any]]]:
    """Rounds of ``n`` writers for each count and store; the stores alternate each round.

    Each writer runs in a session of its own, as the trials of ``LocalScheduler`` do.
    """
    from sherpa.storage import PrivatePostgres

    root.chmod(0o711)  # under root the server runs as ``postgres``, which must reach its data
    server = PrivatePostgres(keep_data=False).start(root / "pg")
    collected: dict[tuple[str, int], list[dict[str, Any]]] = {}
    try:
        for n in counts:
            for k in range(rounds):
                order = stores if k % 2 == 0 else stores[::-1]
                for store in order:
                    urls = {
                        "postgresql": server.url,
                        "postgresql-tcp": server.tcp_url,
                        "postgresql-async": server.url,
                    }
                    one = sherpa_writers(
                        n,
                        metrics,
                        root,
                        f"{store}-{n}-{k}",
                        url=urls.get(store),
                        own_session=True,
                        interval=interval,
                        asynchronous=store.endswith("-async"),
                    )
                    collected.setdefault((store, n), []).append(one)
                    print(f"  {store}, {n} writers, round {k + 1} done", flush=True)
    finally:
        server.stop()
    return {
        store: {n: summarize_writers(collected[(store, n)]) for n in counts} for store in stores
    }


def print_scaling(
    scaling: dict[str, dict[int, dict[str, Any]]], metrics: int, rounds: int, interval: float
) -> dict[str, bool]:
    """Print the table of (c) and its goals; return the goals met."""
    pace = f"{interval * 1000:.0f} ms apart" if interval else "as fast as each can"
    print(
        f"(c) N sherpa writer processes x {metrics} metrics each ({pace}), each in its own "
        f"session, {rounds} rounds per store and N (latencies pooled over the rounds, "
        "metrics/s the median round's):"
    )
    rows = []
    for store, by_count in scaling.items():
        for n, w in by_count.items():
            expected = n * metrics * rounds
            rows.append(
                [
                    store, n, f"{w['metrics_per_s']:.0f}", f"{w['p50_ms']:.2f}",
                    f"{w['p90_ms']:.2f}", f"{w['p99_ms']:.2f}",
                    f"{w['worst_round_p99_ms']:.2f}", f"{w['max_ms']:.1f}",
                    f"{w['flush_p50_ms']:.1f}", f"{w['flush_max_ms']:.1f}",
                    f"{w['writer_cpu_ms_per_call']:.3f}", w["errors"],
                    f"{w['rows_in_store']}/{expected}",
                ]
            )  # fmt: skip
    print_table(
        [
            "store", "writers", "metrics/s", "p50 ms", "p90 ms", "p99 ms",
            "worst round p99", "max ms", "flush p50 ms", "flush max ms",
            "writer CPU ms/call", "errors", "rows stored",
        ],
        rows,
    )  # fmt: skip
    for store, by_count in scaling.items():
        for n, w in by_count.items():
            if w["error_samples"]:
                print(f"{store}, {n} writers, errors, e.g.: {w['error_samples']}")
    goals: dict[str, bool] = {}
    rows = []
    for store in ("postgresql", "postgresql-async"):
        if store not in scaling:
            continue
        most = max(scaling[store])
        pg = scaling[store][most]
        key = store.replace("-", "_")
        goals[f"{key}_no_errors_at_most_writers"] = (
            pg["errors"] == 0 and pg["rows_in_store"] == pg["calls"]
        )
        goals[f"{key}_p99_under_50ms"] = all(
            w["p99_ms"] < GOAL_P99_MS for w in scaling[store].values()
        )
        rows += [
            [
                f"{store}: write errors, {most} writers",
                f"{pg['errors']} ({pg['rows_in_store']}/{pg['calls']} stored)",
                verdict(goals[f"{key}_no_errors_at_most_writers"]),
            ],
            [
                f"{store}: send_metrics p99 < {GOAL_P99_MS:.0f} ms, every N",
                ", ".join(f"{n}: {w['p99_ms']:.1f} ms" for n, w in scaling[store].items()),
                verdict(goals[f"{key}_p99_under_50ms"]),
            ],
        ]
    if rows:
        print_table(["goal", "measured", "status"], rows)
    return goals


def main() -> None:
    parser = base_parser(__doc__)
    parser.add_argument("--trials", type=int, default=3000, help="sherpa's own (a) run")
    parser.add_argument(
        "--compare-trials", type=int, default=500, help="(a) trials of both engines"
    )
    parser.add_argument("--steps", type=int, default=5, help="observations per trial in (a)")
    parser.add_argument("--writers", type=int, default=16, help="processes in (b)")
    parser.add_argument("--metrics", type=int, default=200, help="metrics per process in (b)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of (b) for each engine")
    parser.add_argument("--parts", default="abc", help="which parts to run, e.g. c")
    parser.add_argument(
        "--scaling-writers", default="1,16,64", help="(c) writer counts, comma-separated"
    )
    parser.add_argument(
        "--scaling-metrics", type=int, default=200, help="metrics per process in (c)"
    )
    parser.add_argument(
        "--scaling-rounds", type=int, default=3, help="rounds of (c) for each store and count"
    )
    parser.add_argument(
        "--scaling-interval",
        type=float,
        default=0.0,
        help="(c) seconds each writer waits between metrics (0: as fast as it can)",
    )
    parser.add_argument(
        "--scaling-stores",
        default="sqlite,postgresql",
        help=f"(c) stores, comma-separated, of {', '.join(STORES)}",
    )
    args = parser.parse_args()
    if args.quick:
        args.trials, args.compare_trials, args.writers, args.metrics = 200, 30, 4, 20
        args.rounds = 1
        args.scaling_writers, args.scaling_metrics, args.scaling_rounds = "1,4", 20, 1
    counts = [int(n) for n in args.scaling_writers.split(",")]
    stores = tuple(args.scaling_stores.split(","))
    if set(stores) - set(STORES) or not stores:
        parser.error(f"--scaling-stores must name some of {STORES}; got {args.scaling_stores!r}")
    if set(args.parts) - set("abc") or not args.parts:
        parser.error(f"--parts must be letters of 'abc'; got {args.parts!r}")

    use_user_env()
    warm_up()
    watch = OtherLoad()
    info = machine_info()
    print_header("Store: SQLite store cost per trial; concurrent writer processes", info)
    payload: dict[str, Any] = {"benchmark": "store", "machine": info, "args": vars(args)}
    with scratch_dir("store") as root:
        if "a" in args.parts or "b" in args.parts:
            payload.update(run_ab(args, root))
        if "c" in args.parts:
            print(f"(c) writers on {', '.join(stores)}")
            scaling = store_scaling(
                counts,
                args.scaling_metrics,
                args.scaling_rounds,
                root,
                args.scaling_interval,
                stores,
            )
            payload["c_scaling"] = scaling
    print()
    if "a_compare" in payload:
        payload["goals"] = report_ab(
            args, payload["a_compare"], payload["a_sherpa_full"], payload["b_writers"]
        )
    if "c_scaling" in payload:
        payload["c_goals"] = print_scaling(
            payload["c_scaling"], args.scaling_metrics, args.scaling_rounds, args.scaling_interval
        )
    print(watch.report())
    info["other_load_cores"] = watch.cores()
    info["nice"] = os.nice(0)
    write_json(args.json, payload)


def run_ab(args: Any, root: Path) -> dict[str, Any]:
    """Parts (a) and (b); return their figures."""
    # Warm both engines up (one-off imports of numpy, pandas, SQLAlchemy, Optuna).
    run_sherpa(20, args.steps)
    run_optuna(20, args.steps)
    print("(a) store cost per trial")
    compare = store_costs(args.compare_trials, args.steps, root, with_optuna=True)
    full = store_costs(args.trials, args.steps, root, with_optuna=False)["sherpa"]
    print("(b) concurrent writers")
    rounds: dict[str, list[dict[str, Any]]] = {"sherpa": [], "optuna": []}
    for k in range(args.rounds):
        order = ["sherpa", "optuna"] if k % 2 == 0 else ["optuna", "sherpa"]
        for name in order:
            make = sherpa_writers if name == "sherpa" else optuna_writers
            rounds[name].append(make(args.writers, args.metrics, root, str(k)))
            print(f"  {name} round {k + 1} done", flush=True)
    writers = {name: summarize_writers(r) for name, r in rounds.items()}
    store_ratio = (
        compare["sherpa"]["store_cost_ms_per_trial"] / compare["optuna"]["store_cost_ms_per_trial"]
    )
    return {
        "a_compare": compare,
        "a_sherpa_full": full,
        "a_store_ratio": store_ratio,
        "b_writers": writers,
    }


def report_ab(
    args: Any, compare: dict[str, Any], full: dict[str, Any], writers: dict[str, Any]
) -> dict[str, bool]:
    """Print the tables and goals of (a) and (b); return the goals met."""
    rows: list[list[object]] = []
    cases = [
        ("sherpa", args.compare_trials, compare["sherpa"]),
        ("optuna", args.compare_trials, compare["optuna"]),
        ("sherpa", args.trials, full),
    ]
    for name, trials, f in cases:
        rows.append(
            [
                name,
                trials,
                f"{f['memory_ms_per_trial']:.3f}",
                f"{f['store_total_ms_per_trial']:.2f}",
                f"{f['store_cost_ms_per_trial']:.2f}",
                f"{f['store_first_quarter_ms']:.2f}",
                f"{f['store_last_quarter_ms']:.2f}",
            ]
        )
    print(f"(a) {args.steps} observations a trial; ms per trial (Q1/Q4: first/last quarter):")
    print_table(
        [
            "engine",
            "trials",
            "in memory",
            "with SQLite store",
            "store cost",
            "store Q1",
            "store Q4",
        ],
        rows,
    )
    store_ratio = (
        compare["sherpa"]["store_cost_ms_per_trial"] / compare["optuna"]["store_cost_ms_per_trial"]
    )

    expected = args.writers * args.metrics * args.rounds
    print(
        f"(b) {args.writers} processes x {args.metrics} metrics each, {args.rounds} rounds "
        f"({expected} calls in all; latencies pooled over the rounds, metrics/s the median "
        "round's):"
    )
    print_table(
        [
            "engine",
            "metrics/s",
            "p50 ms",
            "p90 ms",
            "p99 ms",
            "worst round p99",
            "max ms",
            "errors",
            "lock errors",
            "rows stored",
        ],
        [
            [
                name,
                f"{w['metrics_per_s']:.0f}",
                f"{w['p50_ms']:.2f}",
                f"{w['p90_ms']:.2f}",
                f"{w['p99_ms']:.2f}",
                f"{w['worst_round_p99_ms']:.2f}",
                f"{w['max_ms']:.1f}",
                w["errors"],
                w["lock_errors"],
                f"{w['rows_in_store']}/{expected}",
            ]
            for name, w in writers.items()
        ],
    )
    for name, w in writers.items():
        if w["error_samples"]:
            print(f"{name} errors, e.g.: {w['error_samples']}")

    s = writers["sherpa"]
    goals = {
        "store_cost_at_most_a_fifth_of_optuna": store_ratio <= GOAL_STORE_RATIO,
        "no_lock_errors": s["lock_errors"] == 0,
        "p99_under_50ms": s["p99_ms"] < GOAL_P99_MS,
        "nothing_lost": s["rows_in_store"] == expected and s["errors"] == 0,
    }
    print_table(
        ["goal", "measured", "status"],
        [
            [
                f"sherpa / optuna store cost <= {GOAL_STORE_RATIO}",
                f"{store_ratio:.3f}x ({args.compare_trials} trials)",
                verdict(goals["store_cost_at_most_a_fifth_of_optuna"]),
            ],
            [
                f"sherpa lock errors, {args.writers} writers",
                s["lock_errors"],
                verdict(goals["no_lock_errors"]),
            ],
            [
                f"sherpa send_metrics p99 < {GOAL_P99_MS:.0f} ms",
                f"{s['p99_ms']:.1f} ms (worst round {s['worst_round_p99_ms']:.1f})",
                verdict(goals["p99_under_50ms"]),
            ],
            [
                "sherpa rows stored = metrics sent",
                f"{s['rows_in_store']}/{expected}",
                verdict(goals["nothing_lost"]),
            ],
        ],
    )
    return goals


if __name__ == "__main__":
    main()
