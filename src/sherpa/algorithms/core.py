"""SHERPA's ``sherpa.algorithms.core`` module path, for code written against SHERPA 1.x.

The names are the same objects as those of :mod:`sherpa.algorithms`.
"""

from __future__ import annotations

from sherpa.algorithms._base import Algorithm, StoppingRule
from sherpa.algorithms._genetic import Genetic
from sherpa.algorithms._grid import GridSearch
from sherpa.algorithms._iterate import Iterate
from sherpa.algorithms._local_search import LocalSearch
from sherpa.algorithms._median import MedianStoppingRule
from sherpa.algorithms._pbt import PopulationBasedTraining
from sherpa.algorithms._random import RandomSearch
from sherpa.algorithms._repeat import Chain, Repeat

__all__ = [
    "Algorithm",
    "Chain",
    "Genetic",
    "GridSearch",
    "Iterate",
    "LocalSearch",
    "MedianStoppingRule",
    "PopulationBasedTraining",
    "RandomSearch",
    "Repeat",
    "StoppingRule",
]
