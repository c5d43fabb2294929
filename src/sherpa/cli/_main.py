"""The ``sherpa`` command: its arguments, and the one place where errors become exit codes.

Exit codes: 0 success, 1 an error the message explains (no store there, several studies,
a server that refuses the connection), 2 a usage error (argparse's own), 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from sherpa import __version__
from sherpa.cli import _commands as commands
from sherpa.exceptions import SherpaError
from sherpa.trial import TrialStatus

__all__ = ["build_parser", "main"]

PROG = "sherpa"
DEFAULT_DASHBOARD_HOST = "127.0.0.1"
DEFAULT_DASHBOARD_PORT = 8880

STORE_HELP = (
    "the study's output directory (holding sherpa.db), a store file, or a database URL "
    "such as sqlite:////abs/path/sherpa.db or postgresql+psycopg://user:pass@host/db"
)
EPILOG = """\
examples:
  sherpa status output/                      trials of the study in output/sherpa.db
  sherpa status output/ --sort objective --limit 10
  sherpa best output/sherpa.db --json
  sherpa export output/ --format csv -o results.csv
  sherpa dashboard postgresql+psycopg://me@db-host/sherpa --study run-2

A store that holds several studies needs --study NAME (sherpa studies lists them).
Exit status: 0 success, 1 error, 2 usage error."""

Handler = Callable[[argparse.Namespace, TextIO], int]


class _CommandParser(argparse.ArgumentParser):
    """A subcommand's parser: it reports unknown arguments itself, with its own usage.

    argparse hands a subcommand's unrecognized arguments back to the top-level parser, whose
    error would show ``sherpa``'s usage instead of the subcommand's.
    """

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed, extras


def _non_empty(text: str) -> str:
    # An empty string is no path, study or address: reading it as the current directory, or
    # as "every interface" for --host, would be a surprise.
    if not text:
        raise argparse.ArgumentTypeError(f"must not be empty; got {text!r}")
    return text


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer; got {text!r}")
    return value


def _status(text: str) -> str:
    try:
        return TrialStatus.parse(text).value
    except ValueError:
        names = ", ".join(status.value for status in TrialStatus)
        raise argparse.ArgumentTypeError(f"must be one of {names}; got {text!r}") from None


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a port number; got {text!r}") from None
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"must be between 1 and 65535; got {text!r}")
    return value


def _add_store(parser: argparse.ArgumentParser, *, study: bool = True) -> None:
    parser.add_argument("store", metavar="PATH|URL", type=_non_empty, help=STORE_HELP)
    if study:
        parser.add_argument(
            "--study",
            metavar="NAME",
            type=_non_empty,
            help="the study to read, when the store holds several",
        )


def _command(
    subparsers: argparse._SubParsersAction[_CommandParser],
    name: str,
    handler: Handler,
    summary: str,
    description: str,
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(name, help=summary, description=description)
    parser.set_defaults(handler=handler)
    return parser


def _add_status(subparsers: argparse._SubParsersAction[_CommandParser]) -> None:
    parser = _command(
        subparsers,
        "status",
        commands.run_status,
        "show the trials of a study",
        "Print a summary of the study and a table of its trials: id, status, last iteration "
        "and best objective so far. Works while the study runs (reads never block it).",
    )
    _add_store(parser)
    parser.add_argument(
        "--sort",
        choices=commands.SORT_KEYS,
        default="id",
        help="order of the rows; 'objective' puts the best first (default: id)",
    )
    parser.add_argument("--reverse", action="store_true", help="reverse the order")
    parser.add_argument(
        "--status",
        action="append",
        type=_status,
        metavar="STATUS",
        help="show only trials with this status (INTERMEDIATE, COMPLETED, FAILED, STOPPED); "
        "repeat for several",
    )
    parser.add_argument("--limit", type=_positive_int, metavar="N", help="show at most N rows")
    parser.add_argument("--params", action="store_true", help="add a column per parameter")


def _add_best(subparsers: argparse._SubParsersAction[_CommandParser]) -> None:
    parser = _command(
        subparsers,
        "best",
        commands.run_best,
        "show the best completed trial",
        "Print the best completed trial: its id, objective, the iteration it was reached at, "
        "its parameters and the other metrics reported with it.",
    )
    _add_store(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")


def _add_export(subparsers: argparse._SubParsersAction[_CommandParser]) -> None:
    parser = _command(
        subparsers,
        "export",
        commands.run_export,
        "write the results table as CSV or JSON",
        "Write the study's results table (the rows of study.results: one per observation "
        "and one final row per finished trial) as CSV, or as a JSON list of row objects with "
        "null for missing values.",
    )
    _add_store(parser)
    parser.add_argument("--format", choices=commands.EXPORT_FORMATS, required=True)
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        type=_non_empty,
        help="write to FILE instead of standard output",
    )


def _add_studies(subparsers: argparse._SubParsersAction[_CommandParser]) -> None:
    parser = _command(
        subparsers,
        "studies",
        commands.run_studies,
        "list the studies in a store",
        "List the studies a store holds, with their direction and number of trials.",
    )
    _add_store(parser, study=False)


def _add_dashboard(subparsers: argparse._SubParsersAction[_CommandParser]) -> None:
    parser = _command(
        subparsers,
        "dashboard",
        commands.run_dashboard,
        "serve the dashboard of a running or finished study",
        "Serve the web dashboard over the store until interrupted (Ctrl-C). It listens on "
        "127.0.0.1 unless --host names another address.",
    )
    _add_store(parser)
    parser.add_argument(
        "--host",
        type=_non_empty,
        default=DEFAULT_DASHBOARD_HOST,
        help=f"the address to listen on (default: {DEFAULT_DASHBOARD_HOST})",
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=None,
        help=f"the port (default: the first free one from {DEFAULT_DASHBOARD_PORT})",
    )


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of the ``sherpa`` command and its subcommands."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Look at sherpa studies: their trials, best result, results table and "
        "dashboard.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    subparsers = parser.add_subparsers(
        title="commands", dest="command", metavar="COMMAND", parser_class=_CommandParser
    )
    for add in (_add_status, _add_best, _add_export, _add_studies, _add_dashboard):
        add(subparsers)
    return parser


def _report(message: str) -> None:
    print(f"{PROG}: error: {' '.join(message.split())}", file=sys.stderr)


def _is_database_error(exc: Exception) -> bool:
    return any(cls.__module__.startswith("sqlalchemy.") for cls in type(exc).__mro__)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``sherpa`` command with ``argv`` (default: the process's arguments).

    Returns:
        The exit status.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    handler: Handler = args.handler
    try:
        return handler(args, sys.stdout)
    except SherpaError as exc:
        _report(str(exc))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `sherpa export ... | head`): stop writing quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except Exception as exc:
        if not _is_database_error(exc):
            raise
        _report(f"the store could not be read: {exc}")
    return 1
