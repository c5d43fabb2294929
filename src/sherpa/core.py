"""SHERPA's ``sherpa.core`` module path, for code written against SHERPA 1.x.

``from sherpa.core import Trial, AlgorithmState`` and the like keep working; the names are
the same objects as ``sherpa.Trial`` and friends. ``Study``, ``optimize`` and
``run_dashboard`` load on first use, as they do from ``sherpa``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sherpa.parameters import Choice, Continuous, Discrete, Ordinal, Parameter
from sherpa.trial import AlgorithmState, Trial, TrialStatus

if TYPE_CHECKING:
    from sherpa.dashboard import run_dashboard
    from sherpa.runner import optimize
    from sherpa.study import Study

__all__ = [
    "AlgorithmState",
    "Choice",
    "Continuous",
    "Discrete",
    "Ordinal",
    "Parameter",
    "Study",
    "Trial",
    "TrialStatus",
    "optimize",
    "run_dashboard",
]

_LAZY = {"Study": "sherpa.study", "optimize": "sherpa.runner", "run_dashboard": "sherpa.dashboard"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sherpa.core' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
