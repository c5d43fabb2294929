"""Fixtures of the dashboard tests: a real SQLite store with a study, a real server over it."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import sherpa
from sherpa.algorithms import Iterate
from sherpa.dashboard import DashboardServer, start_dashboard

PARAMETERS = [
    sherpa.Continuous("x", [0.0, 1.0]),
    sherpa.Continuous("lr", [1e-4, 1e-1], scale="log"),
    sherpa.Choice("act", ["relu", "tanh"]),
]

CONFIGURATIONS = [
    {"x": 0.1, "lr": 1e-3, "act": "relu"},
    {"x": 0.5, "lr": 1e-2, "act": "tanh"},
    {"x": 0.9, "lr": 1e-4, "act": "relu"},
    {"x": 0.3, "lr": 1e-1, "act": "tanh"},
]
"""Trials 1-3 are COMPLETED with three iterations each (objective x + 1/(iteration + 1),
best at iteration 2: 0.4333, 0.8333, 1.2333); trial 4 stays open with one observation
(objective 1.3, NaN at iteration 1)."""


@pytest.fixture
def study(tmp_path: Path) -> Iterator[sherpa.Study]:
    """A stored in-process study in the state :data:`CONFIGURATIONS` describes."""
    study = sherpa.Study(
        PARAMETERS,
        Iterate(CONFIGURATIONS),
        lower_is_better=True,
        disable_dashboard=True,
        storage=sherpa.storage.sqlite_url(tmp_path / "sherpa.db"),
        study_name="dash",
    )
    for _ in range(3):
        trial = study.get_suggestion()
        assert isinstance(trial, sherpa.Trial)
        for iteration in range(3):
            objective = trial.parameters["x"] + 1 / (iteration + 1)
            study.add_observation(
                trial, objective, iteration=iteration, context={"acc": 1 - objective / 2}
            )
        study.finalize(trial)
    trial = study.get_suggestion()
    assert isinstance(trial, sherpa.Trial)
    study.add_observation(trial, 1.3, iteration=0, context={"acc": 0.35})
    study.add_observation(trial, math.nan, iteration=1, context={"acc": 0.0})
    yield study
    study.close()


@pytest.fixture
def server(study: sherpa.Study) -> Iterator[DashboardServer]:
    assert study.storage is not None
    running = start_dashboard(study.storage, study_name="dash", port=0)
    yield running
    running.stop()


@pytest.fixture
def client(server: DashboardServer) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=server.base_url, headers={"X-Sherpa-Token": server.token}, timeout=10
    ) as http:
        yield http


@pytest.fixture
def get_json(client: httpx.Client) -> Callable[..., Any]:
    def get(path: str, **params: Any) -> Any:
        response = client.get(path, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    return get
