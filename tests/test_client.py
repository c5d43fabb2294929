from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sherpa
from sherpa.exceptions import DuplicateObservationError, StorageUnreachableError
from sherpa.storage import SQLStorage, sqlite_url


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SQLStorage:
    url = sqlite_url(tmp_path / "sherpa.db")
    storage = SQLStorage(url)
    study_id = storage.create_study("s", lower_is_better=True, parameters=[]).id
    storage.create_trial(study_id, 3, {"lr": 0.1, "act": "relu"})
    monkeypatch.setenv("SHERPA_DB_URL", url)
    monkeypatch.setenv("SHERPA_STUDY_ID", str(study_id))
    monkeypatch.setenv("SHERPA_TRIAL_ID", "3")
    return storage


def test_client_fetches_trial_and_sends_metrics(store: SQLStorage) -> None:
    client = sherpa.Client()
    trial = client.get_trial()
    assert (trial.id, trial.parameters) == (3, {"lr": 0.1, "act": "relu"})
    client.send_metrics(
        trial=trial,
        iteration=np.int64(1),
        objective=np.float32(0.5),
        context={"acc": np.float64(0.25), "hist": np.array([1, 2]), "n": np.int32(4)},
    )
    [record] = store.read_observations(1)
    assert (record.iteration, record.objective, record.context) == (
        1,
        0.5,
        {"acc": 0.25, "hist": [1, 2], "n": 4},
    )
    assert type(record.context["n"]) is int


@pytest.mark.parametrize("bad", [None, "1.0", [0.1], {"a": 1}])
def test_send_metrics_names_objective(store: SQLStorage, bad: object) -> None:
    client = sherpa.Client()
    with pytest.raises(TypeError, match="objective must be a real number"):
        client.send_metrics(client.get_trial(), 1, bad)  # type: ignore[arg-type]


def test_send_metrics_rejects_bad_context(store: SQLStorage) -> None:
    client = sherpa.Client()
    trial = client.get_trial()
    with pytest.raises(ValueError, match="context key 'lr' would overwrite"):
        client.send_metrics(trial, 1, 0.1, context={"lr": 1})
    with pytest.raises(TypeError, match=r"context\['f'\] must be a number"):
        client.send_metrics(trial, 1, 0.1, context={"f": object()})
    assert store.read_observations(1) == []


def test_missing_store_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHERPA_DB_URL", raising=False)
    with pytest.raises(StorageUnreachableError, match="SHERPA_DB_URL is not set"):
        sherpa.Client()


def test_missing_file_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHERPA_DB_URL", sqlite_url(tmp_path / "gone.db"))
    monkeypatch.setenv("SHERPA_STUDY_ID", "1")
    with pytest.raises(StorageUnreachableError, match=r"gone.db"):
        sherpa.Client()


def test_missing_trial_id_is_named(store: SQLStorage, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHERPA_TRIAL_ID")
    with pytest.raises(StorageUnreachableError, match="SHERPA_TRIAL_ID is not set"):
        sherpa.Client().get_trial()
    monkeypatch.setenv("SHERPA_TRIAL_ID", "x")
    with pytest.raises(ValueError, match="SHERPA_TRIAL_ID must be an integer; got 'x'"):
        sherpa.Client().get_trial()


def test_explicit_db_url_keyword(store: SQLStorage, monkeypatch: pytest.MonkeyPatch) -> None:
    url = store.url
    monkeypatch.delenv("SHERPA_DB_URL")
    assert sherpa.Client(db_url=url).get_trial().parameters["act"] == "relu"


def test_test_mode_runs_standalone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHERPA_DB_URL", raising=False)
    monkeypatch.delenv("SHERPA_TRIAL_ID", raising=False)
    client = sherpa.Client(test_mode=True, test_parameters={"lr": 0.3})
    trial = client.get_trial()
    assert (trial.id, trial.parameters) == (1, {"lr": 0.3})
    client.send_metrics(trial, 1, 0.5, {"acc": 1})
    assert client.test_metrics == [(1, 1, 0.5, {"acc": 1})]
    with pytest.raises(
        DuplicateObservationError, match="already has an observation at iteration 1"
    ):
        client.send_metrics(trial, 1, 0.7)
    with pytest.raises(TypeError, match="objective"):
        client.send_metrics(trial, 2, None)  # type: ignore[arg-type]


def test_test_mode_without_parameters_warns(capsys: pytest.CaptureFixture[str]) -> None:
    assert sherpa.Client(test_mode=True).get_trial().parameters == {}
    assert "test mode without test_parameters" in capsys.readouterr().err


def test_mongodb_keywords_warn(store: SQLStorage, capsys: pytest.CaptureFixture[str]) -> None:
    sherpa.Client(replicaSet="rs0")
    assert "ignoring ['replicaSet']" in capsys.readouterr().err


def test_send_metrics_after_close_is_refused(store: SQLStorage) -> None:
    client = sherpa.Client()
    trial = client.get_trial()
    client.close()
    with pytest.raises(RuntimeError, match="the client is closed"):
        client.send_metrics(trial, 1, 0.5)
    assert store.read_observations(1) == []
