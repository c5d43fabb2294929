"""SHERPA's module path for Bayesian optimization: ``sherpa.algorithms.bayesian_optimization``.

Code written for SHERPA imports ``GPyOpt`` from here; both names are served by sherpa's own
Gaussian-process engine (:mod:`sherpa.algorithms._bayesian`), and GPyOpt is not needed.
"""

from __future__ import annotations

from sherpa.algorithms._bayesian import BayesianOptimization, GPyOpt

__all__ = ["BayesianOptimization", "GPyOpt"]
