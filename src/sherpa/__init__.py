"""sherpa: hyperparameter optimization for machine learning, with SHERPA's API.

Trial processes import this package, so it loads only what they need (parameters, trials and
the client). The study, the runner, the algorithms and the schedulers, which bring pandas
and SQLAlchemy, load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sherpa.client import Client
from sherpa.parameters import Choice, Continuous, Discrete, Ordinal, Parameter
from sherpa.trial import AlgorithmState, Trial, TrialStatus

if TYPE_CHECKING:
    from sherpa import algorithms, plot, schedulers, storage
    from sherpa.dashboard import run_dashboard
    from sherpa.runner import optimize
    from sherpa.study import Study

__version__ = "0.1.0"

__all__ = [
    "AlgorithmState",
    "Choice",
    "Client",
    "Continuous",
    "Discrete",
    "Ordinal",
    "Parameter",
    "Study",
    "Trial",
    "TrialStatus",
    "__version__",
    "algorithms",
    "optimize",
    "plot",
    "run_dashboard",
    "schedulers",
    "storage",
]

_LAZY_MODULES = {"algorithms", "plot", "schedulers", "storage", "core", "database"}
_LAZY_ATTRIBUTES = {
    "Study": "sherpa.study",
    "optimize": "sherpa.runner",
    "run_dashboard": "sherpa.dashboard",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY_MODULES:
        return importlib.import_module(f"sherpa.{name}")
    if name in _LAZY_ATTRIBUTES:
        return getattr(importlib.import_module(_LAZY_ATTRIBUTES[name]), name)
    raise AttributeError(f"module 'sherpa' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
