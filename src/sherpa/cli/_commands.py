"""What each subcommand does once its arguments are parsed.

Each command takes the parsed arguments and the stream to write to, and returns the exit
status. Problems the user can fix raise a :class:`~sherpa.exceptions.SherpaError` (the
store's errors, or :class:`CommandError`), which the entry point prints as one line.

Parameters and context metrics are listed in the order of ``study.results`` (and
``results.csv``) everywhere: sorted by name. The table sorts them because a trial's
parameters are more than the declared ones (algorithms add keys such as ``resource`` or
``load_from``, in whatever order they arrive), and a sorted layout is the same for every
trial and every run; it is SHERPA's layout (see :mod:`sherpa.study._results`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from sherpa._convert import to_builtin
from sherpa.cli._format import format_table, format_value
from sherpa.cli._store import choose_study, load_study, open_storage
from sherpa.exceptions import SherpaError
from sherpa.trial import TrialStatus

if TYPE_CHECKING:
    import pandas as pd

    from sherpa.study import Study

__all__ = [
    "CommandError",
    "run_best",
    "run_dashboard",
    "run_export",
    "run_status",
    "run_studies",
]

SORT_KEYS = ("id", "objective", "status", "iteration")
EXPORT_FORMATS = ("csv", "json")


class CommandError(SherpaError):
    """A command cannot do what was asked; the message says why."""


@dataclasses.dataclass(frozen=True)
class _TrialLine:
    id: int
    status: TrialStatus
    iteration: int | None
    objective: float | None
    parameters: dict[str, Any]


def _jsonable(value: Any) -> Any:
    value = to_builtin(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    return value


def _close(study: Study) -> None:
    if study.storage is not None:
        study.storage.close()


# status


def _parameter_columns(results: pd.DataFrame) -> list[str]:
    """The parameter columns of ``study.results``: those between Iteration and Objective."""
    columns = [str(column) for column in results.columns]
    return columns[columns.index("Iteration") + 1 : columns.index("Objective")]


def _sorted_by_name(values: dict[str, Any]) -> dict[str, Any]:
    return {key: values[key] for key in sorted(values)}


def _trial_lines(study: Study, results: pd.DataFrame) -> list[_TrialLine]:
    last: dict[int, int] = {}
    for number, iteration in zip(results["Trial-ID"], results["Iteration"], strict=True):
        last[int(number)] = max(int(iteration), last.get(int(number), 0))
    lines = []
    for trial in study.trials:
        observed = study.num_observations(trial)
        best = study.best_observation(trial)
        objective = best[1] if best is not None else (math.nan if observed else None)
        lines.append(
            _TrialLine(
                id=trial.id,
                status=study.status_of(trial),
                iteration=last.get(trial.id) if observed else None,
                objective=objective,
                parameters=trial.parameters,
            )
        )
    return lines


def _sort_lines(lines: list[_TrialLine], key: str, lower_is_better: bool) -> list[_TrialLine]:
    sign = 1.0 if lower_is_better else -1.0

    def objective_key(line: _TrialLine) -> tuple[bool, float, int]:
        missing = line.objective is None or math.isnan(line.objective)
        return missing, 0.0 if missing else sign * float(line.objective or 0.0), line.id

    orders: dict[str, Any] = {
        "id": lambda line: line.id,
        "objective": objective_key,
        "status": lambda line: (line.status.value, line.id),
        "iteration": lambda line: (-1 if line.iteration is None else line.iteration, line.id),
    }
    return sorted(lines, key=orders[key])


def _summary(study: Study, lines: list[_TrialLine]) -> list[str]:
    direction = "lower is better" if study.lower_is_better else "higher is better"
    counts = Counter(line.status.value for line in lines)
    by_status = ", ".join(f"{counts[s.value]} {s.value}" for s in TrialStatus if counts[s.value])
    header = (
        f"study {study.name!r} ({direction}): {len(lines)} trial{'' if len(lines) == 1 else 's'}"
    )
    best = study.best_objective()
    if best is None:
        best_line = "best: no completed trial with an objective yet"
    else:
        best_line = f"best: trial {best[1]}, objective {format_value(best[0])}"
    return [f"{header}{', ' if by_status else ''}{by_status}", best_line]


def run_status(args: argparse.Namespace, out: TextIO) -> int:
    """Print the study's trials as a table: id, status, last iteration, best objective.

    With ``--params``, one more column per parameter column of ``study.results``, in its order.
    """
    study = load_study(args.store, args.study)
    try:
        results = study.results
        lines = _trial_lines(study, results)
        summary = _summary(study, lines)
        if args.status:
            wanted = {TrialStatus(value) for value in args.status}
            lines = [line for line in lines if line.status in wanted]
        lines = _sort_lines(lines, args.sort, study.lower_is_better)
        if args.reverse:
            lines.reverse()
        if args.limit is not None:
            lines = lines[: args.limit]
        names = _parameter_columns(results) if args.params else []
    finally:
        _close(study)

    headers = ["Trial-ID", "Status", "Iteration", "Objective", *names]
    rows = [
        [line.id, line.status.value, line.iteration, line.objective]
        + [line.parameters.get(name) for name in names]
        for line in lines
    ]
    numeric = [
        all(
            isinstance(row[4 + i], (int, float)) and not isinstance(row[4 + i], bool)
            for row in rows
        )
        for i in range(len(names))
    ]
    right = [True, False, True, True, *numeric]
    print("\n".join(summary), file=out)
    print(file=out)
    print(format_table(headers, rows, right=right), file=out)
    return 0


# best


def _best(study: Study) -> dict[str, Any]:
    found = study.best_objective()
    if found is None:
        raise CommandError(f"study {study.name!r} has no completed trial with an objective yet")
    trial = study.get_trial(found[1])
    observation = study.best_observation(trial)
    iteration, objective, context = observation if observation else (None, found[0], {})
    return {
        "study": study.name,
        "trial_id": trial.id,
        "objective": objective,
        "iteration": iteration,
        "parameters": _sorted_by_name(trial.parameters),
        "context": _sorted_by_name(context),
    }


def _print_mapping(title: str, values: dict[str, Any], out: TextIO) -> None:
    print(f"{title}:", file=out)
    for key, value in values.items():
        print(f"  {key}: {format_value(value)}", file=out)


def run_best(args: argparse.Namespace, out: TextIO) -> int:
    """Print the best completed trial: its id, objective, iteration, parameters, context.

    Parameters and context are sorted by name, as in ``study.results``, in text and JSON.
    """
    study = load_study(args.store, args.study)
    try:
        best = _best(study)
    finally:
        _close(study)

    if args.json:
        print(json.dumps(_jsonable(best), indent=2, allow_nan=False), file=out)
        return 0
    for key in ("study", "trial_id", "objective", "iteration"):
        print(f"{key}: {format_value(best[key])}", file=out)
    _print_mapping("parameters", best["parameters"], out)
    if best["context"]:
        _print_mapping("context", best["context"], out)
    return 0


# export


def _results_json(frame: pd.DataFrame) -> str:
    rows = [json.dumps(_jsonable(row), allow_nan=False) for row in frame.to_dict("records")]
    if not rows:
        return "[]\n"
    return "[\n" + ",\n".join(rows) + "\n]\n"


def run_export(args: argparse.Namespace, out: TextIO) -> int:
    """Write the study's results table (``study.results``) as CSV or JSON."""
    study = load_study(args.store, args.study)
    try:
        frame = study.results
    finally:
        _close(study)

    if args.format == "csv":
        text = frame.to_csv(index=False, lineterminator="\n")
    else:
        text = _results_json(frame)
    if args.output is None:
        out.write(text)
        return 0
    target = Path(args.output)
    try:
        with target.open("w", encoding="utf-8", newline="") as stream:
            stream.write(text)
    except OSError as exc:
        raise CommandError(f"cannot write --output {str(target)!r}: {exc.strerror}") from None
    return 0


