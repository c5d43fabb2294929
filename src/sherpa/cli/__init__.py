"""The ``sherpa`` command line: a study's trials, best result, results and dashboard.

Run ``sherpa --help`` (or ``python -m sherpa --help``) for the commands.
"""

from __future__ import annotations

from sherpa.cli._main import build_parser, main

__all__ = ["build_parser", "main"]
