"""Search algorithms: each suggests configurations from the parameters and the results table.

Algorithms see only the parameters and the results table; they never touch the store, the
runner or a scheduler.
"""

from __future__ import annotations

from sherpa.algorithms import bayesian_optimization as bayesian_optimization
from sherpa.algorithms._base import Algorithm, StoppingRule
from sherpa.algorithms._bayesian import BayesianOptimization, GPyOpt
from sherpa.algorithms._genetic import Genetic
from sherpa.algorithms._grid import GridSearch
from sherpa.algorithms._iterate import Iterate
from sherpa.algorithms._local_search import LocalSearch
from sherpa.algorithms._median import MedianStoppingRule
from sherpa.algorithms._pbt import PopulationBasedTraining
from sherpa.algorithms._random import RandomSearch
from sherpa.algorithms._repeat import Chain, Repeat
from sherpa.algorithms._successive_halving import SuccessiveHalving

__all__ = [
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
]
