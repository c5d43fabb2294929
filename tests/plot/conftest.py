"""Studies to plot: real in-process studies, run to the end with known objectives."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

import sherpa

ACTIVATIONS = ["relu", "tanh", "sigmoid"]
PENALTY = {"relu": 0.0, "tanh": 0.5, "sigmoid": 1.5}


def mixed_parameters() -> list[sherpa.Parameter]:
    return [
        sherpa.Continuous("lr", [1e-4, 1e-1], scale="log"),
        sherpa.Continuous("dropout", [0.0, 0.5]),
        sherpa.Discrete("units", [16, 512], scale="log"),
        sherpa.Choice("activation", ACTIVATIONS),
        sherpa.Ordinal("batch_size", [16, 32, 64, 128]),
    ]


def loss(parameters: dict[str, object], iteration: int) -> float:
    """A toy learning curve: falls with iterations towards a floor set by lr and activation."""
    lr = float(parameters["lr"])  # type: ignore[arg-type]
    floor = (math.log10(lr) + 2.5) ** 2 + PENALTY[str(parameters["activation"])]
    return floor + 2.0 / iteration


def run_mixed_study(num_trials: int = 30, iterations: int = 5) -> sherpa.Study:
    """30 trials of the toy loss; trial 5 fails, trial 7 is stopped after 2 iterations."""
    study = sherpa.Study(
        mixed_parameters(),
        sherpa.algorithms.RandomSearch(max_num_trials=num_trials, seed=3),
        lower_is_better=True,
        disable_dashboard=True,
    )
    for trial in study:
        last = 2 if trial.id == 7 else iterations
        for iteration in range(1, last + 1):
            study.add_observation(trial, loss(trial.parameters, iteration), iteration=iteration)
        status = {5: "FAILED", 7: "STOPPED"}.get(trial.id, "COMPLETED")
        study.finalize(trial, status)
    return study


@pytest.fixture(scope="session")
def mixed_study() -> sherpa.Study:
    return run_mixed_study()


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
