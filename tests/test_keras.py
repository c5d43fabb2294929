"""The Keras callbacks, with real Keras (torch backend) training a real model."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sherpa

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")


def _model(learning_rate: float) -> object:
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss="mse", metrics=["mae"])
    return model


def test_study_keras_callback_records_each_epoch() -> None:
    study = sherpa.Study(
        [sherpa.Continuous("lr", [1e-3, 1e-2])],
        sherpa.algorithms.RandomSearch(max_num_trials=1, seed=0),
        lower_is_better=True,
        disable_dashboard=True,
    )
    trial = study.get_suggestion()
    assert isinstance(trial, sherpa.Trial)
    callback = study.keras_callback(trial, "val_loss", context_names=["mae"])
    assert isinstance(callback, keras.callbacks.Callback)
    rng = np.random.default_rng(0)
    x = rng.random((64, 4))
    history = _model(trial.parameters["lr"]).fit(  # type: ignore[attr-defined]
        x, x.sum(axis=1), validation_split=0.25, epochs=3, verbose=0, callbacks=[callback]
    )
    results = study.results
    assert results["Iteration"].tolist() == [1, 2, 3]
    assert results["Objective"].tolist() == pytest.approx(history.history["val_loss"])
    assert results["mae"].tolist() == pytest.approx(history.history["mae"])


TRIAL = """\
import numpy as np
import keras
import sherpa

client = sherpa.Client()
trial = client.get_trial()
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
model.compile(optimizer=keras.optimizers.SGD(trial.parameters["lr"]), loss="mse")
x = np.random.default_rng(trial.id).random((64, 4))
model.fit(x, x.sum(axis=1), validation_split=0.25, epochs=4, verbose=0,
          callbacks=[client.keras_send_metrics(trial, objective_name="val_loss",
                                               context_names=["loss"])])
"""


def test_client_keras_send_metrics_through_the_runner(tmp_path: Path) -> None:
    (tmp_path / "trial.py").write_text(TRIAL)
    runner = (
        "import sherpa\n"
        "sherpa.optimize(parameters=[sherpa.Continuous('lr', [1e-3, 1e-2])],\n"
        "    algorithm=sherpa.algorithms.RandomSearch(max_num_trials=2, seed=0),\n"
        "    lower_is_better=True, scheduler=sherpa.schedulers.LocalScheduler(),\n"
        "    filename='trial.py', output_dir='out', max_concurrent=2, verbose=0)\n"
    )
    env = {**os.environ, "KERAS_BACKEND": "torch"}
    subprocess.run([sys.executable, "-c", runner], cwd=tmp_path, env=env, check=True, timeout=240)
    results = pd.read_csv(tmp_path / "out" / "results.csv")
    final = results[results["Status"] != "INTERMEDIATE"]
    assert final["Status"].tolist() == ["COMPLETED", "COMPLETED"]
    assert sorted(final["Iteration"].tolist()) == [4, 4]
    assert list(results.columns) == ["Trial-ID", "Status", "Iteration", "lr", "Objective", "loss"]
    assert len(results) == 2 * 4 + 2
