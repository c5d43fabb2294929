"""Search algorithms: each suggests configurations from the parameters and the results table.

Algorithms see only the parameters and the results table; they never touch the store, the
runner or a scheduler.
"""

from __future__ import annotations

from sherpa.algorithms._base import Algorithm, StoppingRule
from sherpa.algorithms._grid import GridSearch
from sherpa.algorithms._iterate import Iterate
from sherpa.algorithms._random import RandomSearch

__all__ = [
    "Algorithm",
    "GridSearch",
    "Iterate",
    "RandomSearch",
    "StoppingRule",
]
