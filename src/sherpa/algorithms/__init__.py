"""Search algorithms: each suggests configurations from the parameters and the results table.

Algorithms see only the parameters and the results table; they never touch the store, the
runner or a scheduler.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sherpa.algorithms._base import Algorithm, StoppingRule
from sherpa.algorithms._genetic import Genetic
from sherpa.algorithms._grid import GridSearch
from sherpa.algorithms._iterate import Iterate
from sherpa.algorithms._local_search import LocalSearch
from sherpa.algorithms._median import MedianStoppingRule
from sherpa.algorithms._pbt import PopulationBasedTraining
from sherpa.algorithms._random import RandomSearch
from sherpa.algorithms._repeat import Chain, Repeat
from sherpa.algorithms._successive_halving import SuccessiveHalving

if TYPE_CHECKING:
    from sherpa.algorithms import bayesian_optimization, core, successive_halving
    from sherpa.algorithms._bayesian import BayesianOptimization, GPyOpt
    from sherpa.algorithms._tpe import TPE

__all__ = [
    "TPE",
    "Algorithm",
    "BayesianOptimization",
    "Chain",
    "GPyOpt",
    "Genetic",
    "GridSearch",
    "Iterate",
    "LocalSearch",
    "MedianStoppingRule",
    "PopulationBasedTraining",
    "RandomSearch",
    "Repeat",
    "StoppingRule",
    "SuccessiveHalving",
    "bayesian_optimization",
    "core",
    "successive_halving",
]

# The model-based algorithms need scipy, which takes most of a second to import; they load
# on first use so that runner scripts using the others start fast.
_LAZY = {
    "BayesianOptimization": "sherpa.algorithms._bayesian",
    "GPyOpt": "sherpa.algorithms._bayesian",
    "TPE": "sherpa.algorithms._tpe",
}


def __getattr__(name: str) -> Any:
    if name in {"bayesian_optimization", "core", "successive_halving"}:  # SHERPA's module paths
        return importlib.import_module(f"sherpa.algorithms.{name}")
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sherpa.algorithms' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