# studies


def run_studies(args: argparse.Namespace, out: TextIO) -> int:
    """List the studies in a store: name, direction, number of trials."""
    with open_storage(args.store) as storage:
        records = storage.list_studies()
        counts = [len(storage.read_trials(record.id)) for record in records]
    rows = [
        [record.name, "lower" if record.lower_is_better else "higher", count]
        for record, count in zip(records, counts, strict=True)
    ]
    print(format_table(["Study", "Better", "Trials"], rows, right=[False, False, True]), file=out)
    return 0


# dashboard


def run_dashboard(args: argparse.Namespace, out: TextIO) -> int:
    """Serve the dashboard over the store until interrupted (Ctrl-C ends it with status 0)."""
    with open_storage(args.store) as storage:
        url = storage.url
        record = choose_study(storage, args.study)
    try:
        from sherpa.dashboard import run_dashboard as serve

        serve(url, host=args.host, port=args.port, study_name=record.name)
    except ImportError as exc:
        raise CommandError(
            f"the dashboard cannot be started: {exc}; install its dependencies with "
            "pip install 'sherpa[dashboard]'"
        ) from None
    except OSError as exc:
        where = f"{args.host}:{args.port}" if args.port else f"{args.host}"
        raise CommandError(f"the dashboard cannot listen on {where}: {exc}") from None
    except KeyboardInterrupt:
        pass
    return 0
