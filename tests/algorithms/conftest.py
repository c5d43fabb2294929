from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import sherpa


def _run(
    algorithm: sherpa.algorithms.Algorithm,
    parameters: list[sherpa.Parameter],
    objective: Callable[[dict[str, Any]], float],
    *,
    lower_is_better: bool = True,
    limit: int = 500,
) -> sherpa.Study:
    """Drive ``algorithm`` through a Study, one trial at a time, until it is done."""
    study = sherpa.Study(parameters, algorithm, lower_is_better, disable_dashboard=True)
    for count, trial in enumerate(study):
        study.add_observation(trial, objective(trial.parameters))
        study.finalize(trial)
        if count >= limit:
            raise AssertionError(f"{algorithm!r} still suggesting after {limit} trials")
    return study


@pytest.fixture
def run_study() -> Callable[..., sherpa.Study]:
    """Return ``run(algorithm, parameters, objective, lower_is_better=True)``."""
    return _run
